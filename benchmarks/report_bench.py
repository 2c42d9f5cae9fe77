"""How big and how fast ``stockade report`` is, and how its page behaves in Chromium.

    .venv/bin/python -m benchmarks.report_bench [--pods 1000] [--runs 3]

On the generated cluster of the matrix benchmark (seed 1; 1,000 pods, 50 namespaces, 333
policies by default): the wall and CPU time of ``stockade report`` (a separate process),
the file's size, the time headless Chromium takes to open it until its script has drawn
the matrix, and the layout time of the graph for the overview and for each namespace's
focus. For comparison, Graphviz ``dot -Tsvg`` on ``matrix -o dot`` of the same cluster.
Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.generate import default_params, generate, write

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))


def run_timed(argv: list[str], timeout: float) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds of the child, return code); 124 after ``timeout``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    try:
        code = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              timeout=timeout, check=False).returncode
    except subprocess.TimeoutExpired:
        code = 124
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--pods", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3, help="report builds and page opens")
    parser.add_argument("--work", type=Path, default=ROOT / "benchmarks" / ".work")
    parser.add_argument("--dot-timeout", type=float, default=300)
    args = parser.parse_args(argv)
    params = default_params(args.pods, seed=1)
    cluster = args.work / f"report-{args.pods}"
    if not cluster.exists():
        write(generate(params), cluster)
    page = args.work / f"report-{args.pods}.html"
    stockade = [sys.executable, "-m", "stockade"]
    builds = [run_timed([*stockade, "report", str(cluster), "-o", str(page)], 600)
              for _ in range(args.runs)]
    if any(code for _, _, code in builds):
        print(f"stockade report failed: {builds}", file=sys.stderr)
        return 1
    size = page.stat().st_size

    from browser_support import browser, open_report, unavailable

    rows: list[tuple[str, str]] = [
        ("cluster", f"{args.pods} pods, {params.namespaces} namespaces, "
                    f"{params.policies} policies"),
        ("report build, wall (median of runs)",
         f"{statistics.median(b[0] for b in builds):.1f} s"),
        ("report build, CPU (median)", f"{statistics.median(b[1] for b in builds):.1f} s"),
        ("file size", f"{size / 1024 / 1024:.1f} MiB"),
    ]
    if unavailable():
        rows.append(("page", f"not opened: {unavailable()}"))
    else:
        opens, layouts = [], []
        with browser() as context:
            for _ in range(args.runs):
                start = time.monotonic()
                view, watch = open_report(context, page)
                opens.append(time.monotonic() - start)
                assert not watch.errors and not watch.console, watch
                view.close()
            view, _ = open_report(context, page)
            info = view.evaluate("({nodes: stockade.data.nodes.length, "
                                 "namespaces: stockade.data.namespaces.map(n => n.name)})")
            view.click("button[data-view=graph]")
            overview = view.evaluate("[stockade.lastLayoutMs, stockade.lastLayout]")
            for ns in info["namespaces"]:
                layouts.append(view.evaluate(f"(stockade.focus({('ns:' + ns)!r}), "
                                             "[stockade.lastLayoutMs, stockade.lastLayout])"))
        drawn = [ms for ms, shape in layouts if shape and ms]
        rows += [
            ("nodes (groups + address ranges)", str(info["nodes"])),
            ("open in headless Chromium until drawn (median)",
             f"{statistics.median(opens):.2f} s (runs: {', '.join(f'{t:.2f}' for t in opens)})"),
            ("graph overview layout (dagre)",
             (f"{overview[0]:.0f} ms" if overview[0] else "not drawn: too dense")
             + f" ({overview[1]['nodes']} nodes, {overview[1]['edges']} edges)"),
            ("namespace focus layouts (dagre)",
             f"{len(drawn)} of {len(layouts)} drawn; median {statistics.median(drawn):.0f} ms, "
             f"max {max(drawn):.0f} ms" if drawn else "none drawn"),
        ]
    if shutil.which("dot"):
        dot_file = args.work / f"report-{args.pods}.dot"
        with dot_file.open("w") as out:
            subprocess.run([*stockade, "matrix", str(cluster), "-o", "dot"], stdout=out,
                           stderr=subprocess.DEVNULL, check=True)
        wall, _, code = run_timed(["dot", "-Tsvg", "-o", os.devnull, str(dot_file)],
                                  args.dot_timeout)
        edges = dot_file.read_text().count("->")
        rows.append(("Graphviz dot -Tsvg of matrix -o dot",
                     f"{wall:.1f} s for {edges} edges" if code == 0
                     else f"did not finish in {args.dot_timeout:.0f} s ({edges} edges)"))
    print("| measure | value |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
