"""``stockade diff OLD NEW --port P/PROTO... [--pods] -o json`` end to end, against the
independent evaluator ``benchmarks/reference.py`` run pair by pair on both sides: the way
the issue's filers check it. Pairs of random small clusters (some with a DaemonSet of
host-network pods over the nodes) are written to YAML files, the new side edited the way pull
requests edit policies (port numbers, named ports, endPort ranges, ipBlocks with excepts,
namespace labels, policyTypes, pods added and removed, cluster-wide policies of every kind),
and the JSON must be exactly what the reference's answers say: with ``--pods`` the pod pairs,
without it the same pairs named by group (each group expanded through the ``groups`` of the
``-o json`` diff, but the pairs of node traffic a row names in ``except``)."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import random
import re
import tempfile
from pathlib import Path
from typing import Any

import strategies as gen
import yaml
from benchmarks.reference import ReferenceCluster
from benchmarks.reference import _ip_of as _ref_ip
from benchmarks.reference import _ports_match as _ref_ports
from benchmarks.reference import _version as _ref_version
from hypothesis import HealthCheck, given, settings, target
from hypothesis import strategies as st
from test_diff_cluster import cluster_edited
from test_diff_properties import _rewrite, edited

from stockade.cli.main import main
from stockade.sources.cluster_snapshot import SnapshotDumper

FAST = settings(max_examples=120, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
Manifests = list[dict[str, Any]]
Answer = dict[str, dict[str, list[str]]]


# --- edits a pull request makes -------------------------------------------------------------


def _rules(policy: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Each rule with the name of its peers' field."""
    spec = policy["spec"]
    return [(peers, r) for field, peers in (("ingress", "from"), ("egress", "to"))
            for r in (spec.get(field) or [])]


@st.composite
def small_edit(draw: st.DrawFn, manifests: Manifests) -> Manifests:
    """One targeted edit of a policy's ports, peers or types, of namespace labels, or of
    the pods."""
    out = copy.deepcopy(manifests)
    policies = [m for m in out if m["kind"] == "NetworkPolicy"]
    rules = [r for p in policies for r in _rules(p)]
    entries = [e for _, r in rules for e in (r.get("ports") or [])]
    blocks = [peer["ipBlock"] for field, r in rules for peer in (r.get(field) or [])
              if "ipBlock" in peer]
    kind = draw(st.sampled_from(("port", "named", "endport", "except", "cidr", "types",
                                 "namespace", "pods", "peer", "protocol")))
    if kind == "port" and entries:
        entry = draw(st.sampled_from(entries))
        entry["port"] = draw(st.sampled_from(gen.PORT_NUMBERS))
        if "endPort" in entry and entry["endPort"] < entry["port"]:
            entry["endPort"] = entry["port"]
    elif kind == "named" and entries:
        entry = draw(st.sampled_from(entries))
        entry.pop("endPort", None)
        entry["port"] = draw(st.sampled_from(gen.PORT_NAMES))
    elif kind == "endport" and entries:
        entry = draw(st.sampled_from(entries))
        first = draw(st.sampled_from(gen.PORT_NUMBERS))
        entry["port"] = first
        choices = [n for n in (*gen.PORT_NUMBERS, 65535) if n >= first]
        entry["endPort"] = draw(st.sampled_from(choices))
    elif kind == "protocol" and entries:
        entry = draw(st.sampled_from(entries))
        entry["protocol"] = draw(st.sampled_from(gen.PROTOCOLS))
    elif kind == "except" and blocks:
        block = draw(st.sampled_from(blocks))
        fresh = draw(gen.ip_blocks())
        if "except" in fresh:
            block.clear()
            block.update(fresh)
        else:
            block.pop("except", None)
    elif kind == "cidr" and blocks:
        block = draw(st.sampled_from(blocks))
        block.clear()
        block.update(draw(gen.ip_blocks()))
    elif kind == "types" and policies:
        policy = draw(st.sampled_from(policies))
        policy["spec"]["policyTypes"] = draw(st.sampled_from(
            (["Ingress"], ["Egress"], ["Ingress", "Egress"])))
    elif kind == "namespace":
        spaces = [m for m in out if m["kind"] == "Namespace"]
        if spaces:
            space = draw(st.sampled_from(spaces))
            space["metadata"]["labels"] = {k: draw(st.sampled_from(v)) for k, v in
                                           gen.NS_LABELS.items() if draw(st.booleans())}
    elif kind == "peer" and rules:
        field, rule = draw(st.sampled_from(rules))
        rule[field] = [draw(gen.peers(gen.POD_LABELS, {**gen.NS_LABELS,
                                                       "kubernetes.io/metadata.name":
                                                       gen.NAMESPACES}))]
    else:
        out = draw(edited(out, ("pod-add", "pod-remove", "labels", "node")))
    return out


