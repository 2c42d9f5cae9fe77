"""A port name two containers of one pod declare: the API server accepts it with a warning
(``warningsForPodSpecAndMeta``, pkg/api/pod/warnings.go) and services and probes use the
first; stockade repeats the warning and resolves a named-port rule to the first too.

Expected strings are upstream's, written out (its warnings_test.go cases), not built from
the implementation."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = str(Path(__file__).resolve().parents[2])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)  # the benchmarks package lives at the repository root

from benchmarks.reference import ReferenceCluster  # noqa: E402

from stockade.engine import Engine  # noqa: E402
from stockade.model.build import RawObject, build_cluster  # noqa: E402
from stockade.model.types import Origin, Protocol  # noqa: E402


def container(name: str, *ports: tuple[str, int, str]) -> dict[str, Any]:
    return {"name": name, "image": "x",
            "ports": [{"name": n, "containerPort": p, "protocol": proto}
                      for n, p, proto in ports]}


def pod(*containers: dict[str, Any], init: tuple[dict[str, Any], ...] = (),
        name: str = "web", labels: dict[str, str] | None = None,
        ip: str = "10.0.0.1") -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": list(containers)}
    if init:
        spec["initContainers"] = list(init)
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "shop", "labels": labels or {}},
            "spec": spec, "status": {"podIP": ip, "podIPs": [{"ip": ip}]}}


def port_warnings(*objects: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The duplicate-port-name warnings, and the findings, for these objects."""
    result = build_cluster([RawObject(o, Origin("f.yaml", 1 + 10 * i))
                            for i, o in enumerate(objects)])
    return ([w for w in result.warnings if "duplicate port name" in w],
            [str(f) for f in result.findings])


def warning(path: str, name: str, other: str) -> str:
    return (f'{path}: duplicate port name "{name}" with {other}, services and probes that '
            f"select ports by name will use {other}")


def test_a_name_in_two_containers_is_warned_as_the_api_server_words_it() -> None:
    warnings, findings = port_warnings(pod(container("c0", ("http", 80, "TCP")),
                                           container("c1", ("http", 8080, "TCP"))))
    assert findings == []
    assert warnings == ["f.yaml:1: Pod shop/web: " + warning(
        "spec.containers[1].ports[0]", "http", "spec.containers[0].ports[0]")]


def test_every_later_port_names_the_first_whatever_its_protocol() -> None:
    warnings, _ = port_warnings(pod(
        container("c0", ("test", 80, "UDP")),
        container("c1", ("test1", 8090, "UDP"), ("test", 8092, "TCP")),
        container("c2", ("test", 9000, "SCTP"))))
    assert [w.split(": ", 2)[2] for w in warnings] == [
        warning("spec.containers[1].ports[1]", "test", "spec.containers[0].ports[0]"),
        warning("spec.containers[2].ports[0]", "test", "spec.containers[0].ports[0]")]


def test_init_containers_come_first() -> None:
    warnings, _ = port_warnings(pod(container("c", ("test", 8090, "TCP")),
                                    init=(container("i", ("test", 80, "UDP")),)))
    assert [w.split(": ", 2)[2] for w in warnings] == [
        warning("spec.containers[0].ports[0]", "test", "spec.initContainers[0].ports[0]")]


@pytest.mark.parametrize(("kind", "api_version", "wrap", "prefix"), [
    ("Deployment", "apps/v1",
     lambda t: {"selector": {"matchLabels": {"app": "w"}}, "template": t},
     "spec.template.spec"),
    ("CronJob", "batch/v1",
     lambda t: {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": t}}},
     "spec.jobTemplate.spec.template.spec"),
])
def test_workload_templates_are_warned_at_the_template_path(
        kind: str, api_version: str, wrap: Any, prefix: str) -> None:
    template = {"metadata": {"labels": {"app": "w"}}, "spec": {
        "restartPolicy": "OnFailure",
        "containers": [container("c0", ("m", 9090, "TCP")), container("c1", ("m", 9091, "TCP"))]}}
    warnings, findings = port_warnings({"apiVersion": api_version, "kind": kind,
                                        "metadata": {"name": "w", "namespace": "shop"},
                                        "spec": wrap(template)})
    assert findings == []
    assert warnings == [f"f.yaml:1: {kind} shop/w: " + warning(
        f"{prefix}.containers[1].ports[0]", "m", f"{prefix}.containers[0].ports[0]")]


def test_no_warning_for_different_names_or_one_container() -> None:
    assert port_warnings(pod(container("c0", ("http", 80, "TCP")),
                             container("c1", ("https", 443, "TCP"), ("", 8080, "TCP")),
                             container("c2", ("", 8081, "TCP")))) == ([], [])
    warnings, findings = port_warnings(pod(container("c0", ("http", 80, "TCP"),
                                                     ("http", 8080, "TCP"))))
    assert warnings == []  # the same name twice in one container is an error instead
    assert findings == ['f.yaml:1: Pod shop/web: spec.containers[0].ports[1].name: '
                        'Duplicate value: "http"']


def test_a_named_port_rule_allows_the_first_containers_port_only() -> None:
    policy = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
              "metadata": {"name": "http", "namespace": "shop"},
              "spec": {"podSelector": {"matchLabels": {"app": "web"}},
                       "ingress": [{"ports": [{"port": "http"}]}]}}
    objects = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}},
               pod(container("c0", ("http", 80, "TCP")),
                   container("c1", ("http", 8080, "TCP"), ("other", 9000, "TCP")),
                   labels={"app": "web"}),
               pod(container("c"), name="client", ip="10.0.0.2"), policy]
    result = build_cluster([RawObject(o, Origin("f.yaml", i + 1))
                            for i, o in enumerate(objects)])
    assert result.findings == []
    engine = Engine(result.cluster)
    ref = ReferenceCluster.from_dicts(objects)
    for port, allowed in ((80, True), (8080, False), (9000, False)):
        assert engine.allowed("shop/client", "shop/web", Protocol.TCP, port) is allowed
        assert ref.allowed("shop/client", "shop/web", "TCP", port) is allowed
