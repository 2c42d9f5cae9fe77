"""From watch events and lists to the node's rules: a relist is applied as the differences
it holds; a finished pod (Succeeded, Failed) is gone, and its address free for the next; an
object stockade's validation objects to is still enforced, and said so."""

from __future__ import annotations

from typing import Any

from stockade.agent.objects import Objects
from stockade.engine.node_rules import NodeRules
from stockade.model.build import RawObject
from stockade.model.types import Origin, PolicyType


def _raw(data: dict[str, Any], version: str = "1") -> RawObject:
    data = {**data, "metadata": {**data["metadata"], "resourceVersion": version}}
    return RawObject(data, Origin("api"))


def _pod(name: str, ip: str, phase: str = "Running", *, node: str = "n1",
         labels: dict[str, str] | None = None, version: str = "1") -> RawObject:
    return _raw({"apiVersion": "v1", "kind": "Pod",
                 "metadata": {"name": name, "namespace": "x", "labels": labels or {}},
                 "spec": {"nodeName": node, "containers": [{"name": "c"}]},
                 "status": {"phase": phase, "podIP": ip}}, version)


def _policy(version: str = "1", port: Any = 80) -> RawObject:
    return _raw({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                 "metadata": {"name": "p", "namespace": "x"},
                 "spec": {"podSelector": {}, "ingress": [{"ports": [{"port": port}]}]}},
                version)


def test_a_finished_pod_is_gone_and_its_address_free() -> None:
    objects = Objects(NodeRules("n1"))
    objects.load({"Pod": [_pod("old", "10.0.0.5", "Succeeded"), _pod("new", "10.0.0.5")]})
    assert set(objects.rules.pods) == {"x/new"}
    assert [str(a) for a in objects.rules.addresses("x/new")] == ["10.0.0.5"]
    touched = objects.changed("Pod", "MODIFIED", _pod("new", "10.0.0.5", "Failed", version="2"))
    assert "x/new" in touched.subjects and "x/new" not in objects.rules.pods


def test_a_relist_is_applied_as_its_differences() -> None:
    objects = Objects(NodeRules("n1"))
    objects.load({"Pod": [_pod("a", "10.0.0.1"), _pod("b", "10.0.0.2")],
                  "NetworkPolicy": [_policy()]})
    # b went while nobody watched; c came; a is unchanged (same resourceVersion).
    touched = objects.relisted("Pod", [_pod("a", "10.0.0.1"), _pod("c", "10.0.0.3")])
    assert touched.peers == {"x/b", "x/c"}
    assert set(objects.rules.pods) == {"x/a", "x/c"}
    assert not objects.relisted("Pod", [_pod("a", "10.0.0.1"), _pod("c", "10.0.0.3")])
    touched = objects.relisted("NetworkPolicy", [_policy("2", 443)])
    assert touched.subjects == {"x/a", "x/c"}
    rules = objects.rules.pod_rules("x/a", PolicyType.INGRESS).rules
    assert rules[0].ports is not None and rules[0].ports[0].first == 443


def test_an_object_validation_refuses_is_enforced_and_reported() -> None:
    objects = Objects(NodeRules("n1"))
    objects.load({"Pod": [_pod("a", "10.0.0.1")], "NetworkPolicy": [_policy(port=0)]})
    problems = objects.take_problems()
    assert problems and "NetworkPolicy x/p" in problems[0]
    assert objects.rules.pod_rules("x/a", PolicyType.INGRESS).isolated
    assert objects.take_problems() == []


ANP: dict[str, Any] = {
    "apiVersion": "policy.networking.k8s.io/v1alpha1", "kind": "AdminNetworkPolicy",
    "metadata": {"name": "deny-x"},
    "spec": {"priority": 10, "subject": {"namespaces": {}},
             "ingress": [{"name": "none", "action": "Deny", "from": [{"namespaces": {}}]}]}}


def test_cluster_wide_policies_are_followed_and_a_broken_one_reported() -> None:
    rules = NodeRules("n1")
    objects = Objects(rules)
    objects.load({"Pod": [_pod("web", "10.0.0.1")], "AdminNetworkPolicy": [_raw(ANP)]})
    assert [r.policy for r in rules.pod_rules("x/web", PolicyType.INGRESS).admin] == [
        "AdminNetworkPolicy/deny-x"]
    # Changed to a priority no Admin policy may have: not valid, so not enforced, and said.
    broken = {**ANP, "spec": {**ANP["spec"], "priority": 1001}}
    touched = objects.changed("AdminNetworkPolicy", "MODIFIED", _raw(broken, "2"))
    assert touched.subjects == {"x/web"}
    assert rules.pod_rules("x/web", PolicyType.INGRESS).admin == ()
    problems = objects.take_problems()
    assert any("AdminNetworkPolicy deny-x" in p and "priority" in p for p in problems)
    assert any("not enforced" in p for p in problems)
    objects.changed("AdminNetworkPolicy", "MODIFIED", _raw(ANP, "3"))
    assert rules.pod_rules("x/web", PolicyType.INGRESS).admin
    objects.changed("AdminNetworkPolicy", "DELETED", _raw(ANP, "4"))
    assert rules.pod_rules("x/web", PolicyType.INGRESS).admin == ()
