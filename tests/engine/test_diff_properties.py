"""Properties of ``stockade diff`` on random small clusters and random edits of them.

The diff must be the difference of the two connectivity matrices pair by pair (whatever
was edited: policies, pods, nodes, namespace labels), see nothing between a cluster and
itself or a rewrite of it that allows the same (rules reordered, a policy split in two,
policies renamed, a policy selecting no pod added), and swap gained and lost when the
sides are swapped.
"""

from __future__ import annotations

import copy
import random
from typing import Any

import strategies as gen
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stockade.engine import Engine
from stockade.engine.diff import Comparison
from stockade.engine.diff_result import diff_result, port_results
from stockade.engine.matrix import connectivity
from stockade.model.types import Protocol
from stockade.render.groups import group_names

FAST = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

Manifests = list[dict[str, Any]]


def _pairs(engine: Engine) -> dict[tuple[str, str], str]:
    matrix = connectivity(engine)
    keys = [p.key for p in engine.pods]
    return {(keys[i], keys[j]): matrix.between_pods(i, j)
            for i in range(len(keys)) for j in range(len(keys)) if i != j}


def _compare(old: Manifests, new: Manifests) -> Comparison:
    return Comparison(gen.engine_of(old), gen.engine_of(new))


def _result(cmp: Comparison, per_pod: bool = True) -> Any:
    names = group_names(cmp.groups, cmp.new.pods)
    return diff_result(cmp, names, per_pod=per_pod)


def _spans_minus(a: str, b: str) -> gen.Spans:
    """What connection text ``a`` allows and ``b`` does not, as spans per protocol."""
    left, right = gen.parse_connections(a), gen.parse_connections(b)
    out: gen.Spans = {p: [] for p in Protocol}
    for proto in Protocol:
        for first, last in left[proto]:
            pieces = [(first, last)]
            for lo, hi in right[proto]:
                pieces = [q for f, la in pieces for q in (
                    [(f, la)] if hi < f or lo > la else
                    [x for x in ((f, lo - 1), (hi + 1, la)) if x[0] <= x[1]])]
            out[proto].extend(pieces)
    return out


# --- edits ----------------------------------------------------------------------------------


EDITS = ("modify", "add", "remove", "labels", "node", "pod-add", "pod-remove", "namespace")


@st.composite
def edited(draw: st.DrawFn, manifests: Manifests, edits: tuple[str, ...] = EDITS
           ) -> Manifests:
    """The cluster after a few random edits of policies, pods and namespaces."""
    out = copy.deepcopy(manifests)
    namespaces = sorted({m["metadata"]["namespace"] for m in out if m["kind"] == "Pod"}
                        | {m["metadata"]["name"] for m in out if m["kind"] == "Namespace"})
    for n in range(draw(st.integers(1, 3))):
        policies = [m for m in out if m["kind"] == "NetworkPolicy"]
        pods = [m for m in out if m["kind"] == "Pod"]
        spaces = [m for m in out if m["kind"] == "Namespace"]
        edit = draw(st.sampled_from(edits))
        if edit == "modify" and policies:
            target = draw(st.sampled_from(policies))
            fresh = draw(gen.policies(namespaces, target["metadata"]["name"]))
            target["spec"] = fresh["spec"]
        elif edit == "add" or (edit in ("modify", "remove") and not policies):
            out.append(draw(gen.policies(namespaces, f"added{n}")))
        elif edit == "remove":
            out.remove(draw(st.sampled_from(policies)))
        elif edit == "labels":
            pod = draw(st.sampled_from(pods))
            pod["metadata"]["labels"] = {k: draw(st.sampled_from(v)) for k, v in
                                         gen.POD_LABELS.items() if draw(st.booleans())}
        elif edit == "node":
            pod = draw(st.sampled_from(pods))
            pod["spec"]["nodeName"] = draw(st.sampled_from(gen.NODES))
            pod["spec"]["hostNetwork"] = draw(st.booleans())
        elif edit == "pod-add":
            extra = draw(gen.pods(namespaces, 1))[0]
            extra["metadata"]["name"] = f"extra{n}"
            used = {m.get("status", {}).get("podIP") for m in pods}
            if "status" in extra and extra["status"]["podIP"] in used:
                extra.pop("status")
            out.append(extra)
        elif edit == "pod-remove" and len(pods) > 2:
            out.remove(draw(st.sampled_from(pods)))
        elif edit == "namespace" and spaces:
            space = draw(st.sampled_from(spaces))
            space["metadata"]["labels"] = {k: draw(st.sampled_from(v)) for k, v in
                                           gen.NS_LABELS.items() if draw(st.booleans())}
    return out


@st.composite
def clusters(draw: st.DrawFn, min_policies: int = 0) -> Manifests:
    """``gen.clusters``, often with a DaemonSet of host-network pods on every node (one
    group whose pairs with a node's pods are node traffic for some of its pods only)."""
    out: Manifests = draw(gen.clusters(min_policies=min_policies))
    return draw(gen.host_daemonset(out)) if draw(st.booleans()) else out


