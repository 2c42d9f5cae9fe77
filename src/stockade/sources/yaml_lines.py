"""Lines of fields inside YAML documents: where ``spec.ingress[1]`` of the object that
starts on line 12 is, so that a diff or a test failure can point at the very line.

Only asked about a few objects per run, so PyYAML's node composer (which keeps every
node's position) reads the text again here rather than slowing down the common path.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def split_path(path: str) -> list[str | int]:
    """``spec.ingress[0].from[1]`` -> ``["spec", "ingress", 0, "from", 1]``."""
    steps: list[str | int] = []
    for name, index in _STEP.findall(path):
        steps.append(int(index) if index else name)
    return steps


class FieldLines:
    """The node tree of one file's text, for looking up lines of fields."""

    def __init__(self, text: str) -> None:
        import yaml  # PyYAML only when a line is asked for

        self._yaml = yaml
        try:
            loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
            self.roots: list[Any] = list(yaml.compose_all(text, Loader=loader))
        except yaml.YAMLError:
            self.roots = []

    def _mappings(self, node: Any) -> Iterator[Any]:
        """Every mapping node, outermost first (objects of a List sit inside one)."""
        stack = [node]
        while stack:
            current = stack.pop()
            if isinstance(current, self._yaml.MappingNode):
                yield current
                stack.extend(reversed([v for _, v in current.value]))
            elif isinstance(current, self._yaml.SequenceNode):
                stack.extend(reversed(current.value))

    def _object_at(self, line: int) -> Any:
        for root in self.roots:
            if root is None:
                continue
            for node in self._mappings(root):
                if node.start_mark.line + 1 == line and _has_key(node, "kind"):
                    return node
                if node.start_mark.line + 1 > line:
                    break
        return None

    def line(self, object_line: int, path: str) -> int:
        """The line of ``path`` in the object starting on ``object_line`` (the deepest
        part of the path that exists; the object's own line when nothing is found)."""
        node = self._object_at(object_line)
        return object_line if node is None else self._walk(node, path)

    def value_line(self, object_line: int, path: str) -> int:
        """As ``line``, for a path into the first document starting on ``object_line`` or
        after it, whatever it holds (a netassert file is one list)."""
        for root in self.roots:
            if root is not None and root.start_mark.line + 1 >= object_line:
                return self._walk(root, path)
        return object_line

    def _walk(self, node: Any, path: str) -> int:
        found: int = node.start_mark.line + 1
        for step in split_path(path):
            child = _child(node, step, self._yaml)
            if child is None:
                break
            found, node = child
        return found


def _has_key(node: Any, key: str) -> bool:
    return any(getattr(k, "value", None) == key for k, _ in node.value)


def _child(node: Any, step: str | int, yaml: Any) -> tuple[int, Any] | None:
    """(line, node) of a key's value (the key's line) or of a list item."""
    if isinstance(step, int):
        if isinstance(node, yaml.SequenceNode) and step < len(node.value):
            item = node.value[step]
            return item.start_mark.line + 1, item
        return None
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if getattr(key, "value", None) == step:
                return key.start_mark.line + 1, value
    return None


class Locator:
    """Lines of fields in the files objects were read from: from texts already in memory
    (a git revision's) or read again from disk; anything else (stdin, a cluster) keeps
    the object's own line."""

    def __init__(self, texts: dict[str, str] | None = None) -> None:
        self._texts = dict(texts or {})
        self._files: dict[str, FieldLines | None] = {}
        self._lines: dict[tuple[str, int, str], int] = {}

    def _file(self, name: str) -> FieldLines | None:
        if name not in self._files:
            text = self._texts.get(name)
            if text is None and not name.startswith("<"):
                try:
                    with open(name, encoding="utf-8") as fh:
                        text = fh.read()
                except (OSError, UnicodeDecodeError):
                    text = None
            self._files[name] = FieldLines(text) if text is not None else None
        return self._files[name]

    def line(self, file: str, object_line: int, path: str) -> int:
        key = (file, object_line, path)
        found = self._lines.get(key)
        if found is None:
            lines = self._file(file) if path and object_line else None
            found = lines.line(object_line, path) if lines is not None else object_line
            self._lines[key] = found
        return found
