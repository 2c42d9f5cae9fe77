"""YAML streams to Python documents, each with the line it starts on; fast, faithful, strict.

Kubernetes reads YAML with YAML 1.1 rules (``yes`` is a boolean, ``010`` is octal 8). PyYAML
follows them but builds every object in Python; the Rust parser ``yaml_rs`` is about ten
times faster but follows YAML 1.2. So a stream's ``yaml_rs`` reading is kept only when it
holds no value that the two versions read differently, and PyYAML reads it otherwise, and
also on any parse error, so that the error names the line as PyYAML reports it.

Both paths read as kubectl does (``sigs.k8s.io/yaml`` over go-yaml v2): timestamps stay
strings, and a key repeated in one mapping keeps its later value, with a note (an error for
callers that take no notes). A stream is parsed a few
documents at a time (``YAML_CHUNK_BYTES``), so that the parsers' memory stays small and a
broken document can be reported by itself while the others are kept.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any, ClassVar, NamedTuple

from stockade.sources.limits import MAX_DEPTH, MAX_INTEGER_DIGITS, YAML_CHUNK_BYTES
from stockade.sources.yaml_scalars import (
    FIRST_CHARS,
    NON_FINITE_WORD,
    json_key,
    non_finite,
    resolve_plain,
)
from stockade.sources.yaml_stream import GO_SPACE, kubectl_view, separator_offsets


class YAMLProblem(ValueError):
    """A stream that does not parse: ``line`` is 1-based (0 when unknown)."""

    def __init__(self, line: int, problem: str) -> None:
        super().__init__(problem)
        self.line = line
        self.problem = problem


TOO_DEEP = f"nested more than {MAX_DEPTH} levels deep (stockade's limit, MAX_DEPTH)"
RECURSIVE = "an alias refers to its own mapping or list: the document never ends"

# Where go-yaml's YAML 1.1 (``yaml_scalars``) and yaml_rs's YAML 1.2 read a plain scalar
# differently, 1.2 mostly yields a string, a float or an integer that the parsed data shows:
# 1.1's extra booleans (``y``, ``yes``, ``on``...), merge keys, a string that go-yaml reads
# as a number once its underscores are gone (``0_x1F``) or by its ``0b`` fallback
# (``0b-1``), an integer beyond 64 bits (a float or a string to go-yaml), and floats
# (always read again, rarely seen). Two kinds look alike once parsed; the text is searched
# for those: integers with a leading zero (octal in 1.1), and a scalar that starts with an
# underscore (``_1`` is 1 to yaml_rs, the string "_1" to go-yaml). A false alarm (a quoted
# "yes", say) only costs the slow path. So is a run of digits longer than Python converts
# quickly (``yaml_rs`` would spend seconds converting it; to go-yaml it is a float or a
# string), and an anchor: ``yaml_rs`` reads an alias to its own anchor as null, and copies
# what aliases share (an alias bomb grows to a million nodes), where PyYAML shares, and the
# recursion is refused.
_BOOL_11 = frozenset(["yes", "Yes", "YES", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF",
                      "y", "Y", "n", "N"])
# An integer with a leading zero or 0o, as a whole plain scalar: not inside a word, an
# address, a path or quotes (a quoted scalar is a string in both versions), and ending where
# the scalar ends (``0x7f...``, a UID like ``05f13e8a-...`` or ``0800`` in quotes are strings
# in both). The same as (?<![\w.:/+"'-])[-+]?0(?:[0-9_]+|o[0-7_]+) followed by the end of a
# scalar, written to start at the literal "0" so that the regular expression engine skips
# to each zero instead of trying every position (27 times faster on manifests).
_LEADING_ZERO = re.compile(r"0(?=(?:[0-9_]+|o[0-7_]+)[ \t]*(?:[\r\n,\]}#]|:(?:\s|$)|$))"
                           r"(?:(?<![\w.:/+\"'-]0)|(?<=[^\w.:/+\"'-][-+]0)|(?<=^[-+]0))")
_ANCHOR = re.compile(r"(?:^|(?<=[\s\[{,]))&[^\s\]},]")
_LONG_DIGITS = re.compile(f"[0-9]{{{MAX_INTEGER_DIGITS + 1}}}")
# An underscore that starts a plain scalar of underscores and digits, or follows its sign
# (``+_070`` is octal to go-yaml, 70 to yaml_rs), as the leading zero above (written to
# start at the literal "_").
_LEADING_UNDERSCORE = re.compile(r"_(?=[_0-9]*[0-9][_0-9]*[ \t]*(?:[\r\n,\]}#]|:(?:\s|$)|$))"
                                 r"(?:(?<![^\s\[{,]_)|(?<=[\s\[{,][-+]_)|(?<=^[-+]_))")
_NUMBER_FIRST = frozenset("+-.0123456789")
_INT64 = 2**63
_UINT64 = 2**64


def long_number(text: str) -> bool:
    """Whether ``text`` holds more than ``MAX_INTEGER_DIGITS`` digits in a row. Such a run
    covers two samples half that far apart, with only digits between them; only there is
    the text searched (a regular expression over all of it would cost a tenth of a second
    per ten megabytes)."""
    step = MAX_INTEGER_DIGITS // 2
    for pos in range(0, len(text) - step, step):
        if text[pos].isdigit() and text[pos + step].isdigit() and text[pos:pos + step].isdigit():
            window = (max(0, pos - MAX_INTEGER_DIGITS), pos + step + MAX_INTEGER_DIGITS + 1)
            if _LONG_DIGITS.search(text, *window):
                return True
    return False


def _slow_text(text: str) -> bool:
    """Whether the text holds what only PyYAML reads right (see above). YAML 1.1 also
    ends a line at NEL, LINE SEPARATOR and PARAGRAPH SEPARATOR, which YAML 1.2 reads as
    text: a scalar before one would read otherwise (``0777\u2028`` is 511 to PyYAML). And
    a byte-order mark that starts a line (one that starts a document is gone: see
    ``yaml_stream``): libyaml, as go-yaml, skips it there but counts its column, so that it
    shifts what follows (``a: 1\n\ufeffb: 2`` is an error), where ``yaml_rs`` reads it as
    text (the key ``\ufeffb``)."""
    return ("!" in text or "\x85" in text or "\u2028" in text or "\u2029" in text
            or "\n\ufeff" in text
            or _LEADING_ZERO.search(text) is not None
            or ("_" in text and _LEADING_UNDERSCORE.search(text) is not None)
            or ("&" in text and _ANCHOR.search(text) is not None) or long_number(text))


_SPECIAL = _BOOL_11 | {"<<"}


def _string_differs(value: str) -> bool:
    if value in _SPECIAL:
        return True
    return (("_" in value or "0b" in value) and value[:1] in _NUMBER_FIRST
            and type(resolve_plain(value)) is not str)


class _TooDeep(Exception):
    pass


@functools.lru_cache(maxsize=64)
def _plain_word_pattern(word: str) -> re.Pattern[str]:
    # The word first, then what stands before it: a literal start is found fast.
    w = re.escape(word)
    return re.compile(w + r"(?<=(?<![^\s\[{,])" + w + r")[ \t]*(?:[\r\n,\]}#]|:(?:\s|$)|$)")


def _plain_word(text: str, word: str) -> bool:
    """Whether ``word`` (``yes``, ``on``...) may stand in the text as a plain scalar of its
    own, which YAML 1.1 reads as a boolean; quoted (``"yes"``, as kubectl writes it) or
    inside a longer scalar it is a string in both versions. A false alarm (a line of a
    block scalar) only costs the slow path."""
    return _plain_word_pattern(word).search(text) is not None


def _differs(data: Any, text: str | None = None, quoted: set[str] | None = None) -> bool:
    """Whether parsed data holds a value YAML 1.1 would have read differently; raises
    ``_TooDeep`` when it nests deeper than ``MAX_DEPTH`` (walked level by level: the fast
    parser copies what aliases share, so nothing is walked twice by sharing). With the
    ``text`` it was parsed from, a string such as ``yes`` that the text only holds quoted
    does not count; ``quoted`` keeps such words between the documents of one text."""
    if quoted is None:
        quoted = set()

    def differs(value: str) -> bool:
        if value in quoted:
            return False
        if text is not None and value in _BOOL_11 and not _plain_word(text, value):
            quoted.add(value)
            return False
        return _string_differs(value)

    level = [data]
    depth = 0
    while level:
        depth += 1
        if depth > MAX_DEPTH:
            raise _TooDeep
        below: list[Any] = []
        for value in level:
            kind = type(value)
            if kind is dict:
                for key in value:
                    if type(key) is not str or ((key in _SPECIAL or "_" in key
                                                 or "0b" in key) and differs(key)):
                        return True
                below.extend(value.values())
            elif kind is list:
                below.extend(value)
            elif kind is str:
                if (value in _SPECIAL or "_" in value or "0b" in value) \
                        and differs(value):
                    return True
            elif kind is float or (kind is int and not -_INT64 <= value < _UINT64):
                return True
        level = below
    return False


def deeper_than_limit(data: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether data without shared parts (JSON, say) nests deeper than ``limit``."""
    level = [data]
    for _ in range(limit):
        below: list[Any] = []
        for value in level:
            if type(value) is dict:
                below.extend(v for v in value.values() if type(v) is dict or type(v) is list)
            elif type(value) is list:
                below.extend(v for v in value if type(v) is dict or type(v) is list)
        if not below:
            return False
        level = below
    return True


