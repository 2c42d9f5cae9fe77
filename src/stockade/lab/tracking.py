"""A node's tracked connections after its policies changed: those the new policies deny
are forgotten, the others carry on.

The lab's ruleset accepts a packet of a tracked connection without judging it again, so
after ``lab apply`` an old connection (or a later UDP probe that happens to reuse an
earlier one's source port, which UDP tracking keeps for half a minute) would still pass
under the new policies. Emptying the whole table is no better: a reply in flight at that
moment is then seen as the first packet of a connection the other way, and dropped
although both the old and the new policies allow its connection. So each tracked
connection is judged as it was opened (source, destination, protocol and destination
port of its original direction) by the new policies, and only the denied ones are
deleted. ICMP and other protocols NetworkPolicy does not speak of are left alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from stockade.errors import CommandFailed
from stockade.lab.system import run
from stockade.model.types import Protocol

_ATTEMPTS = 5
_PROTOCOLS = {"tcp": Protocol.TCP, "udp": Protocol.UDP, "sctp": Protocol.SCTP}


@dataclass(frozen=True)
class Tracked:
    """The original direction of one tracked connection."""

    protocol: Protocol
    src: str
    dst: str
    sport: int
    dport: int

    def delete_line(self) -> str:
        """This connection as a line of ``conntrack --load-file``, deleting it."""
        return (f"-D -p {self.protocol.value.lower()} -s {self.src} -d {self.dst} "
                f"--sport {self.sport} --dport {self.dport}")


def parse(listing: str) -> list[Tracked]:
    """The TCP, UDP and SCTP connections of ``conntrack -L`` output. The first
    ``src=``/``dst=``/``sport=``/``dport=`` of a line are its original direction."""
    found = []
    for line in listing.splitlines():
        words = line.split()
        if not words or words[0] not in _PROTOCOLS:
            continue
        fields: dict[str, str] = {}
        for word in words:
            key, eq, value = word.partition("=")
            if eq and key not in fields:
                fields[key] = value
        try:
            found.append(Tracked(_PROTOCOLS[words[0]], fields["src"], fields["dst"],
                                 int(fields["sport"]), int(fields["dport"])))
        except (KeyError, ValueError):
            continue  # not a connection with ports: nothing to judge
    return found


def denied(tracked: Iterable[Tracked],
           allowed: Callable[[str, str, Protocol, int], bool]) -> list[Tracked]:
    """The connections ``allowed`` (source, destination, protocol, port) refuses, each
    distinct flow judged once."""
    verdicts: dict[tuple[str, str, Protocol, int], bool] = {}
    out = []
    for t in tracked:
        flow = (t.src, t.dst, t.protocol, t.dport)
        if flow not in verdicts:
            verdicts[flow] = allowed(*flow)
        if not verdicts[flow]:
            out.append(t)
    return out


def forget_denied(netns: str, allowed: Callable[[str, str, Protocol, int], bool]) -> int:
    """Delete the tracked connections of ``netns`` that ``allowed`` now refuses (one
    ``conntrack`` process for all); how many were deleted.

    A connection may end on its own between the listing and its deletion (a closed TCP
    connection is forgotten after a second in the lab); ``conntrack`` then stops at it
    ("such conntrack doesn't exist"), so the table is listed and judged again, a few
    times at most."""
    failures = 0
    while True:
        listing = "".join(
            run(["ip", "netns", "exec", netns, "conntrack", "-L", "-f", family])
            for family in ("ipv4", "ipv6"))
        gone = denied(parse(listing), allowed)
        if not gone:
            return 0
        lines = "".join(t.delete_line() + "\n" for t in gone)
        try:
            run(["ip", "netns", "exec", netns, "conntrack", "-R", "-"], input_text=lines)
        except CommandFailed as exc:
            failures += 1
            if "doesn't exist" not in exc.stderr or failures == _ATTEMPTS:
                raise
            continue
        return len(gone)
