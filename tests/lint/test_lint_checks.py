"""Every lint check: a manifest written to make it fire (with what it must say), and one
that keeps it quiet."""

from __future__ import annotations

import pytest
from lint_support import CLUSTER, DNS_OK, NAMESPACES, PODS, of, pod, policy, run

from stockade.lint import DEFAULT_IDS, Severity

# --- policy-selects-nothing ------------------------------------------------------------


def test_policy_selects_nothing_names_the_closest_label() -> None:
    found = of(run(CLUSTER + policy("p", "podSelector: {matchLabels: {app: apii}}")),
               "policy-selects-nothing")
    assert len(found) == 1
    f = found[0]
    assert f.severity is Severity.WARNING
    assert (f.kind, f.namespace, f.name, f.path) == ("NetworkPolicy", "payments", "p",
                                                     "spec.podSelector")
    assert f.message == ("podSelector {app=apii} matches no pod or workload in namespace "
                         "payments; pods have app=api, app=db")
    assert f.hint == "did you mean app=api?"


def test_policy_selects_nothing_only_host_network_pods() -> None:
    host = pod("payments", "agent", "{app: agent}", "192.168.0.1").replace(
        "spec:\n", "spec:\n  hostNetwork: true\n")
    found = of(run(CLUSTER + host + policy("p", "podSelector: {matchLabels: {app: agent}}")),
               "policy-selects-nothing")
    assert len(found) == 1
    assert "matches only host-network pods (payments/agent)" in found[0].message


@pytest.mark.parametrize("text", [
    CLUSTER + policy("p", "podSelector: {matchLabels: {app: api}}"),
    # no pod of the namespace in the input: nothing to judge by
    NAMESPACES + policy("p", "podSelector: {matchLabels: {app: apii}}"),
    CLUSTER + policy("p", "podSelector: {matchLabels: {app: x}}", namespace="elsewhere"),
])
def test_policy_selects_nothing_quiet(text: str) -> None:
    assert not of(run(text), "policy-selects-nothing")


# --- peer-selects-nothing --------------------------------------------------------------

PEER = """\
podSelector: {{}}
ingress:
- from:
  - {peer}
"""


def _peer(peer: str) -> str:
    return CLUSTER + policy("p", PEER.format(peer=peer))


def test_peer_namespace_selector_typo() -> None:
    found = of(run(_peer("namespaceSelector: {matchLabels: {team: paymnts}}")),
               "peer-selects-nothing")
    assert [(f.path, f.message, f.hint) for f in found] == [(
        "spec.ingress[0].from[0].namespaceSelector",
        "namespaceSelector {team=paymnts} matches no namespace; namespaces have "
        "team=payments, team=platform",
        "did you mean team=payments?")]


def test_peer_pod_selector_typo_in_selected_namespaces() -> None:
    found = of(run(_peer("{namespaceSelector: {matchLabels: {team: platform}}, "
                         "podSelector: {matchLabels: {app: prometeus}}}")),
               "peer-selects-nothing")
    assert len(found) == 1
    assert found[0].path == "spec.ingress[0].from[0].podSelector"
    assert found[0].message == (
        "podSelector {app=prometeus} matches no pod in namespace platform (selected by "
        "namespaceSelector {team=platform}); pods have app=prometheus")
    assert found[0].hint == "did you mean app=prometheus?"


def test_peer_label_key_typo() -> None:
    found = of(run(_peer("podSelector: {matchLabels: {ap: db}}")), "peer-selects-nothing")
    assert [(f.message, f.hint) for f in found] == [(
        "podSelector {ap=db} matches no pod in namespace payments; no pod has a label ap",
        "did you mean app=db?")]


def test_peer_labels_that_never_meet() -> None:
    found = of(run(_peer("podSelector: {matchLabels: {app: db}, matchExpressions: "
                         "[{key: app, operator: In, values: [api]}]}")),
               "peer-selects-nothing")
    assert len(found) == 1
    assert found[0].message.endswith("no single pod has all of app=db, app=api")


@pytest.mark.parametrize("peer", [
    "namespaceSelector: {matchLabels: {team: payments}}",
    "podSelector: {matchLabels: {app: db}}",
    "{namespaceSelector: {matchLabels: {team: platform}}, podSelector: {matchLabels: "
    "{app: prometheus}}}",
    # namespaces without pods in the input: their pods are unknown
    "{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-public}}, "
    "podSelector: {matchLabels: {app: anything}}}",
    "ipBlock: {cidr: 192.168.0.0/16}",
])
def test_peer_selects_nothing_quiet(peer: str) -> None:
    assert not of(run(_peer(peer)), "peer-selects-nothing")


