"""ClusterSource against an API server test double (no real API server can run here).

The double (``k8s_double``) serves recorded list responses over HTTPS exactly as
kube-apiserver shapes them, with pagination and 401/403/404/410 ``Status`` answers; lightkube
talks to it over a real TLS connection with real client certificates and bearer tokens.
"""

from __future__ import annotations

import socket
import sys
from collections import Counter
from pathlib import Path

import pytest
import trustme
from k8s_double import ApiServerDouble, Deny
from k8s_recorded import many_pods, namespace, recorded_cluster
from kubeconfig_files import TOKEN_BOB, Kubeconfigs, b64

from stockade.errors import EnvironmentProblem, InputError
from stockade.model.build import KNOWN_KINDS, build_cluster
from stockade.sources.cluster import ClusterSource

# Cluster-wide policies are cluster-scoped: read whatever the namespace.
CLUSTER_POLICIES = {"ClusterNetworkPolicy": 1, "AdminNetworkPolicy": 1,
                    "BaselineAdminNetworkPolicy": 1}
ALL_KINDS = {"Namespace": 3, "Node": 2, "NetworkPolicy": 2, "Service": 1, "Deployment": 1,
             "ReplicaSet": 1, "StatefulSet": 1, "DaemonSet": 1, "Job": 1, "CronJob": 1,
             "ReplicationController": 1, "Pod": 4, **CLUSTER_POLICIES}


def source(path: Path, context: str | None = None, **kw: object) -> ClusterSource:
    warnings: list[str] = []
    return ClusterSource.from_kubeconfig(kubeconfig=str(path), context=context,
                                         warn=warnings.append, **kw)  # type: ignore[arg-type]


def test_reads_every_kind_with_client_certificate(
        alpha: ApiServerDouble, beta: ApiServerDouble, kubeconfigs: Kubeconfigs) -> None:
    objects = source(kubeconfigs.two_contexts(alpha, beta)).read()

    assert Counter(o.kind for o in objects) == ALL_KINDS
    assert set(ALL_KINDS) == set(KNOWN_KINDS)
    for obj in objects:
        # List items come without apiVersion/kind; the reader fills them in.
        assert obj.api_version in KNOWN_KINDS[obj.kind]
        assert str(obj.origin) == "cluster alpha"
        meta = obj.data["metadata"]
        assert not {"managedFields", "uid", "resourceVersion", "creationTimestamp"} & set(meta)
        assert "kubectl.kubernetes.io/last-applied-configuration" not in \
            meta.get("annotations", {})
    # Every request was the client-certificate user, and read-only.
    assert {s.user for s in alpha.seen} == {"alice"}
    assert {s.method for s in alpha.seen} == {"GET"}
    assert beta.seen == []


def test_keeps_labels_spec_pod_ips_and_drops_other_status(
        alpha: ApiServerDouble, beta: ApiServerDouble, kubeconfigs: Kubeconfigs) -> None:
    objects = source(kubeconfigs.two_contexts(alpha, beta)).read()
    by_name = {(o.kind, o.data["metadata"]["name"]): o.data for o in objects}
    # A Node keeps its spec and, of its status, only its addresses.
    worker = by_name[("Node", "kind-worker")]
    assert worker["status"] == {"addresses": [{"type": "InternalIP", "address": "172.18.0.2"},
                                              {"type": "Hostname", "address": "kind-worker"}]}
    assert worker["spec"]["podCIDR"] == "10.244.1.0/24"
    db = by_name[("Pod", "db-0")]
    assert db["status"] == {"phase": "Running", "podIP": "10.244.1.6",
                            "podIPs": [{"ip": "10.244.1.6"}], "hostIP": "172.18.0.2",
                            "hostIPs": [{"ip": "172.18.0.2"}]}
    assert db["metadata"]["labels"] == {"app": "db"}
    assert db["metadata"]["ownerReferences"] == [
        {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "db", "controller": True}]
    assert db["spec"]["hostAliases"] == [{"ip": "10.1.2.3", "hostnames": ["legacy.local"]}]
    deploy = by_name[("Deployment", "api")]
    assert "status" not in deploy
    assert deploy["metadata"]["annotations"] == {"team.example.com/owner": "payments"}
    prod = by_name[("Namespace", "prod")]
    assert prod["metadata"]["labels"] == {"kubernetes.io/metadata.name": "prod",
                                          "env": "prod", "team": "payments"}
    policy = by_name[("NetworkPolicy", "db-ingress")]
    assert policy["spec"]["ingress"][0]["ports"] == [{"protocol": "TCP", "port": 5432}]


