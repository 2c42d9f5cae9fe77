"""The lab's pod network, built the way routed CNI plugins (ptp, Calico) build a node's:
each pod a /32 (and /128) behind its own veth, routed by its node, with no bridge.

Every pod sends everything to one link-local gateway (169.254.1.1, fe80::1) that the
node's side of its veth answers; the node routes each pod address to that pod's veth.
Both neighbour entries are written as permanent at build time, so no neighbour is ever
resolved: the kernel's neighbour table (shared by every namespace of the host, 1,024
entries by default) holds a fixed two entries per pod and family, exempt from its limit,
whatever the traffic. Cost is linear in pods.

Per-namespace settings of the lab's own namespaces only: forwarding on its nodes, a short
conntrack timeout for closed TCP connections on its nodes (probes end with a reset; the
default ten seconds would keep a large lab's probes in the table), IPv6 off on links of
pods without an IPv6 address. A node owns its pods' links and routes, so more nodes can
be added later, each with its own pods, routed to each other.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from stockade.errors import EnvironmentProblem
from stockade.lab.names import ADDRESSES_VETH, UNDERLAY_VETH, LabNames
from stockade.lab.plan import (
    ADDRESSES_MAC,
    GATEWAY_IPV4,
    GATEWAY_IPV6,
    NODE_MAC,
    LabNode,
    LabPlan,
    LabPod,
)
from stockade.lab.system import ip_batch, set_sysctls

NODE_SYSCTLS = {
    "net.ipv4.ip_forward": "1",
    "net.ipv6.conf.all.forwarding": "1",
    "net.ipv6.conf.default.disable_ipv6": "1",  # enabled per link for IPv6 pods
    "net.netfilter.nf_conntrack_tcp_timeout_close": "1",
}
POD_SYSCTLS = {"net.ipv6.conf.default.disable_ipv6": "1"}
CONFIGURE_WORKERS = 8


def _has_v6(pod: LabPod) -> bool:
    return any(":" in ip for ip in pod.ips)


def _host_prefix(ip: str) -> str:
    return f"{ip}/128" if ":" in ip else f"{ip}/32"


def node_link_commands(node: LabNode, pods: Sequence[LabPod]) -> list[str]:
    """Create the node's loopback addresses and one veth per pod (down, not yet routed)."""
    cmds = ["link set lo up"]
    cmds += [f"addr add {_host_prefix(ip)} dev lo" for ip in node.ips]
    for pod in pods:
        veth = LabNames.node_veth(pod.index)
        cmds.append(f"link add {veth} address {NODE_MAC} type veth peer name eth0 "
                    f"address {pod.mac} netns {pod.netns}")
    return cmds


def node_route_commands(pods: Sequence[LabPod]) -> list[str]:
    cmds = []
    for pod in pods:
        veth = LabNames.node_veth(pod.index)
        cmds += [f"link set {veth} addrgenmode none", f"link set {veth} up"]
        for ip in pod.ips:
            cmds += [f"route add {_host_prefix(ip)} dev {veth}",
                     f"neigh add {ip} lladdr {pod.mac} dev {veth} nud permanent"]
    return cmds


def pod_commands(pod: LabPod) -> list[str]:
    return leaf_commands(pod.ips)


def leaf_commands(ips: Sequence[str]) -> list[str]:
    """A namespace behind one veth to its node (a pod's, or the node addresses'): its
    addresses on ``eth0``, everything else via the node's gateway."""
    cmds = ["link set lo up", "link set eth0 addrgenmode none", "link set eth0 up"]
    v4 = [ip for ip in ips if ":" not in ip]
    v6 = [ip for ip in ips if ":" in ip]
    cmds += [f"addr add {ip}/32 dev eth0" for ip in v4]
    cmds += [f"addr add {ip}/128 dev eth0 nodad" for ip in v6]
    if v4:
        cmds += [f"neigh add {GATEWAY_IPV4} lladdr {NODE_MAC} dev eth0 nud permanent",
                 f"route add default via {GATEWAY_IPV4} dev eth0 onlink"]
    if v6:
        cmds += [f"neigh add {GATEWAY_IPV6} lladdr {NODE_MAC} dev eth0 nud permanent",
                 f"route add default via {GATEWAY_IPV6} dev eth0 onlink"]
    return cmds


