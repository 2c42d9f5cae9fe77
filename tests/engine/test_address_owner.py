"""Which pod an address names in a query (``Engine.endpoint``): a host-network pod holds its
node's address, which a pod-network pod may hold too (on another node, or after the node's
address was reused); the pod-network pod is the one the address names, whatever the order
the manifests list them in. A review's differential hunt against benchmarks/reference.py
found the first listed pod winning."""

from __future__ import annotations

import itertools

import pytest
from benchmarks.reference import ReferenceCluster

from stockade.engine import Engine
from stockade.model.build import build_cluster
from stockade.model.types import Protocol
from stockade.sources.files import parse_text

POD = """\
apiVersion: v1
kind: Pod
metadata: {{name: {name}, namespace: x, labels: {{app: {app}}}}}
spec: {{nodeName: {node}, hostNetwork: {host}, containers: [{{name: c}}]}}
status: {{podIP: {ip}}}
"""
DENY_WEB = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-web, namespace: x}
spec: {podSelector: {matchLabels: {app: web}}, policyTypes: [Ingress]}
"""
PODS = {
    "h": POD.format(name="h", app="agent", node="n1", host="true", ip="10.0.0.5"),
    "p": POD.format(name="p", app="web", node="n2", host="false", ip="10.0.0.5"),
    "q": POD.format(name="q", app="client", node="n2", host="false", ip="10.0.0.6"),
}


@pytest.mark.parametrize("order", list(itertools.permutations(PODS)))
def test_the_pod_network_pod_owns_a_shared_address_in_any_order(order: tuple[str, ...]
                                                                  ) -> None:
    text = "---\n".join([*(PODS[name] for name in order), DENY_WEB])
    cluster = build_cluster(parse_text(text, "f.yaml")).cluster
    engine = Engine(cluster)
    owner = engine.endpoint("10.0.0.5").pod
    assert owner is not None and owner.key == "x/p"
    # So the address is isolated as x/p is, and the reference judges it alike.
    assert engine.allowed("x/q", "10.0.0.5", Protocol.TCP, 80) is False
    reference = ReferenceCluster.from_dicts([dict(o.data) for o in parse_text(text, "f.yaml")])
    assert reference.allowed("x/q", "10.0.0.5", "TCP", 80) is False


def test_a_host_network_pod_alone_owns_its_address() -> None:
    text = "---\n".join([PODS["h"], PODS["q"]])
    engine = Engine(build_cluster(parse_text(text, "f.yaml")).cluster)
    owner = engine.endpoint("10.0.0.5").pod
    assert owner is not None and owner.key == "x/h"
