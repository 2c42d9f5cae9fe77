"""A running lab's state on disk (``/run/stockade/labs/<name>/state.json``), so that
``probe``, ``apply``, ``exec``, ``logs`` and ``down`` work from later processes."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stockade.errors import InputError
from stockade.lab.names import STATE_ROOT, LabNames


@dataclass(slots=True)
class PodState:
    key: str
    netns: str
    ips: list[str]
    ports: list[tuple[int, str]]
    containers: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> pid, log


@dataclass(slots=True)
class LabState:
    name: str
    node_netns: str
    node_ips: list[str]
    pod_cidr: str
    table: str
    pods: list[PodState]
    allocated: dict[str, list[str]]
    raws: list[dict[str, Any]]  # the manifests the lab was built from (data, file, line)
    server_pid: int = 0
    skipped: list[str] = field(default_factory=list)

    def pod(self, key: str) -> PodState:
        for pod in self.pods:
            if pod.key == key:
                return pod
        known = ", ".join(p.key for p in self.pods)
        raise InputError(f"lab {self.name} has no pod {key!r} (pods: {known})")


def path_of(name: str) -> Path:
    return LabNames(name).state_dir / "state.json"


def save(state: LabState) -> None:
    target = path_of(state.name)
    target.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "name": state.name, "node_netns": state.node_netns, "node_ips": state.node_ips,
        "pod_cidr": state.pod_cidr, "table": state.table, "allocated": state.allocated,
        "raws": state.raws, "server_pid": state.server_pid, "skipped": state.skipped,
        "pods": [{"key": p.key, "netns": p.netns, "ips": p.ips, "ports": p.ports,
                  "containers": p.containers} for p in state.pods],
    }
    tmp = target.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1, default=str))
    tmp.replace(target)


def load(name: str) -> LabState:
    source = path_of(name)
    try:
        data = json.loads(source.read_text())
    except FileNotFoundError:
        raise InputError(f"no lab named {name!r} is running (see stockade lab list)") from None
    pods = [PodState(p["key"], p["netns"], p["ips"], [tuple(x) for x in p["ports"]],
                     p["containers"]) for p in data["pods"]]
    return LabState(data["name"], data["node_netns"], data["node_ips"], data["pod_cidr"],
                    data["table"], pods, data["allocated"], data["raws"],
                    data["server_pid"], data["skipped"])


def running() -> list[str]:
    if not STATE_ROOT.is_dir():
        return []
    return sorted(p.name for p in STATE_ROOT.iterdir() if (p / "state.json").is_file())
