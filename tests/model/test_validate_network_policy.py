"""NetworkPolicy validation: one case per rule of the spec table, the spec's worked
examples verbatim, ordering across the object, and valid policies that must pass.

Expected strings are written out from /work/shared/spec/networkpolicy-validation.md, not
built from the implementation's constants, so a drifting message fails here.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from upstream_messages import DNS_LABEL_MSG, SUBDOMAIN_MSG

from stockade.model.decode import Decoder
from stockade.model.errors import api_server_message
from stockade.model.types import NetworkPolicy, Origin
from stockade.model.validate import validate_network_policy

KEY_NAME_MSG = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start "
    "and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', "
    "regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' "
    "or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
    "'my_value',  or '12345', regex used for validation is "
    "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)
CIDR_MSG = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"
RANGE_MSG = "must be between 1 and 65535, inclusive"
P = "spec.ingress[0].ports[0]"
R = "spec.ingress[0].from[0]"


def decode(obj: dict[str, Any]) -> NetworkPolicy:
    decoder = Decoder()
    policy = decoder.network_policy(obj, Origin("t.yaml", 1))
    assert decoder.errors == [], "test manifests must decode cleanly"
    return policy


def errors_of(obj: dict[str, Any]) -> list[str]:
    return [str(e) for e in validate_network_policy(decode(obj))]


def np(spec: dict[str, Any] | None = None, **meta: Any) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": "np", "namespace": "default"}
    metadata.update(meta)
    return {"metadata": {k: v for k, v in metadata.items() if v is not None},
            "spec": spec if spec is not None else {"podSelector": {}}}


def ingress_port(**port: Any) -> dict[str, Any]:
    return np({"podSelector": {}, "ingress": [{"ports": [port]}]})


def ingress_peer(peer: dict[str, Any]) -> dict[str, Any]:
    return np({"podSelector": {}, "ingress": [{"from": [peer]}]})


def pod_selector(selector: dict[str, Any]) -> dict[str, Any]:
    return np({"podSelector": selector})


RULES: list[tuple[str, dict[str, Any], list[str]]] = [
    ("1-name-required", np(name=None),
     ["metadata.name: Required value: name or generateName is required"]),
    ("2-name-too-long", np(name="a" * 254),
     [f'metadata.name: Invalid value: "{"a" * 254}": must be no more than 253 characters']),
    ("3-name-not-subdomain", np(name="Web_Policy"),
     [f'metadata.name: Invalid value: "Web_Policy": {SUBDOMAIN_MSG}']),
    ("4-generate-name-invalid", np(name=None, generateName="Bad_"),
     [f'metadata.generateName: Invalid value: "Bad_": {SUBDOMAIN_MSG}']),
    ("5-namespace-required", np(namespace=None),
     ["metadata.namespace: Required value"]),
    ("6-namespace-not-label", np(namespace="Prod"),
     [f'metadata.namespace: Invalid value: "Prod": {DNS_LABEL_MSG}']),
    ("6-namespace-too-long", np(namespace="n" * 64),
     [f'metadata.namespace: Invalid value: "{"n" * 64}": must be no more than 63 characters']),
    ("6-namespace-dots", np(namespace="team.prod"),
     ['metadata.namespace: Invalid value: "team.prod": must not contain dots']),
    ("7-label-value", np(labels={"app": "web server"}),
     [f'metadata.labels: Invalid value: "web server": {VALUE_MSG}']),
    ("7-label-key", np(labels={"-app": "web"}),
     [f'metadata.labels: Invalid value: "-app": {KEY_NAME_MSG}']),
    ("8-match-labels-key", pod_selector({"matchLabels": {"example.com/": "x"}}),
     ['spec.podSelector.matchLabels: Invalid value: "example.com/": name part must be '
      'non-empty',
      f'spec.podSelector.matchLabels: Invalid value: "example.com/": {KEY_NAME_MSG}']),
    ("9-match-labels-value", pod_selector({"matchLabels": {"app": "-web"}}),
     [f'spec.podSelector.matchLabels: Invalid value: "-web": {VALUE_MSG}']),
    ("10-operator", pod_selector({"matchExpressions": [{"key": "app", "operator": "in",
                                                        "values": ["a"]}]}),
     ['spec.podSelector.matchExpressions[0].operator: Invalid value: "in": '
      "not a valid selector operator"]),
    ("11-in-needs-values", pod_selector({"matchExpressions": [{"key": "app",
                                                               "operator": "NotIn"}]}),
     ["spec.podSelector.matchExpressions[0].values: Required value: must be specified "
      "when `operator` is 'In' or 'NotIn'"]),
    ("12-exists-no-values", pod_selector({"matchExpressions": [
        {"key": "app", "operator": "DoesNotExist", "values": ["a"]}]}),
     ["spec.podSelector.matchExpressions[0].values: Forbidden: may not be specified when "
      "`operator` is 'Exists' or 'DoesNotExist'"]),
    ("13-expression-key", pod_selector({"matchExpressions": [
        {"key": "Example.com/app", "operator": "Exists"}]}),
     ['spec.podSelector.matchExpressions[0].key: Invalid value: "Example.com/app": '
      f"prefix part {SUBDOMAIN_MSG}"]),
    ("14-expression-value", pod_selector({"matchExpressions": [
        {"key": "app", "operator": "In", "values": ["ok", "not ok"]}]}),
     [f'spec.podSelector.matchExpressions[0].values[1]: Invalid value: "not ok": {VALUE_MSG}']),
    ("15-empty-peer", ingress_peer({}),
     [f"{R}: Required value: must specify a peer"]),
    ("16-ipblock-and-selector", ingress_peer({"ipBlock": {"cidr": "10.0.0.0/8"},
                                              "namespaceSelector": {}}),
     [f"{R}: Forbidden: may not specify both ipBlock and another peer"]),
    ("17-cidr-required", ingress_peer({"ipBlock": {"cidr": "", "except": ["bogus"]}}),
     [f"{R}.ipBlock.cidr: Required value"]),
    ("18-cidr-invalid", ingress_peer({"ipBlock": {"cidr": "10.0.0.0"}}),
     [f'{R}.ipBlock.cidr: Invalid value: "10.0.0.0": {CIDR_MSG}']),
    ("18-cidr-invalid-skips-except", ingress_peer({"ipBlock": {"cidr": "foo",
                                                              "except": ["bar"]}}),
     [f'{R}.ipBlock.cidr: Invalid value: "foo": {CIDR_MSG}']),
    ("19-leading-zero-accepted", ingress_peer({"ipBlock": {"cidr": "010.0.0.0/8"}}), []),
    ("20-ipv4-mapped-accepted", ingress_peer({"ipBlock": {"cidr": "::ffff:10.0.0.0/104"}}),
     []),
    ("21-host-bits-accepted", ingress_peer({"ipBlock": {"cidr": "10.0.0.1/8",
                                                        "except": ["10.1.2.3/16"]}}), []),
    ("22-except-invalid-later-still-checked", ingress_peer({"ipBlock": {
        "cidr": "10.0.0.0/8", "except": ["10.0.0.0/33", "11.0.0.0/16"]}}),
     [f'{R}.ipBlock.except[0]: Invalid value: "10.0.0.0/33": {CIDR_MSG}',
      f'{R}.ipBlock.except[1]: Invalid value: "11.0.0.0/16": must be a strict subset of '
      "`cidr`"]),
    ("23-except-equal", ingress_peer({"ipBlock": {"cidr": "10.0.0.0/8",
                                                  "except": ["10.0.0.0/8"]}}),
     [f'{R}.ipBlock.except[0]: Invalid value: "10.0.0.0/8": must be a strict subset of '
      "`cidr`"]),
    ("23-except-wider-and-other-family", ingress_peer({"ipBlock": {
        "cidr": "10.1.0.0/16", "except": ["10.0.0.0/8", "2001:db8::/64", "10.1.2.0/24"]}}),
     [f'{R}.ipBlock.except[0]: Invalid value: "10.0.0.0/8": must be a strict subset of '
      "`cidr`",
      f'{R}.ipBlock.except[1]: Invalid value: "2001:db8::/64": must be a strict subset of '
      "`cidr`"]),
    ("24-protocol", ingress_port(protocol="tcp", port=80),
     [f'{P}.protocol: Unsupported value: "tcp": supported values: "TCP", "UDP", "SCTP"']),
    ("25-port-zero", ingress_port(port=0), [f"{P}.port: Invalid value: 0: {RANGE_MSG}"]),
    ("25-port-range-independent-of-endport", ingress_port(port=0, endPort=10),
     [f"{P}.port: Invalid value: 0: {RANGE_MSG}"]),
    ("26-endport-below-port", ingress_port(port=8080, endPort=80),
     [f"{P}.endPort: Invalid value: 80: must be greater than or equal to `port`"]),
    ("26-then-27", ingress_port(port=80, endPort=0),
     [f"{P}.endPort: Invalid value: 0: must be greater than or equal to `port`",
      f"{P}.endPort: Invalid value: 0: {RANGE_MSG}"]),
    ("27-endport-range", ingress_port(port=80, endPort=65536),
     [f"{P}.endPort: Invalid value: 65536: {RANGE_MSG}"]),
    ("28-endport-named", ingress_port(port="http", endPort=90),
     [f"{P}.endPort: Invalid value: 90: may not be specified when `port` is non-numeric"]),
    ("29-endport-alone", ingress_port(endPort=90),
     [f"{P}.endPort: Invalid value: 90: may not be specified when `port` is not specified"]),
    ("30-name-too-long", ingress_port(port="abcdefghijklmnop"),
     [f'{P}.port: Invalid value: "abcdefghijklmnop": must be no more than 15 characters']),
    ("31-name-charset", ingress_port(port="web_port"),
     [f'{P}.port: Invalid value: "web_port": must contain only alpha-numeric characters '
      "(a-z, 0-9), and hyphens (-)"]),
    ("32-name-needs-letter", ingress_port(port="8-0"),
     [f'{P}.port: Invalid value: "8-0": must contain at least one letter (a-z)']),
    ("33-name-double-hyphen", ingress_port(port="my--port"),
     [f'{P}.port: Invalid value: "my--port": must not contain consecutive hyphens']),
    ("34-name-edge-hyphen", ingress_port(port="http-"),
     [f'{P}.port: Invalid value: "http-": must not begin or end with a hyphen']),
    ("30-34-all-at-once", ingress_port(port="-HTTP--0123456789"),
     [f'{P}.port: Invalid value: "-HTTP--0123456789": must be no more than 15 characters',
      f'{P}.port: Invalid value: "-HTTP--0123456789": must contain only alpha-numeric '
      "characters (a-z, 0-9), and hyphens (-)",
      f'{P}.port: Invalid value: "-HTTP--0123456789": must contain at least one letter (a-z)',
      f'{P}.port: Invalid value: "-HTTP--0123456789": must not contain consecutive hyphens',
      f'{P}.port: Invalid value: "-HTTP--0123456789": must not begin or end with a hyphen']),
    ("31-32-empty-name", ingress_port(port=""),
     [f'{P}.port: Invalid value: "": must contain only alpha-numeric characters (a-z, 0-9), '
      "and hyphens (-)",
      f'{P}.port: Invalid value: "": must contain at least one letter (a-z)']),
    ("35-too-many-types", np({"podSelector": {},
                              "policyTypes": ["Ingress", "Egress", "Egress", "x"]}),
     ['spec.policyTypes: Invalid value: []networking.PolicyType{"Ingress", "Egress", '
      '"Egress", "x"}: may not specify more than two policyTypes']),
    ("36-unknown-type", np({"podSelector": {}, "policyTypes": ["Ingress", "egress"]}),
     ['spec.policyTypes[1]: Unsupported value: "egress": supported values: "Ingress", '
      '"Egress"']),
]


@pytest.mark.parametrize(("obj", "expected"), [(o, e) for _, o, e in RULES],
                         ids=[i for i, _, _ in RULES])
def test_rule(obj: dict[str, Any], expected: list[str]) -> None:
    assert errors_of(obj) == expected


def test_duplicate_policy_types_are_accepted() -> None:
    assert errors_of(np({"podSelector": {}, "policyTypes": ["Ingress", "Ingress"]})) == []


def test_generate_name_prefix_may_end_with_dash() -> None:
    assert errors_of(np(name=None, generateName="web-")) == []


def test_except_in_ipv4_mapped_form_is_judged_as_go_does() -> None:
    # Go's IPNet.Contains sees ::ffff:10.1.0.0 as 10.1.0.0, and /112 > /8: accepted.
    assert errors_of(ingress_peer({"ipBlock": {"cidr": "10.0.0.0/8",
                                               "except": ["::ffff:10.1.0.0/112"]}})) == []
    # Both in mapped form: compared as IPv4 addresses, lengths as written (104 < 112).
    assert errors_of(ingress_peer({"ipBlock": {"cidr": "::ffff:10.0.0.0/104",
                                               "except": ["::ffff:10.1.0.0/112"]}})) == []
    # A mapped cidr of /104 keeps its written length: a /16 except is "not narrower".
    assert errors_of(ingress_peer({"ipBlock": {"cidr": "::ffff:10.0.0.0/104",
                                               "except": ["10.1.0.0/16"]}})) == [
        f'{R}.ipBlock.except[0]: Invalid value: "10.1.0.0/16": must be a strict subset of '
        "`cidr`"]


# The worked examples of spec section 4, each with a manifest that produces exactly it.
WORKED = [
    ("spec.ingress[0].from[0]: Required value: must specify a peer", ingress_peer({})),
    ("spec.egress[0].to[0]: Forbidden: may not specify both ipBlock and another peer",
     np({"podSelector": {}, "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8"},
                                                 "podSelector": {}}]}]})),
    ("spec.ingress[0].from[0].ipBlock.cidr: Required value",
     ingress_peer({"ipBlock": {"cidr": ""}})),
    ('spec.ingress[0].from[0].ipBlock.cidr: Invalid value: "192.168.0.0/33": must be a valid '
     "CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)",
     ingress_peer({"ipBlock": {"cidr": "192.168.0.0/33"}})),
    ('spec.ingress[0].from[0].ipBlock.except[0]: Invalid value: "10.0.0.0/8": must be a '
     "strict subset of `cidr`",
     ingress_peer({"ipBlock": {"cidr": "10.0.0.0/16", "except": ["10.0.0.0/8"]}})),
    ('spec.ingress[0].ports[0].protocol: Unsupported value: "ICMP": supported values: '
     '"TCP", "UDP", "SCTP"', ingress_port(protocol="ICMP")),
    ("spec.ingress[0].ports[0].port: Invalid value: 0: must be between 1 and 65535, "
     "inclusive", ingress_port(port=0)),
    ("spec.ingress[0].ports[0].port: Invalid value: 70000: must be between 1 and 65535, "
     "inclusive", ingress_port(port=70000)),
    ('spec.ingress[0].ports[0].port: Invalid value: "Http": must contain only alpha-numeric '
     "characters (a-z, 0-9), and hyphens (-)", ingress_port(port="Http")),
    ('spec.ingress[0].ports[0].port: Invalid value: "8080": must contain at least one letter '
     "(a-z)", ingress_port(port="8080")),
    ("spec.egress[0].ports[0].endPort: Invalid value: 79: must be greater than or equal to "
     "`port`", np({"podSelector": {}, "egress": [{"ports": [{"port": 80, "endPort": 79}]}]})),
    ("spec.egress[0].ports[0].endPort: Invalid value: 32768: may not be specified when "
     "`port` is non-numeric",
     np({"podSelector": {}, "egress": [{"ports": [{"port": "http", "endPort": 32768}]}]})),
    ("spec.egress[0].ports[0].endPort: Invalid value: 32768: may not be specified when "
     "`port` is not specified",
     np({"podSelector": {}, "egress": [{"ports": [{"endPort": 32768}]}]})),
    ('spec.policyTypes[0]: Unsupported value: "ingress": supported values: "Ingress", '
     '"Egress"', np({"podSelector": {}, "policyTypes": ["ingress"]})),
    ('spec.podSelector.matchExpressions[0].operator: Invalid value: "Equals": not a valid '
     "selector operator",
     pod_selector({"matchExpressions": [{"key": "a", "operator": "Equals", "values": ["b"]}]})),
    ("spec.podSelector.matchExpressions[0].values: Required value: must be specified when "
     "`operator` is 'In' or 'NotIn'",
     pod_selector({"matchExpressions": [{"key": "a", "operator": "In"}]})),
    ("spec.podSelector.matchExpressions[0].values: Forbidden: may not be specified when "
     "`operator` is 'Exists' or 'DoesNotExist'",
     pod_selector({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["b"]}]})),
    ("metadata.name: Required value: name or generateName is required", np(name=None)),
]


@pytest.mark.parametrize(("line", "obj"), WORKED, ids=[str(i) for i in range(len(WORKED))])
def test_worked_example(line: str, obj: dict[str, Any]) -> None:
    assert errors_of(obj) == [line]


def test_worked_example_whole_object_message() -> None:
    policy = decode({"metadata": {"name": "bad", "namespace": "default"},
                     "spec": {"podSelector": {}, "ingress": [{"from": [{}]}],
                              "policyTypes": ["ingress"]}})
    assert api_server_message("NetworkPolicy", "networking.k8s.io", "bad",
                              validate_network_policy(policy)) == (
        'NetworkPolicy.networking.k8s.io "bad" is invalid: [spec.ingress[0].from[0]: '
        "Required value: must specify a peer, spec.policyTypes[0]: Unsupported value: "
        '"ingress": supported values: "Ingress", "Egress"]'
    )


MANY_ERRORS = """
metadata:
  name: Bad
  namespace: default
  labels: {tier: "-x"}
