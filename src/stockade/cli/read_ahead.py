"""Large inputs read by a second process while this one decodes and validates what it has
been handed: on two cores, reading a directory of YAML and building the cluster from it
take about as long as the longer of the two, not their sum.

The child reads the files exactly as ``read_files`` reads them (same limits, same errors,
same order); objects, unreadable documents (with ``broken``) and file texts (with ``texts``)
come back through ``forked.ahead``. An error that stops reading is raised here after the
objects read before it, as reading here would have raised it.

Given ``check`` (``model.build.check_object``), the child also decodes and validates each
object of a built-in kind itself, for as long as this process is busy elsewhere (importing
NumPy, say: a small cluster is read before that ends), and hands it over checked; once this
process reads, objects come as read and it checks them itself (``build_cluster`` takes
both). A checked object crosses the pipe as MessagePack (``msgspec``), which decodes it
into its type several times faster than this process would check it again.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import msgspec

from stockade.cli import forked
from stockade.errors import DocumentError
from stockade.model.build import Checked, RawObject, decoded_here
from stockade.model.types import Namespace, NetworkPolicy, Node, Origin, Pod, Service, Workload
from stockade.sources.files import read_files
from stockade.sources.limits import Budget

READ_AHEAD_BYTES = 256 << 10  # files smaller in all are read here: a process would not pay


class _Text(msgspec.Struct, frozen=True):
    """A file's text, for a caller that keeps them."""

    name: str
    text: str


def read_ahead_pays(files: Sequence[str], sizes: Sequence[int | None]) -> bool:
    """Whether ``files`` (found by ``expand_paths``, of ``file_sizes`` ``sizes``) are worth
    a second process: regular files of ``READ_AHEAD_BYTES`` or more in all, none of them
    over half of it (the child hands a file over once it has parsed all of it: one big
    ``kubectl get -o json`` List would keep this process waiting as long as reading it
    here), on a machine with a second core for it (``STOCKADE_WORKERS=1`` turns it off).
    Standard input, pipes and files that cannot be examined are read here."""
    if len(files) < 2 or forked.processes_allowed() < 2:
        return False
    regular = [size for size in sizes if size is not None]
    if len(regular) < len(sizes):
        return False
    total = sum(regular)
    return total >= READ_AHEAD_BYTES and 2 * max(regular) <= total


Check = Callable[[RawObject], Checked]


def read_ahead(files: Sequence[str], broken: list[DocumentError] | None,
               texts: dict[str, str] | None, check: Check | None = None
               ) -> Iterator[RawObject | Checked]:
    """The objects of ``files``, read by a child started now; ``broken`` (when given) and
    ``texts`` (when given) are filled as the objects come. With ``check``, objects may come
    checked (see above)."""
    demand = forked.Demand()
    try:
        handed = forked.ahead(
            lambda: _read(files, broken is not None, texts is not None, check, demand),
            "the process reading the input", demand)
    except forked.WorkerFailed:  # no process to be had (too many already): read here
        return read_files(files, broken=broken, texts=texts)
    return _sorted_out(handed, broken, texts)


_Object = tuple[str, int, Any]  # an object as handed over: its file, line and data
# A checked object as handed over: its type (an index of _TYPES), the object as MessagePack
# (its origin, file and line, within), its warnings and its pod phase.
CheckedObject = tuple[int, bytes, tuple[str, ...], str]
_TYPES = (Namespace, Pod, NetworkPolicy, Service, Workload, Node)  # model.build.Decoded
_CODES = {kind: code for code, kind in enumerate(_TYPES)}
# What the child hands over: objects as read or checked (or whole, with their reading's
# notes), unreadable documents, file texts.
_Handed = _Object | CheckedObject | RawObject | DocumentError | _Text


def _read(files: Sequence[str], collect: bool, keep_texts: bool, check: Check | None,
          demand: forked.Demand) -> Iterator[_Handed]:
    """In the child: each file's objects, then its unreadable documents and its text.
    Objects go as plain tuples of plain data, which marshal carries (``forked._FRAME``):
    checked while the reader does not wait yet, as read afterwards."""
    budget = Budget()
    found: list[DocumentError] | None = [] if collect else None
    encode = msgspec.msgpack.Encoder().encode
    for path in files:
        kept: dict[str, str] | None = {} if keep_texts else None
        try:
            for obj in read_files([path], broken=found, budget=budget, texts=kept):
                if check is not None and not demand.waiting() and decoded_here(obj):
                    checked = packed(check(obj), encode)
                    if checked is not None:
                        yield checked
                        continue
                # An object its reading noted something about goes whole (by pickle: rare).
                yield obj if obj.notes else (obj.origin.file, obj.origin.line, obj.data)
        except Exception:
            yield from _found(found, kept)  # handed over too when the reading stops
            raise
        yield from _found(found, kept)


def packed(checked: Checked, encode: Callable[[Any], bytes]) -> CheckedObject | None:
    """A checked object as handed over, or None for one that goes as read (and is checked
    again there): an invalid one, or one MessagePack cannot carry (a file name or a string
    that is not valid UTF-8, an integer beyond 64 bits in a field validation leaves alone),
    which the parent's own check keeps as one process keeps it."""
    code = _CODES.get(type(checked.obj))
    if code is None or checked.errors:
        return None
    try:
        data = encode(checked.obj)
    except (TypeError, ValueError, OverflowError):  # UnicodeEncodeError is a ValueError
        return None
    return code, data, tuple(checked.warnings), checked.phase


def _found(found: list[DocumentError] | None, kept: dict[str, str] | None
           ) -> Iterator[DocumentError | _Text]:
    """What a file's reading found besides objects: its unreadable documents, its text."""
    yield from found or ()
    if found:
        found.clear()
    for name, text in (kept or {}).items():
        yield _Text(name, text)


@functools.cache
def _decoder(code: int) -> msgspec.msgpack.Decoder[Any]:
    return msgspec.msgpack.Decoder(_TYPES[code])


def unpacked(item: CheckedObject) -> Checked:
    """A checked object handed over (``packed``), as it was."""
    code, obj, warnings, phase = item
    return Checked(_decoder(code).decode(obj), [], list(warnings), phase)


def _sorted_out(handed: Iterator[_Handed],
                broken: list[DocumentError] | None,
                texts: dict[str, str] | None) -> Iterator[RawObject | Checked]:
    origin = Origin("")
    for item in handed:
        if type(item) is tuple:
            if len(item) == 3:
                file, line, data = item
                if line != origin.line or file != origin.file:  # a List's items share one
                    origin = Origin(file, line)
                yield RawObject(data, origin)
            else:
                yield unpacked(item)
        elif isinstance(item, RawObject):
            yield item
        elif isinstance(item, DocumentError):
            assert broken is not None
            broken.append(item)
        elif isinstance(item, _Text):
            assert texts is not None
            texts[item.name] = item.text
