"""Pod, pod-template and Namespace validation: metadata, container ports, hostAliases.

Expected strings come from the hostAliases spec (section 2) and upstream's
``validateContainerPorts``; they are written out, not built from the implementation.
"""

from __future__ import annotations

from typing import Any

import pytest
from upstream_messages import DNS_LABEL_MSG, SUBDOMAIN_MSG

from stockade.model.decode import Decoder
from stockade.model.errors import api_server_message
from stockade.model.types import Origin
from stockade.model.validate import validate_namespace, validate_pod

IP_MSG = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"
RANGE_MSG = "must be between 1 and 65535, inclusive"


def pod_errors(spec: dict[str, Any], **meta: Any) -> list[str]:
    metadata: dict[str, Any] = {"name": "web", "namespace": "default"}
    metadata.update(meta)
    obj = {"metadata": {k: v for k, v in metadata.items() if v is not None}, "spec": spec}
    decoder = Decoder()
    pod = decoder.pod(obj, Origin("pod.yaml", 1))
    assert decoder.errors == []
    return [str(e) for e in validate_pod(pod)]


def containers(*ports: dict[str, Any]) -> dict[str, Any]:
    return {"containers": [{"name": "app", "image": "nginx", "ports": list(ports)}]}


def aliases(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"containers": [{"name": "app"}], "hostAliases": list(entries)}


def test_spec_examples_for_host_aliases_verbatim() -> None:
    found = pod_errors(aliases({"ip": "not-an-ip", "hostnames": ["ok.local"]},
                               {"ip": "10.0.0.1", "hostnames": ["Foo.Local"]}))
    assert found == [
        'spec.hostAliases[0].ip: Invalid value: "not-an-ip": must be a valid IP address, '
        "(e.g. 10.9.8.7 or 2001:db8::ffff)",
        "spec.hostAliases[1].hostnames[0]: Invalid value: \"Foo.Local\": a lowercase RFC 1123 "
        "subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
        "start and end with an alphanumeric character (e.g. 'example.com', regex used for "
        r"validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    ]


@pytest.mark.parametrize("ip", ["", "1.2.3", "10.0.0.256", "fe80::1%eth0", "10.0.0.0/8"])
def test_host_alias_ip_invalid(ip: str) -> None:
    assert pod_errors(aliases({"ip": ip})) == [
        f'spec.hostAliases[0].ip: Invalid value: "{ip}": {IP_MSG}']


@pytest.mark.parametrize("ip", ["010.1.2.3", "::ffff:1.2.3.4", "2001:DB8::1", "127.0.0.1"])
def test_host_alias_ip_accepted_without_strict_validation(ip: str) -> None:
    assert pod_errors(aliases({"ip": ip, "hostnames": ["a", "b.c"]})) == []


@pytest.mark.parametrize("name", ["example.com.", "-a", "a_b", "", "UPPER"])
def test_host_alias_hostname_regex(name: str) -> None:
    assert pod_errors(aliases({"ip": "1.2.3.4", "hostnames": ["fine", name]})) == [
        f'spec.hostAliases[0].hostnames[1]: Invalid value: "{name}": {SUBDOMAIN_MSG}']


def test_host_alias_hostname_length_is_total_not_per_label() -> None:
    label64 = "a" * 64
    assert pod_errors(aliases({"ip": "1.2.3.4", "hostnames": [label64]})) == []
    long_name = ".".join(["a" * 63] * 4)  # 255 characters
    assert pod_errors(aliases({"ip": "1.2.3.4", "hostnames": [long_name]})) == [
        f'spec.hostAliases[0].hostnames[0]: Invalid value: "{long_name}": must be no more '
        "than 253 characters"]


def test_container_port_rules_in_upstream_order() -> None:
    found = pod_errors(containers(
        {"containerPort": 80, "name": "http"},
        {"containerPort": 70000, "name": "Web_1", "protocol": "tcp"},
        {"containerPort": 0},
        {"containerPort": 81, "name": "http"},
    ))
    p = "spec.containers[0].ports"
    assert found == [
        f"{p}[1].name: Invalid value: \"Web_1\": must contain only alpha-numeric characters "
        "(a-z, 0-9), and hyphens (-)",
        f"{p}[1].containerPort: Invalid value: 70000: {RANGE_MSG}",
        f'{p}[1].protocol: Unsupported value: "tcp": supported values: "SCTP", "TCP", "UDP"',
        f"{p}[2].containerPort: Required value",
        f'{p}[3].name: Duplicate value: "http"',
    ]


def test_same_port_name_in_two_containers_is_fine() -> None:
    spec = {"containers": [
        {"name": "a", "ports": [{"containerPort": 80, "name": "http"}]},
        {"name": "b", "ports": [{"containerPort": 81, "name": "http"}]},
    ]}
    assert pod_errors(spec) == []


def test_init_container_ports_come_after_containers_and_before_host_aliases() -> None:
    spec = {
        "hostAliases": [{"ip": "x"}],
        "initContainers": [{"name": "init", "ports": [{"containerPort": 99999}]}],
        "containers": [{"name": "app", "ports": [{"containerPort": -1}]}],
    }
    assert pod_errors(spec) == [
        f"spec.containers[0].ports[0].containerPort: Invalid value: -1: {RANGE_MSG}",
        f"spec.initContainers[0].ports[0].containerPort: Invalid value: 99999: {RANGE_MSG}",
        f'spec.hostAliases[0].ip: Invalid value: "x": {IP_MSG}',
    ]


def test_pod_metadata_is_validated_first() -> None:
    found = pod_errors(aliases({"ip": "x"}), name="Web", namespace="a.b",
                       labels={"app": "web app"})
    assert [line.split(": ", 1)[0] for line in found] == [
        "metadata.name", "metadata.namespace", "metadata.labels", "spec.hostAliases[0].ip"]
    assert found[0] == f'metadata.name: Invalid value: "Web": {SUBDOMAIN_MSG}'
    assert found[1] == 'metadata.namespace: Invalid value: "a.b": must not contain dots'


def test_pod_whole_object_message() -> None:
    decoder = Decoder()
    pod = decoder.pod({"metadata": {"name": "p", "namespace": "d"},
                       "spec": aliases({"ip": "1.2.3.4", "hostnames": ["A"]})},
                      Origin("p.yaml"))
    assert api_server_message("Pod", "", "p", validate_pod(pod)) == (
        f'Pod "p" is invalid: spec.hostAliases[0].hostnames[0]: Invalid value: "A": '
        f"{SUBDOMAIN_MSG}")


DEPLOYMENT: dict[str, Any] = {
    "kind": "Deployment",
    "metadata": {"name": "Web_App", "namespace": "default"},
    "spec": {
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
            "metadata": {"labels": {"app": "web", "tier": "front end"}},
            "spec": {"containers": [{"name": "app", "ports": [{"containerPort": 0}]}],
                     "hostAliases": [{"ip": "10.0.0.1", "hostnames": ["db_host"]}]},
        },
    },
}


