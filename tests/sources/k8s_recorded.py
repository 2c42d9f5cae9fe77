"""Objects as a real API server stores and returns them, for the API server double.

Shaped after ``kubectl get -o json`` output of a small kind cluster: server-set fields
(uid, resourceVersion, managedFields, creationTimestamp, status conditions) are present so
that the tests can check they are trimmed, and status podIPs so they can check they are kept.
"""

from __future__ import annotations

import copy
from typing import Any

_MANAGED = [{"manager": "kubectl-client-side-apply", "operation": "Update",
             "apiVersion": "v1", "time": "2024-05-02T09:14:03Z", "fieldsType": "FieldsV1",
             "fieldsV1": {"f:metadata": {"f:labels": {".": {}, "f:app": {}}}}}]


def _meta(name: str, namespace: str | None, labels: dict[str, str], uid: int,
          **extra: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace is not None:
        meta["namespace"] = namespace
    meta.update({
        "uid": f"6f1c2b0e-0000-4000-8000-{uid:012d}",
        "resourceVersion": str(1000 + uid),
        "creationTimestamp": "2024-05-02T09:14:03Z",
        "labels": labels,
        "managedFields": copy.deepcopy(_MANAGED),
    })
    meta.update(extra)
    return meta


def _container(name: str, port: int) -> dict[str, Any]:
    return {"name": name, "image": f"registry.k8s.io/{name}:1.0",
            "ports": [{"containerPort": port, "protocol": "TCP", "name": "http"}],
            "resources": {}, "terminationMessagePath": "/dev/termination-log",
            "terminationMessagePolicy": "File", "imagePullPolicy": "IfNotPresent"}


def _template(labels: dict[str, str], port: int = 8080) -> dict[str, Any]:
    return {"metadata": {"labels": labels, "creationTimestamp": None},
            "spec": {"containers": [_container("app", port)], "restartPolicy": "Always",
                     "dnsPolicy": "ClusterFirst"}}


def namespace(name: str, labels: dict[str, str], uid: int) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": _meta(name, None, {"kubernetes.io/metadata.name": name, **labels}, uid),
            "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}


def pod(name: str, ns: str, labels: dict[str, str], ip: str, uid: int, *,
        owner: tuple[str, str] | None = None) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    if owner:
        extra["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": owner[0],
                                     "name": owner[1], "uid": "x", "controller": True,
                                     "blockOwnerDeletion": True}]
        extra["generateName"] = f"{owner[1]}-"
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": _meta(name, ns, labels, uid, **extra),
        "spec": {"containers": [_container("app", 8080)], "nodeName": "kind-worker",
                 "hostAliases": [{"ip": "10.1.2.3", "hostnames": ["legacy.local"]}],
                 "restartPolicy": "Always", "serviceAccountName": "default"},
        "status": {"phase": "Running", "hostIP": "172.18.0.2",
                   "hostIPs": [{"ip": "172.18.0.2"}], "podIP": ip,
                   "podIPs": [{"ip": ip}], "startTime": "2024-05-02T09:14:05Z",
                   "qosClass": "BestEffort",
                   "conditions": [{"type": "Ready", "status": "True",
                                   "lastTransitionTime": "2024-05-02T09:14:09Z"}],
                   "containerStatuses": [{"name": "app", "ready": True, "restartCount": 0,
                                          "image": "registry.k8s.io/app:1.0",
                                          "imageID": "sha256:abc", "started": True,
                                          "state": {"running": {
                                              "startedAt": "2024-05-02T09:14:08Z"}}}]},
    }


def node(name: str, address: str, uid: int) -> dict[str, Any]:
    """A kubelet-registered Node: most of its status is of no use to stockade."""
    return {
        "apiVersion": "v1", "kind": "Node",
        "metadata": _meta(name, None, {"kubernetes.io/hostname": name,
                                       "kubernetes.io/os": "linux"}, uid,
                          annotations={"node.alpha.kubernetes.io/ttl": "0"}),
        "spec": {"podCIDR": "10.244.1.0/24", "podCIDRs": ["10.244.1.0/24"],
                 "providerID": f"kind://docker/kind/{name}"},
        "status": {"addresses": [{"type": "InternalIP", "address": address},
                                 {"type": "Hostname", "address": name}],
                   "capacity": {"cpu": "2", "memory": "24Gi", "pods": "110"},
                   "conditions": [{"type": "Ready", "status": "True",
                                   "lastHeartbeatTime": "2024-05-02T09:20:00Z"}],
                   "nodeInfo": {"kubeletVersion": "v1.30.0"},
                   "images": [{"names": ["registry.k8s.io/pause:3.9"], "sizeBytes": 321}]},
    }


def workload(kind: str, name: str, ns: str, labels: dict[str, str], uid: int) -> dict[str, Any]:
    api = {"Job": "batch/v1", "CronJob": "batch/v1", "ReplicationController": "v1"}
    spec: dict[str, Any]
    if kind == "CronJob":
        spec = {"schedule": "*/5 * * * *", "jobTemplate": {"spec": {
            "template": {**_template(labels), "spec": {
                **_template(labels)["spec"], "restartPolicy": "OnFailure"}}}}}
    elif kind == "Job":
        tmpl = _template(labels)
        tmpl["spec"]["restartPolicy"] = "Never"
        spec = {"template": tmpl, "backoffLimit": 6}
    elif kind == "ReplicationController":
        spec = {"replicas": 1, "selector": labels, "template": _template(labels)}
    else:
        spec = {"selector": {"matchLabels": labels}, "template": _template(labels)}
    return {"apiVersion": api.get(kind, "apps/v1"), "kind": kind,
            "metadata": _meta(name, ns, labels, uid,
                              annotations={"kubectl.kubernetes.io/last-applied-configuration":
                                           '{"apiVersion":"apps/v1"}',
                                           "team.example.com/owner": "payments"}),
            "spec": spec, "status": {"observedGeneration": 1}}


