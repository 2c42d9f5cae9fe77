"""``benchmarks.alternate``: both sides really run, in turns, and the base's worktree goes."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from benchmarks.alternate import REPO, Side, alternate, main

EXAMPLE = REPO / "examples" / "konvoy"


def _worktrees() -> str:
    return subprocess.run(["git", "-C", str(REPO), "worktree", "list"], capture_output=True,
                          text=True, check=True).stdout


def test_the_base_revision_against_this_checkout(capsys: pytest.CaptureFixture[str]) -> None:
    before = _worktrees()
    code = main(["--base", "HEAD", "--rounds", "2", "--", "matrix", str(EXAMPLE),
                 "-o", "json"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "base HEAD: min" in out and "this checkout: min" in out and "over 2 runs" in out
    assert "output: the same bytes on every run" in out
    assert _worktrees() == before  # the temporary worktree is removed


def test_sides_take_turns_and_differing_output_is_told(tmp_path: Path) -> None:
    """Each side's runs use its own code (here: one side's stdout differs) and the order
    alternates between rounds."""
    log = tmp_path / "order"
    script = tmp_path / "probe.py"
    script.write_text("import os, sys\n"
                      f"open({str(log)!r}, 'a').write(os.environ['PYTHONPATH'] + '\\n')\n"
                      "print(os.environ['PYTHONPATH'])\n")
    sides = [Side("a", tmp_path / "a"), Side("b", tmp_path / "b")]
    alternate(sides, ["python3", str(script)], 3)
    order = [Path(line).name for line in log.read_text().splitlines()]
    assert order == ["a", "b", "b", "a", "a", "b"]
    assert all(len(side.walls) == 3 and len(side.digests) == 1 for side in sides)
    assert sides[0].digests != sides[1].digests
