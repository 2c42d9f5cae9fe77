"""What a node's table does, with chain and set names taken out: for each address in a
verdict map, the rules its chain runs with every set named replaced by that set's content.
Two tables that do the same agree here whatever they call their groups."""

from __future__ import annotations

import re
from typing import Any

from stockade.nft.ir import Table
from stockade.nft.listing import from_table

_SET = re.compile(r"@([A-Za-z0-9_]+)")


def semantics(table: Table) -> dict[str, Any]:
    content = from_table(table)
    chains = {c.name: c for c in table.chains}

    def rules(chain: str) -> tuple[str, ...]:
        return tuple(_SET.sub(lambda m: repr(sorted(content.sets[m.group(1)])), r)
                     for r in chains[chain].rules)

    found: dict[str, Any] = {}
    for nft_set in table.sets:
        if nft_set.verdict:
            for element in nft_set.elements:
                address, _, verdict = element.partition(" : ")
                found[f"{nft_set.name} {address}"] = rules(verdict.removeprefix("jump "))
        elif not re.fullmatch(r"(egress|ingress)_\d+_v[46]", nft_set.name):
            found[f"set {nft_set.name}"] = content.sets[nft_set.name]
    found["forward"] = chains["forward"].rules
    return found
