"""Read Kubernetes manifests from files, directories and stdin.

YAML (multi-document) and JSON, ``kind: List`` and ``*List`` objects flattened into their
items. Each object keeps the file and line it starts on, so that every error can point at
it. This is the only module that opens manifest files.

Reading is bounded (``stockade.sources.limits``): only regular files, stdin and process
substitution (``<(...)``) are read, never more than ``MAX_INPUT_BYTES`` in all; the text must
be UTF-8 (a byte-order mark is accepted); a directory is walked completely or not at all (an
unreadable subdirectory, a dangling or looping symbolic link is an error, never a silent
gap). A document that cannot be read is an error; ``broken=`` collects them instead, so that
``--skip-invalid`` analyses the documents that can be.
"""

from __future__ import annotations

import bisect
import contextlib
import errno
import os
import re
import stat
import sys
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, Any

import msgspec

from stockade.errors import DocumentError, InputError
from stockade.model.build import RawObject
from stockade.model.decode import json_type_name
from stockade.model.types import Origin
from stockade.sources.json_docs import JSONProblem, load_json_values
from stockade.sources.limits import Budget
from stockade.sources.yaml_docs import (
    RECURSIVE,
    TOO_DEEP,
    YAMLProblem,
    document_starts,
    documents,
)

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
STDIN = "<stdin>"

# Paths through which a shell hands over a pipe: bash's and zsh's <(...), /dev/stdin.
_PROCESS_SUBSTITUTION = re.compile(r"/dev/fd/[0-9]+|/proc/(?:self|[0-9]+)/fd/[0-9]+|/dev/stdin")
_READ_BLOCK = 1 << 20


