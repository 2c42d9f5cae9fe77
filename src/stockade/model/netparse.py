"""IP and CIDR parsing with the API server's "sloppy" rules, and their canonical forms.

The API server parses ``ipBlock.cidr`` and ``hostAliases[].ip`` with
``netutils.ParseCIDRSloppy`` / ``ParseIPSloppy``: Go's ``net`` parser that also accepts
leading zeros in IPv4 octets (read as decimal), in IPv6 groups (``00001::``, more than
Python's four digits) and in the prefix length. Python's
``ipaddress`` rejects those, and accepts IPv6 zones (``fe80::1%eth0``) that Go rejects, so
this module sits between the two. Host bits are masked off, as the loose parser does.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

IPAddress = IPv4Address | IPv6Address
_HEX = re.compile(r"[0-9a-fA-F]+")
IPNetwork = IPv4Network | IPv6Network
_OCTET = "(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
# A dotted quad of octets without leading zeros, as pod and host IPs are written: always an
# address ``parse_ip`` accepts, recognised without taking it apart.
_PLAIN_IPV4 = re.compile(rf"(?:{_OCTET}\.){{3}}{_OCTET}")


def _ipv4_sloppy(text: str) -> int | None:
    """The address as an integer, octets read as decimal even with leading zeros."""
    parts = text.split(".")
    if len(parts) != 4:
        return None
    value = 0
    for part in parts:
        if not part or not part.isascii() or not part.isdigit():
            return None
        octet = int(part)
        if octet > 255:
            return None
        value = value << 8 | octet
    return value


def parse_ip(text: str) -> IPAddress | None:
    """Parse an address as Go's ``ParseIPSloppy``; ``None`` when it does not parse."""
    if not text or "%" in text or not text.isascii():
        return None
    if ":" not in text:
        v4 = _ipv4_sloppy(text)
        return IPv4Address(v4) if v4 is not None else None  # from an int: no second parse
    head, sep, tail = text.rpartition(":")
    if "." in tail:  # IPv6 with an embedded IPv4 tail, e.g. ::ffff:010.1.2.3
        v4 = _ipv4_sloppy(tail)
        if v4 is None:
            return None
        text = head + sep + str(IPv4Address(v4))
    if any(len(group) > 4 for group in text.split(":")):
        # Go's old parser reads a group of any length whose value fits 16 bits
        # (``00001::``); Python allows four digits.
        groups = [(g.lstrip("0") or "0") if len(g) > 4 and _HEX.fullmatch(g) else g
                  for g in text.split(":")]
        text = ":".join(groups)
    try:
        return IPv6Address(text)
    except ValueError:
        return None


def is_ip(text: str) -> bool:
    """Whether ``parse_ip`` accepts ``text``: a plain dotted quad at once, anything else as
    ``parse_ip`` reads it."""
    return _PLAIN_IPV4.fullmatch(text) is not None or parse_ip(text) is not None


@functools.lru_cache(maxsize=65536)
def parse_cidr(text: str) -> IPNetwork | None:
    """Parse a CIDR as ``ParseCIDRSloppy`` and mask the host bits; ``None`` if invalid.
    Cached: policies name the same few ranges again and again."""
    addr_text, sep, prefix_text = text.partition("/")
    if not sep or not prefix_text.isascii() or not prefix_text.isdigit():
        return None
    addr = parse_ip(addr_text)
    if addr is None:
        return None
    prefix = int(prefix_text)
    if prefix > addr.max_prefixlen:
        return None
    return ipaddress.ip_network((addr, prefix), strict=False)


def effective_network(network: IPNetwork) -> IPNetwork:
    """The network as Go's ``IPNet.Contains`` tests it: an IPv4-mapped IPv6 network of
    prefix 96 or longer contains the corresponding IPv4 addresses."""
    if isinstance(network, IPv6Network) and network.prefixlen >= 96:
        mapped = network.network_address.ipv4_mapped
        if mapped is not None:
            return IPv4Network((mapped, network.prefixlen - 96))
    return network


def effective_address(addr: IPAddress) -> IPAddress:
    """An IPv4-mapped IPv6 address is its IPv4 address, as Go's ``To4`` makes it."""
    if isinstance(addr, IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    return addr


def parse_prefix(text: str) -> IPNetwork | None:
    """Parse a CIDR as Go's ``netip.ParsePrefix`` does (what CEL's ``isCIDR`` uses): no
    leading zeros in IPv4 octets or in the prefix length, no zone, and (the Kubernetes CEL
    library's addition) no IPv4-mapped IPv6 address. Host bits may be set; they are
    masked in the result. ``None`` when it does not parse."""
    addr_text, sep, bits = text.partition("/")
    if not sep or not bits.isascii() or not bits.isdigit() or not addr_text.isascii():
        return None
    if len(bits) > 1 and bits[0] == "0":
        return None
    if "%" in addr_text:
        return None
    try:
        addr = ipaddress.ip_address(addr_text)
    except ValueError:
        return None
    if isinstance(addr, IPv6Address) and addr.ipv4_mapped is not None:
        return None
    if int(bits) > addr.max_prefixlen:
        return None
    return ipaddress.ip_network((addr, int(bits)), strict=False)
