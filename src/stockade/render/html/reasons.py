"""Why each cell of the report is what it is: ``Engine.evaluate`` on the cell's two
representatives, for one port of each span of its connection set (or, for a denied pair,
a port the deciding rules name, so that the nearest miss shows), kept as ``query`` prints it.

A report of a few hundred groups has a hundred thousand cells whose explanations differ
mostly in the two endpoints' names and addresses. Those are replaced by tokens (private-use
characters no Kubernetes name or address can hold) before the lines are interned, and the
page puts them back; the substitution is exactly invertible, so the page shows the very
text ``stockade query`` prints for that pair and port.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from stockade.engine.classes import pod_addresses
from stockade.engine.compile import CompiledRule
from stockade.engine.engine import EGRESS, INGRESS, Engine
from stockade.engine.explain import DirectionVerdict
from stockade.engine.ports import MAX_PORT, MIN_PORT, PROTOCOLS, parse_connections
from stockade.engine.tiers import CompiledClusterRule
from stockade.engine.traffic import Endpoint, Traffic
from stockade.model.types import PolicyType, Protocol, Tier
from stockade.render.connections import NOT_COMPUTED, ConnectionGraph
from stockade.render.html.peers import PeerSignatures
from stockade.render.query import side_text
from stockade.render.style import Style

# Tokens for the source's and destination's name, their first two addresses and their
# namespace (the part of the name before its first slash; only where a line has it as a
# word of its own, as in "is in namespace shop;").
SRC_NAME, DST_NAME = "\ue000", "\ue001"
SRC_ADDR, DST_ADDR = ("\ue002", "\ue003"), ("\ue004", "\ue005")
SRC_NS, DST_NS = "\ue006", "\ue007"
TOKENS = (SRC_NAME, DST_NAME, *SRC_ADDR, *DST_ADDR, SRC_NS, DST_NS)
MAX_EXAMPLES = 4  # ports explained per cell: the first spans of its connection set
EXAMPLE_PORT = 80  # the port shown for a span of every port, or when no rule names one
_PLAIN = Style(False)


def _names(ep: Endpoint) -> tuple[str, list[str]]:
    """The endpoint's name and the addresses an explanation may print for it."""
    if ep.pod is None:
        return ep.name, [ep.name]
    return ep.name, [str(a) for a in pod_addresses(ep.pod)]


class _Templater:
    """Replaces an endpoint's name and addresses by its tokens (longest first), then its
    namespace where it stands as a word (after a space or at the start of a line, before a
    space, a semicolon or the end of a line)."""

    def __init__(self, names: tuple[str, list[str]], name_token: str,
                 addr_tokens: tuple[str, str], namespace_token: str) -> None:
        pairs = [(names[0], name_token)]
        pairs += [(a, t) for a, t in zip(names[1], addr_tokens, strict=False) if a != names[0]]
        self.pairs = sorted((p for p in pairs if p[0]), key=lambda p: -len(p[0]))
        self.values = [p[0] for p in self.pairs]
        self.namespace = names[0].split("/", 1)[0] if "/" in names[0] else ""
        self.namespace_token = namespace_token
        self.word = re.compile(f"(?<![^ \n]){re.escape(self.namespace)}(?=[ ;\n]|$)")

    def __call__(self, text: str, namespace: bool = True) -> str:
        for value, token in self.pairs:
            if value in text:
                text = text.replace(value, token)
        if namespace and self.namespace and self.namespace in text:
            text = self.word.sub(self.namespace_token, text)
        return text


