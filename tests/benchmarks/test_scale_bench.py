"""A small run of the scale benchmark (the full one is not part of CI): its growth table
over two sizes, each answer checked against the reference, and the memory of forked
workers counted."""

from __future__ import annotations

import argparse
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


def test_the_700_pod_ratio_starts_each_tool_once_unmeasured(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Stockade runs once before its five measured runs, network-config-analyzer once
    (``--help``) before its measured one; the ratio is of the measured runs. Both tools are
    test doubles here (a script that logs its arguments and sleeps): what is tested is the
    harness's order of runs, not either tool."""
    log = tmp_path / "log"
    tool = tmp_path / "tool"
    tool.write_text(textwrap.dedent(f"""\
        #!{sys.executable}
        import sys, time
        with open({str(log)!r}, "a") as f:
            f.write(" ".join(sys.argv[1:2]) + "\\n")
        time.sleep(1.0 if sys.argv[1] == "--connectivity" else 0.01)
        """))
    tool.chmod(0o755)
    monkeypatch.setattr(scale, "ensure_nca", lambda venv: tool)
    monkeypatch.setattr(scale, "stockade", lambda *args: [str(tool), *args])
    target = scale.nca_target("yaml", argparse.Namespace(
        seed=1, work=tmp_path / "work", timeout=60.0, nca_timeout=60.0))
    assert log.read_text().split("\n")[:-1] == ["matrix"] * 6 + ["--help", "--connectivity"]
    ratio = float(target.measured.rsplit(": ", 1)[1].rstrip("x"))
    assert ratio >= 10  # the analysis (1 s) against the short runs
