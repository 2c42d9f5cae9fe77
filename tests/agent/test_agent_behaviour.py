"""The agent's decided behaviour, with real packets: a restart (even SIGKILL) opens no
window for a denied connection and cuts no established allowed one; ``--hold-unknown``
drops a new pod's traffic until the agent knows the pod; on a bridged node the agent turns
bridge-nf-call on in its own namespace; its metrics and logs say what happened. The API
server is the double (no real one can run here)."""

from __future__ import annotations

import contextlib
import signal
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from agent_support import (
    NODE,
    NodeNet,
    namespace_manifest,
    node_net,
    pod_manifest,
    policy_manifest,
    probe,
    start_agent,
    write_kubeconfig,
)
from watch_support import wait_for

from stockade.lab.apiserver import ApiServerDouble
from stockade.lab.probe import DROPPED, REACHABLE
from stockade.lab.system import in_netns, set_sysctls

pytestmark = pytest.mark.lab

LOCAL = {"web": "10.244.1.10", "cache": "10.244.1.12"}
REMOTE = {"client": "10.244.2.20", "stranger": "10.244.2.21"}
WEB_FROM_CLIENTS = policy_manifest("web", {
    "podSelector": {"matchLabels": {"app": "web"}},
    "ingress": [{"from": [{"podSelector": {"matchLabels": {"role": "client"}}}]}]})


def _cluster(double: ApiServerDouble, net: NodeNet, *, pod_cidr: str = "10.244.1.0/24") -> None:
    double.apply(namespace_manifest("default"))
    double.apply({"apiVersion": "v1", "kind": "Node", "metadata": {"name": NODE},
                  "spec": {"podCIDR": pod_cidr}})
    double.apply(pod_manifest("web", LOCAL["web"], labels={"app": "web"}))
    double.apply(pod_manifest("cache", LOCAL["cache"], labels={"app": "cache"}))
    double.apply(pod_manifest("client", REMOTE["client"], node="n2", labels={"role": "client"}))
    double.apply(pod_manifest("stranger", REMOTE["stranger"], node="n2"))
    double.apply(WEB_FROM_CLIENTS)


@contextlib.contextmanager
def _node(tag: str, *, bridged: bool = False) -> Iterator[tuple[NodeNet, ApiServerDouble]]:
    with node_net(tag, LOCAL, REMOTE, bridged=bridged) as net, \
            ApiServerDouble(netns=[net.node], bookmark_seconds=0.5) as double:
        _cluster(double, net)
        yield net, double


@contextlib.contextmanager
def _echo(netns: str, address: str, port: int) -> Iterator[None]:
    """A server that echoes every line on one connection, for an established flow."""
    with in_netns(netns):
        server = socket.create_server((address, port))
    stop = threading.Event()

    def serve() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(30)
                while data := conn.recv(100):
                    conn.sendall(data)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        server.close()


def test_a_killed_and_restarted_agent_opens_no_window(tmp_path: Path) -> None:
    with _node("kr") as (net, double):
        kubeconfig = write_kubeconfig(double, tmp_path / "kubeconfig")
        agent = start_agent(net.node, kubeconfig, tmp_path / "a1.log")
        try:
            wait_for(agent.ready)
            assert probe(net, [("client", "web"), ("stranger", "web")], timeout=2.0) == {
                ("client", "web"): REACHABLE, ("stranger", "web"): DROPPED}
            with _echo(net.pod_netns("web"), LOCAL["web"], 7000):
                # An allowed connection, established before the restart ...
                with in_netns(net.outside):
                    flow = socket.create_connection((LOCAL["web"], 7000), timeout=10,
                                                    source_address=(REMOTE["client"], 0))
                with flow:
                    flow.sendall(b"before\n")
                    assert flow.recv(100) == b"before\n"
                    agent.stop(signal.SIGKILL)
                    # ... while the denied pair keeps trying, before, during, after.
                    seen: list[str] = []
                    again = start_agent(net.node, kubeconfig, tmp_path / "a2.log")
                    try:
                        while not again.ready():
                            seen += probe(net, [("stranger", "web")], timeout=0.3).values()
                        seen += probe(net, [("stranger", "web")], timeout=0.5).values()
                        assert seen and set(seen) == {DROPPED}, seen
                        assert again.lines()[-1]["msg"] == "first sync loaded"
                        flow.sendall(b"after\n")  # still open: nothing cut it
                        assert flow.recv(100) == b"after\n"
                    finally:
                        again.stop(signal.SIGKILL)
        finally:
            agent.stop(signal.SIGKILL)


