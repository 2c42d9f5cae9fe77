"""A running lab's state on disk, so that ``probe``, ``apply``, ``exec``, ``logs`` and
``down`` work from later processes.

``/run/stockade/labs/<name>/`` (mode 0700, files 0600: they hold every manifest's ``env``)
keeps ``state.json`` (namespaces, addresses, ports, the containers it may run) and
``cluster.json`` (the decoded objects the lab runs, never the input as written: see
``codec``). Files are replaced atomically; a lab whose state is missing or unreadable is
still listed (``labs``) and removed by ``down``, which works from names alone.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stockade.errors import InputError
from stockade.lab.codec import TooLarge, decode, encode
from stockade.lab.containers import LabContainer
from stockade.lab.names import STATE_ROOT, LabNames, lab_of_netns
from stockade.model.types import Cluster


@dataclass(slots=True)
class PodState:
    key: str
    netns: str
    ips: list[str]
    ports: list[tuple[int, str]]
    node: int = 0
    hostname: str = ""
    containers: list[LabContainer] = field(default_factory=list)


@dataclass(slots=True)
class NodeState:
    netns: str
    ips: list[str]
    name: str = "node-0"
    pod_cidr: str = ""
    agent_pid: int = 0


@dataclass(slots=True)
class LabState:
    name: str
    nodes: list[NodeState]
    pod_cidr: str
    table: str
    pods: list[PodState]
    allocated: dict[str, list[str]]
    server_pid: int = 0
    skipped: list[str] = field(default_factory=list)
    run_commands: bool = False
    addresses: list[str] = field(default_factory=list)  # the input's node addresses held
    agent: bool = False  # the nodes run stockade agents reading the API server double
    api_pid: int = 0
    agent_args: list[str] = field(default_factory=list)

    @property
    def node_netns(self) -> str:
        return self.nodes[0].netns

    def pod(self, key: str) -> PodState:
        for pod in self.pods:
            if pod.key == key:
                return pod
        known = ", ".join(p.key for p in self.pods)
        raise InputError(f"lab {self.name} has no pod {key!r} (pods: {known})")


def path_of(name: str) -> Path:
    return LabNames(name).state_dir / "state.json"


def private_dir(path: Path) -> Path:
    """``path`` and its missing parents, each made with mode 0700; stockade's own
    directories (``/run/stockade`` and below) are made 0700 also when they exist."""
    ours = STATE_ROOT.parent
    for directory in reversed([path, *path.parents]):
        if not directory.exists():
            directory.mkdir(mode=0o700, exist_ok=True)
        if directory == ours or ours in directory.parents:
            os.chmod(directory, 0o700)
    return path


def write_private(path: Path, text: str) -> None:
    """Replace ``path`` atomically with a file only root can read (mode 0600)."""
    private_dir(path.parent)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        os.fchmod(handle.fileno(), 0o600)
        handle.write(text)
    tmp.replace(path)


def save(state: LabState) -> None:
    data = {
        "name": state.name, "pod_cidr": state.pod_cidr, "table": state.table,
        "nodes": [{"netns": n.netns, "ips": n.ips, "name": n.name, "pod_cidr": n.pod_cidr,
                   "agent_pid": n.agent_pid} for n in state.nodes],
        "allocated": state.allocated, "server_pid": state.server_pid,
        "skipped": state.skipped, "run_commands": state.run_commands,
        "addresses": state.addresses, "agent": state.agent, "api_pid": state.api_pid,
        "agent_args": state.agent_args,
        "pods": [{"key": p.key, "netns": p.netns, "ips": p.ips, "ports": p.ports,
                  "node": p.node, "hostname": p.hostname,
                  "containers": [encode(c) for c in p.containers]} for p in state.pods],
    }
    write_private(path_of(state.name), json.dumps(data, indent=1))


def _unreadable(name: str, why: str) -> InputError:
    return InputError(f"the state of lab {name} is unreadable ({why}): remove the lab with: "
                      f"stockade lab down {name}")


def load(name: str) -> LabState:
    source = path_of(name)
    try:
        data = json.loads(source.read_text())
    except FileNotFoundError:
        if source.parent.exists() or name in labs():
            raise _unreadable(name, "it was never completely written") from None
        raise InputError(f"no lab named {name!r} is running (see stockade lab list)") from None
    except (OSError, ValueError) as exc:
        raise _unreadable(name, str(exc)) from None
    try:
        pods = [PodState(p["key"], p["netns"], p["ips"], [(int(n), str(t)) for n, t in p["ports"]],
                         p["node"], p["hostname"],
                         [decode(LabContainer, c) for c in p["containers"]])
                for p in data["pods"]]
        nodes = [NodeState(n["netns"], n["ips"], n["name"], n["pod_cidr"], n["agent_pid"])
                 for n in data["nodes"]]
        return LabState(data["name"], nodes, data["pod_cidr"], data["table"], pods,
                        data["allocated"], data["server_pid"], data["skipped"],
                        data["run_commands"], data["addresses"], data["agent"],
                        data["api_pid"], data["agent_args"])
    except (KeyError, TypeError, ValueError) as exc:
        raise _unreadable(name, f"{type(exc).__name__}: {exc}") from None


def _label(obj: Any) -> str:
    key = getattr(obj, "key", None) or getattr(getattr(obj, "metadata", None), "name", "")
    return f"{getattr(obj, 'origin', '')}: {getattr(obj, 'kind', type(obj).__name__)} {key}"


def save_cluster(name: str, cluster: Cluster) -> None:
    """The objects the lab runs; an object too large to keep is refused, named."""
    write_cluster(name, encode_cluster(cluster))


def write_cluster(name: str, data: dict[str, Any]) -> None:
    """Write what ``encode_cluster`` made of the lab's objects."""
    write_private(LabNames(name).state_dir / "cluster.json", json.dumps(data))


def encode_cluster(cluster: Cluster) -> dict[str, Any]:
    """The objects the lab runs, as kept on disk; an object too large to keep is refused,
    named, as soon as it is past the limit (before anything is built from it)."""
    data: dict[str, Any] = {}
    for name in cluster.__struct_fields__:
        value = getattr(cluster, name)
        if not isinstance(value, tuple):
            continue
        items = []
        for obj in value:
            try:
                items.append(encode(obj))
            except TooLarge as exc:
                raise InputError(f"{_label(obj)}: {exc}; the lab keeps the objects it runs and "
                                 "refuses one an API server would refuse too") from None
        data[name] = items
    return data


def load_cluster(name: str) -> Cluster:
    source = LabNames(name).state_dir / "cluster.json"
    try:
        return decode(Cluster, json.loads(source.read_text()))
    except FileNotFoundError:
        raise _unreadable(name, "its objects were never written") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise _unreadable(name, f"{type(exc).__name__}: {exc}") from None


def labs(netns: list[str] | None = None) -> list[str]:
    """Every lab with a state directory or a namespace (``netns``: the host's list)."""
    found = set()
    if STATE_ROOT.is_dir():
        found |= {p.name for p in STATE_ROOT.iterdir() if p.is_dir()}
    for ns in netns or []:
        lab = lab_of_netns(ns)
        if lab is not None:
            found.add(lab)
    return sorted(found)
