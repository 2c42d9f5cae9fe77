"""Fields the API server does not know, found as its strict decoding finds them.

The API server drops a field its Go types do not declare and says so in a warning
(``unknown field "spec.podSelecter"``); ``kubectl apply`` refuses the object. Either way
the field has no effect, and for a misspelt ``podSelector`` or ``metadata.labels`` that
silently changes what a policy selects. Pure: schemas of the fields stockade reads, walked
over the raw object; nothing else is checked (a ``Pod``'s spec has far more fields).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeAlias

import msgspec


class Fields(msgspec.Struct, frozen=True):
    """An object's fields: ``names`` declared, ``nested`` those with a schema of their own;
    unless ``closed``, fields not named are not checked (the parts of a spec stockade does
    not model)."""

    names: frozenset[str]
    nested: tuple[tuple[str, Schema], ...]
    closed: bool = True


class ListOf(msgspec.Struct, frozen=True):
    """An array whose items follow ``item``."""

    item: Schema


# An object, an array, or None: any value.
Schema: TypeAlias = Fields | ListOf | None


def closed(fields: Mapping[str, Schema]) -> Fields:
    return Fields(frozenset(fields), tuple((k, v) for k, v in fields.items() if v is not None))


def open_(fields: Mapping[str, Schema]) -> Fields:
    return Fields(frozenset(fields), tuple((k, v) for k, v in fields.items() if v is not None),
                  closed=False)


OBJECT_META = closed(dict.fromkeys((
    "name", "generateName", "namespace", "selfLink", "uid", "resourceVersion", "generation",
    "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "labels",
    "annotations", "ownerReferences", "finalizers", "managedFields")))

_SELECTOR = closed({
    "matchLabels": None,
    "matchExpressions": ListOf(closed(dict.fromkeys(("key", "operator", "values")))),
})
_PEER = closed({
    "podSelector": _SELECTOR, "namespaceSelector": _SELECTOR,
    "ipBlock": closed(dict.fromkeys(("cidr", "except"))),
})
_PORT = closed(dict.fromkeys(("protocol", "port", "endPort")))


def _object(spec: Schema) -> Fields:
    # NetworkPolicyStatus (1.24 to 1.27) is gone, but an old cluster's dump may have it.
    return closed({"apiVersion": None, "kind": None, "metadata": OBJECT_META, "spec": spec,
                   "status": None})


NETWORK_POLICY = _object(closed({
    "podSelector": _SELECTOR,
    "ingress": ListOf(closed({"from": ListOf(_PEER), "ports": ListOf(_PORT)})),
    "egress": ListOf(closed({"to": ListOf(_PEER), "ports": ListOf(_PORT)})),
    "policyTypes": None,
}))
_TEMPLATE = open_({"metadata": OBJECT_META})
_OBJECT = _object(None)
_WORKLOAD = _object(open_({"template": _TEMPLATE}))
CRON_JOB = _object(open_({"jobTemplate": open_({
    "metadata": OBJECT_META, "spec": open_({"template": _TEMPLATE})})}))

SCHEMAS: Mapping[str, Schema] = {
    "NetworkPolicy": NETWORK_POLICY, "Pod": _OBJECT, "Namespace": _OBJECT, "Node": _OBJECT,
    "Service": _OBJECT, "Deployment": _WORKLOAD, "ReplicaSet": _WORKLOAD,
    "StatefulSet": _WORKLOAD, "DaemonSet": _WORKLOAD, "Job": _WORKLOAD,
    "ReplicationController": _WORKLOAD, "CronJob": CRON_JOB,
}


def unknown_fields(value: Any, schema: Schema) -> list[str]:
    """The paths of the fields of ``value`` that ``schema`` does not declare. Values of the
    wrong type are left alone (decoding reports them)."""
    found: list[str] = []
    _walk(value, schema, [], found)
    return found


def _path(segments: list[str | int], key: str) -> str:
    text = "".join(f"[{s}]" if isinstance(s, int) else f".{s}" for s in (*segments, key))
    return text[1:]


def _walk(value: Any, schema: Schema, segments: list[str | int], found: list[str]) -> None:
    # The path is a stack of segments, made into text only for an unknown field: most
    # objects have none, and formatting every path would cost more than the walk.
    if isinstance(schema, ListOf):
        if isinstance(value, list):
            for i, item in enumerate(value):
                segments.append(i)
                _walk(item, schema.item, segments, found)
                segments.pop()
        return
    if schema is None or (type(value) is not dict and not isinstance(value, Mapping)):
        return  # (parsed manifests hold dicts: the ABC's slower check is for the rest)
    if schema.closed and not value.keys() <= schema.names:
        found.extend(_path(segments, key) for key in value if key not in schema.names)
    for key, child in schema.nested:
        item = value.get(key)
        if item is not None:
            segments.append(key)
            _walk(item, child, segments, found)
            segments.pop()
