"""``matrix --services`` rows on random small clusters: a grouped row's Service answers are
true of every member, checked against the per-connection engine (``query_service``), and,
through the CLI, the grouped answer (matrix and Services) expanded to its members is the
``--pods`` answer."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import strategies as gen
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stockade.cli.main import main
from stockade.engine import Engine
from stockade.engine.services import query_service, service_columns, split_rows

FAST = settings(max_examples=100, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])
Manifests = list[dict[str, Any]]
INSTANCE = "instance"  # a label no policy reads: it never splits a class, Services select by it


@st.composite
def with_services(draw: st.DrawFn) -> Manifests:
    """A generated cluster whose pods also carry ``instance`` labels, and a few Services
    selecting by the pods' labels (often one pod alone, or a host-network one)."""
    manifests: Manifests = copy.deepcopy(draw(gen.clusters(max_cluster_policies=2)))
    pods = [m for m in manifests if m["kind"] == "Pod"]
    for i, pod in enumerate(pods):
        if i and draw(st.booleans()):  # a replica of the one before: most likely one class
            pod["metadata"]["namespace"] = pods[i - 1]["metadata"]["namespace"]
            pod["metadata"]["labels"] = dict(pods[i - 1]["metadata"]["labels"])
        pod["metadata"]["labels"][INSTANCE] = draw(st.sampled_from((f"i{i}", "shared")))
    namespaces = sorted({p["metadata"]["namespace"] for p in pods})
    for namespace in namespaces:
        if draw(st.booleans()):  # so that a class seldom reaches its own members
            manifests.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                              "metadata": {"name": "deny", "namespace": namespace},
                              "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}})
    for s in range(draw(st.integers(1, 3))):
        # One pod's instance (the only backend, often), "shared", or any labels at all.
        pod = pods[draw(st.integers(0, len(pods) - 1))]
        namespace = pod["metadata"]["namespace"]
        selector = {INSTANCE: pod["metadata"]["labels"][INSTANCE]}
        if draw(st.booleans()):
            pool = {**gen.POD_LABELS, INSTANCE: ("shared", "i0")}
            selector = gen._labels(draw, pool) or selector
            namespace = draw(st.sampled_from(namespaces))
        ports = []
        for n in range(draw(st.integers(1, 2))):
            port: dict[str, Any] = {"name": f"p{n}", "port": 1000 + n,
                                    "protocol": draw(st.sampled_from(gen.PROTOCOLS))}
            target = draw(st.sampled_from((None, 80, 8080, *gen.PORT_NAMES)))
            if target is not None:
                port["targetPort"] = target
            ports.append(port)
        manifests.append({"apiVersion": "v1", "kind": "Service",
                          "metadata": {"name": f"s{s}", "namespace": namespace},
                          "spec": {"selector": selector, "ports": ports}})
    return manifests


def truth(engine: Engine) -> dict[tuple[int, int], tuple[str, ...]]:
    """(pod, column) -> the backends it reaches, one connection at a time."""
    out: dict[tuple[int, int], tuple[str, ...]] = {}
    for k, column in enumerate(service_columns(engine.cluster.services, engine.pods)):
        for i, pod in enumerate(engine.pods):
            if column.problem or column.port is None:
                out[i, k] = ()
                continue
            answer = query_service(engine, engine.endpoint(pod.key), column.service,
                                   column.port)
            out[i, k] = tuple(a.backend.pod.key for a in answer.answers
                              if a.verdict is not None and a.verdict.allowed)
    return out


@FAST
@given(with_services())
def test_every_member_of_a_row_gets_its_rows_answer(manifests: Manifests) -> None:
    engine = gen.engine_of(manifests)
    columns = service_columns(engine.cluster.services, engine.pods)
    found = split_rows(engine, columns, [c.members for c in engine.classes])
    expected = truth(engine)
    # The rows are the classes' members, each class's parts together and in order.
    assert sorted(m for row in found.rows for m in row) == list(range(len(engine.pods)))
    classes = [engine.pod_class[row[0]] for row in found.rows]
    assert classes == sorted(classes)
    assert all(engine.pod_class[m] == c for row, c in zip(found.rows, classes, strict=True)
               for m in row)
    answers = []
    for r, row in enumerate(found.rows):
        answer = [reach.reached[r] for reach in found.reaches]
        for m in row:
            assert answer == [expected[m, k] for k in range(len(columns))], (
                engine.pods[m].key, [engine.pods[i].key for i in row])
        answers.append(answer)
    # A class is split only where its members' answers differ.
    for r in range(1, len(found.rows)):
        for earlier in range(r):
            if classes[earlier] == classes[r]:
                assert answers[earlier] != answers[r]
    # Single pods as rows: the same answers, never split.
    single = split_rows(engine, columns, [(i,) for i in range(len(engine.pods))])
    assert not single.split
    for i in range(len(engine.pods)):
        assert [reach.reached[i] for reach in single.reaches] == [
            expected[i, k] for k in range(len(columns))]


def _matrix(where: Path, capsys: pytest.CaptureFixture[str], *more: str) -> dict[str, Any]:
    code = main(["matrix", str(where), "--services", "-o", "json", *more])
    out, _ = capsys.readouterr()
    assert code == 0
    doc: dict[str, Any] = json.loads(out)
    return doc


def _cells(doc: dict[str, Any]) -> dict[tuple[str, str], str]:
    """Every ordered pair of distinct pods -> its cell, the groups' rows expanded."""
    groups = doc["groups"]
    rows: list[dict[str, Any]] = []
    for row in doc["matrix"]:
        rows.append(rows[row] if isinstance(row, int) else row)
    out: dict[tuple[str, str], str] = {}
    for g, row in enumerate(rows):
        text = {d: t for t, ds in row.items() if t != "*" for d in ds}
        for h, other in enumerate(groups):
            cell = text.get(h, row["*"])
            for src in groups[g]["pods"]:
                for dst in other["pods"]:
                    if src != dst:
                        out[src, dst] = cell
    for host, peers in doc.get("node_traffic", {}).items():
        for peer in peers:
            out[host, peer] = out[peer, host] = "all"
    return out


def _services(doc: dict[str, Any]) -> dict[tuple[str, str], tuple[str, Any]]:
    """(pod, Service port) -> its outcome and the backends reached, groups expanded."""
    members = {g["name"]: g["pods"] for g in doc["groups"]}
    out: dict[tuple[str, str], tuple[str, Any]] = {}
    for key, column in doc["services"].items():
        for name in column["reachable_from"]:
            out.update(((pod, key), ("allowed", None)) for pod in members[name])
        for name in column["denied_from"]:
            out.update(((pod, key), ("denied", None)) for pod in members[name])
        for name, reached in column["partially_from"].items():
            out.update(((pod, key), ("partially", reached)) for pod in members[name])
    return out


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(manifests=with_services())
def test_grouped_services_matrix_expands_to_the_pods_answer(
        manifests: Manifests, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "cluster.yaml").write_text("\n---\n".join(json.dumps(m) for m in manifests))
    grouped = _matrix(tmp_path, capsys)
    pods = _matrix(tmp_path, capsys, "--pods")
    assert sorted(p for g in grouped["groups"] for p in g["pods"]) == sorted(
        g["name"] for g in pods["groups"])
    assert _cells(grouped) == _cells(pods)
    assert _services(grouped) == _services(pods)
