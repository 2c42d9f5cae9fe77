"""The shapes generator (``benchmarks/shapes.py``): every shape and layout is valid input
with what the shape promises in it, the same seed writes the same files, and the matrix of
a small cluster with every shape agrees with the reference evaluator on sampled pairs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from benchmarks.run import load_manifests
from benchmarks.shapes import LAYOUTS, SHAPES, main

from stockade.model.build import build_cluster
from stockade.sources.files import read_paths

ROOT = Path(__file__).resolve().parents[2]


def _write(directory: Path, shapes: str, layout: str = "dir", pods: int = 400) -> Path:
    assert main([str(directory), "--pods", str(pods), "--shape", shapes,
                 "--layout", layout]) == 0
    return directory


@pytest.mark.parametrize("layout", LAYOUTS)
def test_every_layout_is_valid_input(tmp_path: Path, layout: str) -> None:
    result = build_cluster(read_paths([str(_write(tmp_path, "all", layout))]))
    assert not result.findings
    assert len(result.cluster.pods) == 400
    assert len(result.cluster.policies) >= 400 // 3


def test_each_shape_holds_what_it_promises(tmp_path: Path) -> None:
    text = {s: json.dumps(load_manifests(_write(tmp_path / s, s))) for s in SHAPES}
    assert '"statefulset.kubernetes.io/pod-name", "operator": "Exists"' in text[
        "pod-name-selectors"]
    assert '"operator": "DoesNotExist"' in text["pod-expressions"]
    assert '"operator": "NotIn"' in text["ns-expressions"]
    assert text["ipblocks"].count('"except"') > 100
    assert text["named-ports"].count('"endPort"') > 50
    assert '"managedFields"' in text["bulk"] and '"conditions"' in text["bulk"]
    assert '"sidecar.example.com/instance-id"' in text["unique-labels"]


def test_the_same_seed_writes_the_same_files(tmp_path: Path) -> None:
    one, two = _write(tmp_path / "one", "all"), _write(tmp_path / "two", "all")
    names = sorted(p.name for p in one.iterdir())
    assert names == sorted(p.name for p in two.iterdir())
    assert all((one / n).read_bytes() == (two / n).read_bytes() for n in names)


def test_every_shape_agrees_with_the_reference(tmp_path: Path) -> None:
    directory = _write(tmp_path / "c", "all", pods=600)
    answer = tmp_path / "answer.json"
    with open(answer, "wb") as out:
        subprocess.run([sys.executable, "-m", "stockade", "matrix", str(directory), "-o",
                        "json"], stdout=out, check=True, cwd=ROOT)
    assert main([str(directory), "--check", str(answer)]) == 0
