"""Node validation (``ValidateNode``), for what stockade reads of a Node: its metadata (the
name a DNS-1123 subdomain; cluster-scoped). ``status.addresses`` is not validated upstream
on create (only duplicates, on update), so nothing there is an error; an InternalIP or
ExternalIP that is no IP address is left out of the node's addresses with a warning
(``stockade.model.build``).
"""

from __future__ import annotations

from stockade.model.errors import FieldError
from stockade.model.types import Node
from stockade.model.validate.meta import validate_object_meta
from stockade.model.validate.names import name_is_dns_subdomain


def validate_node(node: Node) -> list[FieldError]:
    return validate_object_meta(node.metadata, name_is_dns_subdomain, requires_namespace=False)
