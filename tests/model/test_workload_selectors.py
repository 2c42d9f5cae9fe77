"""Workload selectors against their pod templates, as the API server checks them.

Expected strings are written out from upstream's ``ValidateDeploymentSpec``,
``ValidateReplicaSetSpec``, ``ValidateStatefulSetSpec``, ``ValidateDaemonSetSpec``
(``pkg/apis/apps/validation``), ``ValidateJobSpec`` / ``ValidateJobTemplateSpec``
(``pkg/apis/batch/validation``) and ``ValidateReplicationControllerSpec``
(``pkg/apis/core/validation``), values rendered as apimachinery 1.34+ does (JSON).
"""

from __future__ import annotations

from typing import Any

import pytest

from stockade.model.decode import Decoder
from stockade.model.types import Origin
from stockade.model.validate import validate_workload

MISMATCH = "`selector` does not match template `labels`"
LABELS_PATH = "spec.template.metadata.labels"
API_VERSIONS = {"Deployment": "apps/v1", "ReplicaSet": "apps/v1", "StatefulSet": "apps/v1",
                "DaemonSet": "apps/v1", "Job": "batch/v1", "CronJob": "batch/v1",
                "ReplicationController": "v1"}
MATCH_EXPRESSIONS = {"matchExpressions": [{"key": "app", "operator": "In",
                                           "values": ["web", "api"]}]}


def errors(kind: str, selector: Any = None, labels: Any = None, namespace: str = "shop",
           **spec: Any) -> list[str]:
    template: dict[str, Any] = {"spec": {"containers": [{"name": "c", "image": "x"}]}}
    if labels is not None:
        template["metadata"] = {"labels": labels}
    body: dict[str, Any] = {"template": template, **spec}
    if selector is not None:
        body["selector"] = selector
    if kind == "CronJob":
        body = {"schedule": "@daily", "jobTemplate": {"spec": body}}
    obj = {"apiVersion": API_VERSIONS[kind], "kind": kind,
           "metadata": {"name": "web", "namespace": namespace}, "spec": body}
    decoder = Decoder()
    workload = decoder.workload(obj, Origin("w.yaml", 1))
    assert decoder.errors == []
    prefix = "spec.jobTemplate.spec.template.spec" if kind == "CronJob" else "spec.template.spec"
    return [str(e) for e in validate_workload(workload, prefix)]


@pytest.mark.parametrize("kind", ["Deployment", "ReplicaSet", "StatefulSet", "DaemonSet"])
def test_mismatch_is_refused(kind: str) -> None:
    assert errors(kind, {"matchLabels": {"app": "web", "tier": "a"}},
                  {"tier": "b", "app": "api"}) == [
        f'{LABELS_PATH}: Invalid value: {{"app":"api","tier":"b"}}: {MISMATCH}']


@pytest.mark.parametrize(("kind", "selector"), [
    *((kind, selector) for kind in ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet")
      for selector in ({"matchLabels": {"app": "web"}}, MATCH_EXPRESSIONS)),
    ("ReplicationController", {"app": "web"}),  # a plain map: no matchExpressions
])
def test_matching_selector_passes(kind: str, selector: dict[str, Any]) -> None:
    assert errors(kind, selector, {"app": "web", "tier": "a"}) == []


@pytest.mark.parametrize("kind", ["Deployment", "ReplicaSet", "StatefulSet"])
def test_selector_required(kind: str) -> None:
    assert errors(kind, None, {"app": "web"}) == [
        "spec.selector: Required value",
        f'{LABELS_PATH}: Invalid value: {{"app":"web"}}: {MISMATCH}']


def test_no_template_labels_is_null() -> None:
    assert errors("Deployment", {"matchLabels": {"app": "web"}}) == [
        f"{LABELS_PATH}: Invalid value: null: {MISMATCH}"]


@pytest.mark.parametrize(("kind", "word"), [("Deployment", "deployment"),
                                            ("ReplicaSet", "deployment"),
                                            ("StatefulSet", "statefulset")])
