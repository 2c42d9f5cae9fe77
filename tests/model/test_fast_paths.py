"""Differential property tests: each fast path of decoding and validation agrees with the
general code it short-cuts, on well-formed and on malformed input.

A fast path handles the usual case and hands anything else to the general code; it must
never return something the general code would not (a value accepted that it refuses, a
field decoded differently, an error lost or reordered). Inputs are generated to land on
both sides of every fast path's conditions: right and wrong types, absent and rare
fields, values just inside and outside each limit, non-ASCII text.
"""

from __future__ import annotations

import contextlib
import ipaddress
from collections.abc import Iterator
from typing import Any
from unittest import mock

from hypothesis import example, given, settings
from hypothesis import strategies as st

from stockade.model import decode, plain
from stockade.model.build import RawObject, decode_object
from stockade.model.decode import Decoder
from stockade.model.errors import invalid
from stockade.model.netparse import is_ip, parse_ip
from stockade.model.types import Container, ContainerPort, NetworkPolicyPort, Origin
from stockade.model.validate import names, network_policy, pod
from stockade.model.validate.addresses import IP_MESSAGE

ORIGIN = Origin("f.yaml", 3)

# --- values of every JSON type, biased towards the shapes the fast paths accept ---------

WORD = st.one_of(st.sampled_from(["", "a", "web", "x-1", "TCP", "UDP", "SCTP", "tcp", "http",
                                  "node-1", "10.0.0.1", "é", "a--b", "-a", "1"]),
                 st.text(max_size=6))
ODD = st.one_of(st.none(), st.booleans(), st.integers(-2, 70000), st.floats(allow_nan=False),
                st.lists(st.integers(), max_size=2), st.dictionaries(WORD, WORD, max_size=2))
STRINGISH = st.one_of(WORD, WORD, WORD, ODD)


def _maybe(fields: dict[str, st.SearchStrategy[Any]], extra: list[str]
           ) -> st.SearchStrategy[dict[str, Any]]:
    """A dict with some of ``fields`` (each from its strategy) and sometimes one of
    ``extra`` (rare or unknown fields) with an arbitrary value."""
    rare = st.dictionaries(st.sampled_from(extra), st.one_of(ODD, WORD), max_size=1)
    return st.tuples(st.fixed_dictionaries({}, optional=fields), rare).map(
        lambda parts: {**parts[0], **parts[1]})


LABELS = st.one_of(st.dictionaries(WORD, WORD, max_size=4),
                   st.dictionaries(st.one_of(WORD, st.integers(0, 3)), STRINGISH, max_size=3),
                   ODD)
META = st.one_of(_maybe({"name": STRINGISH, "namespace": STRINGISH, "labels": LABELS},
                        ["generateName", "ownerReferences", "annotations", "uid"]), ODD)
PORT = st.one_of(_maybe({"containerPort": st.one_of(st.integers(-1, 70000), ODD),
                         "protocol": STRINGISH, "name": STRINGISH}, ["hostPort", "hostIP"]),
                 ODD)
CONTAINER = st.one_of(_maybe({"name": STRINGISH, "image": STRINGISH,
                              "ports": st.one_of(st.lists(PORT, max_size=3), ODD)},
                             ["command", "args", "volumeMounts", "env", "envFrom",
                              "workingDir", "securityContext", "resources",
                              "restartPolicy"]), ODD)
SPEC = st.one_of(_maybe({"containers": st.one_of(st.lists(CONTAINER, max_size=3), ODD),
                         "nodeName": STRINGISH},
                        ["initContainers", "hostNetwork", "hostAliases", "hostname",
                         "subdomain", "setHostnameAsFQDN", "securityContext",
                         "restartPolicy"]), ODD)
IP = st.one_of(st.sampled_from(["10.0.0.1", "010.0.0.1", "256.1.1.1", "1.2.3", "::1",
                                "fe80::1%eth0", "10.0.0.1\n", "1.2.3.04", ""]),
               st.ip_addresses().map(str), WORD)
STATUS = st.one_of(_maybe({"podIP": IP, "podIPs": st.lists(
    st.one_of(st.fixed_dictionaries({"ip": IP}), ODD), max_size=2), "hostIP": IP,
    "phase": WORD}, ["hostIPs"]), ODD)
