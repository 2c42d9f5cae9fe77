"""A slow, obviously-correct NetworkPolicy evaluator: the oracle the benchmarks check against.

Written straight from the evaluation steps of networkpolicy-semantics.md §10, pair by pair,
on the raw manifest dicts, sharing no code with the stockade engine so that agreement
between the two means something. It assumes valid input (the generator's) and does not
validate. Speed is not a goal; only caches that cannot change an answer are used.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
PROTOCOLS = ("TCP", "UDP", "SCTP")
MAX_PORT = 65535

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class RefPod:
    namespace: str
    name: str
    labels: Mapping[str, str]
    ips: tuple[IPAddress, ...]  # primary first
    host_network: bool
    node_name: str
    container_ports: tuple[tuple[str, int, str], ...]  # (name, number, protocol)
    host_ips: tuple[IPAddress, ...] = ()  # status.hostIP(s): the node's addresses

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True, slots=True)
class RefAddress:
    """An endpoint given by an address that no pod has: outside the cluster, or one of a
    node's addresses."""

    ip: IPAddress


@dataclass(frozen=True, slots=True)
class RefPolicy:
    namespace: str
    name: str
    spec: Mapping[str, Any]
    policy_types: tuple[str, ...]


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def selector_matches(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """metav1.LabelSelector: every matchLabels pair AND every expression; {} matches all."""
    for key, value in _mapping(selector.get("matchLabels")).items():
        if labels.get(key) != value:
            return False
    for expr in _list(selector.get("matchExpressions")):
        key, op = expr["key"], expr["operator"]
        values = _list(expr.get("values"))
        if op == "In" and not (key in labels and labels[key] in values):
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def default_policy_types(spec: Mapping[str, Any]) -> tuple[str, ...]:
    """§2: absent or empty -> [Ingress], plus Egress when spec.egress is non-empty."""
    given = _list(spec.get("policyTypes"))
    if given:
        return tuple(given)
    return ("Ingress", "Egress") if _list(spec.get("egress")) else ("Ingress",)


def ip_in_block(ip: IPAddress, block: Mapping[str, Any]) -> bool:
    """§5.3: inside cidr (host bits masked) and inside no except; families never mix."""
    cidr = ipaddress.ip_network(block["cidr"], strict=False)
    if ip.version != cidr.version or ip not in cidr:
        return False
    for text in _list(block.get("except")):
        excluded = ipaddress.ip_network(text, strict=False)
        if ip.version == excluded.version and ip in excluded:
            return False
    return True


class ReferenceCluster:
    """Pods, namespaces and policies from raw manifests, and the §10 evaluation."""

    def __init__(self, namespaces: Mapping[str, Mapping[str, str]], pods: Sequence[RefPod],
                 policies: Sequence[RefPolicy],
                 nodes: Mapping[str, Sequence[IPAddress]] | None = None) -> None:
        self.pods: dict[str, RefPod] = {p.key: p for p in pods}
        self._node_objects = {name: tuple(ips) for name, ips in (nodes or {}).items()}
        self._node_addresses: dict[str, set[IPAddress]] = {}
        self._named: dict[str, set[IPAddress]] | None = None
        self._declared = dict(namespaces)
        self._policies_by_ns: dict[str, list[RefPolicy]] = {}
        for pol in policies:
            self._policies_by_ns.setdefault(pol.namespace, []).append(pol)
        self._applies: dict[tuple[str, str], list[RefPolicy]] = {}

    @classmethod
    def from_dicts(cls, objects: Iterable[Mapping[str, Any]]) -> ReferenceCluster:
        namespaces: dict[str, Mapping[str, str]] = {}
        pods: list[RefPod] = []
        policies: list[RefPolicy] = []
        nodes: dict[str, list[IPAddress]] = {}
        for obj in objects:
            kind, api = obj.get("kind"), obj.get("apiVersion")
            meta = _mapping(obj.get("metadata"))
            ns = meta.get("namespace") or "default"
            if kind == "Namespace" and api == "v1":
                namespaces[meta["name"]] = dict(_mapping(meta.get("labels")))
            elif kind == "Pod" and api == "v1":
                pods.append(_pod(obj, ns))
            elif kind == "NetworkPolicy" and api == "networking.k8s.io/v1":
                spec = _mapping(obj.get("spec"))
                policies.append(RefPolicy(ns, meta["name"], spec, default_policy_types(spec)))
            elif kind == "Node" and api == "v1":
                status = _mapping(obj.get("status"))
                nodes[meta["name"]] = [
                    _address(a["address"]) for a in _list(status.get("addresses"))
                    if a.get("type") in ("InternalIP", "ExternalIP")]
        return cls(namespaces, pods, policies, nodes)

    def namespace_labels(self, name: str) -> dict[str, str]:
        """§7: declared labels plus the name label; undeclared namespaces have only that."""
        labels = dict(self._declared.get(name, {}))
        labels[NAMESPACE_NAME_LABEL] = name
        return labels

    def applying(self, pod: RefPod, direction: str) -> list[RefPolicy]:
        """Policies selecting ``pod`` with ``direction`` in policyTypes (hostNetwork: none)."""
        cache_key = (pod.key, direction)
        if cache_key not in self._applies:
            found: list[RefPolicy] = []
            if not pod.host_network:
                for pol in self._policies_by_ns.get(pod.namespace, []):
                    if direction in pol.policy_types and selector_matches(
                            _mapping(pol.spec.get("podSelector")), pod.labels):
                        found.append(pol)
            self._applies[cache_key] = found
        return self._applies[cache_key]

    # --- the evaluation -----------------------------------------------------------------

    def endpoint(self, text: str) -> RefPod | RefAddress:
        """A pod by ``ns/name``, or an address: the pod-network pod that has it, else the
        host-network pod that has it, else the address itself. An IPv4-mapped IPv6
        address is its IPv4 address (Go's ``net.ParseIP``)."""
        if text in self.pods:
            return self.pods[text]
        ip = _address(text)
        owners = [p for p in self.pods.values() if ip in p.ips]
        owners.sort(key=lambda p: p.host_network)
        return owners[0] if owners else RefAddress(ip)

    def named_node_addresses(self, name: str) -> set[IPAddress]:
        """Every address the input knows for node ``name``: the hostIPs of the pods that
        run there, the addresses of its host-network pods, the Node object's
        InternalIP/ExternalIP addresses."""
        return self._nodes().get(name, set())

    def _nodes(self) -> dict[str, set[IPAddress]]:
        """``named_node_addresses`` of every node at once: one pass over the pods."""
        if self._named is None:
            self._named = {n: set(ips) for n, ips in self._node_objects.items()}
            for other in self.pods.values():
                if other.node_name:
                    found = self._named.setdefault(other.node_name, set())
                    found.update(other.host_ips)
                    if other.host_network:
                        found.update(other.ips)
        return self._named

    def node_names(self, pod: RefPod) -> set[str]:
        """The node ``pod`` runs on: the one it names, or, naming none, every node one of
        its hostIPs belongs to."""
        if pod.node_name:
            return {pod.node_name}
        return {n for n, ips in self._nodes().items() if ips & set(pod.host_ips)}

    def node_addresses(self, pod: RefPod) -> set[IPAddress]:
        """The addresses of ``pod``'s node: its own status.hostIPs and those of its node."""
        cached = self._node_addresses.get(pod.key)
        if cached is None:
            cached = set(pod.host_ips).union(
                *(self.named_node_addresses(n) for n in self.node_names(pod)))
            self._node_addresses[pod.key] = cached
        return cached

    def _on_own_node(self, pod: RefPod, other: RefPod | RefAddress) -> bool:
        """Is ``other`` (the far end of a connection of ``pod``) ``pod``'s own node: a
        host-network pod there, or one of the node's addresses?"""
        if isinstance(other, RefAddress):
            return other.ip in self.node_addresses(pod)
        if not other.host_network:
            return False
        if other.node_name and other.node_name in self.node_names(pod):
            return True
        return bool(set(other.ips) & self.node_addresses(pod))

    def allowed(self, src_key: str, dst_key: str, protocol: str, port: int) -> bool:
        """Is a new ``protocol`` connection from ``src_key`` to ``dst_key``:``port`` allowed?
        Each end is a pod's ``ns/name`` or an address."""
        src, dst = self.endpoint(src_key), self.endpoint(dst_key)
        if src is dst:
            return True  # a pod cannot block itself
        version = _version(src, dst)
        return (self._egress_ok(src, dst, version, protocol, port)
                and self._ingress_ok(src, dst, version, protocol, port))

    def _egress_ok(self, src: RefPod | RefAddress, dst: RefPod | RefAddress, version: int,
                   protocol: str, port: int) -> bool:
        if isinstance(src, RefAddress) or src.host_network:
            return True  # not a pod, or node traffic: no policy applies to it
        if self._on_own_node(src, dst):
            return True  # traffic to the pod's own node
        policies = self.applying(src, "Egress")
        if not policies:
            return True
        dst_ip = _ip_of(dst, version)
        for pol in policies:
            for rule in _list(pol.spec.get("egress")):
                if (self._peers_match(_list(rule.get("to")), pol.namespace, dst, dst_ip)
                        and _ports_match(_list(rule.get("ports")), dst, protocol, port)):
                    return True
        return False

    def _ingress_ok(self, src: RefPod | RefAddress, dst: RefPod | RefAddress, version: int,
                    protocol: str, port: int) -> bool:
        if isinstance(dst, RefAddress):
            return True
        policies = self.applying(dst, "Ingress")
        if not policies:
            return True
        if self._on_own_node(dst, src):
            return True  # from the pod's own node
        src_ip = _ip_of(src, version)
        for pol in policies:
            for rule in _list(pol.spec.get("ingress")):
                if (self._peers_match(_list(rule.get("from")), pol.namespace, src, src_ip)
                        and _ports_match(_list(rule.get("ports")), dst, protocol, port)):
                    return True
        return False

    def _peers_match(self, peers: list[Any], policy_ns: str, other: RefPod | RefAddress,
                     other_ip: IPAddress | None) -> bool:
        """§5.1-5.3 against the other end; a hostNetwork pod is only its (node) IP, and an
        address no pod has only matches ipBlocks."""
        if not peers:
            return True
        for peer in peers:
            block = peer.get("ipBlock")
            if block is not None:
                if other_ip is not None and ip_in_block(other_ip, block):
                    return True
                continue
            if isinstance(other, RefAddress) or other.host_network:
                continue
            pod_sel, ns_sel = peer.get("podSelector"), peer.get("namespaceSelector")
            if ns_sel is None:
                in_ns = other.namespace == policy_ns
            else:
                in_ns = selector_matches(ns_sel, self.namespace_labels(other.namespace))
            if in_ns and (pod_sel is None or selector_matches(pod_sel, other.labels)):
                return True
        return False

    # --- connection sets ----------------------------------------------------------------

    def connections(self, src_key: str, dst_key: str) -> str:
        """The canonical text of every (protocol, port) allowed from src to dst."""
        if src_key == dst_key:
            return "all"
        starts = self._interval_starts(self.pods[src_key], self.pods[dst_key])
        allowed: dict[str, list[tuple[int, int]]] = {}
        for proto in PROTOCOLS:
            ranges: list[tuple[int, int]] = []
            for i, first in enumerate(starts):
                last = starts[i + 1] - 1 if i + 1 < len(starts) else MAX_PORT
                if self.allowed(src_key, dst_key, proto, first):
                    if ranges and ranges[-1][1] == first - 1:
                        ranges[-1] = (ranges[-1][0], last)
                    else:
                        ranges.append((first, last))
            allowed[proto] = ranges
        return format_connections(allowed)

    def _interval_starts(self, src: RefPod, dst: RefPod) -> list[int]:
        """Ports where the answer may change: the verdict compares the port only with
        numbers written in the two namespaces' policies and dst's container ports (port ==
        n, n <= port <= endPort), so it is constant between consecutive starts."""
        cuts = {1}
        numbers: list[int] = [number for _, number, _ in dst.container_ports]
        for ns in {src.namespace, dst.namespace}:
            for pol in self._policies_by_ns.get(ns, []):
                for direction in ("ingress", "egress"):
                    for rule in _list(pol.spec.get(direction)):
                        for entry in _list(rule.get("ports")):
                            for field in ("port", "endPort"):
                                value = entry.get(field)
                                if isinstance(value, int):
                                    numbers.append(value)
        for n in numbers:
            cuts.add(n)
            cuts.add(n + 1)
        return sorted(c for c in cuts if 1 <= c <= MAX_PORT)


def format_connections(allowed: Mapping[str, Sequence[tuple[int, int]]]) -> str:
    """``all``, ``none``, or e.g. ``TCP 80-81,443, UDP all`` (ranges sorted and merged)."""
    full = [(1, MAX_PORT)]
    merged = {proto: _merge(allowed.get(proto, ())) for proto in PROTOCOLS}
    if all(merged[p] == full for p in PROTOCOLS):
        return "all"
    parts: list[str] = []
    for proto in PROTOCOLS:
        ranges = merged[proto]
        if not ranges:
            continue
        if ranges == full:
            parts.append(f"{proto} all")
        else:
            text = ",".join(str(a) if a == b else f"{a}-{b}" for a, b in ranges)
            parts.append(f"{proto} {text}")
    return ", ".join(parts) if parts else "none"


def _merge(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for first, last in sorted(ranges):
        if out and first <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], last))
        else:
            out.append((first, last))
    return out


