"""Workloads as endpoints: each kind's template, and which Pods a workload represents."""

from __future__ import annotations

import pytest

from stockade.engine import Engine
from stockade.model.build import build_cluster
from stockade.model.types import Cluster, Protocol
from stockade.model.workloads import choose_endpoints, effective_selector, with_endpoints
from stockade.sources.files import parse_text

TEMPLATE = """    metadata:
      labels: {app: x, role: server}
    spec:
      containers:
      - name: c
        image: busybox
        ports:
        - {name: http, containerPort: 8080}
"""


def indent(text: str, spaces: int) -> str:
    return "".join(" " * spaces + line if line.strip() else line
                   for line in text.splitlines(keepends=True))


WORKLOADS = {
    "Deployment": ("apps/v1", "  selector: {matchLabels: {app: x}}\n  template:\n" + TEMPLATE),
    "ReplicaSet": ("apps/v1", "  selector: {matchLabels: {app: x}}\n  template:\n" + TEMPLATE),
    "StatefulSet": ("apps/v1", "  serviceName: x\n  selector: {matchLabels: {app: x}}\n"
                    "  template:\n" + TEMPLATE),
    "DaemonSet": ("apps/v1", "  selector: {matchLabels: {app: x}}\n  template:\n" + TEMPLATE),
    "Job": ("batch/v1", "  template:\n" + TEMPLATE),
    "CronJob": ("batch/v1", "  schedule: '0 * * * *'\n  jobTemplate:\n    spec:\n"
                "      template:\n" + indent(TEMPLATE, 4)),
    "ReplicationController": ("v1", "  selector: {app: x}\n  template:\n" + TEMPLATE),
}

POLICY = """---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: only-http, namespace: ns}
spec:
  podSelector: {matchLabels: {role: server}}
  ingress:
  - ports: [{port: http}]
"""


def workload_yaml(kind: str, name: str = "x") -> str:
    version, spec = WORKLOADS[kind]
    return (f"apiVersion: {version}\nkind: {kind}\nmetadata: {{name: {name}, namespace: ns}}\n"
            f"spec:\n{spec}")


def cluster_of(text: str) -> Cluster:
    result = build_cluster(parse_text(text, "test.yaml"))
    assert not result.findings, [str(f) for f in result.findings]
    return result.cluster


def pod_yaml(name: str, labels: str = "{app: x, role: server}", owners: str = "",
             namespace: str = "ns", ip: str = "") -> str:
    owner_block = f"  ownerReferences: {owners}\n" if owners else ""
    status = f"status: {{podIP: {ip}}}\n" if ip else ""
    return (f"---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n"
            f"  namespace: {namespace}\n  labels: {labels}\n{owner_block}spec:\n"
            "  containers:\n  - name: c\n    image: busybox\n    ports:\n"
            f"    - {{name: http, containerPort: 8080}}\n{status}")


@pytest.mark.parametrize("kind", sorted(WORKLOADS))
def test_each_workload_kind_is_an_endpoint_with_its_template(kind: str) -> None:
    cluster = cluster_of(workload_yaml(kind) + POLICY)
    endpoints = choose_endpoints(cluster)
    assert [p.key for p in endpoints.pods] == [f"ns/{kind}/x"]
    template = endpoints.pods[0]
    # A Job's pods carry its name, as the API server labels them (generateSelector).
    named = {"job-name": "x", "batch.kubernetes.io/job-name": "x"} if kind == "Job" else {}
    assert template.labels == {"app": "x", "role": "server", **named}
    assert [(p.name, p.container_port) for p in template.container_ports()] == [("http", 8080)]
    assert template.ips == ()
    # The policy's named port resolves on the template: 8080 allowed, 8081 not.
    engine = Engine(with_endpoints(cluster, endpoints))
    key = f"ns/{kind}/x"
    assert engine.allowed("192.0.2.1", key, Protocol.TCP, 8080)
    assert not engine.allowed("192.0.2.1", key, Protocol.TCP, 8081)


