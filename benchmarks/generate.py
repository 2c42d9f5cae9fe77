"""Seeded generator of realistic clusters: namespaces, Deployment-like pods, NetworkPolicies.

The benchmarks need clusters of 100 to 50,000 pods that look like real ones (replica groups
sharing labels, named ports, dual-stack IPs, a few hostNetwork pods) and policies that use
every NetworkPolicy feature, all valid for the API server. Optionally a platform team's
cluster-wide policies on top (``--admin-policies``, ``--baseline-policies``): mostly
ClusterNetworkPolicy (v1alpha2), a quarter of the admin ones as AdminNetworkPolicy and one
baseline as the BaselineAdminNetworkPolicy (v1alpha1), with the Nodes their ``nodes`` peers
match. Output is one YAML file per namespace (and ``cluster.yaml`` for cluster-scoped
objects), written by a small block-style emitter because PyYAML's dumper is too slow here.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Doc = dict[str, Any]

TEAMS = ("payments", "search", "identity", "checkout", "catalog", "analytics", "platform",
         "ml", "media", "growth", "billing", "support")
ENVS = ("prod", "staging", "dev", "qa")
HASH_CHARS = "bcdfghjklmnpqrstvwxz2456789"  # the alphabet of pod-template-hash suffixes


@dataclass(frozen=True, slots=True)
class AppKind:
    """A kind of workload: its tier label and its containers' named ports."""

    name: str
    tier: str
    ports: tuple[tuple[str, int, str], ...]  # (name, containerPort, protocol)


APP_KINDS = (
    AppKind("frontend", "web", (("http", 8080, "TCP"), ("metrics", 9090, "TCP"))),
    AppKind("web", "web", (("http", 80, "TCP"), ("https", 443, "TCP"))),
    AppKind("api", "api", (("http", 8080, "TCP"), ("grpc", 9000, "TCP"),
                           ("metrics", 9090, "TCP"))),
    AppKind("auth", "api", (("http", 8443, "TCP"), ("metrics", 9090, "TCP"))),
    AppKind("db", "db", (("db", 5432, "TCP"), ("metrics", 9187, "TCP"))),
    AppKind("cache", "cache", (("redis", 6379, "TCP"),)),
    AppKind("queue", "backend", (("amqp", 5672, "TCP"), ("metrics", 9090, "TCP"))),
    AppKind("worker", "backend", (("metrics", 9090, "TCP"),)),
    AppKind("batch", "backend", ()),
    AppKind("sip", "voice", (("sip", 5060, "UDP"), ("diameter", 3868, "SCTP"),
                             ("metrics", 9090, "TCP"))),
    AppKind("statsd", "backend", (("statsd", 8125, "UDP"), ("http", 8080, "TCP"))),
)
DNS_KIND = AppKind("coredns", "dns", (("dns", 53, "UDP"), ("dns-tcp", 53, "TCP"),
                                       ("metrics", 9153, "TCP")))
PROMETHEUS_KIND = AppKind("prometheus", "monitoring", (("http", 9090, "TCP"),))
NODE_EXPORTER_KIND = AppKind("node-exporter", "monitoring", (("metrics", 9100, "TCP"),))

SYSTEM_NAMESPACE = "kube-system"
MONITORING_NAMESPACE = "monitoring"


@dataclass(frozen=True, slots=True)
class Params:
    pods: int
    namespaces: int
    policies: int
    seed: int = 1
    # network-config-analyzer refuses two API-valid shapes: ingress rules in a policy whose
    # policyTypes lacks Ingress (ignored by Kubernetes), and policyTypes [Egress, Ingress].
    # Off only when the files need not be readable by the peer tool.
    peer_compatible: bool = True
    # Add a random port or port range to every rule's ports: clusters whose policies name
    # thousands of distinct ports (a stress case for the matrix).
    random_ports: bool = False
    # Cluster-wide policies: Admin tier (ClusterNetworkPolicy and AdminNetworkPolicy) and
    # Baseline tier (ClusterNetworkPolicy and the BaselineAdminNetworkPolicy).
    admin_policies: int = 0
    baseline_policies: int = 0


