"""Destination ports: spans of one protocol, and connection sets printed canonically
(``all``, ``TCP 80-81,443, UDP 53``, ``none``)."""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from stockade.model.types import Protocol

MIN_PORT, MAX_PORT = 1, 65535
PROTOCOLS: tuple[Protocol, ...] = (Protocol.TCP, Protocol.UDP, Protocol.SCTP)


class PortSpan(msgspec.Struct, frozen=True):
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


def parse_connections(text: str) -> list[PortSpan]:
    """The spans of a connection set's canonical text (``format_connections``'s inverse)."""
    if text == "none":
        return []
    if text == "all":
        return [PortSpan(p, MIN_PORT, MAX_PORT) for p in PROTOCOLS]
    spans: list[PortSpan] = []
    for part in text.split(", "):
        proto, _, ports = part.partition(" ")
        protocol = Protocol(proto)
        if ports == "all":
            spans.append(PortSpan(protocol, MIN_PORT, MAX_PORT))
            continue
        for item in ports.split(","):
            first, _, last = item.partition("-")
            spans.append(PortSpan(protocol, int(first), int(last or first)))
    return spans
