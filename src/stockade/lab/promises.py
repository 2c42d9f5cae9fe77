"""Promises checked in a running lab with real packets, and compared with the engine.

Each probe a promise plans (``stockade.engine.promises``) becomes packets from the source
pod's namespace to the destination pod: a TCP connect or a UDP request on the port. A
promise about any port is probed on the ports the destination declares, plus one the
engine says is open. The packets decide the promise; every packet verdict that differs
from the engine's is reported as a mismatch. What the lab cannot test (an endpoint it does
not run, such as a host-network pod or an address outside it, and SCTP on this kernel) is
said, never counted as passed or failed.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from stockade.engine.ports import PortSpan, format_connections
from stockade.engine.promises import SKIPPED, Answer, Checker, Outcome, Probe, judge
from stockade.lab.measure import targets_of
from stockade.lab.probe import DROPPED, REACHABLE, UNTESTABLE, Target, probe_all
from stockade.lab.state import LabState
from stockade.model.promises import Promise
from stockade.model.types import Protocol
from stockade.wording import count

Flow = tuple[str, str, int, str]  # source key, destination key, port, protocol


@dataclass(frozen=True, slots=True)
class LabCheck:
    outcomes: tuple[Outcome, ...]
    mismatches: tuple[dict[str, Any], ...]  # packets and engine disagree
    untestable: tuple[dict[str, Any], ...]  # probes the lab cannot make, and why
    problems: tuple[dict[str, Any], ...]  # refused probes: a listener was missing
    probes: int
    seconds: float

    @property
    def ok(self) -> bool:
        return (not self.mismatches and not self.problems
                and all(o.status != "failed" for o in self.outcomes))


def _flows(probe: Probe, checker: Checker, running: dict[str, Target]
           ) -> tuple[list[Flow], str]:
    """The packet flows that test a probe, or why there are none."""
    src, dst = probe.source, probe.destination
    for end in (src, dst):
        if end.pod is None:
            return [], f"{end.name} is outside the lab: no pod there answers"
        if end.pod.key not in running:
            why = ("is host-network (node traffic), which the lab does not run"
                   if end.pod.host_network else "is not run in the lab")
            return [], f"{end.pod.key} {why}"
    assert src.pod is not None and dst.pod is not None
    if probe.protocol is not None and probe.port is not None:
        return [(src.pod.key, dst.pod.key, probe.port, probe.protocol.value)], ""
    ports = {(p.container_port, p.protocol) for p in dst.pod.container_ports()
             if p.protocol in ("TCP", "UDP")}
    example = checker.answer(probe).example
    if checker.answer(probe).allowed and example and example[0].value in ("TCP", "UDP"):
        ports.add((example[1], example[0].value))
    if not ports:
        return [], (f"{dst.pod.key} declares no TCP or UDP port and the engine allows none: "
                    "no port to probe")
    return [(src.pod.key, dst.pod.key, port, proto) for port, proto in sorted(ports)], ""


def check_in_lab(lab: LabState, checker: Checker, promises: Sequence[Promise], *,
                 timeout: float = 0.5) -> LabCheck:
    running = {t.key: t for t in targets_of(lab)}
    plans = [checker.plan(p) for p in promises]
    wanted: dict[Flow, None] = {}
    per_probe: dict[tuple[int, int], tuple[list[Flow], str]] = {}
    for i, plan in enumerate(plans):
        for j, probe in enumerate(plan.probes):
            flows, why = _flows(probe, checker, running)
            per_probe[i, j] = (flows, why)
            wanted.update(dict.fromkeys(flows))
    started = time.monotonic()
    measured = _probe(running, list(wanted), timeout)
    seconds = time.monotonic() - started

    mismatches: list[dict[str, Any]] = []
    problems: list[dict[str, Any]] = []
    untestable: list[dict[str, Any]] = []
    for flow, (packets, detail) in measured.items():
        src, dst, port, proto = flow
        record = {"src": src, "dst": dst, "port": port, "protocol": proto}
        if packets == UNTESTABLE:
            untestable.append({**record, "reason": detail})
        elif packets not in (REACHABLE, DROPPED):
            problems.append({**record, "outcome": packets, "detail": detail})
        else:
            engine = checker.answer(Probe(checker.endpoint(src), checker.endpoint(dst),
                                          Protocol(proto), port)).allowed
            if engine != (packets == REACHABLE):
                mismatches.append({**record, "packets": packets,
                                   "engine": "allowed" if engine else "denied"})

    outcomes: list[Outcome] = []
    for i, plan in enumerate(plans):
        kept: list[Probe] = []
        answers: list[Answer] = []
        reasons: list[str] = []
        for j, probe in enumerate(plan.probes):
            flows, why = per_probe[i, j]
            seen = [measured[f] for f in flows if measured[f][0] in (REACHABLE, DROPPED)]
            if not seen:
                reason = why or next((measured[f][1] for f in flows), "")
                reasons.append(f"{probe.text}: {reason}")
                if why:
                    untestable.append({"src": probe.source.name, "dst": probe.destination.name,
                                       "port": probe.port, "protocol": probe.protocol.value
                                       if probe.protocol else None, "reason": why})
                continue
            kept.append(probe)
            reachable = [f for f in flows if measured[f][0] == REACHABLE]
            text = format_connections(PortSpan(Protocol(p), n, n) for _, _, n, p in reachable)
            answers.append(Answer(bool(reachable), text if probe.port is None else ""))
        if plan.probes and not kept and not plan.problem:
            outcomes.append(Outcome(plan.promise, SKIPPED,
                                    message="not testable in the lab: " + "; ".join(reasons[:3])))
            continue
        outcome = judge(replace(plan, probes=tuple(kept)), answers, checker.explain)
        if reasons and outcome.status != SKIPPED:
            outcome = replace(outcome, message="; ".join(
                x for x in (outcome.message, f"{count(len(reasons), 'probe')} not testable in the "
                            f"lab (e.g. {reasons[0]})") if x))
        outcomes.append(outcome)
    return LabCheck(tuple(outcomes), tuple(mismatches), tuple(untestable), tuple(problems),
                    len(measured), seconds)


def _probe(running: dict[str, Target], flows: Sequence[Flow], timeout: float
           ) -> dict[Flow, tuple[str, str]]:
    """Packets for every flow: ``{flow: (outcome, detail)}``, one probe run per port."""
    by_port: dict[tuple[int, str], list[tuple[Target, Target]]] = {}
    for src, dst, port, proto in flows:
        by_port.setdefault((port, proto), []).append((running[src], running[dst]))
    out: dict[Flow, tuple[str, str]] = {}
    for (port, proto), pairs in by_port.items():
        targets = list({t.key: t for pair in pairs for t in pair}.values())
        for p in probe_all(targets, [(port, proto)], pairs=pairs, timeout=timeout):
            out[p.src, p.dst, p.port, p.protocol] = (p.outcome, p.detail)
    return out

