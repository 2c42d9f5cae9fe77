"""The pod's own node: one packet, one answer (issue 16), through every command.

``default/app`` runs on n1 and is isolated both ways. n1's addresses are known three ways:
the pod's ``status.hostIP`` (10.0.0.1), the Node object (InternalIP 10.0.0.1, ExternalIP
203.0.113.7), and ``kube-system/agent``, a host-network pod that names no node but has the
ExternalIP. Whatever name the question uses for the node, the answer is "always allowed";
a pod on another node, and other addresses, meet the policy.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from matrix_doc import by_name
from stockade.cli.main import main

CLUSTER = """\
apiVersion: v1
kind: Pod
metadata: {name: app, namespace: default, labels: {app: app}}
spec: {nodeName: n1, containers: [{name: c, image: x}]}
status: {podIP: 10.244.0.5, hostIP: 10.0.0.1, hostIPs: [{ip: 10.0.0.1}]}
---
apiVersion: v1
kind: Pod
metadata: {name: other, namespace: default, labels: {app: other}}
spec: {nodeName: n2, containers: [{name: c, image: x}]}
status: {podIP: 10.244.1.5, hostIP: 10.0.0.2}
---
apiVersion: v1
kind: Pod
metadata: {name: agent, namespace: kube-system}
spec: {hostNetwork: true, containers: [{name: c, image: x, ports: [{containerPort: 80}]}]}
status: {podIP: 203.0.113.7}
---
apiVersion: v1
kind: Node
metadata: {name: n1}
status:
  addresses:
  - {type: InternalIP, address: 10.0.0.1}
  - {type: ExternalIP, address: 203.0.113.7}
  - {type: Hostname, address: n1.example}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny, namespace: default}
