"""The matrix's rows, for the checks that must prove something about connectivity.

For one *type* (a set of isolating policies, as the matrix numbers them) and one
direction, every peer the type's rules can meet is a row of bits: bit j set when rule j's
peers match it. Peers are the classes of the input (once per address family their
connections can use) and the addresses that are no pod's (one row per region of the
ipBlock boundaries that holds such an address). What a type allows a peer is the union of
the port sets of the row's rules; checks compare such unions with and without a rule or a
policy. Rows come from ``PairSets`` (the matrix machinery), never from pairs of pods.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from stockade.engine.classes import pod_addresses
from stockade.engine.engine import EGRESS, INGRESS
from stockade.engine.matrix import AnyRule, Layers, PairSets, Spans, TierPair, set_bits
from stockade.engine.tiers import CompiledClusterRule
from stockade.lint.context import LintContext
from stockade.model.types import PolicyType

Keys = npt.NDArray[np.uint64]
# The named-port signature of an address that is no pod's (no named ports): minus its
# family, so that rows of the two families stay apart.
def external(family: int) -> int:
    return -family


@dataclass(frozen=True, slots=True)
class TypeRows:
    """The distinct peer rows of one type: ``masks[r]`` with the named-port signature
    ``signatures[r]`` of the peer when it is the destination (egress; ``external(family)``
    for addresses outside the pods), and the port sets of the rules per signature."""

    direction: PolicyType
    type_index: int
    layers: Layers  # the type's rules by tier; ``rules`` in the order masks number them
    rules: tuple[AnyRule, ...]
    subjects: npt.NDArray[np.int64]  # the classes of this type
    masks: Keys
    signatures: npt.NDArray[np.int64]
    spans: dict[int, list[Spans]]
    # The tiers' first matches per (port sets, cluster rules matching): checks ask about
    # one row many times with NetworkPolicy rules removed, which leaves the tiers as they are.
    _tiers: dict[tuple[int, tuple[int, ...]],
                 tuple[Sequence[Spans], tuple[TierPair, TierPair]]] = field(
        default_factory=dict, compare=False, repr=False)

    def rows(self) -> Iterator[tuple[Keys, list[Spans]]]:
        for mask, sig in zip(self.masks, self.signatures, strict=True):
            yield mask, self.spans[int(sig)]

    def allowed(self, mask: Keys, spans: Sequence[Spans], *,
                isolated: bool | None = None) -> Spans:
        """What the side allows a peer whose matching rules are ``mask``: the tiers in
        order (``isolated``: as if NetworkPolicy did, or did not, isolate the side)."""
        return self.allowed_at(set_bits(mask), spans, isolated=isolated)

    def allowed_at(self, on: Sequence[int], spans: Sequence[Spans], *,
                   isolated: bool | None = None) -> Spans:
        """``allowed`` for the rules at positions ``on`` (ascending). The tiers' part is
        cached by the identity of ``spans`` (kept with the entry)."""
        layers = self.layers
        if isolated is not None and isolated != layers.isolated:
            layers = Layers(layers.admin, layers.networkpolicy, isolated, layers.baseline)
        if not layers.tiered:
            return PairSets.side_set_at(layers, on, spans)
        return PairSets.side_set_at(layers, on, spans, pairs=self.tier_pairs_at(on, spans))

    def tier_pairs_at(self, on: Sequence[int],
                      spans: Sequence[Spans]) -> tuple[TierPair, TierPair]:
        """The Admin and Baseline tiers' first-match (accepted, decided) ports for a peer
        matching the rules at positions ``on``, cached by the cluster rules among them and
        the identity of ``spans`` (kept with the entry)."""
        first = len(self.layers.admin)
        last = first + len(self.layers.networkpolicy)
        cluster = tuple(j for j in on if not first <= j < last)
        key = (id(spans), cluster)
        found = self._tiers.get(key)
        if found is None or found[0] is not spans:
            found = self._tiers[key] = (spans, PairSets.tier_pairs(self.layers, cluster, spans))
        return found[1]

    @property
    def networkpolicy(self) -> range:
        """The positions of the NetworkPolicy rules among ``rules``."""
        first = len(self.layers.admin)
        return range(first, first + len(self.layers.networkpolicy))


class Rows:
    """Builds ``TypeRows`` for the types of one engine (cached per rule and family)."""

    def __init__(self, ctx: LintContext) -> None:
        self.ctx = ctx
        self.keys: PairSets = ctx.pair_sets
        engine = ctx.engine
        self.classes = engine.classes
        self.sizes = np.array([len(c.members) for c in self.classes], dtype=np.int64)
        self.host = np.array([c.host_network for c in self.classes], dtype=np.bool_)
        # The one node all members of a class run on ("" when none or several).
        self.node = [self._one_node(c.members) for c in self.classes]
        self._regions = self._external_regions()
        self._region_bits: dict[tuple[int, int], npt.NDArray[np.bool_]] = {}
        self._families: dict[tuple[PolicyType, tuple[int, ...]], npt.NDArray[np.int64]] = {}
        self._span_cache: dict[tuple[int, int], Spans] = {}
        self._rows: dict[tuple[PolicyType, int], TypeRows] = {}

    def _one_node(self, members: Sequence[int]) -> str:
        nodes = {self.ctx.engine.pods[m].spec.node_name for m in members}
        return next(iter(nodes)) if len(nodes) == 1 else ""

    # --- addresses that are no pod's ------------------------------------------------------

    def _external_regions(self) -> dict[int, npt.NDArray[np.int64]]:
        """Per family, the raw regions holding at least one address that is no pod's."""
        regions = self.ctx.engine.regions
        taken: dict[tuple[int, int], set[int]] = {}
        for pod in self.ctx.engine.pods:
            for addr in pod_addresses(pod):
                taken.setdefault((addr.version, regions.region(addr)), set()).add(int(addr))
        out: dict[int, npt.NDArray[np.int64]] = {}
        for family in (4, 6):
            keep = [r for r, (lo, hi) in enumerate(regions.bounds(family))
                    if hi - lo > len(taken.get((family, r), ()))]
            out[family] = np.array(keep, dtype=np.int64)
        return out

    def rule_regions(self, rule: AnyRule, family: int) -> npt.NDArray[np.bool_]:
        """Which external regions of a family the rule's peers match."""
        key = (id(rule), family)
        found = self._region_bits.get(key)
        if found is not None:
            return found
        regions = self.ctx.engine.regions
        size = len(regions.bounds(family))
        inside = np.zeros(size, dtype=np.bool_)
        if isinstance(rule, CompiledClusterRule):
            if rule.all_peers:
                inside[:] = True
            for cluster_peer in rule.peers:
                for net in cluster_peer.networks:
                    if net.version == family:
                        first, last = regions.span(net)
                        inside[first:last] = True
                for addr in cluster_peer.node_addresses:
                    if addr.version == family:
                        inside[regions.region(addr)] = True
            found = inside[self._regions[family]]
            self._region_bits[key] = found
            return found
        if rule.any_peer:
            inside[:] = True
        for peer in rule.peers:
            block = peer.block
            if block is None or block.network.version != family:
                continue
            member = np.zeros(size, dtype=np.bool_)
            first, last = regions.span(block.network)
            member[first:last] = True
            for ex in block.excepts:
                if ex.version == family:
                    lo, hi = regions.span(ex)
                    member[lo:hi] = False
            inside |= member
        found = inside[self._regions[family]]
        self._region_bits[key] = found
        return found

    def _external_masks(self, rules: Sequence[AnyRule], family: int, words: int) -> Keys:
        count = len(self._regions[family])
        out = np.zeros((count, words), dtype=np.uint64)
        for j, rule in enumerate(rules):
            if _reaches_outside(rule):
                hit = self.rule_regions(rule, family).astype(np.uint64)
                out[:, j // 64] |= hit << np.uint64(j % 64)
        if count:
            first, _ = PairSets.distinct_rows(out)
            out = out[np.sort(first)]
        return out

    # --- pairs that policies cannot change ------------------------------------------------

    def _real_peers(self, subjects: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
        """Peer classes that form at least one pair with the subjects whose verdict the
        policies decide: not a pod with itself, not node traffic (a host-network pod and a
        pod of its node)."""
        valid = np.ones(len(self.classes), dtype=np.bool_)
        if len(subjects) == 1 and self.sizes[subjects[0]] == 1:
            valid[subjects[0]] = False  # only the pod itself
        nodes = {self.node[int(d)] for d in subjects}
        if len(nodes) == 1 and "" not in nodes:
            node = next(iter(nodes))
            for c in np.flatnonzero(self.host):
                if self.node[int(c)] == node:
                    valid[c] = False
        return valid

    # --- rows of a type -------------------------------------------------------------------

    def _family_row(self, direction: PolicyType, profile: tuple[int, ...],
                    d: int) -> npt.NDArray[np.int64]:
        """The family of every pair between subject class ``d`` and each peer class (the
        same for every subject of ``d``'s profile)."""
        everyone = np.arange(len(self.classes))
        found = self._families.get((direction, profile))
        if found is None:
            found = (self.keys.families(everyone, d) if direction is INGRESS
                     else self.keys.families(d, everyone))
            self._families[direction, profile] = found
        return found

    def _spans(self, rule: AnyRule, signature: int) -> Spans:
        """A rule's ports towards destinations of a named-port signature (or outside)."""
        key = (id(rule), signature)
        found = self._span_cache.get(key)
        if found is None:
            dst = None if signature < 0 else self.keys.named_rep[signature]
            found = self._span_cache[key] = self.keys.rule_spans(rule, dst)
        return found

    def type_rows(self, direction: PolicyType, t: int) -> TypeRows:
        """The distinct peer rows of type ``t`` (cached)."""
        found = self._rows.get((direction, t))
        if found is None:
            found = self._rows[direction, t] = self._type_rows(direction, t)
        return found

    def _type_rows(self, direction: PolicyType, t: int) -> TypeRows:
        keys = self.keys
        layers = self.layers(direction, t)
        rules = tuple(layers.rules)
        if direction is INGRESS:
            subjects = np.flatnonzero(keys.i_type == t)
        else:
            subjects = np.flatnonzero(keys.e_type == t)
        words = max(1, (len(rules) + 63) // 64)
        named = direction is EGRESS and bool(keys.e_named[t])
        valid = self._real_peers(subjects)
        parts: list[Keys] = []
        sigs: list[npt.NDArray[np.int64]] = []
        masks_by_variant: dict[int, Keys] = {}
        families: set[int] = set()
        profiles: dict[tuple[int, ...], int] = {}
        for d in subjects:
            # What decides the family of a pair on the subject's side: its families (as a
            # destination, ingress) or its primary and other family (as a source, egress).
            if direction is INGRESS:
                profile: tuple[int, ...] = (int(keys.has[4][d]), int(keys.has[6][d]),
                                            int(keys.primary[d]))
            else:
                profile = (int(keys.primary[d]), int(keys.secondary[d]))
            profiles.setdefault(profile, int(d))
        # Only rows where some rule matches differ; one row without any stands for the rest.
        empty = False
        for profile, rep in profiles.items():
            fam = self._family_row(direction, profile, rep)
            if direction is INGRESS:
                fams = {f for f, has in zip((4, 6), profile[:2], strict=True) if has} or {4, 6}
            else:
                fams = {f for f in profile if f} or {4, 6}
            families |= fams
            for variant in np.unique(fam[valid]):
                v = int(variant)
                masks = masks_by_variant.get(v)
                if masks is None:
                    masks = masks_by_variant[v] = keys.rule_masks(rules, v)
                pick = valid & (fam == v)
                hit = pick & masks.any(axis=1)
                empty = empty or bool((pick & ~hit).any())
                parts.append(masks[hit])
                sigs.append(keys.named[hit] if named else np.zeros(int(hit.sum()), np.int64))
        if empty:
            parts.append(np.zeros((1, words), dtype=np.uint64))
            sigs.append(np.zeros(1, dtype=np.int64))
        for family in sorted(families):
            ext = self._external_masks(rules, family, words)
            parts.append(ext)
            sigs.append(np.full(len(ext), external(family) if direction is EGRESS else 0,
                                np.int64))
        masks = np.concatenate(parts) if parts else np.zeros((0, words), np.uint64)
        signatures = np.concatenate(sigs) if sigs else np.zeros(0, np.int64)
        if len(masks):
            rows = np.concatenate([masks, signatures.astype(np.uint64)[:, None]], axis=1)
            first, _ = PairSets.distinct_rows(rows)
            first = np.sort(first)
            masks, signatures = masks[first], signatures[first]
        spans: dict[int, list[Spans]] = {}
        for sig in np.unique(signatures):
            s = int(sig)
            if direction is INGRESS:
                spans[s] = list(keys.i_spans[t])
            else:
                spans[s] = [self._spans(r, s) for r in rules]
        return TypeRows(direction, t, layers, rules, subjects, masks, signatures, spans)

    def layers(self, direction: PolicyType, t: int) -> Layers:
        return (self.keys.i_layers if direction is INGRESS else self.keys.e_layers)[t]

    def types(self, direction: PolicyType) -> list[int]:
        """The numbers of the types that NetworkPolicy isolates (whatever cluster-wide
        policies add to them; 0, not isolated, is left out)."""
        count = len(self.keys.i_layers if direction is INGRESS else self.keys.e_layers)
        return [t for t in range(1, count) if self.layers(direction, t).isolated]

    def restricted_types(self, direction: PolicyType) -> list[int]:
        """The numbers of the types some rule applies to: isolated by NetworkPolicy, or
        selected by a cluster-wide policy with rules in this direction."""
        count = len(self.keys.i_layers if direction is INGRESS else self.keys.e_layers)
        return [t for t in range(1, count) if not self.layers(direction, t).trivial]


def _reaches_outside(rule: AnyRule) -> bool:
    """Whether a rule's peers can match addresses that are no pod's."""
    if isinstance(rule, CompiledClusterRule):
        return rule.all_peers or any(p.networks or p.node_addresses for p in rule.peers)
    return rule.any_peer or any(p.block is not None for p in rule.peers)


bits = set_bits  # the positions of the set bits of a row

