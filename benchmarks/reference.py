"""A slow, obviously-correct NetworkPolicy evaluator: the oracle the benchmarks check against.

Written straight from the evaluation steps of networkpolicy-semantics.md §10, pair by pair,
on the raw manifest dicts, sharing no code with the stockade engine so that agreement
between the two means something. It assumes valid input (the generator's) and does not
validate. Speed is not a goal; only caches that cannot change an answer are used.

Cluster-wide policies (ClusterNetworkPolicy v1alpha2, AdminNetworkPolicy and
BaselineAdminNetworkPolicy v1alpha1) are evaluated as adminnetworkpolicy.md §3 and §4.6
describe, per direction: the Admin tier's rules in order (priority, then name, then kind;
rule order inside a policy), first match decides; Pass or no match goes on to
NetworkPolicy, which decides for the pods it isolates; then the Baseline tier (a BANP after
every Baseline ClusterNetworkPolicy); then allow. A peer with no known field fails closed.
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


@dataclass(frozen=True, slots=True)
class RefClusterPolicy:
    """A cluster-wide policy of either version, as written."""

    kind: str
    name: str
    tier: str  # "Admin" | "Baseline"
    priority: int  # a BANP, which has none, sorts after every Baseline policy
    spec: Mapping[str, Any]

    @property
    def order(self) -> tuple[int, str, str]:
        return (self.priority, self.name, self.kind)


CLUSTER_POLICY_API = "policy.networking.k8s.io"
# A pod in one of these phases has finished: it has no network, and its IP may be another's.
FINISHED_PHASES = ("Succeeded", "Failed")
PEER_FIELDS = ("namespaces", "pods", "nodes", "networks", "domainNames")


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
    cidr = _network(block["cidr"])
    if ip.version != cidr.version or ip not in cidr:
        return False
    for text in _list(block.get("except")):
        excluded = _network(text)
        if ip.version == excluded.version and ip in excluded:
            return False
    return True


class ReferenceCluster:
    """Pods, namespaces and policies from raw manifests, and the §10 evaluation."""

    def __init__(self, namespaces: Mapping[str, Mapping[str, str]], pods: Sequence[RefPod],
                 policies: Sequence[RefPolicy],
                 nodes: Mapping[str, Sequence[IPAddress]] | None = None, *,
                 cluster_policies: Sequence[RefClusterPolicy] = (),
                 node_labels: Mapping[str, Mapping[str, str]] | None = None,
                 finished: Sequence[RefPod] = ()) -> None:
        """``finished``: pods in phase Succeeded or Failed, no endpoints; only the hostIPs
        they report of their node (which outlives them) count."""
        self.pods: dict[str, RefPod] = {p.key: p for p in pods}
        self._finished = list(finished)
        self._node_objects = {name: tuple(ips) for name, ips in (nodes or {}).items()}
        self.cluster_policies = list(cluster_policies)
        self.node_labels = dict(node_labels or {})
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
        finished: list[RefPod] = []
        policies: list[RefPolicy] = []
        nodes: dict[str, list[IPAddress]] = {}
        node_labels: dict[str, Mapping[str, str]] = {}
        cluster_policies: list[RefClusterPolicy] = []
        for obj in objects:
            kind, api = obj.get("kind"), obj.get("apiVersion")
            meta = _mapping(obj.get("metadata"))
            ns = meta.get("namespace") or "default"
            if kind == "Namespace" and api == "v1":
                namespaces[meta["name"]] = dict(_mapping(meta.get("labels")))
            elif kind == "Pod" and api == "v1":
                done = _mapping(obj.get("status")).get("phase") in FINISHED_PHASES
                (finished if done else pods).append(_pod(obj, ns))
            elif kind == "NetworkPolicy" and api == "networking.k8s.io/v1":
                spec = _mapping(obj.get("spec"))
                policies.append(RefPolicy(ns, meta["name"], spec, default_policy_types(spec)))
            elif kind == "Node" and api == "v1":
                status = _mapping(obj.get("status"))
                nodes[meta["name"]] = [
                    _address(a["address"]) for a in _list(status.get("addresses"))
                    if a.get("type") in ("InternalIP", "ExternalIP")]
                node_labels[meta["name"]] = dict(_mapping(meta.get("labels")))
            elif api in (f"{CLUSTER_POLICY_API}/v1alpha1", f"{CLUSTER_POLICY_API}/v1alpha2"):
                spec = _mapping(obj.get("spec"))
                if kind == "ClusterNetworkPolicy":
                    tier, priority = spec["tier"], spec["priority"]
                elif kind == "AdminNetworkPolicy":
                    tier, priority = "Admin", spec["priority"]
                elif kind == "BaselineAdminNetworkPolicy":
                    tier, priority = "Baseline", 1001
                else:
                    continue
                cluster_policies.append(RefClusterPolicy(kind, meta["name"], tier, priority,
                                                         spec))
        return cls(namespaces, pods, policies, nodes, cluster_policies=cluster_policies,
                   node_labels=node_labels, finished=finished)

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

    def named_address(self, text: str) -> IPAddress | None:
        """The address an end given as ``text`` uses: the one written (a connection made to
        or from it uses it, §5.3), or None for a pod given by ``ns/name``."""
        return None if text in self.pods else _address(text)

    def named_node_addresses(self, name: str) -> set[IPAddress]:
        """Every address the input knows for node ``name``: the hostIPs of the pods that
        run there (finished ones too), the addresses of its host-network pods, the Node
        object's InternalIP/ExternalIP addresses."""
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
            for done in self._finished:
                if done.node_name:
                    self._named.setdefault(done.node_name, set()).update(done.host_ips)
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
        given = self.named_address(src_key), self.named_address(dst_key)
        version = _version(src, dst, given)
        src_ip, dst_ip = _ip_of(src, given[0], version), _ip_of(dst, given[1], version)
        return (self._egress_ok(src, dst, dst_ip, protocol, port)
                and self._ingress_ok(src, dst, src_ip, protocol, port))

    def _egress_ok(self, src: RefPod | RefAddress, dst: RefPod | RefAddress,
                   dst_ip: IPAddress | None, protocol: str, port: int) -> bool:
        if isinstance(src, RefAddress) or src.host_network:
            return True  # not a pod, or node traffic: no policy applies to it
        if self._on_own_node(src, dst):
            return True  # traffic to the pod's own node
        admin = self.tier_action("Admin", "egress", src, dst, other_ip=dst_ip, dst=dst,
                                 protocol=protocol, port=port)
        if admin in ("Accept", "Deny"):
            return admin == "Accept"
        policies = self.applying(src, "Egress")
        if not policies:
            return self.tier_action("Baseline", "egress", src, dst, other_ip=dst_ip, dst=dst,
                                    protocol=protocol, port=port) != "Deny"
        for pol in policies:
            for rule in _list(pol.spec.get("egress")):
                if (self._peers_match(_list(rule.get("to")), pol.namespace, dst, dst_ip)
                        and _ports_match(_list(rule.get("ports")), dst, protocol, port)):
                    return True
        return False

    def _ingress_ok(self, src: RefPod | RefAddress, dst: RefPod | RefAddress,
                    src_ip: IPAddress | None, protocol: str, port: int) -> bool:
        if isinstance(dst, RefAddress) or dst.host_network:
            return True  # not a pod, or node traffic: no policy applies to it
        if self._on_own_node(dst, src):
            return True  # from the pod's own node
        admin = self.tier_action("Admin", "ingress", dst, src, other_ip=src_ip, dst=dst,
                                 protocol=protocol, port=port)
        if admin in ("Accept", "Deny"):
            return admin == "Accept"
        policies = self.applying(dst, "Ingress")
        if not policies:
            return self.tier_action("Baseline", "ingress", dst, src, other_ip=src_ip, dst=dst,
                                    protocol=protocol, port=port) != "Deny"
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

    # --- cluster-wide policies ---------------------------------------------------------

    def tier_action(self, tier: str, direction: str, subject: RefPod,
                    other: RefPod | RefAddress, *, other_ip: IPAddress | None,
                    dst: RefPod | RefAddress, protocol: str, port: int) -> str | None:
        """The action of the first rule of ``tier`` that matches, or None (no rule did).
        ``subject`` is the pod the policies select, ``other`` the far end."""
        if subject.host_network:
            return None  # host-network pods are never subjects
        for pol in sorted((p for p in self.cluster_policies if p.tier == tier),
                          key=lambda p: p.order):
            if not self._subject_matches(_mapping(pol.spec.get("subject")), subject):
                continue
            peers_field = "to" if direction == "egress" else "from"
            for rule in _list(pol.spec.get(direction)):
                action = "Accept" if rule["action"] == "Allow" else rule["action"]
                peers = _list(rule.get(peers_field))
                if action != "Accept" and any(not any(f in peer for f in PEER_FIELDS)
                                              for peer in peers):
                    return "Deny"  # fail closed: a Deny or Pass rule becomes "deny all"
                if (self._cluster_peers_match(peers, other, other_ip)
                        and _cluster_ports_match(rule, dst, protocol, port)):
                    return str(action)
        return None

    def _subject_matches(self, subject: Mapping[str, Any], pod: RefPod) -> bool:
        ns_labels = self.namespace_labels(pod.namespace)
        if "namespaces" in subject:
            return selector_matches(_mapping(subject["namespaces"]), ns_labels)
        pods = _mapping(subject.get("pods"))
        return (selector_matches(_mapping(pods.get("namespaceSelector")), ns_labels)
                and selector_matches(_mapping(pods.get("podSelector")), pod.labels))

    def _cluster_peers_match(self, peers: list[Any], other: RefPod | RefAddress,
                             other_ip: IPAddress | None) -> bool:
        for peer in peers:
            if "namespaces" in peer or "pods" in peer:
                if (isinstance(other, RefPod) and not other.host_network
                        and self._subject_matches(peer, other)):
                    return True
            elif "networks" in peer:
                if other_ip is not None and any(
                        other_ip.version == net.version and other_ip in net
                        for net in (ipaddress.ip_network(c, strict=False)
                                    for c in peer["networks"])):
                    return True
            elif "nodes" in peer:
                selector = _mapping(peer["nodes"])
                if other_ip is not None and any(
                        other_ip in addresses for name, addresses in self._node_objects.items()
                        if selector_matches(selector, self.node_labels.get(name, {}))):
                    return True
            # domainNames: a pod or an address is not a name; an unknown field: nothing
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
        for cp in self.cluster_policies:
            for direction in ("ingress", "egress"):
                for rule in _list(cp.spec.get(direction)):
                    for entry in _list(rule.get("ports")) + _list(rule.get("protocols")):
                        numbers.extend(_numbers(entry))
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


