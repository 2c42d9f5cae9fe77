"""The Kubernetes resources stockade reads from a live cluster, and how the API names them.

Kept apart from the reader so that error messages and the snapshot writer can name a
resource the way RBAC and kubectl do (``networkpolicies.networking.k8s.io``) without I/O.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ResourceKind:
    kind: str
    group: str  # "" for the core group
    version: str
    plural: str
    namespaced: bool = True

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def qualified(self) -> str:
        """The name RBAC and ``kubectl get`` use: plural, dot, group (core: plural alone)."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def group_phrase(self) -> str:
        return f"group {self.group}" if self.group else 'core group ""'


NAMESPACE = ResourceKind("Namespace", "", "v1", "namespaces", namespaced=False)
# Read for the nodes' addresses (traffic between a pod and its node is always allowed);
# cluster-scoped, so a namespaced Role cannot read them: the reader then warns and goes on.
NODE = ResourceKind("Node", "", "v1", "nodes", namespaced=False)

# Read in this order; a snapshot lists them in this order too, policies near the top where
# a reader looks first and the (many) pods last.
NAMESPACED: tuple[ResourceKind, ...] = (
    ResourceKind("NetworkPolicy", "networking.k8s.io", "v1", "networkpolicies"),
    ResourceKind("Service", "", "v1", "services"),
    ResourceKind("Deployment", "apps", "v1", "deployments"),
    ResourceKind("ReplicaSet", "apps", "v1", "replicasets"),
    ResourceKind("StatefulSet", "apps", "v1", "statefulsets"),
    ResourceKind("DaemonSet", "apps", "v1", "daemonsets"),
    ResourceKind("Job", "batch", "v1", "jobs"),
    ResourceKind("CronJob", "batch", "v1", "cronjobs"),
    ResourceKind("ReplicationController", "", "v1", "replicationcontrollers"),
    ResourceKind("Pod", "", "v1", "pods"),
)

# Cluster-wide policies are CRDs a cluster may not have installed: a kind its API server does
# not serve is skipped with a note, not an error. They are read whatever ``-n`` says, since
# they apply across namespaces.
CLUSTER_POLICIES: tuple[ResourceKind, ...] = (
    ResourceKind("ClusterNetworkPolicy", "policy.networking.k8s.io", "v1alpha2",
                 "clusternetworkpolicies", namespaced=False),
    ResourceKind("AdminNetworkPolicy", "policy.networking.k8s.io", "v1alpha1",
                 "adminnetworkpolicies", namespaced=False),
    ResourceKind("BaselineAdminNetworkPolicy", "policy.networking.k8s.io", "v1alpha1",
                 "baselineadminnetworkpolicies", namespaced=False),
)

ALL: tuple[ResourceKind, ...] = (NAMESPACE, NODE, *NAMESPACED, *CLUSTER_POLICIES)
