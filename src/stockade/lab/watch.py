"""What a node's ruleset did with each new flow, so that a probe without an answer is
called dropped only when the ruleset was seen dropping it.

A second table on each node (``stk-watch``, beside the policy table, never touching its
verdicts) records every new TCP, UDP and SCTP flow twice: in ``seen`` at the forward hook
before the policy table's chain, and in ``passed`` after it. A flow in ``seen`` but not in
``passed`` was dropped by the policies; one missing from ``seen`` never reached the node,
and one in ``passed`` was let through and lost after: those are the lab's own failures,
probed again and reported as such if they persist. Keys carry both ports, so each probe
is told apart from every other.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from stockade.errors import CommandFailed
from stockade.lab.system import in_netns

TABLE = "stk-watch"
SET_SIZE = 262144
# (src address, dst address, protocol, source port, destination port)
FlowKey = tuple[str, str, str, int, int]


def _sets() -> list[str]:
    lines = []
    for name in ("seen", "passed"):
        for family, addr in ((4, "ipv4_addr"), (6, "ipv6_addr")):
            lines.append(f"\tset {name}{family} {{ type {addr} . {addr} . inet_proto . "
                         "inet_service . inet_service; flags dynamic,timeout; timeout 120s; "
                         f"size {SET_SIZE}; }}")
    return lines


def _chain(name: str, priority: str, target: str) -> list[str]:
    rule = "ct state new meta l4proto {{ tcp, udp, sctp }} add @{set}{f} {{ {ip} saddr . " \
           "{ip} daddr . meta l4proto . th sport . th dport }}"
    return [f"\tchain {name} {{",
            f"\t\ttype filter hook forward priority {priority}; policy accept;",
            "\t\t" + rule.format(set=target, f=4, ip="ip"),
            "\t\t" + rule.format(set=target, f=6, ip="ip6"),
            "\t}"]


def table_script() -> str:
    lines = [f"table inet {TABLE} {{}}", f"delete table inet {TABLE}", f"table inet {TABLE} {{",
             *_sets(), *_chain("before", "filter - 10", "seen"),
             *_chain("after", "filter + 10", "passed"), "}"]
    return "\n".join(lines) + "\n"


def _nft(netns: str, args: list[str], script: str | None = None) -> str:
    argv = ["nft", *args]
    with in_netns(netns):
        done = subprocess.run(argv, input=script, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise CommandFailed(argv, done.returncode, done.stderr)
    return done.stdout


def install(netns: str) -> None:
    _nft(netns, ["-f", "-"], table_script())


@dataclass(frozen=True, slots=True)
class Record:
    seen: frozenset[FlowKey]
    passed: frozenset[FlowKey]


def _elements(listing: dict[str, object], prefix: str) -> set[FlowKey]:
    found: set[FlowKey] = set()
    items = listing.get("nftables")
    assert isinstance(items, list)
    for item in items:
        entry = item.get("set") if isinstance(item, dict) else None
        if not isinstance(entry, dict) or not str(entry.get("name", "")).startswith(prefix):
            continue
        for elem in entry.get("elem", []):
            value = elem["elem"]["val"] if isinstance(elem, dict) and "elem" in elem else elem
            src, dst, proto, sport, dport = value["concat"]
            found.add((str(src), str(dst), str(proto).upper(), int(sport), int(dport)))
    return found


_FLUSH = "".join(f"flush set inet {TABLE} {name}{f}\n"
                 for name in ("seen", "passed") for f in (4, 6))


def forget(netns: str) -> None:
    """Empty the records."""
    _nft(netns, ["-f", "-"], _FLUSH)


def take(netns: str) -> Record:
    """Everything recorded since the last ``take`` or ``forget``, and forget it."""
    listing = json.loads(_nft(netns, ["-j", "list", "table", "inet", TABLE]))
    forget(netns)
    return Record(frozenset(_elements(listing, "seen")), frozenset(_elements(listing, "passed")))


@contextlib.contextmanager
def exclusive(state_dir: Path) -> Iterator[None]:
    """One prober at a time per lab: each empties the records it reads."""
    state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    with open(state_dir / "probe.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield
