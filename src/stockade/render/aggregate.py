"""The matrix rolled up to namespaces or workloads (``matrix --by``) as text, JSON, CSV or
Markdown: per ordered pair of units, ``all``, ``none``, or ``partial`` with what every member
pair may open and how many pairs may open everything, something, nothing.

JSON (a contract): ``{"by": "namespace", "units": [{"name", "pods"}], "matrix": [row]}``
where row ``i`` is unit ``i``'s: ``{"*": "all" | "none", "all": [unit], "none": [unit],
"partial": [{"to": [unit], "every", "pairs", "all", "some", "none"}]}``, units by position,
one unit and one row per line; partial cells alike in every number share one entry.
``"*"`` is the verdict of every unit the row does not list.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, NamedTuple

import numpy as np

from stockade.engine.aggregate import ALL, NONE, PARTIAL, VERDICTS, UnitRow
from stockade.render.escape import escape
from stockade.render.style import Style
from stockade.wording import count


@dataclass(frozen=True, slots=True)
class UnitView:
    """What the renderers need: the kind of unit, the units and their pod counts, the rows
    (streamed, in unit order) and the texts their ``every`` ids stand for."""

    by: str  # "namespace" or "workload"
    names: tuple[str, ...]
    pods: tuple[int, ...]
    rows: Iterable[UnitRow]
    texts: list[str]


class _Cells(NamedTuple):
    """Partial cells of one row alike in what every pair opens and in their counts."""

    to: list[int]
    every: str
    pairs: int
    all: int
    some: int
    none: int


_Groups = tuple[list[int], list[int], list[int], list[list[int]], list[int]]


def _groups(row: UnitRow) -> tuple[str, dict[str, list[int]], _Groups | None]:
    """The row's commonest of all/none, the units of each verdict, and its partial cells
    grouped by what every pair opens and the counts: the units of all groups one after the
    other, each group's start and end there, its (every, all, some, none), and the groups
    in order of their first unit."""
    lists = {VERDICTS[v]: np.flatnonzero(row.verdict == v).tolist() for v in (ALL, NONE)}
    common = "all" if len(lists["all"]) >= len(lists["none"]) else "none"
    partial = np.flatnonzero(row.verdict == PARTIAL)
    if len(partial) == 0:
        return common, lists, None
    keys = (row.none[partial], row.some[partial], row.all[partial], row.every[partial])
    order = np.lexsort((partial, *keys))  # alike cells together, each group by unit
    bounds = np.flatnonzero(np.any([np.diff(k[order]) != 0 for k in keys], axis=0)) + 1
    starts = np.concatenate(([0], bounds))
    firsts = order[starts]  # a group's first unit, as its units are in order
    heads = np.stack([k[firsts] for k in keys[::-1]], axis=1).tolist()
    return common, lists, (partial[order].tolist(), starts.tolist(),
                           np.append(bounds, len(order)).tolist(), heads,
                           np.argsort(firsts, kind="stable").tolist())


def _split(row: UnitRow, texts: list[str]) -> tuple[str, dict[str, list[int]], list[_Cells]]:
    """The row's commonest of all/none, the units of each verdict, the partial cells."""
    common, lists, found = _groups(row)
    if found is None:
        return common, lists, []
    to, starts, ends, heads, groups = found
    cells = []
    for g in groups:
        every, n_all, n_some, n_none = heads[g]
        cells.append(_Cells(to[starts[g]:ends[g]], texts[every],
                            n_all + n_some + n_none, n_all, n_some, n_none))
    return common, lists, cells


def write_json(view: UnitView, out: IO[str], rows: Iterable[bytes] | None = None) -> None:
    """The units, then a row per line: ``encoded_rows`` of the view's rows, or ``rows`` (the
    same bytes, made elsewhere)."""
    binary = getattr(out, "buffer", None)
    if binary is not None:
        out.flush()
    write = binary.write if binary is not None else (lambda b: out.write(b.decode()))
    head = [f'{{"by": {json.dumps(view.by)}, "units": [\n']
    head.append(",\n".join(json.dumps({"name": n, "pods": p})
                            for n, p in zip(view.names, view.pods, strict=True)))
    head.append('\n],\n"matrix": [\n')
    write("".join(head).encode())
    for block in (encoded_rows(view.rows, view.texts, 0) if rows is None else rows):
        write(block)
    write(b"\n]}\n")
    if binary is not None:
        binary.flush()


