"""Port sets as rows of bits, so that many pairs of sets are intersected at once. Pure.

The boundaries of every span of every set known cut the (protocol, port) space into
elementary segments: each set is then the segments it covers, a row of bits, and the
intersection of two sets is the AND of their rows. A row decodes back into the canonical
spans (maximal runs of covered segments). The protocols are laid end to end with gaps
(``STRIDE``), so that no run crosses from one protocol into the next.

Sets come in a list that only grows (``PairSets.sets``): the rows of new sets are added
as they are asked for, and the segments cut again only when a new set brings a boundary
not seen before.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from stockade.engine.spans import Spans

ENCODE_BATCH_BYTES = 32 << 20  # unpacked bits of the sets encoded at once
STRIDE = 1 << 17  # (protocol, port) -> protocol * STRIDE + port: 65,536 apart at least


def _cuts(spans: Spans) -> list[tuple[int, int]]:
    """Each span as the half-open range ``[start, stop)`` it covers, laid end to end."""
    return [(p * STRIDE + first, p * STRIDE + last + 1) for p, first, last in spans]


class Segments:
    def __init__(self) -> None:
        self._count = 0  # sets encoded so far
        self._points: set[int] = set()
        self.bounds = np.zeros(0, dtype=np.int64)  # segment j is [bounds[j], bounds[j+1])
        self._rows = np.zeros((0, 1), dtype=np.uint8)  # bits of the segments, packed
        self.cut = 0  # how many times the segments were cut: rows of other cuts differ

    @property
    def width(self) -> int:
        """Segments (bits of a row that mean something)."""
        return max(0, len(self.bounds) - 1)

    def rows(self, sets: Sequence[Spans]) -> npt.NDArray[np.uint8]:
        """The packed rows of bits of ``sets`` (row k: set k), the new ones encoded."""
        if len(sets) > self._count:
            fresh = {x for spans in sets[self._count:] for cut in _cuts(spans) for x in cut}
            if fresh <= self._points:
                self._rows = np.concatenate([self._rows, self._encode(sets[self._count:])])
            else:  # new boundaries: every set cut again
                self._points |= fresh
                self.bounds = np.array(sorted(self._points), dtype=np.int64)
                self._rows = self._encode(sets)
                self.cut += 1
            self._count = len(sets)
        return self._rows

    def _encode(self, sets: Sequence[Spans]) -> npt.NDArray[np.uint8]:
        # Unpacked bits take a byte each: a bounded batch of sets at a time (100,000 sets
        # over 40,000 segments would take 4 GB at once).
        width = max(1, self.width)
        step = max(1, ENCODE_BATCH_BYTES // width)
        parts = [np.zeros((0, (width + 7) // 8), dtype=np.uint8)]
        for at in range(0, len(sets), step):
            batch = sets[at:at + step]
            bits = np.zeros((len(batch), width), dtype=np.bool_)
            for k, spans in enumerate(batch):
                for start, stop in _cuts(spans):
                    first, last = np.searchsorted(self.bounds, (start, stop)).tolist()
                    bits[k, first:last] = True
            parts.append(np.packbits(bits, axis=1))
        return np.concatenate(parts)

    def spans(self, row: bytes) -> Spans:
        """The canonical spans of a packed row."""
        bits = np.unpackbits(np.frombuffer(row, dtype=np.uint8))[:self.width]
        edges = np.flatnonzero(np.diff(bits.astype(np.int8), prepend=0, append=0))
        out: list[tuple[int, int, int]] = []
        for first, last in zip(edges[0::2].tolist(), edges[1::2].tolist(), strict=True):
            start, stop = int(self.bounds[first]), int(self.bounds[last])
            protocol = start // STRIDE
            out.append((protocol, start - protocol * STRIDE, stop - 1 - protocol * STRIDE))
        return tuple(out)
