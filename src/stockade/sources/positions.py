"""Lines of fields inside manifest objects: ``spec.egress[1].to[0]`` -> line 23.

Reading keeps only each object's first line (the fast path never builds a node tree). When
a finding needs the line of a field, the file's text is composed once with PyYAML (which
keeps positions; JSON is YAML too) and the field's path is followed in the node tree.
Only files that are asked about are composed. Pure over the texts it is given.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from stockade.model.types import Origin

_SEGMENT = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _scalar(node: Any, key: str) -> str | None:
    """The string value of a mapping node's key, or ``None``."""
    for k, v in node.value:
        if k.value == key and v.tag.endswith(":str"):
            return str(v.value)
        if k.value == key and v.tag.endswith(":map"):
            return None
    return None


class SourceMap:
    """Field lines for the files whose texts it holds (others answer 0: unknown)."""

    def __init__(self, texts: Mapping[str, str]) -> None:
        self.texts = texts
        self._objects: dict[str, list[tuple[int, str, str, Any]]] = {}

    def _file(self, name: str) -> list[tuple[int, str, str, Any]]:
        found = self._objects.get(name)
        if found is not None:
            return found
        import yaml  # only when a field's line is asked for

        found = []
        text = self.texts.get(name)
        if text is not None:
            loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
            try:
                for doc in yaml.compose_all(text, Loader=loader):
                    self._collect(doc, found)
            except yaml.YAMLError:
                found = []
        self._objects[name] = found
        return found

    def _collect(self, node: Any, out: list[tuple[int, str, str, Any]]) -> None:
        if node is None or not node.tag.endswith(":map"):
            return
        kind = _scalar(node, "kind") or ""
        for k, v in node.value:
            if kind.endswith("List") and k.value == "items" and v.tag.endswith(":seq"):
                for item in v.value:
                    self._collect(item, out)
                return
        name = ""
        for k, v in node.value:
            if k.value == "metadata" and v.tag.endswith(":map"):
                name = _scalar(v, "name") or ""
        out.append((node.start_mark.line + 1, kind, name, node))

    def line(self, origin: Origin, kind: str, name: str, path: str) -> int:
        """The 1-based line of ``path`` in the object (kind, name) read at ``origin``; the
        deepest part of the path that exists when the rest does not; 0 when unknown."""
        candidates = [(abs(line - origin.line), node)
                      for line, k, n, node in self._file(origin.file) if (k, n) == (kind, name)]
        if not candidates:
            return 0
        node = min(candidates, key=lambda c: c[0])[1]
        at = node.start_mark.line + 1
        for match in _SEGMENT.finditer(path):
            key, index = match.group(1), match.group(2)
            if key is not None and node.tag.endswith(":map"):
                pair = next(((k, v) for k, v in node.value if k.value == key), None)
                if pair is None:
                    break
                at, node = pair[0].start_mark.line + 1, pair[1]
            elif index is not None and node.tag.endswith(":seq") and int(index) < len(
                    node.value):
                node = node.value[int(index)]
                at = node.start_mark.line + 1
            else:
                break
        return at
