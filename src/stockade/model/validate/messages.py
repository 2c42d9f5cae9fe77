"""The wording helpers every API-server validator shares.

Upstream builds most messages from three small formatters (``MaxLenError``,
``RegexError``, ``InclusiveRangeError``); keeping them in one place means a regex or a
limit is written once and its message can never drift from it.
"""

from __future__ import annotations


def byte_length(text: str) -> int:
    """Go's ``len`` of a string: its UTF-8 byte count, which is what the limits measure."""
    return len(text.encode("utf-8", "surrogatepass"))


def max_len_error(limit: int) -> str:
    return f"must be no more than {limit} characters"


def empty_error() -> str:
    return "must be non-empty"


def inclusive_range_error(low: int, high: int) -> str:
    return f"must be between {low} and {high}, inclusive"


def regex_error(message: str, pattern: str, *examples: str) -> str:
    """``RegexError``: note the double space before each ``or`` that upstream produces."""
    if not examples:
        return f"{message} (regex used for validation is '{pattern}')"
    shown = " or ".join(f"'{example}', " for example in examples)
    return f"{message} (e.g. {shown}regex used for validation is '{pattern}')"
