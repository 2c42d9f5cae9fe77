"""A promise file's names that are there but are no strings (``name: y``, which YAML reads
as a boolean; ``name: 1``) are of the wrong type, not missing, and a value that cannot be
shown is named by its JSON type (``null``), never by Python's (``NoneType``): found by a
hostile-input hunt, where both read ``Required value`` and ``"NoneType"``."""

from __future__ import annotations

from typing import Any

import pytest

from stockade.model.promises import API_VERSION, KIND, decode_connectivity_test
from stockade.model.types import Origin

PROMISE = {"name": "b reaches a", "from": "ns1/b", "to": "ns1/a", "allowed": True}


def errors(test_name: object, *expect: object) -> list[str]:
    data: dict[str, Any] = {"apiVersion": API_VERSION, "kind": KIND,
                            "metadata": {"name": test_name},
                            "spec": {"expect": list(expect)}}
    _, findings = decode_connectivity_test(data, Origin("t.yaml", 1), lambda _path: 0)
    return [str(f.error) for f in findings]


@pytest.mark.parametrize(("value", "shown"), [(True, "boolean"), (1, "integer"),
                                              (["x"], "array"), ({"a": 1}, "object")])
def test_a_name_of_another_type_is_invalid_not_missing(value: object, shown: str) -> None:
    assert errors(value, PROMISE) == [
        f'metadata.name: Invalid value: "{shown}": must be of type string']
    assert errors("t", {**PROMISE, "name": value}) == [
        f'spec.expect[0].name: Invalid value: "{shown}": must be of type string']


@pytest.mark.parametrize("value", [None, ""])
def test_an_absent_or_empty_name_is_required(value: object) -> None:
    assert errors(value, PROMISE) == ["metadata.name: Required value"]
    assert errors("t", {**PROMISE, "name": value}) == [
        "spec.expect[0].name: Required value: say what is promised, in words"]


def test_a_null_promise_is_named_null() -> None:
    assert errors("t", PROMISE, None) == ['spec.expect[1]: Invalid value: "null": must be an '
                                          "object"]
