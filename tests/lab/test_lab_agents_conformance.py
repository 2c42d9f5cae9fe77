"""Upstream's network-policy-api conformance tests through agents (root): the suite's base
topology in an agent lab of three nodes (its pods on the nodes their ``spec.nodeName``
names, its Nodes' labels on the lab's nodes), each test's steps changed through the API
server double (a double: no real API server can run here; the agents are the real ones),
every agent converged, then real packets between every pair of pods, and between the pods
and every node address, on the step's TCP and UDP ports. They must agree with the engine
everywhere, and with upstream's expectations on every pod-to-pod probe (a host-network
server is its node's address, which here is the lab node's own).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from conformance_cases import BASE, case_paths, load_case
from lab_support import leftovers

from stockade.lab import lifecycle, measure
from stockade.lab.probe import DROPPED, REACHABLE, UNTESTABLE
from stockade.model.types import Protocol
from stockade.sources.files import read_paths

pytestmark = pytest.mark.lab

PATHS = case_paths()


@pytest.fixture(scope="module")
def agents_lab() -> Iterator[lifecycle.Lab]:
    name = f"ca{os.getpid() % 100000}"
    try:
        yield lifecycle.up(read_paths([str(BASE)]), name, nodes=3, agent=True)
    finally:
        lifecycle.down(name)
        assert leftovers(name) == []


@pytest.mark.parametrize("path", PATHS, ids=[f"{p.parent.name}/{p.stem}" for p in PATHS])
def test_conformance_steps_through_agents(path: os.PathLike[str],
                                          agents_lab: lifecycle.Lab) -> None:
    lab = agents_lab
    case = load_case(path)  # type: ignore[arg-type]
    host_network = {f"{r.data['metadata']['namespace']}/{r.data['metadata']['name']}"
                    for r in case.steps[0].raws
                    if r.kind == "Pod" and r.data["spec"].get("hostNetwork")}
    for step in case.steps:
        where = f"{case.name} step {step.index} ({step.name})"
        engine = lifecycle.apply(lab.state.name,
                                 [r for r in step.raws if r.kind in lifecycle.APPLIED_KINDS])
        assert len(engine.cluster_policies) >= 1, where
        state, _ = lifecycle.engine_of(lab.state.name)
        ports = sorted({(p.port, p.protocol.value) for p in step.probes})
        m = measure.measure(state, engine, ports, timeout=0.2)
        assert m.plumbing == (), where
        assert m.mismatches == (), where
        seen = {(p.src, p.dst, p.protocol, p.port): p for p in m.probes}
        for probe in step.probes:
            if probe.source in host_network or probe.destination in host_network:
                continue  # node traffic: judged against the engine above
            got = seen[(probe.source, probe.destination, probe.protocol.value, probe.port)]
            if probe.protocol is Protocol.SCTP:
                assert got.outcome == UNTESTABLE, (where, probe)
                continue
            assert got.outcome in (REACHABLE, DROPPED), (where, probe, got)
            assert (got.outcome == REACHABLE) == probe.allowed, (where, probe)
