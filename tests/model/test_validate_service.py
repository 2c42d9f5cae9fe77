"""Service validation: ``ValidateService`` / ``validateServicePort`` of
pkg/apis/core/validation for the fields stockade reads, after defaulting. Expected strings
are written out from upstream's messages, not built from the implementation."""

from __future__ import annotations

from typing import Any

import pytest

from stockade.model.decode import Decoder
from stockade.model.types import Origin
from stockade.model.validate import validate_service

RANGE = "must be between 1 and 65535, inclusive"
DNS1035 = ("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start "
           "with an alphabetic character, and end with an alphanumeric character (e.g. "
           "'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')")


def errors_of(spec: dict[str, Any], name: str = "web") -> list[str]:
    decoder = Decoder()
    service = decoder.service({"metadata": {"name": name, "namespace": "shop"}, "spec": spec},
                              Origin("t.yaml", 1))
    assert decoder.errors == []
    return [str(e) for e in validate_service(service)]


CASES: list[tuple[str, dict[str, Any], list[str]]] = [
    ("valid", {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": "http"}]}, []),
    ("valid-two-named", {"ports": [{"name": "http", "port": 80},
                                   {"name": "dns", "port": 80, "protocol": "UDP"}]}, []),
    ("no-ports", {"selector": {"app": "web"}}, ["spec.ports: Required value"]),
    ("headless-without-ports", {"clusterIP": "None"}, []),
    ("port-zero", {"ports": [{"port": 0}]},
     [f"spec.ports[0].port: Invalid value: 0: {RANGE}",
      f"spec.ports[0].targetPort: Invalid value: 0: {RANGE}"]),
    ("port-missing", {"ports": [{"targetPort": 8080}]},
     [f"spec.ports[0].port: Invalid value: 0: {RANGE}"]),
    ("target-zero-is-the-port", {"ports": [{"port": 80, "targetPort": 0}]}, []),
    ("target-out-of-range", {"ports": [{"port": 80, "targetPort": 70000}]},
     [f"spec.ports[0].targetPort: Invalid value: 70000: {RANGE}"]),
    ("target-bad-name", {"ports": [{"port": 80, "targetPort": "Http"}]},
     ['spec.ports[0].targetPort: Invalid value: "Http": must contain only alpha-numeric '
      "characters (a-z, 0-9), and hyphens (-)"]),
    ("protocol-case", {"ports": [{"port": 80, "protocol": "tcp"}]},
     ['spec.ports[0].protocol: Unsupported value: "tcp": supported values: "SCTP", "TCP", '
      '"UDP"']),
    ("names-required-with-two-ports", {"ports": [{"port": 80}, {"port": 443, "name": "https"}]},
     ["spec.ports[0].name: Required value"]),
    ("name-is-a-label", {"ports": [{"port": 80, "name": "web.http"}]},
     ['spec.ports[0].name: Invalid value: "web.http": must not contain dots']),
    ("duplicate-name-and-pair", {"ports": [{"port": 80, "name": "a"}, {"port": 80, "name": "a"}]},
     ['spec.ports[1].name: Duplicate value: "a"',
      'spec.ports[1]: Duplicate value: core.ServicePort{Name:"", Protocol:"TCP", '
      'AppProtocol:(*string)(nil), Port:80, TargetPort:intstr.IntOrString{Type:0, IntVal:0, '
      'StrVal:""}, NodePort:0}']),
    ("type", {"type": "clusterip", "ports": [{"port": 80}]},
     ['spec.type: Unsupported value: "clusterip": supported values: "ClusterIP", '
      '"ExternalName", "LoadBalancer", "NodePort"']),
    ("selector-labels", {"selector": {"app": "-web"}, "ports": [{"port": 80}]},
     ['spec.selector: Invalid value: "-web": a valid label must be an empty string or consist '
      "of alphanumeric characters, '-', '_' or '.', and must start and end with an "
      "alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for "
      "validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"]),
    ("external-name", {"type": "ExternalName", "externalName": "db.example.com."}, []),
    ("external-name-missing", {"type": "ExternalName"}, ["spec.externalName: Required value"]),
    ("external-name-with-cluster-ip", {"type": "ExternalName", "externalName": "db.example.com",
                                       "clusterIP": "10.96.0.5"},
     ["spec.clusterIPs: Forbidden: may not be set for ExternalName services"]),
    ("headless-node-port", {"type": "NodePort", "clusterIP": "None", "ports": [{"port": 80}]},
     ['spec.clusterIPs[0]: Invalid value: "None": may not be set to \'None\' for NodePort '
      "services"]),
]


@pytest.mark.parametrize(("case", "spec", "expected"), CASES, ids=[c[0] for c in CASES])
def test_service_rules(case: str, spec: dict[str, Any], expected: list[str]) -> None:
    assert errors_of(spec) == expected


def test_the_name_is_a_dns_1035_label() -> None:
    assert errors_of({"ports": [{"port": 80}]}, name="1web") == [
        f'metadata.name: Invalid value: "1web": {DNS1035}']
