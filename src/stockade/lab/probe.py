"""Real probes: TCP connects and UDP request/reply, from inside each source pod's namespace,
all in flight at once from one thread, each with a short timeout.

The destination address is of the family the engine judges a pod-to-pod connection by:
the source's primary family when the destination has it, else a family both have; pods
with no family in common cannot talk at all, and such a pair is reported as untestable.
A listener answers on every probed port (the lab daemon's, or one opened here for ports no
pod declared), so "dropped" means the ruleset dropped it.
SCTP is probed only where the kernel has SCTP sockets; elsewhere it is "untestable".
"""

from __future__ import annotations

import contextlib
import errno
import resource
import select
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from stockade.engine.traffic import connection_family
from stockade.lab.listeners import Responder
from stockade.lab.system import in_netns

REACHABLE, DROPPED, REFUSED, UNTESTABLE = "reachable", "dropped", "refused", "untestable"
BATCH = 1000
PAYLOAD = b"stockade-probe"


@dataclass(frozen=True, slots=True)
class Target:
    key: str
    netns: str
    ips: tuple[str, ...]

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
    try:
        for t in targets:
            for port, protocol in ports:
                if protocol in ("TCP", "UDP"):
                    responder.listen(t.netns, t.key, port, protocol, t.families())
        thread = threading.Thread(target=responder.serve, daemon=True)
        thread.start()
        yield
    finally:
        responder.stop.set()
        if "thread" in locals():
            thread.join()
        responder.close()


@dataclass(slots=True)
class _Flight:
    sock: socket.socket
    src: str
    dst: str
    port: int
    protocol: str
    address: str


def _launch(src: Target, dst: Target, port: int, protocol: str, *, family: int,
            address: str) -> _Flight | Probe:
    af = socket.AF_INET if family == 4 else socket.AF_INET6
    kind = socket.SOCK_DGRAM if protocol == "UDP" else socket.SOCK_STREAM
    proto = socket.IPPROTO_SCTP if protocol == "SCTP" else 0
    sock = socket.socket(af, kind, proto)
    sock.setblocking(False)
    try:
        if kind == socket.SOCK_DGRAM:
            sock.connect((address, port))
            sock.send(PAYLOAD)
        else:
            code = sock.connect_ex((address, port))
            if code not in (0, errno.EINPROGRESS):
                sock.close()
                return Probe(src.key, dst.key, port, protocol, address, REFUSED,
                             errno.errorcode.get(code, str(code)))
    except OSError as exc:
        sock.close()
        return Probe(src.key, dst.key, port, protocol, address, REFUSED, str(exc))
    return _Flight(sock, src.key, dst.key, port, protocol, address)


def _land(flights: list[_Flight], timeout: float) -> list[Probe]:
    poller = select.poll()
    by_fd = {}
    for f in flights:
        events = select.POLLIN if f.protocol == "UDP" else select.POLLOUT
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
            if code == 0 and f.protocol == "UDP":
                try:
                    f.sock.recv(2048)
                except OSError as exc:
                    code = exc.errno or errno.EIO
            outcome = REACHABLE if code == 0 else REFUSED
            detail = "" if code == 0 else errno.errorcode.get(code, str(code))
            done.append(Probe(f.src, f.dst, f.port, f.protocol, f.address, outcome, detail))
            f.sock.close()
    for f in by_fd.values():
        done.append(Probe(f.src, f.dst, f.port, f.protocol, f.address, DROPPED))
        f.sock.close()
    return done


def probe_all(targets: Sequence[Target], ports: Sequence[tuple[int, str]], *,
              timeout: float = 0.5, pairs: Sequence[tuple[Target, Target]] | None = None,
              open_listeners: bool = True) -> list[Probe]:
    """Probe every (source, destination, port) of ``targets`` (or of ``pairs``)."""
    _raise_fd_limit()
    sctp = sctp_supported()
    pair_list = list(pairs) if pairs is not None else [(s, d) for s in targets for d in targets]
    results: list[Probe] = []
    planned: list[tuple[Target, Target, int, str, int, str]] = []
    for src, dst in pair_list:
        for port, protocol in ports:
            family = src.family_towards(dst)
            address = dst.address(family)
            if protocol == "SCTP" and not sctp:
                results.append(Probe(src.key, dst.key, port, protocol, address or "",
                                     UNTESTABLE, "not testable on this kernel (no SCTP "
                                     "sockets)"))
            elif address is None:
                results.append(Probe(src.key, dst.key, port, protocol, "", UNTESTABLE,
                                     f"{dst.key} has no IPv{family} address"))
            else:
                planned.append((src, dst, port, protocol, family, address))
    context = (listeners_for(targets, ports) if open_listeners
               else contextlib.nullcontext())
    with context:
        for start in range(0, len(planned), BATCH):
            batch = sorted(planned[start:start + BATCH], key=lambda p: p[0].netns)
            flights: list[_Flight] = []
            current = ""
            stack = contextlib.ExitStack()
            with stack:
                for src, dst, port, protocol, family, address in batch:
                    if src.netns != current:
                        stack.close()
                        stack.enter_context(in_netns(src.netns))
                        current = src.netns
                    launched = _launch(src, dst, port, protocol, family=family, address=address)
                    if isinstance(launched, Probe):
                        results.append(launched)
                    else:
                        flights.append(launched)
            results += _land(flights, timeout)
    return results
