"""``egress-blocks-dns``: pods whose egress is restricted that cannot reach a DNS server.

A DNS server is a kube-dns pod (``k8s-app=kube-dns`` in ``kube-system``; a stand-in when
the input has none) or any address that is no pod's. A pod resolves names when some
server accepts its UDP 53 connections (and, for answers too large for UDP, TCP 53): both
sides of the connection to kube-dns, or its own egress rules towards addresses outside.
The answers come from the matrix's port sets (``PairSets``) and rows (``reach``), over
every pod some rule restricts (NetworkPolicy isolation or cluster-wide rules). The finding
goes to what denies the connections to kube-dns, as ``query`` explains them: the
NetworkPolicies isolating the pods for egress, or the cluster-wide rule that denies.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from stockade.engine.engine import EGRESS, INGRESS
from stockade.engine.explain import rule_path
from stockade.engine.matrix import ALL, Spans, _contains, _intersect, _merge
from stockade.engine.ports import PROTOCOLS
from stockade.engine.traffic import Endpoint, Traffic
from stockade.lint.context import LintContext, is_dns_server, listing
from stockade.lint.findings import LintFinding
from stockade.model.types import PolicyType, Protocol, Tier

CHECK_IDS = frozenset({"egress-blocks-dns"})
UDP, TCP = PROTOCOLS.index(Protocol.UDP), PROTOCOLS.index(Protocol.TCP)


def run(ctx: LintContext, enabled: set[str]) -> Iterator[LintFinding]:
    if "egress-blocks-dns" not in enabled or not ctx.engine.classes:
        return
    engine = ctx.engine
    keys = ctx.pair_sets
    rows = ctx.rows
    sides = _Sides(ctx)
    servers: dict[int, int] = {}  # class -> a DNS server of it
    for j, pod in enumerate(engine.pods):
        if is_dns_server(pod):
            servers.setdefault(engine.pod_class[j], j)
    missing: dict[int, set[int]] = {}  # class -> protocols it cannot reach DNS on
    for t in rows.restricted_types(EGRESS):
        subjects = np.flatnonzero(keys.e_type == t)
        tr = rows.type_rows(EGRESS, t)
        # Per family, the protocols some address outside the pods answers on.
        outside: dict[int, set[int]] = {4: set(), 6: set()}
        for mask, sig in zip(tr.masks, tr.signatures, strict=True):
            if int(sig) < 0:
                spans = tr.allowed(mask, tr.spans[int(sig)])
                outside[-int(sig)] |= {p for p in (UDP, TCP) if _contains(spans, p, 53)}
        for c in subjects.tolist():
            cls = engine.classes[c]
            families = [f for f in (cls.primary_family, cls.secondary_family) if f] or [4, 6]
            reached = set().union(*(outside[f] for f in families))
            lacking = {proto for proto in (UDP, TCP) if proto not in reached
                       and not any(sides.reaches(c, k, proto) for k in servers)}
            if lacking:
                missing[c] = lacking
    blame = _Blame(ctx, servers)
    by_cause: dict[Cause, dict[int, set[int]]] = {}
    for c, lacking in missing.items():
        for proto in lacking:
            for cause in blame.causes(c, proto):
                by_cause.setdefault(cause, {}).setdefault(c, set()).add(proto)
    for cause, classes in sorted(by_cause.items()):
        no_dns = ctx.members([c for c, lack in classes.items() if UDP in lack])
        no_tcp = ctx.members([c for c, lack in classes.items()
                              if lack == {TCP} and missing[c] == {TCP}])
        if cause.kind == "cluster":
            yield from _cluster_findings(ctx, cause, no_dns, no_tcp)
        else:
            yield from _np_findings(ctx, cause, no_dns, no_tcp)


@dataclass(frozen=True, order=True, slots=True)
class Cause:
    """What keeps pods from kube-dns: a NetworkPolicy isolating them for egress
    (``np``), one isolating kube-dns for ingress when the pods have none of their own
    (``np-server``), or a cluster-wide rule that denies (``cluster``: ``policy`` indexes
    the engine's cluster policies)."""

    kind: str
    policy: int
    direction: PolicyType = EGRESS
    rule: int = -1
    tier: str = ""
    priority: int | None = None


class _Blame:
    """Which policies deny a class's DNS connections to kube-dns, as ``query`` explains
    them (``Engine.evaluate`` on a pod of the class and a server of each class)."""

    def __init__(self, ctx: LintContext, servers: dict[int, int]) -> None:
        self.ctx = ctx
        self.servers = servers
        engine = ctx.engine
        self.cluster_index = {p.key: k for k, p in enumerate(engine.cluster_policies)}

    def causes(self, c: int, proto: int) -> set[Cause]:
        engine = self.ctx.engine
        own = engine.isolating[EGRESS][c]
        if engine.tiers.empty:  # only NetworkPolicies: those isolating the class
            return {Cause("np", p) for p in own}
        source = engine.pods[engine.classes[c].members[0]]
        found: set[Cause] = set()
        for k, j in self.servers.items():
            if k == c:
                continue
            verdict = engine.evaluate(Traffic(Endpoint(source), Endpoint(engine.pods[j]),
                                              PROTOCOLS[proto], 53))
            for side in (verdict.egress, verdict.ingress):
                if side.allowed:
                    continue
                decided = side.decided_by
                if decided is not None and not decided.accepts:
                    found.add(Cause("cluster", self.cluster_index[decided.policy],
                                    decided.direction, decided.rule, decided.tier,
                                    decided.priority))
                elif own:  # a NetworkPolicy tier that allows nothing of it
                    found |= {Cause("np", p) for p in own}
                else:
                    found |= {Cause("np-server", p)
                              for p in engine.isolating[INGRESS][engine.pod_class[j]]}
        return found


def _np_findings(ctx: LintContext, cause: Cause, no_dns: list[int],
                 no_tcp: list[int]) -> Iterator[LintFinding]:
    policy = ctx.policies[cause.policy]
    if cause.kind == "np-server":
        names = ctx.names(no_dns or no_tcp)
        what = "UDP 53" if no_dns else "TCP 53"
        yield ctx.finding(
            "egress-blocks-dns", policy, "spec.ingress" if policy.ingress else "spec.policyTypes",
            f"{listing(names)} cannot reach a DNS server on {what}: this policy isolates "
            "kube-dns for ingress without admitting them, and cluster-wide rules leave them "
            "no address outside the pods: name resolution fails",
            "allow ingress from them on UDP 53 and TCP 53", related=names)
        return
    path = "spec.egress" if policy.egress else "spec.policyTypes"
    if no_dns:
        names = ctx.names(no_dns)
        yield ctx.finding(
            "egress-blocks-dns", policy, path,
            f"{listing(names)} {'is' if len(names) == 1 else 'are'} isolated for egress "
            "and cannot reach a DNS server on UDP 53 (kube-dns in kube-system, or any "
            "address outside the pods): name resolution fails",
            "allow egress to namespaceSelector {kubernetes.io/metadata.name: kube-system} "
            "with podSelector {k8s-app: kube-dns} on UDP 53 and TCP 53", related=names)
    if no_tcp:
        names = ctx.names(no_tcp)
        yield ctx.finding(
            "egress-blocks-dns", policy, path,
            f"{listing(names)} may reach DNS on UDP 53 but not on TCP 53: answers too "
            "large for UDP are retried over TCP and fail",
            "allow TCP 53 wherever UDP 53 is allowed to the DNS servers", related=names)


def _cluster_findings(ctx: LintContext, cause: Cause, no_dns: list[int],
                      no_tcp: list[int]) -> Iterator[LintFinding]:
    policy = ctx.engine.cluster_policies[cause.policy]
    rule = policy.rules(cause.direction)[cause.rule]
    where = rule_path(cause.direction, cause.rule)
    named = f' "{rule.name}"' if rule.name else ""
    priority = "" if cause.priority is None else f", priority {cause.priority}"
    action = rule.action_text or rule.action.value
    desc = f"{where}{named} ({cause.tier} tier{priority}: {action})"
    ingress = cause.direction is INGRESS
    if ingress:
        hint = ("accept UDP and TCP 53 from these pods before this rule: in an earlier rule, "
                "or a policy of a lower priority number")
    elif cause.tier == Tier.BASELINE.value:
        hint = ("allow DNS in the pods' NetworkPolicies, or accept UDP and TCP 53 to "
                "kube-dns before this rule")
    else:
        hint = ("accept UDP and TCP 53 to kube-dns before this rule: in an earlier rule, or "
                "a policy of a lower priority number")
    for pods, proto in ((no_dns, "UDP"), (no_tcp, "TCP")):
        if not pods:
            continue
        names = ctx.names(pods)
        them = "it" if len(names) == 1 else "them"
        denies = (f"denies {proto} 53 from {them} into kube-dns" if ingress
                  else f"denies {them} {proto} 53 to kube-dns")
        if proto == "UDP":
            message = (f"{listing(names)} cannot reach a DNS server on UDP 53: {desc} "
                       f"{denies}, and no address outside the pods answers either: name "
                       "resolution fails")
        else:
            message = (f"{listing(names)} may reach DNS on UDP 53 but not on TCP 53: {desc} "
                       f"{denies}: answers too large for UDP are retried over TCP and fail")
        yield ctx.finding("egress-blocks-dns", policy, f"spec.{where}", message, hint,
                          related=names)


class _Sides:
    """Both sides of connections towards the DNS servers' classes, memoised."""

    def __init__(self, ctx: LintContext) -> None:
        self.keys = ctx.pair_sets
        self._egress: dict[tuple[int, int, int], Spans] = {}
        self._ingress: dict[tuple[int, int], npt.NDArray[np.int32]] = {}

    def egress(self, e_type: int, variant: int, dst: int) -> Spans:
        """What a source of egress type ``e_type`` may open to class ``dst``."""
        key = (e_type, variant, dst)
        found = self._egress.get(key)
        if found is None:
            layers = self.keys.e_layers[e_type]
            if layers.tiered:  # the tiers in order, as the matrix works them out
                found = self.keys.sets[int(self.keys.egress_ids(variant, e_type)[dst])]
                self._egress[key] = found
                return found
            parts = [self.keys.rule_spans(rule, dst) for rule in layers.networkpolicy
                     if dst in rule.peer_classes(variant)]
            found = self._egress[key] = _merge([s for p in parts for s in p]) if parts else ()
            if any(p is ALL for p in parts):
                found = self._egress[key] = ALL
        return found

    def reaches(self, src: int, dst: int, proto: int) -> bool:
        """Whether class ``src`` may open ``proto`` 53 to class ``dst`` (both sides)."""
        if src == dst:
            return True
        keys = self.keys
        variant = int(keys.families(src, dst))
        e_set = self.egress(int(keys.e_type[src]), variant, dst)
        row = self._ingress.get((variant, dst))
        if row is None:
            row = self._ingress[variant, dst] = keys.ingress_sets(variant, dst)
        i_set = keys.sets[int(row[src])]
        return _contains(_intersect(e_set, i_set), proto, 53)
