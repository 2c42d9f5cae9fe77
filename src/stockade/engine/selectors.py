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
