"""``stockade report``: one self-contained HTML file with the matrix, the graph, the reasons
and the policies."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stockade.cli.common import (
    add_endpoint_arguments,
    add_input_arguments,
    choose,
    load,
    write_atomically,
)
from stockade.cli.options import check_input_options, check_output_file
from stockade.cli.progress import Progress
from stockade.engine import Engine
from stockade.errors import UsageError
from stockade.render.escape import escape
from stockade.wording import count

if TYPE_CHECKING:
    from stockade.lint import LintFinding


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "report", help="one HTML file: matrix, graph, reasons and policies, for a browser",
        description="Write one self-contained HTML file (no network access when opened) "
        "that shows the connectivity matrix of the groups and address ranges, a graph of a "
        "focused part of it, why each cell is what it is (as query prints it), and the "
        "policies, linked both ways.",
    )
    add_input_arguments(parser, helm=True)
    add_endpoint_arguments(parser)
    parser.add_argument("-o", "--output", default="-", metavar="FILE",
                        help="the HTML file to write (default: standard output)")
    parser.add_argument("--title", help="the page's title (default: the inputs)")
    parser.add_argument("--no-lint", action="store_true",
                        help="leave out the findings of `stockade lint` (its default checks), "
                        "which the page otherwise shows on the objects they concern")
    parser.set_defaults(func=run)


def _sources(args: argparse.Namespace) -> list[str]:
    if getattr(args, "cluster", False):
        return ["--cluster"] + ([f"--context {args.context}"] if args.context else [])
    out = list(args.paths)
    if getattr(args, "helm", None):
        out.append(f"--helm {args.helm}")
    return out


def run(args: argparse.Namespace) -> int:
    if args.output == "-" and sys.stdout.isatty():
        raise UsageError("the report is an HTML file: give -o FILE (or redirect the output)")
    check_input_options(args)
    if args.output != "-":
        check_output_file("-o/--output", args.output)
    from stockade.render.connections import connection_graph
    from stockade.render.html import explain_cells, render_page, report_data

    result = load(args)
    cluster, endpoints = choose(args, result.cluster)
    owner = {} if args.per_pod else endpoints.owner
    engine = Engine(cluster)
    notes = [f"warning: {w}" for w in result.warnings] + list(result.notes)
    if endpoints.has_templates:
        notes.append("Workloads without pods in the input stand for their pods through their "
                     "pod templates: selectors match them, ipBlocks never do.")
    unaddressed = [p.key for p in engine.pods
                   if not p.ips and not p.host_network and not p.template_of]
    if unaddressed:
        notes.append(f"{count(len(unaddressed), 'pod')} without an IP ({', '.join(unaddressed[:5])}"
                     f"{', ...' if len(unaddressed) > 5 else ''}): matched by selectors, never "
                     "by ipBlock.")
    progress = Progress(sys.stderr, "stockade: computing the matrix")
    graph = connection_graph(engine, owner, progress)
    progress.done()
    progress = Progress(sys.stderr, "stockade: explaining every cell")
    reasons = explain_cells(graph, progress)
    progress.done()
    sources = _sources(args)
    title = args.title or f"stockade report: {' '.join(sources) or 'stdin'}"
    findings: tuple[LintFinding, ...] = ()
    if not args.no_lint:
        from stockade.lint import lint

        findings = lint(result.cluster).findings
    page = render_page(report_data(graph, reasons, title=title, sources=sources, notes=notes,
                                   findings=findings))
    if args.output == "-":
        sys.stdout.write(page)
        return 0
    write_atomically(Path(args.output), page, 0o644)
    print(escape(f"stockade: wrote {args.output} ({count(len(graph.nodes), 'node')}, "
                 f"{len(page.encode()) // 1024} KiB)"), file=sys.stderr)
    return 0