def test_what_is_read_builds_a_valid_cluster(
        alpha: ApiServerDouble, beta: ApiServerDouble, kubeconfigs: Kubeconfigs) -> None:
    result = build_cluster(source(kubeconfigs.two_contexts(alpha, beta)).read())
    assert result.findings == []
    assert result.warnings == []  # every namespace was read, none implied
    cluster = result.cluster
    assert [n.name for n in cluster.namespaces] == ["default", "dev", "prod"]
    assert len(cluster.pods) == 4 and len(cluster.policies) == 2
    assert len(cluster.workloads) == 7 and len(cluster.services) == 1
    assert [(n.name, n.ips) for n in cluster.nodes] == [
        ("kind-control-plane", ("172.18.0.3",)), ("kind-worker", ("172.18.0.2",))]
    prod = next(n for n in cluster.namespaces if n.name == "prod")
    assert prod.labels["team"] == "payments"


def test_pagination_follows_continue_until_the_end(
        ca: trustme.CA, kubeconfigs: Kubeconfigs) -> None:
    objects = [namespace("load", {}, 1), *many_pods(23)]
    with ApiServerDouble(ca, objects, tokens={"t": "u"}) as server:
        path = kubeconfigs.one(server, {"token": "t"})
        pods = [o for o in source(path, chunk_size=5).read() if o.kind == "Pod"]
        pod_requests = [s for s in server.seen if s.path == "/api/v1/pods"]

    names = [p.data["metadata"]["name"] for p in pods]
    assert names == [f"p{i:04d}" for i in range(23)]  # all, once each, in server order
    assert len(pod_requests) == 5  # 5+5+5+5+3
    assert all(s.query["limit"] == "5" for s in pod_requests)
    assert "continue" not in pod_requests[0].query
    tokens = [s.query["continue"] for s in pod_requests[1:]]
    assert len(set(tokens)) == 4


def test_default_page_size_is_kubectls_500(ca: trustme.CA, kubeconfigs: Kubeconfigs) -> None:
    with ApiServerDouble(ca, many_pods(510), tokens={"t": "u"}) as server:
        pods = [o for o in source(kubeconfigs.one(server, {"token": "t"})).read()
                if o.kind == "Pod"]
        pod_requests = [s for s in server.seen if s.path == "/api/v1/pods"]
    assert len(pods) == 510
    assert [s.query["limit"] for s in pod_requests] == ["500", "500"]


def test_context_flag_selects_the_other_cluster_and_its_bearer_token(
        alpha: ApiServerDouble, beta: ApiServerDouble, kubeconfigs: Kubeconfigs) -> None:
    objects = source(kubeconfigs.two_contexts(alpha, beta), context="beta").read()
    assert [(o.kind, o.data["metadata"]["name"]) for o in objects] == [
        ("Namespace", "staging"), ("Pod", "canary")]
    assert {str(o.origin) for o in objects} == {"cluster beta"}
    assert alpha.seen == []
    assert {s.user for s in beta.seen} == {"bob"}


