"""Documents split where kubectl splits a stream, compared with the rule of apimachinery's
``pkg/util/yaml/decoder.go`` (``YAMLReader.Read``, which ``NewYAMLOrJSONDecoder`` and so
``kubectl apply -f`` read YAML streams with), written out here as a table and transcribed as
a reference splitter: a line that starts with ``---`` ends a document; what follows the
``---``, once ``strings.TrimSpace`` (Go's ``unicode.IsSpace``) has trimmed it, must be empty
or start with ``#``, else "invalid Yaml document separator"; the separator line is dropped
and separators with nothing before them make no document."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stockade.errors import InputError
from stockade.sources import yaml_docs
from stockade.sources.files import parse_text
from stockade.sources.positions import DocumentLines
from stockade.sources.yaml_stream import kubectl_view, separator_line, separator_offsets

# unicode.IsSpace in Go: '\t', '\n', '\v', '\f', '\r', ' ', U+0085, U+00A0, and the other
# characters with Unicode's White_Space property.
GO_IS_SPACE = "\t\n\v\f\r \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + \
    "\u2028\u2029\u202f\u205f\u3000"

# (line, True: a separator, False: refused) as YAMLReader.Read decides.
SEPARATOR_LINES = [
    ("---", True), ("--- ", True), ("---   ", True), ("---\r", True),
    ("---#c", True), ("---#", True), ("--- #c", True), ("---\t#c", True), ("---  # c", True),
    ("---#c: d", True), ("--- # --- x", True),
    ("---\v", True), ("---\f", True), ("--- \f", True), ("---\x85", True), ("---\xa0", True),
    ("---\u2028", True), ("---\u3000# c", True), ("---\xa0#c", True),
    ("---x", False), ("----", False), ("--- a: 1", False), ("--- |", False), ("--- >", False),
    ("--- {}", False), ("--- !!map", False), ("--- ---", False), ("---...", False),
    ("---\x1c", False), ("--- \u200b", False), ("---\xa0x", False), ("--- 'x'", False),
]


@pytest.mark.parametrize(("line", "verdict"), SEPARATOR_LINES)
def test_separator_lines_as_yamlreader_reads_them(line: str, verdict: bool) -> None:
    assert separator_line(line) is verdict
    assert _go_separator(line) is verdict  # the transcription below agrees with the table


@pytest.mark.parametrize("line", ["  ---", "#---", "-- -", "...", "a: ---", "", "--"])
def test_other_lines_are_no_separators(line: str) -> None:
    assert separator_line(line) is None


def _go_separator(line: str) -> bool:
    trimmed = line[3:].strip(GO_IS_SPACE)
    return not (len(trimmed) > 0 and trimmed[0] != "#")


class Refused(Exception):
    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


def kubectl_split(text: str) -> Iterator[tuple[str, int]]:
    """``YAMLReader.Read`` transcribed: each document's text and the line it starts on;
    raises ``Refused`` at a refused separator line (after yielding what came before)."""
    buffer: list[str] = []
    start = 0
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    for number, line in enumerate(lines, 1):
        if line.startswith("---"):
            if not _go_separator(line):
                if buffer:
                    yield "".join(buffer), start
                raise Refused(number)
            if buffer:
                yield "".join(buffer), start
            buffer = []
            continue
        if not buffer:
            start = number
        buffer.append(line + "\n")
    if buffer:
        yield "".join(buffer), start


def _expected(text: str) -> tuple[list[tuple[Any, int]], int | None]:
    """Each kubectl document parsed alone (its lines moved to where it starts), and the
    line of a refused separator."""
    out: list[tuple[Any, int]] = []
    try:
        for piece, start in kubectl_split(text):
            out += [(d, line + start - 1) for d, line in yaml_docs.documents(piece)]
    except Refused as refused:
        return out, refused.line
    return out, None


DOCS = ["kind: A\n", "kind: B\nspec: {x: 1}\n", "# only a comment\n", "",
        "a:\n  - 1\n  - yes\n", "k: 0777\n", "\nkind: C\n\n", "a: |\n  ---x\n  text\n"]
SEPARATORS = [line for line, verdict in SEPARATOR_LINES if verdict]


@given(st.lists(st.tuples(st.sampled_from(SEPARATORS), st.sampled_from(DOCS)), max_size=6),
       st.sampled_from(DOCS), st.sampled_from(["", "---x\nkind: Z\n", "----\n"]))
def test_streams_split_as_kubectl_splits_them(parts: list[tuple[str, str]], first: str,
                                              tail: str) -> None:
    text = first + "".join(f"{sep}\n{doc}" for sep, doc in parts) + tail
    want, refused_at = _expected(text)
    broken: list[yaml_docs.YAMLProblem] = []
    got = yaml_docs.documents(text, broken=broken)
    assert [d for d in got if d[0] is not None] == [d for d in want if d[0] is not None]
    assert [p.line for p in broken] == ([] if refused_at is None else [refused_at])


@pytest.mark.parametrize(("text", "expected"), [
    # each fails on a reader that lets YAML find the documents: "---#c" is a plain scalar
    ("kind: A\n---#c\nkind: B\n", [({"kind": "A"}, 1), ({"kind": "B"}, 3)]),
    ("---#c\nkind: A\n", [({"kind": "A"}, 2)]),
    ("kind: A\n---#c\n---#d\n\nkind: B\n", [({"kind": "A"}, 1), ({"kind": "B"}, 5)]),
    ("kind: A\n---\v\nkind: B\n", [({"kind": "A"}, 1), ({"kind": "B"}, 3)]),
    ("kind: A\n--- \f# c\nkind: B\n", [({"kind": "A"}, 1), ({"kind": "B"}, 3)]),
    ("kind: A\n---\xa0\nkind: B\n", [({"kind": "A"}, 1), ({"kind": "B"}, 3)]),
    ("k: 0777\n---#c\nb: y\n", [({"k": 511}, 1), ({"b": True}, 3)]),  # the slow path too
    ("a: 1\r\n---#c\r\nb: 2\r\n", [({"a": 1}, 1), ({"b": 2}, 3)]),
    # and as YAML reads them
    ("kind: A\n--- #c\nkind: B\n", [({"kind": "A"}, 1), ({"kind": "B"}, 3)]),
    ("a: |\n  ---#c\n", [({"a": "---#c\n"}, 1)]),
])
def test_separators_kubectl_reads(text: str, expected: list[tuple[Any, int]]) -> None:
    got = [d for d in yaml_docs.documents(text) if d[0] is not None]
    assert got == expected
    assert got == [d for d in _expected(text)[0] if d[0] is not None]


@pytest.mark.parametrize(("text", "line", "shown"), [
    ("kind: A\n---\x1c\nkind: B\n", 2, '"---\x1c"'),
    ("kind: A\n---\xa0x\n", 2, '"---\\u00a0x"'),
    ("kind: A\n---#c\nkind: B\n--- kind: C\n", 4, '"--- kind: C"'),
])
def test_refused_separators_name_their_line(text: str, line: int, shown: str) -> None:
    with pytest.raises(yaml_docs.YAMLProblem) as caught:
        yaml_docs.documents(text)
    assert caught.value.line == line
    assert caught.value.problem.startswith(f"{shown} is no document separator")


def test_errors_after_a_kubectl_separator_name_the_file_line() -> None:
    """The line an error names is the file's, as with plain ``---`` separators."""
    for separators in [("---", "---"), ("---#c", "---\v")]:
        text = "kind: A\n{}\nkind: B\n{}\nb: [1, 2\nc: 3\n".format(*separators)
        with pytest.raises(InputError, match=r"^bad.yaml:6: invalid YAML: "):
            parse_text(text, "bad.yaml")


