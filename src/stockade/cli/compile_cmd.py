"""``stockade compile``: print the nftables ruleset that enforces the input's policies.

Thin: load the cluster, resolve rules with the engine, compile, render. The output is the
atomic replacement transaction, ready for ``nft -f``.
"""

from __future__ import annotations

import argparse
import json
import sys

from stockade.cli import diagnostics
from stockade.cli.common import add_input_arguments, load
from stockade.cli.options import check_input_options
from stockade.nft.names import DEFAULT_TABLE, check_table_name
from stockade.wording import count


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "compile", help="print the nftables ruleset enforcing the policies",
        description="Compile the policies of the input into one nftables table (inet family, "
        "forward hook) and print it as an atomic nft -f transaction that replaces the table. "
        "Pods need IPs (status.podIP/podIPs); pods without one are left out with a note.",
    )
    add_input_arguments(parser)
    parser.add_argument("-o", "--output", choices=("nft", "json"), default="nft",
                        help="nft: an nft -f script (default); json: the ruleset as data")
    parser.add_argument("--table", default=DEFAULT_TABLE,
                        help=f"name of the inet table (default {DEFAULT_TABLE})")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from stockade.engine import Engine
    from stockade.nft.compile import compile_engine
    from stockade.nft.render import render_json, render_replace

    check_input_options(args)
    table = check_table_name(args.table)
    result = load(args)
    compiled = compile_engine(Engine(result.cluster), table=table)
    if result.cluster.workloads:
        names = ", ".join(w.key for w in result.cluster.workloads[:3])
        more = ", ..." if len(result.cluster.workloads) > 3 else ""
        diagnostics.note(f"{count(len(result.cluster.workloads), 'workload')} not enforced "
                         f"({names}{more}): a dataplane needs pod IPs, which pod templates "
                         "lack; compile the running pods (kubectl get pods -A -o yaml) instead")
    for note in compiled.notes:
        diagnostics.note(note)
    if args.output == "json":
        json.dump(render_json(compiled.table), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(render_replace(compiled.table))
    return 0
