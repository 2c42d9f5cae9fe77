"""One node's agent in the benchmark cluster: 110 pods on its node (the kubelet's default
maximum) among 10,000 pods and 3,333 policies.

    sudo .venv/bin/python -m benchmarks.agent_scale [--pods 10000] [--local 110]
        [--admin-policies N --baseline-policies N]

The cluster is the generated one of ``benchmarks/run.py`` (seed 1), 110 of its pod-network
pods moved to the node ``bench-node``; every object is served by the lab's API server
double (in this process, a double: no real API server runs here) inside a scratch network
namespace (``stk-bench-agent``), where the real ``stockade agent`` runs as its own process.
Remote pods need no namespaces: only API objects. It measures:

- the first sync: from the agent's start to ``/readyz`` ready, and the agent's own account
  (compile and load), its peak memory (VmHWM), the ruleset's rules and elements;
- one pod added elsewhere (labelled so that many of the node's rules match it) and one
  policy of the node's pods changed: the agent's time from event to kernel, its compile
  time, and the elements each transaction touched;
- against that, a full recompile of the node's table and its load (``nft -f``), in this
  process, as an agent without incremental updates would do for every change.

With ``--admin-policies``/``--baseline-policies`` the cluster has the generator's
cluster-wide policies on top, and one Admin-tier ClusterNetworkPolicy changed (a rule
added) is measured too.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if not __package__:  # run as a script: make the ``benchmarks`` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.generate import default_params, generate
from stockade.lab.agents import agent_get
from stockade.lab.apiserver import ApiServerDouble
from stockade.model.types import Origin

NETNS = "stk-bench-agent"
_ORIGIN = Origin("<generated>")
NODE = "bench-node"
PORT = 19754


def _cluster(pods: int, local: int, seed: int, admin: int = 0,
             baseline: int = 0) -> list[dict[str, Any]]:
    params = dataclasses.replace(default_params(pods, seed), admin_policies=admin,
                                 baseline_policies=baseline)
    docs = [d for files in generate(params).values() for d in files]
    candidates = [d for d in docs if d["kind"] == "Pod"
                  and not d["spec"].get("hostNetwork") and d.get("status", {}).get("podIP")]
    for doc in random.Random(seed).sample(candidates, local):
        doc["spec"]["nodeName"] = NODE
        doc["status"]["hostIP"] = "172.31.255.1"
    docs.append({"apiVersion": "v1", "kind": "Node", "metadata": {"name": NODE},
                 "status": {"addresses": [{"type": "InternalIP", "address": "172.31.255.1"}]}})
    return docs


def _get(path: str) -> tuple[int, str]:
    return agent_get(NETNS, path, timeout=30, port=PORT)


def _metric(name: str) -> float:
    _, text = _get("/metrics")
    return sum(float(line.split()[-1]) for line in text.splitlines()
               if line.startswith(name) and not line.startswith("#"))


def _lines(log: Path) -> list[dict[str, Any]]:
    out = []
    for line in log.read_text().splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out


def _peak_mib(pid: int) -> float:
    """The agent's peak resident memory (the python process under ``ip netns exec``)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    for candidate in [pid, *map(int, children)]:
        status = Path(f"/proc/{candidate}/status").read_text()
        if "python" in Path(f"/proc/{candidate}/comm").read_text() or candidate != pid:
            for line in status.splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    return 0.0


def _wait_update(log: Path, before: int, timeout: float = 600) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        updates = [x for x in _lines(log) if x.get("msg") == "update"]
        if len(updates) > before:
            return updates[before]
        time.sleep(0.01)
    raise SystemExit("the agent did not report the update")


