"""How fast the lab builds and probes, and proof that it stays right, at 110 and 500 pods.

``sudo .venv/bin/python -m benchmarks.lab_bench [--pods 110,500] [--ports 80/TCP,53/UDP]``

For each size it builds a lab of that many pods (50 per namespace, addresses from the
lab's pod CIDR, every probed port declared) twice: with no policy, where every pair must
be reachable, and with a default deny of both directions in every namespace, where every
pair of distinct pods must be dropped. It prints the time to build the lab, to probe it
(the lab's plumbing check included) and the probes per second, and counts every result
that is not the expected one; any such result makes it exit 1. Needs root.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass

from stockade.lab import lifecycle, measure
from stockade.lab.probe import DROPPED, REACHABLE, UNTESTABLE
from stockade.model.build import RawObject
from stockade.model.types import Origin

PER_NAMESPACE = 50


def lab_manifests(pods: int, ports: list[tuple[int, str]], *,
                  default_deny: bool) -> list[RawObject]:
    """``pods`` pods in namespaces of 50, each declaring ``ports``; with ``default_deny``,
    one policy per namespace isolating its pods both ways."""
    origin = Origin("<lab_bench>")
    declared = [{"containerPort": port, "protocol": protocol} for port, protocol in ports]
    objects: list[RawObject] = []
    namespaces = (pods + PER_NAMESPACE - 1) // PER_NAMESPACE
    for n in range(namespaces):
        ns = f"bench{n}"
        objects.append(RawObject({"apiVersion": "v1", "kind": "Namespace",
                                  "metadata": {"name": ns}}, origin))
        if default_deny:
            objects.append(RawObject({
                "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                "metadata": {"name": "deny-all", "namespace": ns},
                "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}}, origin))
    for i in range(pods):
        objects.append(RawObject({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": f"pod{i}", "namespace": f"bench{i // PER_NAMESPACE}",
                         "labels": {"app": f"a{i % 7}"}},
            "spec": {"containers": [{"name": "c", "ports": declared}]}}, origin))
    return objects


@dataclass(frozen=True, slots=True)
class Result:
    pods: int
    policy: str
    up_seconds: float
    probes: int
    probe_seconds: float
    wrong: int  # probes whose outcome is not the expected one (any cause)
    mismatches: int
    plumbing: int
    down_seconds: float

    @property
    def rate(self) -> float:
        return self.probes / self.probe_seconds if self.probe_seconds else 0.0


def unexpected(m: measure.Measurement, *, default_deny: bool) -> list[str]:
    """Every probe whose outcome is not what the case must give, described."""
    wrong = []
    for p in m.probes:
        if p.outcome == UNTESTABLE:
            continue
        want = REACHABLE if (p.src == p.dst or not default_deny) else DROPPED
        if p.outcome != want:
            wrong.append(f"{p.src} -> {p.dst} {p.protocol}/{p.port}: {p.outcome} "
                         f"(want {want}) {p.detail}".rstrip())
    return wrong


def run_case(pods: int, ports: list[tuple[int, str]], *, default_deny: bool,
             name: str) -> tuple[Result, list[str]]:
    raws = lab_manifests(pods, ports, default_deny=default_deny)
    lab = lifecycle.up(raws, name)
    try:
        m = measure.measure(lab.state, lab.engine, ports)
    finally:
        started = time.monotonic()
        lifecycle.down(name)
        down = time.monotonic() - started
    wrong = unexpected(m, default_deny=default_deny)
    return Result(pods, "default deny" if default_deny else "none", lab.seconds,
                  len(m.probes), m.seconds, len(wrong), len(m.mismatches), len(m.plumbing),
                  down), wrong


def _ports(text: str) -> list[tuple[int, str]]:
    out = []
    for item in text.split(","):
        port, _, protocol = item.partition("/")
        out.append((int(port), (protocol or "TCP").upper()))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.lab_bench",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--pods", default="110,500", help="lab sizes (default 110,500)")
    parser.add_argument("--ports", default="80/TCP,53/UDP", type=_ports,
                        help="ports every pod declares and is probed on (default "
                        "80/TCP,53/UDP)")
    args = parser.parse_args(argv)
    lifecycle.require_root()
    results: list[Result] = []
    failed = False
    for size in (int(s) for s in args.pods.split(",")):
        for default_deny in (False, True):
            result, wrong = run_case(size, args.ports, default_deny=default_deny,
                                     name=f"bench{os.getpid() % 100000}")
            results.append(result)
            for line in wrong[:20]:
                print(f"  WRONG {line}", file=sys.stderr)
            failed = failed or bool(wrong) or bool(result.mismatches)
            print(f"{size} pods, policy {result.policy}: up {result.up_seconds:.1f} s, "
                  f"{result.probes} probes in {result.probe_seconds:.1f} s "
                  f"({result.rate:,.0f}/s), {result.wrong} wrong, down "
                  f"{result.down_seconds:.1f} s", file=sys.stderr)
    print("| pods | policy | lab up s | probes | probe s | probes/s | wrong results | down s |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r.pods} | {r.policy} | {r.up_seconds:.1f} | {r.probes:,} | "
              f"{r.probe_seconds:.1f} | {r.rate:,.0f} | {r.wrong} | {r.down_seconds:.1f} |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
