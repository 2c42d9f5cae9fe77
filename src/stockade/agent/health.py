"""The agent's HTTP endpoints on ``--metrics-address``: ``/healthz`` (the loop is alive),
``/readyz`` (the first complete list is loaded into the kernel and nothing keeps the
ruleset from the node's pod traffic) and ``/metrics`` (Prometheus text format).

Plain HTTP (what kubelet probes and Prometheus scrape on a host port), read-only, served
from a thread of its own so that a slow scrape never holds the loop up.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

LIVENESS_SECONDS = 120.0  # the loop must come round at least this often to be alive


@dataclass
class Health:
    """What the endpoints report; the loop writes it, the server reads it."""

    beat: float = field(default_factory=time.monotonic)
    synced: bool = False  # the first complete list is in the kernel
    reasons: list[str] = field(default_factory=lambda: ["not synced yet: waiting for the "
                                                        "first complete list"])
    lock: threading.Lock = field(default_factory=threading.Lock)
    liveness_seconds: float = LIVENESS_SECONDS

    def alive(self) -> bool:
        return time.monotonic() - self.beat < self.liveness_seconds

    def tick(self) -> None:
        self.beat = time.monotonic()

    def set_ready(self, reasons: list[str]) -> None:
        """Ready when ``reasons`` (why not) is empty."""
        with self.lock:
            self.reasons = list(reasons)

    def not_ready(self) -> list[str]:
        with self.lock:
            return list(self.reasons)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, code: int, body: bytes, content_type: str = "text/plain") -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        health = self.server.health
        path = self.path.split("?")[0]
        if path == "/healthz":
            if health.alive():
                self._send(200, b"ok\n")
            else:
                ago = time.monotonic() - health.beat
                self._send(503, f"the agent's loop has not come round for {ago:.0f} s\n"
                           .encode())
        elif path == "/readyz":
            reasons = health.not_ready()
            if not reasons:
                self._send(200, b"ok\n")
            else:
                self._send(503, ("".join(f"{r}\n" for r in reasons)).encode())
        elif path == "/metrics":
            self._send(200, generate_latest(self.server.registry), CONTENT_TYPE_LATEST)
        else:
            self._send(404, b"not found: /healthz, /readyz, /metrics\n")


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], health: Health,
                 registry: CollectorRegistry) -> None:
        super().__init__(address, _Handler)
        self.health = health
        self.registry = registry


class _Server6(_Server):
    address_family = socket.AF_INET6


def serve(address: tuple[str, int], health: Health,
          registry: CollectorRegistry) -> ThreadingHTTPServer:
    """Start serving in a thread; the caller shuts it down."""
    kind = _Server6 if ":" in address[0] else _Server
    server = kind(address, health, registry)
    threading.Thread(target=server.serve_forever, args=(0.2,), daemon=True).start()
    return server
