"""A diff as text for people, JSON for tools, or a Markdown summary for a pull-request
comment (counts, a capped table of changed pairs, then details). Pure.

JSON without ``--port``: ``{"changed", "endpoints": {"added", "removed"}, "policies":
{"added", "removed", "modified"}, "connections": [{"from", "to", "before", "after",
"gained", "lost", "because": [...], "node_traffic", "except": [[from, to]]}], "groups",
"pairs_compared"}``. With ``--port``,
exactly ``{"changed", "results": [{"port", "protocol", "added": {src: [dst]}, "removed":
{src: [dst]}}]}``, which tools rely on.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import IO, Any

from stockade.engine.attribution import (
    ALLOWS,
    DENIES,
    ISOLATES,
    NO_LONGER_ALLOWS,
    NO_LONGER_DENIES,
    UNISOLATED,
    Cause,
)
from stockade.engine.diff_result import ConnectionChange, DiffResult, PortResult
from stockade.model.types import PolicyType
from stockade.render.escape import escape
from stockade.render.query import match_text
from stockade.render.style import Style
from stockade.wording import count

TABLE_ROWS = 25  # changed pairs in the Markdown table
DETAILED = 10  # changed pairs explained in the Markdown details
CAUSES_SHOWN = 4  # causes per pair in text and Markdown
EXCEPTS_SHOWN = 3  # pairs of pods a group pair is not true of, in text and Markdown
NODE_TRAFFIC = "node traffic, always allowed"


def _unit(result: DiffResult) -> str:
    return "pod pair" if result.per_pod else "group pair"


# --- one cause ------------------------------------------------------------------------------


def cause_text(cause: Cause) -> str:
    """One line saying what the policy (or endpoint) did: ``shop/x ingress[0] (from[0],
    ports[0]) now allows TCP 5432``."""
    conn = f"{cause.protocol.value} {cause.port}"
    direction = (cause.direction.value.lower() if cause.direction is not None else "")
    if cause.tier and cause.direction is not None:
        return _tiered_text(cause, conn)
    if cause.what == ALLOWS and cause.direction is not None:
        return (f"{cause.policy} {cause.rule} "
                f"({match_text(cause.direction, cause.peer, cause.port_entry)}) now allows "
                f"{conn}")
    if cause.what == NO_LONGER_ALLOWS and cause.direction is not None:
        return (f"{cause.policy} {cause.rule} no longer allows {conn} (before: "
                f"{match_text(cause.direction, cause.peer, cause.port_entry)})")
    subject = cause.source if direction == "egress" else cause.destination
    if cause.what == UNISOLATED:
        return f"{cause.policy} no longer isolates {subject} for {direction}: {conn} open"
    if cause.what == ISOLATES:
        return (f"{cause.policy} now isolates {subject} for {direction}, and no rule "
                f"allows {conn}")
    return f"{cause.what}: {'; '.join(cause.reasons)}"


_TIER_VERBS = {ALLOWS: "now accepts", DENIES: "now denies",
               NO_LONGER_ALLOWS: "no longer accepts", NO_LONGER_DENIES: "no longer denies"}


def _tiered_text(cause: Cause, conn: str) -> str:
    """``admin ClusterNetworkPolicy/x ingress[1] now denies TCP 80 (from[0], any port)``:
    the rule of a cluster-wide policy that decides (or decided) the side."""
    assert cause.direction is not None
    peers = "from" if cause.direction is PolicyType.INGRESS else "to"
    peer = f"{peers}[{cause.peer}]" if cause.peer is not None else f"any {peers}"
    port = (f"{cause.ports_field}[{cause.port_entry}]" if cause.port_entry is not None
            else "any port")
    before = "before: " if cause.what in (NO_LONGER_ALLOWS, NO_LONGER_DENIES) else ""
    return (f"{cause.tier.lower()} {cause.policy} {cause.rule} {_TIER_VERBS[cause.what]} "
            f"{conn} ({before}{peer}, {port})")


def cause_where(cause: Cause) -> str:
    """``modified, file:line`` (the old file is marked as such)."""
    parts = [cause.change] if cause.change else []
    if cause.origin.file != "<input>":
        parts.append(("old " if cause.version == "old" else "") + str(cause.origin))
    return ", ".join(parts)


def _cause_reasons(cause: Cause) -> tuple[str, ...]:
    return () if cause.what not in (ALLOWS, NO_LONGER_ALLOWS, UNISOLATED, ISOLATES, DENIES,
                                    NO_LONGER_DENIES) else cause.reasons


# --- text -----------------------------------------------------------------------------------


def _policy_lines(result: DiffResult) -> list[str]:
    p = result.policies
    lines = []
    for label, keys in (("added", [x.key for x in p.added]),
                        ("removed", [x.key for x in p.removed]),
                        ("modified", [new.key for _, new in p.modified])):
        if keys:
            lines.append(f"policies {label}: {', '.join(keys)}")
    for label, names in (("added", result.endpoints_added),
                         ("removed", result.endpoints_removed)):
        if names:
            lines.append(f"endpoints {label}: {', '.join(names)}")
    return lines


def write_text(result: DiffResult, out: IO[str], style: Style) -> None:
    """Names, reasons and file names from the input are escaped (``render.escape``)."""
    for line in _policy_lines(result):
        out.write(escape(line) + "\n")
    if not result.connections:
        verdict = ("no connection changed" if result.changed else
                   "equivalent: no connection changed")
        out.write(f"{style.good(verdict)} between the {result.pairs:,} ordered pairs of "
                  "endpoints present on both sides\n")
        return
    more = "" if result.per_pod else "; --pods lists every pod pair"
    out.write(style.bold(f"{count(len(result.connections), 'connection')} changed")
              + f" ({_unit(result)}s{more}):\n")
    for change in result.connections:
        out.write("\n" + _change_text(change, style))
    if result.groups and any(len(m) > 1 for m in result.groups.values()):
        out.write("\n" + style.bold("groups") + " (endpoints alike on both sides)\n")
        for name, members in result.groups.items():
            if len(members) > 1 and _shown(result, name):
                out.write(escape(f"  {name}: {', '.join(members)}") + "\n")


def _shown(result: DiffResult, name: str) -> bool:
    return any(name in (c.source, c.destination) for c in result.connections)


def _change_text(change: ConnectionChange, style: Style) -> str:
    lines = [style.bold(escape(f"{change.source} -> {change.destination}"))
             + (" (node traffic)" if change.node_traffic else "")]
    lines.append(f"  before  {change.before}")
    lines.append(f"  after   {change.after}")
    if change.gained:
        lines.append(f"  gained  {style.good(change.gained)}")
    if change.lost:
        lines.append(f"  lost    {style.bad(change.lost)}")
    lines.extend(("  except  " if i == 0 else "          ") + escape(text)
                 for i, text in enumerate(_excepted(change)))
    for i, cause in enumerate(change.because[:CAUSES_SHOWN]):
        lines.append(("  because " if i == 0 else "          ") + escape(cause_text(cause)))
        where = cause_where(cause)
        if where:
            lines.append(f"            {escape(where)}")
        lines.extend(f"            {escape(reason)}" for reason in _cause_reasons(cause))
    hidden = len(change.because) - CAUSES_SHOWN
    if hidden > 0:
        lines.append(f"          ... and {hidden} more (-o json lists them all)")
    return "\n".join(lines) + "\n"


def _excepted(change: ConnectionChange) -> list[str]:
    """The pairs of pods a group pair is not true of (node traffic), a few, one a line."""
    pairs = change.except_pairs
    lines = [f"{a} -> {b}" + (f" ({NODE_TRAFFIC})" if i == 0 else "")
             for i, (a, b) in enumerate(pairs[:EXCEPTS_SHOWN])]
    if len(pairs) > EXCEPTS_SHOWN:
        lines.append(f"... and {len(pairs) - EXCEPTS_SHOWN} more (-o json lists them all)")
    return lines


# --- JSON -----------------------------------------------------------------------------------


def cause_json(cause: Cause) -> dict[str, Any]:
    return {
        "effect": cause.effect, "what": cause.what, "text": cause_text(cause),
        "policy": cause.policy or None, "change": cause.change or None,
        "direction": cause.direction.value if cause.direction is not None else None,
        "rule": cause.rule or None, "peer": cause.peer, "port_entry": cause.port_entry,
        "reasons": list(cause.reasons),
        "checked": {"from": cause.source, "to": cause.destination,
                    "protocol": cause.protocol.value, "port": cause.port},
        "file": cause.origin.file if cause.origin.file != "<input>" else None,
        "line": cause.origin.line or None, "field": cause.path or None,
        "version": cause.version,
        "tier": cause.tier or None,
    }


def to_json(result: DiffResult) -> dict[str, Any]:
    p = result.policies
    return {
        "changed": result.changed,
        "endpoints": {"added": list(result.endpoints_added),
                      "removed": list(result.endpoints_removed)},
        "policies": {"added": [x.key for x in p.added], "removed": [x.key for x in p.removed],
                     "modified": [new.key for _, new in p.modified]},
        "connections": [
            {"from": c.source, "to": c.destination, "before": c.before, "after": c.after,
             "gained": c.gained or "none", "lost": c.lost or "none",
             "because": [cause_json(x) for x in c.because], "node_traffic": c.node_traffic,
             "except": [list(pair) for pair in c.except_pairs]}
            for c in result.connections
        ],
        "groups": {name: list(m) for name, m in result.groups.items()},
        "pairs_compared": result.pairs,
    }


def write_json(result: DiffResult, out: IO[str]) -> None:
    """One line per changed pair and per group: readable, and quick to write when a change
    touches thousands of pairs."""
    body = to_json(result)
    out.write("{")
    for i, (key, value) in enumerate(body.items()):
        out.write(("," if i else "") + "\n" + json.dumps(key) + ": ")
        if key in ("connections", "groups") and value:
            items = value if key == "connections" else [
                json.dumps(k) + ": " + json.dumps(v) for k, v in value.items()]
            parts = [json.dumps(x) for x in items] if key == "connections" else items
            brackets = "[]" if key == "connections" else "{}"
            out.write(brackets[0] + "\n  " + ",\n  ".join(parts) + "\n" + brackets[1])
        else:
            out.write(json.dumps(value))
    out.write("\n}\n")


def ports_changed(results: Sequence[PortResult]) -> bool:
    return any(r.added or r.removed for r in results)


def write_port_json(results: Sequence[PortResult], out: IO[str]) -> None:
    body = {"changed": ports_changed(results),
            "results": [{"port": r.port, "protocol": r.protocol.value, "added": r.added,
                         "removed": r.removed} for r in results]}
    out.write(json.dumps(body, indent=2) + "\n")


def write_port_text(results: Sequence[PortResult], out: IO[str], style: Style) -> None:
    for r in results:
        pairs = sum(map(len, r.added.values())) + sum(map(len, r.removed.values()))
        head = f"{r.port}/{r.protocol.value}: "
        out.write(style.bold(head) + (f"{count(pairs, 'pair')} changed" if pairs
                                      else "no change") + "\n")
        for sign, table in (("+", r.added), ("-", r.removed)):
            for src, dsts in table.items():
                mark = style.good(sign) if sign == "+" else style.bad(sign)
                out.write(f"  {mark} " + escape(f"{src} -> {', '.join(dsts)}") + "\n")


# --- Markdown -------------------------------------------------------------------------------


def md(text: str) -> str:
    """Text safe inside a Markdown table cell or line: no table breaks, no HTML, no code
    spans opened by accident."""
    out = escape(text).replace("\\", "\\\\").replace("|", "\\|").replace("`", "\\`")
    out = out.replace("<", "&lt;").replace(">", "&gt;").replace("*", "\\*").replace("_", "\\_")
    return " ".join(out.split())


def _summary(result: DiffResult) -> str:
    p = result.policies
    return (f"**{count(len(result.connections), _unit(result))}** changed · endpoints "
            f"**{len(result.endpoints_added)}** added, **{len(result.endpoints_removed)}** "
            f"removed · policies **{len(p.added)}** added, **{len(p.removed)}** removed, "
            f"**{len(p.modified)}** modified")


def write_markdown(result: DiffResult, out: IO[str]) -> None:
    if not result.changed:
        out.write("### stockade diff: no connection changed\n\n" + _summary(result) + "\n")
        return
    out.write(f"### stockade diff: {count(len(result.connections), 'connection change')}"
              "\n\n" + _summary(result) + "\n")
    if result.connections:
        out.write("\n| from | to | gained | lost | because |\n|---|---|---|---|---|\n")
        for c in result.connections[:TABLE_ROWS]:
            first = c.because[0] if c.because else None
            why = (md(first.policy or first.what) + (f" {md(first.rule)}" if first.rule else "")
                   + (f" ({md(_short(first))})" if _short(first) else "")) if first else ""
            if len(c.because) > 1:
                why += f" +{len(c.because) - 1}"
            but = (f" (except {count(len(c.except_pairs), 'pod pair')} of node traffic)"
                   if c.except_pairs else "")
            out.write(f"| {md(c.source)} | {md(c.destination + but)} | {md(c.gained)} | "
                      f"{md(c.lost)} | {why} |\n")
        hidden = len(result.connections) - TABLE_ROWS
        if hidden > 0:
            out.write(f"\n… and {hidden} more (`stockade diff -o json` lists them all)\n")
    lists = _policy_lines(result)
    if lists:
        out.write("\n" + "\n".join(f"- {md(line)}" for line in lists) + "\n")
    if result.connections:
        out.write("\n<details><summary>Why</summary>\n\n")
        for c in result.connections[:DETAILED]:
            out.write(f"**{md(c.source)} → {md(c.destination)}**: {md(c.before)} → "
                      f"{md(c.after)}\n\n")
            if c.except_pairs:
                out.write(f"except {md('; '.join(_excepted(c)))}\n\n")
            for cause in c.because[:CAUSES_SHOWN]:
                where = cause_where(cause)
                out.write(f"- {md(cause_text(cause))}" + (f" ({md(where)})" if where else "")
                          + "\n")
                for reason in _cause_reasons(cause):
                    out.write(f"  - {md(reason)}\n")
            out.write("\n")
        hidden = len(result.connections) - DETAILED
        if hidden > 0:
            out.write(f"… and {hidden} more\n\n")
        out.write("</details>\n")


def _short(cause: Cause) -> str:
    """``path/policies.yaml:55``, the old file marked as such."""
    if cause.origin.file == "<input>":
        return ""
    return ("old " if cause.version == "old" else "") + str(cause.origin)


def write_port_markdown(results: Sequence[PortResult], out: IO[str]) -> None:
    rows = [(r, src, "now reachable", dsts) for r in results for src, dsts in r.added.items()]
    rows += [(r, src, "no longer reachable", dsts) for r in results
             for src, dsts in r.removed.items()]
    pairs = sum(len(d) for *_, d in rows)
    ports = ", ".join(f"{r.port}/{r.protocol.value}" for r in results)
    out.write(f"### stockade diff on {md(ports)}: {count(pairs, 'pair')} changed\n")
    if not rows:
        return
    out.write("\n| port | from | change | to |\n|---|---|---|---|\n")
    for r, src, what, dsts in rows[:TABLE_ROWS]:
        out.write(f"| {r.port}/{r.protocol.value} | {md(src)} | {what} | "
                  f"{md(', '.join(dsts))} |\n")
    hidden = len(rows) - TABLE_ROWS
    if hidden > 0:
        out.write(f"\n… and {hidden} more rows (`-o json` lists them all)\n")
