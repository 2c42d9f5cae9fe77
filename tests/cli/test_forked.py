"""Rows made by forked processes: the bytes are those of one process, whatever the number of
processes, and the answer agrees with the reference evaluator pair by pair."""

from __future__ import annotations

import gc
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from benchmarks.generate import Params, generate, write
from benchmarks.reference import ReferenceCluster
from benchmarks.run import check, read_matrix, sample_pairs
from strategies import engine_of

from processes import children
from stockade.cli import forked
from stockade.engine.matrix import PairSets

ROOT = Path(__file__).resolve().parents[2]


def _numbers(start: int, stop: int) -> Iterator[bytes]:
    for i in range(start, stop):
        yield b"%d " % (i * i)


@pytest.mark.parametrize(("n", "workers"), [(0, 2), (1, 2), (7, 2), (100, 3), (100, 1),
                                            (5, 5)])
def test_parts_come_back_in_order(n: int, workers: int) -> None:
    whole = b"".join(_numbers(0, n))
    assert b"".join(forked.forked_parts(_numbers, n, workers)) == whole
    assert children(zombies=True) == set()  # each child waited for once it was read


@pytest.mark.parametrize("workers", [2, 3])
def test_pieces_copied_into_a_file_come_in_order(tmp_path: Path, workers: int) -> None:
    """The children's pieces go straight into the sink file, after what was yielded."""
    n = 5000
    parent = os.getpid()
    child_took, parent_took = tmp_path / "child-took-a-piece", tmp_path / "parent-took-one"

    def produce(start: int, stop: int) -> Iterator[bytes]:
        # Each side waits until the other has taken a piece: both take some.
        mine, theirs = ((parent_took, child_took) if os.getpid() == parent
                        else (child_took, parent_took))
        mine.touch()
        _wait_for(theirs)
        return _numbers(start, stop)

    shares: list[float] = []
    with (tmp_path / "out").open("wb") as sink:
        sink.write(b"head ")
        for block in forked.forked_parts(produce, n, workers, sink, shares.append):
            sink.write(block)
        sink.write(b"tail")
    assert (tmp_path / "out").read_bytes() == b"head " + b"".join(_numbers(0, n)) + b"tail"
    assert shares == sorted(shares)
    assert 0 < len(shares) < workers * forked.PIECES_PER_WORKER  # the children took pieces


@pytest.mark.parametrize("workers", [2, 3])
@pytest.mark.parametrize(("held_bytes", "sendfile"), [(0, True), (40, True), (1 << 20, True),
                                                      (0, False), (40, False)])
def test_pieces_made_before_their_turn_are_written_in_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int,
        held_bytes: int, sendfile: bool) -> None:
    """The first piece is made last: every other piece is made before its turn, held by
    the process that made it (in memory up to ``HELD_BYTES``, the rest in its spool: all
    of it, part of it, none of it) and written by that process when its turn comes (its
    spooled part copied by the kernel, or read back where that cannot be)."""
    monkeypatch.setattr(forked, "HELD_BYTES", held_bytes)  # the children inherit it
    if not sendfile:
        monkeypatch.setattr(forked, "_send", lambda *_: False)
    n = 3000
    pieces = forked.split(n, workers * forked.PIECES_PER_WORKER)
    made = tmp_path / "every-other-piece-made"
    makers = tmp_path / "makers"
    makers.mkdir()

    def produce(start: int, stop: int) -> Iterator[bytes]:
        if start == 0:
            _wait_for_count(made, len(pieces) - 1)
        blocks = list(_numbers(start, stop))
        (makers / f"{start}-{os.getpid()}").touch()
        if start:
            with made.open("a") as marks:
                marks.write("+")
        return iter(blocks)

    with (tmp_path / "out").open("wb") as sink:
        sink.write(b"head ")
        for block in forked.forked_parts(produce, n, workers, sink):
            sink.write(block)
        sink.write(b"tail")
    assert (tmp_path / "out").read_bytes() == b"head " + b"".join(_numbers(0, n)) + b"tail"
    assert len({path.name.split("-")[1] for path in makers.iterdir()}) >= 2  # both made some
    assert children(zombies=True) == set()


