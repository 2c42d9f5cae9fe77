"""``stockade diff``: what a change of manifests opens or closes, pair by pair, and why.

Each side is read and validated like any input (a path, a git revision with ``--base``,
or the live cluster with ``--cluster``); errors name the side. Exit 0 when nothing
changed (the two sides are equivalent), 1 when something did, 2 on bad input.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from stockade.cli import diagnostics
from stockade.cli.common import (
    add_endpoint_arguments,
    add_input_arguments,
    bulk_allocation,
    find_files,
    parse_ports,
    read_found,
    read_inputs,
)
from stockade.cli.options import (
    check_cluster_options,
    check_input_options,
    check_no_cluster_options,
)
from stockade.engine import Engine
from stockade.engine.diff import Comparison
from stockade.engine.diff_result import DiffResult, diff_result, port_results
from stockade.errors import DocumentError, InputError, InvalidObjects, UsageError
from stockade.model.build import BuildResult, Checked, RawObject, build_cluster, check_object
from stockade.model.types import Origin, Protocol
from stockade.model.workloads import TEMPLATE_NOTE, Endpoints, choose_endpoints, with_endpoints
from stockade.render import diff as render
from stockade.render.escape import escape
from stockade.render.groups import group_names
from stockade.render.style import Style
from stockade.sources.positions import SourceMap


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "diff", help="what a change opens or closes: connections gained and lost, and why",
        description="Compare what every pair of endpoints present on both sides may open, "
        "before (OLD) and after (NEW): connections gained and lost, with the policy edits "
        "responsible. Semantic: reordered rules, split or renamed policies, a policy that "
        "selects no pod change nothing. Forms: diff OLD NEW; diff --base REV [PATH...] "
        "(PATH at git revision REV vs the working tree); diff --cluster NEW (the live "
        "cluster vs NEW). Exit 0 equivalent, 1 changed, 2 bad input.",
    )
    add_input_arguments(parser)
    add_endpoint_arguments(parser)
    parser.add_argument("--base", metavar="REV",
                        help="the old side is PATH (default .) at git revision REV, e.g. "
                        "origin/main; the new side is PATH in the working tree")
    parser.add_argument("--port", action="append", default=[], metavar="PORT/PROTO",
                        help="only these ports (repeatable): per port, the pairs now "
                        "reachable (added) and no longer reachable (removed)")
    parser.add_argument("--pods", action="store_true",
                        help="every pair of pods instead of groups of pods alike on both "
                        "sides")
    parser.add_argument("-o", "--output", choices=("text", "json", "md", "html"),
                        default="text",
                        help="text (default), JSON for tools (with --port, exactly the "
                        "--port contract), a Markdown summary for a pull-request comment, "
                        "or html: the report of the new side with every change coloured "
                        "and explained (one self-contained file, on standard output)")
    parser.set_defaults(func=run)


@dataclass(frozen=True, slots=True)
class Side:
    """One version of the input: what it is called in messages, and its objects (``read``,
    called once, starts reading files, or gives objects read already; they are built as
    they come, and ``texts`` is complete after)."""

    label: str
    read: Callable[[], Iterable[RawObject | Checked]]
    texts: dict[str, str]


DEFAULT_NAMESPACE = "default"  # of objects without one, on both sides (diff takes no --helm)
_NOT_CLUSTER = {"cluster": False, "context": None, "kubeconfig": None,
                "cluster_namespace": None}


def check_options(args: argparse.Namespace) -> list[tuple[int, Protocol]]:
    """Every option, before anything is read; the ``--port`` list."""
    ports = parse_ports(args.port)
    if args.output == "html":
        if ports:
            raise UsageError("-o html shows every connection: --port narrows text, json "
                             "and md only")
        if sys.stdout.isatty():
            raise UsageError("-o html writes an HTML file: redirect the output "
                             "(> diff.html)")
    paths: list[str] = args.paths
    if "" in paths:
        raise UsageError("an empty PATH: give a file, a directory or - for stdin")
    if paths.count("-") > 1:
        raise UsageError("- (stdin) may be one side only")
    if args.base is not None and args.cluster:
        raise UsageError("give --base or --cluster, not both")
    if args.cluster:
        check_cluster_options(args)
        if not paths:
            raise UsageError("diff --cluster NEW: give the manifests to compare the cluster "
                             "with")
    else:
        check_no_cluster_options(args)
    if args.base is not None:
        if not args.base or args.base.startswith("-"):
            raise UsageError(f"--base {args.base!r}: give a git revision, e.g. origin/main")
        if "-" in paths:
            raise UsageError("with --base, PATHs are read from git and from the working tree; "
                             "- (stdin) is neither")
    elif not args.cluster and len(paths) != 2:
        raise UsageError("give two paths, OLD and NEW (or --base REV [PATH...], or "
                         "--cluster NEW)")
    return ports


def _sides(args: argparse.Namespace) -> tuple[Side, Side]:
    paths: list[str] = args.paths
    if args.base is not None:
        from stockade.sources.git import read_revision

        shown = " ".join(paths) or "."
        label = f"old side ({args.base}:{shown})"
        broken: list[DocumentError] | None = [] if args.skip_invalid else None
        objects, texts = _side_read(label, lambda: read_revision(args.base, paths,
                                                                 broken=broken))
        for problem in broken or ():
            diagnostics.warning(f"{label}: skipping a document that cannot be read: "
                                f"{problem}")
        return (Side(label, lambda: objects, texts),
                _files(args, f"new side ({shown})", paths or ["."]))
    if args.cluster:
        label = f"old side (cluster{' context ' + args.context if args.context else ''})"
        cluster = argparse.Namespace(**{**vars(args), "paths": []})
        objects, _ = _side_read(label, lambda: (read_inputs(cluster), {}))
        return (Side(label, lambda: objects, {}),
                _files(args, f"new side ({' '.join(paths)})", paths))
    return (_files(args, f"old side ({paths[0]})", [paths[0]]),
            _files(args, f"new side ({paths[1]})", [paths[1]]))


@contextlib.contextmanager
def _named(label: str) -> Iterator[None]:
    """Input errors (not invalid objects, nor usage) raised inside, named with the side."""
    try:
        yield
    except (InvalidObjects, UsageError):
        raise
    except InputError as exc:
        raise InputError(f"{label}: {exc}") from None


def _side_read(label: str, read: Any) -> tuple[Iterable[RawObject], dict[str, str]]:
    with _named(label):
        result: tuple[Iterable[RawObject], dict[str, str]] = read()
    return result


def _files(args: argparse.Namespace, label: str, paths: Sequence[str]) -> Side:
    """A side read from files as any command reads them (limits, broken documents), while
    it is built. Its files are found now (a missing one is refused before anything is
    read), and read when asked. A process reading a large side ahead also checks its
    objects for as long as this one is busy elsewhere."""
    side = argparse.Namespace(**{**vars(args), **_NOT_CLUSTER, "paths": list(paths)})
    with _named(label):
        check_input_options(side)
        found = find_files(side)
    texts: dict[str, str] = {}
    check = functools.partial(check_object, default_namespace=DEFAULT_NAMESPACE)
    return Side(label, lambda: _labelled(label, read_found(side, found, None, texts, check)),
                texts)


def _labelled(label: str, objects: Iterable[RawObject | Checked]
              ) -> Iterator[RawObject | Checked]:
    """A side's objects; what stops reading them is named with the side."""
    with _named(label):
        yield from objects


