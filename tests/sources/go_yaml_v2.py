"""A reference for the tests: go-yaml v2's ``resolve`` of a plain scalar, transcribed step
by step from its Go source, with the parts of Go's ``strconv`` it calls. Kept apart from
``stockade.sources.yaml_scalars`` and written the other way round (following Go's control
flow, not regular expressions), so that a test comparing the two can fail.

Sources (read for this transcription):

- ``resolve.go`` of go-yaml v2 (``go.yaml.in/yaml/v2`` v2.4.2, which ``sigs.k8s.io/yaml``
  requires and kubectl and the API server read YAML with; identical to
  ``sigs.k8s.io/yaml/goyaml.v2/resolve.go`` before it became aliases, and to
  ``gopkg.in/yaml.v2`` v2.4.0): ``resolveTable`` hints, ``resolveMap``, then for a sign or
  a digit: ``strings.Replace(in, "_", "", -1)``, ``strconv.ParseInt(plain, 0, 64)``,
  ``strconv.ParseUint(plain, 0, 64)``, ``yamlStyleFloat`` and ``strconv.ParseFloat``, and
  the ``0b``/``-0b`` fallbacks; for a leading ``.``: ``strconv.ParseFloat(in, 64)`` on the
  text as written (underscores and all).
- Go's ``strconv`` (``atoi.go``: ``ParseUint``, ``ParseInt``, ``underscoreOK``;
  ``atof.go``: ``readFloat``): base 0 takes ``0b``/``0o``/``0x`` prefixes when at least one
  character follows, else a leading ``0`` means octal; a float's underscores must stand
  between digits; out of range is an error (go-yaml then tries the next form, and a scalar
  nothing takes is a string: there is no big integer).
- ``decode.go``: into an ``interface{}`` a timestamp stays the string as written; as a
  timestamp starts with four digits and a ``-``, which no number has, it is a string here
  without being looked at. ``<<`` resolves only as a mapping key (``isMerge``): its first
  character has no hint, so as a value it is a string.
"""

from __future__ import annotations

import math

_HINT = {**dict.fromkeys("+-", "S"), **dict.fromkeys("0123456789", "D"),
         **dict.fromkeys("yYnNtTfFoO~", "M"), ".": "."}

_MAP: dict[str, object] = {}
for _value, _words in [
    (True, "y Y yes Yes YES true True TRUE on On ON"),
    (False, "n N no No NO false False FALSE off Off OFF"),
    (None, "~ null Null NULL"),
    (math.inf, ".inf .Inf .INF +.inf +.Inf +.INF"),
    (-math.inf, "-.inf -.Inf -.INF"),
]:
    for _word in _words.split():
        _MAP[_word] = _value
_MAP[""] = None
_NAN = {".nan", ".NaN", ".NAN"}


class _SyntaxOrRange(Exception):
    pass


def _lower(c: str) -> str:
    return c.lower() if c.isascii() else c


def parse_uint(s: str, base: int, bits: int = 64) -> int:
    """``strconv.ParseUint``."""
    if s == "":
        raise _SyntaxOrRange
    base0 = base == 0
    s0 = s
    if base == 0:
        base = 10
        if s[0] == "0":
            if len(s) >= 3 and _lower(s[1]) == "b":
                base, s = 2, s[2:]
            elif len(s) >= 3 and _lower(s[1]) == "o":
                base, s = 8, s[2:]
            elif len(s) >= 3 and _lower(s[1]) == "x":
                base, s = 16, s[2:]
            else:
                base, s = 8, s[1:]
    n = 0
    underscores = False
    for c in s:
        if c == "_" and base0:
            underscores = True
            continue
        if "0" <= c <= "9":
            d = ord(c) - ord("0")
        elif "a" <= _lower(c) <= "z":
            d = ord(_lower(c)) - ord("a") + 10
        else:
            raise _SyntaxOrRange
        if d >= base:
            raise _SyntaxOrRange
        n = n * base + d
        if n >= 1 << bits:
            raise _SyntaxOrRange  # a range error
    if underscores and not underscore_ok(s0):
        raise _SyntaxOrRange
    return n


