"""``stockade matrix``: the connections allowed between every ordered pair of pods."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from stockade.cli.common import add_input_arguments, load, parse_port
from stockade.engine import Engine
from stockade.engine.matrix import connectivity, port_reachability
from stockade.render import matrix as render
from stockade.render.style import Style


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "matrix", help="connectivity matrix: what every pod may open to every other pod",
        description="Without --port: for every ordered pair, the connections allowed as a "
        "compact set (all, TCP 6379, TCP 80-81, UDP 53, none); pods that every policy treats "
        "alike are grouped unless --pods. With --port (repeatable): a reachable yes/no "
        "matrix per port. A pod always reaches itself.",
    )
    add_input_arguments(parser)
    parser.add_argument("--port", action="append", default=[], metavar="PORT/PROTO",
                        help="a port to tabulate, e.g. 80/TCP or 53/UDP (repeatable)")
    parser.add_argument("--pods", action="store_true",
                        help="show every pod instead of groups of identical pods")
    parser.add_argument("-o", "--output", choices=("text", "json", "csv", "md"),
                        default="text")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    ports = [parse_port(p) for p in args.port]
    result = load(args)
    engine = Engine(result.cluster)
    out = sys.stdout
    style = Style.for_stream(out)
    unaddressed = [p.key for p in engine.pods if not p.ips and not p.host_network]
    if unaddressed and args.output == "text":
        print(f"note: {len(unaddressed)} pod(s) without an IP ({', '.join(unaddressed[:5])}"
              f"{', ...' if len(unaddressed) > 5 else ''}): matched by selectors, never by "
              "ipBlock", file=sys.stderr)
    if ports:
        results = [(port, proto, port_reachability(engine, proto, port))
                   for port, proto in ports]
        if args.output == "json":
            render.write_port_json(engine, results, out)
        else:
            render.write_port_table(engine, results, out, style, args.output)
        return 0
    view = render.matrix_view(connectivity(engine), per_pod=args.pods)
    writers = {"json": render.write_json, "csv": render.write_csv,
               "md": render.write_markdown}
    if args.output in writers:
        writers[args.output](view, out)
    else:
        render.write_text(view, out, style)
    return 0