@dataclass(frozen=True, slots=True)
class Compiled:
    """A side's engine, and its endpoints (which notes come from)."""

    engine: Engine
    endpoints: Endpoints


def _compiled(result: BuildResult, args: argparse.Namespace,
              like: Engine | None = None) -> Compiled | None:
    """The engine of a side that will be judged valid (None for one that will be refused:
    ``_engine`` says so); ``like``: the other side's, whose shared parts it takes."""
    if result.findings and not args.skip_invalid:
        return None
    endpoints = choose_endpoints(result.cluster, per_pod=args.per_pod)
    return Compiled(Engine(with_endpoints(result.cluster, endpoints), like=like), endpoints)


def _engine(side: Side, result: BuildResult, args: argparse.Namespace,
            notes: dict[tuple[str, str], None], compiled: Compiled | None
            ) -> tuple[Engine, dict[str, str]]:
    """A side judged (refused when invalid, unless skipped) and its notes kept, then its
    engine (``_compiled``'s)."""
    if result.findings and not args.skip_invalid:
        print("stockade: " + escape(f"the {side.label} is invalid:"), file=sys.stderr)
        raise InvalidObjects(result.findings)
    for finding in result.findings:
        diagnostics.warning(f"{side.label}: skipping invalid object: {finding}")
    for text in result.warnings:
        notes.setdefault(("warning", text))
    for text in result.notes:
        notes.setdefault(("note", f"{side.label}: {text}"))
    for text in result.skipped if args.verbose else ():
        notes.setdefault(("note", text))
    assert compiled is not None  # ``_compiled`` makes none only for a side refused above
    endpoints = compiled.endpoints
    for note in endpoints.notes:
        notes.setdefault(("note", f"{side.label}: {note}"))
    if endpoints.has_templates:
        notes.setdefault(("note", TEMPLATE_NOTE))
    return compiled.engine, dict(endpoints.owner)


