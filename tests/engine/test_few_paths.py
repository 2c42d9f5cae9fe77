"""The matrix's plain-Python paths for small pieces give exactly what the vector paths
give, on random small clusters with and without cluster-wide policies: a side whose rules
list few classes (``FEW_LISTED``) decomposed and numbered with dicts and lists (the same
rows in the same order, the same sparse side as the bytes the row types compare; the
vector path's listed classes found by a sort or by a scan, ``SCAN_SHARE``), a side
read at a few classes, the ingress columns of few exceptions (``FEW_ENTRIES``), the
grouping of few named-port signatures (``group_rows``), each single-pod class's cell
towards itself read from its type's row (``prepare``), and the whole matrix."""

from __future__ import annotations

from unittest import mock

import numpy as np
import strategies as gen
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stockade.engine import Engine, matrix
from stockade.engine.matrix import ClassRows, Layers, PairSets, Spans

FAST = settings(max_examples=120, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _all_layers(keys: PairSets) -> list[tuple[Layers, bool, bool]]:
    """Every side's layers, and each tier part's, with whether named ports may matter and
    whether they are a tier's part (numbered by ``_part_values``)."""
    out = [(layers, bool(named), False) for layers, named in zip(keys.e_layers, keys.e_named,
                                                                strict=True)]
    out += [(layers, False, False) for layers in keys.i_layers]
    for layers, _, _ in list(out):
        for part in (layers.admin, layers.baseline):
            if part:
                out.append((keys._part_rules(part, True).layers, True, True))
        if layers.tiered and layers.networkpolicy:
            out.append((keys._part_rules(layers.networkpolicy, False).layers, True, False))
    return out


@FAST
@given(gen.clusters(max_policies=5, max_cluster_policies=3), st.integers(0, (1 << 16) - 1))
def test_few_rows_equal_the_vector_rows(manifests: list[gen.Manifest], last_word: int) -> None:
    engine = gen.engine_of(manifests)
    keys = PairSets(engine)
    for layers, named, tier in _all_layers(keys):
        if len(layers.rules) > matrix.SMALL_MASK_BITS:
            continue
        for variant in keys.variants:
            for by_named in {False, named}:
                sets = [rule.peer_classes(variant) for rule in layers.rules]
                projected, reps = (keys._named_projection(layers) if by_named
                                   else (np.zeros(1, dtype=np.int64), [0]))
                cut = last_word & ((1 << len(sets)) - 1)
                few = keys._decomposed_few(sets, projected, reps, by_named, cut)
                # The classes the rules list found by sorting them, and by a scan.
                with mock.patch.object(matrix, "SCAN_SHARE", 0):
                    many = keys._decomposed_many(sets, projected, reps, by_named, cut)
                with mock.patch.object(matrix, "SCAN_SHARE", 1 << 40):
                    scanned = keys._decomposed_many(sets, projected, reps, by_named, cut)
                for name in few.__struct_fields__:
                    a = getattr(few, name)
                    for b in (getattr(many, name), getattr(scanned, name)):
                        if isinstance(a, np.ndarray):
                            assert a.dtype == b.dtype and a.shape == b.shape, name
                            assert np.array_equal(a, b), name
                        else:
                            assert a == b, name
                side_values = keys._part_values if tier else keys._side_values
                numbers = side_values(layers, few.masks, None, few.signatures)
                assert PairSets._side_key(PairSets._few_side_of_rows(few, numbers)) \
                    == PairSets._side_key(_vector_side(few, layers, side_values))


def _vector_side(rows: matrix._Rows, layers: Layers,
                 side_values: matrix.SideValues) -> matrix.Side:
    with mock.patch.object(matrix, "FEW_LISTED", -1):
        return PairSets._side_of_rows(rows, layers, None, side_values)


@FAST
@given(gen.clusters(max_policies=5, max_cluster_policies=3))
def test_the_matrix_is_the_same_without_the_few_paths(manifests: list[gen.Manifest]) -> None:
    engine = gen.engine_of(manifests)
    few = ClassRows(engine)
    rows = [(src, few.texts[int(t)]) for src, ids in few for t in ids.tolist()]
    with mock.patch.object(matrix, "FEW_LISTED", -1), \
            mock.patch.object(matrix, "FEW_ENTRIES", -1):
        many = ClassRows(engine)
        assert [(src, many.texts[int(t)]) for src, ids in many for t in ids.tolist()] == rows


def _rows(engine: Engine) -> list[tuple[int, int | None, list[str]]]:
    rows = ClassRows(engine)
    return [(src, rows.same_as, [rows.texts[t] for t in ids.tolist()]) for src, ids in rows]


@FAST
@given(gen.clusters(max_policies=5, max_cluster_policies=3))
def test_rows_worked_out_ahead_give_each_class_its_own_cell(
        manifests: list[gen.Manifest]) -> None:
    """When every row type's row fits in one chunk, ``prepare`` works them out first and
    reads a class's cell towards itself from its type's row; otherwise from the cells of
    the classes towards themselves. The same rows, the same earlier rows, either way; and
    each class's cell towards itself is its type's row's there."""
    engine = gen.engine_of(manifests)
    ahead = _rows(engine)
    with mock.patch.object(matrix, "CHUNK_CELLS", 1):
        assert _rows(engine) == ahead
    rows = ClassRows(engine)
    rows.prepare()
    n = len(engine.classes)
    every = np.arange(n, dtype=np.int64)
    own = np.diagonal(rows.cells(every, every))
    types, reps = rows.keys.row_types()
    assert own.tolist() == [rows.cells(reps[types[c]:types[c] + 1], every)[0, c]
                            for c in range(n)]


@FAST
@given(gen.clusters(max_policies=5, max_cluster_policies=3))
def test_few_ingress_columns_are_sorted_as_the_counting_sort_places_them(
        manifests: list[gen.Manifest]) -> None:
    """The ingress columns of few exceptions (``FEW_ENTRIES``), sorted by source at once,
    equal those placed type by type: the same offsets, types and values, in order."""
    engine = gen.engine_of(manifests)
    for variant in PairSets(engine).variants:
        few = PairSets(engine)._ingress_columns(variant)
        with mock.patch.object(matrix, "FEW_ENTRIES", -1):
            placed = PairSets(engine)._ingress_columns(variant)
        for k in range(len(few)):
            assert few[k].dtype == placed[k].dtype and few[k].tolist() == placed[k].tolist()


@FAST
@given(st.integers(0, 3), st.integers(0, 40), st.data())
def test_rows_grouped_by_python_as_numpy_groups_them(width: int, height: int,
                                                     data: st.DataObject) -> None:
    """``group_rows`` of a few rows (tuples) is ``np.unique(table, axis=0)``'s grouping:
    the same group per row, numbered in the rows' order, the same first rows."""
    columns = [np.array(data.draw(st.lists(st.integers(-1, 3), min_size=height,
                                           max_size=height)), dtype=np.int32)
               for _ in range(width)]
    few = matrix.group_rows(columns, height)
    with mock.patch.object(matrix, "FEW_LISTED", -1):
        many = matrix.group_rows(columns, height)
    assert few[0].dtype == many[0].dtype and few[0].tolist() == many[0].tolist()
    assert few[1] == many[1]


@FAST
@given(gen.clusters(max_policies=5), st.data())
def test_a_side_read_at_few_classes_is_read_alike_by_python(
        manifests: list[gen.Manifest], data: st.DataObject) -> None:
    """``_read_rules`` at a few classes (``FEW_LISTED``) numbers each class's port set as
    the vector reading does."""
    engine = gen.engine_of(manifests)
    keys = PairSets(engine)
    n = len(engine.classes)
    chosen = np.array(sorted(data.draw(st.sets(st.integers(0, max(0, n - 1)), min_size=1,
                                                max_size=n))), dtype=np.int64)
    sides: list[tuple[Layers, list[Spans] | None, bool]] = [
        (layers, None, bool(named)) for layers, named in zip(keys.e_layers, keys.e_named,
                                                            strict=True)]
    sides += [(layers, spans, False) for layers, spans in zip(keys.i_layers, keys.i_spans,
                                                              strict=True)]
    for layers, spans, by_named in sides:
        if layers.trivial or layers.tiered or not n:
            continue
        for variant in keys.variants:
            few = keys._read_rules(layers, variant, spans, by_named,
                                   matrix._Reading(keys, chosen, variant))
            with mock.patch.object(matrix, "FEW_LISTED", -1):
                many = keys._read_rules(layers, variant, spans, by_named,
                                        matrix._Reading(keys, chosen, variant))
            assert few.dtype == many.dtype and few.tolist() == many.tolist()
