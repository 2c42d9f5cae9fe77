"""A diff laid over the report of its new side: every changed pair lands in the cell of the
groups holding its pods with the right kind and "before"; groups only the old side had come
back as removed nodes whose lost cells are what the old side allowed (checked against
``Engine.evaluate`` on the old side); groups only the new side has are added; the page's
data holds it all."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from benchmarks.generate import default_params, generate, write

from stockade.engine import Engine
from stockade.engine.diff import Comparison
from stockade.engine.diff_result import DiffResult, diff_result
from stockade.engine.matrix import spans_allow
from stockade.engine.ports import PROTOCOLS, parse_connections
from stockade.engine.traffic import Endpoint, Traffic
from stockade.model.build import build_cluster
from stockade.model.types import Protocol
from stockade.model.workloads import choose_endpoints, with_endpoints
from stockade.render.connections import ConnectionGraph, connection_graph
from stockade.render.groups import group_names
from stockade.render.html import EdgeChange, explain_cells, report_data
from stockade.render.html.diffpage import diff_page
from stockade.sources.cluster_snapshot import SnapshotDumper
from stockade.sources.files import read_paths

ROOT = Path(__file__).resolve().parents[2]
SHOP, BROKEN = ROOT / "examples" / "shop", ROOT / "variants" / "shop-broken"


class Diffed:
    """Both sides of a diff, the diff, and the new side's graph, as the CLI builds them."""

    def __init__(self, old: Path, new: Path, *, per_pod: bool = False) -> None:
        engines, owners = [], []
        for path in (old, new):
            cluster = build_cluster(read_paths([str(path)])).cluster
            endpoints = choose_endpoints(cluster, per_pod=False)
            engines.append(Engine(with_endpoints(cluster, endpoints)))
            owners.append(dict(endpoints.owner))
        self.old, self.new = engines
        self.cmp = Comparison(self.old, self.new)
        names = group_names(self.cmp.groups, self.new.pods, {**owners[0], **owners[1]})
        self.result: DiffResult = diff_result(self.cmp, names, per_pod=per_pod)
        self.graph: ConnectionGraph = connection_graph(self.new, owners[1])
        self.changes, self.page = diff_page(self.graph, self.cmp, self.result,
                                            old_label="old", new_label="new",
                                            old_owner=owners[0])
        self.names = [n.name for n in self.graph.nodes] + [g.name for g in self.page.removed]

    def cell(self, src: str, dst: str) -> tuple[int, int]:
        return self.names.index(src), self.names.index(dst)


def test_the_broken_shop_changes_two_cells() -> None:
    d = Diffed(SHOP, BROKEN)
    canary, db, web = "shop/Deployment/api-canary", "shop/StatefulSet/db", "shop/Deployment/web"
    assert set(d.changes) == {d.cell(canary, db), d.cell(web, canary)}
    gained, lost = d.changes[d.cell(canary, db)], d.changes[d.cell(web, canary)]
    assert (gained.change, gained.before) == (EdgeChange.GAINED, "none")
    assert (lost.change, lost.before) == (EdgeChange.LOST, "TCP 8000")
    pairs = d.page.summary["pairs"]
    assert [(pairs[i]["from"], pairs[i]["to"], pairs[i]["gained"]) for i in gained.pairs] == [
        (canary, db, "TCP 5432")]
    causes = [d.page.summary["causes"][k] for k in pairs[lost.pairs[0]]["because"]]
    # (the policy's line: the CLI points at the rule's, from the texts it read)
    assert [(c["policy"], c["where"]) for c in causes] == [
        ("shop/api-from-web", f"modified, {BROKEN / 'policies.yaml'}:34")]
    # The page explains first the ports the diff checked.
    assert d.page.ports == {d.cell(canary, db): ((Protocol.TCP, 5432),),
                            d.cell(web, canary): ((Protocol.TCP, 8000),)}
    assert d.page.removed == () and d.page.added == ()
    assert d.page.summary["policies"]["modified"] == [
        {"key": "shop/api-from-web", "where": f"{BROKEN / 'policies.yaml'}:34"},
        {"key": "shop/db-from-api-and-report", "where": f"{BROKEN / 'policies.yaml'}:49"}]