def test_peer_quiet_on_kube_system_when_the_input_has_no_pods_there() -> None:
    text = NAMESPACES.replace("metadata: {name: kube-system}", "metadata: {name: other}")
    text += pod("payments", "api", "{app: api}", "10.1.0.1") + DNS_OK
    assert not of(run(text), "peer-selects-nothing")


def test_namespace_labels_of_undeclared_namespaces_are_unknown() -> None:
    # payments is only implied by its pods: a selector on other labels cannot be judged
    text = PODS + policy("p", PEER.format(peer="namespaceSelector: {matchLabels: {team: x}}"))
    assert not of(run(text), "peer-selects-nothing")
    # ... but its name label is known
    by_name = "namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: paymnts}}"
    found = of(run(PODS + policy("p", PEER.format(peer=by_name))), "peer-selects-nothing")
    assert len(found) == 1
    assert found[0].hint == "did you mean kubernetes.io/metadata.name=payments?"


# --- rules-ignored-by-policy-types -----------------------------------------------------

IGNORED = """\
podSelector: {{}}
policyTypes: [{types}]
ingress: [{{from: [{{podSelector: {{}}}}]}}]
egress: [{{to: [{{podSelector: {{}}}}]}}, {{ports: [{{port: 53, protocol: UDP}}]}}]
"""


def test_rules_ignored_by_policy_types() -> None:
    found = of(run(CLUSTER + policy("p", IGNORED.format(types="Ingress"))),
               "rules-ignored-by-policy-types")
    assert [(f.severity, f.path, f.message) for f in found] == [(
        Severity.ERROR, "spec.egress",
        "policyTypes [Ingress] does not list Egress: the 2 egress rules have no effect")]
    found = of(run(CLUSTER + policy("p", IGNORED.format(types="Egress"))),
               "rules-ignored-by-policy-types")
    assert [f.path for f in found] == ["spec.ingress"]


def test_rules_ignored_quiet() -> None:
    assert not of(run(CLUSTER + policy("p", IGNORED.format(types="Ingress, Egress"))),
                  "rules-ignored-by-policy-types")
    defaulted = "podSelector: {}\negress: [{to: [{podSelector: {}}]}]\n"
    assert not of(run(CLUSTER + policy("p", defaulted)), "rules-ignored-by-policy-types")


# --- egress-blocks-dns -----------------------------------------------------------------

DENY_EGRESS = "podSelector: {matchLabels: {app: api}}\npolicyTypes: [Egress]\n"


def test_egress_deny_blocks_dns() -> None:
    found = of(run(CLUSTER + policy("deny", DENY_EGRESS)), "egress-blocks-dns")
    assert len(found) == 1
    f = found[0]
    assert (f.name, f.path, f.related) == ("deny", "spec.policyTypes", ("payments/api",))
    assert f.message.startswith("payments/api is isolated for egress and cannot reach a DNS "
                                "server on UDP 53")


def test_udp_only_dns_misses_tcp() -> None:
    udp_only = DNS_OK.replace(", {port: 53, protocol: TCP}", "")
    found = of(run(CLUSTER + udp_only), "egress-blocks-dns")
    assert [(f.name, f.message) for f in found] == [(
        "allow-dns", "payments/api and payments/db may reach DNS on UDP 53 but not on TCP 53: "
        "answers too large for UDP are retried over TCP and fail")]


@pytest.mark.parametrize("text", [
    CLUSTER + DNS_OK,
    # the DNS server is not in the input: kube-dns is assumed to exist in kube-system
    NAMESPACES + pod("payments", "api", "{app: api}", "10.1.0.1") + DNS_OK,
    # any address outside the pods may be a resolver
    CLUSTER + policy("out", "podSelector: {}\npolicyTypes: [Egress]\negress:\n"
                     "- to: [{ipBlock: {cidr: 0.0.0.0/0}}]\n"
                     "  ports: [{port: 53, protocol: UDP}, {port: 53, protocol: TCP}]"),
    # egress not isolated at all
    CLUSTER + policy("in", "podSelector: {}\npolicyTypes: [Ingress]"),
])
def test_egress_blocks_dns_quiet(text: str) -> None:
    assert not of(run(text), "egress-blocks-dns")


