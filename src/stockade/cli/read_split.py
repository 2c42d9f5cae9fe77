"""One large file (a ``kubectl get -o json`` List, a ``snapshot --format json``) read by two
processes, each checking part of its objects: a directory of many files is read ahead by a
second process (``read_ahead``), but one file would keep this process waiting until the
second had parsed all of it, and then the checking would run on one core.

This process reads the file's bytes once, before the fork, and both processes parse that
same text (in parallel: the parsing is what cannot be shared out; the child sees the text
through the fork, and a file replaced meanwhile cannot give the two different objects). Then
they meet in the middle: this process takes the objects from the front (``build_cluster``
checks them as they come), the child checks them from the back and hands each over checked,
as MessagePack (``read_ahead.packed``), or as ``None`` for one this process checks itself
(an invalid one, one its reading noted something about, one of a kind checked elsewhere).
Where they meet depends on how fast each goes (a policy costs twice a pod to check), not on
a guess. Two counters in memory both processes share say how far each has come
(``_Meeting``); they only steer the work: an object both took is this process's, and one
the child did not hand over is checked here. The objects come out in the file's order, each
checked by the same ``check``: the answer is the one a single process gives. Meanwhile the
child holds a second parsed copy of the file (about as much memory as this process's).

This process trusts the child only as far as it can tell: its own reading decides what the
objects, errors and file texts are. A child that counts a different number of objects,
stops early, fails or cannot be started leaves the rest to be checked here.
"""

from __future__ import annotations

import mmap
from collections.abc import Iterator, Sequence
from typing import NamedTuple

import msgspec

from stockade.cli import forked
from stockade.cli.read_ahead import Check, CheckedObject, packed, unpacked
from stockade.errors import DocumentError
from stockade.model.build import Checked, RawObject, decoded_here
from stockade.sources.files import parse_file_text, read_text
from stockade.sources.limits import Budget

SPLIT_BYTES = 8 << 20  # one file this large is read by two processes


def read_split_pays(files: Sequence[str], sizes: Sequence[int | None]) -> bool:
    """Whether the input is one regular file of ``SPLIT_BYTES`` or more, on a machine with
    a second core for it (``STOCKADE_WORKERS=1`` turns it off)."""
    return (len(files) == 1 and sizes[0] is not None and sizes[0] >= SPLIT_BYTES
            and forked.processes_allowed() >= 2)


class _Meeting:
    """Where the two processes are: the next object this process takes from the front,
    and the last the child took from the back. Two aligned 64-bit integers in anonymous
    memory made before the fork, which both processes share, each read and written whole
    (a ``memoryview`` of them copies eight bytes at once; ``struct`` writes byte by byte,
    and a place read half written stopped this process at once). A place read late only
    moves where they meet."""

    _UNCLAIMED = 1 << 62  # the child's place before it has parsed the file

    def __init__(self) -> None:
        self._memory = mmap.mmap(-1, 16)
        self._places = memoryview(self._memory).cast("q")
        self._places[1] = self._UNCLAIMED

    def front_may_take(self, at: int) -> bool:
        """This process: whether object ``at`` is still free; if so it is taken."""
        if at >= self._places[1]:
            return False
        self._places[0] = at + 1
        return True

    def back_may_take(self, at: int) -> bool:
        """The child: whether object ``at`` is still free; if so it is taken."""
        self._places[1] = at
        return at >= self._places[0]


class _Read(NamedTuple):
    """The file's text, read once before the fork, and its name and budget for parsing."""

    text: str
    path: str
    budget: Budget

    def objects(self, broken: list[DocumentError] | None) -> list[RawObject]:
        return parse_file_text(self.text, self.path, broken, self.budget)


def read_split(files: Sequence[str], broken: list[DocumentError] | None, budget: Budget,
               texts: dict[str, str] | None, check: Check) -> Iterator[RawObject | Checked]:
    """The objects of the one file of ``files`` as ``read_files`` reads them (``broken``,
    ``budget`` and ``texts`` as there; reading errors raised now), those from the back
    checked by a child started now."""
    (path,) = files
    text = read_text(path, budget)
    if texts is not None:
        texts[path] = text
    collect = broken is not None
    meeting = _Meeting()
    # The child's budget is this one as it is now (a copy, made by the fork). Until this
    # process reads, what the child hands over waits in the child (``forked.Demand``).
    read = _Read(text, path, budget)
    del text
    try:
        handed = forked.ahead(lambda: _from_the_back(read, collect, check, meeting),
                              "the process checking part of the input", forked.Demand())
    except forked.WorkerFailed:  # no process to be had (too many already): all here
        return iter(read.objects(broken))
    return _merged(read, broken, handed, meeting)


_Handed = tuple[int, CheckedObject | None]  # an object's place, and the object checked


def _from_the_back(read: _Read, collect: bool, check: Check, meeting: _Meeting
                   ) -> Iterator[int | _Handed]:
    """In the child: how many objects it read, then from the last one back, as long as
    this process has not taken them, each object's place and the object checked (or
    ``None``: checked by the reader)."""
    objects: list[RawObject | None] = list(read.objects([] if collect else None))
    yield len(objects)
    encode = msgspec.msgpack.Encoder().encode
    for at in range(len(objects) - 1, -1, -1):
        if not meeting.back_may_take(at):
            return
        obj, objects[at] = objects[at], None  # let it go once handed over
        assert obj is not None
        yield at, (packed(check(obj), encode) if not obj.notes and decoded_here(obj)
                   else None)


def _merged(read: _Read, broken: list[DocumentError] | None,
            handed: Iterator[int | _Handed], meeting: _Meeting
            ) -> Iterator[RawObject | Checked]:
    """This process's objects in order: as parsed here up to where the two met, then as
    the child checked them where it did. Parsing here raises what parsing raises, before
    any object."""
    try:
        objects = read.objects(broken)
        del read  # the text, unless ``texts`` keeps it
        at = 0
        while at < len(objects) and meeting.front_may_take(at):
            yield objects[at]
            at += 1
        if at == len(objects):
            return  # all taken here: the child is stopped, whatever it made
        checked = _collected(handed, len(objects), at)
        for place in range(at, len(objects)):
            item = checked.get(place)
            yield objects[place] if item is None else unpacked(item)
    finally:
        close = getattr(handed, "close", None)
        if close is not None:
            close()


def _collected(handed: Iterator[int | _Handed], count: int, taken: int
               ) -> dict[int, CheckedObject]:
    """What the child checked of the objects this process did not take (``taken`` and
    on), if it read as many objects as this process (else nothing)."""
    checked: dict[int, CheckedObject] = {}
    try:
        if next(handed, None) != count:
            return checked
        for item in handed:
            if isinstance(item, tuple):
                place, obj = item
                if obj is not None and place >= taken:
                    checked[place] = obj
    except Exception:  # its reading failed, or it died: the rest is checked here
        pass
    return checked
