"""Listeners that answer on a pod's ports, so that a probe that fails was dropped by the
ruleset and not refused for want of a server.

TCP: a request that starts like HTTP (``GET / HTTP/1.1``) gets a minimal ``HTTP/1.0 200``
response whose body names the pod, so ``curl`` works; other data, or none within a second,
gets the line ``stockade <ns/pod>``. UDP: every datagram gets a reply naming the pod.
Sockets are opened inside each pod's namespace (``in_netns``) and all served by one
selector loop.
"""

from __future__ import annotations

import collections
import errno
import re
import selectors
import socket
import threading
import time
from dataclasses import dataclass, field

from stockade.lab.system import in_netns

IDLE = 1.0  # seconds a client may stay silent before it gets the plain line
MAX_REQUEST = 8192
MAX_OPEN = 4096  # accepted connections kept at once; the oldest is answered first
_HTTP = re.compile(rb"[A-Z]+ \S+ HTTP/\d\.\d\r?\n")
_METHOD = re.compile(rb"[A-Z]{1,10}( |$)")


def answer(label: str, request: bytes) -> bytes:
    """What a TCP listener of pod ``label`` sends back for ``request``."""
    body = f"stockade {label}\n".encode()
    if not _HTTP.match(request):
        return body
    head = (f"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {len(body)}"
            "\r\nConnection: close\r\n\r\n").encode()
    return head if request.startswith(b"HEAD ") else head + body


def _complete(request: bytes) -> bool:
    """Whether to answer now: a whole HTTP head, or data that is not HTTP at all."""
    if len(request) >= MAX_REQUEST or not _METHOD.match(request[:11]):
        return True
    return b"\r\n\r\n" in request or b"\n\n" in request


@dataclass(slots=True)
class _Conn:
    sock: socket.socket
    label: str
    deadline: float
    request: bytes = b""
    closed: bool = False


@dataclass(slots=True)
class Responder:
    selector: selectors.DefaultSelector = field(default_factory=selectors.DefaultSelector)
    sockets: list[socket.socket] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    _open: collections.OrderedDict[int, _Conn] = field(
        default_factory=collections.OrderedDict)

    def listen(self, netns: str, label: str, port: int, protocol: str,
               families: tuple[int, ...], *, address: str = "") -> bool:
        """Open a listener on every address (or on ``address`` only: in a namespace holding
        several, a UDP reply must leave from the address the request went to); False when
        the port is already served (by the lab daemon)."""
        kind = socket.SOCK_STREAM if protocol == "TCP" else socket.SOCK_DGRAM
        opened = False
        with in_netns(netns):
            for family in families:
                af = socket.AF_INET if family == 4 else socket.AF_INET6
                sock = socket.socket(af, kind)
                try:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    if af == socket.AF_INET6:
                        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                    wildcard = "::" if af == socket.AF_INET6 else "0.0.0.0"
                    sock.bind((address or wildcard, port))
                    if kind == socket.SOCK_STREAM:
                        sock.listen(4096)
                except OSError as exc:
                    sock.close()
                    if exc.errno == errno.EADDRINUSE:
                        continue
                    raise
                sock.setblocking(False)
                self.sockets.append(sock)
                self.selector.register(sock, selectors.EVENT_READ, (label, kind))
                opened = True
        return opened

    def serve(self) -> None:
        while not self.stop.is_set():
            for key, _ in self.selector.select(timeout=0.2):
                if isinstance(key.data, _Conn):
                    if not key.data.closed:  # not already answered in this round
                        self._read(key.data)
                    continue
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                label, kind = key.data
                if kind == socket.SOCK_STREAM:
                    self._accept(sock, label)
                else:
                    self._reply(sock, label)
            self._expire(time.monotonic())

    def _accept(self, sock: socket.socket, label: str) -> None:
        for _ in range(256):
            try:
                conn, _ = sock.accept()
            except OSError:
                return  # nothing left to accept, or a client gone away
            conn.setblocking(False)
            state = _Conn(conn, label, time.monotonic() + IDLE)
            self._open[conn.fileno()] = state
            self.selector.register(conn, selectors.EVENT_READ, state)
            if len(self._open) > MAX_OPEN:
                self._finish(next(iter(self._open.values())))

    def _reply(self, sock: socket.socket, label: str) -> None:
        for _ in range(256):
            try:
                data, peer = sock.recvfrom(2048)
                sock.sendto(b"stockade " + label.encode() + b" " + data[:64], peer)
            except OSError:
                return  # nothing left to read, or a client gone away

    def _read(self, conn: _Conn) -> None:
        try:
            data = conn.sock.recv(MAX_REQUEST)
        except BlockingIOError:
            return
        except OSError:
            self._close(conn)  # reset by the client: probes end that way
            return
        if not data:
            self._finish(conn)
            return
        conn.request += data
        if _complete(conn.request):
            self._finish(conn)

    def _finish(self, conn: _Conn) -> None:
        try:
            conn.sock.send(answer(conn.label, conn.request))
            conn.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the client has gone: nothing to tell it
        self._close(conn)

    def _close(self, conn: _Conn) -> None:
        if conn.closed:
            return
        conn.closed = True
        self._open.pop(conn.sock.fileno(), None)
        self.selector.unregister(conn.sock)
        conn.sock.close()

    def _expire(self, now: float) -> None:
        while self._open:
            oldest = next(iter(self._open.values()))
            if oldest.deadline > now:
                return
            self._finish(oldest)

    def close(self) -> None:
        self.stop.set()
        for conn in list(self._open.values()):
            self._close(conn)
        for sock in self.sockets:
            self.selector.unregister(sock)
            sock.close()
        self.sockets.clear()
        self.selector.close()
