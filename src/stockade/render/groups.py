"""Names for groups of pods that behave identically, readable at a glance.

A group of one is the pod itself (``ns/name``) or the workload (``ns/Kind/name``); replicas
sharing a name prefix read as ``ns/web-*``, workloads of one kind as ``ns/Deployment/web-*``;
otherwise the namespace and the labels that policies look at.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

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
