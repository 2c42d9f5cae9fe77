"""Service validation on create (``ValidateService``), after the API server's defaulting.

The decoder applies ``SetDefaults_Service`` (``type: ClusterIP``, ``sessionAffinity: None``,
a port's ``protocol: TCP`` and ``targetPort``, the traffic policies, ``ClientIP``'s timeout,
``allocateLoadBalancerNodePorts``) and the ``clusterIP``/``clusterIPs`` normalisation.
Allocation runs first and, when it fails, its errors are the only ones the API server
returns (``service_ips``); then every rule of ``ValidateService`` in upstream's order.
Cluster configuration (node-port range, service CIDRs, IP families) is not modelled:
``docs/validation.md`` says what that leaves out.
"""

from __future__ import annotations

from stockade.model.errors import (
    FieldError,
    GoSyntax,
    duplicate,
    forbidden,
    invalid,
    not_supported,
    required,
)
from stockade.model.types import Service, ServicePort
from stockade.model.validate.addresses import validate_cidr, validate_ip, validate_non_special_ip
from stockade.model.validate.labels import is_qualified_name, validate_labels
from stockade.model.validate.meta import validate_object_meta
from stockade.model.validate.names import (
    is_dns1123_label,
    is_dns1123_subdomain,
    name_is_dns1035_label,
)
from stockade.model.validate.ports import is_valid_port_name, is_valid_port_num
from stockade.model.validate.service_ips import allocation_errors, is_headless

SERVICE_TYPES = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")  # sets.List: sorted
PORT_PROTOCOLS = ("SCTP", "TCP", "UDP")
SESSION_AFFINITIES = ("ClientIP", "None")
TRAFFIC_POLICIES = ("Cluster", "Local")
# Kubernetes 1.34+, PreferSameTrafficDistribution on by default (beta): upstream's order.
TRAFFIC_DISTRIBUTIONS = ("PreferClose", "PreferSameZone", "PreferSameNode")
MAX_AFFINITY_TIMEOUT = 86400  # core.MaxClientIPServiceAffinitySeconds
SOURCE_RANGES_ANNOTATION = "service.beta.kubernetes.io/load-balancer-source-ranges"
TOPOLOGY_MODE_ANNOTATION = "service.kubernetes.io/topology-mode"
TOPOLOGY_HINTS_ANNOTATION = "service.kubernetes.io/topology-aware-hints"
SERVICE_ANNOTATIONS = (SOURCE_RANGES_ANNOTATION, TOPOLOGY_MODE_ANNOTATION,
                       TOPOLOGY_HINTS_ANNOTATION)
_LB_ONLY = "may only be used when `type` is 'LoadBalancer'"
_NOT_FOR_EXTERNAL_NAME = "may not be set for ExternalName services"


def validate_service(service: Service) -> list[FieldError]:
    early, node_ports = allocation_errors(service)
    if early:
        return early
    errors = validate_object_meta(service.metadata, name_is_dns1035_label,
                                  requires_namespace=True)
    errors.extend(_topology_errors(service))
    headless = is_headless(service)
    if not service.ports and not headless and service.type != "ExternalName":
        errors.append(required("spec.ports"))
    if service.type in ("LoadBalancer", "NodePort") and headless:
        errors.append(invalid("spec.clusterIPs[0]", "None",
                              f"may not be set to 'None' for {service.type} services"))
    elif service.type == "ExternalName":
        errors.extend(_external_name_errors(service))
    names: set[str] = set()
    for i, port in enumerate(service.ports):
        errors.extend(_port_errors(port, f"spec.ports[{i}]", len(service.ports) > 1, names))
    if service.selector is not None:
        errors.extend(validate_labels(service.selector, "spec.selector"))
    errors.extend(_affinity_errors(service))
    for i, ip in enumerate(service.external_ips):
        path = f"spec.externalIPs[{i}]"
        errors.extend(validate_ip(ip, path) or validate_non_special_ip(ip, path))
    if service.type not in SERVICE_TYPES:
        errors.append(not_supported("spec.type", service.type, SERVICE_TYPES))
    errors.extend(_port_set_errors(service, node_ports))
    errors.extend(_load_balancer_errors(service))
    errors.extend(_traffic_errors(service))
    return errors


