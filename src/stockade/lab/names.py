"""Names of everything a lab creates, all under one prefix so that nothing else is touched.

Namespaces are ``stk-<lab>-n<K>`` (node K), ``stk-<lab>-p<N>`` (pod N),
``stk-<lab>-addrs`` (the addresses the input gives its nodes) and ``stk-<lab>-u`` (the
underlay joining several nodes); links live inside those namespaces only (``stk-v<N>``,
``stk-addrs`` and ``stk-up`` on a node, ``n<K>`` on the underlay, ``eth0`` in the others), so no
interface of the root namespace is ever created or changed. Lab names have no dash, so one lab's
prefix is never a prefix of another's. Pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from stockade.errors import UsageError

DEFAULT_POD_CIDR = "10.244.0.0/16"  # where the lab allocates addresses for pods without one

PREFIX = "stk-"
STATE_ROOT = Path("/run/stockade/labs")
NETNS_ETC = Path("/etc/netns")
ADDRESSES_VETH = "stk-addrs"  # the node's link to the addresses namespace
UNDERLAY_VETH = "stk-up"  # a node's link to the underlay that joins the nodes
_LAB_NAME = re.compile(r"[a-z0-9]{1,16}")
_OWNED_NETNS = re.compile(r"stk-([a-z0-9]{1,16})-(?:node|n[0-9]+|p[0-9]+|addrs|u)")


def check_lab_name(name: str) -> str:
    if not _LAB_NAME.fullmatch(name):
        raise UsageError(f'lab name "{name}": use 1-16 lowercase letters and digits')
    return name


def lab_of_netns(netns: str) -> str | None:
    """The lab a namespace belongs to, from its name alone (``None``: not a lab's)."""
    match = _OWNED_NETNS.fullmatch(netns)
    return match.group(1) if match else None


@dataclass(frozen=True, slots=True)
class LabNames:
    lab: str

    @property
    def prefix(self) -> str:
        return f"{PREFIX}{self.lab}-"

    def node_netns(self, index: int = 0) -> str:
        return f"{self.prefix}n{index}"

    def pod_netns(self, index: int) -> str:
        return f"{self.prefix}p{index}"

    @property
    def addresses_netns(self) -> str:
        return f"{self.prefix}addrs"

    @property
    def underlay_netns(self) -> str:
        return f"{self.prefix}u"

    @staticmethod
    def node_veth(index: int) -> str:
        return f"stk-v{index}"  # at most 15 characters up to 10**10 pods

    @property
    def table(self) -> str:
        return f"stk-{self.lab}"

    @property
    def state_dir(self) -> Path:
        return STATE_ROOT / self.lab

    def owns_netns(self, netns: str) -> bool:
        return lab_of_netns(netns) == self.lab
