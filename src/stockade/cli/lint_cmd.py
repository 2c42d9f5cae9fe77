"""``stockade lint``: mistakes that valid policies still make. Exit 0 when no finding
reaches ``--fail-on``, 1 when one does, 2 for bad input (invalid objects as ``check``
reports them) or usage."""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from typing import IO, Any

from stockade.cli import diagnostics
from stockade.cli.common import add_input_arguments, load
from stockade.cli.options import check_output_file
from stockade.errors import UsageError
from stockade.lint import BY_ID, CHECKS, DEFAULT_IDS, DISABLE_ANNOTATION, LintReport, lint
from stockade.lint.findings import Severity
from stockade.render import lint as render
from stockade.render.style import Style

FORMATS = ("text", "json", "sarif", "md")


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "lint", help="find mistakes that valid policies still make",
        description="Check NetworkPolicies, pods and workloads for mistakes the API server "
        "accepts: selectors that match nothing, rules ignored by policyTypes, egress "
        "isolation that cuts DNS, undeclared named ports, redundant rules and policies, "
        "ipBlocks over pod IPs, allow-all rules, shadowed hostAliases. Each finding has a "
        f"stable ID; silence one on an object with the annotation {DISABLE_ANNOTATION}: "
        "ID[,ID...]. Exit 0 when no finding reaches --fail-on, 1 when one does, 2 for bad "
        "input.",
    )
    add_input_arguments(parser, helm=True)
    parser.add_argument("-o", "--output", choices=FORMATS, default="text",
                        help="format on stdout (md: a Markdown summary)")
    parser.add_argument("--fail-on", choices=[s.value for s in Severity], default="warning",
                        help="exit 1 when a finding of this severity or worse is reported "
                        "(default: warning)")
    parser.add_argument("--disable", action="append", default=[], metavar="ID",
                        help="do not run this check (repeatable, or comma-separated)")
    parser.add_argument("--enable", action="append", default=[], metavar="ID",
                        help="also run this check, e.g. one that is off by default "
                        "(repeatable, or comma-separated; 'all' for every check)")
    parser.add_argument("--sarif", metavar="FILE",
                        help="also write the findings as SARIF 2.1.0 to FILE")
    parser.add_argument("--summary", metavar="FILE",
                        help="also append a Markdown summary to FILE (e.g. "
                        "$GITHUB_STEP_SUMMARY)")
    parser.add_argument("--source-root", metavar="DIR", default=".",
                        help="SARIF file paths are relative to this directory (default: the "
                        "current directory, e.g. the repository checked out by CI)")
    parser.add_argument("--list-checks", action="store_true",
                        help="list every check ID with its severity and exit")
    parser.set_defaults(func=run)


def _ids(values: list[str], option: str) -> set[str]:
    ids = {part.strip() for value in values for part in value.split(",") if part.strip()}
    if option == "--enable" and "all" in ids:
        ids = (ids - {"all"}) | set(BY_ID)
    unknown = sorted(ids - set(BY_ID))
    if unknown:
        raise UsageError(f"{option}: unknown check {', '.join(unknown)}; "
                         "`stockade lint --list-checks` lists them")
    return ids


def enabled_checks(args: argparse.Namespace) -> set[str]:
    return (set(DEFAULT_IDS) | _ids(args.enable, "--enable")) - _ids(args.disable, "--disable")


def _list_checks() -> int:
    for check in CHECKS:
        state = "" if check.default else " (off by default)"
        print(f"{check.id:32} {check.severity.value:8} {check.summary}{state}")
    return 0


def run(args: argparse.Namespace) -> int:
    if args.list_checks:
        return _list_checks()
    enabled = enabled_checks(args)
    if args.sarif:
        check_output_file("--sarif", args.sarif)
    if args.summary:
        check_output_file("--summary", args.summary)
    texts: dict[str, str] = {}
    result = load(args, texts=texts)
    report = lint(result.cluster, enabled=enabled)
    report = place(report, texts)
    files = {name: os.path.abspath(name) for name in texts if name != "<stdin>"}
    root = os.path.abspath(args.source_root)
    for note in report.notes:
        diagnostics.warning(note)
    out = sys.stdout
    if args.output == "json":
        render.write_json(report, out)
    elif args.output == "sarif":
        from stockade.render.sarif import write_sarif

        write_sarif(report, out, root, files)
    elif args.output == "md":
        render.write_markdown(report, out)
    else:
        render.write_text(report, out, Style.for_stream(out, os.environ))
    if args.sarif:
        from stockade.render.sarif import write_sarif

        with _output(args.sarif, "w", "--sarif") as fh:
            write_sarif(report, fh, root, files)
    if args.summary:
        with _output(args.summary, "a", "--summary") as fh:
            render.write_markdown(report, fh)
    threshold = Severity(args.fail_on).rank
    return 1 if any(f.severity.rank >= threshold for f in report.findings) else 0


def _output(path: str, mode: str, option: str) -> IO[str]:
    try:
        return open(path, mode, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{option} {path}: cannot write: {exc.strerror or exc}") from exc


def place(report: LintReport, texts: dict[str, str]) -> LintReport:
    """Findings with the line of their field (from the files' texts, through a source
    map), in file and line order."""
    findings = list(report.findings)
    asked = [i for i, f in enumerate(findings) if f.path]
    if asked:
        from stockade.sources.positions import SourceMap

        lines = SourceMap(texts).lines([(findings[i].origin, findings[i].kind,
                                         findings[i].name, findings[i].path) for i in asked])
        for i, line in zip(asked, lines, strict=True):
            findings[i] = dataclasses.replace(findings[i], line=line)
    findings.sort(key=lambda f: (f.origin.file, f.location.line, f.path, f.check, f.message))
    return dataclasses.replace(report, findings=tuple(findings))
