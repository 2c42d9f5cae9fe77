"""Which peers one side of an explanation cannot tell apart, so that the report words a side
once for all of them instead of once per cell. Pure.

A side (a source's egress, a destination's ingress) is decided by the rules of the policies
isolating its subject. What those rules read of the peer (the other end) is, rule entry by
rule entry: whether a selector entry matches the peer's class and whether its namespace part
does (which decides the wording of a miss), the peer's ipBlock region and address families
when an entry is an ipBlock, whether it is host-network, and, on the egress side where the
peer is the destination, the ports it declares under the names the rules use. Peers alike in
all of that get one signature per set of rules; their texts then differ only in the peer's
name, addresses and namespace, which ``reasons`` handles (tokens, and a check of the text).
Address ranges, peers named like a policy, and rules with an entry of another shape get a
signature of their own (``-1 - node``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from stockade.engine.classes import pod_addresses
from stockade.engine.compile import CompiledPeer, CompiledRule
from stockade.engine.engine import EGRESS
from stockade.model.selectors import selector_matches
from stockade.model.types import PolicyType
from stockade.render.connections import ConnectionGraph


class PeerSignatures:
    """Signatures of the graph's nodes as peers, per set of rules (``of``)."""

    def __init__(self, graph: ConnectionGraph) -> None:
        engine = graph.engine
        self.engine = engine
        nodes = graph.nodes
        n = len(nodes)
        self.own = -1 - np.arange(n, dtype=np.int64)  # a signature of its own per node
        by_key = {p.key: i for i, p in enumerate(engine.pods)}
        policy_keys = {p.key for p in engine.policies} | {
            p.key for p in engine.cluster_policies}
        # Nodes that can share: groups whose representative is named unlike any policy
        # (a name that is also a policy's would be taken for the peer in a text).
        self.pods = [i for i, node in enumerate(nodes)
                     if not node.is_address and node.representative.name not in policy_keys]
        rows = np.array(self.pods, dtype=np.int64)
        self.rows = rows
        reps = [nodes[i].representative.pod for i in self.pods]
        self.cls = np.array([int(engine.pod_class[by_key[p.key]]) for p in reps if p],
                            dtype=np.int64)
        namespaces = list(engine.namespaces)
        ns_index = {name: k for k, name in enumerate(namespaces)}
        self.namespaces = namespaces
        self.ns = np.array([ns_index[p.namespace] for p in reps if p], dtype=np.int64)
        self.host = np.array([p.host_network for p in reps if p], dtype=np.int64)
        classes = engine.classes
        self.regions = np.array([classes[c].regions for c in self.cls.tolist()],
                                dtype=np.int64).reshape(-1, 2)
        families: dict[tuple[int, ...], int] = {}
        self.families = np.array(
            [families.setdefault(tuple(a.version for a in pod_addresses(p)), len(families))
             for p in reps if p], dtype=np.int64)
        self.reps = [p for p in reps if p]
        self._ns_ok: dict[int, npt.NDArray[np.bool_]] = {}

    def _namespace_ok(self, cp: CompiledPeer, namespace: str) -> npt.NDArray[np.bool_]:
        """Per namespace: does the entry's namespace part admit it (its namespaceSelector,
        or, without one, the policy's own namespace)."""
        found = self._ns_ok.get(id(cp))
        if found is None:
            selector = cp.peer.namespace_selector
            if selector is None:
                found = np.array([ns == namespace for ns in self.namespaces], dtype=np.bool_)
            else:
                labels = self.engine.namespaces
                found = np.array([selector_matches(selector, labels[ns].labels)
                                  for ns in self.namespaces], dtype=np.bool_)
            self._ns_ok[id(cp)] = found
        return found

    def of(self, direction: PolicyType, rules: Sequence[CompiledRule]) -> npt.NDArray[np.int64]:
        """Per node, its signature as a peer of a side decided by ``rules``: equal
        non-negative numbers for peers those rules treat (and word) alike."""
        out = self.own.copy()
        if not self.pods:
            return out
        entries = [cp for r in rules for cp in r.peers]
        if any((cp.selected is None) == (cp.block is None) for cp in entries):
            return out  # an entry neither a selector nor an ipBlock: no sharing
        columns = [self.host]
        for rule in rules:
            namespace = self.engine.policies[rule.policy].namespace
            for cp in rule.peers:
                if cp.selected is not None:
                    ok = self._namespace_ok(cp, namespace)[self.ns]
                    columns.append(ok.astype(np.int64) * 2 + cp.selected.at(self.cls))
        if any(cp.block is not None for cp in entries):
            columns += [self.regions[:, 0], self.regions[:, 1], self.families]
        names = {p.name for r in rules for p in r.ports if p.name}
        if direction is EGRESS and names:
            declared: dict[tuple[object, ...], int] = {}
            columns.append(np.array([declared.setdefault(
                tuple((p.name, p.protocol, p.container_port) for p in pod.container_ports()
                      if p.name in names), len(declared)) for pod in self.reps],
                dtype=np.int64))
        table = np.ascontiguousarray(np.stack(columns, axis=1))
        rows = table.view(np.dtype((np.void, table.dtype.itemsize * table.shape[1]))).ravel()
        _, inverse = np.unique(rows, return_inverse=True)
        out[self.rows] = inverse.ravel()
        return out


__all__ = ["PeerSignatures"]
