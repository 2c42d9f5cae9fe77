"""Unit tests of the renderer and of who gets the managed file: the edges golden files miss."""

from __future__ import annotations

import re

import pytest

from stockade.errors import InputError
from stockade.hosts import (
    MANAGED_HOSTS_HEADER_HOST_NETWORK,
    containers_with_managed_hosts_file,
    find_container,
    gets_managed_hosts_file,
    host_aliases_section,
    node_hosts_content,
    render_hosts_file,
)
from stockade.model.types import (
    Container,
    HostAlias,
    ObjectMeta,
    Origin,
    Pod,
    PodSpec,
    VolumeMount,
)

ALIASES = (HostAlias("127.0.0.1", ("foo.node.local", "bar.node.local")),
           HostAlias("10.1.2.3", ("foo.node.remote", "bar.node.remote")))


def make_pod(name: str = "p", *, ips: tuple[str, ...] = ("10.0.0.1",), **spec: object) -> Pod:
    return Pod(ObjectMeta(name, "default"), PodSpec(**spec),  # type: ignore[arg-type]
               ips=ips, origin=Origin("pod.yaml", 1))


def test_aliases_section_is_empty_without_aliases() -> None:
    assert host_aliases_section(()) == b""


def test_aliases_section_shape() -> None:
    assert host_aliases_section(ALIASES) == (
        b"\n# Entries added by HostAliases.\n"
        b"127.0.0.1\tfoo.node.local\tbar.node.local\n10.1.2.3\tfoo.node.remote\tbar.node.remote\n"
    )


def test_managed_file_never_uses_debian_multicast_lines() -> None:
    content = render_hosts_file(make_pod())
    assert b"ff02::" not in content and b"ff00::" not in content
    assert b"fe00::1\tip6-allnodes\n" in content


def test_pod_ips_argument_overrides_status() -> None:
    content = render_hosts_file(make_pod(ips=("10.0.0.1",)), ["10.9.9.9"])
    assert content.endswith(b"\n10.9.9.9\tp\n")
    assert b"10.0.0.1" not in content


def test_pod_network_pod_without_ip_gets_no_file() -> None:
    with pytest.raises(InputError, match=r"pod\.yaml:1: Pod default/p: the pod has no IP yet"):
        render_hosts_file(make_pod(ips=()))


def test_invalid_pod_ip_is_refused() -> None:
    message = 'pod IP "10.0.0.300" is not a valid IP address'
    with pytest.raises(InputError, match=re.escape(message)):
        render_hosts_file(make_pod(), ["10.0.0.300"])


def test_host_network_needs_node_file_but_no_ip() -> None:
    pod = make_pod(ips=(), host_network=True)
    with pytest.raises(InputError, match="no node hosts file was given"):
        render_hosts_file(pod)
    assert render_hosts_file(pod, node_hosts=b"") == MANAGED_HOSTS_HEADER_HOST_NETWORK


def test_host_network_copies_node_bytes_verbatim() -> None:
    node = b"# odd\r\n127.0.0.1   localhost\t# comment\n\n\xff binary-ish\n"
    assert node_hosts_content(node, ()) == MANAGED_HOSTS_HEADER_HOST_NETWORK + node


def test_host_network_ignores_pod_ips_and_hostname() -> None:
    pod = make_pod("web", host_network=True, subdomain="s", host_aliases=ALIASES)
    content = render_hosts_file(pod, ["10.1.1.1"], node_hosts=b"1.2.3.4 n\n")
    assert b"web" not in content and b"10.1.1.1" not in content


def test_invalid_hostname_is_refused_with_the_kubelet_message() -> None:
    with pytest.raises(InputError) as info:
        render_hosts_file(make_pod(hostname="Web_1"))
    assert str(info.value) == (
        'pod.yaml:1: Pod default/p: pod Hostname "Web_1" is not a valid DNS label: a lowercase '
        "RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "
        "start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "
        "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
    )


def test_too_long_hostname_gets_both_kubelet_messages() -> None:
    with pytest.raises(InputError, match="must be no more than 63 characters;a lowercase"):
        render_hosts_file(make_pod(hostname="-" + "a" * 70))


def test_invalid_subdomain_is_refused() -> None:
    message = 'pod Subdomain "svc.1" is not a valid DNS label'
    with pytest.raises(InputError, match=re.escape(message)):
        render_hosts_file(make_pod(subdomain="svc.1"))


def test_set_hostname_as_fqdn_too_long_fails_the_pod() -> None:
    pod = make_pod("a" * 40, subdomain="svc1", set_hostname_as_fqdn=True)
    with pytest.raises(InputError) as info:
        render_hosts_file(pod)
    fqdn = "a" * 40 + ".svc1.default.svc.cluster.local"
    assert str(info.value).endswith(
        f"failed to construct FQDN from pod hostname and cluster domain, FQDN {fqdn} is too "
        f"long (64 characters is the max, {len(fqdn)} characters requested)"
    )
    # Without setHostnameAsFQDN the same long FQDN is fine: it only goes into /etc/hosts.
    pod_plain = make_pod("a" * 40, subdomain="svc1")
    assert f"\t{fqdn}\t".encode() in render_hosts_file(pod_plain)


def test_pod_without_any_name_is_refused() -> None:
    with pytest.raises(InputError, match=r"neither metadata\.name nor spec\.hostname"):
        render_hosts_file(make_pod(""))


HOSTS_MOUNT = (VolumeMount("custom", "/etc/hosts"),)


def test_container_mounting_etc_hosts_is_left_out_but_siblings_are_not() -> None:
    own = Container("own", volume_mounts=HOSTS_MOUNT)
    other = Container("other", volume_mounts=(VolumeMount("data", "/etc/hosts.d"),))
    init = Container("init")
    pod = make_pod(containers=(own, other), init_containers=(init,))
    assert not gets_managed_hosts_file(pod, own, pod.ips)
    assert gets_managed_hosts_file(pod, other, pod.ips)
    assert [c.name for c in containers_with_managed_hosts_file(pod, pod.ips)] == [
        "init", "other"]


def test_no_container_gets_the_file_before_the_pod_has_an_ip() -> None:
    pod = make_pod(ips=(), containers=(Container("a"),))
    assert containers_with_managed_hosts_file(pod, ()) == ()
    host_pod = make_pod(ips=(), host_network=True, containers=(Container("a"),))
    assert [c.name for c in containers_with_managed_hosts_file(host_pod, ())] == ["a"]


def test_find_container_searches_init_containers_too() -> None:
    pod = make_pod(containers=(Container("a"),), init_containers=(Container("i"),))
    assert find_container(pod, "i") == Container("i")
    assert find_container(pod, "zz") is None
