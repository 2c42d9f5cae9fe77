"""Hypothesis generators of small clusters as raw manifest dicts, for the engine's properties.

Clusters are tiny (2-3 namespaces, 2-6 pods, a /28 of addresses) so that random selectors,
ipBlocks and named ports actually hit pods. Manifests stay plain dicts so the same objects
feed the engine (through the real decode/validate path) and the reference evaluator.
"""

from __future__ import annotations

import copy
import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from hypothesis import strategies as st

from stockade.engine import Engine
from stockade.model.build import RawObject, build_cluster
from stockade.model.types import Origin, Protocol

Manifest = dict[str, Any]

NAMESPACES = ("x", "y", "z")
NS_LABELS = {"env": ("dev", "prod"), "team": ("red", "blue")}
POD_LABELS = {"app": ("web", "db"), "tier": ("front", "back")}
PORT_NAMES = ("http", "dns", "metrics")
PORT_NUMBERS = (53, 79, 80, 81, 82, 8080)
PROTOCOLS = ("TCP", "UDP", "SCTP")
NODES = ("n1", "n2")
SUBNET = ipaddress.IPv4Network("10.0.0.0/28")
HOSTS = tuple(str(h) for h in SUBNET.hosts())
# The nodes' InternalIPs (hostIPs) and ExternalIPs: inside the subnet, so that ipBlocks hit
# them too, but never a pod-network pod's address.
NODE_IPS = {"n1": "10.0.0.13", "n2": "10.0.0.14"}
EXTERNAL_IPS = {"n1": "10.0.0.15", "n2": "192.0.2.2"}
POD_HOSTS = tuple(h for h in HOSTS if h not in NODE_IPS.values())
# sampled_from, unlike integers(), is not biased towards its bounds: True one time in 15.
RARELY = st.sampled_from((True, *([False] * 14)))
# Never carried by a generated pod: a podSelector on it selects nothing.
NO_POD_LABEL = ("unused", "nobody")


def _labels(draw: st.DrawFn, pool: Mapping[str, Sequence[str]]) -> dict[str, str]:
    keys = draw(st.lists(st.sampled_from(sorted(pool)), unique=True, max_size=len(pool)))
    return {k: draw(st.sampled_from(pool[k])) for k in keys}


@st.composite
def selectors(draw: st.DrawFn, pool: Mapping[str, Sequence[str]]) -> Manifest:
    """A LabelSelector over the keys of ``pool`` (plus a value no object carries)."""
    kind = draw(st.sampled_from(("empty", "labels", "expressions", "both")))
    selector: Manifest = {}
    keys = sorted(pool)
    if kind in ("labels", "both"):
        key = draw(st.sampled_from(keys))
        selector["matchLabels"] = {key: draw(st.sampled_from((*pool[key], "other")))}
    if kind in ("expressions", "both"):
        exprs = []
        for _ in range(draw(st.integers(1, 2))):
            key = draw(st.sampled_from(keys))
            op = draw(st.sampled_from(("In", "NotIn", "Exists", "DoesNotExist")))
            expr: Manifest = {"key": key, "operator": op}
            if op in ("In", "NotIn"):
                expr["values"] = draw(st.lists(st.sampled_from((*pool[key], "other")),
                                               min_size=1, max_size=2, unique=True))
            exprs.append(expr)
        selector["matchExpressions"] = exprs
    return selector


@st.composite
def ip_blocks(draw: st.DrawFn) -> Manifest:
    """A cidr around the pod subnet (sometimes with host bits set) and strict-subset excepts."""
    prefix = draw(st.sampled_from((0, 8, 24, 28, 29, 30, 32)))
    anchor = ipaddress.IPv4Address(draw(st.sampled_from(HOSTS)))
    net = ipaddress.IPv4Network((int(anchor), prefix), strict=False)
    cidr = f"{anchor}/{prefix}" if draw(st.booleans()) else str(net)
    block: Manifest = {"cidr": cidr}
    if prefix < 32 and draw(st.booleans()):
        excepts = set()
        for _ in range(draw(st.integers(1, 2))):
            sub_prefix = draw(st.integers(max(prefix + 1, 26), 32))
            inside = [h for h in HOSTS if ipaddress.IPv4Address(h) in net]
            if not inside:
                continue
            addr = ipaddress.IPv4Address(draw(st.sampled_from(inside)))
            excepts.add(str(ipaddress.IPv4Network((int(addr), sub_prefix), strict=False)))
        if excepts:
            block["except"] = sorted(excepts)
    return block