def test_cronjob_template_comes_from_the_job_template_path() -> None:
    text = workload_yaml("CronJob").replace("role: server", "role: batch")
    cluster = cluster_of(text)
    (workload,) = cluster.workloads
    assert workload.template.labels == {"app": "x", "role": "batch"}
    assert effective_selector(workload) is not None


def test_cronjob_template_errors_name_the_job_template_path() -> None:
    text = workload_yaml("CronJob").replace("containerPort: 8080", "containerPort: 70000")
    result = build_cluster(parse_text(text, "cron.yaml"))
    assert any("spec.jobTemplate.spec.template.spec.containers[0].ports[0].containerPort"
               in str(f) for f in result.findings)


OWNED_CHAIN = (workload_yaml("Deployment", "web")
               + "---\n" + workload_yaml("ReplicaSet", "web-5d4f8").replace(
                   "namespace: ns}", "namespace: ns, ownerReferences: "
                   "[{kind: Deployment, name: web, controller: true}]}")
               + pod_yaml("web-5d4f8-abcde", owners="[{kind: ReplicaSet, name: web-5d4f8, "
                          "controller: true}]", ip="10.0.0.5")
               + pod_yaml("web-5d4f8-fghij", owners="[{kind: ReplicaSet, name: web-5d4f8, "
                          "controller: true}]", ip="10.0.0.6"))


def test_pods_owned_through_a_replicaset_stand_for_the_deployment() -> None:
    """The real pods, with their IPs, are the endpoints; the Deployment's template is not
    (it has no IP, so ipBlocks would misjudge it); ``owner`` names them after it."""
    cluster = cluster_of(OWNED_CHAIN)
    endpoints = choose_endpoints(cluster)
    assert [p.key for p in endpoints.pods] == ["ns/web-5d4f8-abcde", "ns/web-5d4f8-fghij"]
    assert endpoints.owner == {"ns/web-5d4f8-abcde": "ns/Deployment/web",
                               "ns/web-5d4f8-fghij": "ns/Deployment/web"}
    assert set(endpoints.folded) == {"ns/Deployment/web", "ns/ReplicaSet/web-5d4f8"}
    assert ("1 workload analysed through 2 pods of the input that they own (grouped under "
            "the workload's name)") in endpoints.notes
    assert "1 workload (ReplicaSet) shown as the workload that owns them" in endpoints.notes


def test_a_workload_without_pods_in_the_input_is_its_template() -> None:
    cluster = cluster_of(OWNED_CHAIN + workload_yaml("StatefulSet", "db").replace(
        "apiVersion", "---\napiVersion", 1))
    endpoints = choose_endpoints(cluster, per_pod=True)
    assert [p.key for p in endpoints.pods] == ["ns/web-5d4f8-abcde", "ns/web-5d4f8-fghij",
                                               "ns/StatefulSet/db"]
    assert ("1 workload analysed through 2 pods of the input that they own (by pod name)"
            in endpoints.notes)


def test_naming_a_workload_with_pods_does_not_bring_back_its_template() -> None:
    cluster = cluster_of(OWNED_CHAIN)
    endpoints = choose_endpoints(cluster, keep={"ns/Deployment/web"})
    assert [p.key for p in endpoints.pods] == ["ns/web-5d4f8-abcde", "ns/web-5d4f8-fghij"]


def test_pods_of_a_job_owned_by_a_cronjob_count_for_the_cronjob() -> None:
    job = ("---\napiVersion: batch/v1\nkind: Job\nmetadata:\n  name: x-28930\n"
           "  namespace: ns\n  ownerReferences: [{kind: CronJob, name: x, controller: true}]\n"
           "spec:\n  template:\n" + TEMPLATE)
    pod = pod_yaml("x-28930-q7", owners="[{kind: Job, name: x-28930, controller: true}]")
    endpoints = choose_endpoints(cluster_of(workload_yaml("CronJob") + job + pod))
    assert [p.key for p in endpoints.pods] == ["ns/x-28930-q7"]
    assert endpoints.owner == {"ns/x-28930-q7": "ns/CronJob/x"}


