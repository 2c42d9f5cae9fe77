"""Lists read as apimachinery's list decoding reads them: edges kubectl accepts."""

from __future__ import annotations

import pytest

from stockade.errors import DocumentError
from stockade.sources.files import parse_text


@pytest.mark.parametrize("items", ["items:\n", "items: null\n", "items: ~\n"])
@pytest.mark.parametrize("kind", ["List", "PodList"])
def test_null_items_are_an_empty_list(kind: str, items: str) -> None:
    """A Go client marshals an empty list's nil slice as ``"items": null``; kubectl reads it
    as no items, not as an error."""
    assert parse_text(f"apiVersion: v1\nkind: {kind}\n{items}", "l.yaml") == []


def test_null_items_of_a_list_inside_a_list_are_an_empty_list() -> None:
    text = ("apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: PodList, items: null}\n"
            "- {apiVersion: v1, kind: Namespace, metadata: {name: a}}\n")
    assert [o.kind for o in parse_text(text, "l.yaml")] == ["Namespace"]


@pytest.mark.parametrize("items", ["{}", "x", "1"])
def test_items_of_another_type_are_still_an_error(items: str) -> None:
    with pytest.raises(DocumentError, match=r"l.yaml:1: List: items: must be of type array"):
        parse_text(f"apiVersion: v1\nkind: List\nitems: {items}\n", "l.yaml")
