"""Field errors rendered the way the Kubernetes API server renders them.

``FieldError`` mirrors ``k8s.io/apimachinery/pkg/util/validation/field.Error``: a path, a
type and, for some types, a value and a detail. ``Finding`` puts a field error in context
(file, line, kind, namespace/name) for people: ``f.yaml:12: NetworkPolicy default/db: ...``.
"""

from __future__ import annotations

import enum
import json

import msgspec

from stockade.model.numbers import number_text
from stockade.model.types import Origin


class ErrorType(enum.StrEnum):
    INVALID = "Invalid value"
    REQUIRED = "Required value"
    NOT_SUPPORTED = "Unsupported value"
    FORBIDDEN = "Forbidden"
    TOO_LONG = "Too long"
    TOO_MANY = "Too many"
    DUPLICATE = "Duplicate value"


class _Omitted:
    """Marker for errors whose value is not shown (Required, Forbidden, TooLong)."""


OMITTED = _Omitted()


class GoSyntax(str):
    """A value shown as Go's ``%#v`` prints a struct (``core.ServicePort{...}``): as is."""


Value = str | int | bool | None | _Omitted | list[str]


def go_quote(text: str) -> str:
    """Quote a string as Go's ``%q`` does for the printable strings we meet."""
    return json.dumps(text, ensure_ascii=False)


def go_json(value: object) -> GoSyntax:
    """A value as apimachinery (1.34+) shows a map or struct: Go's ``json.Marshal`` (no
    spaces; ``<``, ``>``, ``&``, U+2028 and U+2029 escaped; nil is ``null``). Go sorts a
    map's keys but keeps a struct's field order, so callers pass maps sorted."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    for char in "<>&\u2028\u2029":
        text = text.replace(char, f"\\u{ord(char):04x}")
    return GoSyntax(text)


def render_value(value: Value) -> str:
    """Render a value as ``field.Error`` does: strings quoted, numbers bare, nil as null."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return number_text(value)
    if isinstance(value, GoSyntax):
        return str(value)
    if isinstance(value, str):
        return go_quote(value)
    if isinstance(value, list):
        return "[]networking.PolicyType{" + ", ".join(go_quote(v) for v in value) + "}"
    return ""


class FieldError(msgspec.Struct, frozen=True):
    path: str
    type: ErrorType
    detail: str = ""
    value: Value = OMITTED

    @property
    def body(self) -> str:
        if self.type in (ErrorType.INVALID, ErrorType.NOT_SUPPORTED, ErrorType.DUPLICATE,
                         ErrorType.TOO_MANY):
            text = f"{self.type.value}: {render_value(self.value)}"
            return f"{text}: {self.detail}" if self.detail else text
        if self.type is ErrorType.TOO_LONG:
            return f"{self.type.value}: {self.detail}"
        return f"{self.type.value}: {self.detail}" if self.detail else self.type.value

    def __str__(self) -> str:
        return f"{self.path}: {self.body}" if self.path else self.body


def invalid(path: str, value: Value, detail: str) -> FieldError:
    return FieldError(path, ErrorType.INVALID, detail, value)


def required(path: str, detail: str = "") -> FieldError:
    return FieldError(path, ErrorType.REQUIRED, detail)


def forbidden(path: str, detail: str) -> FieldError:
    return FieldError(path, ErrorType.FORBIDDEN, detail)


def not_supported(path: str, value: Value, supported: tuple[str, ...]) -> FieldError:
    detail = "supported values: " + ", ".join(go_quote(s) for s in supported)
    return FieldError(path, ErrorType.NOT_SUPPORTED, detail, value)


def too_long(path: str, limit: int) -> FieldError:
    """``field.TooLong`` as current apimachinery words it (the value is not shown)."""
    unit = "byte" if limit == 1 else "bytes"
    return FieldError(path, ErrorType.TOO_LONG, f"may not be more than {limit} {unit}")


def too_many(path: str, actual: int, limit: int) -> FieldError:
    """``field.TooMany``: a list (or, for a CRD's maxProperties, an object) too long."""
    return FieldError(path, ErrorType.TOO_MANY, f"must have at most {limit} items", actual)


def duplicate(path: str, value: Value) -> FieldError:
    return FieldError(path, ErrorType.DUPLICATE, "", value)


class Finding(msgspec.Struct, frozen=True):
    """A field error about one object, located for a person."""

    origin: Origin
    kind: str
    namespace: str
    name: str
    error: FieldError
    generate_name: str = ""  # for an object without a name: ``web-*`` names it

    @property
    def object_ref(self) -> str:
        name = self.name or (f"{self.generate_name}*" if self.generate_name else "")
        ident = f"{self.namespace}/{name}" if self.namespace else name
        return f"{self.kind} {ident or '<unnamed>'}"

    def __str__(self) -> str:
        return f"{self.origin}: {self.object_ref}: {self.error}"


def api_server_message(kind: str, group: str, name: str, errors: list[FieldError]) -> str:
    """The whole-object message of an HTTP 422, e.g. ``NetworkPolicy.networking.k8s.io "x" is
    invalid: [...]`` (duplicates removed, order kept)."""
    seen: list[str] = []
    for err in errors:
        text = str(err)
        if text not in seen:
            seen.append(text)
    qualified = f"{kind}.{group}" if group else kind
    body = seen[0] if len(seen) == 1 else "[" + ", ".join(seen) + "]"
    return f'{qualified} "{name}" is invalid: {body}'
