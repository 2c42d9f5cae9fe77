"""``stockade`` / ``kubectl-stockade`` / ``python -m stockade``: parse argv, dispatch, map errors
to exit codes (0 ok, 1 findings such as a denied query, 2 bad input or usage)."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from stockade import __version__
from stockade.errors import EnvironmentProblem, InputError, InvalidObjects, UsageError

# Each name is a module ``stockade.cli.<name>_cmd`` with ``register(subparsers)``.
COMMANDS = ("check", "matrix", "query", "hosts", "compile", "lab", "snapshot")

EXIT_OK, EXIT_FINDINGS, EXIT_INPUT = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="stockade",
        description="Kubernetes NetworkPolicy and HostAliases: validate, analyse, enforce "
        "with nftables, and test with real packets in a network-namespace lab.",
    )
    parser.add_argument("--version", action="version", version=f"stockade {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name in COMMANDS:
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
        parser = build_parser()
        args = parser.parse_args(args_list)
        code: int = args.func(args)
        return code
    except InvalidObjects as exc:
        for finding in exc.findings:
            print(f"error: {finding}", file=sys.stderr)
        count = len(exc.findings)
        hint = " (--skip-invalid analyses the valid objects only)" if hasattr(
            args, "skip_invalid") else ""
        print(f"stockade: {count} error{'s' if count != 1 else ''}; nothing analysed{hint}",
              file=sys.stderr)
        return EXIT_INPUT
    except (InputError, UsageError) as exc:
        print(f"stockade: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except EnvironmentProblem as exc:
        print(f"stockade: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("stockade: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