def too_deep(data: Any) -> str | None:
    """Why ``data`` nests too deeply to be read (``MAX_DEPTH``, or an alias that contains
    itself), or ``None``. Containers shared through aliases are measured once."""
    if type(data) is not dict and type(data) is not list:
        return None  # an empty or scalar document
    height: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[Any, bool]] = [(data, False)]
    while stack:
        node, done = stack.pop()
        ident = id(node)
        children = node.values() if type(node) is dict else node
        if done:
            on_path.discard(ident)
            below = [height[id(c)] for c in children if type(c) is dict or type(c) is list]
            height[ident] = 1 + max(below, default=0)
            if height[ident] > MAX_DEPTH:
                return TOO_DEEP
            continue
        if ident in height:
            continue
        if ident in on_path:
            return RECURSIVE
        on_path.add(ident)
        stack.append((node, True))
        for child in children:
            if type(child) is dict or type(child) is list:
                if id(child) in on_path:
                    return RECURSIVE
                stack.append((child, False))
    return None


EXCESSIVE_ALIASING = ("document contains excessive aliasing (more of it comes through "
                      "aliases than Kubernetes' YAML decoder accepts: an alias bomb)")


def _allowed_alias_ratio(decoded: int) -> float:
    """go-yaml's share of a document's decoded nodes that may come through aliases: 99% up to
    400,000 nodes, falling to 10% at 4,000,000 (``allowedAliasRatio`` in decode.go)."""
    if decoded <= 400_000:
        return 0.99
    if decoded >= 4_000_000:
        return 0.10
    return 0.99 - 0.89 * (decoded - 400_000) / 3_600_000


