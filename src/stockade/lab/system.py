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


def pids_in_netns(netns: Sequence[str]) -> list[int]:
    """Every process whose network namespace is one of ``netns`` (one pass over /proc)."""
    wanted = set()
    for name in netns:
        try:
            st = os.stat(f"/run/netns/{name}")
        except OSError:
            continue
        wanted.add((st.st_dev, st.st_ino))
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            st = os.stat(f"/proc/{entry}/ns/net")
        except OSError:
            continue  # gone, or a kernel thread
        if (st.st_dev, st.st_ino) in wanted:
            found.append(int(entry))
    return found


def processes_running(module: str, argument: str) -> list[int]:
    """Every process whose command line runs ``module`` with ``argument`` among its
    arguments (the lab's daemons, found also after a crash that lost the lab's state)."""
    wanted, arg = module.encode(), argument.encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                argv = handle.read().split(b"\0")
        except OSError:
            continue
        if wanted in argv and arg in argv[1:]:
            found.append(int(entry))
    return found


def set_sysctls(netns: str, values: dict[str, str]) -> None:
    """Set sysctls inside ``netns`` and read each back: a setting that did not stick is an
    error. Only per-namespace keys (``net.*``) belong here; the host's are never touched."""
    with in_netns(netns):
        for key, value in values.items():
            if not key.startswith("net."):
                raise EnvironmentProblem(f"{key} is not a per-namespace setting")
            path = "/proc/sys/" + key.replace(".", "/")
            try:
                with open(path, "w") as handle:
                    handle.write(value)
                with open(path) as handle:
                    now = handle.read().strip()
            except OSError as exc:
                raise EnvironmentProblem(f"cannot set {key} in {netns}: {exc.strerror}") from None
            if now != value:
                raise EnvironmentProblem(f"{key} is {now!r} in {netns}, wanted {value}")


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
