"""``stockade diff`` end to end: the shop and its broken variant in every output form, the
``--port`` JSON contract, exit codes and errors naming the side, ``--base`` in a real git
repository, and ``--cluster`` against the API server double (no real API server runs
here)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from k8s_double import ApiServerDouble
from kubeconfig_files import Kubeconfigs

from stockade.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
SHOP = str(ROOT / "examples" / "shop")
BROKEN = str(ROOT / "variants" / "shop-broken")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def pod(name: str, ns: str, labels: dict[str, str], ip: str, *, node: str = "n1",
        host_network: bool = False) -> str:
    return (f"apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: "
            f"{json.dumps(ns)}, labels: {json.dumps(labels)}}}\nspec:\n  nodeName: {node}\n"
            "  hostNetwork: "
            f"{'true' if host_network else 'false'}\n  containers: [{{name: c, ports: "
            f"[{{name: http, containerPort: 80}}]}}]\nstatus: {{podIP: {ip}}}\n---\n")


DENY_WEB = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-from-a, namespace: x}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
  - from:
    - podSelector: {matchLabels: {app: a}}
    ports:
    - port: 80
"""


def cluster(tmp_path: Path, name: str, policies: str = "", extra: str = "") -> str:
    directory = tmp_path / name
    directory.mkdir()
    (directory / "pods.yaml").write_text(
        pod("a", "x", {"app": "a"}, "10.0.0.1") + pod("b", "x", {"app": "b"}, "10.0.0.2")
        + pod("web-1", "x", {"app": "web"}, "10.0.0.3")
        + pod("web-2", "x", {"app": "web"}, "10.0.0.4") + extra)
    if policies:
        (directory / "policies.yaml").write_text(policies)
    return str(directory)


# --- the shop and its broken variant ---------------------------------------------------------

def test_shop_against_its_broken_variant_text(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "diff", SHOP, BROKEN)
    assert code == 1
    assert out.splitlines()[:2] == [
        "policies modified: shop/api-from-web, shop/db-from-api-and-report",
        "2 connections changed (group pairs; --pods lists every pod pair):"]
    assert ("shop/Deployment/api-canary -> shop/StatefulSet/db\n  before  none\n"
            "  after   TCP 5432\n  gained  TCP 5432\n  because shop/db-from-api-and-report "
            "ingress[0] (from[0], ports[0]) now allows TCP 5432\n") in out
    assert "            ports[0]: named port 'http' is not declared by " \
           "shop/Deployment/api-canary\n" in out
    assert "Traceback" not in err


def test_causes_point_at_the_line_of_the_rule(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "diff", SHOP, BROKEN, "-o", "json")
    assert code == 1
    answer = json.loads(out)
    assert answer["changed"] is True
    assert answer["endpoints"] == {"added": [], "removed": []}
    assert answer["policies"] == {"added": [], "removed": [],
                                  "modified": ["shop/api-from-web",
                                               "shop/db-from-api-and-report"]}
    gained, lost = answer["connections"]
    assert (gained["from"], gained["to"], gained["before"], gained["after"], gained["gained"],
            gained["lost"]) == ("shop/Deployment/api-canary", "shop/StatefulSet/db", "none",
                                "TCP 5432", "TCP 5432", "none")
    assert (lost["gained"], lost["lost"]) == ("none", "TCP 8000")
    lines = (ROOT / "variants/shop-broken/policies.yaml").read_text().splitlines()
    for change, expected in ((gained, "- podSelector:"), (lost, "- port: http")):
        [cause] = change["because"]
        assert cause["file"].endswith("variants/shop-broken/policies.yaml")
        assert lines[cause["line"] - 1].strip() == expected
        assert cause["change"] == "modified" and cause["version"] == "new"
    assert lost["because"][0]["reasons"] == [
        "ports[0]: named port 'http' is not declared by shop/Deployment/api-canary"]
    assert lost["because"][0]["checked"] == {"from": "shop/Deployment/web",
                                             "to": "shop/Deployment/api-canary",
                                             "protocol": "TCP", "port": 8000}


