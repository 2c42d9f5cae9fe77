"""Fields the API server does not declare: dropped by it with a warning, refused by
``kubectl apply``. stockade reads the object without them and warns, naming the field, so
that a misspelt ``podSelector`` (which would select every pod) is not silent."""

from __future__ import annotations

from typing import Any

import pytest
from k8s_recorded import recorded_cluster

from stockade.model.build import RawObject, build_cluster
from stockade.model.types import Origin


def build(*objects: dict[str, Any]) -> tuple[Any, list[str]]:
    result = build_cluster([RawObject(o, Origin("f.yaml", 1 + 10 * i))
                            for i, o in enumerate(objects)])
    assert result.findings == []
    return result.cluster, [w for w in result.warnings if "unknown field" in w]


def policy(spec: dict[str, Any], **meta: Any) -> dict[str, Any]:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "db", "namespace": "shop", **meta}, "spec": spec}


def test_a_misspelt_pod_selector_is_named_and_the_policy_still_read() -> None:
    cluster, warnings = build(policy({"podSelecter": {"matchLabels": {"app": "db"}}}))
    assert len(cluster.policies) == 1
    assert warnings == [
        "f.yaml:1: NetworkPolicy shop/db: spec.podSelecter: unknown field, ignored (the API "
        "server drops it with a warning; kubectl apply refuses the object)"]


@pytest.mark.parametrize(("spec", "path"), [
    ({"ingress": [{"form": [{"podSelector": {}}]}]}, "spec.ingress[0].form"),
    ({"ingress": [{"from": [{"podSelector": {}}, {"podSelector": {}, "nameSpaceSelector": {}}]}]},
     "spec.ingress[0].from[1].nameSpaceSelector"),
    ({"egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8", "excepts": []}}]}]},
     "spec.egress[0].to[0].ipBlock.excepts"),
    ({"egress": [{"ports": [{"port": 80, "end_port": 90}]}]}, "spec.egress[0].ports[0].end_port"),
    ({"podSelector": {"matchExpressions": [{"key": "a", "operator": "Exists", "value": []}]}},
     "spec.podSelector.matchExpressions[0].value"),
    ({"podSelector": {"matchlabels": {"a": "b"}}}, "spec.podSelector.matchlabels"),
    ({"policyTypes": ["Ingress"], "PolicyTypes": []}, "spec.PolicyTypes"),
])
def test_unknown_fields_of_a_network_policy(spec: dict[str, Any], path: str) -> None:
    assert [w.split(": ")[2] for w in build(policy(spec))[1]] == [path]


def test_metadata_of_every_kind_and_of_pod_templates() -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "label": {"a": "b"}},
           "spec": {"containers": [{"name": "c", "image": "x", "anything": 1}]}, "x": 1}
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
                  "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {
                      "metadata": {"labels": {"a": "b"}, "lables": {"a": "b"}},
                      "spec": {"containers": [{"name": "c"}]}}}}
    cron = {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "c"},
            "spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": {
                "metadata": {"labels": {"a": "b"}, "annotation": {}},
                "spec": {"containers": [{"name": "c"}]}}}}}}
    _, warnings = build(pod, deployment, cron)
    assert [w.split(": ")[:3] for w in warnings] == [
        ["f.yaml:1", "Pod default/p", "x"], ["f.yaml:1", "Pod default/p", "metadata.label"],
        ["f.yaml:11", "Deployment default/d", "spec.template.metadata.lables"],
        ["f.yaml:21", "CronJob default/c", "spec.jobTemplate.spec.template.metadata.annotation"]]


def test_objects_as_the_api_server_returns_them_have_no_unknown_fields() -> None:
    """uid, managedFields, status and the rest of what a live cluster returns are known."""
    objects = recorded_cluster()
    assert build(*objects)[1] == []
    assert {o["kind"] for o in objects} >= {"Namespace", "Pod", "NetworkPolicy", "Node"}


def test_fields_of_the_wrong_type_are_left_to_decoding() -> None:
    result = build_cluster([RawObject(policy({"ingress": [{"from": "x"}]}), Origin("f.yaml", 1))])
    assert [str(f.error) for f in result.findings] == [
        'spec.ingress[0].from: Invalid value: "x": must be of type array']
    assert not [w for w in result.warnings if "unknown field" in w]
