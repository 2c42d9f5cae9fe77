"""The matrix's pairs of port sets numbered without the dense table (``PAIR_TABLE_CELLS``
exceeded: a cluster with many distinct port sets, such as named ports numbered per
workload) give the same rows as through the table."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

sys.path.insert(0, str(Path(__file__).resolve().parent))  # sibling module, no packages here

import strategies as gen

from stockade.engine import matrix, span_arrays
from stockade.engine.matrix import ClassRows

FAST = settings(max_examples=100, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])


def _rows(manifests: list[dict[str, Any]]) -> list[list[str]]:
    rows = ClassRows(gen.engine_of(manifests))
    return [[rows.texts[i] for i in row.tolist()] for _, row in rows]


@FAST
@given(manifests=gen.clusters(min_policies=1, max_policies=6))
def test_rows_without_the_pair_table_equal_rows_through_it(
        manifests: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as patch:
        patch.setattr(matrix, "PAIR_TABLE_CELLS", 1 << 26)
        table = _rows(manifests)
    with monkeypatch.context() as patch:
        patch.setattr(matrix, "PAIR_TABLE_CELLS", 0)
        sparse = _rows(manifests)
    with monkeypatch.context() as patch:
        patch.setattr(span_arrays, "PAIR_BATCH_SPANS", 1)  # one pair of sets at a time
        batched = _rows(manifests)
    assert sparse == table
    assert batched == table


def test_many_port_sets_take_no_table_of_their_square(monkeypatch: pytest.MonkeyPatch) -> None:
    """A cluster of 3,000 port sets would need a 36-million-cell table; past the limit none
    is made (the same rows come out: the property above)."""
    monkeypatch.setattr(matrix, "PAIR_TABLE_CELLS", 64)
    pods = [{"apiVersion": "v1", "kind": "Pod",
             "metadata": {"name": f"p{i}", "namespace": "ns", "labels": {"app": f"a{i}"}},
             "spec": {"nodeName": "n", "containers": [{"name": "c", "ports": [
                 {"name": "web", "containerPort": 1000 + i}]}]},
             "status": {"podIP": f"10.0.0.{i + 1}", "podIPs": [{"ip": f"10.0.0.{i + 1}"}]}}
            for i in range(20)]
    policy = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
              "metadata": {"name": "web", "namespace": "ns"},
              "spec": {"podSelector": {}, "policyTypes": ["Egress", "Ingress"],
                       "egress": [{"ports": [{"port": "web"}]}],
                       "ingress": [{"ports": [{"port": "web"}, {"port": 5000}]}]}}
    rows = ClassRows(gen.engine_of([{"apiVersion": "v1", "kind": "Namespace",
                                     "metadata": {"name": "ns"}}, *pods, policy]))
    texts = [[rows.texts[i] for i in row.tolist()] for _, row in rows]
    assert rows._width == 0 and len(rows._pair_keys) > 0
    assert texts[0][1] == "TCP 1001" and texts[3][7] == "TCP 1007"


@FAST
@given(manifests=gen.clusters(min_policies=1, max_policies=6))
def test_rows_with_few_sides_ports_kept_equal_rows_with_all_kept(
        manifests: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> None:
    """Egress sides' rules' ports per named-port signature kept for the sides used last only
    (``SPANS_CACHE_LISTS``): worked out again when dropped, the same rows come out."""
    with monkeypatch.context() as patch:
        patch.setattr(matrix, "SPANS_CACHE_LISTS", 1 << 30)
        kept = _rows(manifests)
    for limit in (0, 1, 3):
        with monkeypatch.context() as patch:
            patch.setattr(matrix, "SPANS_CACHE_LISTS", limit)
            assert _rows(manifests) == kept


@pytest.mark.parametrize("by_named", [False, True])
def test_a_side_filled_in_place_reads_as_its_dense_row(by_named: bool) -> None:
    import numpy as np

    side = matrix.Side(default=np.array([7, 3, 9], dtype=np.int64), by_named=by_named,
                       positions=np.array([1, 4], dtype=np.int32),
                       values=np.array([5, 6], dtype=np.int32))
    named = np.array([2, 0, 1, 1, 0, 2], dtype=np.int64)
    out = np.full(len(named), -1, dtype=np.int32)
    side.fill(out, named)
    assert out.tolist() == side.dense(named).tolist()
    assert out.tolist() == ([9, 5, 3, 3, 6, 9] if by_named else [7, 5, 7, 7, 6, 7])
