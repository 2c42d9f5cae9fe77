"""The shared checks on their own: DNS names, label keys and values, ports, CIDR and IP."""

from __future__ import annotations

import pytest

from stockade.model.validate.addresses import validate_cidr, validate_ip
from stockade.model.validate.labels import is_label_key, is_label_value
from stockade.model.validate.messages import regex_error
from stockade.model.validate.names import (
    is_dns1123_label,
    is_dns1123_subdomain,
    name_is_dns_label,
    name_is_dns_subdomain,
)
from stockade.model.validate.ports import is_valid_port_name, is_valid_port_num

SUBDOMAIN_REGEX_MSG = (
    r"a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
    r"'-' or '.', and must start and end with an alphanumeric character (e.g. "
    r"'example.com', regex used for validation is "
    r"'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
KEY_NAME_MSG = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start "
    "and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', "
    "regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)


def test_regex_error_formats() -> None:
    assert regex_error("bad", "x+") == "bad (regex used for validation is 'x+')"
    assert regex_error("bad", "x+", "a", "b") == (
        "bad (e.g. 'a',  or 'b', regex used for validation is 'x+')")


@pytest.mark.parametrize("value", ["a", "a.b", "1-2.x-y", "0", "a" * 253])
def test_subdomain_valid(value: str) -> None:
    assert is_dns1123_subdomain(value) == []


@pytest.mark.parametrize("value", ["", "a.", ".a", "a..b", "-a", "a-", "A", "a_b", "a\n"])
def test_subdomain_regex(value: str) -> None:
    assert is_dns1123_subdomain(value) == [SUBDOMAIN_REGEX_MSG]


def test_subdomain_length_and_regex_both_reported() -> None:
    assert is_dns1123_subdomain("A" * 254) == [
        "must be no more than 253 characters", SUBDOMAIN_REGEX_MSG]


def test_lengths_count_bytes_as_go_does() -> None:
    # 32 two-byte characters: 64 bytes, over the 63 limit though only 32 characters long.
    assert is_label_value("é" * 32)[0] == "must be no more than 63 characters"
    assert is_dns1123_label("é" * 31)[0] != "must be no more than 63 characters"


def test_label_dots_message_only_when_a_valid_subdomain() -> None:
    assert is_dns1123_label("a.b") == ["must not contain dots"]
    assert is_dns1123_label("a.B")[0].startswith("a lowercase RFC 1123 label must consist")


def test_generate_name_prefix_masks_trailing_dash_like_upstream() -> None:
    assert name_is_dns_subdomain("web-", True) == []
    assert name_is_dns_subdomain("web-", False) == [SUBDOMAIN_REGEX_MSG]
    assert name_is_dns_label("ns-", True) == []
    # Upstream replaces the last *two* characters by "a": "a.-" becomes "aa", accepted.
    assert name_is_dns_subdomain("a.-", True) == []
    assert name_is_dns_subdomain("-", True) == [SUBDOMAIN_REGEX_MSG]


@pytest.mark.parametrize("key", ["app", "app.kubernetes.io/name", "a/B_c.d", "x" * 63,
                                 "example.com/" + "x" * 63])
def test_label_key_valid(key: str) -> None:
    assert is_label_key(key) == []


@pytest.mark.parametrize(("key", "expected"), [
    ("/app", ["prefix part must be non-empty"]),
    ("app/", ["name part must be non-empty", KEY_NAME_MSG]),
    ("", ["name part must be non-empty", KEY_NAME_MSG]),
    ("x" * 64, ["name part must be no more than 63 characters"]),
    ("a_", [KEY_NAME_MSG]),
    ("Example.com/app", ["prefix part " + SUBDOMAIN_REGEX_MSG]),
    ("a" * 254 + "/app", ["prefix part must be no more than 253 characters"]),
    ("/", ["prefix part must be non-empty", "name part must be non-empty", KEY_NAME_MSG]),
])
def test_label_key_messages(key: str, expected: list[str]) -> None:
    assert is_label_key(key) == expected


def test_label_key_with_two_slashes_is_one_message() -> None:
    assert is_label_key("a/b/c") == [
        "a valid label key must consist of alphanumeric characters, '-', '_' or '.', and "
        "must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or "
        "'123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') "
        "with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"]


@pytest.mark.parametrize("value", ["", "a", "A-b_c.d", "1" * 63])
def test_label_value_valid(value: str) -> None:
    assert is_label_value(value) == []


def test_label_value_too_long_and_bad() -> None:
    assert is_label_value("-" * 64) == [
        "must be no more than 63 characters",
        "a valid label must be an empty string or consist of alphanumeric characters, '-', "
        "'_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  "
        "or 'my_value',  or '12345', regex used for validation is "
        "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"]


@pytest.mark.parametrize(("port", "ok"), [(0, False), (1, True), (65535, True),
                                          (65536, False), (-80, False)])
def test_port_number(port: int, ok: bool) -> None:
    assert is_valid_port_num(port) == ([] if ok else ["must be between 1 and 65535, inclusive"])


@pytest.mark.parametrize("name", ["http", "a", "h2c", "grpc-web", "x" * 15, "9a"])
def test_port_name_valid(name: str) -> None:
    assert is_valid_port_name(name) == []


def test_port_name_rules_are_independent() -> None:
    assert is_valid_port_name("--") == [
        "must contain at least one letter (a-z)",
        "must not contain consecutive hyphens",
        "must not begin or end with a hyphen",
    ]


@pytest.mark.parametrize("cidr", ["10.0.0.0/8", "10.0.0.1/8", "010.0.0.0/08", "::/0",
                                  "::ffff:10.0.0.0/104", "2001:db8::/64", "0.0.0.0/0",
                                  "02001:db8::/64", "fd00:0:0:0:00001::/80", "::0000ffff/128"])
def test_cidr_accepted_sloppily(cidr: str) -> None:
    assert validate_cidr(cidr, "f") == []


@pytest.mark.parametrize("cidr", ["10.0.0.0/33", "10.0.0.0", "foo", "10.0.0.0/-1",
                                  "::/129", "10.0.0.0/8/8", " 10.0.0.0/8", "10000::/64",
                                  "::g/64", "fd00:+1::/64"])
def test_cidr_rejected(cidr: str) -> None:
    assert [str(e) for e in validate_cidr(cidr, "f")] == [
        f'f: Invalid value: "{cidr}": must be a valid CIDR value, '
        "(e.g. 10.9.8.0/24 or 2001:db8::/64)"]


def test_ip() -> None:
    assert validate_ip("192.168.001.1", "f") == []
    assert [str(e) for e in validate_ip("192.168.1", "f")] == [
        'f: Invalid value: "192.168.1": must be a valid IP address, '
        "(e.g. 10.9.8.7 or 2001:db8::ffff)"]


def test_ipv6_groups_with_leading_zeros_are_their_value() -> None:
    """k8s.io/utils' copy of Go's old parser reads a group of any length whose value fits
    16 bits; the network is the one the digits say."""
    from stockade.model.netparse import parse_cidr, parse_ip

    assert str(parse_cidr("02001:0db8::/32")) == "2001:db8::/32"
    assert str(parse_ip("fd00:0:0:0:00001::")) == "fd00::1:0:0:0"
    assert parse_ip("1:2:3:4:5:6:7:8:00000") is None  # nine groups stay invalid
