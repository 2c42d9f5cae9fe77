"""Why a selector matches nothing, said with the labels that do exist, and the closest
existing label when a typo is likely (edit distance). Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from stockade.model.selectors import describe_selector, requirement_matches
from stockade.model.types import LabelSelector, LabelSelectorRequirement


def edit_distance(a: str, b: str) -> int:
    """Optimal string alignment distance: insertions, deletions, substitutions and
    transpositions of neighbours each cost one (``paymnets`` is one from ``payments``)."""
    if a == b:
        return 0
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        row = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                row[j] = min(row[j], prev2[j - 2] + 1)
        prev2, prev = prev, row
    return prev[-1]


def closest(word: str, candidates: Sequence[str]) -> str | None:
    """The candidate nearest to ``word`` when it is near enough to be a typo of it."""
    best: tuple[int, str] | None = None
    for cand in candidates:
        d = edit_distance(word, cand)
        if best is None or (d, cand) < best:
            best = (d, cand)
    if best is None or best[0] == 0:
        return None
    shortest = min(len(word), len(best[1]))
    return best[1] if best[0] <= max(1, shortest // 3) and best[0] < shortest else None


def _pairs(label_sets: Sequence[Mapping[str, str]]) -> list[str]:
    return sorted({f"{k}={v}" for labels in label_sets for k, v in labels.items()})


def _values(label_sets: Sequence[Mapping[str, str]], key: str) -> list[str]:
    return sorted({labels[key] for labels in label_sets if key in labels})


def _requirements(selector: LabelSelector) -> list[LabelSelectorRequirement]:
    reqs = [LabelSelectorRequirement(k, "In", (v,)) for k, v in selector.match_labels]
    return reqs + list(selector.match_expressions)


def _shown(req: LabelSelectorRequirement) -> str:
    if req.operator == "In" and len(req.values) == 1:
        return f"{req.key}={req.values[0]}"
    return describe_selector(LabelSelector(match_expressions=(req,)))[1:-1]


def why_nothing(selector: LabelSelector, what: str, label_sets: Sequence[Mapping[str, str]],
                limit: int = 4) -> tuple[str, str]:
    """``(reason, hint)`` for a selector that matches none of ``label_sets`` (the labels of
    the ``what``, e.g. ``namespace``): the first requirement nothing satisfies and the
    labels that exist for its key, or the requirements that no single one satisfies."""
    for req in _requirements(selector):
        if any(requirement_matches(req, labels) for labels in label_sets):
            continue
        values = _values(label_sets, req.key)
        if req.operator == "In" and values:
            shown = [f"{req.key}={v}" for v in values]
            more = f" and {len(shown) - limit} more" if len(shown) > limit else ""
            reason = f"{what}s have {', '.join(shown[:limit])}{more}"
            guesses = [closest(v, values) for v in req.values]
            guess = next((g for g in guesses if g), None)
            hint = (f"did you mean {req.key}={guess}?" if guess else
                    f"use one of the values of {req.key} that exist")
            return reason, hint
        if req.operator in ("In", "Exists"):
            keys = sorted({k for labels in label_sets for k in labels})
            near = closest(req.key, keys)
            reason = f"no {what} has a label {req.key}"
            if near:
                vals = _values(label_sets, near)
                exact = next((v for v in req.values if v in vals), None)
                guess = f"{near}={exact}" if exact else near
                return reason, f"did you mean {guess}?"
            pairs = _pairs(label_sets)
            if req.values:
                near_pair = closest(f"{req.key}={req.values[0]}", pairs)
                if near_pair:
                    return reason, f"did you mean {near_pair}?"
            return reason, f"label the {what}s, or select them by labels they carry"
        return (f"every {what} fails {_shown(req)}",
                f"check {_shown(req)} against the labels of the {what}s")
    parts = ", ".join(_shown(r) for r in _requirements(selector))
    return (f"no single {what} has all of {parts}",
            f"each part matches some {what}, but never together; check which {what} you meant")