def default_params(pods: int, seed: int = 1) -> Params:
    """The sizes of the issue: 20 pods per namespace, one policy per three pods."""
    return Params(pods=pods, namespaces=max(3, pods // 20), policies=pods // 3, seed=seed)


@dataclass(slots=True)
class _Deployment:
    app: str
    kind: AppKind
    labels: dict[str, str]


@dataclass(slots=True)
class _NamespaceState:
    name: str
    team: str
    env: str
    labels: dict[str, str]
    declared: bool
    docs: list[Doc] = field(default_factory=list)
    deployments: list[_Deployment] = field(default_factory=list)


def _hash(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(HASH_CHARS) for _ in range(n))


class _Generator:
    def __init__(self, params: Params) -> None:
        if params.pods < 1 or params.namespaces < 3 or params.policies < 0:
            raise ValueError("need at least 1 pod, 3 namespaces and 0 policies")
        self.p = params
        self.rng = random.Random(params.seed)
        self.nodes = max(2, params.pods // 60)
        self.node_hosts = [1] * self.nodes  # last host number used in each node's pod /24
        self.pod_count = 0
        self.namespaces: list[_NamespaceState] = []
        self.cluster_docs: list[Doc] = []

    # --- namespaces -------------------------------------------------------------------

    def make_namespaces(self) -> None:
        rng = self.rng
        system = _NamespaceState(SYSTEM_NAMESPACE, "platform", "prod", {}, True)
        monitoring = _NamespaceState(MONITORING_NAMESPACE, "platform", "prod",
                                     {"team": "platform", "purpose": "observability"}, True)
        self.namespaces = [system, monitoring]
        for i in range(self.p.namespaces - 2):
            team = TEAMS[i % len(TEAMS)]
            env = rng.choice(ENVS)
            labels = {"team": team, "env": env}
            if rng.random() < 0.3:
                labels["istio-injection"] = "enabled"
            if rng.random() < 0.2:
                labels["compliance"] = rng.choice(("pci", "hipaa", "sox"))
            # A few namespaces are used by pods but never declared: they carry only the
            # kubernetes.io/metadata.name label.
            declared = i % 40 != 17
            self.namespaces.append(_NamespaceState(f"{team}-{env}-{i}", team, env, labels,
                                                   declared))
        for ns in self.namespaces:
            if ns.declared:
                meta: Doc = {"name": ns.name}
                if ns.labels:
                    meta["labels"] = dict(ns.labels)
                ns.docs.append({"apiVersion": "v1", "kind": "Namespace", "metadata": meta})

    # --- pods -------------------------------------------------------------------------

    def _pod_ips(self, node: int, stack: str) -> list[str]:
        if self.rng.random() < 0.01:
            return []  # pending: no IP yet
        self.node_hosts[node] += 1
        host = self.node_hosts[node]
        v4, v6 = f"10.{node // 256}.{node % 256}.{host}", f"fd00:10:{node:x}::{host:x}"
        return {"v4": [v4], "dual": [v4, v6], "dual6": [v6, v4]}[stack]

    def _pod(self, ns: _NamespaceState, name: str, labels: dict[str, str], kind: AppKind,
             *, host_network: bool = False, node: int | None = None, stack: str = "v4") -> Doc:
        if node is None:
            node = self.pod_count % self.nodes
        self.pod_count += 1
        node_ip = f"172.16.{node // 250}.{node % 250 + 1}"
        ips = [node_ip] if host_network else self._pod_ips(node, stack)
        container: Doc = {"name": kind.name, "image": f"registry.example.com/{kind.name}:1.0"}
        if kind.ports:
            ports: list[Doc] = []
            for pname, number, proto in kind.ports:
                entry: Doc = {"name": pname, "containerPort": number}
                if proto != "TCP" or self.rng.random() < 0.5:
                    entry["protocol"] = proto
                ports.append(entry)
            container["ports"] = ports
        spec: Doc = {"containers": [container]}
        if host_network:
            spec["hostNetwork"] = True
        status: Doc = {"phase": "Running" if ips else "Pending"}
        if ips:
            spec["nodeName"] = f"node-{node}"
            status["hostIP"] = node_ip
            status["podIP"] = ips[0]
            status["podIPs"] = [{"ip": ip} for ip in ips]
        return {"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": name, "namespace": ns.name, "labels": labels},
                "spec": spec, "status": status}

    def _deployment(self, ns: _NamespaceState, kind: AppKind, replicas: int,
                    extra: dict[str, str] | None = None, app: str = "") -> None:
        rng = self.rng
        app = app or f"{kind.name}-{len(ns.deployments)}"
        labels = {"app": app, "tier": kind.tier, "team": ns.team}
        if rng.random() < 0.6:
            labels["version"] = rng.choice(("v1", "v2", "v3"))
        if rng.random() < 0.1:
            labels["canary"] = "true"
        labels.update(extra or {})
        ns.deployments.append(_Deployment(app, kind, labels))
        template_hash = _hash(rng, 10)
        # IP families are a property of the workload (its Service's ipFamilyPolicy), so
        # replicas agree: a fifth of the workloads are dual-stack, a few IPv6-primary.
        roll = rng.random()
        stack = "dual6" if roll < 0.03 else "dual" if roll < 0.2 else "v4"
        for _ in range(replicas):
            pod_labels = dict(labels)
            pod_labels["pod-template-hash"] = template_hash
            name = f"{app}-{template_hash}-{_hash(rng, 5)}"
            ns.docs.append(self._pod(ns, name, pod_labels, kind, stack=stack))

    def make_pods(self) -> None:
        rng = self.rng
        system, monitoring = self.namespaces[0], self.namespaces[1]
        budget = self.p.pods
        fixed = [(system, DNS_KIND, 2, {"k8s-app": "kube-dns"}),
                 (monitoring, PROMETHEUS_KIND, 1, {})]
        for ns, kind, replicas, extra in fixed:
            if budget >= replicas:
                self._deployment(ns, kind, replicas, extra, app=kind.name)
                budget -= replicas
        # node-exporter-like hostNetwork pods on a few nodes
        for node in range(min(self.nodes, max(1, self.p.pods // 500), budget)):
            name = f"node-exporter-{_hash(rng, 5)}"
            labels = {"app": "node-exporter", "tier": "monitoring"}
            monitoring.docs.append(self._pod(monitoring, name, labels, NODE_EXPORTER_KIND,
                                             host_network=True, node=node))
            budget -= 1
        teams = self.namespaces[2:]
        share, extra_pods = divmod(budget, len(teams))
        for i, ns in enumerate(teams):
            quota = share + (1 if i < extra_pods else 0)
            while quota > 0:
                kind = rng.choice(APP_KINDS)
                replicas = min(quota, rng.choice((1, 2, 2, 3, 3, 3, 4, 5, 6)))
                self._deployment(ns, kind, replicas)
                quota -= replicas

    # --- policies ---------------------------------------------------------------------

    def _some_app(self, ns: _NamespaceState) -> _Deployment | None:
        return self.rng.choice(ns.deployments) if ns.deployments else None

    def _app_selector(self, ns: _NamespaceState) -> Doc:
        dep = self._some_app(ns)
        if dep is None:
            return {"matchLabels": {"app": "nothing"}}
        return {"matchLabels": {"app": dep.app}}

    def _ip_block(self) -> Doc:
        """Mostly external ranges and coarse pod ranges; a few narrow ones on a handful of
        "legacy" node subnets. Narrow blocks over every node would split each Deployment's
        replicas (spread over nodes) into classes of their own, which real clusters avoid."""
        rng = self.rng
        roll = rng.random()
        second = rng.randrange(self.nodes // 256 + 1)
        if roll < 0.35:
            cidr, excepts = rng.choice((
                ("203.0.113.0/24", []), ("198.51.100.0/24", ["198.51.100.128/25"]),
                ("192.0.2.0/24", []), ("0.0.0.0/0", ["10.0.0.0/8"]),
                ("100.64.0.0/10", ["100.64.0.0/16", "100.100.0.0/16"])))
        elif roll < 0.6:
            cidr, excepts = rng.choice(((f"10.{second}.0.0/16", []),
                                        ("10.0.0.0/8", [f"10.{second}.0.0/16"]),
                                        ("10.0.0.0/8", ["10.255.0.0/16"])))
        elif roll < 0.7:
            cidr, excepts = "172.16.0.0/16", []  # node addresses (hostNetwork pods)
        elif roll < 0.85:
            cidr, excepts = rng.choice((("fd00:10::/32", []), ("::/0", ["fd00::/8"]),
                                        ("2001:db8::/32", ["2001:db8:1::/48"])))
        else:
            node = rng.randrange(min(3, self.nodes))
            if rng.random() < 0.7:
                cidr = f"10.{node // 256}.{node % 256}.0/24"
                excepts = [f"10.{node // 256}.{node % 256}.{rng.choice((0, 64, 128, 192))}/26"]
            else:
                cidr, excepts = f"fd00:10:{node:x}::/48", []
        block: Doc = {"cidr": cidr}
        if excepts:
            block["except"] = excepts
        return block

    def _peer(self, ns: _NamespaceState) -> Doc:
        rng = self.rng
        other = rng.choice(self.namespaces)
        roll = rng.randrange(9)
        if roll == 0:
            return {"podSelector": {"matchLabels": {"tier": rng.choice(("web", "api"))}}}
        if roll == 1:
            return {"podSelector": {"matchExpressions": [
                {"key": "tier", "operator": "NotIn", "values": ["db", "cache"]},
                {"key": "canary", "operator": "DoesNotExist"}]}}
        if roll == 2:
            return {"namespaceSelector": {"matchLabels": {"team": other.team}}}
        if roll == 3:
            return {"namespaceSelector": {"matchExpressions": [
                {"key": "env", "operator": "In", "values": ["prod", "staging"]}]},
                    "podSelector": {"matchLabels": {"tier": "api"}}}
        if roll == 4:
            return {"namespaceSelector": {
                "matchLabels": {"kubernetes.io/metadata.name": other.name}},
                    "podSelector": {"matchExpressions": [
                        {"key": "version", "operator": "Exists"}]}}
        if roll in (5, 6):
            return {"ipBlock": self._ip_block()}
        if roll == 7:
            return {"namespaceSelector": {}}
        return {"podSelector": {}}

    def _ports(self) -> list[Doc]:
        rng = self.rng
        choices: list[Doc] = [
            {"port": "http"},
            {"protocol": "TCP", "port": 8080},
            {"port": 443},
            {"port": 8000, "endPort": 8100},
            {"protocol": "UDP", "port": 5000, "endPort": 5100},
            {"port": "metrics"},
            {"protocol": "UDP", "port": "dns"},
            {"protocol": "SCTP", "port": "diameter"},
            {"protocol": "SCTP"},
            {"protocol": "UDP"},
            {"port": 5432},
            {"port": "db"},
            {"port": "dns"},  # TCP by default while dns is UDP: never matches
            {"protocol": "UDP", "port": 8125},
            {"port": 6379, "endPort": 6380},
        ]
        ports = [dict(p) for p in rng.sample(choices, rng.randint(1, 3))]
        if self.p.random_ports:
            first = rng.randint(1024, 60000)
            ports.append({"port": first, "endPort": first + rng.randint(0, 50)}
                         if rng.random() < 0.5
                         else {"protocol": rng.choice(("TCP", "UDP")), "port": first})
        return ports

    def _rule(self, ns: _NamespaceState, direction: str) -> Doc:
        rng = self.rng
        peer_key = "from" if direction == "ingress" else "to"
        rule: Doc = {}
        roll = rng.random()
        if roll < 0.85:
            rule[peer_key] = [self._peer(ns) for _ in range(rng.randint(1, 3))]
        elif roll < 0.9:
            rule[peer_key] = []
        if rng.random() < 0.75:
            rule["ports"] = self._ports()
        elif rng.random() < 0.2:
            rule["ports"] = []
        return rule

    def _subject(self, ns: _NamespaceState) -> Doc:
        rng = self.rng
        roll = rng.randrange(6)
        if roll == 0:
            return {}
        if roll == 1:
            return {"matchLabels": {"tier": rng.choice(("web", "api", "db", "backend"))}}
        if roll == 2:
            return {"matchExpressions": [{"key": "tier", "operator": "In",
                                          "values": ["api", "web", "voice"]}]}
        if roll == 3:
            return {"matchExpressions": [{"key": "canary", "operator": "Exists"}]}
        sel = self._app_selector(ns)
        if roll == 5 and sel["matchLabels"]["app"] != "nothing":
            sel["matchLabels"]["team"] = ns.team
        return sel

    def _policy_spec(self, ns: _NamespaceState, template: str) -> Doc:
        rng = self.rng
        if template == "deny-ingress":
            spec: Doc = {"podSelector": {}}
            if rng.random() < 0.5:
                spec["policyTypes"] = ["Ingress"]
            return spec
        if template == "deny-egress":
            return {"podSelector": {}, "policyTypes": ["Egress"]}
        if template == "deny-all":
            return {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
        if template == "allow-dns":
            return {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{
                "to": [{"namespaceSelector": {
                    "matchLabels": {"kubernetes.io/metadata.name": SYSTEM_NAMESPACE}},
                        "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
                "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}]}
        if template == "allow-monitoring":
            return {"podSelector": {"matchExpressions": [
                {"key": "tier", "operator": "NotIn", "values": ["batch"]}]},
                "ingress": [{"from": [
                    {"namespaceSelector": {"matchLabels": {
                        "kubernetes.io/metadata.name": MONITORING_NAMESPACE}},
                     "podSelector": {"matchLabels": {"app": "prometheus"}}},
                    {"ipBlock": {"cidr": "172.16.0.0/16"}}],
                    "ports": [{"port": "metrics"}]}]}
        if template == "egress-internet":
            spec = {"podSelector": self._subject(ns), "egress": [{
                "to": [{"ipBlock": {"cidr": "0.0.0.0/0",
                                    "except": ["10.0.0.0/8", "172.16.0.0/12"]}},
                       {"ipBlock": {"cidr": "::/0", "except": ["fd00::/8"]}}],
                "ports": [{"port": 443}, {"protocol": "UDP", "port": 443}]}]}
            if rng.random() < 0.5:
                spec["policyTypes"] = ["Egress"]  # else defaulted to [Ingress, Egress]
            return spec
        if template == "allow-all":
            spec = {"podSelector": self._subject(ns), "ingress": [{}]}
            if rng.random() < 0.5:
                spec["egress"] = [{}]
                spec["policyTypes"] = ["Ingress", "Egress"]
            return spec
        if template == "egress-only-with-ignored-ingress":
            return {"podSelector": self._subject(ns), "policyTypes": ["Egress"],
                    "ingress": [self._rule(ns, "ingress")],
                    "egress": [self._rule(ns, "egress") for _ in range(rng.randint(1, 2))]}
        if template == "empty-policy-types":
            return {"podSelector": self._subject(ns), "policyTypes": [],
                    "egress": [self._rule(ns, "egress")]}
        # "mixed": the common shape, rules in one or both directions
        spec = {"podSelector": self._subject(ns)}
        roll = rng.random()
        if roll < 0.6:
            spec["ingress"] = [self._rule(ns, "ingress") for _ in range(rng.randint(1, 3))]
        elif roll < 0.85:
            spec["egress"] = [self._rule(ns, "egress") for _ in range(rng.randint(1, 3))]
            spec["policyTypes"] = ["Egress"]
        else:
            spec["ingress"] = [self._rule(ns, "ingress") for _ in range(rng.randint(1, 2))]
            spec["egress"] = [self._rule(ns, "egress") for _ in range(rng.randint(1, 2))]
            orders = (["Ingress", "Egress"], ["Egress", "Ingress"])
            spec["policyTypes"] = orders[0 if self.p.peer_compatible else rng.randrange(2)]
        return spec

    def make_policies(self) -> None:
        rng = self.rng
        remaining = self.p.policies
        count = 0

        def add(ns: _NamespaceState, template: str) -> None:
            nonlocal count
            ns.docs.append({
                "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                "metadata": {"name": f"{template}-{count}", "namespace": ns.name},
                "spec": self._policy_spec(ns, template)})
            count += 1

        # Most team namespaces start with a default deny and a DNS allowance.
        for ns in self.namespaces[2:]:
            if remaining <= 0:
                break
            if rng.random() < 0.6:
                add(ns, rng.choice(("deny-ingress", "deny-ingress", "deny-all", "deny-egress")))
                remaining -= 1
                if remaining > 0 and rng.random() < 0.5:
                    add(ns, "allow-dns")
                    remaining -= 1
        weighted = (["mixed"] * 12 + ["allow-monitoring", "egress-internet", "allow-all",
                                       "empty-policy-types", "deny-ingress", "allow-dns"])
        if not self.p.peer_compatible:
            weighted.append("egress-only-with-ignored-ingress")
        for _ in range(remaining):
            add(rng.choice(self.namespaces), rng.choice(weighted))


    # --- cluster-wide policies -------------------------------------------------------

    def _namespaces_selector(self) -> Doc:
        rng = self.rng
        roll = rng.randrange(6)
        if roll == 0:
            return {}
        if roll == 1:
            return {"matchLabels": {"team": rng.choice(TEAMS)}}
        if roll == 2:
            return {"matchLabels": {"env": rng.choice(ENVS)}}
        if roll == 3:
            return {"matchExpressions": [{"key": "compliance", "operator": "Exists"}]}
        if roll == 4:
            return {"matchExpressions": [{"key": "kubernetes.io/metadata.name",
                                          "operator": "NotIn",
                                          "values": [SYSTEM_NAMESPACE, MONITORING_NAMESPACE]}]}
        return {"matchLabels": {"kubernetes.io/metadata.name":
                                rng.choice(self.namespaces).name}}

    def _cluster_subject(self) -> Doc:
        if self.rng.random() < 0.7:
            return {"namespaces": self._namespaces_selector()}
        return {"pods": {"namespaceSelector": self._namespaces_selector(),
                         "podSelector": {"matchLabels": {"tier": self.rng.choice(
                             ("web", "api", "db", "backend", "cache"))}}}}

    def _cluster_peer(self, egress: bool, named: bool) -> Doc:
        rng = self.rng
        roll = rng.randrange(10 if egress and not named else 6)
        if roll < 3:
            return {"namespaces": self._namespaces_selector()}
        if roll < 6:
            return {"pods": {"namespaceSelector": self._namespaces_selector(),
                             "podSelector": {"matchLabels": {"tier": rng.choice(
                                 ("web", "api", "db", "backend", "monitoring", "dns"))}}}}
        if roll < 8:
            return {"networks": [self._ip_block()["cidr"]]}
        if roll < 9:
            return {"nodes": rng.choice(({}, {"matchLabels": {"pool": "infra"}}))}
        return {"domainNames": [rng.choice(("api.example.com", "*.payments.example"))]}

    def _cluster_ports(self, v1alpha1: bool) -> tuple[list[Doc], bool]:
        """Entries and whether one is a named port."""
        rng = self.rng
        picks = rng.sample(range(6), rng.randint(1, 2))
        out: list[Doc] = []
        named = False
        for pick in picks:
            proto, number, end = rng.choice((("TCP", 443, 0), ("TCP", 8080, 0),
                                             ("UDP", 53, 0), ("TCP", 30000, 32767),
                                             ("TCP", 5432, 0), ("SCTP", 3868, 0),
                                             ("UDP", 5000, 5100)))
            if pick == 5:
                named = True
                name = rng.choice(("metrics", "http", "dns", "db"))
                out.append({"namedPort": name} if v1alpha1 else {"destinationNamedPort": name})
            elif v1alpha1:
                out.append({"portRange": {"protocol": proto, "start": number, "end": end}}
                           if end else {"portNumber": {"protocol": proto, "port": number}})
            else:
                dest: Doc = ({"range": {"start": number, "end": end}} if end
                             else {"number": number})
                out.append({proto.lower(): {"destinationPort": dest}})
        return out, named

    def _cluster_rules(self, direction: str, actions: Sequence[str],
                       v1alpha1: bool) -> list[Doc]:
        rng = self.rng
        rules: list[Doc] = []
        for i in range(rng.randint(1, 4)):
            action = rng.choice(actions)
            rule: Doc = {"name": f"{direction}-{i}", "action": action}
            ports: list[Doc] = []
            named = False
            if rng.random() < 0.6:
                ports, named = self._cluster_ports(v1alpha1)
            egress = direction == "egress"
            peers = [self._cluster_peer(egress, named) for _ in range(rng.randint(1, 2))]
            if action not in ("Accept", "Allow"):
                peers = [peer for peer in peers if "domainNames" not in peer] or [
                    {"namespaces": {}}]
            rule["to" if egress else "from"] = peers
            if ports:
                rule["ports" if v1alpha1 else "protocols"] = ports
            rules.append(rule)
        return rules

    def _cluster_spec(self, v1alpha1: bool, actions: Sequence[str]) -> Doc:
        spec: Doc = {"subject": self._cluster_subject()}
        roll = self.rng.random()
        if roll < 0.6:
            spec["ingress"] = self._cluster_rules("ingress", actions, v1alpha1)
        if roll > 0.4:
            spec["egress"] = self._cluster_rules("egress", actions, v1alpha1)
        return spec

    def make_cluster_policies(self) -> None:
        """A platform team's tiers: fixed guard rails first, then random policies, priorities
        spread over 0..1000 with some ties."""
        if not (self.p.admin_policies or self.p.baseline_policies):
            return
        rng = self.rng
        api1 = "policy.networking.k8s.io/v1alpha1"
        api2 = "policy.networking.k8s.io/v1alpha2"
        for node in range(self.nodes):
            labels = {"kubernetes.io/os": "linux",
                      "pool": "infra" if node % 10 == 0 else "workers"}
            self.cluster_docs.append({
                "apiVersion": "v1", "kind": "Node",
                "metadata": {"name": f"node-{node}", "labels": labels},
                "status": {"addresses": [
                    {"type": "InternalIP", "address": f"172.16.{node // 250}.{node % 250 + 1}"},
                    {"type": "Hostname", "address": f"node-{node}"}]}})
        dns_peer = {"pods": {"namespaceSelector": {"matchLabels": {
            "kubernetes.io/metadata.name": SYSTEM_NAMESPACE}},
            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}}
        fixed = [
            ("dns-for-everyone", 1, {"subject": {"namespaces": {}}, "egress": [
                {"name": "dns", "action": "Accept", "to": [dns_peer], "protocols": [
                    {"udp": {"destinationPort": {"number": 53}}},
                    {"tcp": {"destinationPort": {"number": 53}}}]}]}),
            ("protect-kube-system", 2, {
                "subject": {"namespaces": {"matchLabels": {
                    "kubernetes.io/metadata.name": SYSTEM_NAMESPACE}}},
                "ingress": [{"name": "dns", "action": "Accept", "from": [{"namespaces": {}}],
                             "protocols": [{"udp": {"destinationPort": {"number": 53}}},
                                           {"tcp": {"destinationPort": {"number": 53}}}]},
                            {"name": "rest", "action": "Deny",
                             "from": [{"namespaces": {}}]}]}),
        ]
        for i in range(self.p.admin_policies):
            if i < len(fixed):
                name, priority, spec = fixed[i]
                self.cluster_docs.append({"apiVersion": api2, "kind": "ClusterNetworkPolicy",
                                          "metadata": {"name": name},
                                          "spec": {"tier": "Admin", "priority": priority,
                                                   **spec}})
                continue
            priority = rng.randrange(0, 1001, 5)
            if rng.random() < 0.25:
                spec = self._cluster_spec(True, ("Allow", "Deny", "Pass"))
                self.cluster_docs.append({"apiVersion": api1, "kind": "AdminNetworkPolicy",
                                          "metadata": {"name": f"admin-{i}"},
                                          "spec": {"priority": priority, **spec}})
            else:
                spec = self._cluster_spec(False, ("Accept", "Deny", "Pass"))
                self.cluster_docs.append({"apiVersion": api2, "kind": "ClusterNetworkPolicy",
                                          "metadata": {"name": f"admin-{i}"},
                                          "spec": {"tier": "Admin", "priority": priority,
                                                   **spec}})
        for i in range(self.p.baseline_policies):
            if i == 0:
                spec = {"subject": {"namespaces": {"matchExpressions": [
                    {"key": "team", "operator": "Exists"}]}},
                    "ingress": [{"name": "default-deny", "action": "Deny",
                                 "from": [{"namespaces": {}}]}]}
                self.cluster_docs.append({"apiVersion": api1,
                                          "kind": "BaselineAdminNetworkPolicy",
                                          "metadata": {"name": "default"}, "spec": spec})
                continue
            spec = self._cluster_spec(False, ("Accept", "Deny", "Pass"))
            self.cluster_docs.append({"apiVersion": api2, "kind": "ClusterNetworkPolicy",
                                      "metadata": {"name": f"baseline-{i}"},
                                      "spec": {"tier": "Baseline",
                                               "priority": rng.randrange(0, 1001, 50),
                                               **spec}})


def generate(params: Params) -> dict[str, list[Doc]]:
    """File name -> the manifests in it, one file per namespace, deterministic in the seed."""
    gen = _Generator(params)
    gen.make_namespaces()
    gen.make_pods()
    gen.make_policies()
    gen.make_cluster_policies()
    files = {f"{i:04d}-{ns.name}.yaml": ns.docs for i, ns in enumerate(gen.namespaces)
             if ns.docs}
    if gen.cluster_docs:
        files["cluster.yaml"] = gen.cluster_docs
    return files


# --- YAML emitter ------------------------------------------------------------------------

_PLAIN_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_./-]*\Z")
_YAML_WORDS = {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}


def _key(key: str) -> str:
    if _PLAIN_KEY.match(key) and key.lower() not in _YAML_WORDS:
        return key
    return json.dumps(key)


def _scalar(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if value is None:
        return "null"
    text = str(value)
    if _PLAIN_KEY.match(text) and text.lower() not in _YAML_WORDS:
        return text
    # JSON string escapes are a subset of YAML's double-quoted style.
    return json.dumps(text)


def _emit(value: object, indent: str, out: list[str]) -> None:
    """Append the block-style lines of a mapping or sequence value (not a scalar)."""
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(v, dict | list) and v:
                out.append(f"{indent}{_key(k)}:")
                _emit(v, indent + "  ", out)
            else:
                out.append(f"{indent}{_key(k)}: {_flow_empty(v)}")
        return
    assert isinstance(value, list)
    for item in value:
        if isinstance(item, dict) and item:
            sub: list[str] = []
            _emit(item, indent + "  ", sub)
            sub[0] = f"{indent}- {sub[0][len(indent) + 2:]}"
            out.extend(sub)
        elif isinstance(item, list) and item:
            out.append(f"{indent}-")
            _emit(item, indent + "  ", out)
        else:
            out.append(f"{indent}- {_flow_empty(item)}")


def _flow_empty(value: object) -> str:
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return _scalar(value)


def to_yaml(docs: Sequence[Doc]) -> str:
    """A multi-document YAML stream of the manifests."""
    out: list[str] = []
    for doc in docs:
        out.append("---")
        _emit(doc, "", out)
    out.append("")
    return "\n".join(out)


def write(files: dict[str, list[Doc]], directory: Path) -> None:
    """Write the manifests, replacing any YAML files a previous run left in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("*.yaml"):
        old.unlink()
    for name, docs in files.items():
        (directory / name).write_text(to_yaml(docs), encoding="utf-8")


def iter_docs(files: dict[str, list[Doc]]) -> Iterator[Doc]:
    for docs in files.values():
        yield from docs


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("directory", type=Path, help="where to write the YAML files")
    parser.add_argument("--pods", type=int, default=700)
    parser.add_argument("--namespaces", type=int, help="default: pods / 20 (at least 3)")
    parser.add_argument("--policies", type=int, help="default: pods / 3")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--random-ports", action="store_true",
                        help="add a random port or range to every rule (many distinct ports)")
    parser.add_argument("--admin-policies", type=int, default=0,
                        help="Admin-tier cluster-wide policies (ClusterNetworkPolicy, a "
                        "quarter as AdminNetworkPolicy)")
    parser.add_argument("--baseline-policies", type=int, default=0,
                        help="Baseline-tier cluster-wide policies (the first is the "
                        "BaselineAdminNetworkPolicy)")
    parser.add_argument("--all-shapes", action="store_true",
                        help="also emit API-valid shapes network-config-analyzer refuses")
    args = parser.parse_args(argv)
    base = default_params(args.pods, args.seed)
    params = Params(args.pods, args.namespaces or base.namespaces,
                    base.policies if args.policies is None else args.policies, args.seed,
                    peer_compatible=not args.all_shapes, random_ports=args.random_ports,
                    admin_policies=args.admin_policies,
                    baseline_policies=args.baseline_policies)
    start = time.perf_counter()
    try:
        files = generate(params)
    except ValueError as exc:
        parser.error(str(exc))
    write(files, args.directory)
    tiers = (f", {params.admin_policies} admin and {params.baseline_policies} baseline "
             "cluster-wide policies" if params.admin_policies or params.baseline_policies
             else "")
    print(f"wrote {params.pods} pods, {params.namespaces} namespaces, {params.policies} "
          f"policies{tiers} in {len(files)} files to {args.directory} "
          f"({time.perf_counter() - start:.2f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
