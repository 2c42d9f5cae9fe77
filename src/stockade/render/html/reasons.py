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

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from stockade.engine.classes import pod_addresses
from stockade.engine.compile import CompiledRule
from stockade.engine.engine import EGRESS, INGRESS, Engine
from stockade.engine.explain import DirectionVerdict
from stockade.engine.ports import MAX_PORT, MIN_PORT, PROTOCOLS, PortSpan, parse_connections
from stockade.engine.tiers import CompiledClusterRule
from stockade.engine.traffic import Endpoint, Traffic
from stockade.model.types import PolicyType, Protocol, Tier
from stockade.render.connections import NOT_COMPUTED, ConnectionGraph
from stockade.render.query import side_text
from stockade.render.style import Style

# Tokens for the source's and destination's name and their first two addresses.
SRC_NAME, DST_NAME = "\ue000", "\ue001"
SRC_ADDR, DST_ADDR = ("\ue002", "\ue003"), ("\ue004", "\ue005")
TOKENS = (SRC_NAME, DST_NAME, *SRC_ADDR, *DST_ADDR)
MAX_EXAMPLES = 4  # ports explained per cell: the first spans of its connection set
EXAMPLE_PORT = 80  # the port shown for a span of every port, or when no rule names one
_PLAIN = Style(False)


def _names(ep: Endpoint) -> tuple[str, list[str]]:
    """The endpoint's name and the addresses an explanation may print for it."""
    if ep.pod is None:
        return ep.name, [ep.name]
    return ep.name, [str(a) for a in pod_addresses(ep.pod)]