def _describe_mode(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _link_problem(path: str, exc: OSError) -> InputError:
    """A path that names a symbolic link we cannot follow, or another unreadable path."""
    if exc.errno == errno.ELOOP:
        return InputError(f"{path}: a symbolic link loop (the link leads back to itself)")
    if exc.errno == errno.ENOENT and os.path.islink(path):
        return InputError(f"{path}: a dangling symbolic link (to {os.readlink(path)!r}, "
                          "which does not exist)")
    if exc.errno == errno.ENOENT:
        return InputError(f"{path}: no such file or directory")
    return InputError(f"{path}: cannot read: {exc.strerror or exc}")


def expand_paths(paths: Sequence[str]) -> list[str]:
    """Files named, and manifest files below directories named (recursively, in name order
    per directory)."""
    out: list[str] = []
    for path in paths:
        if path == "-":
            out.append(path)
            continue
        try:
            info = os.stat(path)
        except OSError as exc:
            raise _link_problem(path, exc) from exc
        if stat.S_ISDIR(info.st_mode):
            # In name order per directory, as filepath.Walk (kubectl -R) visits them.
            out.extend(sorted(_walk(path, info), key=lambda p: p.split(os.sep)))
        else:
            out.append(path)
    return out


def maybe_manifest(name: str) -> bool:
    """Whether a name we cannot resolve could have been a manifest or a directory of them
    (names with another extension are never read: they are not reported either)."""
    suffix = os.path.splitext(name)[1].lower()
    return suffix in MANIFEST_SUFFIXES or not suffix


def _walk(root: str, root_info: os.stat_result) -> Iterator[str]:
    """Every manifest file below ``root``. Symbolic links are followed (a directory only
    once; one that leads back to a directory being walked is a loop); anything that cannot
    be read is an error naming it."""
    seen = {(root_info.st_dev, root_info.st_ino)}
    stack: list[tuple[str, tuple[tuple[int, int], ...]]] = [
        (root, ((root_info.st_dev, root_info.st_ino),))]
    while stack:
        directory, ancestors = stack.pop()
        try:
            with os.scandir(directory) as entries:
                listed = sorted(entries, key=lambda e: e.name)
        except OSError as exc:
            raise InputError(f"{directory}: cannot read directory: "
                             f"{exc.strerror or exc}") from exc
        for entry in listed:
            info: os.stat_result | None = None
            try:
                if entry.is_symlink():
                    try:
                        info = os.stat(entry.path)
                    except OSError as exc:
                        if maybe_manifest(entry.name):
                            raise _link_problem(entry.path, exc) from exc
                        continue
                    is_dir = stat.S_ISDIR(info.st_mode)
                else:
                    is_dir = entry.is_dir(follow_symlinks=False)
                    info = entry.stat(follow_symlinks=False) if is_dir else None
            except OSError as exc:
                raise InputError(f"{entry.path}: cannot read: {exc.strerror or exc}") from exc
            if is_dir:
                assert info is not None
                key = (info.st_dev, info.st_ino)
                if key in ancestors:
                    raise InputError(f"{entry.path}: a symbolic link loop (it leads back to "
                                     "a directory that contains it)")
                if key not in seen:
                    seen.add(key)
                    stack.append((entry.path, (*ancestors, key)))
            elif os.path.splitext(entry.name)[1].lower() in MANIFEST_SUFFIXES:
                yield entry.path


def read_paths(paths: Sequence[str], stdin: IO[str] | IO[bytes] | None = None, *,
               broken: list[DocumentError] | None = None,
               budget: Budget | None = None,
               texts: dict[str, str] | None = None) -> list[RawObject]:
    """Every object in the files, directories and ``-`` (stdin) named, in order.

    A document that cannot be read raises ``DocumentError``; with ``broken`` given, it is
    appended there and the others are read. Files that cannot be read, and input beyond
    the limits, always raise ``InputError``. With ``texts``, each file's text is kept there
    under the name its objects' origins carry (for a source map of field lines).
    """
    budget = budget or Budget()
    files = expand_paths(paths)
    check_sizes(file_sizes(files), paths, budget)
    return list(read_files(files, stdin, broken=broken, budget=budget, texts=texts))


def file_sizes(files: Sequence[str]) -> list[int | None]:
    """The size on disk of each file found by ``expand_paths``: None for standard input, a
    pipe or anything else that is not a regular file, or that cannot be examined (reading
    it names the problem)."""
    sizes: list[int | None] = []
    for path in files:
        info = None
        if path != "-":
            with contextlib.suppress(OSError):
                info = os.stat(path)
        sizes.append(info.st_size if info is not None and stat.S_ISREG(info.st_mode) else None)
    return sizes


def check_sizes(sizes: Sequence[int | None], named: Sequence[str], budget: Budget) -> None:
    """Refuse at once regular files (their ``file_sizes``; found by ``expand_paths`` from the
    paths ``named``) whose sizes on disk already add up to more than ``budget`` allows.
    Standard input, pipes and files that cannot be examined are left to the checks made
    while reading."""
    regular = [size for size in sizes if size is not None]
    shown = [p for p in named if p != "-"]
    where = ", ".join(shown[:3]) + (f" and {len(shown) - 3:,} more" if len(shown) > 3 else "")
    budget.check_files(sum(regular), len(regular), where)


def read_files(files: Iterable[str], stdin: IO[str] | IO[bytes] | None = None, *,
               broken: list[DocumentError] | None = None,
               budget: Budget | None = None,
               texts: dict[str, str] | None = None) -> Iterator[RawObject]:
    """``read_paths`` over files already found by ``expand_paths``, object by object."""
    budget = budget or Budget()
    for path in files:
        if path == "-":
            text = read_stream(stdin or sys.stdin, STDIN, budget)
            if texts is not None:
                texts[STDIN] = text
            yield from parse_text(text, STDIN, broken=broken, budget=budget)
            continue
        text = read_text(path, budget)
        if texts is not None:
            texts[path] = text
        objects = parse_file_text(text, path, broken, budget)
        del text
        yield from objects


def read_text(path: str, budget: Budget) -> str:
    """A file's text as ``read_files`` reads it (its bytes and values counted against the
    budget), for ``parse_file_text``."""
    data = read_file(path, budget)
    budget.take_values(data, path)
    return decode_text(data, path)


def parse_file_text(text: str, path: str, broken: list[DocumentError] | None,
                    budget: Budget) -> list[RawObject]:
    """The objects of a file's text read by ``read_text``, as ``read_files`` parses them."""
    return parse_text(text, path, json_hint=path.lower().endswith(".json"), broken=broken,
                      budget=budget, counted=True)


def read_file(path: str, budget: Budget, *, what: str = "") -> bytes:
    """The bytes of a regular file or of a pipe from process substitution, within the
    budget. ``what`` says what the file is for, in errors."""
    label = f"{path}{f' ({what})' if what else ''}"
    try:
        info = os.stat(path)
    except OSError as exc:
        raise _link_problem(label, exc) from exc
    mode = info.st_mode
    if stat.S_ISDIR(mode):
        raise InputError(f"{label}: a directory, not a file")
    piped = (stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)) and bool(
        _PROCESS_SUBSTITUTION.fullmatch(path))
    if not stat.S_ISREG(mode) and not piped:
        raise InputError(f"{label}: {_describe_mode(mode)}, not a regular file; stockade "
                         "reads regular files, directories, - (stdin) and <(...) process "
                         "substitution")
    if stat.S_ISREG(mode):
        budget.check_bytes(info.st_size, label)
    try:
        with open(path, "rb") as fh:
            # A regular file in one read (no second copy); a pipe block by block.
            block = budget.bytes_left + 1 if stat.S_ISREG(mode) else _READ_BLOCK
            return _read_bounded(fh, label, budget, block)
    except OSError as exc:
        raise InputError(f"{label}: cannot read: {exc.strerror or exc}") from exc


