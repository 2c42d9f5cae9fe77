"""The report in a real browser: Debian's Chromium, headless, driven by Playwright.

Each test opens a report that ``stockade report`` wrote and looks at it as a person would:
what is drawn, what a click shows, what the filter hides. The expected nodes and edges of
the two examples are written out by hand from their policies.
"""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from browser_support import Watch, browser, open_report, unavailable

from stockade.cli.main import main

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(bool(unavailable()), reason=unavailable() or "ok")

KONVOY_NODES = ["default/db", "default/konvoy-app", "frontend/web", "bridge/in-cidr",
                "bridge/in-except", "unrelated/stranger", "10.0.0.0/24",
                "172.17.0.0/16 except 172.17.1.0/24", "other IPv4 addresses"]
KONVOY_EDGES = {  # what the policy decides; the rest is unrestricted
    ("default/db", "10.0.0.0/24", "TCP 5978"),
    ("default/konvoy-app", "default/db", "TCP 6379"),
    ("frontend/web", "default/db", "TCP 6379"),
    ("bridge/in-cidr", "default/db", "TCP 6379"),
    ("172.17.0.0/16 except 172.17.1.0/24", "default/db", "TCP 6379"),
}
SHOP_NODES = ["shop/Deployment/api", "shop/Deployment/api-canary", "shop/Deployment/cache",
              "shop/StatefulSet/db", "shop/CronJob/nightly-report", "shop/Deployment/web",
              "monitoring/Deployment/prometheus", "monitoring/DaemonSet/node-exporter",
              "other IPv4 addresses"]
WEB = "shop/Deployment/web"
SHOP_EDGES = {
    # default-deny in shop, then: web's http (8080) from anyone, node-exporter included
    *((src, WEB, "TCP 8080") for src in (
        "shop/Deployment/api", "shop/Deployment/api-canary", "shop/Deployment/cache",
        "shop/StatefulSet/db", "shop/CronJob/nightly-report",
        "monitoring/DaemonSet/node-exporter", "other IPv4 addresses")),
    # ... and its metrics port (9113) from prometheus too
    ("monitoring/Deployment/prometheus", WEB, "TCP 8080,9113"),
    ("monitoring/Deployment/prometheus", "shop/Deployment/api", "TCP 9090"),
    (WEB, "shop/Deployment/api", "TCP 8000"),
    (WEB, "shop/Deployment/api-canary", "TCP 8000"),
    ("shop/Deployment/api", "shop/StatefulSet/db", "TCP 5432"),  # stable backend only
    ("shop/CronJob/nightly-report", "shop/StatefulSet/db", "TCP 5432"),
    ("shop/Deployment/api", "shop/Deployment/cache", "TCP 6379"),
    ("shop/Deployment/api-canary", "shop/Deployment/cache", "TCP 6379"),
}