def test_dns_blocked_by_kube_dns_own_ingress_policy() -> None:
    # egress allows kube-dns, but kube-dns accepts only from platform: both sides count
    guard = policy("dns-guard", "podSelector: {matchLabels: {k8s-app: kube-dns}}\ningress:\n"
                   "- from: [{namespaceSelector: {matchLabels: {team: platform}}}]",
                   namespace="kube-system")
    found = of(run(CLUSTER + DNS_OK + guard), "egress-blocks-dns")
    assert len(found) == 1
    assert found[0].name == "allow-dns"
    assert "payments/api and payments/db are isolated for egress" in found[0].message


# --- named-port-undeclared -------------------------------------------------------------


def test_named_port_no_selected_pod_declares() -> None:
    text = CLUSTER + DNS_OK + policy("p", "podSelector: {matchLabels: {app: api}}\n"
                                     "ingress: [{ports: [{port: metrics}]}]")
    found = of(run(text), "named-port-undeclared")
    assert [(f.path, f.message) for f in found] == [(
        "spec.ingress[0].ports[0]",
        "named port 'metrics' (TCP) is declared by none of the pods this policy selects "
        "(payments/api), so this entry matches nothing")]


def test_named_port_declared_with_another_protocol() -> None:
    text = CLUSTER + DNS_OK.replace("{port: 53, protocol: UDP}, {port: 53, protocol: TCP}",
                                    "{port: dns}, {port: dns-tcp}")
    found = of(run(text), "named-port-undeclared")
    assert [(f.path, f.hint) for f in found] == [("spec.egress[0].ports[0]",
                                                   "set protocol: UDP on this port entry")]
    assert found[0].message == (
        "named port 'dns' (TCP) is declared by none of the destinations of this rule; "
        "kube-system/coredns declares 'dns' as UDP")


def test_named_port_on_ipblock_peers_never_matches() -> None:
    text = CLUSTER + policy("p", "podSelector: {}\npolicyTypes: [Egress]\negress:\n"
                            "- to: [{ipBlock: {cidr: 192.168.0.0/16}}]\n"
                            "  ports: [{port: https}]")
    found = of(run(text), "named-port-undeclared")
    assert len(found) == 1
    assert "the rule's peers are ipBlocks holding no pod of the input" in found[0].message


@pytest.mark.parametrize("spec", [
    "podSelector: {matchLabels: {app: api}}\ningress: [{ports: [{port: http}]}]",
    # declared by one of the destinations is enough
    "podSelector: {}\ningress: [{ports: [{port: postgres}]}]",
    "podSelector: {}\npolicyTypes: [Egress]\negress:\n- to: [{podSelector: {matchLabels: "
    "{app: db}}}]\n  ports: [{port: postgres}]",
])
def test_named_port_quiet(spec: str) -> None:
    assert not of(run(CLUSTER + policy("p", spec)), "named-port-undeclared")


# --- redundant-rule and redundant-policy -----------------------------------------------

TWO_RULES = """\
podSelector: {{matchLabels: {{app: db}}}}
ingress:
- from: [{{podSelector: {{matchLabels: {{app: api}}}}}}]
  ports: [{{port: 5432}}]
- from: [{second}]
  ports: [{{port: 5432}}, {{port: 5433}}]
"""


def test_redundant_rule_inside_a_policy() -> None:
    text = CLUSTER + policy("db", TWO_RULES.format(second="podSelector: {}"))
    found = of(run(text), "redundant-rule")
    assert [(f.name, f.path, f.severity) for f in found] == [
        ("db", "spec.ingress[0]", Severity.INFO)]
    assert found[0].message == (
        "ingress[0] allows nothing that other rules of the policies selecting the same pods "
        "do not already allow (covered by payments/db ingress[1]): removing it changes no "
        "connection")


def test_redundant_rule_across_policies_of_the_same_pods() -> None:
    wide = policy("wide", "podSelector: {}\ningress: [{from: [{podSelector: {}}]}]")
    narrow = policy("narrow", "podSelector: {matchLabels: {app: db}}\ningress:\n"
                    "- from: [{podSelector: {matchLabels: {app: api}}}]\n"
                    "  ports: [{port: 5432}]\n"
                    "- from: [{ipBlock: {cidr: 192.168.0.0/16}}]")
    found = run(CLUSTER + wide + narrow)
    assert [(f.name, f.path) for f in of(found, "redundant-rule")] == [
        ("narrow", "spec.ingress[0]")]
    assert not of(found, "redundant-policy")


