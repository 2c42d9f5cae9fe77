"""The grouped matrix JSON (``stockade matrix -o json``) read back by name, for tests:
groups by name, and each row as ``{"*": text, text: [destination names]}``."""

from __future__ import annotations

from typing import Any


def by_name(doc: dict[str, Any]) -> tuple[dict[str, list[str]], dict[str, dict[str, Any]]]:
    """``(groups, matrix)``: group name -> pods, and group name -> its row with destination
    positions replaced by group names (a row written as an earlier row's position is
    that row)."""
    names = [g["name"] for g in doc["groups"]]
    groups = {g["name"]: g["pods"] for g in doc["groups"]}
    rows: list[dict[str, Any]] = []
    for row in doc["matrix"]:
        rows.append(rows[row] if isinstance(row, int) else row)
    matrix = {
        names[i]: {text: dsts if text == "*" else [names[d] for d in dsts]
                   for text, dsts in row.items()}
        for i, row in enumerate(rows)
    }
    return groups, matrix
