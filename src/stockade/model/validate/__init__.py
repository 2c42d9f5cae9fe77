"""API-server validation of decoded objects: NetworkPolicy, Pod (hostAliases), Namespace, Node,
Service, workloads (their selectors and pod templates).

Each function returns every ``FieldError`` the Kubernetes API server would report when the
object is created, with the same paths, values and messages, in the same order. Pure: no
I/O, never raises on user data. What is and is not checked: ``docs/validation.md``.
"""

from __future__ import annotations

from stockade.model.validate.namespace import validate_namespace
from stockade.model.validate.network_policy import validate_network_policy
from stockade.model.validate.node import validate_node
from stockade.model.validate.pod import pod_warnings, validate_pod
from stockade.model.validate.service import validate_service
from stockade.model.validate.workload import validate_workload

__all__ = [
    "pod_warnings", "validate_namespace", "validate_network_policy", "validate_node",
    "validate_pod", "validate_service", "validate_workload",
]
