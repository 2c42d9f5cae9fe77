"""The report's data: explanations equal to what ``stockade query`` prints, reuse of worded
sides equal to evaluating every cell afresh, the address ranges' connections equal to
``Engine.evaluate``, and a page that can hold no markup from the data."""

from __future__ import annotations

import dataclasses
import io
import json
import re
from contextlib import redirect_stdout
from dataclasses import replace
from pathlib import Path

import pytest
from benchmarks.generate import default_params, generate, write

from stockade.cli.main import main
from stockade.engine import Engine
from stockade.engine.addresses import address_ranges
from stockade.engine.matrix import ClassRows
from stockade.engine.ports import PROTOCOLS, format_connections, parse_connections
from stockade.engine.traffic import Endpoint, Traffic
from stockade.model.build import build_cluster
from stockade.model.workloads import choose_endpoints, with_endpoints
from stockade.render.connections import ConnectionGraph, connection_graph
from stockade.render.html import explain_cells, render_page, report_data
from stockade.render.html.reasons import (
    DST_ADDR,
    DST_NAME,
    DST_NS,
    SRC_ADDR,
    SRC_NAME,
    SRC_NS,
    CellReasons,
)
from stockade.sources.cluster_snapshot import SnapshotDumper
from stockade.sources.files import read_paths

ROOT = Path(__file__).resolve().parents[2]


def graph_of(*paths: str | Path) -> ConnectionGraph:
    result = build_cluster(read_paths([str(p) for p in paths]))
    endpoints = choose_endpoints(result.cluster, per_pod=False)
    return connection_graph(Engine(with_endpoints(result.cluster, endpoints)), endpoints.owner)


@pytest.fixture(scope="module", params=["networkpolicies", "cluster-wide policies"])
def generated(request: pytest.FixtureRequest,
              tmp_path_factory: pytest.TempPathFactory) -> ConnectionGraph:
    where = tmp_path_factory.mktemp("cluster")
    params = default_params(120, seed=3)
    if request.param == "cluster-wide policies":
        params = dataclasses.replace(params, admin_policies=6, baseline_policies=3)
    write(generate(params), where)
    return graph_of(where)


def explained(graph: ConnectionGraph, reasons: CellReasons, src: int, dst: int) -> list[str]:
    """What the page shows for a cell: the tokens put back, the query layout rebuilt."""
    table = reasons.table
    engine = graph.engine
    pair = reasons.pairs.get(src * len(graph.nodes) + dst)
    nodes = graph.nodes
    if pair is not None:
        a, b = pair
    elif src == dst and len(nodes[src].members) > 1:
        a, b = nodes[src].members[0], nodes[src].members[1]
    else:
        a, b = nodes[src].representative.name, nodes[dst].representative.name

    def addresses(name: str) -> list[str]:
        ep = engine.endpoint(name) if "/" not in name else Endpoint(engine.pod(name))
        if ep.pod is None:
            return [name]
        from stockade.engine.classes import pod_addresses
        return [str(x) for x in pod_addresses(ep.pod)]

    values = {SRC_NAME: a, DST_NAME: b, SRC_NS: a.split("/")[0], DST_NS: b.split("/")[0]}
    values.update(zip(SRC_ADDR, addresses(a), strict=False))
    values.update(zip(DST_ADDR, addresses(b), strict=False))

    def sub(text: str) -> str:
        for token, value in values.items():
            text = text.replace(token, value)
        return text

    out = []
    for x in table.sets[int(reasons.cells[src, dst])]:
        proto, port, allowed, e, i, note = table.examples[x]
        lines = [f"{a} -> {b} {PROTOCOLS[proto].value} {port}: "
                 f"{'allowed' if allowed else 'denied'}"]
        if note >= 0:
            lines += [f"  {n}" for n in sub(table.lines[note]).split("\n")]
        else:
            for label, who, side in (("egress", a, e), ("ingress", b, i)):
                ids = table.sides[side]
                lines.append(f"  {label:<8}{who}: {sub(table.lines[ids[0]])}")
                lines += [sub(table.lines[k]) for k in ids[1:]]
        out.append("\n".join(lines))
    return out


def assert_cells_read_as_query_prints_them(graph: ConnectionGraph, reasons: CellReasons,
                                           path: Path) -> int:
    """Every explained port of every cell against ``stockade query PATH`` on it; the number
    checked."""
    n = len(graph.nodes)
    checked = 0
    for src in range(n):
        for dst in range(n):
            if reasons.cells[src, dst] < 0:
                continue
            for shown in explained(graph, reasons, src, dst):
                head = shown.split("\n", 1)[0]
                a, _, rest = head.partition(" -> ")
                b, proto, port_text = rest.split(" ")[:3]
                out = io.StringIO()
                with redirect_stdout(out):
                    main(["query", str(path), "--from", a, "--to", b,
                          "--port", f"{port_text.rstrip(':')}/{proto}"])
                assert shown == out.getvalue().rstrip("\n")
                checked += 1
    return checked


