"""Run an ``nft -f`` script: the one place in ``stockade.nft`` that starts a process.

``NftRunner`` loads a script, optionally inside a named network namespace (the lab's node)
and optionally in check mode (``nft -c``: parse and validate against the kernel, commit
nothing). Failures raise ``CommandFailed`` carrying nft's stderr.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from stockade.errors import CommandFailed, EnvironmentProblem


@dataclass(frozen=True, slots=True)
class NftRunner:
    netns: str = ""  # run inside this named network namespace ("" = the caller's)
    binary: str = "nft"

    def argv(self, *, check: bool = False) -> list[str]:
        nft = ["nft", "-c", "-f", "-"] if check else ["nft", "-f", "-"]
        nft[0] = self.binary
        return ["ip", "netns", "exec", self.netns, *nft] if self.netns else nft

    def run(self, script: str, *, check: bool = False) -> None:
        argv = self.argv(check=check)
        if shutil.which(argv[0]) is None:
            raise EnvironmentProblem(f"{argv[0]} not found: install nftables and iproute2")
        done = subprocess.run(argv, input=script, text=True, capture_output=True, check=False)
        if done.returncode != 0:
            raise CommandFailed(argv, done.returncode, done.stderr)

    def list_table(self, name: str, family: str = "inet") -> dict[str, Any] | None:
        """``nft -j list table``: the loaded table as nft's JSON (``None``: no such table)."""
        argv = [*self._prefix(), self.binary, "-j", "list", "table", family, name]
        done = subprocess.run(argv, text=True, capture_output=True, check=False)
        if done.returncode != 0:
            if "No such file or directory" in done.stderr:
                return None
            raise CommandFailed(argv, done.returncode, done.stderr)
        data = json.loads(done.stdout)
        return data if isinstance(data, dict) else None

    def delete_table(self, name: str, family: str = "inet") -> bool:
        """Remove a table; whether there was one."""
        argv = [*self._prefix(), self.binary, "delete", "table", family, name]
        done = subprocess.run(argv, text=True, capture_output=True, check=False)
        if done.returncode != 0:
            if "No such file or directory" in done.stderr:
                return False
            raise CommandFailed(argv, done.returncode, done.stderr)
        return True

    def _prefix(self) -> list[str]:
        return ["ip", "netns", "exec", self.netns] if self.netns else []

    def list_tables(self) -> Sequence[str]:
        argv = (["ip", "netns", "exec", self.netns] if self.netns else []) + [
            self.binary, "list", "tables"]
        done = subprocess.run(argv, text=True, capture_output=True, check=False)
        if done.returncode != 0:
            raise CommandFailed(argv, done.returncode, done.stderr)
        return [line.strip() for line in done.stdout.splitlines() if line.strip()]
