"""The analysing commands end to end: ``check``, ``matrix`` and ``query`` on the konvoy
example and on broken input, their output formats, and their exit codes."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from matrix_doc import by_name
from stockade.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
KONVOY = str(ROOT / "examples" / "konvoy")
PODS = ["default/db", "default/konvoy-app", "frontend/web", "bridge/in-cidr",
        "bridge/in-except", "unrelated/stranger"]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


# --- check ---------------------------------------------------------------------------------

def test_check_valid(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check", KONVOY)
    assert code == 0
    assert out == "valid: 1 NetworkPolicy, 6 Pods, 4 Namespaces\n"


BAD_POLICY = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: bad, namespace: default}
spec:
  podSelector: {}
  policyTypes: [ingress]
  ingress:
  - from:
    - ipBlock: {cidr: 10.0.0.0/8, except: [10.0.0.0/8]}
    - {}
    ports:
    - port: Http
"""


def test_check_reports_every_error_with_file_line_object_and_field(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write(tmp_path, "bad.yaml", BAD_POLICY)
    code, _, err = run(capsys, "check", path)
    assert code == 2
    prefix = f"error: {path}:1: NetworkPolicy default/bad: "
    assert err.splitlines()[:4] == [
        prefix + 'spec.ingress[0].ports[0].port: Invalid value: "Http": must contain only '
        "alpha-numeric characters (a-z, 0-9), and hyphens (-)",
        prefix + 'spec.ingress[0].from[0].ipBlock.except[0]: Invalid value: "10.0.0.0/8": '
        "must be a strict subset of `cidr`",
        prefix + "spec.ingress[0].from[1]: Required value: must specify a peer",
        prefix + 'spec.policyTypes[0]: Unsupported value: "ingress": supported values: '
        '"Ingress", "Egress"',
    ]
    assert err.splitlines()[-1] == "4 errors in 1 object"


def test_check_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, "check", write(tmp_path, "bad.yaml", BAD_POLICY), "-o", "json")
    doc = json.loads(out)
    assert code == 2
    assert doc["valid"] is False
    assert [e["field"] for e in doc["errors"]] == [
        "spec.ingress[0].ports[0].port", "spec.ingress[0].from[0].ipBlock.except[0]",
        "spec.ingress[0].from[1]", "spec.policyTypes[0]"]
    assert {e["line"] for e in doc["errors"]} == {1}


