"""``stockade lint`` against ``stockade matrix`` on the same generated cluster (issue 11:
lint within 2x one matrix run on the 10,000-pod benchmark cluster).

Both run as separate processes on the same files, alternately, several times; the median
wall time (and its run's peak memory) of each and their ratio are printed, with the number
of findings per check. Run from the repository root:
``.venv/bin/python -m benchmarks.lint_bench [--pods 10000] [--repeats 5]
[--admin-policies 50 --baseline-policies 10]`` (the last two add cluster-wide policies).
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

if not __package__:  # run as a script: make the ``benchmarks`` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.generate import default_params, generate, write
from benchmarks.run import stockade_command

HERE = Path(__file__).resolve().parent


def lint_command(matrix_cmd: list[str]) -> list[str]:
    """The same stockade, asked for ``lint`` (every finding as JSON; exit 1 is expected)."""
    at = matrix_cmd.index("matrix")
    return [*matrix_cmd[:at], "lint", *matrix_cmd[at + 1:-2], "-o", "json",
            "--fail-on", "error"]


@dataclass(frozen=True, slots=True)
class Run:
    """One process: exit code, wall seconds, CPU seconds (user + system), peak MiB."""

    returncode: int
    wall_s: float
    cpu_s: float
    peak_mib: float
    stderr_tail: str


def run_once(cmd: list[str], stdout_path: Path, timeout_s: float) -> Run:
    """Run ``cmd`` with stdout to a file; CPU time and peak RSS from ``wait4``'s rusage
    (CPU time is what a loaded machine disturbs least)."""
    with open(stdout_path, "wb") as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        timer = threading.Timer(timeout_s, proc.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        tail = err.read()[-2000:].decode("utf-8", "replace")
    return Run(proc.returncode, wall, usage.ru_utime + usage.ru_stime,
               usage.ru_maxrss / 1024, tail)


def median_run(runs: list[Run]) -> Run:
    return sorted(runs, key=lambda r: r.wall_s)[len(runs) // 2]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=10000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--admin-policies", type=int, default=0,
                        help="cluster-wide policies of the Admin tier to add (issue 12: 50)")
    parser.add_argument("--baseline-policies", type=int, default=0,
                        help="and of the Baseline tier (issue 12: 10)")
    parser.add_argument("--work", type=Path, default=HERE / ".work")
    parser.add_argument("--stockade", default="", help="how to start stockade")
    args = parser.parse_args(argv)
    params = dataclasses.replace(default_params(args.pods, args.seed),
                                 admin_policies=args.admin_policies,
                                 baseline_policies=args.baseline_policies)
    tiers = (f"-tiers-{params.admin_policies}-{params.baseline_policies}"
             if params.admin_policies or params.baseline_policies else "")
    directory = (args.work
                 / f"cluster-{params.pods}-{params.namespaces}-{params.policies}{tiers}")
    if not directory.exists():
        write(generate(params), directory)
    matrix_cmd = stockade_command(args.stockade, directory)
    lint_cmd = lint_command(matrix_cmd)
    runs: dict[str, list[Run]] = {"matrix": [], "lint": []}
    out = args.work / "lint-bench.json"
    for _ in range(args.repeats):
        for name, cmd in (("matrix", matrix_cmd), ("lint", lint_cmd)):
            m = run_once(cmd, out if name == "lint" else args.work / "matrix-bench.json", 900)
            if m.returncode not in (0, 1):
                print(f"{name} failed ({m.returncode}):\n{m.stderr_tail}", file=sys.stderr)
                return 1
            runs[name].append(m)
    findings = json.loads(out.read_text())["findings"]
    by_check = collections.Counter(f["check"] for f in findings)
    matrix, lint = median_run(runs["matrix"]), median_run(runs["lint"])
    print(f"cluster: {params.pods} pods, {params.namespaces} namespaces, "
          f"{params.policies} policies, {params.admin_policies} admin and "
          f"{params.baseline_policies} baseline cluster-wide policies ({directory})")
    print(f"runs: {args.repeats} of each, alternating; medians:")
    print("| command | wall s | CPU s | peak MiB | all wall s |\n|---|---:|---:|---:|---|")
    for name, m in (("matrix -o json", matrix), ("lint -o json", lint)):
        walls = ", ".join(f"{r.wall_s:.2f}" for r in runs[name.split()[0]])
        print(f"| {name} | {m.wall_s:.2f} | {m.cpu_s:.2f} | {m.peak_mib:.0f} | {walls} |")
    ratio = lint.wall_s / matrix.wall_s
    cpu = (statistics.median(r.cpu_s for r in runs["lint"])
           / statistics.median(r.cpu_s for r in runs["matrix"]))
    print(f"lint / matrix: {ratio:.2f}x wall, {cpu:.2f}x CPU (median CPU seconds); "
          "target <= 2x")
    print(f"{len(findings)} findings: " + ", ".join(f"{k} {v}" for k, v in
                                                   by_check.most_common()))
    return 0 if ratio <= 2 else 1


if __name__ == "__main__":
    sys.exit(main())
