"""The connectivity matrix as text, JSON, CSV or Markdown, for groups of pods or every pod.

The JSON forms are contracts tools rely on:
- full matrix: ``{"groups": [{"name", "pods"}], "matrix": [{"*": text, text: [dst]}]}``:
  row ``i`` of ``matrix`` is group ``i``'s, destinations are group positions, and ``"*"`` is
  the verdict of every destination the row does not list elsewhere; plus ``"node_traffic":
  {host-network pod: [pods on its node]}`` (pairs always allowed both ways). Positions, not
  names, because the rows of 150,000 pods list hundreds of millions of destinations.
- per port: ``{"pods": [...], "results": [{"port", "protocol", "reachable": {src: [dsts]}}]}``,
  streamed pod by pod so that 10,000 pods never sit in memory as one text.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import IO, Any

import msgspec
import numpy as np
import numpy.typing as npt

from stockade.engine.engine import Engine
from stockade.engine.matrix import BoolMatrix, ClassRows, ConnectivityMatrix, reachable_pods
from stockade.model.types import Protocol
from stockade.render.escape import escape
from stockade.render.groups import group_names
from stockade.render.style import Style


class MatrixView(msgspec.Struct, frozen=True):
    """Rows/columns to show (groups of identical pods, or single pods), and for each row the
    id of the text in ``texts`` that every column gets."""

    names: tuple[str, ...]
    members: tuple[tuple[str, ...], ...]
    texts: Sequence[str]  # may grow while ``source`` is read
    source: Iterable[tuple[int, npt.NDArray[np.int32]]]  # each row once, in order
    # Grouped view only: host-network pod -> pods on its node. Such pairs always reach each
    # other (node traffic) whatever their groups' cells say; per-pod rows already show it.
    node_traffic: dict[str, list[str]] = msgspec.field(default_factory=dict)
    # After each row of ``source``: an earlier row it equals exactly, if it knows of one.
    earlier: Callable[[], int | None] = msgspec.field(default=lambda: None)
    # The rows from one position up to another, when they can be computed apart (the
    # matrix of groups): ``encoded_rows`` of a range can then run in another process. They
    # report no progress (the caller knows how far it is).
    ranges: Callable[[int, int], Iterable[tuple[int, npt.NDArray[np.int32]]]] | None = None

    def rows(self) -> Iterator[tuple[int, dict[str, list[int]]]]:
        """Each row as ``{text: [column, ...]}``, texts in order of first appearance."""
        for src, ids in self.source:
            present = np.flatnonzero(np.bincount(ids))
            if len(present) <= 8:  # the usual row: a few verdicts, found by comparison
                columns = [np.flatnonzero(ids == t) for t in present]
            else:
                order = np.argsort(ids, kind="stable")
                columns = np.split(order, np.flatnonzero(np.diff(ids[order])) + 1)
            columns.sort(key=lambda c: int(c[0]))
            yield src, {self.texts[int(ids[c[0]])]: c.tolist() for c in columns}


def pod_view(matrix: ConnectivityMatrix) -> MatrixView:
    """Every pod, node traffic and self included."""
    keys = tuple(p.key for p in matrix.engine.pods)
    rows = ((src, matrix.pod_row(src)) for src in range(len(keys)))
    return MatrixView(keys, tuple((k,) for k in keys), matrix.texts, rows)


def group_view(rows: ClassRows, owner: Mapping[str, str] | None = None) -> MatrixView:
    """Groups of pods every policy treats alike, streamed row by row; ``owner`` names a
    group of one workload's pods after the workload."""
    engine = rows.engine
    keys = [p.key for p in engine.pods]
    names = group_names(engine.classes, engine.pods, owner, keys=keys)
    members = tuple(tuple([keys[i] for i in c.members]) for c in engine.classes)
    return MatrixView(tuple(names), members, rows.texts, rows, node_traffic(engine),
                      lambda: rows.same_as, functools.partial(rows.rows, report=False))


