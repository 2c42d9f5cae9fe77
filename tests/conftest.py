"""Shared fixtures, loaded as plugins so that every test directory keeps plain module names
(the directories are on ``sys.path`` through pytest's ``pythonpath`` setting).

Hypothesis runs without its per-example deadline: a property's first example pays for
imports and warm-up, and on a loaded 2-core machine (CI runs the whole suite there) any
example may take longer than 200 ms without being wrong. Time is measured by the
benchmarks, never by a test.

Before each test, the child processes that stockade left to end on their own once they had
handed everything over (``forked.reap_ended``) are waited for: a test that counts its
process's children then counts its own."""

from collections.abc import Iterator

import pytest
from hypothesis import settings

from stockade.cli import forked

pytest_plugins = ["lab_fixtures", "cluster_fixtures"]

settings.register_profile("stockade", deadline=None)
settings.load_profile("stockade")


@pytest.fixture(autouse=True)
def _children_waited_for() -> Iterator[None]:
    forked.reap_ended()
    yield
