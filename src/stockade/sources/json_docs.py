"""JSON text to Python data, read as kubectl reads it, with every check; fast.

The checks: a field repeated in one object keeps its later value, as kubectl reads it (Go's
JSON decoding into a map), with a note naming both lines (an error, ``duplicate field
"x"``, where no notes are taken); an integer longer than Python converts is kept as a
``LongNumber``; nesting deeper than ``MAX_DEPTH`` is refused. The standard library's
parser, with a hook on every object, does all of that but costs seconds per hundred
megabytes; ``msgspec`` parses the same text five to ten times faster but keeps the last of
repeated fields silently. So ``msgspec`` reads first, and its result is kept only when it
provably equals the strict reading:

- no repeated field: every object member has exactly one ``:`` outside strings, so the
  colons of the text equal the colons of the parsed data written back as JSON, unless a
  member was lost to a repeat (a ``\\u003a`` escape, the one way to write a colon without
  one, sends the text to the strict reader);
- depth: each top-level document (or List item) holds at least as many brackets as it
  nests; only one with more than ``MAX_DEPTH`` brackets is walked;
- anything ``msgspec`` refuses (``NaN``, a lone surrogate, a huge number, broken JSON) and
  any run of digits longer than ``MAX_INTEGER_DIGITS`` go to the strict reader, which
  accepts or words the error exactly as before.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

from stockade.model.numbers import LongNumber
from stockade.sources.limits import MAX_DEPTH, MAX_INTEGER_DIGITS
from stockade.sources.yaml_docs import TOO_DEEP, deeper_than_limit, long_number


class JSONProblem(Exception):
    """Text that is not JSON stockade reads: ``line`` is 1-based."""

    def __init__(self, line: int, problem: str) -> None:
        super().__init__(problem)
        self.line = line
        self.problem = problem


def load_json(text: str) -> Any:
    """The data of a JSON text, or ``JSONProblem``."""
    fast = fast_json(text)
    if fast is not None:
        return fast[0]
    return strict_json(text)


def load_json_values(text: str, notes: list[JSONProblem] | None = None
                     ) -> tuple[list[tuple[Any, int]], JSONProblem | None]:
    """The JSON values of ``text``, each with the line it starts on: one value, or a stream
    of them one after another, which kubectl reads from input that starts with ``{`` (as
    ``jq '.items[]'`` writes it). A value that does not parse ends the stream: the values
    before it, and the problem. One value is read fast; a stream by the strict reader.
    ``notes``, when given, receives a note per repeated field (which then keeps its later
    value; without ``notes`` it ends the stream as a problem)."""
    fast = fast_json(text)
    if fast is not None:
        return [(fast[0], 1 + text.count("\n", 0, _json_space(text, 0)))], None
    try:
        return _json_stream(text, int, notes)
    except ValueError as exc:  # not a JSONDecodeError: an integer longer than Python converts
        if isinstance(exc, json.JSONDecodeError):
            raise
        if notes is not None:
            del notes[:]
        return _json_stream(text, _long_int, notes)


# --- the fast reading, checked --------------------------------------------------------------

_NOT_BRACKETS = bytes(c for c in range(256) if chr(c) not in "{[")


@functools.cache
def _msgspec() -> tuple[Callable[[str], Any], Callable[[Any], bytes], type[Exception]]:
    """``msgspec``'s decode, encode and error, imported on the first JSON text read: its
    import (about 8 ms, most of it modules it needs for types manifests never hold) would
    otherwise be paid by every command, YAML input included."""
    import msgspec

    return msgspec.json.Decoder().decode, msgspec.json.Encoder().encode, msgspec.MsgspecError


def fast_json(text: str) -> tuple[Any] | None:
    """``(data,)`` when ``msgspec``'s reading is the strict reading, else ``None``."""
    if "\\u003a" in text or "\\u003A" in text or long_number(text):
        return None
    decode, encode, refused = _msgspec()
    try:
        data = decode(text)
    except (refused, RecursionError, ValueError, OverflowError):
        return None
    colons = 0
    for units, offset in _units(data):
        limit = MAX_DEPTH - offset
        for unit in units:
            encoded = encode(unit)
            colons += encoded.count(b":")
            # A unit nests at most as deep as it has brackets (some may be in strings).
            if len(encoded.translate(None, _NOT_BRACKETS)) > limit \
                    and deeper_than_limit(unit, limit):
                return None  # the strict reader names the problem
    if colons != text.count(":"):
        return None  # a repeated field
    return (data,)


def _units(data: Any) -> list[tuple[list[Any], int]]:
    """The data in pieces to check one by one, each with the depth its pieces sit at: a
    List's items apart from the rest of the List, an array's elements, or the data."""
    if type(data) is list:
        return [(data, 1)]
    if type(data) is dict and type(data.get("items")) is list:
        return [([{**data, "items": []}], 0), (data["items"], 2)]
    return [([data], 0)]


# --- the strict reading ---------------------------------------------------------------------

class _DuplicateField(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _strict_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object without repeated keys, for readers that take no notes."""
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateField(key)
            seen.add(key)
    return obj


class _Repeats:
    """An object hook that keeps a repeated key's later value, as Go's decoding into a map
    (kubectl's) does, and remembers that it saw one."""

    def __init__(self) -> None:
        self.seen = False

    def __call__(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj = dict(pairs)
        if len(obj) != len(pairs):
            self.seen = True
        return obj


def _long_int(text: str) -> int:
    return int(text) if len(text.lstrip("-")) <= MAX_INTEGER_DIGITS else LongNumber(text)


def strict_json(text: str) -> Any:
    """The standard library's reading, with every strict check, or ``JSONProblem``."""
    try:
        try:
            data = json.loads(text, object_pairs_hook=_strict_object)
        except json.JSONDecodeError:
            raise
        except ValueError:  # an integer longer than Python converts
            data = json.loads(text, object_pairs_hook=_strict_object, parse_int=_long_int)
    except json.JSONDecodeError as exc:
        raise JSONProblem(exc.lineno, f"invalid JSON: {exc.msg}") from None
    except _DuplicateField as exc:
        raise JSONProblem(_duplicate_line(text),
                          f'invalid JSON: duplicate field "{exc.key}"') from None
    except RecursionError:
        raise JSONProblem(1, TOO_DEEP) from None
    if deeper_than_limit(data):
        raise JSONProblem(1, TOO_DEEP)
    return data


def _json_stream(text: str, parse_int: Callable[[str], Any],
                 notes: list[JSONProblem] | None = None
                 ) -> tuple[list[tuple[Any, int]], JSONProblem | None]:
    repeats = _Repeats()
    decoder = json.JSONDecoder(object_pairs_hook=_strict_object if notes is None else repeats,
                               parse_int=parse_int)
    values: list[tuple[Any, int]] = []
    pos = _json_space(text, 0)
    line = 1 + text.count("\n", 0, pos)
    while pos < len(text):
        try:
            repeats.seen = False
            value, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            return values, JSONProblem(exc.lineno, f"invalid JSON: {exc.msg}")
        except _DuplicateField as exc:
            return values, JSONProblem(_duplicate_line(text),
                                       f'invalid JSON: duplicate field "{exc.key}"')
        except RecursionError:
            return values, JSONProblem(line, TOO_DEEP)
        if deeper_than_limit(value):
            return values, JSONProblem(line, TOO_DEEP)
        if repeats.seen and notes is not None:
            notes.extend(JSONProblem(at, f'field "{key}" is repeated in one object (line '
                                         f'{first}, then line {at}): kubectl keeps the later '
                                         "value")
                         for key, first, at in _repeated_fields(text, pos, end))
        values.append((value, line))
        after = _json_space(text, end)
        line += text.count("\n", pos, after)
        pos = after
    return values, None


_JSON_SPACE = re.compile(r"[ \t\n\r]*")


def _json_space(text: str, pos: int) -> int:
    """Where the JSON whitespace from ``pos`` ends."""
    match = _JSON_SPACE.match(text, pos)
    assert match is not None  # the pattern matches the empty string
    return match.end()


_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]:]')


def _repeated_fields(text: str, start: int, end: int) -> Iterator[tuple[str, int, int]]:
    """Each field repeated within one object of the JSON value ``text[start:end]``, in
    the order of the text: its name, the line of its first occurrence and of the repeat
    (read no further than asked: text after a repeat need not be JSON)."""
    frames: list[dict[str, int] | None] = []  # per open bracket: the object's keys' lines
    last: re.Match[str] | None = None
    line, counted = 1 + text.count("\n", 0, start), start
    for token in _JSON_TOKEN.finditer(text, start, end):
        t = token.group()
        if t in "{[":
            frames.append({} if t == "{" else None)
        elif t in "}]":
            frames.pop()
        elif t == ":" and last is not None and frames and (keys := frames[-1]) is not None:
            name = json.loads(last.group())
            line += text.count("\n", counted, last.start())
            counted = last.start()
            if name in keys:
                yield name, keys[name], line
            keys[name] = line
        last = token if t.startswith('"') else None


def _duplicate_line(text: str) -> int:
    """The line of the first key repeated within one JSON object (``text`` is valid JSON
    up to there)."""
    return next((line for _, _, line in _repeated_fields(text, 0, len(text))), 1)
