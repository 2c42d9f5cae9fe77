"""Enforcement with nftables: a ruleset IR, the pure compiler from resolved policies to it,
its text rendering, and ``apply``, the one module here that runs ``nft``.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "CompileResult": "compile", "compile_engine": "compile", "compile_ruleset": "compile",
    "Chain": "ir", "NftSet": "ir", "Table": "ir",
    "render_json": "render", "render_replace": "render", "render_table": "render",
}


def __getattr__(name: str) -> Any:
    """Load the compiler only when asked: the CLI imports ``stockade.nft.names`` at start-up."""
    if name in _EXPORTS:
        return getattr(import_module(f"stockade.nft.{_EXPORTS[name]}"), name)
    raise AttributeError(name)

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
