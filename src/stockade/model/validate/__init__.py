"""API-server validation of decoded objects: NetworkPolicy, Pod (hostAliases), Namespace.

Placeholder entry points; the validation rules land in this package's modules.
"""

from __future__ import annotations

from stockade.model.errors import FieldError
from stockade.model.types import Namespace, NetworkPolicy, Pod


def validate_network_policy(policy: NetworkPolicy) -> list[FieldError]:
    return []


def validate_pod(pod: Pod, prefix: str = "spec") -> list[FieldError]:
    return []


def validate_namespace(namespace: Namespace) -> list[FieldError]:
    return []
