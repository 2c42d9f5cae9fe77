"""Disagreements between the engine and the reference evaluator that a differential hunt
found, each pinned with the answer the spec gives (networkpolicy-semantics.md §5.3, §8),
so that neither side can drift back to the other's old mistake."""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # sibling module, no packages here
ROOT = str(Path(__file__).resolve().parents[2])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)  # the benchmarks package lives at the repository root

import strategies as gen  # noqa: E402
from benchmarks.reference import ReferenceCluster  # noqa: E402

from stockade.model.types import Protocol  # noqa: E402

Manifests = list[dict[str, Any]]


def _pod(name: str, *ips: str, labels: dict[str, str] | None = None,
         status: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"namespace": "x", "name": name, "labels": labels or {}},
            "spec": {"containers": [{"name": "c", "image": "i"}], "nodeName": "n1"},
            "status": {"podIP": ips[0], "podIPs": [{"ip": ip} for ip in ips],
                       **(status or {})}}


def _policy(spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"namespace": "x", "name": "p"}, "spec": spec}


def _answers(manifests: Manifests, src: str, dst: str) -> tuple[bool, bool]:
    """(engine, reference) on one TCP connection."""
    engine = gen.engine_of(manifests)
    reference = ReferenceCluster.from_dicts(copy.deepcopy(manifests))
    return (engine.allowed(src, dst, Protocol.TCP, 80),
            reference.allowed(src, dst, "TCP", 80))


# x/b admits only 10.0.0.0/24; both pods are dual-stack.
DUAL: Manifests = [
    _pod("a", "10.0.0.1", "fd00::1"),
    _pod("b", "10.0.0.2", "fd00::2", labels={"app": "b"}),
    _policy({"podSelector": {"matchLabels": {"app": "b"}},
             "ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/24"}}]}]}),
]


@pytest.mark.parametrize(("src", "dst", "allowed"), [
    ("x/a", "x/b", True),  # both primaries IPv4: 10.0.0.1 is inside
    ("x/a", "fd00::2", False),  # the connection uses IPv6: x/a's fd00::1 is outside
    ("fd00::1", "x/b", False),
    ("fd00::1", "fd00::2", False),
    ("10.0.0.1", "fd00::2", True),  # the source's address decides: IPv4, inside
    ("x/a", "10.0.0.2", True),
])
def test_a_dual_stack_pod_named_by_an_address_uses_that_family(src: str, dst: str,
                                                               allowed: bool) -> None:
    """§5.3: an ipBlock matches the address the traffic uses, and a question naming an
    address asks about that address's family."""
    assert _answers(DUAL, src, dst) == (allowed, allowed)


def _mapped(block: dict[str, Any]) -> Manifests:
    return [_pod("a", "10.0.0.1"), _pod("b", "10.0.0.2", labels={"app": "b"}),
            _policy({"podSelector": {"matchLabels": {"app": "b"}},
                     "ingress": [{"from": [{"ipBlock": block}]}]})]


@pytest.mark.parametrize(("block", "src", "allowed"), [
    ({"cidr": "::ffff:10.0.0.0/104"}, "x/a", True),  # 10.0.0.0/8
    ({"cidr": "::ffff:10.0.0.0/104"}, "10.1.2.3", True),
    ({"cidr": "::ffff:10.0.0.0/104"}, "11.0.0.1", False),
    ({"cidr": "::ffff:10.0.0.0/104"}, "fd00::1", False),  # families never mix
    ({"cidr": "10.0.0.0/24", "except": ["::ffff:10.0.0.1/128"]}, "x/a", False),  # 10.0.0.1/32
    ({"cidr": "10.0.0.0/24", "except": ["::ffff:10.0.0.1/128"]}, "10.0.0.3", True),
])
def test_an_ipv4_mapped_cidr_is_the_ipv4_network_go_reads(block: dict[str, Any], src: str,
                                                          allowed: bool) -> None:
    """§5.3 as Go's net.ParseCIDR and IPNet.Contains read a cidr: Contains compares
    n.IP.To4() under the 16-byte mask's last 4 bytes, so ::ffff:10.0.0.0/104 is
    10.0.0.0/8."""
    assert _answers(_mapped(block), src, "x/b") == (allowed, allowed)


# x/t has finished on n1; 10.0.0.13 is known only as its hostIP. x/a, on n1, denies all.
TERMINAL: Manifests = [
    _pod("a", "10.0.0.1"),
    _pod("t", "10.0.0.5", status={"hostIP": "10.0.0.13", "phase": "Succeeded"}),
    _policy({"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}),
]
# x/t has failed, and its address is x/a's now; only x/a (app: new) is isolated.
TERMINAL2: Manifests = [
    _pod("t", "10.0.0.1", labels={"app": "old"}, status={"phase": "Failed"}),
    _pod("a", "10.0.0.1", labels={"app": "new"}),
    {**_pod("b", "10.0.0.2"), "spec": {"containers": [{"name": "c", "image": "i"}],
                                       "nodeName": "n2"}},
    _policy({"podSelector": {"matchLabels": {"app": "new"}}, "ingress": []}),
]


@pytest.mark.parametrize(("manifests", "src", "dst", "allowed"), [
    (TERMINAL, "10.0.0.13", "x/a", True),  # §8: from the pod's own node
    (TERMINAL, "x/a", "10.0.0.13", True),  # §8: to the pod's own node
    (TERMINAL, "x/a", "10.0.0.5", False),  # the finished pod's own IP is nobody's now
    (TERMINAL2, "x/b", "10.0.0.1", False),  # 10.0.0.1 is x/a, which admits nobody
    (TERMINAL2, "10.0.0.2", "10.0.0.1", False),
])
def test_a_finished_pod_is_no_endpoint_but_its_node_keeps_its_host_ip(
        manifests: Manifests, src: str, dst: str, allowed: bool) -> None:
    assert _answers(manifests, src, dst) == (allowed, allowed)
