"""What a lab will build, decided before anything is built: its nodes, which pods get a
namespace on which node, their addresses (from the manifest, or allocated from the lab's
pod CIDR), the ports to listen on and the containers it could run. Pure.

The cluster handed back carries the allocated addresses, so the engine that judges the
probes sees exactly the addresses the packets carry.
"""

from __future__ import annotations

import ipaddress
import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from msgspec.structs import replace

from stockade.engine import Engine
from stockade.engine.nodes import parse_addresses
from stockade.errors import InputError
from stockade.hosts import render_hosts_file
from stockade.hosts.containers import gets_managed_hosts_file
from stockade.hosts.hostname import kernel_hostname, pod_hostname_and_domain
from stockade.lab.containers import LabContainer, containers_of
from stockade.lab.names import DEFAULT_POD_CIDR, LabNames
from stockade.model.netparse import IPAddress, effective_address, parse_ip
from stockade.model.types import Cluster, OwnerReference, Pod
from stockade.model.workloads import choose_endpoints

NODE_IPV4 = "169.254.77.1"  # node 0's; node K's is 169.254.77.(K+1)
NODE_IPV6 = "fd00:57ad:e::1"  # node 0's; node K's is fd00:57ad:e::(K+1)
MAX_NODES = 64
# Every pod's default gateway, answered by the node side of its link (the ptp/Calico way):
# a link-local address no pod has, resolved by a permanent neighbour entry.
GATEWAY_IPV4 = "169.254.1.1"
GATEWAY_IPV6 = "fe80::1"
NODE_MAC = "ee:ee:ee:ee:ee:ee"  # the node side of every pod link
ADDRESSES_MAC = "02:5b:00:00:00:00"  # the addresses namespace's side of its link


def node_ips(index: int) -> tuple[str, str]:
    """Node ``index``'s own addresses (on its loopback)."""
    v4 = ipaddress.ip_address(NODE_IPV4) + index
    v6 = ipaddress.ip_address(NODE_IPV6) + index
    return str(v4), str(v6)


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
    name: str = "node-0"  # as pods name it in spec.nodeName
    pod_cidr: str = ""  # where its pods without an address get one


@dataclass(frozen=True, slots=True)
class LabPlan:
    names: LabNames
    cluster: Cluster  # with the allocated addresses
    pods: tuple[LabPod, ...]
    nodes: tuple[LabNode, ...]
    skipped: tuple[str, ...]  # pods the lab does not run, with why
    allocated: dict[str, tuple[str, ...]]


_OWN_ADDRESSES = {ip for k in range(MAX_NODES) for ip in node_ips(k)}


def _addresses(pod: Pod) -> list[str]:
    found = []
    for text in pod.ips:
        ip = parse_ip(text)
        if ip is None:
            raise InputError(f'{pod.origin}: Pod {pod.key}: pod IP "{text}" is not an IP')
        ip = effective_address(ip)
        if (ip.is_loopback or ip.is_multicast or ip.is_link_local or ip.is_unspecified
                or str(ip) in _OWN_ADDRESSES):
            raise InputError(f'{pod.origin}: Pod {pod.key}: pod IP "{text}" cannot be a pod\'s '
                             "address in the lab (loopback, multicast, link-local, unspecified "
                             "or a lab node's own address)")
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
                or text in _OWN_ADDRESSES):
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


def node_cidrs(pod_cidr: str, nodes: int) -> list[str]:
    """The pod CIDR cut into one block per node (the whole of it for one node), as a
    cluster's controller manager gives each node its spec.podCIDR."""
    network = ipaddress.ip_network(pod_cidr, strict=False)
    bits = max(0, (nodes - 1).bit_length())
    if network.prefixlen + bits > network.max_prefixlen - 2:
        raise InputError(f"lab pod CIDR {pod_cidr} is too small for {nodes} nodes")
    return [str(n) for n in itertools.islice(network.subnets(prefixlen_diff=bits), nodes)]


def node_names(cluster: Cluster, nodes: int) -> list[str]:
    """The lab's nodes, named as the pods name them (in order of first mention), then
    ``node-K`` for the others."""
    named = list(dict.fromkeys(p.spec.node_name for p in cluster.pods
                               if p.spec.node_name and not p.host_network))
    if len(named) > nodes:
        raise InputError(f"the pods name {len(named)} nodes ({', '.join(named[:8])}"
                         f"{', ...' if len(named) > 8 else ''}) but the lab has {nodes}; "
                         f"use --nodes {len(named)} or more")
    names = list(named)
    k = 0
    while len(names) < nodes:
        if f"node-{k}" not in names:
            names.append(f"node-{k}")
        k += 1
    return names


def place(cluster: Cluster, names: Sequence[str]) -> Cluster:
    """Every pod-network pod on a node: its own ``spec.nodeName``, else round-robin."""
    pods = []
    turn = 0
    for pod in cluster.pods:
        if not pod.host_network and not pod.spec.node_name:
            spec = replace(pod.spec, node_name=names[turn % len(names)])
            pods.append(replace(pod, spec=spec))
            turn += 1
        else:
            pods.append(pod)
    return replace(cluster, pods=tuple(pods))