@dataclass(slots=True)
class ReasonTable:
    """Interned explanations: ``lines`` (templated text), ``sides`` (line ids: the first is
    the rest of the side's first line), ``examples`` (protocol index, port, allowed,
    egress side, ingress side, note line or -1), and ``sets`` (example ids per cell)."""

    lines: list[str] = field(default_factory=list)
    sides: list[tuple[int, ...]] = field(default_factory=list)
    examples: list[tuple[int, int, int, int, int, int]] = field(default_factory=list)
    sets: list[tuple[int, ...]] = field(default_factory=list)
    allowing: list[tuple[int, ...]] = field(default_factory=list)  # per side: policy ids
    _line_ids: dict[str, int] = field(default_factory=dict)
    _side_ids: dict[tuple[int, ...], int] = field(default_factory=dict)
    _example_ids: dict[tuple[int, int, int, int, int, int], int] = field(default_factory=dict)
    _set_ids: dict[tuple[int, ...], int] = field(default_factory=dict)

    def line(self, text: str) -> int:
        found = self._line_ids.get(text)
        if found is None:
            found = self._line_ids[text] = len(self.lines)
            self.lines.append(text)
        return found

    def side(self, ids: tuple[int, ...], allowing: tuple[int, ...]) -> int:
        found = self._side_ids.get(ids)
        if found is None:
            found = self._side_ids[ids] = len(self.sides)
            self.sides.append(ids)
            self.allowing.append(allowing)
        return found

    def example(self, key: tuple[int, int, int, int, int, int]) -> int:
        found = self._example_ids.get(key)
        if found is None:
            found = self._example_ids[key] = len(self.examples)
            self.examples.append(key)
        return found

    def set(self, ids: tuple[int, ...]) -> int:
        found = self._set_ids.get(ids)
        if found is None:
            found = self._set_ids[ids] = len(self.sets)
            self.sets.append(ids)
        return found


@dataclass(frozen=True, slots=True)
class CellReasons:
    table: ReasonTable
    cells: npt.NDArray[np.int32]  # set id per cell, NOT_COMPUTED between address ranges
    # Cells explained on other members than the nodes' first two (node traffic avoided):
    pairs: dict[int, tuple[str, str]]


class _Cell(NamedTuple):
    """A cell and the two endpoints standing for it; ``shared``: they are the nodes' usual
    ones and exchange no node traffic, so sides worded for other cells of the same kinds
    serve."""

    src: int
    dst: int
    a: Endpoint
    b: Endpoint
    shared: bool


# A side worded once: its id, whether it allows, and the subject node it names (-1: none).
_Side = tuple[int, bool, int]


class _Place(NamedTuple):
    """One side of one cell on one port: the subject's side towards the peer."""

    direction: PolicyType
    subject: int
    peer: int
    p: int  # protocol index
    port: int

# Where ``query`` prints the peer's name or address in a side, the token stands between a
# space and a space, a colon or the end of its line; a token anywhere else stood for a
# longer text that held the peer's name or address (a longer name, a CIDR), which the other
# peers of its signature do not share.
# A namespace's token stands where ``query`` names the peer's namespace: after
# "namespace ".
_T = "".join(TOKENS[:6])
_TOKEN = re.compile(f"[{_T}]")
_MISPLACED = re.compile(f"^[{_T}]|[^ ][{_T}]|[{_T}][^ :\\n]")
_NAMESPACE_MISPLACED = re.compile(f"(?<!namespace )[{SRC_NS}{DST_NS}]")


