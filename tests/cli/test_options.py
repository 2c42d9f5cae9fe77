"""Every option of every analysing command is checked before any input is read: a clean
usage error naming the option (exit 2), never a traceback, never a silent
reinterpretation. Messages carry one ``stockade ...: error:`` prefix and right plurals."""

from __future__ import annotations

from pathlib import Path

import pytest

from stockade.cli.common import parse_port, parse_ports
from stockade.cli.main import main
from stockade.model.types import Protocol
from stockade.wording import count, plural

ROOT = Path(__file__).resolve().parents[2]
KONVOY = str(ROOT / "examples" / "konvoy")
SHOP = str(ROOT / "examples" / "shop")
POD_FILE = str(ROOT / "examples" / "hostaliases" / "hostaliases-konvoy-pod.yaml")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


QUERY = ["query", KONVOY, "--from", "default/db", "--to", "frontend/web"]


@pytest.mark.parametrize(("argv", "message"), [
    # Digits that Python's int() reads but the API server does not: ASCII only.
    ([*QUERY, "--port", "²"], "--port ²: port must be a number from 1 to 65535"),
    ([*QUERY, "--port", "٨٠"], "--port ٨٠: port must be a number from 1 to 65535"),
    ([*QUERY, "--port", "８０"], "--port ８０: port must be a number from 1 to 65535"),
    ([*QUERY, "--port", "0" * 5000 + "80"], "port must be a number from 1 to 65535"),
    (["matrix", KONVOY, "--port", "８０/TCP"], "--port ８０/TCP: port must be a number"),
    (["matrix", KONVOY, "--port", "80/ICMP"], "protocol must be TCP, UDP or SCTP"),
    # A slash with nothing after it names no protocol: not read as TCP, as "80" is.
    ([*QUERY, "--port", "80/"], "--port 80/: protocol must be TCP, UDP or SCTP"),
    (["matrix", KONVOY, "--port", "80", "--port", "80/"],
     "--port 80/: protocol must be TCP, UDP or SCTP"),
    (["query", SHOP, "--from", "shop/Deployment/web", "--to", "svc/shop/api:²"],
     "--to 'svc/shop/api:²': the port must be a number from 1 to 65535 (ASCII digits)"),
    (["query", SHOP, "--from", "shop/Deployment/web", "--to", "svc/shop/api:٨٠"],
     "the port must be a number from 1 to 65535 (ASCII digits) or a port name"),
    (["query", SHOP, "--from", "shop/Deployment/web", "--to", "svc/shop/api:99999"],
     "port must be a number from 1 to 65535"),
    (["query", SHOP, "--from", "shop/Deployment/web", "--to", "svc/Shop/api:80"],
     "the namespace 'Shop': must be a namespace name"),
    (["query", KONVOY, "--from", "default/Gadget/x", "--to", "frontend/web", "--port", "80"],
     "'Gadget' is not a workload kind"),
    (["query", KONVOY, "--from", "default/db\x1b[2J", "--to", "frontend/web", "--port", "80"],
     "the name 'db\\x1b[2J': must be an object name"),
    (["matrix", KONVOY, "-n", "shop"], "-n/--namespace is for --cluster"),
    (["matrix", KONVOY, "--context", "prod"], "--context is for --cluster"),
    (["matrix", KONVOY, "--helm-namespace", "Not_A_Namespace"],
     "--helm-namespace 'Not_A_Namespace': must be a namespace name"),
    (["matrix", "-", "-"], "- (stdin) can be read only once"),
    (["matrix", ""], "an empty PATH"),
    (["matrix", "--cluster", "--kubeconfig", "/nonexistent/kubeconfig"],
     "--kubeconfig /nonexistent/kubeconfig: no such file"),
    (["matrix", "--cluster", "-n", "Bad"], "-n/--namespace 'Bad': must be a namespace name"),
    (["compile", KONVOY, "--table", "a b"], 'table name "a b": must start with a letter'),
    (["hosts", POD_FILE, "--cluster-domain", "a\nb"],
     '--cluster-domain "a\\nb": not a domain name'),
    (["hosts", POD_FILE, "--pod-ip", "10.0.0.300"], '--pod-ip "10.0.0.300": not a valid IP'),
    (["hosts", POD_FILE, "--pod-name", "Bad_Name"], '--pod-name "Bad_Name": a pod name must'),
    (["hosts", POD_FILE, "--container", "Bad Name"], '--container "Bad Name": not a container'),
    (["snapshot", "-o", "/nonexistent/dir/snap.yaml"],
     "-o/--output '/nonexistent/dir/snap.yaml': no such directory '/nonexistent/dir'"),
    (["snapshot", "-n", "Bad"], "-n/--namespace 'Bad': must be a namespace name"),
])
def test_bad_options_are_usage_errors(capsys: pytest.CaptureFixture[str], argv: list[str],
                                      message: str) -> None:
    code, out, err = run(capsys, *argv)
    assert (code, out) == (2, "")
    assert message in err, err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_options_are_checked_before_the_input_is_read(capsys: pytest.CaptureFixture[str],
                                                      tmp_path: Path) -> None:
    """A bad --port is reported even when the input could not be read at all."""
    code, _, err = run(capsys, "matrix", str(tmp_path / "missing.yaml"), "--port", "٨٠")
    assert code == 2
    assert "--port ٨٠" in err and "missing.yaml" not in err


