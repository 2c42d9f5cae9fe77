"""Find and load the connection settings for a live cluster the way kubectl does.

``--kubeconfig FILE``, else every file in ``$KUBECONFIG`` merged (first definition of a name
wins, relative paths resolve against the file that wrote them), else ``~/.kube/config``, else
the in-cluster service account. lightkube reads one file only, so the merge happens here and
lightkube receives one resolved context. Every problem becomes an ``InputError`` naming the file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import yaml
from lightkube.config.kubeconfig import KubeConfig, SingleConfig
from lightkube.config.models import User
from lightkube.core.exceptions import ConfigError

from stockade.errors import InputError

SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"

# Kubeconfig fields that hold file paths, by section; kubectl resolves them against the
# directory of the kubeconfig file that contains them.
_PATH_FIELDS = {
    "cluster": ("certificate-authority",),
    "user": ("client-certificate", "client-key", "tokenFile"),
}


@dataclass(frozen=True, slots=True)
class ClusterConfig:
    """One resolved context: what lightkube needs, plus names for messages."""

    single: SingleConfig
    label: str  # "context kind-dev" or "in-cluster service account"
    server: str
    sources: tuple[str, ...]  # the kubeconfig files read, for messages

    @property
    def origin_name(self) -> str:
        """How objects read through this config name where they came from."""
        return f"cluster {self.single.context_name}" if self.sources else f"cluster {self.server}"


def load_cluster_config(
    *,
    kubeconfig: str | None = None,
    context: str | None = None,
    environ: Mapping[str, str] | None = None,
    service_account_dir: str = SERVICE_ACCOUNT_DIR,
) -> ClusterConfig:
    """The connection settings kubectl would use for these flags and this environment."""
    env = os.environ if environ is None else environ
    if kubeconfig:
        path = Path(kubeconfig).expanduser()
        if not path.exists():
            raise InputError(f"kubeconfig {kubeconfig}: no such file")
        if not path.is_file():
            raise InputError(f"kubeconfig {kubeconfig}: not a regular file (a pipe or <(...) "
                             "cannot be read as a kubeconfig: write it to a file)")
        return _from_files([path], context)
    listed = [Path(p).expanduser() for p in env.get("KUBECONFIG", "").split(os.pathsep) if p]
    existing = [p for p in listed if p.is_file()]
    if existing:
        return _from_files(existing, context)
    default = Path(env.get("HOME", "~") + "/.kube/config").expanduser()
    if not listed and default.is_file():
        return _from_files([default], context)
    if _in_cluster_available(env, service_account_dir):
        if context:
            raise InputError(f"--context {context}: no kubeconfig found (only the in-cluster "
                             "service account, which has no contexts)")
        return _in_cluster(env, service_account_dir)
    tried = ", ".join(str(p) for p in listed) if listed else str(default)
    raise InputError(
        f"no kubeconfig found (looked for {tried}) and not running inside a pod: pass "
        "--kubeconfig FILE, set KUBECONFIG, or run in a pod with a service account"
    )


def _in_cluster_available(env: Mapping[str, str], account_dir: str) -> bool:
    return bool(env.get("KUBERNETES_SERVICE_HOST") and env.get("KUBERNETES_SERVICE_PORT")) and (
        Path(account_dir) / "token"
    ).is_file()


def _in_cluster(env: Mapping[str, str], account_dir: str) -> ClusterConfig:
    host = env["KUBERNETES_SERVICE_HOST"]
    port = env["KUBERNETES_SERVICE_PORT"]
    host = f"[{host}]" if ":" in host else host
    server = f"https://{host}:{port}"
    directory = Path(account_dir)
    data = {
        "clusters": [{"name": "in-cluster", "cluster": {
            "server": server, "certificate-authority": str(directory / "ca.crt")}}],
        # tokenFile, not token: the kubelet rotates the projected token, and lightkube
        # re-reads the file when the server answers 401.
        "users": [{"name": "in-cluster", "user": {"tokenFile": str(directory / "token")}}],
        "contexts": [{"name": "in-cluster", "context": {"cluster": "in-cluster",
                                                        "user": "in-cluster"}}],
        "current-context": "in-cluster",
    }
    single = _single(KubeConfig.from_dict(data), "in-cluster")
    return ClusterConfig(single, "in-cluster service account", server, ())


def _single(config: KubeConfig, context: str) -> SingleConfig:
    single = config.get(context)
    if single is None:  # only when no context is named, which the callers rule out
        raise InputError(f"kubeconfig: context {context!r} not found")
    return single


# Far above any real kubeconfig (embedded certificates are kilobytes): a kubeconfig
# named by $KUBECONFIG is read like a manifest, bounded, never /dev/zero or a FIFO.
KUBECONFIG_MAX_BYTES = 16 * 1024 * 1024


def _read_kubeconfig(path: Path) -> dict[str, Any]:
    from stockade.sources.files import decode_text, read_file
    from stockade.sources.limits import Budget

    label = f"kubeconfig {path}"
    text = decode_text(read_file(str(path), Budget(max_bytes=KUBECONFIG_MAX_BYTES)), label)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InputError(f"kubeconfig {path}: invalid YAML: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InputError(f"kubeconfig {path}: not a kubeconfig (expected a mapping at the top)")
    return data


def _absolute(entry: Mapping[str, Any], section: str, base: Path) -> dict[str, Any]:
    """A copy of a named cluster/user entry with its file paths made absolute."""
    body = entry.get(section)
    if not isinstance(body, Mapping):
        return dict(entry)
    fixed = dict(body)
    for key in _PATH_FIELDS.get(section, ()):
        value = fixed.get(key)
        if isinstance(value, str) and value and not Path(value).expanduser().is_absolute():
            fixed[key] = str(base / value)
        elif isinstance(value, str) and value:
            fixed[key] = str(Path(value).expanduser())
    return {**entry, section: fixed}


def merge_kubeconfigs(files: Sequence[Path]) -> dict[str, Any]:
    """kubectl's merge of several kubeconfig files: the first file to define a name wins."""
    merged: dict[str, Any] = {"clusters": [], "contexts": [], "users": []}
    seen: dict[str, set[str]] = {"clusters": set(), "contexts": set(), "users": set()}
    sections = {"clusters": "cluster", "contexts": "context", "users": "user"}
    for path in files:
        data = _read_kubeconfig(path)
        if "current-context" not in merged and data.get("current-context"):
            merged["current-context"] = data["current-context"]
        for plural, singular in sections.items():
            entries = data.get(plural) or []
            if not isinstance(entries, list):
                raise InputError(f"kubeconfig {path}: {plural} must be a list")
            for i, entry in enumerate(entries):
                name = entry.get("name") if isinstance(entry, Mapping) else None
                if not isinstance(name, str) or not name:
                    raise InputError(f"kubeconfig {path}: {plural}[{i}].name is missing")
                if name in seen[plural]:
                    continue
                seen[plural].add(name)
                merged[plural].append(_absolute(entry, singular, path.parent.resolve()))
    return merged


