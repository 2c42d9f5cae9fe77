"""The progress line appears only on a terminal and only after its delay."""

from __future__ import annotations

import io

from stockade.cli.progress import Progress


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_silent_when_not_a_terminal() -> None:
    out = io.StringIO()
    p = Progress(out, "work", delay=0)
    p(0.5)
    p.done()
    assert out.getvalue() == ""


def test_silent_before_the_delay() -> None:
    out = _Terminal()
    p = Progress(out, "work", delay=3600)
    p(0.5)
    assert out.getvalue() == ""


def test_shows_and_clears_on_a_terminal() -> None:
    out = _Terminal()
    p = Progress(out, "work", delay=0)
    p(0.5)
    assert out.getvalue() == "\rwork  50%"
    p.done()
    assert out.getvalue().endswith("\r")


def test_silent_when_results_go_to_the_same_terminal() -> None:
    p = Progress(_Terminal(), "work", delay=0, output=_Terminal())
    assert not p.enabled
