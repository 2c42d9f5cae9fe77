"""Plain scalars and keys as go-yaml v2 (``sigs.k8s.io/yaml``'s copy, which kubectl and the
API server read YAML with) resolves them: the table of its ``resolve.go`` and Go's
``strconv`` rules, written out here, not derived from the implementation, and a
transcription of that Go code (``go_yaml_v2.py``) that random scalars are compared with,
through ``resolve_plain`` and through both YAML paths (``yaml_rs`` and PyYAML)."""

from __future__ import annotations

import math
import struct
from typing import Any

import go_yaml_v2
import pytest
from hypothesis import given
from hypothesis import strategies as st

from stockade.sources import yaml_docs
from stockade.sources.yaml_docs import documents
from stockade.sources.yaml_scalars import json_key, resolve_plain


@pytest.mark.parametrize(("text", "expected"), [
    # the words go-yaml looks up in its map
    ("y", True), ("Y", True), ("yes", True), ("On", True), ("TRUE", True),
    ("n", False), ("N", False), ("no", False), ("off", False), ("False", False),
    ("", None), ("~", None), ("null", None), ("NULL", None),
    ("tRue", "tRue"), ("nO", "nO"), ("yEs", "yEs"), ("=", "="), ("<<x", "<<x"),
    # strconv.ParseInt(s, 0, 64) once underscores are gone
    ("80", 80), ("+80", 80), ("-80", -80), ("0", 0), ("-0", 0), ("00", 0),
    ("010", 8), ("-010", -8), ("0o17", 15), ("0O17", 15), ("0x1F", 31), ("0X1f", 31),
    ("-0x1F", -31), ("0b101", 5), ("0B101", 5), ("1_000", 1000), ("0x_1F", 31), ("1_", 1),
    ("9223372036854775807", 2**63 - 1), ("18446744073709551615", 2**64 - 1),
    ("-9223372036854775808", -(2**63)),
    # not an integer: then Go's float syntax (no dot needed, no sign needed in exponents)
    ("08", 8.0), ("09", 9.0), ("1e3", 1000.0), ("1.0e3", 1000.0), ("1E+3", 1000.0),
    ("80.0", 80.0), ("1.", 1.0), ("+.5", 0.5), (".5", 0.5), (".5e1", 5.0),
    ("18446744073709551616", 18446744073709551616.0), ("-9223372036854775809", -2.0**63),
    # and otherwise a string
    ("1:30", "1:30"), ("12:30:00", "12:30:00"), ("_1", "_1"), ("0x", "0x"), ("1e", "1e"),
    ("0o8", "0o8"), ("1e999", "1e999"), (".5e999", ".5e999"),
    ("+0xFFFFFFFFFFFFFFFF", "+0xFFFFFFFFFFFFFFFF"), ("2001-12-14", "2001-12-14"),
    ("0xFFFFFFFFFFFFFFFFFF", "0xFFFFFFFFFFFFFFFFFF"),  # no big integers in go-yaml v2
    ("10.0.0.0/8", "10.0.0.0/8"), ("1.2.3.4", "1.2.3.4"), ("fd00::1", "fd00::1"),
    ("0800-555", "0800-555"), ("web", "web"), (".", "."), ("-", "-"), ("+", "+"),
])
def test_plain_scalars_resolve_as_go_yaml_resolves_them(text: str, expected: Any) -> None:
    value = resolve_plain(text)
    assert type(value) is type(expected)
    assert value == expected


def test_special_floats() -> None:
    assert math.isnan(resolve_plain(".NaN"))  # type: ignore[arg-type]
    assert resolve_plain("+.inf") == math.inf
    assert resolve_plain("-.INF") == -math.inf