def test_a_piece_spooled_after_another_was_read_back_is_kept_whole(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pieces 1 and 3 spooled; 1 written when its turn comes, read back from the spool
    (where the kernel cannot copy it); then 2 spooled: it must not land on 3."""
    monkeypatch.setattr(forked, "HELD_BYTES", 0)
    board = forked.Board(4)
    try:
        with (tmp_path / "spool").open("w+b") as spool:
            held = forked._Held(spool)
            held.keep(1, [b"one-" * 3])
            held.keep(3, [b"three-" * 2])
            board.written(-1)
            board.written(0)
            written = []
            for piece, blocks, offset, length in held.due(board):
                written.append((piece, b"".join(blocks)
                                + b"".join(forked._spooled(spool, offset, length))))
                board.written(piece)
            held.keep(2, [b"two-" * 3])
            for piece, blocks, offset, length in held.due(board):
                written.append((piece, b"".join(blocks)
                                + b"".join(forked._spooled(spool, offset, length))))
                board.written(piece)
    finally:
        board.close()
    assert written == [(1, b"one-" * 3), (2, b"two-" * 3), (3, b"three-" * 2)]


def _wait_for_count(marks: Path, count: int) -> None:
    """Until ``marks`` holds ``count`` characters (bounded: a minute)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (
            not marks.exists() or len(marks.read_text()) < count):
        time.sleep(0.01)


def test_pieces_written_in_turn_go_into_a_pipe_in_order() -> None:
    """A pipe as the output: the children write into it too, in turn."""
    import threading

    n = 20000
    reading, writing = os.pipe()
    got: list[bytes] = []
    with open(reading, "rb") as source:
        drain = threading.Thread(target=lambda: got.append(source.read()))
        drain.start()
        with open(writing, "wb") as sink:
            for block in forked.forked_parts(_numbers, n, 2, sink):
                sink.write(block)
        drain.join(60)
    assert got == [b"".join(_numbers(0, n))]
    assert children(zombies=True) == set()


@pytest.mark.parametrize("workers", [2, 3])
def test_a_reader_that_goes_away_stops_every_writer_quietly(
        workers: int, capfd: pytest.CaptureFixture[str]) -> None:
    """The output a pipe whose reader reads a little and leaves (``| head``): the children
    writing into it stop without a traceback and say so, and the parts end as a write of
    this process's own would, with ``BrokenPipeError``."""
    parent = os.getpid()

    def produce(start: int, stop: int) -> Iterator[bytes]:
        if os.getpid() == parent:  # this process is slow: the children write first
            time.sleep(0.05)
        for i in range(start, stop):
            yield b"%d " % i * 100

    # The pipe's reading end only in the reader's process (a thread's would be inherited by
    # the children, and the pipe would never break).
    reader = subprocess.Popen(["head", "-c", "10"], stdin=subprocess.PIPE,
                              stdout=subprocess.DEVNULL)
    assert reader.stdin is not None
    with pytest.raises(BrokenPipeError), reader.stdin as sink:
        for block in forked.forked_parts(produce, 20000, workers, sink):
            sink.write(block)
    assert reader.wait(60) == 0
    assert "Traceback" not in capfd.readouterr().err
    assert children(zombies=True) == set()


def test_split_covers_every_position_once() -> None:
    for n in (0, 1, 9, 10, 1001):
        for parts in (1, 2, 3, 7):
            ranges = forked.split(n, parts)
            assert len(ranges) == parts
            assert [i for a, b in ranges for i in range(a, b)] == list(range(n))


def _wait_for(marker: Path) -> None:
    """Until another process has written ``marker`` (bounded: a minute)."""
    deadline = time.monotonic() + 60
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.01)


def test_a_failing_part_fails_the_whole(tmp_path: Path,
                                        capfd: pytest.CaptureFixture[str]) -> None:
    parent = os.getpid()
    marker = tmp_path / "child-took-a-piece"

    def produce(start: int, stop: int) -> Iterator[bytes]:
        if os.getpid() != parent:  # every piece a child takes fails
            marker.touch()
            raise RuntimeError("broken part")
        _wait_for(marker)  # this process leaves pieces to the child
        yield b"%d" % start

    with pytest.raises(forked.WorkerFailed, match="making rows"):
        list(forked.forked_parts(produce, 10, 2))
    assert "broken part" in capfd.readouterr().err


