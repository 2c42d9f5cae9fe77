"""Properties of cluster-wide policies (adminnetworkpolicy.md §3, §4) on random small
clusters, and the differential oracle: the engine against ``benchmarks/reference.py``, an
independent pair-by-pair evaluator of the tiers, fed the very same manifest dicts."""

from __future__ import annotations

import copy
from typing import Any

import strategies as gen
from benchmarks.reference import ReferenceCluster
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stockade.engine import Engine
from stockade.engine.matrix import connectivity, port_reachability, reachable_pods
from stockade.engine.traffic import Traffic
from stockade.model.types import PolicyType, Protocol

FAST = settings(max_examples=100, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
Manifests = list[dict[str, Any]]
ALL_NAMESPACES: dict[str, Any] = {"namespaces": {}}


def texts(manifests: Manifests) -> dict[tuple[str, str], str]:
    engine = gen.engine_of(manifests)
    matrix = connectivity(engine)
    keys = [p.key for p in engine.pods]
    return {(keys[i], keys[j]): matrix.between_pods(i, j)
            for i in range(len(keys)) for j in range(len(keys))}


def cnp(name: str, tier: str, priority: int, **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "policy.networking.k8s.io/v1alpha2", "kind": "ClusterNetworkPolicy",
            "metadata": {"name": name},
            "spec": {"tier": tier, "priority": priority, "subject": ALL_NAMESPACES, **spec}}


@FAST
@given(gen.clusters(max_cluster_policies=4))
def test_engine_equals_reference_evaluator(manifests: Manifests) -> None:
    engine = gen.engine_of(manifests)
    reference = ReferenceCluster.from_dicts(copy.deepcopy(manifests))
    matrix = connectivity(engine)
    keys = [p.key for p in engine.pods]
    ports = gen.boundary_ports(manifests)
    for i, src in enumerate(keys):
        for j, dst in enumerate(keys):
            expected = reference.connections(src, dst)
            assert matrix.between_pods(i, j) == expected, (src, dst)
            for proto in Protocol:
                for port in ports[::7]:
                    assert engine.allowed(src, dst, proto, port) == reference.allowed(
                        src, dst, proto.value, port), (src, dst, proto, port)


@FAST
@given(gen.clusters(max_cluster_policies=4), st.sampled_from(list(Protocol)))
def test_matrix_agrees_with_evaluate(manifests: Manifests, proto: Protocol) -> None:
    engine = gen.engine_of(manifests)
    for port in gen.boundary_ports(manifests)[::5]:
        allowed = port_reachability(engine, proto, port)
        for src in range(len(engine.pods)):
            reached = set(reachable_pods(engine, allowed, src))
            for dst in range(len(engine.pods)):
                verdict = engine.allowed(engine.pods[src].key, engine.pods[dst].key, proto, port)
                assert (dst in reached) == verdict


@FAST
@given(gen.clusters(max_policies=3), st.data())
def test_cluster_policies_selecting_nobody_change_nothing(manifests: Manifests,
                                                          data: st.DataObject) -> None:
    """With no cluster policy that applies, every answer is NetworkPolicy's alone."""
    nobody = {"namespaces": {"matchLabels": {"kubernetes.io/metadata.name": "nowhere"}}}
    added = [data.draw(gen.cluster_policies(f"idle{i}")) for i in range(2)]
    for policy in added:
        policy["spec"]["subject"] = nobody
    assert texts(manifests) == texts(manifests + added)


@FAST
@given(gen.clusters(max_cluster_policies=4))
def test_a_deny_at_the_lowest_priority_wins_over_everything(manifests: Manifests) -> None:
    deny = cnp("aaaa-deny-first", "Admin", 0,
               ingress=[{"action": "Deny", "from": [{"namespaces": {}}]}])
    engine = gen.engine_of([*manifests, deny])
    for i, src in enumerate(engine.pods):
        for j, dst in enumerate(engine.pods):
            if i == j or src.host_network or dst.host_network or engine.node_traffic(i, j):
                continue  # itself, node traffic: never subject to cluster policies
            for proto in Protocol:
                assert not engine.allowed(src.key, dst.key, proto, 80)


@FAST
@given(gen.clusters(max_policies=0), st.data())
def test_pass_with_no_networkpolicy_and_no_baseline_allows(manifests: Manifests,
                                                           data: st.DataObject) -> None:
    policies = [data.draw(gen.cluster_policies(f"p{i}", kind="ClusterNetworkPolicy"))
                for i in range(3)]
    for policy in policies:
        policy["spec"]["tier"] = "Admin"
        for direction in ("ingress", "egress"):
            for rule in policy["spec"].get(direction, []):
                rule["action"] = "Pass"
                rule["to" if direction == "egress" else "from"] = [
                    p for p in rule["to" if direction == "egress" else "from"]
                    if "futurePeer" not in p] or [{"namespaces": {}}]
    assert set(texts(manifests + policies).values()) == {"all"}


@FAST
@given(gen.clusters(min_policies=1, max_cluster_policies=3), st.data())
def test_a_baseline_rule_never_changes_a_side_networkpolicy_isolates(
        manifests: Manifests, data: st.DataObject) -> None:
    before = gen.engine_of(manifests)
    extra = data.draw(gen.cluster_policies("zz-baseline", kind="ClusterNetworkPolicy"))
    extra["spec"]["tier"] = "Baseline"
    after = gen.engine_of([*manifests, extra])
    for src in before.pods:
        for dst in before.pods:
            if src is dst:
                continue
            for proto in Protocol:
                t_before = Traffic(before.endpoint(src.key), before.endpoint(dst.key), proto, 80)
                t_after = Traffic(after.endpoint(src.key), after.endpoint(dst.key), proto, 80)
                v_before, v_after = before.evaluate(t_before), after.evaluate(t_after)
                for side in (PolicyType.EGRESS, PolicyType.INGRESS):
                    b = v_before.egress if side is PolicyType.EGRESS else v_before.ingress
                    a = v_after.egress if side is PolicyType.EGRESS else v_after.ingress
                    if b.isolated:
                        assert a.allowed == b.allowed, (src.key, dst.key, proto, side)


def _to_v1alpha2(policy: dict[str, Any]) -> dict[str, Any]:
    """An AdminNetworkPolicy or BaselineAdminNetworkPolicy as the ClusterNetworkPolicy that
    means the same (adminnetworkpolicy.md §5)."""
    if policy["kind"] == "ClusterNetworkPolicy":
        return policy
    spec = copy.deepcopy(policy["spec"])
    banp = policy["kind"] == "BaselineAdminNetworkPolicy"
    out: dict[str, Any] = {"tier": "Baseline" if banp else "Admin",
                           "priority": 1000 if banp else spec.pop("priority"),
                           "subject": spec["subject"]}
    for direction in ("ingress", "egress"):
        rules = []
        for rule in spec.get(direction, []):
            new = {k: v for k, v in rule.items() if k != "ports"}
            new["action"] = "Accept" if rule["action"] == "Allow" else rule["action"]
            if "ports" in rule:
                new["protocols"] = [_protocol(entry) for entry in rule["ports"]]
            rules.append(new)
        if direction in spec:
            out[direction] = rules
    name = "zzzz-banp" if banp else policy["metadata"]["name"]
    return {"apiVersion": "policy.networking.k8s.io/v1alpha2", "kind": "ClusterNetworkPolicy",
            "metadata": {"name": name}, "spec": out}


def _protocol(entry: dict[str, Any]) -> dict[str, Any]:
    if "namedPort" in entry:
        return {"destinationNamedPort": entry["namedPort"]}
    if "portNumber" in entry:
        number = entry["portNumber"]
        return {number["protocol"].lower(): {"destinationPort": {"number": number["port"]}}}
    span = entry["portRange"]
    return {span["protocol"].lower(): {"destinationPort": {"range": {
        "start": span["start"], "end": span["end"]}}}}


@FAST
@given(gen.clusters(max_cluster_policies=4))
def test_v1alpha1_means_what_its_v1alpha2_translation_means(manifests: Manifests) -> None:
    names = [m["metadata"]["name"] for m in manifests if m["kind"] == "AdminNetworkPolicy"]
    taken = {m["metadata"]["name"] for m in manifests if m["kind"] == "ClusterNetworkPolicy"}
    if set(names) & taken:
        return  # an ANP and a CNP of one name: the translation would collide
    translated = [_to_v1alpha2(m) if "policy.networking.k8s.io" in m["apiVersion"] else m
                  for m in manifests]
    assert texts(manifests) == texts(translated)


def test_engine_of_is_the_validated_path() -> None:
    assert isinstance(gen.engine_of([]), Engine)