def alias_expansion(data: Any) -> int:
    """How many nodes of ``data`` (PyYAML's reading, which shares what aliases name) come
    through aliases, counted in document order as go-yaml, which Kubernetes reads YAML
    with, decodes them: an alias node, then every node of what it names. Raises
    ``YAMLProblem`` (line 0) as soon as go-yaml would stop with "excessive aliasing", so an
    alias bomb costs what its text costs. Only mappings and lists are told apart by sharing
    (scalars may be shared by the parser without an alias; they expand to one node)."""
    decoded = aliased = 0
    seen: set[int] = set()
    stack: list[tuple[Any, bool]] = [(data, False)]
    while stack:
        node, in_alias = stack.pop()
        kind = type(node)
        if kind is dict or kind is list:
            if id(node) in seen:
                decoded += 1  # the alias node itself
                aliased += in_alias
                in_alias = True
            else:
                seen.add(id(node))
            if kind is dict:
                for key, value in reversed(node.items()):
                    stack.append((value, in_alias))
                    stack.append((key, in_alias))
            else:
                stack.extend((item, in_alias) for item in reversed(node))
        decoded += 1
        aliased += in_alias
        if (aliased > 100 and decoded > 1000
                and aliased / decoded > _allowed_alias_ratio(decoded)):
            raise YAMLProblem(0, EXCESSIVE_ALIASING)
    return aliased


# A document marker as YAML reads one: --- at the start of a line, then a space, a tab, a
# carriage return or the line's end. The same as ^---(?:[ \t\r]|$) in MULTILINE mode,
# written to start at the literal "---" (found fast; seven times faster on manifests).
_DOC_START = re.compile(r"---(?<=^---)(?:[ \t\r]|$)", re.MULTILINE)
_CONTENT = re.compile(r"^[^\s#]", re.MULTILINE)


def document_starts(text: str) -> list[int]:
    """Offsets where the stream's documents start, as kubectl splits it (``yaml_stream``):
    0, and each separator line after it."""
    return [0, *(offset for offset in separator_offsets(text) if offset)]


