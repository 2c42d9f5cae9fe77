"""An agent lab's moving parts: the API server double (its own process, listening on each
node's loopback and on the lab's door), the objects it holds, and one real ``stockade
agent`` process per node, inside the node's namespace, reading the API like a DaemonSet's
pod would.

Objects change through the API, as ``kubectl`` would change them (create, replace,
delete: watch events for the agents), with lightkube over the lab's door. ``converged``
waits until every agent has loaded the last change of each kind (its
``stockade_agent_applied_resource_version`` metric), so that probes test the new state.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
from lightkube import Client
from lightkube.core.exceptions import ApiError
from lightkube.core.resource import ApiInfo, ResourceDef
from lightkube.generic_resource import GenericGlobalResource, GenericNamespacedResource

from stockade.errors import EnvironmentProblem
from stockade.lab.api_objects import Ident, Manifest, ident
from stockade.lab.apiserver import PORT
from stockade.lab.names import LabNames
from stockade.lab.plan import LabNode
from stockade.lab.state import private_dir, write_private
from stockade.lab.system import in_netns, processes_running
from stockade.sources.cluster_config import load_cluster_config
from stockade.sources.cluster_kinds import CLUSTER_POLICIES

METRICS_PORT = 9753  # each agent's, on its node's loopback
READY_SECONDS = 60.0
CONVERGE_SECONDS = 60.0
AGENT_USER = "system:serviceaccount:stockade-system:stockade-agent"
# Kinds in the order they are created (a pod's namespace and node first, policies last).
ORDER = ("Node", "Namespace", "Pod", "NetworkPolicy", *(k.kind for k in CLUSTER_POLICIES))
_KINDS = {
    "Namespace": ("", "v1", "namespaces", False),
    "Node": ("", "v1", "nodes", False),
    "Pod": ("", "v1", "pods", True),
    "NetworkPolicy": ("networking.k8s.io", "v1", "networkpolicies", True),
    **{k.kind: (k.group, k.version, k.plural, False) for k in CLUSTER_POLICIES},
}
_VERBS = ["get", "list", "global_list", "post", "put", "delete"]


def _resource(kind: str) -> type[Any]:
    group, version, plural, namespaced = _KINDS[kind]
    base: type[Any] = GenericNamespacedResource if namespaced else GenericGlobalResource
    info = ApiInfo(resource=ResourceDef(group, version, kind), plural=plural,
                   verbs=list(_VERBS))
    return type(kind, (base,), {"_api_info": info})


_CLASSES = {kind: _resource(kind) for kind in _KINDS}


def kubeconfig_path(names: LabNames, node: int | None = None) -> Path:
    """The admin kubeconfig (the lab's door), or node ``node``'s agent's."""
    leaf = "admin.kubeconfig" if node is None else f"agent-{node}.kubeconfig"
    return names.state_dir / leaf


def log_path(names: LabNames, node: int) -> Path:
    return names.state_dir / f"agent-{node}.log"


# --- the API server double ---------------------------------------------------------------


def start_api(names: LabNames, nodes: Sequence[str], *,
              bookmark_seconds: float = 1.0) -> subprocess.Popen[bytes]:
    """Start the double for the node namespaces ``nodes``; its process, once it serves."""
    config = {"netns": list(nodes), "port": PORT, "bookmark_seconds": bookmark_seconds,
              "admin_kubeconfig": str(kubeconfig_path(names)),
              "kubeconfigs": {f"{AGENT_USER}:{k}": str(kubeconfig_path(names, k))
                              for k in range(len(nodes))}}
    path = names.state_dir / "apiserver.json"
    write_private(path, json.dumps(config))
    log = names.state_dir / "apiserver.log"
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with open(fd, "wb") as handle:
        proc = subprocess.Popen([sys.executable, "-m", "stockade.lab.apiserver", str(path)],
                                stdout=subprocess.PIPE, stderr=handle,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    assert proc.stdout is not None
    with proc.stdout:
        line = proc.stdout.readline()
    if line.strip() != b"ready":
        proc.kill()
        proc.wait()
        raise EnvironmentProblem("the lab's API server double did not start: "
                                 + log.read_text(errors="replace").strip())
    return proc


def api_processes(names: LabNames) -> list[int]:
    """The lab's API server double, found by its command line (also after a crash)."""
    return processes_running("stockade.lab.apiserver", str(names.state_dir / "apiserver.json"))


@dataclass
class LabApi:
    """The lab's client of its double (over the door, as the lab's administrator)."""

    names: LabNames

    def client(self) -> Client:
        config = load_cluster_config(kubeconfig=str(kubeconfig_path(self.names)))
        return Client(config.single, trust_env=False, timeout=httpx2.Timeout(30.0))

    def admin(self, action: str, **query: str) -> dict[str, Any]:
        """One of the double's own controls (pause, resume, compact, deny, allow, status)."""
        data = json.loads(kubeconfig_path(self.names).read_text())
        server = data["clusters"][0]["cluster"]["server"]
        token = data["users"][0]["user"]["token"]
        client = httpx2.Client(verify=_ca_context(data), timeout=10.0)
        with client:
            response = client.get(f"{server}/stockade/{action}", params=query,
                                  headers={"Authorization": f"Bearer {token}"})
        response.raise_for_status()
        found: dict[str, Any] = response.json()
        return found

    def current(self) -> dict[Ident, Manifest]:
        out: dict[Ident, Manifest] = {}
        with self.client() as client:
            for kind, cls in _CLASSES.items():
                namespaced = _KINDS[kind][3]
                items = client.list(cls, namespace="*") if namespaced else client.list(cls)
                for item in items:
                    manifest = dict(item)
                    manifest["kind"] = kind
                    out[ident(manifest)] = manifest
        return out

    def sync(self, want: Iterable[Manifest], kinds: Iterable[str]) -> dict[str, int]:
        """Make the objects of ``kinds`` exactly ``want``: create what is new, replace what
        differs, delete what is gone. Returns, per kind changed, the resourceVersion of its
        last change."""
        kinds = set(kinds)
        wanted = {ident(m): m for m in want if m["kind"] in kinds}
        have = {k: v for k, v in self.current().items() if k[0] in kinds}
        last: dict[str, int] = {}
        with self.client() as client:
            for kind in reversed(ORDER):  # deletions: policies first, nodes last
                for key in sorted(k for k in have if k[0] == kind and k not in wanted):
                    last[kind] = max(last.get(kind, 0), _delete(_CLASSES[kind], client, key))
            for kind in ORDER:
                for key in sorted(k for k in wanted if k[0] == kind):
                    manifest = wanted[key]
                    old = have.get(key)
                    if old is not None and _same(old, manifest):
                        continue
                    version = _put(client, manifest, old)
                    last[kind] = max(last.get(kind, 0), version)
        return last


def _ca_context(kubeconfig: Mapping[str, Any]) -> Any:
    import base64
    import ssl

    pem = base64.b64decode(kubeconfig["clusters"][0]["cluster"]["certificate-authority-data"])
    return ssl.create_default_context(cadata=pem.decode())


def _same(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    """Whether replacing ``old`` by ``new`` would change what the agents read."""
    def strip(obj: Mapping[str, Any]) -> dict[str, Any]:
        meta = {k: v for k, v in (obj.get("metadata") or {}).items()
                if k in ("name", "namespace", "labels", "ownerReferences")}
        if not meta.get("labels"):
            meta.pop("labels", None)
        return {**{k: v for k, v in obj.items() if k not in ("metadata", "apiVersion")},
                "metadata": meta}
    return strip(old) == strip(new)


def _put(client: Client, manifest: Manifest, old: Mapping[str, Any] | None) -> int:
    kind = manifest["kind"]
    cls = _CLASSES[kind]
    obj = cls(json.loads(json.dumps(manifest)))
    namespace = manifest["metadata"].get("namespace") if _KINDS[kind][3] else None
    if old is None:
        stored = client.create(obj, namespace=namespace) if namespace else client.create(obj)
    else:
        obj["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"]
        name = manifest["metadata"]["name"]
        stored = (client.replace(obj, name, namespace=namespace) if namespace
                  else client.replace(obj, name))
    return int(stored["metadata"]["resourceVersion"])


def _delete(cls: type[Any], client: Client, key: Ident) -> int:
    _, namespace, name = key
    try:
        if namespace:
            client.delete(cls, name, namespace=namespace)
        else:
            client.delete(cls, name)
    except ApiError as exc:
        if getattr(exc.status, "code", None) != 404:
            raise
    # The deletion's resourceVersion: the double's revision right after it.
    items = client.list(cls, namespace="*") if namespace else client.list(cls)
    list(items)
    return int(items.resourceVersion)


# --- the agents ----------------------------------------------------------------------------


def start_agent(names: LabNames, node: LabNode, table: str,
                extra: Sequence[str] = ()) -> subprocess.Popen[bytes]:
    """``stockade agent`` for ``node``, inside its namespace."""
    argv = ["ip", "netns", "exec", node.netns, sys.executable, "-m", "stockade", "agent",
            "--node", node.name, "--kubeconfig", str(kubeconfig_path(names, node.index)),
            "--table", table, "--metrics-address", f"127.0.0.1:{METRICS_PORT}",
            "--log-format", "json", "--resync", "30s", *extra]
    private_dir(names.state_dir)
    fd = os.open(log_path(names, node.index), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with open(fd, "ab") as handle:
        proc = subprocess.Popen(argv, stdout=handle, stderr=handle, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    return proc


def agent_get(netns: str, path: str, timeout: float = 5.0,
              port: int = METRICS_PORT) -> tuple[int, str]:
    """GET an agent endpoint on its node's loopback."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        with in_netns(netns):
            conn.connect()
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read().decode(errors="replace")
    finally:
        conn.close()


def agent_ready(netns: str) -> tuple[bool, str]:
    try:
        code, text = agent_get(netns, "/readyz")
    except OSError as exc:
        return False, f"its endpoints do not answer ({exc})"
    return code == 200, text.strip()


def applied_versions(netns: str) -> dict[str, int]:
    """Per kind, the resourceVersion whose change the agent has loaded."""
    _, text = agent_get(netns, "/metrics")
    found: dict[str, int] = {}
    prefix = 'stockade_agent_applied_resource_version{kind="'
    for line in text.splitlines():
        if line.startswith(prefix):
            kind = line[len(prefix):].split('"', 1)[0]
            found[kind] = int(float(line.split()[-1]))
    return found


def wait_ready(nodes: Sequence[str], timeout: float = READY_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    waiting = list(nodes)
    why = ""
    while waiting:
        ready, why = agent_ready(waiting[0])
        if ready:
            waiting.pop(0)
            continue
        if time.monotonic() > deadline:
            raise EnvironmentProblem(f"the agent of node namespace {waiting[0]} is not ready "
                                     f"after {timeout:.0f} s: {why}")
        time.sleep(0.05)


def converged(nodes: Sequence[str], versions: Mapping[str, int],
              timeout: float = CONVERGE_SECONDS) -> float:
    """Wait until every agent has loaded every kind's change up to ``versions``; the
    seconds it took."""
    started = time.monotonic()
    for netns in nodes:
        while True:
            try:
                have = applied_versions(netns)
            except OSError:
                have = {}
            if all(have.get(kind, 0) >= version for kind, version in versions.items()
                   if kind != "Node"):
                break
            if time.monotonic() - started > timeout:
                raise EnvironmentProblem(f"the agent of node namespace {netns} has not "
                                         f"loaded the changes after {timeout:.0f} s "
                                         f"(it has {have}, wanted {dict(versions)})")
            time.sleep(0.02)
    return time.monotonic() - started
