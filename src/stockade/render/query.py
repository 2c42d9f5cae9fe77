"""A query's verdict as text for people or JSON for tools; also a Service query's verdict
per backend, and the Service columns that ``matrix --services`` adds."""

from __future__ import annotations

import json
from typing import IO, Any

from stockade.engine.explain import DirectionVerdict, RuleMiss, Verdict
from stockade.model.types import PolicyType
from stockade.render.escape import escape
from stockade.render.style import Style
from stockade.wording import count

NEAREST = 3  # misses shown per side; the JSON has them all


def match_text(direction: PolicyType, peer: int | None, port: int | None) -> str:
    peers = "from" if direction is PolicyType.INGRESS else "to"
    anyone = "any source" if peers == "from" else "any destination"
    peer_text = f"{peers}[{peer}]" if peer is not None else anyone
    port_text = f"ports[{port}]" if port is not None else "any port"
    return f"{peer_text}, {port_text}"


def side_lines(label: str, who: str, side: DirectionVerdict, style: Style) -> list[str]:
    first, rest = side_text(side, style)
    return [f"  {label:<8}{escape(who)}: {first}", *rest]


def side_text(side: DirectionVerdict, style: Style) -> tuple[str, list[str]]:
    """One side as ``query`` prints it, without its ``  egress  ns/pod: `` lead: the rest
    of the first line, and the lines below it; every name in them escaped."""
    if not side.isolated:
        return escape(side.note or "not isolated"), []
    first = "isolated by " + ", ".join(escape(p) for p in side.policies)
    lines: list[str] = []
    for m in side.allowed_by:
        lines.append(f"          {style.good('allowed by')} {escape(m.policy)} {m.path} "
                     f"({match_text(m.direction, m.peer, m.port)})")
    if not side.allowed:
        lines.append("          " + style.bad("no rule of these policies matches"))
        for miss in side.misses[:NEAREST]:
            lines.extend(_miss_lines(miss))
        hidden = len(side.misses) - NEAREST
        if hidden > 0:
            lines.append(f"          ... and {count(hidden, 'more rule')} (-o json lists them all)")
    return first, lines


def _miss_lines(miss: RuleMiss) -> list[str]:
    kind = "nearest miss" if miss.closeness else "miss"
    lines = [f"          {kind}: {escape(miss.policy)} {miss.path}"]
    lines.extend(f"            {escape(reason)}" for reason in miss.reasons)
    return lines


def write_text(verdict: Verdict, out: IO[str], style: Style) -> None:
    t = verdict.traffic
    outcome = style.good("allowed") if verdict.allowed else style.bad("denied")
    out.write(f"{escape(t.source.name)} -> {escape(t.destination.name)} {t.protocol.value} "
              f"{t.port}: {outcome}\n")
    for note in verdict.notes:
        out.write(f"  {escape(note)}\n")
    if verdict.notes:
        return
    for line in side_lines("egress", t.source.name, verdict.egress, style):
        out.write(line + "\n")
    for line in side_lines("ingress", t.destination.name, verdict.ingress, style):
        out.write(line + "\n")


def _side_json(side: DirectionVerdict) -> dict[str, Any]:
    return {
        "allowed": side.allowed,
        "isolated": side.isolated,
        "policies": list(side.policies),
        "allowed_by": [
            {"policy": m.policy, "rule": m.rule, "path": m.path, "peer": m.peer, "port": m.port}
            for m in side.allowed_by
        ],
        "misses": [
            {"policy": m.policy, "rule": m.rule, "path": m.path, "near": bool(m.closeness),
             "reasons": list(m.reasons)}
            for m in side.misses
        ],
        "note": side.note,
    }


def to_json(verdict: Verdict) -> dict[str, Any]:
    t = verdict.traffic
    return {
        "from": t.source.name,
        "to": t.destination.name,
        "protocol": t.protocol.value,
        "port": t.port,
        "allowed": verdict.allowed,
        "egress": _side_json(verdict.egress),
        "ingress": _side_json(verdict.ingress),
        "notes": list(verdict.notes),
    }


def write_json(verdict: Verdict, out: IO[str]) -> None:
    out.write(json.dumps(to_json(verdict), indent=2) + "\n")


# --- Services: a query per backend, and Service columns of the matrix --------------------