def documents(text: str, *, broken: list[YAMLProblem] | None = None,
              starts: list[int] | None = None,
              aliases: list[int] | None = None,
              notes: list[YAMLProblem] | None = None) -> list[tuple[Any, int]]:
    """Every document of the stream with its first line (empty documents as ``None``).

    A key written twice in one mapping (repeated, or overridden by a later merge) keeps
    its later value, as kubectl reads it, when ``notes`` is a list, which receives a note
    for each such key (``_strict_loader``); without ``notes`` it is an error.

    A document that does not parse raises ``YAMLProblem``; when ``broken`` is a list it is
    appended there instead, and every other document is still read. ``starts`` may pass
    ``document_starts(text)`` when the caller computed it already. ``aliases`` receives,
    per document read with anchors, how many nodes its aliases add (``alias_expansion``).
    """
    text, bad = kubectl_view(text)
    if bad is not None:
        offset, line = bad
        shown = "".join(f"\\u{ord(c):04x}" if c in GO_SPACE and c not in " \t" else c
                        for c in line.rstrip(" \t\r"))
        problem = YAMLProblem(text.count("\n", 0, offset) + 1,
                              f"\"{shown}\" is no document separator: only a comment may "
                              "follow --- on its line (kubectl stops reading the stream there)")
        if broken is None:
            raise problem
        broken.append(problem)
        starts = None  # the text stops where kubectl stops
    # Separator lines YAML reads otherwise (---#c) are plain --- now, of the same length: the
    # offsets in ``starts`` (kubectl's separators) are still right.
    out: list[tuple[Any, int]] = []
    for chunk, first_line in _chunks(text, document_starts(text) if starts is None else starts):
        counted: list[int] = []
        noted: list[YAMLProblem] | None = None if notes is None else []
        try:
            out.extend(_parse(chunk, first_line, counted, noted))
        except YAMLProblem:
            if broken is None:
                raise
            # Read this chunk's documents one by one, to keep all but the broken ones.
            counted = []
            noted = None if notes is None else []
            for doc, doc_line in _chunks(chunk, document_starts(chunk), 0, first_line):
                kept: list[YAMLProblem] | None = None if notes is None else []
                try:
                    out.extend(_parse(doc, doc_line, counted, kept))
                except YAMLProblem as exc:
                    broken.append(exc)
                    continue
                if noted is not None and kept is not None:
                    noted.extend(kept)
        if aliases is not None:
            aliases.extend(counted)
        if notes is not None and noted is not None:
            notes.extend(noted)
    return out


def _chunks(text: str, starts: list[int], size: int = YAML_CHUNK_BYTES,
            first_line: int = 1) -> Iterator[tuple[str, int]]:
    """Consecutive documents of about ``size`` characters (each alone when ``size`` is 0),
    with the line each piece starts on. Directives (``%YAML``) bind to the next document,
    so a stream that has any is read whole."""
    if len(starts) <= 1 or text.startswith("%") or "\n%" in text:
        yield text, first_line
        return
    line = first_line
    begin = 0
    for end in [*starts[1:], len(text)]:
        if end - begin < size and end != len(text):
            continue
        yield text[begin:end], line
        line += text.count("\n", begin, end)
        begin = end


def _parse(text: str, first_line: int, aliases: list[int] | None = None,
           notes: list[YAMLProblem] | None = None) -> list[tuple[Any, int]]:
    """One piece of a stream, lines counted from ``first_line``; ``notes`` as for
    ``documents``."""
    shift = first_line - 1
    fast = fast_documents(text)
    if fast is not None:
        return [(doc, line + shift) for doc, line in fast]
    noted: list[YAMLProblem] | None = None if notes is None else []
    try:
        docs = list(_pyyaml(text, noted, shift))
    except YAMLProblem as exc:
        raise YAMLProblem(exc.line + shift if exc.line else first_line, exc.problem) from exc
    for doc, line in docs:
        problem = too_deep(doc)
        if problem is not None:
            raise YAMLProblem(line + shift, problem)
        if "&" in text:  # only a stream with anchors has aliases
            try:
                expanded = alias_expansion(doc)
            except YAMLProblem as exc:
                raise YAMLProblem(line + shift, exc.problem) from None
            if aliases is not None:
                aliases.append(expanded)
        if "!" in text or NON_FINITE_WORD.search(text) is not None:
            found = non_finite(doc)
            if found is not None:
                path, name = found
                raise YAMLProblem(line + shift, f"{path or 'the document'}: {name} cannot be "
                                  "written as JSON: kubectl refuses the whole document "
                                  f"(\"json: unsupported value: {name}\")")
    if notes is not None and noted:
        notes.extend(noted)  # their lines are the file's already (``_pyyaml``'s shift)
    return [(doc, line + shift) for doc, line in docs]


