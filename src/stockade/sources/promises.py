"""Test files for ``stockade test``: telling them from manifests, and reading them with
the line of every field, so that an error points at the very line.

A file is a test file when one of its documents is a ``ConnectivityTest`` (or of
stockade's API group), or when it is one YAML list of netassert tests. Everything else
named on the command line is manifests.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from stockade.errors import InputError
from stockade.model.decode import json_type_name
from stockade.model.errors import Finding, invalid, not_supported
from stockade.model.promises import (
    API_GROUP,
    KIND,
    Suite,
    decode_connectivity_test,
    decode_netassert,
)
from stockade.model.types import Origin
from stockade.sources.files import MANIFEST_SUFFIXES, decode_text, read_file
from stockade.sources.limits import Budget
from stockade.sources.positions import DocumentLines
from stockade.sources.yaml_docs import YAMLProblem, documents

NETASSERT_HINTS = frozenset({"targetPort", "src", "dst", "exitCode"})


def _read(path: str, budget: Budget | None = None) -> str:
    """A test file's text, read within the limits every input has."""
    return decode_text(read_file(path, budget or Budget(), what="test file"), path)


def _docs(text: str, name: str) -> list[tuple[Any, int]]:
    try:
        return [(d, line) for d, line in documents(text) if d is not None]
    except YAMLProblem as exc:
        where = f"{name}:{exc.line}" if exc.line else name
        raise InputError(f"{where}: invalid YAML: {exc.problem}") from exc


def _is_test_document(doc: object) -> bool:
    """A ConnectivityTest, or meant as one: a document of stockade's own API group is no
    Kubernetes manifest, whatever its kind says (a misspelt kind, say)."""
    if not isinstance(doc, Mapping):
        return False
    version = doc.get("apiVersion")
    return doc.get("kind") == KIND or (isinstance(version, str)
                                       and version.startswith(API_GROUP + "/"))


def _format(docs: Sequence[tuple[Any, int]]) -> str:
    """``ConnectivityTest``, ``netassert`` or ``""`` (manifests). One test document makes
    a test file, whose other documents are then errors: read as manifests, the file's
    promises would be left out without a word."""
    if not docs:
        return ""
    if any(_is_test_document(d) for d, _ in docs):
        return KIND
    if len(docs) == 1 and isinstance(docs[0][0], list) and docs[0][0] and any(
            isinstance(t, Mapping) and NETASSERT_HINTS & set(t) for t in docs[0][0]):
        return "netassert"
    return ""


def is_test_file(path: str) -> bool:
    if path == "-" or not os.path.isfile(path) or not path.lower().endswith(
            MANIFEST_SUFFIXES):
        return False
    try:
        return bool(_format(_docs(_read(path), path)))
    except InputError:
        return False  # read as manifests, whose reader reports the problem


def yaml_problem(path: str) -> InputError | None:
    """Why a file named on the command line is not YAML at all, if it is not (the reason
    a test file with a syntax error is not recognised as one)."""
    if path == "-" or not os.path.isfile(path) or not path.lower().endswith(
            MANIFEST_SUFFIXES):
        return None
    try:
        _docs(_read(path), path)
    except InputError as exc:
        return exc
    return None


def split_arguments(paths: Sequence[str]) -> tuple[list[str], list[str]]:
    """(test files, manifest paths) among the positional arguments, in order."""
    tests = [p for p in paths if is_test_file(p)]
    return tests, [p for p in paths if p not in tests]


def read_suites(path: str) -> tuple[list[Suite], list[Finding]]:
    """Every suite of a test file, and every problem in it."""
    text = _read(path)
    docs = _docs(text, path)
    lines = DocumentLines(text)
    kind = _format(docs)
    suites: list[Suite] = []
    findings: list[Finding] = []
    if kind == "netassert":
        data, line = docs[0]

        def item_line(field: str, at: int = line) -> int:
            return lines.line(at, field)

        suite, found = decode_netassert(data, Origin(path, line), item_line)
        return [suite], found
    if kind != KIND:
        raise InputError(f"{path}: not a test file: expected ConnectivityTest documents "
                         "(apiVersion: stockade.dev/v1alpha1) or a netassert test list")
    for data, line in docs:
        if not isinstance(data, Mapping) or data.get("kind") != KIND:
            findings.append(_not_a_test(data, Origin(path, line)))
            continue

        def field_line(field: str, at: int = line) -> int:
            return lines.line(at, field)

        suite, found = decode_connectivity_test(data, Origin(path, line), field_line)
        suites.append(suite)
        findings.extend(found)
    return suites, findings


def _not_a_test(data: object, origin: Origin) -> Finding:
    """A document of a test file that is no ConnectivityTest (manifests belong in the
    files spec.manifests names)."""
    if not isinstance(data, Mapping):
        return Finding(origin, "document", "", "", invalid(
            "", json_type_name(data), f"a test file holds only {KIND} documents"))
    kind, meta = data.get("kind"), data.get("metadata")
    name = meta.get("name") if isinstance(meta, Mapping) else None
    shown = kind if isinstance(kind, str) and kind else "object"
    return Finding(origin, shown, "", name if isinstance(name, str) else "",
                   not_supported("kind", kind if isinstance(kind, str) else json_type_name(
                       kind), (KIND,)))


def manifest_paths(suite: Suite) -> list[str]:
    """The suite's ``spec.manifests``, relative to its file's directory."""
    base = Path(suite.origin.file).parent
    out = []
    for i, entry in enumerate(suite.manifests):
        path = Path(entry)
        found = str(path if path.is_absolute() else os.path.normpath(base / path))
        if not os.path.lexists(found):
            shown = "" if found == entry else f" ({found})"
            raise InputError(f"{suite.origin}: {suite.name}: spec.manifests[{i}]: {entry!r}"
                             f"{shown} does not exist")
        out.append(found)
    return out
