"""The CEL rules (``x-kubernetes-validations``) of the network-policy-api CRDs, in Python.

Keyed by the rule's exact text as the CRD states it, so that a new or changed rule in a
regenerated schema is noticed (``rule_for`` raises) instead of silently passing. Each
function receives the node the rule sits on, after pruning and defaulting, and returns
whether the rule holds.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from stockade.model.netparse import parse_prefix

Rule = Callable[[Any], bool]


def _start_before_end(node: Mapping[str, Any]) -> bool:
    return bool(node["start"] < node["end"])


def _is_cidr(node: str) -> bool:
    return parse_prefix(node) is not None


def _no_named_port(peer_fields: tuple[str, ...], ports_field: str,
                   named_field: str) -> Rule:
    """``!(self.to.exists(peer, has(peer.<f>) || ...) && has(self.<ports>) &&
    self.<ports>.exists(p, has(p.<named>)))``: no named port towards address peers."""

    def rule(node: Mapping[str, Any]) -> bool:
        addressed = any(any(f in peer for f in peer_fields) for peer in node.get("to", ()))
        named = ports_field in node and any(named_field in p for p in node[ports_field])
        return not (addressed and named)

    return rule


def _named_default(node: Mapping[str, Any]) -> bool:
    return bool(node.get("metadata", {}).get("name") == "default")


RULES: dict[str, Rule] = {
    "self.start < self.end": _start_before_end,
    "isCIDR(self)": _is_cidr,
    "!(self.to.exists(peer, has(peer.networks) || has(peer.nodes) || has(peer.domainNames)) "
    "&& has(self.protocols) && self.protocols.exists(protocol, "
    "has(protocol.destinationNamedPort)))":
        _no_named_port(("networks", "nodes", "domainNames"), "protocols",
                       "destinationNamedPort"),
    "!(self.to.exists(peer, has(peer.networks) || has(peer.nodes) || has(peer.domainNames)) "
    "&& has(self.ports) && self.ports.exists(port, has(port.namedPort)))":
        _no_named_port(("networks", "nodes", "domainNames"), "ports", "namedPort"),
    "!(self.to.exists(peer, has(peer.networks) || has(peer.nodes)) && has(self.ports) && "
    "self.ports.exists(port, has(port.namedPort)))":
        _no_named_port(("networks", "nodes"), "ports", "namedPort"),
    "self.metadata.name == 'default'": _named_default,
}


def schema_rules(schema: Mapping[str, Any]) -> list[str]:
    """Every CEL rule text a schema names, depth first."""
    found = [rule for rule, _ in schema.get("rules", ())]
    for child in (*schema.get("properties", {}).values(),
                  *(schema[k] for k in ("items", "additionalProperties") if k in schema)):
        found.extend(schema_rules(child))
    return found


def check_rules(schema: Mapping[str, Any]) -> None:
    """Raise if the schema names a rule this module does not implement (a stockade bug)."""
    missing = [rule for rule in schema_rules(schema) if rule not in RULES]
    if missing:
        raise LookupError(f"CEL rules without an implementation: {missing}")
