"""Output made in parts by forked processes, handed back in order: the matrix of a large
cluster uses every core of a small machine.

``forked_parts(produce, n, workers)`` cuts positions ``0 .. n-1`` into consecutive pieces
of work and shares them out as they are done, so that no process idles while another still
has much to do (rows differ in cost). When the output is a file descriptor (a file, a pipe),
every process takes pieces from the front and writes each into it in its turn: a piece made
before its turn is held by its maker (in memory up to ``HELD_BYTES``, past that in a
temporary file) until every piece before it is written, so no piece is copied through
another process. Otherwise this process takes pieces from the front and yields their bytes
as it makes them, the ``workers - 1`` children take pieces from the back, each writing what
``produce`` yields to an unlinked temporary file, and once the two ends meet the children's
pieces are read back in order and yielded. Either way the caller sees exactly the bytes one
process would have made. A child that fails (an exception, a signal) fails the whole:
``WorkerFailed`` names its piece.

The children share the parent's memory copy-on-write: the objects made so far are moved
out of the garbage collector's reach first (``gc.freeze``), so that collections in a child
do not touch, and copy, the pages of the whole cluster.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import functools
import gc
import io
import marshal
import mmap
import os
import select
import signal
import struct
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from types import ModuleType
from typing import IO, Any, TypeVar, cast

import msgspec

from stockade.cli import handback, timings
from stockade.errors import EnvironmentProblem

READ_BLOCK = 8 << 20
MIN_PER_WORKER = 1000  # positions below which a part is not worth a process
PIECES_PER_WORKER = 24  # pieces of work per process: small enough to even out the end
# The next piece from the front, the end of the back, and the next piece to be written
# (``Board.turn``).
_COUNTERS = struct.Struct("qqq")
HELD_BYTES = 128 << 20  # each process's pieces made before their turn kept in memory, at most
_TURN_WAIT = 0.002  # seconds between looks at whose turn it is, while waiting for it
T = TypeVar("T")


class WorkerFailed(EnvironmentProblem):
    """A forked part did not complete (killed for memory, say)."""


def processes_allowed() -> int:
    """How many processes stockade may use at once: ``STOCKADE_WORKERS`` when set (1 turns
    forking off), else the cores this process may run on."""
    return _configured() or _cores()


def workers_wanted(n: int) -> int:
    """How many processes to use for ``n`` positions: ``STOCKADE_WORKERS`` when set, else
    the cores this process may run on, at most one per ``MIN_PER_WORKER`` positions."""
    configured = _configured()
    if configured:
        return min(configured, max(1, n))
    return max(1, min(_cores(), n // MIN_PER_WORKER))


def _configured() -> int | None:
    configured = os.environ.get("STOCKADE_WORKERS", "").strip()
    return int(configured) if configured.isdigit() and int(configured) > 0 else None


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1


def beside(there: Callable[[], T], here: Callable[[], object]) -> T:
    """``there()`` worked out by a forked child while this process runs ``here()``: its
    result comes back as ``handback`` says (its arrays copied out of the child's memory, or
    through an unlinked temporary file). A child that fails fails the whole
    (``WorkerFailed``). The child says through a pipe when its result is ready, and waits
    on a second pipe until this process has taken it (or asks for its arrays in the file);
    its exit, which releases its memory (seconds on a large cluster), is waited for later
    (``reap_ended``). ``here`` must not fork a process that outlives it: holding that pipe,
    it would keep the child waiting."""
    with _spool() as spool:
        ready, said = os.pipe()
        asked, ask = os.pipe()

        def work() -> None:
            os.close(ask)
            raws = handback.send(there(), spool)
            os.write(said, _WHOLE)
            if os.read(asked, 1) == _WRITE:  # else this process took them, or is gone
                handback.write_arrays(raws, spool)
                os.write(said, _WHOLE)

        try:
            pid = _fork(work, "a second process")
        except BaseException:
            for end in (ready, ask):
                os.close(end)
            raise
        finally:  # this process's copies: each pipe ends when the child's end closes
            os.close(said)
            os.close(asked)
        with open(ready, "rb", buffering=0) as pipe, open(ask, "wb", buffering=0) as asking:
            try:
                here()
                with timings.stage("handback"):  # the wait for the child, and the copy
                    whole = pipe.read(1) == _WHOLE  # or the pipe's end: the child ended
            except BaseException:
                with contextlib.suppress(OSError):
                    _reap(pid, kill=True)
                raise
            if whole:
                _ended.append(pid)
                try:
                    with timings.stage("handback"):
                        result: T = _taken_back(spool, pid, pipe, asking)
                    return result
                except (EOFError, ProcessLookupError):
                    _ended.remove(pid)
        code = _reap(pid)
        raise WorkerFailed("a process working beside this one failed "
                           f"({_ending(code) if code else 'without its result'})")


def _taken_back(spool: IO[bytes], pid: int, pipe: IO[bytes], asking: IO[bytes]) -> Any:
    """The result child ``pid`` handed back: its arrays pulled out of its memory, or, if
    the kernel refuses, written by it into ``spool`` on this process's word and read from
    there. The child may end once this returns."""
    handed = handback.Handed.read(spool)
    buffers: Sequence[object] | None = handback.pull(pid, handed)
    if buffers is None:
        try:
            asking.write(_WRITE)
        except BrokenPipeError:  # the child is gone (killed for memory, say)
            raise EOFError("the child ended before it was asked for its arrays") from None
        if pipe.read(1) != _WHOLE:
            raise EOFError("the child ended before it wrote its arrays")
        buffers = handback.read_arrays(spool, handed)
    asking.close()
    return handed.loads(buffers)


_WHOLE = b"+"
_WRITE = b"w"  # a parent's word that its child must write its arrays into the file
_CLOSED = b"-"  # a child's word that the output it wrote into was closed by its reader
_ended: list[int] = []  # children that handed their result over, not yet waited for


def reap_ended(*, wait: bool = True) -> None:
    """Wait for the children that ``beside`` and ``ahead`` left to end on their own once
    they had handed everything over; without ``wait``, only for those that have ended."""
    for pid in list(_ended):
        try:
            done = os.waitpid(pid, 0 if wait else os.WNOHANG)[0] != 0
        except ChildProcessError:  # waited for already
            done = True
        if done:
            _ended.remove(pid)


AHEAD_BATCH = 256  # items handed over at once by ``ahead``
_PIPE_BYTES = 1 << 20
AHEAD_WAITING_BYTES = 256 << 20  # frames kept in the child until its reader reads, at most
_ITEMS, _RAISED, _END = range(3)
# A frame through the pipe: how its payload is encoded and its length, then the payload.
# Batches of plain data (dicts, lists, strings, numbers: parsed manifests) go by marshal,
# which writes them five times and reads them a seventh faster than pickle; it carries
# nothing else (not even a subclass of str), so anything else goes by pickle. Both ends
# are the same interpreter, which marshal requires.
_FRAME = struct.Struct("=BQ")
_MARSHAL, _PICKLE = range(2)


class Demand:
    """Whether the process reading what ``ahead``'s child makes has started to read: until
    then it is busy with work of its own (imports, say), and work it would otherwise do
    on the items is better done by the child, which asks ``waiting()``. A byte of memory
    both processes share; made before the fork."""

    def __init__(self) -> None:
        self._flag = mmap.mmap(-1, 1)  # anonymous and shared: it survives the fork as one

    def waiting(self) -> bool:
        return self._flag[0] == 1

    def start(self) -> None:
        self._flag[0] = 1


def ahead(produce: Callable[[], Iterable[T]], what: str,
          demand: Demand | None = None) -> Iterator[T]:
    """What ``produce()`` yields, in order, made by a forked child while this process works
    on the items already handed over (in batches through a pipe, see ``_FRAME``; a full
    pipe holds the child back). With ``demand``, which ``produce`` may ask, the batch being
    made is handed over as soon as this process starts reading, and until then the child
    is not held back (``_hand_over``). An exception ``produce`` raises (a
    ``StockadeError``, say) is raised here after the items before it. A child
    that dies otherwise, or that makes what pickle cannot carry, fails the whole
    (``WorkerFailed``); an iterator closed or dropped early stops the child. A child that
    cannot be started raises ``WorkerFailed`` at once.

    The child starts at once, so that this process can do other work before it reads."""
    read_end, write_end = os.pipe()
    with contextlib.suppress(AttributeError, OSError):  # fewer switches between the two
        fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, _PIPE_BYTES)

    def work() -> None:
        os.close(read_end)
        _hand_over(produce, demand, write_end, what)

    try:
        pid = _fork(work, what)
    except BaseException:
        os.close(read_end)
        os.close(write_end)
        raise
    os.close(write_end)
    source = open(read_end, "rb", buffering=_PIPE_BYTES)  # noqa: SIM115 - closed by _receive
    received: Iterator[T] = _receive(pid, source, what, demand)
    next(received)  # into its ``try``: closed or dropped unread, it still stops the child
    return received


def _hand_over(produce: Callable[[], Iterable[T]], demand: Demand | None, out: int,
               what: str) -> None:
    """The child's side: each frame encoded whole, then written straight to the pipe (no
    buffer left to flush when the reader is gone: then the child just ends). Until the
    reader reads (``demand``), frames the full pipe cannot take wait here, in order (up to
    ``AHEAD_WAITING_BYTES``), and the child goes on: work it does for a reader busy
    elsewhere is not held back by the pipe's size. Once the reader reads, or that much
    waits, a full pipe holds the child back."""
    waiting: deque[memoryview] = deque()
    try:
        for frame in _frames(produce, demand):
            kind, data = _encoded(frame, what)
            waiting.append(memoryview(data))
            if (demand is not None and not demand.waiting()
                    and sum(map(len, waiting)) <= AHEAD_WAITING_BYTES):
                _write_some(out, waiting)
            else:
                _write_all(out, waiting)
            if kind != _ITEMS:
                break
        _write_all(out, waiting)
    except BrokenPipeError:
        pass  # the reader stopped early: nobody wants the rest
    finally:
        os.close(out)


def _write_some(out: int, waiting: deque[memoryview]) -> None:
    """What of ``waiting`` the pipe takes now, without waiting for room."""
    os.set_blocking(out, False)
    try:
        while waiting:
            written = os.write(out, waiting[0])  # as much as there is room for
            if written < len(waiting[0]):
                waiting[0] = waiting[0][written:]
                return
            waiting.popleft()
    except BlockingIOError:
        return  # no room at all
    finally:
        os.set_blocking(out, True)


def _write_all(out: int, waiting: deque[memoryview]) -> None:
    """Every frame of ``waiting``, in order, waiting for room as needed."""
    while waiting:
        view = waiting.popleft()
        while view:
            view = view[os.write(out, view):]


def _frames(produce: Callable[[], Iterable[T]], demand: Demand | None
            ) -> Iterator[tuple[int, object]]:
    batch: list[T] = []
    watched = demand  # until the reader is seen waiting
    try:
        for item in produce():
            batch.append(item)
            if watched is not None and watched.waiting():
                watched = None  # the reader reads: what was made so far goes now
            elif len(batch) < AHEAD_BATCH:
                continue
            yield _ITEMS, batch
            batch = []
    except Exception as exc:  # handed over; anything else fails the child
        yield _ITEMS, batch
        yield _RAISED, exc
        return
    yield _ITEMS, batch
    yield _END, None


def _encoded(frame: tuple[int, Any], what: str) -> tuple[int, bytes]:
    """A frame's kind, and its bytes for the pipe."""
    if frame[0] != _RAISED:  # an exception is never plain data
        try:
            data = marshal.dumps(frame)
        except Exception:  # not plain data (or nested too deep for marshal): by pickle
            pass
        else:
            return frame[0], _FRAME.pack(_MARSHAL, len(data)) + data
    pickle = _pickle()
    try:
        kind, data = frame[0], pickle.dumps(frame, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:  # an object pickle cannot carry: said, not half written
        failed = WorkerFailed(f"{what} could not hand over what it read ({exc})")
        kind, data = _RAISED, pickle.dumps((_RAISED, failed),
                                           protocol=pickle.HIGHEST_PROTOCOL)
    return kind, _FRAME.pack(_PICKLE, len(data)) + data


def _decoded(source: IO[bytes]) -> tuple[int, Any] | None:
    """The next frame from the pipe; ``None`` at its end or if the frame is cut short (the
    child died)."""
    header = source.read(_FRAME.size)
    if len(header) < _FRAME.size:
        return None
    codec, size = _FRAME.unpack(header)
    data = source.read(size)
    if len(data) < size:
        return None
    frame: tuple[int, Any] = (marshal.loads(data) if codec == _MARSHAL
                              else _pickle().loads(data))
    return frame


def _receive(pid: int, source: IO[bytes], what: str, demand: Demand | None
             ) -> Iterator[T]:
    ended = False
    try:
        yield cast(T, None)  # taken by ahead(), to enter this ``try`` at once
        if demand is not None:
            demand.start()
        while True:
            try:
                frame = _decoded(source)
            except Exception:  # a frame that does not decode: the child died writing it
                break
            if frame is None:  # the end of the pipe, or a frame cut short: the child died
                break
            kind, payload = frame
            if kind == _ITEMS:
                yield from payload
            elif kind == _RAISED:
                ended = True
                raise payload
            else:
                ended = True
                break
    finally:
        if not ended:  # stopped before the child ended (or it died): it is stopped first
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        source.close()
        if ended:  # all it made was read: it is left to end on its own (``reap_ended``)
            _ended.append(pid)
        else:
            code = _reap(pid)
    if not ended:
        raise WorkerFailed(f"{what} failed ({_ending(code)})")


def _reap(pid: int, *, kill: bool = False) -> int:
    """Wait for a child (killed first with ``kill``); how it ended, as
    ``os.waitstatus_to_exitcode`` says (the negative signal number if killed)."""
    if kill:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def _ending(code: int) -> str:
    """How a child ended, from ``os.waitstatus_to_exitcode``, for a message."""
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(-code).name}"
        return f"killed by signal {-code}"
    return f"exit status {code}"