# Underscores, as go-yaml v2's resolve.go reads them (go.yaml.in/yaml/v2 v2.4.2, the version
# sigs.k8s.io/yaml requires): a scalar is looked at further only when its first byte has a
# hint in resolveTable (a sign, a digit, ".", or one of "yYnNtTfFoO~"), so "_1" is a string;
# for a sign or a digit, strings.Replace(in, "_", "", -1) removes every underscore before
# strconv.ParseInt(plain, 0, 64), ParseUint and the float regexp yamlStyleFloat; for a
# leading "." the text goes to strconv.ParseFloat as written, whose Go syntax takes single
# underscores between digits only (strconv.underscoreOK); for "0b" a last try is
# strconv.ParseInt(plain[2:], 2, 64), which takes a sign.
UNDERSCORES = [
    ("_1", "_1"), ("_0", "_0"), ("__1", "__1"), ("_1_", "_1_"), ("_0x1", "_0x1"),
    ("_.5", "_.5"), ("_", "_"), ("__", "__"),
    ("1_", 1), ("1__0", 10), ("1_0_", 10), ("0x_1", 1), ("0_x1", 1), ("0x1_F", 31),
    ("+_1", 1), ("-_1", -1), ("-1_0", -10), ("+1_0", 10), ("-_", "-_"), ("+_", "+_"),
    ("0b1_0", 2), ("0_b1_0", 2), ("-0b1_0", -2), ("0o1_0", 8), ("0_o17", 15), ("0_17", 15),
    ("+_070", 56), ("0_8", 8.0), ("0_9_9", 99.0),
    ("1_0.5", 10.5), ("1_.5", 1.5), ("1._5", 1.5), ("1_e3", 1000.0), ("1e_3", 1000.0),
    ("-1_0.5_0", -10.5), ("+._5", 0.5),
    (".5_0", 0.5), (".1_2e1_0", 1.2e9), ("._5", "._5"), (".5_", ".5_"), (".5__0", ".5__0"),
    (".5_e1", ".5_e1"), (".5e_1", ".5e_1"), (".5e1_", ".5e1_"),
    ("0b-1", -1), ("0b+1", 1), ("0b-1_0", -2), ("0b+", "0b+"), ("-0b-1", "-0b-1"),
    ("0B-1", "0B-1"), ("0b-" + "1" * 64, "0b-" + "1" * 64),
]


@pytest.mark.parametrize(("text", "expected"), UNDERSCORES)
def test_underscores_as_go_yaml_reads_them(text: str, expected: Any) -> None:
    value = resolve_plain(text)
    assert (type(value), value) == (type(expected), expected)


@pytest.mark.parametrize(("text", "expected"), [
    ("7" * 5000, "7" * 5000), ("-" + "7" * 400, "-" + "7" * 400),
    ("1" + "0" * 300, 1e300), ("0x1" + "0" * 16, "0x1" + "0" * 16),
    ("0" * 5000 + "17", 15), ("0" * 5000 + "8", 8.0),
])
def test_numbers_beyond_64_bits_are_floats_or_strings(text: str, expected: Any) -> None:
    """go-yaml v2 has no big integers: past ParseInt and ParseUint a decimal is a float
    when a float64 holds it, and anything else the text (which Kubernetes then reads as a
    string: a 5000-digit port is a port name, too long)."""
    value = resolve_plain(text)
    assert (type(value), value) == (type(expected), expected)


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    return type(a) is type(b) and a == b


@pytest.mark.parametrize(("text", "expected"), UNDERSCORES)
def test_the_transcription_agrees_with_the_table(text: str, expected: Any) -> None:
    """So that the property tests below compare with go-yaml, not with a mistake."""
    assert _same(go_yaml_v2.resolve(text), expected)


NUMBERISH = st.text(alphabet="0123456789_+-.xXoObBeEaf", max_size=8)


@given(NUMBERISH)
def test_plain_scalars_resolve_as_the_go_code_does(text: str) -> None:
    assert _same(resolve_plain(text), go_yaml_v2.resolve(text))


def _plain_scalar(text: str) -> bool:
    """Whether ``text`` written after ``a: `` is one plain scalar of exactly that text."""
    return (text == text.strip() and text[:1] not in ("", "-", "#", "?", ":")
            and not text.endswith(":") and ": " not in text and " #" not in text) or (
        len(text) > 1 and text[0] == "-" and text[1] not in " \t")


@given(NUMBERISH.filter(_plain_scalar), st.sampled_from([
    "a: {}\n", "- {}\n", "[{}]\n", "a: [x, {}]\n", "a: {{k: {}}}\n", "{}: x\n",
    "---\na:\n  b: {}\n", "a: 1\nb: {}  # c\n",
]))
def test_both_yaml_paths_read_plain_scalars_as_the_go_code_does(text: str,
                                                                 layout: str) -> None:
    """The fast path (``yaml_rs``, YAML 1.2 with underscores anywhere) and the slow path
    (PyYAML with go-yaml's resolution) alike, in block, flow and key positions."""
    stream = layout.format(text)
    expected = go_yaml_v2.resolve(text)
    if isinstance(expected, float) and not math.isfinite(expected):
        return  # such a document is refused (see test_yaml_docs)
    if layout.startswith("{}:"):
        if text.startswith("---"):
            return  # at the start of a line: kubectl's separator rule (test_yaml_stream)
        key = json_key(expected)
        if key is None:
            return
        want: Any = {key: "x"}
    else:
        want = _placed(layout, expected)
    (doc, _), = documents(stream)
    assert _same_tree(doc, want), (stream, doc, want)


