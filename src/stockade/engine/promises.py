"""Promises checked against an engine: which pairs of endpoints a promise is about, the
engine's answer for each pair and port, and the verdict with the pairs that break it and
``query``'s explanation for one. Pure.

Planning (which probes a promise needs) is apart from answering, so that the lab can
answer the same probes with packets and compare. Answers are worked out once per pair of
behaviour classes: every pod of a class is alike for the policies.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from stockade.engine.engine import Engine
from stockade.engine.explain import Verdict
from stockade.engine.matrix import ClassRows, Spans, span_protocol, spans_text
from stockade.engine.services import (
    backends,
    find_service,
    parse_service_ref,
    service_port,
)
from stockade.engine.traffic import Endpoint, Traffic
from stockade.errors import InputError, UsageError
from stockade.model.netparse import parse_ip
from stockade.model.promises import Promise, Selection, Target, describe_target
from stockade.model.selectors import selector_matches
from stockade.model.types import Protocol
from stockade.wording import count

BREACHES_KEPT = 5  # breaking checks named per promise

PASSED, FAILED, SKIPPED = "passed", "failed", "skipped"


@dataclass(frozen=True, slots=True)
class Probe:
    """One pair on one port; ``port`` ``None`` means on any port."""

    source: Endpoint
    destination: Endpoint
    protocol: Protocol | None = None
    port: int | None = None

    @property
    def text(self) -> str:
        where = f" {self.protocol.value} {self.port}" if self.protocol and self.port else ""
        return f"{self.source.name} -> {self.destination.name}{where}"


@dataclass(frozen=True, slots=True)
class Plan:
    """What a promise asks: its probes, or why it fails before any (``problem``: a
    selector that matched nothing) or is not checked (``skip``)."""

    promise: Promise
    probes: tuple[Probe, ...] = ()
    problem: str = ""
    skip: str = ""


@dataclass(frozen=True, slots=True)
class Answer:
    """Whether a probe's connection is allowed; for an any-port probe, the ports that are."""

    allowed: bool
    connections: str = ""  # any-port probes: the connection set text
    example: tuple[Protocol, int] | None = None  # a port that shows the answer, to explain


@dataclass(frozen=True, slots=True)
class Breach:
    probe: Probe
    answer: Answer


@dataclass(frozen=True, slots=True)
class Outcome:
    promise: Promise
    status: str
    checks: int = 0
    failures: int = 0
    breaches: tuple[Breach, ...] = ()
    message: str = ""
    explanation: Verdict | None = None


class PromiseError(InputError):
    """A promise names something the input lacks (a pod, a Service, a port)."""


