"""A double of the Kubernetes API server, for the lab's agents: a real API server cannot run
on these machines, so this one answers what the agents ask the way kube-apiserver shapes
it. It is a test double, not an API server: it keeps objects in memory, validates nothing
and knows no RBAC beyond deny rules.

Over HTTPS (a CA and a serving certificate made at start, a bearer token per user) it
serves, for Namespaces, Nodes, Pods, NetworkPolicies and the cluster-wide policies
(ClusterNetworkPolicy, AdminNetworkPolicy, BaselineAdminNetworkPolicy): lists
(``limit``/``continue`` pages, the list's ``resourceVersion``), watches (events after a
``resourceVersion``, ``BOOKMARK`` events when asked with ``allowWatchBookmarks``, the stream
ended after ``timeoutSeconds``, ``ERROR`` with a ``410 Expired`` Status for a version older
than the history it keeps), a ``metadata.name`` field selector, get, create, replace and delete
with ``resourceVersion`` conflicts; every error is a ``Status`` object worded as the real
server words it. Every change gets the next resourceVersion, as etcd's revision.

It listens on 127.0.0.1 inside each of the lab's node namespaces (each node's agent reaches
it on its own loopback, so its traffic never crosses the node's ruleset) and on 127.0.0.1
in the namespace it was started in, the lab's own door, which stays open while the nodes'
are shut (``pause``): how the lab makes the API unreachable for a while, changes objects
meanwhile, and lets the agents back (``resume``). ``compact`` forgets the history, so that
a watch resuming from before gets ``410 Gone``. ``python -m stockade.lab.apiserver
CONFIG`` runs it as the lab's process; tests use the class directly.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import ipaddress
import json
import signal
import socket
import ssl
import sys
import tempfile
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from stockade.lab.system import in_netns
from stockade.sources.cluster_kinds import CLUSTER_POLICIES

HISTORY = 10000  # events kept for watches to resume from
BOOKMARK_SECONDS = 1.0  # the real server sends one about every minute; the lab wants more
PORT = 6443

# (group, version, plural) -> (kind, namespaced)
SERVED: dict[tuple[str, str, str], tuple[str, bool]] = {
    ("", "v1", "namespaces"): ("Namespace", False),
    ("", "v1", "nodes"): ("Node", False),
    ("", "v1", "pods"): ("Pod", True),
    ("networking.k8s.io", "v1", "networkpolicies"): ("NetworkPolicy", True),
    **{(k.group, k.version, k.plural): (k.kind, False) for k in CLUSTER_POLICIES},
}
PLURALS = {kind: plural for (_, _, plural), (kind, _) in SERVED.items()}
API_VERSIONS = {kind: (f"{g}/{v}" if g else v) for (g, v, _), (kind, _) in SERVED.items()}


def status(code: int, reason: str, message: str,
           details: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A ``Status`` object, as the API server sends with an error."""
    body: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": {},
                            "status": "Failure", "message": message, "reason": reason,
                            "code": code}
    if details is not None:
        body["details"] = dict(details)
    return body


class Gone(Exception):
    """A resourceVersion older than the history kept."""


@dataclass(frozen=True, slots=True)
class Deny:
    """RBAC stand-in: ``user`` (``None``: anyone but the lab) may not ``verb`` ``plural``."""

    verb: str
    plural: str
    user: str | None = None


@dataclass(frozen=True, slots=True)
class Seen:
    """A request as the double saw it (for tests: what the client asked)."""

    method: str
    path: str
    query: dict[str, str]
    user: str | None


@dataclass(slots=True)
class _Event:
    version: int
    plural: str
    type: str
    obj: dict[str, Any]


def _key(obj: Mapping[str, Any]) -> tuple[str, str]:
    meta = obj.get("metadata") or {}
    return str(meta.get("namespace") or ""), str(meta.get("name") or "")


