"""DNS-1123 names: the subdomain and label checks behind object names and hostnames (and
the DNS-1035 label of a Service's name).

Mirrors ``IsDNS1123Subdomain`` / ``IsDNS1123Label`` / ``IsDNS1035Label`` and the
``NameIsDNS...`` name functions (with their ``generateName`` prefix mode) of current
upstream apimachinery, message for message. Lengths are counted in bytes, as Go's ``len`` does.
"""

from __future__ import annotations

import re

from stockade.model.validate.messages import byte_length, max_len_error, regex_error

DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS1123_SUBDOMAIN_FMT = DNS1123_LABEL_FMT + "(\\." + DNS1123_LABEL_FMT + ")*"
DNS1123_LABEL_MAX_LENGTH = 63
DNS1123_SUBDOMAIN_MAX_LENGTH = 253
DNS1035_LABEL_FMT = "[a-z]([-a-z0-9]*[a-z0-9])?"
DNS1035_LABEL_MAX_LENGTH = 63

_LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character"
)
_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "
    "or '.', and must start and end with an alphanumeric character"
)
_DNS1035_MSG = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with "
    "an alphabetic character, and end with an alphanumeric character"
)
_LABEL_RE = re.compile(DNS1123_LABEL_FMT)
_DNS1035_RE = re.compile(DNS1035_LABEL_FMT)
_SUBDOMAIN_RE = re.compile(DNS1123_SUBDOMAIN_FMT)


# Each check first asks whether the value matches the pattern within the limit: a match is
# ASCII, so its length is its byte length, and it is valid without measuring its UTF-8
# encoding. Anything else is checked in full (``_..._errors``), each message in its order.


def is_dns1123_subdomain(value: str) -> list[str]:
    if len(value) <= DNS1123_SUBDOMAIN_MAX_LENGTH and _SUBDOMAIN_RE.fullmatch(value):
        return []
    return _dns1123_subdomain_errors(value)


def _dns1123_subdomain_errors(value: str) -> list[str]:
    errors: list[str] = []
    if byte_length(value) > DNS1123_SUBDOMAIN_MAX_LENGTH:
        errors.append(max_len_error(DNS1123_SUBDOMAIN_MAX_LENGTH))
    if _SUBDOMAIN_RE.fullmatch(value) is None:
        errors.append(regex_error(_SUBDOMAIN_MSG, DNS1123_SUBDOMAIN_FMT, "example.com"))
    return errors


def is_dns1123_label(value: str) -> list[str]:
    if len(value) <= DNS1123_LABEL_MAX_LENGTH and _LABEL_RE.fullmatch(value):
        return []
    return _dns1123_label_errors(value)


def _dns1123_label_errors(value: str) -> list[str]:
    errors: list[str] = []
    if byte_length(value) > DNS1123_LABEL_MAX_LENGTH:
        errors.append(max_len_error(DNS1123_LABEL_MAX_LENGTH))
    if _LABEL_RE.fullmatch(value) is None:
        # A valid subdomain that is not a valid label can only be failing on its dots;
        # upstream says so instead of repeating the regex.
        if _SUBDOMAIN_RE.fullmatch(value) is not None:
            errors.append("must not contain dots")
        else:
            errors.append(regex_error(_LABEL_MSG, DNS1123_LABEL_FMT, "my-name", "123-abc"))
    return errors


def is_dns1035_label(value: str) -> list[str]:
    if len(value) <= DNS1035_LABEL_MAX_LENGTH and _DNS1035_RE.fullmatch(value):
        return []
    return _dns1035_label_errors(value)


def _dns1035_label_errors(value: str) -> list[str]:
    errors: list[str] = []
    if byte_length(value) > DNS1035_LABEL_MAX_LENGTH:
        errors.append(max_len_error(DNS1035_LABEL_MAX_LENGTH))
    if _DNS1035_RE.fullmatch(value) is None:
        errors.append(regex_error(_DNS1035_MSG, DNS1035_LABEL_FMT, "my-name", "abc-123"))
    return errors


def _mask_trailing_dash(name: str) -> str:
    # Upstream drops the last *two* characters before appending "a"; reproduce that quirk
    # (a one-character "-" is left alone, where Go would panic on the slice).
    if len(name) > 1 and name.endswith("-"):
        return name[:-2] + "a"
    return name


def name_is_dns_subdomain(name: str, prefix: bool) -> list[str]:
    """``NameIsDNSSubdomain``: ``prefix`` is true for ``generateName``, which may end in -."""
    return is_dns1123_subdomain(_mask_trailing_dash(name) if prefix else name)


def name_is_dns_label(name: str, prefix: bool) -> list[str]:
    """``NameIsDNSLabel`` (= ``ValidateNamespaceName``)."""
    return is_dns1123_label(_mask_trailing_dash(name) if prefix else name)


def name_is_dns1035_label(name: str, prefix: bool) -> list[str]:
    """``NameIsDNS1035Label`` (= ``ValidateServiceName``)."""
    return is_dns1035_label(_mask_trailing_dash(name) if prefix else name)
