"""The kubelet-managed ``/etc/hosts`` of a pod, rendered byte for byte (hostAliases included).

Pure functions from a decoded ``Pod`` to bytes (``render``), the hostname rules the kubelet
applies (``hostname``) and which containers get the file (``containers``). Only
``stockade.hosts.write`` touches the disk, and it is not imported here.
"""

from __future__ import annotations

from stockade.hosts.containers import (
    ETC_HOSTS_PATH,
    all_containers,
    containers_with_managed_hosts_file,
    find_container,
    gets_managed_hosts_file,
)
from stockade.hosts.hostname import (
    DEFAULT_CLUSTER_DOMAIN,
    PodHostname,
    kernel_hostname,
    pod_hostname_and_domain,
    truncate_hostname,
)
from stockade.hosts.render import (
    MANAGED_HOSTS_HEADER,
    MANAGED_HOSTS_HEADER_HOST_NETWORK,
    host_aliases_section,
    managed_hosts_content,
    node_hosts_content,
    render_hosts_file,
)

__all__ = [
    "DEFAULT_CLUSTER_DOMAIN",
    "ETC_HOSTS_PATH",
    "MANAGED_HOSTS_HEADER",
    "MANAGED_HOSTS_HEADER_HOST_NETWORK",
    "PodHostname",
    "all_containers",
    "containers_with_managed_hosts_file",
    "find_container",
    "gets_managed_hosts_file",
    "host_aliases_section",
    "kernel_hostname",
    "managed_hosts_content",
    "node_hosts_content",
    "pod_hostname_and_domain",
    "render_hosts_file",
    "truncate_hostname",
]
