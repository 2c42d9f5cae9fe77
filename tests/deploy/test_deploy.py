"""deploy/agent.yaml and the Containerfile: every object parsed and checked for what the
README promises (least RBAC, hostNetwork with NET_ADMIN only, every node, probes on the
agent's endpoints), the manifests validated by stockade's own ``check``, the container's
arguments accepted by the agent's command line, and the Containerfile linted by hadolint.
No image is built here (no container runtime on these machines)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from stockade.agent.loop import KIND_OF
from stockade.cli.main import build_parser

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "deploy" / "agent.yaml"
BIN = Path(sys.executable).parent


def _objects() -> dict[str, dict[str, Any]]:
    docs = [d for d in yaml.safe_load_all(MANIFEST.read_text()) if d]
    kinds = [d["kind"] for d in docs]
    assert kinds == ["Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding",
                     "DaemonSet"]
    return {d["kind"]: d for d in docs}


def test_rbac_is_read_only_and_exactly_what_the_agent_watches() -> None:
    objects = _objects()
    granted = {(group, resource): set(rule["verbs"])
               for rule in objects["ClusterRole"]["rules"]
               for group in rule["apiGroups"] for resource in rule["resources"]}
    watched = {(kind.group, kind.plural) for kind in KIND_OF.values()}
    assert set(granted) == watched
    assert all(verbs == {"get", "list", "watch"} for verbs in granted.values())
    binding = objects["ClusterRoleBinding"]
    account = objects["ServiceAccount"]["metadata"]
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io",
                                  "kind": "ClusterRole", "name": "stockade-agent"}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": account["name"],
                                    "namespace": account["namespace"]}]


def test_the_daemonset_runs_on_every_node_with_net_admin_only() -> None:
    daemonset = _objects()["DaemonSet"]
    spec = daemonset["spec"]["template"]["spec"]
    assert spec["hostNetwork"] is True
    assert spec["serviceAccountName"] == _objects()["ServiceAccount"]["metadata"]["name"]
    assert {"operator": "Exists"} in spec["tolerations"]
    (container,) = spec["containers"]
    security = container["securityContext"]
    assert security["privileged"] is False
    assert security["capabilities"] == {"drop": ["ALL"], "add": ["NET_ADMIN"]}
    assert security["allowPrivilegeEscalation"] is False
    resources = container["resources"]
    assert resources["requests"]["cpu"] and resources["requests"]["memory"]
    assert resources["limits"]["memory"]
    env = {e["name"]: e for e in container["env"]}
    assert env["NODE_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "spec.nodeName"
    # The arguments are the agent's own, and the probes ask its endpoints on its port.
    args = [a.replace("$(NODE_NAME)", "node-1") for a in container["args"]]
    parsed = build_parser("agent").parse_args(args)
    assert parsed.node == "node-1" and parsed.command == "agent"
    port = parsed.metrics_address[1]
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": port}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": port}
    assert container["ports"][0]["containerPort"] == port


def test_stockade_check_accepts_the_manifests() -> None:
    done = subprocess.run([str(BIN / "stockade"), "check", str(MANIFEST)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "valid: 1 Namespace, 1 DaemonSet" in done.stdout


def test_the_containerfile_lints_clean_and_installs_what_the_agent_needs() -> None:
    containerfile = ROOT / "Containerfile"
    done = subprocess.run([str(BIN / "hadolint"), str(containerfile)], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    text = containerfile.read_text()
    assert "FROM python:3.11-slim" in text
    assert "install -y --no-install-recommends nftables" in text
    assert "COPY src ./src" in text and 'ENTRYPOINT ["stockade"]' in text
    ignored = (ROOT / ".containerignore").read_text().split()
    assert ".venv" in ignored and ".git" in ignored
