"""Upstream's network-policy-api conformance tests, transcribed (``conformance_cases``).

The transcription itself is checked here: every upstream test of both API versions is
present with all its probes, every step's objects are valid, and every probe names pods
that serve the probed port.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from conformance_cases import CaseError, case_paths, load_case
from test_scenarios import connection_allows

from stockade.engine import Engine
from stockade.engine.matrix import connectivity, port_reachability, reachable_pods
from stockade.model.build import build_cluster
from stockade.model.types import Protocol

# Upstream's tests and how many probes (PokeServer calls) each makes, counted in the Go
# sources of v0.2.0 (v1alpha2) and v0.1.8 (v1alpha1).
UPSTREAM_PROBES = {
    "v1alpha2": {
        "CNPAdminTierEgressNamedPort": 2, "CNPAdminTierEgressNodePeers": 5,
        "CNPAdminTierIngressNamedPort": 2, "CNPAdminTierEgressInlineCIDRPeers": 27,
        "CNPAdminTierEgressSCTP": 12, "CNPAdminTierEgressTCP": 12,
        "CNPAdminTierEgressUDP": 12, "CNPAdminTierGress": 54,
        "CNPAdminTierIngressSCTP": 12, "CNPAdminTierIngressTCP": 12,
        "CNPAdminTierIngressUDP": 12, "CNPAdminTierIntegration": 12,
        "CNPAdminTierPriorityField": 8, "CNPBaselineTierEgressNamedPort": 2,
        "CNPBaselineTierEgressNodePeers": 4, "CNPBaselineTierIngressNamedPort": 2,
        "CNPBaselineTierEgressInlineCIDRPeers": 27, "CNPBaselineTierEgressSCTP": 8,
        "CNPBaselineTierEgressTCP": 8, "CNPBaselineTierEgressUDP": 8,
        "CNPBaselineTierGress": 36, "CNPBaselineTierIngressSCTP": 8,
        "CNPBaselineTierIngressTCP": 8, "CNPBaselineTierIngressUDP": 8,
    },
    "v1alpha1": {
        "AdminNetworkPolicyEgressNamedPort": 2, "AdminNetworkPolicyEgressNodePeers": 5,
        "AdminNetworkPolicyIngressNamedPort": 2, "AdminNetworkPolicyEgressInlineCIDRPeers": 21,
        "AdminNetworkPolicyEgressSCTP": 12, "AdminNetworkPolicyEgressTCP": 12,
        "AdminNetworkPolicyEgressUDP": 12, "AdminNetworkPolicyGress": 54,
        "AdminNetworkPolicyIngressSCTP": 12, "AdminNetworkPolicyIngressTCP": 12,
        "AdminNetworkPolicyIngressUDP": 12, "AdminNetworkPolicyIntegration": 12,
        "AdminNetworkPolicyPriorityField": 8, "BaselineAdminNetworkPolicyEgressNamedPort": 2,
        "BaselineAdminNetworkPolicyEgressNodePeers": 4,
        "BaselineAdminNetworkPolicyIngressNamedPort": 2,
        "BaselineAdminNetworkPolicyEgressInlineCIDRPeers": 21,
        "BaselineAdminNetworkPolicyEgressSCTP": 8, "BaselineAdminNetworkPolicyEgressTCP": 8,
        "BaselineAdminNetworkPolicyEgressUDP": 8, "BaselineAdminNetworkPolicyGress": 36,
        "BaselineAdminNetworkPolicyIngressSCTP": 8, "BaselineAdminNetworkPolicyIngressTCP": 8,
        "BaselineAdminNetworkPolicyIngressUDP": 8,
    },
}


@pytest.mark.parametrize("version", sorted(UPSTREAM_PROBES))
def test_every_upstream_test_is_transcribed_with_every_probe(version: str) -> None:
    got = Counter({c.test: sum(len(s.probes) for s in c.steps)
                   for c in (load_case(p) for p in case_paths(version))})
    assert dict(got) == UPSTREAM_PROBES[version]


@pytest.mark.parametrize("path", [pytest.param(p, id=f"{p.parent.name}/{p.stem}")
                                  for p in case_paths()])
def test_case_is_well_formed(path: Path) -> None:
    case = load_case(path)
    assert case.cite.startswith("kubernetes-sigs/network-policy-api v0.")
    assert case.test in case.cite
    for step in case.steps:
        result = build_cluster(step.raws)
        assert not result.findings, [str(f) for f in result.findings]
        served = {p.key: {(c.protocol, c.container_port) for c in p.container_ports()}
                  for p in result.cluster.pods}
        for probe in step.probes:
            assert (probe.protocol.value, probe.port) in served[probe.destination], probe.where


def test_loader_reports_where_a_transcription_is_wrong(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "apiVersion: stockade.dev/v1\nkind: Expectations\ntest: T\ncite: c\n"
        "description: d\nsteps:\n- name: s\n  changes:\n  - {target: Pod/x/y, delete: true}\n"
        "  probes: |\n    harry-potter-0 -> luna-lovegood-0 TCP 80 .\n")
    with pytest.raises(CaseError, match=r"steps\[0\]\.changes\[0\]: target 'Pod/x/y' is not"):
        load_case(bad)
    bad.write_text(bad.read_text().replace("  changes:\n  - {target: Pod/x/y, delete: true}\n",
                                           "").replace("TCP 80 .", "TCP 80 allowed"))
    with pytest.raises(CaseError, match=r"steps\[0\]\.probes line 1: expected"):
        load_case(bad)
    bad.write_text(bad.read_text().replace("TCP 80 allowed", "TCP 80 .").replace(
        "luna-lovegood-0", "luna"))
    with pytest.raises(CaseError, match=r"pod 'luna' is unknown"):
        load_case(bad)


def _probe_params() -> list[object]:
    return [pytest.param(p, id=f"{p.parent.name}/{p.stem}") for p in case_paths()]


@pytest.mark.parametrize("path", _probe_params())
def test_engine_passes_every_probe(path: Path) -> None:
    """Every step, every probe, three ways that must agree: ``Engine.allowed`` (the server
    seen at its pod IP, as upstream probes it), ``port_reachability`` and the connection
    text of ``connectivity``."""
    wrong = []
    for step in load_case(path).steps:
        result = build_cluster(step.raws)
        engine = Engine(result.cluster)
        index = {pod.key: i for i, pod in enumerate(engine.pods)}
        matrix = connectivity(engine)
        reach: dict[tuple[Protocol, int], set[tuple[int, int]]] = {}
        for probe in step.probes:
            ip = engine.pod(probe.destination).ips[0]
            src, dst = index[probe.source], index[probe.destination]
            key = (probe.protocol, probe.port)
            if key not in reach:
                allowed = port_reachability(engine, *key)
                reach[key] = {(s, d) for s in range(len(engine.pods))
                              for d in reachable_pods(engine, allowed, s)}
            text = matrix.between_pods(src, dst)
            got = {
                "Engine.allowed": engine.allowed(probe.source, ip, probe.protocol, probe.port),
                "port_reachability": (src, dst) in reach[key],
                "connectivity": connection_allows(text, probe.protocol, probe.port),
            }
            for how, answer in got.items():
                if answer != probe.allowed:
                    wrong.append(f"{probe.where}: {probe.source} -> {probe.destination} "
                                 f"{probe.protocol} {probe.port}: expected "
                                 f"{'.' if probe.allowed else 'X'}, {how} says "
                                 f"{'.' if answer else 'X'} ({text})")
    assert not wrong, "\n".join(wrong)
