"""Real probes: TCP connects and UDP request/reply, from inside each source pod's namespace,
launched in large batches from one thread, each batch landing together.

The destination address is of the family the engine judges a pod-to-pod connection by:
the source's primary family when the destination has it, else a family both have; pods
with no family in common cannot talk at all, and such a pair is reported as untestable.
A listener answers on every probed port (the lab daemon's, or one opened here for ports no
pod declared).

A probe without an answer is *dropped* only when a node's ruleset was seen dropping it
(``watch``); otherwise it is probed again with a longer wait, and one that still has no
answer is *lost*: the lab's own failure, never reported as the policies'. Without a watch
(probes from outside a lab's pods) a silent probe counts as dropped.
SCTP is probed only where the kernel has SCTP sockets; elsewhere it is "untestable".
"""

from __future__ import annotations

import contextlib
import errno
import functools
import ipaddress
import resource
import select
import socket
import struct
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from stockade.engine.traffic import connection_family
from stockade.lab import watch
from stockade.lab.listeners import Responder
from stockade.lab.system import in_netns

REACHABLE, DROPPED, REFUSED, UNTESTABLE, LOST = (
    "reachable", "dropped", "refused", "untestable", "lost")
BATCH = 16384
LAUNCHERS = 2  # threads launching probes (the CI machine has two cores)
RETRY_TIMEOUTS = (2.0, 5.0)  # seconds a silent, unconfirmed probe waits when tried again
PAYLOAD = b"stockade-probe"
_RESET = struct.pack("ii", 1, 0)  # SO_LINGER on, 0 s: close with a reset, leave no TIME_WAIT


@dataclass(frozen=True, slots=True)
class Target:
    key: str
    netns: str
    ips: tuple[str, ...]
    bind: bool = False  # send from its address (a namespace holding several)

    def families(self) -> tuple[int, ...]:
        return tuple(sorted({6 if ":" in ip else 4 for ip in self.ips}))

    def address(self, family: int) -> str | None:
        return next((ip for ip in self.ips if (6 if ":" in ip else 4) == family), None)

    def family_towards(self, dst: Target) -> int:
        """The family a connection to ``dst`` uses: the engine's rule, so that packets
        test what the engine judged."""
        return connection_family([6 if ":" in ip else 4 for ip in self.ips], dst.families())


@dataclass(frozen=True, slots=True)
class Probe:
    src: str
    dst: str
    port: int
    protocol: str
    address: str
    outcome: str
    detail: str = ""


def sctp_supported() -> bool:
    try:
        socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_SCTP).close()
    except OSError:
        return False
    return True


def _raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, 65536) if hard != resource.RLIM_INFINITY else 65536
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


@contextlib.contextmanager
def listeners_for(targets: Sequence[Target], ports: Sequence[tuple[int, str]]) -> Iterator[None]:
    """Answer on every probed port of every target for the duration of the body."""
    responder = Responder()
    thread: threading.Thread | None = None
    try:
        for t in targets:
            for port, protocol in ports:
                if protocol in ("TCP", "UDP"):
                    responder.listen(t.netns, t.key, port, protocol, t.families(),
                                     address=t.ips[0] if t.bind else "")
        thread = threading.Thread(target=responder.serve, daemon=True)
        thread.start()
        yield
    finally:
        responder.stop.set()
        if thread is not None:
            thread.join()
        responder.close()


@dataclass(frozen=True, slots=True)
class _Planned:
    src: Target
    dst: Target
    port: int
    protocol: str
    address: str


@dataclass(slots=True)
class _Flight:
    plan: _Planned
    sock: socket.socket
    key: watch.FlowKey | None  # as the node records it; None when it cannot be known


@functools.lru_cache(maxsize=65536)
def _normal(address: str) -> str:
    """An address as nft prints it (IPv6 compressed)."""
    return str(ipaddress.ip_address(address))


def _launch(p: _Planned) -> _Flight | Probe:
    af = socket.AF_INET6 if ":" in p.address else socket.AF_INET
    kind = socket.SOCK_DGRAM if p.protocol == "UDP" else socket.SOCK_STREAM
    proto = socket.IPPROTO_SCTP if p.protocol == "SCTP" else 0
    sock = socket.socket(af, kind, proto)
    sock.setblocking(False)
    try:
        if p.src.bind:
            sock.bind((p.src.address(6 if af == socket.AF_INET6 else 4) or "", 0))
        if kind == socket.SOCK_DGRAM:
            sock.connect((p.address, p.port))
            sock.send(PAYLOAD)
        else:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RESET)
            code = sock.connect_ex((p.address, p.port))
            if code not in (0, errno.EINPROGRESS):
                sock.close()
                return Probe(p.src.key, p.dst.key, p.port, p.protocol, p.address, REFUSED,
                             errno.errorcode.get(code, str(code)))
        local = sock.getsockname()
    except OSError as exc:
        sock.close()
        return Probe(p.src.key, p.dst.key, p.port, p.protocol, p.address, REFUSED, str(exc))
    key = (_normal(local[0]), _normal(p.address), p.protocol, int(local[1]), p.port)
    return _Flight(p, sock, key)


