"""What every analysing command shares: reading the inputs into a validated ``Cluster``."""

from __future__ import annotations

import argparse
import contextlib
import functools
import gc
import importlib
import os
from collections.abc import Collection, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, NamedTuple, overload

from stockade.cli import diagnostics, timings
from stockade.cli.options import check_input_options
from stockade.cli.read_ahead import Check, read_ahead, read_ahead_pays
from stockade.cli.read_split import read_split, read_split_pays
from stockade.errors import DocumentError, InputError, InvalidObjects, UsageError
from stockade.model.build import BuildResult, Checked, RawObject, build_cluster, check_object
from stockade.model.port_text import read_port
from stockade.model.types import Cluster, Protocol
from stockade.model.workloads import TEMPLATE_NOTE, Endpoints, choose_endpoints, with_endpoints
from stockade.sources.files import check_sizes, expand_paths, file_sizes, read_files
from stockade.sources.limits import Budget
from stockade.wording import count

if TYPE_CHECKING:  # pathlib (with urllib.parse) is not imported by a run that writes no file
    from pathlib import Path


def add_input_arguments(parser: argparse.ArgumentParser, *, cluster: bool = True,
                        helm: bool = False, paths_help: str = "") -> None:
    parser.add_argument(
        "paths", nargs="*", metavar="PATH",
        help=paths_help or "manifest files or directories (.yaml, .yml, .json; recursive), "
        "or - for stdin",
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
    for text in endpoints.notes:
        diagnostics.note(text)
    if endpoints.has_templates:
        diagnostics.note(TEMPLATE_NOTE)
    return with_endpoints(cluster, endpoints), endpoints


def read_inputs(args: argparse.Namespace,
                broken: list[DocumentError] | None = None,
                texts: dict[str, str] | None = None) -> list[RawObject]:
    """The raw objects named on the command line (files, stdin, or a live cluster). Broken
    documents raise ``DocumentError``, or are collected in ``broken`` when it is given.
    Input that holds no object at all is refused, as ``kubectl apply`` refuses it: an
    empty stdin usually means that the command piping into stockade failed. With
    ``texts``, the files' texts are kept there (see ``read_paths``)."""
    return list(stream_inputs(args, broken, texts))


@overload
def stream_inputs(args: argparse.Namespace, broken: list[DocumentError] | None = None,
                  texts: dict[str, str] | None = None, check: None = None
                  ) -> Iterator[RawObject]: ...


@overload
def stream_inputs(args: argparse.Namespace, broken: list[DocumentError] | None,
                  texts: dict[str, str] | None, check: Check
                  ) -> Iterator[RawObject | Checked]: ...


def stream_inputs(args: argparse.Namespace,
                  broken: list[DocumentError] | None = None,
                  texts: dict[str, str] | None = None,
                  check: Check | None = None) -> Iterator[RawObject | Checked]:
    """``read_inputs``, object by object. Files named are found (and missing ones refused)
    at once; large ones are then read by a second process, started now, while this one
    works on the objects handed over (``read_ahead``; with ``check``, that process may
    check objects for this one). ``broken`` and ``texts`` are complete once the objects
    are."""
    check_input_options(args)
    if getattr(args, "cluster", False):
        from stockade.sources.cluster import ClusterSource

        source = ClusterSource.from_kubeconfig(
            kubeconfig=args.kubeconfig, context=args.context, warn=diagnostics.warning
        )
        return iter(source.read(namespace=args.cluster_namespace))
    return read_found(args, find_files(args), broken, texts, check)


class Found(NamedTuple):
    """The files of an input, found and measured (``find_files``), not read yet."""

    files: list[str]
    sizes: list[int | None]
    budget: Budget


def find_files(args: argparse.Namespace) -> Found:
    """The files ``args.paths`` name, found (missing ones refused) and their sizes checked
    against the limits: ``stream_inputs``'s first step, for a caller that reads them
    later (``read_found``)."""
    budget = Budget()
    files = expand_paths(args.paths)
    sizes = file_sizes(files)
    check_sizes(sizes, args.paths, budget)
    return Found(files, sizes, budget)


def read_found(args: argparse.Namespace, found: Found,
               broken: list[DocumentError] | None = None,
               texts: dict[str, str] | None = None,
               check: Check | None = None) -> Iterator[RawObject | Checked]:
    """``stream_inputs`` of files found already: a second process, if it pays, starts
    reading now."""
    helm_chart = getattr(args, "helm", None)
    skipping = broken is None and bool(getattr(args, "skip_invalid", False))
    if skipping:
        broken = []
    files, sizes, budget = found
    if helm_chart is None and read_ahead_pays(files, sizes):
        objects: Iterator[RawObject | Checked] = read_ahead(files, broken, texts, check)
    elif helm_chart is None and check is not None and read_split_pays(files, sizes):
        objects = read_split(files, broken, budget, texts, check)
    else:
        objects = read_files(files, broken=broken, budget=budget, texts=texts)
    return _checked(args, objects, broken, budget, skipping=skipping)


def _checked(args: argparse.Namespace, objects: Iterator[RawObject | Checked],
             broken: list[DocumentError] | None, budget: Budget, *,
             skipping: bool) -> Iterator[RawObject | Checked]:
    """The objects read, then those of the Helm chart; what was skipped is reported, and
    input without any object refused, at the end."""
    found = 0
    for obj in objects:
        found += 1
        yield obj
    helm_chart = getattr(args, "helm", None)
    if helm_chart:
        from stockade.sources.helm import render_chart

        rendered = render_chart(helm_chart, args.values, namespace=args.helm_namespace,
                                command=getattr(args, "command", None) or "matrix",
                                broken=broken, budget=budget)
        found += len(rendered)
        yield from rendered
    if skipping:
        for problem in broken or ():
            diagnostics.warning(f"skipping a document that cannot be read: {problem}")
        if not found and broken:
            raise InputError(f"no document of the input can be read "
                             f"({count(len(broken), 'broken document')}): nothing to analyse")
    if not found and not broken:
        raise InputError(no_objects(args.paths, helm_chart))


def no_objects(paths: Sequence[str], helm_chart: str | None = None) -> str:
    """Why an input without objects is refused, naming where stockade looked."""
    if list(paths) == ["-"] and not helm_chart:
        return ("no objects on stdin (the stream is empty or holds only comments: did the "
                "command before the pipe fail?)")
    where = [*(("stdin" if p == "-" else p) for p in paths)]
    if helm_chart:
        where.append(f"the output of helm template {helm_chart}")
    return f"no objects in {', '.join(where)}: nothing to analyse"


def default_namespace(args: argparse.Namespace) -> str:
    """Where objects without ``metadata.namespace`` land: Helm's release namespace if given."""
    return getattr(args, "helm_namespace", None) or "default"


@contextlib.contextmanager
def bulk_allocation() -> Iterator[None]:
    """Reading and decoding a big input, and building the engine on it, make millions of
    objects and no garbage cycles, so Python's cyclic collector, which would walk the
    growing heap again and again (a third of the time of a 150,000-pod read, 45% of the
    engine's), pauses meanwhile; what was built is then frozen out of its sight
    (reference counting still frees it)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def load(args: argparse.Namespace, texts: dict[str, str] | None = None,
         modules: Sequence[str] = ()) -> BuildResult:
    """Read and build the cluster; refuse invalid input unless ``--skip-invalid``, which
    also skips documents that cannot be read (each named in a warning). With ``texts``,
    the files' texts are kept there. The engine, and the ``modules`` named, are imported
    while a second process reads (and checks) the input."""
    with bulk_allocation():
        namespace = default_namespace(args)
        with timings.stage("read"):
            raws = stream_inputs(args, None, texts,
                                 functools.partial(check_object, default_namespace=namespace))
            import stockade.engine  # noqa: F401 - every caller's next step
            for module in modules:
                importlib.import_module(module)
        with timings.stage("build"):
            result = build_cluster(raws, default_namespace=namespace)
            del raws
    if result.findings and not args.skip_invalid:
        raise InvalidObjects(result.findings)
    report(result, args, errors=False)
    return result


def report(result: BuildResult, args: argparse.Namespace, *, errors: bool) -> None:
    """Invalid objects (as errors, or as warnings that they are skipped), warnings and (with
    ``--verbose``) skipped kinds, on stderr."""
    for finding in result.findings:
        if errors:
            diagnostics.error(str(finding))
        else:
            diagnostics.warning(f"skipping invalid object: {finding}")
    for text in result.warnings:
        diagnostics.warning(text)
    for text in result.notes:
        diagnostics.note(text)
    if args.verbose:
        for text in result.skipped:
            diagnostics.note(text)


def parse_port(text: str, option: str = "--port") -> tuple[int, Protocol]:
    """``80/TCP``, ``53/udp`` or ``80`` (TCP) -> (port, protocol), read as
    ``model.port_text.read_port`` reads it (ASCII digits only, as the API server reads a
    port; ``80/`` names no protocol, so none is a mistake, not TCP)."""
    number, protocol = read_port(text)
    if protocol is None:
        raise UsageError(f"{option} {text}: protocol must be TCP, UDP or SCTP")
    if number is None:
        raise UsageError(f"{option} {text}: port must be a number from 1 to 65535")
    return number, protocol


def parse_ports(texts: Iterable[str], option: str = "--port") -> list[tuple[int, Protocol]]:
    """The ports of a repeatable option (each as ``parse_port`` reads it), in the order
    first given: one given again, in any spelling (``80``, ``80/TCP``, ``80/tcp``), is
    answered once."""
    return list(dict.fromkeys(parse_port(text, option) for text in texts))


def write_atomically(path: Path, text: str, mode: int = 0o600) -> None:
    """Write via a temporary file beside the target and rename, so that a failure never
    leaves half a file and a reader never sees one."""
    import tempfile  # few commands write files: not imported with this module

    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as exc:
        raise InputError(f"{path}: cannot write: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise InputError(f"{path}: cannot write: {exc.strerror or exc}") from exc
