"""Render objects read from a cluster as one multi-document YAML file, a "snapshot".

Pure: text in, text out. The objects are already in manifest shape (``cluster_clean``), so
``stockade matrix snapshot.yaml`` reads back exactly what ``--cluster`` would have read, and
a snapshot can be kept in git, diffed, and analysed offline.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import yaml

from stockade.model.build import RawObject
from stockade.wording import count

try:
    _Dumper: Any = yaml.CSafeDumper
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Dumper = yaml.SafeDumper


def render_snapshot(objects: Sequence[RawObject], header: Sequence[str] = ()) -> str:
    """``# header`` comment lines, then one ``---`` document per object, in the given order."""
    lines = [f"# {line}".rstrip() for line in header]
    body = yaml.dump_all(
        [dict(obj.data) for obj in objects], Dumper=_Dumper, sort_keys=False,
        default_flow_style=False, allow_unicode=True, explicit_start=True, width=100,
    ) if objects else ""
    return "\n".join(lines) + ("\n" if lines else "") + body


def summarise(objects: Sequence[RawObject]) -> str:
    """``3 Namespaces, 2 NetworkPolicies, 12 Pods``: what a snapshot holds, kinds in order."""
    counts = Counter(obj.kind for obj in objects)
    parts = [count(n, kind) for kind, n in counts.items()]
    return ", ".join(parts) if parts else "no objects"

