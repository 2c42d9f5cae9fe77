"""The cluster generator: deterministic, fast, valid, and using every feature it promises.

Validity is checked with stockade's own manifest reader and model builder (decode and
API-server validation), so the benchmark never times a refusal of bad input.
"""

from __future__ import annotations

import ipaddress
import json
import statistics
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from benchmarks.generate import (
    LIST_FILE,
    LIST_ORDER,
    Params,
    default_params,
    generate,
    to_yaml,
    write,
)
from msgspec.structs import replace

from stockade.model.build import BuildResult, build_cluster
from stockade.model.types import Origin, Pod
from stockade.model.workloads import choose_endpoints
from stockade.sources.files import read_paths

Doc = dict[str, Any]


def docs_of(params: Params) -> list[Doc]:
    return [d for docs in generate(params).values() for d in docs]


def kinds(docs: list[Doc], kind: str) -> list[Doc]:
    return [d for d in docs if d["kind"] == kind]


def walk(value: object) -> Iterator[object]:
    yield value
    if isinstance(value, dict):
        for v in value.values():
            yield from walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from walk(v)


def test_counts_and_determinism() -> None:
    params = Params(pods=1000, namespaces=50, policies=333, seed=7)
    docs = docs_of(params)
    assert len(kinds(docs, "Pod")) == 1000
    assert len(kinds(docs, "NetworkPolicy")) == 333
    used = {d["metadata"]["namespace"] for d in docs if d["kind"] != "Namespace"}
    declared = {d["metadata"]["name"] for d in kinds(docs, "Namespace")}
    assert len(used | declared) == 50
    assert used - declared, "some namespaces are left undeclared on purpose"
    assert generate(params) == generate(params)
    assert generate(params) != generate(Params(1000, 50, 333, seed=8))


def test_default_params_match_the_issue_sizes() -> None:
    assert default_params(700) == Params(700, 35, 233)
    assert default_params(10000) == Params(10000, 500, 3333)
    assert default_params(50000) == Params(50000, 2500, 16666)


def test_yaml_round_trips() -> None:
    for docs in list(generate(default_params(300)).values())[:6]:
        text = to_yaml(docs)
        assert list(yaml.load_all(text, Loader=yaml.CSafeLoader)) == docs


def test_names_and_ips_are_unique() -> None:
    docs = docs_of(default_params(2000, seed=3))
    pods = kinds(docs, "Pod")
    keys = [(p["metadata"]["namespace"], p["metadata"]["name"]) for p in pods]
    assert len(set(keys)) == len(keys)
    ips = [e["ip"] for p in pods if not p["spec"].get("hostNetwork")
           for e in p["status"].get("podIPs", [])]
    assert len(set(ips)) == len(ips)
    assert all(ipaddress.ip_address(ip) in ipaddress.ip_network("10.0.0.0/8")
               for ip in ips if ":" not in ip)
    pol_keys = [(p["metadata"]["namespace"], p["metadata"]["name"])
                for p in kinds(docs, "NetworkPolicy")]
    assert len(set(pol_keys)) == len(pol_keys)


@pytest.mark.parametrize("peer_compatible", [True, False])
def test_stockade_reads_the_files_without_findings(tmp_path: Path,
                                                   peer_compatible: bool) -> None:
    params = Params(pods=700, namespaces=35, policies=233, seed=1,
                    peer_compatible=peer_compatible)
    write(generate(params), tmp_path)
    result = build_cluster(read_paths([str(tmp_path)]))
    assert [str(f) for f in result.findings] == []
    assert len(result.cluster.pods) == 700
    assert len(result.cluster.policies) == 233


