"""How long ``stockade diff`` takes on two versions of a large cluster, next to one
``stockade matrix`` run on it (issue 10: within 2x), and whether its answer is right.

Writes the generated cluster (10,000 pods, 500 namespaces, 3,333 policies by default) to
``OLD``, and a copy to ``NEW`` in which one policy is edited the way a pull request would
edit it (a port of its first ingress rule moved by one). Then it runs, as separate
processes, ``stockade matrix OLD -o json`` and ``stockade diff OLD NEW -o json`` a few
times each and reports the medians, and checks the diff against the pair-by-pair
reference evaluator on sampled pod pairs: a pair must be listed (through its groups) with
the reference's before and after exactly when the reference's answers differ.
Run from the repository root: ``.venv/bin/python -m benchmarks.diff_bench``.
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

if not __package__:  # run as a script: make the ``benchmarks`` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.generate import Doc, Params, generate, write
from benchmarks.reference import ReferenceCluster
from benchmarks.run import Measurement, load_manifests, machine, measure, stockade_command

HERE = Path(__file__).resolve().parent


def edit_one_policy(files: dict[str, list[Doc]], seed: int) -> tuple[dict[str, list[Doc]], str]:
    """A copy of the files with one policy edited: the numeric port of the first ingress
    rule of a randomly chosen policy that has one, moved by one (a typical review edit)."""
    edited = copy.deepcopy(files)
    candidates: list[tuple[Doc, Doc]] = []
    for docs in edited.values():
        for doc in docs:
            if doc.get("kind") != "NetworkPolicy":
                continue
            rules = doc["spec"].get("ingress") or []
            ports = (rules[0].get("ports") or []) if rules else []
            numeric = [p for p in ports if isinstance(p.get("port"), int) and p["port"] < 65535
                       and "endPort" not in p]
            if numeric and rules[0].get("from"):
                candidates.append((doc, numeric[0]))
    doc, port = random.Random(seed).choice(candidates)
    port["port"] += 1
    meta = doc["metadata"]
    return edited, f"{meta['namespace']}/{meta['name']}: ingress[0] port {port['port'] - 1} -> " \
                   f"{port['port']}"


def median_run(cmd: Sequence[str], out: Path, repeats: int, timeout: float) -> Measurement:
    runs = [measure(cmd, out, timeout) for _ in range(repeats)]
    for run in runs:
        if run.returncode not in (0, 1):
            raise SystemExit(f"{' '.join(cmd)} failed ({run.returncode}):\n{run.stderr_tail}")
    return sorted(runs, key=lambda r: r.wall_s)[len(runs) // 2]


def check(answer: dict[str, Any], old: ReferenceCluster, new: ReferenceCluster,
          samples: int, seed: int) -> tuple[int, list[str]]:
    """Sampled pairs of pods present on both sides (host-network pods aside: their node
    traffic overrides group cells, as in ``matrix``): the diff lists a pair's groups with
    the reference's before and after exactly when those differ."""
    group_of = {pod: name for name, members in answer["groups"].items() for pod in members}
    cells = {(c["from"], c["to"]): (c["before"], c["after"]) for c in answer["connections"]}
    keys = sorted(k for k in old.pods.keys() & new.pods.keys()
                  if not old.pods[k].host_network and not new.pods[k].host_network)
    rng = random.Random(seed)
    # Half of the pairs into the groups the diff names, where changes are; half anywhere.
    changed = [m for (_, dst) in cells for m in answer["groups"].get(dst, [dst]) if m in keys]
    problems: list[str] = []
    checked = 0
    for i in range(samples):
        src = rng.choice(keys)
        dst = rng.choice(changed) if changed and i % 2 else rng.choice(keys)
        if src == dst:
            continue
        checked += 1
        want = (old.connections(src, dst), new.connections(src, dst))
        got = cells.get((group_of[src], group_of[dst]))
        if want[0] == want[1] and got is not None:
            problems.append(f"{src} -> {dst}: listed as {got}, reference says no change "
                            f"({want[0]!r})")
        elif want[0] != want[1] and got != want:
            problems.append(f"{src} -> {dst}: diff says {got}, reference says {want}")
    return checked, problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--pods", type=int, default=10_000)
    parser.add_argument("--namespaces", type=int, default=500)
    parser.add_argument("--policies", type=int, default=3_333)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--samples", type=int, default=2_000)
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--work", type=Path, default=HERE / ".work")
    parser.add_argument("--stockade", default="", help="how to start stockade")
    args = parser.parse_args(argv)

    params = Params(args.pods, args.namespaces, args.policies, args.seed)
    files = generate(params)
    edited, what = edit_one_policy(files, args.seed)
    base = args.work / f"diff-{args.pods}-{args.namespaces}-{args.policies}"
    old_dir, new_dir = base / "old", base / "new"
    write(files, old_dir)
    write(edited, new_dir)
    print(f"edited {what}", file=sys.stderr)

    matrix_cmd = stockade_command(args.stockade, old_dir)
    diff_cmd = [*matrix_cmd[:-4], "diff", str(old_dir), str(new_dir), "-o", "json"]
    matrix = median_run(matrix_cmd, base / "matrix.json", args.repeats, args.timeout)
    diff = median_run(diff_cmd, base / "diff.json", args.repeats, args.timeout)
    answer = json.loads((base / "diff.json").read_text())
    checked, problems = check(answer, ReferenceCluster.from_dicts(load_manifests(old_dir)),
                              ReferenceCluster.from_dicts(load_manifests(new_dir)),
                              args.samples, args.seed)
    ratio = diff.wall_s / matrix.wall_s
    print(f"\n{machine()}\n")
    print("| pods | namespaces | policies | matrix wall s | matrix peak MiB | diff wall s "
          "| diff peak MiB | diff / matrix | changed group pairs | pairs checked |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(f"| {args.pods:,} | {args.namespaces:,} | {args.policies:,} | {matrix.wall_s:.2f} | "
          f"{matrix.peak_mib:.0f} | {diff.wall_s:.2f} | {diff.peak_mib:.0f} | {ratio:.2f}x | "
          f"{len(answer['connections']):,} | {checked:,} "
          f"{'ok' if not problems else 'FAILED'} |")
    print(f"\nmedian of {args.repeats} runs each; one policy edited: {what}")
    for line in problems[:20]:
        print(f"  {line}", file=sys.stderr)
    return 1 if problems or ratio > 2 else 0


if __name__ == "__main__":
    sys.exit(main())
