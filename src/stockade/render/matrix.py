"""The connectivity matrix as text, JSON, CSV or Markdown, for groups of pods or every pod.

The JSON forms are contracts tools rely on:
- full matrix: ``{"groups": {group: [pods]}, "matrix": {src: {connections: [dsts]}}}``
- per port: ``{"pods": [...], "results": [{"port", "protocol", "reachable": {src: [dsts]}}]}``,
  streamed pod by pod so that 10,000 pods never sit in memory as one text.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import IO

from stockade.engine.engine import Engine
from stockade.engine.matrix import BoolMatrix, ConnectivityMatrix, reachable_pods
from stockade.model.types import Protocol
from stockade.render.groups import group_names
from stockade.render.style import Style


@dataclass(frozen=True, slots=True)
class MatrixView:
    """Rows/columns to show: groups (behaviour classes) or single pods."""

    names: tuple[str, ...]
    members: tuple[tuple[str, ...], ...]
    cell: Callable[[int, int], str]


def matrix_view(matrix: ConnectivityMatrix, *, per_pod: bool) -> MatrixView:
    engine = matrix.engine
    if per_pod:
        keys = tuple(p.key for p in engine.pods)
        return MatrixView(keys, tuple((k,) for k in keys), matrix.between_pods)
    names = group_names(engine.classes, engine.pods)
    members = tuple(tuple(engine.pods[i].key for i in c.members) for c in engine.classes)
    return MatrixView(tuple(names), members, matrix.between_classes)


def write_json(view: MatrixView, out: IO[str]) -> None:
    out.write('{"groups": {')
    for i, (name, members) in enumerate(zip(view.names, view.members, strict=True)):
        out.write(("," if i else "") + json.dumps(name) + ": " + json.dumps(list(members)))
    out.write('}, "matrix": {')
    n = len(view.names)
    for src in range(n):
        by_text: dict[str, list[str]] = {}
        for dst in range(n):
            by_text.setdefault(view.cell(src, dst), []).append(view.names[dst])
        out.write(("," if src else "") + json.dumps(view.names[src]) + ": "
                  + json.dumps(by_text))
    out.write("}}\n")


def write_csv(view: MatrixView, out: IO[str]) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["from", "to", "allowed"])
    n = len(view.names)
    for src in range(n):
        for dst in range(n):
            writer.writerow([view.names[src], view.names[dst], view.cell(src, dst)])


def write_markdown(view: MatrixView, out: IO[str]) -> None:
    out.write("| from | to | allowed |\n|---|---|---|\n")
    n = len(view.names)
    for src in range(n):
        for dst in range(n):
            out.write(f"| {view.names[src]} | {view.names[dst]} | {view.cell(src, dst)} |\n")
    _legend_markdown(view, out)


def _legend_markdown(view: MatrixView, out: IO[str]) -> None:
    groups = [(n, m) for n, m in zip(view.names, view.members, strict=True) if len(m) > 1]
    if groups:
        out.write("\n| group | pods |\n|---|---|\n")
        for name, members in groups:
            out.write(f"| {name} | {', '.join(members)} |\n")


def write_text(view: MatrixView, out: IO[str], style: Style) -> None:
    """Per source, its destinations gathered by what is allowed to them."""
    n = len(view.names)
    for src in range(n):
        by_text: dict[str, list[str]] = {}
        for dst in range(n):
            by_text.setdefault(view.cell(src, dst), []).append(view.names[dst])
        out.write(style.bold(view.names[src]) + "\n")
        width = max(len(text) for text in by_text)
        for text, dsts in by_text.items():
            shown = f"{text:<{width}}"
            shown = style.bad(shown) if text == "none" else (
                style.good(shown) if text == "all" else shown)
            out.write(f"  -> {shown}  {', '.join(dsts)}\n")
    groups = [(nm, m) for nm, m in zip(view.names, view.members, strict=True) if len(m) > 1]
    if groups:
        out.write("\n" + style.bold("groups") + " (pods that every policy treats alike; "
                  "--pods shows each)\n")
        for name, members in groups:
            out.write(f"  {name}: {', '.join(members)}\n")


def write_port_json(engine: Engine, results: Sequence[tuple[int, Protocol, BoolMatrix]],
                    out: IO[str]) -> None:
    keys = [p.key for p in engine.pods]
    out.write('{"pods": ' + json.dumps(keys) + ', "results": [')
    for r, (port, protocol, allowed) in enumerate(results):
        out.write(("," if r else "") + '{"port": ' + str(port) + ', "protocol": '
                  + json.dumps(protocol.value) + ', "reachable": {')
        for src, key in enumerate(keys):
            dsts = [keys[d] for d in reachable_pods(engine, allowed, src)]
            out.write(("," if src else "") + json.dumps(key) + ": " + json.dumps(dsts))
        out.write("}}")
    out.write("]}\n")


def write_port_table(engine: Engine, results: Sequence[tuple[int, Protocol, BoolMatrix]],
                     out: IO[str], style: Style, fmt: str) -> None:
    """Truth tables in the upstream e2e style: ``.`` reachable, ``X`` not."""
    keys = [p.key for p in engine.pods]
    for r, (port, protocol, allowed) in enumerate(results):
        rows = [set(reachable_pods(engine, allowed, s)) for s in range(len(keys))]
        if fmt == "csv":
            if r == 0:
                out.write("port,protocol,from,to,reachable\n")
            for s, row in enumerate(rows):
                for d, key in enumerate(keys):
                    out.write(f"{port},{protocol.value},{keys[s]},{key},{str(d in row).lower()}\n")
            continue
        if fmt == "md":
            out.write(f"{'' if r == 0 else chr(10)}**{port}/{protocol.value}**\n\n")
            out.write("| from \\ to | " + " | ".join(keys) + " |\n")
            out.write("|---" * (len(keys) + 1) + "|\n")
            for s, row in enumerate(rows):
                cells = " | ".join("." if d in row else "X" for d in range(len(keys)))
                out.write(f"| {keys[s]} | {cells} |\n")
            continue
        out.write(("" if r == 0 else "\n") + style.bold(f"{port}/{protocol.value}")
                  + "  (. reachable, X not; rows: from, numbered columns: to)\n")
        cw = len(str(len(keys)))
        labels = [f"{i + 1:>{cw}} {k}" for i, k in enumerate(keys)]
        width = max((len(label) for label in labels), default=0)
        out.write(" " * width + "  " + " ".join(f"{i + 1:>{cw}}" for i in range(len(keys)))
                  + "\n")
        for s, row in enumerate(rows):
            cells = " ".join((" " * (cw - 1)) + (style.good(".") if d in row else style.bad("X"))
                             for d in range(len(keys)))
            out.write(f"{labels[s]:<{width}}  {cells}\n")