def _placed(layout: str, value: object) -> Any:
    return {
        "a: {}\n": {"a": value}, "- {}\n": [value], "[{}]\n": [value],
        "a: [x, {}]\n": {"a": ["x", value]}, "a: {{k: {}}}\n": {"a": {"k": value}},
        "---\na:\n  b: {}\n": {"a": {"b": value}}, "a: 1\nb: {}  # c\n": {"a": 1, "b": value},
    }[layout]


def _same_tree(a: Any, b: Any) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(_same_tree(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same_tree(x, y) for x, y in zip(a, b, strict=True))
    return _same(a, b)


@pytest.mark.parametrize("text", ["a: _1\n", "- _0\n", "[1, _1_0]\n", "a: +_070\n",
                                  "a: -_010\n", "a: 0_x1\n", "a: 0b-1\n", "a: 0b+1\n",
                                  "a: 18446744073709551616\n", "a: 0x1FFFFFFFFFFFFFFFF\n"])
def test_what_yaml_rs_reads_otherwise_is_read_again(text: str) -> None:
    """``yaml_rs`` reads ``_1`` as 1, ``+_070`` as 70, ``0_x1`` as text, and has big
    integers: each sends its stream to the slow path."""
    assert yaml_docs.fast_documents(text) is None


@pytest.mark.parametrize("text", ["a: 1_000\n", "a: x_1\n", "a: '_1'\n", "a: [x, 1_0]\n",
                                  "env: MY_VAR_1\n", "a: 18446744073709551615\n"])
def test_underscores_go_yaml_reads_alike_keep_the_fast_path(text: str) -> None:
    assert yaml_docs.fast_documents(text) is not None


@given(st.integers(-(2**63), 2**64 - 1))
def test_integers_in_64_bits_read_back(number: int) -> None:
    assert resolve_plain(str(number)) == number
    assert resolve_plain(f"{number:_}") == number


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_python_float_reprs_read_back(number: float) -> None:
    text = repr(number)
    if "e" not in text and "." not in text:
        return
    assert resolve_plain(text) == number


@pytest.mark.parametrize(("key", "expected"), [
    ("a", "a"), (True, "true"), (False, "false"), (80, "80"), (-1, "-1"),
    (1.5, "1.5"), (80.0, "80"), (100000.0, "100000"), (1000000.0, "1e+06"),
    (0.0001, "0.0001"), (0.00001, "1e-05"), (-2.5, "-2.5"), (0.1, "0.1"),
    (3.14159265358979, "3.1415927"), (1e20, "1e+20"), (1e300, ".inf"), (-1e300, "-.inf"),
    (math.inf, ".inf"), (math.nan, ".nan"), (0.0, "0"), (None, None),
])
def test_keys_become_json_keys_as_sigs_yaml_writes_them(key: object,
                                                        expected: str | None) -> None:
    """Floats as Go's ``strconv.FormatFloat(f, 'g', -1, 32)`` (shortest float32 digits,
    exponent form below 1e-4 and from 1e6 on, two-digit exponents)."""
    assert json_key(key) == expected


@given(st.floats(width=32, allow_nan=False, allow_infinity=False))
def test_float_keys_keep_their_float32_value(number: float) -> None:
    text = json_key(number)
    assert text is not None
    assert struct.unpack("f", struct.pack("f", float(text)))[0] == number


def test_a_manifest_read_through_both_paths() -> None:
    text = ("metadata:\n  labels: {debug: y, 1: one}\nspec:\n  ports: [{port: 80.0}, "
            "{port: 1e3}, {port: 1:20}]\n  args: [--at, 12:30]\n")
    assert documents(text) == [({
        "metadata": {"labels": {"debug": True, "1": "one"}},
        "spec": {"ports": [{"port": 80.0}, {"port": 1000.0}, {"port": "1:20"}],
                 "args": ["--at", "12:30"]}}, 1)]
