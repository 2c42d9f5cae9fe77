"""``redundant-rule`` and ``redundant-policy`` against the reference evaluator.

For random small clusters, lint's verdicts must agree with brute force: remove the rule (or
the policy) and ask the pair-by-pair reference evaluator (``benchmarks/reference.py``, no
code shared with the engine) whether any connection changed, between the pods and to and
from addresses outside them (host-network stand-ins without a node at addresses no pod
has: the reference matches those by ipBlock only and applies no policy of their own).
Redundancy is one-sided (the rules of the side the policy isolates), so each direction is
judged on the cluster with only that direction's policies.
"""

from __future__ import annotations

import copy
import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any

from benchmarks.reference import ReferenceCluster, selector_matches
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import HOSTS, clusters, defaulted_types

from stockade.lint import lint
from stockade.model.build import RawObject, build_cluster
from stockade.model.types import Origin

Manifest = dict[str, Any]
FIELDS = {"Ingress": ("ingress", "from"), "Egress": ("egress", "to")}
OUTSIDE = ("10.0.0.16", "10.0.0.64", "10.0.1.0", "10.1.0.0", "11.0.0.0", "9.255.255.255",
           "2001:db8::1")
# What lint assumes every cluster runs: kube-dns in kube-system.
KUBE_DNS: Manifest = {
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {"name": "kube-dns", "namespace": "kube-system",
                 "labels": {"k8s-app": "kube-dns"}},
    "spec": {"containers": [{"name": "coredns", "image": "coredns", "ports": [
        {"name": "dns", "containerPort": 53, "protocol": "UDP"},
        {"name": "dns-tcp", "containerPort": 53, "protocol": "TCP"},
        {"name": "metrics", "containerPort": 9153}]}]},
}


def _lint(manifests: list[Manifest]) -> tuple[set[tuple[str, str]], set[str]]:
    raws = [RawObject(copy.deepcopy(m), Origin("gen", i + 1)) for i, m in enumerate(manifests)]
    result = build_cluster(raws)
    assert not result.findings
    report = lint(result.cluster, enabled={"redundant-rule", "redundant-policy"})
    rules = {(f"{f.namespace}/{f.name}", f.path) for f in report.findings
             if f.check == "redundant-rule"}
    policies = {f"{f.namespace}/{f.name}" for f in report.findings
                if f.check == "redundant-policy"}
    return rules, policies


def _key(m: Mapping[str, Any]) -> str:
    return f"{m['metadata']['namespace']}/{m['metadata']['name']}"


def _one_side(manifests: list[Manifest], direction: str) -> list[Manifest]:
    """The cluster with only ``direction``'s half of every policy, its types explicit."""
    out = []
    for m in manifests:
        if m["kind"] != "NetworkPolicy":
            out.append(m)
            continue
        if direction not in defaulted_types(m["spec"]):
            continue
        half = copy.deepcopy(m)
        other = FIELDS["Egress" if direction == "Ingress" else "Ingress"][0]
        half["spec"].pop(other, None)
        half["spec"]["policyTypes"] = [direction]
        out.append(half)
    return out


def _outside(manifests: list[Manifest]) -> list[Manifest]:
    """Addresses no pod has, as endpoints no policy selects."""
    used = {m.get("status", {}).get("podIP") for m in manifests if m["kind"] == "Pod"}
    addresses = [h for h in ("10.0.0.0", *HOSTS, "10.0.0.15") if h not in used]
    return [{"apiVersion": "v1", "kind": "Pod",
             "metadata": {"name": f"ext-{i}", "namespace": "outside"},
             "spec": {"hostNetwork": True, "containers": [{"name": "c", "image": "i"}]},
             "status": {"podIP": ip}}
            for i, ip in enumerate(dict.fromkeys([*addresses, *OUTSIDE]))]


def _connections(manifests: list[Manifest], extra: list[Manifest],
                 direction: str) -> dict[tuple[str, str], str]:
    """Every connection the ``direction`` side decides: into pods (ingress) or out of them
    (egress), from or to every endpoint; pairs across address families no pod could use
    are left out."""
    ref = ReferenceCluster.from_dicts([*manifests, KUBE_DNS, *extra])
    outside = {_key(m) for m in extra}
    out = {}
    for a in ref.pods.values():
        for b in ref.pods.values():
            if a.key == b.key or (a.key in outside and b.key in outside):
                continue
            pod, other = (b, a) if direction == "Ingress" else (a, b)
            if pod.key in outside:
                continue
            if other.key in outside and pod.ips and all(
                    ip.version != other.ips[0].version for ip in pod.ips):
                continue
            out[a.key, b.key] = ref.connections(a.key, b.key)
    return out


def _without_rule(manifests: list[Manifest], policy: str, direction: str,
                  index: int) -> list[Manifest]:
    out = copy.deepcopy(manifests)
    for m in out:
        if m["kind"] == "NetworkPolicy" and _key(m) == policy:
            del m["spec"][FIELDS[direction][0]][index]
    return out