class Store:
    """Objects by plural and (namespace, name), one revision counter, recent history."""

    def __init__(self, history: int = HISTORY) -> None:
        self.revision = 1
        self.objects: dict[str, dict[tuple[str, str], dict[str, Any]]] = {
            p: {} for p in PLURALS.values()}
        self.history: deque[_Event] = deque(maxlen=history)
        self.oldest = 1  # a watch may resume from this revision or later
        self.changed = threading.Condition()

    def _record(self, plural: str, kind: str, obj: dict[str, Any]) -> None:
        self.history.append(_Event(self.revision, plural, kind, obj))
        if len(self.history) == self.history.maxlen:
            self.oldest = self.history[0].version - 1
        self.changed.notify_all()

    def items(self, plural: str, namespace: str, name: str = "") -> tuple[
            list[dict[str, Any]], int]:
        with self.changed:  # stored objects are replaced, never changed: no copies needed
            items = [o for (ns, n), o in sorted(self.objects[plural].items())
                     if (not namespace or ns == namespace) and (not name or n == name)]
            return items, self.revision

    def get(self, plural: str, namespace: str, name: str) -> dict[str, Any] | None:
        with self.changed:
            found = self.objects[plural].get((namespace, name))
            return _copy(found) if found is not None else None

    def put(self, plural: str, obj: dict[str, Any], *, create: bool,
            expect_version: str = "") -> tuple[int, dict[str, Any]]:
        """Create or replace; (HTTP code, the stored object or a Status)."""
        kind = _kind_of(plural)
        with self.changed:
            key = _key(obj)
            old = self.objects[plural].get(key)
            what = f'{plural} "{key[1]}"'
            if create and old is not None:
                return 409, status(409, "AlreadyExists", f"{what} already exists",
                                   {"name": key[1], "kind": plural})
            if not create and old is None:
                return 404, status(404, "NotFound", f"{what} not found",
                                   {"name": key[1], "kind": plural})
            if old is not None and expect_version and \
                    old["metadata"]["resourceVersion"] != expect_version:
                return 409, status(409, "Conflict", f"Operation cannot be fulfilled on {what}: "
                                   "the object has been modified; please apply your changes "
                                   "to the latest version and try again",
                                   {"name": key[1], "kind": plural})
            self.revision += 1
            stored = _copy(obj)
            stored["apiVersion"] = API_VERSIONS[kind]
            stored["kind"] = kind
            meta = stored.setdefault("metadata", {})
            meta["resourceVersion"] = str(self.revision)
            if old is None:
                meta["uid"] = str(uuid.uuid4())
                meta["creationTimestamp"] = _now()
            else:
                meta["uid"] = old["metadata"]["uid"]
                meta["creationTimestamp"] = old["metadata"]["creationTimestamp"]
            self.objects[plural][key] = stored
            self._record(plural, "ADDED" if old is None else "MODIFIED", stored)
            return (201 if old is None else 200), _copy(stored)

    def delete(self, plural: str, namespace: str, name: str) -> dict[str, Any] | None:
        with self.changed:
            old = self.objects[plural].pop((namespace, name), None)
            if old is None:
                return None
            self.revision += 1
            old = _copy(old)
            old["metadata"]["resourceVersion"] = str(self.revision)
            self._record(plural, "DELETED", old)
            return old

    def compact(self) -> None:
        """Forget the history: every watch resuming from before now gets 410 Gone."""
        with self.changed:
            self.history.clear()
            self.oldest = self.revision

    def since(self, version: int, plural: str) -> list[_Event]:
        """Events of ``plural`` after ``version`` (the caller holds ``changed``)."""
        if version < self.oldest:
            raise Gone
        return [e for e in self.history if e.version > version and e.plural == plural]


def _copy(obj: Mapping[str, Any]) -> dict[str, Any]:
    copied: dict[str, Any] = json.loads(json.dumps(obj))
    return copied


def _kind_of(plural: str) -> str:
    return next(k for k, p in PLURALS.items() if p == plural)


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _encode_continue(version: int, after: str) -> str:
    token = json.dumps({"rv": version, "start": after}).encode()
    return base64.urlsafe_b64encode(token).decode().rstrip("=")


def _decode_continue(token: str) -> tuple[int, str]:
    data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    return int(data["rv"]), str(data["start"])


