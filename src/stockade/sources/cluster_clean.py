"""Trim objects read from the API server down to what a manifest needs, keeping meaning.

Drops bookkeeping (managedFields, uid, resourceVersion, timestamps, last-applied annotations)
and status, except a Pod's phase and IPs and a Node's addresses. Pure: used both by the live
reader and by the snapshot writer, so a snapshot reads back exactly as the cluster was read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_KEEP_METADATA = ("name", "generateName", "namespace", "labels", "annotations",
                  "ownerReferences", "deletionTimestamp")
_KEEP_OWNER = ("apiVersion", "kind", "name", "controller")
_NOISY_ANNOTATIONS = ("kubectl.kubernetes.io/last-applied-configuration",)
_KEEP_POD_STATUS = ("phase", "podIP", "podIPs", "hostIP", "hostIPs")
_KEEP_NODE_STATUS = ("addresses",)


def clean_object(obj: Mapping[str, Any], *, api_version: str, kind: str) -> dict[str, Any]:
    """The object with ``apiVersion`` and ``kind`` set (list items lack them) and noise removed."""
    out: dict[str, Any] = {"apiVersion": api_version, "kind": kind}
    meta = obj.get("metadata")
    if isinstance(meta, Mapping):
        out["metadata"] = _clean_metadata(meta)
    for key, value in obj.items():
        if key in ("apiVersion", "kind", "metadata", "status"):
            continue
        out[key] = value
    status = obj.get("status")
    keep = {"Pod": _KEEP_POD_STATUS, "Node": _KEEP_NODE_STATUS}.get(kind, ())
    if keep and isinstance(status, Mapping):
        kept = {k: status[k] for k in keep if k in status}
        if kept:
            out["status"] = kept
    return out


def _clean_metadata(meta: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in _KEEP_METADATA:
        if key not in meta:
            continue
        value = meta[key]
        if key == "annotations" and isinstance(value, Mapping):
            value = {k: v for k, v in value.items() if k not in _NOISY_ANNOTATIONS}
            if not value:
                continue
        if key == "ownerReferences" and isinstance(value, list):
            value = [{k: ref[k] for k in _KEEP_OWNER if k in ref}
                     if isinstance(ref, Mapping) else ref for ref in value]
        out[key] = value
    return out
