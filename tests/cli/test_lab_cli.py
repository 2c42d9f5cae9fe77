"""``stockade lab`` options are checked before anything runs: bad values are usage errors
(exit 2, a message naming the option), never a traceback, a lab built and torn down, or a
probe that reports false drops; and every subcommand documents its arguments."""

from __future__ import annotations

import argparse

import pytest

from stockade.cli.lab_cmd import RUN_COMMANDS_HINT
from stockade.cli.main import build_parser, main

KONVOY = "examples/konvoy"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("value", ["0", "-1", "1e-9", "0.01", "nan", "inf", "-inf", "61",
                                   "abc", "", "٠.5", "０.５", "1_0", " 1"])
@pytest.mark.parametrize("command", [["lab", "probe", "somelab"], ["lab", "run", KONVOY]])
def test_bad_timeouts_are_usage_errors(command: list[str], value: str,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, *command, f"--timeout={value}")
    assert code == 2
    assert out == ""
    assert "argument --timeout" in err and "expected seconds from 0.05 to 60" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("value", ["0.05", "0.5", "60"])
def test_good_timeouts_parse(value: str) -> None:
    args = build_parser("lab").parse_args(["lab", "probe", "x", "--timeout", value])
    assert args.timeout == float(value)


@pytest.mark.parametrize(("value", "why"), [
    ("garbage", "is not a CIDR"),
    ("10.0.0.1", "has no prefix length"),
    ("10.0.0.0/33", "is not a CIDR"),
    ("0.0.0.0/0", "the whole address space"),
    ("::/0", "the whole address space"),
    ("127.0.0.0/8", "overlaps 127.0.0.0/8"),
    ("169.254.0.0/16", "overlaps 169.254.0.0/16"),
    ("169.0.0.0/8", "overlaps 169.254.0.0/16"),
    ("fe80::/64", "overlaps fe80::/10"),
    ("224.0.0.0/24", "overlaps 224.0.0.0/4"),
    ("10.1.2.3/31", "has no room for pods"),
])
@pytest.mark.parametrize("command", [["lab", "up", KONVOY], ["lab", "run", KONVOY]])
def test_bad_pod_cidrs_are_usage_errors(command: list[str], value: str, why: str,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, *command, f"--pod-cidr={value}")
    assert code == 2
    assert out == ""
    assert "argument --pod-cidr" in err and why in err
    assert "Traceback" not in err and ".yaml" not in err  # no manifest is blamed


@pytest.mark.parametrize("value", ["10.96.0.0/12", "10.244.0.0/16", "fd00:244::/64",
                                   "10.1.2.0/24"])
def test_good_pod_cidrs_parse(value: str) -> None:
    args = build_parser("lab").parse_args(["lab", "up", KONVOY, "--pod-cidr", value])
    assert args.pod_cidr == value


@pytest.mark.parametrize("value", ["\u00b2", "\u0668\u0660", "\uff18\uff10", "80/XTP", "0",
                                   "65536", "000000080", "-1", "/TCP", "80/"])
def test_bad_ports_are_usage_errors(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "lab", "probe", "somelab", f"--port={value}")
    assert code == 2
    assert out == ""
    assert "argument --port" in err and "Traceback" not in err


@pytest.mark.parametrize(("value", "port"), [("80", (80, "TCP")), ("80/tcp", (80, "TCP")),
                                           ("53/UDP", (53, "UDP"))])
def test_good_ports_parse(value: str, port: tuple[int, str]) -> None:
    args = build_parser("lab").parse_args(["lab", "probe", "x", "--port", value])
    assert args.port == [port]


@pytest.mark.parametrize("command", [["lab", "probe", "x"], ["lab", "run", KONVOY]])
def test_a_port_given_twice_is_probed_once(command: list[str]) -> None:
    """The same port and protocol in any spelling is one port, where it was first given."""
    parser = build_parser("lab")
    args = parser.parse_args([*command, "--port", "80", "--port", "53/udp", "--port",
                              "80/TCP", "--port", "80/tcp", "--port", "53/UDP"])
    assert args.port == [(80, "TCP"), (53, "UDP")]
    assert parser.parse_args(command).port == []  # the default list is left as it was


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser("lab")
    lab = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    lab_parser = lab.choices["lab"]
    sub = next(a for a in lab_parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def test_every_lab_subcommand_documents_every_argument() -> None:
    subcommands = _subcommands()
    assert set(subcommands) == {"up", "exec", "probe", "apply", "logs", "down", "list", "run",
                                "test"}
    undocumented = []
    for name, parser in subcommands.items():
        assert parser.description, name
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            if not action.help:
                undocumented.append(f"lab {name} {action.dest}")
    assert undocumented == []


@pytest.mark.parametrize("name", ["up", "exec", "probe", "apply", "logs", "down", "list",
                                  "run"])
def test_lab_subcommand_help_prints(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["lab", name, "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: stockade lab {name}")
    if name in ("up", "run"):
        assert "--run-commands" in out and "--pod-cidr CIDR" in out
    if name in ("probe", "run"):
        assert "--timeout SECONDS" in out


def test_the_run_commands_hint_names_the_option() -> None:
    assert "--run-commands" in RUN_COMMANDS_HINT
