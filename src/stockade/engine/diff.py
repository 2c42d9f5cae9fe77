"""The semantic difference of two clusters: what each pair of endpoints present on both
sides may open before and after, as connection sets, computed from the two engines' class
matrices. Pure.

The endpoints present on both sides are partitioned jointly: two pods share a *joint group*
when they share a behaviour class on the old side and one on the new side, so every pair
of joint groups has one connection set per side. A pair's verdict depends only on its two
pods, their namespaces and the policies; so when the namespaces are alike, only the rows of
sources that a changed policy isolates for egress (or that changed themselves) and the
columns of destinations a changed policy isolates for ingress can differ, and only those
are computed. Anything else that differs makes every pair be compared.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from stockade.engine.engine import EGRESS, INGRESS, Engine
from stockade.engine.matrix import (
    CHUNK_CELLS,
    ClassRows,
    Spans,
    difference,
    spans_allow,
)
from stockade.model.same import same_but_origin
from stockade.model.types import (
    Cluster,
    ClusterNetworkPolicy,
    NetworkPolicy,
    Pod,
    PolicyType,
    Protocol,
)

# Fields of ``Cluster`` whose differences the row/column shortcut accounts for; a difference
# in any other field (a kind of object added to the model later) makes every pair compared.
_UNDERSTOOD = frozenset({"pods", "policies", "cluster_policies", "namespaces", "services",
                         "workloads", "notes"})
AnyPolicy = NetworkPolicy | ClusterNetworkPolicy  # keys ``ns/name`` and ``Kind/name``


def same_policy(a: AnyPolicy, b: AnyPolicy) -> bool:
    return same_but_origin(a, b)


def same_pod(a: Pod, b: Pod) -> bool:
    return same_but_origin(a, b)


@dataclass(frozen=True, slots=True)
class PolicyChanges:
    added: tuple[AnyPolicy, ...] = ()
    removed: tuple[AnyPolicy, ...] = ()
    modified: tuple[tuple[AnyPolicy, AnyPolicy], ...] = ()  # (old, new)

    def change_of(self, key: str) -> str:
        """``added``, ``removed``, ``modified`` or ``unchanged``."""
        if any(p.key == key for p in self.added):
            return "added"
        if any(p.key == key for p in self.removed):
            return "removed"
        if any(new.key == key for _, new in self.modified):
            return "modified"
        return "unchanged"

    @property
    def keys(self) -> set[str]:
        return ({p.key for p in self.added} | {p.key for p in self.removed}
                | {new.key for _, new in self.modified})


def policy_changes(old: Sequence[AnyPolicy], new: Sequence[AnyPolicy]) -> PolicyChanges:
    """Policies by ``ns/name`` (cluster-wide ones by ``Kind/name``): added, removed, and
    modified (same name, other content)."""
    before = {p.key: p for p in old}
    after = {p.key: p for p in new}
    return PolicyChanges(
        added=tuple(p for p in new if p.key not in before),
        removed=tuple(p for p in old if p.key not in after),
        modified=tuple((before[p.key], p) for p in new
                       if p.key in before and not same_policy(before[p.key], p)),
    )


@dataclass(frozen=True, slots=True)
class JointGroup:
    """Endpoints present on both sides that share a class on each side. ``members`` are
    indices into the new engine's pods (as ``BehaviourClass.members``)."""

    index: int
    namespace: str
    labels: tuple[tuple[str, str], ...]
    members: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class PairChange:
    """A pair of joint groups whose connection set differs (for distinct pods when both
    are the same group), or, with ``pods`` set, one pair of pods that differs only through
    node traffic (a host-network pod and a pod on its node, always allowed).

    A group pair is true of each of its pairs of pods but those in ``node_pairs``: the
    ones that are node traffic on a side (always allowed there whatever the policies say;
    one that changed is a change of its own, with ``pods``)."""

    source: int
    destination: int
    before: Spans
    after: Spans
    pods: tuple[int, int] | None = None  # new-engine pod indices for a node-traffic pair
    node_pairs: tuple[tuple[int, int], ...] = ()  # new-engine pod indices, sorted

    @property
    def gained(self) -> Spans:
        return difference(self.after, self.before)

    @property
    def lost(self) -> Spans:
        return difference(self.before, self.after)


