"""Property tests: generated valid policies validate clean; single faults give exactly
their one error, whatever surrounds them."""

from __future__ import annotations

import ipaddress
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from stockade.model.decode import Decoder
from stockade.model.types import Origin
from stockade.model.validate import validate_network_policy

DNS_LABEL = st.from_regex(r"\A[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?\Z")
SUBDOMAIN = st.lists(DNS_LABEL, min_size=1, max_size=3).map(".".join)
KEY_NAME = st.from_regex(r"\A[A-Za-z0-9]([-A-Za-z0-9_.]{0,30}[A-Za-z0-9])?\Z")
LABEL_KEY = st.one_of(KEY_NAME, st.tuples(SUBDOMAIN, KEY_NAME).map("/".join))
LABEL_VALUE = st.one_of(st.just(""), KEY_NAME)
PORT_NAME = st.from_regex(r"\A[a-z]([a-z0-9]|-(?=[a-z0-9])){0,14}\Z").filter(
    lambda s: len(s) <= 15 and not s.endswith("-"))


@st.composite
def selectors(draw: st.DrawFn) -> dict[str, Any]:
    labels = draw(st.dictionaries(LABEL_KEY, LABEL_VALUE, max_size=3))
    expressions = []
    for _ in range(draw(st.integers(0, 2))):
        operator = draw(st.sampled_from(["In", "NotIn", "Exists", "DoesNotExist"]))
        expr: dict[str, Any] = {"key": draw(LABEL_KEY), "operator": operator}
        if operator in ("In", "NotIn"):
            expr["values"] = draw(st.lists(LABEL_VALUE, min_size=1, max_size=3))
        expressions.append(expr)
    return {"matchLabels": labels, "matchExpressions": expressions}


@st.composite
def ip_blocks(draw: st.DrawFn) -> dict[str, Any]:
    v6 = draw(st.booleans())
    bits = 128 if v6 else 32
    prefix = draw(st.integers(0, bits - 1))
    address = draw(st.integers(0, 2**bits - 1))
    network = ipaddress.ip_network(
        (ipaddress.IPv6Address(address) if v6 else ipaddress.IPv4Address(address), prefix),
        strict=False)
    excepts = []
    for _ in range(draw(st.integers(0, 3))):
        sub_prefix = draw(st.integers(prefix + 1, bits))
        offset = draw(st.integers(0, network.num_addresses - 1))
        sub = ipaddress.ip_network((network.network_address + offset, sub_prefix),
                                   strict=False)
        excepts.append(str(sub))
    # Host bits in the cidr are accepted (strict validation is off by default).
    cidr_text = f"{network.network_address + draw(st.integers(0, 1))}/{prefix}"
    return {"cidr": cidr_text, "except": excepts}


@st.composite
def peers(draw: st.DrawFn) -> dict[str, Any]:
    if draw(st.booleans()):
        return {"ipBlock": draw(ip_blocks())}
    peer: dict[str, Any] = {}
    while not peer:
        if draw(st.booleans()):
            peer["podSelector"] = draw(selectors())
        if draw(st.booleans()):
            peer["namespaceSelector"] = draw(selectors())
    return peer


@st.composite
def ports(draw: st.DrawFn) -> dict[str, Any]:
    port: dict[str, Any] = {"protocol": draw(st.sampled_from(["TCP", "UDP", "SCTP"]))}
    kind = draw(st.sampled_from(["none", "number", "range", "name"]))
    if kind in ("number", "range"):
        port["port"] = draw(st.integers(1, 65535))
        if kind == "range":
            port["endPort"] = draw(st.integers(port["port"], 65535))
    elif kind == "name":
        port["port"] = draw(PORT_NAME)
    return port


RULES = st.lists(st.fixed_dictionaries({}, optional={"ports": st.lists(ports(), max_size=3),
                                                     "peers": st.lists(peers(), max_size=3)}),
                 max_size=3)


@st.composite
def policies(draw: st.DrawFn) -> dict[str, Any]:
    ingress = [{"ports": r.get("ports", []), "from": r.get("peers", [])} for r in draw(RULES)]
    egress = [{"ports": r.get("ports", []), "to": r.get("peers", [])} for r in draw(RULES)]
    spec: dict[str, Any] = {"podSelector": draw(selectors()), "ingress": ingress,
                            "egress": egress}
    types = draw(st.lists(st.sampled_from(["Ingress", "Egress"]), max_size=2))
    if types:
        spec["policyTypes"] = types
    return {"metadata": {"name": draw(SUBDOMAIN), "namespace": draw(DNS_LABEL),
                         "labels": draw(st.dictionaries(LABEL_KEY, LABEL_VALUE, max_size=3))},
            "spec": spec}


def validate(obj: dict[str, Any]) -> list[str]:
    decoder = Decoder()
    policy = decoder.network_policy(obj, Origin("gen.yaml", 1))
    assert decoder.errors == []
    return [str(e) for e in validate_network_policy(policy)]


@settings(max_examples=200, deadline=None)
@given(policies())
def test_any_generated_valid_policy_validates_clean(obj: dict[str, Any]) -> None:
    assert validate(obj) == []


OUT_OF_RANGE = st.one_of(st.integers(-(2**31), 0), st.integers(65536, 2**31 - 1))


@settings(max_examples=100, deadline=None)
@given(policies(), OUT_OF_RANGE)
def test_port_outside_range_gives_exactly_the_range_error(
    obj: dict[str, Any], number: int
) -> None:
    obj["spec"]["ingress"].insert(0, {"ports": [{"port": number}]})
    assert validate(obj) == [
        f"spec.ingress[0].ports[0].port: Invalid value: {number}: "
        "must be between 1 and 65535, inclusive"]


@settings(max_examples=100, deadline=None)
@given(policies(), st.integers(2, 65535).flatmap(
    lambda p: st.tuples(st.just(p), st.integers(1, p - 1))))
def test_descending_range_gives_exactly_one_error(
    obj: dict[str, Any], pair: tuple[int, int]
) -> None:
    port, end = pair
    obj["spec"]["egress"].append({"ports": [{"port": port, "endPort": end}]})
    index = len(obj["spec"]["egress"]) - 1
    assert validate(obj) == [
        f"spec.egress[{index}].ports[0].endPort: Invalid value: {end}: "
        "must be greater than or equal to `port`"]


@settings(max_examples=200, deadline=None)
@given(ip_blocks(), st.integers(0, 3))
def test_except_not_narrower_than_cidr_is_rejected(block: dict[str, Any], widen: int) -> None:
    cidr = ipaddress.ip_network(block["cidr"], strict=False)
    wider = cidr.supernet(prefixlen_diff=min(widen, cidr.prefixlen))
    obj = {"metadata": {"name": "p", "namespace": "d"},
           "spec": {"podSelector": {}, "ingress": [{"from": [
               {"ipBlock": {"cidr": block["cidr"], "except": [*block["except"], str(wider)]}}
           ]}]}}
    index = len(block["except"])
    assert validate(obj) == [
        f'spec.ingress[0].from[0].ipBlock.except[{index}]: Invalid value: "{wider}": '
        "must be a strict subset of `cidr`"]
