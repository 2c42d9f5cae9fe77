"""The real ``stockade agent`` on one node of its own (namespaces, veths, real nftables, real
packets), reading the cluster from the API server double (a double: no real API server can
run on this machine; the agent, its client library and its TLS are the real ones)."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from agent_support import (
    NODE,
    AgentProcess,
    NodeNet,
    disagreements,
    namespace_manifest,
    node_net,
    pod_manifest,
    policy_manifest,
    probe,
    ruleset,
    start_agent,
    tables,
    write_kubeconfig,
)
from watch_support import wait_for

from stockade.lab.apiserver import ApiServerDouble, Deny
from stockade.lab.probe import DROPPED, REACHABLE

pytestmark = pytest.mark.lab

LOCAL = {"web": "10.244.1.10", "db": "10.244.1.11", "cache": "10.244.1.12"}
REMOTE = {"client": "10.244.2.20", "stranger": "10.244.2.21"}
LABELS = {"web": {"app": "web"}, "db": {"app": "db"}, "cache": {"app": "cache"},
          "client": {"role": "client"}, "stranger": {}}
DB_FROM_WEB = policy_manifest("db", {
    "podSelector": {"matchLabels": {"app": "db"}},
    "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "web"}}}],
                 "ports": [{"port": 80}]}]})
WEB_FROM_CLIENTS = policy_manifest("web", {
    "podSelector": {"matchLabels": {"app": "web"}}, "policyTypes": ["Ingress", "Egress"],
    "ingress": [{"from": [{"podSelector": {"matchLabels": {"role": "client"}}}]}],
    "egress": [{"to": [{"podSelector": {"matchLabels": {"app": "db"}}}]}]})


def _objects(double: ApiServerDouble, net: NodeNet) -> None:
    double.apply(namespace_manifest("default"))
    double.apply({"apiVersion": "v1", "kind": "Node", "metadata": {"name": NODE},
                  "spec": {"podCIDR": "10.244.1.0/24"},
                  "status": {"addresses": [{"type": "InternalIP", "address": "172.31.0.1"}]}})
    for name, ip in net.local.items():
        double.apply(pod_manifest(name, ip, labels=LABELS.get(name, {})))
    for name, ip in net.remote.items():
        double.apply(pod_manifest(name, ip, node="n2", labels=LABELS.get(name, {})))


@pytest.fixture
def net() -> Iterator[NodeNet]:
    with node_net("ag", LOCAL, REMOTE) as found:
        yield found


@pytest.fixture
def double(net: NodeNet) -> Iterator[ApiServerDouble]:
    with ApiServerDouble(netns=[net.node], bookmark_seconds=0.5) as found:
        _objects(found, net)
        yield found


@pytest.fixture
def agent(net: NodeNet, double: ApiServerDouble, tmp_path: Path) -> Iterator[AgentProcess]:
    found = start_agent(net.node, write_kubeconfig(double, tmp_path / "kubeconfig"),
                        tmp_path / "agent.log", "--resync", "2s")
    try:
        yield found
    finally:
        found.stop(signal.SIGKILL)


def _plumbing(net: NodeNet) -> None:
    """With no ruleset every pair passes: a drop later is the ruleset's."""
    names = list(net.targets())
    pairs = [(a, b) for a in names for b in names if a != b]
    for _ in range(3):
        outcomes = probe(net, pairs, timeout=2.0)
        if set(outcomes.values()) == {REACHABLE}:
            return
    raise AssertionError(f"the plumbing drops packets: {outcomes}")


def _converged(net: NodeNet, double: ApiServerDouble) -> None:
    wrong: list[str] = []

    def agree() -> bool:
        nonlocal wrong
        wrong = disagreements(net, double)
        return not wrong

    try:
        wait_for(agree, timeout=30)
    except AssertionError:
        raise AssertionError(f"packets disagree with the engine: {wrong}") from None


