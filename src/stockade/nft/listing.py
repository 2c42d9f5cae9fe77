"""A table's content as plain values, from the IR or read back from the kernel
(``nft -j list table``), so that what is loaded can be compared with what should be.

nft prints an element its own way (a range that is a prefix comes back as ``10.0.0.0/24``,
a verdict as JSON), so both sides are brought to one form: every address, port or range an
inclusive pair of integers, protocols and verdicts as words. A chain is compared by its
number of rules. Pure: JSON in, values out.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from stockade.nft.ir import Table

Part = tuple[int, int, int] | str  # (family or 0 for a port, first, last) or a word
Element = tuple[Part, ...]
_PROTOCOLS = {"tcp", "udp", "sctp"}


@dataclass(frozen=True, slots=True)
class Content:
    sets: Mapping[str, frozenset[Element]]
    chains: Mapping[str, int]  # chain -> number of rules

    @property
    def elements(self) -> int:
        return sum(len(e) for e in self.sets.values())


def _address(text: str) -> tuple[int, int, int]:
    if "/" in text:
        net = ipaddress.ip_network(text, strict=False)
        return net.version, int(net.network_address), int(net.broadcast_address)
    lo, _, hi = text.partition("-")
    first = ipaddress.ip_address(lo)
    last = ipaddress.ip_address(hi) if hi else first
    return first.version, int(first), int(last)


def _text_part(text: str) -> Part:
    if text in _PROTOCOLS:
        return text
    if text.replace("-", "").isdigit():
        lo, _, hi = text.partition("-")
        return 0, int(lo), int(hi or lo)
    return _address(text)


def _text_element(text: str) -> Element:
    key, sep, verdict = text.partition(" : ")
    parts = tuple(_text_part(p.strip()) for p in key.split(" . "))
    return (*parts, verdict.strip()) if sep else parts


def from_table(table: Table) -> Content:
    sets = {s.name: frozenset(_text_element(e) for e in s.elements) for s in table.sets}
    return Content(sets, {c.name: len(c.rules) for c in table.chains})


def _json_part(value: Any) -> Part:
    if isinstance(value, int):
        return 0, value, value
    if isinstance(value, str):
        return value if value in _PROTOCOLS else _address(value)
    if isinstance(value, dict) and "prefix" in value:
        prefix = value["prefix"]
        return _address(f"{prefix['addr']}/{prefix['len']}")
    if isinstance(value, dict) and "range" in value:
        lo, hi = value["range"]
        if isinstance(lo, int):
            return 0, lo, hi
        first, last = _address(str(lo)), _address(str(hi))
        return first[0], first[1], last[2]
    raise ValueError(f"unexpected set element part {value!r}")


def _json_key(value: Any) -> Element:
    if isinstance(value, dict) and "concat" in value:
        return tuple(_json_part(v) for v in value["concat"])
    if isinstance(value, dict) and "elem" in value:  # an element with options (timeouts)
        return _json_key(value["elem"]["val"])
    return (_json_part(value),)


def _verdict(value: Any) -> str:
    if isinstance(value, dict):
        for kind in ("jump", "goto"):
            if kind in value:
                return f"{kind} {value[kind]['target']}"
        return " ".join(value)
    return str(value)


def _json_element(value: Any) -> Element:
    if isinstance(value, list) and len(value) == 2:  # a map entry: [key, verdict]
        return (*_json_key(value[0]), _verdict(value[1]))
    return _json_key(value)


def from_json(listing: Mapping[str, Any]) -> Content:
    """The content of one table as ``nft -j list table`` prints it."""
    sets: dict[str, frozenset[Element]] = {}
    chains: dict[str, int] = {}
    items: Iterable[Any] = listing.get("nftables", [])
    for item in items:
        if not isinstance(item, dict):
            continue
        for kind in ("set", "map"):
            if kind in item:
                entry = item[kind]
                sets[entry["name"]] = frozenset(_json_element(e) for e in entry.get("elem", []))
        if "chain" in item:
            chains.setdefault(item["chain"]["name"], 0)
        if "rule" in item:
            name = item["rule"]["chain"]
            chains[name] = chains.get(name, 0) + 1
    return Content(sets, chains)


def differences(want: Content, have: Content) -> list[str]:
    """What differs between the table meant (``want``) and the one loaded (``have``)."""
    found: list[str] = []
    for name in sorted(set(want.sets) | set(have.sets)):
        if name not in have.sets:
            found.append(f"set {name} is missing")
        elif name not in want.sets:
            found.append(f"set {name} should not be there")
        elif want.sets[name] != have.sets[name]:
            missing = len(want.sets[name] - have.sets[name])
            extra = len(have.sets[name] - want.sets[name])
            found.append(f"set {name}: {missing} elements missing, {extra} extra")
    for name in sorted(set(want.chains) | set(have.chains)):
        if want.chains.get(name) != have.chains.get(name):
            found.append(f"chain {name}: {have.chains.get(name, 'no')} rules, "
                         f"{want.chains.get(name, 'none')} expected")
    return found