def test_every_konvoy_cell_reads_as_query_prints_it() -> None:
    graph = graph_of(ROOT / "examples/konvoy")
    checked = assert_cells_read_as_query_prints_them(graph, explain_cells(graph),
                                                     ROOT / "examples/konvoy")
    assert checked >= 72


def _pod(namespace: str, name: str, labels: dict[str, str], ip: str,
         ports: tuple[tuple[str, int, str], ...] = (), **spec: object) -> dict[str, object]:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "labels": labels},
            "spec": {"containers": [{"name": "c", "image": "x", "ports": [
                {"name": n, "containerPort": p, "protocol": proto} for n, p, proto in ports]}],
                     **spec},
            "status": {"podIP": ip.split(",", maxsplit=1)[0],
                       "podIPs": [{"ip": x} for x in ip.split(",")]}}


def _policy(namespace: str, name: str, selector: dict[str, object],
            ingress: list[object] | None = None,
            egress: list[object] | None = None) -> dict[str, object]:
    spec: dict[str, object] = {"podSelector": selector, "policyTypes": []}
    for key, rules in (("Ingress", ingress), ("Egress", egress)):
        if rules is not None:
            spec[key.lower()] = rules
            spec["policyTypes"].append(key)  # type: ignore[attr-defined]
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def tricky_cluster() -> list[dict[str, object]]:
    """Names that the explanations' texts hold elsewhere too: pods named like a policy
    that isolates them and others (a/x; a/x2 is isolated alike, and a/y's rules treat both
    alike), a label key spelled like a pod's name, namespaces named like the words of a
    reason ("does", "in", "only", "namespace") or like a port, addresses that begin other
    addresses and sit on an except's boundary, a third address (no token for it), named
    ports resolved on the subject."""
    namespaces = ["a", "b", "does", "in", "only", "namespace", "80"]
    out: list[dict[str, object]] = [
        {"apiVersion": "v1", "kind": "Namespace",
         "metadata": {"name": ns, "labels": {"team": "a" if ns in ("a", "does") else ns}}}
        for ns in namespaces]
    pods = [
        ("a", "x", {"app": "x"}, "10.0.0.1", (("http", 8080, "TCP"),)),
        ("a", "x2", {"app": "x", "extra": "1"}, "10.0.0.2", (("http", 8080, "TCP"),)),
        ("a", "y", {"app": "y", "a/y": ""}, "10.0.0.10", (("http", 8081, "TCP"),)),
        ("a", "z", {"app": "z"}, "10.0.0.100,fd00::1", (("web", 80, "TCP"),)),
        ("b", "x", {"app": "x"}, "10.0.1.1", (("http", 9000, "UDP"),)),
        ("b", "w", {"app": "w", "tier": "db"}, "10.0.1.10", ()),
        # Three addresses (status is not validated): the IPv4 one, third, has no token.
        ("b", "v6", {"app": "v6"}, "fd00::30,fd00::31,10.0.1.30", ()),
        ("b", "v6b", {"app": "v6", "extra": "3"}, "fd00::40,fd00::41,10.0.1.40", ()),
        *((ns, "p", {"app": "p"}, f"10.0.{k + 2}.1", (("http", 8080, "TCP"),))
          for k, ns in enumerate(namespaces[2:])),
        *((ns, "q", {"app": "q", "tier": "db"}, f"10.0.{k + 2}.10", ())
          for k, ns in enumerate(namespaces[2:])),
    ]
    out += [_pod(*p) for p in pods]
    ports = [{"port": "http"}, {"port": 80}]
    out += [
        _policy("a", "labels", {"matchExpressions": [{"key": "app", "operator": "In",
                                                      "values": ["x", "y", "z"]}]}, ingress=[
            {"from": [{"podSelector": {"matchExpressions": [
                {"key": "a/y", "operator": "Exists"}]}},
                {"namespaceSelector": {"matchLabels": {"team": "does"}},
                 "podSelector": {"matchLabels": {"app": "p"}}},
                {"podSelector": {"matchLabels": {"extra": "2"}}}],
             "ports": [{"port": "web"}, {"port": "http"}]}]),
        _policy("a", "x", {"matchExpressions": [{"key": "app", "operator": "In",
                                                 "values": ["x", "y"]}]}, ingress=[
            {"from": [{"podSelector": {"matchLabels": {"app": "y"}}},
                      {"namespaceSelector": {"matchLabels": {"team": "b"}}}], "ports": ports}],
            egress=[{"to": [{"ipBlock": {"cidr": "10.0.0.0/16",
                                         "except": ["10.0.0.1/32", "10.0.1.0/24"]}}],
                     "ports": [{"port": 80}, {"port": "http"}]}]),
        *(_policy(ns, "only", {"matchLabels": {"tier": "db"}}, ingress=[
            {"from": [{"podSelector": {"matchLabels": {"app": "p"}}},
                      {"namespaceSelector": {"matchLabels": {"team": "a"}}}],
             "ports": [{"port": "http"}]}], egress=[])
          for ns in ("b", "does", "in", "only", "namespace", "80")),
    ]
    return out