def test_ownership_by_selector_in_the_same_namespace_only() -> None:
    text = (workload_yaml("Deployment", "web") + pod_yaml("web-1")
            + pod_yaml("stray", labels="{app: other}")
            + pod_yaml("elsewhere", namespace="other"))
    endpoints = choose_endpoints(cluster_of(text))
    assert endpoints.owner == {"ns/web-1": "ns/Deployment/web"}
    assert [p.key for p in endpoints.pods] == ["ns/web-1", "ns/stray", "other/elsewhere"]


def test_match_expressions_selectors_claim_pods() -> None:
    text = workload_yaml("Deployment", "web").replace(
        "selector: {matchLabels: {app: x}}",
        "selector: {matchExpressions: [{key: app, operator: In, values: [x, z]}, "
        "{key: canary, operator: DoesNotExist}]}")
    text += pod_yaml("a") + pod_yaml("b", labels="{app: x, canary: 'true'}")
    endpoints = choose_endpoints(cluster_of(text))
    assert endpoints.owner == {"ns/a": "ns/Deployment/web"}


def test_an_owner_reference_beats_a_matching_selector() -> None:
    text = (workload_yaml("Deployment", "first") + "---\n" + workload_yaml("DaemonSet", "second")
            + pod_yaml("p", owners="[{kind: DaemonSet, name: second, controller: true}]"))
    endpoints = choose_endpoints(cluster_of(text))
    assert endpoints.owner == {"ns/p": "ns/DaemonSet/second"}
    assert not any("several" in note for note in endpoints.notes)


def test_a_pod_matching_several_workloads_is_noted() -> None:
    text = (workload_yaml("Deployment", "first") + "---\n" + workload_yaml("DaemonSet", "second")
            + pod_yaml("p"))
    endpoints = choose_endpoints(cluster_of(text))
    assert endpoints.owner == {"ns/p": "ns/Deployment/first"}
    assert ("pod ns/p matches the selectors of several workloads (ns/Deployment/first, "
            "ns/DaemonSet/second); shown as the first") in endpoints.notes


def test_a_job_without_selector_claims_pods_by_its_template_labels() -> None:
    endpoints = choose_endpoints(cluster_of(workload_yaml("Job") + pod_yaml("x-abc")))
    assert endpoints.owner == {"ns/x-abc": "ns/Job/x"}
    # Pods of a cluster before 1.27 carry job-name only; the generated labels are not
    # asked of them, nor of pods written without them (above).
    old = pod_yaml("x-old", labels="{app: x, role: server, job-name: x, controller-uid: u}")
    endpoints = choose_endpoints(cluster_of(workload_yaml("Job") + old))
    assert endpoints.owner == {"ns/x-old": "ns/Job/x"}


def test_a_workload_without_selector_or_labels_claims_nothing() -> None:
    text = workload_yaml("Job").replace("labels: {app: x, role: server}", "labels: {}")
    endpoints = choose_endpoints(cluster_of(text + pod_yaml("p", labels="{}")))
    assert endpoints.owner == {}
    assert [p.key for p in endpoints.pods] == ["ns/p", "ns/Job/x"]


def test_replicationcontroller_selector_is_a_plain_map() -> None:
    cluster = cluster_of(workload_yaml("ReplicationController") + pod_yaml("rc-1")
                         + pod_yaml("other", labels="{app: 'y'}"))
    (rc,) = cluster.workloads
    assert rc.selector is not None and rc.selector.match_labels == (("app", "x"),)
    assert choose_endpoints(cluster).owner == {"ns/rc-1": "ns/ReplicationController/x"}


def test_ownership_cycles_do_not_hang() -> None:
    a = workload_yaml("ReplicaSet", "a").replace(
        "namespace: ns}", "namespace: ns, ownerReferences: [{kind: ReplicaSet, name: b}]}")
    b = workload_yaml("ReplicaSet", "b").replace(
        "namespace: ns}", "namespace: ns, ownerReferences: [{kind: ReplicaSet, name: a}]}")
    endpoints = choose_endpoints(cluster_of(a + "---\n" + b))
    assert [p.key for p in endpoints.pods] == ["ns/ReplicaSet/a", "ns/ReplicaSet/b"]
