"""A query's verdict as text for people or JSON for tools; also a Service query's verdict
per backend, and the Service columns that ``matrix --services`` adds."""

from __future__ import annotations

import json
from typing import IO, Any

from stockade.engine.explain import ClusterRuleMatch, DirectionVerdict, RuleMiss, Verdict
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


def cluster_rule_text(m: ClusterRuleMatch) -> str:
    """``admin ClusterNetworkPolicy/x priority 10 ingress[0] "name": Pass (from[0], any
    port)``: which rule of which tier, and what it did."""
    priority = f" priority {m.priority}" if m.priority is not None else ""
    name = f' "{escape(m.name)}"' if m.name else ""
    peers = "from" if m.direction is PolicyType.INGRESS else "to"
    if m.fail_closed:
        where = f"a peer sets no field stockade knows: fails closed, {m.action} becomes Deny"
        action = "Deny"
    else:
        peer = f"{peers}[{m.peer}]" if m.peer is not None else f"any {peers}"
        port = f"{m.ports_field}[{m.port}]" if m.port is not None else "any port"
        where, action = f"{peer}, {port}", m.action
    return f"{m.tier.lower()} {escape(m.policy)}{priority} {m.path}{name}: {action} ({where})"


def _tiered_text(side: DirectionVerdict, style: Style) -> tuple[str, list[str]]:
    """A side that cluster-wide policies select: the tiers in order, as far as they went."""
    steps = [f"{cluster_rule_text(p)} → next tier" for p in side.passed]
    if side.decided_by is not None:
        word = style.good("allowed by") if side.allowed else style.bad("denied by")
        steps.append(f"{word} {cluster_rule_text(side.decided_by)}")
    rest: list[str] = []
    if side.tier == "NetworkPolicy" or (side.isolated and side.decided_by is None):
        what = "NetworkPolicy: isolated by " + ", ".join(escape(p) for p in side.policies)
        steps.append(what if steps else "no Admin rule matches → " + what)
        rest = _networkpolicy_lines(side, style)
    elif side.decided_by is None:
        if side.passed:
            steps.append("not isolated by NetworkPolicy, no Baseline rule matches: allowed")
        else:
            steps.append("no cluster-wide rule matches, " + escape(side.note or "not isolated"))
    elif not side.allowed:
        rest = _misses_lines(side)
    lines = [f"          {s}" for s in steps[1:]] + rest
    lines += [f"          note: {escape(remark)}" for remark in side.remarks]
    return steps[0], lines


def _networkpolicy_lines(side: DirectionVerdict, style: Style) -> list[str]:
    lines = []
    if side.tiered and side.note:
        lines.append(f"          {escape(side.note)}")
    for m in side.allowed_by:
        lines.append(f"          {style.good('allowed by')} {escape(m.policy)} {m.path} "
                     f"({match_text(m.direction, m.peer, m.port)})")
    if not side.allowed:
        lines.append("          " + style.bad("no rule of these policies matches"))
        lines += _misses_lines(side)
    return lines


def _misses_lines(side: DirectionVerdict) -> list[str]:
    lines = []
    for miss in side.misses[:NEAREST]:
        lines.extend(_miss_lines(miss))
    hidden = len(side.misses) - NEAREST
    if hidden > 0:
        lines.append(f"          ... and {count(hidden, 'more rule')} (-o json lists them all)")
    return lines


def side_lines(label: str, who: str, side: DirectionVerdict, style: Style) -> list[str]:
    first, rest = side_text(side, style)
    return [f"  {label:<8}{escape(who)}: {first}", *rest]


def side_text(side: DirectionVerdict, style: Style) -> tuple[str, list[str]]:
    """One side as ``query`` prints it, without its ``  egress  ns/pod: `` lead: the rest
    of the first line, and the lines below it; every name in them escaped."""
    if side.tiered:
        return _tiered_text(side, style)
    notes = [f"          note: {escape(remark)}" for remark in side.remarks]
    if not side.isolated:
        return escape(side.note or "not isolated"), notes
    first = "isolated by " + ", ".join(escape(p) for p in side.policies)
    return first, _networkpolicy_lines(side, style) + notes


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


def _cluster_json(m: ClusterRuleMatch) -> dict[str, Any]:
    return {"policy": m.policy, "tier": m.tier, "priority": m.priority, "rule": m.rule,
            "path": m.path, "name": m.name, "action": m.action, "peer": m.peer,
            "port": m.port, "fail_closed": m.fail_closed}


def _side_json(side: DirectionVerdict) -> dict[str, Any]:
    tiers: dict[str, Any] = {}
    if side.tiered or side.remarks:  # cluster-wide policies select this side
        tiers = {
            "tier": side.tier,
            "decided_by": None if side.decided_by is None else _cluster_json(side.decided_by),
            "passed": [_cluster_json(m) for m in side.passed],
            "remarks": list(side.remarks),
        }
    return {
        **tiers,
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
