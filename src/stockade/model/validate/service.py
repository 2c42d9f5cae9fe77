"""Service validation on create (``ValidateService``), for the fields stockade reads.

After the API server's defaulting (``type: ClusterIP``, a port's ``protocol: TCP``, a
``targetPort`` of 0 or "" becomes the port), in upstream's order: metadata (the name a
DNS-1035 label), ``spec.ports`` required unless headless or ExternalName, the
ExternalName and ``None``-cluster-IP rules, each port (name required when there are
several, a DNS-1123 label and unique; port number; protocol; targetPort number or name),
the selector's labels, the type, then ports repeating a (protocol, port) pair. Not checked:
cluster IP syntax and families, node ports, session affinity, traffic policies, load
balancer fields (``docs/validation.md``).
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
from stockade.model.validate.labels import validate_labels
from stockade.model.validate.meta import validate_object_meta
from stockade.model.validate.names import (
    is_dns1123_label,
    is_dns1123_subdomain,
    name_is_dns1035_label,
)
from stockade.model.validate.ports import is_valid_port_name, is_valid_port_num

SERVICE_TYPES = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")  # sets.List: sorted
PORT_PROTOCOLS = ("SCTP", "TCP", "UDP")


def validate_service(service: Service) -> list[FieldError]:
    errors = validate_object_meta(service.metadata, name_is_dns1035_label,
                                  requires_namespace=True)
    headless = bool(service.cluster_ips) and service.cluster_ips[0] == "None"
    if not service.ports and not headless and service.type != "ExternalName":
        errors.append(required("spec.ports"))
    if service.type in ("LoadBalancer", "NodePort") and headless:
        errors.append(invalid("spec.clusterIPs[0]", "None",
                              f"may not be set to 'None' for {service.type} services"))
    elif service.type == "ExternalName":
        if service.cluster_ips:
            errors.append(forbidden("spec.clusterIPs", "may not be set for ExternalName services"))
        cname = service.external_name.removesuffix(".")
        if cname:
            errors.extend(invalid("spec.externalName", cname, msg)
                          for msg in is_dns1123_subdomain(cname))
        else:
            errors.append(required("spec.externalName"))
    names: set[str] = set()
    for i, port in enumerate(service.ports):
        errors.extend(_port_errors(port, f"spec.ports[{i}]", len(service.ports) > 1, names))
    if service.selector is not None:
        errors.extend(validate_labels(service.selector, "spec.selector"))
    if service.type not in SERVICE_TYPES:
        errors.append(not_supported("spec.type", service.type, SERVICE_TYPES))
    seen: set[tuple[str, int]] = set()
    for i, port in enumerate(service.ports):
        if (port.protocol, port.port) in seen:
            errors.append(duplicate(f"spec.ports[{i}]", _go_service_port(port)))
        seen.add((port.protocol, port.port))
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
    return errors


def _go_service_port(port: ServicePort) -> GoSyntax:
    """The (protocol, port) key upstream reports a repeated pair with, as ``%#v`` prints it."""
    return GoSyntax(
        f'core.ServicePort{{Name:"", Protocol:"{port.protocol}", AppProtocol:(*string)(nil), '
        f"Port:{port.port}, TargetPort:intstr.IntOrString{{Type:0, IntVal:0, StrVal:\"\"}}, "
        "NodePort:0}")