def _configure_pod(pod: LabPod) -> str:
    """Run the pod's commands in its namespace; "" when they worked, else why not."""
    done = subprocess.run(["ip", "-n", pod.netns, "-batch", "-"], capture_output=True,
                          text=True, input="\n".join(pod_commands(pod)) + "\n", check=False)
    return "" if done.returncode == 0 else f"{pod.key} ({pod.netns}): {done.stderr.strip()}"


def _build_addresses(node: LabNode, netns: str, addresses: Sequence[str]) -> None:
    """The namespace that holds the addresses the input gives its nodes, behind one veth
    of the node: what the pods send them, and what they send the pods, crosses the node's
    ruleset, as on a node where those addresses are not local (``compile`` accepts a pod's
    own node's addresses there, and judges the others by the policies)."""
    ip_batch([f"netns add {netns}"])
    set_sysctls(netns, POD_SYSCTLS)
    ip_batch([f"link add {ADDRESSES_VETH} address {NODE_MAC} type veth peer name eth0 "
              f"address {ADDRESSES_MAC} netns {netns}"], netns=node.netns)
    if any(":" in a for a in addresses):
        set_sysctls(node.netns, {f"net.ipv6.conf.{ADDRESSES_VETH}.disable_ipv6": "0"})
        set_sysctls(netns, {"net.ipv6.conf.eth0.disable_ipv6": "0"})
    cmds = [f"link set {ADDRESSES_VETH} addrgenmode none", f"link set {ADDRESSES_VETH} up"]
    for ip in addresses:
        cmds += [f"route add {_host_prefix(ip)} dev {ADDRESSES_VETH}",
                 f"neigh add {ip} lladdr {ADDRESSES_MAC} dev {ADDRESSES_VETH} nud permanent"]
    ip_batch(cmds, netns=node.netns)
    ip_batch(leaf_commands(addresses), netns=netns)


def underlay_ipv4(node: int) -> str:
    return f"169.254.78.{node + 1}"


def underlay_ipv6(node: int) -> str:
    return f"fe80::5c:{node + 1:x}"


def underlay_mac(node: int) -> str:
    return f"02:5c:00:00:00:{node + 1:02x}"


def _cross_routes(plan: LabPlan, node: LabNode, pods: Sequence[LabPod]) -> list[str]:
    """On ``node``, a route to each of ``pods`` (on other nodes) through the underlay."""
    cmds = []
    for pod in pods:
        if pod.node == node.index:
            continue
        for ip in pod.ips:
            via = underlay_ipv6(pod.node) if ":" in ip else underlay_ipv4(pod.node)
            cmds.append(f"route replace {_host_prefix(ip)} via {via} dev {UNDERLAY_VETH}")
    return cmds


def _build_underlay(plan: LabPlan) -> None:
    """The nodes on one bridge (in a namespace of its own), each routing the other nodes'
    pods and addresses to the node that has them: a routed cluster network, every neighbour
    entry permanent."""
    underlay = plan.names.underlay_netns
    ip_batch([f"netns add {underlay}"])
    set_sysctls(underlay, POD_SYSCTLS)
    bridge = ["link set lo up", "link add br0 type bridge", "link set br0 up"]
    for node in plan.nodes:
        bridge.append(f"link add n{node.index} type veth peer name {UNDERLAY_VETH} "
                      f"address {underlay_mac(node.index)} netns {node.netns}")
    bridge += [f"link set n{n.index} master br0 up" for n in plan.nodes]
    ip_batch(bridge, netns=underlay)
    for node in plan.nodes:
        set_sysctls(node.netns, {f"net.ipv6.conf.{UNDERLAY_VETH}.disable_ipv6": "0"})
        cmds = [f"link set {UNDERLAY_VETH} addrgenmode none", f"link set {UNDERLAY_VETH} up",
                f"addr add {underlay_ipv4(node.index)}/24 dev {UNDERLAY_VETH}",
                f"addr add {underlay_ipv6(node.index)}/64 dev {UNDERLAY_VETH} nodad"]
        for other in plan.nodes:
            if other.index != node.index:
                mac = underlay_mac(other.index)
                cmds += [f"neigh add {underlay_ipv4(other.index)} lladdr {mac} dev "
                         f"{UNDERLAY_VETH} nud permanent",
                         f"neigh add {underlay_ipv6(other.index)} lladdr {mac} dev "
                         f"{UNDERLAY_VETH} nud permanent"]
                # The other node's own addresses, as a cluster routes its nodes' IPs.
                for ip in other.ips:
                    via = underlay_ipv6(other.index) if ":" in ip else underlay_ipv4(other.index)
                    cmds.append(f"route replace {_host_prefix(ip)} via {via} "
                                f"dev {UNDERLAY_VETH}")
        cmds += _cross_routes(plan, node, plan.pods)
        ip_batch(cmds, netns=node.netns)


