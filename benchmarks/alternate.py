"""One stockade command, the code of a base revision against this checkout's, run in turns.

``.venv/bin/python -m benchmarks.alternate --base REV [--rounds N] -- ARGS...`` checks REV
out into a temporary git worktree, byte-compiles both trees, then runs ``stockade ARGS``
(the virtual environment's console script) ``N`` times with each tree's ``src`` first on
``PYTHONPATH``, alternating which goes first in each round, so that a machine whose speed
drifts (a shared VM's does, by a third within an hour) slows both alike. It prints each
side's minimum and median wall time and whether both wrote the same bytes to stdout, and
removes the worktree. Start-up dominates a small run: timing one side and then the other a
minute later says more about the machine than about the change.
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import hashlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


@dataclass(slots=True)
class Side:
    """One tree's runs: its ``src`` directory, wall seconds and the digests of its output."""

    label: str
    src: Path
    walls: list[float] = field(default_factory=list)
    digests: set[str] = field(default_factory=set)

    def summary(self) -> str:
        return (f"{self.label}: min {min(self.walls) * 1000:.1f} ms, median "
                f"{statistics.median(self.walls) * 1000:.1f} ms over {len(self.walls)} runs")


@contextlib.contextmanager
def worktree(revision: str) -> Iterator[Path]:
    """``revision`` checked out (detached) in a temporary directory, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="stockade-base-") as parent:
        path = Path(parent) / "tree"
        subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--quiet", "--detach",
                        str(path), revision], check=True)
        try:
            yield path
        finally:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force",
                            str(path)], check=False)


def run_once(side: Side, command: Sequence[str]) -> None:
    """One run of ``command`` with ``side``'s code: its wall time and output digest."""
    env = {**os.environ, "PYTHONPATH": str(side.src)}
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        done = subprocess.run(command, stdout=out, stderr=subprocess.DEVNULL, env=env,
                              check=False)
        side.walls.append(time.perf_counter() - start)
        if done.returncode not in (0, 1):
            raise SystemExit(f"{side.label}: {' '.join(command)} exited {done.returncode}")
        out.seek(0)
        side.digests.add(hashlib.sha256(out.read()).hexdigest())


def alternate(sides: Sequence[Side], command: Sequence[str], rounds: int) -> None:
    for n in range(rounds):
        for side in (sides if n % 2 == 0 else list(reversed(sides))):
            run_once(side, command)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.alternate",
                                     description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--base", required=True, help="the git revision to compare with")
    parser.add_argument("--rounds", type=int, default=21, help="runs of each side (21)")
    parser.add_argument("args", nargs="+", metavar="ARG", help="stockade's arguments")
    args = parser.parse_args(argv)
    script = Path(sys.executable).with_name("stockade")
    command = [str(script), *args.args] if script.exists() else [
        sys.executable, "-m", "stockade", *args.args]
    with worktree(args.base) as base:
        sides = [Side(f"base {args.base}", base / "src"), Side("this checkout", REPO / "src")]
        for side in sides:  # imports would compile every module on every run otherwise
            compileall.compile_dir(str(side.src), quiet=1, force=True)
        alternate(sides, command, max(1, args.rounds))
    for side in sides:
        print(side.summary())
    base_median, ours = (statistics.median(s.walls) for s in sides)
    print(f"median ratio (base / this checkout): {base_median / ours:.3f}")
    same = len(sides[0].digests | sides[1].digests) == 1
    print("output: the same bytes on every run" if same else
          "output: DIFFERS between the sides or between runs")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
