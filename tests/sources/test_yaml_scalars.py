"""Plain scalars and keys as go-yaml v2 (``sigs.k8s.io/yaml``'s copy, which kubectl and the
API server read YAML with) resolves them: the table of its ``resolve.go`` and Go's
``strconv`` rules, written out here, not derived from the implementation."""

from __future__ import annotations

import math
import struct
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stockade.model.numbers import LongNumber
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
    ("0xFFFFFFFFFFFFFFFFFF", 2**72 - 1),
    # not an integer: then Go's float syntax (no dot needed, no sign needed in exponents)
    ("08", 8.0), ("09", 9.0), ("1e3", 1000.0), ("1.0e3", 1000.0), ("1E+3", 1000.0),
    ("80.0", 80.0), ("1.", 1.0), ("+.5", 0.5), (".5", 0.5), (".5e1", 5.0),
    ("18446744073709551616", 18446744073709551616.0), ("-9223372036854775809", -2.0**63),
    # and otherwise a string
    ("1:30", "1:30"), ("12:30:00", "12:30:00"), ("_1", "_1"), ("0x", "0x"), ("1e", "1e"),
    ("0o8", "0o8"), ("1e999", "1e999"), (".5e999", ".5e999"), (".5_0", ".5_0"),
    ("+0xFFFFFFFFFFFFFFFF", "+0xFFFFFFFFFFFFFFFF"), ("2001-12-14", "2001-12-14"),
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


def test_a_decimal_longer_than_python_converts_is_a_long_number() -> None:
    value = resolve_plain("7" * 5000)
    assert isinstance(value, LongNumber)
    assert str(value) == "<5000-digit number>"


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
