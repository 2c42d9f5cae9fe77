"""Time compiling and loading the nftables ruleset of a generated 1,000-pod cluster.

    sudo .venv/bin/python benchmarks/nft_load.py [--pods 1000] [--policies 100]

Loads into a scratch namespace (``stk-bench-node``), never the root namespace's firewall,
and removes it afterwards. Prints the element count and the seconds each step took.
"""

from __future__ import annotations

import argparse
import subprocess
import time

from stockade.engine import Engine
from stockade.model.build import RawObject, build_cluster
from stockade.model.types import Origin
from stockade.nft.apply import NftRunner
from stockade.nft.compile import compile_engine
from stockade.nft.render import render_replace

NETNS = "stk-bench-node"


def generate(pods: int, policies: int) -> list[RawObject]:
    origin = Origin("<generated>")
    raws = []
    for i in range(pods):
        ip = f"10.{100 + i // 62500}.{(i // 250) % 250}.{i % 250 + 1}"
        raws.append(RawObject({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": f"p{i}", "namespace": f"ns{i % 10}",
                         "labels": {"app": f"app{i % 25}", "tier": f"t{i % 4}"}},
            "spec": {"containers": [{"name": "c", "ports": [
                {"containerPort": 8080, "name": "http"},
                {"containerPort": 53, "protocol": "UDP", "name": "dns"}]}]},
            "status": {"podIP": ip},
        }, origin))
    for j in range(policies):
        raws.append(RawObject({
            "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": f"np{j}", "namespace": f"ns{j % 10}"},
            "spec": {
                "podSelector": {"matchLabels": {"app": f"app{j % 25}"}},
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [{"from": [{"namespaceSelector": {},
                                       "podSelector": {"matchLabels": {"tier": f"t{j % 4}"}}},
                                      {"ipBlock": {"cidr": f"172.{16 + j % 16}.0.0/16",
                                                   "except": [f"172.{16 + j % 16}.1.0/24"]}}],
                             "ports": [{"port": "http"}, {"port": 9000, "endPort": 9100}]}],
                "egress": [{"to": [{"namespaceSelector": {"matchLabels": {
                    "kubernetes.io/metadata.name": f"ns{(j + 1) % 10}"}}}],
                    "ports": [{"port": "dns", "protocol": "UDP"}, {"port": 8080}]}],
            },
        }, origin))
    return raws


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pods", type=int, default=1000)
    parser.add_argument("--policies", type=int, default=100)
    args = parser.parse_args()
    t0 = time.perf_counter()
    cluster = build_cluster(generate(args.pods, args.policies)).cluster
    engine = Engine(cluster)
    t1 = time.perf_counter()
    table = compile_engine(engine).table
    script = render_replace(table)
    t2 = time.perf_counter()
    subprocess.run(["ip", "netns", "add", NETNS], check=True)
    try:
        runner = NftRunner(NETNS)
        t3 = time.perf_counter()
        runner.run(script)
        t4 = time.perf_counter()
        runner.run(script)  # replacing the loaded table, as an update does
        t5 = time.perf_counter()
    finally:
        subprocess.run(["ip", "netns", "del", NETNS], check=True)
    print(f"pods {args.pods}, policies {args.policies}: {table.element_count} set elements, "
          f"{len(table.chains)} chains, {len(script) / 1e6:.1f} MB of nft script")
    print(f"build+engine {t1 - t0:.2f} s, compile+render {t2 - t1:.2f} s, "
          f"nft -f load {t4 - t3:.2f} s, atomic replace {t5 - t4:.2f} s")


if __name__ == "__main__":
    main()
