"""Decode manifests (plain dicts from YAML/JSON) into model values, with API-server defaults.

This is the step the API server's JSON decoder does before validation: it checks shapes and
types (a list where a list belongs, an integer port) and applies defaulting (``protocol:
TCP``, ``policyTypes``). It never raises on user data: every problem becomes a
``FieldError`` and the best-effort value is still returned, so that all errors of an object
are reported at once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import msgspec

from stockade.model.errors import FieldError, invalid
from stockade.model.netparse import is_ip
from stockade.model.numbers import plain_text, whole_float
from stockade.model.plain import (
    NO_SECURITY_CONTEXT,
    all_strings,
    only_strings,
    plain_meta,
    plain_pod_spec,
    plain_selector,
)
from stockade.model.types import (
    Container,
    ContainerPort,
    EnvVar,
    HostAlias,
    IPBlock,
    LabelSelector,
    LabelSelectorRequirement,
    Namespace,
    NetworkPolicy,
    NetworkPolicyPeer,
    NetworkPolicyPort,
    NetworkPolicyRule,
    Node,
    NodeAddress,
    ObjectMeta,
    Origin,
    OwnerReference,
    Pod,
    PodSpec,
    SecurityContext,
    Service,
    ServicePort,
    VolumeMount,
    Workload,
)
from stockade.model.validate.addresses import IP_MESSAGE
from stockade.model.validate.service import SERVICE_ANNOTATIONS
from stockade.model.workloads import job_name_labels

T = TypeVar("T")
ANNOTATION_PREFIX = "stockade.dev/"
DEFAULT_AFFINITY_TIMEOUT = 10800  # v1.DefaultClientIPServiceAffinitySeconds

_TYPE_NAMES = {dict: "object", list: "array", str: "string", int: "integer", bool: "boolean"}


def json_type_name(value: object) -> str:
    """The JSON type of a value, as apimachinery names types in errors (``string``,
    ``integer``, ``object``, ...)."""
    if value is None:
        return "null"
    for py, name in _TYPE_NAMES.items():
        if isinstance(value, py) and not (py is int and isinstance(value, bool)):
            return name
    if isinstance(value, float):
        return "number"
    return type(value).__name__


class Decoder:
    """Collects type errors while reading one object."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def _wrong(self, path: str, value: object, expected: str) -> None:
        shown: str | int
        shown = value if isinstance(value, str | int) and not isinstance(value, bool) else (
            json_type_name(value)
        )
        self.errors.append(invalid(path, shown, f"must be of type {expected}"))

    def mapping(self, value: object, path: str) -> Mapping[str, Any]:
        if type(value) is dict:
            return value
        if value is None:
            return {}
        if isinstance(value, Mapping):
            return value
        self._wrong(path, value, "object")
        return {}

    def sequence(self, value: object, path: str) -> list[Any]:
        if value is None:
            return []
        if isinstance(value, list):
            return value
        self._wrong(path, value, "array")
        return []

    def string(self, value: object, path: str, default: str = "") -> str:
        if type(value) is str:
            return value
        if value is None:
            return default
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            self._wrong(path, value, "string")
            return default
        if isinstance(value, int | float):
            # YAML turns `name: 123` into a number; Kubernetes' decoder would reject it too.
            self._wrong(path, value, "string")
            text = plain_text(value)
            return default if text is None else text
        self._wrong(path, value, "string")
        return default

    def integer(self, value: object, path: str) -> int | None:
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and (whole := whole_float(value)) is not None:
            return whole
        self._wrong(path, value, "integer")
        return None

    def boolean(self, value: object, path: str) -> bool:
        if value is None:
            return False
        if isinstance(value, bool):
            return value
        self._wrong(path, value, "boolean")
        return False

    def int_or_string(self, value: object, path: str) -> int | str | None:
        if value is None:
            return None
        if isinstance(value, str):
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and (whole := whole_float(value)) is not None:
            # `port: 80.0` or `1e3`: kubectl's YAML-to-JSON writes a whole float as an
            # integer (80, 1000), as for integer fields above.
            return whole
        self._wrong(path, value, "integer or string")
        return None

    def string_map(self, value: object, path: str) -> tuple[tuple[str, str], ...]:
        if type(value) is dict and only_strings(value):
            return tuple(value.items())
        out: list[tuple[str, str]] = []
        for raw_key, val in self.mapping(value, path).items():
            sub = f"{path}[{raw_key}]"
            if not isinstance(raw_key, str):
                self._wrong(sub, raw_key, "string")
            out.append((plain_text(raw_key) or "", self.string(val, sub)))
        return tuple(out)

    def strings(self, value: object, path: str) -> tuple[str, ...]:
        if type(value) is list and all_strings(value):
            return tuple(value)
        return tuple(
            self.string(item, f"{path}[{i}]") for i, item in enumerate(self.sequence(value, path))
        )

    def each(
        self, value: object, path: str, item: Callable[[Any, str], T]
    ) -> tuple[T, ...]:
        if value is None:
            return ()
        items = value if type(value) is list else self.sequence(value, path)
        return tuple([item(v, f"{path}[{i}]") for i, v in enumerate(items)])

    # Most optional fields are absent: these look them up without writing their paths.

    def field_string(self, obj: Mapping[str, Any], key: str, path: str) -> str:
        value = obj.get(key)
        if type(value) is str:
            return value
        return "" if value is None else self.string(value, f"{path}.{key}")

    def field_each(self, obj: Mapping[str, Any], key: str, path: str,
                   item: Callable[[Any, str], T]) -> tuple[T, ...]:
        value = obj.get(key)
        if value is None:
            return ()
        if type(value) is list:
            return tuple([item(v, f"{path}.{key}[{i}]") for i, v in enumerate(value)])
        return self.each(value, f"{path}.{key}", item)

    def field_strings(self, obj: Mapping[str, Any], key: str, path: str) -> tuple[str, ...]:
        value = obj.get(key)
        return () if value is None else self.strings(value, f"{path}.{key}")

    def field_boolean(self, obj: Mapping[str, Any], key: str, path: str) -> bool:
        value = obj.get(key)
        if value is None or value is False:
            return False
        return value is True or self.boolean(value, f"{path}.{key}")

    # --- metav1 -----------------------------------------------------------------------------

    def object_meta(self, value: object, path: str = "metadata") -> ObjectMeta:
        if type(value) is dict:
            plain = plain_meta(value)
            if plain is not None:
                return plain
        meta = self.mapping(value, path)
        owners = self.field_each(meta, "ownerReferences", path, self._owner)
        labels = meta.get("labels")
        annotations = meta.get("annotations")
        return ObjectMeta(
            name=self.field_string(meta, "name", path),
            namespace=self.field_string(meta, "namespace", path),
            labels=() if labels is None else self.string_map(labels, f"{path}.labels"),
            generate_name=self.field_string(meta, "generateName", path),
            owner_references=owners,
            annotations=() if annotations is None else self._own_annotations(
                annotations, f"{path}.annotations"),
        )

    def _own_annotations(self, value: object, path: str) -> tuple[tuple[str, str], ...]:
        """The annotations stockade reads (``stockade.dev/...``); others are not decoded,
        as no analysis depends on them."""
        if not isinstance(value, Mapping):
            return ()
        ours = {k: v for k, v in value.items()
                if isinstance(k, str) and k.startswith(ANNOTATION_PREFIX)}
        return self.string_map(ours, path) if ours else ()

    def _owner(self, value: object, path: str) -> OwnerReference:
        ref = self.mapping(value, path)
        return OwnerReference(
            kind=self.string(ref.get("kind"), f"{path}.kind"),
            name=self.string(ref.get("name"), f"{path}.name"),
            controller=self.boolean(ref.get("controller"), f"{path}.controller"),
        )

    def label_selector(self, value: object, path: str) -> LabelSelector:
        if type(value) is dict:
            plain = plain_selector(value)
            if plain is not None:
                return plain
        sel = self.mapping(value, path)
        labels = sel.get("matchLabels")
        return LabelSelector(
            match_labels=() if labels is None else self.string_map(labels,
                                                                    f"{path}.matchLabels"),
            match_expressions=self.field_each(sel, "matchExpressions", path, self._requirement),
        )

    def _requirement(self, value: object, path: str) -> LabelSelectorRequirement:
        req = self.mapping(value, path)
        return LabelSelectorRequirement(
            key=self.field_string(req, "key", path),
            operator=self.field_string(req, "operator", path),
            values=self.field_strings(req, "values", path),
        )

    # --- networking/v1 ----------------------------------------------------------------------

    def network_policy(self, obj: Mapping[str, Any], origin: Origin) -> NetworkPolicy:
        # No spec is the empty spec (NetworkPolicy.spec is optional upstream): after
        # defaulting, a policy isolating every pod of its namespace for ingress.
        spec = self.mapping(obj.get("spec"), "spec")
        ingress = self.each(spec.get("ingress"), "spec.ingress", self._ingress_rule)
        egress = self.each(spec.get("egress"), "spec.egress", self._egress_rule)
        types = self.strings(spec.get("policyTypes"), "spec.policyTypes")
        defaulted = not types
        if defaulted:  # SetDefaults_NetworkPolicy: absent or empty
            types = ("Ingress", "Egress") if egress else ("Ingress",)
        return NetworkPolicy(
            metadata=self.object_meta(obj.get("metadata")),
            pod_selector=self.label_selector(spec.get("podSelector"), "spec.podSelector"),
            policy_types=types,
            ingress=ingress,
            egress=egress,
            origin=origin,
            policy_types_defaulted=defaulted,
        )

    def _ingress_rule(self, value: object, path: str) -> NetworkPolicyRule:
        return self._rule(value, path, "from")

    def _egress_rule(self, value: object, path: str) -> NetworkPolicyRule:
        return self._rule(value, path, "to")

    def _rule(self, value: object, path: str, peers_field: str) -> NetworkPolicyRule:
        rule = self.mapping(value, path)
        return NetworkPolicyRule(
            ports=self.field_each(rule, "ports", path, self._policy_port),
            peers=self.field_each(rule, peers_field, path, self._peer),
        )

    def _policy_port(self, value: object, path: str) -> NetworkPolicyPort:
        port = self.mapping(value, path)
        number = port.get("port")
        end = port.get("endPort")
        return NetworkPolicyPort(
            protocol=self.field_string(port, "protocol", path) or "TCP",
            port=number if type(number) is int or number is None
            else self.int_or_string(number, f"{path}.port"),
            end_port=end if type(end) is int or end is None
            else self.integer(end, f"{path}.endPort"),
        )

    def _peer(self, value: object, path: str) -> NetworkPolicyPeer:
        peer = self.mapping(value, path)
        pod = peer.get("podSelector")
        ns = peer.get("namespaceSelector")
        block = peer.get("ipBlock")
        return NetworkPolicyPeer(
            pod_selector=None if pod is None else self.label_selector(pod, f"{path}.podSelector"),
            namespace_selector=None
            if ns is None
            else self.label_selector(ns, f"{path}.namespaceSelector"),
            ip_block=None if block is None else self._ip_block(block, f"{path}.ipBlock"),
        )

    def _ip_block(self, value: object, path: str) -> IPBlock:
        block = self.mapping(value, path)
        return IPBlock(
            cidr=self.field_string(block, "cidr", path),
            except_=self.field_strings(block, "except", path),
        )

    # --- core/v1 ----------------------------------------------------------------------------

    def namespace(self, obj: Mapping[str, Any], origin: Origin) -> Namespace:
        return Namespace(metadata=self.object_meta(obj.get("metadata")), origin=origin)

    def pod(self, obj: Mapping[str, Any], origin: Origin) -> Pod:
        status = self.mapping(obj.get("status"), "status")
        return Pod(
            metadata=self.object_meta(obj.get("metadata")),
            spec=self.pod_spec(obj.get("spec"), "spec"),
            ips=self._ips(status, "podIPs", "podIP"),
            host_ips=self._ips(status, "hostIPs", "hostIP"),
            origin=origin,
        )

    def _ips(self, status: Mapping[str, Any], plural: str, single: str) -> tuple[str, ...]:
        """``status.podIPs``/``podIP`` (or ``hostIPs``/``hostIP``): the list's addresses
        with the single field's first, each once."""
        entries = status.get(plural)
        primary = status.get(single)
        if type(primary) is str and primary and is_ip(primary):  # the usual status
            if entries is None:
                return (primary,)
            if type(entries) is list and len(entries) == 1:
                entry = entries[0]
                if type(entry) is dict and type(entry.get("ip")) is str and entry["ip"] == primary:
                    return (primary,)
        ips: list[str] = []
        if entries is not None and type(entries) is not list:
            entries = self.sequence(entries, f"status.{plural}")
        for i, entry in enumerate(entries or ()):
            ip = entry.get("ip") if type(entry) is dict else None
            if type(ip) is not str:
                path = f"status.{plural}[{i}]"
                ip = self.string(self.mapping(entry, path).get("ip"), f"{path}.ip")
            if ip:
                if not is_ip(ip):
                    self._bad_address(ip, f"status.{plural}[{i}].ip")
                if ip not in ips:
                    ips.append(ip)
        primary = self.field_string(status, single, "status")
        if primary:
            if not is_ip(primary):
                self._bad_address(primary, f"status.{single}")
            if primary not in ips:
                ips.insert(0, primary)
        return tuple(ips)

    def _bad_address(self, ip: str, path: str) -> None:
        """A pod or host IP the API server would refuse (status validation): never dropped
        quietly."""
        self.errors.append(invalid(path, ip, IP_MESSAGE))

    def pod_spec(self, value: object, path: str) -> PodSpec:
        if type(value) is dict:
            plain = plain_pod_spec(value)
            if plain is not None:
                return plain
        spec = self.mapping(value, path)
        return PodSpec(
            containers=self.field_each(spec, "containers", path, self._container),
            init_containers=self.field_each(spec, "initContainers", path, self._container),
            host_network=self.field_boolean(spec, "hostNetwork", path),
            host_aliases=self.field_each(spec, "hostAliases", path, self._alias),
            hostname=self.field_string(spec, "hostname", path),
            subdomain=self.field_string(spec, "subdomain", path),
            set_hostname_as_fqdn=self.field_boolean(spec, "setHostnameAsFQDN", path),
            node_name=self.field_string(spec, "nodeName", path),
            security_context=self._security_context(
                spec.get("securityContext"), f"{path}.securityContext"),
        )

    def _container(self, value: object, path: str) -> Container:
        c = self.mapping(value, path)
        return Container(
            name=self.field_string(c, "name", path),
            ports=self.field_each(c, "ports", path, self._container_port),
            command=self.field_strings(c, "command", path),
            args=self.field_strings(c, "args", path),
            volume_mounts=self.field_each(c, "volumeMounts", path, self._mount),
            image=self.field_string(c, "image", path),
            env=self.field_each(c, "env", path, self._env_var),
            env_from=self.field_each(c, "envFrom", path, self._env_source),
            working_dir=self.field_string(c, "workingDir", path),
            security_context=self._security_context(
                c.get("securityContext"), f"{path}.securityContext"),
            restart_policy=self.field_string(c, "restartPolicy", path),
        )

    _ENV_SOURCES = ("fieldRef", "resourceFieldRef", "configMapKeyRef", "secretKeyRef")

    def _env_var(self, value: object, path: str) -> EnvVar:
        e = self.mapping(value, path)
        source = self.mapping(e.get("valueFrom"), f"{path}.valueFrom")
        kind = next((k for k in self._ENV_SOURCES if k in source), "")
        field_path = ""
        if kind == "fieldRef":
            ref = self.mapping(source.get(kind), f"{path}.valueFrom.fieldRef")
            field_path = self.string(ref.get("fieldPath"), f"{path}.valueFrom.fieldRef.fieldPath")
        return EnvVar(
            name=self.string(e.get("name"), f"{path}.name"),
            value=self.string(e.get("value"), f"{path}.value"),
            value_from=kind,
            field_path=field_path,
        )

    def _env_source(self, value: object, path: str) -> str:
        source = self.mapping(value, path)
        return next((k for k in ("configMapRef", "secretRef") if k in source), "")

    def _security_context(self, value: object, path: str) -> SecurityContext:
        if value is None:
            return NO_SECURITY_CONTEXT
        sc = self.mapping(value, path)
        return SecurityContext(
            run_as_user=self.integer(sc.get("runAsUser"), f"{path}.runAsUser"),
            run_as_group=self.integer(sc.get("runAsGroup"), f"{path}.runAsGroup"),
        )

    def _container_port(self, value: object, path: str) -> ContainerPort:
        p = self.mapping(value, path)
        number = p.get("containerPort")
        if type(number) is not int:
            number = self.integer(number, f"{path}.containerPort")
        return ContainerPort(
            container_port=number or 0,
            protocol=self.field_string(p, "protocol", path) or "TCP",
            name=self.field_string(p, "name", path),
        )

    def _mount(self, value: object, path: str) -> VolumeMount:
        m = self.mapping(value, path)
        return VolumeMount(
            name=self.string(m.get("name"), f"{path}.name"),
            mount_path=self.string(m.get("mountPath"), f"{path}.mountPath"),
        )

    def _alias(self, value: object, path: str) -> HostAlias:
        a = self.mapping(value, path)
        return HostAlias(
            ip=self.string(a.get("ip"), f"{path}.ip"),
            hostnames=self.strings(a.get("hostnames"), f"{path}.hostnames"),
        )

    def node(self, obj: Mapping[str, Any], origin: Origin) -> Node:
        status = self.mapping(obj.get("status"), "status")
        spec = self.mapping(obj.get("spec"), "spec")
        cidrs = self.strings(spec.get("podCIDRs"), "spec.podCIDRs")
        if not cidrs and spec.get("podCIDR"):
            cidrs = (self.string(spec.get("podCIDR"), "spec.podCIDR"),)
        return Node(
            metadata=self.object_meta(obj.get("metadata")),
            addresses=self.each(status.get("addresses"), "status.addresses",
                                self._node_address),
            origin=origin,
            pod_cidrs=cidrs,
        )

    def _node_address(self, value: object, path: str) -> NodeAddress:
        a = self.mapping(value, path)
        return NodeAddress(type=self.string(a.get("type"), f"{path}.type"),
                           address=self.string(a.get("address"), f"{path}.address"))

    def service(self, obj: Mapping[str, Any], origin: Origin) -> Service:
        """A Service after ``SetDefaults_Service`` and the ``clusterIP``/``clusterIPs``
        normalisation the API server does on create, before it validates."""
        spec = self.mapping(obj.get("spec"), "spec")
        selector = None if spec.get("selector") is None else self.string_map(
            spec.get("selector"), "spec.selector"
        )
        kind = self.field_string(spec, "type", "spec") or "ClusterIP"
        cluster_ip = self.field_string(spec, "clusterIP", "spec")
        ips = self.field_strings(spec, "clusterIPs", "spec") or (
            (cluster_ip,) if cluster_ip else ())
        external_ips = self.field_strings(spec, "externalIPs", "spec")
        affinity = self.field_string(spec, "sessionAffinity", "spec") or "None"
        config = spec.get("sessionAffinityConfig")
        timeout = None if config is None else self._affinity_timeout(config)
        if affinity == "ClientIP" and timeout is None:
            timeout = DEFAULT_AFFINITY_TIMEOUT
        policy = self.field_string(spec, "externalTrafficPolicy", "spec")
        if not policy and (kind in ("LoadBalancer", "NodePort")
                           or (kind == "ClusterIP" and external_ips)):
            policy = "Cluster"
        internal = self._optional_string(spec, "internalTrafficPolicy")
        if internal is None and kind in ("ClusterIP", "LoadBalancer", "NodePort"):
            internal = "Cluster"
        allocate = (None if spec.get("allocateLoadBalancerNodePorts") is None else
                    self.boolean(spec["allocateLoadBalancerNodePorts"],
                                 "spec.allocateLoadBalancerNodePorts"))
        if allocate is None and kind == "LoadBalancer":
            allocate = True
        return Service(
            metadata=self.object_meta(obj.get("metadata")),
            selector=selector,
            ports=self.each(spec.get("ports"), "spec.ports", self._service_port),
            type=kind,
            external_name=self.field_string(spec, "externalName", "spec"),
            cluster_ips=ips,
            origin=origin,
            cluster_ip=cluster_ip,
            ip_families=self.field_strings(spec, "ipFamilies", "spec"),
            ip_family_policy=self._optional_string(spec, "ipFamilyPolicy"),
            session_affinity=affinity,
            affinity_timeout=timeout if affinity == "ClientIP" else None,
            external_ips=external_ips,
            load_balancer_source_ranges=self.field_strings(
                spec, "loadBalancerSourceRanges", "spec"),
            allocate_load_balancer_node_ports=allocate,
            load_balancer_class=self._optional_string(spec, "loadBalancerClass"),
            external_traffic_policy=policy,
            internal_traffic_policy=internal,
            health_check_node_port=self.integer(
                spec.get("healthCheckNodePort"), "spec.healthCheckNodePort") or 0,
            traffic_distribution=self._optional_string(spec, "trafficDistribution"),
            annotations=self._service_annotations(obj.get("metadata")),
        )

    def _optional_string(self, spec: Mapping[str, Any], key: str) -> str | None:
        """A pointer-to-string field: absent (nil) is not the same as ``""``."""
        value = spec.get(key)
        return None if value is None else self.string(value, f"spec.{key}")

    def _affinity_timeout(self, value: object) -> int | None:
        config = self.mapping(value, "spec.sessionAffinityConfig")
        client = self.mapping(config.get("clientIP"), "spec.sessionAffinityConfig.clientIP")
        return self.integer(client.get("timeoutSeconds"),
                            "spec.sessionAffinityConfig.clientIP.timeoutSeconds")

    def _service_annotations(self, meta: object) -> tuple[tuple[str, str], ...]:
        annotations = meta.get("annotations") if isinstance(meta, Mapping) else None
        if not annotations or not isinstance(annotations, Mapping):
            return ()
        # A null value is the empty string in a Go map[string]string: the key is still set.
        return tuple(
            (key, self.string(annotations[key], f"metadata.annotations[{key}]"))
            for key in SERVICE_ANNOTATIONS if key in annotations
        )

    def _service_port(self, value: object, path: str) -> ServicePort:
        p = self.mapping(value, path)
        number = self.integer(p.get("port"), f"{path}.port")  # absent: 0, refused by validation
        app_protocol = p.get("appProtocol")
        return ServicePort(
            port=number or 0,
            target_port=self.int_or_string(p.get("targetPort"), f"{path}.targetPort"),
            protocol=self.string(p.get("protocol"), f"{path}.protocol") or "TCP",
            name=self.string(p.get("name"), f"{path}.name"),
            node_port=self.integer(p.get("nodePort"), f"{path}.nodePort") or 0,
            app_protocol=None if app_protocol is None else self.string(
                app_protocol, f"{path}.appProtocol"),
        )

    def workload(self, obj: Mapping[str, Any], origin: Origin) -> Workload:
        kind = str(obj.get("kind"))
        meta = self.object_meta(obj.get("metadata"))
        spec = self.mapping(obj.get("spec"), "spec")
        path = "spec.template"
        if kind == "CronJob":
            job = self.mapping(spec.get("jobTemplate"), "spec.jobTemplate")
            spec = self.mapping(job.get("spec"), "spec.jobTemplate.spec")
            path = "spec.jobTemplate.spec.template"
        selector = spec.get("selector")
        template = self.mapping(spec.get("template"), path)
        tmeta = self.object_meta(template.get("metadata"), f"{path}.metadata")
        pod = Pod(
            metadata=ObjectMeta(
                name=meta.name, namespace=meta.namespace, labels=tmeta.labels
            ),
            spec=self.pod_spec(template.get("spec"), f"{path}.spec"),
            origin=origin,
            template_of=f"{kind}/{meta.name}",
        )
        parsed: LabelSelector | None = None
        if isinstance(selector, Mapping):
            if kind == "ReplicationController":  # a plain map, not a LabelSelector
                parsed = LabelSelector(match_labels=self.string_map(selector, "spec.selector"))
            else:
                parsed = self.label_selector(selector, "spec.selector")
        field = "parallelism" if kind in ("Job", "CronJob") else "replicas"
        replicas = None if kind == "DaemonSet" else self.integer(
            spec.get(field), f"{path.removesuffix('.template')}.{field}")
        manual = kind in ("Job", "CronJob") and self.boolean(
            spec.get("manualSelector"), f"{path.removesuffix('.template')}.manualSelector")
        if kind == "Job" and not manual:
            # The API server labels a Job's pods with its name (``generateSelector``).
            pod = msgspec.structs.replace(pod, metadata=msgspec.structs.replace(
                pod.metadata, labels=job_name_labels(pod.metadata.labels, meta.name)))
        return Workload(kind_name=kind, metadata=meta, selector=parsed, template=pod,
                        origin=origin, replicas=replicas, manual_selector=manual)
