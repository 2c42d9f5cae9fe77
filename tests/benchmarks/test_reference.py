"""The reference evaluator against examples worked by hand from networkpolicy-semantics.md.

Each test builds a tiny cluster from raw dicts, states the spec section it follows, and
checks the verdicts a reader can verify on paper.
"""

from __future__ import annotations

from typing import Any

import pytest
from benchmarks.reference import (
    MAX_PORT,
    PROTOCOLS,
    ReferenceCluster,
    default_policy_types,
    format_connections,
    selector_matches,
)
from conformance_cases import case_paths, load_case

Doc = dict[str, Any]


def ns(name: str, **labels: str) -> Doc:
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": name, "labels": labels}}


def pod(namespace: str, name: str, labels: dict[str, str] | None = None,
        ips: tuple[str, ...] = (), ports: tuple[tuple[str, int, str], ...] = (),
        *, node: str = "node-1", host_network: bool = False) -> Doc:
    container: Doc = {"name": "c", "image": "x"}
    if ports:
        container["ports"] = [{"name": n, "containerPort": p, "protocol": pr}
                              for n, p, pr in ports]
    spec: Doc = {"containers": [container], "nodeName": node}
    if host_network:
        spec["hostNetwork"] = True
    status: Doc = {}
    if ips:
        status = {"podIP": ips[0], "podIPs": [{"ip": ip} for ip in ips]}
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "labels": labels or {}},
            "spec": spec, "status": status}


def policy(namespace: str, name: str, spec: Doc) -> Doc:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def cluster(*objects: Doc) -> ReferenceCluster:
    return ReferenceCluster.from_dicts(list(objects))


BASE = (
    ns("a", team="blue"),
    ns("b", team="red"),
    pod("a", "web", {"app": "web"}, ("10.0.0.1",), (("http", 8080, "TCP"),)),
    pod("a", "db", {"app": "db"}, ("10.0.0.2",), (("db", 5432, "TCP"), ("dns", 53, "UDP"))),
    pod("b", "client", {"app": "client"}, ("10.0.1.1",)),
)


# --- canonical text ---------------------------------------------------------------------

def test_format_connections() -> None:
    full = [(1, MAX_PORT)]
    assert format_connections({p: full for p in PROTOCOLS}) == "all"
    assert format_connections({}) == "none"
    assert format_connections({"TCP": [(443, 443), (80, 81)], "UDP": [(53, 53)]}) == \
        "TCP 80-81,443, UDP 53"
    assert format_connections({"TCP": full, "UDP": [(53, 53)]}) == "TCP all, UDP 53"
    # adjacent and overlapping ranges merge; SCTP comes last
    assert format_connections({"SCTP": full, "TCP": [(1, 5), (6, 9), (8, 20)]}) == \
        "TCP 1-20, SCTP all"
    assert format_connections({"TCP": full, "UDP": full}) == "TCP all, UDP all"


# --- §2 defaulting, §3 selection ---------------------------------------------------------

@pytest.mark.parametrize(("spec", "expected"), [
    ({}, ("Ingress",)),
    ({"policyTypes": []}, ("Ingress",)),
    ({"egress": []}, ("Ingress",)),
    ({"egress": [{}]}, ("Ingress", "Egress")),
    ({"policyTypes": [], "egress": [{"to": []}]}, ("Ingress", "Egress")),
    ({"policyTypes": ["Egress"]}, ("Egress",)),
    ({"policyTypes": ["Egress", "Ingress"], "ingress": [{}]}, ("Egress", "Ingress")),
])
def test_policy_types_defaulting(spec: Doc, expected: tuple[str, ...]) -> None:
    assert default_policy_types(spec) == expected