def _policy_of_the_node(docs: list[dict[str, Any]]) -> dict[str, Any]:
    """A policy with ingress rules that selects one of the node's pods."""
    from stockade.engine.compile import policy_selects
    from stockade.model.build import RawObject, decode_object
    from stockade.model.types import NetworkPolicy, Pod, PolicyType

    local = [decode_object(RawObject(d, _ORIGIN))[0] for d in docs if d["kind"] == "Pod"
             and d["spec"].get("nodeName") == NODE]
    for doc in docs:
        if doc["kind"] != "NetworkPolicy" or not doc["spec"].get("ingress"):
            continue
        policy = decode_object(RawObject(doc, _ORIGIN))[0]
        assert isinstance(policy, NetworkPolicy)
        if policy.applies_to(PolicyType.INGRESS) and any(
                isinstance(p, Pod) and policy_selects(policy, p) for p in local):
            return doc
    raise SystemExit("no policy selects a pod of the node")


def full_reload(double: ApiServerDouble) -> tuple[float, float, int]:
    """What a non-incremental agent pays per change: rebuild the node's rules and table
    from the objects, and load the whole table. (compile s, load s, elements)."""
    from stockade.agent.objects import Objects
    from stockade.engine.node_rules import NodeRules
    from stockade.model.build import RawObject
    from stockade.model.types import Origin
    from stockade.nft.apply import NftRunner
    from stockade.nft.node import NodeTable

    listed: dict[str, list[RawObject]] = {}
    for stored in double.store.objects.values():
        for obj in stored.values():
            listed.setdefault(obj["kind"], []).append(RawObject(obj, Origin("api")))
    started = time.monotonic()
    objects = Objects(NodeRules(NODE))
    objects.load(listed)
    table = NodeTable(NODE, table="stk_bench_full")
    tx = table.load(objects.rules)
    script = tx.render()
    compiled = time.monotonic() - started
    started = time.monotonic()
    NftRunner(NETNS).run(script)
    loaded = time.monotonic() - started
    NftRunner(NETNS).delete_table("stk_bench_full")
    return compiled, loaded, tx.added


