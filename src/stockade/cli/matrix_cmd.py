"""``stockade matrix``: the connections allowed between every ordered pair of pods."""

from __future__ import annotations

import argparse
import functools
import os
import sys
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

import msgspec

from stockade.cli import diagnostics, forked, timings
from stockade.cli.common import (
    add_endpoint_arguments,
    add_input_arguments,
    bulk_allocation,
    choose,
    load,
    parse_ports,
)
from stockade.cli.options import check_input_options
from stockade.cli.progress import Progress
from stockade.errors import UsageError
from stockade.render.style import Style
from stockade.wording import count

if TYPE_CHECKING:
    from stockade.engine import Engine
    from stockade.engine.aggregate import Aggregation
    from stockade.engine.matrix import ClassRows
    from stockade.engine.services import ColumnReach
    from stockade.render import matrix as render

def register(sub: Any) -> None:
    parser = sub.add_parser(
        "matrix", help="connectivity matrix: what every pod may open to every other pod",
        description="Without --port: for every ordered pair, the connections allowed as a "
        "compact set (all, TCP 6379, TCP 80-81, UDP 53, none); pods that every policy treats "
        "alike are grouped unless --pods. With --port (repeatable): a reachable yes/no "
        "matrix per port. A pod always reaches itself.",
    )
    add_input_arguments(parser, helm=True)
    add_endpoint_arguments(parser)
    parser.add_argument("--services", action="store_true",
                        help="add every Service port as a destination (svc/NS/NAME:PORT): "
                        "reachable when the policies allow each backend on its targetPort; "
                        "a group whose pods reach one differently is split")
    parser.add_argument("--port", action="append", default=[], metavar="PORT/PROTO",
                        help="a port to tabulate, e.g. 80/TCP or 53/UDP (repeatable)")
    parser.add_argument("--pods", action="store_true",
                        help="show every pod instead of groups of identical pods")
    parser.add_argument("--by", choices=("namespace", "workload"),
                        help="roll the matrix up to namespaces or workloads: per pair, all, "
                        "none, or partial with what every member pair may open and counts "
                        "of pairs (readable at any cluster size)")
    parser.add_argument("-o", "--output", choices=("text", "json", "csv", "md", "dot", "svg"),
                        default="text",
                        help="dot and svg draw the graph of groups and address ranges (svg "
                        "runs Graphviz's dot)")
    graph = parser.add_argument_group("graph (-o dot, -o svg)")
    graph.add_argument("--all-edges", action="store_true",
                       help="also draw unrestricted connections (no policy isolates either "
                       "end); by default they are summarised in the graph's label")
    graph.add_argument("--title", default="", help="a title drawn above the graph")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    check_input_options(args)
    ports = parse_ports(args.port)
    if args.services and ports and args.output in ("csv", "md"):
        raise UsageError(f"--services with --port cannot be written as {args.output}; "
                         "leave out --port, or use -o text or -o json")
    if args.output in ("dot", "svg") and (ports or args.pods or args.services):
        raise UsageError(f"-o {args.output} draws the graph of groups; it takes no --port, "
                         "--pods or --services")
    if (args.all_edges or args.title) and args.output not in ("dot", "svg"):
        raise UsageError("--all-edges and --title are for -o dot and -o svg")
    if args.by and (ports or args.pods or args.services or args.output in ("dot", "svg")):
        raise UsageError("--by rolls up the full matrix: it takes no --port, --pods or "
                         "--services, and is written as text, json, csv or md")
    # The engine, NumPy and the matrix's modules are imported while the input is read.
    result = load(args, modules=("stockade.engine.matrix", "stockade.render.matrix"))
    from stockade.engine import Engine
    from stockade.engine.matrix import ClassRows, connectivity, port_reachability
    from stockade.render import matrix as render

    with timings.stage("endpoints"):
        cluster, endpoints = choose(args, result.cluster)
    # Groups of one workload's pods are named after it, unless --per-pod.
    owner = {} if args.per_pod else endpoints.owner
    with timings.stage("engine"), bulk_allocation():
        engine = Engine(cluster)
    out = sys.stdout
    style = Style.for_stream(out, os.environ)
    unaddressed = [p.key for p in engine.pods
                   if not p.ips and not p.host_network and not p.template_of]
    extra: dict[str, Any] = {}
    # Service columns first: a group whose members reach a Service differently is split,
    # in the matrix too, so that every row is true of each of its pods.
    service_rows = (_service_rows(engine, args.pods or bool(ports), owner) if args.services
                    else None)
    if service_rows is not None and args.output == "json":
        from stockade.render import services as render_services

        extra["services"] = render_services.services_json(service_rows.reaches,
                                                          service_rows.names)
    if unaddressed:
        diagnostics.note(f"{count(len(unaddressed), 'pod')} without an IP "
                         f"({', '.join(unaddressed[:5])}{', ...' if len(unaddressed) > 5 else ''}"
                         "): matched by selectors, never by ipBlock")
    if args.output in ("dot", "svg"):
        _write_graph(args, engine, owner)
        return 0
    if args.by:
        _write_rolled_up(args, engine, owner, out, style)
        return 0
    if ports:
        results = [(port, proto, port_reachability(engine, proto, port))
                   for port, proto in ports]
        if args.output == "json":
            render.write_port_json(engine, results, out, extra)
        else:
            render.write_port_table(engine, results, out, style, args.output)
    else:
        progress = Progress(sys.stderr, "stockade: computing the matrix", output=out)
        with timings.stage("output"):
            rows = None if args.pods else ClassRows(engine, progress)
            if rows is None:
                view = render.pod_view(connectivity(engine, progress))
            elif service_rows is not None and service_rows.split:
                view = render.parts_view(rows, service_rows.names, service_rows.rows)
            else:
                view = render.group_view(rows, owner)
            view = msgspec.structs.replace(view, source=timings.timed("matrix", view.source))
            if args.output == "json":
                render.write_json(view, out, extra, _forked_rows(view, rows, progress, out))
            elif args.output == "csv":
                render.write_csv(view, out)
            elif args.output == "md":
                render.write_markdown(view, out)
            else:
                render.write_text(view, out, style)
        progress.done()
    if service_rows is not None and args.output != "json":
        from stockade.render import services as render_services

        names, reaches = service_rows.names, service_rows.reaches
        if args.output == "text":
            render_services.write_services_text(reaches, names, out, style)
        else:
            render_services.write_services_rows(reaches, names, out, args.output)
    return 0


