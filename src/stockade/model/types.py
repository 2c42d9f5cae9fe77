"""The Kubernetes objects stockade understands, as frozen typed values.

Pure data: no parsing, no I/O, no behaviour beyond trivial accessors. Field names follow
the Kubernetes API (``pod_selector``, ``policy_types``, ``ip_block``) so that a reader who
knows the API knows the model. Values are kept as the user wrote them (a ``cidr`` string, a
``protocol`` string) so that validation can report them verbatim; the engine normalises.

The records are frozen ``msgspec.Struct`` classes: they are made in bulk, several per
object of the cluster, and a Struct is made in about a sixth of a frozen dataclass's time,
its class in a thirtieth (``dataclasses`` compiles each class's methods, and every run
imports these). So are the other records that a plain analysis imports (the engine's, the
matrix's, reading and building); records only other commands use stay dataclasses. They
compare, hash, pickle and print as frozen dataclasses do; copy one with
``msgspec.structs.replace``.
"""

from __future__ import annotations

import enum

import msgspec

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"


class Protocol(enum.StrEnum):
    TCP = "TCP"
    UDP = "UDP"
    SCTP = "SCTP"


class PolicyType(enum.StrEnum):
    INGRESS = "Ingress"
    EGRESS = "Egress"


class Origin(msgspec.Struct, frozen=True):
    """Where an object came from: a file (or ``-``, or a cluster URL) and a 1-based line."""

    file: str
    line: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


UNKNOWN_ORIGIN = Origin("<input>")


class LabelSelectorRequirement(msgspec.Struct, frozen=True):
    key: str
    operator: str  # "In" | "NotIn" | "Exists" | "DoesNotExist"; validation rejects others
    values: tuple[str, ...] = ()