@pytest.mark.parametrize(("selector", "labels", "expected"), [
    ({}, {}, True),
    ({"matchLabels": {}}, {"a": "1"}, True),
    ({"matchLabels": {"a": "1"}}, {"a": "1", "b": "2"}, True),
    ({"matchLabels": {"a": "1", "b": "3"}}, {"a": "1", "b": "2"}, False),
    ({"matchExpressions": [{"key": "a", "operator": "In", "values": ["1", "2"]}]},
     {"a": "2"}, True),
    ({"matchExpressions": [{"key": "a", "operator": "In", "values": ["1"]}]}, {}, False),
    ({"matchExpressions": [{"key": "a", "operator": "NotIn", "values": ["1"]}]}, {}, True),
    ({"matchExpressions": [{"key": "a", "operator": "NotIn", "values": ["1"]}]},
     {"a": "1"}, False),
    ({"matchExpressions": [{"key": "a", "operator": "Exists"}]}, {"a": ""}, True),
    ({"matchExpressions": [{"key": "a", "operator": "DoesNotExist"}]}, {"a": ""}, False),
    ({"matchLabels": {"a": "1"},
      "matchExpressions": [{"key": "b", "operator": "DoesNotExist"}]}, {"a": "1"}, True),
])
def test_selector(selector: Doc, labels: dict[str, str], expected: bool) -> None:
    assert selector_matches(selector, labels) is expected


# --- §4 isolation and §10 both ends --------------------------------------------------------

def test_no_policies_allows_everything() -> None:
    c = cluster(*BASE)
    assert c.connections("b/client", "a/db") == "all"
    assert c.allowed("a/web", "a/db", "SCTP", 1)


def test_default_deny_ingress_isolates_only_ingress() -> None:
    c = cluster(*BASE, policy("a", "deny", {"podSelector": {}}))
    assert c.connections("b/client", "a/db") == "none"
    assert c.connections("a/web", "a/db") == "none"
    assert c.connections("a/db", "b/client") == "all"  # egress not isolated
    assert c.connections("a/db", "a/db") == "all"  # a pod always reaches itself


def test_deny_all_egress_needs_explicit_egress_type() -> None:
    implicit = cluster(*BASE, policy("a", "p", {"podSelector": {}, "egress": []}))
    assert implicit.connections("a/web", "b/client") == "all"
    explicit = cluster(*BASE, policy("a", "p", {"podSelector": {}, "policyTypes": ["Egress"]}))
    assert explicit.connections("a/web", "b/client") == "none"
    assert explicit.connections("b/client", "a/web") == "all"


def test_egress_rules_without_policy_types_also_isolate_ingress() -> None:
    c = cluster(*BASE, policy("a", "p", {"podSelector": {"matchLabels": {"app": "web"}},
                                         "egress": [{"ports": [{"port": 53,
                                                                "protocol": "UDP"}]}]}))
    assert c.connections("a/web", "b/client") == "UDP 53"
    assert c.connections("b/client", "a/web") == "none"
    assert c.connections("b/client", "a/db") == "all"  # not selected


def test_ingress_rules_of_an_egress_only_policy_are_ignored() -> None:
    c = cluster(*BASE, policy("a", "p", {"podSelector": {}, "policyTypes": ["Egress"],
                                         "ingress": [{"from": [{"podSelector": {}}]}],
                                         "egress": [{}]}))
    assert c.connections("b/client", "a/db") == "all"
    assert c.connections("a/db", "b/client") == "all"


def test_both_ends_must_agree() -> None:
    c = cluster(*BASE,
                policy("b", "out", {"podSelector": {}, "policyTypes": ["Egress"],
                                    "egress": [{"ports": [{"port": 5432}, {"port": 8080}]}]}),
                policy("a", "in", {"podSelector": {"matchLabels": {"app": "db"}},
                                   "ingress": [{"ports": [{"port": 5432},
                                                          {"port": 6000}]}]}))
    assert c.connections("b/client", "a/db") == "TCP 5432"
    assert c.connections("b/client", "a/web") == "TCP 5432,8080"  # web is not isolated


def test_policies_are_additive() -> None:
    c = cluster(*BASE,
                policy("a", "one", {"podSelector": {}, "ingress": [{"ports": [{"port": 1}]}]}),
                policy("a", "two", {"podSelector": {"matchLabels": {"app": "db"}},
                                    "ingress": [{"ports": [{"port": 2, "endPort": 3}]}]}))
    assert c.connections("b/client", "a/db") == "TCP 1-3"
    assert c.connections("b/client", "a/web") == "TCP 1"


