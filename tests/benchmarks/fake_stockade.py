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
    groups = [{"name": f"g{i}", "pods": [key]} for i, key in enumerate(keys)]
    matrix: list[dict[str, object] | int] = []
    for i, src in enumerate(keys):
        listed: dict[str, list[int]] = {}
        for j, dst in enumerate(keys):
            text = "all" if i == j else ref.connections(src, dst)
            if text == "none" and breakage == "none-as-udp":
                text = "UDP 7"
            if text != "none":
                listed.setdefault(text, []).append(j)
        row: dict[str, object] = {"*": "none", **listed}
        # A row equal to an earlier one may be written as that row's position.
        earlier = next((k for k in range(i) if matrix[k] == row), None)
        matrix.append(earlier if earlier is not None else row)
    if breakage == "drop-pod":
        groups[-1]["pods"] = []
    # Laid out as stockade lays it out: a group, a row per line.
    out = sys.stdout
    out.write('{"groups": [\n' + ",\n".join(json.dumps(g) for g in groups) + "\n],\n")
    out.write('"matrix": [\n' + ",\n".join(json.dumps(r) for r in matrix) + "\n]}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