def _forked_rows(view: render.MatrixView, rows: ClassRows | None, progress: Progress,
                 out: Any) -> Iterator[bytes] | None:
    """The JSON rows of a large matrix of groups made by as many processes as there are
    cores (``cli.forked``), or None: made here, as they are read."""
    from stockade.render import matrix as render

    ranges = view.ranges
    if ranges is None or rows is None:
        return None
    workers = forked.workers_wanted(len(view.names))
    _prepare(rows, workers)
    if workers < 2:
        return None
    encoder = render.RowEncoder(len(view.names))  # one per process, kept between pieces

    def produce(start: int, stop: int) -> Iterator[bytes]:
        return render.encoded_rows(view, timings.timed("matrix", ranges(start, stop)),
                                   encoder)

    return forked.forked_parts(produce, len(view.names), workers,
                               getattr(out, "buffer", None), progress)


def _prepare(rows: ClassRows, workers: int) -> None:
    """The row types, worked out once before the rows are made (and shared out). They make
    millions of lasting objects and no cycles (ports named per app: a port set per egress
    type and signature), which the cyclic collector would walk again and again (40% of the
    time at 50,000 pods). With two processes, a second one works out the egress sides
    they need (and the parts of tiered ones the rows of other variants read) while this
    one gathers the main variant's ingress columns; then each, as it is free, takes pieces
    of what the ingress types with ipBlock peers accept in the other variants, from which
    the other variants' columns are put together here."""
    with timings.stage("matrix"), bulk_allocation():
        if workers >= 2:
            keys = rows.keys
            board = forked.Board(len(keys.blocky_pieces()))
            try:
                work = forked.beside(
                    lambda: keys.main_egress_sides(functools.partial(board.take, front=True)),
                    lambda: keys.gather_ingress(functools.partial(board.take, front=False)))
            finally:
                board.close()
            keys.adopt_egress_sides(work)
            keys.gather_other_ingress()
        rows.prepare()


