"""Connectivity promises: what ``stockade test`` checks, decoded from test files. Pure.

Two formats. stockade's own is a Kubernetes-style document::

    apiVersion: stockade.dev/v1alpha1
    kind: ConnectivityTest
    metadata: {name: shop-promises}
    spec:
      manifests: [../k8s/]          # optional, relative to the file
      expect:
      - {name: ..., from: ..., to: ..., ports: [5432/TCP], allowed: false}

netassert v2's is a YAML list of tests (``type: k8s``, ``protocol``, ``targetPort``,
``exitCode``, ``src.k8sResource``, ``dst.k8sResource`` or ``dst.host.name``); each becomes
a promise with one port. Decoding checks shapes, unknown keys, selectors and ports, and
reports every problem with its field path; the caller turns paths into lines.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from stockade.model.decode import Decoder, json_type_name
from stockade.model.errors import ErrorType, FieldError, Finding, invalid, not_supported, required
from stockade.model.netparse import parse_ip
from stockade.model.port_text import read_port
from stockade.model.selectors import describe_selector
from stockade.model.types import LabelSelector, Origin, Protocol
from stockade.model.validate.selectors import validate_label_selector

API_GROUP = "stockade.dev"
API_VERSION = f"{API_GROUP}/v1alpha1"
KIND = "ConnectivityTest"
NETASSERT = "netassert"
SERVICE_PREFIX = "svc/"
# netassert's k8sResource kinds, and how stockade names their endpoints.
NETASSERT_KINDS = {"deployment": "Deployment", "statefulset": "StatefulSet",
                   "daemonset": "DaemonSet", "pod": ""}
NETASSERT_IGNORED = ("timeoutSeconds", "attempts", "pass", "failureReason")


@dataclass(frozen=True, slots=True)
class Selection:
    """Every endpoint of the namespaces chosen (by name or by labels) whose labels the
    pod selector matches (``None``: every endpoint there)."""

    namespace: str = ""
    namespace_selector: LabelSelector | None = None
    pod_selector: LabelSelector | None = None


Target = str | Selection  # "ns/pod", "ns/Kind/name", an IP address, "svc/ns/name:port"


@dataclass(frozen=True, slots=True)
class PortSpec:
    port: int
    protocol: Protocol

    def __str__(self) -> str:
        return f"{self.port}/{self.protocol.value}"


@dataclass(frozen=True, slots=True)
class Promise:
    """``allowed``: every pair (source, destination) on every port is allowed, or none is.
    No ``ports``: on any port (some connection is allowed, or none at all)."""

    name: str
    source: Target
    destination: Target
    ports: tuple[PortSpec, ...]
    allowed: bool
    origin: Origin  # where the promise is written
    path: str  # its field path: "spec.expect[2]" or "[2]"
    suite: str
    skip: str = ""  # why it is not checked (a netassert test stockade cannot check)


@dataclass(frozen=True, slots=True)
class Suite:
    name: str
    origin: Origin
    format: str  # "ConnectivityTest" or "netassert"
    promises: tuple[Promise, ...]
    manifests: tuple[str, ...] = ()  # as written, relative to the file
    ignored: tuple[str, ...] = ()  # fields read but not used (netassert's timeouts)


@dataclass(slots=True)
class _Context:
    """Decoding state of one document: its errors and how to place them."""

    kind: str
    name: str
    origin: Origin
    line_of: Callable[[str], int]
    errors: list[FieldError] = field(default_factory=list)

    def findings(self) -> list[Finding]:
        return [Finding(Origin(self.origin.file, self.line_of(e.path) or self.origin.line),
                        self.kind, "", self.name, e) for e in self.errors]


def _unknown(ctx: _Context, value: Mapping[str, Any], path: str, known: Sequence[str]) -> None:
    for key in value:
        if key not in known:
            where = f"{path}.{key}" if path else str(key)
            ctx.errors.append(FieldError(where, ErrorType.FORBIDDEN,
                                         f"unknown field (known: {', '.join(known)})"))


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


# --- ports and endpoints --------------------------------------------------------------------

def parse_port(value: object) -> PortSpec | None:
    """``5432/TCP``, ``53/udp``, ``80`` or the number 80 (TCP); ``None`` when invalid
    (``80/``, digits other than ASCII's, more than five of them: ``port_text.read_port``)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        text = str(value)
    elif isinstance(value, str):
        text = value
    else:
        return None
    number, protocol = read_port(text)
    if number is None or protocol is None:
        return None
    return PortSpec(number, protocol)


def _ports(ctx: _Context, value: object, path: str) -> tuple[PortSpec, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        ctx.errors.append(invalid(path, _shown(value), "must be of type array"))
        return ()
    out: list[PortSpec] = []
    for i, item in enumerate(value):
        spec = parse_port(item)
        if spec is None:
            ctx.errors.append(invalid(f"{path}[{i}]", _shown(item),
                                      "must be PORT/PROTOCOL: a port from 1 to 65535 and TCP, "
                                      "UDP or SCTP (80/TCP, 53/UDP; TCP if omitted)"))
        else:
            out.append(spec)
    return tuple(out)


def _shown(value: object) -> str | int:
    """A value for a message: itself when a string or an integer, else its JSON type
    (``null``, ``boolean``, ``object``), as the API server names what it cannot show."""
    return value if isinstance(value, str | int) and not isinstance(value, bool) else (
        json_type_name(value))


def _name_error(value: object, path: str, detail: str = "") -> FieldError:
    """Why a ``name`` is missing: absent or empty, or not a string at all (``name: y``, which
    YAML reads as a boolean, is no missing name)."""
    if value is None or value == "":
        return required(path, detail)
    return invalid(path, json_type_name(value), "must be of type string")


SELECTION_KEYS = ("namespace", "namespaceSelector", "podSelector")


def _target(ctx: _Context, value: object, path: str, *, destination: bool) -> Target | None:
    if value is None:
        ctx.errors.append(required(path, "ns/pod, ns/Kind/name, an IP address"
                                   + (", svc/ns/name:port" if destination else "")
                                   + " or a selector (namespace, namespaceSelector, "
                                   "podSelector)"))
        return None
    if isinstance(value, str):
        return _named(ctx, value, path, destination=destination)
    if not isinstance(value, Mapping):
        ctx.errors.append(invalid(path, _shown(value), "must be a string or a selector"))
        return None
    _unknown(ctx, value, path, SELECTION_KEYS)
    decoder = Decoder()
    namespace = decoder.string(value.get("namespace"), f"{path}.namespace")
    ns_sel = (None if value.get("namespaceSelector") is None else
              decoder.label_selector(value["namespaceSelector"], f"{path}.namespaceSelector"))
    pod_sel = (None if value.get("podSelector") is None else
               decoder.label_selector(value["podSelector"], f"{path}.podSelector"))
    ctx.errors.extend(decoder.errors)
    for sel, sub in ((ns_sel, "namespaceSelector"), (pod_sel, "podSelector")):
        if sel is not None:
            ctx.errors.extend(validate_label_selector(sel, f"{path}.{sub}"))
    if "namespace" in value and ns_sel is not None:
        ctx.errors.append(FieldError(f"{path}.namespaceSelector", ErrorType.FORBIDDEN,
                                     "give namespace or namespaceSelector, not both"))
    elif not namespace and ns_sel is None:
        what = "a podSelector needs" if pod_sel is not None else "a selector needs"
        ctx.errors.append(required(f"{path}.namespace", f"{what} namespace or "
                                   "namespaceSelector (namespaceSelector: {} for every "
                                   "namespace)"))
    return Selection(namespace, ns_sel, pod_sel)


def _named(ctx: _Context, text: str, path: str, *, destination: bool) -> Target | None:
    if parse_ip(text) is not None:
        return text
    if text.startswith(SERVICE_PREFIX):
        if not destination:
            ctx.errors.append(invalid(path, text, "a Service is only a destination (clients "
                                      "connect to it; its backends answer)"))
            return None
        body = text[len(SERVICE_PREFIX):].partition(":")[0]
        if body.count("/") != 1 or not all(body.split("/")):
            ctx.errors.append(invalid(path, text, "a Service is named svc/NAMESPACE/NAME"
                                      "[:PORT], e.g. svc/shop/db:5432"))
            return None
        return text
    parts = text.split("/")
    if len(parts) not in (2, 3) or not all(parts):
        ctx.errors.append(invalid(path, text, "must be ns/pod, ns/Kind/name, an IP address"
                                  + (" or svc/ns/name:port" if destination else "")))
        return None
    return text


# --- stockade's format ----------------------------------------------------------------------

EXPECT_KEYS = ("name", "from", "to", "ports", "allowed")


def decode_connectivity_test(data: Mapping[str, Any], origin: Origin,
                             line_of: Callable[[str], int]) -> tuple[Suite, list[Finding]]:
    """A ``ConnectivityTest`` document; ``line_of(path)`` is the line of a field (0 when
    unknown)."""
    meta = data.get("metadata")
    name = meta.get("name") if isinstance(meta, Mapping) else None
    ctx = _Context(KIND, name if isinstance(name, str) else "", origin, line_of)
    _unknown(ctx, data, "", ("apiVersion", "kind", "metadata", "spec"))
    if data.get("apiVersion") != API_VERSION:
        ctx.errors.append(not_supported("apiVersion", _shown(data.get("apiVersion")),
                                        (API_VERSION,)))
    if not isinstance(meta, Mapping):
        ctx.errors.append(required("metadata.name"))
    else:
        _unknown(ctx, meta, "metadata", ("name", "labels", "annotations"))
        if not ctx.name:
            ctx.errors.append(_name_error(name, "metadata.name"))
    spec = data.get("spec")
    if not isinstance(spec, Mapping):
        ctx.errors.append(required("spec", "spec.expect lists the promises"))
        spec = {}
    _unknown(ctx, spec, "spec", ("manifests", "expect"))
    manifests = spec.get("manifests")
    paths: tuple[str, ...] = ()
    if manifests is not None:
        if not isinstance(manifests, list):
            ctx.errors.append(invalid("spec.manifests", _shown(manifests),
                                      "must be a list of paths (files or directories)"))
        else:
            bad = [i for i, m in enumerate(manifests) if not isinstance(m, str) or not m]
            for i in bad:
                ctx.errors.append(invalid(f"spec.manifests[{i}]", _shown(manifests[i]),
                                          "must be a path (a file or directory)"))
            if not bad:
                paths = tuple(manifests)
    expect = spec.get("expect")
    promises: list[Promise] = []
    if not isinstance(expect, list) or not expect:
        ctx.errors.append(required("spec.expect", "list at least one promise"))
        expect = []
    names: set[str] = set()
    for i, item in enumerate(expect):
        promise = _expectation(ctx, item, f"spec.expect[{i}]")
        if promise is None:
            continue
        if promise.name in names:
            ctx.errors.append(FieldError(f"spec.expect[{i}].name", ErrorType.DUPLICATE, "",
                                         promise.name))
        names.add(promise.name)
        promises.append(promise)
    suite = Suite(ctx.name, origin, KIND, tuple(promises), paths)
    return suite, ctx.findings()


def _expectation(ctx: _Context, item: object, path: str) -> Promise | None:
    if not isinstance(item, Mapping):
        ctx.errors.append(invalid(path, _shown(item), "must be an object"))
        return None
    before = len(ctx.errors)
    _unknown(ctx, item, path, EXPECT_KEYS)
    name = item.get("name")
    if not isinstance(name, str) or not name:
        ctx.errors.append(_name_error(name, f"{path}.name", "say what is promised, in words"))
    source = _target(ctx, item.get("from"), f"{path}.from", destination=False)
    destination = _target(ctx, item.get("to"), f"{path}.to", destination=True)
    ports = _ports(ctx, item.get("ports"), f"{path}.ports")
    if (isinstance(destination, str) and destination.startswith(SERVICE_PREFIX)
            and item.get("ports")):
        ctx.errors.append(FieldError(f"{path}.ports", ErrorType.FORBIDDEN,
                                     "the port of a Service destination is the Service's "
                                     "(svc/ns/name:port)"))
    addressed = [t for t in (source, destination) if isinstance(t, str) and parse_ip(t)]
    if addressed and not ports:
        ctx.errors.append(required(f"{path}.ports", f"{addressed[0]} is an address, not a "
                                   "pod: list the ports to check"))
    allowed = item.get("allowed")
    if not isinstance(allowed, bool):
        ctx.errors.append(required(f"{path}.allowed", "true (every pair on every port is "
                                   "allowed) or false (none is)") if allowed is None else
                          invalid(f"{path}.allowed", _shown(allowed), "must be true or false"))
    if len(ctx.errors) > before or source is None or destination is None:
        return None
    assert isinstance(name, str) and isinstance(allowed, bool)
    line = ctx.line_of(path) or ctx.origin.line
    return Promise(name, source, destination, ports, allowed, Origin(ctx.origin.file, line),
                   path, ctx.name)


# --- netassert v2 ---------------------------------------------------------------------------

TEST_KEYS = ("name", "type", "protocol", "targetPort", "timeoutSeconds", "attempts",
             "exitCode", "src", "dst", "pass", "failureReason")
RESOURCE_KEYS = ("kind", "name", "namespace")


def decode_netassert(items: Sequence[Any], origin: Origin, line_of: Callable[[str], int]
                     ) -> tuple[Suite, list[Finding]]:
    """A netassert v2 test list: one promise per test (``exitCode`` 0: reachable, else
    blocked). Tests of another ``type`` and destinations named by a DNS name are kept
    as skipped, with the reason."""
    suite_name = origin.file.rsplit("/", 1)[-1]
    ctx = _Context("netassert test", suite_name, origin, line_of)
    promises: list[Promise] = []
    names: set[str] = set()
    ignored: set[str] = set()
    for i, item in enumerate(items):
        path = f"[{i}]"
        if not isinstance(item, Mapping):
            ctx.errors.append(invalid(path, _shown(item), "a netassert test must be an object"))
            continue
        ignored.update(k for k in NETASSERT_IGNORED if k in item)
        promise = _netassert_test(ctx, item, path)
        if promise is None:
            continue
        if promise.name in names:
            ctx.errors.append(FieldError(f"{path}.name", ErrorType.DUPLICATE, "", promise.name))
        names.add(promise.name)
        promises.append(promise)
    suite = Suite(suite_name, origin, NETASSERT, tuple(promises),
                  ignored=tuple(k for k in NETASSERT_IGNORED if k in ignored))
    return suite, ctx.findings()


def _netassert_test(ctx: _Context, item: Mapping[str, Any], path: str) -> Promise | None:
    before = len(ctx.errors)
    _unknown(ctx, item, path, TEST_KEYS)
    name = item.get("name")
    if not isinstance(name, str) or not name:
        ctx.errors.append(_name_error(name, _join(path, "name")))
    kind = item.get("type")
    protocol_text = item.get("protocol", "tcp")
    protocol = (Protocol(protocol_text.upper()) if isinstance(protocol_text, str)
                and protocol_text.lower() in ("tcp", "udp") else None)
    if protocol is None:
        ctx.errors.append(not_supported(_join(path, "protocol"), _shown(protocol_text),
                                        ("tcp", "udp")))
    port = item.get("targetPort")
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        ctx.errors.append(required(_join(path, "targetPort")) if port is None else
                          invalid(_join(path, "targetPort"), _shown(port),
                                  "must be a port from 1 to 65535"))
    code = item.get("exitCode", 0)
    if isinstance(code, bool) or not isinstance(code, int):
        ctx.errors.append(invalid(_join(path, "exitCode"), _shown(code),
                                  "must be 0 (reachable) or another number (blocked)"))
    source = _resource(ctx, item.get("src"), _join(path, "src"), host=False)
    destination = _resource(ctx, item.get("dst"), _join(path, "dst"), host=True)
    if len(ctx.errors) > before:
        return None
    assert isinstance(name, str) and isinstance(port, int) and protocol is not None
    skip = ""
    if kind != "k8s":
        skip = f"type {kind!r}: only k8s tests are understood"
    elif isinstance(destination, tuple):
        skip = (f"dst.host.name {destination[1]!r} is a DNS name: its address is not in the "
                "manifests (give an IP address to test it)")
    line = ctx.line_of(path) or ctx.origin.line
    target = destination if isinstance(destination, str) else ""
    assert isinstance(source, str)
    return Promise(name, source, target, (PortSpec(port, protocol),), code == 0,
                   Origin(ctx.origin.file, line), path, ctx.name, skip)


def _resource(ctx: _Context, value: object, path: str, *, host: bool
              ) -> str | tuple[str, str] | None:
    """``src``/``dst``: a k8sResource as ``ns/Kind/name`` (``ns/name`` for a pod), or for a
    destination a host: its address, or ``("host", name)`` for a DNS name."""
    if not isinstance(value, Mapping):
        ctx.errors.append(required(path) if value is None else
                          invalid(path, _shown(value), "must be an object"))
        return None
    _unknown(ctx, value, path, ("k8sResource", "host") if host else ("k8sResource",))
    resource, host_value = value.get("k8sResource"), value.get("host")
    if resource is not None and host_value is not None:
        ctx.errors.append(FieldError(path, ErrorType.FORBIDDEN,
                                     "give k8sResource or host, not both"))
        return None
    if host_value is not None:
        if not isinstance(host_value, Mapping) or not isinstance(host_value.get("name"), str) \
                or not host_value.get("name"):
            ctx.errors.append(required(f"{path}.host.name"))
            return None
        _unknown(ctx, host_value, f"{path}.host", ("name",))
        host_name = str(host_value["name"])
        return host_name if parse_ip(host_name) is not None else ("host", host_name)
    if not isinstance(resource, Mapping):
        ctx.errors.append(required(f"{path}.k8sResource"))
        return None
    _unknown(ctx, resource, f"{path}.k8sResource", RESOURCE_KEYS)
    fields = {}
    for key in RESOURCE_KEYS:
        text = resource.get(key)
        if not isinstance(text, str) or not text:
            ctx.errors.append(required(f"{path}.k8sResource.{key}"))
        else:
            fields[key] = text
    if len(fields) < len(RESOURCE_KEYS):
        return None
    kind = NETASSERT_KINDS.get(fields["kind"].lower())
    if kind is None:
        ctx.errors.append(not_supported(f"{path}.k8sResource.kind", fields["kind"],
                                        tuple(NETASSERT_KINDS)))
        return None
    return (f"{fields['namespace']}/{kind}/{fields['name']}" if kind
            else f"{fields['namespace']}/{fields['name']}")


def describe_target(target: Target) -> str:
    """How a promise's endpoint reads in messages."""
    if isinstance(target, str):
        return target
    parts = []
    if target.namespace:
        parts.append(f"namespace {target.namespace}")
    if target.namespace_selector is not None:
        parts.append(f"namespaceSelector {describe_selector(target.namespace_selector)}")
    if target.pod_selector is not None:
        parts.append(f"podSelector {describe_selector(target.pod_selector)}")
    return ", ".join(parts)
