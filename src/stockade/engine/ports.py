"""Destination ports: the protocol/port space split into segments on which every rule agrees,
and connection sets printed canonically (``all``, ``TCP 80-81,443, UDP 53``, ``none``)."""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterable
from dataclasses import dataclass

from stockade.model.types import Protocol

MIN_PORT, MAX_PORT = 1, 65535
PROTOCOLS: tuple[Protocol, ...] = (Protocol.TCP, Protocol.UDP, Protocol.SCTP)


@dataclass(frozen=True, slots=True)
class PortSpan:
    protocol: Protocol
    first: int
    last: int

    def __str__(self) -> str:
        return f"{self.first}" if self.first == self.last else f"{self.first}-{self.last}"


def merge_spans(spans: Iterable[PortSpan]) -> list[PortSpan]:
    """Sorted, with overlapping and adjacent spans of one protocol merged."""
    order = {p: i for i, p in enumerate(PROTOCOLS)}
    out: list[PortSpan] = []
    for span in sorted(spans, key=lambda s: (order[s.protocol], s.first, s.last)):
        last = out[-1] if out else None
        if last and last.protocol == span.protocol and span.first <= last.last + 1:
            out[-1] = PortSpan(span.protocol, last.first, max(last.last, span.last))
        else:
            out.append(span)
    return out


def format_connections(spans: Iterable[PortSpan]) -> str:
    """The canonical text of a set of (protocol, port): ``all``, ``none`` or per protocol."""
    merged = merge_spans(spans)
    if not merged:
        return "none"
    full = {s.protocol for s in merged if s.first == MIN_PORT and s.last == MAX_PORT}
    if full == set(PROTOCOLS):
        return "all"
    parts: list[str] = []
    for proto in PROTOCOLS:
        mine = [s for s in merged if s.protocol == proto]
        if not mine:
            continue
        text = "all" if proto in full else ",".join(str(s) for s in mine)
        parts.append(f"{proto.value} {text}")
    return ", ".join(parts)


class PortSpace:
    """All (protocol, port) pairs cut at every boundary any rule or named port introduces."""

    def __init__(self, cuts: dict[Protocol, set[int]]) -> None:
        self.segments: list[PortSpan] = []
        self._starts: dict[Protocol, list[int]] = {}
        self._offset: dict[Protocol, int] = {}
        for proto in PROTOCOLS:
            points = sorted({MIN_PORT, MAX_PORT + 1} | {
                c for c in cuts.get(proto, set()) if MIN_PORT < c <= MAX_PORT
            })
            self._offset[proto] = len(self.segments)
            self._starts[proto] = points[:-1]
            for lo, hi in itertools.pairwise(points):
                self.segments.append(PortSpan(proto, lo, hi - 1))

    def __len__(self) -> int:
        return len(self.segments)

    def segment_of(self, protocol: Protocol, port: int) -> int:
        starts = self._starts[protocol]
        return self._offset[protocol] + bisect.bisect_right(starts, port) - 1

    def segments_in(self, protocol: Protocol, first: int, last: int) -> range:
        """Indices of the segments covering ``first..last`` (both must be cut points)."""
        return range(self.segment_of(protocol, first), self.segment_of(protocol, last) + 1)

    def protocol_segments(self, protocol: Protocol) -> range:
        start = self._offset[protocol]
        return range(start, start + len(self._starts[protocol]))