def write_report(example: str, out: Path) -> Path:
    assert main(["report", str(ROOT / "examples" / example), "-o", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def context() -> Iterator[BrowserContext]:
    with browser() as ctx:
        yield ctx


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    where = tmp_path_factory.mktemp("reports")
    return {name: write_report(name, where / f"{name}.html") for name in ("konvoy", "shop")}


def graph_edges(page: Page) -> set[tuple[str, str, str]]:
    found = page.evaluate("[...document.querySelectorAll('#graph .edge')]"
                          ".map(e => [e.dataset.src, e.dataset.dst, e.dataset.text])")
    return {(a, b, c) for a, b, c in found}


def query_text(*argv: str) -> str:
    result = subprocess.run([sys.executable, "-m", "stockade", "query", *argv],
                            capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode in (0, 1), result.stderr
    return result.stdout.rstrip("\n")


def clean(watch: Watch) -> None:
    assert watch.console == [] and watch.errors == []


@pytest.mark.parametrize("example", ["konvoy", "shop"])
def test_page_loads_without_errors_or_network(context: BrowserContext, reports: dict[str, Path],
                                              example: str) -> None:
    page, watch = open_report(context, reports[example])
    page.click("button[data-view=graph]")
    page.click("button[data-view=policies]")
    clean(watch)
    # The one request is the file itself: scripts, styles and data are all inline.
    assert watch.requests == [reports[example].resolve().as_uri()]
    page.close()


@pytest.mark.parametrize(("example", "nodes", "edges"), [
    ("konvoy", KONVOY_NODES, KONVOY_EDGES), ("shop", SHOP_NODES, SHOP_EDGES)])
def test_expected_nodes_and_edges(context: BrowserContext, reports: dict[str, Path],
                                  example: str, nodes: list[str],
                                  edges: set[tuple[str, str, str]]) -> None:
    page, watch = open_report(context, reports[example])
    assert page.evaluate("stockade.axisNames()") == nodes
    labels = page.eval_on_selector_all("#row-labels .row-lbl", "ls => ls.map(l => l.title)")
    assert labels == nodes
    page.click("button[data-view=graph]")
    assert graph_edges(page) == edges
    drawn = page.eval_on_selector_all("#graph .node", "ns => ns.map(n => n.dataset.node)")
    assert sorted(drawn) == sorted(nodes)
    note = page.inner_text("#graph-note")
    assert "Unrestricted, not drawn" in note
    page.check("#show-open")
    everything = graph_edges(page)
    assert edges < everything
    assert all(text == "all" for _, _, text in everything - edges)
    clean(watch)
    page.close()


@pytest.mark.parametrize(("src", "dst", "port"), [
    ("frontend/web", "default/db", "6379/TCP"),       # allowed by ingress[0] from[1]
    ("bridge/in-except", "default/db", "6379/TCP"),   # denied: the nearest miss
    ("default/db", "frontend/web", "5978/TCP"),       # denied on the egress side
])
def test_clicking_a_cell_shows_what_query_prints(context: BrowserContext,
                                                 reports: dict[str, Path], src: str, dst: str,
                                                 port: str) -> None:
    page, watch = open_report(context, reports["konvoy"])
    where = page.evaluate(f"stockade.cellCenter({src!r}, {dst!r})")
    page.mouse.click(where["x"], where["y"])
    assert page.inner_text("#details h2") == f"{src} → {dst}"
    shown = page.eval_on_selector_all("#details pre.why", "ps => ps.map(p => p.innerText)")
    expected = query_text(str(ROOT / "examples/konvoy"), "--from", src, "--to", dst,
                          "--port", port)
    assert shown[0] == expected
    if src == "frontend/web":
        assert "allowed by default/network-konvoy-policy ingress[0] (from[1], ports[0])" in shown[0]
        # The policy's name links to it.
        page.click("#details pre.why a[data-policy='default/network-konvoy-policy']")
        assert page.inner_text("#details h2") == "default/network-konvoy-policy"
    clean(watch)
    page.close()


def test_namespace_filter_hides_its_groups_and_their_edges(context: BrowserContext,
                                                          reports: dict[str, Path]) -> None:
    page, watch = open_report(context, reports["konvoy"])
    page.click("#ns-button")
    page.uncheck("#ns-list input[data-ns=bridge]")
    assert page.evaluate("stockade.axisNames()") == [
        n for n in KONVOY_NODES if not n.startswith("bridge/")]
    assert page.inner_text("#ns-button") == "Namespaces: 4 of 5"
    page.click("button[data-view=graph]")
    assert graph_edges(page) == {e for e in KONVOY_EDGES if e[0] != "bridge/in-cidr"}
    assert not page.query_selector("#graph .node[data-node='bridge/in-except']")
    page.click("#ns-button")
    page.check("#ns-list input[data-ns=bridge]")
    assert graph_edges(page) == KONVOY_EDGES
    clean(watch)
    page.close()


def test_search_by_label_and_by_name(context: BrowserContext, reports: dict[str, Path]) -> None:
    page, watch = open_report(context, reports["shop"])
    page.fill("#search", "tier=data")
    assert page.evaluate("stockade.axisNames()") == ["shop/Deployment/cache",
                                                     "shop/StatefulSet/db"]
    assert page.inner_text("#search-count") == "2 matches"
    page.fill("#search", "prometheus")
    assert page.evaluate("stockade.axisNames()") == ["monitoring/Deployment/prometheus"]
    page.fill("#search", "")
    assert page.evaluate("stockade.axisNames()") == SHOP_NODES
    clean(watch)
    page.close()


def test_a_policy_shows_what_it_isolates_and_allows(context: BrowserContext,
                                                    reports: dict[str, Path]) -> None:
    page, watch = open_report(context, reports["shop"])
    page.click("button[data-view=policies]")
    card = "#policy-list .policy[data-policy='shop/cache-from-api']"
    assert "isolates 1 group: shop/Deployment/cache" in page.inner_text(card)
    page.click(f"{card} button:has-text('Show its effect in the graph')")
    assert graph_edges(page) == {("shop/Deployment/api", "shop/Deployment/cache", "TCP 6379"),
                                 ("shop/Deployment/api-canary", "shop/Deployment/cache",
                                  "TCP 6379")}
    # From a group to the policies that isolate it, and back.
    page.click("#graph .node[data-node='shop/Deployment/cache']")
    page.click("#details a:has-text('shop/cache-from-api')")
    assert page.inner_text("#details h2") == "shop/cache-from-api"
    clean(watch)
    page.close()


def test_screenshot_is_not_blank(context: BrowserContext, reports: dict[str, Path]) -> None:
    from PIL import Image

    page, watch = open_report(context, reports["shop"])
    where = page.evaluate(f"stockade.cellCenter({WEB!r}, 'shop/Deployment/api')")
    page.mouse.click(where["x"], where["y"])
    image = Image.open(io.BytesIO(page.screenshot())).convert("RGB")
    assert image.size == (1500, 900)
    colours = image.getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 50
    background = max(colours)[1]
    drawn = sum(count for count, colour in colours if colour != background)
    assert drawn > 0.05 * image.size[0] * image.size[1]
    clean(watch)
    page.close()


def _konvoy_page_with(tmp: Path, **overlays: object) -> Path:
    """A konvoy report built through the library with an overlay (the seams ``stockade diff
    -o html`` and ``stockade lint`` fill)."""
    from stockade.engine import Engine
    from stockade.model.build import build_cluster
    from stockade.render.connections import connection_graph
    from stockade.render.html import explain_cells, render_page, report_data
    from stockade.sources.files import read_paths

    graph = connection_graph(Engine(build_cluster(
        read_paths([str(ROOT / "examples/konvoy")])).cluster))
    data = report_data(graph, explain_cells(graph), title="overlay", **overlays)  # type: ignore[arg-type]
    path = tmp / "overlay.html"
    path.write_text(render_page(data))
    return path


def test_changed_cells_are_coloured_as_a_diff_shows_them(context: BrowserContext,
                                                         tmp_path: Path) -> None:
    from stockade.render.html import CellChange, EdgeChange

    names = KONVOY_NODES
    web, db, stranger = (names.index(n) for n in ("frontend/web", "default/db",
                                                  "unrelated/stranger"))
    changes = {(web, db): CellChange(EdgeChange.GAINED, "none"),
               (stranger, web): CellChange(EdgeChange.LOST, "TCP 80")}
    page, watch = open_report(context, _konvoy_page_with(tmp_path, changes=changes))
    assert "gained" in page.inner_text("#legend") and "lost" in page.inner_text("#legend")
    where = page.evaluate("stockade.cellCenter('frontend/web', 'default/db')")
    page.mouse.click(where["x"], where["y"])
    assert "gained before: none" in page.inner_text("#details")
    pixel = page.evaluate(
        "(() => { const c = document.getElementById('cells'); const r = window.devicePixelRatio;"
        " const at = stockade.cellCenter('frontend/web', 'default/db');"
        " const b = c.getBoundingClientRect();"
        " return [...c.getContext('2d').getImageData((at.x - b.left) * r, (at.y - b.top) * r,"
        " 1, 1).data]; })()")
    assert pixel[:3] == [0x16, 0xA3, 0x4A]  # the "gained" green
    page.click("button[data-view=graph]")
    edge = page.query_selector("#graph .edge[data-src='frontend/web'][data-dst='default/db']")
    assert edge is not None and edge.get_attribute("data-change") == "gained"
    clean(watch)
    page.close()


def test_lint_findings_show_on_their_objects(context: BrowserContext, tmp_path: Path) -> None:
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class Finding:  # the shape of stockade.lint.LintFinding (lint is not merged here yet)
        check: str
        severity: str
        kind: str
        namespace: str
        name: str
        path: str
        message: str
        hint: str = ""
        related: tuple[str, ...] = ()

    findings = [Finding("SP101", "warning", "Pod", "bridge", "in-except", "",
                        "an example finding on a pod"),
                Finding("SP201", "error", "NetworkPolicy", "default", "network-konvoy-policy",
                        "spec.ingress[0].from[0]", "an example finding on a policy")]
    page, watch = open_report(context, _konvoy_page_with(tmp_path, findings=findings))
    row = page.query_selector("#row-labels .row-lbl[data-node='bridge/in-except']")
    assert row is not None and "⚠" in row.inner_text()
    row.click()
    assert "warning SP101 Pod bridge/in-except: an example finding on a pod" in page.inner_text(
        "#details")
    page.click("button[data-view=policies]")
    card = page.inner_text("#policy-list .policy[data-policy='default/network-konvoy-policy']")
    assert "error SP201" in card and "spec.ingress[0].from[0]" in card
    clean(watch)
    page.close()


def test_three_hundred_groups_open_by_namespace_and_drill_down(context: BrowserContext,
                                                               tmp_path: Path) -> None:
    """A generated cluster of 500 pods (334 groups in 25 namespaces): the page opens on one
    row and column per namespace; a namespace opens to its groups, a block's cell lists its
    pairs, and the graph draws a namespace with its peers as namespaces."""
    from benchmarks.generate import default_params, generate, write

    write(generate(default_params(500, seed=1)), tmp_path / "cluster")
    page_file = tmp_path / "big.html"
    assert main(["report", str(tmp_path / "cluster"), "-o", str(page_file)]) == 0
    page, watch = open_report(context, page_file)
    axis = page.evaluate("stockade.axisNames()")
    assert all(name.startswith("ns:") for name in axis) and 20 <= len(axis) <= 30
    groups = page.evaluate("stockade.data.nodes.filter(n => !n.range).length")
    assert groups > 300
    first = axis[0][3:]
    page.click(f"#row-labels .row-lbl[data-ns='{first}']")
    opened = page.evaluate("stockade.axisNames()")
    members = [n for n in opened if not n.startswith("ns:")]
    assert members and all(n.startswith(first + "/") for n in members)
    assert len(opened) == len(axis) - 1 + len(members)
    where = page.evaluate(f"stockade.cellCenter({axis[1]!r}, {axis[2]!r})")
    page.mouse.click(where["x"], where["y"])
    assert page.inner_text("#details h2") == f"{axis[1][3:]} → {axis[2][3:]}"
    pairs = page.query_selector_all("#details a.link")
    assert pairs
    pairs[0].click()
    assert page.query_selector("#details pre.why") is not None
    page.click("button[data-view=graph]")
    page.select_option("#focus", f"ns:{first}")
    note = page.inner_text("#graph-note")
    assert note.startswith(f"Namespace {first} and its peers")
    if "too dense" not in note:
        assert page.query_selector_all("#graph .node[data-node]")
    clean(watch)
    page.close()


def test_cluster_wide_policies_show_with_tier_priority_and_actions(
        context: BrowserContext, tmp_path: Path) -> None:
    path = write_report("cluster-policies", tmp_path / "cluster-policies.html")
    page, watch = open_report(context, path)
    src, dst = "store/web-0", "observability/prometheus-0"
    where = page.evaluate(f"stockade.cellCenter({src!r}, {dst!r})")
    page.mouse.click(where["x"], where["y"])
    shown = page.eval_on_selector_all("#details pre.why", "ps => ps.map(p => p.innerText)")
    expected = query_text(str(ROOT / "examples/cluster-policies"), "--from", src, "--to", dst,
                          "--port", "80/TCP")
    assert shown[0] == expected
    assert "denied by admin ClusterNetworkPolicy/protect-observability priority 20" in shown[0]
    page.click("button[data-view=policies]")
    card = page.inner_text(
        "#policy-list .policy[data-policy='ClusterNetworkPolicy/protect-observability']")
    assert ("Admin tier · priority 20 · subject namespaces "
            "{kubernetes.io/metadata.name=observability}") in card
    assert 'ingress[1] "nobody-else": Deny from namespaces {}' in card
    clean(watch)
    page.close()
