"""An inverted index of label sets that evaluates a selector over all of them at once (a few
vector operations per selector, never one test per pod). One-off matching lives in
``stockade.model.selectors``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from stockade.model.types import LabelSelector, LabelSelectorRequirement

BoolArray = npt.NDArray[np.bool_]


class LabelIndex:
    """Label sets indexed by ``key`` and ``(key, value)`` (the positions that have them, so
    that tens of thousands of distinct values cost what they list); selectors evaluate to
    bool arrays over all label sets."""

    def __init__(self, label_sets: Sequence[Mapping[str, str]]) -> None:
        self.size = len(label_sets)
        by_key: dict[str, list[int]] = {}
        by_pair: dict[tuple[str, str], list[int]] = {}
        for i, labels in enumerate(label_sets):
            for key, value in labels.items():
                by_key.setdefault(key, []).append(i)
                by_pair.setdefault((key, value), []).append(i)
        self._by_key = {k: np.array(v, dtype=np.int32) for k, v in by_key.items()}
        self._by_pair = {k: np.array(v, dtype=np.int32) for k, v in by_pair.items()}
        self._cache: dict[LabelSelector, BoolArray] = {}

    def _none(self) -> BoolArray:
        return np.zeros(self.size, dtype=np.bool_)

    def _dense(self, positions: npt.NDArray[np.int32] | None) -> BoolArray:
        out = self._none()
        if positions is not None:
            out[positions] = True
        return out

    def _pair(self, key: str, value: str) -> BoolArray:
        return self._dense(self._by_pair.get((key, value)))

    def _key(self, key: str) -> BoolArray:
        return self._dense(self._by_key.get(key))

    def _requirement(self, req: LabelSelectorRequirement) -> BoolArray:
        if req.operator in ("In", "NotIn"):
            hit = self._none()
            for value in req.values:
                found = self._by_pair.get((req.key, value))
                if found is not None:
                    hit[found] = True
            return hit if req.operator == "In" else ~hit
        if req.operator == "Exists":
            return self._key(req.key)
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
