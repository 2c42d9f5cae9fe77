"""A port written as text: ``80/TCP``, ``53/udp`` or ``80`` (TCP), as the command line
(``--port``) and promise files take it. One reading for all of them, so that they accept
and refuse the same spellings."""

from __future__ import annotations

from stockade.model.types import Protocol

MAX_PORT_DIGITS = 5


def read_port(text: str) -> tuple[int | None, Protocol | None]:
    """The port number and the protocol, each None where the text does not hold one.
    The protocol is TCP when no slash is written; ``80/`` names none (a slash says a
    protocol follows). The number is ASCII digits only, as the API server reads a port
    (``٨٠`` and ``²`` are not numbers), at most five of them (converted only then), from
    1 to 65535."""
    number, slash, proto = text.partition("/")
    try:
        protocol: Protocol | None = Protocol(proto.upper() if slash else "TCP")
    except ValueError:
        protocol = None
    if (not (number.isascii() and number.isdigit()) or len(number) > MAX_PORT_DIGITS
            or not 1 <= int(number) <= 65535):
        return None, protocol
    return int(number), protocol
