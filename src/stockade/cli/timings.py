"""Where a run's time and memory go, stage by stage, for the scale benchmark.

With ``STOCKADE_TIMINGS=1`` in the environment, a command reports on stderr, as its last
line, ``stockade-timings: {"read": {"wall": s, "cpu": s, "peak_mib": m}, ...}``: each stage's
wall and CPU seconds (user plus system) and the process's peak resident memory when the
stage ended. Without it nothing is measured or written.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import sys
import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")
ENABLED = bool(os.environ.get("STOCKADE_TIMINGS"))
_stages: dict[str, dict[str, float]] = {}


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def add(name: str, wall: float, cpu: float) -> None:
    entry = _stages.setdefault(name, {"wall": 0.0, "cpu": 0.0})
    entry["wall"] += wall
    entry["cpu"] += cpu
    entry["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextlib.contextmanager
def stage(name: str) -> Iterator[None]:
    if not ENABLED:
        yield
        return
    wall, cpu = time.perf_counter(), _cpu()
    try:
        yield
    finally:
        add(name, time.perf_counter() - wall, _cpu() - cpu)


def timed(name: str, items: Iterable[T]) -> Iterator[T]:
    """``items``, the time spent producing them counted as stage ``name`` (the consumer's
    own time between items is not)."""
    if not ENABLED:
        yield from items
        return
    source = iter(items)
    while True:
        wall, cpu = time.perf_counter(), _cpu()
        try:
            item = next(source)
        except StopIteration:
            add(name, time.perf_counter() - wall, _cpu() - cpu)
            return
        add(name, time.perf_counter() - wall, _cpu() - cpu)
        yield item


def spent(name: str) -> float:
    """The wall seconds stage ``name`` has taken so far (0 before it first ends)."""
    return _stages.get(name, {}).get("wall", 0.0)


def report() -> None:
    if ENABLED and _stages:
        print("stockade-timings: " + json.dumps(_stages), file=sys.stderr)
