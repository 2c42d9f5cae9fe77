"""The README's pictures of the report, taken from the real page in headless Chromium:

    .venv/bin/python tests/browser/screenshot.py docs/

writes ``report-shop-matrix.png`` (the matrix, a cell's explanation open) and
``report-shop-graph.png`` (the graph of what policies decide) for ``examples/shop``, and
``diff-shop-broken.png`` (``stockade diff examples/shop variants/shop-broken -o html``, the
lost cell open).
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "src"), str(Path(__file__).resolve().parent)]

from browser_support import browser, open_report, unavailable  # noqa: E402

from stockade.cli.main import main as stockade  # noqa: E402


def shoot(out: Path) -> list[Path]:
    if unavailable():
        raise SystemExit(f"screenshot.py: {unavailable()}")
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="stk-report-") as tmp:
        page_file = Path(tmp) / "shop.html"
        os.chdir(ROOT)  # the page shows the inputs as given: examples/shop
        if stockade(["report", "examples/shop", "-o", str(page_file)]) != 0:
            raise SystemExit("screenshot.py: stockade report failed")
        written = []
        with browser() as context:
            page, watch = open_report(context, page_file)
            where = page.evaluate("stockade.cellCenter('shop/Deployment/web', "
                                  "'shop/Deployment/api')")
            page.mouse.click(where["x"], where["y"])
            page.mouse.move(where["x"] + 60, where["y"] + 60)
            written.append(out / "report-shop-matrix.png")
            page.screenshot(path=str(written[-1]))
            page.click("button[data-view=graph]")
            edge = "[data-src='shop/Deployment/api'][data-dst='shop/StatefulSet/db']"
            page.click(f"#graph .edge{edge} text")
            written.append(out / "report-shop-graph.png")
            page.screenshot(path=str(written[-1]))
            if watch.console or watch.errors:
                raise SystemExit(f"screenshot.py: the page complained: {watch}")
            diff_file = Path(tmp) / "diff.html"
            page_text = io.StringIO()
            with contextlib.redirect_stdout(page_text):
                if stockade(["diff", "examples/shop", "variants/shop-broken", "-o",
                             "html"]) != 1:
                    raise SystemExit("screenshot.py: stockade diff did not find the change")
            diff_file.write_text(page_text.getvalue())
            page, watch = open_report(context, diff_file)
            where = page.evaluate("stockade.cellCenter('shop/Deployment/web', "
                                  "'shop/Deployment/api-canary')")
            page.mouse.click(where["x"], where["y"])
            page.mouse.move(5, 5)  # off the matrix: no tooltip
            written.append(out / "diff-shop-broken.png")
            page.screenshot(path=str(written[-1]))
            if watch.console or watch.errors:
                raise SystemExit(f"screenshot.py: the diff's page complained: {watch}")
    return written


if __name__ == "__main__":
    for path in shoot(Path(sys.argv[1] if len(sys.argv) > 1 else "docs")):
        print(path)