def parts_view(rows: ClassRows, names: Sequence[str],
               parts: Sequence[Sequence[int]]) -> MatrixView:
    """Like ``group_view``, the groups being parts of classes (pod indices; in class
    order, a class's parts together), as ``matrix --services`` splits them."""
    engine = rows.engine
    keys = [p.key for p in engine.pods]
    source = _PartRows(rows, parts)
    return MatrixView(tuple(names), tuple(tuple(keys[i] for i in p) for p in parts),
                      rows.texts, source, node_traffic(engine), source.earlier,
                      functools.partial(source.range, report=False))


class _PartRows:
    """The rows of parts of classes: a part's row is its class's row read at every part's
    class (two parts of one class are distinct pods, as a class's row towards itself says),
    except that a part of one pod out of a class of several reaches itself (``all``)."""

    def __init__(self, rows: ClassRows, parts: Sequence[Sequence[int]]) -> None:
        engine = rows.engine
        pod_class = np.asarray(engine.pod_class, dtype=np.int64)
        n = len(engine.classes)
        self.rows = rows
        self.of = pod_class[np.array([p[0] for p in parts], dtype=np.int64)]
        if len(self.of) and (np.diff(self.of) < 0).any():
            raise ValueError("the parts of classes must come in class order")
        self.first = np.searchsorted(self.of, np.arange(n))
        self.count = np.bincount(self.of, minlength=n)
        sizes = np.array([len(c.members) for c in engine.classes], dtype=np.int64)
        self.own = np.array([len(p) == 1 for p in parts], dtype=np.bool_) & (sizes[self.of] > 1)
        self._earlier: int | None = None

    def earlier(self) -> int | None:
        """An earlier row the last one equals: a class's shown whole, as ``same_as``."""
        return self._earlier

    def __iter__(self) -> Iterator[tuple[int, npt.NDArray[np.int32]]]:
        return self.range(0, len(self.of))

    def range(self, start: int, stop: int, *,
              report: bool = True) -> Iterator[tuple[int, npt.NDArray[np.int32]]]:
        """The rows of parts ``start .. stop-1``, in order."""
        of, first, count = self.of, self.first, self.count
        for cls, row in self.rows.rows_of(np.unique(of[start:stop]), report=report):
            same = self.rows.same_as
            earlier = (int(first[same]) if same is not None and count[cls] == 1
                       and count[same] == 1 else None)
            wide = row[of]
            for at in range(max(int(first[cls]), start), min(int(first[cls] + count[cls]), stop)):
                ids = wide
                if self.own[at]:
                    ids = wide.copy()
                    ids[at] = self.rows.all_id
                self._earlier = earlier
                yield at, ids


def node_traffic(engine: Engine) -> dict[str, list[str]]:
    """Host-network pod -> the pods on its node: pairs that always reach each other."""
    return {
        pod.key: [engine.pods[j].key for j in peers]
        for i, pod in enumerate(engine.pods)
        if pod.host_network and (peers := engine.node_peers(i))
    }


WRITE_BLOCK = 8 << 20  # bytes of rows gathered before one write
FEW_LISTED = 96  # a row listing at most this many columns is encoded by Python, not NumPy
SAMPLED = 256  # columns of a row sampled for a guess at its commonest text


def _write_extra(extra: Mapping[str, Any] | None, out: IO[str]) -> None:
    for key, value in (extra or {}).items():
        out.write(",\n" + json.dumps(key) + ": " + json.dumps(value))