@pytest.mark.parametrize(("text", "port"), [
    ("80", (80, Protocol.TCP)), ("80/TCP", (80, Protocol.TCP)), ("80/tcp", (80, Protocol.TCP)),
    ("53/udp", (53, Protocol.UDP)), ("9/SCTP", (9, Protocol.SCTP)),
])
def test_port_spellings(text: str, port: tuple[int, Protocol]) -> None:
    """Without a slash a port is TCP; the protocol's case does not matter."""
    assert parse_port(text) == port


def test_repeated_ports_count_once_in_the_order_first_given() -> None:
    assert parse_ports(["53/udp", "80", "80/TCP", "53/UDP", "80/tcp", "80/UDP"]) == [
        (53, Protocol.UDP), (80, Protocol.TCP), (80, Protocol.UDP)]
    assert parse_ports([]) == []


def test_argparse_errors_have_one_prefix(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "query", KONVOY, "--port")
    assert code == 2
    assert err == ("stockade query: error: argument --port: expected one argument (see "
                   "stockade query --help)\n")
    code, _, err = run(capsys, "frobnicate")
    assert err.startswith("stockade: error: argument COMMAND: invalid choice: 'frobnicate'")
    assert "stockade: error: stockade" not in err


def test_counts_are_worded_with_their_plural() -> None:
    assert [count(1, "policy"), count(2, "policy"), count(0, "error"), count(1, "Pod"),
            count(2500, "pod")] == ["1 policy", "2 policies", "0 errors", "1 Pod", "2,500 pods"]
    assert [plural(k) for k in ("NetworkPolicy", "Namespace", "address", "key")] == [
        "NetworkPolicies", "Namespaces", "addresses", "keys"]


def test_check_summaries_use_plurals(capsys: pytest.CaptureFixture[str],
                                     tmp_path: Path) -> None:
    code, out, _ = run(capsys, "check", KONVOY)
    assert out == "valid: 1 NetworkPolicy, 6 Pods, 4 Namespaces\n"
    path = tmp_path / "bad.yaml"
    path.write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: Bad}\n")
    code, _, err = run(capsys, "check", str(path))
    assert (code, err.splitlines()[-1]) == (2, "1 error in 1 object")
    code, _, err = run(capsys, "matrix", str(path))
    assert err.splitlines()[-1].startswith("stockade: 1 error; nothing analysed")