def test_a_cluster_against_itself_is_equivalent(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "diff", SHOP, SHOP)
    assert code == 0
    assert out == "equivalent: no connection changed between the 56 ordered pairs of " \
                  "endpoints present on both sides\n"
    code, out, _ = run(capsys, "diff", SHOP, SHOP, "-o", "md")
    assert code == 0 and out.startswith("### stockade diff: no connection changed\n")


def test_port_json_is_exactly_the_contract(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "diff", SHOP, BROKEN, "--port", "5432/TCP", "--port", "8000",
                       "--port", "53/UDP", "-o", "json")
    assert code == 1
    assert json.loads(out) == {"changed": True, "results": [
        {"port": 5432, "protocol": "TCP",
         "added": {"shop/Deployment/api-canary": ["shop/StatefulSet/db"]}, "removed": {}},
        {"port": 8000, "protocol": "TCP", "added": {},
         "removed": {"shop/Deployment/web": ["shop/Deployment/api-canary"]}},
        {"port": 53, "protocol": "UDP", "added": {}, "removed": {}},
    ]}
    code, out, _ = run(capsys, "diff", SHOP, BROKEN, "--port", "53/UDP", "-o", "json")
    assert code == 0
    assert json.loads(out) == {"changed": False, "results": [
        {"port": 53, "protocol": "UDP", "added": {}, "removed": {}}]}


def test_port_given_twice_is_answered_once(capsys: pytest.CaptureFixture[str]) -> None:
    """The same port and protocol in any spelling is one port, where it was first given."""
    code, out, _ = run(capsys, "diff", SHOP, BROKEN, "--port", "8000", "--port", "53/udp",
                       "--port", "8000/TCP", "--port", "8000/tcp", "--port", "53/UDP",
                       "-o", "json")
    assert code == 1
    assert [(r["port"], r["protocol"]) for r in json.loads(out)["results"]] == [
        (8000, "TCP"), (53, "UDP")]
    for output in ("text", "md"):
        twice = run(capsys, "diff", SHOP, BROKEN, "--port", "8000", "--port", "8000/TCP",
                    "-o", output)
        assert twice == run(capsys, "diff", SHOP, BROKEN, "--port", "8000", "-o", output)