def test_the_agent_enforces_and_follows_changes(net: NodeNet, double: ApiServerDouble,
                                                agent: AgentProcess) -> None:
    _plumbing(net)
    double.apply(DB_FROM_WEB)
    double.apply(WEB_FROM_CLIENTS)
    wait_for(agent.ready, what="the agent is ready")
    _converged(net, double)
    assert probe(net, [("client", "web"), ("stranger", "web"), ("web", "cache")]) == {
        ("client", "web"): REACHABLE, ("stranger", "web"): DROPPED, ("web", "cache"): DROPPED}
    # A policy change: the web pods may now reach the cache too.
    double.apply(policy_manifest("web", {
        **WEB_FROM_CLIENTS["spec"], "egress": [{"to": [{"podSelector": {"matchExpressions": [
            {"key": "app", "operator": "In", "values": ["db", "cache"]}]}}]}]}))
    _converged(net, double)
    assert probe(net, [("web", "cache")]) == {("web", "cache"): REACHABLE}
    # The stranger becomes a client: it enters the peer set; and leaves it again.
    double.apply(pod_manifest("stranger", REMOTE["stranger"], node="n2",
                              labels={"role": "client"}))
    _converged(net, double)
    assert probe(net, [("stranger", "web")]) == {("stranger", "web"): REACHABLE}
    double.apply(pod_manifest("stranger", REMOTE["stranger"], node="n2"))
    _converged(net, double)
    assert probe(net, [("stranger", "web")]) == {("stranger", "web"): DROPPED}
    # Every update was one transaction, and said what it did.
    updates = [line for line in agent.lines() if line.get("msg") == "update"]
    assert updates and all("elements_added" in u and "seconds" in u for u in updates)
    assert agent.metric("stockade_agent_nft_transaction_failures_total", 'type="incremental"') \
        == 0
    assert agent.metric("stockade_agent_ruleset_elements") > 0


def test_a_deleted_pods_address_reused_carries_none_of_its_rights(
        net: NodeNet, double: ApiServerDouble, agent: AgentProcess) -> None:
    _plumbing(net)
    double.apply(DB_FROM_WEB)
    double.apply(WEB_FROM_CLIENTS)
    wait_for(agent.ready)
    _converged(net, double)
    assert probe(net, [("client", "web")]) == {("client", "web"): REACHABLE}
    # The client goes; a pod with other labels gets its address.
    double.remove("Pod", "default", "client")
    double.apply(pod_manifest("newcomer", REMOTE["client"], node="n2", labels={"role": "x"}))
    net.remote["newcomer"] = net.remote.pop("client")
    _converged(net, double)
    assert probe(net, [("newcomer", "web")]) == {("newcomer", "web"): DROPPED}


def test_resync_repairs_drift(net: NodeNet, double: ApiServerDouble,
                              agent: AgentProcess) -> None:
    double.apply(WEB_FROM_CLIENTS)
    wait_for(agent.ready)
    before = ruleset(net.node)
    assert "10.244.2.20" in before
    # Someone deletes the client's element by hand: the client is cut off ...
    subprocess.run(["ip", "netns", "exec", net.node, "nft", "flush", "set", "inet", "stk_agent",
                    "ingress_0_v4"], check=True)
    assert probe(net, [("client", "web")]) == {("client", "web"): DROPPED}
    # ... until the next resync puts it back and says so.
    wait_for(lambda: agent.metric("stockade_agent_resync_repairs_total") >= 1)
    assert probe(net, [("client", "web")], timeout=2.0) == {("client", "web"): REACHABLE}
    assert any(line.get("msg", "").startswith("the loaded table drifted")
               for line in agent.lines())


