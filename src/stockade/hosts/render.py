"""The bytes of the ``/etc/hosts`` the kubelet bind-mounts into a pod's containers.

Byte for byte what ``managedHostsFileContent`` / ``nodeHostsFileContent`` write: TABs
between columns, LF line ends, the ``fe00::`` lines exactly as the kubelet has them (not a
distribution's ``ff02::``), and hostAliases copied verbatim in spec order. Pure: the node's
hosts file comes in as bytes; writing the result is ``stockade.hosts.write``'s job.
"""

from __future__ import annotations

from collections.abc import Sequence

from stockade.errors import InputError
from stockade.hosts._where import where
from stockade.hosts.hostname import (
    DEFAULT_CLUSTER_DOMAIN,
    kernel_hostname,
    pod_hostname_and_domain,
)
from stockade.model.netparse import parse_ip
from stockade.model.types import HostAlias, Pod

MANAGED_HOSTS_HEADER = b"# Kubernetes-managed hosts file.\n"
MANAGED_HOSTS_HEADER_HOST_NETWORK = b"# Kubernetes-managed hosts file (host network).\n"
HOST_ALIASES_COMMENT = b"# Entries added by HostAliases.\n"

_LOCAL_ENTRIES = (
    b"127.0.0.1\tlocalhost\n"
    b"::1\tlocalhost ip6-localhost ip6-loopback\n"
    b"fe00::0\tip6-localnet\n"
    b"fe00::0\tip6-mcastprefix\n"
    b"fe00::1\tip6-allnodes\n"
    b"fe00::2\tip6-allrouters\n"
)


def host_aliases_section(aliases: Sequence[HostAlias]) -> bytes:
    """A blank line, the comment, then one ``ip<TAB>name<TAB>name`` line per alias.

    Empty for no aliases. An alias without hostnames still gets its line (``ip<TAB>``);
    aliases sharing an IP are not merged; IPs are not canonicalised.
    """
    if not aliases:
        return b""
    lines = [b"\n", HOST_ALIASES_COMMENT]
    lines += [(a.ip + "\t" + "\t".join(a.hostnames) + "\n").encode() for a in aliases]
    return b"".join(lines)


def managed_hosts_content(
    pod_ips: Sequence[str], hostname: str, domain: str, aliases: Sequence[HostAlias]
) -> bytes:
    """The file of a pod-network pod: header, localhost block, one line per pod IP, aliases."""
    if domain:
        own = [f"{ip}\t{hostname}.{domain}\t{hostname}\n" for ip in pod_ips]
    else:
        own = [f"{ip}\t{hostname}\n" for ip in pod_ips]
    return (MANAGED_HOSTS_HEADER + _LOCAL_ENTRIES + "".join(own).encode()
            + host_aliases_section(aliases))


def node_hosts_content(node_hosts: bytes, aliases: Sequence[HostAlias]) -> bytes:
    """The file of a hostNetwork pod: header, the node's file untouched, aliases.

    No newline is added after the node's file: when it lacks one, the aliases section's
    leading blank line merely ends the node's last line, exactly as with the kubelet.
    """
    return MANAGED_HOSTS_HEADER_HOST_NETWORK + node_hosts + host_aliases_section(aliases)


def render_hosts_file(
    pod: Pod,
    pod_ips: Sequence[str] | None = None,
    *,
    cluster_domain: str = DEFAULT_CLUSTER_DOMAIN,
    node_hosts: bytes | None = None,
) -> bytes:
    """The managed ``/etc/hosts`` of ``pod``, as the kubelet writes it at container start.

    ``pod_ips`` defaults to the pod's status IPs (primary first). A hostNetwork pod needs
    ``node_hosts``, the node's ``/etc/hosts`` bytes; its pod IPs are not used. Raises
    ``InputError`` where the kubelet would write no file: a pod-network pod without an IP,
    an invalid pod IP, or a hostname/subdomain/FQDN the kubelet refuses.
    """
    names = pod_hostname_and_domain(pod, cluster_domain)
    kernel_hostname(pod, names)  # fails the pod, and so the file, when the FQDN is too long
    aliases = pod.spec.host_aliases
    if pod.spec.host_network:
        if node_hosts is None:
            raise InputError(f"{where(pod)}a hostNetwork pod's hosts file is the node's "
                             "/etc/hosts plus its aliases, and no node hosts file was given")
        return node_hosts_content(node_hosts, aliases)
    ips = tuple(pod.ips if pod_ips is None else pod_ips)
    if not ips:
        raise InputError(f"{where(pod)}the pod has no IP yet; the kubelet writes /etc/hosts "
                         "for a pod-network pod only once the pod has an IP")
    for ip in ips:
        if parse_ip(ip) is None:
            raise InputError(f'{where(pod)}pod IP "{ip}" is not a valid IP address')
    return managed_hosts_content(ips, names.hostname, names.domain, aliases)
