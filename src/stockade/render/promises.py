"""Outcomes of promises as text for people, JSON for tools, JUnit XML for CI. Pure.

A failed promise shows how many checks break it, the first few by name, and ``query``'s
explanation of the first: which policies isolate each end and which rules missed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import IO, Any

from stockade.engine.explain import Verdict
from stockade.engine.promises import FAILED, PASSED, SKIPPED, Breach, Outcome
from stockade.render import junit
from stockade.render.escape import escape
from stockade.render.query import side_lines, to_json
from stockade.render.style import Style
from stockade.wording import count

LABELS = {PASSED: "PASS", FAILED: "FAIL", SKIPPED: "SKIP"}


def breach_text(breach: Breach) -> str:
    answer = breach.answer
    if breach.probe.port is None:
        return f"{breach.probe.text}: {answer.connections}"
    return f"{breach.probe.text}: {'allowed' if answer.allowed else 'denied'}"


def verdict_lines(verdict: Verdict, style: Style) -> list[str]:
    """``query``'s text of one verdict."""
    t = verdict.traffic
    head = escape(f"{t.source.name} -> {t.destination.name}") + (
        f" {t.protocol.value} {t.port}: {'allowed' if verdict.allowed else 'denied'}")
    if verdict.notes:
        return [head, *(f"  {escape(note)}" for note in verdict.notes)]
    return [head, *side_lines("egress", escape(t.source.name), verdict.egress, style),
            *side_lines("ingress", escape(t.destination.name), verdict.ingress, style)]


def detail_lines(outcome: Outcome, style: Style) -> list[str]:
    """What a failed or skipped promise reports under its name (names escaped)."""
    if outcome.status == PASSED:
        return [escape(outcome.message)] if outcome.message else []
    lines = [escape(outcome.message)]
    if outcome.breaches and (outcome.failures > 1 or outcome.explanation is None):
        lines.extend(f"  {escape(breach_text(b))}" for b in outcome.breaches)
        hidden = outcome.failures - len(outcome.breaches)
        if hidden > 0:
            lines.append(f"  ... and {hidden} more")
    if outcome.explanation is not None:
        lines.append("why:" if outcome.failures == 1 else "why, for the first:")
        lines.extend(f"  {line}" for line in verdict_lines(outcome.explanation, style))
    return lines


def summary(outcomes: Sequence[Outcome]) -> str:
    counts = {s: sum(o.status == s for o in outcomes) for s in (PASSED, FAILED, SKIPPED)}
    total = len(outcomes)
    return (f"{count(total, 'promise')}: {counts[PASSED]} passed, "
            f"{counts[FAILED]} failed, {counts[SKIPPED]} skipped")


def write_text(outcomes: Sequence[Outcome], out: IO[str], style: Style,
               notes: Sequence[str] = ()) -> None:
    for note in notes:
        out.write(escape(note) + "\n")
    for outcome in outcomes:
        p = outcome.promise
        label = LABELS[outcome.status]
        shown = (style.good(label) if outcome.status == PASSED else
                 style.bad(label) if outcome.status == FAILED else label)
        out.write(f"{shown}  " + escape(f"{p.name}  ({p.origin})") + "\n")
        for line in detail_lines(outcome, style):
            out.write(f"      {line}\n")
    out.write(summary(outcomes) + "\n")


def outcome_json(outcome: Outcome) -> dict[str, Any]:
    p = outcome.promise
    return {
        "name": p.name, "suite": p.suite, "file": p.origin.file, "line": p.origin.line,
        "status": outcome.status, "checks": outcome.checks, "failures": outcome.failures,
        "message": outcome.message or None,
        "breaches": [
            {"from": b.probe.source.name, "to": b.probe.destination.name,
             "protocol": b.probe.protocol.value if b.probe.protocol else None,
             "port": b.probe.port, "allowed": b.answer.allowed,
             "connections": b.answer.connections or None}
            for b in outcome.breaches],
        "explanation": to_json(outcome.explanation) if outcome.explanation else None,
    }


def write_json(outcomes: Sequence[Outcome], out: IO[str], extra: dict[str, Any]) -> None:
    body = {"passed": all(o.status != FAILED for o in outcomes),
            "summary": {s: sum(o.status == s for o in outcomes)
                        for s in (PASSED, FAILED, SKIPPED)},
            **extra,
            "results": [outcome_json(o) for o in outcomes]}
    out.write(json.dumps(body, indent=2) + "\n")


def write_junit(outcomes: Sequence[Outcome], out: IO[str]) -> None:
    plain = Style(False)
    cases = [junit.Case(o.promise.suite, o.promise.name, o.status, o.message,
                        "\n".join(detail_lines(o, plain)), o.promise.origin.file,
                        o.promise.origin.line) for o in outcomes]
    out.write(junit.to_junit(cases))
