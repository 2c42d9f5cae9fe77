"""Listeners that answer on a pod's ports, so that a probe that fails was dropped by the
ruleset and not refused for want of a server.

TCP: accept, write a line naming the pod, close. UDP: reply to every datagram. Sockets are
opened inside each pod's namespace (``in_netns``) and all served by one selector loop.
"""

from __future__ import annotations

import errno
import selectors
import socket
import threading
from dataclasses import dataclass, field

from stockade.lab.system import in_netns


@dataclass(slots=True)
class Responder:
    selector: selectors.DefaultSelector = field(default_factory=selectors.DefaultSelector)
    sockets: list[socket.socket] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def listen(self, netns: str, label: str, port: int, protocol: str,
               families: tuple[int, ...]) -> bool:
        """Open a listener; False when the port is already served (by the lab daemon)."""
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
                    sock.bind(("::" if af == socket.AF_INET6 else "0.0.0.0", port))
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
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                label, kind = key.data
                try:
                    if kind == socket.SOCK_STREAM:
                        conn, _ = sock.accept()
                        with conn:
                            conn.setblocking(True)
                            conn.settimeout(0.5)
                            conn.sendall(f"stockade {label}\n".encode())
                    else:
                        data, peer = sock.recvfrom(2048)
                        sock.sendto(b"stockade " + label.encode() + b" " + data[:64], peer)
                except OSError:
                    continue  # a client gone away: keep serving the others

    def close(self) -> None:
        self.stop.set()
        for sock in self.sockets:
            self.selector.unregister(sock)
            sock.close()
        self.sockets.clear()
        self.selector.close()
