"""A progress line on stderr for long runs: shown only on a terminal, and only once a run has
taken more than a second, so that quick runs and pipes stay quiet."""

from __future__ import annotations

import time
from typing import IO


def _tty(stream: IO[str]) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class Progress:
    def __init__(self, stream: IO[str], label: str, *, delay: float = 1.0,
                 output: IO[str] | None = None) -> None:
        """``output``: where the results go; when that is the same terminal, the results
        themselves show progress and this line would only garble them."""
        self.enabled = _tty(stream) and not (output is not None and _tty(output))
        self.stream = stream
        self.label = label
        self.start = time.monotonic()
        self.delay = delay
        self.shown = False

    def __call__(self, fraction: float) -> None:
        if not self.enabled or time.monotonic() - self.start < self.delay:
            return
        self.stream.write(f"\r{self.label} {fraction:4.0%}")
        self.stream.flush()
        self.shown = True

    def done(self) -> None:
        if self.shown:
            self.stream.write("\r" + " " * (len(self.label) + 6) + "\r")
            self.stream.flush()
