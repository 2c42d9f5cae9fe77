"""Headless Chromium (Debian's ``chromium`` package) driven by Playwright for Python, for
the report's tests, its benchmark and the README's screenshot.

Playwright only drives the system browser here: it never downloads one. The machine has no
network beyond package registries, so Chromium runs with everything that phones home
turned off and a fresh profile directory per run.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, ConsoleMessage, Page, Request

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
VIEWPORT = {"width": 1500, "height": 900}


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


def unavailable() -> str:
    """Why the browser tests cannot run here ("" when they can)."""
    if chromium_path() is None:
        return "no chromium executable (./install.sh --dev installs Debian's chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (./install.sh --dev installs it)"
    return ""


@contextmanager
def browser() -> Iterator[BrowserContext]:
    """A headless Chromium with a fresh profile, closed and removed afterwards."""
    from playwright.sync_api import sync_playwright

    path = chromium_path()
    assert path is not None, unavailable()
    with tempfile.TemporaryDirectory(prefix="stk-chromium-") as profile, \
            sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            profile, executable_path=path, headless=True, args=CHROMIUM_ARGS,
            viewport=VIEWPORT)  # type: ignore[arg-type]
        try:
            yield context
        finally:
            context.close()


@dataclass
class Watch:
    """What a page did besides drawing: console messages, script errors, requests."""

    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            self.console.append(f"{message.type}: {message.text}")

    def on_request(self, request: Request) -> None:
        self.requests.append(request.url)


def open_report(context: BrowserContext, path: Path) -> tuple[Page, Watch]:
    """Open a report file and wait until its script has drawn the page."""
    page = context.new_page()
    watch = Watch()
    page.on("console", watch.on_console)
    page.on("pageerror", lambda exc: watch.errors.append(str(exc)))
    page.on("request", watch.on_request)
    page.goto(path.resolve().as_uri())
    page.wait_for_selector("body[data-ready=true]", timeout=30_000)
    return page, watch