def _numbers(node: Any) -> list[int]:
    """Every port number written anywhere in a ports/protocols entry."""
    if isinstance(node, Mapping):
        return [n for key, value in node.items()
                for n in ([value] if key in ("port", "number", "start", "end")
                          and isinstance(value, int) else _numbers(value))]
    return []


def _cluster_ports_match(rule: Mapping[str, Any], dst: RefPod | RefAddress, protocol: str,
                         port: int) -> bool:
    """v1alpha1 ``ports`` or v1alpha2 ``protocols``; absent = everything. Named ports
    resolve on the destination pod by name alone (they carry no protocol)."""
    entries = rule.get("ports", rule.get("protocols"))
    if entries is None:
        return True
    for entry in entries:
        name = entry.get("namedPort", entry.get("destinationNamedPort"))
        if name is not None:
            if isinstance(dst, RefPod) and not dst.host_network and any(
                    n == name and number == port and proto == protocol
                    for n, number, proto in dst.container_ports):
                return True
        elif "portNumber" in entry:
            number = entry["portNumber"]
            if number.get("protocol", "TCP") == protocol and number["port"] == port:
                return True
        elif "portRange" in entry:
            span = entry["portRange"]
            if span.get("protocol", "TCP") == protocol and span["start"] <= port <= span["end"]:
                return True
        else:
            for key in ("tcp", "udp", "sctp"):
                if key in entry and key.upper() == protocol:
                    dest = _mapping(entry[key].get("destinationPort"))
                    if "number" in dest and dest["number"] == port:
                        return True
                    if "range" in dest and dest["range"]["start"] <= port <= dest["range"]["end"]:
                        return True
                    if not dest:
                        return True
    return False


