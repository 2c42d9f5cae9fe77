"""Lint's checks on cluster-wide policies (both API versions): selections that select
nothing (subjects and peers, Nodes included), named ports, DNS cut by a cluster-wide rule,
Accept rules open to everything, networks with host bits, redundancy proven whatever the
NetworkPolicies, namespaces a cluster-wide Deny guards, and silencing on the policy. Each
check fires on a manifest written to show it and stays quiet where it should."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lint_support import CLUSTER, DNS_OK, NAMESPACES, of, pod, policy, run
from test_lint_cluster import DB, PAYMENTS, anp, cnp, ingress

from stockade.cli.main import main

BANP = """\
---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: BaselineAdminNetworkPolicy
metadata: {{name: default}}
spec:
{body}
"""


def banp(spec: str) -> str:
    return BANP.format(body="\n".join("  " + line for line in spec.strip("\n").splitlines()))


NODES = """\
---
apiVersion: v1
kind: Node
metadata: {name: node-a, labels: {kubernetes.io/hostname: node-a, role: worker}}
status: {addresses: [{type: InternalIP, address: 192.168.0.1}]}
"""
API = "subject: {pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: api}}}}"


def found(text: str, check: str) -> list[tuple[str, str, str]]:
    return [(f.name, f.path, f.message) for f in of(run(text), check)]


# --- policy-selects-nothing: the subject ------------------------------------------------


def test_subject_namespaces_that_match_no_namespace() -> None:
    text = CLUSTER + cnp("a", 1, "subject: {namespaces: {matchLabels: {team: paymnts}}}\n"
                         + ingress("Deny"))
    [f] = of(run(text), "policy-selects-nothing")
    assert (f.kind, f.name, f.path) == ("ClusterNetworkPolicy", "a", "spec.subject.namespaces")
    assert f.message == ("subject namespaces {team=paymnts} matches no namespace; namespaces "
                         "have team=payments, team=platform")
    assert f.hint == "did you mean team=payments?"


def test_subject_pods_v1alpha1_that_match_no_pod() -> None:
    text = CLUSTER + anp("a", 1, "subject: {pods: {namespaceSelector: {matchLabels: "
                         "{team: payments}}, podSelector: {matchLabels: {app: apii}}}}\n"
                         + ingress("Deny"))
    [f] = of(run(text), "policy-selects-nothing")
    assert (f.kind, f.path) == ("AdminNetworkPolicy", "spec.subject.pods.podSelector")
    assert f.message == ("pods.podSelector {app=apii} matches no pod or workload in namespace "
                         "payments (selected by namespaceSelector {team=payments}); pods have "
                         "app=api, app=db")
    assert f.hint == "did you mean app=api?"


def test_subject_pods_namespace_selector_that_matches_no_namespace() -> None:
    text = CLUSTER + banp("subject: {pods: {namespaceSelector: {matchLabels: {team: x}}, "
                          "podSelector: {}}}\n" + ingress("Deny"))
    assert found(text, "policy-selects-nothing") == [(
        "default", "spec.subject.pods.namespaceSelector",
        "pods.namespaceSelector {team=x} matches no namespace; namespaces have team=payments, "
        "team=platform")]


def test_subject_selecting_host_network_pods_only() -> None:
    host = pod("platform", "agent", "{app: agent}", "192.168.0.1").replace(
        "containers:", "hostNetwork: true\n  containers:")
    text = CLUSTER + host + cnp("a", 1, "subject: {pods: {namespaceSelector: {}, podSelector: "
                                "{matchLabels: {app: agent}}}}\n" + ingress("Deny"))
    [f] = of(run(text), "policy-selects-nothing")
    assert f.message.startswith("pods.podSelector {app=agent} matches only host-network pods "
                                "in namespaces ")
    assert "platform/agent" in f.message
    assert "cluster-wide policies never select them" in f.message


@pytest.mark.parametrize("subject", [
    PAYMENTS, DB,
    # namespaces no manifest declares: their labels are unknown
    "subject: {namespaces: {matchLabels: {team: elsewhere}}}",
    # pods looked for in namespaces the input has no pods of
    "subject: {pods: {namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: "
    "kube-public}}, podSelector: {matchLabels: {app: x}}}}",
])
def test_subject_quiet(subject: str) -> None:
    implied = NAMESPACES.replace("kind: Namespace\nmetadata: {name: platform, labels: "
                                 "{team: platform}}", "kind: ConfigMap\nmetadata: {name: x, "
                                 "namespace: platform}")
    base = CLUSTER if "elsewhere" not in subject else implied + CLUSTER.removeprefix(NAMESPACES)
    assert not found(base + cnp("a", 1, subject + "\n" + ingress("Deny")),
                     "policy-selects-nothing")


# --- peer-selects-nothing: namespaces, pods and nodes peers ------------------------------


def test_peers_that_select_nothing_with_their_paths() -> None:
    spec = (DB + "\ningress:\n- action: Accept\n  from:\n"
            "  - namespaces: {matchLabels: {team: paymnts}}\n"
            "  - pods: {namespaceSelector: {matchLabels: {team: payments}}, "
            "podSelector: {matchLabels: {app: apii}}}\n"
            "  - pods: {namespaceSelector: {matchLabels: {tea: payments}}, podSelector: {}}\n"
            "egress:\n- action: Deny\n  to: [{nodes: {matchLabels: {role: workr}}}]\n")
    assert found(CLUSTER + NODES + cnp("a", 1, spec), "peer-selects-nothing") == [
        ("a", "spec.egress[0].to[0].nodes",
         "nodes {role=workr} matches no Node of the input; nodes have role=worker"),
        ("a", "spec.ingress[0].from[0].namespaces",
         "namespaces {team=paymnts} matches no namespace; namespaces have team=payments, "
         "team=platform"),
        ("a", "spec.ingress[0].from[1].pods.podSelector",
         "pods.podSelector {app=apii} matches no pod in namespace payments (selected by "
         "namespaceSelector {team=payments}); pods have app=api, app=db"),
        ("a", "spec.ingress[0].from[2].pods.namespaceSelector",
         "pods.namespaceSelector {tea=payments} matches no namespace; no namespace has a "
         "label tea"),
    ]
    hints = {f.path: f.hint for f in of(run(CLUSTER + NODES + cnp("a", 1, spec)),
                                        "peer-selects-nothing")}
    assert hints["spec.egress[0].to[0].nodes"] == "did you mean role=worker?"
    assert hints["spec.ingress[0].from[2].pods.namespaceSelector"] == "did you mean team=payments?"


def test_peers_quiet() -> None:
    spec = (DB + "\ningress:\n- action: Accept\n  from:\n"
            "  - namespaces: {matchLabels: {team: payments}}\n"
            "  - pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: api}}}\n"
            # pods of namespaces the input has no pods of: unknown
            "  - pods: {namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: "
            "kube-public}}, podSelector: {matchLabels: {app: x}}}\n"
            "egress:\n- action: Deny\n  to: [{nodes: {matchLabels: {role: worker}}}, "
            "{networks: [10.9.0.0/16]}]\n")
    assert not found(CLUSTER + NODES + cnp("a", 1, spec), "peer-selects-nothing")
    # no Node in the input: a nodes peer cannot be judged
    lonely = cnp("a", 1, DB + "\negress:\n- action: Deny\n  to: [{nodes: {matchLabels: "
                 "{role: nothing}}}]\n")
    assert not found(CLUSTER + lonely, "peer-selects-nothing")


def test_field_lines_in_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = CLUSTER + anp("a", 1, "subject:\n  pods:\n    namespaceSelector: {}\n"
                         "    podSelector: {matchLabels: {app: apii}}\n"
                         "ingress:\n- action: Deny\n  from:\n  - namespaces: {}\n"
                         "  - pods:\n      namespaceSelector: {}\n"
                         "      podSelector: {matchLabels: {app: dbb}}\n")
    path = tmp_path / "t.yaml"
    path.write_text(text)
    assert main(["lint", str(path), "-o", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    lines = text.splitlines()
    by_path = {f["path"]: f["line"] for f in doc["findings"]}
    assert lines[by_path["spec.subject.pods.podSelector"] - 1].strip() == (
        "podSelector: {matchLabels: {app: apii}}")
    assert lines[by_path["spec.ingress[0].from[1].pods.podSelector"] - 1].strip() == (
        "podSelector: {matchLabels: {app: dbb}}")


# --- named-port-undeclared ---------------------------------------------------------------


def test_cluster_named_ports_no_destination_declares() -> None:
    text = (CLUSTER + cnp("a", 1, DB + "\n" + ingress(
        "Accept", "protocols: [{tcp: {destinationPort: {number: 1}}}, "
        "{destinationNamedPort: postgress}]"))
        + anp("b", 2, API + "\negress:\n- action: Allow\n  to: [{pods: {namespaceSelector: "
              "{}, podSelector: {matchLabels: {app: db}}}}]\n  ports: [{namedPort: http}]\n"))
    assert found(text, "named-port-undeclared") == [
        ("a", "spec.ingress[0].protocols[1]",
         "named port 'postgress' is declared by none of the pods this policy selects "
         "(payments/db) under any protocol, so this entry matches nothing"),
        ("b", "spec.egress[0].ports[0]",
         "named port 'http' is declared by none of the destinations of this rule "
         "(payments/db) under any protocol, so this entry matches nothing"),
    ]


def test_cluster_named_ports_quiet() -> None:
    # 'dns' is UDP on kube-dns: a cluster policy's named port takes any protocol
    to_dns = ("egress:\n- action: Accept\n  to: [{pods: {namespaceSelector: {}, podSelector: "
              "{matchLabels: {k8s-app: kube-dns}}}}]\n  protocols: [{destinationNamedPort: "
              "dns}]\n")
    text = CLUSTER + cnp("a", 1, PAYMENTS + "\n" + to_dns) + cnp(
        "b", 2, DB + "\n" + ingress("Accept", "protocols: [{destinationNamedPort: postgres}]"))
    assert not found(text, "named-port-undeclared")
    # no destination at all: that is the selectors' to say
    nobody = cnp("c", 3, "subject: {namespaces: {matchLabels: {team: payments}}}\n" + ingress(
        "Accept", "protocols: [{destinationNamedPort: x}]", "from: [{namespaces: {}}]"))
    assert [p for _, p, _ in found(CLUSTER + nobody, "named-port-undeclared")] == [
        "spec.ingress[0].protocols[0]"]
    assert not found(CLUSTER + cnp("c", 3, "subject: {namespaces: {matchLabels: {team: "
                                   "nobody}}}\n" + ingress("Accept", "protocols: "
                                                           "[{destinationNamedPort: x}]")),
                     "named-port-undeclared")


# --- egress-blocks-dns: the cluster-wide rule that cuts DNS ------------------------------

LOCKDOWN = cnp("lockdown", 10, PAYMENTS + "\negress:\n- name: nothing-out\n  action: Deny\n"
               "  to: [{namespaces: {}}, {networks: [0.0.0.0/0]}]\n")


def test_admin_deny_cuts_dns() -> None:
    [f] = of(run(CLUSTER + DNS_OK + LOCKDOWN), "egress-blocks-dns")
    # the NetworkPolicy allows DNS: the Admin Deny decides first and is to blame
    assert (f.kind, f.name, f.path) == ("ClusterNetworkPolicy", "lockdown", "spec.egress[0]")
    assert f.message == (
        'payments/api and payments/db cannot reach a DNS server on UDP 53: egress[0] '
        '"nothing-out" (Admin tier, priority 10: Deny) denies them UDP 53 to kube-dns, and '
        "no address outside the pods answers either: name resolution fails")
    assert f.hint.startswith("accept UDP and TCP 53 to kube-dns before this rule")
    assert f.related == ("payments/api", "payments/db")


def test_baseline_deny_cuts_dns_only_where_no_networkpolicy_isolates() -> None:
    deny = banp("subject: {namespaces: {}}\negress:\n- action: Deny\n  to: [{namespaces: {}}, "
                "{networks: [0.0.0.0/0]}]\n")
    [f] = of(run(CLUSTER + DNS_OK + deny), "egress-blocks-dns")
    assert (f.kind, f.path, f.related) == ("BaselineAdminNetworkPolicy", "spec.egress[0]",
                                           ("platform/prom",))
    assert "egress[0] (Baseline tier: Deny) denies it UDP 53 to kube-dns" in f.message
    assert f.hint.startswith("allow DNS in the pods' NetworkPolicies")


def test_deny_at_kube_dns_ingress_cuts_tcp() -> None:
    guard = cnp("guard", 5, "subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: "
                "kube-system}}}\n" + ingress("Deny", "protocols: [{tcp: {destinationPort: "
                                             "{number: 53}}}]", "from: [{namespaces: "
                                             "{matchLabels: {team: payments}}}]"))
    [f] = of(run(CLUSTER + DNS_OK + guard), "egress-blocks-dns")
    assert (f.name, f.path) == ("guard", "spec.ingress[0]")
    assert f.message == (
        "payments/api and payments/db may reach DNS on UDP 53 but not on TCP 53: ingress[0] "
        "(Admin tier, priority 5: Deny) denies TCP 53 from them into kube-dns: answers too "
        "large for UDP are retried over TCP and fail")


def test_pass_to_networkpolicy_blames_the_networkpolicy() -> None:
    passing = cnp("hand-on", 10, PAYMENTS + "\negress:\n- action: Pass\n  to: [{namespaces: "
                  "{}}]\n- action: Deny\n  to: [{networks: [0.0.0.0/0]}]\n")
    deny_np = policy("deny", "podSelector: {}\npolicyTypes: [Egress]")
    assert [(f.kind, f.name) for f in of(run(CLUSTER + passing + deny_np),
                                         "egress-blocks-dns")] == [("NetworkPolicy", "deny")]


@pytest.mark.parametrize("text", [
    # the Admin tier accepts DNS before it denies the rest
    CLUSTER + cnp("dns", 1, PAYMENTS + "\negress:\n- action: Accept\n  to: [{pods: "
                  "{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: "
                  "kube-system}}, podSelector: {matchLabels: {k8s-app: kube-dns}}}}]\n"
                  "  protocols: [{udp: {destinationPort: {number: 53}}}, {tcp: "
                  "{destinationPort: {number: 53}}}]\n") + LOCKDOWN,
    # Pass to a NetworkPolicy that allows DNS
    CLUSTER + DNS_OK + cnp("hand-on", 1, PAYMENTS + "\negress:\n- action: Pass\n  to: "
                           "[{namespaces: {}}]\n") + LOCKDOWN.replace("{namespaces: {}}, ", ""),
    # a Deny of other ports
    CLUSTER + cnp("web", 1, PAYMENTS + "\negress:\n- action: Deny\n  to: [{networks: "
                  "[0.0.0.0/0]}]\n  protocols: [{tcp: {destinationPort: {number: 80}}}]\n"),
])
def test_cluster_dns_quiet(text: str) -> None:
    assert not of(run(text), "egress-blocks-dns")


# --- allow-all-rule ----------------------------------------------------------------------


def test_accept_rules_open_to_everything() -> None:
    spec = (DB + "\ningress:\n- action: Accept\n  from: [{namespaces: {}}]\n"
            "  protocols: [{tcp: {destinationPort: {number: 5432}}}]\n"
            "egress:\n- name: anywhere\n  action: Accept\n  to: [{pods: {namespaceSelector: "
            "{}, podSelector: {}}}, {networks: [10.0.0.0/8, 0.0.0.0/0, '::/0']}]\n")
    result = of(run(CLUSTER + cnp("open", 1, spec)), "allow-all-rule")
    assert [(f.path, f.message) for f in result] == [
        ("spec.egress[0].to[0]",
         "to[0] matches every pod of every namespace: egress[0] (Accept) accepts all ports to "
         "all of them, out of payments/db, in the Admin tier, so no NetworkPolicy can narrow "
         "it"),
        ("spec.egress[0].to[1]",
         "to[1] matches every IPv4 address and every IPv6 address (pods' included): "
         "egress[0] (Accept) accepts all ports to all of them, out of payments/db, in the "
         "Admin tier, so no NetworkPolicy can narrow it"),
        ("spec.ingress[0].from[0]",
         "from[0] matches every pod of every namespace: ingress[0] (Accept) accepts TCP 5432 "
         "from all of them, into payments/db, in the Admin tier, so no NetworkPolicy can "
         "narrow it"),
    ]
    assert result[0].related == ("payments/db",)
    v1alpha1 = banp(DB + "\n" + ingress("Allow", "ports: [{portNumber: {port: 53, protocol: "
                                        "UDP}}]"))
    [f] = of(run(CLUSTER + v1alpha1), "allow-all-rule")
    assert f.message == ("from[0] matches every pod of every namespace: ingress[0] (Allow) "
                         "allows UDP 53 from all of them, into payments/db, in the Baseline "
                         "tier, for the pods no NetworkPolicy isolates")


def test_allow_all_quiet_on_deny_pass_and_narrow_peers() -> None:
    spec = (DB + "\ningress:\n- action: Deny\n  from: [{namespaces: {}}]\n"
            "- action: Pass\n  from: [{pods: {namespaceSelector: {}, podSelector: {}}}]\n"
            "- action: Accept\n  from: [{namespaces: {matchLabels: {team: payments}}}, "
            "{pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: api}}}}]\n"
            "egress:\n- action: Accept\n  to: [{nodes: {}}, {networks: [10.0.0.0/8]}]\n")
    assert not of(run(CLUSTER + cnp("narrow", 1, spec)), "allow-all-rule")


# --- ipblock-host-bits on networks -------------------------------------------------------


def test_networks_with_host_bits() -> None:
    spec = PAYMENTS + ("\negress:\n- action: Deny\n  to: [{networks: [10.0.0.0/8, "
                       "192.168.7.5/16, '2001:db8::1/64']}]\n")
    assert found(CLUSTER + cnp("a", 1, spec), "ipblock-host-bits") == [
        ("a", "spec.egress[0].to[0].networks[1]",
         "192.168.7.5/16 has host bits set: it means 192.168.0.0/16 (65,536 addresses), not "
         "192.168.7.5 alone"),
        ("a", "spec.egress[0].to[0].networks[2]",
         "2001:db8::1/64 has host bits set: it means 2001:db8::/64 "
         "(18,446,744,073,709,551,616 addresses), not 2001:db8::1 alone"),
    ]
    assert not found(CLUSTER + cnp("a", 1, PAYMENTS + "\negress:\n- action: Deny\n  to: "
                                   "[{networks: [10.0.0.0/8, 10.1.2.3/32]}]\n"),
                     "ipblock-host-bits")


def test_networks_holding_pod_ips_are_no_finding() -> None:
    # networks match pod IPs by upstream's specification: portable, unlike an ipBlock
    spec = PAYMENTS + "\negress:\n- action: Deny\n  to: [{networks: [10.1.0.0/16]}]\n"
    assert not found(CLUSTER + cnp("a", 1, spec), "ipblock-covers-pods")


# --- redundancy: first match, whatever the NetworkPolicies ------------------------------


def redundant(text: str) -> list[tuple[str, str, str, str]]:
    return [(f.check, f.name, f.path, f.message) for f in run(text)
            if f.check in ("redundant-rule", "redundant-policy")]


def rules(*specs: str) -> str:
    return "ingress:\n" + "".join(specs)


def rule(action: str, peers: str = "from: [{namespaces: {}}]", ports: str = "",
         name: str = "") -> str:
    text = f"- action: {action}\n  {peers}\n"
    text += f"  name: {name}\n" if name else ""
    return text + (f"  {ports}\n" if ports else "")


PAY = "from: [{namespaces: {matchLabels: {team: payments}}}]"


def test_a_deny_covered_by_a_later_deny() -> None:
    text = CLUSTER + cnp("a", 1, DB + "\n" + rules(rule("Deny", PAY, name="payments"),
                                                   rule("Deny")))
    assert redundant(text) == [(
        "redundant-rule", "a", "spec.ingress[0]",
        'ingress[0] "payments" decides nothing that the rules around it do not decide the '
        "same way (covered by ingress[1]): removing it changes no connection, whatever the "
        "NetworkPolicies")]


def test_a_rule_shadowed_by_an_earlier_one_of_another_policy() -> None:
    text = (CLUSTER + cnp("first", 1, DB + "\n" + rules(rule("Accept")))
            + anp("second", 2, DB + "\n" + rules(rule("Allow", PAY),
                                                 rule("Deny", PAY.replace("payments",
                                                                          "platform")))))
    assert [(c, n, p) for c, n, p, _ in redundant(text)] == [
        ("redundant-policy", "second", "")]
    [(_, _, _, message)] = redundant(text)
    assert message == ("removing this policy changes no connection, whatever the "
                       "NetworkPolicies: the rules of ClusterNetworkPolicy/first decide "
                       "everything it decides")


@pytest.mark.parametrize(("spec", "why"), [
    # order matters: the Deny goes first
    (rules(rule("Deny", PAY, "protocols: [{tcp: {destinationPort: {number: 80}}}]"),
           rule("Accept")), "first match"),
    # a Pass before a Deny hands its peers to the NetworkPolicy tier
    (rules(rule("Pass", PAY), rule("Deny")), "pass"),
    # other ports
    (rules(rule("Deny", PAY, "protocols: [{tcp: {destinationPort: {number: 80}}}]"),
           rule("Deny", PAY, "protocols: [{tcp: {destinationPort: {number: 81}}}]")),
     "ports"),
])
def test_needed_rules_are_quiet(spec: str, why: str) -> None:
    assert redundant(CLUSTER + cnp("a", 1, DB + "\n" + spec)) == [], why


def test_rules_that_networkpolicies_make_pointless_today_are_kept() -> None:
    # The db's NetworkPolicy denies platform anyway, and isolates it: the Admin Deny and
    # the Baseline Deny change nothing today, but hold whatever the namespace writes.
    isolate = policy("db", "podSelector: {matchLabels: {app: db}}\npolicyTypes: [Ingress]\n"
                     "ingress: [{from: [{podSelector: {matchLabels: {app: api}}}]}]")
    text = (CLUSTER + isolate
            + cnp("admin", 1, DB + "\n" + rules(rule("Deny", PAY.replace("payments",
                                                                         "platform"))))
            + banp(DB + "\n" + rules(rule("Deny"))))
    assert [(c, n) for c, n, _, _ in redundant(text)] == []


def test_a_lone_pass_changes_nothing() -> None:
    text = CLUSTER + cnp("a", 1, DB + "\n" + rules(rule("Pass", PAY))) + cnp(
        "b", 2, DB + "\n" + rules(rule("Deny")))
    # b's Deny comes after a's Pass: the Pass is needed
    assert redundant(text) == []
    alone = CLUSTER + cnp("a", 1, DB + "\n" + rules(rule("Pass", PAY)))
    assert [(c, n) for c, n, _, _ in redundant(alone)] == [("redundant-policy", "a")]


def test_identical_policies_are_each_redundant() -> None:
    text = (CLUSTER + cnp("a", 1, DB + "\n" + rules(rule("Deny")))
            + cnp("b", 2, DB + "\n" + rules(rule("Deny"))))
    assert [(c, n) for c, n, _, _ in redundant(text)] == [("redundant-policy", "a"),
                                                          ("redundant-policy", "b")]


def test_domain_names_stop_the_proof() -> None:
    spec = (PAYMENTS + "\negress:\n- action: Accept\n  to: [{domainNames: [a.example]}]\n"
            "- action: Deny\n  to: [{networks: [10.0.0.0/8]}]\n"
            "- action: Deny\n  to: [{networks: [0.0.0.0/0]}]\n")
    assert redundant(CLUSTER + cnp("a", 1, spec)) == []
    # without the names, the first Deny is covered by the second
    plain = spec.replace("- action: Accept\n  to: [{domainNames: [a.example]}]\n", "")
    assert [(c, p) for c, _, p, _ in redundant(CLUSTER + cnp("a", 1, plain))] == [
        ("redundant-rule", "spec.egress[0]")]


# --- namespace-without-default-deny --------------------------------------------------------


def test_a_cluster_wide_deny_guards_a_namespace() -> None:
    enabled = {"namespace-without-default-deny"}
    base = CLUSTER + DNS_OK.replace("podSelector: {}", "podSelector: {}\n  ") + policy(
        "platform-deny", "podSelector: {}\npolicyTypes: [Ingress]", namespace="platform")
    accept = cnp("a", 1, DB + "\n" + rules(rule("Accept")))
    before = [f.name for f in run(base + accept, enabled)]
    assert "kube-system" in before
    deny = banp("subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: "
                "kube-system}}}\n" + rules(rule("Deny")))
    assert "kube-system" not in [f.name for f in run(base + accept + deny, enabled)]


# --- silencing on the cluster policy -------------------------------------------------------


@pytest.mark.parametrize("check", ["policy-selects-nothing", "peer-selects-nothing",
                                   "allow-all-rule", "named-port-undeclared",
                                   "ipblock-host-bits", "egress-blocks-dns",
                                   "redundant-rule"])
def test_each_check_is_silenced_on_the_cluster_policy(check: str) -> None:
    specs = {
        "policy-selects-nothing": "subject: {namespaces: {matchLabels: {team: x}}}\n"
                                  + rules(rule("Deny")),
        "peer-selects-nothing": DB + "\n" + rules(rule("Deny", PAY.replace("payments", "x"))),
        "allow-all-rule": DB + "\n" + rules(rule("Accept")),
        "named-port-undeclared": DB + "\n" + rules(rule(
            "Accept", ports="protocols: [{destinationNamedPort: nope}]")),
        "ipblock-host-bits": PAYMENTS + "\negress:\n- action: Deny\n  to: [{networks: "
                             "[10.0.0.1/8]}]\n",
        "egress-blocks-dns": LOCKDOWN.split("spec:\n", 1)[1].replace("\n  ", "\n")
                             .split("priority: 10\n", 1)[1],
        "redundant-rule": DB + "\n" + rules(rule("Deny", PAY), rule("Deny")),
    }
    loud = cnp("a", 1, specs[check])
    assert of(run(CLUSTER + loud), check)
    quiet = cnp("a", 1, specs[check], annotations=f"stockade.dev/lint-disable: {check}")
    assert not of(run(CLUSTER + quiet), check)


# --- redundancy and the pod's own node ----------------------------------------------------


def _node(name: str, labels: str, ip: str) -> str:
    return (f"---\napiVersion: v1\nkind: Node\nmetadata: {{name: {name}, labels: {labels}}}\n"
            f"status: {{addresses: [{{type: InternalIP, address: {ip}}}]}}\n")


def _on_node(namespace: str, name: str, node: str, ip: str, *, host: bool) -> str:
    return (f"---\napiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: "
            f"{namespace}, labels: {{app: {name}}}}}\nspec: {{nodeName: {node}, hostNetwork: "
            f"{'true' if host else 'false'}, containers: [{{name: main, image: img}}]}}\n"
            f"status: {{podIP: {ip}}}\n")


@pytest.mark.parametrize(("node", "expected"), [
    ("node-a", ["spec.egress[0]", "spec.egress[1]"]),  # egress[0]'s only other node: its own
    ("node-c", ["spec.egress[1]"]),  # egress[0] denies node-a: needed
])
def test_redundancy_leaves_out_the_pods_own_node(node: str, expected: list[str]) -> None:
    # Traffic between a pod and its own node is always allowed, cluster-wide policies or
    # not: a rule that denies only the pod's own node (beyond what another rule denies)
    # decides nothing. Nodes are matched through their host-network pods.
    text = (NAMESPACES
            + _node("node-a", "{role: a, pool: x}", "192.168.0.1")
            + _node("node-b", "{role: b, pool: x}", "192.168.0.2")
            + _node("node-c", "{role: c, pool: 'y'}", "192.168.0.3")
            + _on_node("kube-system", "agent-a", "node-a", "192.168.0.1", host=True)
            + _on_node("kube-system", "agent-b", "node-b", "192.168.0.2", host=True)
            + _on_node("kube-system", "agent-c", "node-c", "192.168.0.3", host=True)
            + _on_node("payments", "api", node, "10.1.0.1", host=False)
            + cnp("a", 1, API + "\negress:\n"
                  "- action: Deny\n  to: [{nodes: {matchLabels: {pool: x}}}]\n"
                  "- action: Deny\n  to: [{nodes: {matchLabels: {role: b}}}]\n"))
    assert [f.path for f in of(run(text), "redundant-rule")] == expected
