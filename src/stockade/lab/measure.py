"""Probe a running lab and compare every packet verdict with the engine's.

First the lab checks its own plumbing: every pod's link, addresses, routes and listeners,
by probing each pod from its node and its node from each pod (traffic no policy governs).
Then every pod probes every pod. The result is the engine's matrix shape measured with
packets (``pods``, ``results`` with ``reachable`` per source), plus the pods' command
output (``logs``), the probes whose packets disagree with the engine (``mismatches``) and
the lab's own failures (``plumbing``: a pod or listener that does not answer although no
ruleset dropped the packet, a refused connection), which are never counted as drops.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stockade.engine import Engine
from stockade.engine.matrix import port_reachability, reachable_pods
from stockade.lab import watch
from stockade.lab.names import LabNames
from stockade.lab.probe import (
    DROPPED,
    LOST,
    REACHABLE,
    UNTESTABLE,
    Probe,
    Target,
    listeners_for,
    probe_all,
)
from stockade.lab.state import LabState
from stockade.model.types import Protocol
from stockade.render.escape import escape, safe_log
from stockade.wording import count

PortSpec = tuple[int, str]
PLUMBING_PORT = 7  # the node's own listener while the plumbing is checked
PLUMBING_TIMEOUT = 3.0


@dataclass(frozen=True, slots=True)
class Measurement:
    pods: tuple[str, ...]
    ports: tuple[PortSpec, ...]
    probes: tuple[Probe, ...]
    mismatches: tuple[dict[str, Any], ...]
    plumbing: tuple[dict[str, Any], ...]  # the lab's own failures, not the policies'
    seconds: float

    @property
    def ok(self) -> bool:
        return not self.mismatches and not self.plumbing


def declared_ports(lab: LabState) -> tuple[PortSpec, ...]:
    return tuple(sorted({(int(port), proto) for pod in lab.pods for port, proto in pod.ports},
                        key=lambda p: (p[1], p[0])))


def targets_of(lab: LabState) -> list[Target]:
    return [Target(p.key, p.netns, tuple(p.ips)) for p in lab.pods]


def node_targets(lab: LabState) -> list[list[Target]]:
    """Per node, one target per address family it has (probes from the node use each)."""
    out = []
    for i, node in enumerate(lab.nodes):
        out.append([Target(f"node {i}", node.netns, (ip,)) for ip in node.ips])
    return out


def _record(p: Probe, what: str) -> dict[str, Any]:
    outcome = "no answer" if p.outcome in (DROPPED, LOST) else p.outcome
    return {"src": p.src, "dst": p.dst, "port": p.port, "protocol": p.protocol,
            "address": p.address, "outcome": outcome, "check": what, "detail": p.detail}


def check_plumbing(lab: LabState, ports: Sequence[PortSpec]) -> list[dict[str, Any]]:
    """Probe each pod from its node on every probed TCP/UDP port and address, and the node
    from each pod; every failure, named. Listeners must already answer."""
    failures: list[dict[str, Any]] = []
    tcp_udp = [p for p in ports if p[1] in ("TCP", "UDP")]
    nodes = node_targets(lab)
    pods = targets_of(lab)
    pairs_in: list[tuple[Target, Target]] = []
    pairs_out: list[tuple[Target, Target]] = []
    for pod_state, pod in zip(lab.pods, pods, strict=True):
        for family in pod.families():
            node = next((t for t in nodes[pod_state.node] if t.families() == (family,)), None)
            if node is None:
                continue
            single = Target(pod.key, pod.netns, (pod.address(family) or "",))
            pairs_in.append((node, single))
            pairs_out.append((single, node))
    node_all = [t for group in nodes for t in group]
    with listeners_for(node_all, [(PLUMBING_PORT, "TCP")]):
        found = probe_all([], [(PLUMBING_PORT, "TCP")], pairs=pairs_out, open_listeners=False,
                          timeout=PLUMBING_TIMEOUT)
    if tcp_udp:
        found += probe_all([], tcp_udp, pairs=pairs_in, open_listeners=False,
                           timeout=PLUMBING_TIMEOUT)
    for p in found:
        if p.outcome != REACHABLE:
            what = ("the node reaches the pod's listener" if p.src.startswith("node ")
                    else "the pod reaches its node")
            failures.append(_record(p, what))
    return failures


def _daemon_gone(lab: LabState) -> list[dict[str, Any]]:
    """A failure record when the lab's daemon (its listeners, its containers) has died."""
    if not lab.server_pid:
        return []
    try:
        alive = ") Z" not in Path(f"/proc/{lab.server_pid}/stat").read_text()
    except OSError:
        alive = False
    if alive:
        return []
    log = LabNames(lab.name).state_dir / "serve.log"
    return [{"src": "", "dst": "", "port": 0, "protocol": "", "address": "",
             "outcome": "exited", "check": "the lab's daemon serves the declared ports",
             "detail": f"the daemon (pid {lab.server_pid}) has exited; see {log}"}]


def _verdicts(engine: Engine, ports: Sequence[PortSpec]) -> dict[PortSpec, set[tuple[str, str]]]:
    """Per port, the (source, destination) pod pairs the engine allows."""
    keys = [p.key for p in engine.pods]
    out: dict[PortSpec, set[tuple[str, str]]] = {}
    for port, protocol in ports:
        allowed = port_reachability(engine, Protocol(protocol), port)
        out[(port, protocol)] = {(keys[s], keys[d]) for s in range(len(keys))
                                 for d in reachable_pods(engine, allowed, s)}
    return out


