"""Terminal styling: colour only when writing to a terminal and ``NO_COLOR`` is unset (the
caller reads the environment; this module stays pure)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO


class Style:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    @classmethod
    def for_stream(cls, stream: IO[str], environ: Mapping[str, str]) -> Style:
        isatty = getattr(stream, "isatty", None)
        return cls(bool(isatty and isatty()) and "NO_COLOR" not in environ)

    def _wrap(self, code: str, text: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.enabled else text

    def good(self, text: str) -> str:
        return self._wrap("32", text)

    def bad(self, text: str) -> str:
        return self._wrap("31;1", text)

    def bold(self, text: str) -> str:
        return self._wrap("1", text)
