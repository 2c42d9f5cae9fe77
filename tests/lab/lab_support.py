"""Helpers of the lab tests: what a lab leaves behind, and where the scenarios are."""

from __future__ import annotations

import subprocess
from pathlib import Path

from stockade.lab import agents, lifecycle
from stockade.lab.names import NETNS_ETC, LabNames

ROOT = Path(__file__).parents[2]
SCENARIOS = Path(__file__).parent / "scenarios"


def leftovers(name: str) -> list[str]:
    names = LabNames(name)
    found = [n for n in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True,
                                       check=True).stdout.split() if names.owns_netns(n)]
    if NETNS_ETC.is_dir():
        found += [str(p) for p in NETNS_ETC.iterdir() if names.owns_netns(p.name)]
    if names.state_dir.exists():
        found.append(str(names.state_dir))
    found += [f"lab daemon pid {pid}" for pid in lifecycle.servers_of(name)]
    found += [f"API server double pid {pid}" for pid in agents.api_processes(names)]
    return found