class _Templater:
    """Replaces an endpoint's name and addresses by its tokens (longest first)."""

    def __init__(self, names: tuple[str, list[str]], name_token: str,
                 addr_tokens: tuple[str, str]) -> None:
        pairs = [(names[0], name_token)]
        pairs += [(a, t) for a, t in zip(names[1], addr_tokens, strict=False) if a != names[0]]
        self.pairs = sorted((p for p in pairs if p[0]), key=lambda p: -len(p[0]))
        self.values = [p[0] for p in self.pairs]

    def __call__(self, text: str) -> str:
        for value, token in self.pairs:
            if value in text:
                text = text.replace(value, token)
        return text

    def occurs_in(self, text: str) -> bool:
        return any(value in text for value in self.values)


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
    ones, so sides worded for another subject of the same kind serve."""

    src: int
    dst: int
    a: Endpoint
    b: Endpoint
    shared: bool


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
        # Sides already worded, by what decides them (see ``_kinds``): a side is the same
        # for every subject of one kind, towards one peer, on one port, as long as its
        # text does not name the subject itself.
        self.reuse = reuse
        self._egress: dict[object, tuple[int, bool, int]] = {}
        self._ingress: dict[object, tuple[int, bool, int]] = {}
        self.e_kind, self.i_kind = self._kinds()
        self._spans: dict[str, list[PortSpan]] = {}
        self._open: dict[str, int] = {}  # side notes of unisolated sides: no names in them

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
            found = self._templaters[ep.name] = (_Templater(names, SRC_NAME, SRC_ADDR),
                                                 _Templater(names, DST_NAME, DST_ADDR))
        return found

    def endpoints(self, src: int, dst: int) -> tuple[Endpoint, Endpoint, bool] | None:
        """The two endpoints that stand for the cell, and whether they are not the
        default ones (a host-network pod and a pod on its node exchange node traffic,
        which the group cells leave aside); ``None`` for a group of one pod and itself."""
        a, b = self.graph.nodes[src], self.graph.nodes[dst]
        if a.is_address or b.is_address:
            return a.representative, b.representative, False
        firsts, seconds = self.members[src], self.members[dst]
        if src == dst:
            if len(firsts) < 2:
                return None
            default = (firsts[0], firsts[1])
        else:
            default = (firsts[0], seconds[0])
        chosen = default
        if self.host_network and self.engine.node_traffic(*default):
            candidates = [(x, y) for x in firsts for y in seconds if x != y]
            chosen = next((c for c in candidates if not self.engine.node_traffic(*c)), default)
        return self.pod(chosen[0]), self.pod(chosen[1]), chosen != default

    def ports(self, src: int, dst: int, text: str, dst_ep: Endpoint) -> list[tuple[Protocol, int]]:
        spans = self._spans.get(text)
        if spans is None:
            spans = self._spans[text] = parse_connections(text)
        if not spans:
            return [self._denied_port(src, dst, dst_ep)]
        if text == "all" and not self.graph.decided(src, dst):
            return [(Protocol.TCP, EXAMPLE_PORT)]
        out = []
        for span in spans[:MAX_EXAMPLES]:
            whole = (span.first, span.last) == (MIN_PORT, MAX_PORT)
            out.append((span.protocol, EXAMPLE_PORT if whole else span.first))
        return out

    def _denied_port(self, src: int, dst: int, dst_ep: Endpoint) -> tuple[Protocol, int]:
        """A port the rules deciding the pair name (the destination's ingress rules first):
        on it, the explanation shows how near each rule came."""
        a, b = self.graph.nodes[src], self.graph.nodes[dst]
        compiled = self.engine.compiled
        rules = [r for i in b.isolated_ingress for r in compiled[i].rules[INGRESS]]
        rules += [r for i in a.isolated_egress for r in compiled[i].rules[EGRESS]]
        for rule in rules:
            for port in rule.ports:
                if not port.name:
                    whole = (port.first, port.last) == (MIN_PORT, MAX_PORT)
                    return port.protocol, EXAMPLE_PORT if whole else port.first
                if dst_ep.pod is None:
                    continue
                for cp in dst_ep.pod.container_ports():
                    if cp.name == port.name and cp.protocol == port.protocol:
                        return port.protocol, cp.container_port
        return Protocol.TCP, EXAMPLE_PORT

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
              peer: _Templater) -> tuple[int, bool]:
        """The side's id, and whether its text leaves the subject unnamed (reusable)."""
        if not side.isolated and not side.tiered:
            # A line without tokens is shown as it is, so skipping the substitution for
            # the few fixed notes is safe whatever they say.
            found = self._open.get(side.note)
            if found is None:
                first, _ = side_text(side, _PLAIN)
                found = self._open[side.note] = self.table.side((self.table.line(first),), ())
            return found, not subject.occurs_in(side.note)
        first, rest = side_text(side, _PLAIN)
        text = "\n".join((first, *rest))
        ids = tuple(self.table.line(t) for t in peer(text).split("\n"))
        allowers = {m.policy for m in side.allowed_by}
        if side.allowed and side.decided_by is not None:
            allowers.add(side.decided_by.policy)
        allowing = tuple(sorted(self.policy_index[key] for key in allowers))
        return self.table.side(ids, allowing), not subject.occurs_in(text)

    def example(self, cell: _Cell, proto: Protocol, port: int) -> int:
        """One port's explanation."""
        src, dst, a, b, shared = cell
        p = PROTOCOLS.index(proto)
        e_key = (self.e_kind[src], dst, p, port)
        i_key = (self.i_kind[dst], src, p, port)
        if shared and self.reuse:
            e, i = self._egress.get(e_key), self._ingress.get(i_key)
            if e is not None and i is not None and e[2] in (-1, src) and i[2] in (-1, dst):
                return self.table.example((p, port, int(e[1] and i[1]), e[0], i[0], -1))
        verdict = self.engine.evaluate(Traffic(a, b, proto, port))
        a_src, b_dst = self.templaters(a)[0], self.templaters(b)[1]
        if verdict.notes:
            note = self.table.line(b_dst(a_src("\n".join(verdict.notes))))
            return self.table.example((p, port, int(verdict.allowed), -1, -1, note))
        # Each side is worded with its peer's tokens: the egress side's peer is the
        # destination, the ingress side's the source.
        e_id, e_free = self._word(verdict.egress, a_src, b_dst)
        i_id, i_free = self._word(verdict.ingress, b_dst, a_src)
        if shared:
            self._egress[e_key] = (e_id, verdict.egress.allowed, -1 if e_free else src)
            self._ingress[i_key] = (i_id, verdict.ingress.allowed, -1 if i_free else dst)
        return self.table.example((p, port, int(verdict.allowed), e_id, i_id, -1))

    def cell(self, src: int, dst: int) -> tuple[int, bool, Endpoint, Endpoint]:
        text = self.graph.text(src, dst)
        found = self.endpoints(src, dst)
        if found is None:  # one pod and itself
            ep = self.graph.nodes[src].representative
            example = self.example(_Cell(src, dst, ep, ep, False), Protocol.TCP, EXAMPLE_PORT)
            return self.table.set((example,)), False, ep, ep
        a, b, moved = found
        shared = not moved and src != dst
        ids = tuple(self.example(_Cell(src, dst, a, b, shared), proto, port)
                    for proto, port in self.ports(src, dst, text, b))
        return self.table.set(ids), moved, a, b


def explain_cells(graph: ConnectionGraph, progress: Callable[[float], None] | None = None,
                  *, reuse: bool = True) -> CellReasons:
    """Every computed cell's explanation (see the module docstring). ``reuse=False``
    evaluates every cell afresh (the tests compare both)."""
    explainer = _Explainer(graph, reuse)
    n = len(graph.nodes)
    cells = np.full((n, n), NOT_COMPUTED, dtype=np.int32)
    pairs: dict[int, tuple[str, str]] = {}
    for src in range(n):
        for dst in range(n):
            if int(graph.cells[src, dst]) == NOT_COMPUTED:
                continue
            set_id, moved, a, b = explainer.cell(src, dst)
            cells[src, dst] = set_id
            if moved:
                pairs[src * n + dst] = (a.name, b.name)
        if progress is not None:
            progress((src + 1) / n)
    return CellReasons(explainer.table, cells, pairs)

