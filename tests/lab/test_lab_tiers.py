"""Shared tier stages in real packets (root): rule groups whose Admin or Baseline rules are
the same use one chain and one verdict map per tier, and a packet must still get the
engine's verdict whatever group it starts in.

One lab of dual-stack pods (some IPv4 first, some IPv6 first, one IPv4 only, so that
connections of both families are probed) in two namespaces; each example replaces its
policies (``lab apply``): NetworkPolicies that make the pods of each app a rule group of its
own, and cluster-wide policies selecting all or some of them, with Accept, Deny and Pass
rules in both directions, so that several groups share each tier's stage. Every pod then
probes every pod on TCP 80, TCP 22 and UDP 53, and the packets must agree with the engine.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from lab_support import leftovers

from stockade.lab import lifecycle, measure
from stockade.model.build import RawObject
from stockade.model.types import Origin
from stockade.nft.compile import compile_engine
from stockade.nft.ir import Table
from stockade.sources.files import parse_text

pytestmark = pytest.mark.lab

Manifest = dict[str, Any]

BASE = """
apiVersion: v1
kind: Namespace
metadata: {name: a, labels: {team: x}}
---
apiVersion: v1
kind: Namespace
metadata: {name: b, labels: {team: 'y'}}
""" + "".join(f"""---
apiVersion: v1
kind: Pod
metadata: {{name: {name}, namespace: {ns}, labels: {{app: {app}}}}}
spec: {{containers: [{{name: c, ports: [{{containerPort: 80, name: http}},
  {{containerPort: 22}}, {{containerPort: 53, protocol: UDP}}]}}]}}