@st.composite
def cluster_pairs(draw: st.DrawFn, cluster_wide: bool = False
                  ) -> tuple[Manifests, Manifests]:
    """A cluster (half of the time with a DaemonSet of host-network pods) and its edited
    version; ``cluster_wide``: with cluster-wide policies of every kind, one of them edited
    at least."""
    if cluster_wide:
        old = draw(gen.clusters(min_policies=0, max_policies=2, max_cluster_policies=4))
    else:
        old = draw(gen.clusters(min_policies=1,
                                max_cluster_policies=draw(st.sampled_from((0, 0, 2)))))
    if draw(st.booleans()):  # a group of host-network pods over the nodes: node traffic
        old = draw(gen.host_daemonset(old))
    new = draw(cluster_edited(old)) if cluster_wide else old
    for _ in range(draw(st.integers(0 if cluster_wide else 1, 3))):
        how = draw(st.sampled_from(("small", "small", "small", "edited", "cluster")))
        if how == "small":
            new = draw(small_edit(new))
        elif how == "edited":
            new = draw(edited(new))
        else:
            new = draw(cluster_edited(new))
    return old, _last_wins(new)


def _last_wins(manifests: Manifests) -> Manifests:
    """One object per kind and name, the last (edits applied one after the other may name
    two added policies alike; stockade keeps the later, as kubectl apply, and warns, while
    the reference would evaluate both)."""
    kept: dict[tuple[str, str, str], dict[str, Any]] = {}
    for m in manifests:
        meta = m["metadata"]
        key = (m["kind"], meta.get("namespace", ""), meta["name"])
        kept.pop(key, None)
        kept[key] = m
    return list(kept.values())


# --- running it and the reference -----------------------------------------------------------


def _stockade(*argv: str) -> tuple[int, Any]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    assert code in (0, 1), (code, err.getvalue())
    return code, json.loads(out.getvalue())


def _write(directory: Path, name: str, manifests: Manifests) -> str:
    path = directory / f"{name}.yaml"
    path.write_text(yaml.dump_all(manifests, sort_keys=False, Dumper=SnapshotDumper))
    return str(path)


def _ports(old: Manifests, new: Manifests, data: st.DataObject) -> list[tuple[int, str]]:
    """A few ports, most of them ports on which the reference sees some pair change (so
    that the answers are seldom empty), in a drawn order."""
    numbers = gen.boundary_ports(old + new)
    every = [(port, proto) for port in numbers for proto in gen.PROTOCOLS]
    changing = [(port, proto) for port, proto in every
                if any(_expected(old, new, port, proto))]
    often = bool(changing) and data.draw(st.integers(0, 3)) != 0
    pool = st.sampled_from(changing if often else every)
    chosen: list[tuple[int, str]] = data.draw(st.lists(pool, min_size=1, max_size=4,
                                                       unique=True))
    return chosen


def _expected(old: Manifests, new: Manifests, port: int, protocol: str
              ) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """Pod pairs (present on both sides) now allowed and no longer allowed, per the
    reference."""
    before = ReferenceCluster.from_dicts(copy.deepcopy(old))
    after = ReferenceCluster.from_dicts(copy.deepcopy(new))
    common = sorted(before.pods.keys() & after.pods.keys())
    added, removed = set(), set()
    for a in common:
        for b in common:
            if a == b:
                continue
            was = before.allowed(a, b, protocol, port)
            now = after.allowed(a, b, protocol, port)
            if now and not was:
                added.add((a, b))
            elif was and not now:
                removed.add((a, b))
    return added, removed


def _pairs(listing: dict[str, list[str]]) -> set[tuple[str, str]]:
    return {(src, dst) for src, dsts in listing.items() for dst in dsts}


def _check_shape(answer: Any, ports: list[tuple[int, str]]) -> None:
    assert set(answer) == {"changed", "results"}
    assert isinstance(answer["changed"], bool)
    assert [(r["port"], r["protocol"]) for r in answer["results"]] == ports
    for result in answer["results"]:
        assert set(result) == {"port", "protocol", "added", "removed"}
        assert isinstance(result["port"], int)
        for field in ("added", "removed"):
            for src, dsts in result[field].items():
                assert isinstance(src, str) and dsts, (field, src)
                assert all(isinstance(d, str) for d in dsts)
                assert len(set(dsts)) == len(dsts), (field, src, dsts)
    assert answer["changed"] == any(r["added"] or r["removed"] for r in answer["results"])


