"""Traffic between a pod and its own node, with real packets through the compiled ruleset.

A node namespace runs one pod (attached to a bridge, as the lab does, or routed through its
own veth, as ptp and Calico do) and holds its InternalIP 10.0.0.1. Its ExternalIP
203.0.113.7 is not on the node (a cloud translates it): it lives one hop beyond, in an
"uplink" namespace, next to 203.0.113.8, which is nobody's. The pod is isolated both ways
by a default deny. The engine says: the node's addresses, both of them, always reach and
are reached; the stranger neither. Packets must say the same:

- pod -> 10.0.0.1 is delivered through ``input`` and node -> pod leaves through ``output``:
  neither crosses ``forward``, so no rule is needed;
- pod <-> 203.0.113.7 is routed through the node and crosses ``forward``: only the
  ``own_node`` set lets it pass (shown by compiling without it);
- pod <-> 203.0.113.8 crosses ``forward`` and is dropped.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from stockade.engine import Engine
from stockade.lab.probe import DROPPED, REACHABLE, Target, probe_all
from stockade.lab.system import ip_batch, set_sysctls
from stockade.model.build import RawObject, build_cluster
from stockade.model.types import Origin, PolicyType, Protocol
from stockade.nft.apply import NftRunner
from stockade.nft.compile import compile_engine, compile_ruleset
from stockade.nft.render import render_replace

POD_IP, GATEWAY, INTERNAL, EXTERNAL, STRANGER = (
    "10.244.0.5", "10.244.0.1", "10.0.0.1", "203.0.113.7", "203.0.113.8")
PORTS = [(80, "TCP"), (80, "UDP")]
TIMEOUT = 3.0  # a drop waits this long; a pass takes a millisecond, more on a busy machine

MANIFESTS = [
    {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "app", "namespace": "default"},
     "spec": {"nodeName": "n1", "containers": [{"name": "c", "image": "x"}]},
     "status": {"podIP": POD_IP, "hostIP": INTERNAL}},
    {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"},
     "status": {"addresses": [{"type": "InternalIP", "address": INTERNAL},
                              {"type": "ExternalIP", "address": EXTERNAL},
                              {"type": "Hostname", "address": "n1"}]}},
    {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
     "metadata": {"name": "deny", "namespace": "default"},
     "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}},
]


@dataclass(frozen=True, slots=True)
class Net:
    node: str
    pod: str
    external: str  # holds the ExternalIP, beyond the node
    stranger: str  # holds an address that is nobody's


def _setup(net: Net, topology: str) -> None:
    for ns in (net.node, net.pod, net.external, net.stranger):
        subprocess.run(["ip", "netns", "add", ns], check=True)
    set_sysctls(net.node, {"net.ipv4.ip_forward": "1"})
    node = ["link set lo up", f"addr add {INTERNAL}/32 dev lo",
            f"link add pod0 type veth peer name eth0 netns {net.pod}"]
    if topology == "bridge":
        set_sysctls(net.node, {"net.bridge.bridge-nf-call-iptables": "1"})
        # The node speaks to its pods from its InternalIP (the listeners' replies too).
        node += ["link add br0 type bridge", f"addr add {GATEWAY}/24 dev br0",
                 "link set br0 up", "link set pod0 master br0 up",
                 f"route replace 10.244.0.0/24 dev br0 src {INTERNAL}"]
    else:  # routed: the pod is a /32 behind its own veth
        node += [f"addr add {GATEWAY}/32 dev pod0", "link set pod0 up",
                 f"route add {POD_IP}/32 dev pod0 src {INTERNAL}"]
    outside: dict[str, list[str]] = {}
    for n, (ns, address) in enumerate(((net.external, EXTERNAL),
                                       (net.stranger, STRANGER))):
        near, far = f"192.168.{77 + n}.1", f"192.168.{77 + n}.2"
        node += [f"link add up{n} type veth peer name eth0 netns {ns}",
                 f"addr add {near}/30 dev up{n}", f"link set up{n} up",
                 f"route add {address}/32 via {far}"]
        outside[ns] = ["link set lo up", f"addr add {address}/32 dev lo", "link set eth0 up",
                       f"addr add {far}/30 dev eth0",
                       # Answers and probes from here carry the outside address.
                       f"route add 10.244.0.0/16 via {near} src {address}"]
    ip_batch(node, netns=net.node)
    for ns, commands in outside.items():
        ip_batch(commands, netns=ns)
    route = (f"route add default via {GATEWAY}" if topology == "bridge"
             else f"route add default via {GATEWAY} dev eth0 onlink")
    ip_batch(["link set lo up", f"addr add {POD_IP}/24 dev eth0", "link set eth0 up", route],
             netns=net.pod)


@pytest.fixture(params=["bridge", "routed"])
def net(request: pytest.FixtureRequest) -> Iterator[tuple[Net, str]]:
    tag = f"stk-own{os.getpid() % 100000}{request.param[0]}"
    names = Net(f"{tag}-node", f"{tag}-p0", f"{tag}-ext", f"{tag}-str")
    try:
        _setup(names, str(request.param))
        yield names, str(request.param)
    finally:
        for ns in (names.node, names.pod, names.external, names.stranger):
            subprocess.run(["ip", "netns", "del", ns], check=False, capture_output=True)


def _engine() -> Engine:
    result = build_cluster([RawObject(m, Origin("own-node", i + 1))
                            for i, m in enumerate(MANIFESTS)])
    assert not result.findings
    return Engine(result.cluster)


def _outcomes(net: Net) -> dict[tuple[str, str, str], str]:
    pod = Target("default/app", net.pod, (POD_IP,))
    node = Target(INTERNAL, net.node, (INTERNAL,))
    external = Target(EXTERNAL, net.external, (EXTERNAL,))
    stranger = Target(STRANGER, net.stranger, (STRANGER,))
    pairs = [(pod, node), (pod, external), (pod, stranger),
             (node, pod), (external, pod), (stranger, pod)]
    probes = probe_all([pod, node, external, stranger], PORTS, pairs=pairs, timeout=TIMEOUT)
    return {(p.src, p.dst, p.protocol): p.outcome for p in probes}


def _plumbing_works(net: Net) -> None:
    """Before any ruleset: every probe passes, so a drop later is the ruleset's. The first
    round also resolves the neighbours; a busy machine gets two more tries."""
    for _ in range(3):
        outcomes = _outcomes(net)
        if set(outcomes.values()) == {REACHABLE}:
            return
    raise AssertionError(f"the plumbing drops packets with no ruleset loaded: {outcomes}")


def test_packets_to_and_from_the_own_node_agree_with_the_engine(
        net: tuple[Net, str]) -> None:
    names, _ = net
    _plumbing_works(names)
    engine = _engine()
    NftRunner(names.node).run(render_replace(compile_engine(engine, table="stk_own").table))
    outcomes = _outcomes(names)
    for (src, dst, protocol), outcome in outcomes.items():
        allowed = engine.allowed(src, dst, Protocol(protocol), 80)
        assert (outcome == REACHABLE) == allowed, (src, dst, protocol, outcome)
    assert outcomes[("default/app", EXTERNAL, "TCP")] == REACHABLE
    assert outcomes[(EXTERNAL, "default/app", "UDP")] == REACHABLE
    assert outcomes[("default/app", STRANGER, "TCP")] == DROPPED
    assert outcomes[(STRANGER, "default/app", "TCP")] == DROPPED


def test_only_addresses_beyond_the_node_cross_forward(net: tuple[Net, str]) -> None:
    """Compiled without the own-node pairs, the node's own address still passes (input,
    output) while its translated ExternalIP, routed through forward, is dropped."""
    names, _ = net
    _plumbing_works(names)
    engine = _engine()
    rules = {d: {"default/app": engine.pod_rules("default/app", d)} for d in PolicyType}
    table = compile_ruleset(engine.pods, rules[PolicyType.INGRESS], rules[PolicyType.EGRESS],
                            table="stk_own").table
    assert "own_node" not in render_replace(table)
    NftRunner(names.node).run(render_replace(table))
    outcomes = _outcomes(names)
    for protocol in ("TCP", "UDP"):
        assert outcomes[("default/app", INTERNAL, protocol)] == REACHABLE
        assert outcomes[(INTERNAL, "default/app", protocol)] == REACHABLE
        assert outcomes[("default/app", EXTERNAL, protocol)] == DROPPED
        assert outcomes[(EXTERNAL, "default/app", protocol)] == DROPPED
