"""What cluster-wide policies cost (issue 12: within 1.5x): ``stockade matrix`` on the
10,000-pod benchmark cluster, without and with 50 Admin-tier and 10 Baseline-tier cluster
policies, and whether the answer with them is right.

Both clusters come from the same seed (``benchmarks/generate.py``; the cluster policies are
added on top, with the Nodes their ``nodes`` peers select). Each is run as a separate
process, ``stockade matrix DIR -o json``, ``--repeats`` times, alternately, and the median
wall time, CPU time (user and system, steadier than wall time on a shared machine) and
peak memory are reported with their ratios. Sampled pod pairs of the answer with cluster
policies are checked against the pair-by-pair reference evaluator (its own tier logic).
Run from the repository root: ``.venv/bin/python -m benchmarks.cluster_bench``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path

if not __package__:  # run as a script: make the ``benchmarks`` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.generate import Params, generate, write
from benchmarks.reference import ReferenceCluster
from benchmarks.run import (
    Measurement,
    check,
    load_manifests,
    machine,
    measure,
    read_matrix,
    sample_pairs,
    stockade_command,
)

HERE = Path(__file__).resolve().parent
LIMIT = 1.5  # the bound on wall time with the cluster policies over without


def _median(runs: Sequence[Measurement], attribute: str) -> float:
    return float(statistics.median(float(getattr(r, attribute)) for r in runs))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--pods", type=int, default=10_000)
    parser.add_argument("--namespaces", type=int, default=500)
    parser.add_argument("--policies", type=int, default=3_333)
    parser.add_argument("--admin-policies", type=int, default=50)
    parser.add_argument("--baseline-policies", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--samples", type=int, default=2_000)
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--work", type=Path, default=HERE / ".work")
    parser.add_argument("--stockade", default="", help="how to start stockade")
    args = parser.parse_args(argv)

    plain = Params(args.pods, args.namespaces, args.policies, args.seed)
    tiered = Params(args.pods, args.namespaces, args.policies, args.seed,
                    admin_policies=args.admin_policies,
                    baseline_policies=args.baseline_policies)
    base = args.work / f"cluster-{args.pods}-{args.namespaces}-{args.policies}"
    dirs = {"without": base / "without", "with": base / "with"}
    write(generate(plain), dirs["without"])
    write(generate(tiered), dirs["with"])
    runs: dict[str, list[Measurement]] = {"without": [], "with": []}
    for _ in range(args.repeats):
        for name, directory in dirs.items():
            run = measure(stockade_command(args.stockade, directory), base / f"{name}.json",
                          args.timeout)
            if not run.ok:
                raise SystemExit(f"stockade matrix {directory} failed ({run.returncode}):\n"
                                 f"{run.stderr_tail}")
            runs[name].append(run)
    ref = ReferenceCluster.from_dicts(load_manifests(dirs["with"]))
    answer = read_matrix(json.loads((base / "with.json").read_text()))
    pairs = sample_pairs(ref, args.samples, args.seed)
    problems = check(ref, answer, pairs)

    wall = {k: _median(v, "wall_s") for k, v in runs.items()}
    cpu = {k: _median(v, "cpu_s") for k, v in runs.items()}
    peak = {k: _median(v, "peak_mib") for k, v in runs.items()}
    print(f"\n{machine()}\n")
    print("| pods | policies | cluster policies | wall s | CPU s | peak MiB | pairs checked |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for name, params in (("without", plain), ("with", tiered)):
        extra = (f"{params.admin_policies} admin, {params.baseline_policies} baseline"
                 if name == "with" else "none")
        checked = (f"{len(pairs):,} {'ok' if not problems else 'FAILED'}" if name == "with"
                   else "-")
        print(f"| {params.pods:,} | {params.policies:,} | {extra} | {wall[name]:.2f} | "
              f"{cpu[name]:.2f} | {peak[name]:.0f} | {checked} |")
    ratio = wall["with"] / wall["without"]
    print(f"\nwith / without: wall {ratio:.2f}x, CPU {cpu['with'] / cpu['without']:.2f}x, "
          f"peak memory {peak['with'] / peak['without']:.2f}x (medians of {args.repeats} "
          "runs each)")
    for line in problems[:20]:
        print(f"  {line}", file=sys.stderr)
    return 1 if problems or ratio > LIMIT else 0


if __name__ == "__main__":
    sys.exit(main())
