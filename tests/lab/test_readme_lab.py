"""The README's lab example is real (root): every ``$ sudo stockade lab ...`` line of its
console block runs, in order, under a lab name of this test's own, and prints what the
README shows (up to a ``...`` line where it is abridged)."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from lab_support import ROOT, leftovers

from stockade.lab import lifecycle

pytestmark = pytest.mark.lab

BLOCK = re.compile(r"```console\n(.*?)```", re.DOTALL)


def _lab_examples() -> list[tuple[str, str]]:
    for block in BLOCK.findall((ROOT / "README.md").read_text()):
        if "$ sudo stockade lab up" not in block:
            continue
        steps = []
        for part in re.split(r"^\$ ", block, flags=re.MULTILINE)[1:]:
            command, _, output = part.partition("\n")
            steps.append((command, output.rstrip("\n")))
        return steps
    return []


def test_the_readme_lab_example_runs_as_shown() -> None:
    steps = _lab_examples()
    assert [c.split()[3] for c, _ in steps] == ["up", "exec", "exec", "probe", "down"]
    name = f"readme{os.getpid() % 10000}"
    stockade = f"{sys.executable} -m stockade"
    try:
        for command, shown in steps:
            line = command.replace("sudo stockade", stockade).replace(" demo", f" {name}")
            done = subprocess.run(["sh", "-c", line], cwd=ROOT, capture_output=True,
                                  text=True, check=False, timeout=120)
            assert done.returncode == 0, (command, done.stderr)
            out = done.stdout.replace(name, "demo").rstrip("\n").splitlines()
            expected = shown.splitlines()
            if "..." in expected:
                expected = expected[:expected.index("...")]
                out = out[:len(expected)]
            if expected:
                assert out == expected, command
    finally:
        lifecycle.down(name)
    assert leftovers(name) == []