def test_port_json_per_pod_and_per_group(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    old = cluster(tmp_path, "old")
    new = cluster(tmp_path, "new", DENY_WEB)
    code, out, _ = run(capsys, "diff", old, new, "--port", "80", "--pods", "-o", "json")
    assert code == 1
    assert json.loads(out) == {"changed": True, "results": [{
        "port": 80, "protocol": "TCP", "added": {},
        "removed": {"x/b": ["x/web-1", "x/web-2"], "x/web-1": ["x/web-2"],
                    "x/web-2": ["x/web-1"]}}]}
    code, out, _ = run(capsys, "diff", old, new, "--port", "80", "-o", "json")
    assert json.loads(out)["results"][0]["removed"] == {"x/b": ["x/web-*"],
                                                        "x/web-*": ["x/web-*"]}


def test_text_and_markdown_forms_of_port_results(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    old, new = cluster(tmp_path, "old"), cluster(tmp_path, "new", DENY_WEB)
    code, out, _ = run(capsys, "diff", old, new, "--port", "80", "--port", "81")
    assert code == 1
    assert out == ("80/TCP: 2 pairs changed\n  - x/b -> x/web-*\n  - x/web-* -> x/web-*\n"
                   "81/TCP: 3 pairs changed\n  - x/a -> x/web-*\n  - x/b -> x/web-*\n"
                   "  - x/web-* -> x/web-*\n")
    code, out, _ = run(capsys, "diff", old, new, "--port", "80", "-o", "md")
    assert out.startswith("### stockade diff on 80/TCP: 2 pairs changed\n")
    assert "| 80/TCP | x/b | no longer reachable | x/web-\\* |" in out


def test_pods_lists_every_pair(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old, new = cluster(tmp_path, "old"), cluster(tmp_path, "new", DENY_WEB)
    code, out, _ = run(capsys, "diff", old, new, "--pods", "-o", "json")
    assert code == 1
    answer = json.loads(out)
    pairs = [(c["from"], c["to"], c["before"], c["after"]) for c in answer["connections"]]
    assert pairs == [("x/a", "x/web-1", "all", "TCP 80"), ("x/a", "x/web-2", "all", "TCP 80"),
                     ("x/b", "x/web-1", "all", "none"), ("x/b", "x/web-2", "all", "none"),
                     ("x/web-1", "x/web-2", "all", "none"), ("x/web-2", "x/web-1", "all", "none")]
    assert answer["groups"] == {}
    causes = answer["connections"][2]["because"]
    assert [(c["what"], c["policy"], c["change"], c["field"]) for c in causes] == [
        ("isolates", "x/web-from-a", "added", "spec.podSelector")]
    assert causes[0]["reasons"] == [
        "ingress[0]: from[0]: x/b does not match podSelector {app=a}"]
    assert causes[0]["checked"]["port"] == 80  # a port the destination declares


DENY_INGRESS_TO_WEB = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-web, namespace: x}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress]
"""


def test_a_group_pair_is_not_said_of_its_node_traffic(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Host-network pods alike on two nodes (one group) and a pod on the first node: the
    first agent reaches the pod as node traffic on both sides, whatever the policy says.
    Dropping the policy that isolates the pod opens it to the second agent only; the group
    pair says so of every pair of pods but that node traffic, which it names."""
    agents = (pod("agent-1", "sys", {"app": "agent"}, "10.0.9.1", host_network=True)
              + pod("agent-2", "sys", {"app": "agent"}, "10.0.9.2", node="n2",
                    host_network=True))
    old = cluster(tmp_path, "old", DENY_INGRESS_TO_WEB, agents)
    new = cluster(tmp_path, "new", "", agents)
    code, out, _ = run(capsys, "diff", old, new, "-o", "json")
    assert code == 1
    rows = {(c["from"], c["to"]): (c["before"], c["after"], c["except"])
            for c in json.loads(out)["connections"]}
    assert rows[("sys/agent-*", "x/web-*")] == (
        "none", "all", [["sys/agent-1", "x/web-1"], ["sys/agent-1", "x/web-2"]])
    assert rows[("x/{*}", "x/web-*")] == ("none", "all", [])  # x/a and x/b: no node traffic
    _, out, _ = run(capsys, "diff", old, new, "--pods", "-o", "json")
    pairs = {(c["from"], c["to"]): (c["before"], c["after"])
             for c in json.loads(out)["connections"] if c["from"].startswith("sys/")}
    assert pairs == {("sys/agent-2", "x/web-1"): ("none", "all"),
                     ("sys/agent-2", "x/web-2"): ("none", "all")}
    _, out, _ = run(capsys, "diff", old, new)
    assert ("sys/agent-* -> x/web-*\n  before  none\n  after   all\n  gained  all\n"
            "  except  sys/agent-1 -> x/web-1 (node traffic, always allowed)\n"
            "          sys/agent-1 -> x/web-2\n  because ") in out
    # A port answer names each pair of the group pair (its node traffic aside) by its pods.
    _, out, _ = run(capsys, "diff", old, new, "--port", "80", "-o", "json")
    added = json.loads(out)["results"][0]["added"]
    assert added["sys/agent-2"] == ["x/web-1", "x/web-2"]
    assert "sys/agent-1" not in added and "sys/agent-*" not in added
    _, out, _ = run(capsys, "diff", old, new, "-o", "html")
    assert '"except":[["sys/agent-1","x/web-1"],["sys/agent-1","x/web-2"]]' in out


def test_markdown_caps_its_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pods = "".join(pod(f"p{i}", "x", {"n": str(i)}, f"10.0.1.{i + 1}") for i in range(8))
    deny = ("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, "
            "namespace: x}\nspec: {podSelector: {}}\n")
    old = cluster(tmp_path, "old", extra=pods)
    new = cluster(tmp_path, "new", deny, extra=pods)
    code, out, _ = run(capsys, "diff", old, new, "-o", "md", "--pods")
    assert code == 1
    head = out.splitlines()[:3]
    assert head[0] == "### stockade diff: 132 connection changes"
    assert head[2].startswith("**132 pod pairs** changed · endpoints **0** added")
    rows = [line for line in out.splitlines() if line.startswith("| x/")]
    assert len(rows) == 25
    assert "… and 107 more (`stockade diff -o json` lists them all)" in out
    assert out.count("**x/") == 10 and "… and 122 more" in out
    assert "- policies added: x/deny" in out


def test_endpoints_added_and_removed_are_listed_apart(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = cluster(tmp_path, "old", extra=pod("gone", "x", {"app": "a"}, "10.0.0.9"))
    new = cluster(tmp_path, "new", extra=pod("fresh", "y", {"app": "a"}, "10.0.0.8"))
    code, out, _ = run(capsys, "diff", old, new, "-o", "json")
    assert code == 1
    answer = json.loads(out)
    assert answer["endpoints"] == {"added": ["y/fresh"], "removed": ["x/gone"]}
    assert answer["connections"] == []
    code, out, _ = run(capsys, "diff", old, new)
    assert out.splitlines() == [
        "endpoints added: y/fresh", "endpoints removed: x/gone",
        "no connection changed between the 12 ordered pairs of endpoints present on both "
        "sides"]


# --- errors ---------------------------------------------------------------------------------

def test_bad_input_names_the_side(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "diff", SHOP, str(tmp_path / "missing"))
    assert code == 2
    assert err == (f"stockade: error: new side ({tmp_path / 'missing'}): "
                   f"{tmp_path / 'missing'}: no such file or directory\n")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "p.yaml").write_text(DENY_WEB.replace("port: 80", "port: 0"))
    code, _, err = run(capsys, "diff", str(bad), SHOP)
    assert code == 2
    assert err.startswith(f"stockade: the old side ({bad}) is invalid:\nerror: {bad}/p.yaml:1: "
                          "NetworkPolicy x/web-from-a: spec.ingress[0].ports[0].port: ")
    (bad / "q.yaml").write_text("kind: [\n")
    code, _, err = run(capsys, "diff", SHOP, str(bad))
    assert code == 2 and err.startswith(f"stockade: error: new side ({bad}): {bad}/q.yaml:")


def test_a_side_that_cannot_be_read_is_reported_before_an_invalid_one(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Each side is built as it is read, but both are read before either is judged: an
    unreadable new side is the error, not the old side's invalid object; and the warnings
    come in the order they always came (reading both sides, then each side's objects)."""
    old = tmp_path / "old"
    old.mkdir()
    (old / "p.yaml").write_text(DENY_WEB.replace("port: 80", "port: 0"))
    new = tmp_path / "new"
    new.mkdir()
    (new / "q.yaml").write_bytes(b"kind: Pod\nname: \xff\n")
    code, _, err = run(capsys, "diff", str(old), str(new))
    assert code == 2
    assert err == f"stockade: error: new side ({new}): {new}/q.yaml: not UTF-8 at line 2 " \
        "(Kubernetes manifests are UTF-8 text)\n"
    (new / "q.yaml").write_text("kind: [\n---\n" + DENY_WEB)
    code, _, err = run(capsys, "diff", str(old), str(new), "--skip-invalid")
    assert code == 0
    lines = [line.split(":", 1)[0] + ": " + line.split(": ", 2)[1] for line in
             err.splitlines() if line.startswith("warning")]
    assert lines[:2] == ["warning: skipping a document that cannot be read",
                     f"warning: old side ({old})"], err


@pytest.mark.parametrize(("argv", "message"), [
    (["diff", SHOP], "give two paths, OLD and NEW"),
    (["diff", "-", "-"], "- (stdin) may be one side only"),
    (["diff", "--base", "HEAD", "--cluster", SHOP], "give --base or --cluster, not both"),
    (["diff", "--cluster"], "diff --cluster NEW: give the manifests"),
    (["diff", SHOP, BROKEN, "--port", "80/ICMP"], "protocol must be TCP, UDP or SCTP"),
    (["diff", SHOP, BROKEN, "--port", "80/"], "--port 80/: protocol must be TCP, UDP or SCTP"),
    (["diff", SHOP, BROKEN, "--context", "prod"], "--context is for --cluster"),
    (["diff", "--base", "", SHOP], "--base '': give a git revision"),
    (["diff", "--base", "HEAD", "-"], "- (stdin) is neither"),
    (["diff", SHOP, ""], "an empty PATH"),
    (["diff", SHOP, BROKEN, "-o", "html", "--port", "80/TCP"], "--port narrows text, json"),
])
def test_usage_errors_exit_2(argv: list[str], message: str,
                             capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert message in err


# --- -o html: the report of the new side with the diff laid over it ---------------------------

def page_data(html: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="stockade-data">(.*?)</script>',
                      html, re.S)
    assert found is not None, html[:200]
    data: dict[str, Any] = json.loads(found.group(1))
    return data


def test_html_is_the_new_side_with_the_diff(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    old, new = cluster(tmp_path, "old"), cluster(tmp_path, "new", DENY_WEB)
    code, out, _ = run(capsys, "diff", old, new, "-o", "html")
    assert code == 1 and out.startswith("<!DOCTYPE html>")
    data = page_data(out)
    assert data["title"] == f"stockade diff: {old} → {new}"
    assert data["sources"] == [new]  # the query shown under an explanation reads NEW
    summary = data["changes"]["summary"]
    assert (summary["old"], summary["new"], summary["connections"]) == (old, new, 3)
    assert summary["policies"]["added"] == [{"key": "x/web-from-a",
                                             "where": f"{new}/policies.yaml:1"}]
    kinds = data["changes"]["kinds"]
    assert sorted(kinds[k] for k, _ in data["changes"]["cells"].values()) == [
        "changed", "lost", "lost"]
    code, out, _ = run(capsys, "diff", old, old, "-o", "html")
    assert code == 0
    summary = page_data(out)["changes"]["summary"]
    assert (summary["changed"], summary["connections"]) == (False, 0)


def test_html_is_not_written_to_a_terminal(monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    code, out, err = run(capsys, "diff", SHOP, BROKEN, "-o", "html")
    assert (code, out) == (2, "")
    assert "-o html writes an HTML file: redirect the output (> diff.html)" in err


# --- --base: a real git repository ---------------------------------------------------------

def git(repo: Path, *argv: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *argv],
                   cwd=repo, check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """Two commits: the cluster without a policy, then with web-from-a."""
    assert shutil.which("git"), "git is installed by install.sh"
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    manifests = Path(cluster(root, "manifests"))
    (root / "README").write_text("not a manifest\n")
    git(root, "add", ".")
    git(root, "commit", "-qm", "pods")
    (manifests / "policies.yaml").write_text(DENY_WEB)
    git(root, "add", ".")
    git(root, "commit", "-qm", "policy")
    return root


def test_base_compares_a_revision_with_the_working_tree(
        repo: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo)
    code, out, _ = run(capsys, "diff", "--base", "HEAD", "manifests/")
    assert (code, out) == (0, "equivalent: no connection changed between the 12 ordered "
                              "pairs of endpoints present on both sides\n")
    code, out, _ = run(capsys, "diff", "--base", "HEAD~1", "manifests/", "-o", "json")
    assert code == 1
    answer = json.loads(out)
    assert answer["policies"]["added"] == ["x/web-from-a"]
    assert {(c["from"], c["to"], c["lost"]) for c in answer["connections"]} == {
        ("x/b", "x/web-*", "all"), ("x/web-*", "x/web-*", "all"),
        ("x/a", "x/web-*", "TCP 1-79,81-65535, UDP all, SCTP all")}
    # An uncommitted edit counts: the working tree is the new side.
    (repo / "manifests" / "policies.yaml").write_text(DENY_WEB.replace("app: a", "app: b"))
    code, out, _ = run(capsys, "diff", "--base", "HEAD", "-o", "json")
    assert code == 1
    causes = [c for x in json.loads(out)["connections"] for c in x["because"]]
    assert {(c["policy"], c["change"], c["file"]) for c in causes} == {
        ("x/web-from-a", "modified", "./manifests/policies.yaml")}
    # The old side is read from git; its objects are named REV:path.
    code, out, _ = run(capsys, "diff", "--base", "HEAD", "-o", "json", "--pods")
    lost = [c for x in json.loads(out)["connections"] for c in x["because"]
            if c["effect"] == "lost"]
    assert {c["file"] for c in lost} == {"./manifests/policies.yaml"}


def test_base_from_a_subdirectory_and_its_errors(
        repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo / "manifests")
    code, out, _ = run(capsys, "diff", "--base", "HEAD~1", "-o", "json")  # PATH: .
    assert code == 1 and json.loads(out)["policies"]["added"] == ["x/web-from-a"]
    code, out, _ = run(capsys, "diff", "--base", "HEAD~1", "../manifests", "-o", "json")
    causes = [c for x in json.loads(out)["connections"] for c in x["because"]]
    assert {c["file"] for c in causes} == {"../manifests/policies.yaml"}
    code, _, err = run(capsys, "diff", "--base", "HEAD", "../../elsewhere")
    assert code == 2 and err.endswith("../../elsewhere: outside the repository\n")
    code, _, err = run(capsys, "diff", "--base", "no-such-branch")
    assert code == 2
    assert err.startswith("stockade: error: old side (no-such-branch:.): --base "
                          "no-such-branch: no such revision")
    outside = tmp_path / "plain"
    outside.mkdir()
    monkeypatch.chdir(outside)
    code, _, err = run(capsys, "diff", "--base", "HEAD")
    assert code == 2 and "old side (HEAD:.): git rev-parse:" in err
    assert "Traceback" not in err


def test_base_in_html(repo: Path, capsys: pytest.CaptureFixture[str],
                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo)
    code, out, _ = run(capsys, "diff", "--base", "HEAD~1", "manifests/", "-o", "html")
    assert code == 1
    data = page_data(out)
    summary = data["changes"]["summary"]
    assert (summary["old"], summary["new"]) == ("HEAD~1:manifests/", "manifests/")
    assert data["title"] == "stockade diff: HEAD~1:manifests/ → manifests/"
    causes = summary["causes"]
    assert {(c["policy"], c["where"]) for c in causes} == {
        ("x/web-from-a", "added, manifests/policies.yaml:5")}  # its podSelector


def test_base_lines_of_a_removed_policy_come_from_the_revision(
        repo: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo)
    (repo / "manifests" / "policies.yaml").unlink()
    code, out, _ = run(capsys, "diff", "--base", "HEAD", "manifests", "-o", "json")
    assert code == 1
    answer = json.loads(out)
    assert answer["policies"]["removed"] == ["x/web-from-a"]
    causes = [c for x in answer["connections"] for c in x["because"]]
    assert {(c["what"], c["version"], c["file"], c["line"]) for c in causes} == {
        ("no longer isolates", "old", "HEAD:manifests/policies.yaml", 1)}


# --- --cluster: the API server double -----------------------------------------------------

def test_cluster_against_manifests(alpha: ApiServerDouble, beta: ApiServerDouble,
                                   kubeconfigs: Kubeconfigs, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    config = str(kubeconfigs.two_contexts(alpha, beta))
    snapshot = tmp_path / "now.yaml"
    assert main(["snapshot", "--kubeconfig", config, "-o", str(snapshot)]) == 0
    capsys.readouterr()
    code, out, _ = run(capsys, "diff", "--cluster", "--kubeconfig", config, str(snapshot))
    assert code == 0 and out.startswith("equivalent")
    deny = tmp_path / "deny.yaml"
    deny.write_text("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: "
                    "{name: deny-all, namespace: prod}\nspec: {podSelector: {}}\n")
    code, out, _ = run(capsys, "diff", "--cluster", "--kubeconfig", config, str(snapshot),
                       str(deny), "-o", "json")
    assert code == 1
    answer = json.loads(out)
    assert answer["policies"]["added"] == ["prod/deny-all"]
    assert answer["connections"]
    assert all(c["after"] == "none" for c in answer["connections"])
    code, out, _ = run(capsys, "diff", "--cluster", "--kubeconfig", config, str(snapshot),
                       str(deny), "-o", "html")
    assert code == 1
    data = page_data(out)
    summary = data["changes"]["summary"]
    assert summary["old"] == "cluster"
    assert [p["key"] for p in summary["policies"]["added"]] == ["prod/deny-all"]
    assert len(summary["pairs"]) == len(answer["connections"])
    assert all(p["after"] == "none" for p in summary["pairs"])
    kinds = data["changes"]["kinds"]
    assert {kinds[k] for k, _ in data["changes"]["cells"].values()} == {"lost"}
    code, _, err = run(capsys, "diff", "--cluster", "--kubeconfig", config, "--context",
                       "nope", str(snapshot))
    assert code == 2 and err.startswith("stockade: error: old side (cluster context nope): ")


def test_file_names_are_escaped_in_text(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    old = cluster(tmp_path, "old")
    new = cluster(tmp_path, "new\x1b[2Jside", DENY_WEB)
    code, out, _ = run(capsys, "diff", old, new)
    assert code == 1
    assert "\x1b" not in out and "new\\x1b[2Jside/policies.yaml:5" in out


def test_base_follows_symbolic_links_as_the_working_tree_does(
        repo: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A committed link to a manifest file or to a directory of them is read through, in
    the revision as in the working tree (variants/ links to examples/ so); a link that
    leads nowhere in the revision is an error naming it."""
    monkeypatch.chdir(repo)
    shared = repo / "shared"
    shared.mkdir()
    (repo / "manifests" / "policies.yaml").rename(shared / "policies.yaml")
    (shared / "deeper").mkdir()
    (shared / "deeper" / "more.yaml").write_text(DENY_WEB.replace("web-from-a", "more"))
    (repo / "manifests" / "policies.yaml").symlink_to("../shared/policies.yaml")
    (repo / "manifests" / "linked").symlink_to("../shared/deeper")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "links")
    code, out, err = run(capsys, "diff", "--base", "HEAD", "manifests", "-o", "json")
    assert code == 0, err
    code, out, _ = run(capsys, "diff", "--base", "HEAD~1", "manifests", "-o", "json")
    assert code == 0  # policies.yaml moved behind a link, and its copy added: the same
    assert json.loads(out)["policies"] == {"added": ["x/more"], "removed": [],
                                           "modified": []}
    code, out, _ = run(capsys, "diff", "--base", "HEAD~2", "manifests", "-o", "json")
    assert code == 1
    assert json.loads(out)["policies"]["added"] == ["x/more", "x/web-from-a"]
    # PATH itself through a link: read through it, as in the working tree.
    (repo / "via").symlink_to("shared")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "a link to name the path by")
    for path in ("via", "via/deeper/more.yaml"):
        code, out, err = run(capsys, "diff", "--base", "HEAD", path, "-o", "json")
        assert (code, json.loads(out)["pairs_compared"]) == (0, 0), err
        assert json.loads(out)["policies"]["added"] == [], path
    (repo / "manifests" / "gone.yaml").symlink_to("../shared/nothing.yaml")
    (repo / "manifests" / "away.yaml").symlink_to("/etc/hostname")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "broken links")
    code, _, err = run(capsys, "diff", "--base", "HEAD", "manifests")
    assert code == 2 and "Traceback" not in err
    assert err.startswith("stockade: error: old side (HEAD:manifests): HEAD:manifests/away.yaml"
                          ": a symbolic link out of the repository (to '/etc/hostname')")
    (repo / "manifests" / "away.yaml").unlink()
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "one broken link")
    code, _, err = run(capsys, "diff", "--base", "HEAD", "manifests")
    assert code == 2
    assert ("old side (HEAD:manifests): HEAD:manifests/gone.yaml: a dangling symbolic link "
            "(to '../shared/nothing.yaml', which does not exist at HEAD)") in err
    code, _, err = run(capsys, "diff", "--base", "HEAD", "manifests/gone.yaml/more.yaml")
    assert code == 2 and "Traceback" not in err
    assert err.startswith("stockade: error: old side (HEAD:manifests/gone.yaml/more.yaml): "
                          "HEAD:manifests/gone.yaml/more.yaml: a path through a dangling "
                          "symbolic link at HEAD")
