"""Verdicts first, explanations on demand (issue 16).

``Engine.evaluate`` decides with the compiled matchers and words nothing; a side's misses
are worked out when first read. Two things must hold: nothing is worded until asked, and
the quick decision names exactly the rules that the worded pass finds matching (it is a
second implementation of matching, so it is checked against the first on random clusters).
"""

from __future__ import annotations

import ipaddress
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent))  # sibling module, no packages here

import strategies as gen

from stockade.engine import Engine
from stockade.engine import evaluate as evaluation
from stockade.engine.compile import BlockIndex, CompiledPeer, normalise_block
from stockade.engine.explain import RuleMatch
from stockade.engine.traffic import Traffic
from stockade.model.types import IPBlock, NetworkPolicyPeer, PolicyType, Protocol

Manifests = list[dict[str, Any]]

BLOCKS = 50
POLICY: dict[str, Any] = {
    "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
    "metadata": {"namespace": "x", "name": "allow-list"},
    "spec": {"podSelector": {}, "policyTypes": ["Egress"], "egress": [
        {"to": [{"ipBlock": {"cidr": f"100.64.{i}.0/24"}} for i in range(BLOCKS)],
         "ports": [{"port": 443}]}]},
}


def _pod(name: str, ip: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"namespace": "x", "name": name},
            "spec": {"containers": [{"name": "c", "image": "i"}]}, "status": {"podIP": ip}}


def test_evaluate_words_nothing_until_the_misses_are_read(
        monkeypatch: pytest.MonkeyPatch) -> None:
    engine = gen.engine_of([_pod("a", "10.0.0.1"), _pod("b", "10.0.0.2"), POLICY])
    worded: list[int] = []
    wording = evaluation._match_peers

    def counting(engine: Engine, *args: Any) -> Any:
        worded.append(1)
        return wording(engine, *args)

    monkeypatch.setattr(evaluation, "_match_peers", counting)
    verdict = engine.evaluate(Traffic(engine.endpoint("x/a"), engine.endpoint("x/b"),
                                      Protocol.TCP, 443))
    assert not verdict.allowed and verdict.egress.isolated
    assert worded == []  # the answer alone costs no prose
    misses = verdict.egress.misses
    assert [m.reasons[-1] for m in misses] == [f"to[{BLOCKS - 1}]: 10.0.0.2 is outside "
                                               f"ipBlock 100.64.{BLOCKS - 1}.0/24"]
    assert len(misses[0].reasons) == BLOCKS
    assert worded == [1]
    assert verdict.egress.misses is misses and worded == [1]  # worded once, then kept


def test_an_allowed_side_has_no_misses_and_names_the_peer() -> None:
    engine = gen.engine_of([_pod("a", "10.0.0.1"), POLICY])
    verdict = engine.evaluate(Traffic(engine.endpoint("x/a"), engine.endpoint("100.64.7.9"),
                                      Protocol.TCP, 443))
    assert verdict.allowed
    assert verdict.egress.allowed_by == (RuleMatch("x/allow-list", PolicyType.EGRESS, 0, 7, 0),)
    assert verdict.egress.misses == ()


def _worded_matches(engine: Engine, traffic: Traffic, direction: PolicyType) -> list[RuleMatch]:
    """The rules the worded pass finds matching, in the order the verdict lists them."""
    src, dst = traffic.source, traffic.destination
    subject, peer = (src, dst) if direction is PolicyType.EGRESS else (dst, src)
    assert subject.pod is not None
    family = evaluation._family(engine, src, dst)
    found = []
    for i in engine.isolating[direction][engine.class_of(subject.pod).index]:
        for rule in engine.compiled[i].rules[direction]:
            peer_hit, _ = evaluation._match_peers(engine, rule, peer, family)
            port_hit, _ = evaluation._match_ports(engine, rule, dst, traffic)
            if peer_hit is not False and port_hit is not False:
                assert not isinstance(peer_hit, bool) and not isinstance(port_hit, bool)
                found.append(RuleMatch(engine.policies[i].key, direction, rule.index,
                                       peer_hit, port_hit))
    return found


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(gen.clusters(max_policies=5), st.data())
def test_the_quick_verdict_matches_the_worded_one(manifests: Manifests,
                                                   data: st.DataObject) -> None:
    engine = gen.engine_of(manifests)
    names = [p.key for p in engine.pods]
    # Pods by name, and addresses: pods' own (a pod at its address) and others.
    addresses = [str(h) for h in gen.HOSTS[:6]] + ["192.0.2.1"]
    endpoints = names + addresses
    ports = gen.boundary_ports(manifests)
    for _ in range(12):
        src = data.draw(st.sampled_from(endpoints))
        dst = data.draw(st.sampled_from(endpoints))
        traffic = Traffic(engine.endpoint(src), engine.endpoint(dst),
                          data.draw(st.sampled_from(list(Protocol))),
                          data.draw(st.sampled_from(ports)))
        verdict = engine.evaluate(traffic)
        for side, subject in ((verdict.egress, traffic.source),
                              (verdict.ingress, traffic.destination)):
            if not side.isolated:
                continue
            assert subject.pod is not None
            expected = _worded_matches(engine, traffic, side.direction)
            assert list(side.allowed_by) == expected, (src, dst, traffic)
            assert side.allowed == bool(expected)
            if not side.allowed:
                # Every rule of the isolating policies is explained, once.
                rules = sum(len(engine.compiled[i].rules[side.direction]) for i in
                            engine.isolating[side.direction][engine.class_of(subject.pod).index])
                assert len(side.misses) == rules


