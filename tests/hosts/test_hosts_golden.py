"""Every worked example of the spec (and a few more), rendered and compared byte for byte.

Each case is ``golden/<name>.yaml`` (the manifest), ``<name>.hosts`` (the expected file,
written by hand from the spec), optionally ``<name>.node-hosts`` (the node's /etc/hosts for
hostNetwork) and ``<name>.args`` (command-line flags, one token per line). The CLI test runs
the same cases through ``stockade hosts``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from msgspec.structs import replace

from stockade.hosts import render_hosts_file
from stockade.model.build import build_cluster
from stockade.model.types import ObjectMeta, Pod
from stockade.sources.files import read_paths

GOLDEN = Path(__file__).parent / "golden"
EXAMPLES = Path(__file__).parents[2] / "examples" / "hostaliases"
CASES = sorted(p.stem for p in GOLDEN.glob("*.yaml"))
SEED_SHA256 = "7a6f6a034dfa1eb4b614b31dad11860cfa56e7a449b96cfa96dbe1a7816b4bc8"
SEED_LITERAL = (
    b"# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost "
    b"ip6-loopback\nfe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\n"
    b"fe00::2\tip6-allrouters\n10.200.0.5\thostaliases-konvoy-pod\n\n# Entries added by "
    b"HostAliases.\n127.0.0.1\tfoo.node.local\tbar.node.local\n10.1.2.3\tfoo.node.remote\t"
    b"bar.node.remote\n"
)


def _flags(name: str) -> dict[str, list[str]]:
    path = GOLDEN / f"{name}.args"
    tokens = path.read_text().split("\n") if path.exists() else []
    tokens = [t for t in tokens if t]
    flags: dict[str, list[str]] = {}
    for flag, value in zip(tokens[::2], tokens[1::2], strict=True):
        flags.setdefault(flag, []).append(value)
    return flags


def _pod(manifest: Path, pod_name: str | None) -> Pod:
    result = build_cluster(read_paths([str(manifest)]))
    assert not result.findings, [str(f) for f in result.findings]
    pods = [*result.cluster.pods, *(w.template for w in result.cluster.workloads)]
    assert len(pods) == 1
    pod = pods[0]
    if pod_name is not None:
        meta = pod.metadata
        pod = replace(pod, metadata=ObjectMeta(pod_name, meta.namespace))
    return pod


def render_case(name: str) -> bytes:
    flags = _flags(name)
    pod = _pod(GOLDEN / f"{name}.yaml", flags.get("--pod-name", [None])[0])
    node_file = GOLDEN / f"{name}.node-hosts"
    return render_hosts_file(
        pod,
        flags.get("--pod-ip"),
        cluster_domain=flags.get("--cluster-domain", ["cluster.local"])[0],
        node_hosts=node_file.read_bytes() if node_file.exists() else None,
    )


def test_there_are_golden_cases() -> None:
    assert len(CASES) >= 20


@pytest.mark.parametrize("name", CASES)
def test_golden(name: str) -> None:
    expected = (GOLDEN / f"{name}.hosts").read_bytes()
    assert render_case(name) == expected


def test_seed_matches_the_spec_literal_and_hash() -> None:
    content = render_case("seed")
    assert content == SEED_LITERAL
    assert hashlib.sha256(content).hexdigest() == SEED_SHA256
    assert len(content) == 331
    assert content.count(b"\n") == 12


def test_shipped_example_renders_the_seed() -> None:
    result = build_cluster(read_paths([str(EXAMPLES / "hostaliases-konvoy-pod.yaml")]))
    assert not result.findings
    (pod,) = result.cluster.pods
    assert pod.name == "hostaliases-konvoy-pod"
    assert [c.name for c in pod.spec.containers] == ["cat-hosts"]
    assert pod.spec.containers[0].image == "busybox"
    content = render_hosts_file(pod)
    assert hashlib.sha256(content).hexdigest() == SEED_SHA256
    assert (EXAMPLES / "hostaliases-konvoy-pod.hosts").read_bytes() == content


def test_long_name_cases_really_have_a_separator_at_the_cut() -> None:
    # Guards the golden manifests themselves: the interesting character sits at index 62.
    for name, char in (("long-name-dash", "-"), ("long-name-dot", "."),
                       ("long-name-double-dash", "-")):
        pod = _pod(GOLDEN / f"{name}.yaml", None)
        assert len(pod.name) == 70
        assert pod.name[62] == char