def _check_rows(old: Manifests, new: Manifests, answer: Any) -> None:
    """Each row of the grouped ``-o json`` is the reference's before and after for every
    pair of pods of its groups but those it names in ``except`` (node traffic on a side),
    and every pair of pods whose connections differ is in exactly one row."""
    before = ReferenceCluster.from_dicts(copy.deepcopy(old))
    after = ReferenceCluster.from_dicts(copy.deepcopy(new))
    members: dict[str, list[str]] = answer["groups"]
    found: dict[tuple[str, str], tuple[str, str]] = {}
    for row in answer["connections"]:
        excepted = {(a, b) for a, b in row["except"]}
        for a in members.get(row["from"], [row["from"]]):
            for b in members.get(row["to"], [row["to"]]):
                if a != b and (a, b) not in excepted:
                    assert (a, b) not in found, (a, b)
                    found[a, b] = (row["before"], row["after"])
        for a, b in excepted:  # node traffic: all on a side, whatever the policies say
            assert "all" in (before.connections(a, b), after.connections(a, b)), (a, b)
    common = sorted(before.pods.keys() & after.pods.keys())
    changed = {(a, b): (before.connections(a, b), after.connections(a, b))
               for a in common for b in common if a != b}
    assert found == {k: v for k, v in changed.items() if v[0] != v[1]}


def _check_port_json(old: Manifests, new: Manifests, data: st.DataObject) -> None:
    """``--port ... --pods -o json`` is the reference's answers pair by pair, and the same
    without ``--pods`` once groups are expanded into their pods."""
    ports = _ports(old, new, data)
    flags = [a for port, proto in ports for a in ("--port", f"{port}/{proto}")]
    with tempfile.TemporaryDirectory() as tmp:
        files = _write(Path(tmp), "old", old), _write(Path(tmp), "new", new)
        code, answer = _stockade("diff", *files, *flags, "--pods", "-o", "json")
        _, grouped = _stockade("diff", *files, *flags, "-o", "json")
        _, whole = _stockade("diff", *files, "-o", "json")
    _check_shape(answer, ports)
    _check_shape(grouped, ports)
    assert code == (1 if answer["changed"] else 0)
    target(float(sum(len(d) for r in answer["results"] for d in (*r["added"].values(),
                                                                  *r["removed"].values()))))
    members: dict[str, list[str]] = whole["groups"]
    _check_rows(old, new, whole)
    for result, by_group, (port, proto) in zip(answer["results"], grouped["results"], ports,
                                               strict=True):
        added, removed = _expected(old, new, port, proto)
        assert _pairs(result["added"]) == added, (port, proto)
        assert _pairs(result["removed"]) == removed, (port, proto)
        for field, expected in (("added", added), ("removed", removed)):
            expanded: set[tuple[str, str]] = set()
            for src, dst in _pairs(by_group[field]):
                for a in members.get(src, [src]):
                    for b in members.get(dst, [dst]):
                        if a != b:
                            expanded.add((a, b))
            # Every changed pod pair lies in a listed group pair, which holds only changed
            # pod pairs (node traffic in a group pair is named by its pods instead).
            assert expanded == expected, (field, port, proto, expected ^ expanded)


@FAST
@given(cluster_pairs(), st.data())
def test_port_json_with_pods_is_the_reference_pair_by_pair(
        pair: tuple[Manifests, Manifests], data: st.DataObject) -> None:
    _check_port_json(*pair, data)


@FAST
@given(cluster_pairs(cluster_wide=True), st.data())
def test_port_json_with_cluster_wide_policies_edited(
        pair: tuple[Manifests, Manifests], data: st.DataObject) -> None:
    _check_port_json(*pair, data)


