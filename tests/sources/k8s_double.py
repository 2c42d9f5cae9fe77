"""A test double of the Kubernetes API server: no real API server can run on this machine.

A stdlib HTTPS server (``http.server`` + ``ssl`` in a thread, certificates from ``trustme``)
that answers GET requests the way kube-apiserver shapes them: ``PodList``-style lists with
``metadata.resourceVersion``, ``limit``/``continue`` pagination over items sorted by
namespace/name, and ``Status`` objects for 401, 403, 404 and 410 worded like the real server.
It authenticates bearer tokens and client certificates (the CN is the user) and applies
deny rules in place of RBAC. It records every request so tests can check what was asked.
"""

from __future__ import annotations

import base64
import json
import ssl
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import trustme

# (group, version, plural) -> kind; what this server serves.
SERVED: dict[tuple[str, str, str], str] = {
    ("", "v1", "namespaces"): "Namespace",
    ("", "v1", "nodes"): "Node",
    ("policy.networking.k8s.io", "v1alpha2", "clusternetworkpolicies"): "ClusterNetworkPolicy",
    ("policy.networking.k8s.io", "v1alpha1", "adminnetworkpolicies"): "AdminNetworkPolicy",
    ("policy.networking.k8s.io", "v1alpha1", "baselineadminnetworkpolicies"):
        "BaselineAdminNetworkPolicy",
    ("", "v1", "pods"): "Pod",
    ("", "v1", "services"): "Service",
    ("", "v1", "replicationcontrollers"): "ReplicationController",
    ("networking.k8s.io", "v1", "networkpolicies"): "NetworkPolicy",
    ("apps", "v1", "deployments"): "Deployment",
    ("apps", "v1", "replicasets"): "ReplicaSet",
    ("apps", "v1", "statefulsets"): "StatefulSet",
    ("apps", "v1", "daemonsets"): "DaemonSet",
    ("batch", "v1", "jobs"): "Job",
    ("batch", "v1", "cronjobs"): "CronJob",
}

# The cluster-wide policy CRDs: a cluster without them answers 404 (see ``unserved``).
POLICY_CRDS = {"clusternetworkpolicies", "adminnetworkpolicies", "baselineadminnetworkpolicies"}

EXPIRED_MESSAGE = (
    "The provided continue parameter is too old to display a consistent list result. You can "
    "start a new list without the continue parameter, or use the continue token in this "
    "response to retrieve the remainder of the results. Continuing with the provided token "
    "results in an inconsistent list - objects that were created, modified, or deleted "
    "between the time the first chunk was returned and now may show up in the list."
)


@dataclass(frozen=True, slots=True)
class Seen:
    """One request as the server saw it."""

    method: str
    path: str
    query: dict[str, str]
    user: str | None


@dataclass(frozen=True, slots=True)
class Deny:
    """RBAC stand-in: ``verb`` on ``plural`` is forbidden in ``namespace`` ("" = cluster
    scope only, None = everywhere)."""

    verb: str
    plural: str
    namespace: str | None = None

    def matches(self, verb: str, plural: str, namespace: str) -> bool:
        if (self.verb, self.plural) != (verb, plural):
            return False
        return self.namespace is None or self.namespace == namespace


@dataclass
class ApiServerDouble:
    ca: trustme.CA
    objects: list[dict[str, Any]]
    tokens: dict[str, str] = field(default_factory=dict)  # bearer token -> user name
    denies: list[Deny] = field(default_factory=list)
    unserved: set[str] = field(default_factory=set)  # plurals answered with 404
    expire_continue: bool = False
    resource_version: str = "48213"
    seen: list[Seen] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"https://{host!s}:{port}"

    def __enter__(self) -> ApiServerDouble:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        self.ca.configure_trust(context)  # to verify client certificates
        context.verify_mode = ssl.CERT_OPTIONAL
        double = self

        class Handler(_Handler):
            server_double = double

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        server.socket = context.wrap_socket(server.socket, server_side=True)
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None and self._thread is not None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    # -- what the handler asks -------------------------------------------------------------

    def items(self, kind: str, namespace: str) -> list[dict[str, Any]]:
        """Stored objects of ``kind`` in ``namespace`` ("" = all), in etcd key order."""
        chosen = [o for o in self.objects if o["kind"] == kind
                  and (not namespace or o["metadata"].get("namespace") == namespace)]
        return sorted(chosen, key=_key)

    def forbidden(self, verb: str, plural: str, namespace: str) -> bool:
        return any(d.matches(verb, plural, namespace) for d in self.denies)


def _key(obj: Mapping[str, Any]) -> str:
    meta = obj["metadata"]
    return f"{meta.get('namespace', '')}/{meta['name']}"