def test_empty_selector(kind: str, word: str) -> None:
    assert errors(kind, {}, {"app": "web"}) == [
        f"spec.selector: Invalid value: {{}}: empty selector is invalid for {word}"]


def test_daemon_set_empty_and_missing_selector() -> None:
    assert errors("DaemonSet", {}, {"app": "web"}) == [
        "spec.selector: Invalid value: {}: empty selector is invalid for daemonset"]
    assert errors("DaemonSet", None, {"app": "web"}) == [
        f'{LABELS_PATH}: Invalid value: {{"app":"web"}}: {MISMATCH}']


@pytest.mark.parametrize(("kind", "detail"), [("Deployment", ": invalid label selector"),
                                              ("StatefulSet", "")])
def test_unparsable_selector(kind: str, detail: str) -> None:
    selector = {"matchExpressions": [{"key": "app", "operator": "In"}]}
    assert errors(kind, selector, {"app": "web"}) == [
        "spec.selector.matchExpressions[0].values: Required value: must be specified when "
        "`operator` is 'In' or 'NotIn'",
        'spec.selector: Invalid value: {"matchExpressions":[{"key":"app","operator":"In"}]}'
        + detail]


def test_daemon_set_unparsable_selector_is_not_matched() -> None:
    selector = {"matchLabels": {"app": "-bad"}}
    assert len(errors("DaemonSet", selector, {"app": "web"})) == 1


def test_selector_errors_come_between_namespace_and_template() -> None:
    got = errors("Deployment", {"matchLabels": {"app": "web"}}, {"app": "-x"},
                 namespace="Bad_NS")
    assert [e.split(":")[0] for e in got] == [
        "metadata.namespace", LABELS_PATH, "spec.template.labels"]


def test_replication_controller_defaults_selector_from_labels() -> None:
    assert errors("ReplicationController", None, {"app": "web"}) == []
    assert errors("ReplicationController", None) == ["spec.selector: Required value"]
    assert errors("ReplicationController", {"app": "web"}, {"app": "api"}) == [
        f'{LABELS_PATH}: Invalid value: {{"app":"api"}}: {MISMATCH}']


