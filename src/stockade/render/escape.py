"""User-supplied text made safe for a terminal: every string that comes from input (names,
labels, file names, values, command-line words) passes through ``escape`` before it is
written as text, so that it can neither send control sequences (retitle the terminal,
recolour the screen, move the cursor) nor forge lines (a newline in a name must not start
a second ``error:`` line).

Control characters, Unicode format characters (bidirectional overrides that reorder what
is shown, zero-width characters), line and paragraph separators and lone surrogates (from
file names that are not UTF-8) are written as Python-style escapes: ``\\n``, ``\\x1b``,
``\\u202e``. Everything else, including non-ASCII letters, is written as it is. JSON output
needs none of this: the JSON encoder escapes control characters itself.
"""

from __future__ import annotations

import unicodedata

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def _escape_char(char: str) -> str:
    if char in _NAMED:
        return _NAMED[char]
    if unicodedata.category(char) not in _UNSAFE_CATEGORIES:
        return char
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def escape(text: str) -> str:
    """``text`` with every character that a terminal would act on written as an escape."""
    if text.isprintable():  # the usual case; isprintable() is False for all unsafe classes
        return text
    return "".join(_escape_char(c) for c in text)


def escape_lines(text: str) -> list[str]:
    """Text that may span lines on purpose (a tool's error output), as escaped lines."""
    return [escape(line) for line in text.split("\n")]


def safe_log(text: str) -> str:
    """A program's output for a terminal: lines and tabs kept, everything else a terminal
    would act on escaped."""
    return "\n".join("\t".join(escape(part) for part in line.split("\t"))
                     for line in text.split("\n"))