spec: {podSelector: {}, policyTypes: [Ingress, Egress]}
"""


@pytest.fixture
def cluster(tmp_path: Path) -> str:
    path = tmp_path / "cluster.yaml"
    path.write_text(CLUSTER)
    return str(path)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("node", ["10.0.0.1", "203.0.113.7", "::ffff:10.0.0.1",
                                  "kube-system/agent"])
def test_query_to_and_from_the_own_node_is_allowed(capsys: pytest.CaptureFixture[str],
                                                   cluster: str, node: str) -> None:
    code, out, _ = run(capsys, "query", cluster, "--from", "default/app", "--to", node,
                       "--port", "80/TCP")
    assert code == 0
    assert "  egress  default/app: to the pod's own node: always allowed\n" in out
    code, out, _ = run(capsys, "query", cluster, "--from", node, "--to", "default/app",
                       "--port", "80/TCP", "-o", "json")
    assert code == 0
    assert json.loads(out)["ingress"]["note"] == "from the pod's own node: always allowed"


@pytest.mark.parametrize(("src", "dst"), [
    ("default/app", "10.0.0.2"),       # n2's address: another node
    ("default/app", "203.0.113.8"),    # nobody's
    ("10.0.0.2", "default/app"),
    ("default/other", "10.0.0.1"),     # n1 is not other's node
    ("default/other", "kube-system/agent"),
])
def test_other_nodes_and_addresses_meet_the_policy(capsys: pytest.CaptureFixture[str],
                                                   cluster: str, src: str, dst: str) -> None:
    code, out, _ = run(capsys, "query", cluster, "--from", src, "--to", dst, "--port", "80/TCP")
    assert code == 1, out
    assert "own node" not in out


def test_matrix_forms_show_node_traffic_known_by_address(capsys: pytest.CaptureFixture[str],
                                                         cluster: str) -> None:
    # The agent names no node: only the addresses tie it to n1.
    _, out, _ = run(capsys, "matrix", cluster, "-o", "json")
    assert json.loads(out)["node_traffic"] == {"kube-system/agent": ["default/app"]}
    _, out, _ = run(capsys, "matrix", cluster)
    assert "  kube-system/agent <-> default/app\n" in out
    _, out, _ = run(capsys, "matrix", cluster, "--pods", "-o", "json")
    _, rows = by_name(json.loads(out))

    def cell(src: str, dst: str) -> str:
        return str(next((t for t, dsts in rows[src].items() if t != "*" and dst in dsts),
                        rows[src]["*"]))

    assert cell("default/app", "kube-system/agent") == "all"
    assert cell("kube-system/agent", "default/app") == "all"
    assert cell("default/other", "kube-system/agent") == "none"
    _, out, _ = run(capsys, "matrix", cluster, "--port", "80/TCP", "-o", "json")
    reachable = json.loads(out)["results"][0]["reachable"]
    assert reachable["default/app"] == ["default/app", "kube-system/agent"]
    assert reachable["kube-system/agent"] == ["default/app", "kube-system/agent"]
    assert reachable["default/other"] == ["default/other"]
    _, out, _ = run(capsys, "matrix", cluster, "-o", "csv")
    pairs = {(r["from"], r["to"]): r["allowed"] for r in csv.DictReader(io.StringIO(out))}
    assert pairs[("kube-system/agent", "default/app")] == "all"
    assert pairs[("default/app", "kube-system/agent")] == "all"
    _, out, _ = run(capsys, "matrix", cluster, "-o", "md")
    assert "| kube-system/agent | default/app |\n" in out


def test_compile_accepts_the_own_node_pairs(capsys: pytest.CaptureFixture[str],
                                            cluster: str) -> None:
    code, out, _ = run(capsys, "compile", cluster, "-o", "json")
    assert code == 0
    sets = {s["name"]: s["elements"] for s in json.loads(out)["sets"]}
    # Both pods are isolated both ways: to and from each address of their own node.
    assert sorted(sets["own_node_v4"]) == sorted([
        "10.244.0.5 . 10.0.0.1", "10.244.0.5 . 203.0.113.7",
        "10.0.0.1 . 10.244.0.5", "203.0.113.7 . 10.244.0.5",
        "10.244.1.5 . 10.0.0.2", "10.0.0.2 . 10.244.1.5"])
    forward = next(c for c in json.loads(out)["chains"] if c["name"] == "forward")
    assert forward["rules"][2] == "ip saddr . ip daddr @own_node_v4 accept"


def test_check_counts_and_validates_nodes(capsys: pytest.CaptureFixture[str],
                                          cluster: str, tmp_path: Path) -> None:
    code, out, _ = run(capsys, "check", cluster)
    assert code == 0
    assert out == "valid: 1 NetworkPolicy, 3 Pods, 1 Node\n"
    bad = tmp_path / "bad.yaml"
    bad.write_text("""\
apiVersion: v1
kind: Node
metadata: {name: Bad_Node}
status:
  addresses: [{type: InternalIP, address: 10.0.0.1}, {type: 7, address: x}]
---
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: default}
spec: {containers: [{name: c, image: x}]}
status: {hostIP: 10.0.0.999, hostIPs: [{ip: "fd00::1"}, {ip: nope}]}
""")
    code, _, err = run(capsys, "check", str(bad))
    assert code == 2
    assert 'bad.yaml:1: Node Bad_Node: metadata.name: Invalid value: "Bad_Node": a lowercase ' \
        "RFC 1123 subdomain" in err
    assert "Node Bad_Node: status.addresses[1].type: Invalid value: 7: must be of type " \
        "string" in err
    assert 'Pod default/p: status.hostIPs[1].ip: Invalid value: "nope": must be a valid IP ' \
        "address" in err
    assert 'Pod default/p: status.hostIP: Invalid value: "10.0.0.999"' in err


def test_an_internal_ip_that_is_no_address_is_left_out_with_a_warning(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "node.yaml"
    path.write_text("""\
apiVersion: v1
kind: Node
metadata: {name: n1}
status:
  addresses: [{type: InternalIP, address: node-1.internal}, {type: Hostname, address: n1}]
""")
    code, out, err = run(capsys, "check", str(path))
    assert code == 0 and out == "valid: 1 Node\n"
    assert ('Node n1: status.addresses[0].address "node-1.internal" (InternalIP) is not an IP '
            "address; not counted among the node's addresses") in err
