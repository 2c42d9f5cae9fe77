"""Output made in parts by forked processes, handed back in order: the matrix of a large
cluster uses both cores of a small machine.

``forked_parts(produce, n, workers)`` splits positions ``0 .. n-1`` into ``workers``
consecutive ranges. The first is produced here, as the caller reads it; each other range
by a child process forked at once, which writes what ``produce`` yields to an unlinked
temporary file and exits. The children's files are read back after the first range, in
order, so the caller sees exactly the bytes one process would have made. A child that
fails (an exception, a signal) fails the whole: ``WorkerFailed`` names it.

The children share the parent's memory copy-on-write: the objects made so far are moved
out of the garbage collector's reach first (``gc.freeze``), so that collections in a child
do not touch, and copy, the pages of the whole cluster.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterable, Iterator
from typing import IO

from stockade.errors import EnvironmentProblem

READ_BLOCK = 8 << 20
MIN_PER_WORKER = 2000  # positions below which a part is not worth a process


class WorkerFailed(EnvironmentProblem):
    """A forked part did not complete (killed for memory, say)."""


def workers_wanted(n: int) -> int:
    """How many processes to use for ``n`` positions: ``STOCKADE_WORKERS`` when set (1 turns
    forking off), else the cores this process may run on, at most 2 parts per
    ``MIN_PER_WORKER`` positions."""
    configured = os.environ.get("STOCKADE_WORKERS", "").strip()
    if configured.isdigit() and int(configured) > 0:
        return min(int(configured), max(1, n))
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    return max(1, min(cores, n // MIN_PER_WORKER))


def split(n: int, parts: int) -> list[tuple[int, int]]:
    """``parts`` consecutive ranges covering ``0 .. n-1``, as even as can be."""
    bounds = [n * k // parts for k in range(parts + 1)]
    return [(bounds[k], bounds[k + 1]) for k in range(parts)]


def forked_parts(produce: Callable[[int, int], Iterable[bytes]], n: int,
                 workers: int) -> Iterator[bytes]:
    """What ``produce(start, stop)`` yields for every range, in order; the ranges after the
    first made by child processes forked before this returns."""
    ranges = split(n, max(1, workers))
    children: list[tuple[int, IO[bytes], tuple[int, int]]] = []
    if len(ranges) > 1:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        gc.collect()
        gc.freeze()
        for start, stop in ranges[1:]:
            spool = tempfile.TemporaryFile()  # noqa: SIM115 - closed by _collect
            pid = os.fork()
            if pid == 0:  # the child: its part into the file, then out without cleanup
                os._exit(_child(produce, start, stop, spool))
            children.append((pid, spool, (start, stop)))
    return _collect(produce, ranges[0], children)


def _child(produce: Callable[[int, int], Iterable[bytes]], start: int, stop: int,
           spool: IO[bytes]) -> int:
    try:
        for block in produce(start, stop):
            spool.write(block)
        spool.flush()
        return 0
    except BaseException:  # any failure is reported to the parent as such
        with contextlib.suppress(Exception):
            sys.stderr.write(traceback.format_exc())
            sys.stderr.flush()
        return 1


def _collect(produce: Callable[[int, int], Iterable[bytes]], first: tuple[int, int],
             children: list[tuple[int, IO[bytes], tuple[int, int]]]) -> Iterator[bytes]:
    try:
        yield from produce(*first)
        while children:
            pid, spool, (start, stop) = children.pop(0)
            with spool:
                _, status = os.waitpid(pid, 0)
                if os.waitstatus_to_exitcode(status) != 0:
                    raise WorkerFailed(f"the process making rows {start} to {stop - 1} "
                                       f"failed (status {os.waitstatus_to_exitcode(status)})")
                spool.seek(0)
                while block := spool.read(READ_BLOCK):
                    yield block
    finally:
        for pid, spool, _ in children:  # abandoned (an error, or the reader stopped)
            with contextlib.suppress(OSError):
                os.kill(pid, 9)
                os.waitpid(pid, 0)
            spool.close()
        gc.unfreeze()
