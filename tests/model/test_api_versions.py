"""A kind stockade reads, in an apiVersion no current API server serves, is refused as
kubectl refuses it ("no matches for kind"), not skipped as if it were a third party's
object: a NetworkPolicy of extensions/v1beta1 once vanished from the analysis, and
``check`` called the input valid."""

from __future__ import annotations

from typing import Any

import pytest

from stockade.model.build import RawObject, build_cluster
from stockade.model.types import Origin


def obj(api_version: str, kind: str) -> dict[str, Any]:
    return {"apiVersion": api_version, "kind": kind,
            "metadata": {"name": "x", "namespace": "shop"}, "spec": {}}


@pytest.mark.parametrize(("api_version", "kind", "supported"), [
    ("extensions/v1beta1", "NetworkPolicy", "networking.k8s.io/v1"),
    ("networking.k8s.io/v1beta1", "NetworkPolicy", "networking.k8s.io/v1"),
    ("extensions/v1beta1", "Deployment", "apps/v1"),
    ("apps/v1beta2", "DaemonSet", "apps/v1"),
    ("apps/v1beta1", "StatefulSet", "apps/v1"),
    ("batch/v1beta1", "CronJob", "batch/v1"),
    ("v2", "Pod", "v1"),
    ("apps/v1", "Pod", "v1"),
])
def test_versions_kubernetes_does_not_serve_are_errors(api_version: str, kind: str,
                                                       supported: str) -> None:
    result = build_cluster([RawObject(obj(api_version, kind), Origin("old.yaml", 3))])
    assert [str(f) for f in result.findings] == [
        f'old.yaml:3: {kind} shop/x: apiVersion: Unsupported value: "{api_version}": '
        f'supported values: "{supported}"']
    assert not result.skipped


@pytest.mark.parametrize(("api_version", "kind"), [
    ("projectcalico.org/v3", "NetworkPolicy"),
    ("crd.antrea.io/v1beta1", "ClusterNetworkPolicy"),
    ("cilium.io/v2", "Node"),
])
def test_other_groups_objects_of_the_same_name_are_skipped(api_version: str,
                                                           kind: str) -> None:
    result = build_cluster([RawObject(obj(api_version, kind), Origin("x.yaml", 1))])
    assert result.findings == []
    assert result.skipped == [f"skipped 1 object of kind {kind} ({api_version}): not modelled"]


def test_another_version_of_a_cluster_policy_crd_is_skipped_with_a_warning() -> None:
    """A CRD's versions are the installed CRD's: another release may serve this one, so it
    is no error, but it is said (not only with --verbose)."""
    result = build_cluster([RawObject(obj("policy.networking.k8s.io/v1alpha2",
                                          "AdminNetworkPolicy"), Origin("x.yaml", 1))])
    assert result.findings == []
    assert result.warnings == [
        "x.yaml:1: AdminNetworkPolicy x: apiVersion policy.networking.k8s.io/v1alpha2 is not "
        "read (stockade reads AdminNetworkPolicy as policy.networking.k8s.io/v1alpha1); skipped"]