def test_kubeconfig_env_merges_files_like_kubectl(
        alpha: ApiServerDouble, beta: ApiServerDouble, kubeconfigs: Kubeconfigs,
        tmp_path: Path) -> None:
    full = kubeconfigs.two_contexts(alpha, beta)
    # Second file: redefines context "alpha" (ignored: the first file wins) and sets
    # another current-context (ignored too), adds nothing else.
    other = kubeconfigs.write("other", {
        "current-context": "beta",
        "clusters": [kubeconfigs.cluster("alpha", beta)],
        "users": [], "contexts": [{"name": "alpha", "context": {"cluster": "alpha"}}]})
    env = {"KUBECONFIG": f"{tmp_path / 'missing'}:{full}:{other}", "HOME": str(tmp_path)}
    src = ClusterSource.from_kubeconfig(environ=env, warn=lambda m: None)
    assert src.config.label == "context alpha"
    assert src.config.server == alpha.url
    assert len(src.read()) == sum(ALL_KINDS.values())


def test_namespace_filter_reads_only_that_namespace(
        alpha: ApiServerDouble, beta: ApiServerDouble, kubeconfigs: Kubeconfigs) -> None:
    src = source(kubeconfigs.two_contexts(alpha, beta))
    objects = src.read(namespace="prod")

    assert Counter(o.kind for o in objects) == {
        "Namespace": 1, "Node": 2, "NetworkPolicy": 1, "Service": 1, "Deployment": 1,
        "ReplicaSet": 1, "StatefulSet": 1, "Job": 1, "Pod": 2, **CLUSTER_POLICIES}
    assert {o.data["metadata"].get("namespace", o.data["metadata"]["name"])
            for o in objects if o.kind != "Node" and o.kind not in CLUSTER_POLICIES
            } == {"prod"}
    assert alpha.seen[0].path == "/api/v1/namespaces/prod"
    # Nodes and cluster-wide policies are outside every namespace: cluster-wide lists.
    assert all(s.path.endswith("/namespaces/prod") or "/namespaces/prod/" in s.path
               for s in alpha.seen if s.path != "/api/v1/nodes"
               and "policy.networking.k8s.io" not in s.path)
    assert [s.path for s in alpha.seen].count("/api/v1/nodes") == 1
    assert src.warnings == []


def test_forbidden_namespace_get_warns_and_continues(
        alpha: ApiServerDouble, beta: ApiServerDouble, kubeconfigs: Kubeconfigs) -> None:
    alpha.denies.append(Deny("get", "namespaces"))
    warnings: list[str] = []
    src = ClusterSource.from_kubeconfig(kubeconfig=str(kubeconfigs.two_contexts(alpha, beta)),
                                        warn=warnings.append)
    objects = src.read(namespace="prod")

    assert "Namespace" not in {o.kind for o in objects}
    assert len(objects) == 10 + sum(CLUSTER_POLICIES.values())
    assert warnings == src.warnings == [
        'context alpha: cannot get namespaces "prod" in the namespace "prod": RBAC needs verb '
        '"get" on resource "namespaces" (core group ""); continuing without it: the labels of '
        'namespace "prod" are unknown, so namespaceSelectors see only '
        "kubernetes.io/metadata.name"]
    # The model then assumes the namespace exists with only its name label, and says so.
    result = build_cluster(objects)
    assert result.warnings and "prod" in result.warnings[0]


def test_forbidden_namespace_list_warns_and_continues(
        alpha: ApiServerDouble, beta: ApiServerDouble, kubeconfigs: Kubeconfigs) -> None:
    alpha.denies.append(Deny("list", "namespaces"))
    src = source(kubeconfigs.two_contexts(alpha, beta))
    objects = src.read()
    assert Counter(o.kind for o in objects) == Counter({**ALL_KINDS, "Namespace": 0})
    assert len(src.warnings) == 1
    assert src.warnings[0].startswith(
        "context alpha: cannot list namespaces at the cluster scope (all namespaces): RBAC "
        'needs verb "list" on resource "namespaces" (core group "") in a ClusterRole')
    assert "the labels of the namespaces are unknown" in src.warnings[0]