@st.composite
def peers(draw: st.DrawFn, pod_pool: Mapping[str, Sequence[str]],
          ns_pool: Mapping[str, Sequence[str]]) -> Manifest:
    shape = draw(st.sampled_from(("pod", "namespace", "both", "ipBlock")))
    if shape == "ipBlock":
        return {"ipBlock": draw(ip_blocks())}
    peer: Manifest = {}
    if shape in ("pod", "both"):
        peer["podSelector"] = draw(selectors(pod_pool))
    if shape in ("namespace", "both"):
        peer["namespaceSelector"] = draw(selectors(ns_pool))
    return peer


@st.composite
def policy_ports(draw: st.DrawFn) -> Manifest:
    shape = draw(st.sampled_from(("number", "range", "named", "protocol-only")))
    entry: Manifest = {}
    if shape == "number":
        entry["port"] = draw(st.sampled_from(PORT_NUMBERS))
    elif shape == "range":
        first = draw(st.sampled_from(PORT_NUMBERS))
        entry["port"] = first
        entry["endPort"] = draw(st.sampled_from([n for n in (*PORT_NUMBERS, 65535) if n >= first]))
    elif shape == "named":
        entry["port"] = draw(st.sampled_from(PORT_NAMES))
    protocol = draw(st.sampled_from((None, *PROTOCOLS)))
    if protocol is not None or shape == "protocol-only":
        entry["protocol"] = protocol or "TCP"
    return entry


def _namespace_pool() -> dict[str, tuple[str, ...]]:
    pool: dict[str, tuple[str, ...]] = {k: tuple(v) for k, v in NS_LABELS.items()}
    pool["kubernetes.io/metadata.name"] = NAMESPACES
    return pool


@st.composite
def rules(draw: st.DrawFn, peers_field: str) -> Manifest:
    rule: Manifest = {}
    if draw(st.integers(0, 2)) != 0:
        rule[peers_field] = draw(st.lists(peers(POD_LABELS, _namespace_pool()), max_size=2))
    if draw(st.integers(0, 2)) != 0:
        rule["ports"] = draw(st.lists(policy_ports(), min_size=1, max_size=3))
    elif draw(st.booleans()):
        rule["ports"] = []
    return rule


@st.composite
def policies(draw: st.DrawFn, namespaces: Sequence[str], name: str) -> Manifest:
    spec: Manifest = {"podSelector": draw(selectors(POD_LABELS))}
    types = draw(st.sampled_from((None, ["Ingress"], ["Egress"], ["Ingress", "Egress"])))
    if types is not None:
        spec["policyTypes"] = types
    for field, peers_field in (("ingress", "from"), ("egress", "to")):
        # Rules are what make connection sets interesting; absent/empty still appear.
        choice = draw(st.sampled_from(("absent", "empty", "rules", "rules", "rules")))
        if choice == "empty":
            spec[field] = []
        elif choice == "rules":
            spec[field] = draw(st.lists(rules(peers_field), min_size=1, max_size=2))
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"namespace": draw(st.sampled_from(namespaces)), "name": name},
        "spec": spec,
    }


