"""Promises checked in a running lab with real packets, and compared with the engine.

Each probe a promise plans (``stockade.engine.promises``) becomes packets from the source's
namespace to the destination: a TCP connect or a UDP request on the port, between pods or
between a pod and one of the input's node addresses the lab holds. A promise about any
port is probed on the ports the destination declares, plus one the engine says is open.
As for ``lab probe``, the lab's plumbing is checked first, a silent probe is a drop only
when the node's ruleset was seen dropping it, and a lost or refused probe is the lab's own
failure, never the policies'. The packets decide the promise; every packet verdict that
differs from the engine's is a mismatch. What the lab cannot test (an endpoint it does not
run, such as a host-network pod or an address outside it, and SCTP on this kernel) is
said, never counted as passed or failed.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from stockade.engine.ports import PortSpan, format_connections
from stockade.engine.promises import SKIPPED, Answer, Checker, Outcome, Probe, judge
from stockade.engine.traffic import Endpoint
from stockade.lab import watch
from stockade.lab.measure import address_targets, check_plumbing, targets_of
from stockade.lab.names import LabNames
from stockade.lab.probe import DROPPED, REACHABLE, UNTESTABLE, Target, listeners_for, probe_all
from stockade.lab.state import LabState
from stockade.model.promises import Promise
from stockade.model.types import Protocol
from stockade.wording import count

Flow = tuple[str, str, int, str]  # source, destination (pod keys or addresses), port, protocol


@dataclass(frozen=True, slots=True)
class LabCheck:
    outcomes: tuple[Outcome, ...]
    mismatches: tuple[dict[str, Any], ...]  # packets and engine disagree
    untestable: tuple[dict[str, Any], ...]  # probes the lab cannot make, and why
    problems: tuple[dict[str, Any], ...]  # the lab's own failures: plumbing, lost, refused
    probes: int
    seconds: float

    @property
    def ok(self) -> bool:
        return (not self.mismatches and not self.problems
                and all(o.status != "failed" for o in self.outcomes))


class _Lab:
    """What a lab can probe: its pods, and the node addresses it holds, by key."""

    def __init__(self, lab: LabState) -> None:
        self.state = lab
        self.targets: dict[str, Target] = {t.key: t for t in targets_of(lab)}
        self.targets.update({t.key: t for t in address_targets(lab)})
        self.endpoints: dict[str, Endpoint] = {}

    def key(self, end: Endpoint) -> tuple[str, str]:
        """The target standing for an endpoint, or why there is none."""
        if end.pod is not None and end.pod.key in self.targets:
            found = end.pod.key
        elif end.pod is None and end.ip is not None and str(end.ip) in self.targets:
            found = str(end.ip)
        elif end.pod is None:
            return "", f"{end.name} is outside the lab: nothing there answers"
        elif end.pod.host_network:
            return "", (f"{end.pod.key} is host-network (node traffic), which the lab does "
                        "not run")
        else:
            return "", f"{end.pod.key} is not run in the lab"
        self.endpoints[found] = end
        return found, ""

    def flows(self, probe: Probe, checker: Checker) -> tuple[list[Flow], str]:
        """The packet flows that test a probe, or why there are none."""
        (src, why), (dst, why_dst) = self.key(probe.source), self.key(probe.destination)
        if why or why_dst:
            return [], why or why_dst
        if probe.protocol is not None and probe.port is not None:
            return [(src, dst, probe.port, probe.protocol.value)], ""
        pod = probe.destination.pod
        ports = {(p.container_port, p.protocol) for p in (pod.serving_ports() if pod else ())
                 if p.protocol in ("TCP", "UDP")}
        answer = checker.answer(probe)
        if answer.allowed and answer.example and answer.example[0].value in ("TCP", "UDP"):
            ports.add((answer.example[1], answer.example[0].value))
        if not ports:
            return [], (f"{probe.destination.name} declares no TCP or UDP port and the engine "
                        "allows none: no port to probe")
        return [(src, dst, port, proto) for port, proto in sorted(ports)], ""


def _record(flow: Flow) -> dict[str, Any]:
    src, dst, port, proto = flow
    return {"src": src, "dst": dst, "port": port, "protocol": proto}


def check_in_lab(lab: LabState, checker: Checker, promises: Sequence[Promise], *,
                 timeout: float = 0.5) -> LabCheck:
    """Probe what the promises ask, in the running lab ``lab`` whose engine ``checker``
    holds, and judge them by the packets."""
    here = _Lab(lab)
    plans = [checker.plan(p) for p in promises]
    per_probe: dict[tuple[int, int], tuple[list[Flow], str]] = {}
    wanted: dict[Flow, None] = {}
    for i, plan in enumerate(plans):
        for j, probe in enumerate(plan.probes):
            per_probe[i, j] = here.flows(probe, checker)
            wanted.update(dict.fromkeys(per_probe[i, j][0]))
    started = time.monotonic()
    measured, plumbing = _probe(here, list(wanted), timeout)
    seconds = time.monotonic() - started

    mismatches: list[dict[str, Any]] = []
    problems: list[dict[str, Any]] = list(plumbing)
    untestable: list[dict[str, Any]] = []
    for flow, (packets, detail) in measured.items():
        if packets == UNTESTABLE:
            untestable.append({**_record(flow), "reason": detail})
        elif packets not in (REACHABLE, DROPPED):  # lost or refused: the lab's own failure
            problems.append({**_record(flow), "outcome": packets, "detail": detail})
        else:
            src, dst, port, proto = flow
            engine = checker.answer(Probe(here.endpoints[src], here.endpoints[dst],
                                          Protocol(proto), port)).allowed
            if engine != (packets == REACHABLE):
                mismatches.append({**_record(flow), "packets": packets,
                                   "engine": "allowed" if engine else "denied"})

    outcomes: list[Outcome] = []
    for i, plan in enumerate(plans):
        kept: list[Probe] = []
        answers: list[Answer] = []
        reasons: list[str] = []
        for j, probe in enumerate(plan.probes):
            flows, why = per_probe[i, j]
            seen = [f for f in flows if measured[f][0] in (REACHABLE, DROPPED)]
            if not seen:
                detail = why or next((measured[f][1] for f in flows), "")
                reasons.append(f"{probe.text}: {detail}")
                if why:
                    untestable.append({"src": probe.source.name, "dst": probe.destination.name,
                                       "port": probe.port, "protocol": probe.protocol.value
                                       if probe.protocol else None, "reason": why})
                continue
            kept.append(probe)
            reachable = [f for f in seen if measured[f][0] == REACHABLE]
            text = format_connections(PortSpan(Protocol(p), n, n) for _, _, n, p in reachable)
            answers.append(Answer(bool(reachable), text if probe.port is None else ""))
        if plan.probes and not kept and not plan.problem:
            outcomes.append(Outcome(plan.promise, SKIPPED, message="not testable in the lab: "
                                    + "; ".join(reasons[:3])))
            continue
        outcome = judge(replace(plan, probes=tuple(kept)), answers, checker.explain)
        if reasons:
            note = (f"{count(len(reasons), 'probe')} not testable in the lab (e.g. "
                    f"{reasons[0]})")
            outcome = replace(outcome, message="; ".join(x for x in (outcome.message, note)
                                                         if x))
        outcomes.append(outcome)
    return LabCheck(tuple(outcomes), tuple(mismatches), tuple(untestable), tuple(problems),
                    len(measured), seconds)


def _probe(here: _Lab, flows: Sequence[Flow], timeout: float
           ) -> tuple[dict[Flow, tuple[str, str]], list[dict[str, Any]]]:
    """Packets for every flow (``{flow: (outcome, detail)}``, one probe run per port), and
    the lab's plumbing failures on those ports, checked first as ``lab probe`` does."""
    by_port: dict[tuple[int, str], list[tuple[Target, Target]]] = {}
    for src, dst, port, proto in flows:
        by_port.setdefault((port, proto), []).append((here.targets[src], here.targets[dst]))
    ports = sorted(by_port, key=lambda p: (p[1], p[0]))
    nodes = [n.netns for n in here.state.nodes]
    out: dict[Flow, tuple[str, str]] = {}
    with (watch.exclusive(LabNames(here.state.name).state_dir),
          listeners_for(list(here.targets.values()), ports)):
        plumbing = check_plumbing(here.state, ports) if ports else []
        for spec in ports:
            for p in probe_all([], [spec], pairs=by_port[spec], timeout=timeout,
                               open_listeners=False, nodes=nodes):
                out[p.src, p.dst, p.port, p.protocol] = (p.outcome, p.detail)
    return out, plumbing
