"""A key written twice in one mapping or JSON object, read as kubectl reads it.

kubectl turns each YAML document into JSON with ``sigs.k8s.io/yaml``'s non-strict
``Unmarshal`` (go-yaml v2): a repeated key keeps its later value, and a merge (``<<``) is
written into the map where it stands, so that it overrides the keys before it, and of a
list of maps the first wins (``decode.go``: ``mapping``, ``merge``, ``setMapIndex``; kubectl's
``StreamVisitor`` and apimachinery's ``YAMLToJSONDecoder``). A JSON document is decoded
into a map by Go, the later field winning. Neither the duplicate-key check of kubectl's
``NoDoubleKeySchema`` nor the server's strict field validation ever sees the repeat: both
get JSON re-encoded from a map. stockade reads the same values and says, as a warning with
the file and lines, where a key was written twice; readers of stockade's own files
(promises) still refuse it."""

from __future__ import annotations

import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from processes import children
from stockade.cli.main import main
from stockade.cli.read_ahead import read_ahead
from stockade.model.build import Checked, RawObject, build_cluster, check_object
from stockade.sources.files import MAX_NOTES, parse_text, read_files
from stockade.sources.json_docs import load_json_values
from stockade.sources.yaml_docs import YAMLProblem, documents, fast_documents

# (YAML, the document as kubectl reads it, the notes as (line, start of the text))
CASES: list[tuple[str, dict[str, Any], list[tuple[int, str]]]] = [
    ("m:\n  a: 1\n  a: 2\n", {"m": {"a": 2}},
     [(3, 'mapping key "a" is repeated (line 2, then line 3)')]),
    ("m: {a: 1, 'a': 2}\n", {"m": {"a": 2}}, [(1, 'mapping key "a" is repeated')]),
    ("m: {y: 1, true: 2}\n", {"m": {"true": 2}}, [(1, "mapping key true is repeated")]),
    # An explicit key after a merge overrides it, for every YAML reader: no note.
    ("b: &b {k: 1}\nm:\n  <<: *b\n  k: 2\n", {"b": {"k": 1}, "m": {"k": 2}}, []),
    # A merge after an explicit key overrides it in go-yaml v2 (the merge-key spec says
    # the explicit key wins): kubectl's value, with a note.
    ("b: &b {k: 1}\nm:\n  k: 2\n  <<: *b\n", {"b": {"k": 1}, "m": {"k": 1}},
     [(4, 'mapping key "k" set at line 3 is overridden by the merge (<<) at line 4')]),
    # Of a merge list, the first map wins, for every reader: no note.
    ("p: &p {k: 1}\nq: &q {k: 2, j: 3}\nm: {<<: [*p, *q]}\n",
     {"p": {"k": 1}, "q": {"k": 2, "j": 3}, "m": {"k": 1, "j": 3}}, []),
    ("m: {<<: {k: 1}, <<: {k: 2}}\n", {"m": {"k": 2}},
     [(1, 'mapping key "k" merged at line 1 is overridden by the merge (<<) at line 1')]),
    # A map merged twice says its own repeat once.
    ("b: &b {a: 1, a: 2}\nc: {<<: *b}\nd: {<<: *b}\n",
     {"b": {"a": 2}, "c": {"a": 2}, "d": {"a": 2}}, [(1, 'mapping key "a" is repeated')]),
]


@pytest.mark.parametrize(("text", "expected", "notes"), CASES)
def test_the_later_value_wins_with_a_note(text: str, expected: dict[str, Any],
                                          notes: list[tuple[int, str]]) -> None:
    said: list[YAMLProblem] = []
    assert documents(text, notes=said) == [(expected, 1)]
    assert len(said) == len(notes)
    for note, (line, start) in zip(said, notes, strict=True):
        assert note.line == line and note.problem.startswith(start), note.problem


@pytest.mark.parametrize(("text", "expected", "notes"),
                         [case for case in CASES if case[2]])
