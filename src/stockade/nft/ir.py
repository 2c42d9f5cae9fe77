"""The nftables ruleset as data: one table of sets, verdict maps and chains.

The compiler builds these values and ``render`` prints them; keeping the ruleset as data lets
tests inspect it (and print it as JSON) without parsing nft syntax. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class NftSet:
    """A named set (``verdict`` empty) or verdict map (``verdict`` true).

    ``key_type`` is nft's type expression (``ipv4_addr . inet_proto . inet_service``);
    ``elements`` are already in nft syntax (``10.0.0.1-10.0.0.9 . tcp . 80``, or for a map
    ``10.0.0.5 : jump ingress_0``).
    """

    name: str
    key_type: str
    elements: tuple[str, ...]
    interval: bool = False
    verdict: bool = False
    comment: str = ""


@dataclass(frozen=True, slots=True)
class Chain:
    """A chain: a base chain when ``hook`` is set (``forward``), else a regular one."""

    name: str
    rules: tuple[str, ...]
    hook: str = ""
    priority: str = "filter"
    policy: str = "accept"
    comment: str = ""


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    family: str
    sets: tuple[NftSet, ...]
    chains: tuple[Chain, ...]
    comments: tuple[str, ...] = ()  # printed above the table: what was left out and why

    @property
    def element_count(self) -> int:
        return sum(len(s.elements) for s in self.sets)