spec:
  podSelector:
    matchExpressions: [{key: app, operator: Has}]
  ingress:
  - from:
    - ipBlock: {cidr: 10.0.0.0/8, except: [10.0.0.0/8]}
      podSelector: {matchLabels: {"a b": c}}
      namespaceSelector: {matchLabels: {team: "x y"}}
    ports: [{port: 0, protocol: ICMP}]
  egress:
  - to: [{}]
    ports: [{port: http, endPort: 9}]
  policyTypes: [Ingress, Egress, Both]
"""


def test_errors_come_in_api_server_order() -> None:
    found = errors_of(yaml.safe_load(MANY_ERRORS))
    paths = [line.split(": ", 1)[0] for line in found]
    assert paths == [
        "metadata.name",
        "metadata.labels",
        "spec.podSelector.matchExpressions[0].operator",
        # ports of a rule before its peers, whatever order the manifest uses
        "spec.ingress[0].ports[0].protocol",
        "spec.ingress[0].ports[0].port",
        # within a peer: podSelector, namespaceSelector, ipBlock, then the count check
        "spec.ingress[0].from[0].podSelector.matchLabels",
        "spec.ingress[0].from[0].namespaceSelector.matchLabels",
        "spec.ingress[0].from[0].ipBlock.except[0]",
        "spec.ingress[0].from[0]",
        "spec.egress[0].ports[0].endPort",
        "spec.egress[0].to[0]",
        "spec.policyTypes",
    ]
    assert found[-1] == ('spec.policyTypes: Invalid value: []networking.PolicyType{"Ingress", '
                         '"Egress", "Both"}: may not specify more than two policyTypes')


VALID = """
- metadata: {name: default-deny-all, namespace: prod}
  spec: {podSelector: {}, policyTypes: [Ingress, Egress]}
