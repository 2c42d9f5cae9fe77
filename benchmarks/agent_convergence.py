"""How fast a change in the API reaches real packets, through the agents of a 2-node lab.

    sudo .venv/bin/python -m benchmarks.agent_convergence [--changes 100]

A lab of two nodes with a stockade agent on each (``lab up --nodes 2 --agent``; its API
server is the lab's double: no real API server can run here). Servers on both nodes are
isolated for ingress; each timed change makes a denied connection allowed, alternately:

- a policy update: a server's policy gains a rule admitting one client pod;
- a pod creation: a new pod (its namespace and address made first, as a network plugin
  makes them) is created in the API with the label the servers admit — until its agent
  knows it, the servers' ingress drops it: the window of a new pod.

The clock starts when the API has stored the change and stops at the send time of the first
connection attempt that gets through: attempts leave every 5 ms, each on a fresh socket
closed before TCP would retransmit its SYN, so an answer can only come from a SYN sent
after the kernel had the change. Each change is undone afterwards (untimed) and the agents
converge before the next. Prints p50, p90, p99 and max per kind of change and overall, and
the agents' own event-to-kernel figures.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import ipaddress
import json
import os
import select
import socket
import statistics
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

if not __package__:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import yaml

from stockade.lab import agents, lifecycle, network
from stockade.lab import state as lab_state
from stockade.lab.api_objects import pod_manifest
from stockade.lab.names import LabNames
from stockade.lab.plan import LabPlan, LabPod
from stockade.lab.system import in_netns
from stockade.model.build import RawObject
from stockade.model.types import Container, ContainerPort, ObjectMeta, Origin, Pod, PodSpec

NAME = "convbench"
INTERVAL = 0.005  # between connection attempts
LIFETIME = 0.9  # an attempt is given up before TCP retransmits its SYN (1 s)
TIMEOUT = 30.0

LAB = """
apiVersion: v1
kind: Namespace
metadata: {name: bench}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: server, namespace: bench}
spec:
  replicas: 4
  selector: {matchLabels: {app: server}}
  template:
    metadata: {labels: {app: server}}
    spec: {containers: [{name: c, ports: [{containerPort: 80}]}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: client, namespace: bench}
spec:
  replicas: 4
  selector: {matchLabels: {app: client}}
  template:
    metadata: {labels: {app: client}}
    spec: {containers: [{name: c, ports: [{containerPort: 80}]}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: server, namespace: bench}
spec:
  podSelector: {matchLabels: {app: server}}
  ingress: [{from: [{podSelector: {matchLabels: {role: admitted}}}]}]
"""


def _policy(admit_clients: bool) -> dict[str, Any]:
    peers: list[dict[str, Any]] = [{"podSelector": {"matchLabels": {"role": "admitted"}}}]
    if admit_clients:
        peers.append({"podSelector": {"matchLabels": {"app": "client"}}})
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "server", "namespace": "bench"},
            "spec": {"podSelector": {"matchLabels": {"app": "server"}},
                     "ingress": [{"from": peers}]}}


def first_through(netns: str, address: str, port: int, since: float) -> float:
    """Seconds from ``since`` to the send time of the first attempt that connects."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    open_: dict[int, tuple[socket.socket, float]] = {}
    poller = select.epoll()
    deadline = time.monotonic() + TIMEOUT
    next_at = time.monotonic()
    try:
        while time.monotonic() < deadline:
            now = time.monotonic()
            if now >= next_at:
                with in_netns(netns):
                    sock = socket.socket(family, socket.SOCK_STREAM)
                sock.setblocking(False)
                sent = time.monotonic()
                code = sock.connect_ex((address, port))
                if code not in (0, errno.EINPROGRESS):
                    sock.close()
                else:
                    open_[sock.fileno()] = (sock, sent)
                    poller.register(sock.fileno(), select.EPOLLOUT | select.EPOLLERR)
                next_at = now + INTERVAL
            for fd, _ in poller.poll(max(0.0, next_at - time.monotonic())):
                sock, sent = open_.pop(fd)
                poller.unregister(fd)
                error = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                sock.close()
                if error == 0:
                    return sent - since
            for fd, (sock, sent) in list(open_.items()):
                if time.monotonic() - sent > LIFETIME:
                    poller.unregister(fd)
                    sock.close()
                    del open_[fd]
    finally:
        for sock, _ in open_.values():
            sock.close()
        poller.close()
    raise SystemExit(f"no connection to {address}:{port} from {netns} within {TIMEOUT} s")


def _write(client: Any, manifest: dict[str, Any]) -> tuple[float, int]:
    """Create or replace; when the request left (the clock's start: it includes the API's
    round trip), and the stored resourceVersion."""
    cls = agents._CLASSES[manifest["kind"]]
    obj = cls(json.loads(json.dumps(manifest)))
    namespace = manifest["metadata"]["namespace"]
    name = manifest["metadata"]["name"]
    try:
        old = client.get(cls, name, namespace=namespace)
    except Exception:
        old = None
    started = time.monotonic()
    if old is None:
        stored = client.create(obj, namespace=namespace)
    else:
        obj["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"]
        stored = client.replace(obj, name, namespace=namespace)
    return started, int(stored["metadata"]["resourceVersion"])


def _delete(client: Any, kind: str, name: str) -> int:
    cls = agents._CLASSES[kind]
    client.delete(cls, name, namespace="bench")
    items = client.list(cls, namespace="*")
    list(items)
    return int(items.resourceVersion)


def _dropped(netns: str, address: str, port: int) -> bool:
    """Whether one connection attempt gets no answer within half a second."""
    with in_netns(netns):
        sock = socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET)
    sock.settimeout(0.5)
    try:
        sock.connect((address, port))
    except TimeoutError:
        return True
    finally:
        sock.close()
    return False


@contextlib.contextmanager
def lab() -> Iterator[tuple[LabPlan, Any]]:
    raws = [RawObject(d, Origin("bench", i)) for i, d in enumerate(yaml.safe_load_all(LAB))]
    lifecycle.down(NAME)
    made = lifecycle.up(raws, NAME, nodes=2, agent=True)
    try:
        yield made.plan, made
    finally:
        lifecycle.down(NAME)


def _summary(values: Sequence[float]) -> dict[str, float]:
    ordered = sorted(values)
    q = statistics.quantiles(ordered, n=100, method="inclusive") if len(ordered) > 1 \
        else [ordered[0]] * 99
    return {"n": len(ordered), "p50_ms": round(q[49] * 1000, 1),
            "p90_ms": round(q[89] * 1000, 1), "p99_ms": round(q[98] * 1000, 1),
            "max_ms": round(ordered[-1] * 1000, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--changes", type=int, default=100)
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        raise SystemExit("needs root (the lab)")
    times: dict[str, list[float]] = {"policy update": [], "pod creation": []}
    with lab() as (plan, _made):
        names = LabNames(NAME)
        client_api = agents.LabApi(names).client()
        state = lab_state.load(NAME)
        nodes = [n.netns for n in state.nodes]
        pods = {p.key: p for p in state.pods}
        servers = [pods[k] for k in sorted(pods) if "/server-" in k]
        clients = [pods[k] for k in sorted(pods) if "/client-" in k]
        next_index = max(int(p.netns.rsplit("-p", 1)[1]) for p in state.pods) + 1
        used = {ip for p in state.pods for ip in p.ips}
        for change in range(args.changes):
            # Servers alternate between the nodes; so do the sources.
            server = servers[change % len(servers)]
            if change % 2 == 0:
                client = clients[(change // 2) % len(clients)]
                assert _dropped(client.netns, server.ips[0], 80), "not denied before"
                written, _ = _write(client_api, _policy(True))
                took = first_through(client.netns, server.ips[0], 80, written)
                times["policy update"].append(took)
                undo = {"NetworkPolicy": _write(client_api, _policy(False))[1]}
            else:
                node = plan.nodes[(change // 2) % 2]
                block = ipaddress.ip_network(node.pod_cidr)
                address = next(str(block[k]) for k in range(1000, block.num_addresses)
                               if str(block[k]) not in used)
                used.add(address)
                name = f"fresh-{change}"
                pod = LabPod(f"bench/{name}", next_index, node.index, names.pod_netns(
                    next_index), (address,), (), (), b"", name)
                next_index += 1
                network.add_pods(plan, [pod])  # the network plugin's part first
                model = Pod(ObjectMeta(name, "bench", (("role", "admitted"),)),
                            PodSpec(containers=(Container("c", (ContainerPort(80),)),),
                                    node_name=node.name), ips=(address,))
                assert _dropped(pod.netns, server.ips[0], 80), "not denied before"
                written, _ = _write(client_api, pod_manifest(model, node))
                took = first_through(pod.netns, server.ips[0], 80, written)
                times["pod creation"].append(took)
                undo = {"Pod": _delete(client_api, "Pod", name)}
                network.remove_pods(plan, [pod])
            agents.converged(nodes, undo)
        client_api.close()
        histograms = []
        for netns in nodes:
            _, text = agents.agent_get(netns, "/metrics")
            histograms.append([line for line in text.splitlines()
                               if line.startswith("stockade_agent_event_to_kernel_seconds_")
                               and ('kind="Pod"' in line or 'kind="NetworkPolicy"' in line)
                               and ("_sum" in line or "_count" in line)])
    result: dict[str, Any] = {kind: _summary(v) for kind, v in times.items() if v}
    result["all"] = _summary([v for values in times.values() for v in values])
    result["agents_event_to_kernel"] = histograms
    json.dump(result, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