class _Explainer:
    def __init__(self, graph: ConnectionGraph, reuse: bool = True) -> None:
        self.graph = graph
        self.engine: Engine = graph.engine
        self.table = ReasonTable()
        # NetworkPolicies, then cluster-wide policies: the page's list of policies.
        keys = [p.key for p in self.engine.policies]
        keys += [p.key for p in self.engine.cluster_policies]
        self.policy_index = {key: i for i, key in enumerate(keys)}
        pod_index = {p.key: i for i, p in enumerate(self.engine.pods)}
        self.members = [[pod_index[k] for k in node.members[:8]] for node in graph.nodes]
        self.host_network = any(p.host_network for p in self.engine.pods)
        self._endpoints: dict[int, Endpoint] = {}
        self._templaters: dict[str, tuple[_Templater, _Templater]] = {}
        # Sides already worded (see ``side``): a side is the same for every subject of one
        # kind (see ``_kinds``), towards every peer of one signature (``peers``), on one
        # port, but for the tokens of the two ends (see ``keep``).
        self.reuse = reuse
        self.e_kind, self.i_kind = self._kinds()
        self._kind_id: dict[PolicyType, list[int]] = {}
        self._isolated: dict[PolicyType, list[bool]] = {}
        self._tiered: dict[PolicyType, list[bool]] = {}
        self._rules: dict[PolicyType, list[list[CompiledRule]]] = {}
        self._ports_matter: dict[PolicyType, list[bool]] = {}
        for direction, kinds in ((EGRESS, self.e_kind), (INGRESS, self.i_kind)):
            ids: dict[object, int] = {}
            self._kind_id[direction] = [ids.setdefault(k, len(ids)) for k in kinds]
            self._isolated[direction] = [False] * len(ids)
            self._tiered[direction] = [False] * len(ids)
            self._rules[direction] = [[] for _ in ids]
            for i, (node, kid) in enumerate(zip(graph.nodes, self._kind_id[direction],
                                                strict=True)):
                policies = (node.isolated_egress if direction is EGRESS
                            else node.isolated_ingress)
                self._isolated[direction][kid] = bool(policies)
                self._tiered[direction][kid] = self._selected(i, direction)
                self._rules[direction][kid] = [r for i in policies
                                               for r in self.engine.compiled[i].rules[direction]]
            self._ports_matter[direction] = [not all(r.any_port for r in rules)
                                             for rules in self._rules[direction]]
        self._peers = PeerSignatures(graph)
        self._signatures: dict[tuple[PolicyType, int], list[int]] = {}
        self._situations: dict[tuple[object, ...], int] = {}
        self.first_ports: dict[tuple[int, int], Sequence[tuple[Protocol, int]]] = {}
        self._sides: dict[PolicyType, dict[tuple[object, ...], _Side]] = {EGRESS: {},
                                                                          INGRESS: {}}
        self._namespace = [node.namespace for node in graph.nodes]
        # An end named like a policy is told apart from it only by where it stands.
        policy_keys = set(self.policy_index)
        self._prone = [node.representative.name in policy_keys for node in graph.nodes]
        self._addresses = [[str(a) for a in pod_addresses(node.representative.pod)]
                           if node.representative.pod is not None else []
                           for node in graph.nodes]
        self._ports: dict[tuple[int, bool], tuple[tuple[Protocol, int], ...]] = {}
        self._ingress_port: dict[int, tuple[Protocol, int] | None] = {}
        self._egress_port: dict[tuple[tuple[int, ...], int], tuple[Protocol, int]] = {}

    def pod(self, index: int) -> Endpoint:
        found = self._endpoints.get(index)
        if found is None:
            found = self._endpoints[index] = Endpoint(self.engine.pods[index])
        return found

    def templaters(self, ep: Endpoint) -> tuple[_Templater, _Templater]:
        """The endpoint's templaters as a source and as a destination."""
        found = self._templaters.get(ep.name)
        if found is None:
            names = _names(ep)
            found = self._templaters[ep.name] = (
                _Templater(names, SRC_NAME, SRC_ADDR, SRC_NS),
                _Templater(names, DST_NAME, DST_ADDR, DST_NS))
        return found

    def endpoints(self, src: int, dst: int) -> tuple[Endpoint, Endpoint, bool, bool] | None:
        """The two endpoints that stand for the cell, whether they are not the default
        ones (a host-network pod and a pod on its node exchange node traffic, which the
        group cells leave aside), and whether they exchange node traffic all the same (no
        other two members do); ``None`` for a group of one pod and itself."""
        a, b = self.graph.nodes[src], self.graph.nodes[dst]
        if a.is_address or b.is_address:
            return a.representative, b.representative, False, False
        firsts, seconds = self.members[src], self.members[dst]
        if src == dst:
            if len(firsts) < 2:
                return None
            default = (firsts[0], firsts[1])
        else:
            default = (firsts[0], seconds[0])
        chosen = default
        node = False
        if self.host_network and self.engine.node_traffic(*default):
            candidates = [(x, y) for x in firsts for y in seconds if x != y]
            chosen = next((c for c in candidates if not self.engine.node_traffic(*c)), default)
            node = chosen == default
        return self.pod(chosen[0]), self.pod(chosen[1]), chosen != default, node

    def _node_traffic(self, src: int, dst: int) -> bool:
        """Do the nodes' usual endpoints exchange node traffic?"""
        if not self.host_network or not self.members[src] or not self.members[dst]:
            return False
        return self.engine.node_traffic(self.members[src][0], self.members[dst][0])

    def ports(self, src: int, dst: int, code: int) -> tuple[tuple[Protocol, int], ...]:
        """The ports a cell is explained on (see the module docstring)."""
        text = self.graph.texts[code]
        key = (code, text == "all" and not self.graph.decided(src, dst))
        found = self._ports.get(key)
        if found is None:
            spans = parse_connections(text)
            if not spans:
                found = ()  # a denied cell: the port depends on its two ends
            elif key[1]:
                found = ((Protocol.TCP, EXAMPLE_PORT),)
            else:
                found = tuple(
                    (span.protocol, EXAMPLE_PORT if (span.first, span.last) == (MIN_PORT, MAX_PORT)
                     else span.first) for span in spans[:MAX_EXAMPLES])
            self._ports[key] = found
        return found or (self._denied_port(src, dst),)

    def _denied_port(self, src: int, dst: int) -> tuple[Protocol, int]:
        """A port the rules deciding the pair name (the destination's ingress rules first):
        on it, the explanation shows how near each rule came."""
        if dst not in self._ingress_port:
            self._ingress_port[dst] = self._named(self._rules[INGRESS][
                self._kind_id[INGRESS][dst]], dst)
        found = self._ingress_port[dst]
        if found is not None:
            return found
        key = (self.graph.nodes[src].isolated_egress, dst)
        port = self._egress_port.get(key)
        if port is None:
            rules = self._rules[EGRESS][self._kind_id[EGRESS][src]]
            port = self._egress_port[key] = (self._named(rules, dst)
                                             or (Protocol.TCP, EXAMPLE_PORT))
        return port

    def _named(self, rules: list[CompiledRule], dst: int) -> tuple[Protocol, int] | None:
        """The first port of the rules, named ports resolved on the node ``dst``."""
        pod = self.graph.nodes[dst].representative.pod
        for rule in rules:
            for port in rule.ports:
                if not port.name:
                    whole = (port.first, port.last) == (MIN_PORT, MAX_PORT)
                    return port.protocol, EXAMPLE_PORT if whole else port.first
                if pod is None:
                    continue
                for cp in pod.container_ports():
                    if cp.name == port.name and cp.protocol == port.protocol:
                        return port.protocol, cp.container_port
        return None

    def _kinds(self) -> tuple[list[object], list[object]]:
        """Per node, what its egress and its ingress side depend on besides the peer and
        the port: the policies isolating it, host networking, its address families when
        those policies have ipBlock peers (only they read the peer's address of the
        connection's family) and, for ingress, its declared ports of the names those
        policies' rules use (named ports resolve on the destination); the same for the
        cluster-wide policies selecting it (their stacks of rules, per tier). An address
        range is a kind of its own."""
        compiled = self.engine.compiled
        tiers = self.engine.tiers

        def rules(policies: tuple[int, ...], direction: PolicyType) -> list[CompiledRule]:
            return [r for i in policies for r in compiled[i].rules[direction]]

        def stacks(cls: int, direction: PolicyType) -> tuple[int, int]:
            return (int(tiers.stack_of[Tier.ADMIN, direction][cls]),
                    int(tiers.stack_of[Tier.BASELINE, direction][cls]))

        def cluster_rules(cls: int, direction: PolicyType) -> list[CompiledClusterRule]:
            return [*tiers.stack(Tier.ADMIN, direction, cls),
                    *tiers.stack(Tier.BASELINE, direction, cls)]

        egress: list[object] = []
        ingress: list[object] = []
        for i, node in enumerate(self.graph.nodes):
            pod = node.representative.pod
            if pod is None:
                egress.append(("address", i))
                ingress.append(("address", i))
                continue
            families = tuple(a.version for a in pod_addresses(pod))
            out, into = rules(node.isolated_egress, EGRESS), rules(node.isolated_ingress, INGRESS)
            blocks = [any(cp.block is not None for r in rs for cp in r.peers) for rs in (out, into)]
            cls = int(self.engine.pod_class[self.members[i][0]])
            c_out, c_into = cluster_rules(cls, EGRESS), cluster_rules(cls, INGRESS)
            blocks[0] = blocks[0] or any(r.block_members for r in c_out)
            names = {p.name for r in into for p in r.ports if p.name}
            names |= {p.name for r in c_into for p in r.ports if p.name}
            ports = tuple((p.name, p.protocol, p.container_port)
                          for p in pod.container_ports() if p.name in names)
            egress.append((node.isolated_egress, pod.host_network, blocks[0] and families,
                           stacks(cls, EGRESS)))
            ingress.append((node.isolated_ingress, pod.host_network, blocks[1] and families,
                            ports, stacks(cls, INGRESS)))
        return egress, ingress

    def _word(self, side: DirectionVerdict, subject: _Templater,
              peer: _Templater) -> tuple[int, str]:
        """The side's id and its text, with the tokens of both ends (the subject's
        namespace, which its policies share, left as it is)."""
        if not side.isolated and not side.tiered:
            # A line without tokens is shown as it is, so skipping the substitution for
            # the few fixed notes is safe whatever they say.
            first, _ = side_text(side, _PLAIN)
            return self.table.side((self.table.line(first),), ()), first
        first, rest = side_text(side, _PLAIN)
        text = peer(subject("\n".join((first, *rest)), namespace=False))
        ids = tuple(self.table.line(t) for t in text.split("\n"))
        allowers = {m.policy for m in side.allowed_by}
        if side.allowed and side.decided_by is not None:
            allowers.add(side.decided_by.policy)
        allowing = tuple(sorted(self.policy_index[key] for key in allowers))
        return self.table.side(ids, allowing), text

    # --- sides worded once for many cells ----------------------------------------------------

    def _selected(self, node: int, direction: PolicyType) -> bool:
        """Do cluster-wide policies select the node's pods in that direction (a stack of
        their rules decides before, or after, its NetworkPolicies)?"""
        members = self.members[node]
        if not members:
            return False
        cls = int(self.engine.pod_class[members[0]])
        tiers = self.engine.tiers
        return any(int(tiers.stack_of[tier, direction][cls]) for tier in (Tier.ADMIN,
                                                                          Tier.BASELINE))

    def _signature(self, direction: PolicyType, kind: int) -> list[int]:
        """Per node, its signature as a peer of the kind's side (see ``peers``). The
        signatures read only NetworkPolicy rules: a side cluster-wide policies have a say in
        gets a signature of its own per peer."""
        found = self._signatures.get((direction, kind))
        if found is None:
            if self._tiered[direction][kind]:
                found = (-1 - np.arange(len(self.graph.nodes))).tolist()
            else:
                found = self._peers.of(direction, self._rules[direction][kind]).tolist()
            self._signatures[direction, kind] = found
        return found

    def _keys(self, place: _Place) -> list[tuple[object, ...]]:
        """Where a side may have been kept, the widest first: for every peer of the
        signature, for the peers of the signature in the peer's namespace, for the peer.
        A side that no policy decides is the same towards every peer and on every port."""
        direction, subject, peer, p, port = place
        kind = self._kind_id[direction][subject]
        if not self._isolated[direction][kind] and not self._tiered[direction][kind]:
            return [(kind,)]
        where = (kind, self._signature(direction, kind)[peer],
                 (p, port) if self._ports_matter[direction][kind]
                 or self._tiered[direction][kind] else None)
        if where[1] < 0:
            return [where]
        return [where, (*where, self._namespace[peer]), (*where, -1 - peer)]

    def side(self, place: _Place) -> tuple[_Side | None, bool]:
        """A side already worded that serves this subject, peer and port, and whether it
        is kept where it serves every subject and peer of the place's first key."""
        cache = self._sides[place.direction]
        for level, key in enumerate(self._keys(place)):
            found = cache.get(key)
            if found is not None and found[2] in (-1, place.subject):
                return found, level == 0 and found[2] == -1
        return None, False

    def keep(self, place: _Place, verdict: DirectionVerdict, subject_t: _Templater,
             peer_t: _Templater) -> tuple[_Side, bool]:
        """Word a side and keep it where it serves (see ``_keys``), as ``side`` finds it.
        Its text, with the tokens of both ends, serves other subjects of the kind and other
        peers of the signature when those tokens stand only where ``query`` prints an end's
        name or address, and no other address of the ends is left in it; else it serves
        this subject and this peer only. A peer's namespace token elsewhere than after
        "namespace " makes it serve the peers of that namespace only."""
        side_id, text = self._word(verdict, subject_t, peer_t)
        subject, peer = place.subject, place.peer
        clean = not (_TOKEN.search(text) and _MISPLACED.search(text)) and not any(
            a in text for a in (*self._addresses[subject], *self._addresses[peer]))
        free = clean and not self._prone[subject]
        found: _Side = (side_id, verdict.allowed, -1 if free else subject)
        keys = self._keys(place)
        level = 0
        if len(keys) > 1:
            if not clean:
                level = 2
            elif _NAMESPACE_MISPLACED.search(text):
                level = 1
        self._sides[place.direction][keys[level]] = found
        return found, level == 0 and free

    def example(self, cell: _Cell, proto: Protocol, port: int) -> tuple[int, bool]:
        """One port's explanation, and whether both its sides serve every cell of the
        same kinds, signatures and port (see ``side``)."""
        src, dst, a, b, shared = cell
        p = PROTOCOLS.index(proto)
        e = i = None
        wide_e = wide_i = False
        out, into = _Place(EGRESS, src, dst, p, port), _Place(INGRESS, dst, src, p, port)
        if shared:
            (e, wide_e), (i, wide_i) = self.side(out), self.side(into)
            if e is not None and i is not None:
                return (self.table.example((p, port, int(e[1] and i[1]), e[0], i[0], -1)),
                        wide_e and wide_i)
        verdict = self.engine.evaluate(Traffic(a, b, proto, port))
        a_src, b_dst = self.templaters(a)[0], self.templaters(b)[1]
        if verdict.notes:
            note = self.table.line(b_dst(a_src("\n".join(verdict.notes))))
            return self.table.example((p, port, int(verdict.allowed), -1, -1, note)), False
        # The egress side's subject is the source, its peer the destination; the ingress
        # side's the other way round.
        if shared:
            if e is None:
                e, wide_e = self.keep(out, verdict.egress, a_src, b_dst)
            if i is None:
                i, wide_i = self.keep(into, verdict.ingress, b_dst, a_src)
            return (self.table.example((p, port, int(verdict.allowed), e[0], i[0], -1)),
                    wide_e and wide_i)
        e_id = self._word(verdict.egress, a_src, b_dst)[0]
        i_id = self._word(verdict.ingress, b_dst, a_src)[0]
        return self.table.example((p, port, int(verdict.allowed), e_id, i_id, -1)), False

    def cell(self, src: int, dst: int, code: int) -> tuple[int, tuple[str, str] | None]:
        """The cell's set of examples, and the two endpoints that stand for it when they
        are not the nodes' usual ones."""
        ports = self.ports(src, dst, code)
        first = self.first_ports.get((src, dst))
        if first:
            ports = tuple(dict.fromkeys((*first, *ports)))
        situation: tuple[object, ...] = ()
        if self.reuse and src != dst and not self._node_traffic(src, dst):
            # A cell whose sides all serve every cell of their kinds, signatures and ports
            # (see ``example``) serves every cell of the same situation.
            e_kind, i_kind = self._kind_id[EGRESS][src], self._kind_id[INGRESS][dst]
            situation = (e_kind, self._signature(EGRESS, e_kind)[dst], i_kind,
                         self._signature(INGRESS, i_kind)[src], ports)
            found = self._situations.get(situation)
            if found is not None:
                return found, None
        ends = self.endpoints(src, dst)
        if ends is None:  # one pod and itself
            ep = self.graph.nodes[src].representative
            example, _ = self.example(_Cell(src, dst, ep, ep, False), Protocol.TCP,
                                      EXAMPLE_PORT)
            return self.table.set((example,)), None
        a, b, moved, node = ends
        cell = _Cell(src, dst, a, b, self.reuse and not moved and not node and src != dst)
        examples = [self.example(cell, proto, port) for proto, port in ports]
        set_id = self.table.set(tuple(x for x, _ in examples))
        if cell.shared and all(wide for _, wide in examples):
            self._situations[situation] = set_id
        return set_id, (a.name, b.name) if moved else None


def explain_cells(graph: ConnectionGraph, progress: Callable[[float], None] | None = None,
                  *, reuse: bool = True,
                  first: Mapping[tuple[int, int], Sequence[tuple[Protocol, int]]] | None = None
                  ) -> CellReasons:
    """Every computed cell's explanation (see the module docstring). ``reuse=False``
    evaluates every cell afresh (the tests compare both); ``first`` names ports to explain
    first in some cells (a diff's changed ports)."""
    explainer = _Explainer(graph, reuse)
    explainer.first_ports = dict(first or {})
    n = len(graph.nodes)
    cells = np.full((n, n), NOT_COMPUTED, dtype=np.int32)
    pairs: dict[int, tuple[str, str]] = {}
    codes = graph.cells.tolist()
    for src in range(n):
        row = codes[src]
        for dst in range(n):
            code = row[dst]
            if code == NOT_COMPUTED:
                continue
            set_id, moved = explainer.cell(src, dst, code)
            cells[src, dst] = set_id
            if moved is not None:
                pairs[src * n + dst] = moved
        if progress is not None:
            progress((src + 1) / n)
    return CellReasons(explainer.table, cells, pairs)
