"""Label selectors: one-off matching, and an inverted index to evaluate a selector over many
label sets at once (each selector costs a few vector operations, never one test per pod)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from stockade.model.types import LabelSelector, LabelSelectorRequirement

BoolArray = npt.NDArray[np.bool_]


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


class LabelIndex:
    """Label sets indexed by ``key`` and ``(key, value)``; selectors evaluate to bool arrays."""

    def __init__(self, label_sets: Sequence[Mapping[str, str]]) -> None:
        self.size = len(label_sets)
        self._by_key: dict[str, BoolArray] = {}
        self._by_pair: dict[tuple[str, str], BoolArray] = {}
        for i, labels in enumerate(label_sets):
            for key, value in labels.items():
                if key not in self._by_key:
                    self._by_key[key] = self._none()
                self._by_key[key][i] = True
                if (key, value) not in self._by_pair:
                    self._by_pair[key, value] = self._none()
                self._by_pair[key, value][i] = True
        self._cache: dict[LabelSelector, BoolArray] = {}

    def _none(self) -> BoolArray:
        return np.zeros(self.size, dtype=np.bool_)

    def _pair(self, key: str, value: str) -> BoolArray:
        return self._by_pair.get((key, value), self._none())

    def _key(self, key: str) -> BoolArray:
        return self._by_key.get(key, self._none())

    def _requirement(self, req: LabelSelectorRequirement) -> BoolArray:
        if req.operator in ("In", "NotIn"):
            hit = self._none()
            for value in req.values:
                hit = hit | self._pair(req.key, value)
            return hit if req.operator == "In" else ~hit
        if req.operator == "Exists":
            return self._key(req.key).copy()
        if req.operator == "DoesNotExist":
            return ~self._key(req.key)
        return self._none()

    def select(self, selector: LabelSelector) -> BoolArray:
        """Which label sets the selector matches (cached; callers must not modify it)."""
        cached = self._cache.get(selector)
        if cached is not None:
            return cached
        result = np.ones(self.size, dtype=np.bool_)
        for key, value in selector.match_labels:
            result &= self._pair(key, value)
        for req in selector.match_expressions:
            result &= self._requirement(req)
        result.flags.writeable = False
        self._cache[selector] = result
        return result


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