def test_sigterm_leaves_the_table_and_uninstall_removes_it(
        net: NodeNet, double: ApiServerDouble, agent: AgentProcess, tmp_path: Path) -> None:
    double.apply(WEB_FROM_CLIENTS)
    wait_for(agent.ready)
    assert agent.stop(signal.SIGTERM) == 0
    assert "table inet stk_agent" in tables(net.node)
    assert probe(net, [("stranger", "web")]) == {("stranger", "web"): DROPPED}
    done = subprocess.run(["ip", "netns", "exec", net.node, "stockade", "agent", "--uninstall",
                           "--table", "stk_agent"], capture_output=True, text=True,
                          check=False, env={"PATH": str(Path(__file__).parents[2] / ".venv/bin")
                                            + ":/usr/sbin:/usr/bin:/sbin:/bin"})
    assert done.returncode == 0, done.stderr
    assert "table inet stk_agent removed" in done.stdout
    assert "table inet stk_agent" not in tables(net.node)
    # --remove-on-exit removes it at SIGTERM.
    again = start_agent(net.node, tmp_path / "kubeconfig", tmp_path / "again.log",
                        "--remove-on-exit")
    try:
        wait_for(again.ready)
        assert "table inet stk_agent" in tables(net.node)
    finally:
        assert again.stop(signal.SIGTERM) == 0
    assert "table inet stk_agent" not in tables(net.node)


def test_nothing_is_touched_before_a_complete_list(net: NodeNet, double: ApiServerDouble,
                                                   tmp_path: Path) -> None:
    """RBAC forbids listing pods, then the API cannot be reached at all: clear errors, not
    ready, and the table left by an earlier agent stays exactly as it was."""
    old = "table inet stk_agent {\n\tchain forward {\n\t\ttype filter hook forward " \
          "priority filter; policy accept;\n\t\tip saddr 10.244.2.21 drop\n\t}\n}\n"
    subprocess.run(["ip", "netns", "exec", net.node, "nft", "-f", "-"], input=old, text=True,
                   check=True)
    before = ruleset(net.node)
    double.denies.append(Deny("list", "pods"))
    agent = start_agent(net.node, write_kubeconfig(double, tmp_path / "kubeconfig"),
                        tmp_path / "agent.log")
    try:
        wait_for(lambda: any("forbidden" in str(line.get("error", ""))
                             for line in agent.lines()), what="the RBAC error is logged")
        code, reasons = agent.get("/readyz")
        assert code == 503 and 'RBAC needs verb "list" on resource "pods"' in reasons
        assert agent.get("/healthz")[0] == 200
        time.sleep(1.0)
        assert ruleset(net.node) == before
    finally:
        agent.stop(signal.SIGKILL)
    double.denies.clear()
    double.pause()
    agent = start_agent(net.node, tmp_path / "kubeconfig", tmp_path / "agent2.log")
    try:
        wait_for(lambda: any("cannot reach the Kubernetes API server" in
                             str(line.get("error", "")) for line in agent.lines()))
        assert agent.get("/readyz")[0] == 503
        assert agent.metric("stockade_agent_api_reachable") == 0
        assert ruleset(net.node) == before
        double.resume()  # and once it can read everything, it replaces the table
        wait_for(agent.ready)
        assert "10.244.2.21 drop" not in ruleset(net.node)
    finally:
        agent.stop(signal.SIGKILL)


