"""What a lab will build, decided before anything is built: its nodes, which pods get a
namespace on which node, their addresses (from the manifest, or allocated from the lab's
pod CIDR), the ports to listen on and the containers it could run. Pure.

The cluster handed back carries the allocated addresses, so the engine that judges the
probes sees exactly the addresses the packets carry.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass

from stockade.engine import Engine
from stockade.engine.nodes import parse_addresses
from stockade.errors import InputError
from stockade.hosts import render_hosts_file
from stockade.hosts.containers import gets_managed_hosts_file
from stockade.hosts.hostname import kernel_hostname, pod_hostname_and_domain
from stockade.lab.containers import LabContainer, containers_of
from stockade.lab.names import DEFAULT_POD_CIDR, LabNames
from stockade.model.netparse import IPAddress, effective_address, parse_ip
from stockade.model.types import Cluster, Pod

NODE_IPV4 = "169.254.77.1"
NODE_IPV6 = "fd00:57ad:e::1"
# Every pod's default gateway, answered by the node side of its link (the ptp/Calico way):
# a link-local address no pod has, resolved by a permanent neighbour entry.
GATEWAY_IPV4 = "169.254.1.1"
GATEWAY_IPV6 = "fe80::1"
NODE_MAC = "ee:ee:ee:ee:ee:ee"  # the node side of every pod link
ADDRESSES_MAC = "02:5b:00:00:00:00"  # the addresses namespace's side of its link


def pod_mac(index: int) -> str:
    """A locally administered unicast address, unique per pod of a lab."""
    return "02:5a:" + ":".join(f"{b:02x}" for b in index.to_bytes(4, "big"))


@dataclass(frozen=True, slots=True)
class LabPod:
    key: str
    index: int
    node: int
    netns: str
    ips: tuple[str, ...]
    ports: tuple[tuple[int, str], ...]  # (number, "TCP"|"UDP"|"SCTP") declared
    containers: tuple[LabContainer, ...]
    hosts: bytes  # the kubelet's /etc/hosts for this pod
    hostname: str  # the UTS nodename the kubelet gives it

    @property
    def mac(self) -> str:
        return pod_mac(self.index)


@dataclass(frozen=True, slots=True)
class LabNode:
    """A node namespace: it routes its pods' /32 (/128) addresses and holds the ruleset."""

    index: int
    netns: str
    ips: tuple[str, ...]
    pods: tuple[int, ...]  # indexes into the plan's pods


@dataclass(frozen=True, slots=True)
class LabPlan:
    names: LabNames
    cluster: Cluster  # with the allocated addresses
    pods: tuple[LabPod, ...]
    nodes: tuple[LabNode, ...]
    skipped: tuple[str, ...]  # pods the lab does not run, with why
    allocated: dict[str, tuple[str, ...]]


def _addresses(pod: Pod) -> list[str]:
    found = []
    for text in pod.ips:
        ip = parse_ip(text)
        if ip is None:
            raise InputError(f'{pod.origin}: Pod {pod.key}: pod IP "{text}" is not an IP')
        ip = effective_address(ip)
        if (ip.is_loopback or ip.is_multicast or ip.is_link_local or ip.is_unspecified
                or str(ip) in (NODE_IPV4, NODE_IPV6)):
            raise InputError(f'{pod.origin}: Pod {pod.key}: pod IP "{text}" cannot be a pod\'s '
                             "address in the lab (loopback, multicast, link-local, unspecified "
                             "or the lab node's own address)")
        found.append(str(ip))
    return found


_RESERVED = [ipaddress.ip_network(n) for n in (
    "0.0.0.0/8", "127.0.0.0/8", "169.254.0.0/16", "224.0.0.0/4", "255.255.255.255/32",
    "::/128", "::1/128", "fe80::/10", "ff00::/8")]


def input_node_addresses(engine: Engine, plan: LabPlan) -> tuple[tuple[str, ...],
                                                                  tuple[str, ...]]:
    """The addresses the input gives the nodes of the lab's pods, and every Node object's
    InternalIP and ExternalIP, that the lab can hold; and why it cannot hold the others.

    An address that is also a pod's is that pod's, as the engine and ``compile`` decide."""
    keys = {p.key for p in plan.pods}
    found: list[IPAddress] = []
    for index, pod in enumerate(engine.pods):
        if pod.key in keys:
            found += sorted(engine.nodes.own(index), key=lambda a: (a.version, int(a)))
    for node in plan.cluster.nodes:
        found += parse_addresses(node.ips)
    pod_ips = {ip for p in plan.pods for ip in p.ips}
    held: list[str] = []
    notes: list[str] = []
    for addr in dict.fromkeys(found):
        text = str(addr)
        if text in pod_ips or text in held:
            continue
        if (addr.is_loopback or addr.is_link_local or addr.is_multicast or addr.is_unspecified
                or text in (NODE_IPV4, NODE_IPV6)):
            notes.append(f"node address {text}: the lab cannot hold a loopback, link-local, "
                         "multicast or unspecified address (or its own node's); traffic to "
                         "and from it is not probed")
            continue
        held.append(text)
    return tuple(held), tuple(notes)


