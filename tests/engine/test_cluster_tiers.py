"""Cluster-wide policies in the engine, case by case on examples/cluster-policies, with the
expected answers worked out by hand from adminnetworkpolicy.md (§3, §4.4-4.6) and the
decisions in the README: which tier decides, which rule, and what a query says."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from stockade.engine import Engine
from stockade.engine.matrix import connectivity
from stockade.engine.services import find_service, parse_service_ref, query_service, service_port
from stockade.engine.tiers import domain_matches
from stockade.engine.traffic import Endpoint, Traffic
from stockade.model.build import build_cluster
from stockade.model.types import Protocol
from stockade.render.query import write_text
from stockade.render.style import Style
from stockade.sources.files import parse_text, read_paths

ROOT = Path(__file__).resolve().parents[2]
V1ALPHA2 = ROOT / "examples" / "cluster-policies"
WORLD = V1ALPHA2 / "world"  # the cluster; the rest of V1ALPHA2 are its cluster policies
V1ALPHA1 = ROOT / "examples" / "admin-network-policies"  # the same policies in v1alpha1
TCP, UDP = Protocol.TCP, Protocol.UDP


def engine_of(*paths: Path | str) -> Engine:
    result = build_cluster(read_paths([str(p) for p in paths]))
    assert not result.findings
    return Engine(result.cluster)


@pytest.fixture(scope="module")
def example() -> Engine:
    return engine_of(V1ALPHA2)


def text(engine: Engine, src: str, dst: str, proto: Protocol, port: int, *,
         host: str = "") -> list[str]:
    destination = Endpoint(host=host) if host and not dst else engine.endpoint(dst)
    if host and dst:
        destination = Endpoint(destination.pod, destination.ip, host)
    verdict = engine.evaluate(Traffic(engine.endpoint(src), destination, proto, port))
    out = io.StringIO()
    write_text(verdict, out, Style(False))
    return out.getvalue().splitlines()


Case = tuple[str, str, Protocol, int, bool, str, str]
CASES: list[Case] = [
    # dns-for-everyone (priority 5) accepts egress to kube-dns; protect-kube-system accepts
    # DNS into kube-system whatever the caller
    ("store/web-0", "kube-system/coredns-0", UDP, 53, True, "Admin",
     "ClusterNetworkPolicy/protect-kube-system"),
    # protect-kube-system: metrics only from Prometheus, everything else denied
    ("observability/prometheus-0", "kube-system/coredns-1", TCP, 9153, True, "Admin",
     "ClusterNetworkPolicy/protect-kube-system"),
    ("store/web-0", "kube-system/coredns-1", TCP, 9153, False, "Admin",
     "ClusterNetworkPolicy/protect-kube-system"),
    # protect-observability: nobody outside observability
    ("store/api-0", "observability/prometheus-0", TCP, 9090, False, "Admin",
     "ClusterNetworkPolicy/protect-observability"),
    # the store's NetworkPolicies decide for their pods (the baseline does not apply)
    ("store/web-0", "store/api-0", TCP, 8000, True, "NetworkPolicy", ""),
    ("store/web-0", "store/db-0", TCP, 5432, False, "NetworkPolicy", ""),
    ("billing/invoice-0", "store/web-0", TCP, 8080, True, "NetworkPolicy", ""),
    # Prometheus scrapes tenants' metrics ports over their NetworkPolicies (admin Accept)
    ("observability/prometheus-0", "store/db-0", TCP, 9187, True, "Admin",
     "ClusterNetworkPolicy/prometheus-scrapes-tenants"),
    ("observability/prometheus-0", "store/db-0", TCP, 5432, False, "NetworkPolicy", ""),
    # billing has no NetworkPolicy: the tenant baseline denies ingress
    ("store/web-0", "billing/invoice-0", TCP, 8080, False, "Baseline",
     "ClusterNetworkPolicy/tenant-default-deny"),
]


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}->{c[1]}:{c[3]}" for c in CASES])
def test_who_decides(example: Engine, case: Case) -> None:
    src, dst, proto, port, allowed, tier, decider = case
    verdict = example.evaluate(Traffic(example.endpoint(src), example.endpoint(dst), proto,
                                       port))
    assert verdict.allowed is allowed
    side = verdict.ingress if not verdict.egress.tier or verdict.egress.allowed else \
        verdict.egress
    assert side.tier == tier
    assert (side.decided_by.policy if side.decided_by else "") == decider


def test_explanations_name_tier_policy_priority_and_rule(example: Engine) -> None:
    assert text(example, "store/web-0", "observability/prometheus-0", TCP, 9090) == [
        "store/web-0 -> observability/prometheus-0 TCP 9090: denied",
        "  egress  store/web-0: no cluster-wide rule matches, not isolated for egress",
        "  ingress observability/prometheus-0: denied by admin "
        "ClusterNetworkPolicy/protect-observability priority 20 ingress[1] \"nobody-else\": "
        "Deny (from[0], any port)",
    ]
    assert text(example, "store/web-0", "store/api-0", TCP, 8000)[2:] == [
        "  ingress store/api-0: no Admin rule matches → NetworkPolicy: isolated by "
        "store/api-from-web",
        "          allowed by store/api-from-web ingress[0] (from[0], ports[0])",
    ]


def test_pass_hands_over_to_networkpolicy_then_baseline() -> None:
    extra = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: prometheus-web, namespace: observability}
spec:
  podSelector: {matchLabels: {app: prometheus}}
  ingress:
  - ports: [{port: web}]
---
apiVersion: v1
kind: Pod
metadata: {name: grafana-0, namespace: observability, labels: {app: grafana}}
spec: {nodeName: node-b, containers: [{name: main}]}
status: {hostIP: 192.168.10.2, podIP: 10.244.2.3}
"""
    result = build_cluster([*read_paths([str(V1ALPHA2)]), *parse_text(extra, "extra.yaml")])
    engine = Engine(result.cluster)
    # inside observability: protect-observability passes, observability's NetworkPolicy decides
    assert text(engine, "observability/grafana-0", "observability/prometheus-0", TCP, 9090)[2:] == [
        "  ingress observability/prometheus-0: admin ClusterNetworkPolicy/protect-observability "
        "priority 20 ingress[0] \"observability-decides-inside\": Pass (from[0], any port) → "
        "next tier",
        "          NetworkPolicy: isolated by observability/prometheus-web",
        "          allowed by observability/prometheus-web ingress[0] (any source, ports[0])",
    ]
    assert not engine.allowed("observability/grafana-0", "observability/prometheus-0", TCP, 9091)
    # billing-egress passes cluster traffic; nothing below decides: allowed
    lines = text(engine, "billing/invoice-0", "observability/grafana-0", TCP, 3000)
    assert lines[1:3] == [
        "  egress  billing/invoice-0: admin ClusterNetworkPolicy/billing-egress priority 40 "
        "egress[1] \"cluster-traffic-decided-below\": Pass (to[0], any port) → next tier",
        "          not isolated by NetworkPolicy, no Baseline rule matches: allowed",
    ]


