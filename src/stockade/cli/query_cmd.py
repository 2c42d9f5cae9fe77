"""``stockade query``: may SRC open a connection to DST on PORT/PROTO, and why (not)?"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from stockade.cli.common import add_input_arguments, load, parse_port
from stockade.engine import Engine, Traffic
from stockade.render import query as render
from stockade.render.style import Style


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "query", help="can SRC reach DST on a port? which policies and rules decide",
        description="Answer whether SRC may open a connection to DST on PORT/PROTO, per "
        "direction: whether each end is isolated and by which policies, which rule allows "
        "it, or the nearest misses. Exit 0 allowed, 1 denied, 2 bad input.",
    )
    add_input_arguments(parser)
    parser.add_argument("--from", dest="source", required=True, metavar="SRC",
                        help="ns/pod, or an IP address (a pod's, or outside the cluster)")
    parser.add_argument("--to", dest="destination", required=True, metavar="DST",
                        help="ns/pod, or an IP address")
    parser.add_argument("--port", required=True, metavar="PORT/PROTO",
                        help="destination port and protocol, e.g. 6379/TCP (TCP if omitted)")
    parser.add_argument("-o", "--output", choices=("text", "json"), default="text")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    port, protocol = parse_port(args.port)
    result = load(args)
    engine = Engine(result.cluster)
    traffic = Traffic(engine.endpoint(args.source), engine.endpoint(args.destination),
                      protocol, port)
    verdict = engine.evaluate(traffic)
    if args.output == "json":
        render.write_json(verdict, sys.stdout)
    else:
        render.write_text(verdict, sys.stdout, Style.for_stream(sys.stdout))
    return 0 if verdict.allowed else 1