def fast_documents(text: str) -> list[tuple[Any, int]] | None:
    """The ``yaml_rs`` reading of the stream, or ``None`` when it cannot be trusted to be
    what YAML 1.1 (and PyYAML) reads, or when it fails (a duplicate key among others)."""
    if _yaml_rs() is None or _slow_text(text):
        return None
    fast = _fast(text)
    if fast is None:
        return None
    try:
        quoted: set[str] = set()
        if any(_differs(doc, text, quoted) for doc, _ in fast):
            return None
    except _TooDeep:
        return None  # PyYAML reads it again and names the line
    return fast


@functools.cache
def _yaml_rs() -> ModuleType | None:
    """The fast parser, imported at its first use: its start-up (about 5 ms) is then paid
    by the process that reads (``cli.read_ahead``'s child, for a large input), not by one
    that only hands the reading over. ``None`` if it is not installed."""
    try:
        import yaml_rs
    except ImportError:  # pragma: no cover - the fast path is optional
        return None
    return yaml_rs


def _fast(text: str) -> list[tuple[Any, int]] | None:
    parser = _yaml_rs()
    assert parser is not None
    try:
        loaded = parser.loads(text, parse_datetime=False)
    except Exception:
        return None
    starts = _start_lines(text)
    if isinstance(loaded, list) and len(starts) == 1:
        return None  # one document that is a list, or several the line scan missed
    docs: list[Any] = loaded if isinstance(loaded, list) else [loaded]
    if len(docs) != len(starts):
        return None  # a layout the line scan does not follow: PyYAML knows the lines
    return list(zip(docs, starts, strict=True))


def _start_lines(text: str) -> list[int]:
    """The first line of each document: after each ``---``, or of the first content."""
    marks = [m.start() for m in _DOC_START.finditer(text)]
    lines: list[int] = []
    counted, line_no = 0, 1  # newlines are counted once, left to right

    def line_of(pos: int) -> int:
        nonlocal counted, line_no
        line_no += text.count("\n", counted, pos)
        counted = pos
        return line_no

    first = _CONTENT.search(text)
    if first is not None and (not marks or first.start() < marks[0]):
        lines.append(line_of(first.start()))
    for pos in marks:
        after = text.find("\n", pos)
        nxt = _CONTENT.search(text, after + 1) if after >= 0 else None
        # an empty document "starts" at the next marker, as in PyYAML
        lines.append(line_of(nxt.start() if nxt is not None else pos))
    return lines or [1]


_GO_TAG = "tag:stockade,2026:go-yaml-plain"
_STR_TAG = "tag:yaml.org,2002:str"
# The non-specific tag ``!`` standing alone where a node starts (``port: ! 82``), or
# verbatim (``!<!> 82``). PyYAML resolves such a scalar as if it were plain (82); go-yaml,
# as YAML says, reads its text ("82"). A false match (``! `` inside a quoted string, a
# shell line's ``if ! ...``) only costs PyYAML's composer in Python.
_BARE_TAG = re.compile(r"(?:^|(?<=[\s:\-\[{,?]))!(?=[\s,\]}]|$)|!<!>", re.MULTILINE)


class _Written(NamedTuple):
    """A key as written into a mapping: its value, its node, the ``<<`` key it was merged
    through (``None`` for the mapping's own), the mapping node it stands in."""

    key: Any
    key_node: Any
    merge: Any
    source: Any