@pytest.mark.parametrize("namespace", [None, "prod"])
def test_forbidden_nodes_warn_and_continue(
        alpha: ApiServerDouble, beta: ApiServerDouble, kubeconfigs: Kubeconfigs,
        namespace: str | None) -> None:
    alpha.denies.append(Deny("list", "nodes"))
    src = source(kubeconfigs.two_contexts(alpha, beta))
    objects = src.read(namespace=namespace)
    assert "Node" not in {o.kind for o in objects}
    assert "Pod" in {o.kind for o in objects}
    assert src.warnings == [
        "context alpha: cannot list nodes at the cluster scope: RBAC needs verb \"list\" on "
        'resource "nodes" (core group "") in a ClusterRole bound by a ClusterRoleBinding; '
        "continuing without them: a node's addresses are "
        "then only its pods' status.hostIPs and its host-network pods' IPs, so traffic "
        "between a pod and another address of its node (an ExternalIP) is judged by the "
        "policies"]


def test_forbidden_list_in_a_namespace_names_the_missing_rbac(
        alpha: ApiServerDouble, beta: ApiServerDouble, kubeconfigs: Kubeconfigs) -> None:
    alpha.denies.append(Deny("list", "networkpolicies", "x"))
    alpha.objects.append(namespace("x", {}, 99))
    with pytest.raises(InputError) as err:
        source(kubeconfigs.two_contexts(alpha, beta)).read(namespace="x")
    assert str(err.value) == (
        'context alpha: cannot list networkpolicies.networking.k8s.io in the namespace "x": '
        'RBAC needs verb "list" on resource "networkpolicies" (group networking.k8s.io) '
        '(server: networkpolicies.networking.k8s.io is forbidden: User "alice" cannot list '
        'resource "networkpolicies" in API group "networking.k8s.io" in the namespace "x")')


def test_forbidden_list_at_cluster_scope_suggests_a_cluster_role_or_one_namespace(
        alpha: ApiServerDouble, beta: ApiServerDouble, kubeconfigs: Kubeconfigs) -> None:
    alpha.denies.append(Deny("list", "pods", ""))
    with pytest.raises(InputError) as err:
        source(kubeconfigs.two_contexts(alpha, beta)).read()
    assert str(err.value).startswith(
        "context alpha: cannot list pods at the cluster scope (all namespaces): RBAC needs "
        'verb "list" on resource "pods" (core group "") in a ClusterRole bound by a '
        "ClusterRoleBinding; or read one namespace with -n NAMESPACE (server: pods is "
        'forbidden: User "alice" cannot list resource "pods" in API group "" at the cluster '
        'scope)')


def test_invalid_or_expired_token_is_a_401_error(
        alpha: ApiServerDouble, beta: ApiServerDouble, kubeconfigs: Kubeconfigs) -> None:
    beta.tokens.clear()  # the token expired: the server no longer knows it
    with pytest.raises(InputError) as err:
        source(kubeconfigs.two_contexts(alpha, beta), context="beta").read()
    assert str(err.value) == (
        f"the Kubernetes API server at {beta.url} refused the credentials of context beta "
        "(401 Unauthorized: Unauthorized): the token is expired or invalid, or the client "
        "certificate is not accepted; refresh the credentials in the kubeconfig")


def test_client_certificate_from_another_ca_is_refused(
        alpha: ApiServerDouble, kubeconfigs: Kubeconfigs) -> None:
    stranger = trustme.CA().issue_cert(common_name="mallory")
    user = {"client-certificate-data": b64(stranger.cert_chain_pems[0].bytes()),
            "client-key-data": b64(stranger.private_key_pem.bytes())}
    with pytest.raises((InputError, EnvironmentProblem)) as err:
        source(kubeconfigs.one(alpha, user)).read()
    # TLS 1.3 reports a rejected client certificate after the handshake: either the
    # connection is reset or, with no identity, the server answers 401. Both must read well.
    assert str(err.value).startswith(("the Kubernetes API server at", "cannot reach"))
    assert "mallory" not in {s.user for s in alpha.seen}