@pytest.mark.parametrize("second", [
    # another source: both rules are needed
    "podSelector: {matchLabels: {app: prometheus}}",
    # an ipBlock without api's address
    "ipBlock: {cidr: 10.1.1.0/24}",
])
def test_redundant_rule_quiet(second: str) -> None:
    assert not of(run(CLUSTER + policy("db", TWO_RULES.format(second=second))),
                  "redundant-rule")


@pytest.mark.parametrize("block", ["10.1.0.1/32", "10.1.0.0/24"])
def test_an_ipblock_holding_the_pods_covers_a_selector_rule(block: str) -> None:
    text = CLUSTER + policy("db", TWO_RULES.format(second=f"ipBlock: {{cidr: {block}}}"))
    assert [f.path for f in of(run(text), "redundant-rule")] == ["spec.ingress[0]"]


def test_an_ipblock_of_exactly_a_pods_address_is_no_wider_than_the_pod() -> None:
    # 10.1.0.1/32 is api's own address: no other endpoint can have it, so the ipBlock
    # rule allows nothing the podSelector rule does not
    text = CLUSTER + policy("db", "podSelector: {matchLabels: {app: db}}\ningress:\n"
                            "- from: [{podSelector: {matchLabels: {app: api}}}]\n"
                            "- from: [{ipBlock: {cidr: 10.1.0.1/32}}]")
    found = run(text)
    assert sorted(f.path for f in of(found, "redundant-rule")) == [
        "spec.ingress[0]", "spec.ingress[1]"]


def test_redundant_policy() -> None:
    everyone = policy("from-all", "podSelector: {matchLabels: {app: db}}\ningress: [{}]")
    api = policy("from-api", "podSelector: {matchLabels: {app: db}}\ningress:\n"
                 "- from: [{podSelector: {matchLabels: {app: api}}}]")
    found = run(CLUSTER + everyone + api)
    assert [(f.name, f.path) for f in of(found, "redundant-policy")] == [("from-api", "")]
    assert "(payments/from-all) already allow everything it allows" in of(
        found, "redundant-policy")[0].message
    assert not of(found, "redundant-rule")  # its rules are not reported one by one


def test_default_deny_is_never_redundant() -> None:
    deny = policy("deny", "podSelector: {}\npolicyTypes: [Ingress]")
    allow = policy("allow", "podSelector: {}\ningress: [{from: [{podSelector: {}}]}]")
    assert not of(run(CLUSTER + deny + allow), "redundant-policy")


def test_a_rule_that_only_lets_a_pod_reach_itself_is_redundant() -> None:
    # db is the only pod selected; a pod always reaches itself
    text = CLUSTER + policy("db", "podSelector: {matchLabels: {app: db}}\ningress:\n"
                            "- from: [{podSelector: {matchLabels: {app: db}}}]\n"
                            "- from: [{podSelector: {matchLabels: {app: api}}}]")
    assert [f.path for f in of(run(text), "redundant-rule")] == ["spec.ingress[0]"]


# --- ipblock-covers-pods ---------------------------------------------------------------


def test_ipblock_covers_pods() -> None:
    text = CLUSTER + policy("p", "podSelector: {}\ningress:\n"
                            "- from: [{ipBlock: {cidr: 10.1.0.0/16, except: [10.1.2.0/24]}}]")
    found = of(run(text), "ipblock-covers-pods")
    assert [(f.path, f.related) for f in found] == [(
        "spec.ingress[0].from[0].ipBlock", ("payments/api", "payments/db", "platform/prom"))]
    assert found[0].message.startswith(
        "ipBlock 10.1.0.0/16 contains the IPs of 3 pods of the input: payments/api "
        "(10.1.0.1), payments/db (10.1.0.2), platform/prom (10.1.1.3); whether")


@pytest.mark.parametrize("block", ["{cidr: 192.168.0.0/16}",
                                   "{cidr: 10.1.0.0/22, except: [10.1.0.0/23]}",
                                   "{cidr: 10.1.2.0/24}"])  # only kube-dns... see below
