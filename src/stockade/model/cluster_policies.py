"""Cluster-wide policies: ClusterNetworkPolicy (v1alpha2), AdminNetworkPolicy and
BaselineAdminNetworkPolicy (v1alpha1), validated as the API server validates them and
decoded into one shape (``ClusterNetworkPolicy`` of ``stockade.model.types``).

These kinds are CRDs, so the API server checks them against the CRD's schema and CEL rules
(``validate.crd``) rather than with hand-written Go validation, and only ``metadata`` goes
through the usual ``ObjectMeta`` checks. Pure: the raw objects come from ``sources``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stockade.model.crds import CRDS, cluster_network_policy
from stockade.model.decode import Decoder
from stockade.model.errors import FieldError
from stockade.model.types import (
    ClusterNetworkPolicy,
    ClusterPolicyPeer,
    ClusterPolicyPort,
    ClusterPolicyRule,
    ClusterPolicySubject,
    LabelSelector,
    NamespacedPod,
    ObjectMeta,
    Origin,
    Protocol,
    RuleAction,
    Tier,
)
from stockade.model.validate.cel import RULES, check_rules
from stockade.model.validate.crd import validate_custom_resource
from stockade.model.validate.meta import validate_object_meta
from stockade.model.validate.names import name_is_dns_subdomain

for _module in CRDS.values():
    check_rules(_module.SCHEMA)

GROUP = cluster_network_policy.GROUP
_PEER_PATH = re.compile(r"spec\.(ingress|egress)\[\d+\]\.(from|to)\[\d+\]")
_PROTOCOLS = {"tcp": "TCP", "udp": "UDP", "sctp": "SCTP"}
V1ALPHA1_PORTS = ("portNumber", "portRange", "namedPort")
PEER_FIELDS = ("namespaces", "pods", "nodes", "networks", "domainNames")


@dataclass(frozen=True, slots=True)
class Checked:
    """A cluster policy after validation: its errors, what stockade has to say about its
    meaning (``warnings``, without location), and the decoded value when it is valid."""

    errors: list[FieldError]
    warnings: list[str]
    policy: ClusterNetworkPolicy | None


def check_cluster_policy(data: Mapping[str, Any], origin: Origin) -> Checked:
    """Validate one raw object of a kind in ``CRDS`` and decode it when valid."""
    kind = str(data.get("kind"))
    module = CRDS[kind]
    if "status" in data:
        # The CRDs have a status subresource: a create drops status before pruning, so an
        # object read back from a cluster (status.conditions set) has no unknown field.
        data = {key: value for key, value in data.items() if key != "status"}
    decoder = Decoder()
    meta = decoder.object_meta(data.get("metadata"))
    errors = decoder.errors + validate_object_meta(meta, name_is_dns_subdomain,
                                                   requires_namespace=False)
    result = validate_custom_resource(module.SCHEMA, data, RULES, prior=errors)
    # A peer whose only fields are unknown to this CRD version was written for a newer
    # one: the API server that stored it knew them. Upstream says to fail closed then,
    # rather than to refuse the object.
    # A peer field that some direction or version of these APIs declares (networks on
    # ingress, domainNames in a BANP) is a mistake, not news: it stays an error.
    closed = {path for path, _, name in (p.rpartition(".") for p in result.pruned)
              if _PEER_PATH.fullmatch(path) and name not in PEER_FIELDS}
    errors += [e for e in result.errors
               if not (e.path in closed and "should have at least 1 properties" in e.detail)]
    warnings = [f"{path}: unknown field, dropped (the API server prunes fields its CRD "
                "does not declare)" for path in result.pruned if path.rpartition(".")[0]
                not in closed]
    if errors:
        return Checked(errors, warnings, None)
    policy = _decode(kind, meta, result.value, data, origin)
    return Checked(errors, warnings + _meaning_warnings(policy), policy)


def _selector(decoder: Decoder, value: Any, path: str) -> LabelSelector:
    return decoder.label_selector(value, path)


def _namespaced_pod(decoder: Decoder, value: Mapping[str, Any], path: str) -> NamespacedPod:
    return NamespacedPod(
        _selector(decoder, value.get("namespaceSelector"), f"{path}.namespaceSelector"),
        _selector(decoder, value.get("podSelector"), f"{path}.podSelector"),
    )


def _peer(decoder: Decoder, value: Mapping[str, Any], raw: Any, path: str) -> ClusterPolicyPeer:
    unknown = tuple(k for k in raw if k not in value) if isinstance(raw, Mapping) else ()
    return ClusterPolicyPeer(
        namespaces=(_selector(decoder, value["namespaces"], f"{path}.namespaces")
                    if "namespaces" in value else None),
        pods=(_namespaced_pod(decoder, value["pods"], f"{path}.pods")
              if "pods" in value else None),
        nodes=_selector(decoder, value["nodes"], f"{path}.nodes") if "nodes" in value else None,
        networks=tuple(value.get("networks", ())),
        domain_names=tuple(value.get("domainNames", ())),
        unknown=unknown,
    )


def _port(value: Mapping[str, Any]) -> ClusterPolicyPort:
    if "portNumber" in value:  # v1alpha1
        number = value["portNumber"]
        return ClusterPolicyPort("portNumber", number["protocol"], number["port"],
                                 number["port"])
    if "portRange" in value:
        span = value["portRange"]
        return ClusterPolicyPort("portRange", span.get("protocol", "TCP"), span["start"],
                                 span["end"])
    if "namedPort" in value:
        return ClusterPolicyPort("namedPort", name=value["namedPort"])
    if "destinationNamedPort" in value:  # v1alpha2
        return ClusterPolicyPort("destinationNamedPort", name=value["destinationNamedPort"])
    for key, protocol in _PROTOCOLS.items():
        if key in value:
            dest = value[key].get("destinationPort", {})
            if "number" in dest:
                return ClusterPolicyPort(key, protocol, dest["number"], dest["number"])
            if "range" in dest:
                return ClusterPolicyPort(key, protocol, dest["range"]["start"],
                                         dest["range"]["end"])
            return ClusterPolicyPort(key, protocol)  # no destinationPort: every port
    return ClusterPolicyPort("")  # only fields of a newer CRD: matches nothing


def _rule(decoder: Decoder, value: Mapping[str, Any], raw: Any, path: str,
          peers_field: str) -> ClusterPolicyRule:
    raw_peers = raw.get(peers_field, []) if isinstance(raw, Mapping) else []
    peers = tuple(
        _peer(decoder, p, raw_peers[i] if i < len(raw_peers) else {}, f"{path}.{peers_field}[{i}]")
        for i, p in enumerate(value.get(peers_field, ()))
    )
    entries = value.get("protocols", value.get("ports"))
    action = value["action"]
    return ClusterPolicyRule(
        action=RuleAction.ACCEPT if action == "Allow" else RuleAction(action),
        peers=peers,
        ports=None if entries is None else tuple(_port(p) for p in entries),
        name=value.get("name", ""),
        action_text=action,
    )


def _raw_rules(raw: Mapping[str, Any], direction: str) -> list[Any]:
    """The rules as written (before pruning), to tell which peer fields were unknown."""
    spec = raw.get("spec")
    rules = spec.get(direction) if isinstance(spec, Mapping) else None
    return rules if isinstance(rules, list) else []


def _decode(kind: str, meta: ObjectMeta, value: Mapping[str, Any], raw: Mapping[str, Any],
            origin: Origin) -> ClusterNetworkPolicy:
    decoder = Decoder()
    spec = value["spec"]
    raw_ingress, raw_egress = _raw_rules(raw, "ingress"), _raw_rules(raw, "egress")
    subject = spec["subject"]
    if kind == "ClusterNetworkPolicy":
        tier, priority, has_priority = Tier(spec["tier"]), spec["priority"], True
    elif kind == "AdminNetworkPolicy":
        tier, priority, has_priority = Tier.ADMIN, spec["priority"], True
    else:
        tier, priority, has_priority = Tier.BASELINE, 0, False
    return ClusterNetworkPolicy(
        metadata=ObjectMeta(meta.name, "", meta.labels, annotations=meta.annotations),
        kind=kind,
        tier=tier,
        priority=priority,
        subject=ClusterPolicySubject(
            namespaces=(_selector(decoder, subject["namespaces"], "spec.subject.namespaces")
                        if "namespaces" in subject else None),
            pods=(_namespaced_pod(decoder, subject["pods"], "spec.subject.pods")
                  if "pods" in subject else None),
        ),
        ingress=tuple(_rule(decoder, r, raw_ingress[i], f"spec.ingress[{i}]", "from")
                      for i, r in enumerate(spec.get("ingress", ()))),
        egress=tuple(_rule(decoder, r, raw_egress[i], f"spec.egress[{i}]", "to")
                     for i, r in enumerate(spec.get("egress", ()))),
        has_priority=has_priority,
        origin=origin,
    )


def _meaning_warnings(policy: ClusterNetworkPolicy) -> list[str]:
    """What a valid object means that its author may not expect."""
    out: list[str] = []
    for direction, peers_field, rules in (("ingress", "from", policy.ingress),
                                          ("egress", "to", policy.egress)):
        for i, rule in enumerate(rules):
            path = f"spec.{direction}[{i}]"
            for j, peer in enumerate(rule.peers):
                if peer.fails_closed:
                    effect = ("this Accept rule matches nothing"
                              if rule.action is RuleAction.ACCEPT
                              else f"this {rule.action_text} rule denies all traffic")
                    fields = ", ".join(peer.unknown) or "none"
                    out.append(f"{path}.{peers_field}[{j}]: sets only fields this CRD "
                               f"version does not declare ({fields}); an API server with "
                               "this version would prune them and refuse the empty peer, "
                               "one with a newer CRD accepts it; stockade fails closed as "
                               f"upstream specifies: {effect}")
                if peer.domain_names and rule.action is not RuleAction.ACCEPT:
                    out.append(f"{path}.{peers_field}[{j}].domainNames: upstream supports "
                               f"domainNames in Accept rules only; stockade applies this "
                               f"{rule.action_text} rule to them as written")
            for k, port in enumerate(rule.ports or ()):
                where = f"{path}.{'ports' if port.field in V1ALPHA1_PORTS else 'protocols'}[{k}]"
                if port.field in ("portNumber", "portRange") and port.protocol not in (
                        Protocol.TCP, Protocol.UDP, Protocol.SCTP):
                    out.append(f"{where}.{port.field}.protocol: {port.protocol!r} is not TCP, "
                               "UDP or SCTP (the CRD does not check it): the entry matches "
                               "no traffic")
                if port.field == "portRange" and port.first > port.last:
                    out.append(f"{where}.portRange: start {port.first} is greater than end "
                               f"{port.last} (the v1alpha1 CRD does not check it): the "
                               "range matches no port")
    return out
