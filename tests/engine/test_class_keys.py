"""Behaviour classes keep of a pod's labels only what selectors can tell apart: the keys
they read, and of a key's value whether it is one some selector names (and which). Pods
differing only in values no selector names (a StatefulSet's pod-name under ``Exists``, an
app no ``In``/``NotIn`` lists) share a class; the answers stay those of
``benchmarks/reference.py``, which evaluates pod by pod with the real labels."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
import strategies as gen
from benchmarks.reference import ReferenceCluster
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stockade.engine import Engine
from stockade.engine.classes import build_classes
from stockade.engine.matrix import connectivity
from stockade.render.groups import group_names

Manifests = list[dict[str, Any]]
FAST = settings(max_examples=100, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
POD_NAME = "statefulset.kubernetes.io/pod-name"
UNNAMED_APPS = ("a1", "a2", "a3")  # values of ``app`` no generated selector names
CANONICAL = "zz"  # the value every unnamed one becomes in the relabelled twin cluster


def _pod_selectors(node: object) -> Iterator[dict[str, Any]]:
    """Every ``podSelector`` object in a manifest (NetworkPolicy subjects and peers,
    cluster-wide policies' ``pods`` subjects and peers)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "podSelector" and isinstance(value, dict):
                yield value
            yield from _pod_selectors(value)
    elif isinstance(node, list):
        for item in node:
            yield from _pod_selectors(item)


def _named_values(manifests: Manifests) -> dict[str, set[str]]:
    """Per pod label key some selector reads, the values selectors name for it."""
    named: dict[str, set[str]] = {}
    for selector in _pod_selectors(manifests):
        for key, value in selector.get("matchLabels", {}).items():
            named.setdefault(key, set()).add(value)
        for req in selector.get("matchExpressions", []):
            named.setdefault(req["key"], set()).update(req.get("values", []))
    return named


@st.composite
def relabelled_clusters(draw: st.DrawFn) -> Manifests:
    """``gen.clusters`` with cluster-wide policies, where pods also carry values no selector
    names (unique pod-names, apps outside the selectors' pool) and selectors read pod-name
    with every operator."""
    manifests = draw(gen.clusters(min_policies=1, max_cluster_policies=3))
    pods = [m for m in manifests if m["kind"] == "Pod"]
    names = [p["metadata"]["name"] for p in pods]
    for pod in pods:
        labels = pod["metadata"]["labels"]
        if draw(st.booleans()):
            labels[POD_NAME] = pod["metadata"]["name"]
        if draw(st.booleans()):
            labels["app"] = draw(st.sampled_from(UNNAMED_APPS))
    for selector in _pod_selectors(manifests):
        if draw(st.integers(0, 2)) == 0:
            op = draw(st.sampled_from(("Exists", "DoesNotExist", "In", "NotIn")))
            req: dict[str, Any] = {"key": POD_NAME, "operator": op}
            if op in ("In", "NotIn"):
                req["values"] = draw(st.lists(st.sampled_from(names), min_size=1,
                                              max_size=2, unique=True))
            selector.setdefault("matchExpressions", []).append(req)
    return manifests


def _canonical(manifests: Manifests) -> Manifests:
    """The same cluster with every label value that no selector names for its key (of a
    key some selector reads) replaced by one value."""
    named = _named_values(manifests)
    out = copy.deepcopy(manifests)
    for m in out:
        if m["kind"] == "Pod":
            labels = m["metadata"]["labels"]
            for key, value in labels.items():
                if key in named and value not in named[key]:
                    labels[key] = CANONICAL
    return out


def _partition(engine: Engine) -> set[frozenset[str]]:
    return {frozenset(engine.pods[i].key for i in c.members) for c in engine.classes}


def _pod_matrix(engine: Engine) -> dict[tuple[str, str], str]:
    matrix = connectivity(engine)
    keys = [p.key for p in engine.pods]
    return {(a, b): matrix.between_pods(i, j)
            for i, a in enumerate(keys) for j, b in enumerate(keys)}


@FAST
@given(relabelled_clusters())
def test_coarse_classes_answer_as_the_reference(manifests: Manifests) -> None:
    engine = gen.engine_of(manifests)
    reference = ReferenceCluster.from_dicts(copy.deepcopy(manifests))
    for (src, dst), text in _pod_matrix(engine).items():
        assert text == reference.connections(src, dst), (src, dst)


@FAST
@given(relabelled_clusters())
def test_values_no_selector_names_never_split_a_class(manifests: Manifests) -> None:
    """Relabelling every value no selector names to one value changes neither the classes
    nor any answer: the classes were already blind to those values."""
    engine = gen.engine_of(manifests)
    twin = gen.engine_of(_canonical(manifests))
    assert _partition(engine) == _partition(twin)
    assert _pod_matrix(engine) == _pod_matrix(twin)


# --- a StatefulSet's pods collapse ----------------------------------------------------------


def _statefulset(replicas: int) -> Manifests:
    out: Manifests = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "db"}}]
    for i in range(replicas):
        out.append({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"namespace": "db", "name": f"pg-{i}", "labels": {
                "app": "pg", POD_NAME: f"pg-{i}", "apps.kubernetes.io/pod-index": str(i),
                "controller-revision-hash": "pg-7d9f"}},
            "spec": {"containers": [{"name": "pg", "image": "postgres"}]},
            "status": {"podIP": f"10.1.0.{i + 10}", "podIPs": [{"ip": f"10.1.0.{i + 10}"}]},
        })
    out.append({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"namespace": "db", "name": "client", "labels": {"app": "client"}},
        "spec": {"containers": [{"name": "c", "image": "agnhost"}]},
        "status": {"podIP": "10.1.1.1", "podIPs": [{"ip": "10.1.1.1"}]},
    })
    return out