def test_ipblock_covers_pods_quiet(block: str) -> None:
    text = CLUSTER.replace("10.1.2.10", "10.9.9.9") + policy(
        "p", f"podSelector: {{}}\ningress: [{{from: [{{ipBlock: {block}}}]}}]")
    assert not of(run(text), "ipblock-covers-pods")


# --- allow-all-rule --------------------------------------------------------------------


def test_allow_all_rule_without_peers() -> None:
    text = CLUSTER + policy("open", "podSelector: {matchLabels: {app: api}}\ningress: [{}]")
    found = of(run(text), "allow-all-rule")
    assert [(f.path, f.message, f.related) for f in found] == [(
        "spec.ingress[0]",
        "ingress[0] has no from: it allows all ports from every pod and every address, into "
        "payments/api", ("payments/api",))]


@pytest.mark.parametrize(("peer", "what"), [
    ("namespaceSelector: {}", "every pod of every namespace"),
    ("{namespaceSelector: {}, podSelector: {}}", "every pod of every namespace"),
    ("ipBlock: {cidr: 0.0.0.0/0}", "every IPv4 address"),
    ("ipBlock: {cidr: '::/0'}", "every IPv6 address"),
])
def test_allow_all_peers(peer: str, what: str) -> None:
    found = of(run(_peer(peer)), "allow-all-rule")
    assert [f.path for f in found] == ["spec.ingress[0].from[0]"]
    assert found[0].message.startswith(f"from[0] matches {what}: ingress[0] allows all ports")


@pytest.mark.parametrize("peer", ["podSelector: {}",
                                  "ipBlock: {cidr: 0.0.0.0/0, except: [10.0.0.0/8]}",
                                  "namespaceSelector: {matchLabels: {team: platform}}"])
def test_allow_all_quiet(peer: str) -> None:
    assert not of(run(_peer(peer)), "allow-all-rule")


# --- namespace-without-default-deny ----------------------------------------------------


def test_namespace_without_default_deny_is_off_by_default() -> None:
    assert "namespace-without-default-deny" not in DEFAULT_IDS
    assert not of(run(CLUSTER, enabled=DEFAULT_IDS), "namespace-without-default-deny")


def test_namespace_without_default_deny() -> None:
    text = CLUSTER + policy("api-only", "podSelector: {matchLabels: {app: api}}")
    found = of(run(text), "namespace-without-default-deny")
    assert sorted((f.kind, f.name, f.related) for f in found) == [
        ("Namespace", "kube-system", ("kube-system/coredns",)),
        ("Namespace", "payments", ("payments/db",)),
        ("Namespace", "platform", ("platform/prom",))]
    assert found[0].message == ("namespace payments: payments/db is isolated in no "
                                "direction: no policy restricts their traffic")


def test_namespace_with_default_deny_quiet() -> None:
    deny = policy("deny", "podSelector: {}\npolicyTypes: [Ingress, Egress]")
    found = of(run(CLUSTER + deny), "namespace-without-default-deny")
    assert "payments" not in {f.name for f in found}


# --- hostaliases-shadowed --------------------------------------------------------------

ALIASED = """\
---
apiVersion: v1
kind: Pod
metadata: {{name: web, namespace: payments}}
spec:
  containers: [{{name: main, image: img}}]
  hostAliases: {aliases}
status: {{podIP: 10.1.0.7}}
"""


@pytest.mark.parametrize(("aliases", "path", "message"), [
    ("[{ip: 10.0.0.1, hostnames: [a.local, b.local]}, {ip: 10.0.0.2, hostnames: [b.local]}]",
     "spec.hostAliases[1].hostnames[0]",
     "b.local -> 10.0.0.2 is shadowed by hostAliases[0], which lists b.local -> 10.0.0.1 "
     "first: lookups answer 10.0.0.1 first"),
    ("[{ip: 10.0.0.1, hostnames: [a.local]}, {ip: 10.0.0.1, hostnames: [a.local]}]",
     "spec.hostAliases[1].hostnames[0]",
     "a.local is listed twice for 10.0.0.1 (first in hostAliases[0]): the later entry is "
     "never used"),
    ("[{ip: 10.0.0.9, hostnames: [web]}]", "spec.hostAliases[0].hostnames[0]",
     "web is the pod's own hostname: the kubelet writes web -> 10.1.0.7 above the aliases, "
     "so this alias to 10.0.0.9 never resolves"),
    ("[{ip: 10.0.0.9, hostnames: [localhost]}]", "spec.hostAliases[0].hostnames[0]",
     "localhost is a localhost name: the kubelet writes localhost -> 127.0.0.1, ::1 above "
     "the aliases, so this alias to 10.0.0.9 never resolves"),
])
def test_hostaliases_shadowed(aliases: str, path: str, message: str) -> None:
    found = of(run(CLUSTER + ALIASED.format(aliases=aliases)), "hostaliases-shadowed")
    assert [(f.kind, f.name, f.path, f.message) for f in found] == [
        ("Pod", "web", path, message)]