def _from_files(files: Sequence[Path], context: str | None) -> ClusterConfig:
    merged = merge_kubeconfigs(files)
    where = os.pathsep.join(str(p) for p in files)
    names = [c["name"] for c in merged["contexts"]]
    available = f" (contexts: {', '.join(names)})" if names else " (it defines no contexts)"
    chosen = context or merged.get("current-context")
    if not chosen:
        raise InputError(f"kubeconfig {where}: no current-context set; pass --context NAME"
                         f"{available}")
    if chosen not in names:
        flag = "--context" if context else "current-context"
        raise InputError(f"kubeconfig {where}: {flag} {chosen!r} not found{available}")
    entry = next(c for c in merged["contexts"] if c["name"] == chosen)
    body = entry.get("context")
    if not isinstance(body, Mapping) or not body.get("cluster"):
        raise InputError(f"kubeconfig {where}: context {chosen!r} names no cluster")
    cluster_names = {c["name"] for c in merged["clusters"]}
    if body["cluster"] not in cluster_names:
        raise InputError(f"kubeconfig {where}: context {chosen!r} uses cluster "
                         f"{body['cluster']!r}, which is not defined")
    user = body.get("user")
    if user and user not in {u["name"] for u in merged["users"]}:
        raise InputError(f"kubeconfig {where}: context {chosen!r} uses user {user!r}, "
                         "which is not defined")
    try:
        single = _single(KubeConfig.from_dict(merged, fname=files[0]), chosen)
    except (msgspec.ValidationError, ConfigError, KeyError, TypeError) as exc:
        raise InputError(f"kubeconfig {where}: context {chosen!r}: {exc}") from exc
    if single.user is None:
        # lightkube insists on a user; kubectl talks to the server anonymously.
        single = single._replace(user=User())
    return ClusterConfig(single, f"context {chosen}", single.cluster.server,
                         tuple(str(p) for p in files))
