"""ObjectMeta validation on create (``ValidateObjectMetaAccessor``): names and labels.

Only the metadata stockade models is checked: ``generateName``, ``name``, ``namespace``
and ``labels``, in upstream's order. A manifest with only ``generateName`` is accepted
without a name, because the API server would generate one before validating.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from stockade.model.errors import FieldError, invalid, required
from stockade.model.types import ObjectMeta
from stockade.model.validate.labels import validate_labels
from stockade.model.validate.names import name_is_dns_label

NameFunc = Callable[[str, bool], list[str]]


def validate_object_meta(
    meta: ObjectMeta,
    name_fn: NameFunc,
    *,
    requires_namespace: bool,
    path: str = "metadata",
) -> list[FieldError]:
    errors: list[FieldError] = []
    if meta.generate_name:
        errors.extend(
            invalid(f"{path}.generateName", meta.generate_name, msg)
            for msg in name_fn(meta.generate_name, True)
        )
    if meta.name:
        messages = name_fn(meta.name, False)
        if messages:
            errors.extend(invalid(f"{path}.name", meta.name, msg) for msg in messages)
    elif not meta.generate_name:
        errors.append(required(f"{path}.name", "name or generateName is required"))
    # A cluster-scoped object's namespace is cleared by the API server before validation,
    # so the "not allowed on this type" error never reaches a user; it is not reported.
    if requires_namespace:
        errors.extend(_namespace_errors(meta.namespace, f"{path}.namespace"))
    if meta.labels:
        errors.extend(validate_labels(meta.labels, f"{path}.labels"))
    return errors


def validate_namespace_field(namespace: str, path: str) -> list[FieldError]:
    return list(_namespace_errors(namespace, path))


@functools.lru_cache(maxsize=65536)
def _namespace_errors(namespace: str, path: str) -> tuple[FieldError, ...]:
    """Every object of a namespace names it: checked once."""
    if not namespace:
        return (required(path),)
    return tuple(invalid(path, namespace, msg) for msg in name_is_dns_label(namespace, False))
