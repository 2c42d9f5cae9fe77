"""``query``'s output, byte for byte, against answers recorded before explanations became
lazy (issue 16): the verdict is computed first and the misses only when a renderer reads
them, and nothing a user sees may change.

``golden/query.txt`` holds, per case, the command, its exit code, its text output and, for
every third case (the JSON carries the same verdicts; this keeps the file small), its JSON
output (compact; the command prints it with ``indent=2``, which is rebuilt exactly).
Regenerate it only for an intended change of wording:
``python tests/cli/test_query_golden.py > tests/cli/golden/query.txt``.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from stockade.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).resolve().parent / "golden" / "query.txt"
SCENARIOS = ROOT / "tests" / "scenarios"

# (input, endpoints, ports): every ordered pair of distinct endpoints on every port. The
# inputs cover every kind of reason: ipBlock inside/outside/except, host bits, selectors of
# each shape, named ports (undeclared, wrong protocol, other number, on an address or a
# host-network pod), ranges, protocol-only entries, pods without IP, IPv6, many rules.
CASES: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("examples/konvoy", ("default/db", "default/konvoy-app", "frontend/web", "bridge/in-cidr",
                         "bridge/in-except", "unrelated/stranger", "10.0.0.5", "172.17.0.9"),
     ("6379/TCP",)),
    ("examples/shop", ("shop/Deployment/web", "shop/Deployment/api", "shop/StatefulSet/db",
                       "shop/CronJob/nightly-report", "monitoring/Deployment/prometheus"),
     ("9090/TCP",)),
    ("tests/scenarios/16-ipblock-except.yaml", ("x/a", "y/b", "z/c", "10.0.2.9"),
     ("80/TCP", "81/UDP")),
    ("tests/scenarios/17-ipblock-host-bits.yaml", ("x/a", "y/a", "z/b"), ("80/TCP",)),
    ("tests/scenarios/12-and-vs-or-peers.yaml", ("x/a", "y/b", "z/c"), ("80/TCP",)),
    ("tests/scenarios/14-match-expressions.yaml", ("x/a", "y/b", "z/c"), ("80/TCP",)),
    ("tests/scenarios/19-named-port-differs-per-pod.yaml", ("x/a", "x/b", "y/c"),
     ("80/TCP", "81/TCP")),
    ("tests/scenarios/20-named-port-wrong-protocol.yaml", ("x/a", "x/b", "y/a"),
     ("80/TCP", "80/UDP")),
    ("tests/scenarios/21-endport-range.yaml", ("x/a", "y/a", "z/a"), ("80/TCP", "81/SCTP")),
    ("tests/scenarios/22-protocol-only-ports.yaml", ("x/a", "y/a"), ("80/UDP", "81/SCTP")),
    ("tests/scenarios/25-multi-policy-union.yaml", ("x/a", "x/b", "y/c", "z/a"),
     ("80/TCP", "81/TCP")),
    ("tests/scenarios/28-ipv6-single-stack.yaml", ("x/a", "y/b", "fd00::99"), ("80/TCP",)),
    ("tests/scenarios/29-pod-without-ip.yaml", ("x/a", "x/b", "y/a", "z/c"), ("80/TCP",)),
    ("tests/scenarios/30-host-network-pods.yaml", ("x/h", "y/a", "y/b", "y/c", "172.16.0.2"),
     ("80/TCP", "81/UDP")),
    ("tests/scenarios/34-egress-named-port-to-ipblock.yaml", ("x/a", "y/a", "10.0.2.1"),
     ("80/TCP", "81/TCP")),
    ("tests/cli/golden/many-rules.yaml", ("a/p", "a/q", "a/h", "10.2.3.4", "10.2.1.1",
                                          "fd00:2::9", "192.168.0.7"),
     ("8080/TCP", "53/UDP", "80/TCP", "7/SCTP")),
)


def _is_address(endpoint: str) -> bool:
    return endpoint[0].isdigit() or ":" in endpoint


def commands() -> Iterator[list[str]]:
    for path, endpoints, ports in CASES:
        for src in endpoints:
            for dst in endpoints:
                if src == dst or (_is_address(src) and _is_address(dst)):
                    continue  # two addresses: no policy applies at either end
                for port in ports:
                    yield ["query", path, "--from", src, "--to", dst, "--port", port]


def run(argv: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = main(argv)
    return code, out.getvalue()


JSON_EVERY = 3


def record() -> str:
    """The golden file's text for the code as it stands."""
    chunks = []
    for n, argv in enumerate(commands()):
        code, text = run(argv)
        chunk = f"$ {' '.join(argv)}\nexit {code}\n{text}"
        if n % JSON_EVERY == 0:
            _, raw = run([*argv, "-o", "json"])
            chunk += f"json {json.dumps(json.loads(raw), separators=(',', ':')) if raw else ''}\n"
        chunks.append(chunk)
    return "".join(chunks)


def _golden() -> list[tuple[list[str], int, str, str | None]]:
    """(argv, exit code, text output, compact JSON output or ``None`` when not recorded)."""
    blocks = GOLDEN.read_text(encoding="utf-8").split("\n$ ")
    blocks[0] = blocks[0].removeprefix("$ ")
    out: list[tuple[list[str], int, str, str | None]] = []
    for block in blocks:
        head, exit_line, rest = (block + "\n").split("\n", 2)
        text, compact = rest, None
        if "\njson " in "\n" + rest:
            text, _, compact = ("\n" + rest).rpartition("\njson ")
            text, compact = text[1:] + "\n" if text else "", compact.rstrip("\n")
        out.append((head.split(" "), int(exit_line.removeprefix("exit ")), text, compact))
    return out


def test_golden_covers_every_command() -> None:
    golden = _golden()
    assert [argv for argv, *_ in golden] == list(commands())
    # The parser reads the file back exactly, so no case is silently cut short.
    rebuilt = "".join(f"$ {' '.join(argv)}\nexit {code}\n{text}"
                      + (f"json {compact}\n" if compact is not None else "")
                      for argv, code, text, compact in golden)
    assert rebuilt == GOLDEN.read_text(encoding="utf-8")
    assert len(list(commands())) > 300


def test_golden_covers_every_kind_of_reason() -> None:
    text = GOLDEN.read_text(encoding="utf-8")
    for phrase in ("nearest miss:", "is inside except", "is outside ipBlock",
                   "does not match namespaceSelector", "a podSelector alone selects",
                   "does not match podSelector", "is not declared by", "not port",
                   "is no pod's address", "has no IP address", "host-network (node traffic)",
                   "more rules (-o json", "only pods declare named ports", "not UDP", "not TCP"):
        assert phrase in text, phrase


@pytest.mark.parametrize("chunk", range(8))
def test_query_output_is_unchanged(monkeypatch: pytest.MonkeyPatch, chunk: int) -> None:
    monkeypatch.chdir(ROOT)
    cases = _golden()[chunk::8]
    for argv, code, text, compact in cases:
        got_code, got_text = run(argv)
        assert (got_code, got_text) == (code, text), " ".join(argv)
        if compact is not None:
            _, got_json = run([*argv, "-o", "json"])
            expected = json.dumps(json.loads(compact), indent=2) + "\n" if compact else ""
            assert got_json == expected, " ".join(argv)


if __name__ == "__main__":
    import os

    os.chdir(ROOT)
    sys.stdout.write(record())