class LabelSelector(msgspec.Struct, frozen=True):
    """``metav1.LabelSelector``. The empty selector matches everything."""

    match_labels: tuple[tuple[str, str], ...] = ()
    match_expressions: tuple[LabelSelectorRequirement, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not self.match_labels and not self.match_expressions


class IPBlock(msgspec.Struct, frozen=True):
    cidr: str
    except_: tuple[str, ...] = ()


class NetworkPolicyPeer(msgspec.Struct, frozen=True):
    pod_selector: LabelSelector | None = None
    namespace_selector: LabelSelector | None = None
    ip_block: IPBlock | None = None


class NetworkPolicyPort(msgspec.Struct, frozen=True):
    """One ``ports[]`` entry after defaulting (``protocol`` is ``TCP`` when absent).

    ``port`` is an ``int`` (a number), a ``str`` (a named port) or ``None`` (all ports).
    """

    protocol: str = "TCP"
    port: int | str | None = None
    end_port: int | None = None


class NetworkPolicyRule(msgspec.Struct, frozen=True):
    """An ingress rule (``peers`` = ``from``) or an egress rule (``peers`` = ``to``).

    An empty ``ports`` or ``peers`` tuple means "unrestricted", as in the API.
    """

    ports: tuple[NetworkPolicyPort, ...] = ()
    peers: tuple[NetworkPolicyPeer, ...] = ()


class ObjectMeta(msgspec.Struct, frozen=True):
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


class OwnerReference(msgspec.Struct, frozen=True):
    kind: str
    name: str
    controller: bool = False


class NetworkPolicy(msgspec.Struct, frozen=True):
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


class Namespace(msgspec.Struct, frozen=True):
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


class ContainerPort(msgspec.Struct, frozen=True):
    container_port: int
    protocol: str = "TCP"
    name: str = ""


class VolumeMount(msgspec.Struct, frozen=True):
    name: str
    mount_path: str


class EnvVar(msgspec.Struct, frozen=True):
    """One ``env`` entry: a literal ``value``, or ``value_from`` naming its source
    (``fieldRef``, ``resourceFieldRef``, ``configMapKeyRef`` or ``secretKeyRef``;
    ``field_path`` for a fieldRef)."""

    name: str
    value: str = ""
    value_from: str = ""
    field_path: str = ""


class SecurityContext(msgspec.Struct, frozen=True):
    """The identity fields of a pod's or container's ``securityContext``."""

    run_as_user: int | None = None
    run_as_group: int | None = None


class Container(msgspec.Struct, frozen=True):
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
    # An init container's "Always" makes it a native sidecar: it runs beside the regular
    # containers. Read for that only; its values are not validated.
    restart_policy: str = ""


class HostAlias(msgspec.Struct, frozen=True):
    ip: str
    hostnames: tuple[str, ...] = ()


class PodSpec(msgspec.Struct, frozen=True):
    containers: tuple[Container, ...] = ()
    init_containers: tuple[Container, ...] = ()
    host_network: bool = False
    host_aliases: tuple[HostAlias, ...] = ()
    hostname: str = ""
    subdomain: str = ""
    set_hostname_as_fqdn: bool = False
    node_name: str = ""
    security_context: SecurityContext = SecurityContext()


class Pod(msgspec.Struct, frozen=True):
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
        """Ports a named-port rule may resolve against: every regular container's ports (as
        kube-network-policies, the SIG's implementation, reads them)."""
        return tuple(p for c in self.spec.containers for p in c.ports)

    def serving_ports(self) -> tuple[ContainerPort, ...]:
        """The ports of the containers that run while the pod serves: the regular ones',
        then the native sidecars' (init containers with ``restartPolicy: Always``), the
        order in which the endpoints controller's ``FindPort`` looks up a Service's named
        ``targetPort``."""
        sidecars = tuple(p for c in self.spec.init_containers if c.restart_policy == "Always"
                         for p in c.ports)
        return self.container_ports() + sidecars if sidecars else self.container_ports()


class ServicePort(msgspec.Struct, frozen=True):
    port: int
    target_port: int | str | None = None  # None: same as port
    protocol: str = "TCP"
    name: str = ""
    node_port: int = 0  # 0: none requested
    app_protocol: str | None = None


class Service(msgspec.Struct, frozen=True):
    metadata: ObjectMeta
    selector: tuple[tuple[str, str], ...] | None = None  # None: no selector
    ports: tuple[ServicePort, ...] = ()
    type: str = "ClusterIP"
    external_name: str = ""
    cluster_ips: tuple[str, ...] = ()  # spec.clusterIPs, or [spec.clusterIP] when only it is set
    origin: Origin = UNKNOWN_ORIGIN
    # What only validation reads, after the API server's defaulting (docs/validation.md).
    cluster_ip: str = ""  # spec.clusterIP as written
    ip_families: tuple[str, ...] = ()
    ip_family_policy: str | None = None
    session_affinity: str = "None"
    affinity_timeout: int | None = None  # ClientIP's timeoutSeconds; defaulted to 10800
    external_ips: tuple[str, ...] = ()
    load_balancer_source_ranges: tuple[str, ...] = ()
    allocate_load_balancer_node_ports: bool | None = None
    load_balancer_class: str | None = None
    external_traffic_policy: str = ""
    internal_traffic_policy: str | None = None
    health_check_node_port: int = 0
    traffic_distribution: str | None = None
    annotations: tuple[tuple[str, str], ...] = ()  # the service annotations validation reads
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


class Workload(msgspec.Struct, frozen=True):
    """A controller (Deployment, StatefulSet, ...) reduced to what policies see: its template."""

    kind_name: str  # "Deployment"
    metadata: ObjectMeta
    selector: LabelSelector | None
    template: Pod
    origin: Origin = UNKNOWN_ORIGIN
    replicas: int | None = None  # spec.replicas (a Job's spec.parallelism); None: not set
    manual_selector: bool = False  # a Job's (or CronJob's job template's) manualSelector

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


class NodeAddress(msgspec.Struct, frozen=True):
    """One ``status.addresses`` entry: ``type`` is InternalIP, ExternalIP, Hostname, ..."""

    type: str
    address: str


class Node(msgspec.Struct, frozen=True):
    """A Node, reduced to what NetworkPolicy needs: its name and its addresses (traffic
    between a pod and its own node is always allowed)."""

    metadata: ObjectMeta
    addresses: tuple[NodeAddress, ...] = ()
    origin: Origin = UNKNOWN_ORIGIN
    pod_cidrs: tuple[str, ...] = ()  # spec.podCIDRs (or podCIDR): where its pods' addresses are
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


class Tier(enum.StrEnum):
    """Where a cluster-wide policy is evaluated: before (Admin) or after (Baseline) the
    NetworkPolicy tier."""

    ADMIN = "Admin"
    BASELINE = "Baseline"


class RuleAction(enum.StrEnum):
    """A cluster policy rule's effect. v1alpha1's ``Allow`` is ``ACCEPT``."""

    ACCEPT = "Accept"
    DENY = "Deny"
    PASS = "Pass"


class NamespacedPod(msgspec.Struct, frozen=True):
    """``pods: {namespaceSelector, podSelector}`` of a cluster policy subject or peer."""

    namespace_selector: LabelSelector = LabelSelector()
    pod_selector: LabelSelector = LabelSelector()


class ClusterPolicySubject(msgspec.Struct, frozen=True):
    """Exactly one of ``namespaces`` or ``pods`` is set in a valid object."""

    namespaces: LabelSelector | None = None
    pods: NamespacedPod | None = None


class ClusterPolicyPeer(msgspec.Struct, frozen=True):
    """One ``from``/``to`` entry. A valid object sets exactly one field; ``unknown`` names
    fields stockade does not know (a newer CRD): a peer with only those fails closed."""

    namespaces: LabelSelector | None = None
    pods: NamespacedPod | None = None
    nodes: LabelSelector | None = None
    networks: tuple[str, ...] = ()
    domain_names: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()

    @property
    def fails_closed(self) -> bool:
        return (self.namespaces is None and self.pods is None and self.nodes is None
                and not self.networks and not self.domain_names)


class ClusterPolicyPort(msgspec.Struct, frozen=True):
    """One ``ports[]`` (v1alpha1) or ``protocols[]`` (v1alpha2) entry, normalised.

    Numbers and ranges: ``protocol`` with ``first..last`` (inclusive; a v1alpha1 range
    with start > end is empty). A named port has ``name`` and no protocol: it resolves on
    the destination pod to the container port of that name, whatever its protocol.
    ``field`` is the entry's field as written (``portNumber``, ``portRange``,
    ``namedPort``, ``tcp``, ``udp``, ``sctp``, ``destinationNamedPort``).
    """

    field: str
    protocol: str = ""
    first: int = 1
    last: int = 65535
    name: str = ""


class ClusterPolicyRule(msgspec.Struct, frozen=True):
    """An ingress rule (``peers`` = ``from``) or egress rule (``peers`` = ``to``).
    ``ports`` is ``None`` when the rule has no ``ports``/``protocols``: all traffic."""

    action: RuleAction
    peers: tuple[ClusterPolicyPeer, ...] = ()
    ports: tuple[ClusterPolicyPort, ...] | None = None
    name: str = ""
    action_text: str = ""  # as written: v1alpha1 says "Allow" where v1alpha2 says "Accept"


class ClusterNetworkPolicy(msgspec.Struct, frozen=True):
    """A cluster-wide policy of either API version, in one shape.

    ``kind`` says which object it was: ``ClusterNetworkPolicy`` (v1alpha2, ``tier`` and
    ``priority`` as written), ``AdminNetworkPolicy`` (v1alpha1, tier Admin) or
    ``BaselineAdminNetworkPolicy`` (v1alpha1, tier Baseline, no priority:
    ``has_priority`` is false). Cluster-scoped: no namespace.
    """

    metadata: ObjectMeta
    kind: str
    tier: Tier
    priority: int = 0
    subject: ClusterPolicySubject = ClusterPolicySubject()
    ingress: tuple[ClusterPolicyRule, ...] = ()
    egress: tuple[ClusterPolicyRule, ...] = ()
    has_priority: bool = True
    origin: Origin = UNKNOWN_ORIGIN

    @property
    def name(self) -> str:
        return self.metadata.name

    @property
    def key(self) -> str:
        """``Kind/name``: cluster policies of both versions share one namespace of names."""
        return f"{self.kind}/{self.metadata.name}"

    def rules(self, direction: PolicyType) -> tuple[ClusterPolicyRule, ...]:
        return self.ingress if direction is PolicyType.INGRESS else self.egress


class Cluster(msgspec.Struct, frozen=True):
    """Everything read from the inputs, after decoding. Namespaces include implied ones."""

    namespaces: tuple[Namespace, ...] = ()
    pods: tuple[Pod, ...] = ()
    policies: tuple[NetworkPolicy, ...] = ()
    services: tuple[Service, ...] = ()
    workloads: tuple[Workload, ...] = ()
    notes: tuple[str, ...] = ()
    nodes: tuple[Node, ...] = ()
    cluster_policies: tuple[ClusterNetworkPolicy, ...] = ()
    # (spec.nodeName, status.hostIPs) of the pods in phase Succeeded or Failed: they are no
    # endpoints, but their node outlives them, and these are still its addresses.
    finished_host_ips: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def namespace(self, name: str) -> Namespace | None:
        for ns in self.namespaces:
            if ns.name == name:
                return ns
        return None