def _network_policies() -> Manifests:
    def policy(name: str, selector: dict[str, Any], peer: dict[str, Any]) -> dict[str, Any]:
        return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                "metadata": {"namespace": "db", "name": name},
                "spec": {"podSelector": selector, "policyTypes": ["Ingress"],
                         "ingress": [{"from": [{"podSelector": peer}]}]}}

    return [
        policy("replicas", {"matchExpressions": [{"key": POD_NAME, "operator": "Exists"}]},
               {"matchLabels": {"app": "client"}}),
        # The primary alone: its pod-name is a value a selector names.
        policy("primary", {"matchLabels": {POD_NAME: "pg-0"}},
               {"matchExpressions": [{"key": "apps.kubernetes.io/pod-index",
                                      "operator": "NotIn", "values": ["0"]}]}),
    ]


def _cluster_policies() -> Manifests:
    def anp(name: str, priority: int, selector: dict[str, Any],
            peer: dict[str, Any]) -> dict[str, Any]:
        return {"apiVersion": "policy.networking.k8s.io/v1alpha1",
                "kind": "AdminNetworkPolicy", "metadata": {"name": name},
                "spec": {"priority": priority,
                         "subject": {"pods": {"namespaceSelector": {}, "podSelector": selector}},
                         "ingress": [{"action": "Deny", "from": [
                             {"pods": {"namespaceSelector": {}, "podSelector": peer}}]}]}}

    return [
        anp("replicas", 10, {"matchExpressions": [{"key": POD_NAME, "operator": "Exists"}]},
            {"matchExpressions": [{"key": POD_NAME, "operator": "DoesNotExist"}]}),
        anp("primary", 5, {"matchExpressions": [{"key": POD_NAME, "operator": "In",
                                                 "values": ["pg-0"]}]},
            {"matchExpressions": [{"key": "apps.kubernetes.io/pod-index",
                                   "operator": "NotIn", "values": ["0"]}]}),
    ]


PG_SHOWN = (("apps.kubernetes.io/pod-index", "*"), (POD_NAME, "*"))


@pytest.mark.parametrize(("policies", "shown"), [
    (_network_policies, (("app", "pg"), *PG_SHOWN)),  # app: read by the client peer
    (_cluster_policies, PG_SHOWN),
], ids=["networkpolicy", "adminnetworkpolicy"])
def test_fifty_statefulset_replicas_make_three_classes(
        policies: Any, shown: tuple[tuple[str, str], ...]) -> None:
    manifests = _statefulset(50) + policies()
    engine = gen.engine_of(manifests)
    sizes = sorted(len(c.members) for c in engine.classes)
    # pg-0 (named by a selector), the 49 other replicas, the client.
    assert sizes == [1, 1, 49]
    replicas = next(c for c in engine.classes if len(c.members) == 49)
    # The labels shown are those the members share; pod-name and pod-index differ, and no
    # selector names these values: the placeholder.
    assert replicas.labels == shown
    assert "db/pg-*" in group_names(engine.classes, engine.pods)
    reference = ReferenceCluster.from_dicts(copy.deepcopy(manifests))
    for (src, dst), text in _pod_matrix(engine).items():
        assert text == reference.connections(src, dst), (src, dst)


def test_a_selector_naming_the_placeholder_keeps_its_meaning() -> None:
    """``*`` is no valid label value, but the engine also runs on objects the library
    builds: a selector naming it must not match the pods whose values were folded."""
    manifests = _statefulset(4) + _network_policies()
    engine = gen.engine_of(manifests)
    values = {POD_NAME: {"*"}, "app": set()}
    classes, _ = build_classes(engine.pods, values, set(), engine.regions,
                               [() for _ in engine.pods])
    shown = {label for c in classes for label in c.labels if label[0] == POD_NAME}
    assert ("statefulset.kubernetes.io/pod-name", "*") not in shown
    assert {v for _, v in shown} == {"**"}
