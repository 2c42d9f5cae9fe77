"""Manifests for lint tests: a small cluster every check can be made to fire on, and a
helper that lints YAML text through the real decode/validate path."""

from __future__ import annotations

from collections.abc import Collection

from stockade.lint import BY_ID, LintFinding, lint
from stockade.model.build import build_cluster
from stockade.sources.files import parse_text

ALL_CHECKS = frozenset(BY_ID)

NAMESPACES = """\
apiVersion: v1
kind: Namespace
metadata: {name: payments, labels: {team: payments}}
---
apiVersion: v1
kind: Namespace
metadata: {name: platform, labels: {team: platform}}
---
apiVersion: v1
kind: Namespace
metadata: {name: kube-system}
"""


def pod(namespace: str, name: str, labels: str, ip: str, ports: str = "[]") -> str:
    return f"""\
---
apiVersion: v1
kind: Pod
metadata: {{name: {name}, namespace: {namespace}, labels: {labels}}}
spec:
  containers: [{{name: main, image: img, ports: {ports}}}]
status: {{podIP: {ip}}}
"""


PODS = (
    pod("payments", "api", "{app: api}", "10.1.0.1",
        "[{name: http, containerPort: 8080}]")
    + pod("payments", "db", "{app: db}", "10.1.0.2",
          "[{name: postgres, containerPort: 5432}]")
    + pod("platform", "prom", "{app: prometheus}", "10.1.1.3",
          "[{name: metrics, containerPort: 9090}]")
    + pod("kube-system", "coredns", "{k8s-app: kube-dns}", "10.1.2.10",
          "[{name: dns, containerPort: 53, protocol: UDP}, "
          "{name: dns-tcp, containerPort: 53, protocol: TCP}]")
)
CLUSTER = NAMESPACES + PODS

# Lets every pod of payments resolve names: egress to kube-dns on UDP and TCP 53.
DNS_OK = """\
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-dns, namespace: payments}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress:
  - to:
    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}
      podSelector: {matchLabels: {k8s-app: kube-dns}}
    ports: [{port: 53, protocol: UDP}, {port: 53, protocol: TCP}]
"""


def policy(name: str, spec: str, namespace: str = "payments", extra_meta: str = "") -> str:
    body = "\n".join("  " + line for line in spec.strip("\n").splitlines())
    return f"""\
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: {name}, namespace: {namespace}{extra_meta}}}
spec:
{body}
"""


def run(text: str, enabled: Collection[str] = ALL_CHECKS,
        name: str = "t.yaml") -> list[LintFinding]:
    result = build_cluster(parse_text(text, name))
    assert not result.findings, "\n".join(str(f) for f in result.findings)
    return list(lint(result.cluster, enabled=enabled).findings)


def of(findings: list[LintFinding], check: str) -> list[LintFinding]:
    return [f for f in findings if f.check == check]