def test_workload_template_paths_and_no_name_check() -> None:
    decoder = Decoder()
    workload = decoder.workload(DEPLOYMENT, Origin("d.yaml", 1))
    found = [str(e) for e in validate_pod(workload.template, prefix="spec.template.spec")]
    assert found == [
        'spec.template.labels: Invalid value: "front end": a valid label must be an empty '
        "string or consist of alphanumeric characters, '-', '_' or '.', and must start and "
        "end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', "
        "regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
        "spec.template.spec.containers[0].ports[0].containerPort: Required value",
        f'spec.template.spec.hostAliases[0].hostnames[0]: Invalid value: "db_host": '
        f"{SUBDOMAIN_MSG}",
    ]


def test_cronjob_template_prefix() -> None:
    cronjob = {"kind": "CronJob", "metadata": {"name": "nightly", "namespace": "ops"},
               "spec": {"jobTemplate": {"spec": {"template": {"spec": {
                   "containers": [{"name": "c"}], "hostAliases": [{"ip": "300.1.1.1"}]}}}}}}
    workload = Decoder().workload(cronjob, Origin("c.yaml"))
    prefix = "spec.jobTemplate.spec.template.spec"
    assert [str(e) for e in validate_pod(workload.template, prefix=prefix)] == [
        f'{prefix}.hostAliases[0].ip: Invalid value: "300.1.1.1": {IP_MSG}']


def namespace_errors(**meta: Any) -> list[str]:
    decoder = Decoder()
    ns = decoder.namespace({"metadata": meta}, Origin("ns.yaml"))
    return [str(e) for e in validate_namespace(ns)]


@pytest.mark.parametrize(("name", "expected"), [
    ("team-a", []),
    ("", ["metadata.name: Required value: name or generateName is required"]),
    ("team.a", ['metadata.name: Invalid value: "team.a": must not contain dots']),
    ("Team", [f'metadata.name: Invalid value: "Team": {DNS_LABEL_MSG}']),
    ("t" * 64, [f'metadata.name: Invalid value: "{"t" * 64}": must be no more than 63 '
                "characters"]),
])
def test_namespace_name_is_a_dns_label(name: str, expected: list[str]) -> None:
    assert namespace_errors(name=name) == expected


def test_namespace_labels_and_generate_name() -> None:
    assert namespace_errors(generateName="team-") == []
    assert namespace_errors(name="ok", labels={"a/b/c": "v"}) == [
        'metadata.labels: Invalid value: "a/b/c": a valid label key must consist of '
        "alphanumeric characters, '-', '_' or '.', and must start and end with an "
        "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
        "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS "
        "subdomain prefix and '/' (e.g. 'example.com/MyName')"]
