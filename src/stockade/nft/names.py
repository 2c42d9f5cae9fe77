"""Which nftables table names stockade accepts: nft identifiers, checked before nft sees them."""

from __future__ import annotations

import re

from stockade.errors import UsageError

DEFAULT_TABLE = "stockade"

_TABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,63}")


def check_table_name(name: str) -> str:
    if not _TABLE_NAME.fullmatch(name):
        raise UsageError(f'table name "{name}": must start with a letter or "_" and contain '
                         'only letters, digits, "_" and "-" (at most 64 characters)')
    return name