def test_a_pod_asked_about_at_its_second_address() -> None:
    """Selectors see the pod, ipBlocks the address the question names: the quick verdict
    and the worded one agree when that is not the address the pod's class stands for."""
    pod = _pod("b", "10.0.0.2")
    pod["status"]["podIPs"] = [{"ip": "10.0.0.2"}, {"ip": "10.0.0.3"}]
    pod["metadata"]["labels"] = {"app": "b"}
    policy: dict[str, Any] = {
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"namespace": "x", "name": "out"},
        "spec": {"podSelector": {"matchLabels": {"app": "a"}}, "policyTypes": ["Egress"],
                 "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.3/32"}}],
                             "ports": [{"port": 443}]},
                            {"to": [{"podSelector": {"matchLabels": {"app": "b"}}}],
                             "ports": [{"port": 80}]}]}}
    a = _pod("a", "10.0.0.1")
    a["metadata"]["labels"] = {"app": "a"}
    engine = gen.engine_of([a, pod, policy])
    for dst, port, expected in (("10.0.0.3", 443, [(0, 0)]), ("10.0.0.2", 443, []),
                                ("x/b", 443, []), ("10.0.0.3", 80, [(1, 0)]),
                                ("x/b", 80, [(1, 0)])):
        traffic = Traffic(engine.endpoint("x/a"), engine.endpoint(dst), Protocol.TCP, port)
        verdict = engine.evaluate(traffic)
        assert [(m.rule, m.peer) for m in verdict.egress.allowed_by] == expected, (dst, port)
        assert list(verdict.egress.allowed_by) == _worded_matches(engine, traffic,
                                                                   PolicyType.EGRESS)


@st.composite
def _blocks(draw: st.DrawFn) -> list[tuple[str, list[str]]]:
    """ipBlocks of both families around a few anchors, some with excepts, many of them."""
    out = []
    for _ in range(draw(st.integers(9, 30))):
        if draw(st.booleans()):
            prefix = draw(st.integers(20, 32))
            net = ipaddress.ip_network((draw(st.sampled_from(V4)), prefix), strict=False)
        else:
            prefix = draw(st.integers(100, 128))
            net = ipaddress.ip_network((draw(st.sampled_from(V6)), prefix), strict=False)
        excepts = []
        if prefix < net.max_prefixlen and draw(st.booleans()):
            excepts.append(str(next(net.subnets(new_prefix=prefix + 1))))
        out.append((str(net), excepts))
    return out


V4 = ("10.1.2.3", "10.1.2.200", "10.1.3.1", "192.0.2.1")
V6 = ("fd00::1", "fd00::ff:1", "2001:db8::5")


@settings(max_examples=200, deadline=None)
@given(_blocks(), st.data())
def test_the_block_index_finds_the_first_block_a_scan_finds(
        blocks: list[tuple[str, list[str]]], data: st.DataObject) -> None:
    peers = tuple(CompiledPeer(NetworkPolicyPeer(ip_block=IPBlock(cidr, tuple(ex))), None,
                               normalise_block(IPBlock(cidr, tuple(ex))), {})
                  for cidr, ex in blocks)
    # The ends of the networks and excepts, and their neighbours, are where it can go wrong.
    edges = {str(a) for cidr, ex in blocks for n in (cidr, *ex)
             for net in [ipaddress.ip_network(n)]
             for a in (net.network_address, net.broadcast_address)}
    edges |= {str(ipaddress.ip_address(e) + d) for e in list(edges) for d in (-1, 1)
              if e not in ("0.0.0.0", "255.255.255.255")}
    address = data.draw(st.sampled_from(sorted(edges | {*V4, *V6, "10.9.9.9"})))
    addr = ipaddress.ip_address(address)
    scan = next((j for j, cp in enumerate(peers)
                 if cp.block is not None and cp.block.contains(addr)), None)
    assert BlockIndex.of(peers).first_containing(addr) == scan