@st.composite
def pods(draw: st.DrawFn, namespaces: Sequence[str], count: int) -> list[Manifest]:
    addresses = draw(st.lists(st.sampled_from(POD_HOSTS), min_size=count, max_size=count,
                              unique=True))
    out = []
    for i in range(count):
        ports = []
        names = draw(st.lists(st.sampled_from(PORT_NAMES), unique=True, max_size=3))
        for port_name in names:
            ports.append({"name": port_name,
                          "containerPort": draw(st.sampled_from(PORT_NUMBERS)),
                          "protocol": draw(st.sampled_from(PROTOCOLS))})
        node = draw(st.sampled_from(NODES))
        spec: Manifest = {"containers": [{"name": "main", "image": "agnhost", "ports": ports}],
                          "nodeName": node}
        # Rare on purpose: host-network pods and pods still waiting for an address.
        host_network = draw(RARELY)
        if host_network:
            spec["hostNetwork"] = True
            if draw(st.booleans()):
                addresses[i] = NODE_IPS[node]  # the node's address, as in a real cluster
        # Sometimes the node is known only by the pod's hostIP (no nodeName).
        if draw(RARELY):
            del spec["nodeName"]
        pod: Manifest = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"namespace": draw(st.sampled_from(namespaces)), "name": f"p{i}",
                         "labels": _labels(draw, POD_LABELS)},
            "spec": spec,
        }
        if not draw(RARELY):
            pod["status"] = {"podIP": addresses[i], "podIPs": [{"ip": addresses[i]}]}
            if draw(st.booleans()):
                pod["status"]["hostIP"] = NODE_IPS[node]
        out.append(pod)
    return out


NODE_LABELS = {"pool": ("infra", "apps")}
CLUSTER_API = "policy.networking.k8s.io"


@st.composite
def cluster_subjects(draw: st.DrawFn) -> Manifest:
    if draw(st.booleans()):
        return {"namespaces": draw(selectors(_namespace_pool()))}
    return {"pods": {"namespaceSelector": draw(selectors(_namespace_pool())),
                     "podSelector": draw(selectors(POD_LABELS))}}


@st.composite
def cluster_peers(draw: st.DrawFn, egress: bool, named: bool, action: str,
                  domains: bool = True) -> Manifest:
    shapes = ["namespaces", "pods"]
    if egress and not named:
        shapes += ["networks", "nodes"]
        if action in ("Accept", "Allow") and domains:
            shapes.append("domainNames")
    shape = draw(st.sampled_from(shapes))
    if draw(RARELY):
        return {"futurePeer": {}}  # a field of a newer CRD: the rule fails closed
    if shape == "namespaces":
        return {"namespaces": draw(selectors(_namespace_pool()))}
    if shape == "pods":
        return {"pods": {"namespaceSelector": draw(selectors(_namespace_pool())),
                         "podSelector": draw(selectors(POD_LABELS))}}
    if shape == "networks":
        cidrs = {draw(ip_blocks())["cidr"] for _ in range(draw(st.integers(1, 2)))}
        return {"networks": sorted(cidrs)}
    if shape == "nodes":
        return {"nodes": draw(selectors(NODE_LABELS))}
    return {"domainNames": [draw(st.sampled_from(("api.example.com", "*.example.com")))]}


@st.composite
def cluster_ports(draw: st.DrawFn, v1alpha1: bool) -> tuple[list[Manifest], bool]:
    """Entries of ``ports`` (v1alpha1) or ``protocols`` (v1alpha2), and whether one is a
    named port."""
    out: list[Manifest] = []
    named = False
    for _ in range(draw(st.integers(1, 2))):
        shape = draw(st.sampled_from(("number", "range", "named")))
        protocol = draw(st.sampled_from(PROTOCOLS))
        first = draw(st.sampled_from(PORT_NUMBERS))
        last = draw(st.sampled_from([n for n in (*PORT_NUMBERS, 65535) if n > first]))
        if shape == "named":
            named = True
            name = draw(st.sampled_from(PORT_NAMES))
            out.append({"namedPort": name} if v1alpha1 else {"destinationNamedPort": name})
        elif v1alpha1:
            out.append({"portNumber": {"protocol": protocol, "port": first}}
                       if shape == "number" else
                       {"portRange": {"protocol": protocol, "start": first, "end": last}})
        else:
            dest = {"number": first} if shape == "number" else {
                "range": {"start": first, "end": last}}
            out.append({protocol.lower(): {"destinationPort": dest}})
    return out, named


@st.composite
def cluster_rules(draw: st.DrawFn, direction: str, actions: Sequence[str],
                  v1alpha1: bool, domains: bool = True) -> Manifest:
    action = draw(st.sampled_from(actions))
    rule: Manifest = {"action": action}
    named = False
    if draw(st.integers(0, 2)) != 0:
        rule["ports" if v1alpha1 else "protocols"], named = draw(cluster_ports(v1alpha1))
    egress = direction == "egress"
    rule["to" if egress else "from"] = draw(st.lists(
        cluster_peers(egress, named, action, domains), min_size=1, max_size=2))
    return rule


