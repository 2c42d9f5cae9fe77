"""Lint findings as SARIF 2.1.0, the format GitHub code scanning ingests.

One ``reportingDescriptor`` per check ID (with its help text and default level), one
``result`` per finding with a repository-relative ``physicalLocation`` (file, line) and a
logical location naming the object and field, and a stable ``partialFingerprints`` entry
(check, object, field) so that code scanning tracks a finding across commits. Pure: the
caller gives the files' absolute paths and the directory URIs are relative to.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
from collections.abc import Mapping, Sequence
from typing import IO, Any
from urllib.parse import quote

from stockade import __version__
from stockade.lint import CHECKS, Check, LintFinding, LintReport, Severity

SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def _rule(check: Check) -> dict[str, Any]:
    return {
        "id": check.id,
        "name": "".join(part.capitalize() for part in check.id.split("-")),
        "shortDescription": {"text": check.summary},
        "fullDescription": {"text": check.help},
        "help": {"text": check.help,
                 "markdown": f"**{check.id}** ({check.severity.value}): {check.help}"},
        "defaultConfiguration": {"level": LEVELS[check.severity],
                                 "enabled": check.default},
        "properties": {"tags": ["kubernetes", "networkpolicy"]},
    }


def artifact_uri(file: str, where: Mapping[str, str], root: str | None) -> str:
    """The file as a URI reference: relative to ``root`` when its absolute path
    (``where[file]``) lies under it, else as it was named; percent-encoded, as a URI must
    be (SARIF 2.1.0, 3.10.2): a ``#`` or ``?`` in a file name would otherwise end its path
    there, and a code-scanning tool would point at another file."""
    absolute = where.get(file)
    if root is not None and absolute is not None:
        rel = posixpath.relpath(absolute, root)
        if rel != ".." and not rel.startswith("../"):
            return quote(rel)
    return quote(file)


def _fingerprint(f: LintFinding) -> str:
    ident = "\0".join((f.check, f.kind, f.namespace, f.name, f.path))
    return hashlib.sha256(ident.encode()).hexdigest()[:32]


def _result(f: LintFinding, index: dict[str, int], root: str | None,
            files: Mapping[str, str] | None) -> dict[str, Any]:
    text = f.message + (f" Hint: {f.hint}" if f.hint else "")
    where = f"{f.kind}/{f.namespace + '/' if f.namespace else ''}{f.name}"
    location: dict[str, Any] = {
        "logicalLocations": [{
            "fullyQualifiedName": f"{where}/{f.path}" if f.path else where,
            "kind": "object",
        }],
    }
    # Objects read from a cluster, stdin or Helm's output have no file to point at.
    if files is None or f.origin.file in files:
        artifact = {"uri": artifact_uri(f.origin.file, files or {}, root)}
        if root is not None:
            artifact["uriBaseId"] = "%SRCROOT%"
        location["physicalLocation"] = {
            "artifactLocation": artifact,
            "region": {"startLine": max(1, f.location.line)},
        }
    result: dict[str, Any] = {
        "ruleId": f.check,
        "ruleIndex": index[f.check],
        "level": LEVELS[f.severity],
        "message": {"text": text},
        "locations": [location],
        "partialFingerprints": {"stockadeFinding/v1": _fingerprint(f)},
    }
    if "physicalLocation" in location and f.origin.line and f.line != f.origin.line:
        # The field's line is the finding's location; the object's own line goes with it.
        result["relatedLocations"] = [{
            "id": 1,
            "physicalLocation": {
                "artifactLocation": location["physicalLocation"]["artifactLocation"],
                "region": {"startLine": f.origin.line},
            },
            "message": {"text": f"{f.kind} {where.split('/', 1)[1]}"},
        }]
    return result


def sarif_log(report: LintReport, root: str | None = None,
              files: Mapping[str, str] | None = None,
              checks: Sequence[Check] = CHECKS) -> dict[str, Any]:
    """The SARIF log. ``files`` maps the origins that are files on disk to their absolute
    paths (``None``: every origin is a file, named as it should be shown); ``root`` is the
    absolute directory that URIs are relative to."""
    index = {c.id: i for i, c in enumerate(checks)}
    run: dict[str, Any] = {
        "tool": {"driver": {"name": "stockade", "version": __version__,
                            "semanticVersion": __version__,
                            "rules": [_rule(c) for c in checks]}},
        "results": [_result(f, index, root, files) for f in report.findings],
        "columnKind": "unicodeCodePoints",
    }
    if root is not None:
        run["originalUriBaseIds"] = {
            "%SRCROOT%": {"uri": "file://" + quote(root.rstrip("/")) + "/"}}
    return {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}


def write_sarif(report: LintReport, out: IO[str], root: str | None = None,
                files: Mapping[str, str] | None = None) -> None:
    out.write(json.dumps(sarif_log(report, root, files), indent=2) + "\n")