def test_job_selector_only_checked_when_manual() -> None:
    """Without ``manualSelector`` the selector is the server's: one of the user's that the
    pods' generated labels do not match is refused (``validateGeneratedSelector``)."""
    assert errors("Job", {"matchLabels": {"app": "web"}}, {"app": "api"}) == [
        'spec.selector: Invalid value: {"matchLabels":{"app":"web"}}: '
        "`selector` not auto-generated",
        # ValidateJobSpec's own check, after validateGeneratedSelector's
        f'{LABELS_PATH}: Invalid value: {{"app":"api","batch.kubernetes.io/job-name":"web",'
        f'"job-name":"web"}}: {MISMATCH}']
    assert errors("Job", {"matchLabels": {"job-name": "web"}}, {"app": "api"}) == []
    assert errors("Job", {"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]},
                  {"app": "api"}) == []


def test_a_jobs_own_selector_is_checked_without_manual_selector_too() -> None:
    """``ValidateJobSpec`` checks the selector, the user's with the generated
    ``controller-uid`` added, whatever ``manualSelector`` says: its rules, and that it
    matches the template's labels (the generated ones included)."""
    assert errors("Job", {"matchExpressions": [{"key": "app", "operator": "DoesNotExist"}]},
                  {"app": "api"}) == [
        f'{LABELS_PATH}: Invalid value: {{"app":"api","batch.kubernetes.io/job-name":"web",'
        f'"job-name":"web"}}: {MISMATCH}']
    assert errors("Job", {"matchExpressions": [{"key": "job-name", "operator": "In",
                                                "values": []}]}, {"app": "api"}) == [
        "spec.selector.matchExpressions[0].values: Required value: must be specified when "
        "`operator` is 'In' or 'NotIn'"]
    # The uid labels the server adds to the template match a selector naming them.
    assert errors("Job", {"matchExpressions": [{"key": "controller-uid",
                                                "operator": "Exists"}]}, {"app": "api"}) == []
    assert errors("Job", {"matchLabels": {"app": "web"}}, {"app": "api"},
                  manualSelector=True) == [
        f'{LABELS_PATH}: Invalid value: {{"app":"api"}}: {MISMATCH}']
    assert errors("Job", None, {"app": "api"}, manualSelector=True) == [
        "spec.selector: Required value",
        f'{LABELS_PATH}: Invalid value: {{"app":"api"}}: {MISMATCH}']
    assert errors("Job", MATCH_EXPRESSIONS, {"app": "web"}, manualSelector=True) == []


def test_job_template_errors_come_before_selector() -> None:
    got = errors("Job", {"matchLabels": {"app": "web"}}, {"app": "-x"}, manualSelector=True)
    assert [e.split(":")[0] for e in got] == ["spec.template.labels", LABELS_PATH]


def test_cron_job_selector_is_generated() -> None:
    assert errors("CronJob", None, {"app": "web"}) == []
    assert errors("CronJob", {"matchLabels": {"b": "2", "a": "1"}}, {"a": "1"},
                  manualSelector=True) == [
        'spec.jobTemplate.spec.selector: Invalid value: {"matchLabels":{"a":"1","b":"2"}}: '
        "`selector` will be auto-generated",
        'spec.jobTemplate.spec.manualSelector: Unsupported value: true: supported values: '
        '"nil", "false"']


def test_json_escapes_as_go() -> None:
    got = errors("Deployment", {"matchLabels": {"app": "web"}}, {"app": "a<b&c>"})
    assert got[0] == (f'{LABELS_PATH}: Invalid value: {{"app":"a\\u003cb\\u0026c\\u003e"}}: '
                      f"{MISMATCH}")


# --- the labels the API server gives a Job's pods (generateSelector) -----------------------

def _template_labels(kind: str, labels: Any, **spec: Any) -> dict[str, str]:
    template: dict[str, Any] = {"metadata": {"labels": labels},
                                "spec": {"containers": [{"name": "c", "image": "x"}]}}
    body: dict[str, Any] = {"template": template, **spec}
    if kind == "CronJob":
        body = {"schedule": "@daily", "jobTemplate": {"spec": body}}
    obj = {"apiVersion": API_VERSIONS[kind], "kind": kind,
           "metadata": {"name": "migrate", "namespace": "shop"}, "spec": body}
    return Decoder().workload(obj, Origin("w.yaml", 1)).template.metadata.label_map


def test_a_jobs_pods_carry_its_name() -> None:
    assert _template_labels("Job", {"app": "m"}) == {
        "app": "m", "job-name": "migrate", "batch.kubernetes.io/job-name": "migrate"}
    # A label the user set stays (validation refuses another value); manual: none added.
    assert _template_labels("Job", {"job-name": "migrate"}) == {
        "job-name": "migrate", "batch.kubernetes.io/job-name": "migrate"}
    assert _template_labels("Job", {"app": "m"}, manualSelector=True) == {"app": "m"}
    # A CronJob's Jobs are named when they are made: their name is not known here.
    assert _template_labels("CronJob", {"app": "m"}) == {"app": "m"}
    for kind in ("Deployment", "StatefulSet"):
        assert _template_labels(kind, {"app": "m"}) == {"app": "m"}


def test_a_job_label_of_another_value_is_refused() -> None:
    assert errors("Job", None, {"job-name": "other"}) == [
        f'{LABELS_PATH}[job-name]: Invalid value: {{"batch.kubernetes.io/job-name":"web",'
        '"job-name":"other"}: must be \'web\'']
    assert errors("Job", None, {"job-name": "other"}, manualSelector=True) == [
        "spec.selector: Required value",
        f'{LABELS_PATH}: Invalid value: {{"job-name":"other"}}: {MISMATCH}']


def test_a_job_read_from_a_cluster_passes() -> None:
    """``kubectl get job -o yaml``: the server's selector and labels, with its uid."""
    uid = "6f1c2e3a-0b1d-4c5e-9f7a-8b9c0d1e2f3a"
    labels = {"batch.kubernetes.io/controller-uid": uid, "controller-uid": uid,
              "batch.kubernetes.io/job-name": "web", "job-name": "web"}
    assert errors("Job", {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}},
                  labels) == []
    got = errors("Job", {"matchLabels": {"batch.kubernetes.io/controller-uid": "other"}},
                 labels)
    assert got[0] == (
        'spec.selector: Invalid value: {"matchLabels":{"batch.kubernetes.io/controller-uid":'
        '"other"}}: `selector` not auto-generated')
    assert len(got) == 2 and got[1].startswith(f"{LABELS_PATH}: Invalid value: ")
    assert got[1].endswith(MISMATCH)


