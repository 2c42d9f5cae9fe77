"""Render objects read from a cluster as one multi-document YAML file, a "snapshot" (or as
one JSON ``List``, the form read fastest).

Pure: text in, text out. The objects are already in manifest shape (``cluster_clean``), so
``stockade matrix snapshot.yaml`` reads back exactly what ``--cluster`` would have read, and
a snapshot can be kept in git, diffed, and analysed offline.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from typing import Any

import yaml

from stockade.model.build import RawObject
from stockade.sources.yaml_scalars import resolve_plain
from stockade.wording import count

try:
    _Base: Any = yaml.CSafeDumper
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Base = yaml.SafeDumper


class SnapshotDumper(_Base):  # type: ignore[misc]
    """Quotes every string that go-yaml, which kubectl and stockade read YAML as, would
    not read back as that string (``y``, ``n``, ``1e3``, ``0o17``), not only those PyYAML's
    own resolver would."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        tag = super().resolve(kind, value, implicit)
        if (kind is yaml.ScalarNode and implicit[0] and tag == "tag:yaml.org,2002:str"
                and resolve_plain(value) != value):
            return "tag:yaml.org,2002:bool"  # any tag but str: the emitter quotes it
        return tag


def render_snapshot(objects: Sequence[RawObject], header: Sequence[str] = ()) -> str:
    """``# header`` comment lines, then one ``---`` document per object, in the given order."""
    lines = [f"# {line}".rstrip() for line in header]
    body = yaml.dump_all(
        [dict(obj.data) for obj in objects], Dumper=SnapshotDumper, sort_keys=False,
        default_flow_style=False, allow_unicode=True, explicit_start=True, width=100,
    ) if objects else ""
    return "\n".join(lines) + ("\n" if lines else "") + body


SNAPSHOT_ANNOTATION = "stockade.snapshot/header"


def render_snapshot_json(objects: Sequence[RawObject], header: Sequence[str] = ()) -> str:
    """One ``List`` as ``kubectl get -o json`` writes it, an item per line, the header's
    lines in an annotation of the List (JSON has no comments): the fast form to read back
    for large clusters."""
    meta: dict[str, object] = {"resourceVersion": ""}
    if header:
        meta["annotations"] = {SNAPSHOT_ANNOTATION: "\n".join(header)}
    items = ",\n".join(json.dumps(obj.data, ensure_ascii=False, separators=(",", ":"))
                        for obj in objects)
    return ('{"apiVersion":"v1","kind":"List","metadata":'
            + json.dumps(meta, ensure_ascii=False, separators=(",", ":"))
            + ',"items":[' + ("\n" + items + "\n" if items else "") + "]}\n")


def summarise(objects: Sequence[RawObject]) -> str:
    """``3 Namespaces, 2 NetworkPolicies, 12 Pods``: what a snapshot holds, kinds in order."""
    counts = Counter(obj.kind for obj in objects)
    parts = [count(n, kind) for kind, n in counts.items()]
    return ", ".join(parts) if parts else "no objects"

