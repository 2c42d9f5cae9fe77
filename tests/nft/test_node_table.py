"""A node's table kept up to date change by change must always do what the compiler makes
of the same objects from scratch (``compile_ruleset`` over the node's pods), and say so in
transactions that only touch what changed."""

from __future__ import annotations

import ipaddress

from hypothesis import given, settings
from msgspec.structs import replace
from node_history import NODE, Manifest, Step, decode, histories, ident, load, replay
from node_semantics import semantics

from stockade.engine.node_rules import NodeRules
from stockade.model.types import NetworkPolicy, Pod, PolicyType
from stockade.nft.compile import compile_ruleset
from stockade.nft.ir import Table
from stockade.nft.node import NodeTable


def compiled(rules: NodeRules) -> Table:
    """What the compiler makes of the node's pods, from scratch."""
    ingress = {k: rules.pod_rules(k, PolicyType.INGRESS) for k in rules.local}
    egress = {k: rules.pod_rules(k, PolicyType.EGRESS) for k in rules.local}
    own = {k: sorted(rules.own_addresses(k), key=lambda a: (a.version, a)) for k in rules.local}
    return compile_ruleset(_owned(rules), ingress, egress, own_node=own).table


def _owned(rules: NodeRules) -> list[Pod]:
    """The pods with only the addresses they own (the compiler refuses shared ones)."""
    out = []
    for key, pod in rules.pods.items():
        if pod.host_network:
            out.append(pod)
        else:
            out.append(replace(pod, ips=tuple(str(a) for a in rules.addresses(key))))
    return out


@settings(max_examples=300, deadline=None)
@given(histories())
def test_a_table_kept_up_to_date_does_what_a_fresh_compile_does(
        history: tuple[list[Manifest], list[Step]]) -> None:
    start, steps = history
    objects = {ident(m): m for m in start}
    rules = NodeRules(NODE)
    load(rules, objects)
    table = NodeTable(NODE)
    table.load(rules)
    assert semantics(table.table()) == semantics(compiled(rules))
    for step in steps:
        touched = replay(rules, objects, step)
        table.update(rules, touched)
        assert semantics(table.table()) == semantics(compiled(rules)), step
        sizes, whole = table.sizes(), table.table()
        assert sizes.elements == whole.element_count
        assert sizes.rules == sum(len(c.rules) for c in whole.chains)
        fresh = NodeTable(NODE)
        fresh.load(rules)
        assert semantics(table.table()) == semantics(fresh.table())


def _pod(name: str, node: str, ip: str, labels: dict[str, str]) -> Pod:
    found = decode({"apiVersion": "v1", "kind": "Pod",
                    "metadata": {"name": name, "namespace": "x", "labels": labels},
                    "spec": {"nodeName": node, "containers": [{"name": "c", "ports": [
                        {"name": "http", "containerPort": 8080}]}]},
                    "status": {"podIP": ip}})
    assert isinstance(found, Pod)
    return found


def _policy() -> NetworkPolicy:
    found = decode({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                    "metadata": {"name": "web", "namespace": "x"},
                    "spec": {"podSelector": {"matchLabels": {"app": "web"}},
                             "policyTypes": ["Ingress", "Egress"],
                             "ingress": [{"from": [{"podSelector": {
                                 "matchLabels": {"role": "client"}}}],
                                 "ports": [{"port": 80}]}],
                             "egress": [{"to": [{"podSelector": {}}],
                                         "ports": [{"port": "http"}]}]}})
    assert isinstance(found, NetworkPolicy)
    return found