class Checker:
    """Plans and answers promises over one engine. ``owner`` maps pod keys to the workload
    that owns them (``ns/Kind/name``), as ``choose_endpoints`` found it."""

    def __init__(self, engine: Engine, owner: Mapping[str, str] | None = None) -> None:
        self.engine = engine
        self.owner = dict(owner or {})
        self._rows: ClassRows | None = None
        self._memo: dict[tuple[object, ...], Answer] = {}
        self._index = {p.key: i for i, p in enumerate(engine.pods)}

    # --- planning ---------------------------------------------------------------------------

    def plan(self, promise: Promise) -> Plan:
        if promise.skip:
            return Plan(promise, skip=promise.skip)
        sources = self._endpoints(promise, promise.source, "from")
        if not sources:
            return Plan(promise, problem=f"from ({describe_target(promise.source)}) matched "
                        "no endpoint: a promise about nothing fails")
        ref = (parse_service_ref(promise.destination)
               if isinstance(promise.destination, str) else None)
        if ref is not None:
            return self._service_plan(promise, sources)
        destinations = self._endpoints(promise, promise.destination, "to")
        if not destinations:
            return Plan(promise, problem=f"to ({describe_target(promise.destination)}) "
                        "matched no endpoint: a promise about nothing fails")
        ports: Sequence[tuple[Protocol | None, int | None]] = (
            [(p.protocol, p.port) for p in promise.ports] or [(None, None)])
        probes = tuple(Probe(s, d, proto, port) for s in sources for d in destinations
                       if not _same(s, d) for proto, port in ports)
        if not probes:
            return Plan(promise, problem="from and to are the same endpoint: no pair of "
                        "distinct endpoints to check")
        return Plan(promise, probes)

    def _service_plan(self, promise: Promise, sources: Sequence[Endpoint]) -> Plan:
        assert isinstance(promise.destination, str)
        try:
            ref = parse_service_ref(promise.destination)
            assert ref is not None
            service = find_service(self.engine.cluster.services, ref)
            port = service_port(service, ref)
            protocol = Protocol(port.protocol)
            found = backends(service, port, self.engine.pods)
        except (InputError, UsageError, ValueError) as exc:
            raise self._error(promise, "to", str(exc)) from None
        usable = [b for b in found if b.port is not None]
        if not usable:
            why = "; ".join(f"{b.pod.key}: {b.problem}" for b in found) or (
                "its selector matches no endpoint of the input")
            return Plan(promise, problem=f"{promise.destination}: no usable backends ({why})")
        probes = tuple(Probe(s, Endpoint(b.pod), protocol, b.port) for s in sources
                       for b in usable if not _same(s, Endpoint(b.pod)))
        if not probes:
            return Plan(promise, problem="the only backend is the source itself: nothing to "
                        "check")
        return Plan(promise, probes)

    def _error(self, promise: Promise, field: str, message: str) -> PromiseError:
        return PromiseError(f"{promise.origin}: {promise.suite}: {promise.path}.{field}: "
                            f"{message}")

    def _endpoints(self, promise: Promise, target: Target, field: str) -> list[Endpoint]:
        engine = self.engine
        if isinstance(target, Selection):
            return [Endpoint(p) for p in engine.pods if _selects(engine, target, p.namespace,
                                                                 p.labels)]
        if parse_ip(target) is not None:
            return [engine.endpoint(target)]
        members = [p for p in engine.pods if self.owner.get(p.key) == target]
        if members:
            return [Endpoint(p) for p in members]
        try:
            return [engine.endpoint(target)]
        except InputError as exc:
            namespace, _, name = target.partition("/")
            hint = [w.key for w in engine.cluster.workloads
                    if w.namespace == namespace and w.name == name]
            extra = f"; workloads are named ns/Kind/name: {', '.join(hint)}" if hint else ""
            raise self._error(promise, field, f"{exc}{extra}") from None

    def endpoint(self, key: str) -> Endpoint:
        """The endpoint of a pod (or workload) key of the engine."""
        return Endpoint(self.engine.pod(key))

    # --- answering --------------------------------------------------------------------------

    def answer(self, probe: Probe) -> Answer:
        engine = self.engine
        src, dst = probe.source, probe.destination
        if src.pod is not None and dst.pod is not None and src.ip is None and dst.ip is None:
            i, j = self._index[src.pod.key], self._index[dst.pod.key]
            node = engine.node_traffic(i, j)
            key: tuple[object, ...] = (engine.pod_class[i], engine.pod_class[j], node,
                                       probe.protocol, probe.port)
            found = self._memo.get(key)
            if found is None:
                found = self._memo[key] = self._answer(probe, node)
            return found
        return self._answer(probe, False)

    def _answer(self, probe: Probe, node_traffic: bool) -> Answer:
        if probe.protocol is not None and probe.port is not None:
            traffic = Traffic(probe.source, probe.destination, probe.protocol, probe.port)
            return Answer(self.engine.evaluate(traffic).allowed)
        assert probe.source.pod is not None and probe.destination.pod is not None
        if node_traffic:
            spans: Spans = ((0, 1, 65535), (1, 1, 65535), (2, 1, 65535))
        else:
            if self._rows is None:
                self._rows = ClassRows(self.engine)
            cs = self.engine.class_of(probe.source.pod).index
            cd = self.engine.class_of(probe.destination.pod).index
            text_id = int(self._rows.cells(np.array([cs]), np.array([cd]))[0, 0])
            spans = self._rows.spans[text_id]
        return Answer(bool(spans), spans_text(spans), _example(spans, probe.destination))

    def explain(self, probe: Probe, answer: Answer) -> Verdict | None:
        """``query``'s verdict for a probe (for an any-port probe, on a port that shows the
        answer: one allowed, or one the destination declares)."""
        if probe.protocol is not None and probe.port is not None:
            protocol, port = probe.protocol, probe.port
        elif answer.example is not None:
            protocol, port = answer.example
        else:
            return None
        return self.engine.evaluate(Traffic(probe.source, probe.destination, protocol, port))

    def check(self, promise: Promise) -> Outcome:
        """The engine's verdict on a promise."""
        plan = self.plan(promise)
        return judge(plan, [self.answer(p) for p in plan.probes], self.explain)


def judge(plan: Plan, answers: Sequence[Answer],
          explain: Callable[[Probe, Answer], Verdict | None] | None = None) -> Outcome:
    """A promise holds when every probe's answer is what it promises."""
    promise = plan.promise
    if plan.skip:
        return Outcome(promise, SKIPPED, message=plan.skip)
    if plan.problem:
        return Outcome(promise, FAILED, message=plan.problem)
    breaches = [Breach(p, a) for p, a in zip(plan.probes, answers, strict=True)
                if a.allowed != promise.allowed]
    checks = len(plan.probes)
    if not breaches:
        return Outcome(promise, PASSED, checks)
    first = breaches[0]
    unit = "pair" if promise.ports == () else "check"
    what = "allowed" if not promise.allowed else "denied"
    promised = "none allowed" if not promise.allowed else "all allowed"
    message = (f"{len(breaches)} of {count(checks, unit)} "
               f"{'is' if len(breaches) == 1 else 'are'} {what} (promised: {promised})")
    verdict = explain(first.probe, first.answer) if explain is not None else None
    return Outcome(promise, FAILED, checks, len(breaches), tuple(breaches[:BREACHES_KEPT]),
                   message, verdict)


def _same(a: Endpoint, b: Endpoint) -> bool:
    """One endpoint: a pod, or an address that is no pod's (never a pair with itself)."""
    if a.pod is not None or b.pod is not None:
        return a.pod is b.pod
    return a.ip is not None and a.ip == b.ip


def _selects(engine: Engine, target: Selection, namespace: str,
             labels: Mapping[str, str]) -> bool:
    if target.namespace and namespace != target.namespace:
        return False
    if target.namespace_selector is not None:
        ns = engine.namespaces.get(namespace)
        if ns is None or not selector_matches(target.namespace_selector, ns.labels):
            return False
    return target.pod_selector is None or selector_matches(target.pod_selector, labels)


def _example(spans: Spans, destination: Endpoint) -> tuple[Protocol, int]:
    """A port to explain an any-port answer on: an allowed one the destination declares,
    else the first allowed; when nothing is allowed, a port the destination declares."""
    declared = [(Protocol(p.protocol), p.container_port)
                for p in (destination.pod.container_ports() if destination.pod else ())
                if p.protocol in Protocol.__members__]
    for protocol, port in declared:
        if any(span_protocol(s) == protocol and s[1] <= port <= s[2] for s in spans):
            return protocol, port
    if spans:
        return span_protocol(spans[0]), spans[0][1]
    return declared[0] if declared else (Protocol.TCP, 80)
