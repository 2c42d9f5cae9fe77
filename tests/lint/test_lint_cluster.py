"""Lint with cluster-wide policies: ``cluster-priority-overlap`` (fires and stays quiet),
silencing a cluster policy, and the proofs of the redundancy checks staying proofs when
tiers sit around the NetworkPolicies (every reported rule or policy, removed, changes no
connection according to the pair-by-pair reference evaluator)."""

from __future__ import annotations

import copy
from typing import Any

import strategies as gen
from benchmarks.reference import ReferenceCluster
from hypothesis import HealthCheck, given, settings
from lint_support import CLUSTER, of, run
from test_lint_redundancy_properties import KUBE_DNS, _outside

from stockade.lint import Severity, lint
from stockade.model.build import RawObject, build_cluster
from stockade.model.types import Origin


def cnp(name: str, priority: int, spec: str, *, tier: str = "Admin",
        annotations: str = "") -> str:
    body = "\n".join("  " + line for line in spec.strip("\n").splitlines())
    meta = f", annotations: {{{annotations}}}" if annotations else ""
    return f"""\
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {{name: {name}{meta}}}
spec:
  tier: {tier}
  priority: {priority}
{body}
"""


def anp(name: str, priority: int, spec: str) -> str:
    body = "\n".join("  " + line for line in spec.strip("\n").splitlines())
    return f"""\
---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {{name: {name}}}
spec:
  priority: {priority}
{body}
"""


PAYMENTS = "subject: {namespaces: {matchLabels: {team: payments}}}"
DB = "subject: {pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: db}}}}"
FROM_ALL = "from: [{namespaces: {}}]"


def ingress(action: str, ports: str = "", peers: str = FROM_ALL) -> str:
    return f"ingress:\n- action: {action}\n  {peers}\n" + (f"  {ports}\n" if ports else "")


def overlap(text: str) -> list[Any]:
    return of(run(CLUSTER + text), "cluster-priority-overlap")


def test_same_priority_deny_against_accept() -> None:
    found = overlap(cnp("b-deny", 10, PAYMENTS + "\n" + ingress("Deny"))
                    + cnp("a-accept", 10, DB + "\n" + ingress(
                        "Accept", "protocols: [{tcp: {destinationPort: {number: 5432}}}]")))
    assert len(found) == 1
    f = found[0]
    assert f.severity is Severity.WARNING
    assert (f.kind, f.namespace, f.name, f.path) == ("ClusterNetworkPolicy", "", "b-deny",
                                                     "spec.priority")
    assert f.message == (
        "ClusterNetworkPolicy/a-accept has the same priority (10) in the Admin tier and both "
        "select payments/db; its ingress[0] and this policy's ingress[0] match the same "
        "traffic (Accept against Deny: the verdict depends on which goes first). Upstream "
        "leaves the order to the network plugin; stockade evaluates "
        "ClusterNetworkPolicy/a-accept first (by name)")
    assert f.hint == "give one of them another priority"
    assert f.related == ("payments/db",)


def test_same_action_across_api_versions() -> None:
    found = overlap(cnp("one", 3, PAYMENTS + "\n" + ingress("Accept"))
                    + anp("two", 3, DB + "\n" + ingress(
                        "Allow", "ports: [{portNumber: {port: 5432, protocol: TCP}}]",
                        "from: [{namespaces: {}}]")))
    assert [f.name for f in found] == ["two"]
    assert "(both Accept: the verdict is the same either way, the rule that decides is " \
           "not)" in found[0].message


def test_named_ports_resolve_on_the_destination() -> None:
    # postgres is the db's 5432: the named port meets the number.
    found = overlap(cnp("a", 1, DB + "\n" + ingress(
        "Deny", "protocols: [{destinationNamedPort: postgres}]"))
        + cnp("b", 1, DB + "\n" + ingress(
            "Accept", "protocols: [{tcp: {destinationPort: {number: 5432}}}]")))
    assert len(found) == 1


def test_egress_networks_overlap_outside_the_pods() -> None:
    egress = "egress:\n- action: {a}\n  to: [{{networks: [{net}]}}]\n"
    found = overlap(cnp("a", 2, PAYMENTS + "\n" + egress.format(a="Deny", net="10.9.0.0/16"))
                    + cnp("b", 2, PAYMENTS + "\n" + egress.format(a="Accept",
                                                                 net="10.9.3.0/24")))
    assert len(found) == 1 and "egress[0]" in found[0].message