# --- properties -----------------------------------------------------------------------------


@FAST
@given(gen.clusters())
def test_a_cluster_equals_itself(manifests: Manifests) -> None:
    cmp = _compare(manifests, copy.deepcopy(manifests))
    assert cmp.changes() == []
    result = _result(cmp, per_pod=False)
    assert not result.changed and result.connections == ()


@FAST
@given(st.data(), st.sampled_from((EDITS, ("namespace",), ("labels", "node"))))
def test_diff_is_the_difference_of_the_two_matrices_pair_by_pair(
        data: st.DataObject, edits: tuple[str, ...]) -> None:
    old = data.draw(clusters(min_policies=1))
    new = data.draw(edited(old, edits))
    cmp = _compare(old, new)
    before, after = _pairs(cmp.old), _pairs(cmp.new)
    expected = {pair: (before[pair], after[pair]) for pair in before.keys() & after.keys()
                if before[pair] != after[pair]}
    result = _result(cmp)
    found = {(c.source, c.destination): (c.before, c.after) for c in result.connections}
    assert found == expected
    for c in result.connections:
        assert gen.parse_connections(c.gained or "none") == _spans_minus(c.after, c.before)
        assert gen.parse_connections(c.lost or "none") == _spans_minus(c.before, c.after)
    old_keys, new_keys = {p.key for p in cmp.old.pods}, {p.key for p in cmp.new.pods}
    assert set(result.endpoints_added) == new_keys - old_keys
    assert set(result.endpoints_removed) == old_keys - new_keys
    assert result.changed == bool(expected or new_keys ^ old_keys)


@FAST
@given(st.data())
def test_each_group_pair_is_true_of_each_of_its_pairs_of_pods(data: st.DataObject) -> None:
    """Grouped, a changed group pair's before and after are those of each pair of its pods
    (distinct ones) but the pairs it names as exceptions, which are node traffic on a side;
    and every pair of pods that changed is in exactly one group pair or listed by its pods
    (node traffic). The matrices, not the comparison, say what changed."""
    old = data.draw(clusters())
    new = data.draw(edited(old))
    cmp = _compare(old, new)
    before, after = _pairs(cmp.old), _pairs(cmp.new)
    expected = {pair: (before[pair], after[pair]) for pair in before.keys() & after.keys()
                if before[pair] != after[pair]}
    index = [{p.key: i for i, p in enumerate(e.pods)} for e in (cmp.old, cmp.new)]
    result = _result(cmp, per_pod=False)
    found: dict[tuple[str, str], tuple[str, str]] = {}
    for c in result.connections:
        if c.node_traffic:
            assert not c.except_pairs
            found[c.source, c.destination] = (c.before, c.after)
            continue
        excepted = set(c.except_pairs)
        assert len(excepted) == len(c.except_pairs)
        for a, b in excepted:
            assert any(e.node_traffic(i[a], i[b]) for e, i in zip((cmp.old, cmp.new), index,
                                                                    strict=True)), (a, b)
        pairs = [(a, b) for a in result.groups[c.source] for b in result.groups[c.destination]
                 if a != b]
        assert excepted <= set(pairs) and len(excepted) < len(pairs)
        for pair in pairs:
            if pair not in excepted:
                assert pair not in found, pair
                found[pair] = (c.before, c.after)
    assert found == expected


@FAST
@given(st.data(), st.sampled_from(list(Protocol)))
def test_port_results_are_the_difference_of_reachability(data: st.DataObject,
                                                         protocol: Protocol) -> None:
    old = data.draw(clusters())
    new = data.draw(edited(old))
    port = data.draw(st.sampled_from(gen.boundary_ports(old + new)))
    cmp = _compare(old, new)
    engines = (cmp.old, cmp.new)
    keys = [p.key for p in cmp.new.pods if p.key in {q.key for q in cmp.old.pods}]
    answers = [{(a, b): e.allowed(a, b, protocol, port) for a in keys for b in keys if a != b}
               for e in engines]
    added: dict[str, list[str]] = {}
    removed: dict[str, list[str]] = {}
    for pair, was in answers[0].items():
        now = answers[1][pair]
        if was != now:
            (added if now else removed).setdefault(pair[0], []).append(pair[1])
    [result] = port_results(cmp, [(port, protocol)], [], per_pod=True)
    assert result.added == added
    assert result.removed == removed
    # By group: each group pair listed holds only pairs of pods that changed so (node
    # traffic in it named by pods instead), and together they are every such pair.
    names = group_names(cmp.groups, cmp.new.pods)
    members = {names[g.index]: [cmp.new.pods[m].key for m in g.members] for g in cmp.groups}
    [grouped] = port_results(cmp, [(port, protocol)], names)
    for listing, expected in ((grouped.added, added), (grouped.removed, removed)):
        pairs = [(a, b) for src, dsts in listing.items() for dst in dsts
                 for a in members.get(src, [src]) for b in members.get(dst, [dst]) if a != b]
        assert len(pairs) == len(set(pairs))
        assert {(a, b) for a, b in pairs} == {(a, b) for a, dsts in expected.items()
                                              for b in dsts}