def _ports_match(entries: list[Any], dst: RefPod | RefAddress, protocol: str,
                 port: int) -> bool:
    """§5.4: empty list = everything; named ports resolve on dst's container ports.

    A hostNetwork destination is node traffic, not a pod, and an address is no pod: their
    names never resolve."""
    if not entries:
        return True
    for entry in entries:
        if entry.get("protocol", "TCP") != protocol:
            continue
        value = entry.get("port")
        if value is None:
            return True
        if isinstance(value, int):
            if value <= port <= entry.get("endPort", value):
                return True
        elif isinstance(dst, RefPod) and not dst.host_network and any(
                name == value and proto == protocol and number == port
                for name, number, proto in dst.container_ports):
            return True
    return False


def _version(src: RefPod | RefAddress, dst: RefPod | RefAddress) -> int:
    """The IP version of a connection: an address's own, else as between two pods."""
    for end in (src, dst):
        if isinstance(end, RefAddress):
            return end.ip.version
    assert isinstance(src, RefPod) and isinstance(dst, RefPod)
    return _connection_family(src, dst)


def _connection_family(src: RefPod, dst: RefPod) -> int:
    """The IP version a pod-to-pod connection uses: the sender's primary version when the
    receiver has it, else another version both have, else the sender's primary (then the
    receiver has no address of it), else the receiver's; 0 when neither has an address."""
    src_versions = [ip.version for ip in src.ips]
    dst_versions = {ip.version for ip in dst.ips}
    for version in src_versions:
        if version in dst_versions:
            return version
    if src_versions:
        return src_versions[0]
    return dst.ips[0].version if dst.ips else 0