def check_pod_cidr(text: str) -> str:
    """The lab's pod CIDR, or ``ValueError`` saying why it cannot be one."""
    try:
        network = ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        raise ValueError(f'"{text}" is not a CIDR such as {DEFAULT_POD_CIDR} or '
                         "fd00:244::/64") from None
    if "/" not in text:
        raise ValueError(f'"{text}" has no prefix length (such as /16)')
    if network.prefixlen == 0:
        raise ValueError(f'"{text}" is the whole address space')
    reserved = [n for n in _RESERVED if n.version == network.version and n.overlaps(network)]
    if reserved:
        raise ValueError(f'"{text}" overlaps {reserved[0]} (unspecified, loopback, link-local '
                         "or multicast space), where the lab cannot place pods")
    if network.num_addresses < 4:
        raise ValueError(f'"{text}" has no room for pods (use a prefix of /30 or shorter)')
    return str(network)


def _free(cidr: str, used: set[str]) -> Iterator[str]:
    network = ipaddress.ip_network(cidr, strict=False)
    for host in network.hosts():
        if str(host) not in used and int(host) - int(network.network_address) > 1:
            yield str(host)


def allocate(cluster: Cluster, pod_cidr: str = DEFAULT_POD_CIDR,
             fixed: dict[str, tuple[str, ...]] | None = None) -> tuple[Cluster, dict[str,
                                                                                  tuple[str, ...]]]:
    """Give each pod-network pod without an IP one from ``pod_cidr`` (or from ``fixed``,
    the allocation of an earlier run, so ``lab apply`` sees the same addresses)."""
    used = {ip for pod in cluster.pods for ip in _addresses(pod)} | {NODE_IPV4, NODE_IPV6}
    fresh = _free(pod_cidr, used)
    allocated: dict[str, tuple[str, ...]] = {}
    pods = []
    for pod in cluster.pods:
        if not pod.ips and not pod.host_network:
            ips = (fixed or {}).get(pod.key)
            if ips is None:
                try:
                    ips = (next(fresh),)
                except StopIteration:
                    raise InputError(f"lab pod CIDR {pod_cidr} has no address left for "
                                     f"{pod.key}") from None
            allocated[pod.key] = ips
            pods.append(dataclasses.replace(pod, ips=ips))
        else:
            pods.append(pod)
    return dataclasses.replace(cluster, pods=tuple(pods)), allocated


def make_plan(cluster: Cluster, names: LabNames, *, pod_cidr: str = DEFAULT_POD_CIDR,
              fixed: dict[str, tuple[str, ...]] | None = None) -> LabPlan:
    lab_cluster, allocated = allocate(cluster, pod_cidr, fixed)
    pods: list[LabPod] = []
    skipped: list[str] = []
    owners: dict[str, str] = {}
    for pod in lab_cluster.pods:
        if pod.host_network:
            skipped.append(f"{pod.key}: hostNetwork pods are node traffic; the lab does not "
                           "run them")
            continue
        ips = tuple(_addresses(pod))
        for ip in ips:
            if ip in owners:
                raise InputError(f"{pod.origin}: Pod {pod.key}: pod IP {ip} is also the IP of "
                                 f"{owners[ip]}; a lab cannot give two pods one address")
            owners[ip] = pod.key
        index = len(pods)
        ports = tuple(sorted({(p.container_port, p.protocol) for p in pod.container_ports()}))
        hostname = kernel_hostname(pod, pod_hostname_and_domain(pod))
        hosts_for = {c.name for c in pod.spec.init_containers + pod.spec.containers
                     if gets_managed_hosts_file(pod, c, ips)}
        pods.append(LabPod(pod.key, index, 0, names.pod_netns(index), ips, ports,
                           containers_of(pod, ips, hosts_for), render_hosts_file(pod, ips),
                           hostname))
    node = LabNode(0, names.node_netns(0), (NODE_IPV4, NODE_IPV6),
                   tuple(p.index for p in pods))
    return LabPlan(names, lab_cluster, tuple(pods), (node,), tuple(skipped), allocated)