- metadata: {name: allow-frontend, namespace: prod, labels: {app.kubernetes.io/part-of: shop}}
  spec:
    podSelector:
      matchLabels: {app: api, "example.com/tier": backend}
      matchExpressions:
      - {key: env, operator: In, values: [prod, staging]}
      - {key: canary, operator: DoesNotExist}
    ingress:
    - from:
      - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: web}}
        podSelector: {matchLabels: {app: frontend}}
      - ipBlock: {cidr: 172.17.0.0/16, except: [172.17.1.0/24, 172.17.2.128/25]}
      - ipBlock: {cidr: "2001:db8::/32", except: ["2001:db8:1::/48"]}
      ports:
      - {port: 8080}
      - {protocol: UDP, port: 5000, endPort: 5010}
      - {protocol: SCTP, port: metrics}
- metadata: {name: egress-dns.v2, namespace: kube-system}
  spec:
    podSelector: {}
    egress:
    - to: [{namespaceSelector: {}}]
      ports: [{port: 53, protocol: UDP}, {port: dns-tcp}, {port: 65535, endPort: 65535}]
    - {}
"""


@pytest.mark.parametrize("obj", yaml.safe_load(VALID), ids=["deny-all", "frontend", "dns"])
def test_valid_policies_give_no_errors(obj: dict[str, Any]) -> None:
    assert errors_of(obj) == []


@pytest.mark.parametrize(("written", "port"), [(80.0, 80), (1000.0, 1000), ("80", "80")])
def test_a_whole_float_port_is_the_integer_kubectl_sends(written: Any, port: Any) -> None:
    """kubectl's YAML-to-JSON writes ``port: 80.0`` (or ``1e3``) as ``80`` (``1000``): an
    integer port, as for ``endPort``; a quoted number stays a (named) string."""
    policy = decode(np({"podSelector": {}, "ingress": [{"ports": [{"port": written}]}]}))
    assert policy.ingress[0].ports[0].port == port


@pytest.mark.parametrize(("written", "shown"), [
    # Below 1e21 Go's encoding/json writes a whole float as digits, the shortest that read
    # back as it (as Python's repr): an integer out of range.
    (9.99e20, "999000000000000000000"),
    (1.2345678901234567e20, "123456789012345670000"),
])
def test_a_large_whole_float_is_the_integer_kubectl_sends(written: float, shown: str) -> None:
    decoder = Decoder()
    decoder.network_policy(np({"podSelector": {}, "ingress": [{"ports": [
        {"port": 80, "endPort": written}]}]}), Origin("t.yaml", 1))
    assert decoder.errors == []
    assert errors_of(np({"podSelector": {}, "ingress": [{"ports": [
        {"port": 80, "endPort": written}]}]})) == [
        f"spec.ingress[0].ports[0].endPort: Invalid value: {shown}: must be between 1 and "
        "65535, inclusive"]


@pytest.mark.parametrize("written", [1e21, 9e99, -1e21, float("inf")])
@pytest.mark.parametrize("field", ["port", "endPort"])
def test_a_float_kubectl_writes_with_an_exponent_is_a_type_error(written: float,
                                                                 field: str) -> None:
    """``endPort: 9e99`` goes to the API server as ``9e+99`` (Go writes floats from 1e21
    up with an exponent), which no integer field decodes: a number, not a 100-digit
    integer out of range."""
    decoder = Decoder()
    port: dict[str, Any] = {"port": 80, "endPort": 90}
    port[field] = written
    decoder.network_policy(np({"podSelector": {}, "ingress": [{"ports": [port]}]}),
                           Origin("t.yaml", 1))
    expected = "integer or string" if field == "port" else "integer"
    assert [str(e) for e in decoder.errors] == [
        f'spec.ingress[0].ports[0].{field}: Invalid value: "number": must be of type '
        f"{expected}"]


def test_a_fractional_port_is_a_type_error() -> None:
    decoder = Decoder()
    decoder.network_policy(np({"podSelector": {}, "ingress": [{"ports": [{"port": 80.5}]}]}),
                           Origin("t.yaml", 1))
    assert [str(e) for e in decoder.errors] == [
        'spec.ingress[0].ports[0].port: Invalid value: "number": must be of type integer '
        "or string"]


@pytest.mark.parametrize("spec", [{}, {"spec": None}, {"spec": {}}])
def test_a_policy_without_spec_is_valid_and_isolates_its_namespace_for_ingress(
        spec: dict[str, Any]) -> None:
    """``NetworkPolicy.spec`` is optional upstream: no spec is the empty spec, defaulted to
    ``policyTypes: [Ingress]`` with the empty pod selector (deny all ingress)."""
    obj: dict[str, Any] = {"metadata": {"name": "np", "namespace": "default"}, **spec}
    policy = decode(obj)
    assert validate_network_policy(policy) == []
    assert policy.policy_types == ("Ingress",)
    assert policy.pod_selector.match_labels == () and policy.pod_selector.match_expressions == ()
    assert policy.ingress == () and policy.egress == ()
