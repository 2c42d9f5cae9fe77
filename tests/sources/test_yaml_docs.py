"""The fast YAML path must read every stream exactly as the slow path (PyYAML with go-yaml
v2's scalar resolution, as Kubernetes) reads it, documents and start lines alike; where the
two YAML versions differ, or the stream is broken, the slow path decides."""

from __future__ import annotations

import importlib.util
import random
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stockade.errors import InputError
from stockade.sources import yaml_docs
from stockade.sources.files import parse_text

ROOT = Path(__file__).resolve().parents[2]
CORPUS = sorted(
    p for d in ("examples", "tests/scenarios", "tests/lab/scenarios", "tests/hosts/golden")
    for p in (ROOT / d).rglob("*.y*ml")
)


def _pyyaml(text: str) -> list[tuple[Any, int]]:
    """The slow path's reading, document by document, without the fast path or chunks."""
    loader = yaml_docs._strict_loader()(text)
    out = []
    try:
        while loader.check_node():
            node = loader.get_node()
            assert node is not None
            out.append((loader.construct_document(node), node.start_mark.line + 1))
    finally:
        loader.dispose()
    return out


@pytest.mark.parametrize("path", CORPUS, ids=[str(p.relative_to(ROOT)) for p in CORPUS])
def test_corpus_reads_as_pyyaml_reads_it(path: Path) -> None:
    text = path.read_text()
    assert yaml_docs.documents(text) == _pyyaml(text)


def test_generated_cluster_reads_as_pyyaml_reads_it(tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(ROOT / "benchmarks/generate.py"), str(tmp_path),
                    "--pods", "300"], check=True, capture_output=True)
    files = sorted(tmp_path.glob("*.yaml"))
    assert files
    for path in files:
        text = path.read_text()
        assert yaml_docs.documents(text) == _pyyaml(text), path.name


def test_kubectl_style_cluster_reads_as_pyyaml_reads_it_and_fast(tmp_path: Path) -> None:
    """What ``kubectl get -o yaml`` writes (``benchmarks/shapes.py --shape bulk``): UIDs
    that start with a zero and a digit, quoted ``"yes"``, ``"on"`` and ``"0800"``. Read
    exactly as PyYAML reads it, by the fast parser (every UID starting ``0[0-9]`` and every
    quoted word sent whole files to PyYAML, ten times slower)."""
    subprocess.run([sys.executable, "-m", "benchmarks.shapes", str(tmp_path), "--pods", "600",
                    "--shape", "bulk,unique-labels,named-ports"],
                   check=True, capture_output=True, cwd=ROOT)
    files = sorted(tmp_path.glob("*.yaml"))
    assert len(files) >= 20
    texts = [path.read_text() for path in files]
    assert sum('"yes"' in t or '"on"' in t for t in texts) >= len(files) // 2
    assert sum(re.search(r"uid: 0[0-9]", t) is not None for t in texts) >= len(files) // 4
    for path, text in zip(files, texts, strict=True):
        assert yaml_docs.documents(text) == _pyyaml(text), path.name
    assert all(yaml_docs.fast_documents(text) is not None for text in texts)


def test_the_corpus_really_takes_the_fast_path() -> None:
    """Otherwise the tests above compare PyYAML with itself."""
    fast = [p for p in CORPUS if yaml_docs.fast_documents(p.read_text()) is not None]
    assert len(fast) > len(CORPUS) // 2
    assert importlib.util.find_spec("yaml_rs") is not None


