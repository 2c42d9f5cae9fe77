"""Enforcement with nftables: a ruleset IR, the pure compiler from resolved policies to it,
its text rendering, and ``apply``, the one module here that runs ``nft``.
"""

from __future__ import annotations

from stockade.nft.compile import CompileResult, compile_engine, compile_ruleset
from stockade.nft.ir import Chain, NftSet, Table
from stockade.nft.render import render_json, render_replace, render_table

__all__ = [
    "Chain",
    "CompileResult",
    "NftSet",
    "Table",
    "compile_engine",
    "compile_ruleset",
    "render_json",
    "render_replace",
    "render_table",
]
