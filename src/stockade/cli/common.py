"""What every analysing command shares: reading the inputs into a validated ``Cluster``."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Collection
from pathlib import Path

from stockade.errors import InputError, InvalidObjects, UsageError
from stockade.model.build import BuildResult, RawObject, build_cluster
from stockade.model.types import Cluster, Protocol
from stockade.model.workloads import TEMPLATE_NOTE, Endpoints, choose_endpoints, with_endpoints
from stockade.sources.files import read_paths


def add_input_arguments(parser: argparse.ArgumentParser, *, cluster: bool = True,
                        helm: bool = False) -> None:
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
    if helm:
        chart = parser.add_argument_group("Helm chart (runs `helm template`)")
        chart.add_argument("--helm", metavar="CHART_DIR",
                           help="render this chart with the helm binary and analyse the "
                           "output (with or without PATHs)")
        chart.add_argument("--values", action="append", default=[], metavar="FILE",
                           help="a values file for --helm (repeatable, later files win)")
        chart.add_argument("--helm-namespace", metavar="NS",
                           help="the release namespace for --helm; objects without a "
                           "namespace land there instead of default")


def add_endpoint_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--per-pod", action="store_true",
                        help="show pods owned by a workload one by one instead of as their "
                        "workload (ns/Kind/name)")


def choose(args: argparse.Namespace, cluster: Cluster,
           keep: Collection[str] = ()) -> tuple[Cluster, Endpoints]:
    """The cluster over the endpoints to analyse (workloads, pods), notes on stderr once."""
    endpoints = choose_endpoints(cluster, per_pod=getattr(args, "per_pod", False), keep=keep)
    for note in endpoints.notes:
        print(f"note: {note}", file=sys.stderr)
    if endpoints.has_templates:
        print(f"note: {TEMPLATE_NOTE}", file=sys.stderr)
    return with_endpoints(cluster, endpoints), endpoints


def read_inputs(args: argparse.Namespace) -> list[RawObject]:
    """The raw objects named on the command line (files, stdin, or a live cluster)."""
    if getattr(args, "cluster", False):
        if getattr(args, "helm", None):
            raise UsageError("give either --helm or --cluster, not both")
        if args.paths:
            raise UsageError("give either PATHs or --cluster, not both")
        from stockade.sources.cluster import ClusterSource

        source = ClusterSource.from_kubeconfig(
            kubeconfig=args.kubeconfig, context=args.context
        )
        return source.read(namespace=args.cluster_namespace)
    helm_chart = getattr(args, "helm", None)
    if getattr(args, "values", None) and not helm_chart:
        raise UsageError("--values is for --helm CHART_DIR")
    if not args.paths and not helm_chart:
        raise UsageError("no input: give manifest files or directories, - for stdin, "
                         "--helm CHART_DIR, or --cluster")
    objects = read_paths(args.paths) if args.paths else []
    if helm_chart:
        from stockade.sources.helm import render_chart

        objects += render_chart(helm_chart, args.values, namespace=args.helm_namespace,
                                command=getattr(args, "command", None) or "matrix")
    return objects


def default_namespace(args: argparse.Namespace) -> str:
    """Where objects without ``metadata.namespace`` land: Helm's release namespace if given."""
    return getattr(args, "helm_namespace", None) or "default"


def load(args: argparse.Namespace, *, refuse_invalid: bool = True) -> BuildResult:
    """Read and build the cluster; refuse invalid input unless ``--skip-invalid``."""
    result = build_cluster(read_inputs(args), default_namespace=default_namespace(args))
    if result.findings and refuse_invalid and not args.skip_invalid:
        raise InvalidObjects(result.findings)
    report(result, args, invalid_prefix="warning: skipping invalid object: ")
    return result


def report(result: BuildResult, args: argparse.Namespace, *, invalid_prefix: str) -> None:
    """Invalid objects, warnings and (with ``--verbose``) skipped kinds, on stderr."""
    for finding in result.findings:
        print(f"{invalid_prefix}{finding}", file=sys.stderr)
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if args.verbose:
        for note in result.skipped:
            print(f"note: {note}", file=sys.stderr)


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


def write_atomically(path: Path, text: str, mode: int = 0o600) -> None:
    """Write via a temporary file beside the target and rename, so that a failure never
    leaves half a file and a reader never sees one."""
    directory = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
    except OSError as exc:
        raise InputError(f"{path}: cannot write: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise InputError(f"{path}: cannot write: {exc.strerror or exc}") from exc
