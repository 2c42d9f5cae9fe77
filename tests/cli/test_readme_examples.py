"""The README's examples are real: every ``$ stockade matrix|query|hosts|lint|diff|test
examples/...`` in a console block is run, and its output must be what the README shows (up
to a ``...`` line where an example is abridged)."""

from __future__ import annotations

import re
import shlex
import subprocess
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
                            ["stockade", "hosts"], ["stockade", "lint"],
                            ["stockade", "diff"], ["stockade", "test"]) \
                    and "examples/" in command:
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


def test_every_example_reads_together(capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Users point stockade at the whole folder: no object is defined twice."""
    monkeypatch.chdir(ROOT)
    code = main(["check", "examples"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.startswith("valid: ")
    assert "more than once" not in err


def test_the_first_two_commands_stay_as_they_are() -> None:
    top = (ROOT / "README.md").read_text().split("```")[1]
    assert [line.split("#")[0].strip() for line in top.splitlines()[1:]] == [
        "./install.sh && .venv/bin/stockade matrix examples/konvoy",
        "./install.sh --dev && .venv/bin/pytest"]


def test_install_sh_says_how_to_put_stockade_on_path(tmp_path: Path) -> None:
    """The closing part of install.sh, run by bash in a copy of the tree's layout: without
    stockade on PATH it names each way, and the README names the same ones."""
    script = (ROOT / "install.sh").read_text()
    block = script[script.index("# The README's examples type"):]
    done = subprocess.run(["bash", "-c", block], cwd=tmp_path, capture_output=True,
                          text=True, timeout=30, check=False,
                          env={"PATH": "/usr/bin:/bin"})
    assert done.returncode == 0
    readme = (ROOT / "README.md").read_text()
    for way in ("source .venv/bin/activate", "ln -s \"$PWD/.venv/bin/stockade\" ~/.local/bin/",
                "pipx install .", "sudo .venv/bin/stockade lab"):
        assert way.replace("$PWD", str(tmp_path)) in done.stderr, way
        assert way in readme, way


def test_validation_doc_lists_what_is_validated() -> None:
    doc = (ROOT / "docs" / "validation.md").read_text()
    for field in ("spec.hostname", "spec.subdomain", "status.podIP", "status.podIPs[i].ip",
                  "mapping key", "duplicate field"):
        assert field in doc, field
