"""``escape``: no text from the input reaches a terminal as a control sequence or a line
break; everything else is left as it is. Property-tested over all of Unicode."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from stockade.render.escape import escape, escape_lines

UNSAFE = {"Cc", "Cf", "Cs", "Zl", "Zp"}


def test_examples() -> None:
    assert escape("web-1") == "web-1"
    assert escape("café ☕ 日本") == "café ☕ 日本"
    assert escape("a\nerror: forged") == "a\\nerror: forged"
    assert escape("\x1b]0;pwned\x07\x1b[2J") == "\\x1b]0;pwned\\x07\\x1b[2J"
    assert escape("\x9b31m") == "\\x9b31m"  # the 8-bit CSI some terminals obey
    assert escape("abc\u202edef") == "abc\\u202edef"  # right-to-left override
    assert escape("x\u2028y\u2029") == "x\\u2028y\\u2029"
    assert escape("bad\udcffname") == "bad\\udcffname"  # from a file name not UTF-8
    assert escape("tab\there\r") == "tab\\there\\r"


@given(st.text(alphabet=st.characters(codec=None)))
def test_no_unsafe_character_survives(text: str) -> None:
    shown = escape(text)
    assert not any(unicodedata.category(c) in UNSAFE for c in shown)


@given(st.text(alphabet=st.characters(exclude_categories=("Cc", "Cf", "Cs", "Zl", "Zp"))))
def test_safe_text_is_unchanged(text: str) -> None:
    assert escape(text) == text


@given(st.text())
def test_escaping_twice_changes_nothing_more(text: str) -> None:
    assert escape(escape(text)) == escape(text)


def test_lines_are_escaped_one_by_one() -> None:
    assert escape_lines("helm: error\n\x1b[31mdetail") == ["helm: error", "\\x1b[31mdetail"]