def _land(flights: list[_Flight], timeout: float) -> tuple[list[Probe], list[_Flight]]:
    """Answered probes, and the flights still silent after ``timeout`` (sockets closed)."""
    poller = select.poll()
    by_fd = {}
    for f in flights:
        events = select.POLLIN if f.plan.protocol == "UDP" else select.POLLOUT
        poller.register(f.sock.fileno(), events | select.POLLERR)
        by_fd[f.sock.fileno()] = f
    done: list[Probe] = []
    deadline = time.monotonic() + timeout
    while by_fd:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        for fd, _ in poller.poll(left * 1000):
            f = by_fd.pop(fd)
            poller.unregister(fd)
            code = f.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if code == 0 and f.plan.protocol == "UDP":
                try:
                    f.sock.recv(2048)
                except OSError as exc:
                    code = exc.errno or errno.EIO
            p = f.plan
            outcome = REACHABLE if code == 0 else REFUSED
            detail = "" if code == 0 else errno.errorcode.get(code, str(code))
            done.append(Probe(p.src.key, p.dst.key, p.port, p.protocol, p.address, outcome,
                              detail))
            f.sock.close()
    silent = list(by_fd.values())
    for f in silent:
        f.sock.close()
    return done, silent


def _launch_all(batch: Sequence[_Planned]) -> tuple[list[Probe], list[_Flight]]:
    """Launch ``batch`` from this thread, entering each source's namespace once."""
    results: list[Probe] = []
    flights: list[_Flight] = []
    current = ""
    with contextlib.ExitStack() as stack:
        for p in batch:
            if p.src.netns != current:
                stack.close()
                stack.enter_context(in_netns(p.src.netns))
                current = p.src.netns
            launched = _launch(p)
            if isinstance(launched, Probe):
                results.append(launched)
            else:
                flights.append(launched)
    return results, flights


def _fly(batch: Sequence[_Planned], timeout: float) -> tuple[list[Probe], list[_Flight]]:
    """Launch ``batch`` and land it. Launching is mostly the kernel's work (each connect
    carries its packets through the node and back), done in the launching thread, so
    sources are split between ``LAUNCHERS`` threads."""
    ordered = sorted(batch, key=lambda q: q.src.netns)
    cut = len(ordered) // LAUNCHERS
    parts = [ordered[i * cut:(i + 1) * cut if i < LAUNCHERS - 1 else len(ordered)]
             for i in range(LAUNCHERS)]
    results: list[Probe] = []
    flights: list[_Flight] = []
    with ThreadPoolExecutor(LAUNCHERS) as pool:
        for answered, launched in pool.map(_launch_all, parts):
            results += answered
            flights += launched
    landed, silent = _land(flights, timeout)
    return results + landed, silent


def _judge_silent(silent: list[_Flight], nodes: Sequence[str]) -> tuple[list[Probe],
                                                                          list[_Flight]]:
    """Silent flights a node's ruleset dropped, and the others (to probe again)."""
    if not silent:
        for n in nodes:
            watch.forget(n)
        return [], []
    records = [watch.take(n) for n in nodes]
    dropped: list[Probe] = []
    unexplained: list[_Flight] = []
    for f in silent:
        p = f.plan
        if f.key is not None and any(f.key in r.seen and f.key not in r.passed
                                     for r in records):
            dropped.append(Probe(p.src.key, p.dst.key, p.port, p.protocol, p.address, DROPPED))
        else:
            unexplained.append(f)
    return dropped, unexplained


def _lost(f: _Flight) -> Probe:
    p = f.plan
    return Probe(p.src.key, p.dst.key, p.port, p.protocol, p.address, LOST,
                 "no answer, yet no node's ruleset dropped it (the lab's own failure, not "
                 "the policies')")


def _plan(pair_list: Sequence[tuple[Target, Target]], ports: Sequence[tuple[int, str]],
          results: list[Probe]) -> list[_Planned]:
    sctp = sctp_supported()
    planned: list[_Planned] = []
    for src, dst in pair_list:
        family = src.family_towards(dst)
        address = dst.address(family)
        for port, protocol in ports:
            if protocol == "SCTP" and not sctp:
                results.append(Probe(src.key, dst.key, port, protocol, address or "",
                                     UNTESTABLE, "not testable on this kernel (no SCTP "
                                     "sockets)"))
            elif address is None:
                results.append(Probe(src.key, dst.key, port, protocol, "", UNTESTABLE,
                                     f"{dst.key} has no IPv{family} address"))
            else:
                planned.append(_Planned(src, dst, port, protocol, address))
    return planned


def probe_all(targets: Sequence[Target], ports: Sequence[tuple[int, str]], *,
              timeout: float = 0.5, pairs: Sequence[tuple[Target, Target]] | None = None,
              open_listeners: bool = True, nodes: Sequence[str] = ()) -> list[Probe]:
    """Probe every (source, destination, port) of ``targets`` (or of ``pairs``).

    ``nodes``: the namespaces of the nodes whose watch tables confirm drops (the caller
    holds ``watch.exclusive``); without them a silent probe counts as dropped.
    """
    _raise_fd_limit()
    pair_list = list(pairs) if pairs is not None else [(s, d) for s in targets for d in targets]
    results: list[Probe] = []
    planned = _plan(pair_list, ports, results)
    context = (listeners_for(targets, ports) if open_listeners
               else contextlib.nullcontext())
    with context:
        for n in nodes:
            watch.forget(n)  # what came before
        retry: list[_Flight] = []
        for start in range(0, len(planned), BATCH):
            answered, silent = _fly(planned[start:start + BATCH], timeout)
            results += answered
            if not nodes:
                results += [Probe(f.plan.src.key, f.plan.dst.key, f.plan.port,
                                  f.plan.protocol, f.plan.address, DROPPED) for f in silent]
                continue
            dropped, unexplained = _judge_silent(silent, nodes)
            results += dropped
            retry += unexplained
        for wait in RETRY_TIMEOUTS:
            if not retry:
                break
            again: list[_Flight] = []
            for start in range(0, len(retry), BATCH):
                chunk = [f.plan for f in retry[start:start + BATCH]]
                answered, silent = _fly(chunk, wait)
                results += answered
                dropped, unexplained = _judge_silent(silent, nodes)
                results += dropped
                again += unexplained
            retry = again
        results += [_lost(f) for f in retry]
    return results
