"""Names of everything a lab creates, all under one prefix so that nothing else is touched.

Namespaces are ``stk-<lab>-node`` and ``stk-<lab>-p<N>``; links live inside those
namespaces only (``stk-br0``, ``stk-v<N>``, and ``eth0`` in a pod), so no interface of the
root namespace is ever created or changed. Lab names have no dash, so one lab's prefix is
never a prefix of another's. Pure.
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
_LAB_NAME = re.compile(r"[a-z0-9]{1,16}")


def check_lab_name(name: str) -> str:
    if not _LAB_NAME.fullmatch(name):
        raise UsageError(f'lab name "{name}": use 1-16 lowercase letters and digits')
    return name


@dataclass(frozen=True, slots=True)
class LabNames:
    lab: str

    @property
    def prefix(self) -> str:
        return f"{PREFIX}{self.lab}-"

    @property
    def node_netns(self) -> str:
        return f"{self.prefix}node"

    def pod_netns(self, index: int) -> str:
        return f"{self.prefix}p{index}"

    @property
    def bridge(self) -> str:
        return "stk-br0"

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
        return netns.startswith(self.prefix)