def test_hostaliases_on_a_workload_template() -> None:
    text = CLUSTER + """\
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: payments}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: main, image: img}]
      hostAliases: [{ip: 10.0.0.1, hostnames: [x]}, {ip: 10.0.0.2, hostnames: [x]}]
"""
    found = of(run(text), "hostaliases-shadowed")
    assert [(f.kind, f.path) for f in found] == [
        ("Deployment", "spec.template.spec.hostAliases[1].hostnames[0]")]


@pytest.mark.parametrize("aliases", [
    "[{ip: 10.0.0.1, hostnames: [a.local]}, {ip: 10.0.0.2, hostnames: [b.local]}]",
    "[{ip: 127.0.0.1, hostnames: [localhost]}]",  # the same address: harmless
    "[{ip: 10.1.0.7, hostnames: [web]}]",
])
def test_hostaliases_quiet(aliases: str) -> None:
    assert not of(run(CLUSTER + ALIASED.format(aliases=aliases)), "hostaliases-shadowed")


# --- egress-policy-isolates-ingress ----------------------------------------------------

EGRESS_ONLY = "podSelector: {matchLabels: {app: api}}\negress: [{to: [{podSelector: {}}]}]"


def test_egress_policy_isolates_ingress() -> None:
    found = of(run(CLUSTER + policy("api-out", EGRESS_ONLY)), "egress-policy-isolates-ingress")
    assert [(f.path, f.related) for f in found] == [("spec", ("payments/api",))]
    assert found[0].message == (
        "policyTypes is not set and the policy has egress rules, so it defaults to "
        "[Ingress, Egress]: with no ingress rules it denies all ingress to payments/api")


@pytest.mark.parametrize("text", [
    CLUSTER + policy("api-out", "policyTypes: [Egress]\n" + EGRESS_ONLY),
    CLUSTER + policy("api-out", EGRESS_ONLY)
    + policy("api-in", "podSelector: {matchLabels: {app: api}}\ningress: [{}]"),
])
def test_egress_policy_isolates_ingress_quiet(text: str) -> None:
    assert not of(run(text), "egress-policy-isolates-ingress")


# --- ipblock-host-bits -----------------------------------------------------------------


def test_ipblock_host_bits() -> None:
    found = of(run(_peer("ipBlock: {cidr: 192.168.7.5/16, except: [192.168.7.0/24]}")),
               "ipblock-host-bits")
    assert [(f.path, f.message, f.hint) for f in found] == [(
        "spec.ingress[0].from[0].ipBlock.cidr",
        "192.168.7.5/16 has host bits set: it means 192.168.0.0/16 (65,536 addresses), not "
        "192.168.7.5 alone", "write 192.168.0.0/16, or 192.168.7.5/32 for the one address")]


def test_ipblock_host_bits_quiet() -> None:
    assert not of(run(_peer("ipBlock: {cidr: 192.168.0.0/16}")), "ipblock-host-bits")


def test_dns_outside_counts_only_in_the_pods_address_families() -> None:
    v6_resolver = policy("out", "podSelector: {}\npolicyTypes: [Egress]\negress:\n"
                         "- to: [{ipBlock: {cidr: '2001:db8::/32'}}]\n"
                         "  ports: [{port: 53, protocol: UDP}, {port: 53, protocol: TCP}]")
    found = of(run(CLUSTER + v6_resolver), "egress-blocks-dns")
    assert [f.related for f in found] == [("payments/api", "payments/db")]  # IPv4 only
    dual = CLUSTER.replace("status: {podIP: 10.1.0.1}",
                           "status: {podIP: 10.1.0.1, podIPs: [{ip: 10.1.0.1}, "
                           "{ip: 'fd00::1'}]}")
    found = of(run(dual + v6_resolver), "egress-blocks-dns")
    assert [f.related for f in found] == [("payments/db",)]  # api has an IPv6 address