def test_a_pod_elsewhere_is_a_few_elements() -> None:
    rules = NodeRules("n1")
    rules.load([_pod("web", "n1", "10.0.0.10", {"app": "web"}),
                _pod("c0", "n2", "10.0.0.40", {"role": "client"})], [], [_policy()], [])
    table = NodeTable("n1")
    table.load(rules)
    # A client appears on another node: the web pod's ingress set gains its address, its
    # egress set the client's named port.
    tx = table.update(rules, rules.set_pod("x/c1", _pod("c1", "n2", "10.0.0.20",
                                                          {"role": "client"})))
    script = tx.render()
    assert tx.added == 2 and tx.deleted == 0, script
    assert "10.0.0.20 . tcp . 80" in script and "10.0.0.20 . tcp . 8080" in script
    assert "chain" not in script and "delete" not in script
    # Its neighbour joins it: one element each side becomes a range.
    tx = table.update(rules, rules.set_pod("x/c2", _pod("c2", "n2", "10.0.0.21",
                                                          {"role": "client"})))
    assert "10.0.0.20-10.0.0.21 . tcp . 80" in tx.render()
    assert tx.deleted == 2 and tx.added == 2
    # The client loses the label that made it a peer of the ingress rule.
    tx = table.update(rules, rules.set_pod("x/c1", _pod("c1", "n2", "10.0.0.20", {})))
    assert "10.0.0.21 . tcp . 80" in tx.render()
    # A pod of the node that no policy selects: nothing to enforce for it.
    tx = table.update(rules, rules.set_pod("x/db", _pod("db", "n1", "10.0.0.30", {})))
    assert "jump" not in tx.render()
    # A second web pod on the node joins the group: one verdict element per direction.
    tx = table.update(rules, rules.set_pod("x/web2", _pod("web2", "n1", "10.0.0.11",
                                                            {"app": "web"})))
    script = tx.render()
    assert script.count(": jump") == 2 and "add chain" not in script
    assert table.group_of("x/web2", PolicyType.INGRESS) == table.group_of("x/web",
                                                                          PolicyType.INGRESS)


def test_a_policy_change_rebuilds_only_its_groups() -> None:
    rules = NodeRules("n1")
    other = decode({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                    "metadata": {"name": "db", "namespace": "x"},
                    "spec": {"podSelector": {"matchLabels": {"app": "db"}}}})
    assert isinstance(other, NetworkPolicy)
    rules.load([_pod("web", "n1", "10.0.0.10", {"app": "web"}),
                _pod("db", "n1", "10.0.0.30", {"app": "db"})], [], [_policy(), other], [])
    table = NodeTable("n1")
    table.load(rules)
    db = table.group_of("x/db", PolicyType.INGRESS)
    web = table.group_of("x/web", PolicyType.INGRESS)
    changed = decode({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                      "metadata": {"name": "web", "namespace": "x"},
                      "spec": {"podSelector": {"matchLabels": {"app": "web"}},
                               "ingress": [{"ports": [{"port": 443}]}]}})
    assert isinstance(changed, NetworkPolicy)
    tx = table.update(rules, rules.set_policy("x/web", changed))
    script = tx.render()
    assert table.group_of("x/db", PolicyType.INGRESS) == db
    assert table.group_of("x/web", PolicyType.INGRESS) not in (web, None)
    assert table.group_of("x/web", PolicyType.EGRESS) is None
    assert f"delete chain inet stockade {web}" in script
    assert db is not None and db not in script


def test_held_addresses() -> None:
    rules = NodeRules("n1")
    rules.load([_pod("web", "n1", "10.0.0.10", {"app": "web"})], [], [], [])
    table = NodeTable("n1", hold=[ipaddress.ip_network("10.0.0.0/24")])
    table.load(rules)
    text = table.table()
    known = next(s for s in text.sets if s.name == "known_v4")
    assert known.elements == ("10.0.0.10",)
    forward = next(c for c in text.chains if c.name == "forward")
    assert "ip saddr @held_v4 ip saddr != @known_v4 drop" in forward.rules
    tx = table.update(rules, rules.set_pod("x/new", _pod("new", "n1", "10.0.0.11", {})))
    assert "add element inet stockade known_v4 { 10.0.0.11 }" in tx.render()