def status(code: int, reason: str, message: str,
           details: Mapping[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": {},
                            "status": "Failure", "message": message, "reason": reason}
    if details is not None:
        body["details"] = dict(details)
    body["code"] = code
    return body


def encode_continue(resource_version: str, start: str) -> str:
    token = {"v": "meta.k8s.io/v1", "rv": int(resource_version), "start": start + "\x00"}
    return base64.urlsafe_b64encode(json.dumps(token).encode()).decode().rstrip("=")


def decode_continue(token: str) -> str:
    padded = token + "=" * (-len(token) % 4)
    start: str = json.loads(base64.urlsafe_b64decode(padded))["start"]
    return start.rstrip("\x00")


class _Handler(BaseHTTPRequestHandler):
    server_double: ApiServerDouble
    protocol_version = "HTTP/1.1"
    # One write per response: headers and body in separate small writes meet Nagle and
    # delayed ACKs and cost 40 ms each.
    wbufsize = 1 << 16

    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        pass

    def do_GET(self) -> None:
        double = self.server_double
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        user = self._authenticate()
        double.seen.append(Seen("GET", parts.path, query, user))
        if user is None:
            self._send(401, status(401, "Unauthorized", "Unauthorized"))
            return
        self._route(user, parts.path, query)

    def _send_other(self) -> None:
        self.server_double.seen.append(Seen(self.command, self.path, {}, None))
        self._send(405, status(405, "MethodNotAllowed",
                               "the server does not allow this method on the requested "
                               "resource"))

    def do_POST(self) -> None:
        self._send_other()

    def do_PUT(self) -> None:
        self._send_other()

    def do_PATCH(self) -> None:
        self._send_other()

    def do_DELETE(self) -> None:
        self._send_other()

    def _authenticate(self) -> str | None:
        header = self.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            return self.server_double.tokens.get(header.removeprefix("Bearer "))
        cert = self.connection.getpeercert() if isinstance(self.connection, ssl.SSLSocket) \
            else None
        subject: Any = cert.get("subject", ()) if cert else ()
        for rdn in subject:
            for key, value in rdn:
                if key == "commonName":
                    return str(value)
        return None

    def _route(self, user: str, path: str, query: Mapping[str, str]) -> None:
        segs = [s for s in path.split("/") if s]
        if segs[:1] == ["api"] and len(segs) >= 2:
            group, version, rest = "", segs[1], segs[2:]
        elif segs[:1] == ["apis"] and len(segs) >= 3:
            group, version, rest = segs[1], segs[2], segs[3:]
        else:
            rest, group, version = [], "", ""
        namespace = ""
        name = ""
        if len(rest) == 2 and rest[0] == "namespaces" and group == "":
            plural, name = "namespaces", rest[1]
        elif len(rest) == 3 and rest[0] == "namespaces":
            namespace, plural = rest[1], rest[2]
        elif len(rest) == 1:
            plural = rest[0]
        else:
            plural = ""
        kind = SERVED.get((group, version, plural))
        if kind is None or plural in self.server_double.unserved:
            self._send(404, status(404, "NotFound",
                                   "the server could not find the requested resource",
                                   details={}))
            return
        if name:
            self._get_namespace(user, name)
        else:
            self._list(user, group=group, version=version, plural=plural, kind=kind,
                       namespace=namespace, query=query)

    def _get_namespace(self, user: str, name: str) -> None:
        double = self.server_double
        if double.forbidden("get", "namespaces", name):
            self._send(403, status(
                403, "Forbidden",
                f'namespaces "{name}" is forbidden: User "{user}" cannot get resource '
                f'"namespaces" in API group "" in the namespace "{name}"',
                details={"name": name, "kind": "namespaces"}))
            return
        found = [o for o in double.items("Namespace", "") if o["metadata"]["name"] == name]
        if not found:
            self._send(404, status(404, "NotFound", f'namespaces "{name}" not found',
                                   details={"name": name, "kind": "namespaces"}))
            return
        self._send(200, found[0])

    def _list(self, user: str, *, group: str, version: str, plural: str, kind: str,
              namespace: str, query: Mapping[str, str]) -> None:
        double = self.server_double
        if double.forbidden("list", plural, namespace):
            resource = f"{plural}.{group}" if group else plural
            scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
            self._send(403, status(
                403, "Forbidden",
                f'{resource} is forbidden: User "{user}" cannot list resource "{plural}" in '
                f'API group "{group}" {scope}', details={"group": group, "kind": plural}
                if group else {"kind": plural}))
            return
        items = double.items(kind, namespace)
        start = ""
        if "continue" in query:
            if double.expire_continue:
                self._send(410, status(410, "Expired", EXPIRED_MESSAGE))
                return
            start = decode_continue(query["continue"])
            items = [o for o in items if _key(o) > start]
        meta: dict[str, Any] = {"resourceVersion": double.resource_version}
        limit = int(query.get("limit", "0") or "0")
        if limit and len(items) > limit:
            page, rest = items[:limit], items[limit:]
            meta["continue"] = encode_continue(double.resource_version, _key(page[-1]))
            meta["remainingItemCount"] = len(rest)
            items = page
        # List items carry neither apiVersion nor kind; the list does.
        bare = [{k: v for k, v in o.items() if k not in ("apiVersion", "kind")} for o in items]
        api_version = f"{group}/{version}" if group else version
        self._send(200, {"kind": f"{kind}List", "apiVersion": api_version, "metadata": meta,
                         "items": bare})

    def _send(self, code: int, body: Mapping[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
