"""YAML streams to Python documents, each with the line it starts on; fast and faithful.

Kubernetes reads YAML with YAML 1.1 rules (``yes`` is a boolean, ``010`` is octal 8). PyYAML
follows them but builds every object in Python; the Rust parser ``yaml_rs`` is about ten
times faster but follows YAML 1.2. So a stream goes through ``yaml_rs`` only when it holds
no plain scalar that the two versions read differently, and through PyYAML otherwise, and
also for any parse error, so that the error names the line as PyYAML reports it.
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


# Plain scalars that YAML 1.1 and YAML 1.2 read differently: the 1.1-only booleans, ints with
# a leading zero or underscores, sexagesimal and binary ints, exponents without a dot. False
# positives (inside a longer string, say) only cost the slow path.
_VERSION_SENSITIVE = re.compile(
    r"""(?<![^\s\[{,])
        (?: (?:y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF)
          | [-+]?0[0-9_]+
          | [-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?
          | [-+]?0b[01_]+ | [-+]?0o[0-7_]+
          | [-+]?[0-9][0-9_]*_[0-9_]*
          | [-+]?[0-9]+[eE][-+]?[0-9]+
          | = | <<
        )[ \t]*(?:$|[,\]}\#]|:(?=[ \t]|$))""",
    re.MULTILINE | re.VERBOSE,
)
_DOC_START = re.compile(r"^---(?:[ \t\r]|$)", re.MULTILINE)
_CONTENT = re.compile(r"^[^\s#]", re.MULTILINE)


def documents(text: str) -> list[tuple[Any, int]]:
    """Every document of the stream with its first line (empty documents as ``None``)."""
    if yaml_rs is not None and not _VERSION_SENSITIVE.search(text) and "!" not in text:
        fast = _fast(text)
        if fast is not None:
            return fast
    return list(_pyyaml(text))


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