def read_stream(stream: IO[str] | IO[bytes], name: str, budget: Budget) -> str:
    """All of a stream (stdin), within the budget, as text."""
    raw = getattr(stream, "buffer", None)
    if raw is not None:
        return decode_text(_read_bounded(raw, name, budget), name)
    text = stream.read(budget.bytes_left + 1)
    if isinstance(text, bytes):
        return decode_text(text, name)
    budget.take_bytes(len(text.encode("utf-8", "surrogatepass")), name)
    return _normalise(text.removeprefix("\ufeff"))


def _read_bounded(fh: IO[bytes], name: str, budget: Budget,
                  block_size: int = _READ_BLOCK) -> bytes:
    """Read in blocks, so that an endless or binary stream is refused early: past the
    limit, or at its first NUL byte (which no UTF-8 YAML or JSON text holds)."""
    blocks: list[bytes] = []
    total = 0
    limit = budget.bytes_left
    while True:
        block = fh.read(min(block_size, limit + 1 - total))
        if not block:
            break
        if not blocks and block.startswith(_UTF16_BOMS):
            raise InputError(_UTF16.format(name=name))
        if b"\x00" in block:
            data = b"".join(blocks) + block
            line = data.count(b"\n", 0, data.index(b"\x00")) + 1
            raise InputError(f"{name}:{line}: binary data (a NUL byte at line {line}), not "
                             "YAML or JSON text")
        blocks.append(block)
        total += len(block)
        if total > limit:
            budget.check_bytes(total, name)  # raises
    budget.take_bytes(total, name)
    return b"".join(blocks)


_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_UTF16 = "{name}:1: not UTF-8: the file starts with a UTF-16 byte-order mark; save it as UTF-8"


def decode_text(data: bytes, name: str) -> str:
    """UTF-8 text (a leading byte-order mark dropped, line ends made ``\\n``), or an error
    naming the first line that is not UTF-8."""
    if data.startswith(_UTF16_BOMS):
        raise InputError(_UTF16.format(name=name))
    try:
        # Not the utf-8-sig codec: its error positions leave out the mark, and its import
        # costs half a millisecond.
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(f"{name}: not UTF-8 at line {line} (Kubernetes manifests are "
                         "UTF-8 text)") from None
    return _normalise(text)


