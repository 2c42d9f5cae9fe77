"""``stockade`` / ``kubectl-stockade`` / ``python -m stockade``: parse argv, dispatch, map errors
to exit codes (0 ok, 1 findings such as a denied query, 2 bad input or usage)."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import Any

from stockade import __version__
from stockade.cli import diagnostics, start, timings
from stockade.errors import (
    CommandFailed,
    EnvironmentProblem,
    InputError,
    InvalidObjects,
    UsageError,
)
from stockade.wording import count

# Each name is a module ``stockade.cli.<name>_cmd`` with ``register(subparsers)``.
COMMANDS = ("check", "lint", "matrix", "query", "diff", "test", "report", "hosts", "compile",
            "lab", "snapshot", "agent")

EXIT_OK, EXIT_INPUT = 0, 2  # 1 (findings: a denied query, say) is the commands' own


class _Parser(argparse.ArgumentParser):
    _adding = False

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see {self.prog} --help)", program=self.prog)

    def add_argument(self, *args: Any, **kwargs: Any) -> argparse.Action:
        self._adding = True
        try:
            return super().add_argument(*args, **kwargs)
        finally:
            self._adding = False

    def _get_formatter(self) -> argparse.HelpFormatter:
        # argparse makes a formatter for every argument added, only to check its metavar;
        # the terminal's width it would measure for that costs an import of shutil (with
        # zlib, bz2 and lzma: over a millisecond of every run). Help is laid out to it.
        if self._adding:
            return argparse.HelpFormatter(self.prog, width=80)
        return super()._get_formatter()


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser with every subcommand, or with just ``only`` (each command's module is
    imported only when needed: start-up time is most of a small run)."""
    parser = _Parser(
        prog="stockade",
        description="Kubernetes NetworkPolicy and HostAliases: validate, analyse, enforce "
        "with nftables, and test with real packets in a network-namespace lab.",
    )
    parser.add_argument("--version", action="version", version=f"stockade {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser,
                                prog=parser.prog)  # as argparse would lay it out, unmeasured
    sub.required = True
    for name in COMMANDS:
        if only is not None and name != only:
            continue
        try:
            module = importlib.import_module(f"stockade.cli.{name}_cmd")
        except ModuleNotFoundError as exc:
            if exc.name != f"stockade.cli.{name}_cmd":
                raise
            continue
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    args = argparse.Namespace()
    try:
        command = next((a for a in args_list if not a.startswith("-")), None)
        parser = build_parser(command if command in COMMANDS else None)
        args = parser.parse_args(args_list)
        start.resume_collector()
        code: int = args.func(args)
        return code
    except InvalidObjects as exc:
        for finding in exc.findings:
            diagnostics.error(str(finding))
        # Only where the flag would help: not given yet, and the objects are skippable.
        hint = " (--skip-invalid analyses the valid objects only)" if (
            exc.skippable and getattr(args, "skip_invalid", True) is False) else ""
        print(f"stockade: {count(len(exc.findings), 'error')}; nothing analysed{hint}",
              file=sys.stderr)
        return EXIT_INPUT
    except UsageError as exc:
        diagnostics.fatal(str(exc), exc.program)
        return EXIT_INPUT
    except InputError as exc:
        diagnostics.fatal(str(exc))
        return EXIT_INPUT
    except EnvironmentProblem as exc:
        diagnostics.fatal(str(exc), lines=isinstance(exc, CommandFailed))
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("stockade: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK


# Commands that hold nothing to clean up at exit (no labs, no temporary files).
FAST_EXIT = frozenset({"check", "lint", "matrix", "query", "diff", "test", "report", "compile",
                       "hosts"})


def entry() -> None:
    """Run the command of ``sys.argv`` and end the process (after ``cli.start``). After an
    analysis nothing is left to release, so the process ends without tearing down its
    objects one by one (tens of milliseconds on a large cluster)."""
    argv = sys.argv[1:]
    code = main(argv)
    timings.report()
    command = next((a for a in argv if not a.startswith("-")), None)
    if command in FAST_EXIT:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except BrokenPipeError:
            os._exit(EXIT_OK)
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    start.entry()