def test_readers_without_notes_still_refuse_a_repeat(text: str, expected: dict[str, Any],
                                                     notes: list[tuple[int, str]]) -> None:
    """stockade's own files (promises) keep the strict reading."""
    with pytest.raises(YAMLProblem, match="already defined at line"):
        documents(text)


@pytest.mark.parametrize(("text", "problem"), [
    ("m: {1: a, '1': b}\n", 'mapping key "1" and the key 1 at line 1 become the same JSON key'),
    ("m: {<<: 3}\n", "map merge requires map or sequence of maps as the value"),
    ("m: {<<: [{a: 1}, [2]]}\n", "map merge requires map or sequence of maps as the value"),
    ("m: &m {a: 1, <<: *m}\n", "an alias refers to its own mapping"),  # go-yaml: contains itself
])
def test_what_kubectl_cannot_read_the_same_way_twice_is_refused(text: str,
                                                                problem: str) -> None:
    """go-yaml keeps ``1`` and ``"1"`` apart; which one survives kubectl's JSON depends on
    Go's map order. A merge of anything but maps is go-yaml's error, and so is a map that
    merges itself."""
    with pytest.raises(YAMLProblem, match=problem):
        documents(text, notes=[])


def test_the_fast_reader_leaves_a_repeat_to_the_one_that_notes_it() -> None:
    text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  namespace: x\n  name: b\n"
    assert fast_documents(text) is None
    [pod] = parse_text(text, "dup.yaml")
    assert pod.data["metadata"] == {"name": "b", "namespace": "x"}
    assert pod.notes == ('dup.yaml:6: mapping key "name" is repeated (line 4, then line 6): '
                         "kubectl keeps the later value",)


def test_json_fields_keep_their_later_value_with_a_note() -> None:
    text = '{"apiVersion": "v1", "kind": "Pod",\n "metadata": {"name": "a",\n "name": "b"}}'
    [pod] = parse_text(text, "dup.json", json_hint=True)
    assert pod.data["metadata"] == {"name": "b"}
    assert pod.notes == ('dup.json:3: field "name" is repeated in one object (line 2, then '
                         'line 3): kubectl keeps the later value',)
    notes: list[Any] = []
    values, problem = load_json_values('{"a": 1}\n{"b": 1,\n"b": 2}\n', notes)
    assert (values, problem) == ([({"a": 1}, 1), ({"b": 2}, 2)], None)
    assert [(n.line, n.problem[:24]) for n in notes] == [(3, 'field "b" is repeated in')]
    _, refused = load_json_values('{"a": 1, "a": 2}')
    assert refused is not None and refused.problem == 'invalid JSON: duplicate field "a"'


def test_notes_land_on_the_object_of_their_document() -> None:
    text = ("kind: Namespace\napiVersion: v1\nmetadata: {name: a}\n---\n"
            "kind: Namespace\napiVersion: v1\nmetadata: {name: b, name: c}\n")
    first, second = parse_text(text, "two.yaml")
    assert first.notes == ()
    assert second.notes == ('two.yaml:7: mapping key "name" is repeated (line 7, then line '
                            '7): kubectl keeps the later value',)


@pytest.mark.parametrize("repeats", [MAX_NOTES, MAX_NOTES + 1, 1000])
def test_a_file_says_at_most_max_notes_and_counts_the_rest(repeats: int) -> None:
    """A generated file repeating a key thousands of times: twenty warnings, then one that
    counts the rest with their lines, instead of a warning per repeat."""
    text = ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: a}\ndata:\n"
            + "".join(f'  a: "{i}"\n' for i in range(repeats + 1)))
    [obj] = parse_text(text, "rep.yaml")
    assert obj.data["data"] == {"a": str(repeats)}
    shown = min(repeats, MAX_NOTES)
    assert list(obj.notes[:shown]) == [
        f'rep.yaml:{line}: mapping key "a" is repeated (line {line - 1}, then line {line}): '
        "kubectl keeps the later value" for line in range(6, 6 + shown)]
    rest = repeats - shown
    assert list(obj.notes[shown:]) == ([] if not rest else [
        f"rep.yaml:{6 + shown}: {rest:,} more notes like these on the reading of this file, "
        f"from line {6 + shown} to line {5 + repeats}, are not shown one by one"])


