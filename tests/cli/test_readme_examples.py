"""The README's examples are real: every ``$ stockade matrix|query|hosts examples/...`` in a
console block is run, and its output must be what the README shows (up to a ``...`` line
where an example is abridged)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from stockade.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"```console\n(.*?)```", re.DOTALL)


def _examples() -> list[tuple[str, str]]:
    """(command line, expected stdout) for each example of an offline analysing command."""
    examples = []
    for block in BLOCK.findall((ROOT / "README.md").read_text()):
        parts = re.split(r"^\$ ", block, flags=re.MULTILINE)
        for part in parts[1:]:
            command, _, output = part.partition("\n")
            argv = shlex.split(command)
            if argv[:2] in (["stockade", "matrix"], ["stockade", "query"],
                            ["stockade", "hosts"]) and "examples/" in command:
                examples.append((command, output.rstrip("\n")))
    return examples


EXAMPLES = _examples()


def test_the_readme_has_examples() -> None:
    assert len(EXAMPLES) >= 5


@pytest.mark.parametrize(("command", "expected"), EXAMPLES, ids=[c for c, _ in EXAMPLES])
def test_readme_example(command: str, expected: str, capsys: pytest.CaptureFixture[str],
                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    code = main(shlex.split(command)[1:])
    out = capsys.readouterr().out.rstrip("\n").splitlines()
    shown = expected.splitlines()
    if not shown:  # the README shows the command only: it must run and answer
        assert code in (0, 1)
        assert out
    elif "..." in (line.strip() for line in shown):  # an abridged example: its head must match
        head = shown[:[line.strip() for line in shown].index("...")]
        assert out[:len(head)] == head
    else:
        assert out == shown
