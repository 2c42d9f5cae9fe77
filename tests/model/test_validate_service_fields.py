"""Service fields beyond ports: cluster IPs and families, node ports, session affinity,
external IPs, load-balancer fields, traffic policies, annotations (``ValidateService`` and
the allocation checks that run before it on create). One valid and at least one invalid
example per rule; expected strings are written out from upstream's messages."""

from __future__ import annotations

from typing import Any

import pytest

from stockade.model.decode import Decoder
from stockade.model.types import Origin
from stockade.model.validate import validate_service

IP = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"
CIDR = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"
LB_ONLY = "may only be used when `type` is 'LoadBalancer'"
NAME_PART = ("name part must consist of alphanumeric characters, '-', '_' or '.', and must "
             "start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or "
             "'123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?"
             "[A-Za-z0-9]')")
RANGES = "service.beta.kubernetes.io/load-balancer-source-ranges"
PORT = [{"port": 80}]


def errors_of(spec: dict[str, Any], annotations: dict[str, str] | None = None,
              name: str = "web") -> list[str]:
    meta: dict[str, Any] = {"name": name, "namespace": "shop"}
    if annotations is not None:
        meta["annotations"] = annotations
    decoder = Decoder()
    service = decoder.service({"metadata": meta, "spec": spec}, Origin("t.yaml", 1))
    assert decoder.errors == []
    return [str(e) for e in validate_service(service)]


def lb(**spec: Any) -> dict[str, Any]:
    return {"type": "LoadBalancer", "ports": PORT, **spec}


