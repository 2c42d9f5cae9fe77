"""What a node's table does, with chain and set names taken out: for each address in a
verdict map, the rules its chain runs with every set named replaced by that set's content
and every chain a rule or a verdict-map element goes to replaced by that chain's rules (a
group's shared tier stages, the ingress check). Two tables that do the same agree here
whatever they call their groups and stages."""

from __future__ import annotations

import functools
import re
from typing import Any

from stockade.nft.ir import Table
from stockade.nft.listing import Element, from_table

_SET = re.compile(r"@([A-Za-z0-9_]+)")
_GO = re.compile(r"\b(goto|jump) ([A-Za-z0-9_]+)")
_GROUP_SET = re.compile(r"(egress|ingress)_((admin|baseline)_)?\d+_v[46]")


def semantics(table: Table) -> dict[str, Any]:
    content = from_table(table)
    chains = {c.name: c for c in table.chains}

    def element(e: Element) -> Any:
        last = e[-1] if e else None
        if isinstance(last, str) and (m := _GO.fullmatch(last)) is not None:
            return (*e[:-1], (m.group(1), rules(m.group(2))))
        return e

    @functools.cache
    def contents(name: str) -> str:
        return repr(sorted(repr(element(e)) for e in content.sets[name]))

    @functools.cache
    def rules(chain: str) -> tuple[str, ...]:
        out = []
        for rule in chains[chain].rules:
            named = _SET.sub(lambda m: contents(m.group(1)), rule)
            out.append(_GO.sub(lambda m: f"{m.group(1)} {rules(m.group(2))!r}", named))
        return tuple(out)

    found: dict[str, Any] = {}
    for nft_set in table.sets:
        if nft_set.verdict and not nft_set.interval:
            for text in nft_set.elements:
                address, _, verdict = text.partition(" : ")
                found[f"{nft_set.name} {address}"] = rules(verdict.removeprefix("jump "))
        elif not _GROUP_SET.fullmatch(nft_set.name):
            found[f"set {nft_set.name}"] = content.sets[nft_set.name]
    found["forward"] = chains["forward"].rules
    return found
