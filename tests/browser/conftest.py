"""The browser every test of a module shares: one headless Chromium per module."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from browser_support import browser, unavailable

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext


@pytest.fixture(scope="module")
def context() -> Iterator[BrowserContext]:
    if unavailable():
        pytest.skip(unavailable())
    with browser() as ctx:
        yield ctx
