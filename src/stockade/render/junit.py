"""JUnit XML, the test report CI systems display: one ``<testsuite>`` per suite, one
``<testcase>`` per case, ``<failure>`` or ``<skipped>`` with the message and the detail.
Pure: returns the document as text."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass

PASSED, FAILED, SKIPPED = "passed", "failed", "skipped"


@dataclass(frozen=True, slots=True)
class Case:
    suite: str
    name: str
    status: str  # passed, failed or skipped
    message: str = ""
    detail: str = ""
    file: str = ""
    line: int = 0
    seconds: float = 0.0


def _clean(text: str) -> str:
    """XML 1.0 allows no control characters but tab, newline and carriage return."""
    return "".join(c for c in text if c in "\t\n\r" or ord(c) >= 0x20)


def to_junit(cases: Sequence[Case], name: str = "stockade test") -> str:
    root = ET.Element("testsuites", name=name, tests=str(len(cases)),
                      failures=str(sum(c.status == FAILED for c in cases)),
                      skipped=str(sum(c.status == SKIPPED for c in cases)))
    suites: dict[str, list[Case]] = {}
    for case in cases:
        suites.setdefault(case.suite, []).append(case)
    for suite_name, members in suites.items():
        suite = ET.SubElement(
            root, "testsuite", name=_clean(suite_name), tests=str(len(members)),
            failures=str(sum(c.status == FAILED for c in members)),
            errors="0", skipped=str(sum(c.status == SKIPPED for c in members)),
            time=f"{sum(c.seconds for c in members):.3f}")
        for case in members:
            attrs = {"name": _clean(case.name), "classname": _clean(suite_name),
                     "time": f"{case.seconds:.3f}"}
            if case.file:
                attrs["file"] = _clean(case.file)
            if case.line:
                attrs["line"] = str(case.line)
            element = ET.SubElement(suite, "testcase", attrs)
            if case.status == FAILED:
                failure = ET.SubElement(element, "failure", message=_clean(case.message),
                                        type="PromiseBroken")
                failure.text = _clean(case.detail)
            elif case.status == SKIPPED:
                ET.SubElement(element, "skipped", message=_clean(case.message))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"