SELECTOR = st.one_of(
    st.just({}),
    st.fixed_dictionaries({"matchLabels": LABELS}),
    _maybe({"matchLabels": LABELS, "matchExpressions": st.one_of(st.lists(
        _maybe({"key": STRINGISH, "operator": st.sampled_from(["In", "Exists", "x"]),
                "values": st.lists(STRINGISH, max_size=2)}, ["unknown"]), max_size=2), ODD)},
        ["unknown"]),
    ODD)


@contextlib.contextmanager
def general_decoding() -> Iterator[None]:
    """Decoder with its fast paths turned off: every value goes the general way."""
    with (mock.patch.object(decode, "plain_meta", lambda _value: None),
          mock.patch.object(decode, "plain_pod_spec", lambda _value: None),
          mock.patch.object(decode, "plain_selector", lambda _value: None)):
        yield


def _both(obj: dict[str, Any]) -> tuple[tuple[Any, Any], tuple[Any, Any]]:
    fast = decode_object(RawObject(obj, ORIGIN))
    with general_decoding():
        general = decode_object(RawObject(obj, ORIGIN))
    return fast, general


@settings(max_examples=400, deadline=None)
@given(META, SPEC, STATUS)
@example({"name": "a", "namespace": "b", "labels": {"k": "v"}},
         {"containers": [{"name": "c", "ports": [{"containerPort": 80}]}]},
         {"podIP": "10.0.0.1", "podIPs": [{"ip": "10.0.0.1"}]})
@example({"name": "a", "labels": {"k": 1}}, {"containers": [{"ports": [{"protocol": ""}]}]},
         None)
def test_pods_decode_and_validate_as_without_fast_paths(meta: Any, spec: Any,
                                                        status: Any) -> None:
    obj = {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec,
           "status": status}
    fast, general = _both(obj)
    assert fast == general


@settings(max_examples=300, deadline=None)
@given(META, SELECTOR, st.lists(SELECTOR, max_size=2))
def test_policies_decode_and_validate_as_without_fast_paths(meta: Any, selector: Any,
                                                            peers: list[Any]) -> None:
    obj = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": meta,
           "spec": {"podSelector": selector,
                    "ingress": [{"from": [{"podSelector": s} for s in peers]}]}}
    fast, general = _both(obj)
    assert fast == general


@settings(max_examples=300, deadline=None)
@given(META)
def test_namespaces_decode_and_validate_as_without_fast_paths(meta: Any) -> None:
    fast, general = _both({"apiVersion": "v1", "kind": "Namespace", "metadata": meta})
    assert fast == general


def test_the_fast_paths_are_taken() -> None:
    """The usual objects are decoded by the fast paths (else the tests above would compare
    the general code with itself)."""
    meta = {"name": "a", "namespace": "n", "labels": {"k": "v"}}
    spec = {"containers": [{"name": "c", "image": "i", "ports": [{"containerPort": 80}]}],
            "nodeName": "node-1"}
    assert plain.plain_meta(meta) == Decoder().object_meta(meta)
    assert plain.plain_pod_spec(spec) == Decoder().pod_spec(spec, "spec")
    assert plain.plain_selector({}) == plain.plain_selector({"matchLabels": {}})
    assert plain.plain_selector({"matchLabels": meta["labels"]}) is not None
    with general_decoding():
        assert plain.plain_meta(meta) == Decoder().object_meta(meta)
        assert plain.plain_pod_spec(spec) == Decoder().pod_spec(spec, "spec")


# --- validation ---------------------------------------------------------------------------

