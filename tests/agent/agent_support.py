"""One node of a cluster on this machine, for the agent's tests: a node namespace routing
its pods (each a /32 behind its own veth, as the ptp plugin and Calico do; or on a bridge,
as flannel and the bridge plugin do), a namespace holding the addresses of pods on other
nodes (reached through the node, as over the network), the API server double listening on
the node's loopback (a double: no real API server can run here), and the real
``stockade agent`` process running inside the node's namespace."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stockade.engine import Engine
from stockade.lab.agents import agent_get
from stockade.lab.apiserver import ApiServerDouble
from stockade.lab.probe import REACHABLE, Probe, Target, probe_all
from stockade.lab.system import ip_batch, set_sysctls
from stockade.model.build import RawObject, build_cluster
from stockade.model.types import Origin, Protocol

GATEWAY = "169.254.1.1"
NODE_MAC = "ee:ee:ee:ee:ee:ee"
UPLINK_NEAR, UPLINK_FAR = "192.168.77.1", "192.168.77.2"
NODE_IP = "172.31.0.1"  # the node's InternalIP (on its loopback)
METRICS_PORT = 19753
NODE = "n1"


def pod_manifest(name: str, ip: str, *, node: str = NODE, namespace: str = "default",
                 labels: dict[str, str] | None = None,
                 ports: Sequence[int] = (80,)) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "labels": labels or {}},
            "spec": {"nodeName": node, "containers": [{"name": "c", "image": "x", "ports": [
                {"containerPort": p} for p in ports]}]},
            "status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}],
                       "hostIP": NODE_IP if node == NODE else "172.31.0.2"}}


def policy_manifest(name: str, spec: dict[str, Any],
                    namespace: str = "default") -> dict[str, Any]:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def namespace_manifest(name: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": name, "labels": labels or {}}}


@dataclass
class NodeNet:
    """The namespaces of one node, its local pods and the remote pods' addresses."""

    tag: str
    local: dict[str, str]  # pod name -> address, pods on this node
    remote: dict[str, str]  # pod name -> address, pods on other nodes
    bridged: bool = False
    made: list[str] = field(default_factory=list)

    @property
    def node(self) -> str:
        return f"stk-{self.tag}-n"

    @property
    def outside(self) -> str:
        return f"stk-{self.tag}-r"

    def pod_netns(self, name: str) -> str:
        return f"stk-{self.tag}-{name}"

    def build(self) -> None:
        names = [self.node, self.outside, *(self.pod_netns(n) for n in self.local)]
        for ns in names:
            subprocess.run(["ip", "netns", "add", ns], check=True)
            self.made.append(ns)
        set_sysctls(self.node, {"net.ipv4.ip_forward": "1",
                                "net.netfilter.nf_conntrack_tcp_timeout_close": "1"})
        node = ["link set lo up", f"addr add {NODE_IP}/32 dev lo"]
        if self.bridged:
            node += ["link add br0 type bridge", "addr add 10.244.1.1/24 dev br0",
                     "link set br0 up"]
        for i, name in enumerate(self.local):
            node.append(f"link add v{i} type veth peer name eth0 netns {self.pod_netns(name)}")
        node += [f"link add up0 type veth peer name eth0 netns {self.outside}",
                 f"addr add {UPLINK_NEAR}/30 dev up0", "link set up0 up"]
        node += [f"route add {ip}/32 via {UPLINK_FAR}" for ip in self.remote.values()]
        ip_batch(node, netns=self.node)
        routes = []
        for i, (name, ip) in enumerate(self.local.items()):
            if self.bridged:
                routes.append(f"link set v{i} master br0 up")
                pod = ["link set lo up", "link set eth0 up", f"addr add {ip}/24 dev eth0",
                       "route add default via 10.244.1.1"]
            else:
                routes += [f"link set v{i} address {NODE_MAC}", f"link set v{i} up",
                           f"route add {ip}/32 dev v{i}"]
                pod = ["link set lo up", "link set eth0 up", f"addr add {ip}/32 dev eth0",
                       f"neigh add {GATEWAY} lladdr {NODE_MAC} dev eth0 nud permanent",
                       f"route add default via {GATEWAY} dev eth0 onlink"]
            ip_batch(pod, netns=self.pod_netns(name))
        ip_batch(routes, netns=self.node)
        outside = ["link set lo up", "link set eth0 up", f"addr add {UPLINK_FAR}/30 dev eth0",
                   f"route add 10.0.0.0/8 via {UPLINK_NEAR}"]
        outside += [f"addr add {ip}/32 dev lo" for ip in self.remote.values()]
        ip_batch(outside, netns=self.outside)

    def remove(self) -> None:
        for ns in self.made:
            subprocess.run(["ip", "netns", "del", ns], check=False, capture_output=True)

    def targets(self) -> dict[str, Target]:
        found = {n: Target(n, self.pod_netns(n), (ip,)) for n, ip in self.local.items()}
        found.update({n: Target(n, self.outside, (ip,), bind=True)
                      for n, ip in self.remote.items()})
        return found

    def add_pod(self, name: str, ip: str) -> None:
        """A new pod on this node (its namespace and link), as the CNI plugin makes one."""
        index = len(self.local)
        ns = self.pod_netns(name)
        subprocess.run(["ip", "netns", "add", ns], check=True)
        self.made.append(ns)
        self.local[name] = ip
        ip_batch([f"link add v{index} type veth peer name eth0 netns {ns}",
                  f"link set v{index} address {NODE_MAC}", f"link set v{index} up",
                  f"route add {ip}/32 dev v{index}"], netns=self.node)
        ip_batch(["link set lo up", "link set eth0 up", f"addr add {ip}/32 dev eth0",
                  f"neigh add {GATEWAY} lladdr {NODE_MAC} dev eth0 nud permanent",
                  f"route add default via {GATEWAY} dev eth0 onlink"], netns=ns)


