"""One node's ruleset, kept in step with ``NodeRules`` by small atomic transactions. Pure.

The table is the one ``compile_ruleset`` builds for the node's pods (its own functions build
every set, chain and element here): the egress side of the pods on the node, the ingress
side of the pods on the node, peers anywhere matched by address. What this adds is memory
of what is loaded — which group (chain) each pod of the node is in, and each group's sets as
runs of addresses with equal ports (``Runs``) — so that a change costs what it changes:

- a pod of the node that comes, goes, changes address or moves to another group: its
  verdict-map elements (a group no pod holds any more goes, a new one comes whole);
- a pod anywhere whose address, named ports or peer membership changed: in every group,
  the elements at its old and new addresses, worked out for those addresses alone;
- a policy change: the groups of the pods whose rules it changed, built anew;
- the node's own addresses: the own-node pairs.

A group that cluster-wide policies have a say in jumps to a shared Admin stage and/or goes
to a shared Baseline stage (``shared_stage``): one chain and one verdict map per family for
each distinct (direction, tier, rule stack), whatever number of groups use it, kept as runs
the same way and counted by its users. A pod whose stack changes goes to a group of another
stage (made when new; the old one goes with its last user); a pod anywhere that changes is worked
out for its addresses alone once per stage, not once per group, and only the map elements
that differ are loaded (a stage's chain is rewritten when a family's map comes or goes).

``update`` returns one ``Transaction``; ``table`` is the whole table as compiled now, for a
first load or a repair (the same content a fresh ``NodeTable`` would build).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from stockade.engine.node_rules import DIRECTIONS, NodeRules, RuleRef, Stack, Touched
from stockade.model.netparse import IPAddress, IPNetwork
from stockade.model.types import PolicyType, Protocol, Tier
from stockade.nft.compile import (
    FAMILIES,
    Member,
    Pieces,
    Ports,
    Stage,
    address_text,
    forward_chain,
    group_chain,
    group_comment,
    group_set,
    group_strips,
    ingress_check_chain,
    own_node_pairs,
    own_node_rule,
    own_node_set,
    point_pieces,
    point_ports,
    shared_stage,
    stage_chain,
    stage_comment,
    stage_set,
    strip_elements,
    tier_strip_elements,
    tier_strips,
    vmap_element,
    vmap_rule,
    vmap_set,
)
from stockade.nft.intervals import Runs
from stockade.nft.ir import Chain, NftSet, Table
from stockade.nft.names import DEFAULT_TABLE
from stockade.nft.render import render_replace
from stockade.nft.transaction import Transaction

_WORD = {PolicyType.EGRESS: "egress", PolicyType.INGRESS: "ingress"}
_ADDR = {4: "ipv4_addr", 6: "ipv6_addr"}
_IP = {4: "ip", 6: "ip6"}
# direction, NetworkPolicy rules (None: not isolated), Admin stack, Baseline stack
GroupKey = tuple[PolicyType, tuple[RuleRef, ...] | None, Stack, Stack]
StageKey = tuple[PolicyType, str, Stack]  # direction, "admin" or "baseline", its rules


@dataclass(slots=True)
class _Group:
    name: str
    direction: PolicyType
    refs: tuple[RuleRef, ...] | None
    admin: Stack = ()
    baseline: Stack = ()
    members: set[str] = field(default_factory=set)
    runs: dict[int, dict[Protocol, Runs[Ports]]] = field(default_factory=dict)
    count: int = 0  # elements in its sets
    # the shared stages it uses ("": none)
    admin_stage: str = ""
    baseline_stage: str = ""

    def families(self) -> list[int]:
        return [f for f in FAMILIES if any(len(r) for r in self.runs.get(f, {}).values())]

    def elements(self, family: int) -> tuple[str, ...]:
        return tuple(e for protocol, runs in self.runs.get(family, {}).items()
                     for strip in runs for e in strip_elements(strip, family, protocol))

    def chain(self, comment: str = "") -> Chain:
        return group_chain(self.name, self.direction, self.families(), comment,
                           isolated=self.refs is not None, admin=self.admin_stage,
                           baseline=self.baseline_stage)

    def stage_keys(self) -> list[StageKey]:
        """The shared stages it uses."""
        keys: list[StageKey] = []
        if self.admin_stage:
            keys.append((self.direction, "admin", self.admin))
        if self.baseline_stage:
            keys.append((self.direction, "baseline", self.baseline))
        return keys


@dataclass(slots=True)
class _Stage:
    """A tier stage shared by the groups (``users``) whose tier has the rules ``stack``."""

    stage: Stage
    stack: Stack
    users: set[GroupKey] = field(default_factory=set)
    runs: dict[int, dict[Protocol, Runs[Pieces]]] = field(default_factory=dict)
    count: int = 0  # elements in its maps

    def families(self) -> list[int]:
        return [f for f in FAMILIES if any(len(r) for r in self.runs.get(f, {}).values())]

    def elements(self, family: int) -> tuple[str, ...]:
        return tuple(e for protocol, runs in self.runs.get(family, {}).items()
                     for strip in runs for e in tier_strip_elements(strip, family, protocol))

    def sets(self) -> list[NftSet]:
        return [stage_set(self.stage, f, self.elements(f)) for f in self.families()]

    def chain(self, comment: str = "") -> Chain:
        return stage_chain(self.stage, self.families(), comment)


@dataclass(frozen=True, slots=True)
class Sizes:
    """How big the loaded ruleset is."""

    rules: int
    elements: int
    groups: int


def _same(a: Member | None, b: Member | None) -> bool:
    """Whether two states of a pod put the same addresses in the maps."""
    return (a is None and b is None) or (a is not None and b is not None and a.ips == b.ips)


def _member(rules: NodeRules, key: str) -> Member | None:
    pod = rules.pods.get(key)
    addresses = rules.addresses(key)
    if pod is None or not addresses:
        return None
    return Member(pod, addresses)


class NodeTable:
    """The loaded table of one node and how to change it. ``hold`` lists the node's pod
    networks whose unknown addresses are dropped (``--hold-unknown``)."""

    def __init__(self, node: str, *, table: str = DEFAULT_TABLE,
                 hold: Sequence[IPNetwork] = ()) -> None:
        self.node = node
        self.name = table
        self.hold = tuple(hold)
        self._reset()

    def _reset(self) -> None:
        self._members: dict[str, Member] = {}
        self._groups: dict[GroupKey, _Group] = {}
        self._stages: dict[StageKey, _Stage] = {}
        self._made_stages: set[StageKey] = set()  # in the update under way
        self._of: dict[str, dict[PolicyType, GroupKey | None]] = {}  # local pod -> its groups
        # direction -> family -> address -> (the local pod holding it, its group's chain)
        self._vmap: dict[PolicyType, dict[int, dict[int, tuple[str, str]]]] = {
            d: {f: {} for f in FAMILIES} for d in DIRECTIONS}
        self._own: dict[int, set[str]] = {f: set() for f in FAMILIES}
        self._known: dict[int, set[int]] = {f: set() for f in FAMILIES}
        self._numbers = itertools.count()
        self._forward = self._forward_chain()
        self._ingress_check = self._ingress_check_chain()

    # --- the whole table ---------------------------------------------------------------------

    def load(self, rules: NodeRules) -> Transaction:
        """Forget everything and build the table for ``rules``: a whole-table replacement."""
        self._reset()
        self._members = {k: m for k in rules.pods if (m := _member(rules, k)) is not None}
        for key in sorted(rules.local):
            self._place(rules, key, None)
        self._own_node(rules, None)
        self._hold_known(rules, None)
        self._forward = self._forward_chain()
        self._ingress_check = self._ingress_check_chain()
        transaction = Transaction(self.name)
        table = self.table()
        transaction.replace = render_replace(table)
        transaction.added = table.element_count
        return transaction

    def table(self) -> Table:
        sets: list[NftSet] = []
        chains: list[Chain] = [self._forward, self._ingress_check]
        sets += self._own_sets()
        sets += self._hold_sets()
        for direction in (PolicyType.EGRESS, PolicyType.INGRESS):
            for group in self._groups.values():
                if group.direction is direction:
                    sets += [group_set(group.name, f, group.elements(f))
                             for f in group.families()]
                    chains.append(group.chain(self._comment(group)))
            for stage in self._stages.values():
                if stage.stage.direction is direction:
                    sets += stage.sets()
                    chains.append(stage.chain(self._stage_comment(stage)))
            for family in FAMILIES:
                sets += [s for s in (self._vmap_set(direction, family),) if s is not None]
        return Table(self.name, "inet", tuple(sets), tuple(chains))

    def sizes(self) -> Sizes:
        """Kept count by count: no need to print the table."""
        groups = self._groups.values()
        rules = len(self._forward.rules) + len(self._ingress_check.rules)
        rules += sum(len(g.chain().rules) for g in groups)
        rules += sum(len(st.chain().rules) for st in self._stages.values())
        elements = sum(g.count for g in groups) + sum(st.count for st in self._stages.values())
        elements += sum(len(v) for d in self._vmap.values() for v in d.values())
        elements += sum(len(v) for v in self._own.values())
        elements += sum(len(v) for v in self._known.values()) + len(self.hold)
        return Sizes(rules, elements, len(self._groups))

    def group_of(self, key: str, direction: PolicyType) -> str | None:
        """The chain enforcing ``direction`` for local pod ``key`` (``None``: open)."""
        found = self._of.get(key, {}).get(direction)
        return None if found is None else self._groups[found].name

    # --- incremental ----------------------------------------------------------------------

    def update(self, rules: NodeRules, touched: Touched) -> Transaction:
        """The transaction that brings the loaded table to what ``rules`` say now, given
        what changed since the last ``load`` or ``update``."""
        tx = Transaction(self.name)
        before = {k: self._members.get(k) for k in touched.peers | touched.subjects}
        for key in before:
            member = _member(rules, key)
            if member is None:
                self._members.pop(key, None)
            else:
                self._members[key] = member
        fresh: set[GroupKey] = set()
        self._made_stages = set()
        maps = {d: {f: dict(self._vmap[d][f]) for f in FAMILIES} for d in DIRECTIONS}
        for key in sorted(touched.subjects):
            fresh |= self._place(rules, key, tx, before.get(key))
        self._maps_changed(maps, tx)
        points: set[IPAddress] = set()
        for key in touched.peers:
            for member in (before.get(key), self._members.get(key)):
                if member is not None:
                    points.update(member.ips)
        for group_key, group in list(self._groups.items()):
            if group_key not in fresh and group.refs is not None:
                self._points(rules, group, points, tx)
        for stage_key, stage in self._stages.items():
            if stage_key not in self._made_stages:
                self._stage_points(rules, stage, points, tx)
        # Also when only a peer changed: a node address that becomes a pod's is the pod's.
        self._own_node(rules, tx)
        if touched.subjects and self.hold:
            self._hold_known(rules, tx)
        forward = self._forward_chain()
        if forward != self._forward:
            tx.rewrite_chain(forward)
            self._forward = forward
        check = self._ingress_check_chain()
        if check != self._ingress_check:
            tx.rewrite_chain(check)
            self._ingress_check = check
        return tx

    # --- groups and verdict maps -------------------------------------------------------------

    def _place(self, rules: NodeRules, key: str, tx: Transaction | None,
               before: Member | None = None) -> set[GroupKey]:
        """Put local pod ``key`` (or take it out) of the groups its rules call for; the
        groups made for it."""
        made: set[GroupKey] = set()
        old_of = self._of.pop(key, {})
        local = key in rules.local
        member = self._members.get(key) if local else None
        if local:
            self._of[key] = {}
        for direction in DIRECTIONS:
            old_key = old_of.get(direction)
            refs = rules.rules(key, direction) if local else None
            admin = rules.stack(key, Tier.ADMIN, direction) if local else ()
            baseline = rules.stack(key, Tier.BASELINE, direction) if local else ()
            new_key: GroupKey | None = None
            if refs is not None or admin or baseline:
                new_key = (direction, refs, admin, baseline)
            if local:
                self._of[key][direction] = new_key
            if old_key == new_key and _same(before, member):
                continue
            if old_key is not None:
                self._unmap(direction, key, before)
                self._groups[old_key].members.discard(key)
            if new_key is not None:
                # Made before the old group goes: a shared stage both use stays.
                if new_key not in self._groups:
                    self._groups[new_key] = self._build(rules, new_key, tx)
                    made.add(new_key)
                group = self._groups[new_key]
                group.members.add(key)
                self._map(direction, key, member, group.name)
            if old_key is not None and old_key != new_key and not self._groups[old_key].members:
                self._drop(old_key, tx)
        return made

    def _build(self, rules: NodeRules, group_key: GroupKey, tx: Transaction | None) -> _Group:
        """The group ``group_key`` calls for, and the shared stages it uses."""
        direction, refs, admin, baseline = group_key
        group = _Group(f"{_WORD[direction]}_{next(self._numbers)}", direction, refs, admin,
                       baseline)
        if refs is not None:
            resolved = [rules.resolved(r) for r in refs]
            for family in FAMILIES:
                strips = group_strips(resolved, family, self._members)
                group.runs[family] = {p: Runs(found) for p, found in strips.items()}
                group.count += sum(len(ports) for found in strips.values()
                                   for _, ports in found)
            if tx is not None:
                for family in group.families():
                    tx.add_set(group_set(group.name, family, group.elements(family)))
        if admin:
            group.admin_stage = self._use(rules, (direction, "admin", admin), group_key, tx)
        if baseline and refs is None:  # the Baseline tier never sees an isolated side
            group.baseline_stage = self._use(rules, (direction, "baseline", baseline),
                                             group_key, tx)
        if tx is not None:
            tx.add_chain(group.chain())
        return group

    def _drop(self, group_key: GroupKey, tx: Transaction | None) -> None:
        group = self._groups.pop(group_key)
        if tx is not None:
            tx.delete_chain(group.name)
            for family in group.families():
                tx.delete_set(group_set(group.name, family, ()))
        for stage_key in group.stage_keys():
            self._release(stage_key, group_key, tx)

    # --- shared tier stages -----------------------------------------------------------------

    def _use(self, rules: NodeRules, stage_key: StageKey, user: GroupKey,
             tx: Transaction | None) -> str:
        """The chain of the shared stage ``stage_key`` (made if new), now used by ``user``."""
        found = self._stages.get(stage_key)
        if found is None:
            direction, kind, stack = stage_key
            found = _Stage(shared_stage(direction, kind, next(self._numbers)), stack)
            resolved = [rules.resolved_cluster(r) for r in stack]
            for family in FAMILIES:
                strips = tier_strips(resolved, family, self._members, found.stage.verdicts)
                found.runs[family] = {p: Runs(got) for p, got in strips.items()}
                found.count += sum(len(pieces) for got in strips.values()
                                   for _, pieces in got)
            if tx is not None:
                for nft_set in found.sets():
                    tx.add_set(nft_set)
                tx.add_chain(found.chain())
            self._stages[stage_key] = found
            self._made_stages.add(stage_key)
        found.users.add(user)
        return found.stage.chain

    def _release(self, stage_key: StageKey, user: GroupKey, tx: Transaction | None) -> None:
        """``user`` no longer uses the shared stage ``stage_key``: it goes with its last."""
        found = self._stages[stage_key]
        found.users.discard(user)
        if found.users:
            return
        del self._stages[stage_key]
        self._made_stages.discard(stage_key)
        if tx is not None:
            tx.delete_chain(found.stage.chain)
            for nft_set in found.sets():
                tx.delete_set(nft_set)

    def _stage_points(self, rules: NodeRules, found: _Stage, points: Iterable[IPAddress],
                      tx: Transaction) -> None:
        """Work out a shared stage's verdicts towards each of ``points`` again."""
        stage = found.stage
        had = found.families()
        changed: dict[int, tuple[list[str], list[str]]] = {}
        for address in points:
            family, owner, members = self._at(rules, address)
            resolved = [rules.resolved_cluster(r, only=owner) for r in found.stack]
            value = int(address)
            runs = found.runs.setdefault(family, {})
            for protocol, new in point_pieces(resolved, family, members, stage.verdicts,
                                              value).items():
                strips = runs.setdefault(protocol, Runs())
                if strips.value_at(value) == new:
                    continue
                old_strips, new_strips = strips.set_point(value, new)
                out = [e for st in old_strips for e in tier_strip_elements(st, family, protocol)]
                into = [e for st in new_strips
                        for e in tier_strip_elements(st, family, protocol)]
                found.count += len(into) - len(out)
                gone, added = changed.setdefault(family, ([], []))
                gone += out
                added += into
        self._load_points(tx, changed, had, found.families(),
                          make=lambda f, e: stage_set(stage, f, e), elements=found.elements,
                          chain=found.chain)

    def _map(self, direction: PolicyType, key: str, member: Member | None,
             chain: str) -> None:
        """Send the packets of ``member``'s addresses to ``chain`` (taking an address over
        from a pod that held it before)."""
        if member is None:
            return
        for family in FAMILIES:
            for address in member.ips_of(family):
                self._vmap[direction][family][address] = (key, chain)

    def _unmap(self, direction: PolicyType, key: str, member: Member | None) -> None:
        """Forget ``member``'s addresses (those still ``key``'s) in ``direction``'s map."""
        if member is None:
            return
        for family in FAMILIES:
            vmap = self._vmap[direction][family]
            for address in member.ips_of(family):
                if address in vmap and vmap[address][0] == key:
                    del vmap[address]

    def _maps_changed(self, before: dict[PolicyType, dict[int, dict[int, tuple[str, str]]]],
                      tx: Transaction) -> None:
        for direction in DIRECTIONS:
            for family in FAMILIES:
                old, new = before[direction][family], self._vmap[direction][family]
                if old == new:
                    continue
                empty = vmap_set(direction, family, ())
                if not old:
                    tx.add_set(self._vmap_set(direction, family) or empty)
                    continue
                if not new:
                    tx.delete_set(empty)
                    continue
                gone = [vmap_element(a, family, c) for a, (_, c) in old.items()
                        if a not in new or new[a][1] != c]
                added = [vmap_element(a, family, c) for a, (_, c) in new.items()
                         if a not in old or old[a][1] != c]
                if gone:
                    tx.delete_elements(empty.name, gone, empty)
                if added:
                    tx.add_elements(empty.name, added)

    def _vmap_set(self, direction: PolicyType, family: int) -> NftSet | None:
        vmap = self._vmap[direction][family]
        if not vmap:
            return None
        return vmap_set(direction, family,
                        tuple(vmap_element(a, family, c) for a, (_, c) in vmap.items()))

    @staticmethod
    def _comment(group: _Group) -> str:
        return group_comment(sorted(group.members) or ["(none)"],
                             None if group.refs is None else (r.policy for r in group.refs))

    def _stage_comment(self, found: _Stage) -> str:
        pods = [k for g in found.users for k in self._groups[g].members]
        return stage_comment(found.stage, ((r.policy, r.domains) for r in found.stack),
                             len(found.users), pods)

    # --- point updates ----------------------------------------------------------------------

    def _points(self, rules: NodeRules, group: _Group, points: Iterable[IPAddress],
                tx: Transaction) -> None:
        """Work out what ``group`` allows towards each of ``points`` again."""
        had = group.families()
        changed: dict[int, tuple[list[str], list[str]]] = {}
        for address in points:
            family, owner, members = self._at(rules, address)
            resolved = [rules.resolved(r, only=owner) for r in group.refs or ()]
            value = int(address)
            ports = point_ports(resolved, family, members, value)
            runs = group.runs.setdefault(family, {})
            for protocol, allowed in ports.items():
                strips = runs.setdefault(protocol, Runs())
                if strips.value_at(value) == allowed:
                    continue
                old_strips, new_strips = strips.set_point(value, allowed)
                group.count += (sum(len(p) for _, p in new_strips)
                                - sum(len(p) for _, p in old_strips))
                out, into = changed.setdefault(family, ([], []))
                out += [e for s in old_strips for e in strip_elements(s, family, protocol)]
                into += [e for s in new_strips for e in strip_elements(s, family, protocol)]
        self._load_points(tx, changed, had, group.families(),
                          make=lambda f, e: group_set(group.name, f, e),
                          elements=group.elements, chain=group.chain)

    def _at(self, rules: NodeRules, address: IPAddress) -> tuple[int, str, dict[str, Member]]:
        """An address's family, the pod holding it (``""``: none) and that pod as the one
        member a point update needs."""
        owner = rules.owner(address)
        member = self._members.get(owner) if owner is not None else None
        members = {owner: member} if owner is not None and member is not None else {}
        return (4 if address.version == 4 else 6), owner or "", members

    @staticmethod
    def _load_points(tx: Transaction, changed: dict[int, tuple[list[str], list[str]]],
                     had: list[int], now: list[int], *,
                     make: Callable[[int, tuple[str, ...]], NftSet],
                     elements: Callable[[int], tuple[str, ...]],
                     chain: Callable[[], Chain]) -> None:
        """Load a set's or map's ``changed`` elements per family (removed, added): the
        whole set when its family appears, its removal when it goes, else the elements
        that differ; its chain (``chain``) again when its families changed."""
        for family, (removed, added) in changed.items():
            empty = make(family, ())
            if family not in had and family in now:
                tx.add_set(make(family, elements(family)))
                continue
            if family in had and family not in now:
                tx.delete_set(empty)
                continue
            same = set(removed) & set(added)
            gone = [e for e in removed if e not in same]
            fresh = [e for e in added if e not in same]
            if gone:
                tx.delete_elements(empty.name, gone, empty)
            if fresh:
                tx.add_elements(empty.name, fresh)
        if had != now:
            tx.rewrite_chain(chain())

    # --- own node, held addresses, the forward chain -----------------------------------------

    def _own_node(self, rules: NodeRules, tx: Transaction | None) -> None:
        pairs: dict[int, set[str]] = {f: set() for f in FAMILIES}
        for key in rules.local:
            member = self._members.get(key)
            if member is None:
                continue
            node = [a for a in sorted(rules.own_addresses(key), key=lambda a: (a.version, a))
                    if rules.owner(a) is None]
            restricted = {d: self._of.get(key, {}).get(d) is not None for d in DIRECTIONS}
            for family, pair in own_node_pairs(member, node,
                                               egress=restricted[PolicyType.EGRESS],
                                               ingress=restricted[PolicyType.INGRESS]):
                pairs[family].add(pair)
        for family in FAMILIES:
            self._diff_set(self._own[family], pairs[family],
                           own_node_set(family, tuple(sorted(pairs[family]))), tx)
            self._own[family] = pairs[family]

    def _own_sets(self) -> list[NftSet]:
        return [own_node_set(f, tuple(sorted(self._own[f]))) for f in FAMILIES if self._own[f]]

    def _hold_known(self, rules: NodeRules, tx: Transaction | None) -> None:
        """The addresses of the node's pods the agent knows, for ``hold``."""
        if not self.hold:
            return
        for family in FAMILIES:
            known = {a for k in rules.local if (m := self._members.get(k)) is not None
                     for a in m.ips_of(family)}
            old = {address_text(a, family) for a in self._known[family]}
            new = {address_text(a, family) for a in known}
            self._diff_set(old, new, NftSet(f"known_v{family}", _ADDR[family],
                                            tuple(sorted(new))), tx, keep=True)
            self._known[family] = known

    def _hold_sets(self) -> list[NftSet]:
        sets: list[NftSet] = []
        for family in FAMILIES:
            networks = [n for n in self.hold if n.version == family]
            if not networks:
                continue
            sets.append(NftSet(f"held_v{family}", _ADDR[family],
                               tuple(str(n) for n in networks), interval=True))
            known = sorted(self._known[family])
            sets.append(NftSet(f"known_v{family}", _ADDR[family],
                               tuple(address_text(a, family) for a in known)))
        return sets

    @staticmethod
    def _diff_set(old: set[str], new: set[str], nft_set: NftSet, tx: Transaction | None,
                  *, keep: bool = False) -> None:
        """Turn a small set's content from ``old`` into ``new`` (creating it when it appears
        and deleting it when it empties, unless ``keep``)."""
        if tx is None or old == new:
            return
        if not old and not keep:
            tx.add_set(nft_set)
            return
        if not new and not keep:
            tx.delete_set(nft_set)
            return
        gone, added = sorted(old - new), sorted(new - old)
        if gone:
            tx.delete_elements(nft_set.name, gone)
        if added:
            tx.add_elements(nft_set.name, added)

    def _forward_chain(self) -> Chain:
        own = [own_node_rule(f) for f in FAMILIES if self._own[f]]
        held: list[str] = []
        for family in FAMILIES:
            if any(n.version == family for n in self.hold):
                ip = _IP[family]
                held += [f"{ip} saddr @held_v{family} {ip} saddr != @known_v{family} drop",
                         f"{ip} daddr @held_v{family} {ip} daddr != @known_v{family} drop"]
        egress = [vmap_rule(PolicyType.EGRESS, f) for f in FAMILIES
                  if self._vmap[PolicyType.EGRESS][f]]
        return forward_chain(own, egress, held)

    def _ingress_check_chain(self) -> Chain:
        return ingress_check_chain([vmap_rule(PolicyType.INGRESS, f) for f in FAMILIES
                                    if self._vmap[PolicyType.INGRESS][f]])