NAMES = st.one_of(
    st.from_regex(r"\A[a-z0-9]([-a-z0-9.]{0,70}[a-z0-9])?\Z"),
    st.integers(60, 260).map(lambda n: "a" * n),
    st.integers(60, 260).map(lambda n: "a." * (n // 2) + "b"),
    st.text(max_size=12), st.text(alphabet="aé.-1", max_size=70))


@settings(max_examples=500)
@given(NAMES)
@example("a" * 63)
@example("a" * 64)
@example("é" * 40)
@example("a" * 253)
def test_dns_name_checks_agree_with_their_full_checks(value: str) -> None:
    assert names.is_dns1123_subdomain(value) == names._dns1123_subdomain_errors(value)
    assert names.is_dns1123_label(value) == names._dns1123_label_errors(value)
    assert names.is_dns1035_label(value) == names._dns1035_label_errors(value)


CONTAINER_PORTS = st.lists(st.builds(
    ContainerPort, st.one_of(st.integers(-1, 70000), st.sampled_from([0, 1, 65535, 65536])),
    st.sampled_from(["TCP", "UDP", "SCTP", "", "tcp", "ICMP"]),
    st.one_of(st.sampled_from(["", "http", "http", "a--b", "-a", "1", "x" * 16]),
              st.text(max_size=4))), max_size=4)


@settings(max_examples=500)
@given(CONTAINER_PORTS)
def test_plain_ports_are_those_without_errors(ports: list[ContainerPort]) -> None:
    container = Container("c", ports=tuple(ports))
    assert pod._plain_ports(container.ports) == (not pod._check_container(container, "p"))


POLICY_PORTS = st.builds(
    NetworkPolicyPort, st.sampled_from(["TCP", "UDP", "SCTP", "", "tcp"]),
    st.one_of(st.none(), st.integers(-1, 70000), st.sampled_from([0, 65535, 65536]),
              st.sampled_from(["http", "", "a--b"]), st.booleans()),
    st.one_of(st.none(), st.integers(-1, 70000)))


@settings(max_examples=500)
@given(POLICY_PORTS)
def test_policy_port_check_agrees_with_the_full_check(port: NetworkPolicyPort) -> None:
    assert (network_policy.validate_policy_port(port, "p")
            == network_policy._policy_port_errors(port, "p"))


OCTETS = st.one_of(st.integers(0, 300).map(str), st.sampled_from(["00", "01", "001", "0255",
                                                                    "", "a", "١"]))


@settings(max_examples=500)
@given(st.one_of(st.lists(OCTETS, min_size=3, max_size=5).map(".".join), IP,
                 st.ip_addresses().map(str)))
@example("1.2.3.4\n")
@example("٣.2.3.4")
def test_is_ip_agrees_with_parse_ip(text: str) -> None:
    assert is_ip(text) == (parse_ip(text) is not None)
    if is_ip(text) and text.count(".") == 3 and ":" not in text and text.isascii():
        assert parse_ip(text) == ipaddress.IPv4Address(
            ".".join(str(int(part)) for part in text.split(".")))


@settings(max_examples=300)
@given(st.lists(IP, max_size=3), st.one_of(st.none(), IP), st.sampled_from(["pod", "host"]))
@example(["10.0.0.1"], "10.0.0.1", "pod")
@example([], "10.0.0.1", "host")
@example(["10.0.0.2"], "10.0.0.1", "pod")
@example(["1.2.3"], "1.2.3", "pod")
@example(["10.0.0.1", "x"], "256.0.0.1", "host")
def test_status_addresses_are_each_checked_once_in_order(listed: list[str],
                                                        single: str | None,
                                                        which: str) -> None:
    """``status.podIPs``/``podIP`` (``hostIPs``/``hostIP``): every address the sloppy
    parser refuses is an error at its own path, in order; the addresses are kept once
    each, the single field's first."""
    plural, one = f"{which}IPs", f"{which}IP"
    status: dict[str, Any] = {plural: [{"ip": text} for text in listed]}
    if single is not None:
        status[one] = single
    decoder = Decoder()
    ips = decoder._ips(status, plural, one)
    expected = [invalid(f"status.{plural}[{i}].ip", text, IP_MESSAGE)
                for i, text in enumerate(listed) if text and parse_ip(text) is None]
    if single and parse_ip(single) is None:
        expected.append(invalid(f"status.{one}", single, IP_MESSAGE))
    assert decoder.errors == expected
    kept = list(dict.fromkeys(text for text in listed if text))
    if single and single not in kept:
        kept.insert(0, single)
    assert ips == tuple(kept)