def _located(result: DiffResult, texts: dict[str, str]) -> DiffResult:
    """Causes pointing at the line of the rule (or selector) in its file, found in the
    texts read (the files', and a git revision's)."""
    causes = [c for change in result.connections for c in change.because
              if c.policy and c.path]
    # A cluster-wide policy's key is ``Kind/name``, a NetworkPolicy's ``ns/name``.
    queries = [(c.origin, c.policy.partition("/")[0] if c.tier else "NetworkPolicy",
                c.policy.partition("/")[2], c.path) for c in causes]
    found = dict(zip(map(id, causes), SourceMap(texts).lines(queries), strict=True))
    connections = []
    for change in result.connections:
        because = tuple(
            replace(c, origin=Origin(c.origin.file, found[id(c)]))
            if found.get(id(c)) else c for c in change.because)
        connections.append(replace(change, because=because))
    return replace(result, connections=tuple(connections))


def _write_html(comparison: Comparison, result: DiffResult,
                old: tuple[Side, dict[str, str]], new: tuple[Side, dict[str, str]],
                args: argparse.Namespace, *, notes: Sequence[tuple[str, str]]) -> None:
    """The new side's report with the diff laid over it."""
    from stockade.cli.progress import Progress
    from stockade.render.connections import connection_graph
    from stockade.render.html import explain_cells, render_page, report_data
    from stockade.render.html.diffpage import diff_page

    engine = comparison.new
    progress = Progress(sys.stderr, "stockade: computing the matrix of the new side")
    graph = connection_graph(engine, {} if args.per_pod else new[1], progress)
    progress.done()
    labels = (old[0].label.removeprefix("old side ").strip("()"),
              new[0].label.removeprefix("new side ").strip("()"))
    changes, page = diff_page(graph, comparison, result, old_label=labels[0],
                              new_label=labels[1], old_owner={} if args.per_pod else old[1])
    progress = Progress(sys.stderr, "stockade: explaining every cell")
    reasons = explain_cells(graph, progress, first=page.ports)
    progress.done()
    shown = [f"warning: {text}" if level == "warning" else text for level, text in notes]
    title = f"stockade diff: {labels[0]} → {labels[1]}"
    sys.stdout.write(render_page(report_data(graph, reasons, title=title,
                                             sources=[labels[1]], notes=shown,
                                             changes=changes, diff=page)))


def run(args: argparse.Namespace) -> int:
    ports = check_options(args)
    notes: dict[tuple[str, str], None] = {}
    with bulk_allocation():  # the two sides, read, decoded and compiled
        old_side, new_side = _sides(args)
        # Both sides read (each built as it is read) before either is judged: an input
        # that cannot be read is reported before an invalid object of the other side.
        # The new side starts to be read once the old one is built, and the old side's
        # engine is made meanwhile: a process reading the new side ahead has the second
        # core to itself then, and checks the objects it reads.
        built_old = build_cluster(old_side.read(), default_namespace=DEFAULT_NAMESPACE)
        new_objects = new_side.read()
        compiled_old = _compiled(built_old, args)
        built_new = build_cluster(new_objects, default_namespace=DEFAULT_NAMESPACE)
        old, old_owner = _engine(old_side, built_old, args, notes, compiled_old)
        # What the two sides share (the classes, the policies not changed) is made once.
        new, new_owner = _engine(new_side, built_new, args, notes,
                                 _compiled(built_new, args, like=old))
    for level, text in notes:  # once, even when both sides have them
        (diagnostics.warning if level == "warning" else diagnostics.note)(text)
    comparison = Comparison(old, new)
    owner = {} if args.per_pod else {**old_owner, **new_owner}
    names = group_names(comparison.groups, new.pods, owner)
    out = sys.stdout
    style = Style.for_stream(out, os.environ)
    if ports:
        results = port_results(comparison, [(p, proto) for p, proto in ports], names,
                               per_pod=args.pods)
        if args.output == "json":
            render.write_port_json(results, out)
        elif args.output == "md":
            render.write_port_markdown(results, out)
        else:
            render.write_port_text(results, out, style)
        return 1 if render.ports_changed(results) else 0
    result = diff_result(comparison, names, per_pod=args.pods)
    result = _located(result, {**old_side.texts, **new_side.texts})
    if args.output == "html":
        _write_html(comparison, result, (old_side, old_owner), (new_side, new_owner),
                    args, notes=list(notes))
    elif args.output == "json":
        render.write_json(result, out)
    elif args.output == "md":
        render.write_markdown(result, out)
    else:
        render.write_text(result, out, style)
    return 1 if result.changed else 0
