"""The kubelet's hostname rules: which name, how it is cut, when there is a domain."""

from __future__ import annotations

import pytest

from stockade.errors import InputError
from stockade.hosts import pod_hostname_and_domain, truncate_hostname
from stockade.model.types import ObjectMeta, Pod, PodSpec


def pod(name: str, namespace: str = "ns", **spec: object) -> Pod:
    return Pod(ObjectMeta(name, namespace), PodSpec(**spec))  # type: ignore[arg-type]


def test_metadata_name_by_default_no_domain() -> None:
    names = pod_hostname_and_domain(pod("web-0"))
    assert (names.hostname, names.domain, names.fqdn) == ("web-0", "", "web-0")
    assert not names.truncated


def test_spec_hostname_overrides_name() -> None:
    assert pod_hostname_and_domain(pod("web-0", hostname="front")).hostname == "front"


def test_domain_only_with_subdomain_and_uses_cluster_domain() -> None:
    names = pod_hostname_and_domain(pod("web-0", hostname="h", subdomain="s"), "k8s.test")
    assert names.domain == "s.ns.svc.k8s.test"
    assert names.fqdn == "h.s.ns.svc.k8s.test"
    assert pod_hostname_and_domain(pod("web-0", hostname="h")).domain == ""


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a" * 63, "a" * 63),
        ("a" * 64, "a" * 63),
        ("a" * 62 + "-" + "b" * 7, "a" * 62),
        ("a" * 61 + "-." + "b", "a" * 61),
        ("a" * 60 + ".-." + "bbbb", "a" * 60),
        ("a-", "a-"),  # short names are never stripped
    ],
)
def test_truncate(name: str, expected: str) -> None:
    assert truncate_hostname(name, name) == expected


def test_truncation_leaving_nothing_is_an_error() -> None:
    name = "-" * 70
    with pytest.raises(InputError, match=f'hostname for pod "{name}" was invalid'):
        truncate_hostname(name, name)


def test_truncated_flag_and_requested_name() -> None:
    long = "x" * 62 + "-yyyy"
    names = pod_hostname_and_domain(pod(long))
    assert names.truncated
    assert names.requested == long
    assert names.hostname == "x" * 62
