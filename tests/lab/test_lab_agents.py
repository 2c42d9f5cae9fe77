"""Agent labs: several node namespaces joined by an underlay, a real ``stockade agent`` in
each, reading the cluster from the lab's API server double (a double: a real API server
cannot run on this machine; the agents, their client library, TLS and nftables are real),
probed with real packets and compared with the engine."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml
from lab_support import ROOT, SCENARIOS

from stockade.engine import Engine
from stockade.lab import agents, lifecycle, measure
from stockade.lab import state as lab_state
from stockade.lab.names import LabNames
from stockade.lab.probe import DROPPED, REACHABLE, probe_all
from stockade.model.build import RawObject
from stockade.model.types import Origin, Protocol
from stockade.sources.files import read_paths

pytestmark = pytest.mark.lab

TCP_UDP = [(80, "TCP"), (53, "UDP")]


def _raws(*paths: Path) -> list[RawObject]:
    return read_paths([str(p) for p in paths])


def _docs(text: str) -> list[RawObject]:
    return [RawObject(d, Origin("test", i + 1))
            for i, d in enumerate(yaml.safe_load_all(text)) if d]


def _cases() -> list[tuple[str, list[Path]]]:
    cases = [(p.name, [p]) for p in sorted((ROOT / "tests" / "scenarios").glob("*.yaml"))]
    cases.append(("nine-pods", [SCENARIOS / "nine-pods-base.yaml",
                                SCENARIOS / "nine-pods-policies.yaml"]))
    return cases


def _nodes_named(raws: Sequence[RawObject]) -> int:
    named = {r.data.get("spec", {}).get("nodeName") for r in raws if r.kind == "Pod"
             and not r.data.get("spec", {}).get("hostNetwork")}
    return len(named - {None, ""})


@pytest.mark.parametrize(("case", "paths"), _cases(), ids=[c[0] for c in _cases()])
def test_scenarios_through_agents_on_two_nodes(case: str, paths: list[Path],
                                               lab_name: str) -> None:
    raws = _raws(*paths)
    lab = lifecycle.up(raws, lab_name, nodes=max(2, _nodes_named(raws)), agent=True)
    if _nodes_named(raws) != 1:  # spread, unless the scenario puts every pod on one node
        assert {p.node for p in lab.state.pods} == set(range(len(lab.state.nodes)))
    declared = measure.declared_ports(lab.state)
    ports = [p for p in declared if p[1] in ("TCP", "UDP")] or list(TCP_UDP)
    for port in TCP_UDP:
        if not any(p[1] == port[1] for p in ports):
            ports.append(port)
    m = measure.measure(lab.state, lab.engine, ports)
    assert m.plumbing == ()
    assert m.mismatches == ()
    judged = [p for p in m.probes if p.outcome in (REACHABLE, DROPPED)]
    assert len(judged) == len(lab.state.pods) ** 2 * len(ports)


SHOP = """
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {team: shop}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, ports: [{containerPort: 80}]}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: db, namespace: shop}
spec:
  replicas: 2
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec: {containers: [{name: c, ports: [{containerPort: 80}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: shop, labels: {role: client}}
spec: {containers: [{name: c, ports: [{containerPort: 80}]}]}
"""
DB_FROM_WEB = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  policyTypes: [Ingress, Egress]
  ingress: [{from: [{podSelector: {matchLabels: {app: web}}}]}]
"""
WEB_FROM_CLIENTS = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress: [{from: [{podSelector: {matchLabels: {role: client}}}]}]
"""


def _measure(name: str) -> measure.Measurement:
    lab, engine = lifecycle.engine_of(name)
    return measure.measure(lab, engine, [(80, "TCP")])


def _agree(name: str) -> measure.Measurement:
    m = _measure(name)
    assert m.plumbing == () and m.mismatches == (), (m.plumbing, m.mismatches)
    return m


def test_scaling_and_policies_through_the_api(lab_name: str) -> None:
    lab = lifecycle.up(_docs(SHOP + "---" + DB_FROM_WEB), lab_name, nodes=2, agent=True)
    assert sorted(p.key for p in lab.state.pods) == [
        "shop/client", "shop/db-0", "shop/db-1", "shop/web-0", "shop/web-1", "shop/web-2"]
    assert {p.node for p in lab.state.pods} == {0, 1}
    _agree(lab_name)
    # Scale web up, db down, and add a policy: pods come and go, the agents follow.
    applied = lifecycle.apply_through_api(lab_name, _docs(
        SHOP.replace("replicas: 3", "replicas: 5").replace("replicas: 2", "replicas: 1")
        + "---" + DB_FROM_WEB + "---" + WEB_FROM_CLIENTS))
    assert sorted(applied.added) == ["shop/web-3", "shop/web-4"]
    assert applied.removed == ("shop/db-1",)
    m = _agree(lab_name)
    outcomes = {(p.src, p.dst): p.outcome for p in m.probes}
    assert outcomes[("shop/client", "shop/web-4")] == REACHABLE
    assert outcomes[("shop/db-0", "shop/web-4")] == DROPPED
    assert outcomes[("shop/web-3", "shop/db-0")] == REACHABLE
    # Only policies in the input: the pods stay, the policies are replaced.
    applied = lifecycle.apply_through_api(lab_name, _docs(WEB_FROM_CLIENTS))
    assert applied.added == () and applied.removed == ()
    assert len(lab_state.load(lab_name).pods) == 7
    m = _agree(lab_name)
    assert {(p.src, p.dst): p.outcome for p in m.probes}[("shop/web-3", "shop/db-0")] == \
        REACHABLE


def test_labels_and_a_reused_address(lab_name: str) -> None:
    """A pod enters and leaves a peer set by its labels; a pod deleted, and its address
    taken by a pod with other labels: the old rights do not pass to the new pod."""
    base = SHOP.replace("replicas: 3", "replicas: 1").replace("replicas: 2", "replicas: 1")
    pinned = base.replace("metadata: {name: client, namespace: shop, labels: {role: client}}",
                          "metadata: {name: client, namespace: shop, labels: {role: client}}"
                          "\nstatus: {podIP: 10.244.200.9}")
    lifecycle.up(_docs(pinned + "---" + WEB_FROM_CLIENTS), lab_name, nodes=2, agent=True)
    m = _agree(lab_name)
    assert {(p.src, p.dst): p.outcome for p in m.probes}[("shop/client", "shop/web-0")] == \
        REACHABLE
    lifecycle.apply_through_api(lab_name, _docs(
        pinned.replace("labels: {role: client}", "labels: {role: none}")
        + "---" + WEB_FROM_CLIENTS))
    m = _agree(lab_name)
    assert {(p.src, p.dst): p.outcome for p in m.probes}[("shop/client", "shop/web-0")] == \
        DROPPED
    lifecycle.apply_through_api(lab_name, _docs(pinned + "---" + WEB_FROM_CLIENTS))
    _agree(lab_name)
    renamed = pinned.replace("name: client, namespace: shop, labels: {role: client}",
                             "name: newcomer, namespace: shop, labels: {role: other}")
    applied = lifecycle.apply_through_api(lab_name, _docs(renamed + "---" + WEB_FROM_CLIENTS))
    assert applied.removed == ("shop/client",) and applied.added == ("shop/newcomer",)
    m = _agree(lab_name)
    outcome = {(p.src, p.dst): p.outcome for p in m.probes}[("shop/newcomer", "shop/web-0")]
    assert outcome == DROPPED
    assert next(p for p in lab_state.load(lab_name).pods
                if p.key == "shop/newcomer").ips == ["10.244.200.9"]


DB_ADMIN = """
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: db-admin}
spec:
  tier: Admin
  priority: 10
  subject: {pods: {namespaceSelector: {matchLabels: {team: shop}},
                   podSelector: {matchLabels: {app: db}}}}
  ingress:
  - {name: web, action: Accept,
     from: [{pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: web}}}}]}
  - {name: rest, action: Deny, from: [{namespaces: {}}]}