@pytest.fixture(scope="module")
def tricky(tmp_path_factory: pytest.TempPathFactory) -> ConnectionGraph:
    import yaml

    where = tmp_path_factory.mktemp("tricky") / "cluster.yaml"
    where.write_text(yaml.dump_all(tricky_cluster(), Dumper=SnapshotDumper))
    return graph_of(where)


@pytest.fixture(scope="module", params=[(120, 3, False, True, 0), (200, 11, True, True, 0),
                                        (90, 17, False, False, 0), (120, 3, False, True, 6),
                                        (150, 23, False, False, 8)],
                ids=["120-pods", "200-pods-random-ports", "90-pods-any-shape",
                     "120-pods-cluster-wide", "150-pods-cluster-wide-any-shape"])
def more(request: pytest.FixtureRequest,
         tmp_path_factory: pytest.TempPathFactory) -> ConnectionGraph:
    pods, seed, random_ports, compatible, admin = request.param
    where = tmp_path_factory.mktemp("cluster")
    params = replace(default_params(pods, seed=seed), random_ports=random_ports,
                     peer_compatible=compatible, admin_policies=admin,
                     baseline_policies=admin // 2)
    write(generate(params), where)
    return graph_of(where)


def assert_reuse_is_fresh(graph: ConnectionGraph) -> None:
    fresh = explain_cells(graph, reuse=False)
    reused = explain_cells(graph)
    n = len(graph.nodes)
    for src in range(n):
        for dst in range(n):
            if fresh.cells[src, dst] >= 0:
                assert (explained(graph, reused, src, dst)
                        == explained(graph, fresh, src, dst)), (src, dst)


def test_reused_sides_equal_fresh_evaluation(more: ConnectionGraph) -> None:
    assert_reuse_is_fresh(more)


def test_reuse_survives_names_that_texts_hold_elsewhere(tricky: ConnectionGraph) -> None:
    assert_reuse_is_fresh(tricky)
    # ... and the tricky texts are there to be survived.
    reasons = explain_cells(tricky)
    lines = "\n".join(reasons.table.lines)
    for text in ("namespace \ue006;", "namespace \ue006 does not match",
                 "is not declared by \ue001"):
        assert text in lines, text


def test_every_tricky_cell_reads_as_query_prints_it(tricky: ConnectionGraph,
                                                    tmp_path: Path) -> None:
    import yaml

    where = tmp_path / "cluster.yaml"
    where.write_text(yaml.dump_all(tricky_cluster(), Dumper=SnapshotDumper))
    checked = assert_cells_read_as_query_prints_them(tricky, explain_cells(tricky), where)
    assert checked > 200


def test_explained_ports_agree_with_the_cell(generated: ConnectionGraph) -> None:
    """An explained port is allowed exactly when the cell's connection set holds it, except
    between a host-network pod and a pod on its node (node traffic, which the group cells
    leave aside and the page notes), when no other two members stand for the cell."""
    reasons = explain_cells(generated)
    engine = generated.engine
    index = {p.key: i for i, p in enumerate(engine.pods)}
    n = len(generated.nodes)
    skipped = 0
    for src in range(n):
        for dst in range(n):
            text = generated.text(src, dst)
            if not text:
                continue
            a, b = generated.nodes[src], generated.nodes[dst]
            if (a.members and b.members and src != dst
                    and engine.node_traffic(index[a.members[0]], index[b.members[0]])
                    and src * n + dst not in reasons.pairs):
                skipped += 1
                continue
            spans = parse_connections(text)
            assert format_connections(spans) == text
            for x in reasons.table.sets[int(reasons.cells[src, dst])]:
                proto, port, allowed, *_ = reasons.table.examples[x]
                inside = any(s.protocol is PROTOCOLS[proto] and s.first <= port <= s.last
                             for s in spans)
                assert bool(allowed) == inside, (src, dst, text, proto, port)
    assert skipped < n


def test_address_ranges_connect_as_evaluate_says(generated: ConnectionGraph) -> None:
    engine = generated.engine
    ranges = address_ranges(engine)
    assert ranges and len({r.name for r in ranges}) == len(ranges)
    pod_ips = {ip for p in engine.pods for ip in (*p.ips, *p.host_ips)}
    assert not {str(r.address) for r in ranges} & pod_ips
    g = len(engine.classes)
    ports = {(p.protocol, q) for cp in engine.compiled for rules in cp.rules.values()
             for r in rules for p in r.ports if not p.name
             for q in {p.first, p.last, max(1, p.first - 1), min(65535, p.last + 1)}}
    ports |= {(p.protocol, q) for ccp in engine.tiers.compiled
              for rules in ccp.rules.values() for r in rules for p in r.ports
              if p.protocol is not None and not p.never
              for q in {p.first, p.last, max(1, p.first - 1), min(65535, p.last + 1)}}
    ports |= {(proto, 80) for proto in PROTOCOLS}
    for k, r in enumerate(ranges):
        address = Endpoint(None, r.address)
        for cls in engine.classes[::3]:
            pod = Endpoint(engine.pods[cls.members[0]])
            out = parse_connections(generated.text(cls.index, g + k))
            into = parse_connections(generated.text(g + k, cls.index))
            for proto, port in sorted(ports):
                for spans, traffic in ((out, Traffic(pod, address, proto, port)),
                                       (into, Traffic(address, pod, proto, port))):
                    inside = any(s.protocol is proto and s.first <= port <= s.last
                                 for s in spans)
                    assert engine.evaluate(traffic).allowed == inside, (r.name, cls.index,
                                                                        proto, port)


def test_konvoy_address_ranges() -> None:
    graph = graph_of(ROOT / "examples/konvoy")
    names = [n.name for n in graph.nodes if n.is_address]
    assert names == ["10.0.0.0/24", "172.17.0.0/16 except 172.17.1.0/24",
                     "other IPv4 addresses"]


def test_group_cells_are_the_matrix() -> None:
    graph = graph_of(ROOT / "examples/shop")
    rows = ClassRows(graph.engine)
    for src, ids in rows:
        assert [graph.text(src, d) for d in range(len(ids))] == [rows.texts[i] for i in ids]


def test_the_page_holds_no_markup_from_the_data() -> None:
    graph = graph_of(ROOT / "examples/konvoy")
    title = "</script><script>alert(1)</script> & <b>"
    page = render_page(report_data(graph, explain_cells(graph), title=title,
                                   notes=["<!-- note -->"]))
    assert "<script>alert(1)" not in page
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;" in page
    data = re.search(r'<script type="application/json" id="stockade-data">(.*?)</script>',
                     page, re.S)
    assert data is not None
    assert json.loads(data.group(1))["title"] == title
    # Nothing to fetch: no external script, style, font or image, and a policy saying so.
    assert not re.search(r"<script[^>]+src=|<link\b|@import|url\((?!#)", page)
    assert "default-src 'none'" in page
    assert page.count("<script") == 3


def test_cluster_wide_policies_in_the_report() -> None:
    """The example's cluster-wide policies are listed after the NetworkPolicies with tier,
    priority, subject and rules; nodes name them; cells they decide count as decided and
    their explanations name the deciding rule; cells they allow point at them."""
    graph = graph_of(ROOT / "examples/cluster-policies")
    reasons = explain_cells(graph)
    data = report_data(graph, reasons, title="t")
    engine = graph.engine
    first = len(engine.policies)
    cluster = data["policies"][first:]
    assert [p["key"] for p in cluster] == [p.key for p in engine.cluster_policies]
    protect = next(p for p in cluster if p["key"] == "ClusterNetworkPolicy/protect-observability")
    assert (protect["tier"], protect["priority"]) == ("Admin", 20)
    assert protect["subject"] == "namespaces {kubernetes.io/metadata.name=observability}"
    assert [(r["path"], r["action"]) for r in protect["rules"]] == [
        ("ingress[0]", "Pass"), ("ingress[1]", "Deny")]
    k = first + cluster.index(protect)
    prometheus = next(i for i, n in enumerate(graph.nodes) if n.namespace == "observability")
    assert k in data["nodes"][prometheus]["tieredIn"]
    billing = next(i for i, n in enumerate(graph.nodes) if n.namespace == "billing")
    assert not graph.nodes[billing].isolated_ingress and graph.decided(prometheus, billing)
    assert any(line.startswith("denied by admin ClusterNetworkPolicy/protect-observability")
               for line in reasons.table.lines)
    allowing = {a for sides in reasons.table.allowing for a in sides}
    assert first + [p.key for p in engine.cluster_policies].index(
        "ClusterNetworkPolicy/dns-for-everyone") in allowing
