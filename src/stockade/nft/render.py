"""Print a ruleset IR as an ``nft -f`` script, or as JSON for tools.

``render_replace`` is the atomic update: one file that creates the table if missing,
deletes it and defines it anew. ``nft -f`` runs a file as one transaction, so the kernel
switches from the old table to the new one with no moment in between (and works on nft
1.0.6, which has no ``destroy``). Pure.
"""

from __future__ import annotations

from typing import Any

from stockade.nft.ir import Chain, NftSet, Table
from stockade.render.escape import escape


def _quote(text: str) -> str:
    """A comment line's text: no character of a name can end the line or reach the
    terminal that shows the script as a control sequence."""
    return escape(text.replace("\\", "")).replace('"', "'")


def _set_lines(nft_set: NftSet) -> list[str]:
    kind = "map" if nft_set.verdict else "set"
    lines = [f"\t{kind} {nft_set.name} {{", f"\t\ttype {nft_set.key_type}"]
    if nft_set.interval:
        lines.append("\t\tflags interval")
    if nft_set.elements:
        lines.append("\t\telements = {")
        lines += [f"\t\t\t{e}," for e in nft_set.elements]
        lines.append("\t\t}")
    lines.append("\t}")
    return lines


def _chain_lines(chain: Chain) -> list[str]:
    lines = [f"\t# {_quote(chain.comment)}"] if chain.comment else []
    lines.append(f"\tchain {chain.name} {{")
    if chain.hook:
        lines.append(f"\t\ttype filter hook {chain.hook} priority {chain.priority}; "
                     f"policy {chain.policy};")
    lines += [f"\t\t{rule}" for rule in chain.rules]
    lines.append("\t}")
    return lines


def render_table(table: Table) -> str:
    lines = [f"# {_quote(c)}" for c in table.comments]
    lines.append(f"table {table.family} {table.name} {{")
    for nft_set in table.sets:
        lines += _set_lines(nft_set)
    for chain in table.chains:
        lines += _chain_lines(chain)
    lines.append("}")
    return "\n".join(lines) + "\n"


def render_replace(table: Table) -> str:
    """The whole-table replacement transaction for ``nft -f``."""
    head = f"table {table.family} {table.name} {{}}\ndelete table {table.family} {table.name}\n"
    return head + render_table(table)


def render_json(table: Table) -> dict[str, Any]:
    """The IR as plain data: what ``stockade compile -o json`` prints."""
    return {
        "table": {"family": table.family, "name": table.name},
        "notes": list(table.comments),
        "sets": [
            {"name": s.name, "type": s.key_type, "map": s.verdict, "interval": s.interval,
             "elements": list(s.elements)}
            for s in table.sets
        ],
        "chains": [
            {"name": c.name, "hook": c.hook or None, "comment": c.comment,
             "rules": list(c.rules)}
            for c in table.chains
        ],
    }
