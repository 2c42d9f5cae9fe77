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
    addresses: tuple[str, ...] = ()  # the node addresses probed (``probed_addresses``)
    address_probes: tuple[Probe, ...] = ()  # between the pods and those addresses

    @property
    def ok(self) -> bool:
        return not self.mismatches and not self.plumbing


def declared_ports(lab: LabState) -> tuple[PortSpec, ...]:
    return tuple(sorted({(int(port), proto) for pod in lab.pods for port, proto in pod.ports},
                        key=lambda p: (p[1], p[0])))


def targets_of(lab: LabState) -> list[Target]:
    return [Target(p.key, p.netns, tuple(p.ips)) for p in lab.pods]


def address_targets(lab: LabState) -> list[Target]:
    """The input's node addresses, one target each (they share one namespace, so each
    sends from its own address)."""
    netns = LabNames(lab.name).addresses_netns
    return [Target(a, netns, (a,), bind=True) for a in lab.addresses]


def probed_addresses(lab: LabState) -> list[Target]:
    """The node addresses the pods probe and are probed from: the input's (one node), or
    with several nodes each node's own (a pod and another node meet in the pod's node's
    forward hook: egress towards it, ingress from it, as a ``nodes`` peer or an ipBlock
    says)."""
    found = address_targets(lab)
    if found or len(lab.nodes) < 2:
        return found
    return [Target(ip, node.netns, (ip,), bind=True) for node in lab.nodes for ip in node.ips]


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
    """Probe each pod (and each node address the lab holds) from its node on every probed
    TCP/UDP port and address, and the node from each; every failure, named. Listeners must
    already answer."""
    failures: list[dict[str, Any]] = []
    tcp_udp = [p for p in ports if p[1] in ("TCP", "UDP")]
    nodes = node_targets(lab)
    leaves = [(t, lab.pods[i].node, "the pod") for i, t in enumerate(targets_of(lab))]
    leaves += [(t, 0, "the node address") for t in address_targets(lab)]
    pairs_in: list[tuple[Target, Target]] = []
    pairs_out: list[tuple[Target, Target]] = []
    what: dict[str, str] = {}
    for leaf, node_index, kind in leaves:
        what[leaf.key] = kind
        for family in leaf.families():
            node = next((t for t in nodes[node_index] if t.families() == (family,)), None)
            if node is None:
                continue
            single = Target(leaf.key, leaf.netns, (leaf.address(family) or "",), leaf.bind)
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
            check = (f"the node reaches {what[p.dst]}'s listener" if p.src.startswith("node ")
                     else f"{what[p.src]} reaches its node")
            failures.append(_record(p, check))
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


def _address_pairs(pods: Sequence[Target],
                   addresses: Sequence[Target]) -> list[tuple[Target, Target]]:
    """Every pod to every node address of a family it has, and back."""
    pairs = []
    for pod in pods:
        for addr in addresses:
            if addr.families()[0] in pod.families():
                pairs += [(pod, addr), (addr, pod)]
    return pairs


def _compare(probe: Probe, allowed: bool, mismatches: list[dict[str, Any]]) -> None:
    if allowed != (probe.outcome == REACHABLE):
        mismatches.append({"src": probe.src, "dst": probe.dst, "port": probe.port,
                           "protocol": probe.protocol, "address": probe.address,
                           "packets": probe.outcome,
                           "engine": "allowed" if allowed else "denied"})


def measure(lab: LabState, engine: Engine, ports: Sequence[PortSpec] | None = None, *,
            timeout: float = 0.5) -> Measurement:
    spec = tuple(ports) if ports else declared_ports(lab)
    targets = targets_of(lab)
    addresses = probed_addresses(lab)
    nodes = [n.netns for n in lab.nodes]
    started = time.monotonic()
    with (watch.exclusive(LabNames(lab.name).state_dir),
          listeners_for([*targets, *addresses], spec)):
        plumbing = check_plumbing(lab, spec)
        probes = probe_all(targets, spec, timeout=timeout, open_listeners=False, nodes=nodes)
        address_probes = probe_all([], spec, pairs=_address_pairs(targets, addresses),
                                   timeout=timeout, open_listeners=False, nodes=nodes)
        plumbing += _daemon_gone(lab)
    seconds = time.monotonic() - started
    verdicts = _verdicts(engine, spec)
    mismatches: list[dict[str, Any]] = []
    for group, check in ((probes, "a pod reaches a pod"),
                         (address_probes, "a pod and a node address reach each other")):
        for probe in group:
            if probe.outcome == UNTESTABLE:
                continue
            if probe.outcome not in (REACHABLE, DROPPED):  # lost, or refused
                plumbing.append(_record(probe, check))
                continue
            if group is probes:
                allowed = (probe.src, probe.dst) in verdicts[(probe.port, probe.protocol)]
            else:  # an address: the engine's point query, as for query --to ADDRESS
                allowed = engine.allowed(probe.src, probe.dst, Protocol(probe.protocol),
                                         probe.port)
            _compare(probe, allowed, mismatches)
    return Measurement(tuple(p.key for p in lab.pods), spec, tuple(probes), tuple(mismatches),
                       tuple(plumbing), seconds, tuple(t.key for t in addresses),
                       tuple(address_probes))


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
    out: dict[str, Any] = {"pods": list(m.pods), "results": results, "logs": logs,
                           "mismatches": list(m.mismatches), "plumbing": list(m.plumbing),
                           "probes": len(m.probes) + len(m.address_probes),
                           "seconds": round(m.seconds, 3)}
    if m.addresses:
        out["node_addresses"] = _addresses_json(m)
    return out