def _topology_errors(service: Service) -> list[FieldError]:
    annotations = dict(service.annotations)
    mode = annotations.get(TOPOLOGY_MODE_ANNOTATION)
    hints = annotations.get(TOPOLOGY_HINTS_ANNOTATION)
    if mode is None or hints is None or mode == hints:
        return []
    return [invalid(f"metadata.annotations[{TOPOLOGY_MODE_ANNOTATION}]", mode,
                    f"must match annotations[{TOPOLOGY_HINTS_ANNOTATION}] when both are "
                    "specified")]


def _external_name_errors(service: Service) -> list[FieldError]:
    errors: list[FieldError] = []
    if service.cluster_ips:
        errors.append(forbidden("spec.clusterIPs", _NOT_FOR_EXTERNAL_NAME))
    if service.ip_families:
        errors.append(forbidden("spec.ipFamilies", _NOT_FOR_EXTERNAL_NAME))
    if service.ip_family_policy is not None:
        errors.append(forbidden("spec.ipFamilyPolicy", _NOT_FOR_EXTERNAL_NAME))
    cname = service.external_name.removesuffix(".")
    if cname:
        errors.extend(invalid("spec.externalName", cname, msg)
                      for msg in is_dns1123_subdomain(cname))
    else:
        errors.append(required("spec.externalName"))
    return errors


def _port_errors(port: ServicePort, path: str, require_name: bool,
                 names: set[str]) -> list[FieldError]:
    errors: list[FieldError] = []
    if require_name and not port.name:
        errors.append(required(f"{path}.name"))
    elif port.name:
        errors.extend(invalid(f"{path}.name", port.name, msg)
                      for msg in is_dns1123_label(port.name))
        if port.name in names:
            errors.append(duplicate(f"{path}.name", port.name))
        names.add(port.name)
    errors.extend(invalid(f"{path}.port", port.port, msg) for msg in is_valid_port_num(port.port))
    if port.protocol not in PORT_PROTOCOLS:
        errors.append(not_supported(f"{path}.protocol", port.protocol, PORT_PROTOCOLS))
    target = port.target_port
    if target is None or target in (0, ""):  # defaulted to the port
        target = port.port
    if isinstance(target, int):
        errors.extend(invalid(f"{path}.targetPort", target, msg)
                      for msg in is_valid_port_num(target))
    else:
        errors.extend(invalid(f"{path}.targetPort", target, msg)
                      for msg in is_valid_port_name(target))
    if port.app_protocol is not None:
        errors.extend(invalid(f"{path}.appProtocol", port.app_protocol, msg)
                      for msg in is_qualified_name(port.app_protocol))
    return errors


def _affinity_errors(service: Service) -> list[FieldError]:
    affinity = service.session_affinity
    if affinity not in SESSION_AFFINITIES:
        return [not_supported("spec.sessionAffinity", affinity, SESSION_AFFINITIES)]
    timeout = service.affinity_timeout
    if affinity == "ClientIP" and timeout is not None and not 0 < timeout <= MAX_AFFINITY_TIMEOUT:
        return [invalid("spec.sessionAffinityConfig.clientIP.timeoutSeconds", timeout,
                        f"must be greater than 0 and less than {MAX_AFFINITY_TIMEOUT}")]
    return []


def _port_set_errors(service: Service, node_ports: tuple[int | None, ...]) -> list[FieldError]:
    """Node ports on a ClusterIP Service, then repeated (protocol, nodePort) and (protocol,
    port) pairs. ``node_ports`` are the ports' node ports after allocation."""
    errors: list[FieldError] = []
    if service.type == "ClusterIP":
        errors.extend(forbidden(f"spec.ports[{i}].nodePort",
                                "may not be used when `type` is 'ClusterIP'")
                      for i, port in enumerate(service.ports) if port.node_port)
    seen_node_ports: set[tuple[str, int]] = set()
    for i, (port, node_port) in enumerate(zip(service.ports, node_ports, strict=True)):
        if not node_port:  # 0: none; None: picked by the allocator, unknown here
            continue
        if (port.protocol, node_port) in seen_node_ports:
            errors.append(duplicate(f"spec.ports[{i}].nodePort", node_port))
        seen_node_ports.add((port.protocol, node_port))
    seen: set[tuple[str, int]] = set()
    for i, port in enumerate(service.ports):
        if (port.protocol, port.port) in seen:
            errors.append(duplicate(f"spec.ports[{i}]", _go_service_port(port)))
        seen.add((port.protocol, port.port))
    return errors