def parse_int(s: str, base: int, bits: int = 64) -> int:
    """``strconv.ParseInt``."""
    if s == "":
        raise _SyntaxOrRange
    neg = False
    if s[0] == "+":
        s = s[1:]
    elif s[0] == "-":
        neg, s = True, s[1:]
    un = parse_uint(s, base, bits)
    cutoff = 1 << (bits - 1)
    if (not neg and un >= cutoff) or (neg and un > cutoff):
        raise _SyntaxOrRange
    return -un if neg else un


def underscore_ok(s: str) -> bool:
    """``strconv.underscoreOK``: underscores only between digits (or after a base
    prefix), never first or last."""
    saw = "^"
    i = 0
    if s[:1] in ("-", "+"):
        s = s[1:]
    hexa = False
    if len(s) >= 2 and s[0] == "0" and _lower(s[1]) in ("b", "o", "x"):
        i, saw, hexa = 2, "0", _lower(s[1]) == "x"
    while i < len(s):
        c = s[i]
        i += 1
        if "0" <= c <= "9" or (hexa and "a" <= _lower(c) <= "f"):
            saw = "0"
            continue
        if c == "_":
            if saw != "0":
                return False
            saw = "_"
            continue
        if saw == "_":
            return False
        saw = "!"
    return saw != "_"


def _digit_run(s: str, i: int) -> tuple[int, str, bool]:
    """``readFloat``'s loop over digits and underscores from ``i``: where it stops, the
    digits, and whether it passed an underscore."""
    digits = ""
    underscores = False
    while i < len(s) and ((s[i].isascii() and s[i].isdigit()) or s[i] == "_"):
        if s[i] == "_":
            underscores = True
        else:
            digits += s[i]
        i += 1
    return i, digits, underscores


def parse_float_dot(s: str) -> float:
    """``strconv.ParseFloat(s, 64)`` for a text that starts with ``.`` (no sign, no hex
    prefix, no ``inf``/``nan`` can start so): digits with underscores between them, an
    optional exponent, the whole text consumed; out of range is an error."""
    i, digits, underscores = _digit_run(s, 1)
    if not digits:
        raise _SyntaxOrRange
    exponent = ""
    if i < len(s) and s[i] in "eE":
        i += 1
        sign = ""
        if i < len(s) and s[i] in "+-":
            sign = s[i]
            i += 1
        i, exp_digits, more = _digit_run(s, i)
        if not exp_digits:
            raise _SyntaxOrRange
        underscores = underscores or more
        exponent = f"e{sign}{exp_digits}"
    if i != len(s) or (underscores and not underscore_ok(s)):
        raise _SyntaxOrRange
    value = float(f"0.{digits}{exponent}")
    if math.isinf(value):
        raise _SyntaxOrRange
    return value


def _yaml_style_float(s: str) -> bool:
    """``^[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?$``, walked by hand."""
    i = 1 if s[:1] in ("-", "+") else 0

    def run(at: int) -> int:
        while at < len(s) and "0" <= s[at] <= "9":
            at += 1
        return at

    if s[i:i + 1] == ".":
        j = run(i + 1)
        if j == i + 1:
            return False
    else:
        j = run(i)
        if j == i:
            return False
        if s[j:j + 1] == ".":
            j = run(j + 1)
    if j < len(s) and s[j] in "eE":
        k = j + 1
        if s[k:k + 1] in ("-", "+") and k < len(s):
            k += 1
        m = run(k)
        if m == k:
            return False
        j = m
    return j == len(s)


def resolve(text: str) -> object:
    """What go-yaml v2 gives an untagged plain scalar decoded into ``interface{}``."""
    hint = _HINT.get(text[:1], "") if text else "N"
    if not hint:
        return text
    if text in _MAP:
        return _MAP[text]
    if text in _NAN:
        return math.nan
    if hint == ".":
        try:
            return parse_float_dot(text)
        except _SyntaxOrRange:
            return text
    if hint in ("D", "S"):
        plain = text.replace("_", "")
        for parse in (parse_int, parse_uint):
            try:
                return parse(plain, 0)
            except _SyntaxOrRange:
                pass
        if _yaml_style_float(plain):
            value = float(plain)
            if not math.isinf(value):
                return value
        if plain.startswith("0b"):
            for parse in (parse_int, parse_uint):
                try:
                    return parse(plain[2:], 2)
                except _SyntaxOrRange:
                    pass
        elif plain.startswith("-0b"):
            try:
                return parse_int("-" + plain[3:], 2)
            except _SyntaxOrRange:
                pass
    return text