@FAST
@given(gen.clusters(min_policies=1, max_cluster_policies=2), st.randoms(use_true_random=False))
def test_equivalent_rewrites_exit_0_in_every_form(manifests: Manifests,
                                                  rng: random.Random) -> None:
    """Rules and peers reordered, policies split in two and renamed, a policy selecting no
    pod added, and the documents shuffled across two files of a directory: equivalent."""
    rewritten = _rewrite(manifests, rng)
    rng.shuffle(rewritten)
    ports = [(p, "TCP") for p in gen.boundary_ports(manifests)[:3]]
    flags = [a for port, proto in ports for a in ("--port", f"{port}/{proto}")]
    with tempfile.TemporaryDirectory() as tmp:
        old = _write(Path(tmp), "old", manifests)
        new = Path(tmp) / "new"
        new.mkdir()
        cut = rng.randint(0, len(rewritten))
        _write(new, "a", rewritten[:cut])
        _write(new, "b", rewritten[cut:])
        for extra in ([], ["--pods"]):
            code, answer = _stockade("diff", old, str(new), *extra, "-o", "json")
            assert (code, answer["changed"], answer["connections"]) == (0, False, [])
            assert answer["endpoints"] == {"added": [], "removed": []}
            code, answer = _stockade("diff", old, str(new), *extra, *flags, "-o", "json")
            assert code == 0
            assert answer == {"changed": False, "results": [
                {"port": p, "protocol": proto, "added": {}, "removed": {}}
                for p, proto in ports]}


def _page_data(html: str) -> Any:
    found = re.search(r'<script type="application/json" id="stockade-data">(.*?)</script>',
                      html, re.S)
    assert found is not None
    return json.loads(found.group(1))


def _changed_cells(data: Any) -> dict[str, tuple[str, str]]:
    """A diff page's changed cells: each one's kind of change and connection set before."""
    changes, texts = data["changes"], data["texts"]
    return {cell: (changes["kinds"][kind], texts[before])
            for cell, (kind, before) in changes["cells"].items()}


