"""IP addresses and CIDRs in legacy fields (``ipBlock.cidr``/``except``, ``hostAliases.ip``).

Mirrors ``IsValidCIDRForLegacyField`` / ``IsValidIPForLegacyField`` with the feature gate
``StrictIPCIDRValidation`` off, its upstream default: values are parsed with the "sloppy"
parser (``stockade.model.netparse``), so leading zeros, host bits and IPv4-mapped IPv6
forms are accepted, and only unparsable values are errors. The strict checks are
deliberately not applied: a cluster with default settings accepts these values.
"""

from __future__ import annotations

from stockade.model.errors import FieldError, invalid
from stockade.model.netparse import parse_cidr, parse_ip

CIDR_MESSAGE = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"
IP_MESSAGE = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"


def validate_cidr(value: str, path: str) -> list[FieldError]:
    return [] if parse_cidr(value) is not None else [invalid(path, value, CIDR_MESSAGE)]


def validate_ip(value: str, path: str) -> list[FieldError]:
    return [] if parse_ip(value) is not None else [invalid(path, value, IP_MESSAGE)]