def test_a_failing_part_fails_the_whole_when_children_write_the_output(
        tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    parent = os.getpid()
    marker = tmp_path / "child-took-a-piece"

    def produce(start: int, stop: int) -> Iterator[bytes]:
        if os.getpid() != parent:
            marker.touch()
            raise RuntimeError("broken part")
        _wait_for(marker)
        yield b"%d" % start

    with (tmp_path / "out").open("wb") as sink, \
            pytest.raises(forked.WorkerFailed, match="making rows"):
        for block in forked.forked_parts(produce, 10, 2, sink):
            sink.write(block)
    assert "broken part" in capfd.readouterr().err
    assert children(zombies=True) == set()


def _arrays_sent() -> dict[str, Any]:
    import numpy as np

    frozen = np.arange(5, dtype=np.int16)
    frozen.flags.writeable = False  # its buffer is handed as read-only
    return {"ids": np.arange(7, dtype=np.int32), "grid": np.ones((3, 4), dtype=np.int64),
            "none": np.zeros(0, dtype=np.uint64), "strided": np.arange(20)[::3],
            "columns": np.asfortranarray(np.arange(12).reshape(3, 4)), "frozen": frozen,
            "text": "plain", "nested": [(1, 2), {"mask": np.array([True, False])}],
            # more arrays than one process_vm_readv call takes (IOV_MAX)
            "many": [np.full(i % 5, i, dtype=np.int32) for i in range(2500)]}


def _same_arrays(back: dict[str, Any], sent: dict[str, Any]) -> None:
    assert back.keys() == sent.keys()
    pairs = [(back[k], sent[k]) for k in ("ids", "grid", "none", "strided", "columns")]
    pairs += [(back["nested"][1]["mask"], sent["nested"][1]["mask"])]
    pairs += list(zip(back["many"], sent["many"], strict=True))
    for got, want in [*pairs, (back["frozen"], sent["frozen"])]:
        assert got.dtype == want.dtype and got.shape == want.shape
        assert got.tolist() == want.tolist()
    assert back["columns"].flags.f_contiguous  # its memory in the order it had
    assert all(got.flags.writeable for got, _ in pairs)
    assert not back["frozen"].flags.writeable  # as pickle hands a read-only buffer back
    assert back["text"] == "plain" and back["nested"][0] == (1, 2)
    bases = [a.base for a, _ in pairs if a.size]
    assert len({id(b) for b in bases}) == len(bases)  # each array in memory of its own


def _refusing(errno_: int, got: int) -> Any:
    import ctypes

    def readv(*_: int) -> int:
        ctypes.set_errno(errno_)
        return got

    return lambda: readv


@pytest.mark.parametrize("kernel", ["pulls", "pulls in small calls", "has none", "refuses",
                                    "gives a part"])
def test_a_result_handed_back_has_its_arrays_each_in_memory_of_its_own(
        kernel: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pulled out of the child's memory, or, where the kernel will not, written by the
    child into the file on this process's word: the same result either way."""
    import errno

    from stockade.cli import handback

    if kernel.startswith("pulls"):
        # The C library has the call on every machine CI runs on (where a seccomp filter
        # or Yama's ptrace scope forbade it, this test would fail with "exit status 3").
        assert handback.process_vm_readv() is not None
        # and the child is not asked to write them: the test fails if it is
        monkeypatch.setattr(handback, "write_arrays", lambda *_: os._exit(3))
        if kernel == "pulls in small calls":  # arrays cut into pieces, calls by bytes
            monkeypatch.setattr(handback, "CALL_BYTES", 24)
    else:
        monkeypatch.setattr(handback, "process_vm_readv", {
            "has none": lambda: None, "refuses": _refusing(errno.EPERM, -1),
            "gives a part": _refusing(0, 3)}[kernel])
    back = forked.beside(_arrays_sent, lambda: None)
    _same_arrays(back, _arrays_sent())
    forked.reap_ended()
    assert children(zombies=True) == set()


@pytest.mark.parametrize("then", ["pulls", "is refused"])
def test_a_child_killed_after_its_result_was_ready_fails_the_whole(
        then: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Killed (for memory, say) before this process took its arrays: the copy finds it
    gone, or, the kernel refusing the copy, the word to write them finds no reader."""
    from stockade.cli import handback

    pulling = handback.pull

    def killed_first(pid: int, handed: handback.Handed) -> Any:
        os.kill(pid, signal.SIGKILL)
        os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)  # dead, not yet waited for
        return pulling(pid, handed) if then == "pulls" else None

    monkeypatch.setattr(handback, "pull", killed_first)
    with pytest.raises(forked.WorkerFailed, match=r"failed \(killed by SIGKILL\)"):
        forked.beside(_arrays_sent, lambda: None)
    assert children(zombies=True) == set()
    assert forked._ended == []


def test_a_result_handed_back_short_fails(tmp_path: Path) -> None:
    """A file cut short, or a child gone before its arrays were pulled."""
    from stockade.cli import handback

    with (tmp_path / "spool").open("w+b") as spool:
        raws = handback.send(_arrays_sent(), spool)
        handed = handback.Handed.read(spool)
        handback.write_arrays(raws, spool)
        _same_arrays(handed.loads(handback.read_arrays(spool, handed)), _arrays_sent())
        spool.truncate(spool.tell() - 1)
        with pytest.raises(EOFError, match="too little"):
            handback.read_arrays(spool, handed)
        spool.truncate(handback._HEADER.size + 3)
        with pytest.raises(EOFError, match="too little"):
            handback.Handed.read(spool)
    pid = os.fork()
    if not pid:
        os._exit(0)
    os.waitpid(pid, 0)
    with pytest.raises(ProcessLookupError):
        handback.pull(pid, handed)


def test_a_child_ended_before_its_arrays_were_taken_fails_the_whole(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The child is asked to write its arrays, and dies instead."""
    import numpy as np

    from stockade.cli import handback

    monkeypatch.setattr(handback, "process_vm_readv", lambda: None)
    monkeypatch.setattr(handback, "write_arrays", lambda *_: os._exit(3))
    with pytest.raises(forked.WorkerFailed, match=r"failed \(exit status 3\)"):
        forked.beside(lambda: np.arange(4), lambda: None)
    assert children(zombies=True) == set()


def test_parts_written_in_turn_and_dropped_unread_stop_the_children(tmp_path: Path) -> None:
    """Dropped before their first block (the caller failed writing what comes before), parts
    that the children would write into the output themselves still stop them, and nothing
    of theirs is written: their turn never came."""
    marker = tmp_path / "children-started"
    parent = os.getpid()

    def produce(start: int, stop: int) -> Iterator[bytes]:
        if os.getpid() != parent:
            marker.touch()
            if start >= 2:
                time.sleep(60)  # would outlive the test unless killed
        yield b"x" * 100

    frozen = gc.get_freeze_count()
    with (tmp_path / "out").open("wb") as sink:
        sink.write(b"head")
        parts = forked.forked_parts(produce, 100, 3, sink)
        _wait_for(marker)
        assert len(children()) == 2
        del parts
        gc.collect()
        assert children(zombies=True) == set()
        assert gc.get_freeze_count() <= frozen
    assert (tmp_path / "out").read_bytes() == b"head"


def test_rows_never_read_stop_the_children(tmp_path: Path) -> None:
    """Dropped unread (the output failed before the first row), the parts still stop the
    children, close their files and unfreeze the collector."""
    marker = tmp_path / "children-started"
    parent = os.getpid()

    def produce(start: int, stop: int) -> Iterator[bytes]:
        if os.getpid() != parent:
            marker.touch()
            time.sleep(60)  # would outlive the test unless killed
        yield b"x"

    frozen = gc.get_freeze_count()
    parts = forked.forked_parts(produce, 100, 3)
    _wait_for(marker)
    running = children()
    assert len(running) == 2
    del parts
    gc.collect()
    assert children() == set()
    assert gc.get_freeze_count() <= frozen


def test_ties_are_broken_by_the_first_column() -> None:
    """The "*" of a row whose commonest texts tie is the one of the first column among
    them, whatever the texts' numbers (which follow the order a process met them in)."""
    import numpy as np

    from stockade.render.matrix import RowEncoder

    texts = ["all", "TCP 80", "none"]
    for ids in ([2, 2, 1, 1, 0], [1, 1, 2, 2, 0]):
        row = np.array(ids, dtype=np.int32)
        encoded = RowEncoder(len(ids)).encode(row, texts).decode()
        assert encoded.startswith('{"*": ' + json.dumps(texts[ids[0]]))
        swapped = np.array([{1: 2, 2: 1}.get(i, i) for i in ids], dtype=np.int32)
        renamed = ["all", "none", "TCP 80"]
        assert RowEncoder(len(ids)).encode(swapped, renamed).decode() == encoded


def test_workers_wanted_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STOCKADE_WORKERS", "3")
    assert forked.workers_wanted(100) == 3
    assert forked.workers_wanted(2) == 2
    monkeypatch.setenv("STOCKADE_WORKERS", "1")
    assert forked.workers_wanted(10**6) == 1
    monkeypatch.delenv("STOCKADE_WORKERS")
    assert forked.workers_wanted(10) == 1  # too few rows to be worth a process


def _matrix(directory: Path, workers: int, *options: str) -> bytes:
    env = {**os.environ, "STOCKADE_WORKERS": str(workers)}
    return subprocess.run([sys.executable, "-m", "stockade", "matrix", str(directory), "-o",
                           "json", *options], env=env, check=True, capture_output=True).stdout


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


def test_forked_matrix_of_groups_split_by_services_is_the_single_process_one(
        tmp_path: Path) -> None:
    """``--services`` splits a class into parts: the view of parts is made while the second
    process works, as the view of classes is."""
    from test_services_cli import ONLY_BACKEND

    (tmp_path / "cluster.yaml").write_text(ONLY_BACKEND)
    single = _matrix(tmp_path, 1, "--services")
    assert [g["name"] for g in json.loads(single)["groups"]] == ["ns/a-1", "ns/a-*"]
    for workers in (2, 3):
        assert _matrix(tmp_path, workers, "--services") == single


def test_forked_matrix_with_cluster_policies_is_the_single_process_one(
        tmp_path: Path) -> None:
    """With Admin and Baseline tiers a second process works out the egress sides and the
    parts that the rows of other address families read, renumbered here: the answer is
    the single process's, and the reference's."""
    directory = tmp_path / "cluster"
    files = generate(Params(pods=400, namespaces=12, policies=130, seed=5,
                            admin_policies=8, baseline_policies=3))
    write(files, directory)
    single = _matrix(directory, 1)
    for workers in (2, 3):
        assert _matrix(directory, workers) == single
    ref = ReferenceCluster.from_dicts([d for docs in files.values() for d in docs])
    assert check(ref, read_matrix(json.loads(single)), sample_pairs(ref, 3000, seed=2)) == []


def test_beside_returns_the_childs_result_and_fails_with_it(
        capfd: pytest.CaptureFixture[str]) -> None:
    ran: list[str] = []
    assert forked.beside(lambda: {"sum": sum(range(10))}, lambda: ran.append("here")) == {
        "sum": 45}
    assert ran == ["here"]
    forked.reap_ended()  # the child, left to end on its own once its result was whole
    assert children(zombies=True) == set()

    def broken() -> int:
        raise RuntimeError("broken beside")

    with pytest.raises(forked.WorkerFailed, match=r"beside this one failed \(exit status 1\)"):
        forked.beside(broken, lambda: None)
    assert "broken beside" in capfd.readouterr().err
    assert children(zombies=True) == set()


@pytest.mark.parametrize(("seed", "tiers"), [(11, False), (5, True)])
@pytest.mark.parametrize("child_takes", [0, 1, 1000])
def test_ingress_pieces_shared_with_the_second_process_are_renumbered_here(
        seed: int, tiers: bool, child_takes: int) -> None:
    """``matrix_cmd._prepare``'s sharing, with the pieces of the other variants' ingress
    columns split between the processes in a fixed way (none, one, every piece worked out
    by the second process): each other variant's columns name the port sets one process
    alone names there."""
    files = generate(Params(pods=400, namespaces=12, policies=130, seed=seed,
                            admin_policies=8 if tiers else 0,
                            baseline_policies=3 if tiers else 0))
    engine = engine_of([doc for docs in files.values() for doc in docs])
    alone, keys = PairSets(engine), PairSets(engine)
    others = [v for v in keys.variant_users if v != keys.main_variant]
    assert others and len(keys.blocky_pieces()) >= 2  # the case this test is about
    board = forked.Board(len(keys.blocky_pieces()))
    taken = iter(range(child_takes))
    try:
        work = forked.beside(
            lambda: keys.main_egress_sides(
                lambda: board.take(front=True) if next(taken, None) is not None else None),
            lambda: None)
        keys.gather_ingress(lambda: board.take(front=False))
    finally:
        board.close()
    assert len(work.blocky) == min(child_takes, len(keys.blocky_pieces()))
    keys.adopt_egress_sides(work)
    keys.gather_other_ingress()
    for variant in others:
        rows, grid = keys._some_table(variant)
        alone_rows, alone_grid = alone._some_table(variant)
        assert rows.tolist() == alone_rows.tolist()
        assert [keys.sets[i] for i in grid.ravel().tolist()] == \
            [alone.sets[i] for i in alone_grid.ravel().tolist()]
