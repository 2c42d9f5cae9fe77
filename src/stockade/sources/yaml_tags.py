"""Scalars with an explicit YAML tag, read as go-yaml v2 reads them into ``interface{}``
(``resolve`` and ``decoder.scalar``): a resolvable tag resolves the text and must fit it
(``!!int abc`` is an error), ``!!binary`` is decoded base64, any other tag leaves the text.
Only the slow path's loader (``yaml_docs._strict_loader``) needs this, so it is its own
module, imported with PyYAML: a run without tags never imports it."""

from __future__ import annotations

import base64
import binascii
import codecs
import datetime
import re

from stockade.sources.yaml_scalars import resolve_plain

_YAML_TAG = "tag:yaml.org,2002:"
_INT64 = 2**63
# resolve.go's ``resolvableTag``: the tags go-yaml resolves a scalar for; with any other
# (``!foo``, ``!!binary``, ``!!set``...) a scalar is its text.
RESOLVABLE = frozenset(_YAML_TAG + t for t in ("str", "bool", "int", "float", "null",
                                               "timestamp"))
# parseTimestamp's layouts ("2006-1-2T15:4:5.999999999Z07:00", the same with "t", "2006-1-2
# 15:4:5.999999999", "2006-1-2"), as Go's time.Parse reads them.
_TIMESTAMP = re.compile(
    r"(\d{4})-(\d\d?)-(\d\d?)(?:(?:[Tt](\d\d?):(\d\d?):(\d\d?)(?:[.,]\d{1,9})?"
    r"(?:Z|[-+]\d\d:\d\d))|(?: (\d\d?):(\d\d?):(\d\d?)(?:[.,]\d{1,9})?))?", re.ASCII)


def _go_timestamp(text: str) -> bool:
    """Whether go-yaml's ``parseTimestamp`` reads ``text`` (the date and time must exist)."""
    match = _TIMESTAMP.fullmatch(text)
    if match is None:
        return False
    year, month, day, *clock = (int(g) if g else 0 for g in match.groups())
    hour, minute, second = clock[0] + clock[3], clock[1] + clock[4], clock[2] + clock[5]
    try:
        datetime.datetime(year, month, day, hour, minute, second)
    except ValueError:
        return False
    return True


def _short(tag: str) -> str:
    return "!!" + tag.removeprefix(_YAML_TAG)


def resolve_tagged(tag: str, text: str) -> object:
    """The value go-yaml v2 gives a scalar with a resolvable tag (``RESOLVABLE``), as
    ``resolve`` in resolve.go decides: ``!!str`` keeps the text; otherwise the text is
    resolved as if plain (``!!timestamp`` first tries a timestamp, which stays text) and
    must resolve to the tag's kind, except that an integer within int64 becomes a float
    for ``!!float``. Raises ``ValueError`` with go-yaml's words where it fails (``cannot
    decode !!str `abc` as a !!int``)."""
    if tag == _YAML_TAG + "str" or (tag == _YAML_TAG + "timestamp" and _go_timestamp(text)):
        return text
    value = resolve_plain(text)
    kind = ("null" if value is None else "bool" if isinstance(value, bool) else
            "int" if isinstance(value, int) else "float" if isinstance(value, float) else "str")
    if tag == _YAML_TAG + kind:
        return value
    if tag == _YAML_TAG + "float" and type(value) is int and -_INT64 <= value < _INT64:
        return float(value)  # a uint64 is not converted
    raise ValueError(f"cannot decode !!{kind} `{text}` as a {_short(tag)}")


def _go_replace(error: UnicodeError) -> tuple[str, int]:
    """Go's ``json.Marshal`` writes each byte of invalid UTF-8 as one U+FFFD."""
    assert isinstance(error, UnicodeDecodeError)
    return "\ufffd", error.start + 1


codecs.register_error("stockade-go-utf8", _go_replace)


def decode_binary(text: str) -> str:
    """A ``!!binary`` scalar as go-yaml v2 decodes it (``decoder.scalar``): Go's
    ``base64.StdEncoding.DecodeString`` (padding required, line breaks skipped) into a Go
    string, which JSON encoding makes valid UTF-8. Raises ``ValueError`` with go-yaml's
    words on bad base64."""
    try:
        data = base64.b64decode(text.replace("\r", "").replace("\n", ""), validate=True)
    except binascii.Error:
        raise ValueError("!!binary value contains invalid base64 data") from None
    return data.decode("utf-8", "stockade-go-utf8")
