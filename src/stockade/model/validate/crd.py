"""A custom resource checked against its CRD's structural schema, as the API server does.

The apiextensions server prunes unknown fields and nulls, applies schema defaults, then
validates types, bounds, enums, patterns, required fields and list sets, and finally the
CEL rules (``x-kubernetes-validations``) unless an earlier error blocks them. Errors are
worded as it words them (kube-openapi's message inside apimachinery's field error). The
schemas are data (``stockade.model.crds``); the CEL rules they name are implemented in
``stockade.model.validate.cel``. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from stockade.model.errors import (
    ErrorType,
    FieldError,
    duplicate,
    invalid,
    not_supported,
    required,
    too_long,
    too_many,
)
from stockade.model.numbers import whole_float

Schema = Mapping[str, Any]
Rule = Callable[[Any], bool]
ROOT = "<nil>"  # how a nil field path prints: the path of errors about the whole object
# Errors of these types stop CEL rules from running (apiextensions' hasBlockingErr).
BLOCKING = (ErrorType.NOT_SUPPORTED, ErrorType.REQUIRED, ErrorType.TOO_LONG,
            ErrorType.TOO_MANY)
NOT_CHECKED = ("some validation rules were not checked because the object was invalid; "
               "correct the existing errors to complete validation")


def json_type(value: object) -> str:
    """The JSON type name kube-openapi reports for a value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        # kubectl sends a whole float as its digits (``numbers.whole_float``); the API server
        # reads digits that fit in an int64 as an integer, anything else as a number.
        whole = whole_float(value)
        return "integer" if whole is not None and -(2**63) <= whole < 2**63 else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


@dataclass(slots=True)
class SchemaResult:
    """What the API server would store (``value``: pruned, defaulted), the errors it would
    return, and the paths of the unknown fields it dropped."""

    value: Any
    errors: list[FieldError] = field(default_factory=list)
    pruned: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Walk:
    rules: Mapping[str, Rule]
    errors: list[FieldError] = field(default_factory=list)
    duplicates: list[FieldError] = field(default_factory=list)
    pruned: list[str] = field(default_factory=list)
    type_error: bool = False
    cel: list[tuple[str, str, str, Any, str]] = field(default_factory=list)

    def node(self, schema: Schema, value: Any, path: str) -> Any:
        expected = schema.get("type")
        got = json_type(value)
        if expected and got != expected and not (expected == "number" and got == "integer"):
            self.type_error = True
            self.errors.append(invalid(path, got, f'{path} in body must be of type '
                                                  f'{expected}: "{got}"'))
            return None
        if expected == "object":
            value = self._object(schema, value, path)
        elif expected == "array":
            value = self._array(schema, value, path)
        elif expected == "string":
            self._string(schema, value, path)
        elif expected in ("integer", "number"):
            if isinstance(value, float):  # whole and within int64 (``json_type``)
                value = whole_float(value)
            self._number(schema, value, path)
        for rule, message in schema.get("rules", ()):
            self.cel.append((rule, message, path or ROOT, value, expected or "object"))
        return value

    def _object(self, schema: Schema, value: Mapping[str, Any], path: str) -> dict[str, Any]:
        props: Mapping[str, Schema] | None = schema.get("properties")
        extra: Schema | None = schema.get("additionalProperties")
        prefix = f"{path}." if path else ""
        if props is None and extra is None:  # free-form (metadata): kept as it is
            return dict(value)
        known = {k: v for k, v in value.items() if v is not None
                 and ((props is not None and k in props) or extra is not None)}
        self.pruned.extend(f"{prefix}{k}" for k in value
                           if value[k] is not None and k not in known)
        count = len(known)
        if "minProperties" in schema and count < schema["minProperties"]:
            self.errors.append(invalid(path, count, f"{path} in body should have at least "
                                                    f"{schema['minProperties']} properties"))
        if "maxProperties" in schema and count > schema["maxProperties"]:
            self.errors.append(too_many(path, count, schema["maxProperties"]))
        out: dict[str, Any] = {}
        for key, item in known.items():
            sub = props[key] if props is not None and key in props else extra
            assert sub is not None
            checked = self.node(sub, item, f"{prefix}{key}")
            if checked is not None:
                out[key] = checked
        for key, sub in (props or {}).items():
            if key not in out and key not in known and "default" in sub:
                out[key] = sub["default"]
        for key in schema.get("required", ()):
            if key not in out and key not in known:
                self.errors.append(required(f"{prefix}{key}"))
        return out

    def _array(self, schema: Schema, value: list[Any], path: str) -> list[Any]:
        if "minItems" in schema and len(value) < schema["minItems"]:
            self.errors.append(invalid(path, len(value), f"{path} in body should have at "
                                                         f"least {schema['minItems']} items"))
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            self.errors.append(too_many(path, len(value), schema["maxItems"]))
        items: Schema = schema.get("items", {})
        out = [self.node(items, item, f"{path}[{i}]") for i, item in enumerate(value)]
        if schema.get("x-kubernetes-list-type") == "set":
            seen: list[Any] = []
            for i, item in enumerate(out):
                if item in seen:
                    self.duplicates.append(duplicate(f"{path}[{i}]", item))
                else:
                    seen.append(item)
        return out

    def _string(self, schema: Schema, value: str, path: str) -> None:
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            self.errors.append(too_long(path, schema["maxLength"]))
        if "pattern" in schema and _matches(schema["pattern"], value) is False:
            self.errors.append(invalid(path, value, f"{path} in body should match "
                                                    f"'{schema['pattern']}'"))
        if "enum" in schema and value not in schema["enum"]:
            self.errors.append(not_supported(path, value, tuple(schema["enum"])))

    def _number(self, schema: Schema, value: int | float, path: str) -> None:
        shown: int | str = value if isinstance(value, int) else str(value)
        if "minimum" in schema and value < schema["minimum"]:
            self.errors.append(invalid(path, shown, f"{path} in body should be greater than "
                                                    f"or equal to {schema['minimum']}"))
        if "maximum" in schema and value > schema["maximum"]:
            self.errors.append(invalid(path, shown, f"{path} in body should be less than or "
                                                    f"equal to {schema['maximum']}"))


def _matches(pattern: str, value: str) -> bool:
    return re.search(pattern, value) is not None


def has_rules(schema: Schema) -> bool:
    """Whether any node of the schema carries CEL rules (then the CRD has a CEL validator,
    which reports when blocking errors kept it from running)."""
    if schema.get("rules"):
        return True
    children = [*schema.get("properties", {}).values()]
    children += [schema[k] for k in ("items", "additionalProperties") if k in schema]
    return any(has_rules(child) for child in children)


def validate_custom_resource(schema: Schema, data: Mapping[str, Any],
                             rules: Mapping[str, Rule], *,
                             prior: list[FieldError] | None = None) -> SchemaResult:
    """Validate ``data`` against ``schema``. ``prior`` are the errors found before (object
    metadata), which count towards blocking the CEL rules as they do upstream. ``rules``
    maps each CEL rule's text to its implementation; a rule missing there is a bug."""
    walk = _Walk(rules)
    value = walk.node(schema, data, "")
    errors = [*walk.errors, *walk.duplicates]
    earlier = [*(prior or []), *errors]
    if walk.type_error or any(e.type in BLOCKING for e in earlier):
        if has_rules(schema):
            errors.append(invalid(ROOT, None, NOT_CHECKED))
    else:
        for rule, message, path, node, kind in walk.cel:
            if not rules[rule](node):
                errors.append(invalid(path, kind, message))
    return SchemaResult(value if value is not None else {}, errors, walk.pruned)