def _rewrite(manifests: Manifests, rng: random.Random) -> Manifests:
    """The same policies said differently: rules, peers and ports reordered, each policy
    split in two that allow the same, every policy renamed, and a policy that selects no
    pod added."""
    out: Manifests = []
    for m in manifests:
        if m["kind"] != "NetworkPolicy":
            out.append(copy.deepcopy(m))
            continue
        spec = copy.deepcopy(m["spec"])
        spec["policyTypes"] = gen.defaulted_types(spec)  # explicit: halves must not redefault
        for field, peers in (("ingress", "from"), ("egress", "to")):
            rules = spec.get(field) or []
            for rule in rules:
                for key in (peers, "ports"):
                    if rule.get(key):
                        rng.shuffle(rule[key])
            rng.shuffle(rules)
        halves = [copy.deepcopy(spec), copy.deepcopy(spec)]
        for field in ("ingress", "egress"):
            rules = spec.get(field)
            if rules is None:
                continue
            cut = rng.randint(0, len(rules))
            halves[0][field], halves[1][field] = rules[:cut], rules[cut:]
        for i, half in enumerate(halves):
            name = f"renamed-{m['metadata']['name']}-{i}"
            out.append({**m, "metadata": {**m["metadata"], "name": name}, "spec": half})
    namespace = next(m["metadata"]["namespace"] for m in manifests if m["kind"] == "Pod")
    out.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                "metadata": {"namespace": namespace, "name": "selects-nobody"},
                "spec": {"podSelector": {"matchLabels": dict([gen.NO_POD_LABEL])},
                         "policyTypes": ["Ingress", "Egress"]}})
    return out


@FAST
@given(gen.clusters(min_policies=1), st.randoms(use_true_random=False))
def test_equivalent_rewrites_are_no_change(manifests: Manifests, rng: random.Random) -> None:
    rewritten = _rewrite(manifests, rng)
    cmp = _compare(manifests, rewritten)
    assert cmp.changes() == []
    result = _result(cmp, per_pod=False)
    assert not result.changed
    assert result.policies.removed and result.policies.added  # listed, yet no change


@FAST
@given(st.data())
def test_swapping_the_sides_swaps_gained_and_lost(data: st.DataObject) -> None:
    old = data.draw(clusters())
    new = data.draw(edited(old))
    forward = _result(_compare(old, new))
    backward = _result(_compare(new, old))
    there = {(c.source, c.destination): (c.before, c.after, c.gained, c.lost)
             for c in forward.connections}
    back = {(c.source, c.destination): (c.after, c.before, c.lost, c.gained)
            for c in backward.connections}
    assert there == back
    assert set(forward.endpoints_added) == set(backward.endpoints_removed)
    assert set(forward.endpoints_removed) == set(backward.endpoints_added)


@FAST
@given(st.data())
def test_every_change_between_unchanged_pods_is_attributed_to_a_policy(
        data: st.DataObject) -> None:
    """When only policies were edited, each changed pair names at least one policy that was
    added, removed or modified."""
    old = data.draw(gen.clusters(min_policies=1))
    new = copy.deepcopy(old)
    policies = [m for m in new if m["kind"] == "NetworkPolicy"]
    target = data.draw(st.sampled_from(policies))
    namespaces = sorted({m["metadata"]["namespace"] for m in new if m["kind"] == "Pod"})
    target["spec"] = data.draw(gen.policies(namespaces, "x"))["spec"]
    result = _result(_compare(old, new), per_pod=False)
    for change in result.connections:
        assert change.because, change
        assert any(c.policy and c.change != "unchanged" for c in change.because), change


def _namespace(name: str, env: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": name, "labels": {"env": env}}}


def _plain_pod(namespace: str, name: str, ip: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"namespace": namespace, "name": name},
            "spec": {"containers": [{"name": "main"}]}, "status": {"podIP": ip}}


def test_a_namespace_label_change_is_a_change_of_the_pairs_it_decides() -> None:
    """Only a namespace's labels differ: no policy or pod changed, yet what a
    namespaceSelector selects did."""
    policy = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
              "metadata": {"namespace": "y", "name": "from-prod"},
              "spec": {"podSelector": {}, "ingress": [
                  {"from": [{"namespaceSelector": {"matchLabels": {"env": "prod"}}}]}]}}
    old = [_namespace("x", "prod"), _namespace("y", "dev"), _plain_pod("x", "a", "10.0.0.1"),
           _plain_pod("y", "b", "10.0.0.2"), policy]
    new = copy.deepcopy(old)
    new[0]["metadata"]["labels"] = {"env": "dev"}
    result = _result(_compare(old, new))
    assert [(c.source, c.destination, c.before, c.after) for c in result.connections] == [
        ("x/a", "y/b", "all", "none")]
    assert [c.what for c in result.connections[0].because] == [
        "no longer allows", "namespace changed"]
