"""Point-query latency through the library API on a generated cluster (issue 5: <= 1 ms).

Loads the manifests once (read_paths -> build_cluster -> Engine), then times each of many
random ``Engine.allowed(src, dst, protocol, port)`` calls on its own and reports the median
and the 99th percentile. A sample of the answers is checked against the reference
evaluator, so a fast wrong answer does not pass.

``--ipblock-peers N`` adds one policy with N ipBlock peers per direction (an allow-list of
external ranges, as real clusters keep them) isolating one namespace, and asks only about
connections from or to that namespace, or to addresses in and around those ranges; it
also times what ``query`` does (the verdict with its explanation, rendered as text).
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import random
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

if not __package__:  # run as a script: make the ``benchmarks`` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.generate import Params, generate, write
from benchmarks.reference import ReferenceCluster
from benchmarks.run import load_manifests

HERE = Path(__file__).resolve().parent
PORTS = (53, 80, 443, 3868, 5060, 5432, 6379, 8080, 8125, 9090, 9100)


def build_engine(directory: Path) -> tuple[Any, dict[str, Any]]:
    """The engine for ``directory`` and its pods by ``ns/name``.

    The engine is looked up at run time because it is written in parallel with this
    benchmark; the contract is ``stockade.engine.Engine(cluster).allowed(src, dst,
    protocol, port)``.

    Loaded as the CLI loads (``stockade.cli.common.bulk_allocation``), and as a program
    that keeps a big cluster in memory should: Python's cyclic garbage collector paused
    while the millions of objects are made, and what was made then frozen out of its
    sight, so that a collection during the queries does not walk the whole cluster (at
    150,000 pods such a pause took 0.3 s)."""
    from stockade.cli.common import bulk_allocation
    from stockade.model.build import build_cluster
    from stockade.sources.files import read_paths

    with bulk_allocation():
        result = build_cluster(read_paths([str(directory)]))
        if result.findings:
            raise SystemExit(f"{directory}: {len(result.findings)} invalid object(s), e.g. "
                             f"{result.findings[0]}")
        engine_cls = importlib.import_module("stockade.engine").Engine
        pods = {f"{p.metadata.namespace}/{p.metadata.name}": p for p in result.cluster.pods}
        engine = engine_cls(result.cluster)
    return engine, pods


def prepare(engine: Any, pods: dict[str, Any],
            queries: Sequence[tuple[str, str, str, int]]) -> list[tuple[Any, Any, Any, int]]:
    """Arguments for ``allowed`` built before timing: pod keys (or Pod objects, if its
    first parameter is annotated as a Pod) and ``Protocol`` values."""
    from stockade.model.types import Protocol

    params = list(inspect.signature(engine.allowed).parameters.values())
    wants_pods = bool(params) and "Pod" in str(params[0].annotation)
    out: list[tuple[Any, Any, Any, int]] = []
    for src, dst, proto, port in queries:
        a, b = (pods[src], pods[dst]) if wants_pods else (src, dst)
        out.append((a, b, Protocol(proto), port))
    return out


def verdict(answer: object) -> bool:
    """A bool, or a result object with an ``allowed`` attribute."""
    return bool(getattr(answer, "allowed", answer))


IPBLOCK_FILE = "zz-many-ipblocks.yaml"
IPBLOCK_POLICY = "many-ipblocks"


def ipblock_cidr(i: int) -> str:
    """The i-th range of the allow-list: /24s in 100.64.0.0/10, outside every pod and node
    range the generator uses."""
    return f"100.{64 + i // 256}.{i % 256}.0/24"


def ipblock_policy(namespace: str, count: int) -> dict[str, Any]:
    """A policy isolating every pod of ``namespace`` both ways, allowing ``count`` ipBlock
    peers in each direction (every fourth with an ``except``) on TCP 443."""
    def peers() -> list[dict[str, Any]]:
        out = []
        for i in range(count):
            block: dict[str, Any] = {"cidr": ipblock_cidr(i)}
            if i % 4 == 0:
                block["except"] = [ipblock_cidr(i).replace(".0/24", ".128/25")]
            out.append({"ipBlock": block})
        return out

    ports = [{"protocol": "TCP", "port": 443}]
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": IPBLOCK_POLICY, "namespace": namespace},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"],
                     "ingress": [{"from": peers(), "ports": ports}],
                     "egress": [{"to": peers(), "ports": ports}]}}


def ipblock_queries(keys: Sequence[str], namespace: str, blocks: int, count: int,
                    seed: int) -> list[tuple[str, str, str, int]]:
    """Connections the many-ipBlock policy decides: from its namespace to pods or to
    addresses (a third inside the ranges), and from other pods into its namespace."""
    rng = random.Random(seed)
    inside = [k for k in keys if k.startswith(namespace + "/")]
    others = [k for k in keys if not k.startswith(namespace + "/")]
    out: list[tuple[str, str, str, int]] = []
    for _ in range(count):
        port = rng.choice((443, 443, 80, 8080))
        roll = rng.random()
        if roll < 0.4:
            out.append((rng.choice(inside), rng.choice(others), "TCP", port))
        elif roll < 0.7:
            out.append((rng.choice(others), rng.choice(inside), "TCP", port))
        else:
            i = rng.randrange(blocks * 3)  # two in three beyond the allow-list
            address = f"100.{64 + i // 256}.{i % 256}.{rng.randrange(1, 255)}"
            out.append((rng.choice(inside), address, "TCP", port))
    return out


def random_queries(keys: Sequence[str], count: int, seed: int) -> list[tuple[str, str, str, int]]:
    rng = random.Random(seed)
    out: list[tuple[str, str, str, int]] = []
    for _ in range(count):
        src, dst = rng.sample(list(keys), 2)
        protocol = rng.choices(("TCP", "UDP", "SCTP"), weights=(8, 3, 1))[0]
        port = rng.choice(PORTS) if rng.random() < 0.8 else rng.randint(1, 65535)
        out.append((src, dst, protocol, port))
    return out


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def explained(engine: Any, queries: Sequence[tuple[str, str, str, int]]) -> list[float]:
    """Microseconds per query as ``stockade query`` answers it: the verdict with its
    explanation, rendered as text (the CLI's parsing and loading excluded)."""
    import io

    from stockade.engine.traffic import Traffic
    from stockade.model.types import Protocol
    from stockade.render import query as render
    from stockade.render.style import Style

    style = Style(False)
    micros: list[float] = []
    clock = time.perf_counter_ns
    for src, dst, proto, port in queries:
        traffic = Traffic(engine.endpoint(src), engine.endpoint(dst), Protocol(proto), port)
        t0 = clock()
        render.write_text(engine.evaluate(traffic), io.StringIO(), style)
        micros.append((clock() - t0) / 1000)
    return micros


def summary(micros: Sequence[float]) -> str:
    return (f"median {statistics.median(micros):.1f} us, p99 {percentile(micros, 0.99):.1f} us, "
            f"max {max(micros):.1f} us")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.query_bench",
                                     description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--pods", type=int, default=10000)
    parser.add_argument("--namespaces", type=int, default=500)
    parser.add_argument("--policies", type=int, default=3333)
    parser.add_argument("--queries", type=int, default=10000)
    parser.add_argument("--check", type=int, default=500,
                        help="answers compared with the reference (default 500)")
    parser.add_argument("--ipblock-peers", type=int, default=0, metavar="N",
                        help="add a policy with N ipBlock peers per direction and ask about "
                        "the connections it decides (default 0: none)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work", type=Path, default=HERE / ".work")
    parser.add_argument("--dir", type=Path,
                        help="query the manifests already in this directory instead of "
                        "generating a cluster (--pods, --namespaces, --policies and "
                        "--ipblock-peers are then not used)")
    parser.add_argument("--json", action="store_true",
                        help="print the figures as one JSON object instead of text")
    args = parser.parse_args(argv)

    params = Params(args.pods, args.namespaces, args.policies, args.seed)
    target = ""
    if args.dir is not None:
        directory = args.dir
    else:
        directory = args.work / f"cluster-{params.pods}-{params.namespaces}-{params.policies}"
        files = generate(params)
        if args.ipblock_peers:
            target = next(d["metadata"]["namespace"] for docs in files.values() for d in docs
                          if d["kind"] == "Pod" and d["metadata"]["namespace"] not in
                          ("kube-system", "monitoring"))
            files[IPBLOCK_FILE] = [ipblock_policy(target, args.ipblock_peers)]
        write(files, directory)
        del files

    start = time.perf_counter()
    engine, pods = build_engine(directory)
    load_s = time.perf_counter() - start
    if target:
        queries = ipblock_queries(sorted(pods), target, args.ipblock_peers, args.queries,
                                  args.seed)
    else:
        queries = random_queries(sorted(pods), args.queries, args.seed)
    prepared = prepare(engine, pods, queries)
    allowed = engine.allowed

    allowed(*prepared[0])  # let any lazy first-use work happen outside the timings
    micros: list[float] = []
    raw: list[object] = []
    clock = time.perf_counter_ns
    for a, b, proto, port in prepared:
        t0 = clock()
        answer = allowed(a, b, proto, port)
        micros.append((clock() - t0) / 1000)
        raw.append(answer)
    answers = [verdict(a) for a in raw]

    ref = ReferenceCluster.from_dicts(load_manifests(directory))
    wrong = [(q, a) for q, a in zip(queries[:args.check], answers, strict=False)
             if ref.allowed(*q) != a]

    if args.json:
        print(json.dumps({"pods": len(pods), "load_s": load_s, "queries": len(queries),
                          "median_us": statistics.median(micros),
                          "p99_us": percentile(micros, 0.99), "max_us": max(micros),
                          "checked": min(args.check, len(queries)), "wrong": len(wrong)}))
        return 1 if wrong else 0
    print(f"cluster: {params.pods:,} pods, {params.namespaces:,} namespaces, "
          f"{params.policies:,} policies; load + engine construction {load_s:.2f} s")
    if target:
        print(f"policy {target}/{IPBLOCK_POLICY}: {args.ipblock_peers} ipBlock peers per "
              f"direction; queries from or to namespace {target}")
    print(f"{len(queries):,} queries: {summary(micros)}, {sum(answers):,} allowed")
    if target:
        print(f"the same queries explained and rendered as `query` does: "
              f"{summary(explained(engine, queries))}")
    if wrong:
        print(f"FAILED: {len(wrong)} of {min(args.check, len(queries))} checked answers differ "
              "from the reference, e.g.:")
        for (src, dst, proto, port), got in wrong[:10]:
            print(f"  {src} -> {dst} {proto}/{port}: engine {got}, reference {not got}")
        return 1
    print(f"{min(args.check, len(queries))} answers agree with the reference")
    return 0


if __name__ == "__main__":
    sys.exit(main())
