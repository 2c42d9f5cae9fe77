"""Plain YAML scalars and mapping keys as Kubernetes reads them.

``kubectl`` and the API server turn YAML into JSON with ``sigs.k8s.io/yaml``, which parses
with its copy of go-yaml v2. go-yaml's ``resolve`` is YAML 1.1 with its own choices, and
differs from PyYAML's YAML 1.1 resolver in a few places that change what a manifest means:

- ``y``, ``Y``, ``n``, ``N`` are booleans (as ``yes``/``no``/``on``/``off`` are);
- base-60 numbers are not supported: ``12:30`` is the string ``"12:30"``, not 750;
- a float needs no dot and its exponent no sign: ``1e3`` is 1000.0;
- integers are read by Go's ``strconv.ParseInt(text, 0, 64)`` once underscores are removed:
  ``0o17``, ``0O17``, ``0X1F``, ``0B101`` and signed forms are numbers, ``017`` is octal,
  and ``08`` (not an octal integer) is the float 8.0;
- ``=`` is a plain string.

Mapping keys become JSON object keys: ``sigs.k8s.io/yaml`` writes an integer key in
decimal, a boolean as ``true``/``false`` and a float as Go's ``FormatFloat(f, 'g', -1,
32)``; a null key cannot be converted and is an error.
"""

from __future__ import annotations

import math
import re
import struct

from stockade.model.numbers import LongNumber
from stockade.sources.limits import MAX_INTEGER_DIGITS

_WORDS: dict[str, object] = {
    **dict.fromkeys(["y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"],
                    True),
    **dict.fromkeys(["n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off",
                     "OFF"], False),
    **dict.fromkeys(["", "~", "null", "Null", "NULL"], None),
    **dict.fromkeys([".nan", ".NaN", ".NAN"], math.nan),
    **dict.fromkeys([".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"], math.inf),
    **dict.fromkeys(["-.inf", "-.Inf", "-.INF"], -math.inf),
}
# The first characters go-yaml looks further at ("hints"); any other scalar is a string.
FIRST_CHARS = "yYnNtTfFoO~+-.0123456789"
_NUMBER_START = frozenset("+-0123456789")
# strconv.ParseInt(s, 0, 64) syntax: sign, then a 0x/0o/0b prefix, a leading 0 (octal) or
# a decimal number.
_GO_INT = re.compile(r"([-+]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)")
_GO_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_DOT_FLOAT = re.compile(r"\.[0-9]+(?:[eE][-+]?[0-9]+)?")
_INT64 = 2**63
_UINT64 = 2**64


def _go_int(sign: str, digits: str) -> int:
    if len(digits) > 1 and digits[0] == "0" and digits[1] in "xXoObB":
        base = {"x": 16, "o": 8, "b": 2}[digits[1].lower()]
        value = int(digits[2:], base)
    elif len(digits) > 1 and digits[0] == "0":
        value = int(digits[1:], 8)
    else:
        value = int(digits)
    return -value if sign == "-" else value


def resolve_plain(text: str) -> object:
    """The value go-yaml v2 gives a plain (unquoted, untagged) scalar: None, a bool, an int,
    a float or the text itself. Timestamps stay text, as go-yaml leaves them for an untyped
    value."""
    if text in _WORDS:
        return _WORDS[text]
    first = text[:1]
    if first == ".":
        if _DOT_FLOAT.fullmatch(text):
            value = float(text)
            if not math.isinf(value):
                return value
        return text
    if first not in _NUMBER_START:
        return text
    plain = text.replace("_", "")
    match = _GO_INT.fullmatch(plain)
    if match is not None:
        sign, digits = match.groups()
        if digits.isdigit() and len(digits) > MAX_INTEGER_DIGITS:
            return LongNumber(plain)
        value = _go_int(sign, digits)
        if -_INT64 <= value < _UINT64 and (value < _INT64 or not sign):
            return value  # ParseInt, or ParseUint for what does not fit an int64
        if digits.isdigit():  # a decimal too long for 64 bits: go-yaml tries a float next
            as_float = float(value) if len(digits) < 310 else math.inf
            if not math.isinf(as_float):
                return as_float
        return value if not sign else text  # big.Int; ParseUint refuses a sign
    if _GO_FLOAT.fullmatch(plain):
        value = float(plain)
        if not math.isinf(value):
            return value
    return text


def _go_float32_g(value: float) -> str:
    """Go's ``strconv.FormatFloat(value, 'g', -1, 32)``, with go-yaml's names for the
    infinities and NaN."""
    if math.isnan(value):
        return ".nan"
    try:
        single = struct.unpack("f", struct.pack("f", value))[0]
    except OverflowError:
        single = math.inf if value > 0 else -math.inf
    if math.isinf(single):
        return ".inf" if single > 0 else "-.inf"
    if single == 0:
        return "-0" if math.copysign(1.0, single) < 0 else "0"
    for precision in range(9):  # the shortest digits that read back as the same float32
        text = f"{single:.{precision}e}"
        if struct.unpack("f", struct.pack("f", float(text)))[0] == single:
            break
    mantissa, exp_text = text.split("e")
    sign = "-" if mantissa.startswith("-") else ""
    digits = mantissa.lstrip("-").replace(".", "").rstrip("0") or "0"
    exp = int(exp_text)
    if exp < -4 or exp >= 6:  # %e, as Go's shortest 'g' decides
        body = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{body}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    if exp < 0:
        return f"{sign}0.{'0' * (-exp - 1)}{digits}"
    whole = digits[:exp + 1].ljust(exp + 1, "0")
    rest = digits[exp + 1:]
    return f"{sign}{whole}.{rest}" if rest else f"{sign}{whole}"


def json_key(key: object) -> str | None:
    """A mapping key as ``sigs.k8s.io/yaml`` writes it into JSON, or ``None`` when it
    cannot (a null key)."""
    if isinstance(key, str):
        return key
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, int):
        return str(key)
    if isinstance(key, float):
        return _go_float32_g(key)
    return None