def _version(src: RefPod | RefAddress, dst: RefPod | RefAddress,
             given: tuple[IPAddress | None, IPAddress | None]) -> int:
    """The IP version of a connection: that of an address the question names (the
    source's first), even a dual-stack pod's, else as between two pods."""
    for ip in given:
        if ip is not None:
            return ip.version
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


def _ip_of(end: RefPod | RefAddress, given: IPAddress | None,
           version: int) -> IPAddress | None:
    """The address ``end`` uses: the one the question names, else the pod's first address
    of that IP version, if it has one."""
    if given is not None:
        return given
    if isinstance(end, RefAddress):
        return end.ip
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


def _network(text: str) -> IPNetwork:
    """A CIDR as Go reads it (``net.ParseCIDR``, then ``IPNet.Contains``): host bits
    masked, and a network whose masked address is IPv4-mapped (``::ffff:10.0.0.0/104``)
    is the IPv4 network under the mask's last 32 bits (``10.0.0.0/8``), since Contains
    compares ``n.IP.To4()`` with ``mask[12:]``. (A prefix under 96 masks the ffff away:
    it stays an IPv6 network.)"""
    net = ipaddress.ip_network(text, strict=False)
    if isinstance(net, ipaddress.IPv6Network):
        mapped = net.network_address.ipv4_mapped
        if mapped is not None:
            return ipaddress.IPv4Network((mapped, net.prefixlen - 96))
    return net


def _pod(obj: Mapping[str, Any], namespace: str) -> RefPod:
    meta, spec, status = (_mapping(obj.get(k)) for k in ("metadata", "spec", "status"))
    texts = [entry["ip"] for entry in _list(status.get("podIPs")) if entry.get("ip")]
    if not texts and status.get("podIP"):
        texts = [status["podIP"]]
    # A name two containers declare (with one protocol) resolves to the first one's port,
    # as Kubernetes resolves it for services and probes: later ones are dropped.
    first: dict[tuple[str, str], int] = {}
    for c in _list(spec.get("containers")):
        for p in _list(c.get("ports")):
            if p.get("name"):
                first.setdefault((p["name"], p.get("protocol", "TCP")), int(p["containerPort"]))
    ports = tuple((name, number, proto) for (name, proto), number in first.items())
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