def _html(*argv: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    assert code in (0, 1), (code, err.getvalue())
    return code, out.getvalue()


@settings(FAST, max_examples=60)
@given(cluster_pairs())
def test_the_html_page_marks_exactly_the_reference_changes(
        pair: tuple[Manifests, Manifests]) -> None:
    """``diff --pods -o html``: each pod pair whose connections differ per the reference is
    on the page with the reference's before and after, in the cell of the groups holding
    its pods, which has the kind the pairs give it (gained: nothing before; lost: nothing
    after; else changed); no other cell of groups both sides have is marked; and the page
    without ``--pods`` marks the same cells the same way."""
    old, new = pair
    with tempfile.TemporaryDirectory() as tmp:
        files = _write(Path(tmp), "old", old), _write(Path(tmp), "new", new)
        code, html = _html("diff", *files, "--pods", "-o", "html")
        _, grouped = _html("diff", *files, "-o", "html")
    data = _page_data(html)
    # Grouped, the same cells change the same way: a cell holds the same pods. A cell's
    # connection set before is a code into its own page's text table, which each page
    # numbers in its own order, so the sets are compared as texts.
    assert _changed_cells(_page_data(grouped)) == _changed_cells(data)
    changes = data["changes"]
    before = ReferenceCluster.from_dicts(copy.deepcopy(old))
    after = ReferenceCluster.from_dicts(copy.deepcopy(new))
    common = sorted(before.pods.keys() & after.pods.keys())
    expected = {(a, b): (before.connections(a, b), after.connections(a, b))
                for a in common for b in common if a != b}
    expected = {k: v for k, v in expected.items() if v[0] != v[1]}
    summary = changes["summary"]
    assert summary["changed"] == bool(code)
    nodes = data["nodes"]
    size = len(nodes)
    node_of = {m: i for i, node in enumerate(nodes) if "removed" not in node
               for m in node.get("members", [])}
    found = {(p["from"], p["to"]): (p["before"], p["after"]) for p in summary["pairs"]}
    assert found == expected
    by_cell: dict[int, list[tuple[str, str]]] = {}
    for p in summary["pairs"]:
        cell = node_of[p["from"]] * size + node_of[p["to"]]
        assert p["cell"] == cell, p
        by_cell.setdefault(cell, []).append(expected[p["from"], p["to"]])
    kinds = changes["kinds"]
    for cell, texts in by_cell.items():
        kind = ("gained" if all(b == "none" for b, _ in texts) else
                "lost" if all(a == "none" for _, a in texts) else "changed")
        assert kinds[changes["cells"][str(cell)][0]] == kind, (cell, texts)
    one_side = {i for i, node in enumerate(nodes) if "removed" in node or node.get("added")}
    for at in changes["cells"]:
        src, dst = divmod(int(at), size)
        if src not in one_side and dst not in one_side:
            assert int(at) in by_cell, (at, nodes[src]["name"], nodes[dst]["name"])


def test_pages_compare_cells_by_text_not_by_code() -> None:
    """Found by the property above: the per-pod page numbers its texts "all", "TCP 53",
    "none" and the grouped page "all", "none", "TCP 53"; their changed cells are the same."""
    here = Path(__file__).parent / "golden" / "diff-text-order"
    files = str(here / "old.json"), str(here / "new.json")
    pods = _page_data(_html("diff", *files, "--pods", "-o", "html")[1])
    grouped = _page_data(_html("diff", *files, "-o", "html")[1])
    assert pods["texts"] != grouped["texts"]  # the case this test is about
    assert _changed_cells(pods) == _changed_cells(grouped) == {
        "15": ("changed", "TCP 53"), "16": ("gained", "none"), "17": ("gained", "none")}


def _policy(ref_manifests: Manifests, key: str) -> dict[str, Any] | None:
    ns, _, name = key.partition("/")
    found = [m for m in ref_manifests if m["kind"] == "NetworkPolicy"
             and m["metadata"]["namespace"] == ns and m["metadata"]["name"] == name]
    return found[-1] if found else None


def _rule_matches(ref: ReferenceCluster, policy: dict[str, Any], cause: dict[str, Any]
                  ) -> bool:
    """Does the cause's rule (its peer and port entry, when named) of ``policy`` match the
    pair and port it was checked on, per the reference?"""
    checked = cause["checked"]
    src, dst = ref.endpoint(checked["from"]), ref.endpoint(checked["to"])
    ingress = cause["direction"] == "Ingress"
    field, index = cause["rule"].rstrip("]").split("[")
    rule = (policy["spec"].get(field) or [])[int(index)]
    peers = rule.get("from" if ingress else "to") or []
    if cause["peer"] is not None:
        peers = [peers[cause["peer"]]]
    ports = rule.get("ports") or []
    if cause["port_entry"] is not None:
        ports = [ports[cause["port_entry"]]]
    other = src if ingress else dst
    given = ref.named_address(checked["from"]), ref.named_address(checked["to"])
    version = _ref_version(src, dst, given)
    return bool(ref._peers_match(peers, policy["metadata"]["namespace"], other,
                                 _ref_ip(other, given[0 if ingress else 1], version))
                and _ref_ports(ports, dst, checked["protocol"], checked["port"]))


@settings(FAST, max_examples=80)
@given(cluster_pairs())
def test_the_causes_are_true_of_the_rules_they_name(pair: tuple[Manifests, Manifests]) -> None:
    """Each NetworkPolicy cause, checked with the reference on the pair and port it names:
    a rule that "allows" matches now and the port is allowed now; one that "no longer
    allows" matched before; a policy that "isolates" selects the pod now, one that "no
    longer isolates" selected it before and does not now; and the verdicts before and
    after are the reference's."""
    old, new = pair
    with tempfile.TemporaryDirectory() as tmp:
        files = _write(Path(tmp), "old", old), _write(Path(tmp), "new", new)
        _, answer = _stockade("diff", *files, "--pods", "-o", "json")
    before = ReferenceCluster.from_dicts(copy.deepcopy(old))
    after = ReferenceCluster.from_dicts(copy.deepcopy(new))
    target(float(len({(c["what"], c["policy"]) for change in answer["connections"]
                      for c in change["because"]})))
    for change in answer["connections"]:
        for cause in change["because"]:
            if cause["tier"] or not cause["policy"] or "/" not in cause["policy"]:
                continue
            checked = cause["checked"]
            args = (checked["from"], checked["to"], checked["protocol"], checked["port"])
            was, now = before.allowed(*args), after.allowed(*args)
            assert (was, now) == ((False, True) if cause["effect"] == "gained"
                                  else (True, False)), cause
            old_policy, new_policy = _policy(old, cause["policy"]), _policy(new, cause["policy"])

            def selects(ref: ReferenceCluster, c: dict[str, Any] = cause) -> bool:
                return _selects(ref, c)

            if cause["what"] == "allows":
                assert new_policy is not None and selects(after), cause
                assert _rule_matches(after, new_policy, cause), cause
            elif cause["what"] == "no longer allows":
                assert old_policy is not None and selects(before), cause
                assert _rule_matches(before, old_policy, cause), cause
            elif cause["what"] == "isolates":
                assert new_policy is not None and selects(after), cause
            elif cause["what"] == "no longer isolates":
                assert old_policy is not None and selects(before), cause
                assert not selects(after), cause


def _selects(ref: ReferenceCluster, cause: dict[str, Any]) -> bool:
    """Does the cause's policy select the pod on the cause's side, per the reference?"""
    ingress = cause["direction"] == "Ingress"
    pod = ref.pods.get(cause["checked"]["to" if ingress else "from"])
    return pod is not None and any(
        f"{p.namespace}/{p.name}" == cause["policy"]
        for p in ref.applying(pod, "Ingress" if ingress else "Egress"))
