"""Services as destinations: a Service query's per-backend answers, and the Service columns
of a matrix, as text, JSON, CSV or Markdown."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from typing import IO, Any

from stockade.engine.services import BackendAnswer, ColumnReach, ServiceAnswer
from stockade.render.escape import escape
from stockade.render.query import side_lines, to_json
from stockade.render.style import Style

_OUTCOME_WORDS = {"allowed": "allowed", "denied": "denied", "partially": "partially allowed",
                  "no backends": "no usable backends"}


def _target(answer: BackendAnswer, protocol: str) -> str:
    port = answer.backend.port
    return f"{protocol} {port}" if port is not None else protocol


def write_service_text(answer: ServiceAnswer, out: IO[str], style: Style) -> None:
    """The Service verdict, then each backend's verdict as ``query`` shows one connection."""
    port = answer.port
    word = _OUTCOME_WORDS[answer.outcome]
    shown = style.good(word) if answer.outcome == "allowed" else style.bad(word)
    out.write(f"{escape(answer.source.name)} -> {escape(answer.key)} ({port.protocol} "
              f"{port.port}): {shown} "
              f"({answer.reachable} of {answer.usable} "
              f"backend{'' if answer.usable == 1 else 's'} reachable)\n")
    if not answer.answers:
        selector = ",".join(f"{k}={v}" for k, v in answer.service.selector or ())
        out.write(escape(f"  no pod or workload in namespace {answer.service.namespace} "
                         f"matches the selector {selector}: the Service has no endpoints")
                  + "\n")
    for item in answer.answers:
        backend = item.backend
        if item.verdict is None:
            out.write(escape(f"  backend {backend.pod.key}: {backend.problem}") + "\n")
            continue
        verdict = item.verdict
        result = style.good("allowed") if verdict.allowed else style.bad("denied")
        out.write(f"  backend {escape(backend.pod.key)} {_target(item, port.protocol)}: "
                  f"{result}\n")
        for note in verdict.notes:
            out.write(f"    {escape(note)}\n")
        if verdict.notes:
            continue
        t = verdict.traffic
        for line in side_lines("egress", t.source.name, verdict.egress, style):
            out.write("  " + line + "\n")
        for line in side_lines("ingress", t.destination.name, verdict.ingress, style):
            out.write("  " + line + "\n")


def service_to_json(answer: ServiceAnswer) -> dict[str, Any]:
    return {
        "from": answer.source.name,
        "to": answer.key,
        "service": answer.service.key,
        "port": answer.port.port,
        "protocol": answer.port.protocol,
        "target_port": answer.port.target_port,
        "outcome": answer.outcome,
        "allowed": answer.allowed,
        "backends": [
            {"endpoint": a.backend.pod.key, "target_port": a.backend.port,
             "problem": a.backend.problem or None,
             "verdict": to_json(a.verdict) if a.verdict is not None else None}
            for a in answer.answers
        ],
    }


def write_service_json(answer: ServiceAnswer, out: IO[str]) -> None:
    out.write(json.dumps(service_to_json(answer), indent=2) + "\n")


def _cell(reach: ColumnReach, row: int) -> str:
    if reach.column.problem:
        return "unresolvable"
    result = reach.outcome(row)
    if result == "partially":
        return f"partially ({len(reach.reached[row])} of {reach.usable} backends)"
    return result


def services_json(reaches: Sequence[ColumnReach], names: Sequence[str]) -> dict[str, Any]:
    """The matrix's ``services`` object: per Service port, its backends and who reaches
    all of them, some of them (and which), or none."""
    doc: dict[str, Any] = {}
    for reach in reaches:
        col = reach.column
        allowed: list[str] = []
        denied: list[str] = []
        partially: dict[str, list[str]] = {}
        for row, name in enumerate(names):
            result = reach.outcome(row)
            if col.problem or result == "no backends":
                continue
            if result == "allowed":
                allowed.append(name)
            elif result == "denied":
                denied.append(name)
            else:
                partially[name] = list(reach.reached[row])
        doc[col.key] = {
            "service": col.service.key,
            "port": col.port.port if col.port else None,
            "protocol": col.port.protocol if col.port else None,
            "problem": col.problem or None,
            "backends": [{"endpoint": b.pod.key, "target_port": b.port,
                          "problem": b.problem or None} for b in col.backends],
            "reachable_from": allowed,
            "partially_from": partially,
            "denied_from": denied,
        }
    return doc


def write_services_text(reaches: Sequence[ColumnReach], names: Sequence[str], out: IO[str],
                        style: Style) -> None:
    """Per source, the Service ports gathered by whether their backends are reachable."""
    out.write("\n" + style.bold("services") + " (a Service is reachable when the policies "
              "allow every backend on its target port)\n")
    resolved = [r for r in reaches if not r.column.problem]
    if not reaches:
        out.write("  no Services in the input\n")
        return
    for row, name in enumerate(names if resolved else ()):
        by_cell: dict[str, list[str]] = {}
        for reach in resolved:
            by_cell.setdefault(_cell(reach, row), []).append(escape(reach.column.key))
        out.write(style.bold(escape(name)) + "\n")
        width = max(len(text) for text in by_cell)
        for text, keys in by_cell.items():
            shown = f"{text:<{width}}"
            shown = style.good(shown) if text == "allowed" else (
                style.bad(shown) if text in ("denied", "no backends") else shown)
            out.write(f"  -> {shown}  {', '.join(keys)}\n")
    problems = [r.column for r in reaches if r.column.problem]
    if problems:
        out.write(style.bold("not resolved") + " (no backends known from manifests)\n")
    for col in problems:
        out.write(escape(f"  {col.key}: {col.problem}") + "\n")


def write_services_rows(reaches: Sequence[ColumnReach], names: Sequence[str], out: IO[str],
                        fmt: str) -> None:
    """Service columns as more ``from,to,allowed`` rows (csv) or a second table (md)."""
    writer = csv.writer(out, lineterminator="\n")
    if fmt == "md":
        out.write("\n| from | service | allowed |\n|---|---|---|\n")
    for row, name in enumerate(names):
        for reach in reaches:
            cell = _cell(reach, row)
            if fmt == "md":
                out.write(f"| {escape(name)} | {escape(reach.column.key)} | {cell} |\n")
            else:
                writer.writerow([escape(name), escape(reach.column.key), cell])