# --- §5.1/5.2 peers ------------------------------------------------------------------------

def test_pod_selector_peer_is_limited_to_the_policy_namespace() -> None:
    objs = (*BASE, pod("b", "web", {"app": "web"}, ("10.0.1.2",)))
    c = cluster(*objs, policy("a", "p", {"podSelector": {"matchLabels": {"app": "db"}},
                                         "ingress": [{"from": [{"podSelector": {
                                             "matchLabels": {"app": "web"}}}]}]}))
    assert c.connections("a/web", "a/db") == "all"
    assert c.connections("b/web", "a/db") == "none"


def test_and_versus_or_of_selectors() -> None:
    objs = (*BASE, pod("b", "web", {"app": "web"}, ("10.0.1.2",)))
    both = {"namespaceSelector": {"matchLabels": {"team": "red"}},
            "podSelector": {"matchLabels": {"app": "web"}}}
    c_and = cluster(*objs, policy("a", "p", {"podSelector": {}, "ingress": [{"from": [both]}]}))
    assert c_and.connections("b/web", "a/db") == "all"
    assert c_and.connections("b/client", "a/db") == "none"
    assert c_and.connections("a/web", "a/db") == "none"  # namespace a is not red
    either = [{"namespaceSelector": {"matchLabels": {"team": "red"}}},
              {"podSelector": {"matchLabels": {"app": "web"}}}]
    c_or = cluster(*objs, policy("a", "p", {"podSelector": {}, "ingress": [{"from": either}]}))
    assert c_or.connections("b/client", "a/db") == "all"
    assert c_or.connections("a/web", "a/db") == "all"


