"""The connection graph: the groups ``matrix`` forms, plus the address ranges the policies'
ipBlocks name, and what each may open to each. ``matrix -o dot|svg`` and ``report`` draw it.

Everything here comes from the engine (``ClassRows`` for groups, ``address_connections`` for
address ranges); this module only lays the two out as one square of nodes. An edge is
*decided* by policy when its source is isolated for egress or its destination for ingress,
or a cluster-wide policy with rules in that direction selects it; the others are
unrestricted (both ends open) and are summarised rather than drawn.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from stockade.engine.addresses import AddressRange, address_connections, address_ranges
from stockade.engine.engine import EGRESS, INGRESS, Engine
from stockade.engine.matrix import ClassRows, Spans
from stockade.engine.ports import PROTOCOLS, PortSpan, format_connections
from stockade.engine.traffic import Endpoint
from stockade.model.types import PolicyType
from stockade.render.groups import group_names
from stockade.render.matrix import node_traffic

NOT_COMPUTED = -1  # address range to address range: not the cluster's business


@dataclass(frozen=True, slots=True)
class Node:
    """A group of pods every policy treats alike, or an address range outside the pods."""

    name: str
    namespace: str  # "" for an address range
    members: tuple[str, ...]  # pod keys (a group); () for an address range
    representative: Endpoint  # the pod (or address) whose answers stand for the node
    isolated_ingress: tuple[int, ...]  # indices of the policies isolating it, per direction
    isolated_egress: tuple[int, ...]
    host_network: bool = False
    address_range: AddressRange | None = None
    # Indices of the cluster-wide policies with rules in that direction that select it.
    tiered_ingress: tuple[int, ...] = ()
    tiered_egress: tuple[int, ...] = ()

    @property
    def is_address(self) -> bool:
        return self.address_range is not None


@dataclass(frozen=True, slots=True)
class ConnectionGraph:
    """``texts[cells[src, dst]]`` is what node ``src`` may open to node ``dst`` (``all``,
    ``TCP 6379``, ``none``); ``NOT_COMPUTED`` between two address ranges. For a group and
    itself the cell describes distinct members (a pod always reaches itself)."""

    engine: Engine
    nodes: tuple[Node, ...]
    cells: npt.NDArray[np.int32]
    texts: tuple[str, ...]
    node_traffic: dict[str, list[str]]  # host-network pod -> pods on its node (always allowed)

    def decided(self, src: int, dst: int) -> bool:
        """True when a policy had a say: the source isolated for egress, or the
        destination for ingress, or selected by a cluster-wide policy for it."""
        a, b = self.nodes[src], self.nodes[dst]
        return bool(a.isolated_egress or b.isolated_ingress or a.tiered_egress
                    or b.tiered_ingress)

    def text(self, src: int, dst: int) -> str:
        code = int(self.cells[src, dst])
        return "" if code == NOT_COMPUTED else self.texts[code]


def _selecting(engine: Engine, direction: PolicyType, cls: int) -> tuple[int, ...]:
    """The cluster-wide policies with rules in ``direction`` whose subject holds ``cls``
    (never a host-network class)."""
    return tuple(k for k, cp in enumerate(engine.tiers.compiled)
                 if cp.rules[direction] and cp.subjects[cls])


def connection_graph(engine: Engine, owner: Mapping[str, str] | None = None,
                     progress: Callable[[float], None] | None = None) -> ConnectionGraph:
    """Groups (named as ``matrix`` names them) then address ranges, and every cell."""
    rows = ClassRows(engine, progress)
    names = group_names(engine.classes, engine.pods, owner)
    nodes: list[Node] = []
    for cls, name in zip(engine.classes, names, strict=True):
        rep = engine.pods[cls.members[0]]
        nodes.append(Node(name, cls.namespace,
                          tuple(engine.pods[i].key for i in cls.members), Endpoint(rep),
                          tuple(engine.isolating[INGRESS][cls.index]),
                          tuple(engine.isolating[EGRESS][cls.index]), cls.host_network,
                          tiered_ingress=_selecting(engine, INGRESS, cls.index),
                          tiered_egress=_selecting(engine, EGRESS, cls.index)))
    ranges = address_ranges(engine)
    for r in ranges:
        nodes.append(Node(r.name, "", (), Endpoint(None, r.address), (), (),
                          address_range=r))
    g, n = len(engine.classes), len(nodes)
    cells = np.full((n, n), NOT_COMPUTED, dtype=np.int32)
    for src, ids in rows:
        cells[src, :g] = ids
    texts = list(rows.texts)
    index = {t: i for i, t in enumerate(texts)}

    def code(text: str) -> int:
        found = index.get(text)
        if found is None:
            found = index[text] = len(texts)
            texts.append(text)
        return found

    def text(spans: Spans) -> str:
        return format_connections(PortSpan(PROTOCOLS[p], first, last) for p, first, last in spans)

    for k, r in enumerate(ranges):
        out = address_connections(rows.keys, r.address, EGRESS)
        into = address_connections(rows.keys, r.address, INGRESS)
        cells[:g, g + k] = [code(text(s)) for s in out]
        cells[g + k, :g] = [code(text(s)) for s in into]
    return ConnectionGraph(engine, tuple(nodes), cells, tuple(texts), node_traffic(engine))
