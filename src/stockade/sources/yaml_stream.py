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
``separator_line`` is that rule; ``yaml_ready`` rewrites the separator lines that YAML would
read otherwise to a plain ``---`` of the same length, so that the parsers split where
kubectl splits and every offset and line number stays where it was in the file.
"""

from __future__ import annotations

import re

# unicode.IsSpace, which strings.TrimSpace trims: ASCII white space, NEL, no-break space and
# the Unicode White_Space characters. (Not Python's str.strip(): that also strips \x1c-\x1f.)
GO_SPACE = ("\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
            "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")
# Lines that start with --- and go on: the only ones whose reading can differ. A separator
# that YAML reads as kubectl does: ---, then nothing, or spaces and tabs, then nothing or a
# comment of printable characters.
_SEPARATOR_LINE = re.compile(r"^---([^\n]*)", re.MULTILINE)
_LONG_SEPARATOR = re.compile(r"^---[^\n]", re.MULTILINE)
_YAML_ALIKE = re.compile(r"---(?:[ \t]+(?:#[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f\x85\u2028\u2029]*)?)?")


def separator_line(line: str) -> bool | None:
    """For a line that starts with ``---`` (without its ``\\n``): ``True`` when kubectl reads
    it as a document separator, ``False`` when it refuses it (``YAMLReader``: "invalid Yaml
    document separator"). ``None`` for a line that does not start with ``---``."""
    if not line.startswith("---"):
        return None
    rest = line[3:].strip(GO_SPACE)
    return not rest or rest.startswith("#")


def separator_offsets(text: str) -> list[int]:
    """Where the lines kubectl reads as document separators start (refused ones are left
    out: see ``bad_separator``)."""
    return [m.start() for m in _SEPARATOR_LINE.finditer(text)
            if not m.group(1) or separator_line(m.group())]


def bad_separator(text: str) -> tuple[int, str] | None:
    """The offset and text of the first line that starts with ``---`` and is no separator
    to kubectl, or ``None``."""
    if "---" not in text:
        return None
    for match in _LONG_SEPARATOR.finditer(text):
        end = text.find("\n", match.start())
        line = text[match.start():end if end >= 0 else len(text)]
        if not separator_line(line):
            return match.start(), line
    return None


def yaml_ready(text: str) -> str:
    """The text with every separator line that YAML would read otherwise (``---#c``,
    ``---\\v``) replaced by ``---`` and spaces of the same length; the text itself when there
    is none (the common case costs one search). Refused lines are left as they are."""
    if "---" not in text:
        return text
    pieces: list[str] = []
    done = 0
    for match in _LONG_SEPARATOR.finditer(text):
        end = text.find("\n", match.start())
        end = end if end >= 0 else len(text)
        line = text[match.start():end]
        if _YAML_ALIKE.fullmatch(line.rstrip("\r")) or not separator_line(line):
            continue
        pieces += [text[done:match.start()], "---", " " * (len(line) - 3)]
        done = end
    if not pieces:
        return text
    pieces.append(text[done:])
    return "".join(pieces)


def kubectl_text(text: str) -> str:
    """The part of the stream kubectl reads (up to the first refused separator line), ready
    for a YAML parser (``yaml_ready``)."""
    bad = bad_separator(text)
    return yaml_ready(text if bad is None else text[:bad[0]])