def test_analysis_refuses_invalid_input_unless_asked(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = write(tmp_path, "bad.yaml", BAD_POLICY)
    code, out, err = run(capsys, "matrix", KONVOY, bad)
    assert (code, out) == (2, "")
    assert "nothing analysed" in err
    code, out, err = run(capsys, "matrix", KONVOY, bad, "--skip-invalid")
    assert code == 0
    assert "warning: skipping invalid object:" in err
    assert out.startswith("default/db\n")


@pytest.mark.parametrize(("text", "message"), [
    ("a: [1, 2\nb: 3\n", ":2: invalid YAML: "),
    ("- just\n- a list\n", ":1: a manifest must be an object with apiVersion and kind"),
    ("apiVersion: v1\nmetadata: {name: x}\n", "kind: Required value"),
    ("kind: Pod\nmetadata: {name: x}\n", "apiVersion: Required value"),
    ("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p}\n"
     "spec: {ingress: oops}\n", 'spec.ingress: Invalid value: "oops": must be of type array'),
    ("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p}\n"
     "spec: {ingress: [{ports: [{port: [80]}]}]}\n",
     'spec.ingress[0].ports[0].port: Invalid value: "array": must be of type integer or string'),
])
def test_malformed_input_is_one_clear_error_not_a_traceback(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, "m.yaml", text)
    code, out, err = run(capsys, "check", path)
    assert code == 2
    assert out == ""
    assert message in err
    assert "Traceback" not in err
    assert path in err


def test_missing_file(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "matrix", "/nonexistent/x.yaml")
    assert code == 2
    assert err == "stockade: error: /nonexistent/x.yaml: no such file or directory\n"


def test_undeclared_namespace_is_a_warning(capsys: pytest.CaptureFixture[str],
                                           tmp_path: Path) -> None:
    path = write(tmp_path, "p.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: a, "
                 "namespace: ghost}\nstatus: {podIP: 10.1.1.1}\n")
    code, _, err = run(capsys, "check", path)
    assert code == 0
    assert "assumed to carry only the label kubernetes.io/metadata.name: ghost" in err


# --- matrix --------------------------------------------------------------------------------

def test_matrix_json_groups_and_rows(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "matrix", KONVOY, "-o", "json")
    doc = json.loads(out)
    assert code == 0
    assert [g["name"] for g in doc["groups"]] == [g["pods"][0] for g in doc["groups"]]
    groups, matrix = by_name(doc)
    assert sorted(groups) == sorted(PODS)
    assert matrix["default/db"] == {"*": "none", "all": ["default/db"]}
    assert matrix["frontend/web"] == {"*": "all", "TCP 6379": ["default/db"]}
    assert matrix["bridge/in-except"] == {"*": "all", "none": ["default/db"]}
    db = [g["name"] for g in doc["groups"]].index("default/db")
    assert doc["matrix"][db] == {"*": "none", "all": [db]}


def test_matrix_csv_has_every_pair(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "matrix", KONVOY, "-o", "csv", "--pods")
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["from", "to", "allowed"]
    assert len(rows) == 1 + len(PODS) ** 2
    assert ["bridge/in-cidr", "default/db", "TCP 6379"] in rows
    assert ["default/db", "default/db", "all"] in rows


def test_matrix_markdown(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "matrix", KONVOY, "-o", "md")
    assert out.startswith("| from | allowed | to |\n|---|---|---|\n")
    assert "| frontend/web | TCP 6379 | default/db |" in out


def test_matrix_port_json_is_the_documented_contract(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "matrix", KONVOY, "--port", "6379/TCP", "--port", "53/udp",
                       "-o", "json")
    doc = json.loads(out)
    assert code == 0
    assert list(doc) == ["pods", "results"]
    assert doc["pods"] == PODS
    tcp, udp = doc["results"]
    assert (tcp["port"], tcp["protocol"], udp["port"], udp["protocol"]) == (6379, "TCP", 53, "UDP")
    assert set(tcp["reachable"]) == set(PODS)
    assert tcp["reachable"]["default/db"] == ["default/db"]
    assert "default/db" in tcp["reachable"]["bridge/in-cidr"]
    assert "default/db" not in tcp["reachable"]["bridge/in-except"]
    assert "default/db" not in udp["reachable"]["frontend/web"]


def test_matrix_port_text_table(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "matrix", KONVOY, "--port", "6379")
    lines = out.splitlines()
    assert lines[0].startswith("6379/TCP")
    assert lines[2].split()[-6:] == [".", "X", "X", "X", "X", "X"]  # default/db's row
    assert lines[6].split()[-6:] == ["X", ".", ".", ".", ".", "."]  # bridge/in-except


@pytest.mark.parametrize("output", ["text", "json", "csv", "md"])
def test_matrix_port_given_twice_is_tabulated_once(capsys: pytest.CaptureFixture[str],
                                                   output: str) -> None:
    """The same port and protocol in any spelling is one port, where it was first given."""
    code, twice, _ = run(capsys, "matrix", KONVOY, "--port", "6379", "--port", "53/udp",
                         "--port", "6379/TCP", "--port", "53/UDP", "--port", "6379/tcp",
                         "-o", output)
    _, once, _ = run(capsys, "matrix", KONVOY, "--port", "6379", "--port", "53/udp",
                     "-o", output)
    assert code == 0
    assert twice == once
    if output == "json":
        assert [(r["port"], r["protocol"]) for r in json.loads(twice)["results"]] == [
            (6379, "TCP"), (53, "UDP")]


@pytest.mark.parametrize("port", ["0", "70000", "80/ICMP", "http"])
def test_bad_port_is_a_usage_error(capsys: pytest.CaptureFixture[str], port: str) -> None:
    code, _, err = run(capsys, "matrix", KONVOY, "--port", port)
    assert code == 2
    assert err.startswith("stockade: error: --port ")


# --- query ---------------------------------------------------------------------------------

def test_query_allowed_exit_0_and_names_the_rule(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "query", KONVOY, "--from", "frontend/web", "--to", "default/db",
                       "--port", "6379/TCP")
    assert code == 0
    assert out.splitlines()[0] == "frontend/web -> default/db TCP 6379: allowed"
    assert ("allowed by default/network-konvoy-policy ingress[0] (from[1], ports[0])"
            in out)


def test_query_denied_exit_1_with_nearest_miss(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "query", KONVOY, "--from", "bridge/in-except", "--to",
                       "default/db", "--port", "6379/TCP")
    assert code == 1
    assert "nearest miss: default/network-konvoy-policy ingress[0]" in out
    assert "172.17.1.5 is inside except 172.17.1.0/24 of ipBlock 172.17.0.0/16" in out


def test_query_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "query", KONVOY, "--from", "default/db", "--to", "10.0.0.5",
                       "--port", "5978/TCP", "-o", "json")
    doc = json.loads(out)
    assert code == 0
    assert doc["allowed"] is True
    assert doc["egress"]["isolated"] is True
    assert doc["egress"]["policies"] == ["default/network-konvoy-policy"]
    assert doc["egress"]["allowed_by"][0] | {"path": "x"} == {
        "policy": "default/network-konvoy-policy", "rule": 0, "path": "x", "peer": 0,
        "port": 0}
    assert doc["ingress"]["isolated"] is False


