"""Upstream's messages, typed out by hand from the validation spec: the expectations the
validation tests compare with, independent of the code under test."""

SUBDOMAIN_MSG = (
    r"a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
    r"'-' or '.', and must start and end with an alphanumeric character (e.g. "
    r"'example.com', regex used for validation is "
    r"'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
DNS_LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', "
    "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
