"""What a lab will build, decided before anything is built: which pods get a namespace,
their addresses (from the manifest, or allocated from the lab's pod CIDR), the node's
addresses, the ports to listen on and the commands to run. Pure.

The cluster handed back carries the allocated addresses, so the engine that judges the
probes sees exactly the addresses the packets carry.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass

from stockade.errors import InputError
from stockade.hosts import render_hosts_file
from stockade.lab.names import (
    DEFAULT_POD_CIDR,
    LabNames,
)
from stockade.model.netparse import effective_address, parse_ip
from stockade.model.types import Cluster, Pod

NODE_IPV4 = "169.254.77.1"
NODE_IPV6 = "fd00:57ad:e::1"


@dataclass(frozen=True, slots=True)
class LabCommand:
    container: str
    argv: tuple[str, ...]
    init: bool = False


@dataclass(frozen=True, slots=True)
class LabPod:
    key: str
    index: int
    netns: str
    ips: tuple[str, ...]
    ports: tuple[tuple[int, str], ...]  # (number, "TCP"|"UDP"|"SCTP") declared
    commands: tuple[LabCommand, ...]
    hosts: bytes  # the kubelet's /etc/hosts for this pod


@dataclass(frozen=True, slots=True)
class LabPlan:
    names: LabNames
    cluster: Cluster  # with the allocated addresses
    pods: tuple[LabPod, ...]
    skipped: tuple[str, ...]  # pods the lab does not run, with why
    node_ips: tuple[str, ...]
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


def _commands(pod: Pod) -> tuple[LabCommand, ...]:
    commands = []
    for init, containers in ((True, pod.spec.init_containers), (False, pod.spec.containers)):
        for c in containers:
            # No image is pulled: without ``command`` the image's entrypoint is unknown, so
            # ``args`` alone run as the command.
            argv = c.command + c.args if c.command else c.args
            if argv:
                commands.append(LabCommand(c.name, argv, init))
    return tuple(commands)


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
        pods.append(LabPod(pod.key, index, names.pod_netns(index), ips, ports,
                           _commands(pod), render_hosts_file(pod, ips)))
    return LabPlan(names, lab_cluster, tuple(pods), tuple(skipped), (NODE_IPV4, NODE_IPV6),
                   allocated)
