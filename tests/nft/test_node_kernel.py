"""The transactions a node's table makes, loaded into a real kernel one after the other,
leave exactly the table that should be there: after every change, the content nft lists
(every set's elements, every chain's rules) is the content compiled for the objects now."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from node_history import NODE, Manifest, Step, decode, histories, ident, load, replay

from stockade.engine.node_rules import NodeRules
from stockade.model.types import PolicyType
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


def _manifest(kind: str, name: str, spec: dict[str, Any], **meta: Any) -> Any:
    api = {"Pod": "v1", "NetworkPolicy": "networking.k8s.io/v1"}.get(
        kind, "policy.networking.k8s.io/v1alpha2")
    found: dict[str, Any] = {"apiVersion": api, "kind": kind,
                             "metadata": {"name": name, **meta}, "spec": spec}
    if kind == "Pod":
        found["status"] = {"podIP": spec.pop("ip")}
    return decode(found)


def _pod(name: str, node: str, ip: str, app: str) -> Any:
    return _manifest("Pod", name, {"nodeName": node, "containers": [{"name": "c"}], "ip": ip},
                     namespace="x", labels={"app": app})


def _only(name: str, port: int) -> Any:
    return _manifest("NetworkPolicy", name, {"podSelector": {"matchLabels": {"app": name}},
                                             "ingress": [{"ports": [{"port": port}]}]},
                     namespace="x")


def _admin(name: str, subject: dict[str, Any], action: str, port: int) -> Any:
    return _manifest("ClusterNetworkPolicy", name, {
        "tier": "Admin", "priority": 1, "subject": subject,
        "ingress": [{"action": action, "from": [{"pods": {
            "namespaceSelector": {}, "podSelector": {"matchLabels": {"app": "client"}}}}],
            "protocols": [{"tcp": {"destinationPort": {"number": port}}}]}]})


def _stages(table: NodeTable) -> dict[str, list[str]]:
    """Each shared stage's chain and the group chains that go to it."""
    chains = table.table().chains
    found: dict[str, list[str]] = {c.name: [] for c in chains if "_admin_" in c.name}
    for chain in chains:
        for rule in chain.rules:
            if rule.startswith("jump ") and "_admin_" in rule:
                found[rule.split()[1]].append(chain.name)
    return found


@pytest.mark.lab
def test_groups_share_a_stage_move_between_stages_and_the_last_one_out_deletes_it(
        netns: str) -> None:
    runner = NftRunner(netns)
    rules = NodeRules("n1")
    rules.load([_pod("web", "n1", "10.0.0.10", "web"), _pod("db", "n1", "10.0.0.30", "db"),
                _pod("c", "n2", "10.0.0.40", "client")], [], [_only("web", 80), _only("db", 5432)],
               [], [_admin("guard", {"namespaces": {}}, "Deny", 22)])
    table = NodeTable("n1", table=TABLE)
    runner.run(table.load(rules).render())
    # web and db are two groups (their NetworkPolicies differ) with one Admin stage
    web, db = (table.group_of(f"x/{k}", PolicyType.INGRESS) for k in ("web", "db"))
    assert web != db
    ((guard, users),) = _stages(table).items()
    assert web is not None and db is not None and sorted(users) == sorted([web, db])
    # A client appears: the shared map gains its address once, for both groups.
    tx = table.update(rules, rules.set_pod("x/c2", _pod("c2", "n2", "10.0.0.41", "client")))
    script = tx.render()
    assert tx.added == 1 and tx.deleted == 1, script
    assert script.count(f"add element inet {TABLE} {guard}_v4 ") == 1
    assert "10.0.0.40-10.0.0.41 . tcp . 22 : drop" in script and "chain" not in script
    runner.run(script)
    assert _loaded(runner, table) == []
    # A policy over web alone: web's Admin rules change, it moves to a stage of its own;
    # db stays on the first one, which stays.
    tx = table.update(rules, rules.set_cluster_policy(
        "ClusterNetworkPolicy/web-ssh", _admin("web-ssh", {"pods": {
            "namespaceSelector": {}, "podSelector": {"matchLabels": {"app": "web"}}}},
            "Accept", 2222)))
    script = tx.render()
    stages = _stages(table)
    assert stages[guard] == [db] and len(stages) == 2
    (moved,) = (s for s in stages if s != guard)
    assert stages[moved] == [table.group_of("x/web", PolicyType.INGRESS)]
    assert f"add chain inet {TABLE} {moved}\n" in script and guard not in script
    runner.run(script)
    assert _loaded(runner, table) == []
    # db goes: the first stage's last user, the stage goes with it.
    tx = table.update(rules, rules.set_pod("x/db", None))
    script = tx.render()
    assert f"delete chain inet {TABLE} {guard}\n" in script
    assert f"delete map inet {TABLE} {guard}_v4\n" in script
    assert list(_stages(table)) == [moved]
    runner.run(script)
    assert _loaded(runner, table) == []
    # web takes the first stage's rules again: a new stage, the one it leaves goes.
    tx = table.update(rules, rules.set_cluster_policy("ClusterNetworkPolicy/web-ssh", None))
    script = tx.render()
    assert f"delete chain inet {TABLE} {moved}\n" in script
    (last,) = _stages(table)
    assert last not in (guard, moved) and f"add chain inet {TABLE} {last}\n" in script
    runner.run(script)
    assert _loaded(runner, table) == []
