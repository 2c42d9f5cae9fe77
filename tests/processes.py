"""The child processes of the test's own process, from /proc (for tests of forked work)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def children(*, zombies: bool = False) -> set[int]:
    """This process's children that still run; with ``zombies``, also those that ended
    and were not waited for."""
    me = str(os.getpid())
    out: set[int] = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if fields[1] == me and (zombies or fields[0] != "Z"):
                    out.add(int(entry.name))
    return out
