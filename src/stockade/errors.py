"""The exceptions stockade raises, split by what the caller should do about them.

    StockadeError            base class; never raised itself
    ├── InputError           the user's input is wrong or unreadable: fix the input (exit 2)
    │   ├── DocumentError    one document cannot be read (broken YAML, not an object);
    │   │                    --skip-invalid skips it and reads the others
    │   └── InvalidObjects   objects failed validation; carries every Finding
    ├── UsageError           the command line is wrong (exit 2)
    └── EnvironmentProblem   the machine lacks something (root, nft, a kernel feature)
        └── CommandFailed    an external command (nft, ip) failed; carries its stderr
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from stockade.model.types import Origin

if TYPE_CHECKING:
    from stockade.model.errors import Finding


class StockadeError(Exception):
    """Base of every error stockade raises on purpose."""


class InputError(StockadeError):
    """Input that cannot be read or used: a missing file, broken YAML, an unknown pod."""


class DocumentError(InputError):
    """One document of a stream that cannot be read; the stream's other documents can."""

    def __init__(self, origin: Origin, problem: str) -> None:
        self.origin = origin
        self.problem = problem
        super().__init__(f"{origin}: {problem}")

    def __reduce__(self) -> tuple[type[DocumentError], tuple[Origin, str]]:
        return DocumentError, (self.origin, self.problem)  # pickled by a reading child


class InvalidObjects(InputError):
    """Invalid objects; ``skippable`` when ``--skip-invalid`` would analyse the rest (not
    for the test files of ``stockade test``, whose promises are never skipped)."""

    def __init__(self, findings: Sequence[Finding], skippable: bool = True) -> None:
        self.findings = tuple(findings)
        self.skippable = skippable
        super().__init__("\n".join(str(f) for f in self.findings))

    def __reduce__(self) -> tuple[type[InvalidObjects], tuple[tuple[Finding, ...], bool]]:
        return InvalidObjects, (self.findings, self.skippable)


class UsageError(StockadeError):
    """A command line that does not make sense. ``program`` is the (sub)command whose
    arguments are wrong, as in ``stockade query: error: ...``."""

    def __init__(self, message: str, program: str = "stockade") -> None:
        super().__init__(message)
        self.program = program

    def __reduce__(self) -> tuple[type[UsageError], tuple[str, str]]:
        return UsageError, (str(self), self.program)


class EnvironmentProblem(StockadeError):
    """Something the machine must provide is missing (root, a binary, a kernel feature)."""


class CommandFailed(EnvironmentProblem):
    def __init__(self, argv: Sequence[str], returncode: int, stderr: str) -> None:
        self.argv = tuple(argv)
        self.returncode = returncode
        self.stderr = stderr
        super().__init__(f"{' '.join(self.argv)} exited {returncode}: {stderr.strip()}")

    def __reduce__(self) -> tuple[type[CommandFailed], tuple[tuple[str, ...], int, str]]:
        return CommandFailed, (self.argv, self.returncode, self.stderr)