def test_cells_and_pairs_reach_the_page_data() -> None:
    d = Diffed(SHOP, BROKEN)
    reasons = explain_cells(d.graph, first=d.page.ports)
    data = report_data(d.graph, reasons, title="t", changes=d.changes, diff=d.page)
    n = len(d.names)
    src, dst = d.cell("shop/Deployment/web", "shop/Deployment/api-canary")
    changes = data["changes"]
    kind, before = changes["cells"][str(src * n + dst)]
    assert (changes["kinds"][kind], data["texts"][before]) == ("lost", "TCP 8000")
    assert len(changes["cells"]) == 2
    assert changes["pairs"] == {str(a * n + b): list(c.pairs)
                                for (a, b), c in d.changes.items()}
    assert changes["summary"]["connections"] == 2
    # The first example of the lost cell is on the lost port.
    first = reasons.table.examples[reasons.table.sets[int(reasons.cells[src, dst])][0]]
    assert (PROTOCOLS[first[0]], first[1], first[2]) == (Protocol.TCP, 8000, 0)


@pytest.fixture
def renamed_cache(tmp_path: Path) -> Path:
    """The shop with its cache Deployment renamed cache2 (labels too): the old cache group is
    gone, a new one is there."""
    where = tmp_path / "shop2"
    shutil.copytree(SHOP, where, ignore=shutil.ignore_patterns("tests"))
    text = (where / "cache.yaml").read_text()
    (where / "cache.yaml").write_text(text.replace("cache", "cache2"))
    return where


def test_groups_only_one_side_has(renamed_cache: Path) -> None:
    d = Diffed(SHOP, renamed_cache)
    assert d.result.connections == ()
    assert [g.name for g in d.page.removed] == ["shop/Deployment/cache (removed)"]
    assert [d.names[i] for i in d.page.added] == ["shop/Deployment/cache2"]
    ghost = d.page.removed[0]
    assert ghost.members == ("shop/Deployment/cache",)
    assert ghost.isolated_ingress == ("shop/default-deny", "shop/cache-from-api",
                                      "shop/metrics-from-monitoring")
    n = len(d.graph.nodes)
    lost = {(d.names[s], d.names[t]): c.before for (s, t), c in d.changes.items()
            if c.change is EdgeChange.LOST}
    gained = {(d.names[s], d.names[t]) for (s, t), c in d.changes.items()
              if c.change is EdgeChange.GAINED}
    # Every lost cell is what the old side allowed between the pods: check on ports.
    old_pod = {p.key: p for p in d.old.pods}
    ports = [(Protocol.TCP, p) for p in (80, 5432, 6379, 8000, 8080, 9090, 9113)]
    for (a, b), before in lost.items():
        spans = parse_connections(before)
        a_key = a.removesuffix(" (removed)") if a.endswith(" (removed)") else d.graph.nodes[
            d.names.index(a)].members[0]
        b_key = b.removesuffix(" (removed)") if b.endswith(" (removed)") else d.graph.nodes[
            d.names.index(b)].members[0]
        for proto, port in ports:
            verdict = d.old.evaluate(Traffic(Endpoint(old_pod[a_key]), Endpoint(old_pod[b_key]),
                                             proto, port))
            assert verdict.allowed == spans_allow(
                tuple((PROTOCOLS.index(s.protocol), s.first, s.last) for s in spans), proto,
                port), (a, b, port)
    assert lost == {
        ("shop/Deployment/api", "shop/Deployment/cache (removed)"): "TCP 6379",
        ("shop/Deployment/api-canary", "shop/Deployment/cache (removed)"): "TCP 6379",
        ("shop/Deployment/cache (removed)", "shop/Deployment/web"): "TCP 8080",
        ("shop/Deployment/cache (removed)", "monitoring/Deployment/prometheus"): "all",
        ("shop/Deployment/cache (removed)", "monitoring/DaemonSet/node-exporter"): "all",
    }
    # The new group may open what the old one did; the shop's default deny isolates it and
    # no rule names it (cache-from-api selects app=cache): nothing reaches it.
    assert gained == {("shop/Deployment/cache2", "shop/Deployment/web"),
                      ("shop/Deployment/cache2", "monitoring/Deployment/prometheus"),
                      ("shop/Deployment/cache2", "monitoring/DaemonSet/node-exporter")}
    assert all(c.note.startswith("added: ") for c in d.changes.values()
               if c.change is EdgeChange.GAINED)
    data = report_data(d.graph, explain_cells(d.graph), title="t", changes=d.changes,
                       diff=d.page)
    size = len(d.names)
    assert len(data["nodes"]) == size and len(data["cells"]) == size * size
    assert data["nodes"][-1]["removed"]["in"] == list(ghost.isolated_ingress)
    assert data["nodes"][d.page.added[0]]["added"] is True
    # A removed group opens nothing now, and is not compared with address ranges.
    ranges = [i for i, node in enumerate(d.graph.nodes) if node.is_address]
    row = data["cells"][(size - 1) * size:]
    assert all(data["texts"][row[i]] == "none" for i in range(n) if i not in ranges)
    assert all(row[i] == -1 for i in ranges)
    assert all(x == -1 for x in data["reasons"]["cells"][(size - 1) * size:])


