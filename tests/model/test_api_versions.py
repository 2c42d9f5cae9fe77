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
    # Group names are case-sensitive to kubectl: ``Networking.k8s.io`` is no group it
    # knows, so the policy is refused there; it was skipped here as a third party's.
    ("Networking.k8s.io/v1", "NetworkPolicy", "networking.k8s.io/v1"),
    ("networking.k8s.io/V1", "NetworkPolicy", "networking.k8s.io/v1"),
    ("Apps/v1", "Deployment", "apps/v1"),
    ("Policy.networking.k8s.io/v1alpha1", "AdminNetworkPolicy",
     "policy.networking.k8s.io/v1alpha1"),
])
def test_versions_kubernetes_does_not_serve_are_errors(api_version: str, kind: str,
                                                       supported: str) -> None:
    result = build_cluster([RawObject(obj(api_version, kind), Origin("old.yaml", 3))])
    assert [str(f) for f in result.findings] == [
        f'old.yaml:3: {kind} shop/x: apiVersion: Unsupported value: "{api_version}": '
        f'supported values: "{supported}"']
    assert not result.skipped and not result.warnings


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


@pytest.mark.parametrize(("api_version", "kind", "meant"), [
    ("networking.k8s.io/v1", "Networkpolicy", "NetworkPolicy"),
    ("networking.k8s.io/v1", "networkpolicy", "NetworkPolicy"),
    ("networking.k8s.io/v1", "NetworkPolicies", "NetworkPolicy"),
    ("networking.k8s.io/v1", "networkpolicies", "NetworkPolicy"),
    ("v1", "pod", "Pod"),
    ("v1", "POD", "Pod"),
    ("v1", "namespaces", "Namespace"),
    ("v1", "list", "List"),
    ("apps/v1", "deployments", "Deployment"),
    ("policy.networking.k8s.io/v1alpha1", "AdminNetworkpolicy", "AdminNetworkPolicy"),
    ("policy.networking.k8s.io/v1alpha1", "baselineadminnetworkpolicies",
     "BaselineAdminNetworkPolicy"),
    ("policy.networking.k8s.io/v1alpha2", "ClusterNetworkpolicy", "ClusterNetworkPolicy"),
    ("Networking.k8s.io/v1", "networkPolicy", "NetworkPolicy"),
])
def test_a_misspelt_kind_of_a_kubernetes_group_is_an_error(api_version: str, kind: str,
                                                           meant: str) -> None:
    """Another case of a kind, or its resource name, is no kind kubectl knows ("no matches
    for kind"): skipped as not modelled, a deny-all spelt ``Networkpolicy`` vanished and
    ``check`` called the input valid (a review's hostile-input hunt)."""
    result = build_cluster([RawObject(obj(api_version, kind), Origin("x.yaml", 4))])
    assert [str(f) for f in result.findings] == [
        f'x.yaml:4: {kind} shop/x: kind: Unsupported value: "{kind}": '
        f'supported values: "{meant}"']
    assert not result.skipped


@pytest.mark.parametrize(("api_version", "kind"), [
    ("crd.projectcalico.org/v1", "networkpolicies"),  # another group's resource
    ("example.com/v1", "Pods"),
    ("v1", "List"),  # a List without items: nothing in it
    ("networking.k8s.io/v1", "Ingress"),  # a kind stockade does not model
    ("v1", "ConfigMap"),
])
def test_other_kinds_are_still_skipped(api_version: str, kind: str) -> None:
    result = build_cluster([RawObject(obj(api_version, kind), Origin("x.yaml", 1))])
    assert result.findings == []
    assert len(result.skipped) == 1 and kind in result.skipped[0]


def test_a_list_spelt_list_is_refused_not_dropped_with_its_items() -> None:
    from stockade.sources.files import parse_text

    text = ("apiVersion: v1\nkind: list\nitems:\n"
            "- apiVersion: networking.k8s.io/v1\n  kind: NetworkPolicy\n"
            "  metadata: {name: deny, namespace: shop}\n  spec: {podSelector: {}}\n")
    result = build_cluster(parse_text(text, "l.yaml"))
    assert [str(f) for f in result.findings] == [
        'l.yaml:1: list <unnamed>: kind: Unsupported value: "list": supported values: "List"']