def recorded_cluster() -> list[dict[str, Any]]:
    """Namespaces prod and dev (and default), every workload kind, a policy, a service."""
    objects = [
        namespace("default", {}, 1),
        namespace("prod", {"env": "prod", "team": "payments"}, 2),
        namespace("dev", {"env": "dev"}, 3),
        node("kind-control-plane", "172.18.0.3", 4),
        node("kind-worker", "172.18.0.2", 5),
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
         "metadata": _meta("db-ingress", "prod", {}, 10, generation=1),
         "spec": {"podSelector": {"matchLabels": {"app": "db"}},
                  "policyTypes": ["Ingress"],
                  "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"env": "prod"}},
                                         "podSelector": {"matchLabels": {"app": "api"}}}],
                               "ports": [{"protocol": "TCP", "port": 5432}]}]}},
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
         "metadata": _meta("default-deny", "dev", {}, 11, generation=1),
         "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}},
        {"apiVersion": "v1", "kind": "Service",
         "metadata": _meta("db", "prod", {"app": "db"}, 20),
         "spec": {"selector": {"app": "db"}, "type": "ClusterIP",
                  "clusterIP": "10.96.14.7", "clusterIPs": ["10.96.14.7"],
                  "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack",
                  "ports": [{"name": "pg", "port": 5432, "protocol": "TCP",
                             "targetPort": 5432}]},
         "status": {"loadBalancer": {}}},
        workload("Deployment", "api", "prod", {"app": "api"}, 30),
        workload("ReplicaSet", "api-7d9f8", "prod", {"app": "api"}, 31),
        workload("StatefulSet", "db", "prod", {"app": "db"}, 32),
        workload("DaemonSet", "agent", "dev", {"app": "agent"}, 33),
        workload("Job", "migrate", "prod", {"app": "migrate"}, 34),
        workload("CronJob", "report", "dev", {"app": "report"}, 35),
        workload("ReplicationController", "legacy", "dev", {"app": "legacy"}, 36),
        pod("api-7d9f8-abcde", "prod", {"app": "api"}, "10.244.1.5", 40,
            owner=("ReplicaSet", "api-7d9f8")),
        pod("db-0", "prod", {"app": "db"}, "10.244.1.6", 41, owner=("StatefulSet", "db")),
        pod("agent-x1", "dev", {"app": "agent"}, "10.244.2.3", 42),
        pod("web", "default", {"app": "web"}, "10.244.2.4", 43),
    ]
    # A pod being deleted: its timestamp must survive the YAML round trip as a string.
    objects[-1]["metadata"]["deletionTimestamp"] = "2024-05-02T10:00:00Z"
    return objects + cluster_policies()


def cluster_policies() -> list[dict[str, Any]]:
    """One policy of each cluster-wide kind, with the status an implementation writes."""
    status = {"conditions": [{"type": "Ready", "status": "True", "reason": "Applied",
                              "message": "", "lastTransitionTime": "2024-05-02T09:14:03Z"}]}
    return [
        {"apiVersion": "policy.networking.k8s.io/v1alpha2", "kind": "ClusterNetworkPolicy",
         "metadata": _meta("protect-prod", None, {}, 60, generation=1),
         "spec": {"tier": "Admin", "priority": 10,
                  "subject": {"namespaces": {"matchLabels": {"env": "prod"}}},
                  "ingress": [{"action": "Deny", "from": [{"namespaces": {
                      "matchLabels": {"env": "dev"}}}]}]},
         "status": status},
        {"apiVersion": "policy.networking.k8s.io/v1alpha1", "kind": "AdminNetworkPolicy",
         "metadata": _meta("dns", None, {}, 61, generation=1),
         "spec": {"priority": 5, "subject": {"namespaces": {}},
                  "egress": [{"action": "Allow", "to": [{"pods": {
                      "namespaceSelector": {}, "podSelector": {"matchLabels": {
                          "k8s-app": "kube-dns"}}}}],
                      "ports": [{"portNumber": {"protocol": "UDP", "port": 53}}]}]},
         "status": status},
        {"apiVersion": "policy.networking.k8s.io/v1alpha1",
         "kind": "BaselineAdminNetworkPolicy",
         "metadata": _meta("default", None, {}, 62, generation=1),
         "spec": {"subject": {"namespaces": {"matchLabels": {"env": "prod"}}},
                  "ingress": [{"action": "Deny", "from": [{"namespaces": {
                      "matchLabels": {"env": "dev"}}}]}]},
         "status": status},
    ]


def many_pods(count: int, ns: str = "load") -> list[dict[str, Any]]:
    return [pod(f"p{i:04d}", ns, {"app": f"a{i % 7}"}, f"10.245.{i // 250}.{i % 250 + 1}",
                1000 + i) for i in range(count)]
