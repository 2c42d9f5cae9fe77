"""``stockade lab test``: promises checked with real packets (root). The shop keeps its
promises in the lab too and its broken variant breaks one; a ruleset the engine does not
know shows as mismatches; SCTP and endpoints the lab does not run are untestable, never
passed or failed."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from lab_support import ROOT, leftovers

from stockade.engine import Engine
from stockade.engine.promises import Checker
from stockade.lab import lifecycle
from stockade.lab.promises import check_in_lab
from stockade.model.promises import PortSpec, Promise, Selection
from stockade.model.types import LabelSelector, Origin, Protocol
from stockade.sources.files import read_paths

pytestmark = pytest.mark.lab

PROMISES = ROOT / "examples" / "shop" / "tests" / "promises.yaml"


def lab_test(*argv: str) -> tuple[int, dict[str, Any], str]:
    name = f"p{os.getpid() % 100000}"
    done = subprocess.run([sys.executable, "-m", "stockade", "lab", "test", *argv,
                           "--name", name, "-o", "json"],
                          capture_output=True, text=True, check=False, cwd=ROOT, timeout=300)
    assert leftovers(name) == []
    return done.returncode, json.loads(done.stdout) if done.stdout else {}, done.stderr


def test_the_shop_keeps_its_promises_with_packets() -> None:
    code, report, err = lab_test(str(PROMISES))
    assert code == 0, err
    assert report["summary"] == {"passed": 6, "failed": 0, "skipped": 0}
    assert report["mismatches"] == [] and report["problems"] == []
    # node-exporter is a host-network DaemonSet: node traffic, which the lab does not run.
    assert {(u["src"], u["reason"]) for u in report["untestable"]} == {
        ("monitoring/DaemonSet/node-exporter", "monitoring/DaemonSet/node-exporter is "
         "host-network (node traffic), which the lab does not run")}


def test_the_broken_variant_fails_with_packets() -> None:
    code, report, err = lab_test(str(PROMISES), str(ROOT / "variants" / "shop-broken"))
    assert code == 1, err
    assert report["summary"] == {"passed": 5, "failed": 1, "skipped": 0}
    [failed] = [r for r in report["results"] if r["status"] == "failed"]
    assert failed["name"] == "the canary API never reaches the database"
    assert failed["breaches"][0]["allowed"] is True
    assert report["mismatches"] == []


CLUSTER_PROMISES = ROOT / "examples" / "cluster-policies" / "tests" / "promises.yaml"


@pytest.mark.parametrize("policies", [[], ["examples/cluster-policies/world",
                                           "examples/admin-network-policies"]],
                         ids=["v1alpha2", "v1alpha1"])
def test_the_platform_keeps_its_promises_with_packets(policies: list[str]) -> None:
    """The cluster-wide policies' promises hold with real packets, in either API version."""
    code, report, err = lab_test(str(CLUSTER_PROMISES), *policies)
    assert code == 0, err
    assert report["summary"] == {"passed": 4, "failed": 0, "skipped": 0}
    assert report["mismatches"] == [] and report["problems"] == []


POLICY = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-from-web, namespace: p}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
  - from: [{podSelector: {matchLabels: {app: web}}}]
    ports: [{port: 5432}, {port: 7, protocol: SCTP}]
