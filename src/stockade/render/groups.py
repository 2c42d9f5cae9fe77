"""Names for groups of pods that behave identically, readable at a glance.

A group of one is the pod itself (``ns/name``) or the workload (``ns/Kind/name``); replicas
sharing a name prefix read as ``ns/web-*``, workloads of one kind as ``ns/Deployment/web-*``;
otherwise the namespace and the labels that policies look at.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple, Protocol

from stockade.model.types import Pod


class Group(Protocol):
    """Pods behaving alike: a behaviour class, or a diff's joint group."""

    @property
    def namespace(self) -> str: ...
    @property
    def labels(self) -> tuple[tuple[str, str], ...]: ...
    @property
    def members(self) -> tuple[int, ...]: ...


def _prefix(names: Sequence[str]) -> str:
    first, last = min(names), max(names)
    size = 0
    while size < min(len(first), len(last)) and first[size] == last[size]:
        size += 1
    common = first[:size]
    cut = max(common.rfind("-"), common.rfind("."), common.rfind("/"))
    return common[: cut + 1] if cut > 0 else ""


def group_names(classes: Sequence[Group], pods: Sequence[Pod],
                owner: Mapping[str, str] | None = None, *,
                keys: Sequence[str] | None = None) -> list[str]:
    """A name per class. With ``owner`` (pod key -> workload key), a group of pods one
    workload owns is named after the workload (``shop/Deployment/web``). ``keys``: the
    pods' keys, when the caller has them."""
    if keys is None:
        keys = [p.key for p in pods]
    names: list[str] = []
    used: dict[str, int] = {}
    for cls in classes:
        members = [keys[i] for i in cls.members]
        owners = {owner.get(key) for key in members} if owner else {None}
        if len(owners) == 1 and None not in owners:
            name = str(next(iter(owners)))
        elif len(members) == 1:
            name = members[0]
        else:
            # A workload reads as Kind/name, so a prefix never mixes pods and workloads.
            prefix = _prefix([key.partition("/")[2] for key in members])
            if prefix:
                name = f"{cls.namespace}/{prefix}*"
            else:
                labels = ",".join(f"{k}={v}" for k, v in cls.labels) or "*"
                name = f"{cls.namespace}/{{{labels}}}"
        count = used.get(name, 0)
        used[name] = count + 1
        names.append(name if count == 0 else f"{name}#{count + 1}")
    return names


class Part(NamedTuple):
    """Some members of a behaviour class, shown as a group of their own (``matrix
    --services`` splits a group whose members reach a Service differently)."""

    namespace: str
    labels: tuple[tuple[str, str], ...]
    members: tuple[int, ...]


def part_names(classes: Sequence[Group], pod_class: Sequence[int], pods: Sequence[Pod],
               parts: Sequence[Sequence[int]], owner: Mapping[str, str] | None = None,
               ) -> list[str]:
    """``group_names`` of ``parts`` (pod indices, each within one class). A part is named
    after the workload owning its pods only when no other part of its class holds some of
    that workload's pods: the others read as pods (``ns/api-7f9c-x2`` or ``ns/api-7f9c-*``)."""
    keys = [p.key for p in pods]
    owners_in: dict[int, dict[str | None, int]] = {}  # class -> owner -> parts holding it
    for members in parts:
        seen = {owner.get(keys[i]) for i in members} if owner else {None}
        counts = owners_in.setdefault(pod_class[members[0]], {})
        for found in seen:
            counts[found] = counts.get(found, 0) + 1
    divided = {(cls, found) for cls, counts in owners_in.items()
               for found, n in counts.items() if n > 1 and found is not None}
    kept: Mapping[str, str] | None = owner
    if owner and divided:
        dropped = dict(owner)
        split = {cls for cls, _ in divided}
        for members in parts:
            cls = pod_class[members[0]]
            if cls in split:
                for i in members:
                    if (cls, owner.get(keys[i])) in divided:
                        dropped.pop(keys[i], None)
        kept = dropped
    groups = [Part(classes[pod_class[m[0]]].namespace, classes[pod_class[m[0]]].labels,
                   tuple(m)) for m in parts]
    return group_names(groups, pods, kept, keys=keys)