def _write_rolled_up(args: argparse.Namespace, engine: Engine, owner: Mapping[str, str],
                     out: Any, style: Style) -> None:
    from stockade.engine.aggregate import Aggregation, namespace_units, workload_units
    from stockade.engine.matrix import ClassRows
    from stockade.render import aggregate as render_units

    progress = Progress(sys.stderr, "stockade: computing the matrix", output=out)
    rows = ClassRows(engine, progress)
    units = namespace_units(engine) if args.by == "namespace" else workload_units(engine, owner)
    rolled = Aggregation(engine, units, rows, functools.partial(timings.timed, "matrix"))
    view = render_units.UnitView(args.by, units.names, tuple(units.sizes().tolist()), rolled,
                                 rolled.meets.texts)
    with timings.stage("output"):
        {"json": lambda: render_units.write_json(view, out,
                                                 _forked_units(rolled, progress, out)),
         "csv": lambda: render_units.write_csv(view, out),
         "md": lambda: render_units.write_markdown(view, out),
         "text": lambda: render_units.write_text(view, out, style)}[args.output]()
    progress.done()


def _forked_units(rolled: Aggregation, progress: Progress, out: Any) -> Iterator[bytes] | None:
    """The JSON rows of many units made by as many processes as there are cores (each
    rolls up the class rows of a range of units), or None: made here, as they are read."""
    from stockade.render import aggregate as render_units

    n = len(rolled.units.names)
    workers = forked.workers_wanted(n)
    if workers < 2:
        return None
    _prepare(rolled.class_rows, workers)  # before the units are shared out

    def produce(start: int, stop: int) -> Iterator[bytes]:
        return render_units.encoded_rows(rolled.rows_of(start, stop, report=False),
                                         rolled.meets.texts, start)

    return forked.forked_parts(produce, n, workers, getattr(out, "buffer", None), progress)


def _write_graph(args: argparse.Namespace, engine: Engine, owner: Mapping[str, str]) -> None:
    import io

    from stockade.render.connections import connection_graph
    from stockade.render.dot import write_dot

    progress = Progress(sys.stderr, "stockade: computing the matrix")
    graph = connection_graph(engine, owner, progress)
    progress.done()
    text = io.StringIO()
    write_dot(graph, text, title=args.title, all_edges=args.all_edges)
    if args.output == "dot":
        sys.stdout.write(text.getvalue())
        return
    from stockade.cli.graphviz import dot_to_svg

    sys.stdout.write(dot_to_svg(text.getvalue()))


class _ServiceRows(NamedTuple):
    names: list[str]
    rows: tuple[tuple[int, ...], ...]  # pod indices
    reaches: list[ColumnReach]
    split: bool  # some group of the matrix is several rows


def _service_rows(engine: Engine, per_pod: bool, owner: Mapping[str, str]) -> _ServiceRows:
    """The rows (every endpoint, or the groups of endpoints policies treat alike, split
    where their members reach some Service port differently) and, per Service port, who
    reaches it."""
    from stockade.engine.services import service_columns, split_rows
    from stockade.render.groups import group_names, part_names

    columns = service_columns(engine.cluster.services, engine.pods)
    if per_pod:
        keys = [p.key for p in engine.pods]
        found = split_rows(engine, columns, [(i,) for i in range(len(keys))])
        return _ServiceRows(keys, found.rows, found.reaches, False)
    found = split_rows(engine, columns, [c.members for c in engine.classes])
    names = (part_names(engine.classes, engine.pod_class, engine.pods, found.rows, owner)
             if found.split else group_names(engine.classes, engine.pods, owner))
    return _ServiceRows(names, found.rows, found.reaches, found.split)