def test_query_wrong_port_names_the_port(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "query", KONVOY, "--from", "default/db", "--to", "10.0.0.5",
                       "--port", "80/TCP", "-o", "json")
    doc = json.loads(out)
    assert code == 1
    assert doc["egress"]["misses"][0]["near"] is True
    assert doc["egress"]["misses"][0]["reasons"] == ["ports[0]: allows TCP 5978, not port 80"]


@pytest.mark.parametrize(("src", "message"), [
    ("default/nope", "no pod 'default/nope' in the input"),
    ("nonsense", "--from 'nonsense': give ns/pod, ns/Kind/name (a workload) or an IP address"),
])
def test_query_unknown_endpoint(capsys: pytest.CaptureFixture[str], src: str,
                                message: str) -> None:
    code, _, err = run(capsys, "query", KONVOY, "--from", src, "--to", "default/db",
                       "--port", "6379")
    assert code == 2
    assert message in err


def test_every_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("check", "matrix", "query", "hosts", "compile", "lab", "snapshot"):
        with pytest.raises(SystemExit) as exit_info:
            main([command, "--help"])
        assert exit_info.value.code == 0
        assert "usage: stockade " + command in capsys.readouterr().out


def test_query_between_address_families_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "query", KONVOY, "--from", "10.244.0.11", "--to", "fd00::4",
                       "--port", "80")
    assert code == 2
    assert "is IPv4 and fd00::4 is IPv6: no connection goes between them" in err


@pytest.mark.parametrize(("text", "message"), [
    ("apiVersion: v1\nkind: List\nitems: {a: 1}\n", "List: items: must be of type array"),
    ("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nstatus: {podIP: 999.1.1.1}\n",
     'status.podIP: Invalid value: "999.1.1.1": must be a valid IP address'),
    ("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {hostname: Web}\n",
     'spec.hostname: Invalid value: "Web": a lowercase RFC 1123 label'),
])
def test_more_malformed_input(capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str,
                              message: str) -> None:
    code, _, err = run(capsys, "check", write(tmp_path, "m.yaml", text))
    assert code == 2
    assert message in err


def test_a_type_error_is_reported_once(capsys: pytest.CaptureFixture[str],
                                       tmp_path: Path) -> None:
    path = write(tmp_path, "p.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"
                 "spec: {hostAliases: [{ip: 5}]}\n")
    _, _, err = run(capsys, "check", path)
    assert err.count("spec.hostAliases[0].ip") == 1
