"""Lab tests need root, ``ip`` and ``nft`` (CI runs them as root). Each test gets a fresh
lab name and the guarantee, checked afterwards, that nothing of that lab is left."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator

import pytest
from lab_support import leftovers

from stockade.lab import lifecycle

_counter = itertools.count()


@pytest.fixture
def lab_name() -> Iterator[str]:
    name = f"t{os.getpid() % 100000}x{next(_counter)}"
    try:
        yield name
    finally:
        lifecycle.down(name)
        assert leftovers(name) == []
