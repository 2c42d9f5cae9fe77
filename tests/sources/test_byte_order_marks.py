"""A UTF-8 byte-order mark where kubectl's go-yaml drops it: at the start of each document
(``cat a.yaml b.yaml`` when ``b.yaml`` starts with one), since kubectl hands go-yaml every
document on its own. Elsewhere go-yaml's scanner skips one at the start of a line but counts
its column (``a: 1\\n\\ufeffb: 2`` is an error), and keeps one inside a scalar as text."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stockade.sources import yaml_docs
from stockade.sources.files import decode_text, parse_text
from stockade.sources.yaml_stream import kubectl_text

BOM = "\ufeff"
A = "apiVersion: v1\nkind: Namespace\nmetadata: {name: ns1}\n"
B = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ns2\n---\nkind: ConfigMap\n"


def _read(data: bytes, name: str) -> list[tuple[Any, int]]:
    return [(o.data, o.origin.line) for o in parse_text(decode_text(data, name), name)]


def test_files_with_marks_concatenated_read_as_the_files_read_alone() -> None:
    a, b = (BOM + A).encode(), (BOM + B).encode()
    shift = A.count("\n") + 1  # a.yaml's lines and the separator between
    alone = _read(a, "x") + [(data, line + shift) for data, line in _read(b, "x")]
    assert _read(a + b"---\n" + b, "x") == alone
    assert [line for _, line in alone] == [1, 5, 10]


@pytest.mark.parametrize("marked", [0, 1, 2])
def test_a_mark_that_starts_a_document_is_dropped_by_both_paths(marked: int) -> None:
    docs = ["kind: A\nx: 1\n", "# c\nkind: B\nw: [1]\n", "kind: C\nz: {a: b}\n"]
    plain = "---\n" + "--- # next\n".join(docs)
    docs[marked] = BOM + docs[marked]
    text = "---\n" + "--- # next\n".join(docs)
    expected = [({"kind": "A", "x": 1}, 2), ({"kind": "B", "w": [1]}, 6),
                ({"kind": "C", "z": {"a": "b"}}, 9)]
    assert yaml_docs.documents(text) == yaml_docs.documents(plain) == expected
    view = kubectl_text(text)
    assert view.count("\n") == text.count("\n")
    assert yaml_docs.fast_documents(view) == list(yaml_docs._pyyaml(view)) == expected


def test_marks_inside_scalars_are_kept() -> None:
    text = (f"---\n{BOM}kind: A\nq: \"{BOM}x\n{BOM}y\"\ns: '{BOM}'\n"
            f"b: |\n  {BOM}z\n  {BOM}\n")
    assert yaml_docs.documents(text) == [
        ({"kind": "A", "q": f"{BOM}x {BOM}y", "s": BOM, "b": f"{BOM}z\n{BOM}\n"}, 2)]


def test_json_documents_in_a_stream_lose_the_mark_only_where_they_start() -> None:
    text = f'{{"kind": "A", "x": "{BOM}"}}\n---\n{BOM}{{"kind": "B"}}\n'
    assert [(o.data, o.origin.line) for o in parse_text(text, "x")] == [
        ({"kind": "A", "x": BOM}, 1), ({"kind": "B"}, 3)]


@pytest.mark.parametrize("text", ["kind: A\n\ufeffapiVersion: v1\n",
                                  "kind: A\nmetadata:\n  name: a\n\ufefflabels: {}\n"])
def test_a_mark_that_starts_a_later_line_is_an_error_as_in_go_yaml(text: str) -> None:
    """Not the key ``\\ufeffapiVersion``: go-yaml skips the mark but counts its column, so
    that the key opens a mapping where one is not allowed."""
    with pytest.raises(yaml_docs.YAMLProblem, match="did not find expected key") as caught:
        yaml_docs.documents(text)
    assert caught.value.line == text.count("\n")


_LINES = st.sampled_from(["a: 1", "b: x y", "c: [1, on]", "d:\n  e: f", "# c", "", "- 1",
                          "'q': \"\\ufeff\"", "r: |\n  t"])


@given(st.lists(st.tuples(st.lists(_LINES, max_size=4).map("\n".join), st.booleans()),
                min_size=1, max_size=5),
       st.sampled_from(["---\n", "--- # c\n", "---\t\n"]))
def test_marks_at_document_starts_never_change_what_is_read(
        docs: list[tuple[str, bool]], separator: str) -> None:
    marked = separator + separator.join((BOM if mark else "") + doc + "\n" for doc, mark in docs)
    plain = separator + separator.join(doc + "\n" for doc, _ in docs)
    got: list[yaml_docs.YAMLProblem] = []
    expected: list[yaml_docs.YAMLProblem] = []
    assert yaml_docs.documents(marked, broken=got) == yaml_docs.documents(plain, broken=expected)
    assert [(p.line, p.problem) for p in got] == [(p.line, p.problem) for p in expected]
