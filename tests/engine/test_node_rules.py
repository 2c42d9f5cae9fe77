"""``NodeRules`` follows objects one change at a time and must always say what an engine
built from scratch over the same objects says: the rules of every pod of the node, their
peers, the pods' addresses and the node's own addresses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hypothesis import given, settings
from msgspec.structs import replace
from node_history import (
    NODE,
    Ident,
    Manifest,
    Step,
    decode,
    engine_over,
    histories,
    ident,
    load,
    replay,
)

from stockade.engine.node_rules import DIRECTIONS, NodeRules
from stockade.model.types import Namespace, Pod, PolicyType


def _agree(rules: NodeRules, objects: Mapping[Ident, Manifest]) -> None:
    engine = engine_over(objects)
    local = {p.key for p in engine.pods if p.spec.node_name == NODE and not p.host_network}
    assert rules.local == local
    owners: dict[object, list[str]] = {}
    for pod in engine.pods:
        if not pod.host_network:
            for addr in engine._addresses[engine._by_key[pod.key]]:
                owners.setdefault(addr, []).append(pod.key)
    for index, pod in enumerate(engine.pods):
        if pod.key not in local:
            continue
        for direction in DIRECTIONS:
            want = engine.pod_rules(pod.key, direction)
            assert rules.pod_rules(pod.key, direction) == want, (pod.key, direction)
        assert rules.own_addresses(pod.key) == engine.nodes.own(index), pod.key
        if all(len(owners[a]) == 1 for a in engine._addresses[index]):
            assert rules.addresses(pod.key) == engine._addresses[index]


@settings(max_examples=300, deadline=None)
@given(histories())
def test_node_rules_agree_with_an_engine_after_every_change(
        history: tuple[list[Manifest], list[Step]]) -> None:
    start, steps = history
    objects = {ident(m): m for m in start}
    rules = NodeRules(NODE)
    load(rules, objects)
    _agree(rules, objects)
    for step in steps:
        replay(rules, objects, step)
        _agree(rules, objects)


def test_changes_say_what_they_touched() -> None:
    ns = Namespace(decode({"apiVersion": "v1", "kind": "Namespace",
                            "metadata": {"name": "x", "labels": {"env": "prod"}}}).metadata)
    policy = decode({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                      "metadata": {"name": "db", "namespace": "x"},
                      "spec": {"podSelector": {"matchLabels": {"app": "db"}},
                               "ingress": [{"from": [{"namespaceSelector": {
                                   "matchLabels": {"env": "prod"}}}]}]}})

    def pod(name: str, app: str, node: str, ip: str) -> Pod:
        found = decode({"apiVersion": "v1", "kind": "Pod",
                         "metadata": {"name": name, "namespace": "x", "labels": {"app": app}},
                         "spec": {"nodeName": node, "containers": [{"name": "c"}]},
                         "status": {"podIP": ip}})
        assert isinstance(found, Pod)
        return found

    rules = NodeRules("n1")
    rules.load([pod("db", "db", "n1", "10.0.0.1")], [ns], [policy], [])
    assert rules.pod_rules("x/db", PolicyType.INGRESS).rules[0].peers.pods == {"x/db"}
    # A pod elsewhere that the peer matches: a peer change only.
    touched = rules.set_pod("x/web", pod("web", "web", "n2", "10.0.0.2"))
    assert touched.peers == {"x/web"} and not touched.subjects
    assert rules.pod_rules("x/db", PolicyType.INGRESS).rules[0].peers.pods == {"x/db", "x/web"}
    # Its namespace loses the label: both pods leave the peer.
    touched = rules.set_namespace("x", Namespace(replace(ns.metadata, labels=())))
    assert touched.peers == {"x/db", "x/web"}
    assert rules.pod_rules("x/db", PolicyType.INGRESS).rules[0].peers.pods == frozenset()
    # The policy goes: the node's pod is no longer isolated.
    touched = rules.set_policy("x/db", None)
    assert touched.subjects == {"x/db"}
    assert not rules.pod_rules("x/db", PolicyType.INGRESS).isolated
    # A second pod takes the first one's address: the later one owns it.
    touched = rules.set_pod("x/other", pod("other", "web", "n1", "10.0.0.1"))
    assert rules.addresses("x/db") == () and len(rules.addresses("x/other")) == 1
    assert {"x/db", "x/other"} <= touched.peers and {"x/db", "x/other"} <= touched.subjects
    touched = rules.set_pod("x/other", None)
    assert len(rules.addresses("x/db")) == 1 and "x/db" in touched.peers


def test_a_nodes_peer_follows_the_nodes() -> None:
    """A cluster rule's ``nodes`` peer is the selected Nodes' addresses: a Node that gains
    the label (or an address) changes the rule for the pods it applies to."""
    web = decode({"apiVersion": "v1", "kind": "Pod",
                  "metadata": {"name": "web", "namespace": "x", "labels": {"app": "web"}},
                  "spec": {"nodeName": "n1", "containers": [{"name": "c"}]},
                  "status": {"podIP": "10.0.0.1"}})
    policy = decode({"apiVersion": "policy.networking.k8s.io/v1alpha2",
                     "kind": "ClusterNetworkPolicy", "metadata": {"name": "to-infra"},
                     "spec": {"tier": "Admin", "priority": 1,
                              "subject": {"namespaces": {}},
                              "egress": [{"action": "Deny",
                                          "to": [{"nodes": {"matchLabels": {
                                              "pool": "infra"}}}]}]}})

    def node(labels: dict[str, str]) -> Any:
        return decode({"apiVersion": "v1", "kind": "Node",
                       "metadata": {"name": "n2", "labels": labels},
                       "status": {"addresses": [{"type": "InternalIP",
                                                 "address": "10.9.0.2"}]}})

    rules = NodeRules("n1")
    rules.load([web], [], [], [node({})], [policy])
    admin = rules.pod_rules("x/web", PolicyType.EGRESS).admin
    assert admin[0].peers.blocks == ()
    touched = rules.set_node("n2", node({"pool": "infra"}))
    assert touched.subjects == {"x/web"}
    admin = rules.pod_rules("x/web", PolicyType.EGRESS).admin
    assert [str(b.network) for b in admin[0].peers.blocks] == ["10.9.0.2/32"]
    assert not rules.set_node("n2", node({"pool": "infra"})).subjects  # nothing new
