"""The Kubernetes objects stockade understands, as frozen typed values.

Pure data: no parsing, no I/O, no behaviour beyond trivial accessors. Field names follow
the Kubernetes API (``pod_selector``, ``policy_types``, ``ip_block``) so that a reader who
knows the API knows the model. Values are kept as the user wrote them (a ``cidr`` string, a
``protocol`` string) so that validation can report them verbatim; the engine normalises.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"


class Protocol(enum.StrEnum):
    TCP = "TCP"
    UDP = "UDP"
    SCTP = "SCTP"


class PolicyType(enum.StrEnum):
    INGRESS = "Ingress"
    EGRESS = "Egress"


@dataclass(frozen=True, slots=True)
class Origin:
    """Where an object came from: a file (or ``-``, or a cluster URL) and a 1-based line."""

    file: str
    line: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


UNKNOWN_ORIGIN = Origin("<input>")


@dataclass(frozen=True, slots=True)
class LabelSelectorRequirement:
    key: str
    operator: str  # "In" | "NotIn" | "Exists" | "DoesNotExist"; validation rejects others
    values: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LabelSelector:
    """``metav1.LabelSelector``. The empty selector matches everything."""

    match_labels: tuple[tuple[str, str], ...] = ()
    match_expressions: tuple[LabelSelectorRequirement, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not self.match_labels and not self.match_expressions


@dataclass(frozen=True, slots=True)
class IPBlock:
    cidr: str
    except_: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class NetworkPolicyPeer:
    pod_selector: LabelSelector | None = None
    namespace_selector: LabelSelector | None = None
    ip_block: IPBlock | None = None


@dataclass(frozen=True, slots=True)
class NetworkPolicyPort:
    """One ``ports[]`` entry after defaulting (``protocol`` is ``TCP`` when absent).

    ``port`` is an ``int`` (a number), a ``str`` (a named port) or ``None`` (all ports).
    """

    protocol: str = "TCP"
    port: int | str | None = None
    end_port: int | None = None


@dataclass(frozen=True, slots=True)
class NetworkPolicyRule:
    """An ingress rule (``peers`` = ``from``) or an egress rule (``peers`` = ``to``).

    An empty ``ports`` or ``peers`` tuple means "unrestricted", as in the API.
    """

    ports: tuple[NetworkPolicyPort, ...] = ()
    peers: tuple[NetworkPolicyPeer, ...] = ()


@dataclass(frozen=True, slots=True)
class ObjectMeta:
    name: str
    namespace: str = ""
    labels: tuple[tuple[str, str], ...] = ()
    generate_name: str = ""
    owner_references: tuple[OwnerReference, ...] = ()
    annotations: tuple[tuple[str, str], ...] = ()  # only stockade's own (stockade.dev/...)

    @property
    def label_map(self) -> dict[str, str]:
        return dict(self.labels)

    def annotation(self, key: str) -> str | None:
        return next((v for k, v in self.annotations if k == key), None)


@dataclass(frozen=True, slots=True)
class OwnerReference:
    kind: str
    name: str
    controller: bool = False


@dataclass(frozen=True, slots=True)
class NetworkPolicy:
    metadata: ObjectMeta
    pod_selector: LabelSelector = LabelSelector()
    policy_types: tuple[str, ...] = ("Ingress",)
    ingress: tuple[NetworkPolicyRule, ...] = ()
    egress: tuple[NetworkPolicyRule, ...] = ()
    origin: Origin = UNKNOWN_ORIGIN
    # True when spec.policyTypes was absent or empty and the API server's default applied.
    policy_types_defaulted: bool = False
    kind = "NetworkPolicy"

    @property
    def namespace(self) -> str:
        return self.metadata.namespace

    @property
    def name(self) -> str:
        return self.metadata.name

    @property
    def key(self) -> str:
        return f"{self.metadata.namespace}/{self.metadata.name}"

    def applies_to(self, direction: PolicyType) -> bool:
        return direction.value in self.policy_types


@dataclass(frozen=True, slots=True)
class Namespace:
    metadata: ObjectMeta
    origin: Origin = UNKNOWN_ORIGIN
    declared: bool = True  # False when only implied by a pod or policy that lives in it
    kind = "Namespace"

    @property
    def name(self) -> str:
        return self.metadata.name

    @property
    def labels(self) -> dict[str, str]:
        """The namespace's labels including the automatic ``kubernetes.io/metadata.name``."""
        labels = self.metadata.label_map
        labels[NAMESPACE_NAME_LABEL] = self.metadata.name
        return labels


@dataclass(frozen=True, slots=True)
class ContainerPort:
    container_port: int
    protocol: str = "TCP"
    name: str = ""


@dataclass(frozen=True, slots=True)
class VolumeMount:
    name: str
    mount_path: str


@dataclass(frozen=True, slots=True)
class EnvVar:
    """One ``env`` entry: a literal ``value``, or ``value_from`` naming its source
    (``fieldRef``, ``resourceFieldRef``, ``configMapKeyRef`` or ``secretKeyRef``;
    ``field_path`` for a fieldRef)."""

    name: str
    value: str = ""
    value_from: str = ""
    field_path: str = ""


@dataclass(frozen=True, slots=True)
class SecurityContext:
    """The identity fields of a pod's or container's ``securityContext``."""

    run_as_user: int | None = None
    run_as_group: int | None = None