def test_field_lines_after_a_kubectl_separator() -> None:
    text = "a: 1\n---#x\nkind: B\nspec:\n  ports:\n  - port: 80\n"
    lines = DocumentLines(text)
    assert lines.line(3, "spec.ports[0].port") == 6


@given(st.text(alphabet="-\n #x\t\v\r\xa0a:", max_size=40))
def test_the_line_scan_agrees_with_a_regular_expression(text: str) -> None:
    """``separator_offsets`` and ``kubectl_view`` find lines with ``str.find``; here the
    same with a plain multi-line regular expression, line by line."""
    lines = [(m.start(), m.group()) for m in re.finditer(r"^---[^\n]*", text, re.MULTILINE)]
    assert separator_offsets(text) == [pos for pos, line in lines if separator_line(line)]
    view, bad = kubectl_view(text)
    refused = [(pos, line) for pos, line in lines if not separator_line(line)]
    assert bad == (refused[0] if refused else None)
    kept = text if bad is None else text[:bad[0]]
    assert len(view) == len(kept) and view.count("\n") == kept.count("\n")
    for before, after in zip(kept.split("\n"), view.split("\n"), strict=True):
        if separator_line(before):
            assert after == before or after == "---" + " " * (len(before) - 3)
            assert re.fullmatch(r"---(?:[ \t]+(?:#.*)?)?\r?", after)
        else:
            assert after == before