def test_every_feature_is_used() -> None:
    docs = docs_of(default_params(1000))
    pods = kinds(docs, "Pod")
    policies = kinds(docs, "NetworkPolicy")
    nodes = list(walk([p["spec"] for p in policies]))
    dicts = [n for n in nodes if isinstance(n, dict)]
    operators = {d.get("operator") for d in dicts}
    assert {"In", "NotIn", "Exists", "DoesNotExist"} <= operators
    assert any("matchLabels" in d for d in dicts)
    assert any(set(d) == {"namespaceSelector"} for d in dicts)
    assert any(set(d) == {"namespaceSelector", "podSelector"} for d in dicts)
    blocks = [d["ipBlock"] for d in dicts if "ipBlock" in d]
    assert any(b.get("except") for b in blocks)
    assert any(":" in b["cidr"] for b in blocks)
    ports = [d for d in dicts if "port" in d or "endPort" in d or set(d) == {"protocol"}]
    assert any(isinstance(p.get("port"), str) for p in ports)
    assert any("endPort" in p for p in ports)
    assert {"UDP", "SCTP"} <= {p.get("protocol") for p in ports}
    assert any(set(p) == {"protocol"} for p in ports)
    specs = [p["spec"] for p in policies]
    assert any(s.get("egress") for s in specs)
    assert any(s.get("ingress") == [{}] for s in specs)
    type_variants = {tuple(s["policyTypes"]) if "policyTypes" in s else None for s in specs}
    assert {None, (), ("Ingress",), ("Egress",), ("Ingress", "Egress")} <= type_variants
    assert any(s == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]} for s in specs)
    # pods: replica groups, dual stack both ways, hostNetwork, pending, named UDP/SCTP ports
    hashes = [p["metadata"]["labels"].get("pod-template-hash") for p in pods]
    assert len(set(hashes)) < len(hashes) / 2
    ip_lists = [[e["ip"] for e in p["status"].get("podIPs", [])] for p in pods]
    assert any(len(ips) == 2 and ":" in ips[1] for ips in ip_lists)
    assert any(len(ips) == 2 and ":" in ips[0] for ips in ip_lists)
    assert any(not ips for ips in ip_lists)
    assert any(p["spec"].get("hostNetwork") for p in pods)
    container_protocols = {port.get("protocol", "TCP") for p in pods
                           for c in p["spec"]["containers"] for port in c.get("ports", [])}
    assert container_protocols == {"TCP", "UDP", "SCTP"}


def test_ip_block_excepts_cover_pod_ips() -> None:
    docs = docs_of(default_params(1000))
    pod_ips = [ipaddress.ip_address(e["ip"]) for p in kinds(docs, "Pod")
               for e in p["status"].get("podIPs", [])]
    excepts = [ipaddress.ip_network(e) for d in walk([p["spec"] for p in
                                                      kinds(docs, "NetworkPolicy")])
               if isinstance(d, dict) and "ipBlock" in d
               for e in d["ipBlock"].get("except", []) if e.startswith("10.")]
    assert any(ip in net for net in excepts for ip in pod_ips if ip.version == 4)


def test_peer_compatible_files_avoid_what_nca_refuses() -> None:
    specs = [p["spec"] for p in kinds(docs_of(default_params(3000)), "NetworkPolicy")]
    for spec in specs:
        types = spec.get("policyTypes")
        if types:
            assert types in (["Ingress"], ["Egress"], ["Ingress", "Egress"])
            assert "ingress" not in spec or "Ingress" in types
            assert "egress" not in spec or "Egress" in types
    loose = [p["spec"] for p in kinds(docs_of(Params(3000, 150, 1000, peer_compatible=False)),
                                      "NetworkPolicy")]
    assert any("ingress" in s and s.get("policyTypes") == ["Egress"] for s in loose)


def test_ten_thousand_pods_are_written_one_file_per_namespace(tmp_path: Path) -> None:
    # How long it takes is the benchmarks' business (benchmarks/README), not a test's.
    write(generate(default_params(10000)), tmp_path)
    assert len(list(tmp_path.glob("*.yaml"))) == 500


def _port_numbers(docs: list[Doc]) -> set[int]:
    found: set[int] = set()
    for policy in kinds(docs, "NetworkPolicy"):
        for value in walk(policy["spec"]):
            if isinstance(value, dict) and isinstance(value.get("port"), int):
                found.add(value["port"])
    return found


def test_random_ports_name_many_distinct_ports(tmp_path: Path) -> None:
    plain = Params(pods=700, namespaces=35, policies=233, seed=1)
    many = Params(pods=700, namespaces=35, policies=233, seed=1, random_ports=True)
    assert len(_port_numbers(docs_of(many))) > 10 * len(_port_numbers(docs_of(plain)))
    write(generate(many), tmp_path)
    assert build_cluster(read_paths([str(tmp_path)])).findings == []


# --- realistic ownership and the kubectl-style List ----------------------------------------

def test_workloads_own_every_pod_through_owner_references() -> None:
    """--workloads: each pod names its owner (a ReplicaSet of a Deployment, a StatefulSet, the
    node-exporter DaemonSet) by kind, name and uid, and the owner is in the output."""
    docs = docs_of(Params(pods=3000, namespaces=150, policies=1000, seed=2, workloads=True))
    by_uid = {d["metadata"]["uid"]: d for d in docs if "uid" in d["metadata"]}
    owner_kinds: set[str] = set()
    for pod in kinds(docs, "Pod"):
        (ref,) = pod["metadata"]["ownerReferences"]
        owner = by_uid[ref["uid"]]
        assert (owner["kind"], owner["metadata"]["name"]) == (ref["kind"], ref["name"])
        assert owner["metadata"]["namespace"] == pod["metadata"]["namespace"]
        assert ref["controller"] is True
        selector = owner["spec"]["selector"]["matchLabels"]
        assert selector.items() <= pod["metadata"]["labels"].items()
        assert owner["spec"]["template"]["spec"]["containers"] == pod["spec"]["containers"]
        owner_kinds.add(owner["kind"])
        if owner["kind"] == "ReplicaSet":
            (up,) = owner["metadata"]["ownerReferences"]
            assert by_uid[up["uid"]]["kind"] == "Deployment"
    assert owner_kinds == {"ReplicaSet", "StatefulSet", "DaemonSet"}


