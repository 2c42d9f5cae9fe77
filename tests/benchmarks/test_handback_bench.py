"""``benchmarks.handback``: both ways really run, in turns, each timed, and the copy is
restored afterwards."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from benchmarks.generate import Params, generate, write
from benchmarks.handback import main

from processes import children
from stockade.cli import handback, timings


def test_both_ways_take_turns_and_the_copy_is_restored(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    write(generate(Params(pods=300, namespaces=10, policies=100, seed=3)), tmp_path)
    pulling, copied = handback.pull, []

    def pull(pid: int, handed: handback.Handed) -> Any:
        arrays = pulling(pid, handed)
        copied.append(arrays is not None)
        return arrays

    monkeypatch.setattr(handback, "pull", pull)
    readv, measuring = handback.process_vm_readv, timings.ENABLED
    assert main([str(tmp_path), "--rounds", "2"]) == 0
    captured = capsys.readouterr()
    assert handback.process_vm_readv is readv and timings.ENABLED is measuring
    order = [line.split(":")[0] for line in captured.err.splitlines() if "prepared in" in line]
    assert order == ["pulled", "written", "written", "pulled"]
    assert copied == [True, False, False, True]  # the "written" runs went through the file
    for way in ("pulled", "written"):
        assert f"{way}: after its share" in captured.out
    assert captured.out.count("over 2 runs") == 2
    assert children(zombies=True) == set()
