"""Clusters shaped unlike ``generate.py``'s, up to Kubernetes' limit, to find what breaks.

An independent generator (it shares no code with ``generate.py``): Deployments, StatefulSets
and a kube-proxy DaemonSet owning pods through ``ownerReferences``, ``app.kubernetes.io/*``
labels, kubectl-style YAML (keys sorted, sequences not indented, UIDs unquoted) or one
``kubectl get -o json`` List. Each ``--shape`` adds one way real clusters differ from ours;
``python -m benchmarks.shapes DIR --pods N --shape a,b`` (see ``benchmarks/README.md``).
Namespaces are written one at a time, so 150,000 pods with their bulk fit in little memory.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TextIO

Doc = dict[str, Any]

SHAPES = {
    "unique-labels": "every pod a unique label (StatefulSet pod-name and pod-index, an "
                     "instance id on the others), half the pods in StatefulSets, 2 to 8 of 60 "
                     "extra label keys on each pod",
    "pod-name-selectors": "policies that select single StatefulSet replicas, and all of "
                          "them with `statefulset.kubernetes.io/pod-name Exists`",
    "ns-expressions": "namespaces with 12 to 18 labels; peers choose namespaces with "
                      "matchExpressions (In, NotIn, Exists, DoesNotExist) across them",
    "ipblocks": "default deny both ways everywhere, egress-heavy allow-lists of 5 to 40 "
                "ipBlocks with excepts, inside the pod CIDR (node pools, nodes, pods) and out",
    "named-ports": "containers with 4 to 10 named ports from 40 names, numbers per app; "
                   "rules on named ports, endPort ranges, UDP and SCTP",
    "pod-expressions": "podSelectors with NotIn and DoesNotExist over app, version, "
                       "instance and pod-index, giving many behaviour classes",
    "bulk": "what `kubectl get -o yaml` really carries: annotations, managedFields, status "
            "conditions and container statuses, several containers with env and resources",
}
LAYOUTS = ("dir", "one-yaml", "list-json")

TEAMS = ("payments", "search", "identity", "checkout", "catalog", "ads", "maps", "mail",
         "video", "billing", "ml", "data", "edge", "growth", "infra", "risk")
ENVS = ("prod", "staging", "dev", "qa")
REGIONS = ("eu-west-1", "eu-central-1", "us-east-1", "us-west-2", "ap-south-1", "sa-east-1")
COMPONENTS = ("frontend", "api", "worker", "cache", "database", "queue", "gateway")
PORT_NAMES = ("http", "https", "grpc", "metrics", "http-metrics", "admin", "health", "debug",
              "jmx", "profiler", "ws", "gossip", "raft", "replication", "client", "peer",
              "cluster", "mgmt", "stats", "tcp-app", "udp-dns", "udp-syslog", "udp-statsd",
              "udp-quic", "sctp-s1ap", "sctp-diam", "sip", "rtp", "amqp", "mqtt", "redis",
              "postgres", "mysql", "kafka", "zk-client", "zk-peer", "es-http", "es-transport",
              "otlp-grpc", "otlp-http")
POD_CIDR_BASE = 128  # pods on node n: 10.(128 + n // 256).(n % 256).0/24
PODS_PER_NODE = 100
HASH_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # the apimachinery "safe" alphabet


@dataclass(frozen=True)
class Params:
    pods: int
    namespaces: int
    policies: int
    seed: int = 1
    shapes: frozenset[str] = frozenset()
    edit: bool = False  # move one policy's port by one (the diff's NEW side)

    @property
    def nodes(self) -> int:
        return max(3, -(-self.pods // PODS_PER_NODE))


@dataclass
class App:
    name: str
    kind: str  # Deployment or StatefulSet
    component: str
    replicas: int
    labels: dict[str, str]
    ports: list[tuple[str, int, str]]  # (name, number, protocol)
    template_hash: str
    pods: list[Doc] = field(default_factory=list)


@dataclass
class Namespace:
    index: int
    name: str
    labels: dict[str, str]
    pods: int
    policies: int


def _rng(params: Params, *parts: object) -> random.Random:
    text = ":".join(str(p) for p in (params.seed, *parts))
    return random.Random(int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big"))


def _uid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


def _hash(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(HASH_ALPHABET) for _ in range(n))


def _split(rng: random.Random, total: int, parts: int, alpha: float) -> list[int]:
    """``total`` split into ``parts`` positive long-tailed shares."""
    weights = [min(rng.paretovariate(alpha), 200.0) for _ in range(parts)]
    scale = (total - parts) / sum(weights)
    shares = [1 + int(w * scale) for w in weights]
    for i in range(total - sum(shares)):
        shares[i % parts] += 1
    return shares


TIMESTAMP = "2026-11-{:02d}T{:02d}:{:02d}:{:02d}Z"


def _stamp(rng: random.Random) -> str:
    return TIMESTAMP.format(rng.randint(1, 28), rng.randint(0, 23), rng.randint(0, 59),
                            rng.randint(0, 59))


class Cluster:
    """The cluster, namespace by namespace (``namespace_docs``), deterministic in the seed."""

    def __init__(self, params: Params) -> None:
        self.p = params
        self.shapes = params.shapes
        rng = _rng(params, "cluster")
        self.node_hosts = [0] * params.nodes
        self.next_node = 0
        system = ["kube-system", "ingress-nginx", "monitoring"]
        count = max(params.namespaces, len(system) + 1)
        pods = _split(rng, params.pods - params.nodes, count, 1.3) if params.pods > \
            params.nodes + count else [1] * count
        policies = _split(rng, max(params.policies, count), count, 1.6)
        self.namespaces: list[Namespace] = []
        for i in range(count):
            if i < len(system):
                name = system[i]
                labels = {"kubernetes.io/metadata.name": name}
            else:
                team, env = TEAMS[i % len(TEAMS)], ENVS[(i // len(TEAMS)) % len(ENVS)]
                name = f"{team}-{env}-{i:04d}"
                labels = {"kubernetes.io/metadata.name": name, "team": team, "env": env}
                if "ns-expressions" in self.shapes:
                    labels.update(self._many_ns_labels(rng, i))
            self.namespaces.append(Namespace(i, name, labels, pods[i], policies[i]))
        self.namespaces[1].pods = max(self.namespaces[1].pods, 2)  # ingress controllers
        self.edited: str | None = None
        self.edit_at = _rng(params, "edit").randrange(len(system), count)

    @staticmethod
    def _many_ns_labels(rng: random.Random, i: int) -> dict[str, str]:
        labels = {"region": rng.choice(REGIONS), "tenant": f"t{rng.randrange(300):03d}",
                  "cost-center": f"cc-{rng.randrange(1000):04d}",
                  "pod-security.kubernetes.io/enforce": rng.choice(("baseline", "restricted")),
                  "istio-injection": rng.choice(("enabled", "disabled")),
                  "owner": f"group-{rng.randrange(120)}",
                  "tier": rng.choice(("gold", "silver", "bronze")),
                  "app.kubernetes.io/part-of": f"product-{rng.randrange(80)}"}
        extra = ("compliance", "pci", "legacy", "shared", "public", "data-classification",
                 "backup", "sre-oncall", "network-zone", "gdpr")
        for key in rng.sample(extra, rng.randint(4, 10)):
            labels[key] = rng.choice(("true", "high", "internal", "zone-a", "zone-b", f"v{i % 7}"))
        return labels

    # --- pods -------------------------------------------------------------------------

    def _node(self) -> int:
        for _ in range(self.p.nodes):
            node = self.next_node
            self.next_node = (self.next_node + 1) % self.p.nodes
            if self.node_hosts[node] < 250:
                return node
        raise ValueError("more pods than the nodes' /24s hold")

    def _pod_ip(self, node: int) -> str:
        self.node_hosts[node] += 1
        return f"10.{POD_CIDR_BASE + node // 256}.{node % 256}.{self.node_hosts[node] + 2}"

    @staticmethod
    def node_ip(node: int) -> str:
        return f"192.168.{node // 250}.{node % 250 + 1}"

    def _apps(self, rng: random.Random, ns: Namespace) -> list[App]:
        apps: list[App] = []
        left = ns.pods
        k = 0
        while left > 0:
            stateful = rng.random() < (0.5 if "unique-labels" in self.shapes else 0.2)
            replicas = min(left, max(1, int(rng.paretovariate(1.4))) if stateful
                           else max(1, int(rng.paretovariate(1.1) * 1.5)))
            left -= replicas
            component = rng.choice(COMPONENTS)
            name = f"{component}-{k}" if rng.random() < 0.5 else f"svc{rng.randrange(10**4)}-{k}"
            version = f"{rng.randint(1, 4)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}"
            labels = {"app.kubernetes.io/name": name,
                      "app.kubernetes.io/instance": f"{name}-{ns.name}",
                      "app.kubernetes.io/component": component,
                      "app.kubernetes.io/part-of": f"{ns.name.split('-')[0]}-suite",
                      "app.kubernetes.io/managed-by": "Helm",
                      "app.kubernetes.io/version": version,
                      "helm.sh/chart": f"{component}-{rng.randint(0, 9)}.{rng.randint(0, 30)}.0"}
            if rng.random() < 0.1:
                del labels["app.kubernetes.io/version"]
            apps.append(App(name, "StatefulSet" if stateful else "Deployment", component,
                            replicas, labels, self._ports(rng, component), _hash(rng, 10)))
            k += 1
        return apps

    def _ports(self, rng: random.Random, component: str) -> list[tuple[str, int, str]]:
        if "named-ports" in self.shapes:
            names = rng.sample(PORT_NAMES, rng.randint(4, 10))
            ports = []
            for n in names:
                proto = "UDP" if n.startswith("udp-") else "SCTP" if n.startswith("sctp-") \
                    else "TCP"
                ports.append((n, rng.choice((80, 443, 8080, 8443, 9090, 9100, 5000)) +
                              rng.randrange(0, 40), proto))
            numbers = [p[1] for p in ports]
            if len(set(numbers)) != len(numbers):  # distinct containerPorts per pod
                ports = [(n, 10000 + 13 * i + num % 7, proto)
                         for i, (n, num, proto) in enumerate(ports)]
            return ports
        main = {"frontend": 8080, "api": 8080, "worker": 9000, "cache": 6379, "database": 5432,
                "queue": 5672, "gateway": 8443}[component]
        return [("http" if component in ("frontend", "api") else "tcp-app", main, "TCP"),
                ("metrics", 9090, "TCP")]

    def _pod(self, rng: random.Random, ns: Namespace, app: App, owner: Doc,
             index: int) -> Doc:
        node = self._node()
        ip = self._pod_ip(node)
        labels = dict(app.labels)
        if app.kind == "StatefulSet":
            name = f"{app.name}-{index}"
            labels["controller-revision-hash"] = f"{app.name}-{app.template_hash}"
            labels["statefulset.kubernetes.io/pod-name"] = name
            labels["apps.kubernetes.io/pod-index"] = str(index)
        else:
            name = f"{app.name}-{app.template_hash}-{_hash(rng, 5)}"
            labels["pod-template-hash"] = app.template_hash
            if "unique-labels" in self.shapes:
                labels["sidecar.example.com/instance-id"] = _hash(rng, 12)
        if "unique-labels" in self.shapes:
            for j in rng.sample(range(60), rng.randint(2, 8)):
                labels[f"feature.example.com/f{(ns.index + j) % 60}"] = rng.choice(
                    ("on", "off", f"variant-{j % 5}"))
        containers = [self._container(rng, app, main=True)]
        if "bulk" in self.shapes:
            containers += [self._sidecar(rng, s) for s in
                           rng.sample(("istio-proxy", "log-shipper", "vault-agent"),
                                      rng.randint(1, 2))]
        spec: Doc = {"containers": containers, "nodeName": f"node-{node}"}
        status: Doc = {"phase": "Running", "hostIP": self.node_ip(node), "podIP": ip,
                       "podIPs": [{"ip": ip}]}
        meta: Doc = {"name": name, "namespace": ns.name, "labels": labels,
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": owner["kind"],
                                          "name": owner["metadata"]["name"],
                                          "uid": owner["metadata"]["uid"],
                                          "controller": True, "blockOwnerDeletion": True}]}
        if "bulk" in self.shapes:
            self._bulk(rng, meta, spec, status, containers)
        return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec,
                "status": status}

    def _container(self, rng: random.Random, app: App, *, main: bool) -> Doc:
        version = app.labels.get("app.kubernetes.io/version", "1.0.0")
        c: Doc = {"name": app.name if main else "sidecar",
                  "image": f"registry.example.com/{app.component}:{version}",
                  "ports": [{"name": n, "containerPort": num, "protocol": proto}
                            for n, num, proto in app.ports]}
        if "bulk" in self.shapes:
            c.update({
                "env": [{"name": f"ENV_{k}", "value": rng.choice(("true", "info", "0800",
                                                                  "https://api.example.com/v1",
                                                                  "yes", "3", "1.5"))}
                        for k in range(rng.randint(3, 12))] + [
                    {"name": "POD_NAME", "valueFrom": {"fieldRef": {
                        "apiVersion": "v1", "fieldPath": "metadata.name"}}}],
                "resources": {"limits": {"cpu": "1", "memory": "512Mi"},
                              "requests": {"cpu": "100m", "memory": "256Mi"}},
                "imagePullPolicy": "IfNotPresent",
                "livenessProbe": {"httpGet": {"path": "/healthz", "port": app.ports[0][1],
                                              "scheme": "HTTP"},
                                  "failureThreshold": 3, "periodSeconds": 10,
                                  "successThreshold": 1, "timeoutSeconds": 1},
                "terminationMessagePath": "/dev/termination-log",
                "terminationMessagePolicy": "File",
                "volumeMounts": [{"mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
                                  "name": f"kube-api-access-{_hash(rng, 5)}",
                                  "readOnly": True}],
                "securityContext": {"allowPrivilegeEscalation": False,
                                    "capabilities": {"drop": ["ALL"]},
                                    "runAsNonRoot": True}})
        return c

    @staticmethod
    def _sidecar(rng: random.Random, name: str) -> Doc:
        sidecar: Doc = {"name": name, "image": f"docker.io/example/{name}:1.{rng.randint(0, 22)}.0",
                "args": ["--log-level=info", "--drain-duration=45s", "--config=/etc/x.yaml"],
                "resources": {"limits": {"cpu": "2", "memory": "1Gi"},
                              "requests": {"cpu": "10m", "memory": "40Mi"}},
                "env": [{"name": "PROXY_CONFIG", "value": "{}\n"},
                        {"name": "ISTIO_META_POD_PORTS", "value": "[\n]"}]}
        if name == "istio-proxy":
            sidecar["ports"] = [{"containerPort": 15090, "name": "http-envoy-prom",
                                 "protocol": "TCP"}]
        return sidecar

    def _bulk(self, rng: random.Random, meta: Doc, spec: Doc, status: Doc,
              containers: list[Doc]) -> None:
        created = _stamp(rng)
        meta.update({
            "uid": _uid(rng), "resourceVersion": str(rng.randrange(10**6, 10**9)),
            "creationTimestamp": created, "generateName": meta["name"].rsplit("-", 1)[0] + "-",
            "annotations": {
                "kubectl.kubernetes.io/restartedAt": created,
                "prometheus.io/scrape": "true", "prometheus.io/port": "9090",
                "sidecar.istio.io/status": json.dumps({"initContainers": None,
                                                      "containers": ["istio-proxy"],
                                                      "volumes": ["istio-envoy"]}),
                "checksum/config": hashlib.sha256(meta["name"].encode()).hexdigest()},
            "managedFields": [
                {"apiVersion": "v1", "fieldsType": "FieldsV1", "manager": "kube-controller-manager",
                 "operation": "Update", "time": created, "fieldsV1": {
                     "f:metadata": {"f:generateName": {}, "f:labels": {
                         ".": {}, **{f"f:{k}": {} for k in meta["labels"]}},
                         "f:ownerReferences": {".": {}, f'k:{{"uid":"{_uid(rng)}"}}': {}}},
                     "f:spec": {"f:containers": {
                         f'k:{{"name":"{c["name"]}"}}': {".": {}, "f:image": {}, "f:name": {},
                                                       "f:resources": {".": {}}}
                         for c in containers}}}},
                {"apiVersion": "v1", "fieldsType": "FieldsV1", "manager": "kubelet",
                 "operation": "Update", "subresource": "status", "time": created,
                 "fieldsV1": {"f:status": {"f:conditions": {
                     f'k:{{"type":"{t}"}}': {".": {}, "f:lastProbeTime": {},
                                             "f:lastTransitionTime": {}, "f:status": {},
                                             "f:type": {}}
                     for t in ("ContainersReady", "Initialized", "Ready")},
                     "f:podIP": {}, "f:podIPs": {".": {}, f'k:{{"ip":"{status["podIP"]}"}}':
                                                  {".": {}, "f:ip": {}}}}}}]})
        spec.update({"dnsPolicy": "ClusterFirst", "enableServiceLinks": True,
                     "preemptionPolicy": "PreemptLowerPriority", "priority": 0,
                     "restartPolicy": "Always", "schedulerName": "default-scheduler",
                     "securityContext": {"fsGroup": 2000, "runAsUser": 1000},
                     "serviceAccount": "default", "serviceAccountName": "default",
                     "terminationGracePeriodSeconds": 30,
                     "tolerations": [{"effect": "NoExecute", "key": k, "operator": "Exists",
                                      "tolerationSeconds": 300}
                                     for k in ("node.kubernetes.io/not-ready",
                                               "node.kubernetes.io/unreachable")],
                     "volumes": [{"name": "kube-api-access", "projected": {
                         "defaultMode": 420, "sources": [
                             {"serviceAccountToken": {"expirationSeconds": 3607,
                                                      "path": "token"}},
                             {"configMap": {"items": [{"key": "ca.crt", "path": "ca.crt"}],
                                            "name": "kube-root-ca.crt"}}]}}]})
        status.update({
            "qosClass": "Burstable", "startTime": created,
            "conditions": [{"lastProbeTime": None, "lastTransitionTime": created,
                            "status": "True", "type": t}
                           for t in ("Initialized", "Ready", "ContainersReady",
                                     "PodScheduled")],
            "containerStatuses": [{
                "containerID": f"containerd://{rng.getrandbits(256):064x}",
                "image": c["image"], "imageID": f"{c['image']}@sha256:{rng.getrandbits(256):064x}",
                "lastState": {}, "name": c["name"], "ready": True, "restartCount": 0,
                "started": True, "state": {"running": {"startedAt": created}}}
                for c in containers]})

    def _owners(self, rng: random.Random, ns: Namespace, app: App) -> tuple[list[Doc], Doc]:
        """The app's workload objects, and the one that owns its pods."""
        selector = {k: v for k, v in app.labels.items()
                    if k in ("app.kubernetes.io/instance", "k8s-app")} or dict(app.labels)
        template = {"metadata": {"labels": dict(app.labels)}, "spec": {"containers": [
            {"name": app.name, "image": "registry.example.com/app:1"}]}}

        def obj(kind: str, name: str, spec: Doc, owner: Doc | None = None) -> Doc:
            meta: Doc = {"name": name, "namespace": ns.name, "uid": _uid(rng),
                         "labels": dict(app.labels)}
            if owner is not None:
                meta["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": owner["kind"],
                                            "name": owner["metadata"]["name"],
                                            "uid": owner["metadata"]["uid"],
                                            "controller": True, "blockOwnerDeletion": True}]
            return {"apiVersion": "apps/v1", "kind": kind, "metadata": meta, "spec": spec}

        spec = {"replicas": app.replicas, "selector": {"matchLabels": selector},
                "template": template}
        if app.kind == "StatefulSet":
            sts = obj("StatefulSet", app.name, {**spec, "serviceName": app.name})
            return [sts], sts
        dep = obj("Deployment", app.name, spec)
        rs_template = json.loads(json.dumps(template))
        rs_template["metadata"]["labels"]["pod-template-hash"] = app.template_hash
        rs = obj("ReplicaSet", f"{app.name}-{app.template_hash}",
                 {**spec, "template": rs_template}, dep)
        return [dep, rs], rs

    def kube_proxy(self) -> list[Doc]:
        """A hostNetwork pod on every node, as kube-proxy runs."""
        rng = _rng(self.p, "kube-proxy")
        ds: Doc = {"apiVersion": "apps/v1", "kind": "DaemonSet",
                   "metadata": {"name": "kube-proxy", "namespace": "kube-system",
                                "uid": _uid(rng), "labels": {"k8s-app": "kube-proxy"}},
                   "spec": {"selector": {"matchLabels": {"k8s-app": "kube-proxy"}},
                            "template": {"metadata": {"labels": {"k8s-app": "kube-proxy"}},
                                         "spec": {"containers": [{"name": "kube-proxy",
                                                                  "image": "kube-proxy:1"}]}}}}
        docs = [ds]
        for node in range(self.p.nodes):
            docs.append({"apiVersion": "v1", "kind": "Pod", "metadata": {
                "name": f"kube-proxy-{_hash(rng, 5)}", "namespace": "kube-system",
                "labels": {"k8s-app": "kube-proxy", "controller-revision-hash": "6b8f9d7c5"},
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "DaemonSet",
                                     "name": "kube-proxy", "uid": ds["metadata"]["uid"],
                                     "controller": True}]},
                "spec": {"hostNetwork": True, "nodeName": f"node-{node}", "containers": [
                    {"name": "kube-proxy", "image": "kube-proxy:1",
                     "ports": [{"name": "metrics", "containerPort": 10249}]}]},
                "status": {"phase": "Running", "hostIP": self.node_ip(node),
                           "podIP": self.node_ip(node),
                           "podIPs": [{"ip": self.node_ip(node)}]}})
        return docs

    # --- policies -----------------------------------------------------------------------

    def _ns_peer(self, rng: random.Random) -> Doc:
        if "ns-expressions" not in self.shapes:
            return {"matchLabels": {"team": rng.choice(TEAMS)}}
        tenants = sorted({f"t{rng.randrange(300):03d}" for _ in range(rng.randint(1, 6))})
        exprs: list[Doc] = [
                 {"key": "tenant", "operator": "In", "values": tenants},
                 {"key": "env", "operator": "NotIn", "values": ["dev", "qa"]},
                 {"key": "region", "operator": "In", "values": rng.sample(REGIONS, 2)},
                 {"key": rng.choice(("compliance", "pci", "gdpr", "shared")), "operator": "Exists"},
                 {"key": rng.choice(("legacy", "public", "backup")), "operator": "DoesNotExist"},
                 {"key": "owner", "operator": "NotIn",
                  "values": [f"group-{rng.randrange(120)}" for _ in range(3)]},
                 {"key": "tier", "operator": "In", "values": ["gold", "silver"]}]
        sel: Doc = {"matchExpressions": rng.sample(exprs, rng.randint(1, 3))}  # keys differ
        if rng.random() < 0.3:
            sel["matchLabels"] = {"cost-center": f"cc-{rng.randrange(1000):04d}"}
        return sel

    def _pod_peer(self, rng: random.Random, apps: list[App]) -> Doc:
        app = rng.choice(apps)
        roll = rng.random()
        if "pod-expressions" in self.shapes and roll < 0.5:
            others = [a.name for a in rng.sample(apps, min(len(apps), 3))]
            return {"matchExpressions": rng.sample([
                {"key": "app.kubernetes.io/name", "operator": "NotIn",
                 "values": sorted(set(others))},
                {"key": "app.kubernetes.io/version", "operator": "DoesNotExist"},
                {"key": "app.kubernetes.io/instance", "operator": "In",
                 "values": sorted({a.labels.get("app.kubernetes.io/instance", a.name)
                                   for a in apps[:4]})},
                {"key": "apps.kubernetes.io/pod-index", "operator": "NotIn", "values": ["0"]},
                {"key": "app.kubernetes.io/component", "operator": "NotIn",
                 "values": ["database", "cache"]}], rng.randint(1, 3))}
        if "pod-name-selectors" in self.shapes and roll < 0.3:
            sts = [a for a in apps if a.kind == "StatefulSet"]
            if sts:
                a = rng.choice(sts)
                if rng.random() < 0.5:
                    return {"matchExpressions": [{"key": "statefulset.kubernetes.io/pod-name",
                                                  "operator": "Exists"}]}
                return {"matchLabels": {"statefulset.kubernetes.io/pod-name": f"{a.name}-0"}}
        if roll < 0.7:
            return {"matchLabels": {"app.kubernetes.io/name": app.name}}
        return {"matchLabels": {"app.kubernetes.io/component": app.component}}

    def _port_list(self, rng: random.Random, apps: list[App]) -> list[Doc]:
        if "named-ports" in self.shapes:
            out: list[Doc] = []
            for _ in range(rng.randint(1, 4)):
                roll = rng.random()
                if roll < 0.5:
                    name, _, proto = rng.choice(rng.choice(apps).ports)
                    out.append({"port": name, "protocol": proto})
                elif roll < 0.8:
                    start = rng.randrange(1024, 60000)
                    out.append({"port": start, "endPort": start + rng.randint(1, 300),
                                "protocol": rng.choice(("TCP", "UDP", "SCTP"))})
                else:
                    out.append({"port": rng.randrange(1, 65536),
                                "protocol": rng.choice(("TCP", "UDP", "SCTP"))})
            return out
        app = rng.choice(apps)
        return [{"port": app.ports[0][1], "protocol": "TCP"}]

    def _ip_block(self, rng: random.Random, ns_pods: list[Doc]) -> Doc:
        if "ipblocks" not in self.shapes:  # coarse: no pod told apart from its replicas
            return rng.choice(({"cidr": f"10.{POD_CIDR_BASE}.0.0/9"},
                               {"cidr": "0.0.0.0/0",
                                "except": ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]},
                               {"cidr": f"52.{rng.randrange(256)}.{rng.randrange(256)}.0/24"}))
        roll = rng.random()
        nodes = self.p.nodes
        if roll < 0.3:  # a node pool's pod range (64 nodes: a /18), minus a few nodes
            pool = rng.randrange(-(-nodes // 64))
            first = pool * 64
            base = f"10.{POD_CIDR_BASE + first // 256}.{first % 256}"
            block: Doc = {"cidr": f"{base}.0/18"}
            excepts = {f"10.{POD_CIDR_BASE + n // 256}.{n % 256}.0/24"
                       for n in (first + rng.randrange(64) for _ in range(rng.randint(0, 3)))}
            if excepts:
                block["except"] = sorted(excepts)
            return block
        if roll < 0.4 and ns_pods:  # one pod, as legacy allow-lists pin them
            return {"cidr": rng.choice(ns_pods)["status"]["podIP"] + "/32"}
        if roll < 0.55:  # the whole pod network but a node's pods
            n = rng.randrange(nodes)
            return {"cidr": "10.0.0.0/8",
                    "except": [f"10.{POD_CIDR_BASE + n // 256}.{n % 256}.0/24"]}
        if roll < 0.7:
            return {"cidr": "0.0.0.0/0",
                    "except": ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]}
        a, b = rng.randrange(1, 223), rng.randrange(256)
        if a in (10, 127, 169, 172, 192):
            a = 52
        return {"cidr": f"{a}.{b}.{rng.randrange(256)}.0/24"} if rng.random() < 0.6 else \
            {"cidr": f"{a}.{b}.0.0/16", "except": [f"{a}.{b}.{rng.randrange(256)}.0/24"]}

    def _policies(self, rng: random.Random, ns: Namespace, apps: list[App],
                  pods: list[Doc]) -> list[Doc]:
        specs: list[tuple[str, Doc]] = []
        deny_egress = "ipblocks" in self.shapes or rng.random() < 0.3
        specs.append(("default-deny", {"podSelector": {}, "policyTypes":
                                       ["Ingress", "Egress"] if deny_egress else ["Ingress"]}))
        if deny_egress:
            specs.append(("allow-dns", {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{
                "to": [{"namespaceSelector": {"matchLabels": {
                    "kubernetes.io/metadata.name": "kube-system"}},
                    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
                "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]}]}))
        specs.append(("allow-prometheus", {"podSelector": {}, "policyTypes": ["Ingress"],
                                           "ingress": [{"from": [{"namespaceSelector": {
                                               "matchLabels": {"kubernetes.io/metadata.name":
                                                               "monitoring"}}}],
                                               "ports": [{"port": "metrics"}]}]}))
        k = 0
        while len(specs) < ns.policies:
            k += 1
            app = rng.choice(apps)
            subject = self._pod_peer(rng, apps) if rng.random() < 0.4 else \
                {"matchLabels": {"app.kubernetes.io/name": app.name}}
            if "ipblocks" in self.shapes and rng.random() < 0.5:
                specs.append((f"egress-{app.name}-{k}", {
                    "podSelector": subject, "policyTypes": ["Egress"],
                    "egress": [{"to": [{"ipBlock": self._ip_block(rng, pods)}
                                       for _ in range(rng.randint(5, 40))],
                                "ports": self._port_list(rng, apps)}
                               for _ in range(rng.randint(1, 2))]}))
                continue
            rules = []
            for _ in range(rng.randint(1, 3)):
                peers: list[Doc] = []
                for _ in range(rng.randint(1, 3)):
                    roll = rng.random()
                    if roll < 0.45:
                        peers.append({"podSelector": self._pod_peer(rng, apps)})
                    elif roll < 0.8:
                        peers.append({"namespaceSelector": self._ns_peer(rng),
                                      "podSelector": {"matchLabels": {
                                          "app.kubernetes.io/component": rng.choice(COMPONENTS)}}})
                    elif roll < 0.9:
                        peers.append({"namespaceSelector": self._ns_peer(rng)})
                    else:
                        peers.append({"ipBlock": self._ip_block(rng, pods)})
                rules.append({"from": peers, "ports": self._port_list(rng, apps)})
            spec: Doc = {"podSelector": subject, "policyTypes": ["Ingress"], "ingress": rules}
            if rng.random() < 0.3 or "ipblocks" in self.shapes:
                spec["policyTypes"] = ["Ingress", "Egress"]
                spec["egress"] = [{"to": [{"podSelector": self._pod_peer(rng, apps)}],
                                   "ports": self._port_list(rng, apps)}]
            specs.append((f"allow-{app.name}-{k}", spec))
        docs = []
        for name, spec in specs[:max(ns.policies, 1)]:
            meta: Doc = {"name": name, "namespace": ns.name}
            if "bulk" in self.shapes:
                meta.update({"uid": _uid(rng), "generation": 1, "creationTimestamp": _stamp(rng),
                             "resourceVersion": str(rng.randrange(10**6, 10**9)),
                             "annotations": {"kubectl.kubernetes.io/last-applied-configuration":
                                             json.dumps({"apiVersion": "networking.k8s.io/v1",
                                                         "kind": "NetworkPolicy",
                                                         "metadata": {"name": name,
                                                                      "namespace": ns.name},
                                                         "spec": spec}, separators=(",", ":"))
                                             + "\n"}})
            docs.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                         "metadata": meta, "spec": spec})
        if self.p.edit and ns.index == self.edit_at:
            self._edit(docs)
        return docs

    def _edit(self, docs: list[Doc]) -> None:
        for doc in docs:
            for rule in doc["spec"].get("ingress", []):
                for port in rule.get("ports", []):
                    if isinstance(port.get("port"), int) and "endPort" not in port \
                            and port["port"] < 65535:
                        port["port"] += 1
                        self.edited = (f"{doc['metadata']['namespace']}/"
                                       f"{doc['metadata']['name']}: port {port['port'] - 1} "
                                       f"-> {port['port']}")
                        return
        docs[-1]["spec"]["policyTypes"] = ["Ingress"]  # no numeric port: isolate instead
        docs[-1]["spec"].pop("egress", None)
        self.edited = f"{docs[-1]['metadata']['namespace']}/{docs[-1]['metadata']['name']}"

    # --- namespaces -----------------------------------------------------------------------

    def namespace_docs(self) -> Iterator[list[Doc]]:
        """Each namespace's documents: the Namespace, its workloads, pods and policies."""
        for ns in self.namespaces:
            rng = _rng(self.p, "ns", ns.index)
            meta: Doc = {"name": ns.name, "labels": ns.labels}
            if "bulk" in self.shapes:
                meta.update({"uid": _uid(rng), "creationTimestamp": _stamp(rng),
                             "resourceVersion": str(rng.randrange(10**6, 10**9))})
            docs: list[Doc] = [{"apiVersion": "v1", "kind": "Namespace", "metadata": meta,
                                "spec": {"finalizers": ["kubernetes"]},
                                "status": {"phase": "Active"}}]
            if ns.name == "kube-system":
                apps = [App("coredns", "Deployment", "dns", ns.pods, {"k8s-app": "kube-dns"},
                            [("dns", 53, "UDP"), ("dns-tcp", 53, "TCP"),
                             ("metrics", 9153, "TCP")], _hash(rng, 10))]
            elif ns.name == "ingress-nginx":
                apps = [App("ingress-nginx", "Deployment", "controller", ns.pods,
                            {"app.kubernetes.io/name": "ingress-nginx",
                             "app.kubernetes.io/component": "controller"},
                            [("http", 80, "TCP"), ("https", 443, "TCP"),
                             ("metrics", 10254, "TCP")], _hash(rng, 10))]
            else:
                apps = self._apps(rng, ns)
            pods: list[Doc] = []
            for app in apps:
                owners, owner = self._owners(rng, ns, app)
                docs.extend(owners)
                for i in range(app.replicas):
                    pods.append(self._pod(rng, ns, app, owner, i))
            docs.extend(pods)
            if ns.name == "kube-system":
                docs.extend(self.kube_proxy())
            docs.extend(self._policies(rng, ns, apps, pods))
            yield docs


# --- writing: kubectl's YAML (keys sorted, sequences not indented) and JSON ---------------

_WORDS = re.compile(r"(?i)(?:y|n|yes|no|on|off|true|false|null|~)\Z")
_NUMBER = re.compile(r"[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)(?:[eE][-+]?[0-9]+)?\Z"
                     r"|[-+]?0[xob][0-9a-fA-F_]+\Z|[-+]?\.(?:inf|nan)\Z|[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _scalar(value: object) -> str:
    """A scalar as go-yaml (so kubectl) writes it: plain unless it would read as something
    else or holds YAML's indicators; then double-quoted."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    if (not text or _WORDS.match(text) or _NUMBER.match(text) or text[0] in "-?:,[]{}#&*!|>'\"%@` "
            or ": " in text or " #" in text or text.endswith((":", " ")) or "\n" in text
            or "\t" in text):
        return json.dumps(text)
    return text


def _yaml(value: object, indent: str, out: list[str]) -> None:
    if isinstance(value, dict):
        for k in sorted(value):
            v = value[k]
            key = _scalar(k)
            if isinstance(v, str) and "\n" in v:
                out.append(f"{indent}{key}: |" + ("" if v.endswith("\n") else "-"))
                out.extend(f"{indent}  {line}" for line in v.rstrip("\n").split("\n"))
            elif isinstance(v, dict) and v:
                out.append(f"{indent}{key}:")
                _yaml(v, indent + "  ", out)
            elif isinstance(v, list) and v:
                out.append(f"{indent}{key}:")
                _yaml(v, indent, out)  # kubectl does not indent a key's sequence
            else:
                out.append(f"{indent}{key}: " + ("{}" if isinstance(v, dict) else
                                                  "[]" if isinstance(v, list) else _scalar(v)))
        return
    assert isinstance(value, list)
    for item in value:
        if isinstance(item, dict) and item:
            sub: list[str] = []
            _yaml(item, indent + "  ", sub)
            sub[0] = f"{indent}- {sub[0][len(indent) + 2:]}"
            out.extend(sub)
        elif isinstance(item, list) and item:
            out.append(f"{indent}-")
            _yaml(item, indent + "  ", out)
        else:
            out.append(f"{indent}- " + ("{}" if isinstance(item, dict) else
                                        "[]" if isinstance(item, list) else _scalar(item)))


def to_yaml(docs: Sequence[Doc]) -> str:
    out: list[str] = []
    for doc in docs:
        out.append("---")
        _yaml(doc, "", out)
    out.append("")
    return "\n".join(out)


def _json_item(doc: Doc) -> str:
    text = json.dumps(doc, indent=4, sort_keys=True)
    return "        " + text.replace("\n", "\n        ")


def write(cluster: Cluster, directory: Path, layout: str) -> int:
    """Write the cluster; returns the bytes written."""
    directory.mkdir(parents=True, exist_ok=True)
    for old in [*directory.glob("*.yaml"), *directory.glob("*.json")]:
        old.unlink()
    written = 0
    if layout == "dir":
        for docs in cluster.namespace_docs():
            text = to_yaml(docs)
            (directory / f"{docs[0]['metadata']['name']}.yaml").write_text(text, "utf-8")
            written += len(text)
        return written
    name = "cluster.json" if layout == "list-json" else "cluster.yaml"
    with open(directory / name, "w", encoding="utf-8") as fh:
        written = _stream(cluster, fh, layout)
    return written


def _stream(cluster: Cluster, fh: TextIO, layout: str) -> int:
    written = 0
    if layout == "list-json":
        written += fh.write('{\n    "apiVersion": "v1",\n    "items": [\n')
        first = True
        for docs in cluster.namespace_docs():
            for doc in docs:
                written += fh.write(("" if first else ",\n") + _json_item(doc))
                first = False
        written += fh.write('\n    ],\n    "kind": "List",\n    "metadata": {\n'
                            '        "resourceVersion": ""\n    }\n}\n')
        return written
    for docs in cluster.namespace_docs():
        written += fh.write(to_yaml(docs))
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("directory", type=Path)
    parser.add_argument("--pods", type=int, default=10_000)
    parser.add_argument("--namespaces", type=int, help="default: pods / 30")
    parser.add_argument("--policies", type=int, help="default: pods / 3")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--shape", default="",
                        help="comma-separated, or 'all': " + "; ".join(
                            f"{k}: {v}" for k, v in SHAPES.items()))
    parser.add_argument("--layout", choices=LAYOUTS, default="dir",
                        help="dir: a YAML file per namespace; one-yaml: one multi-document "
                        "file; list-json: one kubectl get -o json List")
    parser.add_argument("--edit", action="store_true",
                        help="move one policy's ingress port by one (the diff's new side)")
    parser.add_argument("--check", type=Path, metavar="ANSWER",
                        help="write nothing: check 2,000 sampled pod pairs of ANSWER "
                        "(stockade matrix DIR -o json) against benchmarks/reference.py")
    args = parser.parse_args(argv)
    if args.check is not None:
        from benchmarks.scale import check_answer  # the reference and its sampling
        verdict = check_answer(args.directory, args.check, 2000, args.seed)
        print(f"{args.directory}: {verdict}")
        return 0 if verdict.endswith(" ok") else 1
    shapes = set(SHAPES) if args.shape == "all" else {s for s in args.shape.split(",") if s}
    unknown = shapes - set(SHAPES)
    if unknown:
        parser.error(f"unknown shape(s): {', '.join(sorted(unknown))}")
    params = Params(args.pods, args.namespaces or max(4, args.pods // 30),
                    args.policies if args.policies is not None else args.pods // 3,
                    args.seed, frozenset(shapes), args.edit)
    start = time.perf_counter()
    cluster = Cluster(params)
    size = write(cluster, args.directory, args.layout)
    print(f"wrote {params.pods:,} pods ({params.nodes:,} of them kube-proxy), "
          f"{len(cluster.namespaces):,} namespaces, about {params.policies:,} policies, "
          f"shapes {','.join(sorted(shapes)) or 'none'}, {size / 2**20:,.0f} MiB "
          f"({args.layout}) to {args.directory} in {time.perf_counter() - start:.1f} s"
          + (f"; edited {cluster.edited}" if cluster.edited else ""), file=sys.stderr)
    return 0


def params_for(pods: int, shapes: Sequence[str], seed: int = 1, edit: bool = False) -> Params:
    return replace(Params(pods, max(4, pods // 30), pods // 3, seed), shapes=frozenset(shapes),
                   edit=edit)


if __name__ == "__main__":
    sys.exit(main())
