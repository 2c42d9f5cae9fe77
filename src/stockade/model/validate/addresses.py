"""IP addresses and CIDRs in legacy fields (``ipBlock.cidr``/``except``, ``hostAliases.ip``,
a Service's cluster and external IPs and source ranges).

Mirrors ``IsValidCIDRForLegacyField`` / ``IsValidIPForLegacyField`` with the feature gate
``StrictIPCIDRValidation`` off, its upstream default: values are parsed with the "sloppy"
parser (``stockade.model.netparse``), so leading zeros, host bits and IPv4-mapped IPv6
forms are accepted, and only unparsable values are errors. The strict checks are
deliberately not applied: a cluster with default settings accepts these values.
"""

from __future__ import annotations

from ipaddress import IPv6Address

from stockade.model.errors import FieldError, invalid
from stockade.model.netparse import parse_cidr, parse_ip

CIDR_MESSAGE = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"
IP_MESSAGE = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"


def validate_cidr(value: str, path: str) -> list[FieldError]:
    return [] if parse_cidr(value) is not None else [invalid(path, value, CIDR_MESSAGE)]


def validate_ip(value: str, path: str) -> list[FieldError]:
    return [] if parse_ip(value) is not None else [invalid(path, value, IP_MESSAGE)]


def validate_non_special_ip(value: str, path: str) -> list[FieldError]:
    """``ValidateNonSpecialIP`` (external IPs): no unspecified, loopback or link-local
    address. An IPv4-mapped IPv6 address is judged as the IPv4 address, as Go's ``net.IP``
    methods do."""
    addr = parse_ip(value)
    if addr is None:
        return [invalid(path, value, "must be a valid IP address")]
    if isinstance(addr, IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    packed = addr.packed
    errors: list[FieldError] = []
    if addr.is_unspecified:
        errors.append(invalid(path, value, f"may not be unspecified ({value})"))
    if addr.is_loopback:
        errors.append(invalid(path, value,
                              "may not be in the loopback range (127.0.0.0/8, ::1/128)"))
    if addr.is_link_local:
        errors.append(invalid(path, value,
                              "may not be in the link-local range (169.254.0.0/16, fe80::/10)"))
    if (packed[:3] == b"\xe0\x00\x00" if addr.version == 4
            else packed[0] == 0xFF and packed[1] & 0x0F == 0x02):
        errors.append(invalid(
            path, value, "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)"))
    return errors
