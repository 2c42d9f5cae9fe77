"""``stockade hosts POD_FILE``: print the /etc/hosts the kubelet writes for a pod, byte for byte.

Thin: read the manifest, validate it as the API server would (hostAliases included), pick
the pod's IPs and the node's hosts file, and hand the rest to ``stockade.hosts``. The file
goes to stdout untouched (no newline translation); every remark goes to stderr.
"""

from __future__ import annotations

import argparse
import re
import sys
from typing import Any

from msgspec.structs import replace

from stockade.cli import diagnostics
from stockade.cli.common import no_objects
from stockade.errors import InputError, InvalidObjects, UsageError
from stockade.hosts import (
    DEFAULT_CLUSTER_DOMAIN,
    containers_with_managed_hosts_file,
    find_container,
    gets_managed_hosts_file,
    pod_hostname_and_domain,
    render_hosts_file,
)
from stockade.model.build import build_cluster
from stockade.model.netparse import parse_ip
from stockade.model.types import ObjectMeta, Pod
from stockade.model.validate.names import is_dns1123_label, is_dns1123_subdomain
from stockade.sources.files import read_file, read_paths
from stockade.sources.limits import Budget

EXIT_OK, EXIT_NOT_MANAGED = 0, 1
NODE_HOSTS_DEFAULT = "/etc/hosts"

_DNS1123_SUBDOMAIN = re.compile(
    r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "hosts",
        help="print the /etc/hosts the kubelet writes for a pod (hostAliases included)",
        description="Print, byte for byte, the /etc/hosts file the kubelet bind-mounts into "
        "a pod's containers: localhost block, the pod's own name per pod IP, and "
        "spec.hostAliases. Notes go to stderr. Exit 0 with the file on stdout; 1 when the "
        "container named by --container keeps its own /etc/hosts; 2 for bad input.",
    )
    parser.add_argument("pod_file", metavar="POD_FILE",
                        help="manifest with one Pod, or one workload (Deployment, Job...) "
                        "whose pod template is used with --pod-name; - for stdin")
    parser.add_argument("--pod-ip", action="append", default=[], metavar="IP",
                        help="the pod's IP; repeat for dual-stack, primary first "
                        "(default: status.podIPs / status.podIP)")
    parser.add_argument("--cluster-domain", default=DEFAULT_CLUSTER_DOMAIN, metavar="DOMAIN",
                        help="the kubelet's clusterDomain, used with spec.subdomain "
                        f"(default {DEFAULT_CLUSTER_DOMAIN})")
    parser.add_argument("--node-hosts", default=NODE_HOSTS_DEFAULT, metavar="FILE",
                        help="the node's hosts file, copied for hostNetwork pods "
                        f"(default {NODE_HOSTS_DEFAULT})")
    parser.add_argument("--container", metavar="NAME",
                        help="the file as this container sees it (exit 1 if it mounts its "
                        "own /etc/hosts)")
    parser.add_argument("--pod-name", metavar="NAME",
                        help="the pod's name, needed for a workload's template (and for a "
                        "Pod that only has generateName)")
    parser.set_defaults(func=run)


def check_options(args: argparse.Namespace) -> None:
    """Every option, before the manifest is read."""
    for ip in args.pod_ip:
        if parse_ip(ip) is None:
            raise UsageError(f'--pod-ip "{ip}": not a valid IP address')
    # The kubelet joins clusterDomain into DNS names: a DNS-1123 subdomain (a trailing dot,
    # as in resolv.conf, is accepted).
    domain = args.cluster_domain
    if not domain or is_dns1123_subdomain(domain.removesuffix(".")):
        raise UsageError(f'--cluster-domain "{domain}": not a domain name (lowercase '
                         "letters, digits, '-' and '.', as cluster.local)")
    if args.pod_name is not None:
        _check_pod_name(args.pod_name)
    if args.container is not None and is_dns1123_label(args.container):
        raise UsageError(f'--container "{args.container}": not a container name (a '
                         "lowercase RFC 1123 label)")
    if not args.node_hosts:
        raise UsageError("--node-hosts needs a file name")


