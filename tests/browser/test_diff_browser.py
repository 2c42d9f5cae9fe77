"""``stockade diff -o html`` in a real browser (Debian's Chromium, headless, through
Playwright), as the report is tested: the page of the shop against its broken variant loads
with no console errors and no network request, shows the two changed cells in the diff's
colours, explains them with the diff's causes and ``query``'s text on the changed port, draws
the two changed edges, and a group only the old side had comes back as a removed node whose
former connections are red.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import redirect_stdout
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from browser_support import Watch, browser, open_report, unavailable

from stockade.cli.main import main

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

ROOT = Path(__file__).resolve().parents[2]
SHOP, BROKEN = "examples/shop", "variants/shop-broken"
pytestmark = pytest.mark.skipif(bool(unavailable()), reason=unavailable() or "ok")

GREEN, RED = [0x16, 0xA3, 0x4A], [0xDC, 0x26, 0x26]
CANARY, DB, WEB = "shop/Deployment/api-canary", "shop/StatefulSet/db", "shop/Deployment/web"


@pytest.fixture(scope="module")
def context() -> Iterator[BrowserContext]:
    with browser() as ctx:
        yield ctx


def write_diff(out: Path, *argv: str) -> Path:
    """``stockade diff ARGV -o html > out``, run from the repository's root (the page shows
    the paths as given); the exit code says changed."""
    buffer = io.StringIO()
    with redirect_stdout(buffer):
        code = main(["diff", *argv, "-o", "html"])
    assert code == 1
    out.write_text(buffer.getvalue())
    return out


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    where = tmp_path_factory.mktemp("diffs")
    renamed = where / "shop-renamed"
    shutil.copytree(ROOT / SHOP, renamed, ignore=shutil.ignore_patterns("tests"))
    cache = renamed / "cache.yaml"
    cache.write_text(cache.read_text().replace("cache", "cache2"))
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(ROOT)
        return {"broken": write_diff(where / "broken.html", SHOP, BROKEN),
                "pods": write_diff(where / "pods.html", SHOP, BROKEN, "--pods"),
                "renamed": write_diff(where / "renamed.html", SHOP, str(renamed))}


def clean(watch: Watch, path: Path) -> None:
    assert watch.console == [] and watch.errors == []
    assert watch.requests == [path.resolve().as_uri()]


def pixels(page: Page, *cells: tuple[str, str]) -> list[list[int]]:
    """The colours at the centres of cells, read back from the canvas at once (one readback:
    more make Chromium warn on the console)."""
    centres = [page.evaluate(f"stockade.cellCenter({s!r}, {d!r})") for s, d in cells]
    colours: list[list[int]] = page.evaluate(
        "(at) => { const c = document.getElementById('cells'); const r = window.devicePixelRatio;"
        " const b = c.getBoundingClientRect();"
        " const all = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
        " return at.map((p) => { const x = Math.floor((p.x - b.left) * r),"
        " y = Math.floor((p.y - b.top) * r), k = (y * c.width + x) * 4;"
        " return [all[k], all[k + 1], all[k + 2]]; }); }", centres)
    return colours


def click_cell(page: Page, src: str, dst: str) -> str:
    where = page.evaluate(f"stockade.cellCenter({src!r}, {dst!r})")
    page.mouse.click(where["x"], where["y"])
    return page.inner_text("#details")


def query_text(*argv: str) -> str:
    result = subprocess.run([sys.executable, "-m", "stockade", "query", *argv], cwd=ROOT,
                            capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode in (0, 1), result.stderr
    return result.stdout.rstrip("\n")


def test_the_broken_shop_page(context: BrowserContext, pages: dict[str, Path]) -> None:
    page, watch = open_report(context, pages["broken"])
    assert page.title() == f"stockade diff: {SHOP} → {BROKEN}"
    summary = page.inner_text("#details")
    assert "2 group pairs changed, of 56 ordered pairs compared" in summary
    assert f"shop/api-from-web {BROKEN}/policies.yaml:34" in summary
    assert page.inner_text("#summary").startswith(
        "diff: 2 group pairs changed · endpoints +0 −0 · policies +0 −0 ~2 · new side: ")
    # The changed cells in the diff's colours, the rest faded.
    gained, lost, same = pixels(page, (CANARY, DB), (WEB, CANARY), (WEB, "shop/Deployment/api"))
    assert (gained, lost) == (GREEN, RED)
    assert same not in (GREEN, RED, [0xF0, 0xB4, 0x29])  # faded "some ports"
    # The lost cell: before and after, the cause with its file and line, and query's text
    # on the lost port.
    text = click_cell(page, WEB, CANARY)
    assert "lost before: TCP 8000" in text
    assert (f"{WEB} → {CANARY}\nbefore TCP 8000 · after none\nlost TCP 8000\nbecause\n"
            "shop/api-from-web ingress[0] no longer allows TCP 8000 (before: from[0], "
            f"ports[0])\nmodified, {BROKEN}/policies.yaml:47 (spec.ingress[0].ports[0])\n"
            f"ports[0]: named port 'http' is not declared by {CANARY}") in text
    shown = page.eval_on_selector_all("#details pre.why", "ps => ps.map(p => p.innerText)")
    # (Other ports the same rules decide are noted below the text, as the report does.)
    assert shown[0].split("\n(")[0] == query_text(BROKEN, "--from", WEB, "--to", CANARY,
                                                  "--port", "8000/TCP")
    page.click("#details .cause a[data-policy='shop/api-from-web']")
    assert page.inner_text("#details h2") == "shop/api-from-web"
    # The gained cell.
    text = click_cell(page, CANARY, DB)
    assert "gained before: none" in text and "gained TCP 5432" in text
    assert f"modified, {BROKEN}/policies.yaml:59 (spec.ingress[0].from[0])" in text
    shown = page.eval_on_selector_all("#details pre.why", "ps => ps.map(p => p.innerText)")
    assert shown[0].split("\n(")[0] == query_text(BROKEN, "--from", CANARY, "--to", DB,
                                                  "--port", "5432/TCP")
    assert "unchanged by the diff" in click_cell(page, WEB, "shop/Deployment/api")
    # The graph opens on what changed.
    page.click("button[data-view=graph]")
    edges = page.evaluate("[...document.querySelectorAll('#graph .edge')].map(e => "
                          "[e.dataset.src, e.dataset.dst, e.dataset.change, e.dataset.text])")
    assert sorted(map(tuple, edges)) == [(CANARY, DB, "gained", "none → TCP 5432"),
                                         (WEB, CANARY, "lost", "TCP 8000 → none")]
    assert page.inner_text("#graph-note").startswith("What changed: 3 nodes, 2 edges")
    # The policies the diff modified are marked; the Changes tab lists the pairs.
    page.click("button[data-view=policies]")
    card = page.inner_text("#policy-list .policy[data-policy='shop/api-from-web']")
    assert "modified" in card
    page.click("button[data-view=changes]")
    listed = page.inner_text("#change-list")
    assert f"{CANARY} → {DB}: none → TCP 5432" in listed
    assert f"{WEB} → {CANARY}: TCP 8000 → none" in listed
    page.click(f"#change-list a:has-text('{WEB} → {CANARY}')")
    assert page.inner_text("#details h2") == f"{WEB} → {CANARY}"
    clean(watch, pages["broken"])
    page.close()


def test_pods_form_lists_pod_pairs(context: BrowserContext, pages: dict[str, Path]) -> None:
    page, watch = open_report(context, pages["pods"])
    assert page.inner_text("#summary").startswith("diff: 2 pod pairs changed")
    assert pixels(page, (WEB, CANARY)) == [RED]
    assert "What changed (stockade diff): 1 pod pair" in click_cell(page, WEB, CANARY)
    clean(watch, pages["pods"])
    page.close()


def test_a_group_only_the_old_side_had(context: BrowserContext, pages: dict[str, Path]) -> None:
    page, watch = open_report(context, pages["renamed"])
    ghost, fresh = "shop/Deployment/cache (removed)", "shop/Deployment/cache2"
    row = page.query_selector(f"#row-labels .row-lbl[data-node='{ghost}']")
    assert row is not None and row.inner_text().startswith("− ")
    assert "removed" in (row.get_attribute("class") or "")
    assert page.query_selector(f"#row-labels .row-lbl.added[data-node='{fresh}']") is not None
    assert pixels(page, ("shop/Deployment/api", ghost), (ghost, WEB), (fresh, WEB)) == [
        RED, RED, GREEN]
    text = click_cell(page, "shop/Deployment/api", ghost)
    assert "allowed: —" in text and "lost before: TCP 6379" in text
    assert "removed: only the old side has this group" in text
    assert page.query_selector("#details pre.why") is None  # nothing to explain now
    row.click()
    node = page.inner_text("#details")
    assert "Removed: only the old side has this group" in node
    assert "shop/cache-from-api" in node
    page.click("button[data-view=graph]")
    assert page.query_selector(f"#graph .node.removed[data-node='{ghost}']") is not None
    lost = page.evaluate("[...document.querySelectorAll('#graph .edge[data-change=lost]')]"
                         ".map(e => [e.dataset.src, e.dataset.dst, e.dataset.text])")
    assert ["shop/Deployment/api", ghost, "TCP 6379 → —"] in lost
    assert len(lost) == 5
    clean(watch, pages["renamed"])
    page.close()


def test_screenshot_of_a_diff_is_not_blank(context: BrowserContext,
                                           pages: dict[str, Path]) -> None:
    from PIL import Image

    page, watch = open_report(context, pages["broken"])
    click_cell(page, WEB, CANARY)
    image = Image.open(io.BytesIO(page.screenshot())).convert("RGB")
    colours = image.getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 50
    background = max(colours)[1]
    drawn = sum(count for count, colour in colours if colour != background)
    assert drawn > 0.05 * image.size[0] * image.size[1]
    red = tuple(RED)
    assert sum(count for count, colour in colours if colour == red) > 100
    clean(watch, pages["broken"])
    page.close()
