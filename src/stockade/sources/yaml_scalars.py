"""Plain YAML scalars and mapping keys as Kubernetes reads them.

``kubectl`` and the API server turn YAML into JSON with ``sigs.k8s.io/yaml``, which parses
with its copy of go-yaml v2. go-yaml's ``resolve`` is YAML 1.1 with its own choices, and
differs from PyYAML's YAML 1.1 resolver in a few places that change what a manifest means:

- ``y``, ``Y``, ``n``, ``N`` are booleans (as ``yes``/``no``/``on``/``off`` are);
- base-60 numbers are not supported: ``12:30`` is the string ``"12:30"``, not 750;
- a float needs no dot and its exponent no sign: ``1e3`` is 1000.0;
- only a scalar that starts with a sign or a digit can be an integer, and it is read by
  Go's ``strconv.ParseInt(text, 0, 64)`` (else ``ParseUint``) once every underscore is
  removed: ``1_000``, ``1_``, ``1__0``, ``+_1``, ``0x_1F`` and ``0_x1F`` are numbers, ``_1`` is
  the string ``"_1"``; ``0o17``, ``0O17``, ``0X1F``, ``0B101`` and signed forms are numbers,
  ``017`` is octal, and ``08`` (not an octal integer) is the float 8.0; ``0b-1`` and
  ``0b+1`` are -1 and 1 (go-yaml's last try for a ``0b`` prefix takes a sign);
- a number beyond 64 bits is a float when a float64 holds it, else a string (go-yaml has
  no big integers): ``0x`` followed by seventeen ``F`` is a string;
- a scalar that starts with a dot is read by Go's ``ParseFloat`` as written, whose syntax
  allows single underscores between digits: ``.5_0`` is 0.5, ``._5`` a string;
- ``=`` is a plain string.

Mapping keys become JSON object keys: ``sigs.k8s.io/yaml`` writes an integer key in
decimal, a boolean as ``true``/``false`` and a float as Go's ``FormatFloat(f, 'g', -1,
32)``; a null key, and an integer key above the int64 range (go-yaml gives a ``uint64``,
which ``sigs.k8s.io/yaml`` refuses), cannot be converted and are errors.
"""

from __future__ import annotations

import math
import re
import struct

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
# strconv.ParseFloat of a scalar that starts with a dot, as written: Go's float syntax lets
# single underscores stand between digits (``.5_0``), nowhere else.
_DOT_FLOAT = re.compile(r"\.[0-9]+(?:_[0-9]+)*(?:[eE][-+]?[0-9]+(?:_[0-9]+)*)?")
# go-yaml's last try for what starts "0b": strconv.ParseInt(rest, 2, 64), which takes a sign.
_ZERO_B = re.compile(r"0b([-+]?[01]+)")
_INT64 = 2**63
_UINT64 = 2**64
_BASES = {"x": 16, "X": 16, "o": 8, "O": 8, "b": 2, "B": 2}


def _go_int(plain: str) -> int | None:
    """``strconv.ParseInt(plain, 0, 64)``, else ``strconv.ParseUint(plain, 0, 64)``: the
    value, or ``None`` when neither reads it (not the syntax, or beyond 64 bits)."""
    match = _GO_INT.fullmatch(plain)
    if match is None:
        return None
    sign, digits = match.groups()
    if len(digits) > 2 and digits[1] in _BASES:
        base, body = _BASES[digits[1]], digits[2:]
    elif len(digits) > 1 and digits[0] == "0":
        base, body = 8, digits[1:]
    else:
        base, body = 10, digits
    if len(body.lstrip("0")) > 64:
        return None  # more than 64 bits in any of these bases
    value = int(body or "0", base)
    if sign == "-":
        return -value if value <= _INT64 else None
    if value < _INT64 or (not sign and value < _UINT64):
        return value  # ParseInt, or ParseUint (which refuses a sign) up to 2**64 - 1
    return None


def resolve_plain(text: str) -> object:
    """The value go-yaml v2 gives a plain (unquoted, untagged) scalar: None, a bool, an int,
    a float or the text itself. Timestamps stay text, as go-yaml leaves them for an untyped
    value; so does a number that fits neither 64 bits nor a float64 (go-yaml has no big
    integers)."""
    if text in _WORDS:
        return _WORDS[text]
    first = text[:1]
    if first == ".":
        if _DOT_FLOAT.fullmatch(text):
            value = float(text.replace("_", ""))
            if not math.isinf(value):
                return value
        return text
    if first not in _NUMBER_START:
        return text  # "_1" too: go-yaml looks no further at a scalar that starts so
    plain = text.replace("_", "")
    number = _go_int(plain)
    if number is not None:
        return number
    if _GO_FLOAT.fullmatch(plain):
        value = float(plain)
        if not math.isinf(value):
            return value
    signed_binary = _ZERO_B.fullmatch(plain)
    if signed_binary is not None:
        value = int(signed_binary.group(1), 2)
        if -_INT64 <= value < _INT64:
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
    cannot (a null key, a key that needs ``uint64``)."""
    if isinstance(key, str):
        return key
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, int):
        return str(key) if key < _INT64 else None
    if isinstance(key, float):
        return _go_float32_g(key)
    return None


NON_FINITE_WORD = re.compile(r"\.(?:inf|Inf|INF|nan|NaN|NAN)\b")


def non_finite(data: object) -> tuple[str, str] | None:
    """The path (``spec.ports[0].port``) and Go's name (``+Inf``, ``-Inf``, ``NaN``) of the
    first infinite or NaN value in a document, or ``None``. ``sigs.k8s.io/yaml`` hands what
    go-yaml read to Go's ``json.Marshal``, which refuses such a value ("json: unsupported
    value: +Inf"): kubectl cannot send that document at all. Keys are text by now, so
    ``.inf: x`` is only the key ".inf". What aliases share is walked once."""
    seen: set[int] = set()
    stack: list[tuple[object, str]] = [(data, "")]
    while stack:
        node, path = stack.pop()
        if type(node) is dict or type(node) is list:
            if id(node) in seen:
                continue
            seen.add(id(node))
            if isinstance(node, list):
                below = [(v, f"{path}[{i}]") for i, v in enumerate(node)]
            else:
                below = [(v, f"{path}.{k}" if path else str(k)) for k, v in node.items()]
            stack.extend(reversed(below))
        elif type(node) is float and not math.isfinite(node):
            name = "NaN" if math.isnan(node) else ("+Inf" if node > 0 else "-Inf")
            return path, name
    return None
