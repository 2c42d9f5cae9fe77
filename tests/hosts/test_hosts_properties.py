"""Property tests: whatever the pod, the output parses as a hosts file and ends with every
alias, in spec order; the hostname rules hold for any name."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stockade.errors import InputError
from stockade.hosts import render_hosts_file, truncate_hostname
from stockade.model.types import HostAlias, ObjectMeta, Pod, PodSpec

LABEL = r"[a-z0-9]([-a-z0-9]{0,12}[a-z0-9])?"
labels = st.from_regex(LABEL, fullmatch=True)
subdomains = st.from_regex(rf"{LABEL}(\.{LABEL}){{0,3}}", fullmatch=True)
pod_names = st.from_regex(r"[a-z0-9]([-a-z0-9.]{0,90}[a-z0-9])?", fullmatch=True).filter(
    lambda n: ".." not in n and ".-" not in n and "-." not in n
)
ips = st.one_of(st.ip_addresses(v=4), st.ip_addresses(v=6)).map(str)
aliases = st.builds(HostAlias, ips, st.lists(subdomains, max_size=4).map(tuple))
node_entries = st.lists(st.tuples(ips, st.lists(subdomains, min_size=1, max_size=3)),
                        max_size=5)


@st.composite
def pods(draw: st.DrawFn) -> tuple[Pod, bytes]:
    spec = PodSpec(
        host_network=draw(st.booleans()),
        host_aliases=tuple(draw(st.lists(aliases, max_size=6))),
        hostname=draw(st.one_of(st.just(""), labels)),
        subdomain=draw(st.one_of(st.just(""), labels)),
    )
    pod = Pod(ObjectMeta(draw(pod_names), draw(labels)), spec,
              ips=tuple(draw(st.lists(ips, min_size=1, max_size=2, unique=True))))
    lines = [f"{ip} {' '.join(names)}" for ip, names in draw(node_entries)]
    node = "\n".join(["# node file", *lines]) + draw(st.sampled_from(["", "\n"]))
    return pod, node.encode()


def parse_hosts(content: bytes) -> list[tuple[str, tuple[str, ...]]]:
    """A plain hosts-file reader: comments and blank lines skipped, ``IP name...`` entries."""
    entries = []
    for raw in content.decode().split("\n"):
        line = raw.split("#", 1)[0]
        if not line.strip():
            continue
        fields = line.split()
        ipaddress.ip_address(fields[0])  # raises if the first column is not an address
        entries.append((fields[0], tuple(fields[1:])))
    return entries


@given(pods())
def test_output_is_a_hosts_file_ending_with_every_alias_in_order(case: tuple[Pod, bytes]) -> None:
    pod, node = case
    content = render_hosts_file(pod, cluster_domain="cluster.local", node_hosts=node)
    entries = parse_hosts(content)
    expected = [(a.ip, a.hostnames) for a in pod.spec.host_aliases]
    assert entries[len(entries) - len(expected):] == expected
    if pod.spec.host_aliases:
        assert content.endswith(b"\n")
        assert b"\n# Entries added by HostAliases.\n" in content
    if not pod.spec.host_network:
        # After the six localhost entries: one entry per pod IP, in order, naming the pod.
        own = entries[6:6 + len(pod.ips)]
        assert [ip for ip, _ in own] == list(pod.ips)
        short = (pod.spec.hostname or pod.name)[:63]
        assert all(names[-1].startswith(short.rstrip("-.")) for _, names in own)
        assert all(len(names) == (2 if pod.spec.subdomain else 1) for _, names in own)


@given(st.text(alphabet="ab-.", min_size=1, max_size=120))
def test_truncation_rules(name: str) -> None:
    if name[:63].rstrip("-.") == "" and len(name) > 63:
        with pytest.raises(InputError, match="was invalid"):
            truncate_hostname(name, name)
        return
    out = truncate_hostname(name, name)
    if len(name) <= 63:
        assert out == name
    else:
        assert len(out) <= 63
        assert name.startswith(out)
        assert not out.endswith(("-", "."))