Case = tuple[str, dict[str, Any], list[str]]
CLUSTER_IPS: list[Case] = [
    ("ip", {"clusterIP": "10.96.0.10", "ports": PORT}, []),
    ("ip-sloppy-leading-zero", {"clusterIP": "10.96.0.010", "ports": PORT}, []),
    ("ips-dual", {"clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10", "fd00::10"],
                  "ipFamilyPolicy": "RequireDualStack", "ports": PORT}, []),
    ("ips-family-matches", {"clusterIP": "fd00::10", "ipFamilies": ["IPv6"], "ports": PORT}, []),
    ("ips-first-differs", {"clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.11"],
                           "ports": PORT},
     ['spec.clusterIPs: Invalid value: []string{"10.96.0.11"}: first value must match '
      "`clusterIP`"]),
    ("ips-without-ip", {"clusterIPs": ["10.96.0.11"], "ports": PORT},
     ['spec.clusterIPs: Invalid value: []string{"10.96.0.11"}: must be empty when `clusterIP` '
      "is not specified"]),
    ("ip-unparsable", {"clusterIP": "10.96.0.300", "ports": PORT},
     [f'spec.clusterIPs[0]: Invalid value: "10.96.0.300": {IP}']),
    ("none-not-alone", {"clusterIP": "None", "clusterIPs": ["None", "10.96.0.1"]},
     ['spec.clusterIPs: Invalid value: []string{"None", "10.96.0.1"}: \'None\' must be the '
      "first and only value"]),
    ("none-second", {"clusterIP": "10.96.0.1", "clusterIPs": ["10.96.0.1", "None"],
                     "ipFamilyPolicy": "RequireDualStack", "ports": PORT},
     [f'spec.clusterIPs[1]: Invalid value: "None": {IP}']),
    ("three-ips", {"clusterIP": "10.96.0.1", "clusterIPs": ["10.96.0.1", "fd00::1", "10.96.0.2"],
                   "ipFamilyPolicy": "RequireDualStack", "ports": PORT},
     ['spec.clusterIPs: Invalid value: []string{"10.96.0.1", "fd00::1", "10.96.0.2"}: may only '
      "hold up to 2 values"]),
    ("one-family-twice", {"clusterIP": "10.96.0.1", "clusterIPs": ["10.96.0.1", "10.96.0.2"],
                          "ipFamilyPolicy": "RequireDualStack", "ports": PORT},
     ['spec.clusterIPs: Invalid value: []string{"10.96.0.1", "10.96.0.2"}: may specify no more '
      "than one IP for each IP family"]),
    ("mapped-ipv4-is-ipv4", {"clusterIP": "10.96.0.1", "clusterIPs": ["10.96.0.1",
                                                                     "::ffff:10.96.0.2"],
                             "ipFamilyPolicy": "RequireDualStack", "ports": PORT},
     ['spec.clusterIPs: Invalid value: []string{"10.96.0.1", "::ffff:10.96.0.2"}: may specify '
      "no more than one IP for each IP family"]),
    ("ip-not-its-family", {"clusterIP": "10.96.0.1", "ipFamilies": ["IPv6"], "ports": PORT},
     ['spec.clusterIPs[0]: Invalid value: "10.96.0.1": expected an IPv6 value as indicated by '
      "`ipFamilies[0]`"]),
    ("ipv6-not-its-family", {"clusterIP": "fd00::1", "ipFamilies": ["IPv4"], "ports": PORT},
     ['spec.clusterIPs[0]: Invalid value: "fd00::1": expected an IPv4 value as indicated by '
      "`ipFamilies[0]`"]),
    ("headless-any-family", {"clusterIP": "None", "ipFamilies": ["IPv6"]}, []),
    ("family-unknown", {"ipFamilies": ["IPv5"], "ports": PORT},
     ['spec.ipFamilies[0]: Unsupported value: "IPv5": supported values: "IPv4", "IPv6"']),
    ("family-twice", {"ipFamilies": ["IPv4", "IPv4"], "ports": PORT},
     ['spec.ipFamilies[1]: Duplicate value: "IPv4"']),
    ("policy", {"ipFamilyPolicy": "PreferDualStack", "ports": PORT}, []),
    ("policy-unknown", {"ipFamilyPolicy": "DualStack", "ports": PORT},
     ['spec.ipFamilyPolicy: Unsupported value: "DualStack": supported values: '
      '"PreferDualStack", "RequireDualStack", "SingleStack"']),
    ("two-families-dual", {"ipFamilies": ["IPv6", "IPv4"], "ipFamilyPolicy": "PreferDualStack",
                           "ports": PORT}, []),
    ("two-families-no-policy", {"ipFamilies": ["IPv4", "IPv6"], "ports": PORT},
     ["spec.ipFamilyPolicy: Invalid value: \"SingleStack\": must be 'RequireDualStack' or "
      "'PreferDualStack' when multiple IP families are specified"]),
    ("two-ips-single-stack", {"clusterIP": "10.96.0.1", "clusterIPs": ["10.96.0.1", "fd00::1"],
                              "ipFamilyPolicy": "SingleStack", "ports": PORT},
     ["spec.ipFamilyPolicy: Invalid value: \"SingleStack\": must be 'RequireDualStack' or "
      "'PreferDualStack' when multiple cluster IPs are specified"]),
    ("headless-selectorless-two-families", {"clusterIP": "None", "ipFamilies": ["IPv4", "IPv6"]},
     []),
    ("headless-with-selector-two-families", {"clusterIP": "None", "selector": {"app": "web"},
                                             "ipFamilies": ["IPv4", "IPv6"]},
     ["spec.ipFamilyPolicy: Invalid value: \"SingleStack\": must be 'RequireDualStack' or "
      "'PreferDualStack' when multiple IP families are specified"]),
    ("external-name-families", {"type": "ExternalName", "externalName": "db.example.com",
                                "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack"},
     ["spec.ipFamilies: Forbidden: may not be set for ExternalName services",
      "spec.ipFamilyPolicy: Forbidden: may not be set for ExternalName services"]),
    ("external-name-skips-ip-checks", {"type": "ExternalName", "externalName": "db.example.com",
                                       "clusterIPs": ["bad"]},
     ["spec.clusterIPs: Forbidden: may not be set for ExternalName services"]),
]
NODE_PORTS: list[Case] = [
    ("node-port", {"type": "NodePort", "ports": [{"port": 80, "nodePort": 30080}]}, []),
    ("node-port-on-cluster-ip", {"ports": [{"port": 80, "nodePort": 30080}]},
     ["spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"]),
    ("node-port-shared-by-protocols", {"type": "NodePort", "ports": [
        {"name": "dns", "port": 53, "protocol": "UDP", "nodePort": 30053},
        {"name": "dns-tcp", "port": 53, "nodePort": 30053}]}, []),
    ("node-port-inherited", {"type": "NodePort", "ports": [
        {"name": "dns", "port": 53, "protocol": "UDP"},
        {"name": "dns-tcp", "port": 53, "nodePort": 30053}]}, []),
    ("node-port-twice", {"type": "NodePort", "ports": [
        {"name": "a", "port": 80, "nodePort": 30080},
        {"name": "b", "port": 81, "protocol": "UDP", "nodePort": 30080}]},
     ["spec.ports[1].nodePort: Invalid value: 30080: provided port is already allocated"]),
    ("node-port-pair-repeated", {"type": "NodePort", "ports": [
        {"name": "a", "port": 80, "nodePort": 30080},
        {"name": "b", "port": 80, "nodePort": 30080}]},
     ["spec.ports[1].nodePort: Duplicate value: 30080",
      'spec.ports[1]: Duplicate value: core.ServicePort{Name:"", Protocol:"TCP", '
      "AppProtocol:(*string)(nil), Port:80, TargetPort:intstr.IntOrString{Type:0, IntVal:0, "
      'StrVal:""}, NodePort:0}']),
    ("node-port-not-range-checked", {"type": "NodePort", "ports": [{"port": 80,
                                                                    "nodePort": 8080}]}, []),
    ("lb-without-node-ports", lb(allocateLoadBalancerNodePorts=False), []),
]
AFFINITY: list[Case] = [
    ("client-ip", {"sessionAffinity": "ClientIP", "ports": PORT}, []),
    ("client-ip-max", {"sessionAffinity": "ClientIP", "ports": PORT, "sessionAffinityConfig":
                       {"clientIP": {"timeoutSeconds": 86400}}}, []),
    ("none-with-config", {"sessionAffinity": "None", "ports": PORT, "sessionAffinityConfig":
                          {"clientIP": {"timeoutSeconds": 0}}}, []),
    ("affinity-unknown", {"sessionAffinity": "Cookie", "ports": PORT},
     ['spec.sessionAffinity: Unsupported value: "Cookie": supported values: "ClientIP", '
      '"None"']),
    ("timeout-zero", {"sessionAffinity": "ClientIP", "ports": PORT, "sessionAffinityConfig":
                      {"clientIP": {"timeoutSeconds": 0}}},
     ["spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: 0: must be greater "
      "than 0 and less than 86400"]),
    ("timeout-too-long", {"sessionAffinity": "ClientIP", "ports": PORT, "sessionAffinityConfig":
                          {"clientIP": {"timeoutSeconds": 86401}}},
     ["spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: 86401: must be "
      "greater than 0 and less than 86400"]),
]
EXTERNAL_IPS: list[Case] = [
    ("external-ips", {"externalIPs": ["203.0.113.10", "2001:db8::10"], "ports": PORT}, []),
    ("external-ip-unparsable", {"externalIPs": ["203.0.113"], "ports": PORT},
     [f'spec.externalIPs[0]: Invalid value: "203.0.113": {IP}']),
    ("external-ip-unspecified", {"externalIPs": ["0.0.0.0"], "ports": PORT},
     ['spec.externalIPs[0]: Invalid value: "0.0.0.0": may not be unspecified (0.0.0.0)']),
    ("external-ip-loopback", {"externalIPs": ["10.0.0.1", "::ffff:127.0.0.1"], "ports": PORT},
     ['spec.externalIPs[1]: Invalid value: "::ffff:127.0.0.1": may not be in the loopback '
      "range (127.0.0.0/8, ::1/128)"]),
    ("external-ip-link-local", {"externalIPs": ["fe80::1"], "ports": PORT},
     ['spec.externalIPs[0]: Invalid value: "fe80::1": may not be in the link-local range '
      "(169.254.0.0/16, fe80::/10)"]),
    ("external-ip-link-local-multicast", {"externalIPs": ["224.0.0.5", "ff12::1"],
                                          "ports": PORT},
     ['spec.externalIPs[0]: Invalid value: "224.0.0.5": may not be in the link-local multicast '
      "range (224.0.0.0/24, ff02::/10)",
      'spec.externalIPs[1]: Invalid value: "ff12::1": may not be in the link-local multicast '
      "range (224.0.0.0/24, ff02::/10)"]),
    ("external-ip-multicast-not-link-local", {"externalIPs": ["224.0.1.5"], "ports": PORT}, []),
]
LOAD_BALANCER: list[Case] = [
    ("source-ranges", lb(loadBalancerSourceRanges=["10.0.0.0/8", " 192.168.0.0/16 "]), []),
    ("source-ranges-not-lb", {"loadBalancerSourceRanges": ["10.0.0.0/8"], "ports": PORT},
     [f"spec.LoadBalancerSourceRanges: Forbidden: {LB_ONLY}"]),
    ("source-range-unparsable", lb(loadBalancerSourceRanges=["10.0.0.0/8", " 10.0.0.0/33 "]),
     [f'spec.LoadBalancerSourceRanges[1]: Invalid value: "10.0.0.0/33": {CIDR}']),
    ("allocate-node-ports-not-lb", {"allocateLoadBalancerNodePorts": False, "ports": PORT},
     [f"spec.allocateLoadBalancerNodePorts: Forbidden: {LB_ONLY}"]),
    ("class", lb(loadBalancerClass="example.com/internal"), []),
    ("class-not-a-qualified-name", lb(loadBalancerClass="-internal"),
     [f'spec.loadBalancerClass: Invalid value: "-internal": {NAME_PART}']),
    ("class-two-slashes", lb(loadBalancerClass="a/b/c"),
     ['spec.loadBalancerClass: Invalid value: "a/b/c": a qualified name must consist of '
      "alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
      "character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
      "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and "
      "'/' (e.g. 'example.com/MyName')"]),
    ("class-not-lb", {"loadBalancerClass": "example.com/internal", "ports": PORT},
     [f"spec.loadBalancerClass: Forbidden: {LB_ONLY}"]),
    ("app-protocol", {"ports": [{"port": 80, "appProtocol": "kubernetes.io/h2c"}]}, []),
    ("app-protocol-bad", {"ports": [{"port": 80, "appProtocol": "http:2"}]},
     [f'spec.ports[0].appProtocol: Invalid value: "http:2": {NAME_PART}']),
]
TRAFFIC: list[Case] = [
    ("etp-local", {"type": "NodePort", "externalTrafficPolicy": "Local", "ports": PORT}, []),
    ("etp-with-external-ips", {"externalTrafficPolicy": "Local", "externalIPs": ["203.0.113.1"],
                               "ports": PORT}, []),
    ("etp-not-accessible", {"externalTrafficPolicy": "Local", "ports": PORT},
     ['spec.externalTrafficPolicy: Invalid value: "Local": may only be set for '
      "externally-accessible services"]),
    ("etp-unknown", {"type": "NodePort", "externalTrafficPolicy": "Global", "ports": PORT},
     ['spec.externalTrafficPolicy: Unsupported value: "Global": supported values: "Cluster", '
      '"Local"']),
    ("health-check-port", lb(externalTrafficPolicy="Local", healthCheckNodePort=30100), []),
    ("health-check-port-not-local", {"type": "NodePort", "externalTrafficPolicy": "Local",
                                     "healthCheckNodePort": 30100, "ports": PORT},
     ["spec.healthCheckNodePort: Invalid value: 30100: may only be set when `type` is "
      "'LoadBalancer' and `externalTrafficPolicy` is 'Local'"]),
    ("itp-local", {"internalTrafficPolicy": "Local", "ports": PORT}, []),
    ("itp-unknown", {"internalTrafficPolicy": "Node", "ports": PORT},
     ['spec.internalTrafficPolicy: Unsupported value: "Node": supported values: "Cluster", '
      '"Local"']),
    ("itp-empty", {"internalTrafficPolicy": "", "ports": PORT},
     ['spec.internalTrafficPolicy: Unsupported value: "": supported values: "Cluster", '
      '"Local"']),
    ("distribution", {"trafficDistribution": "PreferClose", "ports": PORT}, []),
    ("distribution-same-node", {"trafficDistribution": "PreferSameNode", "ports": PORT}, []),
    ("distribution-unknown", {"trafficDistribution": "Nearest", "ports": PORT},
     ['spec.trafficDistribution: Unsupported value: "Nearest": supported values: '
      '"PreferClose", "PreferSameZone", "PreferSameNode"']),
]
DEFAULTS: list[Case] = [
    ("type-empty-is-cluster-ip", {"type": "", "ports": PORT}, []),
    ("affinity-empty-is-none", {"sessionAffinity": "", "ports": PORT}, []),
    ("minimal-node-port", {"type": "NodePort", "ports": PORT}, []),
    ("minimal-load-balancer", lb(), []),
    ("minimal-external-name", {"type": "ExternalName", "externalName": "db.example.com"}, []),
    ("minimal-headless", {"clusterIP": "None", "selector": {"app": "db"}}, []),
]
ALL = CLUSTER_IPS + NODE_PORTS + AFFINITY + EXTERNAL_IPS + LOAD_BALANCER + TRAFFIC + DEFAULTS


