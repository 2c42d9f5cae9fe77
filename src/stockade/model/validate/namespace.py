"""Namespace validation (``ValidateNamespace``): the name is a DNS-1123 label.

Namespaces are cluster-scoped, so no ``metadata.namespace`` is required; finalizers are
not modelled and so not checked.
"""

from __future__ import annotations

from stockade.model.errors import FieldError
from stockade.model.types import Namespace
from stockade.model.validate.meta import validate_object_meta
from stockade.model.validate.names import name_is_dns_label


def validate_namespace(namespace: Namespace) -> list[FieldError]:
    return validate_object_meta(namespace.metadata, name_is_dns_label, requires_namespace=False)