@contextlib.contextmanager
def node_net(tag: str, local: dict[str, str], remote: dict[str, str],
             *, bridged: bool = False) -> Iterator[NodeNet]:
    net = NodeNet(f"{tag}{os.getpid() % 10000}", dict(local), dict(remote), bridged)
    try:
        net.build()
        yield net
    finally:
        net.remove()


@dataclass
class AgentProcess:
    proc: subprocess.Popen[bytes]
    log: Path
    netns: str

    def lines(self) -> list[dict[str, Any]]:
        out = []
        for line in self.log.read_text(errors="replace").splitlines():
            with contextlib.suppress(ValueError):
                out.append(json.loads(line))
        return out

    def get(self, path: str) -> tuple[int, str]:
        """GET an endpoint of the agent (inside its namespace)."""
        return agent_get(self.netns, path, port=METRICS_PORT)

    def ready(self) -> bool:
        with contextlib.suppress(OSError):
            return self.get("/readyz")[0] == 200
        return False

    def metric(self, name: str, labels: str = "") -> float:
        _, text = self.get("/metrics")
        for line in text.splitlines():
            if line.startswith(name + (f"{{{labels}}}" if labels else "") + " ") or (
                    not labels and line.startswith(name + " ")):
                return float(line.split()[-1])
        return 0.0

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.proc.wait(timeout=30)


def start_agent(netns: str, kubeconfig: Path, log: Path, *extra: str,
                table: str = "stk_agent") -> AgentProcess:
    argv = ["ip", "netns", "exec", netns, sys.executable, "-m", "stockade", "agent",
            "--node", NODE, "--kubeconfig", str(kubeconfig), "--table", table,
            "--metrics-address", f"127.0.0.1:{METRICS_PORT}", "--log-format", "json", *extra]
    with log.open("ab") as handle:
        proc = subprocess.Popen(argv, stdout=handle, stderr=handle, stdin=subprocess.DEVNULL)
    return AgentProcess(proc, log, netns)


def write_kubeconfig(double: ApiServerDouble, path: Path, user: str = "agent") -> Path:
    path.write_text(json.dumps(double.kubeconfig(user)))
    return path


def engine_of(double: ApiServerDouble) -> Engine:
    """The engine over what the double holds now."""
    raws = []
    for plural, objects in double.store.objects.items():
        del plural
        raws += [RawObject(dict(o), Origin("api")) for o in objects.values()]
    result = build_cluster(raws)
    assert not result.findings, result.findings
    return Engine(result.cluster)


def probe(net: NodeNet, pairs: Sequence[tuple[str, str]], port: int = 80,
          timeout: float = 1.0) -> dict[tuple[str, str], str]:
    targets = net.targets()
    chosen = [(targets[a], targets[b]) for a, b in pairs]
    involved = list({t.key: t for pair in chosen for t in pair}.values())
    found: list[Probe] = probe_all(involved, [(port, "TCP")], pairs=chosen, timeout=timeout)
    return {(p.src, p.dst): p.outcome for p in found}


def disagreements(net: NodeNet, double: ApiServerDouble, port: int = 80,
                  timeout: float = 1.0) -> list[str]:
    """Every pair (a local pod at one end) whose packets disagree with the engine."""
    engine = engine_of(double)
    names = list(net.targets())
    pairs = [(a, b) for a in names for b in names
             if a != b and (a in net.local or b in net.local)]
    outcomes = probe(net, pairs, port, timeout)
    wrong = []
    for (a, b), outcome in outcomes.items():
        allowed = engine.allowed(f"default/{a}", f"default/{b}", Protocol.TCP, port)
        if allowed != (outcome == REACHABLE):
            wrong.append(f"{a} -> {b}: packets {outcome}, engine "
                         f"{'allowed' if allowed else 'denied'}")
    return wrong


def tables(netns: str) -> list[str]:
    done = subprocess.run(["ip", "netns", "exec", netns, "nft", "list", "tables"],
                          capture_output=True, text=True, check=True)
    return [line.strip() for line in done.stdout.splitlines() if line.strip()]


def ruleset(netns: str, table: str = "stk_agent") -> str:
    done = subprocess.run(["ip", "netns", "exec", netns, "nft", "list", "table", "inet", table],
                          capture_output=True, text=True, check=False)
    return done.stdout
