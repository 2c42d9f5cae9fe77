"""Large labs give no false result (root): 110 pods on one node (the kubelet's default
maximum) and a 500-pod lab, each with no policy (every pair reachable) and with a default
deny (every pair of distinct pods dropped). The pod network's cost is linear in pods: after
all those probes the kernel's neighbour table holds only the lab's permanent entries, two
per pod and family. A failure of the lab's own plumbing is reported as such, never as a
drop. The same cases, timed, are ``benchmarks/lab_bench.py``."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from benchmarks.lab_bench import lab_manifests, unexpected

from stockade.lab import lifecycle, measure
from stockade.lab.probe import DROPPED, REACHABLE

pytestmark = pytest.mark.lab


def _few(found: tuple[dict[str, object], ...]) -> list[object]:
    """The first few of a failure list, and how many there are: enough to diagnose."""
    return [*found[:5], f"{len(found)} in all"] if found else []


def _neighbours(netns: str) -> list[str]:
    out = subprocess.run(["ip", "-n", netns, "neigh", "show", "nud", "all"],
                         capture_output=True, text=True, check=True).stdout
    return [line for line in out.splitlines() if line.strip()]


@pytest.mark.parametrize(("pods", "ports"), [
    (110, [(80, "TCP"), (53, "UDP")]),
    (500, [(80, "TCP")]),
], ids=["110-pods-tcp-udp", "500-pods-tcp"])
@pytest.mark.parametrize("default_deny", [False, True], ids=["no-policy", "default-deny"])
def test_large_labs_give_no_false_result(pods: int, ports: list[tuple[int, str]],
                                         default_deny: bool, lab_name: str) -> None:
    lab = lifecycle.up(lab_manifests(pods, ports, default_deny=default_deny), lab_name)
    m = measure.measure(lab.state, lab.engine, ports)
    assert {"plumbing": _few(m.plumbing), "mismatches": _few(m.mismatches)} == {
        "plumbing": [], "mismatches": []}
    assert len(m.probes) == pods * pods * len(ports)
    assert unexpected(m, default_deny=default_deny) == []
    outcomes = {p.outcome for p in m.probes}
    assert outcomes == ({REACHABLE, DROPPED} if default_deny else {REACHABLE})
    node = lab.state.node_netns
    entries = _neighbours(node)
    assert len(entries) == pods  # one per pod address (IPv4 only here)
    assert all(line.split()[-1] == "PERMANENT" for line in entries)
    for pod in lab.state.pods[:: max(1, pods // 20)]:
        # The gateway, and the kernel's own entry for the pod's loopback (talking to itself).
        assert sorted(e.split()[0] + " " + e.split()[-1] for e in _neighbours(pod.netns)) == [
            "0.0.0.0 NOARP", "169.254.1.1 PERMANENT"]


def test_a_broken_pod_link_is_reported_as_plumbing_not_as_drops(lab_name: str) -> None:
    ports = [(80, "TCP"), (53, "UDP")]
    lab = lifecycle.up(lab_manifests(6, ports, default_deny=False), lab_name)
    broken = lab.state.pods[2]
    subprocess.run(["ip", "-n", broken.netns, "link", "set", "eth0", "down"], check=True)
    done = subprocess.run([sys.executable, "-m", "stockade", "lab", "probe", lab_name,
                           "--port", "80/TCP", "--port", "53/UDP", "-o", "json"],
                          capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert report["mismatches"] == []
    plumbing = report["plumbing"]
    checks = {(x["check"], x["src"], x["dst"]) for x in plumbing}
    assert ("the node reaches the pod's listener", "node 0", broken.key) in checks
    assert ("the pod reaches its node", broken.key, "node 0") in checks
    pairs = {(x["src"], x["dst"]) for x in plumbing if x["check"] == "a pod reaches a pod"}
    others = [p.key for p in lab.state.pods if p.key != broken.key]
    assert pairs == {(broken.key, o) for o in others} | {(o, broken.key) for o in others}
    assert {x["outcome"] for x in plumbing} <= {"no answer", "refused"}
    # Nothing the broken pod took part in is counted as reachable or dropped (it still
    # reaches itself: that stays on its loopback).
    for result in report["results"]:
        reachable = result["reachable"]
        assert reachable[broken.key] == [broken.key]
        assert all(broken.key not in reachable[o] for o in others)
    text = subprocess.run([sys.executable, "-m", "stockade", "lab", "probe", lab_name,
                           "--port", "80/TCP"], capture_output=True, text=True, check=False,
                          timeout=120).stdout
    assert "PLUMBING " in text and "the lab's own plumbing" in text
    rows = {line.split()[1]: line.split()[2:] for line in text.splitlines()
            if line[:1].isdigit() and " bench0/" in line}
    column = lab.state.pods.index(broken)
    assert rows[broken.key][column] == "."  # itself
    assert {c for i, c in enumerate(rows[broken.key]) if i != column} == {"!"}  # no route
    assert {cells[column] for key, cells in rows.items() if key != broken.key} == {"~"}