def test_namespace_name_label_and_undeclared_namespaces() -> None:
    objs = (*BASE, pod("ghost", "p", {"app": "web"}, ("10.0.2.1",)))
    by_name = cluster(*objs, policy("a", "p", {"podSelector": {}, "ingress": [{"from": [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ghost"}}}]}]}))
    assert by_name.connections("ghost/p", "a/db") == "all"
    assert by_name.connections("b/client", "a/db") == "none"
    by_team = cluster(*objs, policy("a", "p", {"podSelector": {}, "ingress": [{"from": [
        {"namespaceSelector": {"matchExpressions": [{"key": "team", "operator": "Exists"}]}}
    ]}]}))
    assert by_team.connections("b/client", "a/db") == "all"
    assert by_team.connections("ghost/p", "a/db") == "none"  # only the name label


def test_empty_from_matches_everyone_but_empty_namespace_selector_not_external() -> None:
    host = pod("b", "agent", {"app": "agent"}, ("192.168.0.9",), node="node-2",
               host_network=True)
    any_peer = cluster(*BASE, host, policy("a", "p", {"podSelector": {},
                                                     "ingress": [{"from": []}]}))
    assert any_peer.connections("b/agent", "a/db") == "all"
    all_pods = cluster(*BASE, host, policy("a", "p", {"podSelector": {}, "ingress": [
        {"from": [{"namespaceSelector": {}}]}]}))
    assert all_pods.connections("b/client", "a/db") == "all"
    assert all_pods.connections("b/agent", "a/db") == "none"  # node traffic, not a pod


# --- §5.3 ipBlock ------------------------------------------------------------------------

def test_ip_block_matches_pod_ips_with_except_and_host_bits() -> None:
    c = cluster(*BASE, pod("b", "other", {}, ("10.0.1.77",)),
                policy("a", "p", {"podSelector": {}, "ingress": [{"from": [
                    {"ipBlock": {"cidr": "10.0.1.5/24", "except": ["10.0.1.64/26"]}}]}]}))
    assert c.connections("b/client", "a/db") == "all"  # 10.0.1.1 in 10.0.1.0/24
    assert c.connections("b/other", "a/db") == "none"  # in the except
    assert c.connections("a/web", "a/db") == "none"  # 10.0.0.1 outside


def test_pod_without_ip_never_matches_an_ip_block() -> None:
    c = cluster(*BASE, pod("b", "pending", {}),
                policy("a", "p", {"podSelector": {}, "ingress": [{"from": [
                    {"ipBlock": {"cidr": "0.0.0.0/0"}}, {"ipBlock": {"cidr": "::/0"}}]}]}),
                policy("b", "q", {"podSelector": {}, "policyTypes": ["Egress"], "egress": [
                    {"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}]}))
    assert c.connections("b/pending", "a/db") == "none"
    assert c.connections("b/client", "a/db") == "all"
    assert c.connections("b/client", "b/pending") == "none"
    assert c.connections("b/client", "a/web") == "all"


def test_dual_stack_ip_block_family() -> None:
    objs = (*BASE,
            pod("b", "v6first", {}, ("fd00::5", "10.0.1.5")),
            pod("a", "dual", {"app": "dual"}, ("10.0.0.9", "fd00::9")))
    v4_only = policy("b", "e", {"podSelector": {}, "policyTypes": ["Egress"],
                                "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/16"}}]}]})
    c = cluster(*objs, v4_only)
    # client's primary is IPv4 so the destination's IPv4 address is used
    assert c.connections("b/client", "a/dual") == "all"
    # v6first sends from IPv6: dual's IPv6 address is used, outside the IPv4 block
    assert c.connections("b/v6first", "a/dual") == "none"
    # db has no IPv6: the connection uses IPv4, the family both have
    assert c.connections("b/v6first", "a/db") == "all"
    # ingress matches the source's address of the connection's family
    v6_in = policy("a", "i", {"podSelector": {}, "ingress": [{"from": [
        {"ipBlock": {"cidr": "fd00::/64"}}]}]})
    c2 = cluster(*objs, v6_in)
    assert c2.connections("b/v6first", "a/dual") == "all"  # IPv6: fd00::5 is inside
    assert c2.connections("b/v6first", "a/db") == "none"  # IPv4: 10.0.1.5 is outside
    assert c2.connections("b/client", "a/db") == "none"


# --- §5.4 ports ---------------------------------------------------------------------------

def test_named_ports_resolve_on_the_destination_with_protocol() -> None:
    c = cluster(*BASE, policy("a", "p", {"podSelector": {}, "ingress": [{"ports": [
        {"port": "http"}, {"port": "db"}, {"port": "dns"}, {"protocol": "UDP", "port": "dns"}]}]}))
    assert c.connections("b/client", "a/web") == "TCP 8080"
    # "dns" with the defaulted TCP never matches the UDP container port
    assert c.connections("b/client", "a/db") == "TCP 5432, UDP 53"
    egress = cluster(*BASE, policy("b", "e", {"podSelector": {}, "policyTypes": ["Egress"],
                                              "egress": [{"ports": [{"port": "http"}]}]}))
    assert egress.connections("b/client", "a/web") == "TCP 8080"
    assert egress.connections("b/client", "a/db") == "none"


def test_end_port_protocol_only_and_empty_ports() -> None:
    c = cluster(*BASE, policy("a", "p", {"podSelector": {}, "ingress": [
        {"ports": [{"port": 8000, "endPort": 8100}, {"protocol": "SCTP"},
                   {"protocol": "UDP", "port": 65535}]}]}))
    assert c.connections("b/client", "a/db") == "TCP 8000-8100, UDP 65535, SCTP all"
    assert c.allowed("b/client", "a/db", "TCP", 8100)
    assert not c.allowed("b/client", "a/db", "TCP", 8101)
    empty = cluster(*BASE, policy("a", "p", {"podSelector": {},
                                             "ingress": [{"ports": [], "from": []}]}))
    assert empty.connections("b/client", "a/db") == "all"


# --- §8 hostNetwork and node traffic ------------------------------------------------------

HOSTS = (
    pod("b", "agent1", {"app": "agent"}, ("192.168.0.1",), node="node-1", host_network=True),
    pod("b", "agent2", {"app": "agent"}, ("192.168.0.2",), node="node-2", host_network=True),
)


def test_ingress_from_own_node_is_always_allowed() -> None:
    c = cluster(*BASE, *HOSTS, policy("a", "deny", {"podSelector": {}}))
    assert c.connections("b/agent1", "a/db") == "all"  # db runs on node-1
    assert c.connections("b/agent2", "a/db") == "none"


def test_host_network_source_is_an_external_ip_for_ingress() -> None:
    c = cluster(*BASE, *HOSTS, policy("a", "p", {"podSelector": {}, "ingress": [{"from": [
        {"podSelector": {}}, {"namespaceSelector": {}},
        {"ipBlock": {"cidr": "192.168.0.0/24", "except": ["192.168.0.2/32"]}}]}]}))
    assert c.connections("b/agent2", "a/db") == "none"
    c2 = cluster(*BASE, *HOSTS, policy("a", "p", {"podSelector": {}, "ingress": [
        {"from": [{"ipBlock": {"cidr": "192.168.0.0/24"}}], "ports": [{"port": "db"}]}]}))
    # named ports still resolve on the (pod) destination
    assert c2.connections("b/agent2", "a/db") == "TCP 5432"


def test_host_network_pods_are_never_subjects_and_egress_unrestricted() -> None:
    c = cluster(*BASE, *HOSTS, policy("b", "deny", {"podSelector": {},
                                                    "policyTypes": ["Ingress", "Egress"]}))
    assert c.connections("b/agent2", "a/db") == "all"
    assert c.connections("a/db", "b/agent2") == "all"
    assert c.connections("b/client", "a/db") == "none"


def test_host_network_destination_only_by_ip_block_or_own_node() -> None:
    objs = (*BASE, *HOSTS, pod("b", "far", {}, ("10.0.1.3",), node="node-3"))
    egress = {"podSelector": {}, "policyTypes": ["Egress"], "egress": [
        {"to": [{"podSelector": {}}, {"namespaceSelector": {}}]},
        {"to": [{"ipBlock": {"cidr": "192.168.0.2/32"}}], "ports": [{"port": 9100}]},
        {"ports": [{"port": "metrics"}]}]}
    c = cluster(*objs, pod("b", "exporter", {"app": "x"}, ("192.168.0.1",), (
        ("metrics", 9100, "TCP"),), node="node-1", host_network=True),
        policy("b", "e", egress))
    assert c.connections("b/far", "b/agent1") == "none"  # no selector can reach it
    assert c.connections("b/far", "b/agent2") == "TCP 9100"
    assert c.connections("b/client", "b/agent1") == "all"  # its own node (node-1)
    # named ports do not resolve on a hostNetwork destination
    assert c.connections("b/far", "b/exporter") == "none"


# --- the interval shortcut of connections() equals a scan of every port ---------------------

def _scan(c: ReferenceCluster, src: str, dst: str) -> str:
    allowed: dict[str, list[tuple[int, int]]] = {}
    for proto in PROTOCOLS:
        allowed[proto] = [(p, p) for p in range(1, MAX_PORT + 1)
                          if c.allowed(src, dst, proto, p)]
    return format_connections(allowed)


def test_connections_equals_exhaustive_scan() -> None:
    c = cluster(*BASE, *HOSTS,
                policy("a", "p", {"podSelector": {}, "ingress": [
                    {"from": [{"namespaceSelector": {"matchLabels": {"team": "red"}}}],
                     "ports": [{"port": 1, "endPort": 5}, {"port": 7}, {"port": "db"},
                               {"protocol": "UDP", "port": 65530, "endPort": 65535},
                               {"protocol": "UDP", "port": "dns"}]},
                    {"from": [{"ipBlock": {"cidr": "192.168.0.0/30"}}],
                     "ports": [{"protocol": "SCTP", "port": 100, "endPort": 200}]}]}),
                policy("b", "e", {"podSelector": {"matchLabels": {"app": "client"}},
                                  "policyTypes": ["Egress"], "egress": [
                                      {"ports": [{"port": 3, "endPort": 5432}]},
                                      {"ports": [{"protocol": "UDP"}]}]}))
    for src, dst in (("b/client", "a/db"), ("b/agent2", "a/db"), ("b/client", "a/web")):
        assert c.connections(src, dst) == _scan(c, src, dst)
    assert c.connections("b/client", "a/db") == "TCP 3-5,7,5432, UDP 53,65530-65535"


# --- §8 the pod's own node, by every address the input knows ------------------------------

def node(name: str, *addresses: tuple[str, str]) -> Doc:
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name},
            "status": {"addresses": [{"type": t, "address": a} for t, a in addresses]}}


def with_host_ip(doc: Doc, *ips: str, node_name: str | None = None) -> Doc:
    doc["status"]["hostIP"] = ips[0]
    doc["status"]["hostIPs"] = [{"ip": ip} for ip in ips]
    if node_name is None:
        del doc["spec"]["nodeName"]
    return doc


NODE_CLUSTER = (
    ns("a"),
    with_host_ip(pod("a", "app", {}, ("10.244.0.5",), node="n1"), "192.168.0.1",
                 node_name="n1"),
    with_host_ip(pod("a", "nameless", {}, ("10.244.0.6",)), "192.168.0.1"),
    with_host_ip(pod("a", "far", {}, ("10.244.1.5",), node="n2"), "192.168.0.2",
                 node_name="n2"),
    node("n1", ("InternalIP", "192.168.0.1"), ("ExternalIP", "203.0.113.7"),
         ("Hostname", "n1")),
    policy("a", "deny", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}),
)


def test_egress_to_and_ingress_from_every_address_of_the_own_node() -> None:
    c = cluster(*NODE_CLUSTER)
    for address in ("192.168.0.1", "203.0.113.7", "::ffff:192.168.0.1"):
        assert c.allowed("a/app", address, "TCP", 80)
        assert c.allowed(address, "a/app", "UDP", 53)
    # n2's address, the hostname (not an address type) and strangers meet the deny.
    for address in ("192.168.0.2", "203.0.113.8"):
        assert not c.allowed("a/app", address, "TCP", 80)
        assert not c.allowed(address, "a/app", "TCP", 80)
    assert not c.allowed("a/far", "203.0.113.7", "TCP", 80)


def test_a_pod_that_names_no_node_is_on_the_node_of_its_host_ip() -> None:
    c = cluster(*NODE_CLUSTER)
    assert c.node_names(c.pods["a/nameless"]) == {"n1"}
    assert c.allowed("a/nameless", "203.0.113.7", "TCP", 80)  # n1's ExternalIP


def test_a_host_network_pod_that_names_no_node_is_on_the_node_of_its_address() -> None:
    agent = pod("b", "agent", {}, ("203.0.113.7",), host_network=True)
    del agent["spec"]["nodeName"]
    c = cluster(*NODE_CLUSTER, agent)
    assert c.connections("a/app", "b/agent") == "all"
    assert c.connections("b/agent", "a/app") == "all"
    assert c.connections("a/far", "b/agent") == "none"
    # The same packet named by the agent's address: the same answer.
    assert c.allowed("a/app", "203.0.113.7", "TCP", 9)
    assert c.endpoint("203.0.113.7") is c.pods["b/agent"]


def test_an_address_of_a_pod_network_pod_is_that_pod_not_the_node() -> None:
    squatter = pod("b", "squatter", {}, ("203.0.113.7",), node="n9")
    c = cluster(*NODE_CLUSTER, squatter)
    assert c.endpoint("203.0.113.7") is c.pods["b/squatter"]
    assert not c.allowed("a/app", "203.0.113.7", "TCP", 80)
# --- cluster-wide policies (adminnetworkpolicy.md §3, §4) ------------------------------------

def cnp(name: str, tier: str, priority: int, subject: Doc, **rules: Any) -> Doc:
    return {"apiVersion": "policy.networking.k8s.io/v1alpha2", "kind": "ClusterNetworkPolicy",
            "metadata": {"name": name},
            "spec": {"tier": tier, "priority": priority, "subject": subject, **rules}}


def anp(name: str, priority: int, subject: Doc, **rules: Any) -> Doc:
    return {"apiVersion": "policy.networking.k8s.io/v1alpha1", "kind": "AdminNetworkPolicy",
            "metadata": {"name": name}, "spec": {"priority": priority, "subject": subject,
                                                 **rules}}


def banp(subject: Doc, **rules: Any) -> Doc:
    return {"apiVersion": "policy.networking.k8s.io/v1alpha1",
            "kind": "BaselineAdminNetworkPolicy", "metadata": {"name": "default"},
            "spec": {"subject": subject, **rules}}


ALL_NS: Doc = {"namespaces": {}}
NS_A: Doc = {"namespaces": {"matchLabels": {"team": "blue"}}}
FROM_B = [{"namespaces": {"matchLabels": {"team": "red"}}}]


def test_admin_first_match_in_priority_then_rule_order() -> None:
    c = cluster(*BASE,
                cnp("later", "Admin", 20, NS_A, ingress=[
                    {"action": "Accept", "from": FROM_B}]),
                cnp("first", "Admin", 10, NS_A, ingress=[
                    {"action": "Deny", "from": FROM_B,
                     "protocols": [{"tcp": {"destinationPort": {"number": 5432}}}]},
                    {"action": "Accept", "from": FROM_B}]))
    # 5432 denied by first's rule 0; everything else accepted by its rule 1
    assert c.connections("b/client", "a/db") == "TCP 1-5431,5433-65535, UDP all, SCTP all"


def test_admin_accept_overrides_networkpolicy_and_baseline() -> None:
    c = cluster(*BASE, policy("a", "deny", {"podSelector": {}}),
                banp(NS_A, ingress=[{"action": "Deny", "from": FROM_B}]),
                anp("dns", 1, NS_A, ingress=[{"action": "Allow", "from": FROM_B, "ports": [
                    {"portNumber": {"protocol": "UDP", "port": 53}}]}]))
    assert c.connections("b/client", "a/db") == "UDP 53"


def test_pass_goes_to_networkpolicy_then_baseline_then_allow() -> None:
    passing = cnp("pass", "Admin", 1, NS_A, ingress=[{"action": "Pass", "from": FROM_B}],
                  egress=[{"action": "Deny", "to": [{"namespaces": {}}]}])
    np_allow = policy("a", "np", {"podSelector": {"matchLabels": {"app": "web"}},
                                  "ingress": [{"ports": [{"port": 8080}]}]})
    base = cnp("base", "Baseline", 1, NS_A, ingress=[
        {"action": "Deny", "from": FROM_B, "protocols": [{"tcp": {"destinationPort": {
            "range": {"start": 1, "end": 1000}}}}]}])
    c = cluster(*BASE, passing, np_allow, base)
    assert c.connections("b/client", "a/web") == "TCP 8080"  # NetworkPolicy decides
    assert c.connections("b/client", "a/db") == "TCP 1001-65535, UDP all, SCTP all"  # baseline
    assert c.connections("a/db", "b/client") == "none"  # egress denied whatever the ingress
    assert c.connections("a/db", "a/db") == "all"  # hairpin: not subject to cluster policies
    # Pass with no NetworkPolicy and no baseline: as if there were no rule
    assert cluster(*BASE, passing).connections("b/client", "a/db") == "all"


def test_baseline_pass_and_banp_after_baseline_cnps() -> None:
    c = cluster(*BASE,
                banp(NS_A, ingress=[{"action": "Deny", "from": FROM_B}]),
                cnp("base", "Baseline", 999, NS_A, ingress=[
                    {"action": "Pass", "from": FROM_B, "protocols": [{"udp": {}}]},
                    {"action": "Accept", "from": FROM_B, "protocols": [
                        {"tcp": {"destinationPort": {"number": 80}}}]}]))
    # UDP: Pass skips the rest of the Baseline tier, the BANP included: default allow.
    # TCP 80: accepted. Everything else reaches the BANP, evaluated last, which denies.
    assert c.connections("b/client", "a/db") == "TCP 80, UDP all"


def test_same_priority_is_ordered_by_name() -> None:
    c = cluster(*BASE,
                cnp("b-accept", "Admin", 5, NS_A, ingress=[{"action": "Accept", "from": FROM_B}]),
                cnp("a-deny", "Admin", 5, NS_A, ingress=[{"action": "Deny", "from": FROM_B}]))
    assert c.connections("b/client", "a/db") == "none"


def test_networks_match_pods_and_nodes_match_node_addresses() -> None:
    node = {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": "n2", "labels": {"role": "infra"}},
            "status": {"addresses": [{"type": "InternalIP", "address": "10.9.0.2"},
                                     {"type": "Hostname", "address": "n2"}]}}
    host = pod("b", "agent", {"app": "agent"}, ("10.9.0.2",), (("m", 9100, "TCP"),),
               node="n2", host_network=True)
    c = cluster(*BASE, node, host,
                cnp("out", "Admin", 1, NS_A, egress=[
                    {"action": "Accept", "to": [{"nodes": {"matchLabels": {"role": "infra"}}}],
                     "protocols": [{"tcp": {"destinationPort": {"number": 9100}}}]},
                    {"action": "Deny", "to": [{"networks": ["10.0.1.0/24", "10.9.0.0/16"]}]}]))
    assert c.connections("a/web", "b/agent") == "TCP 9100"
    assert c.connections("a/web", "b/client") == "none"  # 10.0.1.1 is in a network
    assert c.connections("a/web", "a/db") == "all"


def test_named_ports_resolve_on_the_destination_whatever_the_protocol() -> None:
    c = cluster(*BASE, cnp("in", "Admin", 1, NS_A, ingress=[
        {"action": "Accept", "from": FROM_B, "protocols": [{"destinationNamedPort": "dns"}]},
        {"action": "Deny", "from": FROM_B}]))
    assert c.connections("b/client", "a/db") == "UDP 53"
    assert c.connections("b/client", "a/web") == "none"  # web declares no "dns"


def test_peers_of_unknown_fields_fail_closed() -> None:
    unknown: list[Doc] = [{"futurePeer": {}}]
    accept = cluster(*BASE, cnp("x", "Admin", 1, NS_A, ingress=[
        {"action": "Accept", "from": unknown}, {"action": "Deny", "from": FROM_B}]))
    assert accept.connections("b/client", "a/db") == "none"  # the Accept matched nothing
    passing = cluster(*BASE, cnp("x", "Admin", 1, NS_A, ingress=[
        {"action": "Pass", "from": unknown}]))
    assert passing.connections("b/client", "a/db") == "none"  # Pass fails closed: deny all
    assert passing.connections("a/web", "a/db") == "none"


def test_host_network_pods_are_never_subjects_nor_pod_peers() -> None:
    host = pod("a", "agent", {"app": "agent"}, ("10.9.0.9",), node="n9", host_network=True)
    c = cluster(*BASE, host, cnp("x", "Admin", 1, ALL_NS, ingress=[
        {"action": "Deny", "from": [{"namespaces": {}}]}]))
    assert c.connections("b/client", "a/agent") == "all"
    assert c.connections("a/agent", "a/db") == "all"
    assert c.connections("b/client", "a/db") == "none"


def test_reference_agrees_with_every_transcribed_conformance_probe() -> None:
    """The judge itself, against upstream's expectations (tests/scenarios/conformance)."""
    wrong = []
    for path in case_paths():
        for step in load_case(path).steps:
            ref = ReferenceCluster.from_dicts([dict(r.data) for r in step.raws])
            for p in step.probes:
                if ref.allowed(p.source, p.destination, p.protocol.value, p.port) != p.allowed:
                    wrong.append(p.where)
    assert wrong == []