"""
PODS = """\
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: p, labels: {app: web}}
spec: {containers: [{name: c}]}
status: {podIP: 10.68.0.2}
---
apiVersion: v1
kind: Pod
metadata: {name: db, namespace: p, labels: {app: db}}
spec: {containers: [{name: c, ports: [{containerPort: 5432}, {containerPort: 9187}]}]}
status: {podIP: 10.68.0.3}
---
apiVersion: v1
kind: Pod
metadata: {name: other, namespace: p, labels: {app: other}}
spec: {containers: [{name: c}]}
status: {podIP: 10.68.0.4}
"""


def promise(name: str, source: str | Selection, destination: str, allowed: bool,
            *ports: tuple[int, Protocol]) -> Promise:
    return Promise(name, source, destination, tuple(PortSpec(p, proto) for p, proto in ports),
                   allowed, Origin("t.yaml", 1), "spec.expect[0]", "t")


def test_packets_against_a_ruleset_the_engine_does_not_know(tmp_path: Path,
                                                            lab_name: str) -> None:
    (tmp_path / "pods.yaml").write_text(PODS)
    (tmp_path / "policy.yaml").write_text(POLICY)
    pods = read_paths([str(tmp_path / "pods.yaml")])
    everything = read_paths([str(tmp_path)])
    lab = lifecycle.up(everything, lab_name)
    checker = Checker(lab.engine)
    promises = [
        promise("web reaches db", "p/web", "p/db", True, (5432, Protocol.TCP)),
        promise("other does not", "p/other", "p/db", False, (5432, Protocol.TCP)),
        promise("nobody on any port but web", Selection("p", None, LabelSelector(
            match_labels=(("app", "other"),))), "p/db", False),
        promise("sctp", "p/web", "p/db", True, (7, Protocol.SCTP)),
        promise("outside", "p/web", "192.0.2.1", True, (443, Protocol.TCP)),
    ]
    result = check_in_lab(lab.state, checker, promises)
    assert [o.status for o in result.outcomes] == ["passed", "passed", "passed", "skipped",
                                                  "skipped"]
    assert result.mismatches == ()
    assert "not testable on this kernel" in result.outcomes[3].message
    assert "192.0.2.1 is outside the lab" in result.outcomes[4].message
    # The any-port promise was probed on the ports db declares.
    probed = {(u["port"]) for u in result.untestable}
    assert 5432 not in probed

    # Now the packets follow a ruleset without the policy while the engine keeps it.
    lifecycle.load_ruleset(lab.state.node_netns,
                           Engine(lifecycle.build(pods).cluster), lab.state.table)
    result = check_in_lab(lab.state, checker, promises[:3])
    assert [o.status for o in result.outcomes] == ["passed", "failed", "failed"]
    assert {(m["src"], m["dst"], m["port"], m["packets"], m["engine"])
            for m in result.mismatches} == {
        ("p/other", "p/db", 5432, "reachable", "denied"),
        ("p/other", "p/db", 9187, "reachable", "denied")}
    assert result.outcomes[2].breaches[0].answer.connections == "TCP 5432,9187"
    assert not result.ok


NODE = """\
---
apiVersion: v1
kind: Node
metadata: {name: n9}
status:
  addresses:
  - {type: InternalIP, address: 172.31.0.9}
"""


def test_promises_about_a_node_address_the_lab_holds(tmp_path: Path, lab_name: str) -> None:
    """The lab holds the input's node addresses: promises to and from one are probed."""
    (tmp_path / "pods.yaml").write_text(PODS + NODE)
    (tmp_path / "policy.yaml").write_text(POLICY)
    lab = lifecycle.up(read_paths([str(tmp_path)]), lab_name)
    assert lab.state.addresses == ["172.31.0.9"]
    checker = Checker(lab.engine)
    result = check_in_lab(lab.state, checker, [
        promise("web reaches the node", "p/web", "172.31.0.9", True, (10250, Protocol.TCP)),
        promise("the node cannot reach db", "172.31.0.9", "p/db", False,
                (5432, Protocol.TCP)),
        promise("other reaches web", "p/other", "p/web", True, (53, Protocol.UDP)),
    ])
    assert [o.status for o in result.outcomes] == ["passed", "passed", "passed"], result
    assert result.mismatches == () and result.problems == () and result.untestable == ()


def test_the_readme_lab_test_example_runs_as_shown() -> None:
    block = next(b for b in re.findall(r"```console\n(.*?)```", (ROOT / "README.md").read_text(),
                                        re.DOTALL) if "$ sudo stockade lab test " in b)
    command, _, shown = block.partition("\n")
    argv = command.removeprefix("$ sudo stockade ").split()
    done = subprocess.run([sys.executable, "-m", "stockade", *argv], capture_output=True,
                          text=True, check=False, cwd=ROOT, timeout=300)
    assert done.returncode == 1, done.stderr
    head = shown.rstrip("\n").splitlines()
    head = head[:[line.strip() for line in head].index("...")]
    assert done.stdout.splitlines()[:len(head)] == head