def test_quiet_when_they_cannot_meet() -> None:
    ports = "protocols: [{{tcp: {{destinationPort: {{number: {n}}}}}}}]"
    cases = [
        # other priorities
        cnp("a", 1, DB + "\n" + ingress("Deny")) + cnp("b", 2, DB + "\n" + ingress("Accept")),
        # other tiers
        cnp("a", 1, DB + "\n" + ingress("Deny"))
        + cnp("b", 1, DB + "\n" + ingress("Accept"), tier="Baseline"),
        # no pod selected by both
        cnp("a", 1, DB + "\n" + ingress("Deny"))
        + cnp("b", 1, "subject: {namespaces: {matchLabels: {team: platform}}}\n"
              + ingress("Accept")),
        # ports apart
        cnp("a", 1, DB + "\n" + ingress("Deny", ports.format(n=80)))
        + cnp("b", 1, DB + "\n" + ingress("Accept", ports.format(n=81))),
        # peers apart
        cnp("a", 1, DB + "\n" + ingress("Deny", peers="from: [{namespaces: {matchLabels: "
                                        "{team: platform}}}]"))
        + cnp("b", 1, DB + "\n" + ingress("Accept", peers="from: [{namespaces: {matchLabels: "
                                          "{team: payments}}}]")),
        # one ingress, one egress
        cnp("a", 1, DB + "\n" + ingress("Deny"))
        + cnp("b", 1, DB + "\negress:\n- action: Accept\n  to: [{namespaces: {}}]\n"),
    ]
    for text in cases:
        assert overlap(text) == [], text


def test_silenced_on_the_cluster_policy() -> None:
    text = CLUSTER + cnp("a", 1, DB + "\n" + ingress("Deny")) + cnp(
        "b", 1, DB + "\n" + ingress("Accept"),
        annotations="stockade.dev/lint-disable: cluster-priority-overlap")
    raws = run(text)
    assert not of(raws, "cluster-priority-overlap")


# --- the redundancy proofs with tiers ---------------------------------------------------

Manifest = dict[str, Any]


def _connections(manifests: list[Manifest], extra: list[Manifest]) -> dict[tuple[str, str], str]:
    """Every connection between two endpoints, one of them at least a pod; pairs of a pod
    and an address of a family none of its IPs has are left out (no packet can flow, and
    lint does not judge them)."""
    ref = ReferenceCluster.from_dicts(copy.deepcopy([*manifests, KUBE_DNS, *extra]))
    outside = {f"outside/{m['metadata']['name']}" for m in extra}

    def possible(pod: Any, address: Any) -> bool:
        return not pod.ips or any(ip.version == address.ips[0].version for ip in pod.ips)

    return {(a.key, b.key): ref.connections(a.key, b.key)
            for a in ref.pods.values() for b in ref.pods.values()
            if a.key != b.key and not (a.key in outside and b.key in outside)
            and (a.key not in outside or possible(b, a))
            and (b.key not in outside or possible(a, b))}


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(gen.clusters(min_policies=1, max_cluster_policies=3))
def test_reported_redundancy_holds_with_cluster_policies(manifests: list[Manifest]) -> None:
    raws = [RawObject(copy.deepcopy(m), Origin("gen", i + 1)) for i, m in enumerate(manifests)]
    result = build_cluster(raws)
    assert not result.findings
    report = lint(result.cluster, enabled={"redundant-rule", "redundant-policy"})
    if not report.findings:
        return
    extra = _outside(manifests)
    before = _connections(manifests, extra)
    for f in report.findings:
        after = copy.deepcopy(manifests)
        for m in after:
            if (m["kind"], m["metadata"].get("namespace"), m["metadata"]["name"]) != (
                    "NetworkPolicy", f.namespace, f.name):
                continue
            if f.check == "redundant-rule":
                # Keep the policy's types: without the rule they might default otherwise.
                m["spec"]["policyTypes"] = gen.defaulted_types(m["spec"])
                field, index = f.path.removeprefix("spec.").rstrip("]").split("[")
                del m["spec"][field][int(index)]
        if f.check == "redundant-policy":
            after = [m for m in after if (m["kind"], m["metadata"].get("namespace"),
                                          m["metadata"]["name"]) != ("NetworkPolicy",
                                                                    f.namespace, f.name)]
        assert _connections(after, extra) == before, (f.check, f.namespace, f.name, f.path)