def _selects_pods(manifests: list[Manifest], policy: Manifest) -> bool:
    return any(m["kind"] == "Pod" and not m["spec"].get("hostNetwork")
               and m["metadata"]["namespace"] == policy["metadata"]["namespace"]
               and selector_matches(policy["spec"]["podSelector"],
                                    m["metadata"].get("labels", {}))
               for m in manifests)


def _peers_match_a_pod(manifests: list[Manifest], policy: Manifest,
                       rule: Mapping[str, Any], peers_field: str) -> bool:
    """Whether a rule's peers match some pod-network pod (kube-dns included)."""
    peers = rule.get(peers_field)
    if not peers:
        return True
    ref = ReferenceCluster.from_dicts([*manifests, KUBE_DNS])
    ns = policy["metadata"]["namespace"]
    for pod in ref.pods.values():
        if pod.host_network:
            continue
        for ip in pod.ips or (None,):
            if ref._peers_match(peers, ns, pod, ip):  # the oracle's own matcher
                return True
    return False


def _policies(manifests: Iterable[Manifest]) -> list[Manifest]:
    return [m for m in manifests if m["kind"] == "NetworkPolicy"]


@st.composite
def with_overlaps(draw: st.DrawFn) -> list[Manifest]:
    """A random cluster, often given a rule or policy that another one covers: a copy of
    a rule, narrowed to its first peer or port entry, in its own policy or in a copy of
    the policy; or a copy of a whole policy; or an allow-all rule beside the others."""
    manifests = copy.deepcopy(draw(clusters(min_policies=1, max_policies=3)))
    policies = _policies(manifests)
    for _ in range(draw(st.integers(1, 3))):
        policy = draw(st.sampled_from(policies))
        spec = policy["spec"]
        fields = [f for f, _ in FIELDS.values() if spec.get(f)]
        op = draw(st.sampled_from(("rule", "narrow", "policy", "open")))
        if op == "policy" or not fields:
            twin = copy.deepcopy(policy)
            twin["metadata"]["name"] += f"-twin{len(policies)}"
            first_only: bool = draw(st.booleans())
            if fields and first_only:
                field = draw(st.sampled_from(fields))
                twin["spec"][field] = twin["spec"][field][:1]
            manifests.append(twin)
            policies.append(twin)
            continue
        field = draw(st.sampled_from(fields))
        peers_field = "from" if field == "ingress" else "to"
        rule = copy.deepcopy(draw(st.sampled_from(spec[field])))
        if op == "narrow":
            if rule.get(peers_field):
                rule[peers_field] = rule[peers_field][:1]
            if rule.get("ports"):
                rule["ports"] = rule["ports"][:1]
        elif op == "open":
            rule = {}
        spec[field].insert(draw(st.integers(0, len(spec[field]))), rule)
    return manifests


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(with_overlaps(), st.sampled_from(("Ingress", "Egress")))
def test_redundant_rules_agree_with_the_reference(manifests: list[Manifest],
                                                  direction: str) -> None:
    reported, _ = _lint(manifests)
    side = _one_side(manifests, direction)
    extra = _outside(manifests)
    before = _connections(side, extra, direction)
    rules_field, peers_field = FIELDS[direction]
    for policy in _policies(side):
        for index, rule in enumerate(policy["spec"].get(rules_field) or []):
            key = (_key(policy), f"spec.{rules_field}[{index}]")
            after = _connections(_without_rule(side, _key(policy), direction, index), extra,
                                 direction)
            unchanged = after == before
            if key in reported:
                assert unchanged, f"{key} reported redundant, but removing it changes " \
                                  f"{[k for k in before if before[k] != after[k]][:3]}"
            elif unchanged and _selects_pods(side, policy) and _peers_match_a_pod(
                    side, policy, rule, peers_field):
                reported_policies = _lint(manifests)[1]
                assert _key(policy) in reported_policies, f"{key} is redundant, not reported"


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(with_overlaps())
def test_redundant_policies_agree_with_the_reference(manifests: list[Manifest]) -> None:
    _, reported = _lint(manifests)
    extra = _outside(manifests)
    sides = {d: _one_side(manifests, d) for d in FIELDS}
    before = {d: _connections(sides[d], extra, d) for d in FIELDS}
    for policy in _policies(manifests):
        key = _key(policy)
        types = defaulted_types(policy["spec"])
        unchanged = all(
            _connections([m for m in sides[d] if not (
                m["kind"] == "NetworkPolicy" and _key(m) == key)], extra, d) == before[d]
            for d in types)
        has_rules = any(policy["spec"].get(FIELDS[d][0]) for d in types)
        if key in reported:
            assert unchanged and has_rules, f"{key} reported redundant"
        elif unchanged and has_rules and _selects_pods(manifests, policy):
            raise AssertionError(f"{key} is redundant, not reported")


def test_outside_addresses_are_no_pods() -> None:
    used = {"10.0.0.1"}
    pods = [{"kind": "Pod", "status": {"podIP": ip}} for ip in used]
    found = {m["status"]["podIP"] for m in _outside(pods)}
    assert not found & used
    assert all(ipaddress.ip_address(a) for a in found)