def test_replica_counts_and_namespace_sizes_are_long_tailed() -> None:
    docs = docs_of(Params(pods=20000, namespaces=1000, policies=100, seed=3, workloads=True))
    replicas = sorted(d["spec"]["replicas"] for d in docs
                      if d["kind"] in ("Deployment", "StatefulSet"))
    ones = replicas.count(1) / len(replicas)
    assert 0.4 < ones < 0.7, "about half the workloads run one pod"
    assert replicas[-1] >= 50, "and a few run many"
    sizes = Counter(p["metadata"]["namespace"] for p in kinds(docs, "Pod"))
    assert max(sizes.values()) > 10 * statistics.median(sizes.values())
    assert sum(sizes.values()) == 20000


def test_classic_shape_is_unchanged_by_the_workloads_option() -> None:
    """Without --workloads the generator draws exactly what it drew before (benchmark
    results stay comparable): no owner references, no workload objects."""
    docs = docs_of(default_params(1000))
    assert {d["kind"] for d in docs} == {"Namespace", "Pod", "NetworkPolicy"}
    assert not any("ownerReferences" in d["metadata"] for d in docs)


def test_the_json_list_reads_back_as_the_same_cluster(tmp_path: Path) -> None:
    params = Params(pods=1500, namespaces=75, policies=500, seed=4, workloads=True)
    files = generate(params)
    write(files, tmp_path / "yaml")
    write(files, tmp_path / "json", "json")
    assert [p.name for p in (tmp_path / "json").iterdir()] == [LIST_FILE]
    text = (tmp_path / "json" / LIST_FILE).read_text()
    assert text.startswith('{\n    "apiVersion": "v1",\n    "items": [\n')
    listed = json.loads(text)
    assert listed["kind"] == "List" and len(listed["items"]) == sum(map(len, files.values()))
    order = [LIST_ORDER.index(d["kind"]) for d in listed["items"]]
    assert order == sorted(order)
    from_yaml = build_cluster(read_paths([str(tmp_path / "yaml")]))
    from_json = build_cluster(read_paths([str(tmp_path / "json")]))
    assert from_yaml.findings == from_json.findings == []
    def pods(result: BuildResult) -> list[Pod]:
        return sorted((replace(p, origin=Origin("")) for p in result.cluster.pods),
                      key=lambda p: p.key)

    assert pods(from_json) == pods(from_yaml)
    assert len(from_json.cluster.workloads) == len(kinds(listed["items"], "Deployment")) * 2 \
        + len(kinds(listed["items"], "StatefulSet")) + 1
    endpoints = choose_endpoints(from_json.cluster)
    assert set(endpoints.owner) == {p.key for p in from_json.cluster.pods}


def test_cluster_wide_policies_are_valid_and_use_both_versions(tmp_path: Path) -> None:
    params = Params(pods=600, namespaces=30, policies=200, seed=3, admin_policies=50,
                    baseline_policies=10)
    files = generate(params)
    assert files == generate(params)  # deterministic
    docs = files["cluster.yaml"]
    assert {d["kind"] for d in docs} == {"Node", "ClusterNetworkPolicy", "AdminNetworkPolicy",
                                         "BaselineAdminNetworkPolicy"}
    write(files, tmp_path)
    result = build_cluster(read_paths([str(tmp_path)]))
    assert not result.findings, [str(f) for f in result.findings[:5]]
    tiers = [(p.kind, p.tier) for p in result.cluster.cluster_policies]
    assert sum(1 for _, tier in tiers if tier == "Admin") == 50
    assert sum(1 for _, tier in tiers if tier == "Baseline") == 10
    assert 0 < sum(1 for kind, _ in tiers if kind == "AdminNetworkPolicy") < 50
    features = {key for d in docs for node in walk(d) if isinstance(node, dict) for key in node}
    assert {"networks", "nodes", "domainNames", "destinationNamedPort", "namedPort", "range",
            "portRange", "portNumber", "pods", "namespaces"} <= features
    actions = {node["action"] for d in docs for node in walk(d)
               if isinstance(node, dict) and "action" in node}
    assert actions == {"Accept", "Allow", "Deny", "Pass"}
    assert "cluster.yaml" not in generate(Params(pods=60, namespaces=3, policies=5))
