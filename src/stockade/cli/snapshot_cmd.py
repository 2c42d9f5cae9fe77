"""``stockade snapshot``: save what ``--cluster`` reads as a YAML (or JSON) file for offline
analysis.

The file holds the same objects, trimmed the same way, so ``stockade matrix cluster.yaml``
gives the answer ``stockade matrix --cluster`` gave when the snapshot was taken.
"""

from __future__ import annotations

import argparse
import datetime
import sys
from pathlib import Path

from stockade.cli import diagnostics
from stockade.cli.common import write_atomically
from stockade.cli.options import check_cluster_options, check_output_file
from stockade.errors import UsageError
from stockade.render.escape import escape


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "snapshot",
        help="save a live cluster's namespaces, pods, policies, services and workloads as YAML",
        description="Read Namespaces, Pods, NetworkPolicies, Services and workloads from a "
        "live cluster (read-only: list and get) and save them as one multi-document YAML "
        "file that every stockade command reads like any manifest.",
    )
    parser.add_argument("--cluster", action="store_true",
                        help="read from the live cluster (implied; accepted for symmetry "
                        "with the other commands)")
    parser.add_argument("--context", metavar="NAME",
                        help="kubeconfig context to use (default: the current context)")
    parser.add_argument("--kubeconfig", metavar="FILE",
                        help="kubeconfig file (default: $KUBECONFIG or ~/.kube/config, "
                        "else the in-cluster service account)")
    scope = parser.add_mutually_exclusive_group()
    scope.add_argument("-n", "--namespace", dest="cluster_namespace", metavar="NAMESPACE",
                       help="read only this namespace")
    scope.add_argument("-A", "--all-namespaces", action="store_true",
                       help="read every namespace (the default)")
    parser.add_argument("-o", "--output", default="-", metavar="FILE",
                        help="where to write the snapshot (default: - for stdout)")
    parser.add_argument("--format", choices=("yaml", "json"),
                        help="YAML documents, or one JSON List as kubectl get -o json "
                        "writes it, read back several times faster (default: json when "
                        "the output file's name ends in .json, else yaml)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from stockade.sources.cluster import ClusterSource
    from stockade.sources.cluster_snapshot import (
        render_snapshot,
        render_snapshot_json,
        summarise,
    )

    if args.cluster_namespace is not None and not args.cluster_namespace:
        raise UsageError("snapshot: -n needs a namespace name")
    check_cluster_options(args)
    check_output_file("-o/--output", args.output)
    source = ClusterSource.from_kubeconfig(kubeconfig=args.kubeconfig, context=args.context,
                                           warn=diagnostics.warning)
    objects = source.read(namespace=args.cluster_namespace)
    scope = f'namespace "{args.cluster_namespace}"' if args.cluster_namespace else \
        "all namespaces"
    taken = datetime.datetime.now(datetime.UTC).replace(microsecond=0).isoformat()
    header = [
        f"stockade snapshot of {source.description}, {scope}, taken {taken}",
        f"{summarise(objects)}",
        "read it back with: stockade matrix THIS_FILE (or query, check)",
    ]
    header += [f"warning: {w}" for w in source.warnings]
    header += [f"note: {n}" for n in source.notes]
    as_json = (args.format or ("json" if args.output.endswith(".json") else "yaml")) == "json"
    # Comment lines of the YAML file: a newline from the server must not end the comment.
    text = (render_snapshot_json(objects, header) if as_json
            else render_snapshot(objects, [escape(line) for line in header]))
    if args.output == "-":
        sys.stdout.write(text)
    else:
        write_atomically(Path(args.output), text)
        print(escape(f"stockade: wrote {summarise(objects)} from {source.description} to "
                     f"{args.output}"), file=sys.stderr)
    return 0