def test_domain_names_are_judged_by_name_only(example: Engine) -> None:
    by_name = text(example, "billing/invoice-0", "", TCP, 443, host="api.payments.example")
    assert by_name[0] == "billing/invoice-0 -> api.payments.example TCP 443: allowed"
    by_address = text(example, "billing/invoice-0", "203.0.113.7", TCP, 443)
    assert by_address[0] == "billing/invoice-0 -> 203.0.113.7 TCP 443: denied"
    assert any("domainNames api.payments.example not applied" in line for line in by_address)
    both = text(example, "billing/invoice-0", "203.0.113.7", TCP, 443,
                host="api.payments.example")
    assert both[0].endswith("TCP 443: allowed")
    assert domain_matches("*.kubernetes.io", "a.b.kubernetes.io")
    assert not domain_matches("*.kubernetes.io", "kubernetes.io")
    assert domain_matches("Blog.Kubernetes.io.", "blog.kubernetes.io")
    assert not domain_matches("kubernetes.io", "www.kubernetes.io")


def test_own_node_traffic_is_exempt_from_every_tier(example: Engine) -> None:
    # tenants-stay-off-nodes denies egress to every node; web-0 runs on node-a
    assert not example.allowed("store/web-0", "192.168.10.2", TCP, 10250)
    assert example.allowed("store/web-0", "192.168.10.1", TCP, 10250)


HAIRPIN = """
apiVersion: v1
kind: Pod
metadata: {name: solo, namespace: app, labels: {app: solo}}
spec: {containers: [{name: c, ports: [{name: http, containerPort: 8080}]}]}
status: {podIP: 10.1.0.5}
---
apiVersion: v1
kind: Service
metadata: {name: solo, namespace: app}
spec: {selector: {app: solo}, ports: [{port: 80, targetPort: http}]}
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: no-in-namespace}
spec:
  tier: Admin
  priority: 1
  subject: {namespaces: {}}
  ingress:
  - action: Deny
    from: [{namespaces: {matchLabels: {kubernetes.io/metadata.name: app}}}]
"""


def test_hairpin_through_a_service_is_subject_to_cluster_policies() -> None:
    result = build_cluster(parse_text(HAIRPIN, "hairpin.yaml"))
    engine = Engine(result.cluster)
    assert engine.allowed("app/solo", "10.1.0.5", TCP, 8080)  # its own IP: not subject
    ref = parse_service_ref("svc/app/solo:80")
    assert ref is not None
    service = find_service(result.cluster.services, ref)
    answer = query_service(engine, engine.endpoint("app/solo"), service,
                           service_port(service, ref))
    assert not answer.allowed
    assert answer.answers[0].verdict is not None
    assert answer.answers[0].verdict.ingress.decided_by is not None


def test_both_api_versions_of_the_example_agree() -> None:
    v2, v1 = engine_of(V1ALPHA2), engine_of(WORLD, V1ALPHA1)
    m2, m1 = connectivity(v2), connectivity(v1)
    assert [p.key for p in v2.pods] == [p.key for p in v1.pods]
    assert [p.key for p in v2.cluster.cluster_policies] != \
        [p.key for p in v1.cluster.cluster_policies]
    n = len(v2.pods)
    assert [[m2.between_pods(i, j) for j in range(n)] for i in range(n)] == \
        [[m1.between_pods(i, j) for j in range(n)] for i in range(n)]