def _cluster_policy(kind: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    version = "v1alpha2" if kind == "ClusterNetworkPolicy" else "v1alpha1"
    return {"apiVersion": f"policy.networking.k8s.io/{version}", "kind": kind,
            "metadata": {"name": name}, "spec": spec}


def _served(namespaces: dict[str, Any]) -> dict[str, Any]:
    """A cluster policy subject: the pods with an ``app`` label (this node's)."""
    return {"pods": {"namespaceSelector": namespaces, "podSelector": {
        "matchExpressions": [{"key": "app", "operator": "Exists"}]}}}


def test_cluster_wide_policies_are_enforced_and_followed(
        net: NodeNet, double: ApiServerDouble, agent: AgentProcess) -> None:
    """Admin and Baseline tiers over NetworkPolicy, both API versions, each change
    (policies, a pod's labels, a namespace's labels) followed, packets agreeing with the
    engine on every pair after each. The subjects are this node's pods (the ingress of the
    remote ones is their own node's agent's job, and that node has none here)."""
    _plumbing(net)
    wait_for(agent.ready)
    # Baseline: nothing may reach a pod NetworkPolicy leaves unisolated; db is isolated by
    # its NetworkPolicy, which the Baseline tier never sees.
    double.apply(_cluster_policy("BaselineAdminNetworkPolicy", "default", {
        "subject": _served({}),
        "ingress": [{"name": "deny", "action": "Deny", "from": [{"namespaces": {}}]}]}))
    double.apply(DB_FROM_WEB)
    _converged(net, double)
    assert probe(net, [("client", "cache"), ("web", "db"), ("client", "db")]) == {
        ("client", "cache"): DROPPED, ("web", "db"): REACHABLE, ("client", "db"): DROPPED}
    # Admin, above NetworkPolicy: clients may reach the cache whatever the Baseline says, and
    # nobody may reach db (its NetworkPolicy's allow no longer counts); web's egress to db
    # is passed on to NetworkPolicy (there is none for web's egress: allowed), then denied
    # at db's ingress by the Admin tier.
    double.apply(_cluster_policy("ClusterNetworkPolicy", "cache-for-clients", {
        "tier": "Admin", "priority": 5,
        "subject": {"pods": {"namespaceSelector": {}, "podSelector": {
            "matchLabels": {"app": "cache"}}}},
        "ingress": [{"name": "clients", "action": "Accept", "from": [{"pods": {
            "namespaceSelector": {}, "podSelector": {"matchLabels": {"role": "client"}}}}]}]}))
    double.apply(_cluster_policy("AdminNetworkPolicy", "db-closed", {
        "priority": 7, "subject": {"pods": {"namespaceSelector": {}, "podSelector": {
            "matchLabels": {"app": "db"}}}},
        "ingress": [{"name": "none", "action": "Deny", "from": [{"namespaces": {}}]}]}))
    double.apply(_cluster_policy("AdminNetworkPolicy", "web-pass", {
        "priority": 3, "subject": {"pods": {"namespaceSelector": {}, "podSelector": {
            "matchLabels": {"app": "web"}}}},
        "egress": [{"name": "pass", "action": "Pass", "to": [{"namespaces": {}}]}]}))
    _converged(net, double)
    assert probe(net, [("client", "cache"), ("stranger", "cache"), ("web", "db")]) == {
        ("client", "cache"): REACHABLE, ("stranger", "cache"): DROPPED,
        ("web", "db"): DROPPED}
    # The stranger becomes a client (a peer set of a cluster rule follows labels) ...
    double.apply(pod_manifest("stranger", REMOTE["stranger"], node="n2",
                              labels={"role": "client"}))
    _converged(net, double)
    assert probe(net, [("stranger", "cache")]) == {("stranger", "cache"): REACHABLE}
    # ... the Baseline selects only namespaces labelled tier=locked (none: it lets go) ...
    double.apply(_cluster_policy("BaselineAdminNetworkPolicy", "default", {
        "subject": _served({"matchLabels": {"tier": "locked"}}),
        "ingress": [{"name": "deny", "action": "Deny", "from": [{"namespaces": {}}]}]}))
    _converged(net, double)
    assert probe(net, [("client", "web")]) == {("client", "web"): REACHABLE}
    # ... until the namespace gets the label (the subject follows namespace labels).
    double.apply(namespace_manifest("default", {"tier": "locked"}))
    _converged(net, double)
    assert probe(net, [("client", "web")]) == {("client", "web"): DROPPED}
    # Gone: only NetworkPolicy again.
    for kind, name in (("AdminNetworkPolicy", "db-closed"), ("AdminNetworkPolicy", "web-pass"),
                       ("ClusterNetworkPolicy", "cache-for-clients"),
                       ("BaselineAdminNetworkPolicy", "default")):
        double.remove(kind, "", name)
    _converged(net, double)
    assert probe(net, [("web", "db"), ("client", "db")]) == {
        ("web", "db"): REACHABLE, ("client", "db"): DROPPED}
    assert "admin" not in ruleset(net.node) and "baseline" not in ruleset(net.node)
    assert agent.metric("stockade_agent_nft_transaction_failures_total", 'type="incremental"') \
        == 0