def _fork(work: Callable[[], object], what: str) -> int:
    """A child process running ``work`` then leaving without cleanup (exit 0; 130 on
    Ctrl-C, which reached the whole group and which the parent reports; 1 on any other
    failure, its traceback on stderr); its pid here."""
    reap_ended(wait=False)
    for stream in (sys.stdout, sys.stderr):  # nothing buffered is written twice
        with contextlib.suppress(Exception):
            stream.flush()
    try:
        pid = os.fork()
    except OSError as exc:
        raise WorkerFailed(f"cannot start {what}: {exc.strerror or exc}") from None
    if pid:
        return pid
    code = 1
    try:
        work()
        code = 0
    except KeyboardInterrupt:
        code = 130
    except BaseException:  # any failure is reported to the parent as such
        with contextlib.suppress(Exception):
            import traceback  # only a failing child needs it

            sys.stderr.write(traceback.format_exc())
            sys.stderr.flush()
    os._exit(code)


def _pickle() -> ModuleType:
    """``pickle``, imported when first needed: the read-ahead of a plain run hands over only
    plain data, by ``marshal``, and the import costs more than a millisecond of start-up."""
    import pickle

    return pickle


def _spool() -> IO[bytes]:
    """An unlinked temporary file. ``tempfile`` is imported here, not with this module: the
    read-ahead (``ahead``) of every large run needs none, and the import costs a millisecond."""
    import tempfile

    return tempfile.TemporaryFile()


