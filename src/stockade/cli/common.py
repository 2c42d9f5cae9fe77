"""What every analysing command shares: reading the inputs into a validated ``Cluster``."""

from __future__ import annotations

import argparse
import sys

from stockade.errors import InvalidObjects, UsageError
from stockade.model.build import BuildResult, RawObject, build_cluster
from stockade.model.types import Protocol
from stockade.sources.files import read_paths


def add_input_arguments(parser: argparse.ArgumentParser, *, cluster: bool = True) -> None:
    parser.add_argument(
        "paths", nargs="*", metavar="PATH",
        help="manifest files or directories (.yaml, .yml, .json; recursive), or - for stdin",
    )
    parser.add_argument(
        "--skip-invalid", action="store_true",
        help="analyse the valid objects and warn about invalid ones, instead of refusing",
    )
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="also list objects of kinds stockade skips")
    if cluster:
        group = parser.add_argument_group("live cluster (read-only)")
        group.add_argument("--cluster", action="store_true",
                           help="read the objects from the cluster of the current kubeconfig "
                           "context")
        group.add_argument("--context", help="kubeconfig context to use (with --cluster)")
        group.add_argument("--kubeconfig", help="kubeconfig file (with --cluster; default "
                           "$KUBECONFIG or ~/.kube/config)")
        group.add_argument("-n", "--namespace", dest="cluster_namespace",
                           help="read only this namespace (with --cluster)")
        group.add_argument("-A", "--all-namespaces", action="store_true",
                           help="read every namespace (with --cluster; the default)")


def read_inputs(args: argparse.Namespace) -> list[RawObject]:
    """The raw objects named on the command line (files, stdin, or a live cluster)."""
    if getattr(args, "cluster", False):
        if args.paths:
            raise UsageError("give either PATHs or --cluster, not both")
        from stockade.sources.cluster import ClusterSource

        source = ClusterSource.from_kubeconfig(
            kubeconfig=args.kubeconfig, context=args.context
        )
        return source.read(namespace=args.cluster_namespace)
    if not args.paths:
        raise UsageError("no input: give manifest files or directories, - for stdin, "
                         "or --cluster")
    return read_paths(args.paths)


def load(args: argparse.Namespace, *, refuse_invalid: bool = True) -> BuildResult:
    """Read and build the cluster; refuse invalid input unless ``--skip-invalid``."""
    result = build_cluster(read_inputs(args))
    if result.findings and refuse_invalid and not args.skip_invalid:
        raise InvalidObjects(result.findings)
    for finding in result.findings:
        print(f"warning: skipping invalid object: {finding}", file=sys.stderr)
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if args.verbose:
        for note in result.skipped:
            print(f"note: {note}", file=sys.stderr)
    return result


def parse_port(text: str) -> tuple[int, Protocol]:
    """``80/TCP``, ``53/udp`` or ``80`` (TCP) -> (port, protocol)."""
    number, _, proto = text.partition("/")
    try:
        protocol = Protocol(proto.upper() or "TCP")
    except ValueError:
        raise UsageError(f"--port {text}: protocol must be TCP, UDP or SCTP") from None
    if not number.isdigit() or not 1 <= int(number) <= 65535:
        raise UsageError(f"--port {text}: port must be a number from 1 to 65535")
    return int(number), protocol
