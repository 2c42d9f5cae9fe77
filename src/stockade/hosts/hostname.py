"""The hostname and domain a pod sees, derived as the kubelet derives them.

The kubelet puts these names in the pod's ``/etc/hosts`` line (and in the kernel's UTS
nodename). It checks ``spec.hostname``/``spec.subdomain`` again even though the API server
validated them, truncates long names to 63 characters, and refuses an FQDN nodename longer
than 64. Pure: no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from stockade.errors import InputError
from stockade.hosts._where import where
from stockade.model.types import Pod

DEFAULT_CLUSTER_DOMAIN = "cluster.local"
HOSTNAME_MAX_LEN = 63  # the kernel's nodename holds 64 bytes including the NUL
FQDN_MAX_LEN = 64
DNS1123_LABEL_MAX_LEN = 63

_DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_LABEL_RE = re.compile(_DNS1123_LABEL_FMT)
_DNS1123_LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', "
    f"regex used for validation is '{_DNS1123_LABEL_FMT}')"
)


def dns1123_label_problems(value: str) -> list[str]:
    """The messages of apimachinery's ``IsDNS1123Label`` (empty when the value is a label)."""
    problems: list[str] = []
    if len(value) > DNS1123_LABEL_MAX_LEN:
        problems.append(f"must be no more than {DNS1123_LABEL_MAX_LEN} characters")
    if not _DNS1123_LABEL_RE.fullmatch(value):
        problems.append(_DNS1123_LABEL_MSG)
    return problems


def truncate_hostname(pod_name: str, hostname: str) -> str:
    """Cut a hostname to 63 characters, then drop trailing ``-`` and ``.`` as the kubelet does.

    Only a name that was cut is stripped: a short name ending in ``-`` is left alone, because
    the kubelet only strips what its own cut may have exposed.
    """
    if len(hostname) <= HOSTNAME_MAX_LEN:
        return hostname
    truncated = hostname[:HOSTNAME_MAX_LEN].rstrip("-.")
    if not truncated:
        raise InputError(f"hostname for pod {_q(pod_name)} was invalid: {_q(hostname)}")
    return truncated


@dataclass(frozen=True, slots=True)
class PodHostname:
    """A pod's short hostname and its domain (``""`` when the pod has no ``spec.subdomain``).

    ``requested`` is the name before truncation, so callers can tell the user it was cut.
    """

    hostname: str
    domain: str = ""
    requested: str = ""

    @property
    def fqdn(self) -> str:
        """``<hostname>.<domain>``, or just the hostname when there is no domain."""
        return f"{self.hostname}.{self.domain}" if self.domain else self.hostname

    @property
    def truncated(self) -> bool:
        return bool(self.requested) and self.requested != self.hostname


def pod_hostname_and_domain(
    pod: Pod, cluster_domain: str = DEFAULT_CLUSTER_DOMAIN
) -> PodHostname:
    """``spec.hostname`` (else ``metadata.name``), truncated; the domain only with a subdomain.

    Raises ``InputError`` with the kubelet's own wording where the kubelet would refuse to
    start the pod's containers.
    """
    spec = pod.spec
    requested = pod.metadata.name
    if spec.hostname:
        problems = dns1123_label_problems(spec.hostname)
        if problems:
            raise InputError(
                f"{where(pod)}pod Hostname {_q(spec.hostname)} is not a valid DNS label: "
                + ";".join(problems)
            )
        requested = spec.hostname
    if not requested:
        raise InputError(f"{where(pod)}the pod has neither metadata.name nor spec.hostname, "
                         "so it has no hostname")
    hostname = truncate_hostname(pod.metadata.name, requested)
    domain = ""
    if spec.subdomain:
        problems = dns1123_label_problems(spec.subdomain)
        if problems:
            raise InputError(
                f"{where(pod)}pod Subdomain {_q(spec.subdomain)} is not a valid DNS label: "
                + ";".join(problems)
            )
        domain = f"{spec.subdomain}.{pod.metadata.namespace}.svc.{cluster_domain}"
    return PodHostname(hostname, domain, requested)


def kernel_hostname(pod: Pod, names: PodHostname) -> str:
    """The UTS nodename: the FQDN with ``setHostnameAsFQDN`` and a domain, else the hostname.

    It never changes ``/etc/hosts``, but a nodename that does not fit fails the pod before
    any container (and so any hosts file) exists, hence the error.
    """
    if not (pod.spec.set_hostname_as_fqdn and names.domain):
        return names.hostname
    fqdn = names.fqdn
    if len(fqdn) > FQDN_MAX_LEN:
        raise InputError(
            f"{where(pod)}failed to construct FQDN from pod hostname and cluster domain, "
            f"FQDN {fqdn} is too long ({FQDN_MAX_LEN} characters is the max, "
            f"{len(fqdn)} characters requested)"
        )
    return fqdn


def _q(text: str) -> str:
    """Go's ``%q`` for the ASCII names met here."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