@pytest.mark.parametrize(("case", "spec", "expected"), ALL, ids=[c[0] for c in ALL])
def test_service_field_rules(case: str, spec: dict[str, Any], expected: list[str]) -> None:
    assert errors_of(spec) == expected


ANNOTATED: list[tuple[str, dict[str, Any], dict[str, str], list[str]]] = [
    ("ranges-annotation", lb(), {RANGES: " 10.0.0.0/8, 192.168.0.0/16 "}, []),
    ("ranges-annotation-empty", lb(), {RANGES: "  "}, []),
    ("ranges-annotation-not-lb", {"ports": PORT}, {RANGES: "10.0.0.0/8"},
     [f"metadata.annotations[{RANGES}]: Forbidden: {LB_ONLY}"]),
    ("ranges-annotation-unparsable", lb(), {RANGES: "10.0.0.0/8,10.0.0.0/33,"},
     [f'metadata.annotations[{RANGES}]: Invalid value: "10.0.0.0/33": {CIDR}',
      f'metadata.annotations[{RANGES}]: Invalid value: "": {CIDR}']),
    ("ranges-annotation-null-not-lb", {"ports": PORT}, {RANGES: None},  # type: ignore[dict-item]
     [f"metadata.annotations[{RANGES}]: Forbidden: {LB_ONLY}"]),
    ("ranges-field-wins", lb(loadBalancerSourceRanges=["10.0.0.0/8"]), {RANGES: "bad"}, []),
    ("topology-same", {"ports": PORT}, {"service.kubernetes.io/topology-mode": "Auto",
                                        "service.kubernetes.io/topology-aware-hints": "Auto"},
     []),
    ("topology-differs", {"ports": PORT}, {"service.kubernetes.io/topology-mode": "Auto",
                                           "service.kubernetes.io/topology-aware-hints": "auto"},
     ['metadata.annotations[service.kubernetes.io/topology-mode]: Invalid value: "Auto": must '
      "match annotations[service.kubernetes.io/topology-aware-hints] when both are specified"]),
]


