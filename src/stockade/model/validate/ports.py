"""Port numbers and IANA-style port names (``IsValidPortNum``, ``IsValidPortName``).

Port-name checks are independent and all reported, in upstream's order: length,
charset, at least one letter, no ``--``, no leading or trailing ``-``.
"""

from __future__ import annotations

import re

from stockade.model.validate.messages import byte_length, inclusive_range_error, max_len_error

PORT_NAME_MAX_LENGTH = 15
_CHARSET_RE = re.compile("[-a-z0-9]+")
_LETTER_RE = re.compile("[a-z]")


def is_valid_port_num(port: int) -> list[str]:
    if 1 <= port <= 65535:
        return []
    return [inclusive_range_error(1, 65535)]


def is_valid_port_name(name: str) -> list[str]:
    errors: list[str] = []
    if byte_length(name) > PORT_NAME_MAX_LENGTH:
        errors.append(max_len_error(PORT_NAME_MAX_LENGTH))
    if _CHARSET_RE.fullmatch(name) is None:
        errors.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if _LETTER_RE.search(name) is None:
        errors.append("must contain at least one letter (a-z)")
    if "--" in name:
        errors.append("must not contain consecutive hyphens")
    if name and (name[0] == "-" or name[-1] == "-"):
        errors.append("must not begin or end with a hyphen")
    return errors