def _edited(src: Path, dst: Path) -> None:
    """A copy of a generated cluster with one namespace's file gone (its groups removed)
    and every NetworkPolicy of two other namespaces dropped."""
    shutil.copytree(src, dst)
    files = sorted(dst.glob("*.yaml"))
    files[3].unlink()
    for path in files[5:7]:
        docs = [d for d in yaml.safe_load_all(path.read_text())
                if d and d.get("kind") != "NetworkPolicy"]
        path.write_text(yaml.dump_all(docs, Dumper=SnapshotDumper))


@pytest.mark.parametrize("per_pod", [False, True], ids=["groups", "pods"])
def test_every_change_of_a_generated_diff_lands_in_its_cell(tmp_path: Path,
                                                            per_pod: bool) -> None:
    write(generate(default_params(120, seed=5)), tmp_path / "old")
    _edited(tmp_path / "old", tmp_path / "new")
    d = Diffed(tmp_path / "old", tmp_path / "new", per_pod=per_pod)
    assert d.result.connections and d.page.removed and d.result.endpoints_removed
    node_of = {k: i for i, node in enumerate(d.graph.nodes) for k in node.members}
    pairs = d.page.summary["pairs"]
    held = sorted(i for c in d.changes.values() for i in c.pairs)
    assert held == list(range(len(pairs))) == list(range(len(d.result.connections)))
    size = len(d.names)
    by_ends = {(p["from"], p["to"]): p for p in pairs}
    assert len(by_ends) == len(pairs)
    for change in d.result.connections:
        pair = by_ends[change.source, change.destination]
        src = node_of[(d.result.groups.get(change.source) or (change.source,))[0]]
        dst = node_of[(d.result.groups.get(change.destination) or (change.destination,))[0]]
        assert pair["cell"] == src * size + dst
        cell = d.changes[src, dst]
        assert cell.change is not EdgeChange.SAME
        assert change.before in cell.before or " more" in cell.before
        if not change.node_traffic:
            assert change.after == d.graph.text(src, dst)
    # Removed nodes hold every group of the old side whose pods are all gone.
    gone = set(d.result.endpoints_removed)
    assert {m for g in d.page.removed for m in g.members} == {
        p.key for cls in d.old.classes
        if all(d.old.pods[m].key in gone for m in cls.members) for p in
        (d.old.pods[m] for m in cls.members)}