@functools.cache
def _strict_loader(bare_tags: bool = False) -> Any:
    """PyYAML's safe loader, reading as kubectl reads YAML (``sigs.k8s.io/yaml``): plain
    scalars resolve as go-yaml v2 resolves them (``yaml_scalars``: ``y`` is true, ``12:30``
    a string, ``1e3`` a float); mapping keys become the JSON keys ``sigs.k8s.io/yaml``
    writes (``1: a`` has the key ``"1"``); a key written twice keeps the later value, a
    merge (``<<``) written where it stands, as kubectl's non-strict go-yaml v2 reading
    does, with a note in ``notes`` (``_repeated``; with ``notes`` None it is an error,
    ``mapping key "x" already defined at line N`` in go-yaml's words); timestamps stay
    strings; tags are read as go-yaml reads them (``construct_tagged``). With
    ``bare_tags``, PyYAML's composer in Python over libyaml's parser (libyaml's own
    composer cannot be changed), which reads a scalar tagged ``!`` as text
    (``compose_scalar_node``)."""
    import yaml  # only on the slow path: importing PyYAML costs start-up time

    from stockade.sources.yaml_tags import RESOLVABLE, decode_binary, resolve_tagged

    base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    if bare_tags and base is not yaml.SafeLoader:
        # libyaml's scanner and parser (which read tabs as go-yaml does, and fast) under
        # PyYAML's composer in Python, whose ``compose_scalar_node`` can be changed.
        c_loader = base

        class PythonComposer(yaml.composer.Composer, c_loader):  # type: ignore[misc,valid-type]
            def __init__(self, stream: str) -> None:
                c_loader.__init__(self, stream)
                yaml.composer.Composer.__init__(self)

        base = PythonComposer
    anything = re.compile(r".*", re.DOTALL)

    class StrictLoader(base):  # type: ignore[misc]
        yaml_implicit_resolvers: ClassVar[dict[str, list[tuple[str, re.Pattern[str]]]]] = {
            **{first: [(_GO_TAG, anything)] for first in (*FIRST_CHARS, "")},
            "<": list(base.yaml_implicit_resolvers.get("<", [])),  # the merge key
        }

        notes: list[YAMLProblem] | None = None  # None: a repeated key is an error
        noted: ClassVar[set[tuple[int, str]]]  # per loader: set by ``_pyyaml``
        shift = 0  # lines before the text's first (set by ``_pyyaml``), for messages
        # Per document (``construct_document``): its node, the mappings walked so far, the
        # pairs merged again (``_merged_again``) and the document's own nodes once counted.
        root: Any = None
        walked: set[int]
        merged = 0
        own_nodes: int | None = None

        def construct_document(self, node: Any) -> Any:
            self.root, self.walked, self.merged, self.own_nodes = node, set(), 0, None
            return super().construct_document(node)

        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            if not isinstance(node, yaml.MappingNode):
                return super().construct_mapping(node, deep)
            mapping: dict[str, Any] = {}
            written: dict[str, _Written] = {}
            for key_node, value_node, merge, source in _writes(self, node):
                key = self.construct_object(key_node, deep=deep)
                text = json_key(key)
                if text is None:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"a mapping key must be a string, a number or a boolean "
                        f"to become a JSON key, not {_shown(key)}", key_node.start_mark)
                now = _Written(key, key_node, merge, source)
                earlier = written.get(text)
                if earlier is not None:
                    self._repeated(earlier, now)
                written[text] = now
                mapping[text] = self.construct_object(value_node, deep=deep)
            return mapping

        def _repeated(self, earlier: _Written, now: _Written) -> None:
            """A key written again in one mapping. kubectl's reading (go-yaml v2, not
            strict) keeps the later value, a merge (``<<``) included where it stands; a
            note says so, except where YAML readers agree (an explicit key over a merged
            one; the maps of one merge list, the first of which wins). Two keys go-yaml
            keeps apart but JSON cannot (``1`` and ``"1"``) are an error: which one
            kubectl keeps is left to chance."""
            if now.key_node is earlier.key_node:
                return  # one map merged twice: the same pair written again, same value
            shift = self.shift
            shown, line = _quoted(now.key), now.key_node.start_mark.line + 1 + shift
            first_line = earlier.key_node.start_mark.line + 1 + shift
            if (type(earlier.key), earlier.key) != (type(now.key), now.key):
                raise yaml.constructor.ConstructorError(
                    None, None, f"mapping key {shown} and the key {_quoted(earlier.key)} at "
                    f"line {first_line} become the same JSON key: kubectl keeps one of them "
                    "at random", now.key_node.start_mark)
            if now.merge is not None and (now.merge is earlier.merge
                                          and now.source is not earlier.source):
                return  # one merge list's maps: the first wins, for every reader
            if now.merge is None and earlier.merge is not None:
                return  # a key of the mapping's own over a merged one, for every reader
            if self.notes is None:
                raise yaml.constructor.ConstructorError(
                    None, None, f"mapping key {shown} already defined at line {first_line}",
                    (now.merge or now.key_node).start_mark)
            if now.merge is earlier.merge:  # within the mapping, or within one merged map
                note = YAMLProblem(line, f"mapping key {shown} is repeated (line "
                                         f"{first_line}, then line {line}): kubectl keeps "
                                         "the later value")
            else:
                at = now.merge.start_mark.line + 1 + shift
                before = (f"set at line {first_line}" if earlier.merge is None else
                          f"merged at line {earlier.merge.start_mark.line + 1 + shift}")
                # Not "the merged value wins": a key after the merge may override it.
                note = YAMLProblem(at, f"mapping key {shown} {before} is overridden by the "
                                       f"merge (<<) at line {at}: kubectl merges where the "
                                       "<< stands (readers that follow the YAML merge-key "
                                       "spec keep the mapping's own value)")
            if (note.line, note.problem) not in self.noted:  # an anchor's, merged again
                self.noted.add((note.line, note.problem))
                self.notes.append(note)

        def compose_scalar_node(self, anchor: Any) -> Any:
            """With ``bare_tags`` (the composer in Python), a scalar tagged ``!`` is a string
            (go-yaml's ``resolve`` leaves the text of a tag it does not know), where PyYAML
            resolves it as a plain scalar; but ``! <<`` still merges, as go-yaml's
            ``isMerge`` takes a ``<<`` that was resolved implicitly."""
            event = self.peek_event()
            if event.tag == "!" and event.value != "<<":
                event.tag = _STR_TAG
            return super().compose_scalar_node(anchor)

        def construct_tagged(self, node: Any) -> Any:
            """A node with a tag as go-yaml v2 reads it into ``interface{}``: the tag of a
            mapping or a list is ignored (``!!set`` and ``!!omap`` are a mapping and a
            list), a scalar with a tag ``resolve`` knows is resolved for it, ``!!binary``
            is decoded to text, and any other tag leaves a scalar's text (``!custom 82``
            is "82")."""
            if isinstance(node, yaml.MappingNode):
                return self.construct_yaml_map(node)
            if isinstance(node, yaml.SequenceNode):
                return self.construct_yaml_seq(node)
            try:
                if node.tag in RESOLVABLE:
                    return resolve_tagged(node.tag, node.value)
                if node.tag == "tag:yaml.org,2002:binary":
                    return decode_binary(node.value)
            except ValueError as exc:
                raise yaml.constructor.ConstructorError(
                    None, None, str(exc), node.start_mark) from None
            return node.value

    def _quoted(key: Any) -> str:
        return f'"{key}"' if isinstance(key, str) else str(json_key(key))

    def _shown(key: Any) -> str:
        if isinstance(key, int) and not isinstance(key, bool):
            return (f"{key}, an integer beyond int64 (go-yaml reads it as a uint64, which "
                    "sigs.k8s.io/yaml does not convert)")
        return "null" if key is None else ("a list" if isinstance(key, list) else
                                           "a mapping" if isinstance(key, dict) else repr(key))

    def _writes(loader: Any, node: Any) -> Iterator[tuple[Any, Any, Any, Any]]:
        """A mapping's pairs in the order go-yaml v2 writes them into its map: its own
        keys where they stand, and a merge (``<<``) where it stands, its map's pairs
        written there (those of a list of maps from the last map to the first, so that the
        first wins); each with the ``<<`` key it came through (``None`` for its own) and
        the mapping it stands in. A merge of a mapping that is being merged already never
        ends. A map merged again is decoded again by go-yaml, through an alias:
        ``_merged_again`` counts it, and stops a merge bomb as go-yaml does. Walked with a
        stack of the maps being merged, not nested generators, whose every pair would
        climb back through each of them."""
        within: set[int] = set()
        stack: list[tuple[Any, Any, bool, Iterator[tuple[Any, Any, Any]]]] = []

        def enter(mapping: Any, merge: Any) -> None:
            if id(mapping) in within:
                raise yaml.constructor.ConstructorError(None, None, RECURSIVE,
                                                        mapping.start_mark)
            within.add(id(mapping))
            again = merge is not None and id(mapping) in loader.walked
            loader.walked.add(id(mapping))
            stack.append((mapping, merge, again, _items(mapping, merge)))

        enter(node, None)
        while stack:
            mapping, merge, again, items = stack[-1]
            for key_node, value_node, inner in items:
                if key_node is None:
                    enter(value_node, inner)
                    break
                if again:
                    _merged_again(loader, key_node)
                yield key_node, value_node, merge, mapping
            else:
                stack.pop()
                within.discard(id(mapping))

    def _items(mapping: Any, merge: Any) -> Iterator[tuple[Any, Any, Any]]:
        """A mapping's own pairs ``(key, value, None)``, and in a merge's place each map it
        merges, last first, as ``(None, map, the << key it comes through)``."""
        for key_node, value_node in mapping.value:
            if not _merges(key_node):
                yield key_node, value_node, None
                continue
            if isinstance(value_node, yaml.SequenceNode):
                # go-yaml merges a list written there, not an alias to one: PyYAML hands
                # over the anchored node itself, which an alias finds earlier in the text.
                if value_node.start_mark.index < key_node.start_mark.index:
                    raise yaml.constructor.ConstructorError(
                        None, None, "map merge requires map or sequence of maps as the value",
                        key_node.start_mark)
                maps = value_node.value
            else:
                maps = [value_node]
            for merged in reversed(maps):
                if not isinstance(merged, yaml.MappingNode):
                    raise yaml.constructor.ConstructorError(
                        None, None, "map merge requires map or sequence of maps as the value",
                        merged.start_mark)
                yield None, merged, merge or key_node

    def _merged_again(loader: Any, key_node: Any) -> None:
        """Count a pair merged from a map decoded before (go-yaml decodes its key and value
        again, through an alias: at least two nodes) and refuse the document as go-yaml
        surely does (``allowedAliasRatio``): the count is at most go-yaml's, the document's
        own nodes at least the ones it has decoded, so the ratio is at most go-yaml's."""
        loader.merged += 2
        if loader.merged <= 100:
            return
        if loader.own_nodes is None:
            loader.own_nodes = _node_count(loader.root)
        decoded = loader.own_nodes + loader.merged
        if decoded > 1000 and loader.merged / decoded > _allowed_alias_ratio(decoded):
            raise yaml.constructor.ConstructorError(None, None, EXCESSIVE_ALIASING,
                                                    key_node.start_mark)

    def _node_count(root: Any) -> int:
        """The nodes of a composed document, each once (an alias is its anchor's node)."""
        seen: set[int] = set()
        stack = [root]
        while stack:
            node = stack.pop()
            if node is None or id(node) in seen:
                continue
            seen.add(id(node))
            if isinstance(node, yaml.MappingNode):
                for key_node, value_node in node.value:
                    stack.append(key_node)
                    stack.append(value_node)
            elif isinstance(node, yaml.SequenceNode):
                stack.extend(node.value)
        return len(seen)

    def _merges(key_node: Any) -> bool:
        """go-yaml's ``isMerge``: a ``<<`` scalar, plain or tagged ``!!merge``. Any other
        node tagged ``!!merge`` is read with an unknown tag."""
        if key_node.tag != "tag:yaml.org,2002:merge":
            return False
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == "<<":
            return True
        key_node.tag = "!"
        return False

    # Every tag but the plain scalars' goes through construct_tagged, unknown ones (None)
    # too. A "<<" merges only as a mapping key (go-yaml's isMerge); elsewhere it is text.
    StrictLoader.yaml_constructors = {None: StrictLoader.construct_tagged}
    StrictLoader.add_constructor(_GO_TAG, lambda _loader, node: resolve_plain(node.value))
    return StrictLoader


def _pyyaml(text: str, notes: list[YAMLProblem] | None = None, shift: int = 0
            ) -> Iterator[tuple[Any, int]]:
    """The documents of ``text`` by PyYAML, each with its first line (counted in ``text``);
    ``shift``: the lines before ``text``, for the lines messages name."""
    import yaml

    loader = _strict_loader(_BARE_TAG.search(text) is not None)(text)
    loader.notes, loader.noted, loader.shift = notes, set(), shift
    construct: Callable[[Any], Any] = loader.construct_document
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                break
            yield construct(node), node.start_mark.line + 1
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        if exc.context and exc.problem and "nesting depth" in exc.problem:
            problem = TOO_DEEP
        raise YAMLProblem(mark.line + 1 if mark else 0, problem) from exc
    except yaml.YAMLError as exc:
        raise YAMLProblem(0, str(exc)) from exc
    except RecursionError as exc:
        raise YAMLProblem(0, TOO_DEEP) from exc
    finally:
        loader.dispose()