def test_an_admin_tier_deciding_for_every_pod_makes_a_rule_redundant() -> None:
    # Everything from every pod into the db is accepted by the Admin tier: the
    # NetworkPolicy's rule changes nothing. The policy still does: it denies addresses
    # outside the pods, which no ingress rule of a cluster-wide policy can name.
    networkpolicy = """\
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-from-api, namespace: payments}
spec:
  podSelector: {matchLabels: {app: db}}
  policyTypes: [Ingress]
  ingress: [{from: [{podSelector: {matchLabels: {app: api}}}]}]
"""
    text = CLUSTER + networkpolicy + cnp("open-db", 1, DB + "\n" + ingress("Accept"))
    found = [(f.check, f.message) for f in run(text)
             if f.check in ("redundant-rule", "redundant-policy")]
    assert found == [("redundant-rule", "ingress[0] allows nothing that other rules of the "
                      "policies selecting the same pods do not already allow (the Admin tier "
                      "decides first): removing it changes no connection")]
    # With the Admin tier passing instead, the NetworkPolicy decides: its rule is needed.
    # (The lone Pass itself hands on what no rule would decide anyway: that one is.)
    passing = CLUSTER + networkpolicy + cnp("open-db", 1, DB + "\n" + ingress("Pass"))
    assert [(f.check, f.kind) for f in run(passing)
            if f.check in ("redundant-rule", "redundant-policy")] == [
        ("redundant-policy", "ClusterNetworkPolicy")]


def test_cluster_wide_policies_deciding_everything_make_a_policy_redundant() -> None:
    networkpolicy = """\
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api-out, namespace: payments}
spec:
  podSelector: {matchLabels: {app: api}}
  policyTypes: [Egress]
  egress: [{to: [{podSelector: {matchLabels: {app: db}}}]}]
"""
    deny_all = "egress:\n- action: Deny\n  to: [{namespaces: {}}, {networks: [0.0.0.0/0]}]\n"
    text = CLUSTER + networkpolicy + cnp(
        "api-closed", 1, "subject: {pods: {namespaceSelector: {}, podSelector: "
        "{matchLabels: {app: api}}}}\n" + deny_all)
    found = [(f.check, f.message) for f in run(text)
             if f.check in ("redundant-rule", "redundant-policy")]
    assert found == [("redundant-policy", "removing this policy changes no connection: "
                      "cluster-wide policies decide, before it, everything it would allow "
                      "or deny")]


# --- redundancy of cluster-wide rules and policies: proven whatever the NetworkPolicies ---

CLUSTER_KINDS = ("ClusterNetworkPolicy", "AdminNetworkPolicy", "BaselineAdminNetworkPolicy")


def _networkpolicy_variants(manifests: list[Manifest]) -> list[list[Manifest]]:
    """The cluster as written, with no NetworkPolicy, with every namespace isolated and
    nothing allowed, and with every namespace isolated and everything allowed: a cluster
    rule reported redundant changes no connection in any of them."""
    others = [m for m in manifests if m["kind"] != "NetworkPolicy"]
    namespaces = sorted({m["metadata"]["namespace"] for m in manifests if m["kind"] == "Pod"}
                        | {"kube-system"})

    def each(spec: Manifest) -> list[Manifest]:
        return [{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                 "metadata": {"name": "variant", "namespace": ns},
                 "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"], **spec}}
                for ns in namespaces]

    return [manifests, others, others + each({}),
            others + each({"ingress": [{}], "egress": [{}]})]


def _without_cluster(manifests: list[Manifest], kind: str, name: str,
                     path: str) -> list[Manifest]:
    """The manifests without a cluster policy (``path`` ""), or without one of its rules."""
    out = []
    for m in copy.deepcopy(manifests):
        if (m["kind"], m["metadata"]["name"]) == (kind, name):
            if not path:
                continue
            field, index = path.removeprefix("spec.").rstrip("]").split("[")
            del m["spec"][field][int(index)]
            if not m["spec"][field]:
                del m["spec"][field]
        out.append(m)
    return out


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(gen.clusters(min_policies=0, max_policies=2, min_cluster_policies=1,
                    max_cluster_policies=4))
def test_reported_cluster_redundancy_holds_whatever_the_networkpolicies(
        manifests: list[Manifest]) -> None:
    raws = [RawObject(copy.deepcopy(m), Origin("gen", i + 1)) for i, m in enumerate(manifests)]
    result = build_cluster(raws)
    assert not result.findings
    report = lint(result.cluster, enabled={"redundant-rule", "redundant-policy"})
    found = [f for f in report.findings if f.kind in CLUSTER_KINDS]
    if not found:
        return
    extra = _outside(manifests)
    for variant in _networkpolicy_variants(manifests):
        before = _connections(variant, extra)
        for f in found:
            after = _without_cluster(variant, f.kind, f.name, f.path)
            assert _connections(after, extra) == before, (f.check, f.name, f.path)
