"""An engine made ``like`` another (the other side of a diff) takes what the two share
instead of working it out again: the classes when their inputs are the same, the compiled
form of each policy that is the same on both sides. Whatever was edited, it answers exactly
as an engine made alone, and the diff it gives is the one two engines made alone give."""

from __future__ import annotations

import copy
from typing import Any

import strategies as gen
from hypothesis import given
from hypothesis import strategies as st
from test_diff_properties import EDITS, FAST, _pairs, _result, clusters, edited

from stockade.engine import Engine
from stockade.engine.diff import Comparison
from stockade.model.build import RawObject, build_cluster
from stockade.model.types import Origin

Manifests = list[dict[str, Any]]


def _like(manifests: Manifests, other: Engine | None) -> Engine:
    """The engine of ``manifests`` (read from a file ``new``: other origins than the other
    side's) made like ``other`` (None: alone)."""
    raws = [RawObject(copy.deepcopy(m), Origin("new", i + 1)) for i, m in enumerate(manifests)]
    result = build_cluster(raws)
    assert not result.findings
    return Engine(result.cluster, like=other)


@FAST
@given(st.data(), st.sampled_from((EDITS, ("modify",), ("add", "remove"), ("labels",),
                                   ("namespace",), ("node",))))
def test_an_engine_made_like_another_answers_as_one_made_alone(
        data: st.DataObject, edits: tuple[str, ...]) -> None:
    old = data.draw(clusters())
    new = data.draw(edited(old, edits))
    before = gen.engine_of(old)
    alone, like = _like(new, None), _like(new, before)
    assert _pairs(like) == _pairs(alone)
    assert [c.members for c in like.classes] == [c.members for c in alone.classes]
    assert like.isolating == alone.isolating
    assert [cp.policy for cp in like.compiled] == list(like.policies)  # its own objects
    for cp in like.compiled:
        for rules in cp.rules.values():
            assert all(like.policies[rule.policy].key == cp.policy.key for rule in rules)
    assert _result(Comparison(before, like)) == _result(Comparison(before, alone))


@FAST
@given(clusters(min_policies=2), st.data())
def test_what_the_two_sides_share_is_taken_not_made_again(
        manifests: Manifests, data: st.DataObject) -> None:
    """A policy's ports edited (no selector, label or block): the classes, the compiler and
    every other policy's compiled form are the other engine's; a pod's labels edited: the
    pods differ, and nothing is taken."""
    before = gen.engine_of(manifests)
    policies = [m for m in manifests if m["kind"] == "NetworkPolicy"]
    target = data.draw(st.sampled_from(policies))
    edited_ports = copy.deepcopy(manifests)
    changed = edited_ports[manifests.index(target)]
    changed["spec"]["ingress"] = [*changed["spec"].get("ingress", []),
                                  {"ports": [{"port": 4242, "protocol": "UDP"}]}]
    changed["spec"]["policyTypes"] = sorted({*changed["spec"].get("policyTypes", ["Ingress"]),
                                             "Ingress"})
    after = _like(edited_ports, before)
    assert after.classes is before.classes and after.compiler is before.compiler
    assert after.pods_token is before.pods_token
    key = f"{target['metadata']['namespace']}/{target['metadata']['name']}"
    old_rules = {cp.policy.key: cp.rules for cp in before.compiled}
    for cp in after.compiled:
        if cp.policy.key != key:
            assert cp.rules is old_rules[cp.policy.key] or cp.rules == old_rules[cp.policy.key]
            assert cp.policy.origin.file == "new"
    assert _pairs(after) == _pairs(gen.engine_of(edited_ports))

    relabelled = copy.deepcopy(manifests)
    pod = next(m for m in relabelled if m["kind"] == "Pod")
    pod["metadata"]["labels"] = {**pod["metadata"].get("labels", {}), "stockade-test": "x"}
    apart = _like(relabelled, before)
    assert apart.classes is not before.classes
    assert apart.pods_token is not before.pods_token


@FAST
@given(clusters(min_policies=2))
def test_policies_after_a_removed_one_are_taken_with_their_new_positions(
        manifests: Manifests) -> None:
    """The first policy removed, a copy of it under another name kept at the end (the same
    selectors, ports and blocks: the classes stay): every later policy moves up one
    position, and its rules say so."""
    first = next(m for m in manifests if m["kind"] == "NetworkPolicy")
    copied = copy.deepcopy(first)
    copied["metadata"]["name"] = "copy-of-first"
    before = gen.engine_of([*manifests, copied])
    after = _like([m for m in manifests if m is not first] + [copied], before)
    assert after.classes is before.classes
    for i, cp in enumerate(after.compiled):
        assert cp.policy is after.policies[i]
        assert all(rule.policy == i for rules in cp.rules.values() for rule in rules)
    assert _pairs(after) == _pairs(_like([m for m in manifests if m is not first] + [copied],
                                         None))


@FAST
@given(st.data())
def test_with_cluster_wide_policies_too(data: st.DataObject) -> None:
    """Cluster-wide policies (tiers compiled through the shared compiler, `nodes` peers):
    the engine made like the other answers as one made alone, and the other, whose
    compiler the new one used, answers as it did."""
    old = data.draw(gen.clusters(min_policies=1, max_cluster_policies=2))
    new = data.draw(edited(old, ("modify", "add", "remove")))
    before = gen.engine_of(old)
    answers = _pairs(before)
    alone, like = _like(new, None), _like(new, before)
    assert _pairs(like) == _pairs(alone)
    assert _result(Comparison(before, like)) == _result(Comparison(before, alone))
    assert _pairs(before) == answers
