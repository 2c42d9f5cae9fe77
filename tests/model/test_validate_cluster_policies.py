"""ClusterNetworkPolicy (v1alpha2), AdminNetworkPolicy and BaselineAdminNetworkPolicy
(v1alpha1) validation: one case per rule of upstream's CRDs (schema keywords and CEL rules),
with the path and message the API server reports.

Expected strings are typed out here from the CRDs (config/crd/experimental in
kubernetes-sigs/network-policy-api v0.2.0 and v0.1.8) and from how apiextensions-apiserver
words schema errors (kube-openapi's "X in body should ..." inside the field error), not
built from the implementation's constants.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from upstream_messages import SUBDOMAIN_MSG

from stockade.model.build import RawObject, build_cluster
from stockade.model.cluster_policies import check_cluster_policy
from stockade.model.types import Origin, RuleAction, Tier

DELETE = object()
NOT_CHECKED = ('<nil>: Invalid value: null: some validation rules were not checked because '
               'the object was invalid; correct the existing errors to complete validation')
NAMED_PORT_MSG = ("networks/nodes/domainNames peer cannot be set with namedPorts since there "
                  "are no namedPorts for networks/nodes/domainNames")
DOMAIN_PATTERN = (r"^(\*\.)?([a-zA-z0-9]([-a-zA-Z0-9_]*[a-zA-Z0-9])?\.)+[a-zA-z0-9]"
                  r"([-a-zA-Z0-9_]*[a-zA-Z0-9])?\.?$")

CNP: dict[str, Any] = {
    "apiVersion": "policy.networking.k8s.io/v1alpha2", "kind": "ClusterNetworkPolicy",
    "metadata": {"name": "cnp"},
    "spec": {
        "tier": "Admin", "priority": 10, "subject": {"namespaces": {}},
        "ingress": [{"action": "Accept", "from": [{"namespaces": {}}]}],
        "egress": [{"action": "Deny", "to": [{"networks": ["10.0.0.0/8"]}]}],
    },
}
ANP: dict[str, Any] = {
    "apiVersion": "policy.networking.k8s.io/v1alpha1", "kind": "AdminNetworkPolicy",
    "metadata": {"name": "anp"},
    "spec": {
        "priority": 10, "subject": {"namespaces": {}},
        "ingress": [{"action": "Allow", "from": [{"namespaces": {}}]}],
        "egress": [{"action": "Pass", "to": [{"networks": ["10.0.0.0/8"]}]}],
    },
}
BANP: dict[str, Any] = {
    "apiVersion": "policy.networking.k8s.io/v1alpha1", "kind": "BaselineAdminNetworkPolicy",
    "metadata": {"name": "default"},
    "spec": {
        "subject": {"namespaces": {}},
        "ingress": [{"action": "Deny", "from": [{"namespaces": {}}]}],
        "egress": [{"action": "Allow", "to": [{"networks": ["10.0.0.0/8"]}]}],
    },
}


def edit(base: dict[str, Any], *changes: tuple[str, Any]) -> dict[str, Any]:
    """A copy of ``base`` with each dotted path (list indices as numbers) set, or removed
    when the value is ``DELETE``."""
    obj = copy.deepcopy(base)
    for dotted, value in changes:
        keys: list[str | int] = [int(k) if k.isdigit() else k for k in dotted.split(".")]
        node: Any = obj
        for key in keys[:-1]:
            node = node[key]
        if value is DELETE:
            del node[keys[-1]]
        else:
            node[keys[-1]] = value
    return obj


def errors_of(obj: dict[str, Any]) -> list[str]:
    return [str(e) for e in check_cluster_policy(obj, Origin("t.yaml", 1)).errors]


def egress_ports(base: dict[str, Any], field: str, entries: list[Any],
                 peer: dict[str, Any] | None = None) -> dict[str, Any]:
    rule = {"action": "Deny", "to": [peer or {"namespaces": {}}], field: entries}
    return edit(base, ("spec.egress", [rule]))


RULES: list[tuple[str, dict[str, Any], list[str]]] = [
    # --- v1alpha2 ClusterNetworkPolicy ------------------------------------------------------
    ("cnp-valid", CNP, []),
    ("cnp-name", edit(CNP, ("metadata.name", "Bad_Name")),
     [f'metadata.name: Invalid value: "Bad_Name": {SUBDOMAIN_MSG}']),
    ("cnp-name-required", edit(CNP, ("metadata.name", DELETE)),
     ["metadata.name: Required value: name or generateName is required", NOT_CHECKED]),
    ("cnp-spec-required", edit(CNP, ("spec", DELETE)), ["spec: Required value", NOT_CHECKED]),
    ("cnp-tier-required", edit(CNP, ("spec.tier", DELETE)),
     ["spec.tier: Required value", NOT_CHECKED]),
    ("cnp-tier-enum", edit(CNP, ("spec.tier", "admin")),
     ['spec.tier: Unsupported value: "admin": supported values: "Admin", "Baseline"',
      NOT_CHECKED]),
    ("cnp-priority-required", edit(CNP, ("spec.priority", DELETE)),
     ["spec.priority: Required value", NOT_CHECKED]),
    ("cnp-priority-minimum", edit(CNP, ("spec.priority", -1)),
     ["spec.priority: Invalid value: -1: spec.priority in body should be greater than or "
      "equal to 0"]),
    ("cnp-priority-maximum", edit(CNP, ("spec.priority", 1001)),
     ["spec.priority: Invalid value: 1001: spec.priority in body should be less than or "
      "equal to 1000"]),
    ("cnp-priority-type", edit(CNP, ("spec.priority", "high")),
     ['spec.priority: Invalid value: "string": spec.priority in body must be of type '
      'integer: "string"', NOT_CHECKED]),
    # kubectl sends a whole float as its digits (10.0 as 10), but 9e99 as 9e+99: a number
    # to the API server, as is 1e19 (its digits overflow an int64).
    ("cnp-priority-whole-float", edit(CNP, ("spec.priority", 10.0)), []),
    ("cnp-priority-whole-float-above", edit(CNP, ("spec.priority", 1e3 + 1)),
     ["spec.priority: Invalid value: 1001: spec.priority in body should be less than or "
      "equal to 1000"]),
    ("cnp-priority-shortest-digits", edit(CNP, ("spec.priority", 1.2345678901234567e18)),
     ["spec.priority: Invalid value: 1234567890123456800: spec.priority in body should be "
      "less than or equal to 1000"]),
    ("cnp-priority-exponent", edit(CNP, ("spec.priority", 9e99)),
     ['spec.priority: Invalid value: "number": spec.priority in body must be of type '
      'integer: "number"', NOT_CHECKED]),
    ("cnp-priority-beyond-int64", edit(CNP, ("spec.priority", 1e19)),
     ['spec.priority: Invalid value: "number": spec.priority in body must be of type '
      'integer: "number"', NOT_CHECKED]),
    ("cnp-null-is-absent", edit(CNP, ("spec.priority", None)),
     ["spec.priority: Required value", NOT_CHECKED]),
    ("cnp-subject-required", edit(CNP, ("spec.subject", DELETE)),
     ["spec.subject: Required value", NOT_CHECKED]),
    ("cnp-subject-empty", edit(CNP, ("spec.subject", {})),
     ["spec.subject: Invalid value: 0: spec.subject in body should have at least 1 "
      "properties"]),
    ("cnp-subject-two", edit(CNP, ("spec.subject", {"namespaces": {}, "pods": {
        "podSelector": {}}})),
     ["spec.subject: Too many: 2: must have at most 1 items", NOT_CHECKED]),
    ("cnp-subject-pods-selector-required", edit(CNP, ("spec.subject", {"pods": {
        "namespaceSelector": {}}})),
     ["spec.subject.pods.podSelector: Required value", NOT_CHECKED]),
    ("cnp-subject-pods-namespace-optional", edit(CNP, ("spec.subject", {"pods": {
        "podSelector": {}}})), []),
    ("cnp-ingress-max", edit(CNP, ("spec.ingress", [CNP["spec"]["ingress"][0]] * 26)),
     ["spec.ingress: Too many: 26: must have at most 25 items", NOT_CHECKED]),
    ("cnp-egress-max", edit(CNP, ("spec.egress", [CNP["spec"]["egress"][0]] * 26)),
     ["spec.egress: Too many: 26: must have at most 25 items", NOT_CHECKED]),
    ("cnp-action-required", edit(CNP, ("spec.ingress.0.action", DELETE)),
     ["spec.ingress[0].action: Required value", NOT_CHECKED]),
    ("cnp-action-enum", edit(CNP, ("spec.ingress.0.action", "Allow")),
     ['spec.ingress[0].action: Unsupported value: "Allow": supported values: "Accept", '
      '"Deny", "Pass"', NOT_CHECKED]),
    ("cnp-from-required", edit(CNP, ("spec.ingress.0.from", DELETE)),
     ["spec.ingress[0].from: Required value", NOT_CHECKED]),
    ("cnp-from-min", edit(CNP, ("spec.ingress.0.from", [])),
     ["spec.ingress[0].from: Invalid value: 0: spec.ingress[0].from in body should have at "
      "least 1 items"]),
    ("cnp-from-max", edit(CNP, ("spec.ingress.0.from", [{"namespaces": {}}] * 26)),
     ["spec.ingress[0].from: Too many: 26: must have at most 25 items", NOT_CHECKED]),
    ("cnp-to-max", edit(CNP, ("spec.egress.0.to", [{"namespaces": {}}] * 26)),
     ["spec.egress[0].to: Too many: 26: must have at most 25 items", NOT_CHECKED]),
    ("cnp-rule-name", edit(CNP, ("spec.ingress.0.name", "n" * 101)),
     ["spec.ingress[0].name: Too long: may not be more than 100 bytes", NOT_CHECKED]),
    ("cnp-peer-empty", edit(CNP, ("spec.ingress.0.from", [{}])),
     ["spec.ingress[0].from[0]: Invalid value: 0: spec.ingress[0].from[0] in body should "
      "have at least 1 properties"]),
    ("cnp-peer-two", edit(CNP, ("spec.egress.0.to", [{"namespaces": {}, "networks": [
        "10.0.0.0/8"]}])),
     ["spec.egress[0].to[0]: Too many: 2: must have at most 1 items", NOT_CHECKED]),
    ("cnp-ingress-peer-no-networks", edit(CNP, ("spec.ingress.0.from", [{"networks": [
        "10.0.0.0/8"]}])),
     ["spec.ingress[0].from[0]: Invalid value: 0: spec.ingress[0].from[0] in body should "
      "have at least 1 properties"]),
    ("cnp-networks-min", edit(CNP, ("spec.egress.0.to.0.networks", [])),
     ["spec.egress[0].to[0].networks: Invalid value: 0: spec.egress[0].to[0].networks in "
      "body should have at least 1 items"]),
    ("cnp-networks-max", edit(CNP, ("spec.egress.0.to.0.networks",
                                    [f"10.0.{i}.0/24" for i in range(26)])),
     ["spec.egress[0].to[0].networks: Too many: 26: must have at most 25 items",
      NOT_CHECKED]),
    ("cnp-network-cidr", edit(CNP, ("spec.egress.0.to.0.networks", [
        "10.0.0.0/33", "010.0.0.0/8", "::ffff:10.0.0.0/104", "10.0.0.1", "10.0.0.1/8"])),
     ['spec.egress[0].to[0].networks[0]: Invalid value: "string": Invalid CIDR format '
      'provided',
      'spec.egress[0].to[0].networks[1]: Invalid value: "string": Invalid CIDR format '
      'provided',
      'spec.egress[0].to[0].networks[2]: Invalid value: "string": Invalid CIDR format '
      'provided',
      'spec.egress[0].to[0].networks[3]: Invalid value: "string": Invalid CIDR format '
      'provided']),
    ("cnp-network-length", edit(CNP, ("spec.egress.0.to.0.networks", [
        "2001:0db8:0000:0000:0000:0000:0000:0001/1280"])),
     ["spec.egress[0].to[0].networks[0]: Too long: may not be more than 43 bytes",
      NOT_CHECKED]),
    ("cnp-networks-set", edit(CNP, ("spec.egress.0.to.0.networks", [
        "10.0.0.0/8", "fd00::/8", "10.0.0.0/8"])),
     ['spec.egress[0].to[0].networks[2]: Duplicate value: "10.0.0.0/8"']),
    ("cnp-domain-pattern", edit(CNP, ("spec.egress.0", {"action": "Accept", "to": [
        {"domainNames": ["kubernetes.io", "*.example.com.", "example", "a.*.com"]}]})),
     [f'spec.egress[0].to[0].domainNames[2]: Invalid value: "example": '
      f"spec.egress[0].to[0].domainNames[2] in body should match '{DOMAIN_PATTERN}'",
      f'spec.egress[0].to[0].domainNames[3]: Invalid value: "a.*.com": '
      f"spec.egress[0].to[0].domainNames[3] in body should match '{DOMAIN_PATTERN}'"]),
    ("cnp-domain-max", edit(CNP, ("spec.egress.0", {"action": "Accept", "to": [
        {"domainNames": [f"h{i}.example.com" for i in range(26)]}]})),
     ["spec.egress[0].to[0].domainNames: Too many: 26: must have at most 25 items",
      NOT_CHECKED]),
    ("cnp-protocols-min", egress_ports(CNP, "protocols", []),
     ["spec.egress[0].protocols: Invalid value: 0: spec.egress[0].protocols in body should "
      "have at least 1 items"]),
    ("cnp-protocols-max", egress_ports(CNP, "protocols", [{"tcp": {"destinationPort": {
        "number": 80}}}] * 26),
     ["spec.egress[0].protocols: Too many: 26: must have at most 25 items", NOT_CHECKED]),
    ("cnp-protocol-empty", egress_ports(CNP, "protocols", [{}]),
     ["spec.egress[0].protocols[0]: Invalid value: 0: spec.egress[0].protocols[0] in body "
      "should have at least 1 properties"]),
    ("cnp-protocol-two", egress_ports(CNP, "protocols", [{"tcp": {"destinationPort": {
        "number": 80}}, "udp": {"destinationPort": {"number": 80}}}]),
     ["spec.egress[0].protocols[0]: Too many: 2: must have at most 1 items", NOT_CHECKED]),
    ("cnp-tcp-empty", egress_ports(CNP, "protocols", [{"tcp": {}}]),
     ["spec.egress[0].protocols[0].tcp: Invalid value: 0: spec.egress[0].protocols[0].tcp "
      "in body should have at least 1 properties"]),
    ("cnp-destination-port-empty", egress_ports(CNP, "protocols", [{"udp": {
        "destinationPort": {}}}]),
     ["spec.egress[0].protocols[0].udp.destinationPort: Invalid value: 0: "
      "spec.egress[0].protocols[0].udp.destinationPort in body should have at least 1 "
      "properties"]),
    ("cnp-destination-port-both", egress_ports(CNP, "protocols", [{"sctp": {
        "destinationPort": {"number": 80, "range": {"start": 1, "end": 2}}}}]),
     ["spec.egress[0].protocols[0].sctp.destinationPort: Too many: 2: must have at most 1 "
      "items", NOT_CHECKED]),
    ("cnp-port-number-bounds", egress_ports(CNP, "protocols", [
        {"tcp": {"destinationPort": {"number": 0}}},
        {"tcp": {"destinationPort": {"number": 65536}}}]),
     ["spec.egress[0].protocols[0].tcp.destinationPort.number: Invalid value: 0: "
      "spec.egress[0].protocols[0].tcp.destinationPort.number in body should be greater "
      "than or equal to 1",
      "spec.egress[0].protocols[1].tcp.destinationPort.number: Invalid value: 65536: "
      "spec.egress[0].protocols[1].tcp.destinationPort.number in body should be less than "
      "or equal to 65535"]),
    ("cnp-range-required", egress_ports(CNP, "protocols", [{"tcp": {"destinationPort": {
        "range": {"start": 80}}}}]),
     ["spec.egress[0].protocols[0].tcp.destinationPort.range.end: Required value",
      NOT_CHECKED]),
    ("cnp-range-order", egress_ports(CNP, "protocols", [
        {"tcp": {"destinationPort": {"range": {"start": 90, "end": 80}}}},
        {"udp": {"destinationPort": {"range": {"start": 80, "end": 80}}}}]),
     ['spec.egress[0].protocols[0].tcp.destinationPort.range: Invalid value: "object": '
      "Start port must be less than End port",
      'spec.egress[0].protocols[1].udp.destinationPort.range: Invalid value: "object": '
      "Start port must be less than End port"]),
    ("cnp-ingress-range-order", edit(CNP, ("spec.ingress.0.protocols", [
        {"sctp": {"destinationPort": {"range": {"start": 9, "end": 1}}}}])),
     ['spec.ingress[0].protocols[0].sctp.destinationPort.range: Invalid value: "object": '
      "Start port must be less than End port"]),
    ("cnp-named-port-networks", egress_ports(CNP, "protocols", [
        {"destinationNamedPort": "web"}], {"networks": ["10.0.0.0/8"]}),
     [f'spec.egress[0]: Invalid value: "object": {NAMED_PORT_MSG}']),
    ("cnp-named-port-nodes", egress_ports(CNP, "protocols", [
        {"destinationNamedPort": "web"}], {"nodes": {}}),
     [f'spec.egress[0]: Invalid value: "object": {NAMED_PORT_MSG}']),
    ("cnp-named-port-pods", egress_ports(CNP, "protocols", [
        {"destinationNamedPort": "web"}], {"pods": {"podSelector": {}}}), []),
    ("cnp-named-port-ingress", edit(CNP, ("spec.ingress.0.protocols", [
        {"destinationNamedPort": "web"}])), []),
    ("cnp-blocked-cel", edit(CNP, ("spec.tier", "Nope"), ("spec.egress.0.to.0.networks", [
        "bad"])),
     ['spec.tier: Unsupported value: "Nope": supported values: "Admin", "Baseline"',
      NOT_CHECKED]),
    # --- v1alpha1 AdminNetworkPolicy --------------------------------------------------------
    ("anp-valid", ANP, []),
    ("anp-priority-required", edit(ANP, ("spec.priority", DELETE)),
     ["spec.priority: Required value", NOT_CHECKED]),
    ("anp-priority-maximum", edit(ANP, ("spec.priority", 1001)),
     ["spec.priority: Invalid value: 1001: spec.priority in body should be less than or "
      "equal to 1000"]),
    ("anp-action-enum", edit(ANP, ("spec.egress.0.action", "Accept")),
     ['spec.egress[0].action: Unsupported value: "Accept": supported values: "Allow", '
      '"Deny", "Pass"', NOT_CHECKED]),
    ("anp-ingress-max", edit(ANP, ("spec.ingress", [ANP["spec"]["ingress"][0]] * 101)),
     ["spec.ingress: Too many: 101: must have at most 100 items", NOT_CHECKED]),
    ("anp-ingress-100", edit(ANP, ("spec.ingress", [ANP["spec"]["ingress"][0]] * 100)), []),
    ("anp-from-max", edit(ANP, ("spec.ingress.0.from", [{"namespaces": {}}] * 101)),
     ["spec.ingress[0].from: Too many: 101: must have at most 100 items", NOT_CHECKED]),
    ("anp-ports-max", egress_ports(ANP, "ports", [{"portNumber": {"port": 80}}] * 101),
     ["spec.egress[0].ports: Too many: 101: must have at most 100 items", NOT_CHECKED]),
    ("anp-ports-min", egress_ports(ANP, "ports", []),
     ["spec.egress[0].ports: Invalid value: 0: spec.egress[0].ports in body should have at "
      "least 1 items"]),
    ("anp-port-two", egress_ports(ANP, "ports", [{"portNumber": {"port": 80},
                                                 "namedPort": "web"}]),
     ["spec.egress[0].ports[0]: Too many: 2: must have at most 1 items", NOT_CHECKED]),
    ("anp-port-required", egress_ports(ANP, "ports", [{"portNumber": {"protocol": "UDP"}}]),
     ["spec.egress[0].ports[0].portNumber.port: Required value", NOT_CHECKED]),
    ("anp-protocol-defaults", egress_ports(ANP, "ports", [{"portNumber": {"port": 80}},
                                                         {"portRange": {"start": 1,
                                                                        "end": 2}}]), []),
    ("anp-port-bounds", egress_ports(ANP, "ports", [{"portRange": {"start": 0, "end": 65536}}]),
     # upstream's order among sibling fields is a Go map's; stockade follows the input
     ["spec.egress[0].ports[0].portRange.start: Invalid value: 0: "
      "spec.egress[0].ports[0].portRange.start in body should be greater than or equal to "
      "1",
      "spec.egress[0].ports[0].portRange.end: Invalid value: 65536: "
      "spec.egress[0].ports[0].portRange.end in body should be less than or equal to 65535"]),
    ("anp-range-unchecked-order", egress_ports(ANP, "ports", [{"portRange": {
        "start": 90, "end": 80}}]), []),
    ("anp-pods-needs-both", edit(ANP, ("spec.subject", {"pods": {"podSelector": {}}})),
     ["spec.subject.pods.namespaceSelector: Required value", NOT_CHECKED]),
    ("anp-named-port-domain", egress_ports(ANP, "ports", [{"namedPort": "web"}],
                                           {"domainNames": ["example.com"]}),
     [f'spec.egress[0]: Invalid value: "object": {NAMED_PORT_MSG}']),
    # --- v1alpha1 BaselineAdminNetworkPolicy ------------------------------------------------
    ("banp-valid", BANP, []),
    ("banp-name", edit(BANP, ("metadata.name", "baseline")),
     ['<nil>: Invalid value: "object": Only one baseline admin network policy with '
      'metadata.name="default" can be created in the cluster']),
    ("banp-action-enum", edit(BANP, ("spec.egress.0.action", "Pass")),
     ['spec.egress[0].action: Unsupported value: "Pass": supported values: "Allow", "Deny"',
      NOT_CHECKED]),
    ("banp-subject-required", edit(BANP, ("spec.subject", DELETE)),
     ["spec.subject: Required value", NOT_CHECKED]),
    ("banp-named-port-nodes", egress_ports(BANP, "ports", [{"namedPort": "web"}],
                                           {"nodes": {}}),
     ['spec.egress[0]: Invalid value: "object": networks/nodes peer cannot be set with '
      "namedPorts since there are no namedPorts for networks/nodes"]),
]


@pytest.mark.parametrize(("obj", "expected"), [pytest.param(o, e, id=i) for i, o, e in RULES])
def test_crd_rule(obj: dict[str, Any], expected: list[str]) -> None:
    assert errors_of(obj) == expected


def test_every_rule_of_every_crd_has_a_case() -> None:
    """Each CEL rule text of the three CRDs fails in at least one case above."""
    from stockade.model.crds import CRDS
    from stockade.model.validate.cel import schema_rules

    messages = {m for module in CRDS.values() for _, m in _rules_with_messages(module.SCHEMA)}
    seen = {e for _, _, errs in RULES for e in errs}
    for message in messages:
        assert any(message in e for e in seen), message
    assert len({r for module in CRDS.values() for r in schema_rules(module.SCHEMA)}) == 6


def _rules_with_messages(schema: dict[str, Any]) -> list[tuple[str, str]]:
    found = [(r, m) for r, m in schema.get("rules", ())]
    for child in (*schema.get("properties", {}).values(),
                  *(schema[k] for k in ("items", "additionalProperties") if k in schema)):
        found.extend(_rules_with_messages(child))
    return found


def test_decoded_shape_of_both_versions() -> None:
    cnp = check_cluster_policy(edit(CNP, ("spec.egress.0", {
        "name": "dns", "action": "Pass", "to": [{"pods": {"podSelector": {}}}],
        "protocols": [{"udp": {"destinationPort": {"number": 53}}},
                      {"tcp": {"destinationPort": {"range": {"start": 80, "end": 90}}}},
                      {"destinationNamedPort": "web"}]})), Origin("t.yaml", 1)).policy
    assert cnp is not None and cnp.tier is Tier.ADMIN and cnp.priority == 10
    rule = cnp.egress[0]
    assert rule.action is RuleAction.PASS and rule.name == "dns"
    assert rule.ports is not None
    assert [(p.field, p.protocol, p.first, p.last, p.name) for p in rule.ports] == [
        ("udp", "UDP", 53, 53, ""), ("tcp", "TCP", 80, 90, ""),
        ("destinationNamedPort", "", 1, 65535, "web")]
    assert cnp.ingress[0].ports is None
    anp = check_cluster_policy(egress_ports(ANP, "ports", [{"portNumber": {"port": 80}}]),
                               Origin("t.yaml", 1)).policy
    assert anp is not None and anp.tier is Tier.ADMIN and anp.ingress[0].action_text == "Allow"
    assert anp.ingress[0].action is RuleAction.ACCEPT
    assert anp.egress[0].ports is not None and anp.egress[0].ports[0].protocol == "TCP"
    banp = check_cluster_policy(BANP, Origin("t.yaml", 1)).policy
    assert banp is not None and banp.tier is Tier.BASELINE and not banp.has_priority


def test_unknown_peer_fields_fail_closed_with_a_warning() -> None:
    obj = edit(CNP, ("spec.egress.0.to", [{"futurePeer": {"x": 1}}]))
    checked = check_cluster_policy(obj, Origin("t.yaml", 1))
    assert checked.errors == []
    assert checked.policy is not None and checked.policy.egress[0].peers[0].fails_closed
    assert checked.policy.egress[0].peers[0].unknown == ("futurePeer",)
    assert any("spec.egress[0].to[0]: sets only fields" in w and "denies all traffic" in w
               for w in checked.warnings)


def test_other_unknown_fields_are_pruned_with_a_warning() -> None:
    checked = check_cluster_policy(edit(CNP, ("spec.colour", "blue")), Origin("t.yaml", 1))
    assert checked.errors == [] and checked.policy is not None
    assert checked.warnings == ["spec.colour: unknown field, dropped (the API server prunes "
                                "fields its CRD does not declare)"]


@pytest.mark.parametrize("status", [
    {"conditions": [{"type": "Ready", "status": "True", "reason": "Applied", "message": "",
                     "lastTransitionTime": "2024-05-02T09:14:03Z"}]},
    {"anything": 1},
])
def test_status_is_dropped_without_a_warning(status: dict[str, Any]) -> None:
    """The CRDs have a status subresource: a create drops status before pruning, so a policy
    read back from a cluster is not "unknown field" (as every such object once was)."""
    checked = check_cluster_policy({**CNP, "status": status}, Origin("t.yaml", 1))
    assert (checked.errors, checked.warnings) == ([], [])
    assert checked.policy is not None


def test_v1alpha1_ports_the_crd_does_not_check_are_explained() -> None:
    obj = egress_ports(ANP, "ports", [{"portRange": {"start": 90, "end": 80}},
                                      {"portNumber": {"protocol": "ICMP", "port": 1}}])
    warnings = check_cluster_policy(obj, Origin("t.yaml", 1)).warnings
    assert any("spec.egress[0].ports[0].portRange: start 90 is greater than end 80" in w
               for w in warnings)
    assert any("spec.egress[0].ports[1].portNumber.protocol: 'ICMP' is not TCP" in w
               for w in warnings)


def test_build_reads_the_kinds_and_reports_findings_like_check() -> None:
    raws = [RawObject(CNP, Origin("a.yaml", 1)), RawObject(ANP, Origin("a.yaml", 20)),
            RawObject(BANP, Origin("a.yaml", 40)),
            RawObject(edit(CNP, ("spec.priority", 5000)), Origin("b.yaml", 3)),
            RawObject(edit(CNP, ("apiVersion", "crd.antrea.io/v1beta1")), Origin("c.yaml", 1))]
    result = build_cluster(raws)
    assert [p.key for p in result.cluster.cluster_policies] == [
        "ClusterNetworkPolicy/cnp", "AdminNetworkPolicy/anp", "BaselineAdminNetworkPolicy/default"]
    # the later definition is invalid: the earlier one stays, as the API server would keep it
    assert [str(f) for f in result.findings] == [
        "b.yaml:3: ClusterNetworkPolicy cnp: spec.priority: Invalid value: 5000: "
        "spec.priority in body should be less than or equal to 1000"]
    assert ("ClusterNetworkPolicy cnp is defined more than once (a.yaml:1, then b.yaml:3): "
            "the later definition wins, as with kubectl apply") in result.warnings
    assert "skipped 1 object of kind ClusterNetworkPolicy (crd.antrea.io/v1beta1): " \
           "not modelled" in result.skipped
    # no namespace: cluster-scoped objects do not make "default" an implied namespace
    assert result.cluster.namespaces == ()
