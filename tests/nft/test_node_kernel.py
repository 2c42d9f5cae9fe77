"""The transactions a node's table makes, loaded into a real kernel one after the other,
leave exactly the table that should be there: after every change, the content nft lists
(every set's elements, every chain's rules) is the content compiled for the objects now."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from node_history import NODE, Manifest, Step, histories, ident, load, replay

from stockade.engine.node_rules import NodeRules
from stockade.nft.apply import NftRunner
from stockade.nft.listing import differences, from_json, from_table
from stockade.nft.node import NodeTable

TABLE = "stk_node"


@pytest.fixture(scope="module")
def netns() -> Iterator[str]:
    name = f"stk-nk{os.getpid() % 100000}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


def _loaded(runner: NftRunner, table: NodeTable) -> list[str]:
    listing = runner.list_table(TABLE)
    assert listing is not None
    return differences(from_table(table.table()), from_json(listing))


@pytest.mark.lab
@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(histories())
def test_transactions_leave_the_table_that_should_be_loaded(
        netns: str, history: tuple[list[Manifest], list[Step]]) -> None:
    runner = NftRunner(netns)
    start, steps = history
    objects = {ident(m): m for m in start}
    rules = NodeRules(NODE)
    load(rules, objects)
    table = NodeTable(NODE, table=TABLE)
    runner.run(table.load(rules).render())
    assert _loaded(runner, table) == []
    for step in steps:
        tx = table.update(rules, replay(rules, objects, step))
        if tx:
            runner.run(tx.render())
        assert _loaded(runner, table) == [], (step, tx.render())
