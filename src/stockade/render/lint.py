"""Lint findings as text (one line each, with a hint), JSON and Markdown (the GitHub step
summary). Text from the input is escaped (``render.escape``). Pure: findings in, text out."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from typing import IO, Any

from stockade.lint import LintFinding, LintReport, Severity
from stockade.render.escape import escape
from stockade.render.style import Style


def counts(findings: Sequence[LintFinding]) -> str:
    """``3 findings: 1 error, 2 warnings, 0 info`` (``no findings``)."""
    if not findings:
        return "no findings"
    by = Counter(f.severity for f in findings)
    total = len(findings)
    return (f"{total} finding{'s' if total != 1 else ''}: {by[Severity.ERROR]} error"
            f"{'s' if by[Severity.ERROR] != 1 else ''}, {by[Severity.WARNING]} warning"
            f"{'s' if by[Severity.WARNING] != 1 else ''}, {by[Severity.INFO]} info")


def text_line(f: LintFinding) -> str:
    where = f"{f.object_ref}: {f.path}: " if f.path else f"{f.object_ref}: "
    return escape(f"{f.location}: {f.severity.value}: {where}{f.message} [{f.check}]")


def write_text(report: LintReport, out: IO[str], style: Style) -> None:
    paint: dict[Severity, Callable[[str], str]] = {
        Severity.ERROR: style.bad, Severity.WARNING: style.bold, Severity.INFO: str}
    for f in report.findings:
        line = text_line(f)
        head, sep, tail = line.partition(f": {f.severity.value}: ")
        out.write(f"{head}{sep[:2]}{paint[f.severity](f.severity.value)}: {tail}\n"
                  if sep else line + "\n")
        if f.hint:
            out.write(f"    hint: {escape(f.hint)}\n")
    silenced = f" ({report.silenced} silenced by annotations)" if report.silenced else ""
    out.write(f"{counts(report.findings)}{silenced}\n")


def finding_json(f: LintFinding) -> dict[str, Any]:
    return {"check": f.check, "severity": f.severity.value, "file": f.origin.file,
            "line": f.location.line, "object_line": f.origin.line, "kind": f.kind,
            "namespace": f.namespace, "name": f.name, "path": f.path,
            "message": f.message, "hint": f.hint, "related": list(f.related)}


def write_json(report: LintReport, out: IO[str]) -> None:
    doc = {"findings": [finding_json(f) for f in report.findings],
           "summary": {s.value: sum(1 for f in report.findings if f.severity is s)
                       for s in Severity},
           "silenced": report.silenced, "checks": list(report.checks),
           "notes": list(report.notes)}
    out.write(json.dumps(doc, indent=2) + "\n")


def _md(text: str) -> str:
    """Text for a Markdown table cell: pipes and backticks cannot break out of it."""
    return escape(text).replace("|", "\\|").replace("\n", " ").replace("`", "'")


def write_markdown(report: LintReport, out: IO[str], title: str = "stockade lint") -> None:
    out.write(f"## {title}\n\n{counts(report.findings)}")
    if report.silenced:
        out.write(f" ({report.silenced} silenced by annotations)")
    out.write("\n")
    if not report.findings:
        return
    out.write("\n| severity | check | where | object | finding |\n|---|---|---|---|---|\n")
    for f in report.findings:
        where = _md(str(f.location)) + (f" `{_md(f.path)}`" if f.path else "")
        hint = f"<br>*{_md(f.hint)}*" if f.hint else ""
        out.write(f"| {f.severity.value} | `{f.check}` | {where} | {_md(f.object_ref)} "
                  f"| {_md(f.message)}{hint} |\n")