def _ip_of(end: RefPod | RefAddress, version: int) -> IPAddress | None:
    """The pod's first address of that IP version, if it has one; an address itself."""
    if isinstance(end, RefAddress):
        return end.ip if end.ip.version == version else None
    for ip in end.ips:
        if ip.version == version:
            return ip
    return None


def _address(text: str) -> IPAddress:
    """An address as Go reads it: an IPv4-mapped IPv6 address is the IPv4 address."""
    ip = ipaddress.ip_address(text)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _pod(obj: Mapping[str, Any], namespace: str) -> RefPod:
    meta, spec, status = (_mapping(obj.get(k)) for k in ("metadata", "spec", "status"))
    texts = [entry["ip"] for entry in _list(status.get("podIPs")) if entry.get("ip")]
    if not texts and status.get("podIP"):
        texts = [status["podIP"]]
    ports = tuple(
        (p["name"], int(p["containerPort"]), p.get("protocol", "TCP"))
        for c in _list(spec.get("containers")) for p in _list(c.get("ports")) if p.get("name")
    )
    return RefPod(
        namespace=namespace,
        name=meta["name"],
        labels=dict(_mapping(meta.get("labels"))),
        ips=tuple(_address(t) for t in texts),
        host_network=bool(spec.get("hostNetwork", False)),
        node_name=str(spec.get("nodeName", "")),
        container_ports=ports,
        host_ips=tuple(_address(t) for t in {
            *(e["ip"] for e in _list(status.get("hostIPs")) if e.get("ip")),
            *([status["hostIP"]] if status.get("hostIP") else [])}),
    )
