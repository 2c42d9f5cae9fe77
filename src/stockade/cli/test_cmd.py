"""``stockade test``: check connectivity promises against the manifests (statically).

Positional arguments are test files (ConnectivityTest documents or netassert v2 lists,
told apart by their content) and manifest paths. Manifest PATHs replace the test files'
``spec.manifests`` (``--add``: add to them). Exit 0 when every promise holds, 1 when one
fails, 2 on bad input (test files are validated like manifests).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

from stockade.cli import diagnostics
from stockade.cli.common import add_input_arguments, choose, load
from stockade.cli.options import check_cluster_options, check_no_cluster_options
from stockade.engine import Engine
from stockade.engine.promises import FAILED, Checker, Outcome
from stockade.errors import InputError, InvalidObjects, UsageError
from stockade.model.promises import NETASSERT, Suite
from stockade.render import promises as render
from stockade.render.style import Style
from stockade.sources.files import expand_paths
from stockade.sources.promises import (
    manifest_paths,
    read_suites,
    split_arguments,
    yaml_problem,
)

TESTS_HELP = ("test files (ConnectivityTest or netassert, told apart by their content) and "
              "manifest files or directories (.yaml, .yml, .json; recursive), or - for stdin")


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "test", help="check connectivity promises (ConnectivityTest or netassert files)",
        description="Check every promise of the test files (TESTS: stockade ConnectivityTest "
        "documents or netassert v2 test lists, recognised by their content) against the "
        "manifests: the test files' spec.manifests, or the PATHs given (which replace them; "
        "--add adds them). Exit 0 all pass, 1 a promise fails, 2 bad input.",
        usage="stockade test TESTS... [PATH...] [-o text|json|junit] [--add]",
    )
    add_input_arguments(parser, paths_help=TESTS_HELP)
    parser.add_argument("--add", action="store_true",
                        help="PATHs add to the test files' spec.manifests instead of "
                        "replacing them")
    parser.add_argument("-o", "--output", choices=("text", "json", "junit"), default="text",
                        help="text (default), JSON for tools, or JUnit XML for CI test "
                        "reports (one test case per promise)")
    parser.set_defaults(func=run)


def read_tests(paths: Sequence[str]) -> tuple[list[Suite], list[str]]:
    """The suites of the test files among ``paths`` (refused with every error when one is
    invalid) and the other paths (manifests)."""
    tests, manifests = split_arguments(paths)
    if not tests:
        for path in manifests:
            problem = yaml_problem(path)
            if problem is not None:
                raise InputError(f"{problem} (no test file could be read among the "
                                 "arguments)")
        named = ", ".join(manifests) if len(manifests) <= 3 else (
            f"{', '.join(manifests[:3])} and {len(manifests) - 3} more")
        where = f" ({named}: manifests)" if manifests else ""
        raise UsageError(f"no test file among the arguments{where}: give ConnectivityTest "
                         "files (apiVersion: stockade.dev/v1alpha1) or netassert test lists")
    suites: list[Suite] = []
    findings = []
    for path in tests:
        found, problems = read_suites(path)
        suites.extend(found)
        findings.extend(problems)
    if findings:
        raise InvalidObjects(findings, skippable=False)
    return suites, manifests


def manifest_groups(args: argparse.Namespace, suites: Sequence[Suite],
                    paths: Sequence[str]) -> dict[tuple[str, ...], list[Suite]]:
    """Suites by the manifests they are checked against."""
    groups: dict[tuple[str, ...], list[Suite]] = {}
    for suite in suites:
        if args.cluster or (paths and not args.add):
            key = tuple(paths)
        else:
            key = tuple(dict.fromkeys([*manifest_paths(suite), *paths]))
            if not key:
                hint = ("a netassert file names no manifests" if suite.format == NETASSERT
                        else "its spec.manifests is empty")
                raise UsageError(f"{suite.origin}: {suite.name}: nothing to check the "
                                 f"promises against: {hint}; give manifest PATHs")
        groups.setdefault(key, []).append(suite)
    if args.cluster:
        return groups
    tests = {os.path.realpath(s.origin.file) for s in suites}
    files: dict[tuple[str, ...], list[Suite]] = {}
    for key, found in groups.items():
        files.setdefault(_without_tests(key, tests), []).extend(found)
    return files


def _without_tests(paths: tuple[str, ...], tests: set[str]) -> tuple[str, ...]:
    """The manifest files of ``paths``, less the test files themselves: a suite kept in
    the manifests' directory is not read as a manifest (a netassert list would be refused
    as one)."""
    if not any(p != "-" and os.path.isdir(p) for p in paths):
        return paths
    kept = tuple(f for f in expand_paths(paths) if f == "-" or os.path.realpath(f) not in tests)
    if not kept:
        raise InputError(f"no manifests in {', '.join(paths)} besides the test files: "
                         "nothing to check the promises against")
    return kept


def check_group(args: argparse.Namespace, paths: Sequence[str],
                suites: Sequence[Suite]) -> tuple[Engine, dict[str, str], list[Outcome]]:
    """Load the manifests and check the suites' promises with the engine."""
    group_args = argparse.Namespace(**{**vars(args), "paths": list(paths)})
    result = load(group_args)
    cluster, endpoints = choose(group_args, result.cluster)
    engine = Engine(cluster)
    checker = Checker(engine, endpoints.owner)
    outcomes = [checker.check(p) for suite in suites for p in suite.promises]
    return engine, dict(endpoints.owner), outcomes


def netassert_notes(suites: Sequence[Suite]) -> list[str]:
    return [f"{s.origin.file}: netassert fields not used: {', '.join(s.ignored)} "
            "(checked statically: no timeouts, no retries)" for s in suites if s.ignored]


def check_options(args: argparse.Namespace) -> None:
    """The options, before any file is read."""
    if "" in args.paths:
        raise UsageError("an empty PATH: give a file, a directory or - for stdin")
    if getattr(args, "cluster", False):
        check_cluster_options(args)
        return
    check_no_cluster_options(args)


def run(args: argparse.Namespace) -> int:
    check_options(args)
    suites, paths = read_tests(args.paths)
    for note in netassert_notes(suites):
        diagnostics.note(note)
    outcomes: list[Outcome] = []
    for group_paths, group in manifest_groups(args, suites, paths).items():
        outcomes.extend(check_group(args, group_paths, group)[2])
    out = sys.stdout
    if args.output == "json":
        render.write_json(outcomes, out, {})
    elif args.output == "junit":
        render.write_junit(outcomes, out)
    else:
        render.write_text(outcomes, out, Style.for_stream(out, os.environ))
    return 1 if any(o.status == FAILED for o in outcomes) else 0
