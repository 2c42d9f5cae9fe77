"""A small run of the scale benchmark (the full one is not part of CI): its growth table
over two sizes, each answer checked against the reference, and the memory of forked
workers counted."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from benchmarks import scale


def test_growth_over_two_sizes_checks_every_answer(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    code = scale.main(["--sizes", "300,900", "--no-targets", "--samples", "300",
                       "--work", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0, out
    rows = [line for line in out.splitlines() if line.startswith("| 300 ") or
            line.startswith("| 900 ")]
    assert len(rows) == 2 and all("300 ok" in row for row in rows)
    assert "300 -> 900 pods: CPU x" in out


def test_peak_memory_counts_forked_children(tmp_path: Path) -> None:
    """A parent that forks a child, each touching 200 MiB of its own: the peak is their
    sum, not the larger one (which is all ``ru_maxrss`` would say)."""
    script = tmp_path / "fork.py"
    script.write_text(textwrap.dedent("""
        import os, time
        pid = os.fork()
        block = bytearray(200 << 20)
        for i in range(0, len(block), 4096):
            block[i] = 1
        time.sleep(1.5)
        if pid:
            os.waitpid(pid, 0)
        else:
            os._exit(0)
    """))
    run = scale.run([sys.executable, str(script)], None, 60)
    assert run.ok
    assert run.peak_mib > 400
