"""Egress named ports resolve on each destination: destinations that differ only in named
ports a side's rules do not use share that side's work (``PairSets._named_projection``),
and the matrix still equals the reference evaluator pair by pair."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

ROOT = str(Path(__file__).resolve().parents[2])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)  # the benchmarks package lives at the repository root
sys.path.insert(0, str(Path(__file__).resolve().parent))  # sibling module, no packages here

import strategies as gen  # noqa: E402
from benchmarks.reference import ReferenceCluster  # noqa: E402

from stockade.engine.matrix import PairSets, connectivity  # noqa: E402


def _cluster() -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = [{"apiVersion": "v1", "kind": "Namespace",
                                   "metadata": {"name": "ns"}}]
    for i in range(16):
        ports = [{"name": "web", "containerPort": 8000 + i % 3},
                 {"name": f"own-{i}", "containerPort": 9000 + i},
                 {"name": "dns", "containerPort": 53 + i % 2, "protocol": "UDP"}]
        if i % 4 == 0:
            ports.append({"name": "admin", "containerPort": 7000 + i % 8, "protocol": "SCTP"})
        docs.append({"apiVersion": "v1", "kind": "Pod",
                     "metadata": {"name": f"p{i}", "namespace": "ns",
                                  "labels": {"app": f"a{i % 5}", "n": str(i)}},
                     "spec": {"nodeName": "n1", "containers": [{"name": "c", "ports": ports}]},
                     "status": {"podIP": f"10.0.0.{i + 1}", "podIPs": [{"ip": f"10.0.0.{i + 1}"}]}})

    def egress(name: str, app: str, ports: list[dict[str, Any]], to: str | None) -> None:
        rule: dict[str, Any] = {"ports": ports}
        if to is not None:
            rule["to"] = [{"podSelector": {"matchLabels": {"app": to}}}]
        docs.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                     "metadata": {"name": name, "namespace": "ns"},
                     "spec": {"podSelector": {"matchLabels": {"app": app}},
                              "policyTypes": ["Egress"], "egress": [rule]}})

    egress("web", "a0", [{"port": "web"}], None)
    egress("web-dns", "a1", [{"port": "web"}, {"port": "dns", "protocol": "UDP"}], "a2")
    egress("web-dns-2", "a1", [{"port": "own-3"}, {"port": 5000, "endPort": 5010}], None)
    egress("admin", "a2", [{"port": "admin", "protocol": "SCTP"}, {"port": "web"}], None)
    egress("own", "a3", [{"port": "own-7"}, {"port": "own-8"}], "a3")
    return docs


def test_egress_named_ports_equal_the_reference_pair_by_pair() -> None:
    manifests = _cluster()
    engine = gen.engine_of(manifests)
    matrix = connectivity(engine)
    ref = ReferenceCluster.from_dicts(manifests)
    keys = [p.key for p in engine.pods]
    for i, src in enumerate(keys):
        for j, dst in enumerate(keys):
            if i != j:
                assert matrix.between_pods(i, j) == ref.connections(src, dst), (src, dst)


def test_a_side_groups_destinations_by_the_named_ports_its_rules_use() -> None:
    engine = gen.engine_of(_cluster())
    keys = PairSets(engine)
    assert len(keys.named_rep) == 12  # the named ports some rule uses tell 12 kinds apart
    web_only = next(t for t, layers in enumerate(keys.e_layers)
                    if {k for r in layers.networkpolicy for k in r.named} == {("TCP", "web")})
    projected, reps = keys._named_projection(keys.e_layers[web_only])
    assert len(reps) == 3  # web on 8000, 8001, 8002
    assert len(set(projected.tolist())) == 3
