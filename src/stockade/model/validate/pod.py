"""Pod and pod-template validation, limited to what stockade models and acts on.

Checks metadata, container and init-container ports (``validateContainerPorts``) and
``hostAliases`` (``ValidateHostAliases``, 1.33+ paths and messages), in the API server's
order; ``pod_warnings`` gives the API server's warning for a port name declared twice in
the pod. Everything else in a PodSpec is left to the cluster: stockade neither pulls images
nor schedules.
"""

from __future__ import annotations

import functools

from stockade.model.errors import ErrorType, FieldError, invalid, not_supported, required
from stockade.model.types import Container, ContainerPort, HostAlias, Pod
from stockade.model.validate.addresses import validate_ip
from stockade.model.validate.labels import validate_labels
from stockade.model.validate.meta import validate_namespace_field, validate_object_meta
from stockade.model.validate.names import (
    is_dns1123_label,
    is_dns1123_subdomain,
    name_is_dns_subdomain,
)
from stockade.model.validate.ports import is_valid_port_name, is_valid_port_num

# Upstream passes sets.List(...) of the supported protocols: sorted, unlike NetworkPolicy.
CONTAINER_PROTOCOLS = ("SCTP", "TCP", "UDP")


def validate_pod(pod: Pod, prefix: str = "spec") -> list[FieldError]:
    """Validate a Pod (``prefix="spec"``) or a workload's pod template (``template_of`` set,
    ``prefix`` the template's spec path, e.g. ``spec.template.spec``)."""
    if pod.template_of:
        return template_namespace_errors(pod) + validate_template(pod, prefix)
    errors = validate_object_meta(pod.metadata, name_is_dns_subdomain, requires_namespace=True)
    return errors + _validate_spec(pod, prefix)


def template_namespace_errors(pod: Pod) -> list[FieldError]:
    """A template's namespace is its workload's own, checked at ``metadata.namespace`` by
    the workload's ``ValidateObjectMeta``: before anything in its spec."""
    return validate_namespace_field(pod.metadata.namespace, "metadata.namespace")


def validate_template(pod: Pod, prefix: str) -> list[FieldError]:
    """A workload's pod template (``ValidatePodTemplateSpec``) without the workload's
    namespace, so that a workload's own spec errors can come between the two."""
    return _validate_template_meta(pod, prefix) + _validate_spec(pod, prefix)


def _validate_spec(pod: Pod, prefix: str) -> list[FieldError]:
    errors: list[FieldError] = []
    spec = pod.spec
    for i, container in enumerate(spec.containers):
        if container.ports and not _plain_ports(container.ports):
            errors.extend(_container_errors(container, f"{prefix}.containers[{i}]"))
    for i, container in enumerate(spec.init_containers):
        if container.ports and not _plain_ports(container.ports):
            errors.extend(_container_errors(container, f"{prefix}.initContainers[{i}]"))
    # ValidatePodSpec: hostname and subdomain are DNS-1123 labels when set.
    if spec.hostname or spec.subdomain:
        for field, value in (("hostname", spec.hostname), ("subdomain", spec.subdomain)):
            if value:
                errors.extend(invalid(f"{prefix}.{field}", value, msg)
                              for msg in is_dns1123_label(value))
    if spec.host_aliases:
        errors.extend(validate_host_aliases(spec.host_aliases, f"{prefix}.hostAliases"))
    return errors


def _validate_template_meta(pod: Pod, prefix: str) -> list[FieldError]:
    # The workload's name rules vary by kind and are not checked here. The template's
    # labels are checked at "<template>.labels": upstream's ValidatePodTemplateSpec uses
    # that path, without "metadata".
    template_path = prefix.removesuffix(".spec")
    return validate_labels(pod.metadata.labels, f"{template_path}.labels")


def _plain_ports(ports: tuple[ContainerPort, ...]) -> bool:
    """Whether ``_check_container`` finds nothing wrong with these ports (the usual case),
    told without hashing the container: each number in range, each protocol supported,
    each name (if any) valid and not taken by an earlier port."""
    names: set[str] = set()
    for port in ports:
        if not (1 <= port.container_port <= 65535 and port.protocol in CONTAINER_PROTOCOLS):
            return False
        if port.name:
            if port.name in names or not _valid_port_name(port.name):
                return False
            names.add(port.name)
    return True


@functools.lru_cache(maxsize=4096)
def _valid_port_name(name: str) -> bool:
    return not is_valid_port_name(name)


@functools.lru_cache(maxsize=65536)
def _container_errors(container: Container, path: str) -> tuple[FieldError, ...]:
    """The replicas of a workload have equal containers: each is checked once."""
    return tuple(_check_container(container, path))


def _check_container(container: Container, path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    names: set[str] = set()
    for j, port in enumerate(container.ports):
        port_path = f"{path}.ports[{j}]"
        if port.name:
            messages = is_valid_port_name(port.name)
            errors.extend(invalid(f"{port_path}.name", port.name, m) for m in messages)
            if not messages and port.name in names:
                errors.append(FieldError(f"{port_path}.name", ErrorType.DUPLICATE,
                                         value=port.name))
            names.add(port.name)
        if port.container_port == 0:
            errors.append(required(f"{port_path}.containerPort"))
        else:
            errors.extend(
                invalid(f"{port_path}.containerPort", port.container_port, m)
                for m in is_valid_port_num(port.container_port)
            )
        if not port.protocol:
            errors.append(required(f"{port_path}.protocol"))
        elif port.protocol not in CONTAINER_PROTOCOLS:
            errors.append(
                not_supported(f"{port_path}.protocol", port.protocol, CONTAINER_PROTOCOLS)
            )
    return errors


def pod_warnings(pod: Pod, prefix: str = "spec") -> list[str]:
    """The API server's warning (``warningsForPodSpecAndMeta``) for each named port whose
    name an earlier port of the pod already declares, in another container or the same
    one: init containers first, then containers, whatever the protocol. Services and
    probes resolve the name to the first; so does stockade, for a named-port rule."""
    spec = pod.spec
    if len(spec.containers) + len(spec.init_containers) < 2:
        return []  # one container: a name declared twice in it is an error, not this
    first: dict[str, str] = {}
    warnings: list[str] = []
    for field, group in (("initContainers", spec.init_containers),
                         ("containers", spec.containers)):
        for i, container in enumerate(group):
            for j, port in enumerate(container.ports):
                if not port.name:
                    continue
                path = f"{prefix}.{field}[{i}].ports[{j}]"
                other = first.setdefault(port.name, path)
                if other != path:
                    warnings.append(
                        f'{path}: duplicate port name "{port.name}" with {other}, services '
                        f"and probes that select ports by name will use {other}")
    return warnings


def validate_host_aliases(aliases: tuple[HostAlias, ...], path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    for i, alias in enumerate(aliases):
        errors.extend(validate_ip(alias.ip, f"{path}[{i}].ip"))
        for j, hostname in enumerate(alias.hostnames):
            hostname_path = f"{path}[{i}].hostnames[{j}]"
            errors.extend(invalid(hostname_path, hostname, m)
                          for m in is_dns1123_subdomain(hostname))
    return errors
