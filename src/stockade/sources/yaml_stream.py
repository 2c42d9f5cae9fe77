"""Where a YAML stream splits into documents, as kubectl splits it.

kubectl (and every client reading manifests through apimachinery's ``pkg/util/yaml``:
``NewYAMLOrJSONDecoder``, ``NewYAMLToJSONDecoder``, ``YAMLReader``) does not let the YAML
parser find the documents: ``YAMLReader.Read`` reads the stream line by line (lines end at
``\\n``; ``\\r\\n`` loses its ``\\r``) and every line that *starts* with ``---`` ends a
document. What follows the ``---`` on that line, once Go's ``strings.TrimSpace`` has
removed white space (Unicode's, so also ``\\v``, ``\\f``, NEL, no-break space...), must be
nothing or begin with ``#``; anything else is an error that stops the stream ("invalid Yaml
document separator"). The separator line itself is dropped: go-yaml never sees it.

So ``---#c`` (no space before the comment), ``---\\v`` or ``--- \\u00a0`` separate
documents for kubectl, where YAML reads a plain scalar or refuses a control character;
and ``---x``, ``----``, ``--- a: 1`` or ``--- |`` are errors, where YAML reads content.
``separator_line`` is that rule; ``kubectl_view`` rewrites the separator lines that YAML would
read otherwise to a plain ``---`` of the same length, so that the parsers split where
kubectl splits and every offset and line number stays where it was in the file.

kubectl hands go-yaml each document on its own, so a UTF-8 byte-order mark that starts one
(``cat a.yaml b.yaml`` when ``b.yaml`` starts with one) is dropped by go-yaml's reader as
the mark of its input's encoding; YAML parsers given the whole stream would read it as
text (``\ufeffapiVersion``). ``kubectl_view`` moves such a mark into the separator line
before it, as a space.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

# unicode.IsSpace, which strings.TrimSpace trims: ASCII white space, NEL, no-break space and
# the Unicode White_Space characters. (Not Python's str.strip(): that also strips \x1c-\x1f.)
GO_SPACE = ("\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
            "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")
# A separator line that YAML reads as kubectl does: ---, then nothing, or spaces and tabs,
# then nothing or a comment of characters YAML takes in a comment on one line.
_YAML_ALIKE = re.compile(
    r"---(?:[ \t]+(?:#[^\x00-\x08\x0b-\x1f\x7f\x85\u2028\u2029]*)?)?\r?")
# A byte-order mark at the start of the line after a separator line (in ``kubectl_view``'s
# text, every line that starts with --- is one).
_MARK_AFTER_SEPARATOR = re.compile("^---(.*\n)\ufeff", re.MULTILINE)


def separator_line(line: str) -> bool | None:
    """For a line that starts with ``---`` (without its ``\\n``): ``True`` when kubectl reads
    it as a document separator, ``False`` when it refuses it (``YAMLReader``: "invalid Yaml
    document separator"). ``None`` for a line that does not start with ``---``."""
    if not line.startswith("---"):
        return None
    rest = line[3:].strip(GO_SPACE)
    return not rest or rest.startswith("#")


def _dash_lines(text: str) -> Iterator[tuple[int, str]]:
    """Each line that starts with ``---``: its offset, and its text when it goes on after
    the ``---`` ("" for a bare ``---``). Found with ``str.find``, five times faster than a
    multi-line regular expression over a large stream."""
    pos = 0 if text.startswith("---") else (text.find("\n---") + 1 or -1)  # -1: no more
    while pos >= 0:
        if text[pos + 3:pos + 4] in ("\n", ""):
            yield pos, ""
        else:
            end = text.find("\n", pos)
            yield pos, text[pos:end if end >= 0 else len(text)]
        pos = text.find("\n---", pos + 3) + 1 or -1


def separator_offsets(text: str) -> list[int]:
    """Where the lines kubectl reads as document separators start (refused ones are left
    out: see ``kubectl_view``)."""
    return [pos for pos, line in _dash_lines(text) if not line or separator_line(line)]


def kubectl_view(text: str) -> tuple[str, tuple[int, str] | None]:
    """The part of the stream kubectl reads, ready for a YAML parser, and the offset and
    text of the line that stops it (the first refused separator), or ``None``.

    Every separator line that YAML would read otherwise (``---#c``, ``---\\v``) is replaced
    by ``---`` and spaces, of the same length, and a byte-order mark that starts a document
    becomes a space on its separator line (``---\\n\\ufeff`` is ``--- \\n``); the text itself
    comes back when there is none of either and nothing is refused (the common case costs
    two searches)."""
    pieces: list[str] = []
    done = 0
    bad: tuple[int, str] | None = None
    for pos, line in _dash_lines(text):
        if not line or _YAML_ALIKE.fullmatch(line):
            continue
        if not separator_line(line):
            bad = (pos, line)
            break
        pieces += [text[done:pos], "---", " " * (len(line) - 3)]
        done = pos + len(line)
    end = len(text) if bad is None else bad[0]
    if pieces:
        pieces.append(text[done:end])
        view = "".join(pieces)
    else:
        view = text if bad is None else text[:end]
    if "\ufeff" in view:
        view = _MARK_AFTER_SEPARATOR.sub(r"--- \1", view)
    return view, bad


def kubectl_text(text: str) -> str:
    """``kubectl_view``'s text: what kubectl reads, ready for a YAML parser."""
    return kubectl_view(text)[0]