def cluster_parser(description: str) -> argparse.ArgumentParser:
    """The options that make the benchmark's cluster (``_cluster``)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--pods", type=int, default=10000)
    parser.add_argument("--local", type=int, default=110)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--admin-policies", type=int, default=0)
    parser.add_argument("--baseline-policies", type=int, default=0)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = cluster_parser(__doc__.split("\n\n")[0]).parse_args(argv)
    if os.geteuid() != 0:
        raise SystemExit("needs root (a network namespace and nftables)")
    print(f"generating {args.pods} pods ...", file=sys.stderr)
    docs = _cluster(args.pods, args.local, args.seed, args.admin_policies,
                    args.baseline_policies)
    subprocess.run(["ip", "netns", "del", NETNS], check=False, capture_output=True)
    subprocess.run(["ip", "netns", "add", NETNS], check=True)
    subprocess.run(["ip", "-n", NETNS, "link", "set", "lo", "up"], check=True)
    results: dict[str, Any] = {"pods": args.pods, "local_pods": args.local,
                               "policies": sum(d["kind"] == "NetworkPolicy" for d in docs),
                               "cluster_policies": sum(d["apiVersion"].startswith(
                                   "policy.networking.k8s.io/") for d in docs)}
    agent: subprocess.Popen[bytes] | None = None
    try:
        with ApiServerDouble(netns=[NETNS], port=16444, bookmark_seconds=5) as double, \
                tempfile.TemporaryDirectory() as tmp:
            for doc in docs:
                double.apply(doc)
            kubeconfig = Path(tmp) / "kubeconfig"
            kubeconfig.write_text(json.dumps(double.kubeconfig("agent")))
            log = Path(tmp) / "agent.log"
            started = time.monotonic()
            with log.open("wb") as handle:
                agent = subprocess.Popen(
                    ["ip", "netns", "exec", NETNS, sys.executable, "-m", "stockade", "agent",
                     "--node", NODE, "--kubeconfig", str(kubeconfig), "--table", "stk_bench",
                     "--metrics-address", f"127.0.0.1:{PORT}", "--log-format", "json",
                     "--resync", "0"], stdout=handle, stderr=handle)
            while True:
                try:
                    if _get("/readyz")[0] == 200:
                        break
                except OSError:
                    pass
                if agent.poll() is not None:
                    raise SystemExit(log.read_text())
                time.sleep(0.05)
            sync = next(x for x in _lines(log) if x.get("msg") == "first sync loaded")
            results["first_sync"] = {
                "ready_seconds": round(time.monotonic() - started, 2),
                "compile_seconds": sync["compile_seconds"], "seconds": sync["seconds"],
                "rules": sync["rules"], "elements": sync["elements"],
                "groups": sync["groups"], "peak_mib": round(_peak_mib(agent.pid))}
            # One pod elsewhere: in a namespace many peers select (every pod of it matches
            # namespaceSelector {} and the tier=api peers).
            namespace = next(d["metadata"]["name"] for d in docs if d["kind"] == "Namespace"
                             and "prod" in json.dumps(d))
            pod = {"apiVersion": "v1", "kind": "Pod",
                   "metadata": {"name": "bench-new", "namespace": namespace,
                                "labels": {"tier": "api", "app": "bench", "version": "1"}},
                   "spec": {"nodeName": "node-1", "containers": [{"name": "c", "ports": [
                       {"name": "http", "containerPort": 8080},
                       {"name": "metrics", "containerPort": 9090}]}]},
                   "status": {"phase": "Running", "podIP": "10.255.255.7",
                              "podIPs": [{"ip": "10.255.255.7"}]}}
            done = len([x for x in _lines(log) if x.get("msg") == "update"])
            double.apply(pod)
            update = _wait_update(log, done)
            results["pod_add"] = {k: update[k] for k in (
                "seconds", "compile_seconds", "elements_added", "elements_deleted")}
            # One policy of the node's pods changed: a rule added.
            policy = _policy_of_the_node(docs)
            changed = json.loads(json.dumps(policy))
            changed["spec"]["ingress"].append({"from": [{"ipBlock": {"cidr": "192.0.2.0/24"}}],
                                               "ports": [{"port": 4443}]})
            done += 1
            double.apply(changed)
            update = _wait_update(log, done)
            results["policy_update"] = {k: update[k] for k in (
                "seconds", "compile_seconds", "elements_added", "elements_deleted")}
            results["policy_update"]["policy"] = (f"{policy['metadata']['namespace']}/"
                                                  f"{policy['metadata']['name']}")
            admin = next((d for d in docs if d["kind"] == "ClusterNetworkPolicy"
                          and d["spec"].get("tier") == "Admin"), None)
            if admin is not None:
                # One Admin-tier policy changed: a Deny of a network added first.
                changed = json.loads(json.dumps(admin))
                changed["spec"]["egress"] = [
                    {"name": "bench", "action": "Deny", "to": [{"networks": ["192.0.2.0/24"]}]},
                    *changed["spec"].get("egress", [])]
                done += 1
                double.apply(changed)
                update = _wait_update(log, done)
                results["cluster_policy_update"] = {k: update[k] for k in (
                    "seconds", "compile_seconds", "elements_added", "elements_deleted")}
                results["cluster_policy_update"]["policy"] = (
                    f"ClusterNetworkPolicy/{admin['metadata']['name']}")
            results["nft_transactions"] = {
                "incremental": int(_metric('stockade_agent_nft_transaction_seconds_count{'
                                           'type="incremental"}')),
                "failed": int(_metric("stockade_agent_nft_transaction_failures_total"))}
            results["peak_mib_after"] = round(_peak_mib(agent.pid))
            compiled, loaded, elements = full_reload(double)
            results["full_recompile_and_reload"] = {
                "compile_seconds": round(compiled, 2), "load_seconds": round(loaded, 2),
                "elements": elements}
    finally:
        if agent is not None and agent.poll() is None:
            agent.send_signal(signal.SIGKILL)
            agent.wait()
        subprocess.run(["ip", "netns", "del", NETNS], check=False)
    json.dump(results, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
