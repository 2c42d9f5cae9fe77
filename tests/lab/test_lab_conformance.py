"""Upstream's network-policy-api conformance tests in the lab (root): real packets against
the compiled cluster-wide tiers, step by step.

One lab runs the suite's base topology (``tests/scenarios/conformance/base.yaml``); each
test's steps are applied to it in turn with ``lab apply`` (the step's policies, and its
Namespaces' labels, in one nftables transaction), then every pod probes every pod, and
every pod and every node address probe each other, on the step's TCP and UDP ports. The
packets must agree with the engine everywhere, and with upstream's expectations on every
probe the lab can run: a probe of a host-network server is the probe of its node's address
(the lab runs no host-network pod: that is node traffic). SCTP probes are reported not
testable (this kernel has no SCTP sockets), never judged.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from conformance_cases import BASE, Case, Probe, case_paths, load_case
from lab_support import leftovers

from stockade.lab import lifecycle, measure
from stockade.lab.probe import DROPPED, REACHABLE, UNTESTABLE
from stockade.model.types import Protocol
from stockade.sources.files import read_paths

pytestmark = pytest.mark.lab

PATHS = case_paths()


@pytest.fixture(scope="module")
def conformance_lab() -> Iterator[lifecycle.Lab]:
    name = f"c{os.getpid() % 100000}"
    try:
        yield lifecycle.up(read_paths([str(BASE)]), name)
    finally:
        lifecycle.down(name)
        assert leftovers(name) == []


def _host_addresses(case: Case) -> dict[str, str]:
    """Each host-network pod of the base: the address of the node it runs on."""
    objects = [r.data for r in case.steps[0].raws]
    nodes = {o["metadata"]["name"]: next(a["address"] for a in o["status"]["addresses"]
                                         if a["type"] == "InternalIP")
             for o in objects if o.get("kind") == "Node"}
    return {f"{o['metadata']['namespace']}/{o['metadata']['name']}": nodes[o["spec"]["nodeName"]]
            for o in objects if o.get("kind") == "Pod" and o["spec"].get("hostNetwork")}


@pytest.mark.parametrize("path", PATHS, ids=[f"{p.parent.name}/{p.stem}" for p in PATHS])
def test_conformance_steps_in_real_packets(path: os.PathLike[str],
                                           conformance_lab: lifecycle.Lab) -> None:
    lab = conformance_lab
    case = load_case(path)  # type: ignore[arg-type]
    hosts = _host_addresses(case)
    for step in case.steps:
        where = f"{case.name} step {step.index} ({step.name})"
        engine = lifecycle.apply(lab.state.name,
                                 [r for r in step.raws if r.kind in lifecycle.APPLIED_KINDS])
        assert len(engine.cluster_policies) >= 1, where
        ports = sorted({(p.port, p.protocol.value) for p in step.probes})
        # A short wait for answers: one slower than that is probed again unless the watch
        # table saw the ruleset drop it, so a loaded machine costs time, not a verdict.
        m = measure.measure(lab.state, engine, ports, timeout=0.2)
        assert m.plumbing == (), where
        assert m.mismatches == (), where
        seen = {(p.src, p.dst, p.protocol, p.port): p for p in (*m.probes, *m.address_probes)}
        for probe in step.probes:
            src = hosts.get(probe.source, probe.source)
            dst = hosts.get(probe.destination, probe.destination)
            got = seen[(src, dst, probe.protocol.value, probe.port)]
            if probe.protocol is Protocol.SCTP:
                assert got.outcome == UNTESTABLE and "SCTP" in got.detail, (where, probe)
                continue
            assert got.outcome in (REACHABLE, DROPPED), (where, probe, got)
            assert (got.outcome == REACHABLE) == probe.allowed, (where, _text(probe))


def _text(probe: Probe) -> str:
    mark = "." if probe.allowed else "X"
    return (f"{probe.source} -> {probe.destination} {probe.protocol.value} {probe.port} "
            f"{mark} ({probe.where})")