def _load_balancer_errors(service: Service) -> list[FieldError]:
    errors: list[FieldError] = []
    balancer = service.type == "LoadBalancer"
    annotation = dict(service.annotations).get(SOURCE_RANGES_ANNOTATION)
    if service.load_balancer_source_ranges:
        path = "spec.LoadBalancerSourceRanges"  # sic: upstream's path is capitalised
        if not balancer:
            errors.append(forbidden(path, _LB_ONLY))
        for i, value in enumerate(service.load_balancer_source_ranges):
            errors.extend(validate_cidr(_trim_space(value), f"{path}[{i}]"))
    elif annotation is not None:
        path = f"metadata.annotations[{SOURCE_RANGES_ANNOTATION}]"
        if not balancer:
            errors.append(forbidden(path, _LB_ONLY))
        value = _trim_space(annotation)
        if value:
            for part in value.split(","):
                errors.extend(validate_cidr(_trim_space(part), path))
    if service.allocate_load_balancer_node_ports is not None and not balancer:
        errors.append(forbidden("spec.allocateLoadBalancerNodePorts", _LB_ONLY))
    cls = service.load_balancer_class
    if cls is not None:
        if balancer:
            errors.extend(invalid("spec.loadBalancerClass", cls, msg)
                          for msg in is_qualified_name(cls))
        else:
            errors.append(forbidden("spec.loadBalancerClass", _LB_ONLY))
    return errors


def _traffic_errors(service: Service) -> list[FieldError]:
    """External traffic policy and health-check node port, internal traffic policy, traffic
    distribution. After defaulting the policies are never missing where required."""
    errors: list[FieldError] = []
    policy = service.external_traffic_policy
    accessible = service.type in ("LoadBalancer", "NodePort") or (
        service.type == "ClusterIP" and bool(service.external_ips))
    if not accessible:
        if policy:
            errors.append(invalid("spec.externalTrafficPolicy", policy,
                                  "may only be set for externally-accessible services"))
    elif policy not in TRAFFIC_POLICIES:
        errors.append(not_supported("spec.externalTrafficPolicy", policy, TRAFFIC_POLICIES))
    health = service.health_check_node_port
    if not (service.type == "LoadBalancer" and policy == "Local"):
        if health:
            errors.append(invalid("spec.healthCheckNodePort", health,
                                  "may only be set when `type` is 'LoadBalancer' and "
                                  "`externalTrafficPolicy` is 'Local'"))
    elif health:
        errors.extend(invalid("spec.healthCheckNodePort", health, msg)
                      for msg in is_valid_port_num(health))
    internal = service.internal_traffic_policy
    if internal is not None and internal not in TRAFFIC_POLICIES:
        errors.append(not_supported("spec.internalTrafficPolicy", internal, TRAFFIC_POLICIES))
    distribution = service.traffic_distribution
    if distribution is not None and distribution not in TRAFFIC_DISTRIBUTIONS:
        errors.append(not_supported("spec.trafficDistribution", distribution,
                                    TRAFFIC_DISTRIBUTIONS))
    return errors


def _trim_space(text: str) -> str:
    """Go's ``strings.TrimSpace``: Python's ``strip`` also removes U+001C..U+001F."""
    keep = "\x1c\x1d\x1e\x1f"
    start, end = 0, len(text)
    while start < end and text[start].isspace() and text[start] not in keep:
        start += 1
    while end > start and text[end - 1].isspace() and text[end - 1] not in keep:
        end -= 1
    return text[start:end]


def _go_service_port(port: ServicePort) -> GoSyntax:
    """The (protocol, port) key upstream reports a repeated pair with, as ``%#v`` prints it."""
    return GoSyntax(
        f'core.ServicePort{{Name:"", Protocol:"{port.protocol}", AppProtocol:(*string)(nil), '
        f"Port:{port.port}, TargetPort:intstr.IntOrString{{Type:0, IntVal:0, StrVal:\"\"}}, "
        "NodePort:0}")
