"""Which of a pod's containers get the kubelet-managed ``/etc/hosts``.

The kubelet decides per container start (``shouldMountHostsFile`` and ``makeMounts``): a
container that mounts a volume at ``/etc/hosts`` keeps its own file while its siblings still
get the managed one, and a pod-network pod gets nothing until it has an IP. Pure.
"""

from __future__ import annotations

from collections.abc import Sequence

from stockade.model.types import Container, Pod

ETC_HOSTS_PATH = "/etc/hosts"


def gets_managed_hosts_file(pod: Pod, container: Container, pod_ips: Sequence[str]) -> bool:
    """True when the kubelet bind-mounts its generated file at ``/etc/hosts`` in ``container``.

    A hostNetwork pod always has IPs as far as the kubelet is concerned (the node's), so only
    a pod-network pod can be left out for want of one.
    """
    if not pod.spec.host_network and not pod_ips:
        return False
    return not any(m.mount_path == ETC_HOSTS_PATH for m in container.volume_mounts)


def all_containers(pod: Pod) -> tuple[Container, ...]:
    """Init containers, then regular ones: every container the kubelet starts for the pod."""
    return pod.spec.init_containers + pod.spec.containers


def find_container(pod: Pod, name: str) -> Container | None:
    return next((c for c in all_containers(pod) if c.name == name), None)


def containers_with_managed_hosts_file(
    pod: Pod, pod_ips: Sequence[str]
) -> tuple[Container, ...]:
    return tuple(c for c in all_containers(pod) if gets_managed_hosts_file(pod, c, pod_ips))