def _normalise(text: str) -> str:
    """Line ends as Python's text files read them: ``\\r\\n`` and ``\\r`` become ``\\n``."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def parse_text(text: str, name: str, *, json_hint: bool = False,
               broken: list[DocumentError] | None = None,
               budget: Budget | None = None, counted: bool = False) -> list[RawObject]:
    """Parse one file's text: JSON when it is JSON, otherwise a YAML stream. ``counted``:
    its values were already counted against the budget (from its bytes)."""
    budget = budget or Budget()
    if not counted:
        budget.take_values(text, name)
    stripped = text.lstrip()
    if json_hint or stripped.startswith(("{", "[")):
        json_notes: list[JSONProblem] = []
        values, json_problem = load_json_values(text, json_notes)
        if json_problem is None or json_hint:
            docs = [(d, line) for value, line in values
                    for d in (value if isinstance(value, list) else [value])]
            budget.take_objects(len(docs), name)
            # JSON items are not looked for line by line: they take their value's line.
            objects = _noted(list(_objects(docs, name, "", broken, budget)), name, json_notes)
            if json_problem is not None:
                _report(DocumentError(Origin(name, json_problem.line), json_problem.problem),
                        broken)
            return objects
    starts = document_starts(text)
    budget.take_objects(len(starts), name)
    problems: list[YAMLProblem] | None = None if broken is None else []
    aliases: list[int] = []
    notes: list[YAMLProblem] = []
    try:
        parsed = documents(text, broken=problems, starts=starts, aliases=aliases, notes=notes)
    except YAMLProblem as exc:
        raise _yaml_error(name, exc) from exc
    budget.take_aliased(sum(aliases), name)
    for problem in problems or ():
        _report(_yaml_error(name, problem), broken)
    return _noted(list(_objects(parsed, name, text, broken, budget)), name, notes)


MAX_NOTES = 20  # the reading's notes on one file said one by one; the rest are counted


def _noted(objects: list[RawObject], name: str,
           notes: Sequence[YAMLProblem | JSONProblem]) -> list[RawObject]:
    """``objects`` with the reading's notes on them, each on the last object that starts
    at or before its line (the first object for a note before any), so that they travel
    with the objects and are said once; past ``MAX_NOTES`` one more note counts the rest.
    Notes of a file without objects have nothing to say about the input."""
    if not notes or not objects:
        return objects
    starts = [obj.origin.line for obj in objects]
    by_object: dict[int, list[str]] = {}
    for note in notes[:MAX_NOTES]:
        at = max(0, bisect.bisect_right(starts, note.line) - 1)
        by_object.setdefault(at, []).append(f"{Origin(name, note.line)}: {note.problem}")
    rest = notes[MAX_NOTES:]
    if rest:  # a generated file repeating a key 100,000 times: one line for the rest
        first, last = min(n.line for n in rest), max(n.line for n in rest)
        at = max(0, bisect.bisect_right(starts, first) - 1)
        by_object.setdefault(at, []).append(
            f"{Origin(name, first)}: {len(rest):,} more notes like these on the reading of "
            f"this file, from line {first} to line {last}, are not shown one by one")
    for at, said in by_object.items():
        objects[at] = msgspec.structs.replace(objects[at],
                                              notes=(*objects[at].notes, *said))
    return objects


def _yaml_error(name: str, exc: YAMLProblem) -> DocumentError:
    plain = exc.problem in (TOO_DEEP, RECURSIVE)
    return DocumentError(Origin(name, exc.line),
                         exc.problem if plain else f"invalid YAML: {exc.problem}")


def _report(error: DocumentError, broken: list[DocumentError] | None) -> None:
    if broken is None:
        raise error
    broken.append(error)


# --- objects -----------------------------------------------------------------------------

_ITEM = re.compile(r"^(\s*)- ")
_ITEM_KEY = re.compile(r"^\s*-[ \t]+(?=[^\s{#])")  # up to an item's first key


def _item_lines(lines: list[str], doc_line: int, count: int,
                key_indent: str = "") -> list[int]:
    """Where the items of a List start: the ``- `` lines under its ``items:`` key, which is
    indented by ``key_indent`` (a List that is itself a List's item is indented)."""
    key = key_indent + "items:"
    at = None
    for i in range(max(0, doc_line - 1), len(lines)):
        if lines[i].startswith(key):
            at = i
            break
        if key_indent and i >= doc_line and _ends_block(lines[i], key_indent[1:]):
            return []  # the item ended without a block `items:` key (a flow mapping)
    if at is None:
        return []
    found: list[int] = []
    indent: str | None = None
    for i in range(at + 1, len(lines)):
        match = _ITEM.match(lines[i])
        if match is None:
            if _ends_block(lines[i], key_indent):
                break  # the next key of the List object, or the next document
            continue
        if indent is None:
            indent = match.group(1)
        if match.group(1) == indent:
            found.append(i + 1)
            if len(found) == count:
                break
    return found


def _ends_block(line: str, key_indent: str) -> bool:
    """Whether ``line`` is content no more indented than keys indented by ``key_indent``."""
    content = line.lstrip(" \t")
    return content[:1] not in ("", "#") and len(line) - len(content) <= len(key_indent)


def _is_list_kind(kind: object) -> bool:
    return isinstance(kind, str) and kind.endswith("List")


def _objects(docs: Iterable[tuple[Any, int]], name: str, text: str,
             broken: list[DocumentError] | None, budget: Budget) -> Iterator[RawObject]:
    """The objects of parsed documents; ``text`` is the YAML they were read from, whose
    lines place a List's items ("" for JSON)."""
    lines: list[str] = []  # the text's lines, split at the first List
    for data, line in docs:
        if data is None:
            continue  # empty document: `---` noise, comments only
        where = Origin(name, line)
        if not isinstance(data, dict):
            _report(DocumentError(where, "a manifest must be an object with apiVersion and "
                                  f"kind, not {_a(json_type_name(data))}"), broken)
            continue
        kind = data.get("kind")
        if not _is_list_kind(kind) or "items" not in data:
            yield RawObject(data, where)
            continue
        # `items: null` (a Go client's nil slice, or `items:` with nothing after it) is an
        # empty list to apimachinery's list decoding, as kubectl reads it.
        items = data["items"] if data["items"] is not None else []
        if not isinstance(items, list):
            _report(DocumentError(where, f"{kind}: items: must be of type array"), broken)
            continue
        budget.take_objects(len(items), name)
        if not lines:
            lines = text.splitlines()
        yield from _list_items(data, items, where, lines, broken, budget=budget)


def _a(type_name: str) -> str:
    return f"{'an' if type_name[0] in 'aeiou' else 'a'} {type_name}"


def _list_items(data: dict[str, Any], items: list[Any], origin: Origin, text_lines: list[str],
                broken: list[DocumentError] | None, *, budget: Budget,
                key_indent: str | None = "") -> Iterator[RawObject]:
    """A List's items. A typed list (``PodList``, as a list call returns it) names its items'
    kind and apiVersion once: an item with neither gets them, as apimachinery's
    unstructured list decoding does; an item of another kind is an error."""
    kind: str = data["kind"]
    item_kind = kind.removesuffix("List")
    api_version = data.get("apiVersion")
    lines = ([] if key_indent is None
             else _item_lines(text_lines, origin.line, len(items), key_indent))
    for i, item in enumerate(items):
        # Items whose line is not known share the List's origin (one object, not one each).
        where = Origin(origin.file, lines[i]) if i < len(lines) else origin
        if not isinstance(item, dict):
            _report(DocumentError(where, f"{kind} items[{i}]: must be an object, not "
                                  f"{_a(json_type_name(item))}"), broken)
            continue
        own_kind = item.get("kind")
        obj: dict[str, Any] = item
        if item_kind and not own_kind and not item.get("apiVersion"):
            obj = {"kind": item_kind, **item}
            if api_version:
                obj = {"apiVersion": api_version, **obj}
        elif item_kind and own_kind and own_kind != item_kind:
            _report(DocumentError(where, f"{kind} items[{i}]: kind {own_kind!r} in a list "
                                  f"of {item_kind} (a {kind} holds only {item_kind} "
                                  "objects)"), broken)
            continue
        nested = obj.get("kind")
        if _is_list_kind(nested) and "items" in obj:
            # A List inside a List: kubectl's FlattenListVisitor reads it down to objects.
            inner = obj["items"] if obj["items"] is not None else []
            if not isinstance(inner, list):
                _report(DocumentError(where, f"{kind} items[{i}]: {nested}: items: must be "
                                      "of type array"), broken)
                continue
            budget.take_objects(len(inner), origin.file)
            dash = _ITEM_KEY.match(text_lines[where.line - 1]) if i < len(lines) else None
            yield from _list_items(obj, inner, where, text_lines, broken, budget=budget,
                                   key_indent=None if dash is None else " " * dash.end())
            continue
        yield RawObject(obj, where)
