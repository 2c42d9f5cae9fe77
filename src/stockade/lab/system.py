"""The lab's narrow interface to the kernel: ``ip`` commands, sysctls in a namespace, and
``setns`` so that one process can open sockets inside many pod namespaces.

A socket belongs to the network namespace its creating thread was in; entering a pod's
namespace just long enough to create sockets lets the prober and the listener daemon serve
hundreds of pods from one thread, instead of one process per pod.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import subprocess
from collections.abc import Iterator, Sequence

from stockade.errors import CommandFailed, EnvironmentProblem

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def run(argv: Sequence[str], *, input_text: str | None = None) -> str:
    """Run a command; ``CommandFailed`` with its stderr when it fails."""
    try:
        done = subprocess.run(list(argv), input=input_text, text=True, capture_output=True,
                              check=False)
    except FileNotFoundError as exc:
        raise EnvironmentProblem(f"{argv[0]} not found: the lab needs iproute2 and "
                                 "nftables") from exc
    if done.returncode != 0:
        raise CommandFailed(argv, done.returncode, done.stderr)
    return done.stdout


def ip_batch(commands: Sequence[str], *, netns: str = "") -> None:
    """Run many ``ip`` commands in one process (``ip -batch``), optionally in a namespace."""
    if not commands:
        return
    argv = ["ip", *(["-n", netns] if netns else []), "-batch", "-"]
    run(argv, input_text="\n".join(commands) + "\n")


def list_netns() -> list[str]:
    names = []
    for line in run(["ip", "netns", "list"]).splitlines():
        if line.strip():
            names.append(line.split()[0])
    return names


def netns_pids(netns: str) -> list[int]:
    try:
        out = run(["ip", "netns", "pids", netns])
    except CommandFailed:
        return []
    return [int(p) for p in out.split()]


def sysctl(netns: str, key: str, value: str) -> None:
    """Set a sysctl inside ``netns`` and read it back: a setting that did not stick is an
    error (bridge-nf-call-iptables at 0 would let every packet pass silently)."""
    path = "/proc/sys/" + key.replace(".", "/")
    out = run(["ip", "netns", "exec", netns, "sh", "-c",
               f"echo {value} > {path} && cat {path}"])
    if out.strip() != value:
        raise EnvironmentProblem(f"{key} is {out.strip()!r} in {netns}, wanted {value}")


def _setns(fd: int) -> None:
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise EnvironmentProblem(f"setns failed: {os.strerror(err)} (the lab needs root)")


@contextlib.contextmanager
def in_netns(netns: str) -> Iterator[None]:
    """Run the body with this thread inside the named network namespace."""
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    try:
        try:
            target = os.open(f"/run/netns/{netns}", os.O_RDONLY)
        except FileNotFoundError as exc:
            raise EnvironmentProblem(f"network namespace {netns} does not exist") from exc
        try:
            _setns(target)
        finally:
            os.close(target)
        try:
            yield
        finally:
            _setns(home)
    finally:
        os.close(home)