@pytest.mark.parametrize("hold", [False, True])
def test_a_new_pod_before_the_agent_knows_it(tmp_path: Path, hold: bool) -> None:
    """The pod's namespace and address exist (the network plugin made them) before the
    API says so. Its policy lets it reach the clients only; until the agent knows the pod,
    nothing isolates it (the window) by default, and everything of it is dropped with
    --hold-unknown."""
    with _node(f"h{int(hold)}") as (net, double):
        double.apply(policy_manifest("batch", {
            "podSelector": {"matchLabels": {"app": "batch"}}, "policyTypes": ["Egress"],
            "egress": [{"to": [{"podSelector": {"matchLabels": {"role": "client"}}}]}]}))
        extra = ("--hold-unknown",) if hold else ()
        agent = start_agent(net.node, write_kubeconfig(double, tmp_path / "kc"),
                            tmp_path / "agent.log", *extra)
        try:
            wait_for(agent.ready)
            net.add_pod("fresh", "10.244.1.30")
            pairs = [("fresh", "client"), ("fresh", "stranger")]
            before = probe(net, pairs, timeout=1.0)
            assert set(before.values()) == {DROPPED if hold else REACHABLE}, before
            double.apply(pod_manifest("fresh", "10.244.1.30", labels={"app": "batch"}))
            wait_for(lambda: probe(net, pairs) == {("fresh", "client"): REACHABLE,
                                                   ("fresh", "stranger"): DROPPED},
                     what="the pod's policy is enforced")
        finally:
            agent.stop(signal.SIGKILL)


def test_a_bridged_node(tmp_path: Path) -> None:
    """Pods on one bridge: the agent turns bridge-nf-call-iptables on in the node's
    namespace (only there), and traffic between them is then judged."""
    with _node("br", bridged=True) as (net, double):
        set_sysctls(net.node, {"net.bridge.bridge-nf-call-iptables": "0",
                               "net.bridge.bridge-nf-call-ip6tables": "0"})
        assert probe(net, [("cache", "web")]) == {("cache", "web"): REACHABLE}
        agent = start_agent(net.node, write_kubeconfig(double, tmp_path / "kc"),
                            tmp_path / "agent.log")
        try:
            wait_for(agent.ready)
            with in_netns(net.node), \
                    open("/proc/sys/net/bridge/bridge-nf-call-iptables") as handle:
                assert handle.read().strip() == "1"
            assert agent.metric("stockade_agent_bridge_nf_call", 'family="4"') == 1
            assert probe(net, [("cache", "web"), ("client", "web")], timeout=2.0) == {
                ("cache", "web"): DROPPED, ("client", "web"): REACHABLE}
        finally:
            agent.stop(signal.SIGKILL)


def test_metrics_and_logs(tmp_path: Path) -> None:
    with _node("mx") as (net, double):
        agent = start_agent(net.node, write_kubeconfig(double, tmp_path / "kc"),
                            tmp_path / "agent.log")
        try:
            wait_for(agent.ready)
            double.apply(pod_manifest("client2", "10.244.2.22", node="n2",
                                      labels={"role": "client"}))
            wait_for(lambda: agent.metric("stockade_agent_objects", 'kind="Pod"') == 5)
            _, text = agent.get("/metrics")
            for name in ("stockade_agent_event_to_kernel_seconds_bucket",
                         "stockade_agent_nft_transaction_seconds_count",
                         "stockade_agent_nft_transaction_failures_total",
                         "stockade_agent_ruleset_rules", "stockade_agent_ruleset_elements",
                         "stockade_agent_watch_restarts_total", "stockade_agent_relists_total",
                         'stockade_agent_objects{kind="Pod"} 5.0',
                         "stockade_agent_api_reachable 1.0", "stockade_agent_synced 1.0"):
                assert name in text, name
            update = next(line for line in agent.lines() if line.get("msg") == "update")
            assert update["events"] == {"Pod added": 1}
            # The web pods' ingress set gains the client's address, for each protocol (the
            # rule names no ports).
            assert update["elements_added"] == 3 and update["elements_deleted"] == 0
            assert agent.metric("stockade_agent_local_pods") == 2
        finally:
            agent.stop(signal.SIGKILL)
