"""Lines of fields inside manifest objects: ``spec.egress[1].to[0]`` -> line 23.

Reading keeps only each object's first line (the fast path never builds a node tree). When
a finding needs the line of a field, the file's text is composed once with PyYAML (which
keeps positions; JSON is YAML too) and the field's path is followed in the node tree.
Only files that are asked about are composed, split into documents as kubectl splits them
(``yaml_stream``). Pure over the texts it is given.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Mapping, Sequence
from typing import Any

from stockade.model.types import Origin
from stockade.sources.yaml_stream import kubectl_text

_SEGMENT = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _scalar(node: Any, key: str) -> str | None:
    """The string value of a mapping node's key, or ``None``."""
    for k, v in node.value:
        if k.value == key and v.tag.endswith(":str"):
            return str(v.value)
        if k.value == key and v.tag.endswith(":map"):
            return None
    return None


Query = tuple[Origin, str, str, str]  # (object origin, kind, name, field path)


class SourceMap:
    """Field lines for the files whose texts it holds (others answer 0: unknown)."""

    def __init__(self, texts: Mapping[str, str]) -> None:
        self.texts = texts

    def lines(self, queries: Sequence[Query]) -> list[int]:
        """The line of each query's field (see ``line_in``); each file is composed once,
        and its node tree dropped before the next file's."""
        out = [0] * len(queries)
        by_file: dict[str, list[int]] = {}
        for i, (origin, _, _, _) in enumerate(queries):
            by_file.setdefault(origin.file, []).append(i)
        for name, indices in by_file.items():
            objects = self._objects(name)
            for i in indices:
                origin, kind, obj_name, path = queries[i]
                out[i] = line_in(objects, origin, kind, obj_name, path)
        return out

    def _objects(self, name: str) -> list[tuple[int, str, str, Any]]:
        text = self.texts.get(name)
        if text is None:
            return []
        import yaml  # only when a field's line is asked for

        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        found: list[tuple[int, str, str, Any]] = []
        # Node trees are many small objects kept alive: the cyclic collector would walk
        # them again and again while they grow (ten times the composing itself).
        enabled = gc.isenabled()
        gc.disable()
        try:
            for doc in yaml.compose_all(kubectl_text(text), Loader=loader):
                _collect(doc, found)
        except yaml.YAMLError:
            return []
        finally:
            if enabled:
                gc.enable()
        return found


def _collect(node: Any, out: list[tuple[int, str, str, Any]]) -> None:
    """The manifest objects of a document (a List's items one by one)."""
    if node is None or not node.tag.endswith(":map"):
        return
    kind = _scalar(node, "kind") or ""
    for k, v in node.value:
        if kind.endswith("List") and k.value == "items" and v.tag.endswith(":seq"):
            for item in v.value:
                _collect(item, out)
            return
    name = ""
    for k, v in node.value:
        if k.value == "metadata" and v.tag.endswith(":map"):
            name = _scalar(v, "name") or ""
    out.append((node.start_mark.line + 1, kind, name, node))


def line_in(objects: Sequence[tuple[int, str, str, Any]], origin: Origin, kind: str,
            name: str, path: str) -> int:
    """The 1-based line of ``path`` in the object (kind, name) read at ``origin``: the
    deepest part of the path that exists; 0 when the object is not found."""
    candidates = [(abs(line - origin.line), node)
                  for line, k, n, node in objects if (k, n) == (kind, name)]
    if not candidates:
        return 0
    node = min(candidates, key=lambda c: c[0])[1]
    return _walk(node, path)


def _walk(node: Any, path: str) -> int:
    """The line of the deepest part of ``path`` that exists below ``node``."""
    at: int = node.start_mark.line + 1
    for match in _SEGMENT.finditer(path):
        key, index = match.group(1), match.group(2)
        if key is not None and node.tag.endswith(":map"):
            pair = next(((k, v) for k, v in node.value if k.value == key), None)
            if pair is None:
                break
            at, node = pair[0].start_mark.line + 1, pair[1]
        elif (index is not None and node.tag.endswith(":seq")
              and int(index) < len(node.value)):
            node = node.value[int(index)]
            at = node.start_mark.line + 1
        else:
            break
    return at


class DocumentLines:
    """Lines of fields in the documents of one text, whatever a document holds (a netassert
    test file is one list, with no ``kind`` to find it by)."""

    def __init__(self, text: str) -> None:
        import yaml

        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        try:
            self.documents = [d for d in yaml.compose_all(kubectl_text(text), Loader=loader)
                              if d is not None]
        except yaml.YAMLError:
            self.documents = []

    def line(self, first_line: int, path: str) -> int:
        """The line of ``path`` in the first document that starts on ``first_line`` or
        after it; 0 when there is none."""
        for document in self.documents:
            if document.start_mark.line + 1 >= first_line:
                return _walk(document, path)
        return 0
