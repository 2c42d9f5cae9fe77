"""Why a connection changed: the policy edits responsible, found the way ``query`` finds
them. Pure.

For a changed pair, a few ports of what was gained and what was lost are evaluated on both
sides with ``Engine.evaluate``. A gained port was denied by some side (the source's egress
or the destination's ingress) and is now allowed there: by a rule (the rule that allows it
now) or because no policy isolates that side any more. A lost port was allowed by a side
that now denies it: the rules that allowed it before no longer match (with the new
verdict's reasons), or a policy isolates that side now. With cluster-wide policies, the
rule of the Admin or Baseline tier that decides the side now (an Accept for a gained port,
a Deny for a lost one), or the one that decided it before and no longer does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stockade.engine.diff import Comparison, PairChange
from stockade.engine.engine import Engine
from stockade.engine.explain import ClusterRuleMatch, DirectionVerdict, Verdict
from stockade.engine.matrix import Spans, span_protocol
from stockade.engine.traffic import Endpoint, Traffic
from stockade.model.types import UNKNOWN_ORIGIN, Origin, Pod, PolicyType, Protocol

PORTS_CHECKED = 3  # port ranges of a gained or lost set that are evaluated
MISS_REASONS = 4  # reasons kept from the new verdict's misses

# What a cause says (``Cause.what``).
ALLOWS = "allows"  # a rule allows the gained port now
UNISOLATED = "no longer isolates"  # the side is not isolated any more
NO_LONGER_ALLOWS = "no longer allows"  # the rule that allowed the lost port misses now
ISOLATES = "isolates"  # a policy isolates the side now and no rule allows the port
DENIES = "denies"  # a cluster-wide rule denies the lost port now
NO_LONGER_DENIES = "no longer denies"  # the cluster-wide rule that denied the port does not
ENDPOINT = "endpoint changed"  # the pod itself changed (labels, ports, addresses)
NAMESPACE = "namespace changed"  # a namespace's labels changed
NODE_TRAFFIC = "node traffic"  # a host-network pod and a pod on its node


@dataclass(frozen=True, slots=True)
class Cause:
    """One reason a pair gained or lost a connection, checked on one pod pair and port.

    ``policy``/``rule``/``peer``/``port_entry`` point into the policy as ``query`` does
    (``ingress[0]``, ``from[1]``, ``ports[0]``); ``origin`` and ``path`` locate it in the
    file of the ``version`` ("old" or "new") the reviewer should look at.
    """

    effect: str  # "gained" | "lost"
    what: str
    source: str  # the pods it was checked on
    destination: str
    protocol: Protocol
    port: int
    direction: PolicyType | None = None
    policy: str = ""
    change: str = ""  # how the policy changed: added, removed, modified, unchanged
    rule: str = ""
    peer: int | None = None
    port_entry: int | None = None
    reasons: tuple[str, ...] = ()
    version: str = "new"
    origin: Origin = UNKNOWN_ORIGIN
    path: str = ""
    tier: str = ""  # a cluster-wide policy's rule: "Admin" or "Baseline"
    ports_field: str = ""  # its port entries' field: "ports" or "protocols"

    @property
    def key(self) -> tuple[object, ...]:
        """What makes two causes the same reason (the port checked aside)."""
        return (self.effect, self.what, self.direction, self.policy, self.rule, self.peer,
                self.port_entry, self.source if not self.policy else "")


def _side(verdict: Verdict, direction: PolicyType) -> DirectionVerdict:
    return verdict.egress if direction is PolicyType.EGRESS else verdict.ingress


class Attributor:
    """Explains the changes of one comparison; keeps the policies of each side by name."""

    def __init__(self, comparison: Comparison) -> None:
        self.cmp = comparison
        self.old_policies = _origins(comparison.old)
        self.new_policies = _origins(comparison.new)

    def explain(self, change: PairChange) -> tuple[Cause, ...]:
        a, b = self.cmp.representatives(change)
        new_pods = (self.cmp.new.pods[a], self.cmp.new.pods[b])
        old_pods = (self.cmp.old_pod(a), self.cmp.old_pod(b))
        causes: list[Cause] = []
        for effect, spans in (("gained", change.gained), ("lost", change.lost)):
            for protocol, port in _ports(spans, new_pods[1]):
                if change.pods is not None:
                    causes.append(self._node_traffic(effect, new_pods, protocol, port))
                    continue
                before = _evaluate(self.cmp.old, old_pods, protocol, port)
                after = _evaluate(self.cmp.new, new_pods, protocol, port)
                causes.extend(self._policy_causes(effect, before, after))
                causes.extend(self._endpoint_causes(effect, (a, b), protocol, port))
        unique: dict[tuple[object, ...], Cause] = {}
        for cause in causes:
            unique.setdefault(cause.key, cause)
        return tuple(unique.values())

    # --- policies ---------------------------------------------------------------------------

    def _locate(self, key: str, prefer_new: bool, path: str) -> tuple[str, Origin, str]:
        """Where to look at a policy: the new file when it still exists there (and
        ``prefer_new``), else the old one."""
        new = self.new_policies.get(key)
        old = self.old_policies.get(key)
        if new is not None and (prefer_new or old is None):
            return "new", new, path
        if old is not None:
            return "old", old, path
        return "new", UNKNOWN_ORIGIN, path  # pragma: no cover - a verdict names known policies

    def _policy_causes(self, effect: str, before: Verdict, after: Verdict) -> list[Cause]:
        traffic = after.traffic
        names = (traffic.source.name, traffic.destination.name)

        def cause(what: str, **fields: Any) -> Cause:
            return Cause(effect, what, *names, traffic.protocol, traffic.port, **fields)

        changes = self.cmp.policies

        def tiered(what: str, m: ClusterRuleMatch, prefer_new: bool) -> Cause:
            version, origin, path = self._locate(m.policy, prefer_new, f"spec.{m.path}")
            return cause(what, direction=m.direction, policy=m.policy,
                         change=changes.change_of(m.policy), rule=m.path, peer=m.peer,
                         port_entry=m.port, version=version, origin=origin, path=path,
                         tier=m.tier, ports_field=m.ports_field)

        out: list[Cause] = []
        for direction in (PolicyType.EGRESS, PolicyType.INGRESS):
            old, new = _side(before, direction), _side(after, direction)
            if old.allowed != new.allowed and new.decided_by is not None:
                # A cluster-wide rule decides the side now: it is the reason.
                out.append(tiered(ALLOWS if new.allowed else DENIES, new.decided_by, True))
                continue
            if old.allowed != new.allowed and old.decided_by is not None:
                out.append(tiered(NO_LONGER_ALLOWS if old.allowed else NO_LONGER_DENIES,
                                  old.decided_by, True))
            if effect == "gained" and not old.allowed and new.allowed:
                if new.isolated:
                    for m in new.allowed_by:
                        entry = "" if m.peer is None else f".{_peers(direction)}[{m.peer}]"
                        version, origin, path = self._locate(m.policy, True,
                                                             f"spec.{m.path}{entry}")
                        out.append(cause(ALLOWS, direction=direction,
                                         policy=m.policy, change=changes.change_of(m.policy),
                                         rule=m.path, peer=m.peer, port_entry=m.port,
                                         version=version, origin=origin, path=path))
                else:
                    for key in old.policies:
                        version, origin, path = self._locate(key, True, "spec.podSelector")
                        out.append(cause(UNISOLATED, direction=direction,
                                         policy=key, change=changes.change_of(key),
                                         version=version, origin=origin,
                                         path=path if version == "new" else ""))
            elif effect == "lost" and old.allowed and not new.allowed:
                if old.isolated:
                    for m in old.allowed_by:
                        reasons = next((miss.reasons for miss in new.misses
                                        if miss.policy == m.policy and miss.path == m.path), ())
                        version, origin, path = self._locate(
                            m.policy, True, f"spec.{m.path}{_entry(reasons)}")
                        out.append(cause(NO_LONGER_ALLOWS, direction=direction,
                                         policy=m.policy, change=changes.change_of(m.policy),
                                         rule=m.path, peer=m.peer, port_entry=m.port,
                                         reasons=reasons[:MISS_REASONS], version=version,
                                         origin=origin, path=path if version == "new" else ""))
                else:
                    for key in new.policies:
                        reasons = tuple(r for miss in new.misses if miss.policy == key
                                        for r in (f"{miss.path}: {x}" for x in miss.reasons))
                        version, origin, path = self._locate(key, True, "spec.podSelector")
                        out.append(cause(ISOLATES, direction=direction,
                                         policy=key, change=changes.change_of(key),
                                         reasons=reasons[:MISS_REASONS], version=version,
                                         origin=origin, path=path))
        return out

    # --- endpoints --------------------------------------------------------------------------

    def _endpoint_causes(self, effect: str, pair: tuple[int, int], protocol: Protocol,
                         port: int) -> list[Cause]:
        names = [self.cmp.new.pods[i].key for i in pair]
        out = [Cause(effect, ENDPOINT, names[0], names[1], protocol, port,
                     reasons=(f"{self.cmp.new.pods[i].key} changed (labels, ports, addresses "
                              "or node)",), origin=self.cmp.new.pods[i].origin)
               for i in dict.fromkeys(pair) if i in self.cmp.changed_pods]
        if self.cmp.namespaces_differ():
            out.append(Cause(effect, NAMESPACE, names[0], names[1], protocol, port,
                             reasons=("namespace labels changed",)))
        return out

    def _node_traffic(self, effect: str, pods: tuple[Pod, Pod], protocol: Protocol,
                      port: int) -> Cause:
        src, dst = pods
        host = src if src.host_network else dst
        side = "now" if effect == "gained" else "no longer"
        return Cause(effect, NODE_TRAFFIC, src.key, dst.key, protocol, port,
                     reasons=(f"{host.key} is {side} a host-network pod on the node of the "
                              "other: node traffic, always allowed",), origin=host.origin)


def _origins(engine: Engine) -> dict[str, Origin]:
    """Where each policy, NetworkPolicy or cluster-wide, was read from, by its key."""
    out = {p.key: p.origin for p in engine.policies}
    out.update((p.key, p.origin) for p in engine.cluster_policies)
    return out


def _peers(direction: PolicyType) -> str:
    return "from" if direction is PolicyType.INGRESS else "to"


def _entry(reasons: tuple[str, ...]) -> str:
    """``.ports[0]`` when the first reason a rule misses is about that entry."""
    head = reasons[0].split(":", 1)[0] if reasons else ""
    return f".{head}" if head.endswith("]") and " " not in head else ""


def _ports(spans: Spans, destination: Pod) -> list[tuple[Protocol, int]]:
    """A port of each of the first few ranges of a port set: one the destination declares
    if there is one (what its clients use), else the range's first."""
    out: list[tuple[Protocol, int]] = []
    for span in spans[:PORTS_CHECKED]:
        protocol, first, last = span_protocol(span), span[1], span[2]
        declared = sorted(p.container_port for p in destination.container_ports()
                          if p.protocol == protocol.value and first <= p.container_port <= last)
        out.append((protocol, declared[0] if declared else first))
    return out


def _evaluate(engine: Engine, pods: tuple[Pod, Pod], protocol: Protocol, port: int) -> Verdict:
    return engine.evaluate(Traffic(Endpoint(pods[0]), Endpoint(pods[1]), protocol, port))

