"""The codebase stays ``ruff`` clean and ``mypy --strict`` clean: checked with the real tools
on every test run, so CI refuses a change that breaks either."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=600,
                          check=False)


def test_ruff_clean() -> None:
    result = _run(str(BIN / "ruff"), "check", "src", "tests", "benchmarks", "scripts")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_clean() -> None:
    result = _run(str(BIN / "mypy"))  # files and --strict come from pyproject.toml
    assert result.returncode == 0, result.stdout + result.stderr


IO_IMPORT = re.compile(
    r"^\s*(?:import|from)\s+(?:subprocess|socket|yaml|yaml_rs|pathlib|shutil|os|lightkube)\b"
    r"|\bopen\(|\bos\.system\(", re.MULTILINE)


def test_engine_and_model_do_no_io() -> None:
    """The pure layers import nothing that reaches files, sockets or processes."""
    pure = [*(ROOT / "src/stockade/engine").glob("*.py"),
            *(ROOT / "src/stockade/model").rglob("*.py"),
            *(ROOT / "src/stockade/render").glob("*.py"),
            *(ROOT / "src/stockade/lint").glob("*.py"),
            *(ROOT / "src/stockade/hosts").glob("*.py"),
            *(p for p in (ROOT / "src/stockade/nft").glob("*.py") if p.name != "apply.py")]
    offenders = [f"{path.relative_to(ROOT)}: {m.group(0).strip()}"
                 for path in pure if path.name != "write.py"
                 for m in IO_IMPORT.finditer(path.read_text())]
    assert offenders == []


def test_the_io_check_can_fail() -> None:
    assert IO_IMPORT.search("import subprocess\n")
    assert IO_IMPORT.search("    with open(path) as fh:\n")
    assert not IO_IMPORT.search('"""Reads YAML."""\n')
