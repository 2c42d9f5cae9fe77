"""How long ``matrix``'s preparation waits for the second process's result and takes it
(``cli.handback``): copied out of the child's memory with ``process_vm_readv``, against
written by the child into a file and read back (the way taken where the kernel refuses the
copy, and the only way before 2 December 2026), in turns on one loaded cluster.

``.venv/bin/python -m benchmarks.handback DIR [--rounds N]`` reads the cluster in ``DIR``
once and builds its engine, then runs the preparation of the matrix's rows in two
processes (``matrix_cmd._prepare``) ``N`` times each way, alternating which way goes
first. For each way it prints the median and the least of: the time this process spent
once its own share was done, waiting for the child's result and taking it (the
``handback`` stage of ``STOCKADE_TIMINGS``), and the whole preparation's wall time. The
waiting depends on which process ends its share first; the preparation's wall time also
moves with the machine, which a shared VM's does by a fifth within minutes.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

if not __package__:  # run as a script: make the ``benchmarks`` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stockade.cli import common, forked, handback, matrix_cmd, timings
from stockade.cli.main import build_parser
from stockade.engine import Engine
from stockade.engine.matrix import ClassRows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.handback",
                                     description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("directory", type=Path, help="a cluster's manifests")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)

    cluster = common.load(build_parser().parse_args(
        ["matrix", str(args.directory), "-o", "json"])).cluster
    with common.bulk_allocation():
        engine = Engine(cluster)
    measuring, pulling = timings.ENABLED, handback.process_vm_readv
    timings.ENABLED = True  # the ``handback`` stage is measured from here on
    ways: dict[str, Callable[[], handback.Readv | None]] = {
        "pulled": pulling, "written": lambda: None}
    waits: dict[str, list[float]] = {way: [] for way in ways}
    walls: dict[str, list[float]] = {way: [] for way in ways}
    try:
        for turn in range(args.rounds):
            for way in (list(ways) if turn % 2 == 0 else list(ways)[::-1]):
                handback.process_vm_readv = ways[way]  # type: ignore[assignment]
                rows = ClassRows(engine)
                waited = timings.spent("handback")
                start = time.perf_counter()
                matrix_cmd._prepare(rows, 2)
                walls[way].append(time.perf_counter() - start)
                waits[way].append(timings.spent("handback") - waited)
                del rows
                forked.reap_ended()
                print(f"{way}: waited and took {waits[way][-1]:.2f} s, prepared in "
                      f"{walls[way][-1]:.2f} s", file=sys.stderr)
    finally:
        handback.process_vm_readv = pulling
        timings.ENABLED = measuring
    for way in ways:
        print(f"{way}: after its share, this process waited and took the result in "
              f"{statistics.median(waits[way]):.2f} s (median; least "
              f"{min(waits[way]):.2f} s); the preparation took "
              f"{statistics.median(walls[way]):.2f} s (median; least {min(walls[way]):.2f} s)"
              f" over {args.rounds} runs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