status: {{podIPs: [{", ".join(f'{{ip: "{ip}"}}' for ip in ips)}]}}
""" for name, ns, app, ips in (
    ("web1", "a", "web", ("10.77.1.1", "fd00:77::1:1")),
    ("web2", "a", "web", ("fd00:77::1:2", "10.77.1.2")),
    ("db", "a", "db", ("10.77.1.3", "fd00:77::1:3")),
    ("job", "b", "job", ("fd00:77::2:1", "10.77.2.1")),
    ("cli", "b", "cli", ("10.77.2.2",)),
))
APPS = ("web", "db", "job", "cli")
PORTS = [(80, "TCP"), (22, "TCP"), (53, "UDP")]
CLUSTER_API = "policy.networking.k8s.io/v1alpha2"

ports_of = st.sampled_from([None, [{"tcp": {"destinationPort": {"number": 80}}}],
                            [{"tcp": {"destinationPort": {"range": {"start": 20,
                                                                    "end": 80}}}}],
                            [{"udp": {"destinationPort": {"number": 53}}}]])
selected = st.sampled_from([{}, {"matchLabels": {"team": "x"}}, {"matchLabels": {"team": "y"}}])
pod_peers = st.builds(lambda ns, app: {"pods": {"namespaceSelector": ns, "podSelector": (
    {"matchLabels": {"app": app}} if app else {})}}, selected,
    st.sampled_from(["", *APPS]))
namespace_peers = st.builds(lambda ns: {"namespaces": ns}, selected)
network_peers = st.sampled_from([{"networks": ["10.77.1.0/24"]},
                                 {"networks": ["fd00:77::1:0/112"]},
                                 {"networks": ["10.77.2.0/24", "fd00:77::2:0/112"]},
                                 {"networks": ["0.0.0.0/0", "::/0"]}])


@st.composite
def cluster_rule(draw: st.DrawFn, direction: str) -> Manifest:
    peers = st.one_of(pod_peers, namespace_peers, *(
        [network_peers] if direction == "egress" else []))
    rule: Manifest = {"action": draw(st.sampled_from(["Accept", "Deny", "Pass"])),
                      "from" if direction == "ingress" else "to": draw(
                          st.lists(peers, min_size=1, max_size=2))}
    protocols = draw(ports_of)
    if protocols is not None:
        rule["protocols"] = protocols
    return rule


@st.composite
def cluster_policy(draw: st.DrawFn, name: str, tier: str, subject: Manifest) -> Manifest:
    spec: Manifest = {"tier": tier, "priority": draw(st.integers(0, 3)), "subject": subject}
    for direction in ("ingress", "egress"):
        spec[direction] = draw(st.lists(cluster_rule(direction), min_size=1, max_size=3))
    return {"apiVersion": CLUSTER_API, "kind": "ClusterNetworkPolicy",
            "metadata": {"name": name}, "spec": spec}


@st.composite
def network_policy(draw: st.DrawFn, app: str) -> Manifest:
    """A NetworkPolicy of its own for the pods of ``app``: each a rule group apart."""
    types = draw(st.sampled_from([["Ingress"], ["Egress"], ["Ingress", "Egress"]]))
    spec: Manifest = {"podSelector": {"matchLabels": {"app": app}}, "policyTypes": types}
    peer = st.sampled_from([{"podSelector": {}}, {"namespaceSelector": {}},
                            {"ipBlock": {"cidr": "10.77.0.0/16"}},
                            {"ipBlock": {"cidr": "fd00:77::/64"}}])
    port = st.sampled_from([[{"port": 80}], [{"port": 53, "protocol": "UDP"}],
                            [{"port": "http"}]])
    for direction, side in (("Ingress", "from"), ("Egress", "to")):
        if direction in types:
            spec[direction.lower()] = draw(st.lists(st.fixed_dictionaries(
                {side: st.lists(peer, min_size=1, max_size=2), "ports": port}), max_size=2))
    namespace = "a" if app in ("web", "db") else "b"
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": app, "namespace": namespace}, "spec": spec}


@st.composite
def policy_sets(draw: st.DrawFn) -> list[Manifest]:
    """An Admin and a Baseline policy over every pod (their stages shared by the groups),
    NetworkPolicies for some apps, and maybe policies over one namespace in either tier
    (which split the pods NetworkPolicy leaves open into groups that share the rest)."""
    everyone: Manifest = {"namespaces": {}}
    out = [draw(cluster_policy("admin-all", "Admin", everyone)),
           draw(cluster_policy("baseline-all", "Baseline", everyone))]
    for app in draw(st.lists(st.sampled_from(APPS), unique=True, max_size=3)):
        out.append(draw(network_policy(app)))
    for i in range(draw(st.integers(0, 2))):
        subject = {"namespaces": {"matchLabels": {"team": draw(st.sampled_from(["x", "y"]))}}}
        out.append(draw(cluster_policy(f"some{i}", draw(st.sampled_from(["Admin", "Baseline"])),
                                       subject)))
    return out


@pytest.fixture(scope="module")
def tiers_lab() -> Iterator[lifecycle.Lab]:
    name = f"tt{os.getpid() % 100000}"
    try:
        yield lifecycle.up(parse_text(BASE, "tiers-base.yaml"), name)
    finally:
        lifecycle.down(name)
        assert leftovers(name) == []


def _accept(action: str, to: Manifest, ports: Any = None) -> Manifest:
    rule: Manifest = {"action": action, "to": [to]}
    if ports is not None:
        rule["protocols"] = ports
    return rule


TCP80 = [{"tcp": {"destinationPort": {"number": 80}}}]
EVERY_POD: Manifest = {"pods": {"namespaceSelector": {}, "podSelector": {}}}
SHARED_EXAMPLE = [
    {"apiVersion": CLUSTER_API, "kind": "ClusterNetworkPolicy",
     "metadata": {"name": "admin-all"},
     "spec": {"tier": "Admin", "priority": 1, "subject": {"namespaces": {}},
              "ingress": [{"action": "Deny", "from": [{"pods": {"namespaceSelector": {},
                                                                "podSelector": {"matchLabels": {
                                                                    "app": "cli"}}}}]},
                          {"action": "Pass", "from": [EVERY_POD], "protocols": TCP80},
                          {"action": "Accept", "from": [{"namespaces": {
                              "matchLabels": {"team": "y"}}}]}],
              "egress": [_accept("Accept", {"networks": ["fd00:77::1:0/112"]}, TCP80),
                         _accept("Pass", {"networks": ["10.77.1.0/24"]}),
                         _accept("Deny", {"networks": ["0.0.0.0/0", "::/0"]},
                                 [{"udp": {"destinationPort": {"number": 53}}}])]}},
    {"apiVersion": CLUSTER_API, "kind": "ClusterNetworkPolicy",
     "metadata": {"name": "baseline-all"},
     "spec": {"tier": "Baseline", "priority": 1, "subject": {"namespaces": {}},
              "ingress": [{"action": "Accept", "from": [EVERY_POD], "protocols": TCP80},
                          {"action": "Deny", "from": [{"namespaces": {}}]}],
              "egress": [_accept("Pass", {"networks": ["10.77.2.0/24"]}),
                         _accept("Deny", {"networks": ["10.77.0.0/16", "fd00:77::/64"]})]}},
    {"apiVersion": CLUSTER_API, "kind": "ClusterNetworkPolicy",
     "metadata": {"name": "some0"},
     "spec": {"tier": "Admin", "priority": 2,
              "subject": {"namespaces": {"matchLabels": {"team": "y"}}},
              "ingress": [{"action": "Accept", "from": [{"namespaces": {
                  "matchLabels": {"team": "x"}}}], "protocols": [{"tcp": {
                      "destinationPort": {"number": 22}}}]}],
              "egress": [_accept("Deny", EVERY_POD, [{"tcp": {"destinationPort": {
                  "number": 22}}}])]}},
    {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
     "metadata": {"name": "web", "namespace": "a"},
     "spec": {"podSelector": {"matchLabels": {"app": "web"}},
              "policyTypes": ["Egress"],
              "egress": [{"to": [{"ipBlock": {"cidr": "fd00:77::/64"}}],
                          "ports": [{"port": 80}]}]}},
    {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
     "metadata": {"name": "db", "namespace": "a"},
     "spec": {"podSelector": {"matchLabels": {"app": "db"}}, "policyTypes": ["Ingress"],
              "ingress": [{"from": [{"namespaceSelector": {}}], "ports": [{"port": "http"}]}]}},
]


@settings(max_examples=25, deadline=None, suppress_health_check=[
    HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@example(policies=SHARED_EXAMPLE)
@given(policies=policy_sets())
def test_shared_tier_stages_give_the_engines_verdicts_in_packets(
        policies: list[Manifest], tiers_lab: lifecycle.Lab) -> None:
    raws = [RawObject(m, Origin("generated", i + 1)) for i, m in enumerate(policies)]
    engine = lifecycle.apply(tiers_lab.state.name, raws)
    m = measure.measure(tiers_lab.state, engine, PORTS, timeout=0.2)
    shown = yaml.safe_dump_all(policies)
    assert m.plumbing == (), shown
    assert m.mismatches == (), shown
    shared = _sharing(compile_engine(engine).table)
    event(f"stages shared by several groups: {sorted(k for k, n in shared.items() if n > 1)}")
    if policies is SHARED_EXAMPLE:
        assert all(shared[f"{d}_{t}_0"] >= 2 for d in ("egress", "ingress")
                   for t in ("admin", "baseline")), shared


def _sharing(table: Table) -> Counter[str]:
    """How many rule groups use each shared stage."""
    found: Counter[str] = Counter()
    for chain in table.chains:
        for rule in chain.rules:
            verb, _, target = rule.partition(" ")
            if verb in ("jump", "goto") and ("_admin_" in target or "_baseline_" in target):
                found[target] += 1
    return found
