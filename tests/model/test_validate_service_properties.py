"""Property tests for Service validation: Services generated valid (every type, with and
without the defaulted fields) are accepted; one fault added to any of them gives exactly
its one error, whatever surrounds it."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from stockade.model.decode import Decoder
from stockade.model.types import Origin
from stockade.model.validate import validate_service

DNS_LABEL = st.from_regex(r"\A[a-z]([-a-z0-9]{0,20}[a-z0-9])?\Z")
SUBDOMAIN = st.lists(DNS_LABEL, min_size=1, max_size=3).map(".".join)
KEY_NAME = st.from_regex(r"\A[A-Za-z0-9]([-A-Za-z0-9_.]{0,30}[A-Za-z0-9])?\Z")
QUALIFIED = st.one_of(KEY_NAME, st.tuples(SUBDOMAIN, KEY_NAME).map("/".join))
PORT_NAME = st.from_regex(r"\A[a-z]([a-z0-9]|-(?=[a-z0-9])){0,14}\Z").filter(
    lambda s: len(s) <= 15 and not s.endswith("-"))
V4 = st.integers(1, 254).map(lambda n: f"10.96.3.{n}")
V6 = st.integers(1, 0xFFFF).map(lambda n: f"fd00:10:96::{n:x}")
EXTERNAL = st.one_of(st.integers(1, 254).map(lambda n: f"203.0.113.{n}"),
                     st.integers(1, 0xFFFF).map(lambda n: f"2001:db8::{n:x}"))


def maybe(draw: st.DrawFn, spec: dict[str, Any], key: str, values: st.SearchStrategy[Any]) -> None:
    if draw(st.booleans()):
        spec[key] = draw(values)


@st.composite
def ports(draw: st.DrawFn, node_ports: bool) -> list[dict[str, Any]]:
    pairs = draw(st.lists(st.tuples(st.sampled_from(["TCP", "UDP", "SCTP"]),
                                    st.integers(1, 65535)), min_size=1, max_size=4, unique=True))
    names = draw(st.lists(PORT_NAME, min_size=len(pairs), max_size=len(pairs), unique=True))
    out = []
    for i, (protocol, number) in enumerate(pairs):
        port: dict[str, Any] = {"port": number}
        if protocol != "TCP" or draw(st.booleans()):
            port["protocol"] = protocol
        if len(pairs) > 1 or draw(st.booleans()):
            port["name"] = names[i]
        maybe(draw, port, "targetPort", st.one_of(st.integers(0, 65535), PORT_NAME))
        maybe(draw, port, "appProtocol", QUALIFIED)
        if node_ports and draw(st.booleans()):
            port["nodePort"] = 30000 + i
        out.append(port)
    return out


@st.composite
def cluster_ips(draw: st.DrawFn, spec: dict[str, Any]) -> None:
    shape = draw(st.sampled_from(["none", "v4", "v6", "dual"]))
    if shape in ("v4", "v6"):
        ip = draw(V4 if shape == "v4" else V6)
        spec["clusterIP"] = ip
        if draw(st.booleans()):
            spec["clusterIPs"] = [ip]
        if draw(st.booleans()):
            spec["ipFamilies"] = ["IPv4" if shape == "v4" else "IPv6"]
        maybe(draw, spec, "ipFamilyPolicy", st.sampled_from(
            ["SingleStack", "PreferDualStack", "RequireDualStack"]))
    elif shape == "dual":
        ips = draw(st.permutations([draw(V4), draw(V6)]))
        spec["clusterIP"], spec["clusterIPs"] = ips[0], list(ips)
        spec["ipFamilyPolicy"] = draw(st.sampled_from(["PreferDualStack", "RequireDualStack"]))
        if draw(st.booleans()):
            spec["ipFamilies"] = ["IPv6" if ":" in ip else "IPv4" for ip in ips]


@st.composite
def valid_services(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["", "ClusterIP", "NodePort", "LoadBalancer", "ExternalName"]))
    spec: dict[str, Any] = {"type": kind} if kind else {}
    maybe(draw, spec, "selector", st.dictionaries(KEY_NAME, KEY_NAME, max_size=2))
    maybe(draw, spec, "internalTrafficPolicy", st.sampled_from(["Cluster", "Local"]))
    maybe(draw, spec, "trafficDistribution", st.sampled_from(
        ["PreferClose", "PreferSameZone", "PreferSameNode"]))
    if kind == "ExternalName":
        spec["externalName"] = draw(SUBDOMAIN) + draw(st.sampled_from(["", "."]))
        maybe(draw, spec, "ports", ports(False))
        return spec
    headless = kind in ("", "ClusterIP") and draw(st.booleans())
    if headless:
        spec["clusterIP"] = "None"
        maybe(draw, spec, "ports", ports(False))
    else:
        draw(cluster_ips(spec))
        spec["ports"] = draw(ports(kind in ("NodePort", "LoadBalancer")))
    affinity = draw(st.sampled_from([None, "None", "ClientIP"]))
    if affinity:
        spec["sessionAffinity"] = affinity
    if affinity == "ClientIP" and draw(st.booleans()):
        spec["sessionAffinityConfig"] = {"clientIP": {"timeoutSeconds":
                                                      draw(st.integers(1, 86400))}}
    maybe(draw, spec, "externalIPs", st.lists(EXTERNAL, max_size=3))
    if kind in ("NodePort", "LoadBalancer") or spec.get("externalIPs"):
        maybe(draw, spec, "externalTrafficPolicy", st.sampled_from(["Cluster", "Local"]))
    if kind == "LoadBalancer":
        maybe(draw, spec, "allocateLoadBalancerNodePorts", st.booleans())
        maybe(draw, spec, "loadBalancerClass", QUALIFIED)
        maybe(draw, spec, "loadBalancerSourceRanges", st.lists(st.sampled_from(
            ["10.0.0.0/8", "192.168.0.0/16", " 198.51.100.0/24", "2001:db8::/32"]), max_size=3))
        if spec.get("externalTrafficPolicy") == "Local":
            maybe(draw, spec, "healthCheckNodePort", st.integers(30100, 30200))
    return spec


def errors_of(spec: dict[str, Any]) -> list[str]:
    decoder = Decoder()
    service = decoder.service({"metadata": {"name": "web", "namespace": "shop"}, "spec": spec},
                              Origin("t.yaml", 1))
    assert decoder.errors == []
    return [str(e) for e in validate_service(service)]


@settings(max_examples=300, deadline=None)
@given(valid_services())
def test_generated_valid_services_are_accepted(spec: dict[str, Any]) -> None:
    assert errors_of(spec) == []


BOTH = '"Cluster", "Local"'


def _fault(name: str, spec: dict[str, Any]) -> str:
    """Add one fault to a valid spec; return the one error it must give."""
    kind = spec.get("type") or "ClusterIP"
    if name == "affinity":
        spec["sessionAffinity"] = "Sticky"
        return ('spec.sessionAffinity: Unsupported value: "Sticky": supported values: '
                '"ClientIP", "None"')
    if name == "external-ip":
        spec["externalIPs"] = [*spec.get("externalIPs", []), "169.254.0.9"]
        i = len(spec["externalIPs"]) - 1
        return (f'spec.externalIPs[{i}]: Invalid value: "169.254.0.9": may not be in the '
                "link-local range (169.254.0.0/16, fe80::/10)")
    if name == "internal-policy":
        spec["internalTrafficPolicy"] = "Node"
        return f'spec.internalTrafficPolicy: Unsupported value: "Node": supported values: {BOTH}'
    if name == "distribution":
        spec["trafficDistribution"] = "Nearest"
        return ('spec.trafficDistribution: Unsupported value: "Nearest": supported values: '
                '"PreferClose", "PreferSameZone", "PreferSameNode"')
    if name == "policy":
        spec["ipFamilyPolicy"] = "DualStack"
        if kind == "ExternalName":
            return "spec.ipFamilyPolicy: Forbidden: may not be set for ExternalName services"
        return ('spec.ipFamilyPolicy: Unsupported value: "DualStack": supported values: '
                '"PreferDualStack", "RequireDualStack", "SingleStack"')
    assert name == "class"
    if kind == "LoadBalancer":
        spec["loadBalancerClass"] = "a/b/c/"
        return ('spec.loadBalancerClass: Invalid value: "a/b/c/": a qualified name must consist '
                "of alphanumeric characters, '-', '_' or '.', and must start and end with an "
                "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex "
                "used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an "
                "optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')")
    spec["loadBalancerClass"] = "example.com/lb"
    return "spec.loadBalancerClass: Forbidden: may only be used when `type` is 'LoadBalancer'"


@settings(max_examples=300, deadline=None)
@given(valid_services(), st.sampled_from(["affinity", "external-ip", "internal-policy",
                                          "distribution", "policy", "class"]))
def test_one_fault_gives_its_one_error(spec: dict[str, Any], fault: str) -> None:
    spec = copy.deepcopy(spec)
    expected = _fault(fault, spec)
    assert errors_of(spec) == [expected]
