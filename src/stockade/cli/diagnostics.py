"""Messages for people on stderr: ``error:``, ``warning:``, ``note:`` lines, and the
``stockade: error:`` line of a run that stops. Every message passes through
``stockade.render.escape.escape`` as a whole, so no text from the input can inject control
sequences or forge a line; a message meant to span lines (a tool's own error output) is
written line by line, each escaped and indented under the first."""

from __future__ import annotations

import sys

from stockade.render.escape import escape, escape_lines


def _emit(prefix: str, message: str) -> None:
    first, *rest = escape_lines(message)
    print(prefix + first, file=sys.stderr)
    for line in rest:
        print("  " + line, file=sys.stderr)


def error(message: str) -> None:
    """One error among several (an invalid object, a broken document)."""
    print("error: " + escape(message), file=sys.stderr)


def warning(message: str) -> None:
    print("warning: " + escape(message), file=sys.stderr)


def note(message: str) -> None:
    print("note: " + escape(message), file=sys.stderr)


def fatal(message: str, program: str = "stockade", *, lines: bool = False) -> None:
    """Why the run stops. With ``lines`` (an external tool's output) each line of the
    message is written, escaped, the later ones indented; otherwise it is one line."""
    if lines:
        _emit(f"{program}: error: ", message)
    else:
        print(f"{program}: error: " + escape(message), file=sys.stderr)
