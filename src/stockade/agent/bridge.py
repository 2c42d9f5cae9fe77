"""Bridged pod traffic and the forward hook: ``net.bridge.bridge-nf-call-iptables`` and
``-ip6tables`` in the agent's own network namespace, which is the node's.

Packets between two pods on one bridge are switched, not routed: they reach nftables'
``forward`` hook only when br_netfilter is loaded and those two settings are 1 (kube-proxy
needs the same, and kubeadm checks it). The agent turns them on where it may and reports
what it finds. Routed pod networks (ptp, Calico, the lab) do not need them. Only this
namespace's settings are read or written; the module is never loaded from here (that
would take more than NET_ADMIN).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

SYSCTLS = {4: "bridge-nf-call-iptables", 6: "bridge-nf-call-ip6tables"}


@dataclass(frozen=True, slots=True)
class BridgeState:
    on: dict[int, bool]  # family -> the setting is 1
    bridged: list[str]  # bridges with interfaces attached (pods, most likely)
    problem: str  # "" when bridged pod traffic reaches the forward hook (or there is none)


def _bridges(sys_net: Path) -> list[str]:
    found = []
    if sys_net.is_dir():
        for link in sorted(sys_net.iterdir()):
            ports = link / "brif"
            if (link / "bridge").is_dir() and ports.is_dir() and any(ports.iterdir()):
                found.append(link.name)
    return found


def check(proc_sys: Path = Path("/proc/sys/net/bridge"),
          sys_net: Path = Path("/sys/class/net"), *, turn_on: bool = True) -> BridgeState:
    """Read (and, with ``turn_on``, set to 1) both settings; say whether bridged pod traffic
    would bypass the ruleset."""
    on: dict[int, bool] = {}
    failures: list[str] = []
    for family, name in SYSCTLS.items():
        path = proc_sys / name
        try:
            value = path.read_text().strip()
        except OSError:
            on[family] = False
            failures.append(f"{name}: br_netfilter is not loaded (no {path})")
            continue
        if value != "1" and turn_on:
            try:
                path.write_text("1\n")
                value = path.read_text().strip()
            except OSError as exc:
                failures.append(f"{name} is {value} and cannot be set here ({exc.strerror}); "
                                f"set it on the node: sysctl -w net.bridge.{name}=1")
                on[family] = False
                continue
        on[family] = value == "1"
        if value != "1":
            failures.append(f"{name} is {value}")
    bridged = _bridges(sys_net)
    problem = ""
    if bridged and failures:
        problem = (f"pods on bridge {', '.join(bridged)} talk to each other past the ruleset: "
                   + "; ".join(failures))
    return BridgeState(on, bridged, problem)