def split(n: int, parts: int) -> list[tuple[int, int]]:
    """``parts`` consecutive ranges covering ``0 .. n-1``, as even as can be."""
    bounds = [n * k // parts for k in range(parts + 1)]
    return [(bounds[k], bounds[k + 1]) for k in range(parts)]


class _Child(msgspec.Struct):
    pid: int
    spool: IO[bytes]  # its pieces' bytes, in the order it made them
    index: IO[bytes]  # (piece, offset, length) of each, pickled at its end
    ready: int = -1  # a pipe's end: ``_WHOLE`` once ``index`` is whole, else the pipe's end


class Board:
    """Which pieces are taken, and whose turn it is to write: the front piece, the end of
    the back and the next piece to be written, in a small file that the processes map,
    moved under a POSIX record lock on it (held per process, so a forked child does not hold
    its parent's, and released by the kernel if its holder dies)."""

    def __init__(self, pieces: int) -> None:
        self._file = _spool()  # closed by close()
        self._file.write(bytes(_COUNTERS.size))
        self._file.flush()
        self._memory = mmap.mmap(self._file.fileno(), _COUNTERS.size)
        _COUNTERS.pack_into(self._memory, 0, 0, pieces, -1)

    def take(self, front: bool) -> int | None:
        """The next piece from the front (or the back), or None when none is left."""
        with self._locked():
            low, high, turn = _COUNTERS.unpack_from(self._memory, 0)
            if low >= high:
                return None
            _COUNTERS.pack_into(self._memory, 0, *((low + 1, high, turn) if front
                                                    else (low, high - 1, turn)))
            return int(low if front else high - 1)

    def turn(self) -> int:
        """The piece whose bytes come next in the output (-1: not even the first yet)."""
        with self._locked():
            return int(_COUNTERS.unpack_from(self._memory, 0)[2])

    def written(self, piece: int) -> None:
        """``piece`` is whole in the output (-1: what comes before the first): the next
        one's turn."""
        with self._locked():
            low, high, turn = _COUNTERS.unpack_from(self._memory, 0)
            assert turn == piece, f"piece {piece} written in piece {turn}'s turn"
            _COUNTERS.pack_into(self._memory, 0, low, high, piece + 1)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        fcntl.lockf(self._file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.lockf(self._file, fcntl.LOCK_UN)

    def close(self) -> None:
        with contextlib.suppress(ValueError, OSError):
            self._memory.close()
        self._file.close()


def forked_parts(produce: Callable[[int, int], Iterable[bytes]], n: int, workers: int,
                 sink: IO[bytes] | None = None,
                 progress: Callable[[float], None] | None = None) -> Iterator[bytes]:
    """What ``produce(start, stop)`` yields over ``0 .. n-1``, in order, made by ``workers``
    processes. ``sink``: where the caller writes each block before asking for the next;
    with a file descriptor under it, the children write their pieces into it themselves, in
    turn (``_collect_in_turn``), else they spool them for this process (``_collect``).
    ``progress``: called with the share of pieces taken, as this process takes them."""
    if workers < 2 or n < 2:
        return iter(produce(0, n))
    pieces = split(n, min(n, workers * PIECES_PER_WORKER))
    target = _descriptor(sink)
    board = Board(len(pieces))
    children: list[_Child] = []
    gc.collect()
    gc.freeze()
    try:
        for _ in range(workers - 1):
            child = _Child(0, _spool(), _spool())
            children.append(child)  # its files closed by _abandon, whatever happens
            child.ready, said = os.pipe()
            work = (functools.partial(_child, produce, pieces, board, child.spool,
                                      child.index, said=said) if target is None
                    else functools.partial(_child_in_turn, produce, pieces, board, target,
                                           child.spool, said=said))
            try:
                child.pid = _fork(work, "a process for rows of the matrix")
            finally:
                os.close(said)  # this process's copy: the pipe ends when the child does
    except BaseException:
        _abandon(children, board)
        gc.unfreeze()
        raise
    parts = (_collect(produce, pieces, board, children, progress=progress)
             if target is None or sink is None
             else _collect_in_turn(produce, pieces, board, children, sink=sink, progress=progress))
    next(parts)  # into its ``try``: closed or dropped unread, it still stops the children
    return parts


def _descriptor(sink: IO[bytes] | None) -> int | None:
    """The file descriptor that ``sink`` writes its bytes to as they are (a file, a pipe, a
    terminal opened for writing; not one that compresses them or reads ahead), or None."""
    raw = sink.raw if isinstance(sink, io.BufferedWriter) else sink
    if not isinstance(raw, io.FileIO):
        return None
    try:
        return raw.fileno()
    except (OSError, ValueError):
        return None


class _Held:
    """Pieces one process made before their turn, until it comes: their blocks in memory up
    to ``HELD_BYTES`` in all, the rest of a piece past that in ``spool``."""

    def __init__(self, spool: IO[bytes]) -> None:
        self.spool = spool
        self._pieces: dict[int, tuple[list[bytes], int, int]] = {}  # blocks, spooled range
        self._in_memory = 0
        self._spooled = 0

    def __bool__(self) -> bool:
        return bool(self._pieces)

    def keep(self, piece: int, blocks: Iterable[bytes]) -> None:
        kept: list[bytes] = []
        offset, length = self._spooled, 0
        for block in blocks:
            if not length and self._in_memory + len(block) <= HELD_BYTES:
                kept.append(block)
                self._in_memory += len(block)
            else:
                if not length:  # after the spooled pieces, wherever a read left the file
                    self.spool.seek(offset)
                self.spool.write(block)
                length += len(block)
        if length:
            self.spool.flush()
            self._spooled += length
        self._pieces[piece] = (kept, offset, length)

    def due(self, board: Board) -> Iterator[tuple[int, list[bytes], int, int]]:
        """The held pieces whose turn has come, in order, each as ``(piece, blocks, offset,
        length)``: its blocks, then ``length`` bytes of ``spool`` from ``offset``. The
        caller writes them, then says ``board.written(piece)``."""
        while (turn := board.turn()) in self._pieces:
            kept, offset, length = self._pieces.pop(turn)
            self._in_memory -= sum(map(len, kept))
            yield turn, kept, offset, length


def _child_in_turn(produce: Callable[[int, int], Iterable[bytes]],
                   pieces: list[tuple[int, int]], board: Board, target: int, spool: IO[bytes],
                   *, said: int) -> None:
    """A child's work when the output is a file descriptor: pieces from the front, each
    written to ``target`` in its turn (``_collect_in_turn``); then ``_WHOLE`` said through
    ``said`` once all of its pieces are written."""
    parent = os.getppid()
    sink = open(target, "wb", buffering=0, closefd=False)  # noqa: SIM115 (never closed)

    def write(blocks: Iterable[bytes]) -> None:
        for block in blocks:
            view = memoryview(block)
            while view:
                view = view[os.write(target, view):]

    def write_due() -> None:
        for piece, blocks, offset, length in held.due(board):
            write(blocks)
            if length and not _send(spool, sink, offset, length):
                write(_spooled(spool, offset, length))
            board.written(piece)

    held = _Held(spool)
    try:
        while (piece := board.take(front=True)) is not None:
            if board.turn() == piece:
                write(produce(*pieces[piece]))
                board.written(piece)
            else:
                held.keep(piece, produce(*pieces[piece]))
            write_due()
        while held:
            write_due()
            if held:
                if os.getppid() != parent:
                    raise WorkerFailed("the process collecting the rows ended")
                time.sleep(_TURN_WAIT)
    except BrokenPipeError:  # the reader of the output went away (``| head``): not a failure
        os.write(said, _CLOSED)
        return
    os.write(said, _WHOLE)


def _spooled(spool: IO[bytes], offset: int, length: int) -> Iterator[bytes]:
    """``length`` bytes of ``spool`` from ``offset``, in blocks."""
    spool.seek(offset)
    while length > 0 and (block := spool.read(min(READ_BLOCK, length))):
        length -= len(block)
        yield block


def _collect_in_turn(produce: Callable[[int, int], Iterable[bytes]],
                     pieces: list[tuple[int, int]], board: Board, children: list[_Child], *,
                     sink: IO[bytes], progress: Callable[[float], None] | None
                     ) -> Iterator[bytes]:
    """This process's part when the children write into the output themselves. Every
    process takes pieces from the front. A piece taken in its turn (every piece before it
    written) is written as it is made; one taken before is held (``_Held``) until its turn,
    and each process writes the held pieces whose turn has come whenever it ends a piece.
    Only the maker of the piece whose turn it is can hold the others back, and it never
    waits: nothing waits for ever, and no piece is copied through another process. Here,
    writing is yielding to the caller, and ``sink`` is flushed before a turn passes."""
    waiting = list(children)
    held: _Held | None = None

    def write_due() -> Iterator[bytes]:
        assert held is not None
        for piece, blocks, offset, length in held.due(board):
            yield from blocks
            sink.flush()
            if length and not _send(held.spool, sink, offset, length):
                yield from _spooled(held.spool, offset, length)
                sink.flush()
            board.written(piece)

    try:
        yield b""  # taken by forked_parts, to enter this ``try`` at once
        held = _Held(_spool())
        sink.flush()  # what the caller wrote before the first piece
        board.written(-1)
        while (piece := board.take(front=True)) is not None:
            if board.turn() == piece:
                yield from produce(*pieces[piece])
                sink.flush()
                board.written(piece)
            else:
                held.keep(piece, produce(*pieces[piece]))
            yield from write_due()
            if progress is not None:
                progress((piece + 1) / len(pieces))
            _children_ended(waiting, 0)  # a child that failed stops the rest at once
        while held or board.turn() < len(pieces):
            yield from write_due()
            if held or board.turn() < len(pieces):
                if not waiting:
                    raise WorkerFailed("a process making rows of the matrix ended "
                                       "without writing them")
                _children_ended(waiting, _TURN_WAIT)
        while waiting:
            _children_ended(waiting, None)
        for child in children:  # each ending on its own meanwhile
            _reap(child.pid)
            child.pid = 0
        reap_ended()
    finally:
        if held is not None:
            held.spool.close()
        _abandon(children, board)
        gc.unfreeze()


def _children_ended(waiting: list[_Child], timeout: float | None) -> None:
    """Children of ``waiting`` that said they are done (within ``timeout`` seconds; None:
    until one has) taken out of it; one that ended without saying so fails the whole."""
    if not waiting:
        return
    poller = select.poll()
    for child in waiting:
        poller.register(child.ready, select.POLLIN)
    ready = {fd for fd, _ in poller.poll(None if timeout is None else timeout * 1000)}
    for child in [c for c in waiting if c.ready in ready]:
        said = os.read(child.ready, 1)
        if said == _CLOSED:  # as this process's own write would, once the reader is gone
            raise BrokenPipeError(errno.EPIPE, "the output was closed")
        if said != _WHOLE:  # the pipe's end: the child ended first
            code = _reap(child.pid)
            child.pid = 0
            raise WorkerFailed("a process making rows of the matrix failed "
                               f"({_ending(code) if code else 'without its rows'})")
        waiting.remove(child)


def _child(produce: Callable[[int, int], Iterable[bytes]], pieces: list[tuple[int, int]],
           board: Board, spool: IO[bytes], index: IO[bytes], *, said: int) -> None:
    """A child's work: pieces from the back into ``spool``, where each went into ``index``;
    then ``_WHOLE`` said through ``said`` (the parent need not wait for this exit)."""
    made: list[tuple[int, int, int]] = []
    offset = 0
    while (piece := board.take(front=False)) is not None:
        length = 0
        for block in produce(*pieces[piece]):
            spool.write(block)
            length += len(block)
        made.append((piece, offset, length))
        offset += length
    spool.flush()
    _pickle().dump(made, index)
    index.flush()
    os.write(said, _WHOLE)


def _collect(produce: Callable[[int, int], Iterable[bytes]], pieces: list[tuple[int, int]],
             board: Board, children: list[_Child], *,
             progress: Callable[[float], None] | None) -> Iterator[bytes]:
    """This process's part when the output is no file descriptor: pieces from the front,
    yielded as they are made; then the children's, read back from their spools in order."""
    try:
        yield b""  # taken by forked_parts, to enter this ``try`` at once
        taken = 0
        while (piece := board.take(front=True)) is not None:
            yield from produce(*pieces[piece])
            taken = piece + 1
            if progress is not None:
                progress(taken / len(pieces))
        placed: dict[int, tuple[_Child, int, int]] = {}  # piece -> (child, offset, length)
        for child in children:
            if os.read(child.ready, 1) != _WHOLE:  # the pipe's end: the child ended first
                code = _reap(child.pid)
                child.pid = 0
                raise WorkerFailed("a process making rows of the matrix failed "
                                   f"({_ending(code) if code else 'without its rows'})")
            child.index.seek(0)
            for piece, offset, length in _pickle().load(child.index):
                placed[piece] = (child, offset, length)
        for piece in range(taken, len(pieces)):
            child, offset, length = placed[piece]
            yield from _spooled(child.spool, offset, length)
        for child in children:  # each ending on its own meanwhile
            _reap(child.pid)
            child.pid = 0
        reap_ended()
    finally:
        _abandon(children, board)
        gc.unfreeze()


def _send(spool: IO[bytes], sink: IO[bytes], offset: int, length: int) -> bool:
    """Copy ``length`` bytes of ``spool`` from ``offset`` to ``sink`` in the kernel; False
    when the two files do not allow it (nothing was copied then)."""
    try:
        target = sink.fileno()
    except (AttributeError, OSError, ValueError):
        return False
    sink.flush()
    source = spool.fileno()
    done = 0
    while done < length:
        try:
            sent = os.sendfile(target, source, offset + done, length - done)
        except OSError:
            if done:
                raise
            return False
        if sent == 0:
            raise WorkerFailed("a process's rows were cut short")
        done += sent
    return True


def _abandon(children: list[_Child], board: Board) -> None:
    """Children still running are killed (an error, or the reader stopped); files closed."""
    for child in children:
        if child.pid:
            with contextlib.suppress(OSError):
                _reap(child.pid, kill=True)
            child.pid = 0
        child.spool.close()
        child.index.close()
        if child.ready >= 0:
            os.close(child.ready)
            child.ready = -1
    board.close()