def _addresses_json(m: Measurement) -> dict[str, Any]:
    """Per port, which node addresses each pod reaches and which pods each address does."""
    results = []
    for port, protocol in m.ports:
        mine = [p for p in m.address_probes if (p.port, p.protocol) == (port, protocol)
                and p.outcome == REACHABLE]
        to = {pod: [p.dst for p in mine if p.src == pod] for pod in m.pods}
        back = {addr: [p.dst for p in mine if p.src == addr] for addr in m.addresses}
        results.append({"port": port, "protocol": protocol, "to": to, "from": back})
    return {"addresses": list(m.addresses), "results": results}


# The upstream e2e convention, as ``matrix --port`` prints it: "." reachable, "X" blocked.
_MARK = {REACHABLE: ".", DROPPED: "X", UNTESTABLE: "?", LOST: "~"}
LEGEND = (". reachable, X dropped, ? untestable, ! refused, ~ lost (both the lab's own "
          "failures, not the policies'), * packets disagree with the engine")


def _grid(rows: Sequence[str], columns: Sequence[str], grid: dict[tuple[str, str], Probe],
          wrong: set[tuple[str, str]]) -> list[str]:
    """Rows numbered and named, columns numbered, one mark per cell (``*`` after it when
    packets and engine disagree), as ``matrix --port`` lays its grids out."""
    cw = len(str(max(len(rows), len(columns))))
    labels = [f"{i + 1:>{cw}} {escape(key)}" for i, key in enumerate(rows)]
    width = max((len(label) for label in labels), default=0)
    lines = [" " * width + "  " + " ".join(f"{i + 1:>{cw}}" for i in range(len(columns)))]
    for r, src in enumerate(rows):
        cells = []
        for dst in columns:
            probe = grid.get((src, dst))
            mark = _MARK.get(probe.outcome, "!") if probe else " "
            cells.append(" " * (cw - 1) + mark + ("*" if (src, dst) in wrong else " "))
        lines.append(f"{labels[r]:<{width}}  " + "".join(cells).rstrip())
    return lines


def to_text(m: Measurement, logs: dict[str, dict[str, str]]) -> str:
    """Grids laid out as ``matrix --port`` lays them out, with the same marks."""
    lines = [LEGEND]
    for port, protocol in m.ports:
        spec = (port, protocol)
        wrong = {(x["src"], x["dst"]) for x in m.mismatches
                 if (x["port"], x["protocol"]) == spec}
        grid = {(p.src, p.dst): p for p in m.probes if (p.port, p.protocol) == spec}
        lines.append(f"\n{port}/{protocol}  (. reachable, X dropped; rows: from, numbered "
                     "columns: to)")
        lines += _grid(m.pods, m.pods, grid, wrong)
        untestable = [p for p in grid.values() if p.outcome == UNTESTABLE]
        if untestable:
            lines.append(f"  ? {untestable[0].detail}")
        if not m.addresses:
            continue
        grid = {(p.src, p.dst): p for p in m.address_probes if (p.port, p.protocol) == spec}
        named = ", ".join(f"{i + 1} {a}" for i, a in enumerate(m.addresses))
        lines.append(f"\n{port}/{protocol}  pods to the input's node addresses (columns: "
                     f"{named})")
        lines += _grid(m.pods, m.addresses, grid, wrong)
        lines.append(f"\n{port}/{protocol}  node addresses to pods (columns: the pods above)")
        lines += _grid(m.addresses, m.pods, grid, wrong)
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
    total = len(m.probes) + len(m.address_probes)
    rate = total / m.seconds if m.seconds else 0.0
    summary = (f"\n{count(total, 'probe')} in {m.seconds:.2f} s ({rate:,.0f}/s); "
               f"{count(len(m.mismatches), 'mismatch')} with the engine")
    if m.plumbing:
        summary += (f"; {count(len(m.plumbing), 'failure')} of the lab's own plumbing "
                    "(not judged: not the policies')")
    lines.append(summary)
    return "\n".join(lines) + "\n"
