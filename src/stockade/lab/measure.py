"""Probe a running lab and compare every packet verdict with the engine's.

The result is the engine's matrix shape measured with packets (``pods``, ``results`` with
``reachable`` per source), plus the pods' command output (``logs``), the probes whose
packets disagree with the engine (``mismatches``) and probes that could not be judged.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from stockade.engine import Engine
from stockade.lab.probe import DROPPED, REACHABLE, UNTESTABLE, Probe, Target, probe_all
from stockade.lab.state import LabState
from stockade.model.types import Protocol

PortSpec = tuple[int, str]


@dataclass(frozen=True, slots=True)
class Measurement:
    pods: tuple[str, ...]
    ports: tuple[PortSpec, ...]
    probes: tuple[Probe, ...]
    mismatches: tuple[dict[str, Any], ...]
    problems: tuple[dict[str, Any], ...]  # refused probes: a listener was missing
    seconds: float

    @property
    def ok(self) -> bool:
        return not self.mismatches and not self.problems


def declared_ports(lab: LabState) -> tuple[PortSpec, ...]:
    return tuple(sorted({(int(port), proto) for pod in lab.pods for port, proto in pod.ports},
                        key=lambda p: (p[1], p[0])))


def targets_of(lab: LabState) -> list[Target]:
    return [Target(p.key, p.netns, tuple(p.ips)) for p in lab.pods]


def measure(lab: LabState, engine: Engine, ports: Sequence[PortSpec] | None = None, *,
            timeout: float = 0.5) -> Measurement:
    spec = tuple(ports) if ports else declared_ports(lab)
    started = time.monotonic()
    probes = probe_all(targets_of(lab), spec, timeout=timeout)
    seconds = time.monotonic() - started
    mismatches: list[dict[str, Any]] = []
    problems: list[dict[str, Any]] = []
    for probe in probes:
        if probe.outcome == UNTESTABLE:
            continue
        if probe.outcome not in (REACHABLE, DROPPED):
            problems.append({"src": probe.src, "dst": probe.dst, "port": probe.port,
                             "protocol": probe.protocol, "outcome": probe.outcome,
                             "detail": probe.detail})
            continue
        allowed = engine.allowed(probe.src, probe.dst, Protocol(probe.protocol), probe.port)
        if allowed != (probe.outcome == REACHABLE):
            mismatches.append({"src": probe.src, "dst": probe.dst, "port": probe.port,
                               "protocol": probe.protocol, "address": probe.address,
                               "packets": probe.outcome,
                               "engine": "allowed" if allowed else "denied"})
    return Measurement(tuple(p.key for p in lab.pods), spec, tuple(probes), tuple(mismatches),
                       tuple(problems), seconds)


def to_json(m: Measurement, logs: dict[str, dict[str, str]]) -> dict[str, Any]:
    results = []
    for port, protocol in m.ports:
        mine = [p for p in m.probes if p.port == port and p.protocol == protocol]
        entry: dict[str, Any] = {"port": port, "protocol": protocol}
        if mine and all(p.outcome == UNTESTABLE for p in mine):
            entry["reachable"] = None
            entry["note"] = mine[0].detail
        else:
            entry["reachable"] = {
                src: [p.dst for p in mine if p.src == src and p.outcome == REACHABLE]
                for src in m.pods
            }
        results.append(entry)
    return {"pods": list(m.pods), "results": results, "logs": logs,
            "mismatches": list(m.mismatches), "problems": list(m.problems),
            "probes": len(m.probes), "seconds": round(m.seconds, 3)}


_MARK = {REACHABLE: "Y", DROPPED: ".", UNTESTABLE: "?"}


def to_text(m: Measurement, logs: dict[str, dict[str, str]]) -> str:
    index = {key: i for i, key in enumerate(m.pods)}
    wrong = {(x["src"], x["dst"], x["port"], x["protocol"]) for x in m.mismatches}
    width = max(len(k) for k in m.pods)
    lines = ["pods:"] + [f"  {i:>3}  {key}" for i, key in enumerate(m.pods)]
    lines.append("Y reachable, . dropped, ? untestable, ! refused, * packets disagree with the "
                 "engine")
    for port, protocol in m.ports:
        grid = {(p.src, p.dst): p for p in m.probes if p.port == port and p.protocol == protocol}
        lines.append(f"\n{protocol}/{port}  (row: from, column: to)")
        lines.append(" " * (width + 2) + " ".join(f"{i:>3}" for i in range(len(m.pods))))
        for src in m.pods:
            cells = []
            for dst in m.pods:
                probe = grid.get((src, dst))
                mark = _MARK.get(probe.outcome, "!") if probe else " "
                star = "*" if (src, dst, port, protocol) in wrong else " "
                cells.append(f" {mark}{star}")
            lines.append(f"{src:<{width}}  " + " ".join(cells) + f"  {index[src]}")
        untestable = [p for p in grid.values() if p.outcome == UNTESTABLE]
        if untestable:
            lines.append(f"  ? {untestable[0].detail}")
    for key, containers in logs.items():
        for container, output in containers.items():
            lines.append(f"\n--- logs {key} [{container}]")
            lines.append(output.rstrip("\n"))
    for x in m.mismatches:
        lines.append(f"MISMATCH {x['src']} -> {x['dst']} {x['protocol']}/{x['port']}: packets "
                     f"{x['packets']}, engine says {x['engine']}")
    for x in m.problems:
        lines.append(f"PROBLEM {x['src']} -> {x['dst']} {x['protocol']}/{x['port']}: "
                     f"{x['outcome']} {x['detail']}")
    rate = len(m.probes) / m.seconds if m.seconds else 0.0
    lines.append(f"\n{len(m.probes)} probes in {m.seconds:.2f} s ({rate:.0f}/s); "
                 f"{len(m.mismatches)} mismatch(es) with the engine")
    return "\n".join(lines) + "\n"
