"""The matrix rolled up to units (namespaces, workloads) equals the same roll-up done pair of
pods by pair of pods on random clusters: counts of pairs allowed everything, something,
nothing, the verdict, and the connections every pair may open (node traffic included)."""

from __future__ import annotations

from typing import Any

import strategies as gen
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stockade.engine import Engine
from stockade.engine.aggregate import (
    ALL,
    NONE,
    PARTIAL,
    Aggregation,
    Units,
    namespace_units,
)
from stockade.engine.matrix import ClassRows, connectivity
from stockade.engine.ports import PortSpan, format_connections
from stockade.model.types import Protocol

FAST = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def every(texts: list[str]) -> str:
    """What all the connection sets share, port by port range (independently of the
    engine's own set algebra): per protocol, the ranges common to every set."""
    spans = [gen.parse_connections(t) for t in texts]
    out: list[PortSpan] = []
    for proto in Protocol:
        common = [(1, 65535)]
        for s in spans:
            common = [(max(a, c), min(b, d)) for a, b in common for c, d in s[proto]
                      if max(a, c) <= min(b, d)]
        out.extend(PortSpan(proto, a, b) for a, b in common)
    return format_connections(out)


def by_pairs(engine: Engine, units: Units) -> dict[tuple[int, int], tuple[Any, ...]]:
    """(src unit, dst unit) -> (verdict, every, all, some, none), pair of pods by pair."""
    matrix = connectivity(engine)
    n = len(engine.pods)
    cells: dict[tuple[int, int], list[str]] = {}
    for i in range(n):
        for j in range(n):
            if i != j:
                key = (int(units.unit_of[i]), int(units.unit_of[j]))
                cells.setdefault(key, []).append(matrix.between_pods(i, j))
    out: dict[tuple[int, int], tuple[Any, ...]] = {}
    for x in range(len(units.names)):
        for y in range(len(units.names)):
            texts = cells.get((x, y), [])
            n_all, n_none = texts.count("all"), texts.count("none")
            verdict = ALL if n_all == len(texts) else NONE if n_none == len(texts) else PARTIAL
            out[x, y] = (verdict, every(texts) if texts else "all", n_all,
                         len(texts) - n_all - n_none, n_none)
    return out


def rolled_up(engine: Engine, units: Units) -> dict[tuple[int, int], tuple[Any, ...]]:
    aggregation = Aggregation(engine, units, ClassRows(engine))
    out: dict[tuple[int, int], tuple[Any, ...]] = {}
    seen = []
    for row in aggregation:
        seen.append(row.unit)
        for y in range(len(units.names)):
            out[row.unit, y] = (int(row.verdict[y]), aggregation.meets.texts[row.every[y]],
                                int(row.all[y]), int(row.some[y]), int(row.none[y]))
    assert seen == list(range(len(units.names)))
    return out


@FAST
@given(gen.clusters(max_policies=5))
def test_namespaces_roll_up_exactly(manifests: list[dict[str, Any]]) -> None:
    engine = gen.engine_of(manifests)
    units = namespace_units(engine)
    assert rolled_up(engine, units) == by_pairs(engine, units)


@FAST
@given(gen.clusters(max_policies=5), st.data())
def test_any_units_roll_up_exactly(manifests: list[dict[str, Any]], data: st.DataObject) -> None:
    """Units that split behaviour classes and join pods of several (as workloads can)."""
    engine = gen.engine_of(manifests)
    labels = data.draw(st.lists(st.sampled_from("abc"), min_size=len(engine.pods),
                                max_size=len(engine.pods)))
    units = Units.of(labels)
    assert rolled_up(engine, units) == by_pairs(engine, units)


@FAST
@given(gen.clusters(max_policies=5), st.data())
def test_node_traffic_rolls_up_exactly(manifests: list[dict[str, Any]],
                                       data: st.DataObject) -> None:
    """Host-network pods among pods of their classes: their node traffic is counted per pair
    of parts (a unit's pods of one class), some of whose pairs of pods it covers, or all."""
    pods = [m for m in manifests if m["kind"] == "Pod"]
    for pod in pods:
        pod["spec"].pop("hostNetwork", None)
    hosts = data.draw(st.lists(st.sampled_from(range(len(pods))), min_size=1, max_size=2))
    for i in hosts:
        pods[i]["spec"]["hostNetwork"] = True
    nodes = data.draw(st.lists(st.sampled_from(gen.NODES), min_size=len(pods),
                               max_size=len(pods)))
    for pod, node in zip(pods, nodes, strict=True):
        if "nodeName" in pod["spec"]:
            pod["spec"]["nodeName"] = node
    engine = gen.engine_of(manifests)
    labels = data.draw(st.lists(st.sampled_from("ab"), min_size=len(engine.pods),
                                max_size=len(engine.pods)))
    for units in (namespace_units(engine), Units.of(labels)):
        assert rolled_up(engine, units) == by_pairs(engine, units)


@FAST
@given(gen.clusters(max_policies=5), st.data())
def test_any_range_of_units_rolls_up_alike(manifests: list[dict[str, Any]],
                                          data: st.DataObject) -> None:
    """Units rolled up a range at a time (as processes share them out) are the same rows."""
    engine = gen.engine_of(manifests)
    units = Units.of([p.key for p in engine.pods])
    whole = Aggregation(engine, units, ClassRows(engine))
    want = [(r.unit, r.verdict.tolist(), [whole.meets.texts[e] for e in r.every],
             r.all.tolist(), r.some.tolist(), r.none.tolist()) for r in whole]
    n = len(units.names)
    cuts = sorted(data.draw(st.lists(st.integers(0, n), max_size=3)))
    pieces = Aggregation(engine, units, ClassRows(engine))
    got: list[tuple[Any, ...]] = []
    for start, stop in zip([0, *cuts], [*cuts, n], strict=True):
        got.extend((r.unit, r.verdict.tolist(), [pieces.meets.texts[e] for e in r.every],
                    r.all.tolist(), r.some.tolist(), r.none.tolist())
                   for r in pieces.rows_of(start, stop))
    assert got == want


def test_a_unit_of_one_pod_has_no_pair_with_itself() -> None:
    manifests = [
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a", "namespace": "x"},
         "spec": {"containers": [{"name": "c", "image": "i"}]}, "status": {"podIP": "10.0.0.1"}},
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "b", "namespace": "y"},
         "spec": {"containers": [{"name": "c", "image": "i"}]}, "status": {"podIP": "10.0.0.2"}},
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
         "metadata": {"name": "deny", "namespace": "x"}, "spec": {"podSelector": {}}},
    ]
    engine = gen.engine_of(manifests)
    cells = rolled_up(engine, namespace_units(engine))
    assert cells[0, 0] == (ALL, "all", 0, 0, 0)
    assert cells[1, 0] == (NONE, "none", 0, 0, 1)
    assert cells[0, 1] == (ALL, "all", 1, 0, 0)
