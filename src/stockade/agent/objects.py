"""What the watches delivered, kept by kind and key, and turned into ``NodeRules`` changes.

A list is whole: after a relist, what it no longer holds was deleted meanwhile, and what
changed (a different ``resourceVersion``) is set again. Objects are decoded as the files
and the live reader decode them; one that stockade's validation objects to is still
enforced as the API server stored it (and logged), since dropping a policy would open
what it closes. A pod whose phase is Succeeded or Failed has released its address (the
next pod may get it) and counts as gone, as in every analysis (``build_cluster``) and as
kube-network-policies and Calico treat it. Cluster-wide policies (ClusterNetworkPolicy,
AdminNetworkPolicy, BaselineAdminNetworkPolicy) are checked as their CRDs' schema and rules
check them; one that fails (which the API server would not have stored) cannot be decoded,
so it is logged and left out.
Pure: values in, changes out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from stockade.engine.node_rules import NodeRules, Touched
from stockade.model.build import TERMINAL_PHASES, RawObject, decode_object
from stockade.model.cluster_policies import check_cluster_policy
from stockade.model.types import ClusterNetworkPolicy, Namespace, NetworkPolicy, Node, Pod
from stockade.sources.cluster_kinds import CLUSTER_POLICIES

CLUSTER_KINDS = tuple(k.kind for k in CLUSTER_POLICIES)
KINDS = ("Namespace", "Node", "Pod", "NetworkPolicy", *CLUSTER_KINDS)


def key_of(raw: RawObject) -> str:
    meta = raw.data.get("metadata") or {}
    name = str(meta.get("name") or "")
    namespace = str(meta.get("namespace") or "")
    return f"{namespace}/{name}" if raw.kind in ("Pod", "NetworkPolicy") else name


def _version(raw: RawObject) -> str:
    meta = raw.data.get("metadata") or {}
    return str(meta.get("resourceVersion") or "")


@dataclass(slots=True)
class Decoded:
    # None: as good as deleted
    obj: Namespace | Node | Pod | NetworkPolicy | ClusterNetworkPolicy | None
    problems: list[str] = field(default_factory=list)  # what validation found, worded


def decode(raw: RawObject) -> Decoded:
    key = key_of(raw)
    if raw.kind in CLUSTER_KINDS:
        checked = check_cluster_policy(raw.data, raw.origin)
        problems = [f"{raw.kind} {key}: {e}" for e in checked.errors]
        if checked.policy is None:
            problems.append(f"{raw.kind} {key}: not enforced (it cannot be read as valid)")
        return Decoded(checked.policy, problems)
    obj, errors = decode_object(raw)
    problems = [f"{raw.kind} {key}: {e}" for e in errors]
    if isinstance(obj, Pod):
        phase = (raw.data.get("status") or {}).get("phase")
        if phase in TERMINAL_PHASES:
            return Decoded(None)
        return Decoded(obj, problems)
    if isinstance(obj, Namespace | Node | NetworkPolicy):
        return Decoded(obj, problems)
    return Decoded(None, [f"{raw.kind} {key}: not a kind the agent follows"])


class Objects:
    """The objects of every kind the agent watches, and the node's rules over them."""

    def __init__(self, rules: NodeRules) -> None:
        self.rules = rules
        self.raw: dict[str, dict[str, RawObject]] = {k: {} for k in KINDS}
        self.problems: list[str] = []  # since last taken: objects validation objects to

    def counts(self) -> dict[str, int]:
        return {k: len(v) for k, v in self.raw.items()}

    def take_problems(self) -> list[str]:
        found, self.problems = self.problems, []
        return found

    def _decoded(self, raw: RawObject) -> Any:
        found = decode(raw)
        self.problems += found.problems
        return found.obj

    def load(self, listed: Mapping[str, Iterable[RawObject]]) -> Touched:
        """Everything at once (the first complete list of every kind)."""
        objects: dict[str, list[Any]] = {k: [] for k in KINDS}
        for kind in KINDS:
            self.raw[kind] = {key_of(r): r for r in listed.get(kind, ())}
            for raw in self.raw[kind].values():
                obj = self._decoded(raw)
                if obj is not None:
                    objects[kind].append(obj)
        return self.rules.load(objects["Pod"], objects["Namespace"], objects["NetworkPolicy"],
                               objects["Node"],
                               [p for k in CLUSTER_KINDS for p in objects[k]])

    def relisted(self, kind: str, objects: Iterable[RawObject]) -> Touched:
        """A list after the first: the differences from what was known, as changes."""
        new = {key_of(r): r for r in objects}
        touched = Touched()
        for key in sorted(set(self.raw[kind]) - set(new)):
            touched.merge(self._set(kind, key, None))
        for key, raw in new.items():
            old = self.raw[kind].get(key)
            if old is None or _version(old) != _version(raw) or not _version(raw):
                touched.merge(self._set(kind, key, raw))
        return touched

    def changed(self, kind: str, action: str, raw: RawObject) -> Touched:
        """One watch event."""
        return self._set(kind, key_of(raw), None if action == "DELETED" else raw)

    def _set(self, kind: str, key: str, raw: RawObject | None) -> Touched:
        if raw is None:
            self.raw[kind].pop(key, None)
            obj = None
        else:
            self.raw[kind][key] = raw
            obj = self._decoded(raw)
        if kind == "Pod":
            return self.rules.set_pod(key, obj)
        if kind == "NetworkPolicy":
            return self.rules.set_policy(key, obj)
        if kind == "Namespace":
            return self.rules.set_namespace(key, obj)
        if kind in CLUSTER_KINDS:
            return self.rules.set_cluster_policy(f"{kind}/{key}", obj)
        return self.rules.set_node(key, obj)