class RowEncoder:
    """Rows of text ids as JSON objects ``{"*": text, text: [column, ...]}`` (columns as
    positions), built with a few vector operations per row: the columns of the row's
    commonest text are left to ``"*"``, the others grouped by text (a radix sort) and
    written from a table of every position's digits, texts in the order of their first
    columns.

    The table holds each position's ``"N, "`` in a slot of one width for all, its digits
    padded with NUL bytes before the separator (``"7\\0\\0, "``): a row's digits are its
    columns' slots gathered whole, a text's run of them ends with its separator at a known
    place, and one pass over the row's bytes drops the padding (JSON text never holds a
    raw NUL, so nothing else is dropped)."""

    def __init__(self, columns: int) -> None:
        digits = len(str(max(0, columns - 1)))
        self._width = -(-(digits + 2) // 8) * 8  # whole words: gathered as one item
        slots = np.full((max(1, columns), self._width), 0, dtype=np.uint8)
        slots[:, -2:] = np.frombuffer(b", ", dtype=np.uint8)
        value = np.arange(max(1, columns), dtype=np.int64)
        length = np.ones(max(1, columns), dtype=np.int64)
        for place in range(1, digits):
            length += value >= 10 ** place
        for place in range(digits):  # the digit ``place`` from the right, where it is
            has = length > place
            slots[has, length[has] - 1 - place] = 48 + (value[has] // 10 ** place) % 10
        slot = np.dtype(np.uint64) if self._width == 8 else np.dtype(f"V{self._width}")
        self._slots = slots.view(slot).ravel()  # a slot per position
        self._keys: dict[int, bytes] = {}  # text number -> ', "text": ['
        self._common: dict[int, bytes] = {}  # text number -> '{"*": "text"'

    def encode(self, ids: npt.NDArray[np.int32], texts: Sequence[str]) -> bytes:
        # The commonest text of a sample, checked: holding most columns, it is the row's
        # commonest (the usual row, spared counting every text); else every text counted.
        guess = int(np.bincount(ids[::max(1, len(ids) // SAMPLED)]).argmax())
        listed = np.flatnonzero(ids != guess)
        common = guess
        if 2 * len(listed) >= len(ids):
            numbers = np.bincount(ids).tolist()  # per text: a few hundred at most
            most = max(numbers)
            common = numbers.index(most)
            if numbers.count(most) > 1:  # the tied text of the first column, not the lowest
                # number: the numbers follow the order a process met the texts in, which
                # pieces change
                tied = [text for text, n in enumerate(numbers) if n == most]
                common = int(ids[np.flatnonzero(np.isin(ids, tied))[0]])
            if common != guess:
                listed = np.flatnonzero(ids != common)
        head = self._common.get(common)
        if head is None:
            head = self._common[common] = b'{"*": ' + json.dumps(texts[common]).encode()
        if len(listed) <= FEW_LISTED:
            return self._few(ids, listed, head, texts)
        return self._many(ids, listed, head, texts)

    def _key(self, text: int, texts: Sequence[str]) -> bytes:
        key = self._keys.get(text)
        if key is None:
            key = self._keys[text] = b", " + json.dumps(texts[text]).encode() + b": ["
        return key

    def _few(self, ids: npt.NDArray[np.int32], listed: npt.NDArray[np.intp], head: bytes,
             texts: Sequence[str]) -> bytes:
        """``encode`` of a row that lists few columns (``listed``: those not of its
        commonest text): grouped by text in a dict, which keeps the texts in the order of
        their first columns, and written by Python; NumPy's cost per call would be most of
        the work."""
        by_text: dict[int, list[str]] = {}
        for column, text in zip(listed.tolist(), ids[listed].tolist(), strict=True):
            found = by_text.get(text)
            if found is None:
                by_text[text] = [str(column)]
            else:
                found.append(str(column))
        parts = [head]
        for text, columns in by_text.items():
            parts += (self._key(text, texts), ", ".join(columns).encode(), b"]")
        parts.append(b"}")
        return b"".join(parts)

    def _many(self, ids: npt.NDArray[np.int32], listed: npt.NDArray[np.intp], head: bytes,
              texts: Sequence[str]) -> bytes:
        """``encode`` by vector operations: the listed columns sorted by text, their slots
        gathered from the table, each text's run cut out of them."""
        parts = [head]
        if len(listed):
            numbers = ids[listed].astype(np.uint16 if len(texts) <= 1 << 16 else np.int64)
            order = np.argsort(numbers, kind="stable")
            by_text, numbers = listed[order], numbers[order]
            padded = self._slots[by_text].tobytes()
            last = np.append(np.flatnonzero(numbers[1:] != numbers[:-1]) + 1, len(numbers))
            first = np.append(0, last[:-1])  # each text's run in ``by_text``
            # Texts in the order of their first columns (not of their numbers, which follow
            # the order the connection sets were met in: the same row reads the same).
            order = np.argsort(by_text[first], kind="stable")
            width = self._width
            keys = [self._key(text, texts) for text in numbers[first[order]].tolist()]
            begins = (first[order] * width).tolist()
            stops = (last[order] * width - 2).tolist()  # without the last separator
            for key, begin, stop in zip(keys, begins, stops, strict=True):
                parts += (key, padded[begin:stop], b"]")
        parts.append(b"}")
        return b"".join(parts).translate(None, b"\0")


def encoded_rows(view: MatrixView, source: Iterable[tuple[int, npt.NDArray[np.int32]]],
                 encoder: RowEncoder | None = None) -> Iterator[bytes]:
    """The rows of ``source`` as ``write_json`` lays them out (each but row 0 after
    ``",\n"``; a row equal to an earlier one as that row's position), gathered into
    blocks of about ``WRITE_BLOCK`` bytes; ``encoder``: one kept between calls."""
    encoder = encoder or RowEncoder(len(view.names))
    pending: list[bytes] = []
    size = 0
    for src, ids in source:
        same = view.earlier()
        row = b"%d" % same if same is not None else encoder.encode(ids, view.texts)
        pending += [b",\n" if src else b"", row]
        size += len(row)
        if size > WRITE_BLOCK:
            yield b"".join(pending)
            pending, size = [], 0
    if pending:
        yield b"".join(pending)


def write_json(view: MatrixView, out: IO[str], extra: Mapping[str, Any] | None = None,
               rows: Iterable[bytes] | None = None) -> None:
    """``{"groups": [{"name", "pods"}, ...], "matrix": [{"*": text, text: [dst, ...]}]}``:
    row ``i`` is group ``i``'s, destinations are group positions, and under ``"*"`` is the
    verdict of every destination not listed under another text (the row's commonest).

    Each group and each row is one line of its own (``{"groups": [`` and ``"matrix": [``
    on lines before them), so that a tool can read the file a row at a time. A row equal to
    an earlier one is written as that row's position. Rows are written as they are
    computed, gathered into large blocks of bytes: ``encoded_rows`` of the view's source,
    or ``rows`` (the same bytes, made elsewhere)."""
    binary = getattr(out, "buffer", None)
    if binary is not None:
        out.flush()
    write = binary.write if binary is not None else (lambda b: out.write(b.decode()))
    # Strings as ``json.dumps`` writes them (ASCII, escaped), without its cost per call.
    quote = json.encoder.encode_basestring_ascii
    head = [f'{{"name": {quote(name)}, "pods": [{", ".join(map(quote, members))}]}}'
            for name, members in zip(view.names, view.members, strict=True)]
    write(b'{"groups": [\n' + ",\n".join(head).encode() + b'\n],\n"matrix": [\n')
    for block in (encoded_rows(view, view.source) if rows is None else rows):
        write(block)
    tail = [b"\n]"]
    if view.node_traffic:
        tail.append(b',\n"node_traffic": ' + json.dumps(view.node_traffic).encode())
    for key, value in (extra or {}).items():
        tail.append(b",\n" + json.dumps(key).encode() + b": " + json.dumps(value).encode())
    tail.append(b"}\n")
    write(b"".join(tail))
    if binary is not None:
        binary.flush()


def write_csv(view: MatrixView, out: IO[str]) -> None:
    """``from,to,allowed`` per pair of rows; then, in the grouped view, the node-traffic
    pairs of pods (both ways ``all``), which override their groups' rows."""
    import csv  # only this output needs it

    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["from", "to", "allowed"])
    names = [escape(n) for n in view.names]
    for src, ids in view.source:
        writer.writerows([names[src], names[d], view.texts[int(t)]]
                         for d, t in enumerate(ids))
    for host, peers in view.node_traffic.items():
        for peer in peers:
            writer.writerows([[escape(host), escape(peer), "all"],
                             [escape(peer), escape(host), "all"]])


def write_markdown(view: MatrixView, out: IO[str]) -> None:
    out.write("| from | allowed | to |\n|---|---|---|\n")
    names = [escape(n) for n in view.names]
    for src, by_text in view.rows():
        for text, dsts in by_text.items():
            out.write(f"| {names[src]} | {text} | {', '.join(names[d] for d in dsts)} |\n")
    groups = [(n, m) for n, m in zip(names, view.members, strict=True) if len(m) > 1]
    if groups:
        out.write("\n| group | pods |\n|---|---|\n")
        for name, members in groups:
            out.write(f"| {name} | {', '.join(escape(m) for m in members)} |\n")
    if view.node_traffic:
        out.write("\n| host-network pod | pods on its node (always reach each other both ways) "
                  "|\n|---|---|\n")
        for host, peers in view.node_traffic.items():
            out.write(f"| {escape(host)} | {', '.join(escape(p) for p in peers)} |\n")


def write_text(view: MatrixView, out: IO[str], style: Style) -> None:
    """Per source, its destinations gathered by what is allowed to them."""
    names = [escape(n) for n in view.names]
    for src, by_text in view.rows():
        out.write(style.bold(names[src]) + "\n")
        width = max(len(text) for text in by_text)
        for text, dsts in by_text.items():
            shown = f"{text:<{width}}"
            shown = style.bad(shown) if text == "none" else (
                style.good(shown) if text == "all" else shown)
            out.write(f"  -> {shown}  {', '.join(names[d] for d in dsts)}\n")
    groups = [(nm, m) for nm, m in zip(names, view.members, strict=True) if len(m) > 1]
    if groups:
        out.write("\n" + style.bold("groups") + " (pods that every policy treats alike; "
                  "--pods shows each)\n")
        for name, members in groups:
            out.write(f"  {name}: {', '.join(escape(m) for m in members)}\n")
    if view.node_traffic:
        out.write("\n" + style.bold("node traffic") + " (a host-network pod and the pods on "
                  "its node always reach each other, whatever the groups above say)\n")
        for host, peers in view.node_traffic.items():
            out.write(f"  {escape(host)} <-> {', '.join(escape(p) for p in peers)}\n")


def write_port_json(engine: Engine, results: Sequence[tuple[int, Protocol, BoolMatrix]],
                    out: IO[str], extra: Mapping[str, Any] | None = None) -> None:
    keys = [p.key for p in engine.pods]
    out.write('{"pods": ' + json.dumps(keys) + ', "results": [')
    for r, (port, protocol, allowed) in enumerate(results):
        out.write(("," if r else "") + '{"port": ' + str(port) + ', "protocol": '
                  + json.dumps(protocol.value) + ', "reachable": {')
        for src, key in enumerate(keys):
            dsts = [keys[d] for d in reachable_pods(engine, allowed, src)]
            out.write(("," if src else "") + json.dumps(key) + ": " + json.dumps(dsts))
        out.write("}}")
    out.write("]")
    _write_extra(extra, out)
    out.write("}\n")


def write_port_table(engine: Engine, results: Sequence[tuple[int, Protocol, BoolMatrix]],
                     out: IO[str], style: Style, fmt: str) -> None:
    """Truth tables in the upstream e2e style: ``.`` reachable, ``X`` not."""
    keys = [escape(p.key) for p in engine.pods]
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
