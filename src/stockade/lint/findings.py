"""Lint findings as plain data: which check, how severe, which object and which field of
it, what is wrong in this cluster and how to fix it. Renderers (text, JSON, SARIF, the
HTML report) read these values; nothing here formats for a medium."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from stockade.model.types import Origin


class Severity(enum.StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        """Higher is more severe: ``--fail-on`` compares ranks."""
        return {"error": 2, "warning": 1, "info": 0}[self.value]


@dataclass(frozen=True, slots=True)
class LintFinding:
    """One mistake in one object.

    ``path`` is the field inside the object the finding is about (``spec.egress[1].to[0]``;
    ``""`` for the whole object) and ``line`` its line in ``origin.file`` once a source map
    has placed it (0 until then: the object's own line stands for it). ``related`` names the
    endpoints concerned (``ns/pod`` or ``ns/Kind/name``; the first 25), so that a report
    can link them.
    """

    check: str
    severity: Severity
    kind: str
    namespace: str
    name: str
    origin: Origin
    path: str
    message: str
    hint: str = ""
    related: tuple[str, ...] = ()
    line: int = 0

    @property
    def object_ref(self) -> str:
        ident = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{self.kind} {ident}"

    @property
    def location(self) -> Origin:
        """Where a person should look: the field's line when known, else the object's."""
        return Origin(self.origin.file, self.line or self.origin.line)