@pytest.mark.parametrize(("text", "expected"), [
    ("hostNetwork: yes\n", {"hostNetwork": True}),
    ("enabled: off\n", {"enabled": False}),
    ("enabled: y\n", {"enabled": True}),
    ("v: [Y, n, N, 'y']\n", {"v": [True, False, False, "y"]}),
    ("port: 010\n", {"port": 8}),
    ("v: 1_000\n", {"v": 1000}),
    ("v: 1e3\n", {"v": 1000.0}),
    ("v: 1:30\n", {"v": "1:30"}),
    ("v: [on, NO]\n", {"v": [True, False]}),
    ("v: 0b101\n", {"v": 5}),
    ("v: 0o17\n", {"v": 15}),
    ("v: 08\n", {"v": 8.0}),
    ("v: -010\n", {"v": -8}),
    ("v: 1_000.5\n", {"v": 1000.5}),
    ("on: x\n", {"true": "x"}),
    ("v: 2:30:00\n", {"v": "2:30:00"}),
    ("v: =\n", {"v": "="}),
    ("{1: a, true: b, 1.5: c}\n", {"1": "a", "true": "b", "1.5": "c"}),
    # YAML 1.1 against 1.2, as go-yaml v2 (resolve.go) reads them; yaml_rs reads 1.2
    ("v: [yes, Yes, YES, yEs, no, on, OFF, y, n, Y, N]\n",
     {"v": [True, True, True, "yEs", False, True, False, True, False, True, False]}),
    ("v: [true, True, TRUE, tRUE, false]\n", {"v": [True, True, True, "tRUE", False]}),
    ("v: [~, null, Null, NULL, nULL, '']\n", {"v": [None, None, None, None, "nULL", ""]}),
    ("v:\n", {"v": None}),
    ("v: [0o17, 0O17, 017, -017, 0x1F, +0x1F, 0b101, -0b101, 0b-101]\n",
     {"v": [15, 15, 15, -15, 31, 31, 5, -5, -5]}),
    ("v: [1e3, 1E3, 1e+3, 1.5e-1, 6.02e23]\n", {"v": [1000.0, 1000.0, 1000.0, 0.15, 6.02e23]}),
    ("v: [2001-12-14, 2001-12-14t21:59:43.10-05:00, 2001-12-14 21:59:43.10]\n",
     {"v": ["2001-12-14", "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10"]}),
    ("v: [<<, '<<', <<x]\n", {"v": ["<<", "<<", "<<x"]}),
    ("b: &b {x: 1}\nv: {<<: *b, y2: 2}\n", {"b": {"x": 1}, "v": {"x": 1, "y2": 2}}),
    ("{'<<': 1}\n", {"<<": 1}),
    ("{.inf: a, .nan: b, 9223372036854775807: c}\n",
     {".inf": "a", ".nan": "b", "9223372036854775807": "c"}),
    ("v: [_1, 1_, 0_x1F, .5_0, 0xFFFFFFFFFFFFFFFFF, 18446744073709551616]\n",
     {"v": ["_1", 1, 31, 0.5, "0xFFFFFFFFFFFFFFFFF", 18446744073709551616.0]}),
])
def test_scalars_keep_their_kubernetes_meaning(text: str, expected: Any) -> None:
    """As go-yaml v2 (``sigs.k8s.io/yaml``, which kubectl and the API server read YAML with)
    resolves them, and with keys as it writes them into JSON."""
    assert yaml_docs.documents(text) == [(expected, 1)]


@pytest.mark.parametrize(("text", "problem"), [
    ("{y: 1, true: 2}\n", "mapping key true already defined at line 1"),
    ("a: 1\n'a': 2\n", 'mapping key "a" already defined at line 1'),
    ("~: 1\n", "not null"),
    ("18446744073709551615: 1\n", "an integer beyond int64"),
])
def test_keys_that_cannot_be_json_keys_are_refused(text: str, problem: str) -> None:
    with pytest.raises(yaml_docs.YAMLProblem, match=re.escape(problem)):
        yaml_docs.documents(text)


def test_document_lines_with_comments_and_empty_documents() -> None:
    text = ("# Source: chart/templates/a.yaml\n---\n---\n# a comment\nkind: A\n---\n\n"
            "kind: B\n...\n---\nkind: C\n")
    assert yaml_docs.documents(text) == _pyyaml(text)


def test_random_streams_read_as_pyyaml_reads_them() -> None:
    rng = random.Random(7)
    words = ["a", "web", "80", "8080", "'80'", '"x"', "true", "null", "~", "-1", "3.5",
             "10.0.0.0/8", "fd00::1", "a b", "{}", "[]", "[1, 2]", "{k: v}",
             "yes", '"yes"', "'on'", "on", "[off, 'no']", "010", '"010"', "'-07'", "08",
             "05f13e8a-4b", "0o7", "0o8", "010 # c", "[010]", "x yes", '"0800"']
    for _ in range(300):
        docs = []
        for d in range(rng.randint(1, 4)):
            lines = [f"k{i}: {rng.choice(words)}" for i in range(rng.randint(0, 5))]
            lines += [f"list{d}:", *(f"  - {rng.choice(words)}" for _ in range(rng.randint(0, 3)))]
            docs.append("\n".join(lines))
        sep = rng.choice(["\n---\n", "\n---\n# c\n", "\n---\n\n"])
        text = (rng.choice(["", "---\n", "# head\n---\n"]) + sep.join(docs) + "\n")
        assert yaml_docs.documents(text) == _pyyaml(text), text


def test_list_items_keep_their_lines() -> None:
    text = ("apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n"
            "  metadata: {name: a}\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: b}\n")
    objects = parse_text(text, "list.yaml")
    assert [o.origin.line for o in objects] == [4, 7]


