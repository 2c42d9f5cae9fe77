"""A side with cluster rules is worked out from its parts' sides (``PairSets._tiered_side``:
the Admin tier's pairs, combined with the NetworkPolicy sets or the Baseline tier's pairs,
each part shared by every side with those rules), and read at a few classes through the
same parts (``_side_at``). Both must equal the definition, class by class: which of the
side's rules match the class, then ``PairSets.side_set`` of those rules, on random small
tiered clusters, whichever way the parts number their rows (a count of small masks, or a
sort of distinct rows)."""

from __future__ import annotations

from unittest import mock

import numpy as np
import strategies as gen
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stockade.engine import matrix
from stockade.engine.matrix import Layers, PairSets, Spans

FAST = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _defined(keys: PairSets, layers: Layers, variant: int, own: list[Spans] | None,
             classes: list[int]) -> list[Spans]:
    """Per class, what a side allows it by the definition: the rules whose peers match the
    class (in ``variant``), their ports (``own``: an ingress side's, resolved on its own
    class; None: an egress side's, resolved on the destination), ``side_set``."""
    rules = layers.rules
    masks = keys.rule_masks(rules, variant)
    out = []
    for c in classes:
        spans = own if own is not None else [keys.rule_spans(rule, c) for rule in rules]
        out.append(PairSets.side_set(layers, masks[c], spans))
    return out


@FAST
@given(gen.clusters(max_policies=4, min_cluster_policies=1, max_cluster_policies=4),
       st.booleans(), st.data())
def test_tiered_sides_equal_side_set_class_by_class(manifests: list[gen.Manifest],
                                                    sorted_rows: bool,
                                                    data: st.DataObject) -> None:
    engine = gen.engine_of(manifests)
    # sorted_rows: every side's rows numbered through the sort of distinct rows, not by
    # counting small masks (the path sides of more than 16 rules take).
    with mock.patch.object(matrix, "SMALL_MASK_BITS", -1 if sorted_rows else 16), \
            mock.patch.object(matrix, "SUBSET_SHARE", 0):  # any destinations are few
        keys = PairSets(engine)
        everyone = list(range(keys.n))
        some = data.draw(st.lists(st.sampled_from(everyone), unique=True) if everyone
                         else st.just([]), label="classes")
        picked = np.array(sorted(some), dtype=np.int64)
        for variant in keys.variants:
            # Before any side is kept: read at the picked destinations only, every type
            # through one reading of them.
            for t, layers in enumerate(keys.e_layers):
                few = keys.egress_ids(variant, t, picked)
                expected = _defined(keys, layers, variant, None, everyone)
                assert [keys.sets[i] for i in few.tolist()] == [expected[c] for c in
                                                                picked.tolist()], (variant, t)
        for variant in keys.variants:
            for t, layers in enumerate(keys.e_layers):
                side = keys.egress_side(variant, t)
                got = side.dense(keys.named)
                expected = _defined(keys, layers, variant, None, everyone)
                assert [keys.sets[i] for i in got.tolist()] == expected, ("egress", variant, t)
                at = keys._side_at(layers, variant, None, bool(keys.e_named[t]), picked)
                assert [keys.sets[i] for i in at.tolist()] == [expected[c] for c in picked.tolist()]
            for t, layers in enumerate(keys.i_layers):
                if t == 0:
                    continue
                side = keys.ingress_side(variant, t)
                got = side.dense(keys.named)
                expected = _defined(keys, layers, variant, keys.i_spans[t], everyone)
                assert [keys.sets[i] for i in got.tolist()] == expected, ("ingress", variant, t)
                at = keys._side_at(layers, variant, keys.i_spans[t], False, picked)
                assert [keys.sets[i] for i in at.tolist()] == [expected[c] for c in picked.tolist()]


