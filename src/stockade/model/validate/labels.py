"""Label keys (qualified names) and label values, and a label map as ObjectMeta has it.

Mirrors ``content.IsLabelKey`` / ``content.IsLabelValue`` and ``ValidateLabels``. As
upstream, errors about a label map carry the map's path without the key
(``metadata.labels``, ``spec.podSelector.matchLabels``); the value says which entry.
"""

from __future__ import annotations

import functools
import re

from stockade.model.errors import FieldError, invalid
from stockade.model.validate.messages import (
    byte_length,
    empty_error,
    max_len_error,
    regex_error,
)
from stockade.model.validate.names import is_dns1123_subdomain

LABEL_KEY_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
LABEL_VALUE_FMT = "(" + LABEL_KEY_FMT + ")?"
LABEL_KEY_MAX_LENGTH = 63
LABEL_VALUE_MAX_LENGTH = 63

_KEY_MSG = (
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with "
    "an alphanumeric character"
)
_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' "
    "or '.', and must start and end with an alphanumeric character"
)
_KEY_RE = re.compile(LABEL_KEY_FMT)
_VALUE_RE = re.compile(LABEL_VALUE_FMT)
_KEY_EXAMPLES = ("MyName", "my.name", "123-abc")


def is_label_key(value: str) -> list[str]:
    """``IsLabelKey`` (a.k.a. ``IsQualifiedName``): ``[prefix/]name``."""
    errors: list[str] = []
    parts = value.split("/")
    if len(parts) > 2:
        return [
            "a valid label key " + regex_error(_KEY_MSG, LABEL_KEY_FMT, *_KEY_EXAMPLES)
            + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        ]
    name = parts[-1]
    if len(parts) == 2:
        prefix = parts[0]
        if not prefix:
            errors.append("prefix part " + empty_error())
        else:
            errors.extend("prefix part " + msg for msg in is_dns1123_subdomain(prefix))
    if not name:
        errors.append("name part " + empty_error())
    elif byte_length(name) > LABEL_KEY_MAX_LENGTH:
        errors.append("name part " + max_len_error(LABEL_KEY_MAX_LENGTH))
    # Independent of the emptiness check: an empty name gets both messages upstream too.
    if _KEY_RE.fullmatch(name) is None:
        errors.append("name part " + regex_error(_KEY_MSG, LABEL_KEY_FMT, *_KEY_EXAMPLES))
    return errors


def is_qualified_name(value: str) -> list[str]:
    """``IsQualifiedName``: a label key's rules, but a value with two or more ``/`` is
    "a qualified name" in the message (``appProtocol``, ``loadBalancerClass``)."""
    errors = is_label_key(value)
    if value.count("/") > 1:
        return [errors[0].replace("a valid label key ", "a qualified name ", 1)]
    return errors


def is_label_value(value: str) -> list[str]:
    errors: list[str] = []
    if byte_length(value) > LABEL_VALUE_MAX_LENGTH:
        errors.append(max_len_error(LABEL_VALUE_MAX_LENGTH))
    if _VALUE_RE.fullmatch(value) is None:
        errors.append(regex_error(_VALUE_MSG, LABEL_VALUE_FMT, "MyValue", "my_value", "12345"))
    return errors


def validate_label_name(key: str, path: str) -> list[FieldError]:
    return [invalid(path, key, msg) for msg in is_label_key(key)]


@functools.lru_cache(maxsize=65536)
def _label_messages(key: str, value: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The same labels recur on every replica: check each (key, value) once."""
    return tuple(is_label_key(key)), tuple(is_label_value(value))


def validate_labels(labels: tuple[tuple[str, str], ...], path: str) -> list[FieldError]:
    """``ValidateLabels``. Go walks the map in random order; we keep the manifest's order."""
    errors: list[FieldError] = []
    for key, value in labels:
        key_messages, value_messages = _label_messages(key, value)
        if key_messages or value_messages:
            errors.extend(invalid(path, key, msg) for msg in key_messages)
            errors.extend(invalid(path, value, msg) for msg in value_messages)
    return errors