@dataclass(frozen=True, slots=True)
class Container:
    name: str
    ports: tuple[ContainerPort, ...] = ()
    command: tuple[str, ...] = ()
    args: tuple[str, ...] = ()
    volume_mounts: tuple[VolumeMount, ...] = ()
    image: str = ""
    env: tuple[EnvVar, ...] = ()
    env_from: tuple[str, ...] = ()  # the kinds of its envFrom sources (configMapRef, ...)
    working_dir: str = ""
    security_context: SecurityContext = SecurityContext()


@dataclass(frozen=True, slots=True)
class HostAlias:
    ip: str
    hostnames: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PodSpec:
    containers: tuple[Container, ...] = ()
    init_containers: tuple[Container, ...] = ()
    host_network: bool = False
    host_aliases: tuple[HostAlias, ...] = ()
    hostname: str = ""
    subdomain: str = ""
    set_hostname_as_fqdn: bool = False
    node_name: str = ""
    security_context: SecurityContext = SecurityContext()


@dataclass(frozen=True, slots=True)
class Pod:
    """A Pod, or a workload's pod template standing for its pods (``template_of`` set).

    ``ips`` come from ``status.podIPs`` / ``status.podIP``, primary first; ``host_ips``, the
    addresses of the pod's node, from ``status.hostIPs`` / ``status.hostIP``.
    """

    metadata: ObjectMeta
    spec: PodSpec = PodSpec()
    ips: tuple[str, ...] = ()
    host_ips: tuple[str, ...] = ()
    origin: Origin = UNKNOWN_ORIGIN
    template_of: str = ""  # "Deployment/web" for a workload's template, "" for a real Pod
    kind = "Pod"

    @property
    def namespace(self) -> str:
        return self.metadata.namespace

    @property
    def name(self) -> str:
        return self.metadata.name

    @property
    def key(self) -> str:
        """``ns/name`` for a pod, ``ns/Kind/name`` for a workload."""
        if self.template_of:
            return f"{self.metadata.namespace}/{self.template_of}"
        return f"{self.metadata.namespace}/{self.metadata.name}"

    @property
    def labels(self) -> dict[str, str]:
        return self.metadata.label_map

    @property
    def host_network(self) -> bool:
        return self.spec.host_network

    def container_ports(self) -> tuple[ContainerPort, ...]:
        """Ports a named-port rule may resolve against: every regular container's ports."""
        return tuple(p for c in self.spec.containers for p in c.ports)


@dataclass(frozen=True, slots=True)
class ServicePort:
    port: int
    target_port: int | str | None = None  # None: same as port
    protocol: str = "TCP"
    name: str = ""


@dataclass(frozen=True, slots=True)
class Service:
    metadata: ObjectMeta
    selector: tuple[tuple[str, str], ...] | None = None  # None: no selector
    ports: tuple[ServicePort, ...] = ()
    type: str = "ClusterIP"
    external_name: str = ""
    cluster_ips: tuple[str, ...] = ()
    origin: Origin = UNKNOWN_ORIGIN
    kind = "Service"

    @property
    def namespace(self) -> str:
        return self.metadata.namespace

    @property
    def name(self) -> str:
        return self.metadata.name

    @property
    def key(self) -> str:
        return f"{self.metadata.namespace}/{self.metadata.name}"


@dataclass(frozen=True, slots=True)
class Workload:
    """A controller (Deployment, StatefulSet, ...) reduced to what policies see: its template."""

    kind_name: str  # "Deployment"
    metadata: ObjectMeta
    selector: LabelSelector | None
    template: Pod
    origin: Origin = UNKNOWN_ORIGIN

    @property
    def kind(self) -> str:
        return self.kind_name

    @property
    def namespace(self) -> str:
        return self.metadata.namespace

    @property
    def name(self) -> str:
        return self.metadata.name

    @property
    def key(self) -> str:
        return f"{self.metadata.namespace}/{self.kind_name}/{self.metadata.name}"


NODE_IP_TYPES = ("InternalIP", "ExternalIP")


@dataclass(frozen=True, slots=True)
class NodeAddress:
    """One ``status.addresses`` entry: ``type`` is InternalIP, ExternalIP, Hostname, ..."""

    type: str
    address: str


@dataclass(frozen=True, slots=True)
class Node:
    """A Node, reduced to what NetworkPolicy needs: its name and its addresses (traffic
    between a pod and its own node is always allowed)."""

    metadata: ObjectMeta
    addresses: tuple[NodeAddress, ...] = ()
    origin: Origin = UNKNOWN_ORIGIN
    kind = "Node"

    @property
    def name(self) -> str:
        return self.metadata.name

    @property
    def key(self) -> str:
        return self.metadata.name

    @property
    def ips(self) -> tuple[str, ...]:
        """The InternalIP and ExternalIP addresses, in order (other types are names)."""
        return tuple(a.address for a in self.addresses if a.type in NODE_IP_TYPES)


@dataclass(frozen=True, slots=True)
class Cluster:
    """Everything read from the inputs, after decoding. Namespaces include implied ones."""

    namespaces: tuple[Namespace, ...] = ()
    pods: tuple[Pod, ...] = ()
    policies: tuple[NetworkPolicy, ...] = ()
    services: tuple[Service, ...] = ()
    workloads: tuple[Workload, ...] = ()
    notes: tuple[str, ...] = field(default=())
    nodes: tuple[Node, ...] = ()

    def namespace(self, name: str) -> Namespace | None:
        for ns in self.namespaces:
            if ns.name == name:
                return ns
        return None
