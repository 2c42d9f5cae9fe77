"""``stockade matrix --by namespace|workload``: the roll-up equals the one computed from the
full per-pod matrix, in every output form, and refuses what it cannot show."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from benchmarks.generate import Params, generate, write

from matrix_doc import by_name
from stockade.cli.main import main
from stockade.engine.ports import PortSpan, format_connections, parse_connections

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = [str(ROOT / "examples" / name) for name in ("konvoy", "shop")]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def every(texts: list[str]) -> str:
    common = parse_connections(texts[0])
    for text in texts[1:]:
        other = parse_connections(text)
        common = [PortSpan(a.protocol, max(a.first, b.first), min(a.last, b.last))
                  for a in common for b in other
                  if a.protocol == b.protocol and max(a.first, b.first) <= min(a.last, b.last)]
    return format_connections(common)


def expected(capsys: pytest.CaptureFixture[str], path: str,
             unit: Any) -> tuple[int, dict[tuple[str, str], Any]]:
    """The number of pods, and the roll-up worked out from ``matrix --pods -o json``, pair of
    pods by pair."""
    _, out, _ = run(capsys, "matrix", path, "--pods", "-o", "json")
    _, rows = by_name(json.loads(out))
    cells: dict[tuple[str, str], list[str]] = {}
    for src, row in rows.items():
        for dst in rows:
            if src != dst:
                text = next((t for t, dsts in row.items() if t != "*" and dst in dsts),
                            row["*"])
                cells.setdefault((unit(src), unit(dst)), []).append(text)
    return len(rows), {
        key: {"every": every(texts), "pairs": len(texts), "all": texts.count("all"),
              "none": texts.count("none"),
              "some": len(texts) - texts.count("all") - texts.count("none")}
        for key, texts in cells.items()}


@pytest.mark.parametrize("path", EXAMPLES)
def test_namespaces_as_the_pairs_of_pods_say(capsys: pytest.CaptureFixture[str],
                                            path: str) -> None:
    code, out, _ = run(capsys, "matrix", path, "--by", "namespace", "-o", "json")
    assert code == 0
    doc = json.loads(out)
    assert doc["by"] == "namespace"
    names = [u["name"] for u in doc["units"]]
    pods, want = expected(capsys, path, lambda key: key.split("/")[0])
    assert sum(u["pods"] for u in doc["units"]) == pods
    for i, row in enumerate(doc["matrix"]):
        listed = {d: v for v in ("all", "none") for d in row.get(v, [])}
        partial = {to: {**c, "to": to} for c in row.get("partial", []) for to in c["to"]}
        for j, dst in enumerate(names):
            cell = want.get((names[i], dst))
            if cell is None or cell["pairs"] == cell["all"]:
                verdict = "all"
            elif cell["pairs"] == cell["none"]:
                verdict = "none"
            else:
                verdict = "partial"
            if verdict == "partial":
                assert cell is not None
                assert partial[j] == {"to": j, **cell}
            else:
                assert listed.get(j, row["*"]) == verdict
                assert j not in partial


def test_every_form_of_the_konvoy_namespaces(capsys: pytest.CaptureFixture[str]) -> None:
    konvoy = EXAMPLES[0]
    _, text, _ = run(capsys, "matrix", konvoy, "--by", "namespace")
    lines = text.splitlines()
    at = lines.index("frontend (1 pod)")
    assert lines[at:at + 3] == [
        "frontend (1 pod)",
        "  -> all      (3 more namespaces)",
        "  -> partial  default (every pair: TCP 6379; 2 pairs: 1 all, 1 some, 0 none)"]
    _, out, _ = run(capsys, "matrix", konvoy, "--by", "namespace", "-o", "csv")
    cells = list(csv.DictReader(io.StringIO(out)))
    assert len(cells) == 16
    assert {"from": "frontend", "to": "default", "verdict": "partial", "every": "TCP 6379",
            "pairs": "2", "all": "1", "some": "1", "none": "0"} in cells
    _, md, _ = run(capsys, "matrix", konvoy, "--by", "namespace", "-o", "md")
    assert "| frontend (1 pod) | partial | default (every pair: TCP 6379; " in md


def test_workloads_name_the_rows(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "matrix", EXAMPLES[1], "--by", "workload", "-o", "json")
    assert code == 0, err
    doc = json.loads(out)
    names = [u["name"] for u in doc["units"]]
    api = doc["matrix"][names.index("shop/Deployment/api")]
    cache = names.index("shop/Deployment/cache")
    (cell,) = [c for c in api["partial"] if cache in c["to"]]
    assert cell["every"] == "TCP 6379"
    assert (cell["pairs"], cell["all"], cell["some"], cell["none"]) == (1, 0, 1, 0)


@pytest.mark.parametrize("extra", [["--port", "80"], ["--pods"], ["--services"],
                                   ["-o", "dot"]])
def test_by_refuses_what_it_cannot_show(capsys: pytest.CaptureFixture[str],
                                        extra: list[str]) -> None:
    code, out, err = run(capsys, "matrix", EXAMPLES[0], "--by", "namespace", *extra)
    assert (code, out) == (2, "")
    assert "--by rolls up the full matrix" in err


def _by(path: Path | str, by: str, workers: int) -> bytes:
    env = {**os.environ, "STOCKADE_WORKERS": str(workers)}
    return subprocess.run([sys.executable, "-m", "stockade", "matrix", str(path), "--by", by,
                           "-o", "json"], env=env, check=True, capture_output=True).stdout


@pytest.mark.parametrize("by", ["namespace", "workload"])
def test_units_shared_out_to_processes_are_written_as_by_one(tmp_path: Path, by: str) -> None:
    """With two processes each rolling up a range of units, the bytes are those one process
    writes (which the tests above check against the pairs of pods)."""
    directory = tmp_path / "cluster"
    write(generate(Params(pods=300, namespaces=40, policies=100, seed=5, workloads=True)),
          directory)
    paths: list[Path | str] = [directory, *EXAMPLES]
    for path in paths:
        single = _by(path, by, 1)
        assert json.loads(single)["matrix"]
        assert _by(path, by, 2) == single