@st.composite
def cluster_policies(draw: st.DrawFn, name: str, *, kind: str | None = None) -> Manifest:
    """A ClusterNetworkPolicy, AdminNetworkPolicy or BaselineAdminNetworkPolicy (named
    ``default``, as it must be); priorities from a few values so that ties happen."""
    kind = kind or draw(st.sampled_from(("ClusterNetworkPolicy", "ClusterNetworkPolicy",
                                         "AdminNetworkPolicy")))
    v1alpha1 = kind != "ClusterNetworkPolicy"
    actions = (("Allow", "Deny") if kind == "BaselineAdminNetworkPolicy"
               else ("Allow", "Deny", "Pass") if v1alpha1 else ("Accept", "Deny", "Pass"))
    spec: Manifest = {"subject": draw(cluster_subjects())}
    if kind == "ClusterNetworkPolicy":
        spec["tier"] = draw(st.sampled_from(("Admin", "Baseline")))
    if kind != "BaselineAdminNetworkPolicy":
        spec["priority"] = draw(st.sampled_from((0, 5, 5, 10)))
    for direction in ("ingress", "egress"):
        if draw(st.integers(0, 2)) != 0:
            rules = cluster_rules(direction, actions, v1alpha1,
                                  domains=kind != "BaselineAdminNetworkPolicy")
            spec[direction] = draw(st.lists(rules, min_size=1, max_size=3))
    return {"apiVersion": f"{CLUSTER_API}/{'v1alpha1' if v1alpha1 else 'v1alpha2'}",
            "kind": kind,
            "metadata": {"name": "default" if kind == "BaselineAdminNetworkPolicy" else name},
            "spec": spec}


@st.composite
def clusters(draw: st.DrawFn, *, min_policies: int = 0, max_policies: int = 4,
             min_cluster_policies: int = 0, max_cluster_policies: int = 0) -> list[Manifest]:
    """Namespaces (some only implied by their pods), pods, then policies, as raw dicts."""
    namespaces = draw(st.lists(st.sampled_from(NAMESPACES), min_size=2, max_size=3, unique=True))
    out: list[Manifest] = []
    for ns in namespaces:
        if draw(st.integers(0, 4)) != 0:
            out.append({"apiVersion": "v1", "kind": "Namespace",
                        "metadata": {"name": ns, "labels": _labels(draw, NS_LABELS)}})
    out.extend(draw(pods(namespaces, draw(st.integers(2, 6)))))
    for node in NODES:
        if draw(st.booleans()):
            out.append({"apiVersion": "v1", "kind": "Node",
                        "metadata": {"name": node, "labels": _labels(draw, NODE_LABELS)},
                        "status": {"addresses": [
                            {"type": "InternalIP", "address": NODE_IPS[node]},
                            {"type": "ExternalIP", "address": EXTERNAL_IPS[node]},
                            {"type": "Hostname", "address": node}]}})
    count = draw(st.integers(min_policies, max_policies))
    for i in range(count):
        out.append(draw(policies(namespaces, f"pol{i}")))
    banp = False
    for i in range(draw(st.integers(min_cluster_policies, max_cluster_policies))):
        kind = None
        if not banp and draw(st.integers(0, 4)) == 0:
            kind, banp = "BaselineAdminNetworkPolicy", True
        out.append(draw(cluster_policies(f"cnp{i}", kind=kind)))
    return out