"""


@pytest.mark.parametrize("policies", [DB_FROM_WEB, DB_ADMIN], ids=["networkpolicy", "admin"])
def test_policy_changes_under_continuous_probing(lab_name: str, policies: str) -> None:
    """While policies (NetworkPolicies, or cluster-wide ones) change through the API, no
    probe sees a verdict that neither the old nor the new policies give."""
    docs = SHOP.replace("replicas: 3", "replicas: 2")
    lab = lifecycle.up(_docs(docs + "---" + policies), lab_name, nodes=2, agent=True)
    with_policies = lab.engine
    without = lifecycle.apply_through_api(lab_name, _docs(docs)).engine
    targets = measure.targets_of(lab_state.load(lab_name))
    seen: list[tuple[str, str, str]] = []
    stop = threading.Event()

    def traffic() -> None:
        while not stop.is_set():
            seen.extend((p.src, p.dst, p.outcome)
                        for p in probe_all(targets, [(80, "TCP")], timeout=0.3))

    worker = threading.Thread(target=traffic)
    worker.start()
    try:
        for round_ in range(6):
            time.sleep(0.3)
            lifecycle.apply_through_api(
                lab_name, _docs(docs + "---" + policies) if round_ % 2 == 0 else
                _docs(docs))
    finally:
        stop.set()
        worker.join()
    impossible = [(s, d, o) for s, d, o in seen
                  if o not in (REACHABLE, DROPPED) or (o == REACHABLE) not in {
                      e.allowed(s, d, Protocol.TCP, 80) for e in (with_policies, without)}]
    assert impossible == []
    changing = {(s, d) for s, d, _ in seen
                if with_policies.allowed(s, d, Protocol.TCP, 80)
                != without.allowed(s, d, Protocol.TCP, 80)}
    assert changing and {o for s, d, o in seen if (s, d) in changing} == {REACHABLE, DROPPED}


def _metric(netns: str, name: str) -> float:
    _, text = agents.agent_get(netns, "/metrics")
    return sum(float(line.split()[-1]) for line in text.splitlines()
               if line.startswith(name) and not line.startswith("#"))


def test_api_away_then_back_and_410_gone(lab_name: str) -> None:
    lifecycle.up(_docs(SHOP + "---" + DB_FROM_WEB), lab_name, nodes=2, agent=True)
    api = agents.LabApi(LabNames(lab_name))
    lab = lab_state.load(lab_name)
    nodes = [n.netns for n in lab.nodes]
    # The agents lose the API; meanwhile a policy appears (through the lab's own door).
    api.admin("pause")
    time.sleep(1.0)
    web = yaml.safe_load(WEB_FROM_CLIENTS)
    with api.client() as client:
        cls: Any = agents._CLASSES["NetworkPolicy"]
        client.create(cls(web), namespace="shop")
    time.sleep(0.5)
    assert all(_metric(n, "stockade_agent_api_reachable") == 0 for n in nodes)
    m = _measure(lab_name)  # still the old policies' verdicts: nothing was flushed
    old_engine = Engine(lab_state.load_cluster(lab_name))
    assert not [p for p in m.probes if (p.outcome == REACHABLE) != old_engine.allowed(
        p.src, p.dst, Protocol.TCP, 80)]
    api.admin("resume")
    revision = int(api.admin("status")["revision"])
    agents.converged(nodes, {"NetworkPolicy": revision})
    lifecycle.apply_through_api(lab_name, _docs(SHOP + "---" + DB_FROM_WEB + "---"
                                                + WEB_FROM_CLIENTS))  # the lab's own record
    _agree(lab_name)
    relists = sum(_metric(n, "stockade_agent_relists_total") for n in nodes)
    # Away again; this time the history the agents would resume from is compacted away.
    api.admin("pause")
    lifecycle_docs = _docs(SHOP + "---" + WEB_FROM_CLIENTS)  # db's policy goes
    with api.client() as client:
        client.delete(agents._CLASSES["NetworkPolicy"], "db", namespace="shop")
    api.admin("compact")
    api.admin("resume")
    revision = int(api.admin("status")["revision"])
    deadline = time.monotonic() + 60
    while sum(_metric(n, "stockade_agent_relists_total") for n in nodes) < relists + 2 * 1:
        assert time.monotonic() < deadline, "no relist after 410 Gone"
        time.sleep(0.1)
    agents.converged(nodes, {"NetworkPolicy": revision})
    lifecycle.apply_through_api(lab_name, lifecycle_docs)
    _agree(lab_name)


def test_a_killed_agent_lets_no_denied_connection_through(lab_name: str) -> None:
    lab = lifecycle.up(_docs(SHOP + "---" + DB_FROM_WEB), lab_name, nodes=2, agent=True)
    state = lab_state.load(lab_name)
    by_key = {t.key: t for t in measure.targets_of(state)}
    db = next(p for p in state.pods if p.key == "shop/db-0")
    client = by_key["shop/client"]
    node = state.nodes[db.node]
    assert not lab.engine.allowed("shop/client", "shop/db-0", Protocol.TCP, 80)
    os.kill(node.agent_pid, signal.SIGKILL)
    seen: list[str] = []
    pid = lifecycle.start_agent(LabNames(lab_name), lab.plan.nodes[db.node])
    deadline = time.monotonic() + 60
    while not agents.agent_ready(node.netns)[0]:
        assert time.monotonic() < deadline
        seen += [p.outcome for p in probe_all([client, by_key["shop/db-0"]], [(80, "TCP")],
                                              pairs=[(client, by_key["shop/db-0"])],
                                              timeout=0.3)]
    seen += [p.outcome for p in probe_all([client, by_key["shop/db-0"]], [(80, "TCP")],
                                          pairs=[(client, by_key["shop/db-0"])], timeout=0.5)]
    assert seen and set(seen) == {DROPPED}
    node.agent_pid = pid
    lab_state.save(state)
    _agree(lab_name)


def test_lab_run_with_agents_via_the_cli(tmp_path: Path) -> None:
    manifest = tmp_path / "shop.yaml"
    manifest.write_text(SHOP + "---" + DB_FROM_WEB)
    done = subprocess.run([sys.executable, "-m", "stockade", "lab", "run", str(manifest),
                           "--nodes", "2", "--agent", "-o", "json", "--port", "80/TCP"],
                          capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["mismatches"] == [] and result["plumbing"] == []
    assert len(result["pods"]) == 6