@FAST
@given(gen.clusters(max_policies=4, min_cluster_policies=1, max_cluster_policies=4))
def test_a_tiered_side_is_sparse_as_the_rows_make_it(manifests: list[gen.Manifest]) -> None:
    """The combined side lists exactly the classes whose number differs from its default
    (the default of their named-port signature), as a side worked out row by row does: the
    matrix's row types compare sides by their bytes."""
    engine = gen.engine_of(manifests)
    keys = PairSets(engine)
    for variant in keys.variants:
        for t, layers in enumerate(keys.e_layers):
            if not layers.tiered:
                continue
            by_named = bool(keys.e_named[t])
            side = keys.egress_side(variant, t)
            rows = keys._rule_side(layers, variant if keys.e_blocks[t] else 0, None, by_named,
                                   keys._side_values)
            assert PairSets._side_key(side) == PairSets._side_key(rows), (variant, t)
        for t, layers in enumerate(keys.i_layers):
            if not layers.tiered:
                continue
            side = keys.ingress_side(variant, t)
            rows = keys._rule_side(layers, variant if keys.i_blocks[t] else 0, keys.i_spans[t],
                                   False, keys._side_values)
            assert PairSets._side_key(side) == PairSets._side_key(rows), (variant, t)


@FAST
@given(st.lists(st.integers(0, (1 << 130) - 1), max_size=12), st.integers(0, (1 << 130) - 1))
def test_bits_after_a_rule_of_any_port_are_cleared(rows: list[int], last_word: int) -> None:
    """Each row keeps its bits up to and including its first bit of ``last_word`` (all of
    them when it has none), across the 64-bit words of a mask."""
    words = 3
    masks = np.array([[(row >> (64 * w)) & ((1 << 64) - 1) for w in range(words)]
                      for row in rows], dtype=np.uint64).reshape(len(rows), words)
    matrix._cut_after_last_word(masks, last_word)
    for row, got in zip(rows, masks.tolist(), strict=True):
        hit = row & last_word
        expected = row & ((hit & -hit) * 2 - 1) if hit else row
        assert sum(w << (64 * i) for i, w in enumerate(got)) == expected


def _dual_stack() -> list[gen.Manifest]:
    """Dual-stack pods, an egress NetworkPolicy whose ipBlocks allow other ports in each
    family, and an Admin tier that passes everything down: the sides of the isolated
    source differ between the IPv4 and the IPv6 variant at the same destinations."""
    docs: list[gen.Manifest] = [{"apiVersion": "v1", "kind": "Namespace",
                                 "metadata": {"name": "x"}}]
    for i in range(6):
        v4, v6 = f"10.0.0.{i + 1}", f"fd00::{i + 1}"
        docs.append({"apiVersion": "v1", "kind": "Pod",
                     "metadata": {"name": f"p{i}", "namespace": "x", "labels": {"n": str(i)}},
                     "spec": {"nodeName": "n1", "containers": [{"name": "c"}]},
                     "status": {"podIP": v4, "podIPs": [{"ip": v4}, {"ip": v6}]}})
    docs.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                 "metadata": {"name": "out", "namespace": "x"},
                 "spec": {"podSelector": {"matchLabels": {"n": "0"}}, "policyTypes": ["Egress"],
                          "egress": [
                              {"to": [{"ipBlock": {"cidr": "10.0.0.0/29"}}],
                               "ports": [{"port": 80}]},
                              {"to": [{"ipBlock": {"cidr": "fd00::/125"}}],
                               "ports": [{"port": 443}]}]}})
    docs.append({"apiVersion": "policy.networking.k8s.io/v1alpha2",
                 "kind": "ClusterNetworkPolicy", "metadata": {"name": "pass"},
                 "spec": {"tier": "Admin", "priority": 5,
                          "subject": {"namespaces": {}},
                          "egress": [{"action": "Pass", "name": "down",
                                      "to": [{"namespaces": {}}]}]}})
    return docs


def test_readings_at_the_same_destinations_are_not_shared_across_variants() -> None:
    engine = gen.engine_of(_dual_stack())
    with mock.patch.object(matrix, "SUBSET_SHARE", 0):
        keys = PairSets(engine)
        assert {4, 6} <= set(keys.variants)
        everyone = list(range(keys.n))
        dst = np.arange(keys.n, dtype=np.int64)
        differ = 0
        for variant in (4, 6, 4):
            for t, layers in enumerate(keys.e_layers):
                got = [keys.sets[i] for i in keys.egress_ids(variant, t, dst).tolist()]
                assert got == _defined(keys, layers, variant, None, everyone), (variant, t)
            differ += any(layers.tiered and layers.isolated and _defined(
                keys, layers, 4, None, everyone) != _defined(keys, layers, 6, None, everyone)
                for layers in keys.e_layers)
        assert differ  # the case the test is about: the variants' answers differ
