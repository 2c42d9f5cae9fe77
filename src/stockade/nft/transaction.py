"""A change to a loaded table as data that prints as one ``nft -f`` script.

``nft -f`` runs a whole script as one transaction: the kernel applies all of it or none, and
no packet sees a state in between. Commands are kept in the order the kernel needs them —
new sets and chains first, element deletions before additions (interval sets refuse
overlapping elements), chains rewritten once everything they name exists, and what is no
longer needed removed last, each after what refers to it (chains going are emptied first,
then verdict maps, which jump to chains, then chains, then the sets they named). Pure.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from stockade.nft.ir import Chain, NftSet

# Elements per ``add element`` / ``delete element`` command: nft parses a long command as
# fast as several short ones, and short ones keep an error message readable.
CHUNK = 1000


def _set_head(nft_set: NftSet) -> str:
    flags = " flags interval;" if nft_set.interval else ""
    return f"{{ type {nft_set.key_type};{flags} }}"


def _key(element: str, nft_set: NftSet | None) -> str:
    """What ``delete element`` names: a verdict map's element by its key alone."""
    if nft_set is not None and nft_set.verdict:
        return element.split(" : ", 1)[0]
    return element


@dataclass(slots=True)
class Transaction:
    """Commands against ``table``, grouped by the phase they must run in."""

    table: str
    family: str = "inet"
    _create: list[str] = field(default_factory=list)
    _delete_elements: list[str] = field(default_factory=list)
    _add_elements: list[str] = field(default_factory=list)
    _chains: list[str] = field(default_factory=list)
    _forward: list[str] = field(default_factory=list)
    _flush: list[str] = field(default_factory=list)  # chains about to go: their rules name maps
    _remove_maps: list[str] = field(default_factory=list)  # they jump to chains
    _remove_chains: list[str] = field(default_factory=list)  # they name sets
    _remove_sets: list[str] = field(default_factory=list)
    added: int = 0  # elements added
    deleted: int = 0  # elements deleted
    replace: str = ""  # a whole-table script instead of the commands (a first load)

    @property
    def _where(self) -> str:
        return f"{self.family} {self.table}"

    def __bool__(self) -> bool:
        return bool(self.replace or self._create or self._delete_elements or self._add_elements
                    or self._chains or self._forward or self._flush or self._remove_maps
                    or self._remove_chains or self._remove_sets)

    @property
    def touched(self) -> int:
        """Set elements added plus elements deleted."""
        return self.added + self.deleted

    def add_set(self, nft_set: NftSet) -> None:
        kind = "map" if nft_set.verdict else "set"
        self._create.append(f"add {kind} {self._where} {nft_set.name} {_set_head(nft_set)}")
        self.add_elements(nft_set.name, nft_set.elements)

    def delete_set(self, nft_set: NftSet) -> None:
        kind = "map" if nft_set.verdict else "set"
        removal = self._remove_maps if nft_set.verdict else self._remove_sets
        removal.append(f"delete {kind} {self._where} {nft_set.name}")

    def add_elements(self, name: str, elements: tuple[str, ...] | list[str]) -> None:
        for start in range(0, len(elements), CHUNK):
            chunk = ", ".join(elements[start:start + CHUNK])
            self._add_elements.append(f"add element {self._where} {name} {{ {chunk} }}")
        self.added += len(elements)

    def delete_elements(self, name: str, elements: tuple[str, ...] | list[str],
                        nft_set: NftSet | None = None) -> None:
        keys = [_key(e, nft_set) for e in elements]
        for start in range(0, len(keys), CHUNK):
            chunk = ", ".join(keys[start:start + CHUNK])
            self._delete_elements.append(f"delete element {self._where} {name} {{ {chunk} }}")
        self.deleted += len(elements)

    def add_chain(self, chain: Chain) -> None:
        """A new regular chain and its rules."""
        self._create.append(f"add chain {self._where} {chain.name}")
        self._chains += [f"add rule {self._where} {chain.name} {rule}" for rule in chain.rules]

    def rewrite_chain(self, chain: Chain) -> None:
        """Replace a chain's rules (the forward base chain last of all)."""
        lines = [f"flush chain {self._where} {chain.name}",
                 *(f"add rule {self._where} {chain.name} {rule}" for rule in chain.rules)]
        if chain.hook:
            self._forward += lines
        else:
            self._chains += lines

    def delete_chain(self, name: str) -> None:
        """Remove a regular chain: its rules first (a tier's chain names a verdict map that
        jumps to a chain that goes too), then, after the maps, the chain."""
        self._flush.append(f"flush chain {self._where} {name}")
        self._remove_chains.append(f"delete chain {self._where} {name}")

    def render(self) -> str:
        if self.replace:
            return self.replace
        lines = [*self._create, *self._delete_elements, *self._add_elements, *self._chains,
                 *self._forward, *self._flush, *self._remove_maps, *self._remove_chains,
                 *self._remove_sets]
        return "\n".join(lines) + ("\n" if lines else "")