def build(plan: LabPlan, addresses: Sequence[str] = ()) -> None:
    """Create every namespace, link, address, route and neighbour entry of ``plan``, and
    the addresses namespace when the input gives its nodes ``addresses``."""
    ip_batch([*(f"netns add {n.netns}" for n in plan.nodes),
              *(f"netns add {p.netns}" for p in plan.pods)])
    for pod in plan.pods:
        set_sysctls(pod.netns, POD_SYSCTLS)
    for node in plan.nodes:
        pods = [plan.pods[i] for i in node.pods]
        set_sysctls(node.netns, NODE_SYSCTLS)
        ip_batch(node_link_commands(node, pods), netns=node.netns)
        v6_links = [LabNames.node_veth(p.index) for p in pods if _has_v6(p)]
        set_sysctls(node.netns, {f"net.ipv6.conf.{link}.disable_ipv6": "0"
                                 for link in v6_links})
        for pod in pods:
            if _has_v6(pod):
                set_sysctls(pod.netns, {"net.ipv6.conf.eth0.disable_ipv6": "0"})
        ip_batch(node_route_commands(pods), netns=node.netns)
    with ThreadPoolExecutor(CONFIGURE_WORKERS) as pool:
        failures = [f for f in pool.map(_configure_pod, plan.pods) if f]
    if failures:
        raise EnvironmentProblem("configuring pod namespaces failed: " + "; ".join(failures))
    if len(plan.nodes) > 1:
        _build_underlay(plan)
    if addresses:
        _build_addresses(plan.nodes[0], plan.names.addresses_netns, addresses)


def add_pods(plan: LabPlan, pods: Sequence[LabPod]) -> None:
    """Bring ``pods`` (of ``plan``) up in a running lab: their namespaces and links on their
    nodes, and a route to each on every other node."""
    if not pods:
        return
    ip_batch([f"netns add {p.netns}" for p in pods])
    for pod in pods:
        set_sysctls(pod.netns, POD_SYSCTLS)
    for node in plan.nodes:
        mine = [p for p in pods if p.node == node.index]
        if mine:
            ip_batch([c for c in node_link_commands(node, mine) if c.startswith("link add")],
                     netns=node.netns)
            v6 = [LabNames.node_veth(p.index) for p in mine if _has_v6(p)]
            set_sysctls(node.netns, {f"net.ipv6.conf.{link}.disable_ipv6": "0" for link in v6})
            for pod in mine:
                if _has_v6(pod):
                    set_sysctls(pod.netns, {"net.ipv6.conf.eth0.disable_ipv6": "0"})
            ip_batch(node_route_commands(mine), netns=node.netns)
        if len(plan.nodes) > 1:
            ip_batch(_cross_routes(plan, node, pods), netns=node.netns)
    failures = [f for f in map(_configure_pod, pods) if f]
    if failures:
        raise EnvironmentProblem("configuring pod namespaces failed: " + "; ".join(failures))


def remove_pods(plan: LabPlan, pods: Sequence[LabPod]) -> None:
    """Take ``pods`` down: the routes other nodes keep to them, then their namespaces (which
    takes their links and their node's route with them)."""
    if not pods:
        return
    for node in plan.nodes:
        commands = [f"link del {LabNames.node_veth(p.index)}" for p in pods
                    if p.node == node.index]  # now: a namespace goes in the background
        if len(plan.nodes) > 1:
            commands += [c.replace("route replace", "route del", 1).split(" via ")[0]
                         for c in _cross_routes(plan, node, pods)]
        ip_batch(commands, netns=node.netns)
    ip_batch([f"netns del {p.netns}" for p in pods])
