"""Test double for ``stockade matrix DIR -o json``, built from the reference evaluator.

The harness in benchmarks/run.py must be testable before (and independently of) the real
engine: this script answers the same command line with the reference's own matrix, one
group per pod. FAKE_STOCKADE_BREAK=none-as-udp reports every denied pair as ``UDP 7``, and
FAKE_STOCKADE_BREAK=drop-pod leaves the last pod out of every group, so that tests can see
the harness catch a disagreement.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks.reference import ReferenceCluster
from benchmarks.run import load_manifests


def main(argv: list[str]) -> int:
    if len(argv) != 4 or argv[0] != "matrix" or argv[2:] != ["-o", "json"]:
        print(f"fake stockade: unexpected arguments {argv}", file=sys.stderr)
        return 2
    ref = ReferenceCluster.from_dicts(load_manifests(Path(argv[1])))
    keys = sorted(ref.pods)
    breakage = os.environ.get("FAKE_STOCKADE_BREAK", "")
    groups = {f"g{i}": [key] for i, key in enumerate(keys)}
    matrix: dict[str, dict[str, list[str]]] = {}
    for i, src in enumerate(keys):
        row: dict[str, list[str]] = {}
        for j, dst in enumerate(keys):
            text = "all" if i == j else ref.connections(src, dst)
            if text == "none" and breakage == "none-as-udp":
                text = "UDP 7"
            if text != "none":
                row.setdefault(text, []).append(f"g{j}")
        matrix[f"g{i}"] = row
    if breakage == "drop-pod":
        groups[f"g{len(keys) - 1}"] = []
    json.dump({"groups": groups, "matrix": matrix}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
