"""Read Kubernetes manifests from files, directories and stdin.

YAML (multi-document) and JSON, ``kind: List`` and ``*List`` objects flattened into their
items. Each object keeps the file and line it starts on, so that every error can point at
it. This is the only module that opens manifest files.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from stockade.errors import InputError
from stockade.model.build import RawObject
from stockade.model.types import Origin
from stockade.sources.yaml_docs import YAMLProblem, documents

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")


def expand_paths(paths: Sequence[str]) -> list[str]:
    """Files named, and manifest files below directories named (recursively, sorted)."""
    out: list[str] = []
    for path in paths:
        if path == "-":
            out.append(path)
            continue
        p = Path(path)
        if p.is_dir():
            found = sorted(
                str(f)
                for f in p.rglob("*")
                if f.is_file() and f.suffix.lower() in MANIFEST_SUFFIXES
            )
            out.extend(found)
        elif p.exists():
            out.append(path)
        else:
            raise InputError(f"{path}: no such file or directory")
    return out


def read_paths(paths: Sequence[str], stdin: IO[str] | None = None) -> list[RawObject]:
    """Every object in the files, directories and ``-`` (stdin) named, in order."""
    objects: list[RawObject] = []
    for path in expand_paths(paths):
        if path == "-":
            text = (stdin or sys.stdin).read()
            objects.extend(parse_text(text, "<stdin>"))
            continue
        try:
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise InputError(f"{path}: cannot read: {reason}") from exc
        objects.extend(parse_text(text, path, json_hint=path.lower().endswith(".json")))
    return objects


def parse_text(text: str, name: str, *, json_hint: bool = False) -> list[RawObject]:
    """Parse one file's text: JSON when it is JSON, otherwise a YAML stream."""
    stripped = text.lstrip()
    if json_hint or stripped.startswith(("{", "[")):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            if json_hint:
                raise InputError(f"{name}:{exc.lineno}: invalid JSON: {exc.msg}") from exc
        else:
            docs = data if isinstance(data, list) else [data]
            return list(_objects(((d, 1) for d in docs), name, text))
    try:
        parsed = documents(text)
    except YAMLProblem as exc:
        where = f"{name}:{exc.line}" if exc.line else name
        raise InputError(f"{where}: invalid YAML: {exc.problem}") from exc
    return list(_objects(parsed, name, text))


_ITEM = re.compile(r"^(\s*)- ")


def _item_lines(text: str, doc_line: int, count: int) -> list[int]:
    """Where the items of a List document start: the ``- `` lines under its ``items:``."""
    lines = text.splitlines()
    at = next((i for i in range(max(0, doc_line - 1), len(lines))
               if lines[i].startswith("items:")), None)
    if at is None:
        return []
    found: list[int] = []
    indent: str | None = None
    for i in range(at + 1, len(lines)):
        match = _ITEM.match(lines[i])
        if match is None:
            if lines[i][:1] not in ("", " ", "\t", "#"):
                break  # the next key of the List object, or the next document
            continue
        if indent is None:
            indent = match.group(1)
        if match.group(1) == indent:
            found.append(i + 1)
            if len(found) == count:
                break
    return found


def _objects(docs: Iterable[tuple[Any, int]], name: str, text: str) -> Iterator[RawObject]:
    for data, line in docs:
        if data is None:
            continue  # empty document: `---` noise, comments only
        if not isinstance(data, dict):
            raise InputError(
                f"{name}:{line}: a manifest must be an object with apiVersion and kind, "
                f"not a {type(data).__name__}"
            )
        kind = data.get("kind")
        if (isinstance(kind, str) and kind.endswith("List") and "items" in data
                and not isinstance(data["items"], list)):
            raise InputError(f"{name}:{line}: {kind}: items: must be of type array")
        if isinstance(kind, str) and kind.endswith("List") and isinstance(data.get("items"), list):
            items: list[Any] = data["items"]
            lines = _item_lines(text, line, len(items))
            for i, item in enumerate(items):
                item_line = lines[i] if i < len(lines) else line
                if not isinstance(item, dict):
                    raise InputError(f"{name}:{item_line}: {kind} items[{i}] is not an object")
                yield RawObject(item, Origin(name, item_line))
            continue
        yield RawObject(data, Origin(name, line))