def allocate(cluster: Cluster, pod_cidr: str = DEFAULT_POD_CIDR,
             fixed: dict[str, tuple[str, ...]] | None = None,
             cidrs: dict[str, str] | None = None) -> tuple[Cluster, dict[str,
                                                                        tuple[str, ...]]]:
    """Give each pod-network pod without an IP one from its node's block of ``pod_cidr``
    (``cidrs``: node name -> block; else the whole CIDR), or from ``fixed``, the
    allocation of an earlier run, so ``lab apply`` sees the same addresses."""
    used = {ip for pod in cluster.pods for ip in _addresses(pod)} | _OWN_ADDRESSES
    used |= {ip for ips in (fixed or {}).values() for ip in ips}
    pools: dict[str, Iterator[str]] = {}
    allocated: dict[str, tuple[str, ...]] = {}
    pods = []
    for pod in cluster.pods:
        if not pod.ips and not pod.host_network:
            ips = (fixed or {}).get(pod.key)
            if ips is None:
                block = (cidrs or {}).get(pod.spec.node_name, pod_cidr)
                pool = pools.setdefault(block, _free(block, used))
                try:
                    ips = (next(pool),)
                except StopIteration:
                    raise InputError(f"lab pod CIDR {block} has no address left for "
                                     f"{pod.key}") from None
                used.update(ips)
            allocated[pod.key] = ips
            pods.append(replace(pod, ips=ips))
        else:
            pods.append(pod)
    return replace(cluster, pods=tuple(pods)), allocated


def expand_workloads(cluster: Cluster, names: Sequence[str]) -> Cluster:
    """Run each workload none of whose pods is in the input as the pods a controller would
    make: ``replicas`` of them (default 1; a Job's parallelism), one per node for a
    DaemonSet, each named ``<workload>-<N>`` with the template's labels and an owner
    reference to the workload (an agent lab: its pods are API objects, and scaling a
    workload with ``lab apply`` adds or removes pods)."""
    endpoints = choose_endpoints(cluster)
    templates = {p.template_of: p for p in endpoints.pods if p.template_of}
    pods = [p for p in endpoints.pods if not p.template_of]
    for workload in cluster.workloads:
        template = templates.get(f"{workload.kind_name}/{workload.name}")
        if template is None:
            continue
        if workload.kind_name == "DaemonSet":
            placements = list(names)
        else:
            placements = [template.spec.node_name] * max(0, 1 if workload.replicas is None
                                                            else workload.replicas)
        owner = OwnerReference(workload.kind_name, workload.name, controller=True)
        for i, node in enumerate(placements):
            meta = replace(template.metadata, name=f"{workload.name}-{i}",
                                       owner_references=(owner,))
            spec = replace(template.spec, node_name=node)
            pods.append(replace(template, metadata=meta, spec=spec,
                                            template_of=""))
    return replace(cluster, pods=tuple(pods))


def make_plan(cluster: Cluster, names: LabNames, *, pod_cidr: str = DEFAULT_POD_CIDR,
              fixed: dict[str, tuple[str, ...]] | None = None, nodes: int = 1,
              indexes: Mapping[str, int] | None = None,
              named: Sequence[str] | None = None) -> LabPlan:
    """The lab for ``cluster`` on ``nodes`` nodes. With one node nothing is placed (the
    pods keep the nodes they name, all run on the one node namespace). ``indexes`` keeps
    the numbers (so the namespaces) of pods a running lab already has, ``named`` its nodes'
    names."""
    node_list = list(named) if named else (node_names(cluster, nodes) if nodes > 1
                                           else ["node-0"])
    cidrs = dict(zip(node_list, node_cidrs(pod_cidr, nodes), strict=True)) if nodes > 1 else {}
    if nodes > 1:
        cluster = place(cluster, node_list)
    lab_cluster, allocated = allocate(cluster, pod_cidr, fixed, cidrs)
    index_of = {name: k for k, name in enumerate(node_list)}
    pods: list[LabPod] = []
    skipped: list[str] = []
    owners: dict[str, str] = {}
    kept = dict(indexes or {})
    fresh = itertools.count(max(kept.values(), default=-1) + 1)
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
        index = kept[pod.key] if pod.key in kept else (next(fresh) if kept else len(pods))
        ports = tuple(sorted({(p.container_port, p.protocol) for p in pod.serving_ports()}))
        hostname = kernel_hostname(pod, pod_hostname_and_domain(pod))
        hosts_for = {c.name for c in pod.spec.init_containers + pod.spec.containers
                     if gets_managed_hosts_file(pod, c, ips)}
        node = index_of.get(pod.spec.node_name, 0) if nodes > 1 else 0
        pods.append(LabPod(pod.key, index, node, names.pod_netns(index), ips, ports,
                           containers_of(pod, ips, hosts_for), render_hosts_file(pod, ips),
                           hostname))
    lab_nodes = tuple(
        LabNode(k, names.node_netns(k), node_ips(k),
                tuple(i for i, p in enumerate(pods) if p.node == k),
                name, cidrs.get(name, pod_cidr))
        for k, name in enumerate(node_list))
    return LabPlan(names, lab_cluster, tuple(pods), lab_nodes, tuple(skipped), allocated)