def test_broken_yaml_names_file_and_line() -> None:
    with pytest.raises(InputError, match=r"^bad.yaml:3: invalid YAML: "):
        parse_text("a: 1\nb: [1, 2\nc: 3\n", "bad.yaml")


@pytest.mark.parametrize("text", [
    "ip: fd00:10:7::5\n", "cidr: 10.0.0.0/8\n", "name: web-010\n", "k: 1_000\n",
    "v: [80, 443]\n", "image: nginx:1.25\n", "k: 0b11\n", "uid: 05f13e8a-4b2c\n",
    'value: "0800"\n', 'enabled: "yes"\n', "v: ['on', \"off\"]\n", "k: |\n  yes\n",
])
def test_ordinary_values_take_the_fast_path(text: str) -> None:
    assert yaml_docs.fast_documents(text) is not None


@pytest.mark.parametrize("text", ["yes: 1\n", "a: {on: 1}\n", "- no\n", "k: 0777\n",
                                  'a: "yes"\nb: yes\n', "k: [1, 010]\n", "k: 08 # c\n",
                                  "k: 1e3\n", "k: 0o7\n", "<<: {a: 1}\n", "k: y\n",
                                  "n: 1\n", "k: [1, N]\n"])
def test_version_sensitive_values_are_noticed(text: str) -> None:
    assert yaml_docs.fast_documents(text) is None


@pytest.mark.parametrize("text", ["a: 0777\u2028\n", "a: 0777\x85\n", "a: 0777\u2029\n",
                                  "a: yes\u2028\n", "a: abc\u2028\n"])
def test_yaml_11_line_breaks_take_the_slow_path(text: str) -> None:
    """NEL, LINE SEPARATOR and PARAGRAPH SEPARATOR end a line in YAML 1.1, not in 1.2: what
    comes before one reads as PyYAML reads it (``0777`` is 511, ``yes`` is true)."""
    assert yaml_docs.fast_documents(text) is None
    assert yaml_docs.documents(text) == _pyyaml(text)


@pytest.mark.parametrize("text", ["k: 1:30\n", "v: [1, =]\n", "t: 12:30:00\n"])
def test_what_both_versions_read_as_text_takes_the_fast_path(text: str) -> None:
    """Base-60 numbers and ``=`` are strings to go-yaml v2, as to YAML 1.2."""
    assert yaml_docs.fast_documents(text) is not None
    assert yaml_docs.documents(text) == _pyyaml(text)


_LEADING_ZERO_AS_WRITTEN = re.compile(r"(?<![\w.:/+\"'-])[-+]?0(?:[0-9_]+|o[0-7_]+)"
                                      r"(?=[ \t]*(?:[\r\n,\]}#]|:(?:\s|$)|$))")


@given(st.text(alphabet="0o7_-+.:/a \n19x\"',]}#\t", max_size=12))
def test_the_fast_leading_zero_search_finds_what_the_plain_one_finds(text: str) -> None:
    assert (yaml_docs._LEADING_ZERO.search(text) is None) == (
        _LEADING_ZERO_AS_WRITTEN.search(text) is None)


@given(st.integers(0, 9000), st.integers(4000, 9000), st.integers(0, 50))
def test_long_digit_runs_are_found_wherever_they_start(before: int, digits: int,
                                                       after: int) -> None:
    text = "a" * before + "7" * digits + " b" * after
    assert yaml_docs.long_number(text) == (digits > 4300)


@pytest.mark.parametrize("text", [
    "kind: A\nk: !!str x\n---\n",          # a slow-path stream ending in ---
    "kind: A\nk: 0777\n---\n",
    "---\n!!null\n", "---\n5\n", "---\ntrue\n", "---\n1.5\n", "k: yes\n---\n7\n",
])
def test_slow_path_reads_empty_and_scalar_documents(text: str) -> None:
    """PyYAML reads these (empty or scalar documents, as a stream that ends in ``---`` from
    ``helm template`` has); the depth check must pass them, not fail on them."""
    assert yaml_docs.documents(text) == _pyyaml(text)


def _peer_bomb(uses: int) -> str:
    """A NetworkPolicy whose rules alias one rule that aliases one peer: ``uses``**2 peers
    once expanded, a few bytes per use as written."""
    peers = ", ".join(["*p"] * uses)
    rules = ", ".join(["*r"] * uses)
    return ("kind: NetworkPolicy\nx:\n  p: &p {ipBlock: {cidr: 10.0.0.0/8}}\n"
            f"  r: &r {{from: [{peers}]}}\nspec:\n  ingress: [{rules}]\n")