class Comparison:
    """Two engines over two versions of a cluster, compared pair by pair."""

    def __init__(self, old: Engine, new: Engine) -> None:
        self.old, self.new = old, new
        old_index = {p.key: i for i, p in enumerate(old.pods)}
        new_keys = {p.key for p in new.pods}
        self.added = tuple(p.key for p in new.pods if p.key not in old_index)
        self.removed = tuple(p.key for p in old.pods if p.key not in new_keys)
        # Common endpoints: their index on each side, in the new side's order.
        self.common_new = [i for i, p in enumerate(new.pods) if p.key in old_index]
        self.common_old = [old_index[new.pods[i].key] for i in self.common_new]
        self.policies = policy_changes([*old.policies, *old.cluster_policies],
                                       [*new.policies, *new.cluster_policies])

        joint: dict[tuple[int, int], int] = {}
        members: list[list[int]] = []
        self.group_of_new: dict[int, int] = {}  # new pod index -> joint group
        for i_new, i_old in zip(self.common_new, self.common_old, strict=True):
            key = (old.pod_class[i_old], new.pod_class[i_new])
            g = joint.setdefault(key, len(members))
            if g == len(members):
                members.append([])
            members[g].append(i_new)
            self.group_of_new[i_new] = g
        self.j_old = np.array([k[0] for k in joint], dtype=np.int64)
        self.j_new = np.array([k[1] for k in joint], dtype=np.int64)
        self.groups = tuple(
            JointGroup(g, new.classes[int(self.j_new[g])].namespace,
                       new.classes[int(self.j_new[g])].labels, tuple(m))
            for g, m in enumerate(members)
        )
        self.old_rows, self.new_rows = ClassRows(old), ClassRows(new)
        self._texts: dict[str, int] = {}
        self._old_gid: list[int] = []
        self._new_gid: list[int] = []
        self._old_of_new = dict(zip(self.common_new, self.common_old, strict=True))
        self.changed_pods = frozenset() if new.pods_token is old.pods_token else frozenset(
            i for i in self.common_new
            if not same_pod(old.pods[self._old_of_new[i]], new.pods[i]))
        self._changes: list[PairChange] | None = None
        self._namespaces_differ: bool | None = None
        self._node_traffic: tuple[set[tuple[int, int]], set[tuple[int, int]]] | None = None

    # --- what may differ --------------------------------------------------------------------

    def old_pod(self, new_index: int) -> Pod:
        return self.old.pods[self._old_of_new[new_index]]

    def namespaces_differ(self) -> bool:
        """Some namespace of both sides has other labels."""
        if self._namespaces_differ is None:
            old, new = self.old.namespaces, self.new.namespaces
            self._namespaces_differ = any(old[name].labels != new[name].labels
                                          for name in old.keys() & new.keys())
        return self._namespaces_differ

    def _other_fields_differ(self) -> bool:
        a, b = self.old.cluster, self.new.cluster
        return any(getattr(a, name) != getattr(b, name)
                   for name in Cluster.__struct_fields__ if name not in _UNDERSTOOD)

    def _subjects(self, engine: Engine, keys: set[str], direction: PolicyType) -> set[int]:
        """Classes of ``engine`` isolated for ``direction`` by the policies ``keys``, or
        selected by those of them that are cluster-wide with rules of ``direction``."""
        out: set[int] = set()
        for cp in engine.compiled:
            if cp.policy.key in keys and direction in cp.rules:
                out.update(cp.subjects.members().tolist())
        for ccp in engine.tiers.compiled:
            if ccp.policy.key in keys and ccp.rules[direction]:
                out.update(ccp.subjects.members().tolist())
        return out

    def affected(self) -> tuple[npt.NDArray[np.int64] | None, npt.NDArray[np.int64]]:
        """Joint groups whose rows (as sources) and columns (as destinations) may differ;
        ``None`` for the rows means every pair must be compared."""
        if self.namespaces_differ() or self._other_fields_differ():
            return None, np.zeros(0, dtype=np.int64)
        keys = self.policies.keys
        changed = {self.group_of_new[i] for i in self.changed_pods}
        rows, cols = set(changed), set(changed)
        for direction, out in ((EGRESS, rows), (INGRESS, cols)):
            old = self._subjects(self.old, keys, direction)
            new = self._subjects(self.new, keys, direction)
            out.update(g for g in range(len(self.groups))
                       if int(self.j_old[g]) in old or int(self.j_new[g]) in new)
        return (np.array(sorted(rows), dtype=np.int64), np.array(sorted(cols), dtype=np.int64))

    # --- cells ------------------------------------------------------------------------------

    def _gids(self, rows: ClassRows, table: list[int]) -> npt.NDArray[np.int64]:
        """Shared ids of one side's texts (equal texts are equal connection sets)."""
        for text in rows.texts[len(table):]:
            table.append(self._texts.setdefault(text, len(self._texts)))
        return np.array(table, dtype=np.int64)

    def _block(self, src: npt.NDArray[np.int64], dst: npt.NDArray[np.int64]
               ) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32], npt.NDArray[np.bool_]]:
        """Old and new text ids for joint groups ``src`` x ``dst``, and where they differ."""
        o = self.old_rows.cells(self.j_old[src], self.j_old[dst])
        n = self.new_rows.cells(self.j_new[src], self.j_new[dst])
        differ = self._gids(self.old_rows, self._old_gid)[o] != self._gids(
            self.new_rows, self._new_gid)[n]
        # A group of one pod towards itself is that pod reaching itself: never a change.
        for r, g in enumerate(src):
            if len(self.groups[int(g)].members) == 1:
                differ[r, dst == g] = False
        return o, n, differ

    def _chunks(self, src: npt.NDArray[np.int64], width: int
                ) -> Iterator[npt.NDArray[np.int64]]:
        step = max(1, CHUNK_CELLS // max(1, width))
        for first in range(0, len(src), step):
            yield src[first:first + step]

    def changes(self) -> list[PairChange]:
        """Every pair of joint groups whose connection set differs, by source then
        destination, and the node-traffic pairs of pods that differ."""
        if self._changes is not None:
            return self._changes
        everyone = np.arange(len(self.groups), dtype=np.int64)
        rows, cols = self.affected()
        found: dict[tuple[int, int], PairChange] = {}
        blocks = [(rows if rows is not None else everyone, everyone)]
        if len(cols):
            blocks.append((everyone, cols))
        for src, dst in blocks:
            for chunk in self._chunks(src, len(dst)):
                o, n, differ = self._block(chunk, dst)
                for r, c in zip(*np.nonzero(differ), strict=True):
                    s, d = int(chunk[r]), int(dst[c])
                    if (s, d) not in found:
                        found[s, d] = PairChange(s, d, self.old_rows.spans[int(o[r, c])],
                                                 self.new_rows.spans[int(n[r, c])])
        special = self._node_pairs_by_group()
        changes: list[PairChange] = []
        for k in sorted(found):
            pairs = special.get(k, ())
            if not pairs:
                changes.append(found[k])
            # A group pair all of whose pairs of pods are node traffic changed in name only;
            # one with some says which pairs it is not true of.
            elif self._pair_count(*k) > len(pairs):
                changes.append(replace(found[k], node_pairs=tuple(sorted(pairs))))
        changes.extend(self._node_traffic_changes())
        self._changes = changes
        return changes

    def _pair_count(self, source: int, destination: int) -> int:
        """Ordered pairs of distinct pods between two joint groups."""
        size = len(self.groups[source].members)
        return size * (size - 1) if source == destination else size * len(
            self.groups[destination].members)

    def representatives(self, change: PairChange) -> tuple[int, int]:
        """A pair of pods (new indices) of a change that is node traffic on neither side."""
        if change.pods is not None:
            return change.pods
        special = set(change.node_pairs)
        for a in self.groups[change.source].members:
            for b in self.groups[change.destination].members:
                if a != b and (a, b) not in special:
                    return a, b
        raise AssertionError("a group pair without a pair of pods")  # filtered in changes()

    # --- node traffic -----------------------------------------------------------------------

    def _node_pairs(self, engine: Engine, index_of: Mapping[int, int]) -> set[tuple[int, int]]:
        """Ordered pairs of common pods (new indices) that exchange node traffic on one
        side; ``index_of`` maps that side's pod index to the new index."""
        pairs: set[tuple[int, int]] = set()
        for i, pod in enumerate(engine.pods):
            if not pod.host_network or i not in index_of:
                continue
            for j in engine.node_peers(i):
                if j in index_of:
                    pairs.add((index_of[i], index_of[j]))
                    pairs.add((index_of[j], index_of[i]))
        return pairs

    def node_traffic(self) -> tuple[set[tuple[int, int]], set[tuple[int, int]]]:
        """Node-traffic pairs (new pod indices) on the old side and on the new side."""
        if self._node_traffic is None:
            old_to_new = dict(zip(self.common_old, self.common_new, strict=True))
            same = {i: i for i in self.common_new}
            self._node_traffic = (self._node_pairs(self.old, old_to_new),
                                  self._node_pairs(self.new, same))
        return self._node_traffic

    def _node_pairs_by_group(self) -> dict[tuple[int, int], list[tuple[int, int]]]:
        """The pairs of pods that are node traffic on a side, by their pair of joint
        groups (none without host-network pods)."""
        before, after = self.node_traffic()
        out: dict[tuple[int, int], list[tuple[int, int]]] = {}
        for a, b in before | after:
            out.setdefault((self.group_of_new[a], self.group_of_new[b]), []).append((a, b))
        return out

    def _node_traffic_changes(self) -> list[PairChange]:
        """Pairs that are node traffic (always allowed) on one side only: the other side's
        verdict is its groups' cell."""
        before, after = self.node_traffic()
        out: list[PairChange] = []
        for a, b in sorted(before ^ after):
            ga, gb = self.group_of_new[a], self.group_of_new[b]
            src, dst = np.array([ga]), np.array([gb])
            o, n, _ = self._block(src, dst)
            old = self.old_rows.spans[0] if (a, b) in before else self.old_rows.spans[int(o[0, 0])]
            new = self.new_rows.spans[0] if (a, b) in after else self.new_rows.spans[int(n[0, 0])]
            if old != new:
                out.append(PairChange(ga, gb, old, new, pods=(a, b)))
        return out

    # --- views ------------------------------------------------------------------------------

    def pod_changes(self) -> Iterator[tuple[int, int, PairChange]]:
        """Every pair of distinct pods (new indices) whose connections differ."""
        for change in self.changes():
            if change.pods is not None:
                yield (*change.pods, change)
            else:
                yield from self._member_pairs(change)

    def _member_pairs(self, change: PairChange) -> Iterator[tuple[int, int, PairChange]]:
        """The pairs of pods (new indices) a group pair's change is true of: distinct, and
        not node traffic on a side (such a pair is its own change, if any)."""
        special = set(change.node_pairs)
        for a in self.groups[change.source].members:
            for b in self.groups[change.destination].members:
                if a != b and (a, b) not in special:
                    yield a, b, change

    def port_changes(self, protocol: Protocol, port: int, *, per_pod: bool
                     ) -> Iterator[tuple[int, int, bool, bool]]:
        """``(source, destination, now_allowed, pods)`` for every pair whose answer on one
        port differs: joint groups, or pods (new indices) when ``pods`` is true (always
        with ``per_pod``; otherwise a pair that differs through node traffic, and the pairs
        of a group pair with some node traffic in it, but that node traffic)."""
        for change in self.changes():
            was, now = (spans_allow(change.before, protocol, port),
                        spans_allow(change.after, protocol, port))
            if was == now:
                continue
            if change.pods is not None:
                yield *change.pods, now, True
            elif per_pod or change.node_pairs:
                for a, b, _ in self._member_pairs(change):
                    yield a, b, now, True
            else:
                yield change.source, change.destination, now, False
