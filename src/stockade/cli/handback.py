"""A forked child's result handed back to its parent (``forked.beside``), pickled with its
arrays' memory out of band (pickle's protocol 5), so that hundreds of megabytes of NumPy
arrays are copied once, not taken apart and put together by the pickle.

The child writes into an unlinked temporary file a header (the pickle's length and the
number of arrays), each array's address and length in the child's memory, and the pickle
(``send``). The parent reads them (``Handed.read``) and copies every array straight out of
the child's memory into memory of its own (``pull``: ``process_vm_readv``) while the child
waits: the child writes nothing more, and no page of the arrays goes through the page
cache. Where the kernel refuses that (``process_vm_readv`` missing, or forbidden by a
seccomp filter or Yama's ptrace scope), the child is asked to write the arrays into the file
after the pickle (``write_arrays``) and the parent reads them from there (``read_arrays``).
"""

from __future__ import annotations

import errno
import functools
import os
import struct
from collections.abc import Callable, Sequence
from typing import IO, TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

_HEADER = struct.Struct("qq")  # the pickle's length, the number of arrays
_ENTRY = struct.Struct("QQ")  # an array's address in the child and its length in bytes
IOV_MAX = 1024  # iovecs per process_vm_readv call, at most (Linux's UIO_MAXIOV)
# Bytes per call, at most: Linux ends a call at 2 GiB less a page, a short copy here.
CALL_BYTES = 1 << 30

Readv = Callable[[int, int, int, int, int, int], int]


def send(result: object, spool: IO[bytes]) -> list[memoryview]:
    """In the child: ``result``'s header, array table and pickle written into ``spool``;
    its arrays' memory, which must stay as it is until the parent has taken it."""
    import pickle  # imported when first needed, as by ``forked``

    buffers: list[Any] = []
    data = pickle.dumps(result, protocol=5, buffer_callback=buffers.append)
    raws: list[memoryview] = [buffer.raw() for buffer in buffers]
    spool.write(_HEADER.pack(len(data), len(raws)))
    spool.write(b"".join(_ENTRY.pack(_address(raw), raw.nbytes) for raw in raws))
    spool.write(data)
    spool.flush()
    return raws


def _address(raw: memoryview) -> int:
    """Where ``raw``'s bytes start in this process (0 for none)."""
    import numpy as np

    if not raw.nbytes:
        return 0
    address: int = np.frombuffer(raw, dtype=np.uint8).__array_interface__["data"][0]
    return address


def write_arrays(raws: Sequence[memoryview], spool: IO[bytes]) -> None:
    """In the child, when the parent cannot ``pull``: the arrays after the pickle."""
    for raw in raws:
        spool.write(raw)
    spool.flush()


class Handed(NamedTuple):
    """What ``send`` wrote, read back by the parent."""

    data: bytearray  # the pickle
    addresses: list[int]  # each array's in the child
    sizes: list[int]  # each array's length in bytes
    arrays_at: int  # where ``write_arrays`` writes the arrays in the file

    @classmethod
    def read(cls, spool: IO[bytes]) -> Handed:
        source = spool.fileno()
        length, count = _HEADER.unpack(_read_at(source, bytearray(_HEADER.size), 0))
        table = _read_at(source, bytearray(_ENTRY.size * count), _HEADER.size)
        entries = list(_ENTRY.iter_unpack(table))
        at = _HEADER.size + len(table)
        data = _read_at(source, bytearray(length), at)
        return cls(data, [a for a, _ in entries], [n for _, n in entries], at + length)

    def loads(self, buffers: Sequence[object]) -> Any:
        import pickle

        return pickle.loads(self.data, buffers=buffers)


def read_arrays(spool: IO[bytes], handed: Handed) -> list[bytearray]:
    """The arrays ``write_arrays`` wrote, each read into memory of its own (released with
    it, not with the others)."""
    source, at, arrays = spool.fileno(), handed.arrays_at, []
    for size in handed.sizes:
        arrays.append(_read_at(source, bytearray(size), at))
        at += size
    return arrays


def pull(pid: int, handed: Handed) -> list[npt.NDArray[np.uint8]] | None:
    """The arrays of ``handed`` copied out of child ``pid``'s memory, each into memory of
    its own; None if the kernel refuses, or copies less than asked (then the child must
    write them). Raises ``ProcessLookupError`` if the child is gone."""
    import ctypes

    import numpy as np

    if not handed.sizes:  # nothing to copy: no call, nor the C library, needed
        return []
    readv = process_vm_readv()
    if readv is None:
        return None
    arrays = [np.empty(size, dtype=np.uint8) for size in handed.sizes]
    pieces = _pieces([array.__array_interface__["data"][0] for array in arrays],
                     handed.addresses, handed.sizes)
    ends = np.cumsum(pieces[:, 2])
    start = 0
    while start < len(pieces):  # calls of at most IOV_MAX pieces and CALL_BYTES bytes
        done = int(ends[start - 1]) if start else 0
        stop = min(start + IOV_MAX, int(np.searchsorted(ends, done + CALL_BYTES, "right")))
        mine = np.ascontiguousarray(pieces[start:stop, 0::2])  # struct iovec: base, length
        theirs = np.ascontiguousarray(pieces[start:stop, 1:])
        ctypes.set_errno(0)
        got = readv(pid, mine.ctypes.data, len(mine), theirs.ctypes.data, len(theirs), 0)
        if got < 0 and ctypes.get_errno() == errno.ESRCH:
            raise ProcessLookupError(errno.ESRCH, os.strerror(errno.ESRCH))
        if got != int(ends[stop - 1]) - done:  # refused, or a part only
            return None
        start = stop
    return arrays


def _pieces(local: Sequence[int], remote: Sequence[int], sizes: Sequence[int]
            ) -> npt.NDArray[np.uint64]:
    """Rows of (address here, address in the child, length): an array's own, or, for an
    array of more than ``CALL_BYTES``, pieces of it of that length at most."""
    import numpy as np

    if max(sizes, default=0) <= CALL_BYTES:
        return np.array([local, remote, sizes], dtype=np.uint64).T
    return np.array([(here + at, there + at, min(CALL_BYTES, size - at))
                     for here, there, size in zip(local, remote, sizes, strict=True)
                     for at in range(0, size, CALL_BYTES)], dtype=np.uint64).reshape(-1, 3)


@functools.cache
def process_vm_readv() -> Readv | None:
    """The C library's ``process_vm_readv``, or None where it has none (or where a pointer
    is not 64 bits wide, as ``pull``'s vectors are laid out)."""
    import ctypes

    if ctypes.sizeof(ctypes.c_void_p) != 8:
        return None
    try:
        function = ctypes.CDLL(None, use_errno=True).process_vm_readv
    except (OSError, AttributeError):
        return None
    function.restype = ctypes.c_ssize_t
    function.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_ulong, ctypes.c_void_p,
                         ctypes.c_ulong, ctypes.c_ulong]
    readv: Readv = function
    return readv


def _read_at(source: int, buffer: bytearray, offset: int) -> bytearray:
    """``buffer`` filled from file ``source`` at ``offset``; ``EOFError`` if the file ends
    first."""
    view = memoryview(buffer)
    while view:
        got = os.preadv(source, [view], offset)
        if not got:
            raise EOFError("handed back too little")
        view, offset = view[got:], offset + got
    return buffer