def encoded_rows(rows: Iterable[UnitRow], texts: list[str], start: int) -> Iterator[bytes]:
    """The JSON lines of ``rows`` (row ``start`` first; each but the very first after a
    comma), gathered into blocks."""
    quoted: dict[int, str] = {}
    block: list[str] = []
    for i, row in enumerate(rows, start):
        block.append((",\n" if i else "") + _json_row(row, texts, quoted))
        if len(block) == _BLOCK_ROWS:
            yield "".join(block).encode()
            block = []
    if block:
        yield "".join(block).encode()


_BLOCK_ROWS = 64


def _json_row(row: UnitRow, texts: list[str], quoted: dict[int, str]) -> str:
    """``json.dumps`` of the row's object, written out directly (a list of ints is written
    by ``str`` as JSON writes it), cells straight from their groups: at 5,000 namespaces,
    millions of partial cells. ``quoted``: texts by id, as JSON strings."""
    common, lists, found = _groups(row)
    text = f'{{"*": "{common}"'
    for verdict in ("all", "none"):
        if verdict != common and lists[verdict]:
            text += f', "{verdict}": {lists[verdict]}'
    if found is None:
        return text + "}"
    to, starts, ends, heads, groups = found
    cells = []
    for g in groups:
        every, n_all, n_some, n_none = heads[g]
        shown = quoted.get(every)
        if shown is None:
            shown = quoted[every] = json.dumps(texts[every])
        cells.append(f'{{"to": {to[starts[g]:ends[g]]}, "every": {shown}, '
                     f'"pairs": {n_all + n_some + n_none}, "all": {n_all}, "some": {n_some}, '
                     f'"none": {n_none}}}')
    return f'{text}, "partial": [{", ".join(cells)}]}}'


def _partial_text(cell: _Cells) -> str:
    each = " each" if len(cell.to) > 1 else ""
    return (f"every pair: {cell.every}; {count(cell.pairs, 'pair')}{each}: {cell.all:,} all, "
            f"{cell.some:,} some, {cell.none:,} none")


def _lines(view: UnitView) -> Iterator[tuple[str, str, list[str]]]:
    """Per source unit: (heading, verdict, destination entries) lines."""
    names = [escape(n) for n in view.names]
    for row in view.rows:
        common, lists, partial = _split(row, view.texts)
        src = row.unit
        heading = f"{names[src]} ({count(view.pods[src], 'pod')})"
        for verdict in ("all", "none"):
            if verdict == common and lists[verdict]:
                rest = len(lists[verdict])
                if partial or lists["none" if verdict == "all" else "all"]:
                    words = f"{rest:,} more {view.by}{'' if rest == 1 else 's'}"
                else:
                    words = f"every {view.by}: {rest:,}"
                yield heading, verdict, [f"({words})"]
            elif lists[verdict]:
                yield heading, verdict, [names[y] for y in lists[verdict]]
        for cell in partial:
            yield heading, "partial", [*(names[y] for y in cell.to), f"({_partial_text(cell)})"]


def write_text(view: UnitView, out: IO[str], style: Style) -> None:
    """Per source unit, the other units by verdict; the commonest verdict as a count."""
    current = None
    for heading, verdict, entries in _lines(view):
        if heading != current:
            out.write(style.bold(heading) + "\n")
            current = heading
        shown = f"{verdict:<7}"
        shown = style.bad(shown) if verdict == "none" else (
            style.good(shown) if verdict == "all" else shown)
        tail = f" {entries.pop()}" if verdict == "partial" else ""
        out.write(f"  -> {shown}  {', '.join(entries)}{tail}\n")


def write_markdown(view: UnitView, out: IO[str]) -> None:
    out.write(f"| from | allowed | to ({view.by}s) |\n|---|---|---|\n")
    for heading, verdict, entries in _lines(view):
        tail = f" {entries.pop()}" if verdict == "partial" else ""
        out.write(f"| {heading} | {verdict} | {', '.join(entries)}{tail} |\n")


def write_csv(view: UnitView, out: IO[str]) -> None:
    """A line per ordered pair of units."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["from", "to", "verdict", "every", "pairs", "all", "some", "none"])
    names = [escape(n) for n in view.names]
    for row in view.rows:
        for y, name in enumerate(names):
            pairs = int(row.all[y] + row.some[y] + row.none[y])
            writer.writerow([names[row.unit], name, VERDICTS[int(row.verdict[y])],
                             view.texts[int(row.every[y])], pairs, int(row.all[y]),
                             int(row.some[y]), int(row.none[y])])
