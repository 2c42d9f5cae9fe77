"""Rows made by forked processes: the bytes are those of one process, whatever the number of
processes, and the answer agrees with the reference evaluator pair by pair."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from benchmarks.generate import Params, generate, write
from benchmarks.reference import ReferenceCluster
from benchmarks.run import check, read_matrix, sample_pairs

from stockade.cli import forked

ROOT = Path(__file__).resolve().parents[2]


def _numbers(start: int, stop: int) -> Iterator[bytes]:
    for i in range(start, stop):
        yield b"%d " % (i * i)


@pytest.mark.parametrize(("n", "workers"), [(0, 2), (1, 2), (7, 2), (100, 3), (100, 1),
                                            (5, 5)])
def test_parts_come_back_in_order(n: int, workers: int) -> None:
    whole = b"".join(_numbers(0, n))
    assert b"".join(forked.forked_parts(_numbers, n, workers)) == whole


def _slow_numbers(start: int, stop: int) -> Iterator[bytes]:
    time.sleep(0.01)
    return _numbers(start, stop)


@pytest.mark.parametrize("workers", [2, 3])
def test_pieces_copied_into_a_file_come_in_order(tmp_path: Path, workers: int) -> None:
    """The children's pieces go straight into the sink file, after what was yielded."""
    n = 5000
    shares: list[float] = []
    with (tmp_path / "out").open("wb") as sink:
        sink.write(b"head ")
        for block in forked.forked_parts(_slow_numbers, n, workers, sink, shares.append):
            sink.write(block)
        sink.write(b"tail")
    assert (tmp_path / "out").read_bytes() == b"head " + b"".join(_numbers(0, n)) + b"tail"
    assert shares == sorted(shares)
    assert 0 < len(shares) < workers * forked.PIECES_PER_WORKER  # the children took pieces


def test_split_covers_every_position_once() -> None:
    for n in (0, 1, 9, 10, 1001):
        for parts in (1, 2, 3, 7):
            ranges = forked.split(n, parts)
            assert len(ranges) == parts
            assert [i for a, b in ranges for i in range(a, b)] == list(range(n))


def test_a_failing_part_fails_the_whole(capfd: pytest.CaptureFixture[str]) -> None:
    parent = os.getpid()

    def produce(start: int, stop: int) -> Iterator[bytes]:
        if os.getpid() != parent:  # every piece a child takes fails
            raise RuntimeError("broken part")
        time.sleep(0.05)  # leaves the child time to take a piece
        yield b"%d" % start

    with pytest.raises(forked.WorkerFailed, match="making rows"):
        list(forked.forked_parts(produce, 10, 2))
    assert "broken part" in capfd.readouterr().err


def test_workers_wanted_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STOCKADE_WORKERS", "3")
    assert forked.workers_wanted(100) == 3
    assert forked.workers_wanted(2) == 2
    monkeypatch.setenv("STOCKADE_WORKERS", "1")
    assert forked.workers_wanted(10**6) == 1
    monkeypatch.delenv("STOCKADE_WORKERS")
    assert forked.workers_wanted(10) == 1  # too few rows to be worth a process


def _matrix(directory: Path, workers: int) -> bytes:
    env = {**os.environ, "STOCKADE_WORKERS": str(workers)}
    return subprocess.run([sys.executable, "-m", "stockade", "matrix", str(directory), "-o",
                           "json"], env=env, check=True, capture_output=True).stdout


@pytest.mark.parametrize("workloads", [False, True])
def test_forked_matrix_is_the_single_process_one_and_the_references(
        tmp_path: Path, workloads: bool) -> None:
    directory = tmp_path / "cluster"
    files = generate(Params(pods=400, namespaces=12, policies=130, seed=11,
                            workloads=workloads))
    write(files, directory)
    single = _matrix(directory, 1)
    answer = json.loads(single)
    assert any(isinstance(row, int) for row in answer["matrix"])  # rows by reference
    assert any(len(g["pods"]) == 1 for g in answer["groups"])  # single-pod classes
    for workers in (2, 3):
        assert _matrix(directory, workers) == single
    ref = ReferenceCluster.from_dicts([d for docs in files.values() for d in docs])
    assert check(ref, read_matrix(answer), sample_pairs(ref, 3000, seed=4)) == []