def test_unreachable_server(kubeconfigs: Kubeconfigs, ca: trustme.CA) -> None:
    with socket.socket() as sock:  # a port nobody listens on: bound, never listening
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        path = kubeconfigs.write("dead", {
            "current-context": "dead",
            "clusters": [{"name": "dead", "cluster": {
                "server": f"https://127.0.0.1:{port}",
                "certificate-authority-data": b64(ca.cert_pem.bytes())}}],
            "users": [{"name": "u", "user": {"token": "t"}}],
            "contexts": [{"name": "dead", "context": {"cluster": "dead", "user": "u"}}]})
        with pytest.raises(EnvironmentProblem) as err:
            source(path).read()
    assert str(err.value).startswith(
        f"cannot reach the Kubernetes API server at https://127.0.0.1:{port} (context dead): ")
    assert "refused" in str(err.value).lower()


def test_untrusted_server_certificate(alpha: ApiServerDouble,
                                      kubeconfigs: Kubeconfigs) -> None:
    path = kubeconfigs.one(alpha, {"token": "t"}, trusted=False)
    with pytest.raises(InputError) as err:
        source(path).read()
    assert str(err.value).startswith(
        f"cannot verify the TLS certificate of the Kubernetes API server at {alpha.url} "
        "(context only): ")
    assert "certificate-authority-data of the cluster in the kubeconfig" in str(err.value)
    assert alpha.seen == []


def test_missing_client_key_file(alpha: ApiServerDouble, kubeconfigs: Kubeconfigs) -> None:
    path = kubeconfigs.one(alpha, {"client-certificate": "nope.crt", "client-key": "nope.key"})
    with pytest.raises(InputError) as err:
        source(path).read()
    assert str(err.value).startswith(
        "context only: cannot load the client certificate, key or certificate authority "
        "named in the kubeconfig: ")


def test_resource_the_server_does_not_serve(
        alpha: ApiServerDouble, beta: ApiServerDouble, kubeconfigs: Kubeconfigs) -> None:
    alpha.unserved.add("cronjobs")
    with pytest.raises(InputError) as err:
        source(kubeconfigs.two_contexts(alpha, beta)).read()
    assert str(err.value) == (
        f"the Kubernetes API server at {alpha.url} (context alpha) does not serve "
        "cronjobs.batch in batch/v1: the server could not find the requested resource")


def test_namespace_that_does_not_exist(
        alpha: ApiServerDouble, beta: ApiServerDouble, kubeconfigs: Kubeconfigs) -> None:
    with pytest.raises(InputError) as err:
        source(kubeconfigs.two_contexts(alpha, beta)).read(namespace="nope")
    assert str(err.value) == f'namespace "nope" not found in context alpha ({alpha.url})'


def test_expired_continue_token(ca: trustme.CA, kubeconfigs: Kubeconfigs) -> None:
    double = ApiServerDouble(ca, many_pods(12), tokens={"t": "u"}, expire_continue=True)
    with double as server, pytest.raises(EnvironmentProblem) as err:
        source(kubeconfigs.one(server, {"token": "t"}), chunk_size=5).read()
    assert str(err.value).startswith(
        "context only: the list of pods changed too much while it was read page by page "
        "(410 Gone: The provided continue parameter is too old")
    assert str(err.value).endswith("run the command again")


def test_in_cluster_service_account(alpha: ApiServerDouble, ca: trustme.CA,
                                    tmp_path: Path) -> None:
    account = tmp_path / "serviceaccount"
    account.mkdir()
    (account / "token").write_text(TOKEN_BOB + "\n")
    (account / "ca.crt").write_bytes(ca.cert_pem.bytes())
    (account / "namespace").write_text("prod")
    alpha.tokens[TOKEN_BOB] = "system:serviceaccount:prod:stockade"
    port = alpha.url.rsplit(":", 1)[1]
    env = {"KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": port,
           "HOME": str(tmp_path)}  # no kubeconfig anywhere
    src = ClusterSource.from_kubeconfig(environ=env, service_account_dir=str(account),
                                        warn=lambda m: None)
    objects = src.read(namespace="prod")
    assert src.config.label == "in-cluster service account"
    assert {str(o.origin) for o in objects} == {f"cluster {alpha.url}"}
    assert len(objects) == 11 + sum(CLUSTER_POLICIES.values())
    assert {s.user for s in alpha.seen} == {"system:serviceaccount:prod:stockade"}


