"""A diff as data for renderers: named endpoints, policies added, removed and modified,
and each changed pair with its connection sets before and after and why. Pure.

Joint groups are named by the caller (the CLI names them as ``matrix`` names groups), so
that this stays free of presentation; ``per_pod`` lists every pair of pods instead. A pair
of groups names the pairs of their pods it is not true of (node traffic).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from stockade.engine.attribution import Attributor, Cause
from stockade.engine.diff import Comparison, PairChange, PolicyChanges
from stockade.engine.matrix import Spans, spans_text
from stockade.model.types import Protocol


@dataclass(frozen=True, slots=True)
class ConnectionChange:
    """What ``source`` may open to ``destination`` (groups, or pods with ``--pods``)."""

    source: str
    destination: str
    before: str
    after: str
    gained: str
    lost: str
    because: tuple[Cause, ...] = ()
    node_traffic: bool = False  # a pair of pods that differs through node traffic
    # Pairs of pods of the groups this is not true of: node traffic on a side, always
    # allowed there (one that changed is listed on its own, with ``node_traffic``).
    except_pairs: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class DiffResult:
    endpoints_added: tuple[str, ...]
    endpoints_removed: tuple[str, ...]
    policies: PolicyChanges
    connections: tuple[ConnectionChange, ...]
    per_pod: bool
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)  # name -> endpoints
    pairs: int = 0  # ordered pairs of distinct common endpoints compared

    @property
    def changed(self) -> bool:
        """Connections differ, or endpoints were added or removed."""
        return bool(self.connections or self.endpoints_added or self.endpoints_removed)


@dataclass(frozen=True, slots=True)
class PortResult:
    """One ``--port``: sources and the destinations they may now reach (``added``) or
    no longer reach (``removed``) on it; only sources with entries."""

    port: int
    protocol: Protocol
    added: dict[str, list[str]]
    removed: dict[str, list[str]]


def _entry(name_a: str, name_b: str, change: PairChange, because: tuple[Cause, ...], *,
           node: bool = False, excepted: tuple[tuple[str, str], ...] = ()
           ) -> ConnectionChange:
    def text(spans: Spans) -> str:
        return spans_text(spans)

    gained, lost = change.gained, change.lost
    return ConnectionChange(name_a, name_b, text(change.before), text(change.after),
                            text(gained) if gained else "", text(lost) if lost else "",
                            because, node, excepted)


def diff_result(cmp: Comparison, names: Sequence[str], *, per_pod: bool = False,
                explain: bool = True) -> DiffResult:
    """The comparison's changes, per group pair (``names[g]`` names joint group ``g``) or
    per pod pair; ``explain`` attributes each change to policy edits."""
    attributor = Attributor(cmp) if explain else None
    memo: dict[int, tuple[Cause, ...]] = {}

    def because(k: int, change: PairChange) -> tuple[Cause, ...]:
        if attributor is None:
            return ()
        if k not in memo:
            memo[k] = attributor.explain(change)
        return memo[k]

    pods = cmp.new.pods
    entries: list[ConnectionChange] = []
    if per_pod:
        index = {id(c): k for k, c in enumerate(cmp.changes())}
        for a, b, change in sorted(cmp.pod_changes(), key=lambda t: (t[0], t[1])):
            entries.append(_entry(pods[a].key, pods[b].key, change,
                                  because(index[id(change)], change),
                                  node=change.pods is not None))
    else:
        for k, change in enumerate(cmp.changes()):
            if change.pods is not None:
                a, b = change.pods
                entries.append(_entry(pods[a].key, pods[b].key, change, because(k, change),
                                      node=True))
            else:
                excepted = tuple((pods[a].key, pods[b].key) for a, b in change.node_pairs)
                entries.append(_entry(names[change.source], names[change.destination], change,
                                      because(k, change), excepted=excepted))
    groups = {} if per_pod else {
        names[g.index]: tuple(pods[m].key for m in g.members) for g in cmp.groups}
    common = len(cmp.common_new)
    return DiffResult(cmp.added, cmp.removed, cmp.policies, tuple(entries), per_pod, groups,
                      common * (common - 1))


def port_results(cmp: Comparison, ports: Sequence[tuple[int, Protocol]], names: Sequence[str],
                 *, per_pod: bool = False) -> list[PortResult]:
    """Per port, the pairs whose answer differs, as the ``--port`` JSON lists them."""
    pods = cmp.new.pods
    results: list[PortResult] = []
    for port, protocol in ports:
        added: dict[str, list[str]] = {}
        removed: dict[str, list[str]] = {}
        found = cmp.port_changes(protocol, port, per_pod=per_pod)
        for a, b, now, by_pod in sorted(found, key=lambda t: (t[3], t[0], t[1])):
            src, dst = (pods[a].key, pods[b].key) if by_pod else (names[a], names[b])
            (added if now else removed).setdefault(src, []).append(dst)
        results.append(PortResult(port, protocol, added, removed))
    return results