def test_a_policy_selects_a_jobs_pods_by_its_name(tmp_path: Any) -> None:
    from stockade.cli.main import main

    path = tmp_path / "job.yaml"
    path.write_text("""\
apiVersion: batch/v1
kind: Job
metadata: {name: migrate, namespace: shop}
spec:
  template:
    metadata: {labels: {app: migrate}}
    spec: {restartPolicy: Never, containers: [{name: m, image: x}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: db, namespace: shop}
spec:
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec: {containers: [{name: db, image: pg}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress: [{from: [{podSelector: {matchLabels: {job-name: migrate}}}]}]
""")
    assert main(["query", str(path), "--from", "shop/Job/migrate", "--to",
                 "shop/Deployment/db", "--port", "5432"]) == 0


@pytest.mark.parametrize("kind", ["Deployment", "ReplicaSet", "StatefulSet"])
def test_negative_replicas_come_before_the_selector(kind: str) -> None:
    """``ValidateNonnegativeField(spec.Replicas)`` opens these kinds' spec checks."""
    assert errors(kind, None, {"app": "web"}, replicas=-1) == [
        "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
        "spec.selector: Required value",
        f'{LABELS_PATH}: Invalid value: {{"app":"web"}}: {MISMATCH}']
    assert errors(kind, {"matchLabels": {"app": "web"}}, {"app": "web"}, replicas=0) == []


def test_a_replicationcontrollers_replicas_come_after_a_missing_selector() -> None:
    """``ValidateReplicationControllerSpec``: the selector (``ValidateNonEmptySelector``),
    the replicas, then the template (where its labels are matched)."""
    assert errors("ReplicationController", None, None, replicas=-2) == [
        "spec.selector: Required value",
        "spec.replicas: Invalid value: -2: must be greater than or equal to 0"]
    assert errors("ReplicationController", {"app": "web"}, {"app": "api"}, replicas=-2) == [
        "spec.replicas: Invalid value: -2: must be greater than or equal to 0",
        f'{LABELS_PATH}: Invalid value: {{"app":"api"}}: {MISMATCH}']


def test_a_daemonsets_replicas_are_ignored() -> None:
    """A DaemonSet has no replicas (an unknown field, dropped)."""
    assert errors("DaemonSet", {"matchLabels": {"app": "web"}}, {"app": "web"},
                  replicas=-1) == []


@pytest.mark.parametrize(("kind", "path"), [
    ("Job", "spec.parallelism"), ("CronJob", "spec.jobTemplate.spec.parallelism")])
def test_a_jobs_negative_parallelism_comes_before_its_template(kind: str, path: str) -> None:
    """``validateJobSpec`` checks ``parallelism`` first, then the template (here an
    invalid label of it), then ``ValidateJobSpec`` the selector (a Job's generated one
    passes); ``replicas`` is no Job field."""
    template = "spec.jobTemplate.spec.template" if kind == "CronJob" else "spec.template"
    assert errors(kind, None, {"app": "-web"}, replicas=-1, parallelism=-1) == [
        f"{path}: Invalid value: -1: must be greater than or equal to 0",
        f'{template}.labels: Invalid value: "-web": a valid label must be an empty string '
        "or consist of alphanumeric characters, '-', '_' or '.', and must start and end "
        "with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', "
        "regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"]
    assert errors(kind, None, {"app": "web"}, parallelism=0) == []
