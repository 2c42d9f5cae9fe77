"""``egress-blocks-dns``: pods isolated for egress that cannot reach a DNS server.

A DNS server is a kube-dns pod (``k8s-app=kube-dns`` in ``kube-system``; a stand-in when
the input has none) or any address that is no pod's. A pod resolves names when some
server accepts its UDP 53 connections (and, for answers too large for UDP, TCP 53): both
sides of the connection to kube-dns, or its own egress rules towards addresses outside.
The answers come from the matrix's port sets (``PairSets``) and rows (``reach``).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import numpy.typing as npt

from stockade.engine.engine import EGRESS
from stockade.engine.matrix import ALL, Spans, _contains, _intersect, _merge
from stockade.engine.ports import PROTOCOLS
from stockade.lint.context import LintContext, is_dns_server, listing
from stockade.lint.findings import LintFinding
from stockade.model.types import Protocol

CHECK_IDS = frozenset({"egress-blocks-dns"})
UDP, TCP = PROTOCOLS.index(Protocol.UDP), PROTOCOLS.index(Protocol.TCP)


def run(ctx: LintContext, enabled: set[str]) -> Iterator[LintFinding]:
    if "egress-blocks-dns" not in enabled or not ctx.engine.classes:
        return
    engine = ctx.engine
    keys = ctx.pair_sets
    rows = ctx.rows
    sides = _Sides(ctx)
    servers = sorted({engine.pod_class[j] for j, pod in enumerate(engine.pods)
                      if is_dns_server(pod)})
    missing: dict[int, set[int]] = {}  # class -> protocols it cannot reach DNS on
    for t in rows.types(EGRESS):
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
    by_policy: dict[int, dict[int, set[int]]] = {}
    for c, lacking in missing.items():
        for p in engine.isolating[EGRESS][c]:
            by_policy.setdefault(p, {})[c] = lacking
    for p, classes in sorted(by_policy.items()):
        policy = ctx.policies[p]
        no_dns = ctx.members([c for c, lack in classes.items() if UDP in lack])
        no_tcp = ctx.members([c for c, lack in classes.items() if lack == {TCP}])
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
                     if rule.peer_classes(variant)[dst]]
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