@pytest.mark.parametrize(("case", "spec", "annotations", "expected"), ANNOTATED,
                         ids=[c[0] for c in ANNOTATED])
def test_service_annotation_rules(case: str, spec: dict[str, Any], annotations: dict[str, str],
                                  expected: list[str]) -> None:
    assert errors_of(spec, annotations) == expected


def test_allocation_errors_come_alone() -> None:
    """The registry allocates before it validates: a bad cluster IP hides every other fault
    (the name, a port), as the API server's answer does."""
    spec = {"clusterIP": "10.96.0.300", "ports": [{"port": 0}], "sessionAffinity": "Cookie"}
    assert errors_of(spec, name="1web") == [
        f'spec.clusterIPs[0]: Invalid value: "10.96.0.300": {IP}']
    spec = {"type": "NodePort", "ports": [{"name": "a", "port": 80, "nodePort": 30080},
                                          {"name": "B", "port": 81, "nodePort": 30080}]}
    assert errors_of(spec) == [
        "spec.ports[1].nodePort: Invalid value: 30080: provided port is already allocated"]


def test_all_faults_of_one_service_in_upstream_order() -> None:
    spec = {"type": "NodePort", "sessionAffinity": "Cookie", "externalIPs": ["127.0.0.1"],
            "externalTrafficPolicy": "Global", "internalTrafficPolicy": "Node",
            "loadBalancerClass": "x", "ports": [{"port": 80, "appProtocol": "-h"}]}
    assert errors_of(spec) == [
        f'spec.ports[0].appProtocol: Invalid value: "-h": {NAME_PART}',
        'spec.sessionAffinity: Unsupported value: "Cookie": supported values: "ClientIP", '
        '"None"',
        'spec.externalIPs[0]: Invalid value: "127.0.0.1": may not be in the loopback range '
        "(127.0.0.0/8, ::1/128)",
        f"spec.loadBalancerClass: Forbidden: {LB_ONLY}",
        'spec.externalTrafficPolicy: Unsupported value: "Global": supported values: "Cluster", '
        '"Local"',
        'spec.internalTrafficPolicy: Unsupported value: "Node": supported values: "Cluster", '
        '"Local"',
    ]


@pytest.mark.parametrize(("spec", "expected"), [
    ({"ports": [{"port": 80, "nodePort": "30080"}]},
     'spec.ports[0].nodePort: Invalid value: "30080": must be of type integer'),
    ({"sessionAffinity": "ClientIP", "sessionAffinityConfig": {"clientIP": "3600"},
      "ports": PORT},
     'spec.sessionAffinityConfig.clientIP: Invalid value: "3600": must be of type object'),
    ({"externalIPs": "203.0.113.1", "ports": PORT},
     'spec.externalIPs: Invalid value: "203.0.113.1": must be of type array'),
    ({"allocateLoadBalancerNodePorts": "yes", "type": "LoadBalancer", "ports": PORT},
     'spec.allocateLoadBalancerNodePorts: Invalid value: "yes": must be of type boolean'),
], ids=["node-port", "affinity-config", "external-ips", "allocate"])
def test_wrong_json_types_are_decode_errors(spec: dict[str, Any], expected: str) -> None:
    decoder = Decoder()
    decoder.service({"metadata": {"name": "web", "namespace": "shop"}, "spec": spec},
                    Origin("t.yaml", 1))
    assert [str(e) for e in decoder.errors] == [expected]