def measure(lab: LabState, engine: Engine, ports: Sequence[PortSpec] | None = None, *,
            timeout: float = 0.5) -> Measurement:
    spec = tuple(ports) if ports else declared_ports(lab)
    targets = targets_of(lab)
    started = time.monotonic()
    with watch.exclusive(LabNames(lab.name).state_dir), listeners_for(targets, spec):
        plumbing = check_plumbing(lab, spec)
        probes = probe_all(targets, spec, timeout=timeout, open_listeners=False,
                           nodes=[n.netns for n in lab.nodes])
        plumbing += _daemon_gone(lab)
    seconds = time.monotonic() - started
    verdicts = _verdicts(engine, spec)
    mismatches: list[dict[str, Any]] = []
    for probe in probes:
        if probe.outcome == UNTESTABLE:
            continue
        if probe.outcome not in (REACHABLE, DROPPED):  # lost, or refused
            plumbing.append(_record(probe, "a pod reaches a pod"))
            continue
        allowed = (probe.src, probe.dst) in verdicts[(probe.port, probe.protocol)]
        if allowed != (probe.outcome == REACHABLE):
            mismatches.append({"src": probe.src, "dst": probe.dst, "port": probe.port,
                               "protocol": probe.protocol, "address": probe.address,
                               "packets": probe.outcome,
                               "engine": "allowed" if allowed else "denied"})
    return Measurement(tuple(p.key for p in lab.pods), spec, tuple(probes), tuple(mismatches),
                       tuple(plumbing), seconds)


def to_json(m: Measurement, logs: dict[str, dict[str, str]]) -> dict[str, Any]:
    results = []
    by_port: dict[PortSpec, list[Probe]] = {p: [] for p in m.ports}
    for probe in m.probes:
        by_port[(probe.port, probe.protocol)].append(probe)
    for port, protocol in m.ports:
        mine = by_port[(port, protocol)]
        entry: dict[str, Any] = {"port": port, "protocol": protocol}
        if mine and all(p.outcome == UNTESTABLE for p in mine):
            entry["reachable"] = None
            entry["note"] = mine[0].detail
        else:
            reach: dict[str, list[str]] = {src: [] for src in m.pods}
            for p in mine:
                if p.outcome == REACHABLE:
                    reach[p.src].append(p.dst)
            order = {key: i for i, key in enumerate(m.pods)}
            entry["reachable"] = {src: sorted(dsts, key=order.__getitem__)
                                  for src, dsts in reach.items()}
        results.append(entry)
    return {"pods": list(m.pods), "results": results, "logs": logs,
            "mismatches": list(m.mismatches), "plumbing": list(m.plumbing), "probes": len(m.probes),
            "seconds": round(m.seconds, 3)}


# The upstream e2e convention, as ``matrix --port`` prints it: "." reachable, "X" blocked.
_MARK = {REACHABLE: ".", DROPPED: "X", UNTESTABLE: "?", LOST: "~"}
LEGEND = (". reachable, X dropped, ? untestable, ! refused, ~ lost (both the lab's own "
          "failures, not the policies'), * packets disagree with the engine")


def to_text(m: Measurement, logs: dict[str, dict[str, str]]) -> str:
    """Grids laid out as ``matrix --port`` lays them out, with the same marks."""
    wrong = {(x["src"], x["dst"], x["port"], x["protocol"]) for x in m.mismatches}
    cw = len(str(len(m.pods)))
    labels = [f"{i + 1:>{cw}} {escape(key)}" for i, key in enumerate(m.pods)]
    width = max((len(label) for label in labels), default=0)
    lines = [LEGEND]
    grids: dict[PortSpec, dict[tuple[str, str], Probe]] = {p: {} for p in m.ports}
    for p in m.probes:
        grids[(p.port, p.protocol)][(p.src, p.dst)] = p
    for port, protocol in m.ports:
        grid = grids[(port, protocol)]
        lines.append(f"\n{port}/{protocol}  (. reachable, X dropped; rows: from, numbered "
                     "columns: to)")
        lines.append(" " * width + "  " + " ".join(f"{i + 1:>{cw}}" for i in range(len(m.pods))))
        for s, src in enumerate(m.pods):
            cells = []
            for dst in m.pods:
                probe = grid.get((src, dst))
                mark = _MARK.get(probe.outcome, "!") if probe else " "
                star = "*" if (src, dst, port, protocol) in wrong else " "
                cells.append(" " * (cw - 1) + mark + star)
            lines.append(f"{labels[s]:<{width}}  " + "".join(cells).rstrip())
        untestable = [p for p in grid.values() if p.outcome == UNTESTABLE]
        if untestable:
            lines.append(f"  ? {untestable[0].detail}")
    for key, containers in logs.items():
        for container, output in containers.items():
            lines.append(f"\n--- logs {escape(key)} [{escape(container)}]")
            lines.append(safe_log(output.rstrip("\n")))
    for x in m.mismatches:
        lines.append(f"MISMATCH {x['src']} -> {x['dst']} {x['protocol']}/{x['port']}: packets "
                     f"{x['packets']}, engine says {x['engine']}")
    for x in m.plumbing:
        if not x["src"]:
            lines.append(f"PLUMBING {x['check']}: no; {x['detail']}")
            continue
        lines.append(f"PLUMBING {x['src']} -> {x['dst']} ({x['address']}) "
                     f"{x['protocol']}/{x['port']}: {x['outcome']}; {x['check']} failed "
                     f"{x['detail']}".rstrip())
    rate = len(m.probes) / m.seconds if m.seconds else 0.0
    summary = (f"\n{count(len(m.probes), 'probe')} in {m.seconds:.2f} s ({rate:,.0f}/s); "
               f"{count(len(m.mismatches), 'mismatch')} with the engine")
    if m.plumbing:
        summary += (f"; {count(len(m.plumbing), 'failure')} of the lab's own plumbing "
                    "(not judged: not the policies')")
    lines.append(summary)
    return "\n".join(lines) + "\n"
