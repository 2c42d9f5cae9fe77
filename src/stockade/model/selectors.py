"""Label selector semantics on one label set: matching, the keys (and values) a selector
reads, and the kubectl-style text of a selector. Pure; shared by the engine and the
workload logic."""

from __future__ import annotations

from collections.abc import Mapping

from stockade.model.types import LabelSelector, LabelSelectorRequirement


def requirement_matches(req: LabelSelectorRequirement, labels: Mapping[str, str]) -> bool:
    present = req.key in labels
    if req.operator == "In":
        return present and labels[req.key] in req.values
    if req.operator == "NotIn":
        return not present or labels[req.key] not in req.values
    if req.operator == "Exists":
        return present
    if req.operator == "DoesNotExist":
        return not present
    return False  # validation rejects other operators; match nothing rather than everything


def selector_matches(selector: LabelSelector, labels: Mapping[str, str]) -> bool:
    """``matchLabels`` AND every ``matchExpressions`` entry; the empty selector matches all."""
    if any(labels.get(k) != v for k, v in selector.match_labels):
        return False
    return all(requirement_matches(r, labels) for r in selector.match_expressions)


def selector_keys(selector: LabelSelector) -> set[str]:
    return {k for k, _ in selector.match_labels} | {r.key for r in selector.match_expressions}


def add_selector_values(selector: LabelSelector, into: dict[str, set[str]]) -> None:
    """Record in ``into`` (key -> values) every key the selector reads and the values it
    compares that key with (``matchLabels``, ``In``, ``NotIn``); a key read only by
    ``Exists``/``DoesNotExist`` gets no value. A label set's answer depends on a key's value
    only through whether it is one of the values recorded for that key."""
    for key, value in selector.match_labels:
        into.setdefault(key, set()).add(value)
    for req in selector.match_expressions:
        found = into.setdefault(req.key, set())
        if req.operator in ("In", "NotIn"):
            found.update(req.values)


def describe_selector(selector: LabelSelector) -> str:
    """kubectl-style selector text: ``{role=db,tier in (a,b),!legacy}``; ``{}`` selects all."""
    parts = [f"{k}={v}" for k, v in selector.match_labels]
    for req in selector.match_expressions:
        values = ",".join(req.values)
        if req.operator == "In":
            parts.append(f"{req.key} in ({values})")
        elif req.operator == "NotIn":
            parts.append(f"{req.key} notin ({values})")
        elif req.operator == "Exists":
            parts.append(req.key)
        elif req.operator == "DoesNotExist":
            parts.append(f"!{req.key}")
        else:
            parts.append(f"{req.key} {req.operator} ({values})")
    return "{" + ",".join(parts) + "}"