@st.composite
def host_daemonset(draw: st.DrawFn, manifests: Sequence[Manifest]) -> list[Manifest]:
    """``manifests`` and a host-network pod on every node, alike (a DaemonSet's): one
    behaviour class spread over the nodes, so that only some of its pairs with a pod of a
    node are node traffic."""
    namespaces = sorted({m["metadata"]["namespace"] for m in manifests if m["kind"] == "Pod"})
    namespace = draw(st.sampled_from(namespaces))
    labels = _labels(draw, POD_LABELS)
    out = list(manifests)
    for node in NODES:
        ip = NODE_IPS[node]
        out.append({"apiVersion": "v1", "kind": "Pod",
                    "metadata": {"namespace": namespace, "name": f"ds-{node}",
                                 "labels": dict(labels)},
                    "spec": {"containers": [{"name": "main", "image": "agnhost"}],
                             "nodeName": node, "hostNetwork": True},
                    "status": {"podIP": ip, "podIPs": [{"ip": ip}], "hostIP": ip}})
    return out


# --- helpers over generated manifests ------------------------------------------------------


def engine_of(manifests: Iterable[Mapping[str, Any]]) -> Engine:
    """The engine over these manifests; every generated object must be valid."""
    raws = [RawObject(copy.deepcopy(dict(m)), Origin("gen", i + 1))
            for i, m in enumerate(manifests)]
    result = build_cluster(raws)
    assert not result.findings, "\n".join(str(f) for f in result.findings)
    return Engine(result.cluster)


def pod_keys(manifests: Iterable[Mapping[str, Any]]) -> list[str]:
    return [f"{m['metadata']['namespace']}/{m['metadata']['name']}"
            for m in manifests if m["kind"] == "Pod"]


def boundary_ports(manifests: Iterable[Mapping[str, Any]]) -> list[int]:
    """Every port where an answer may change, and its neighbours: rule ports and endPorts,
    container port numbers, and the ends of the range."""
    numbers = {1, 65535}
    for m in manifests:
        if m["kind"] == "Pod":
            for c in m["spec"]["containers"]:
                numbers.update(p["containerPort"] for p in c.get("ports", []))
        elif m["kind"] == "NetworkPolicy":
            for field in ("ingress", "egress"):
                for rule in m["spec"].get(field) or []:
                    for entry in rule.get("ports") or []:
                        for key in ("port", "endPort"):
                            if isinstance(entry.get(key), int):
                                numbers.add(entry[key])
        elif str(m.get("apiVersion", "")).startswith(CLUSTER_API):
            numbers.update(_numbers(m["spec"]))
    out: set[int] = set()
    for n in numbers:
        out.update(p for p in (n - 1, n, n + 1) if 1 <= p <= 65535)
    return sorted(out)


def _numbers(node: object) -> set[int]:
    """Every port number written in a cluster policy's ports or protocols."""
    if isinstance(node, Mapping):
        found: set[int] = set()
        for key, value in node.items():
            if key in ("port", "number", "start", "end") and isinstance(value, int):
                found.add(value)
            else:
                found |= _numbers(value)
        return found
    if isinstance(node, list):
        return {n for item in node for n in _numbers(item)}
    return set()


def defaulted_types(spec: Mapping[str, Any]) -> list[str]:
    """policyTypes after API defaulting (semantics spec section 2)."""
    given = spec.get("policyTypes")
    if given:
        return list(given)
    return ["Ingress", "Egress"] if spec.get("egress") else ["Ingress"]


Spans = dict[Protocol, list[tuple[int, int]]]


def parse_connections(text: str) -> Spans:
    """Canonical connection text (``all``, ``none``, ``TCP 80-81,443, UDP all``) to spans."""
    out: Spans = {p: [] for p in Protocol}
    if text == "all":
        return {p: [(1, 65535)] for p in Protocol}
    if text == "none":
        return out
    for part in text.split(", "):
        proto_text, _, ranges = part.partition(" ")
        proto = Protocol(proto_text)
        if ranges == "all":
            out[proto] = [(1, 65535)]
            continue
        for span in ranges.split(","):
            first, _, last = span.partition("-")
            out[proto].append((int(first), int(last or first)))
    return out


def spans_allow(spans: Spans, protocol: Protocol, port: int) -> bool:
    return any(a <= port <= b for a, b in spans[protocol])


def spans_subset(small: Spans, big: Spans) -> bool:
    """Every span of ``small`` lies inside one span of ``big`` (canonical spans are merged,
    so containment in the union means containment in one of them)."""
    return all(
        any(c <= a and b <= d for c, d in big[proto])
        for proto, spans in small.items()
        for a, b in spans
    )
