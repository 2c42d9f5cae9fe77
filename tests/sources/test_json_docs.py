"""The fast JSON reading is kept only when it is the strict reading: the same data, or the
same refusal (through the strict reader) for repeated fields, depth, numbers and escapes."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stockade.model.numbers import LongNumber
from stockade.sources.json_docs import JSONProblem, fast_json, load_json, strict_json
from stockade.sources.limits import MAX_DEPTH
from stockade.sources.yaml_docs import TOO_DEEP


def outcome(text: str) -> tuple[str, Any]:
    try:
        return "data", load_json(text)
    except JSONProblem as exc:
        return "problem", (exc.line, exc.problem)


def strict_outcome(text: str) -> tuple[str, Any]:
    try:
        return "data", strict_json(text)
    except JSONProblem as exc:
        return "problem", (exc.line, exc.problem)


def nested(depth: int, leaf: str = "1") -> str:
    """A value nesting ``depth`` levels of mappings and lists (the value itself the first)."""
    text = leaf
    for level in range(depth):
        text = f'{{"a": {text}}}' if level % 2 else f"[{text}]"
    return text


# --- the fast path is taken, and is right ----------------------------------------------------

def test_a_kubectl_list_is_read_fast() -> None:
    items = [{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"p{i}", "labels":
              {"app": "web", "url": "http://x:80"}}, "status": {"podIP": "fd00::1"}}
             for i in range(50)]
    text = json.dumps({"apiVersion": "v1", "items": items, "kind": "List",
                       "metadata": {"resourceVersion": ""}}, indent=4)
    assert fast_json(text) == (json.loads(text),)


@pytest.mark.parametrize("text", [
    '{"a": 1, "b": {"c": [1, 2, {"d": "e:f"}]}}',
    '[{"k": "a:b:c"}, {"k": "::"}, 3, "x"]',
    '"just a string"',
    "42",
    '{"items": "not a list", "x": 1}',
    '{"kind": "List", "items": [], "metadata": {"a": {"b": ":"}}}',
])
def test_ordinary_json_is_read_fast(text: str) -> None:
    assert fast_json(text) == (json.loads(text),)


# --- every doubt goes to the strict reader, which decides as before --------------------------

@pytest.mark.parametrize("text", [
    '{"a": 1, "a": 2}',                                   # repeated at the top
    '[{"x": {"y": 1, "y": 1}}]',                          # repeated inside an array element
    '{"items": [{"n": 1}], "metadata": {"m": 1, "m": 2}}',  # in a List, beside the items
    '{"items": [{"n": 1, "n": "a:b"}]}',                   # in a List item, a colon in a value
    '{"a": "\\u003a", "a": 1}',                            # a repeat hidden by an escaped colon
])
def test_repeated_fields_are_refused_with_the_strict_message(text: str) -> None:
    assert fast_json(text) is None
    kind, (_, problem) = outcome(text)
    assert kind == "problem" and problem.startswith("invalid JSON: duplicate field")


def test_an_escaped_colon_without_repeat_is_still_read() -> None:
    text = '{"a": "\\u003a", "b": "\\u003A"}'
    assert fast_json(text) is None  # the colon count cannot be trusted: strict reading
    assert outcome(text) == ("data", {"a": ":", "b": ":"})


@pytest.mark.parametrize(("wrap", "extra"), [
    (lambda v: v, 0),                                        # the document itself
    (lambda v: f"[{v}]", 1),                                 # an array's element
    (lambda v: f'{{"kind": "List", "items": [{v}]}}', 2),    # a List's item
    (lambda v: f'{{"items": [], "metadata": {v}}}', 1),      # beside a List's items
])
def test_depth_is_refused_exactly_at_the_limit(wrap: Any, extra: int) -> None:
    deepest = wrap(nested(MAX_DEPTH - extra))
    assert outcome(deepest) == strict_outcome(deepest)
    assert outcome(deepest)[0] == "data"
    too_deep = wrap(nested(MAX_DEPTH - extra + 1))
    assert fast_json(too_deep) is None
    assert outcome(too_deep) == ("problem", (1, TOO_DEEP))


def test_brackets_in_strings_do_not_make_data_deep() -> None:
    text = json.dumps([{"a": "[" * (2 * MAX_DEPTH)}])
    assert fast_json(text) == (json.loads(text),)


@pytest.mark.parametrize("text", [
    "[NaN, Infinity, -Infinity]",
    '"\\ud800"',
    "[1e400]",
    "[" + "9" * 4301 + "]",
    "[1] x",
    '{"a": }',
])
def test_what_msgspec_refuses_or_reads_otherwise_is_read_strictly(text: str) -> None:
    assert fast_json(text) is None
    assert outcome(text) == strict_outcome(text)


def test_a_long_integer_stays_a_long_number() -> None:
    kind, data = outcome('{"port": ' + "7" * 5000 + "}")
    assert kind == "data" and isinstance(data["port"], LongNumber)


# --- the two readings agree on random documents ---------------------------------------------

_keys = st.sampled_from(["a", "b", "name", "x:y", "items", "k\u00e9", ":"])
_scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**30, 10**30),
                     st.floats(allow_nan=False, allow_infinity=False),
                     st.text(alphabet=st.sampled_from('ab:[]{}"\\é\n'), max_size=6))


@st.composite
def json_texts(draw: st.DrawFn) -> str:
    """JSON text built by hand, so that objects may repeat a key."""
    def value(depth: int) -> str:
        kind = draw(st.integers(0, 2 if depth < 4 else 0))
        if kind == 0:
            return json.dumps(draw(_scalars))
        if kind == 1:
            return "[" + ", ".join(value(depth + 1) for _ in range(draw(st.integers(0, 3)))) + "]"
        members = [f"{json.dumps(draw(_keys))}: {value(depth + 1)}"
                   for _ in range(draw(st.integers(0, 4)))]
        return "{" + ", ".join(members) + "}"
    return value(0)


@settings(max_examples=400, deadline=None)
@given(json_texts())
def test_fast_and_strict_readings_agree(text: str) -> None:
    fast, strict = outcome(text), strict_outcome(text)
    assert _comparable(fast) == _comparable(strict)


def _comparable(value: Any) -> Any:
    """-0.0 and 0.0 compare equal; keep the sign visible."""
    if isinstance(value, float):
        return (value, math.copysign(1.0, value))
    if isinstance(value, dict):
        return {k: _comparable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_comparable(v) for v in value]
    return value
