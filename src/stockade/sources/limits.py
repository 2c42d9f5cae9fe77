"""How much input stockade reads in one run, and why: every limit is checked while reading,
so hostile or mistaken input (``/dev/zero``, millions of tiny documents, nesting a parser
cannot follow) ends in one clear error instead of exhausting memory or the stack.

The limits are sized against the largest cluster the benchmarks generate, Kubernetes' own
limit of 150,000 pods (5,000 namespaces, 50,000 policies): 116 MB of YAML in 205,000
documents (``benchmarks/generate.py DIR --pods 150000 --namespaces 5000 --policies
50000``), and, with the Deployments, ReplicaSets and StatefulSets that own the pods
(``--workloads --format json``), a 574 MB ``kubectl get -o json`` List of 296,000 items
and 21.7 million values. Every command accepts about twice that; beyond, memory (about 2 to
7 KB per object, 100 bytes per parsed value) would outgrow ordinary machines.
"""

from __future__ import annotations

from stockade.errors import InputError

MAX_INPUT_BYTES = 1024 * 1024 * 1024
"""Bytes read from all files and stdin of one run together (1 GiB): nine times the
150,000-pod cluster's YAML, 1.9 times its JSON List with workloads, indented as kubectl
indents it."""

MAX_OBJECTS = 500_000
"""Documents and List items of one run together: 1.7 times the 296,000 of the 150,000-pod
cluster with its workloads. Counted from the ``---`` markers before a stream is parsed, so
that a file of millions of tiny documents is refused before it is read into memory."""

MAX_VALUES = 45_000_000
"""Mappings, lists and their entries of one run together, estimated before parsing from the
characters that make them (``:``, ``- ``, ``,``, ``{``, ``[``; an upper bound). Each costs
50 to 300 bytes once parsed, so this bounds the parsed data to a few GB whatever its shape:
a List of millions of tiny items is refused before it is read into memory, as millions of
tiny documents are. The 150,000-pod cluster is 7 million in YAML, 21.7 million as a JSON
List with its workloads. What YAML aliases add is counted too, once read (each document is
also held to Kubernetes' own alias ratio: ``yaml_docs.alias_expansion``)."""

MAX_DEPTH = 200
"""How deeply a document may nest mappings and lists. Kubernetes objects nest about 10
levels (a container port of a CronJob: 12), a CustomResourceDefinition's schema rarely more
than 60; deeper input is an attack on the parsers (Python's JSON reader overflows near
1,000 levels, the YAML readers stop at 256 to 1,000) and on whatever walks the data."""

MAX_INTEGER_DIGITS = 4300
"""Python's own limit on converting decimal text to an integer (conversion time grows with
the square of the length). A longer integer in a manifest is kept as a ``LongNumber``
(``stockade.model.decode``), which validation reports as out of range."""

YAML_CHUNK_BYTES = 4 * 1024 * 1024
"""A YAML stream is parsed a few documents at a time, in chunks of about this many bytes
(a single larger document is one chunk): the parser's own working memory stays small
whatever the stream's length, and a broken document is found by itself."""

_SNAPSHOT_HINT = ("; for a cluster this large, read it with `stockade snapshot`, which leaves "
                  "out managedFields and status, or strip them before")

_VALUE_MARKS = (":", "- ", ",", "{", "[")
_NOT_MARKS = bytes(c for c in range(256) if chr(c) not in ":,{[")


class Budget:
    """What one run has read so far, against ``MAX_INPUT_BYTES``, ``MAX_OBJECTS`` and
    ``MAX_VALUES``."""

    def __init__(self, max_bytes: int = MAX_INPUT_BYTES, max_objects: int = MAX_OBJECTS,
                 max_values: int = MAX_VALUES) -> None:
        self.max_bytes = max_bytes
        self.max_objects = max_objects
        self.max_values = max_values
        self.bytes = 0
        self.objects = 0
        self.values = 0

    @property
    def bytes_left(self) -> int:
        return self.max_bytes - self.bytes

    def check_bytes(self, count: int, where: str) -> None:
        """Refuse ``count`` more bytes if they would exceed the limit."""
        if self.bytes + count > self.max_bytes:
            raise InputError(
                f"{where}: too large: stockade reads at most {_size(self.max_bytes)} of "
                "manifests in one run (MAX_INPUT_BYTES in stockade.sources.limits)")

    def check_files(self, size: int, files: int, where: str) -> None:
        """Refuse at once ``files`` regular files of ``size`` bytes in all (``where`` names
        them) if they exceed the limit: a run that could not finish does not begin reading
        (a raw ``kubectl get -o yaml`` would otherwise be read for minutes before a limit
        stops it)."""
        if self.bytes + size > self.max_bytes:
            raise InputError(
                f"{where}: too large: {_size(size)} in {files:,} file"
                f"{'' if files == 1 else 's'}; stockade reads at most {_size(self.max_bytes)} "
                f"of manifests in one run (MAX_INPUT_BYTES in stockade.sources.limits)"
                + _SNAPSHOT_HINT)

    def take_bytes(self, count: int, where: str) -> None:
        self.check_bytes(count, where)
        self.bytes += count

    def take_values(self, text: str | bytes, where: str) -> None:
        """Count the values ``text`` may hold (an upper bound) against ``MAX_VALUES``. Bytes
        are counted four times faster: all single-character marks in one pass."""
        if isinstance(text, bytes):
            estimate = len(text.translate(None, _NOT_MARKS)) + text.count(b"- ")
        else:
            estimate = sum(text.count(mark) for mark in _VALUE_MARKS)
        if self.values + estimate > self.max_values:
            raise InputError(
                f"{where}: too large: about {estimate:,} values (mappings, lists and their "
                f"entries); stockade reads at most {self.max_values:,} in one run "
                "(MAX_VALUES in stockade.sources.limits)" + _SNAPSHOT_HINT)
        self.values += estimate

    def take_aliased(self, count: int, where: str) -> None:
        """Count the values YAML aliases add (``alias_expansion``; each document is held to
        Kubernetes' own ratio) against ``MAX_VALUES`` too: the text does not show them."""
        if self.values + count > self.max_values:
            raise InputError(
                f"{where}: too large: its YAML aliases stand for {count:,} more values "
                f"(mappings, lists and their entries); stockade reads at most "
                f"{self.max_values:,} in one run (MAX_VALUES in stockade.sources.limits)")
        self.values += count

    def take_objects(self, count: int, where: str) -> None:
        if self.objects + count > self.max_objects:
            raise InputError(
                f"{where}: too many objects: stockade reads at most {self.max_objects:,} "
                "documents and List items in one run (MAX_OBJECTS in "
                "stockade.sources.limits)")
        self.objects += count


def _size(count: int) -> str:
    return f"{count // 2**20} MiB" if count >= 2**20 else f"{count:,} bytes"