MANIFESTS = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: shop
  labels:
    app: web
    app: api
spec:
  containers: [{name: c, image: nginx}]
status: {podIP: 10.0.0.1}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: only-api, namespace: shop}
spec:
  podSelector: {}
  ingress:
  - from:
    - podSelector: {matchLabels: {app: web, app: api}}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: w, name: v}
"""


def test_analysis_uses_the_later_values_and_warns(capsys: pytest.CaptureFixture[str],
                                                  tmp_path: Any) -> None:
    path = tmp_path / "shop.yaml"
    path.write_text(MANIFESTS)
    # The pod is app=api, and the policy admits app=api: the pod reaches itself.
    assert main(["query", str(path), "--from", "shop/web", "--to", "shop/web",
                 "--port", "80"]) == 0
    out, err = capsys.readouterr()
    assert "allowed" in out.lower()
    for line in (8, 20, 24):  # a pod, a policy, and a kind stockade does not model
        assert f"warning: {path}:{line}: mapping key" in err, err
    assert main(["check", str(path)]) == 0
    assert err.count("warning:") == capsys.readouterr().err.count("warning:")


@pytest.mark.parametrize("checked", [False, True])
def test_notes_survive_the_reading_process(tmp_path: Any, checked: bool) -> None:
    """Objects come from a second process as read, or decoded and checked there."""
    path = tmp_path / "shop.yaml"
    path.write_text(MANIFESTS)
    here = build_cluster(read_files([str(path)])).warnings
    handed = read_ahead([str(path)], None, None, check_object if checked else None)
    deadline = time.monotonic() + 60
    while checked and children() and time.monotonic() < deadline:
        time.sleep(0.005)  # busy until the child has read (and checked) everything
    objects = list(handed)
    assert any(isinstance(o, Checked) for o in objects) is checked
    assert build_cluster(objects).warnings == here
    assert sum("mapping key" in w for w in here) == 3


# --- against a transcription of go-yaml v2's mapping() and merge() ------------------------

KEYS = st.sampled_from(["a", "b", "c"])


@st.composite
def mappings(draw: st.DrawFn, depth: int = 2) -> list[tuple[str, Any]]:
    """A mapping as written: (key, int) pairs and ("<<", a map or a list of maps)."""
    entries: list[tuple[str, Any]] = []
    for _ in range(draw(st.integers(0, 4))):
        if depth and draw(st.booleans()):
            merged = draw(st.lists(mappings(depth - 1), min_size=1, max_size=3))
            entries.append(("<<", merged if len(merged) > 1 or draw(st.booleans())
                            else merged[0]))
        else:
            entries.append((draw(KEYS), draw(st.integers(0, 9))))
    return entries


def _flow(entries: list[tuple[str, Any]]) -> str:
    def value(v: Any) -> str:
        if isinstance(v, int):
            return str(v)
        if v and isinstance(v[0], list):
            return "[" + ", ".join(_flow(m) for m in v) + "]"
        return _flow(v)
    return "{" + ", ".join(f"{k}: {value(v)}" for k, v in entries) + "}"


def _go_yaml_v2(entries: list[tuple[str, Any]], out: dict[str, int] | None = None
                ) -> dict[str, int]:
    """``decoder.mapping`` into a map: each pair set in order, later over earlier; a merge
    decodes its map into the same map where it stands, a list of maps from the last."""
    out = {} if out is None else out
    for key, value in entries:
        if key != "<<":
            out[key] = value
        elif value and isinstance(value[0], list):
            for merged in reversed(value):
                _go_yaml_v2(merged, out)
        else:
            _go_yaml_v2(value, out)
    return out


@settings(max_examples=300, deadline=None)
@given(mappings())
def test_merges_and_repeats_read_as_go_yaml_v2(entries: list[tuple[str, Any]]) -> None:
    text = f"m: {_flow(entries)}\n"
    notes: list[YAMLProblem] = []
    assert documents(text, notes=notes) == [({"m": _go_yaml_v2(entries)}, 1)], text
    written = [k for k, _ in entries if k != "<<"]
    if len(set(written)) == len(written) and all(k != "<<" for k, _ in entries):
        assert notes == []


def test_the_transcription_can_tell_the_orders_apart() -> None:
    """The property above is not vacuous: the spec's order (explicit keys win) differs."""
    entries: list[tuple[str, Any]] = [("a", 1), ("<<", [("a", 2)])]
    assert _go_yaml_v2(entries) == {"a": 2}
    assert RawObject({}, parse_text("kind: X\n", "x.yaml")[0].origin).notes == ()


