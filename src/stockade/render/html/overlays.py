"""What other commands lay over the report's page: a diff's changes (``stockade diff -o
html``). Plain values, filled by ``render.html.diffpage`` and read by ``report_data``.

Cells are addressed by the page's node indices: the connection graph's nodes, then the
groups only the old side had (``DiffPage.removed``), in that order.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from stockade.model.types import Protocol


class EdgeChange(enum.StrEnum):
    """How a cell changed between two versions (``stockade diff -o html``)."""

    SAME = "same"
    GAINED = "gained"  # nothing was allowed before, something is now
    LOST = "lost"  # something was allowed before, nothing is now
    CHANGED = "changed"  # allowed before and after, on other ports


@dataclass(frozen=True, slots=True)
class CellChange:
    """A cell of the page as it was before (``before``: its connection set), the diff's
    changed pairs it holds (indices into ``DiffPage.summary["pairs"]``) and, for a group
    only one side has, what the page says of it (``note``)."""

    change: EdgeChange
    before: str
    pairs: tuple[int, ...] = ()
    note: str = ""


@dataclass(frozen=True, slots=True)
class RemovedGroup:
    """A group of pods only the old side had: drawn on the new side's page as a node of
    its own, with the connections it had."""

    name: str
    namespace: str
    members: tuple[str, ...]
    labels: tuple[tuple[str, str], ...]
    ips: tuple[str, ...]
    isolated_ingress: tuple[str, ...]  # the old side's policies isolating it
    isolated_egress: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DiffPage:
    """The rest of a diff's page: ``summary`` (JSON-able: the sides, counts, endpoints and
    policies added, removed and modified, the changed pairs and their causes), the groups
    only the old side had, the graph's nodes all of whose pods are new, and the ports on
    which the diff checked each changed cell (the page explains those first)."""

    summary: dict[str, Any]
    removed: tuple[RemovedGroup, ...] = ()
    added: tuple[int, ...] = field(default=())
    ports: dict[tuple[int, int], tuple[tuple[Protocol, int], ...]] = field(default_factory=dict)


__all__ = ["CellChange", "DiffPage", "EdgeChange", "RemovedGroup"]
