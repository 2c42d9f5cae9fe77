"""What the API server checks while allocating a new Service's cluster IPs and node ports.

On create the Service registry allocates before the strategy validates, and allocation
stops the request with its own errors alone: first ``ValidateServiceClusterIPsRelatedFields``
(``clusterIP``/``clusterIPs`` in sync, each IP, at most one per family, ``ipFamilies`` and
``ipFamilyPolicy`` values, IPs matching their families), then ``ipFamilyPolicy`` against two
IPs or two families, then each node port requested for two different service ports. What
depends on the cluster (its IP families, service CIDRs, node-port range, ports and addresses
in use) is not modelled: see ``docs/validation.md``. Pure.
"""

from __future__ import annotations

from ipaddress import IPv6Address

from stockade.model.errors import (
    FieldError,
    GoSyntax,
    duplicate,
    go_quote,
    invalid,
    not_supported,
    required,
)
from stockade.model.netparse import parse_ip
from stockade.model.types import Service
from stockade.model.validate.addresses import validate_ip

IP_FAMILIES = ("IPv4", "IPv6")  # sets.List: sorted
IP_FAMILY_POLICIES = ("PreferDualStack", "RequireDualStack", "SingleStack")
ALREADY_ALLOCATED = "provided port is already allocated"
_AUTO = -1  # a node port the allocator picks itself: its number is not known here


def go_strings(values: tuple[str, ...]) -> GoSyntax:
    """A ``[]string`` as ``field.Error`` prints it (``%#v``)."""
    return GoSyntax("[]string{" + ", ".join(go_quote(v) for v in values) + "}")


def is_headless(service: Service) -> bool:
    return service.cluster_ips == ("None",)


def allocation_errors(service: Service) -> tuple[list[FieldError], tuple[int | None, ...]]:
    """The errors allocation stops a create with (empty when it would succeed), and each
    port's node port after allocation (``None``: one the allocator picks at random)."""
    given = tuple(port.node_port for port in service.ports)
    if service.type == "ExternalName":
        return [], given
    errors = cluster_ips_related_errors(service)
    if errors:
        return errors, given
    errors = _policy_errors(service)
    if errors or service.type not in ("LoadBalancer", "NodePort"):
        return errors, given
    return _node_ports(service)


def cluster_ips_related_errors(service: Service) -> list[FieldError]:
    """``ValidateServiceClusterIPsRelatedFields``, in upstream's order."""
    ips = service.cluster_ips
    errors: list[FieldError] = []
    if service.cluster_ip:
        if not ips:
            errors.append(required("spec.clusterIPs"))
        elif ips[0] != service.cluster_ip:
            errors.append(invalid("spec.clusterIPs", go_strings(ips),
                                  "first value must match `clusterIP`"))
    elif ips:
        errors.append(invalid("spec.clusterIPs", go_strings(ips),
                              "must be empty when `clusterIP` is not specified"))
    seen: set[str] = set()
    for i, family in enumerate(service.ip_families):
        if family not in IP_FAMILIES:
            errors.append(not_supported(f"spec.ipFamilies[{i}]", family, IP_FAMILIES))
        if family in seen:
            errors.append(duplicate(f"spec.ipFamilies[{i}]", family))
        seen.add(family)
    policy = service.ip_family_policy
    if policy is not None and policy not in IP_FAMILY_POLICIES:
        errors.append(not_supported("spec.ipFamilyPolicy", policy, IP_FAMILY_POLICIES))
    bad_ips = False
    for i, ip in enumerate(ips):
        if i == 0 and ip == "None":
            if len(ips) > 1:
                bad_ips = True
                errors.append(invalid("spec.clusterIPs", go_strings(ips),
                                      "'None' must be the first and only value"))
            continue
        ip_errors = validate_ip(ip, f"spec.clusterIPs[{i}]")
        bad_ips = bad_ips or bool(ip_errors)
        errors.extend(ip_errors)
    if len(ips) > 2:
        errors.append(invalid("spec.clusterIPs", go_strings(ips), "may only hold up to 2 values"))
    if bad_ips:  # upstream stops here: the family checks would only repeat the same fault
        return errors
    if len(ips) > 1 and len({_is_ipv6(ip) for ip in ips}) < 2:
        errors.append(invalid("spec.clusterIPs", go_strings(ips),
                              "may specify no more than one IP for each IP family"))
    if not is_headless(service) and service.ip_families:
        for i, (ip, family) in enumerate(zip(ips, service.ip_families, strict=False)):
            if family == "IPv4" and _is_ipv6(ip):
                errors.append(invalid(f"spec.clusterIPs[{i}]", ip,
                                      f"expected an IPv4 value as indicated by `ipFamilies[{i}]`"))
            if family == "IPv6" and not _is_ipv6(ip):
                errors.append(invalid(f"spec.clusterIPs[{i}]", ip,
                                      f"expected an IPv6 value as indicated by `ipFamilies[{i}]`"))
    return errors


def _is_ipv6(ip: str) -> bool:
    """Go's ``IsIPv6String``: an IPv4-mapped IPv6 address counts as IPv4."""
    addr = parse_ip(ip)
    return isinstance(addr, IPv6Address) and addr.ipv4_mapped is None


def _policy_errors(service: Service) -> list[FieldError]:
    """``initIPFamilyFields``: without a policy a create is single-stack (dual-stack for a
    headless Service without a selector), and single-stack cannot take two IPs or families."""
    policy = service.ip_family_policy
    if policy is None:
        policy = ("RequireDualStack" if service.cluster_ip == "None" and not service.selector
                  else "SingleStack")
    if policy != "SingleStack":
        return []
    errors: list[FieldError] = []
    if len(service.cluster_ips) == 2:
        errors.append(invalid("spec.ipFamilyPolicy", policy, "must be 'RequireDualStack' or "
                              "'PreferDualStack' when multiple cluster IPs are specified"))
    if len(service.ip_families) == 2:
        errors.append(invalid("spec.ipFamilyPolicy", policy, "must be 'RequireDualStack' or "
                              "'PreferDualStack' when multiple IP families are specified"))
    return errors


def _node_ports(service: Service) -> tuple[list[FieldError], tuple[int | None, ...]]:
    """``initNodePorts``: ports with the same port number share one node port (the first one
    requested for that number), and a node port can be taken once."""
    allocate = service.type == "NodePort" or bool(service.allocate_load_balancer_node_ports)
    taken: set[int] = set()
    by_port: dict[int, int] = {}
    result: list[int | None] = []
    for i, port in enumerate(service.ports):
        node_port = port.node_port
        if node_port == 0 and not allocate:
            result.append(0)
            continue
        current = by_port.get(port.port, 0)
        if current == 0:
            current = next((p.node_port for p in service.ports
                            if p.port == port.port and p.node_port), _AUTO)
            if current != _AUTO:
                if current in taken:
                    return [invalid(f"spec.ports[{i}].nodePort", current, ALREADY_ALLOCATED)], ()
                taken.add(current)
            by_port[port.port] = node_port = current
        elif node_port == 0:
            node_port = current
        elif node_port != current:
            if node_port in taken:
                return [invalid(f"spec.ports[{i}].nodePort", node_port, ALREADY_ALLOCATED)], ()
            taken.add(node_port)
        result.append(None if node_port == _AUTO else node_port)
    return [], tuple(result)