def test_reader_makes_no_writes_and_builds_equal_clusters_twice(
        alpha: ApiServerDouble, beta: ApiServerDouble, kubeconfigs: Kubeconfigs) -> None:
    src = source(kubeconfigs.two_contexts(alpha, beta))
    first, second = src.read(), src.read()
    assert first == second
    assert recorded_cluster() == alpha.objects  # the server's objects are untouched


def exec_user(tmp_path: Path, api_version: str, token: str) -> dict[str, object]:
    script = tmp_path / "credential-plugin.py"
    credential = {"apiVersion": api_version, "kind": "ExecCredential",
                  "status": {"token": token}}
    script.write_text(f"import json\nprint(json.dumps({credential!r}))\n")
    return {"exec": {"apiVersion": api_version, "command": sys.executable,
                     "args": [str(script)]}}


def test_exec_credential_plugin(alpha: ApiServerDouble, kubeconfigs: Kubeconfigs,
                                tmp_path: Path) -> None:
    alpha.tokens["from-plugin"] = "carol"
    user = exec_user(tmp_path, "client.authentication.k8s.io/v1beta1", "from-plugin")
    objects = source(kubeconfigs.one(alpha, user)).read(namespace="dev")
    assert len(objects) == 8 + sum(CLUSTER_POLICIES.values())
    assert {s.user for s in alpha.seen} == {"carol"}


def test_exec_plugin_api_version_lightkube_does_not_know(
        alpha: ApiServerDouble, kubeconfigs: Kubeconfigs, tmp_path: Path) -> None:
    user = exec_user(tmp_path, "client.authentication.k8s.io/v1", "x")
    with pytest.raises(InputError) as err:
        source(kubeconfigs.one(alpha, user)).read()
    assert str(err.value) == ("context only: auth exec api version "
                              "client.authentication.k8s.io/v1 not implemented")


def test_cluster_wide_policies_are_read_and_built(
        alpha: ApiServerDouble, beta: ApiServerDouble, kubeconfigs: Kubeconfigs) -> None:
    objects = source(kubeconfigs.two_contexts(alpha, beta)).read()
    cnp = next(o.data for o in objects if o.kind == "ClusterNetworkPolicy")
    assert cnp["apiVersion"] == "policy.networking.k8s.io/v1alpha2" and "status" not in cnp
    result = build_cluster(objects)
    assert not result.findings
    assert [p.key for p in result.cluster.cluster_policies] == [
        "ClusterNetworkPolicy/protect-prod", "AdminNetworkPolicy/dns",
        "BaselineAdminNetworkPolicy/default"]


def test_cluster_wide_policy_crds_not_installed_is_a_note(
        alpha: ApiServerDouble, beta: ApiServerDouble, kubeconfigs: Kubeconfigs,
        capsys: pytest.CaptureFixture[str]) -> None:
    src = source(kubeconfigs.two_contexts(alpha, beta), context="beta")
    objects = src.read()
    assert {o.kind for o in objects} == {"Namespace", "Pod"}
    assert src.warnings == []
    assert src.notes == [
        "context beta: no cluster-wide policies of these kinds: the server does not serve "
        "clusternetworkpolicies.policy.networking.k8s.io/v1alpha2, "
        "adminnetworkpolicies.policy.networking.k8s.io/v1alpha1, "
        "baselineadminnetworkpolicies.policy.networking.k8s.io/v1alpha1 (their CRDs are not "
        "installed)"]
    assert f"note: {src.notes[0]}" in capsys.readouterr().err


def test_forbidden_cluster_wide_policies_fail(
        alpha: ApiServerDouble, beta: ApiServerDouble, kubeconfigs: Kubeconfigs) -> None:
    alpha.denies.append(Deny("list", "adminnetworkpolicies"))
    with pytest.raises(InputError, match="adminnetworkpolicies"):
        source(kubeconfigs.two_contexts(alpha, beta)).read()
