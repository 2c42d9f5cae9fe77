"""YAML streams to Python documents, each with the line it starts on; fast and faithful.

Kubernetes reads YAML with YAML 1.1 rules (``yes`` is a boolean, ``010`` is octal 8). PyYAML
follows them but builds every object in Python; the Rust parser ``yaml_rs`` is about ten
times faster but follows YAML 1.2. So a stream's ``yaml_rs`` reading is kept only when it
holds no value that the two versions read differently, and PyYAML reads it otherwise, and
also on any parse error, so that the error names the line as PyYAML reports it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

try:
    import yaml_rs
except ImportError:  # pragma: no cover - the fast path is optional
    yaml_rs = None  # type: ignore[assignment]

class YAMLProblem(ValueError):
    """A stream that does not parse: ``line`` is 1-based (0 when unknown)."""

    def __init__(self, line: int, problem: str) -> None:
        super().__init__(problem)
        self.line = line
        self.problem = problem


# Where YAML 1.1 and 1.2 read a plain scalar differently, 1.2 (yaml_rs) mostly yields a
# string or a float that the parsed data shows: 1.1's extra booleans, sexagesimal and
# underscored or binary integers, exponents without a dot, merge keys. Only integers with
# a leading zero (octal in 1.1) or 0o (a string in 1.1) look alike once parsed; the text is
# searched for those. A false alarm (a quoted "yes", say) only costs the slow path.
_BOOL_11 = frozenset(["yes", "Yes", "YES", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF"])
_LEADING_ZERO = re.compile(r"(?<![\w.:/+-])[-+]?0(?:[0-9_]|o[0-7])")
_SEXAGESIMAL = re.compile(r"[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?")
_UNDERSCORED = re.compile(r"[-+]?(?:0b[01_]+|[0-9][0-9_]*_[0-9_]*(?:\.[0-9_]*)?)")


def _string_differs(value: str) -> bool:
    if value in _BOOL_11 or value in ("=", "<<"):
        return True
    if ":" in value and _SEXAGESIMAL.fullmatch(value):
        return True
    return ("_" in value or "0b" in value) and _UNDERSCORED.fullmatch(value) is not None


def _differs(data: Any) -> bool:
    """Whether parsed data holds a value YAML 1.1 would have read differently."""
    stack = [data]
    while stack:
        value = stack.pop()
        kind = type(value)
        if kind is dict:
            for key, item in value.items():
                if type(key) is not str or _string_differs(key):
                    return True
                stack.append(item)
        elif kind is list:
            stack.extend(value)
        elif kind is str:
            if _string_differs(value):
                return True
        elif kind is float:
            return True
    return False


_DOC_START = re.compile(r"^---(?:[ \t\r]|$)", re.MULTILINE)
_CONTENT = re.compile(r"^[^\s#]", re.MULTILINE)


def documents(text: str) -> list[tuple[Any, int]]:
    """Every document of the stream with its first line (empty documents as ``None``)."""
    fast = fast_documents(text)
    return fast if fast is not None else list(_pyyaml(text))


def fast_documents(text: str) -> list[tuple[Any, int]] | None:
    """The ``yaml_rs`` reading of the stream, or ``None`` when it cannot be trusted to be
    what YAML 1.1 (and PyYAML) reads, or when it fails."""
    if yaml_rs is None or "!" in text or _LEADING_ZERO.search(text):
        return None
    fast = _fast(text)
    if fast is None or any(_differs(doc) for doc, _ in fast):
        return None
    return fast


def _fast(text: str) -> list[tuple[Any, int]] | None:
    assert yaml_rs is not None
    try:
        loaded = yaml_rs.loads(text, parse_datetime=False)
    except Exception:
        return None
    starts = _start_lines(text)
    if isinstance(loaded, list) and len(starts) == 1:
        return None  # one document that is a list, or several the line scan missed
    docs: list[Any] = loaded if isinstance(loaded, list) else [loaded]
    if len(docs) != len(starts):
        return None  # a layout the line scan does not follow: PyYAML knows the lines
    return list(zip(docs, starts, strict=True))


def _start_lines(text: str) -> list[int]:
    """The first line of each document: after each ``---``, or of the first content."""
    marks = [m.start() for m in _DOC_START.finditer(text)]
    lines: list[int] = []
    counted, line_no = 0, 1  # newlines are counted once, left to right

    def line_of(pos: int) -> int:
        nonlocal counted, line_no
        line_no += text.count("\n", counted, pos)
        counted = pos
        return line_no

    first = _CONTENT.search(text)
    if first is not None and (not marks or first.start() < marks[0]):
        lines.append(line_of(first.start()))
    for pos in marks:
        after = text.find("\n", pos)
        nxt = _CONTENT.search(text, after + 1) if after >= 0 else None
        # an empty document "starts" at the next marker, as in PyYAML
        lines.append(line_of(nxt.start() if nxt is not None else pos))
    return lines or [1]


def _pyyaml(text: str) -> Iterator[tuple[Any, int]]:
    import yaml  # only on the slow path: importing PyYAML costs start-up time

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                break
            data = loader.construct_document(node)
            yield data, node.start_mark.line + 1
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise YAMLProblem(mark.line + 1 if mark else 0,
                          exc.problem or exc.context or "invalid YAML") from exc
    except yaml.YAMLError as exc:
        raise YAMLProblem(0, str(exc)) from exc
    finally:
        loader.dispose()