# --- review: merge bombs, lines after a broken document, a map merged twice ----------------

def _merge_chain(levels: int) -> str:
    """Each map merges the one before twice: go-yaml decodes it twice, through aliases,
    so the document doubles per level (a merge bomb, like an alias bomb)."""
    lines = ["a0: &a0 {k: 1}"]
    lines += [f"a{i}: &a{i} {{<<: [*a{i - 1}, *a{i - 1}]}}" for i in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("levels", [16, 60])
def test_a_merge_bomb_is_refused_as_go_yaml_refuses_it(levels: int) -> None:
    """go-yaml stops at "excessive aliasing"; walking every merged pair again took time
    doubling per level (a 1 KB file read for hours)."""
    started = time.monotonic()
    with pytest.raises(YAMLProblem, match="excessive aliasing"):
        documents(_merge_chain(levels), notes=[])
    assert time.monotonic() - started < 5
    assert documents(_merge_chain(4), notes=[])[0][0]["a4"] == {"k": 1}


def test_a_long_chain_of_merges_is_read_in_time() -> None:
    text = "a0: &a0 {k0: 1}\n" + "".join(f"a{i}: &a{i} {{<<: *a{i - 1}, k{i}: 1}}\n"
                                          for i in range(1, 301))
    started = time.monotonic()
    [(doc, _)] = documents(text, notes=[])
    assert time.monotonic() - started < 5
    assert len(doc["a300"]) == 301


def test_notes_name_the_files_lines_after_a_broken_document() -> None:
    text = ("a: 1\n---\nb: [\n---\nx: 1\nm:\n  k: 1\n  k: 2\n"
            "---\nc: &c {k: 1}\nd: {k: 2, <<: *c}\n")
    broken: list[YAMLProblem] = []
    notes: list[YAMLProblem] = []
    documents(text, broken=broken, notes=notes)
    assert [p.line for p in broken] == [4]
    assert [(n.line, n.problem.split(":")[0]) for n in notes] == [
        (8, 'mapping key "k" is repeated (line 7, then line 8)'),
        (11, 'mapping key "k" set at line 11 is overridden by the merge (<<) at line 11')]
    documents("a: 1\n---\nb: [\n---\nx: 1\nm:\n  k: 1\n  k: 2\n", broken=broken)
    assert [(p.line, p.problem) for p in broken[1:]] == [
        (4, "did not find expected node content"),
        (8, 'mapping key "k" already defined at line 7')]  # promises: no notes, strict


def test_a_map_merged_twice_is_no_repeat() -> None:
    notes: list[YAMLProblem] = []
    assert documents("a: &a {k: 1}\nm: {<<: [*a, *a]}\nd: {<<: *a, <<: *a}\n",
                     notes=notes) == [({"a": {"k": 1}, "m": {"k": 1}, "d": {"k": 1}}, 1)]
    assert notes == []


def test_an_alias_to_a_list_of_maps_is_no_merge() -> None:
    """go-yaml's ``merge``: an alias must name a map; only a list written in place is a
    list of maps to merge."""
    with pytest.raises(YAMLProblem, match="map merge requires map or sequence of maps"):
        documents("s: &s [{a: 1}]\nm: {<<: *s}\n", notes=[])
    assert documents("m: {<<: &s [{a: 1}]}\n", notes=[]) == [({"m": {"a": 1}}, 1)]