# --- TLS ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Credentials:
    """A CA, and a serving certificate for 127.0.0.1 and localhost it signed (PEM)."""

    ca_pem: bytes
    cert_pem: bytes
    key_pem: bytes

    @classmethod
    def make(cls) -> Credentials:
        now = datetime.datetime.now(datetime.UTC)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "stockade lab CA")])
        ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
              .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
              .not_valid_before(now - datetime.timedelta(minutes=5))
              .not_valid_after(now + datetime.timedelta(days=30))
              .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
              .add_extension(x509.KeyUsage(
                  digital_signature=True, content_commitment=False, key_encipherment=False,
                  data_encipherment=False, key_agreement=False, key_cert_sign=True,
                  crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
              .sign(ca_key, hashes.SHA256()))
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME,
                                                            "kube-apiserver")]))
                .issuer_name(ca_name).public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(minutes=5))
                .not_valid_after(now + datetime.timedelta(days=30))
                .add_extension(x509.SubjectAlternativeName([
                    x509.DNSName("localhost"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
                .add_extension(x509.ExtendedKeyUsage(
                    [x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                .sign(ca_key, hashes.SHA256()))
        return cls(ca.public_bytes(serialization.Encoding.PEM),
                   cert.public_bytes(serialization.Encoding.PEM),
                   key.private_bytes(serialization.Encoding.PEM,
                                     serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption()))

    def context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        with tempfile.TemporaryDirectory() as tmp:
            cert, key = Path(tmp) / "cert.pem", Path(tmp) / "key.pem"
            cert.write_bytes(self.cert_pem)
            key.write_bytes(self.key_pem)
            ctx.load_cert_chain(cert, key)
        return ctx


def kubeconfig(server: str, ca_pem: bytes, token: str, *, name: str = "lab") -> dict[str, Any]:
    """A kubeconfig for ``server`` that trusts the lab's CA and sends ``token``."""
    return {
        "apiVersion": "v1", "kind": "Config", "current-context": name,
        "clusters": [{"name": name, "cluster": {
            "server": server,
            "certificate-authority-data": base64.b64encode(ca_pem).decode()}}],
        "users": [{"name": name, "user": {"token": token}}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
    }


# --- HTTP ----------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, sock: socket.socket, double: ApiServerDouble, *, door: bool) -> None:
        super().__init__(sock.getsockname()[:2], _Handler, bind_and_activate=False)
        self.socket.close()
        self.socket = sock
        self.double = double
        self.door = door  # the lab's own door, never paused

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away or failed its handshake: nothing to report."""

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = self.socket.accept()
        # The handshake happens in the handler's thread, never in the accepting one.
        wrapped = self.double.tls.wrap_socket(sock, server_side=True,
                                              do_handshake_on_connect=False)
        self.double.track(wrapped, self.door)
        return wrapped, address


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    wbufsize = 1 << 16

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def setup(self) -> None:
        conn = self.request
        if isinstance(conn, ssl.SSLSocket):
            conn.settimeout(10.0)
            conn.do_handshake()  # a failure ends this request (quietly: handle_error)
            conn.settimeout(None)
        super().setup()

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()
        self.server.double.untrack(self.request)

    @property
    def double(self) -> ApiServerDouble:
        return self.server.double

    def _user(self) -> str | None:
        header = self.headers.get("Authorization", "")
        return self.double.tokens.get(header.removeprefix("Bearer ")) \
            if header.startswith("Bearer ") else None

    def _send(self, code: int, body: Mapping[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> dict[str, Any] | None:
        length = int(self.headers.get("Content-Length") or 0)
        try:
            data = json.loads(self.rfile.read(length) or b"null")
        except ValueError:
            data = None
        if not isinstance(data, dict):
            self._send(400, status(400, "BadRequest", "the request body is not a JSON object"))
            return None
        return data

    def _route(self) -> tuple[str, str, str, dict[str, str]] | None:
        """(plural, namespace, name, query) of an API path, or an error sent."""
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        segs = [s for s in parts.path.split("/") if s]
        if segs[:1] == ["api"] and len(segs) >= 2:
            group, version, rest = "", segs[1], segs[2:]
        elif segs[:1] == ["apis"] and len(segs) >= 3:
            group, version, rest = segs[1], segs[2], segs[3:]
        else:
            group, version, rest = "", "", []
        namespace = name = plural = ""
        if len(rest) >= 3 and rest[0] == "namespaces" and \
                (group, version, rest[2]) in SERVED:
            namespace, plural, name = rest[1], rest[2], rest[3] if len(rest) > 3 else ""
            if len(rest) > 4:
                plural = ""
        elif rest and (group, version, rest[0]) in SERVED:
            plural = rest[0]
            name = rest[1] if len(rest) == 2 else ""
            if len(rest) > 2:
                plural = ""
        served = SERVED.get((group, version, plural))
        if served is None or (namespace and not served[1]) \
                or served[0] in self.server.double.not_served:
            self._send(404, status(404, "NotFound", "the server could not find the "
                                   "requested resource", {}))
            return None
        return plural, namespace, name, query

    def _allowed(self, verb: str, plural: str) -> str | None:
        """The user, when authenticated and not denied ``verb`` on ``plural``; else None
        and the error sent."""
        user = self._user()
        if user is None:
            self._send(401, status(401, "Unauthorized", "Unauthorized"))
            return None
        if self.double.denied(user, verb, plural):
            group = next(g for (g, _, p) in SERVED if p == plural)
            resource = f"{plural}.{group}" if group else plural
            self._send(403, status(
                403, "Forbidden", f'{resource} is forbidden: User "{user}" cannot {verb} '
                f'resource "{plural}" in API group "{group}" at the cluster scope',
                {"group": group, "kind": plural} if group else {"kind": plural}))
            return None
        return user

    # -- verbs --------------------------------------------------------------------------------

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        self.double.seen.append(Seen("GET", parts.path, {k: v[0] for k, v in
                                                         parse_qs(parts.query).items()},
                                     self._user()))
        if self.path.startswith("/stockade/") and self._admin():
            return
        route = self._route()
        if route is None:
            return
        plural, namespace, name, query = route
        if name:
            if self._allowed("get", plural) is None:
                return
            found = self.double.store.get(plural, namespace, name)
            if found is None:
                self._send(404, status(404, "NotFound", f'{plural} "{name}" not found',
                                       {"name": name, "kind": plural}))
            else:
                self._send(200, found)
            return
        watching = query.get("watch") in ("true", "1")
        if self._allowed("watch" if watching else "list", plural) is None:
            return
        selected = _field_name(query.get("fieldSelector", ""))
        if selected is None:
            self._send(400, status(400, "BadRequest", "unable to parse requirement: only "
                                   "metadata.name=NAME is supported by this double"))
            return
        if watching:
            self._watch(plural, namespace, selected, query)
        else:
            self._list(plural, namespace, selected, query)

    def _list(self, plural: str, namespace: str, name: str, query: Mapping[str, str]) -> None:
        items, version = self.double.store.items(plural, namespace, name)
        after = ""
        if query.get("continue"):
            try:
                version, after = _decode_continue(query["continue"])
            except (ValueError, KeyError):
                self._send(400, status(400, "BadRequest", "invalid continue token"))
                return
            if version < self.double.store.oldest:
                self._send(410, status(410, "Expired", "The provided continue parameter is "
                                       "too old to display a consistent list result. You can "
                                       "start a new list without the continue parameter."))
                return
            items = [o for o in items if "/".join(_key(o)) > after]
        meta: dict[str, Any] = {"resourceVersion": str(version)}
        limit = int(query.get("limit") or 0)
        if limit and len(items) > limit:
            items, rest = items[:limit], items[limit:]
            meta["continue"] = _encode_continue(version, "/".join(_key(items[-1])))
            meta["remainingItemCount"] = len(rest)
        kind = _kind_of(plural)
        bare = [{k: v for k, v in o.items() if k not in ("apiVersion", "kind")} for o in items]
        self._send(200, {"kind": f"{kind}List", "apiVersion": API_VERSIONS[kind],
                         "metadata": meta, "items": bare})

    def _chunk(self, body: Mapping[str, Any]) -> None:
        data = json.dumps(body).encode() + b"\n"
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _watch(self, plural: str, namespace: str, name: str, query: Mapping[str, str]) -> None:
        store = self.double.store
        bookmarks = query.get("allowWatchBookmarks") in ("true", "1")
        seconds = float(query.get("timeoutSeconds") or 1800)
        deadline = time.monotonic() + seconds
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")  # the stream ends the connection
        self.end_headers()
        kind = _kind_of(plural)

        def wanted(obj: Mapping[str, Any]) -> bool:
            ns, n = _key(obj)
            return (not namespace or ns == namespace) and (not name or n == name)

        try:
            start = query.get("resourceVersion") or "0"
            if start == "0":  # "any": the current state as ADDED, then what follows
                items, version = store.items(plural, namespace, name)
                for obj in items:
                    self._chunk({"type": "ADDED", "object": obj})
            else:
                version = int(start)
            last_bookmark = time.monotonic()
            while not self.double.closing(self.server.door):
                if self.double.stalled:
                    time.sleep(0.05)
                    continue
                with store.changed:
                    try:
                        events = store.since(version, plural)
                    except Gone:
                        self._chunk({"type": "ERROR", "object": status(
                            410, "Expired", f"too old resource version: {version} "
                            f"({store.oldest})")})
                        break
                    if not events:
                        store.changed.wait(0.2)
                        events = store.since(version, plural)
                    current = store.revision  # every event up to here is in ``events``
                for event in events:
                    if wanted(event.obj):
                        self._chunk({"type": event.type, "object": event.obj})
                version = current
                now = time.monotonic()
                if now >= deadline:
                    break
                if bookmarks and now - last_bookmark >= self.double.bookmark_seconds:
                    last_bookmark = now
                    self._chunk({"type": "BOOKMARK", "object": {
                        "kind": kind, "apiVersion": API_VERSIONS[kind],
                        "metadata": {"resourceVersion": str(version)}}})
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (OSError, ValueError):
            pass
        self.close_connection = True

    def do_POST(self) -> None:
        self._write(create=True)

    def do_PUT(self) -> None:
        self._write(create=False)

    def _write(self, *, create: bool) -> None:
        route = self._route()
        if route is None:
            return
        plural, namespace, name, _ = route
        if self._allowed("create" if create else "update", plural) is None:
            return
        body = self._body()
        if body is None:
            return
        meta = body.setdefault("metadata", {})
        if namespace:
            meta["namespace"] = namespace
        if not create and meta.get("name") != name:
            self._send(400, status(400, "BadRequest", "the name of the object does not "
                                   "match the name on the URL"))
            return
        if not meta.get("name"):
            self._send(422, status(422, "Invalid", "metadata.name: Required value: name "
                                   "or generateName is required"))
            return
        code, stored = self.double.store.put(plural, body, create=create,
                                             expect_version=str(meta.get("resourceVersion")
                                                                or ""))
        self._send(code, stored)

    def do_DELETE(self) -> None:
        route = self._route()
        if route is None:
            return
        plural, namespace, name, _ = route
        if self._allowed("delete", plural) is None:
            return
        old = self.double.store.delete(plural, namespace, name)
        if old is None:
            self._send(404, status(404, "NotFound", f'{plural} "{name}" not found',
                                   {"name": name, "kind": plural}))
        else:
            self._send(200, old)

    def _admin(self) -> bool:
        """The lab's controls (on its own door only): pause, resume, compact, deny."""
        if not self.server.door or self._user() != self.double.admin_user:
            return False
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        action = parts.path.removeprefix("/stockade/")
        if action == "pause":
            self.double.pause()
        elif action == "resume":
            self.double.resume()
        elif action == "compact":
            self.double.store.compact()
        elif action == "deny":
            self.double.denies.append(Deny(query["verb"], query["plural"], query.get("user")))
        elif action == "allow":
            self.double.denies.clear()
        elif action != "status":
            return False
        self._send(200, {"revision": self.double.store.revision,
                         "paused": self.double.paused})
        return True


def _field_name(selector: str) -> str | None:
    """The name a ``metadata.name=NAME`` selector asks for ("" for none); None otherwise."""
    if not selector:
        return ""
    key, op, value = selector.partition("=")
    if key != "metadata.name" or op != "=" or not value:
        return None
    return value.removeprefix("=")


# --- the double ----------------------------------------------------------------------------


@dataclass
class ApiServerDouble:
    """Listeners in the given network namespaces (each on 127.0.0.1:``port``) and one door
    for the lab in the caller's namespace, over one store."""

    netns: list[str] = field(default_factory=list)
    port: int = PORT
    door_port: int = 0  # 0: any free port
    tokens: dict[str, str] = field(default_factory=dict)  # bearer token -> user
    admin_user: str = "stockade-lab"
    bookmark_seconds: float = BOOKMARK_SECONDS
    store: Store = field(default_factory=Store)
    denies: list[Deny] = field(default_factory=list)
    credentials: Credentials = field(default_factory=Credentials.make)
    paused: bool = False
    stalled: bool = False  # open watches stay open and say nothing (a dead link's view)
    seen: list[Seen] = field(default_factory=list)
    not_served: frozenset[str] = frozenset()  # kinds answered 404, as a CRD not installed

    def __post_init__(self) -> None:
        self.tls = self.credentials.context()
        self._servers: list[_Server] = []
        self._door: _Server | None = None
        self._connections: dict[ssl.SSLSocket, bool] = {}  # -> on the door
        self._lock = threading.Lock()

    # -- addresses and credentials ----------------------------------------------------------

    @property
    def url(self) -> str:
        """Where the agents find it (inside their node's namespace)."""
        return f"https://127.0.0.1:{self.port}"

    @property
    def door_url(self) -> str:
        assert self._door is not None
        return f"https://127.0.0.1:{self._door.server_address[1]}"

    def token_for(self, user: str) -> str:
        for token, name in self.tokens.items():
            if name == user:
                return token
        token = uuid.uuid4().hex
        self.tokens[token] = user
        return token

    def kubeconfig(self, user: str, *, door: bool = False) -> dict[str, Any]:
        return kubeconfig(self.door_url if door else self.url, self.credentials.ca_pem,
                          self.token_for(user))

    def denied(self, user: str, verb: str, plural: str) -> bool:
        return user != self.admin_user and any(
            d.verb == verb and d.plural == plural and d.user in (None, user)
            for d in self.denies)

    # -- running ----------------------------------------------------------------------------

    def start(self) -> ApiServerDouble:
        self.token_for(self.admin_user)
        door = socket.create_server(("127.0.0.1", self.door_port))
        self._door = self._serve(door, door=True)
        self.resume()
        return self

    def _serve(self, sock: socket.socket, *, door: bool) -> _Server:
        server = _Server(sock, self, door=door)
        threading.Thread(target=server.serve_forever, args=(0.1,), daemon=True).start()
        return server

    def _listen(self, netns: str) -> socket.socket:
        with in_netns(netns):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        sock.listen(64)
        return sock

    def resume(self) -> None:
        """Open the nodes' doors (again)."""
        with self._lock:
            if self._servers:
                return
            for netns in self.netns:
                self._servers.append(self._serve(self._listen(netns), door=False))
            self.paused = False

    def pause(self) -> None:
        """Shut the nodes' doors: new connections are refused, open ones cut."""
        with self._lock:
            servers, self._servers = self._servers, []
            self.paused = True
            cut = [c for c, on_door in self._connections.items() if not on_door]
        for server in servers:
            server.shutdown()
            server.server_close()
        for conn in cut:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def closing(self, door: bool) -> bool:
        return self.paused and not door

    def track(self, conn: ssl.SSLSocket, door: bool) -> None:
        with self._lock:
            self._connections[conn] = door

    def untrack(self, conn: Any) -> None:
        with self._lock:
            self._connections.pop(conn, None)

    def stop(self) -> None:
        self.pause()
        if self._door is not None:
            self._door.shutdown()
            self._door.server_close()
        with self._lock:
            rest = list(self._connections)
        for conn in rest:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> ApiServerDouble:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- objects (for tests and the lab, in process) ------------------------------------------

    def apply(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        """Create or replace ``obj`` (as a manifest), whatever its version."""
        plural = PLURALS[str(obj["kind"])]
        data = _copy(obj)
        data.setdefault("metadata", {}).pop("resourceVersion", None)
        code, stored = self.store.put(plural, data, create=True)
        if code == 409:
            code, stored = self.store.put(plural, data, create=False)
        return stored

    def remove(self, kind: str, namespace: str, name: str) -> None:
        self.store.delete(PLURALS[kind], namespace, name)


# --- the lab's process -----------------------------------------------------------------------


def main(argv: list[str]) -> int:
    """``python -m stockade.lab.apiserver CONFIG``: CONFIG (JSON) names the node namespaces,
    the port and where to write the kubeconfigs; prints ``ready`` when serving."""
    config = json.loads(Path(argv[0]).read_text())
    double = ApiServerDouble(netns=list(config["netns"]), port=int(config.get("port", PORT)),
                             bookmark_seconds=float(config.get("bookmark_seconds",
                                                               BOOKMARK_SECONDS)))
    stop = threading.Event()

    def quit_(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, quit_)
    signal.signal(signal.SIGINT, quit_)
    with double:
        for user, path in config.get("kubeconfigs", {}).items():
            _write_private(Path(path), json.dumps(double.kubeconfig(user)))
        _write_private(Path(config["admin_kubeconfig"]),
                       json.dumps(double.kubeconfig(double.admin_user, door=True)))
        print("ready", flush=True)
        sys.stdout.close()
        stop.wait()
    return 0


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(text)


@contextlib.contextmanager
def running(**kwargs: Any) -> Iterator[ApiServerDouble]:
    with ApiServerDouble(**kwargs) as double:
        yield double


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