def run(args: argparse.Namespace) -> int:
    check_options(args)
    budget = Budget()
    pod = load_pod(args.pod_file, args.pod_name, budget)

    pod_ips = tuple(args.pod_ip) or pod.ips
    if not pod.spec.host_network and not pod_ips:
        where = f"{pod.origin}: Pod {_ident(pod)}"
        raise InputError(
            f"{where} has no pod IP (status.podIP and status.podIPs are empty). The kubelet "
            "writes a pod-network pod's /etc/hosts only once the pod has an IP: pass "
            "--pod-ip IP (repeat it for dual-stack)"
        )
    if pod.spec.host_network and args.pod_ip:
        _note("hostNetwork pod: --pod-ip is not used, the file copies the node's hosts file")

    if args.container is not None:
        container = find_container(pod, args.container)
        if container is None:
            known = ", ".join(c.name for c in pod.spec.init_containers + pod.spec.containers)
            raise UsageError(f'Pod {_ident(pod)} has no container "{args.container}" '
                             f"(containers: {known or 'none'})")
        if not gets_managed_hosts_file(pod, container, pod_ips):
            _note(f'container "{container.name}" of Pod {_ident(pod)} mounts its own '
                  "/etc/hosts, so the kubelet does not give it the managed hosts file")
            return EXIT_NOT_MANAGED
    else:
        _note_own_hosts_files(pod, pod_ips)

    node_hosts = _read_node_hosts(args.node_hosts, budget) if pod.spec.host_network else None
    content = render_hosts_file(pod, pod_ips, cluster_domain=args.cluster_domain,
                                node_hosts=node_hosts)
    names = pod_hostname_and_domain(pod, args.cluster_domain)
    if names.truncated and not pod.spec.host_network:
        _note(f'hostname "{names.requested}" is longer than 63 characters; the kubelet '
              f'truncates it to "{names.hostname}"')
    sys.stdout.buffer.write(content)
    sys.stdout.buffer.flush()
    return EXIT_OK


def load_pod(path: str, pod_name: str | None, budget: Budget | None = None) -> Pod:
    """The one Pod (or workload template, named ``pod_name``) in ``path``, validated."""
    raws = read_paths([path], budget=budget)
    if not raws:
        raise InputError(no_objects([path]))
    result = build_cluster(raws, generate_names=False)  # the kubelet's name: --pod-name
    for warning in result.warnings:
        if "defined more than once" in warning:
            _warn(warning)
    if result.findings:
        raise InvalidObjects(result.findings)
    candidates = [*result.cluster.pods, *(w.template for w in result.cluster.workloads)]
    if not candidates:
        skipped = "; ".join(result.skipped)
        raise InputError(f"{path}: no Pod or workload (Deployment, StatefulSet, DaemonSet, "
                         f"ReplicaSet, Job, CronJob, ReplicationController) found"
                         + (f" ({skipped})" if skipped else ""))
    if len(candidates) > 1:
        found = ", ".join(f"{p.template_of or 'Pod/' + p.name}" for p in candidates)
        raise InputError(f"{path}: holds {len(candidates)} pods and workloads ({found}); "
                         "give a file with exactly one")
    pod = candidates[0]
    if pod_name is not None:
        _check_pod_name(pod_name)
    if pod.template_of:
        if pod_name is None:
            raise UsageError(f"{pod.origin}: {pod.template_of} is a workload: its pods' names "
                             "are chosen by its controller; name the pod with --pod-name")
        return _named(pod, pod_name)
    if pod_name is not None and pod.name and pod_name != pod.name:
        raise UsageError(f'{pod.origin}: --pod-name "{pod_name}" differs from the Pod\'s own '
                         f'name "{pod.name}"')
    if not pod.name:
        if pod_name is None:
            raise UsageError(f"{pod.origin}: the Pod has no metadata.name (the API server "
                             "would generate one); name it with --pod-name")
        return _named(pod, pod_name)
    return pod


def _check_pod_name(pod_name: str) -> None:
    if not _DNS1123_SUBDOMAIN.fullmatch(pod_name):
        raise UsageError(f'--pod-name "{pod_name}": a pod name must be a lowercase RFC 1123 '
                         "subdomain (lower case alphanumeric characters, '-' or '.', "
                         "starting and ending with an alphanumeric character)")
    if len(pod_name) > 253:
        raise UsageError(f'--pod-name "{pod_name}": must be no more than 253 characters')


def _named(pod: Pod, name: str) -> Pod:
    meta = pod.metadata
    return replace(pod, metadata=ObjectMeta(name, meta.namespace, meta.labels))


def _read_node_hosts(path: str, budget: Budget) -> bytes:
    """The node's hosts file, read as every input is (a regular file or a pipe, within the
    input limits): ``/dev/zero`` or a FIFO nobody writes to is refused, not waited for."""
    return read_file(path, budget, what="the node's hosts file, needed for a hostNetwork pod")


def _note_own_hosts_files(pod: Pod, pod_ips: tuple[str, ...]) -> None:
    containers = pod.spec.init_containers + pod.spec.containers
    managed = {c.name for c in containers_with_managed_hosts_file(pod, pod_ips)}
    for container in containers:
        if container.name not in managed:
            _note(f'container "{container.name}" mounts its own /etc/hosts and does not get '
                  "this file")
    if containers and not managed:
        _note("no container of this pod gets the managed file, so the kubelet never writes "
              "it; shown for reference")


def _ident(pod: Pod) -> str:
    ident = f"{pod.namespace}/{pod.name}"
    return f"{ident} ({pod.template_of})" if pod.template_of else ident


def _note(text: str) -> None:
    diagnostics.note(text)


def _warn(text: str) -> None:
    diagnostics.warning(text)
