"""NetworkPolicy validation on create (``ValidateNetworkPolicy``), rule for rule.

Order is the API server's: metadata, ``spec.podSelector``, each ingress rule (ports, then
peers), each egress rule, then ``policyTypes``. Defaulting has already run (every port has
a protocol, ``policyTypes`` is non-empty). The table of rules is in
``/work/shared/spec/networkpolicy-validation.md``; see also ``docs/validation.md``.
"""

from __future__ import annotations

from stockade.model.errors import FieldError, forbidden, invalid, not_supported, required
from stockade.model.netparse import effective_address, effective_network, parse_cidr
from stockade.model.types import (
    IPBlock,
    NetworkPolicy,
    NetworkPolicyPeer,
    NetworkPolicyPort,
    NetworkPolicyRule,
)
from stockade.model.validate.addresses import validate_cidr
from stockade.model.validate.meta import validate_object_meta
from stockade.model.validate.names import name_is_dns_subdomain
from stockade.model.validate.ports import is_valid_port_name, is_valid_port_num
from stockade.model.validate.selectors import validate_label_selector

PROTOCOLS = ("TCP", "UDP", "SCTP")  # upstream's order in the message, not sorted
POLICY_TYPES = ("Ingress", "Egress")


def validate_network_policy(policy: NetworkPolicy) -> list[FieldError]:
    errors = validate_object_meta(
        policy.metadata, name_is_dns_subdomain, requires_namespace=True
    )
    errors.extend(validate_label_selector(policy.pod_selector, "spec.podSelector"))
    errors.extend(_validate_rules(policy.ingress, "spec.ingress", "from"))
    errors.extend(_validate_rules(policy.egress, "spec.egress", "to"))
    errors.extend(_validate_policy_types(policy.policy_types))
    return errors


def _validate_rules(
    rules: tuple[NetworkPolicyRule, ...], path: str, peers_field: str
) -> list[FieldError]:
    errors: list[FieldError] = []
    for i, rule in enumerate(rules):
        for j, port in enumerate(rule.ports):
            errors.extend(validate_policy_port(port, f"{path}[{i}].ports[{j}]"))
        for k, peer in enumerate(rule.peers):
            errors.extend(validate_peer(peer, f"{path}[{i}].{peers_field}[{k}]"))
    return errors


def validate_policy_port(port: NetworkPolicyPort, path: str) -> list[FieldError]:
    if port.protocol in PROTOCOLS and port.end_port is None and (
            port.port is None or (type(port.port) is int and 1 <= port.port <= 65535)):
        return []  # the usual port: a protocol, at most a port number
    return _policy_port_errors(port, path)


def _policy_port_errors(port: NetworkPolicyPort, path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    if port.protocol not in PROTOCOLS:
        errors.append(not_supported(f"{path}.protocol", port.protocol, PROTOCOLS))
    end_path = f"{path}.endPort"
    if isinstance(port.port, int):
        errors.extend(invalid(f"{path}.port", port.port, m) for m in is_valid_port_num(port.port))
        if port.end_port is not None:
            if port.end_port < port.port:
                errors.append(invalid(
                    end_path, port.end_port, "must be greater than or equal to `port`"
                ))
            errors.extend(
                invalid(end_path, port.end_port, m) for m in is_valid_port_num(port.end_port)
            )
    elif isinstance(port.port, str):
        if port.end_port is not None:
            errors.append(invalid(
                end_path, port.end_port, "may not be specified when `port` is non-numeric"
            ))
        errors.extend(invalid(f"{path}.port", port.port, m) for m in is_valid_port_name(port.port))
    elif port.end_port is not None:
        errors.append(invalid(
            end_path, port.end_port, "may not be specified when `port` is not specified"
        ))
    return errors


def validate_peer(peer: NetworkPolicyPeer, path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    if peer.pod_selector is not None:
        errors.extend(validate_label_selector(peer.pod_selector, f"{path}.podSelector"))
    if peer.namespace_selector is not None:
        errors.extend(
            validate_label_selector(peer.namespace_selector, f"{path}.namespaceSelector")
        )
    if peer.ip_block is not None:
        errors.extend(validate_ip_block(peer.ip_block, f"{path}.ipBlock"))
    present = ((peer.pod_selector is not None) + (peer.namespace_selector is not None)
               + (peer.ip_block is not None))
    if present == 0:
        errors.append(required(path, "must specify a peer"))
    elif present > 1 and peer.ip_block is not None:
        errors.append(forbidden(path, "may not specify both ipBlock and another peer"))
    return errors


def validate_ip_block(block: IPBlock, path: str) -> list[FieldError]:
    if not block.cidr:
        return [required(f"{path}.cidr")]
    errors = validate_cidr(block.cidr, f"{path}.cidr")
    cidr = parse_cidr(block.cidr)
    if cidr is None:
        return errors
    # Go's IPNet.Contains treats an IPv4-mapped IPv6 network or address as IPv4, while the
    # prefix lengths compared are the ones written; reproduce both halves.
    container = effective_network(cidr)
    for i, text in enumerate(block.except_):
        except_path = f"{path}.except[{i}]"
        errors.extend(validate_cidr(text, except_path))
        excepted = parse_cidr(text)
        if excepted is None:
            continue
        start = effective_address(excepted.network_address)
        contained = start.version == container.version and start in container
        if not contained or cidr.prefixlen >= excepted.prefixlen:
            errors.append(invalid(except_path, text, "must be a strict subset of `cidr`"))
    return errors


def _validate_policy_types(policy_types: tuple[str, ...]) -> list[FieldError]:
    if len(policy_types) > len(POLICY_TYPES):
        return [invalid(
            "spec.policyTypes", list(policy_types), "may not specify more than two policyTypes"
        )]
    return [
        not_supported(f"spec.policyTypes[{i}]", value, POLICY_TYPES)
        for i, value in enumerate(policy_types)
        if value not in POLICY_TYPES
    ]