@pytest.mark.parametrize("text", [
    _peer_bomb(3000),
    "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]\n"
        for i in range(8)),
])
def test_excessive_aliasing_is_refused_as_kubernetes_refuses_it(text: str) -> None:
    """sigs.k8s.io/yaml (go-yaml) stops a document once more than 99% of what it decodes
    comes through aliases (less for larger documents): "document contains excessive
    aliasing". Expanded, these would be 9 million peers and 10**9 scalars."""
    with pytest.raises(yaml_docs.YAMLProblem, match="excessive aliasing"):
        yaml_docs.documents(text)


def test_ordinary_aliases_are_read() -> None:
    """Anchors used a few times (Helm charts' defaults, merge keys) are what the rule is
    meant to let through, as is an alias expansion within go-yaml's ratio."""
    text = ("defaults: &d {protocol: TCP, port: 80}\nports:\n- *d\n- {<<: *d, port: 81}\n"
            "many: &m [" + ", ".join(["1"] * 2000) + "]\nagain: [*m, *m]\n")
    (doc, _), = yaml_docs.documents(text)
    assert doc["ports"] == [{"protocol": "TCP", "port": 80}, {"protocol": "TCP", "port": 81}]
    # What the aliases add: *d is 5 nodes (the mapping, 2 keys, 2 values), each *m 2001.
    assert yaml_docs.alias_expansion(doc) == 5 + 2 * 2001


@pytest.mark.parametrize(("text", "line"), [
    ("kind: A\n---apiVersion: v1\nkind: B\n", 2),  # a Helm template's trimmed newline
    ("kind: A\n--- {kind: B}\n", 2),
    ("--- |\n  text\n", 1),
    ("kind: A\n---\nkind: B\n----\n", 4),
])
def test_a_separator_followed_by_content_is_refused_as_kubectl_refuses_it(text: str,
                                                                         line: int) -> None:
    with pytest.raises(yaml_docs.YAMLProblem, match="is no document separator") as caught:
        yaml_docs.documents(text)
    assert caught.value.line == line


def test_the_documents_before_a_bad_separator_are_kept_when_skipping() -> None:
    broken: list[yaml_docs.YAMLProblem] = []
    text = "kind: A\n---\nkind: B\n---apiVersion: v1\nkind: C\n"
    assert yaml_docs.documents(text, broken=broken) == [({"kind": "A"}, 1), ({"kind": "B"}, 3)]
    assert [p.line for p in broken] == [4]


@pytest.mark.parametrize("text", ["kind: A\n--- # next\nkind: B\n", "kind: A\n---   \nkind: B\n",
                                  "kind: A\n---\r\nkind: B\n", "a: |\n  ---x\n"])
def test_separators_with_a_comment_or_spaces_are_separators(text: str) -> None:
    assert yaml_docs.documents(text) == _pyyaml(text)


@pytest.mark.parametrize(("text", "where", "line"), [
    ("a: .inf\n", "a: +Inf", 1), ("a: [1, -.Inf]\n", "a[1]: -Inf", 1),
    ("a: {b: .NaN}\n", "a.b: NaN", 1), ("kind: A\n---\nx: 1\nw: {z: [+.INF]}\n", "w.z[0]: +Inf", 3),
])
def test_infinite_and_nan_values_refuse_the_document(text: str, where: str, line: int) -> None:
    """go-yaml reads them as floats; ``sigs.k8s.io/yaml`` then fails in ``json.Marshal``
    ("json: unsupported value: +Inf"), so kubectl sends no part of the document."""
    with pytest.raises(yaml_docs.YAMLProblem) as caught:
        yaml_docs.documents(text)
    assert caught.value.problem.startswith(f"{where} cannot be written as JSON")
    assert caught.value.line == line


def test_a_document_with_an_infinite_value_is_skipped_alone() -> None:
    broken: list[yaml_docs.YAMLProblem] = []
    text = "kind: A\n---\nkind: B\nx: .inf\n---\nkind: C\n"
    assert yaml_docs.documents(text, broken=broken) == [({"kind": "A"}, 1), ({"kind": "C"}, 6)]
    assert [(p.line, p.problem.split(":")[0]) for p in broken] == [(3, "x")]


_PLAIN_DOC_START = re.compile(r"^---(?:[ \t\r]|$)", re.MULTILINE)


@given(st.lists(st.sampled_from(["---", "--", "-", "\n", "\r\n", " ", "\t", "a", "#", "..."]),
                max_size=30).map("".join))
def test_document_markers_are_found_as_the_plain_pattern_finds_them(text: str) -> None:
    """``_DOC_START`` is written for speed; it finds what ``^---(?:[ \\t\\r]|$)`` finds."""
    assert [m.start() for m in yaml_docs._DOC_START.finditer(text)] == [
        m.start() for m in _PLAIN_DOC_START.finditer(text)]
