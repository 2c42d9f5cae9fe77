"""What an agent lab puts in its API server double: the lab's Nodes (with the labels of the
input's Nodes of the same name), the input's Namespaces, NetworkPolicies and cluster-wide
policies as written, and the pods as the lab runs them (their node, their
address, their node's address, Running), in the API's shape. Pure.

Pods are written from the lab's model of them (the lab chose their node and address); a
policy is sent as the input wrote it (decoding and validation are the agents' own).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from stockade.lab.plan import LabNode
from stockade.model.build import RawObject
from stockade.model.crds import API_VERSIONS as CLUSTER_POLICY_KINDS
from stockade.model.types import Namespace, Pod

Manifest = dict[str, Any]
Ident = tuple[str, str, str]  # kind, namespace, name


def ident(manifest: Mapping[str, Any]) -> Ident:
    meta = manifest.get("metadata") or {}
    return (str(manifest.get("kind")), str(meta.get("namespace") or ""),
            str(meta.get("name") or ""))


def node_manifest(node: LabNode, labels: Mapping[str, str] | None = None) -> Manifest:
    """A lab node as a Node object (``labels``: those of the input's Node of that name)."""
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": node.name, "labels": dict(labels or {})},
            "spec": {"podCIDR": node.pod_cidr, "podCIDRs": [node.pod_cidr]},
            "status": {"addresses": [{"type": "InternalIP", "address": ip}
                                     for ip in node.ips] + [
                {"type": "Hostname", "address": node.name}]}}


def namespace_manifest(namespace: Namespace) -> Manifest:
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": namespace.name, "labels": dict(namespace.metadata.labels)}}


def pod_manifest(pod: Pod, node: LabNode | None) -> Manifest:
    """``pod`` as the API holds it once the lab runs it on ``node``."""
    meta: Manifest = {"name": pod.name, "namespace": pod.namespace,
                      "labels": dict(pod.metadata.labels)}
    if pod.metadata.owner_references:
        meta["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": o.kind, "name": o.name,
                                    "uid": f"lab-{o.kind}-{o.name}".lower(),
                                    "controller": o.controller}
                                   for o in pod.metadata.owner_references]
    containers = []
    for c in pod.spec.containers:
        ports = [{"containerPort": p.container_port, "protocol": p.protocol,
                  **({"name": p.name} if p.name else {})} for p in c.ports]
        containers.append({"name": c.name, "image": c.image or "stockade-lab",
                           **({"ports": ports} if ports else {})})
    spec: Manifest = {"containers": containers or [{"name": "c", "image": "stockade-lab"}]}
    if pod.spec.node_name:
        spec["nodeName"] = pod.spec.node_name
    if pod.spec.host_network:
        spec["hostNetwork"] = True
    status: Manifest = {"phase": "Running"}
    if pod.ips:
        status["podIP"] = pod.ips[0]
        status["podIPs"] = [{"ip": ip} for ip in pod.ips]
    host_ips = list(pod.host_ips) or (list(node.ips) if node is not None else [])
    if host_ips:
        status["hostIP"] = host_ips[0]
        status["hostIPs"] = [{"ip": ip} for ip in host_ips]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec,
            "status": status}


def policy_manifests(raws: Iterable[RawObject]) -> list[Manifest]:
    """The input's NetworkPolicies as written, in the namespace kubectl would put them, and
    its cluster-wide policies (cluster-scoped) as written."""
    out = []
    for raw in raws:
        cluster = raw.api_version in CLUSTER_POLICY_KINDS.get(raw.kind, ())
        if not cluster and (raw.kind != "NetworkPolicy"
                            or raw.api_version != "networking.k8s.io/v1"):
            continue
        data = dict(raw.data)
        meta = dict(data.get("metadata") or {})
        if cluster:
            meta.pop("namespace", None)
        else:
            meta.setdefault("namespace", "default")
        meta.pop("resourceVersion", None)
        data["metadata"] = meta
        out.append(data)
    return out
