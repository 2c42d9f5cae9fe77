"""The lab's pure parts, without root: what a container would run (``$(VAR)`` expansion as
Kubernetes does it, the environment, user and group), the listeners' answers, the state
codec, and the names of what a lab owns."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lab_support import ROOT

from stockade.errors import InputError
from stockade.lab.codec import OBJECT_LIMIT, TooLarge, decode, encode
from stockade.lab.containers import NOBODY, containers_of, expand
from stockade.lab.listeners import answer
from stockade.lab.names import LabNames, lab_of_netns
from stockade.lab.plan import make_plan
from stockade.model.build import build_cluster
from stockade.model.types import Cluster
from stockade.sources.files import read_paths

VARS = {"A": "a", "EMPTY": "", "B": "$(A)"}


@pytest.mark.parametrize(("text", "want"), [
    ("$(A)", "a"),
    ("x$(A)y$(A)", "xaya"),
    ("$(EMPTY)", ""),
    ("$(B)", "$(A)"),  # values are not expanded twice
    ("$(UNDEFINED)", "$(UNDEFINED)"),
    ("$$(A)", "$(A)"),  # $$ escapes
    ("$$$(A)", "$a"),
    ("$(A", "$(A"),  # unclosed: kept
    ("$A", "$A"),
    ("$", "$"),
    ("a$", "a$"),
    ("$()", "$()"),
    ("", ""),
])
def test_expansion_follows_kubernetes(text: str, want: str) -> None:
    assert expand(text, VARS.get) == want


@given(st.text(alphabet="ab$()", max_size=30))
def test_expansion_without_variables_only_unescapes(text: str) -> None:
    """With nothing defined, only ``$$`` changes: an expansion never invents text."""
    assert expand(text, lambda _: None) == _unescape_only(text)


_TOKENS = re.compile(r"\$\([^)]*\)|\$\$|\$\(|\$.|.", re.DOTALL)


def _unescape_only(text: str) -> str:
    """A second reading of the syntax: references kept whole, ``$$`` made ``$``."""
    return "".join("$" if t == "$$" else t for t in _TOKENS.findall(text))


def _pod(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "pod.yaml"
    path.write_text(text)
    result = build_cluster(read_paths([str(path)]))
    assert result.findings == []
    return result.cluster.pods[0]


POD = """
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: 'n', labels: {tier: web}}
spec:
  securityContext: {runAsUser: 1000, runAsGroup: 3000}
  initContainers:
  - name: init
    args: [echo, "$(POD)"]
    env: [{name: POD, valueFrom: {fieldRef: {fieldPath: metadata.name}}}]
  containers:
  - name: app
    command: [sh, -c]
    args: ["echo $(GREETING) $(IP) $(TIER) $(NOPE)"]
    workingDir: /srv/app
    securityContext: {runAsUser: 0}
    env:
    - {name: GREETING, value: "hi $(TIER)"}
    - {name: TIER, valueFrom: {fieldRef: {fieldPath: "metadata.labels['tier']"}}}
    - {name: IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}
    - {name: SECRET, valueFrom: {secretKeyRef: {name: s, key: k}}}
    - {name: UID, valueFrom: {fieldRef: {fieldPath: metadata.uid}}}
    envFrom: [{configMapRef: {name: cm}}]
  - {name: quiet}
  - {name: default-user, command: ["true"]}
status: {podIP: 10.1.0.5}
"""


def test_containers_of_a_pod(tmp_path: Path) -> None:
    pod = _pod(tmp_path, POD)
    init, app, plain = containers_of(pod, ("10.1.0.5",), {"app", "init"})
    assert (init.name, init.init, init.argv, init.user, init.group) == (
        "init", True, ("echo", "p"), 1000, 3000)
    assert app.init is False and app.hosts_file and not plain.hosts_file
    # GREETING was defined before TIER: its $(TIER) stays as written, as upstream.
    assert app.argv == ("sh", "-c", "echo hi $(TIER) 10.1.0.5 web $(NOPE)")
    assert dict(app.env) == {"GREETING": "hi $(TIER)", "TIER": "web", "IP": "10.1.0.5"}
    assert (app.user, app.group, app.working_dir) == (0, 3000, "/srv/app")
    assert app.notes == (
        "envFrom configMapRef is not supported by the lab: its variables are not set",
        "env SECRET: valueFrom.secretKeyRef is not supported by the lab (only literal values "
        "and fieldRef): not set",
        "env UID: fieldRef metadata.uid is not supported by the lab: not set")
    assert (plain.name, plain.user, plain.group, plain.argv) == (
        "default-user", 1000, 3000, ("true",))


def test_default_user_and_group_are_nobody(tmp_path: Path) -> None:
    pod = _pod(tmp_path, "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"
               "spec: {containers: [{name: c, command: [id]}]}\n")
    (c,) = containers_of(pod, ("10.0.0.1",), set())
    assert (c.user, c.group) == (NOBODY, NOBODY) == (65534, 65534)


@pytest.mark.parametrize(("container", "message"), [
    ('{name: c, command: ["a\\0b"]}', "holds a NUL character"),
    ('{name: c, command: [x], env: [{name: "A=B", value: v}]}', 'env name "A=B" cannot be set'),
    ('{name: c, command: [x], securityContext: {runAsUser: -1}}',
     "securityContext.runAsUser: Invalid value: -1"),
    ('{name: c, command: [x], securityContext: {runAsGroup: 2147483648}}',
     "securityContext.runAsGroup: Invalid value: 2147483648"),
    ("{name: c, command: [x], workingDir: relative/dir}", 'workingDir "relative/dir" is not '
     "an absolute path"),
])
def test_what_no_process_can_be_given_is_refused(tmp_path: Path, container: str,
                                                 message: str) -> None:
    pod = _pod(tmp_path, "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: 'n'}\n"
               f"spec: {{containers: [{container}]}}\n")
    with pytest.raises(InputError, match="Pod n/p: container c: ") as exc:
        containers_of(pod, ("10.0.0.1",), set())
    assert message in str(exc.value)


# $(VAR) references multiply what is written: 3,000 references to a 100 KB value would be
# 300 MB of arguments (the kernel takes strings of 128 KiB and 2 MiB in all, at most).
_WIDE = "y" * 100_000


@pytest.mark.parametrize(("container", "message"), [
    ('{name: c, command: [echo, "' + "$(A)" * 3000 + '"], env: [{name: A, value: ' + _WIDE
     + "}]}", "longer than 128 KiB once $(VAR) references are expanded"),
    ('{name: c, command: [echo], args: [' + ", ".join(["$(A)"] * 3000) + '], env: [{name: A, '
     "value: " + _WIDE + "}]}", "more than 2 MiB of command, arguments and environment"),
    ("{name: c, command: [echo], env: [{name: A, value: " + _WIDE + "}, {name: B, value: '"
     + "$(A)" * 3000 + "'}]}", "longer than 128 KiB once $(VAR) references are expanded"),
])
def test_what_the_kernel_would_not_start_is_refused_before_it_is_built(
        tmp_path: Path, container: str, message: str) -> None:
    pod = _pod(tmp_path, "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: 'n'}\n"
               f"spec: {{containers: [{container}]}}\n")
    with pytest.raises(InputError, match="Pod n/p: container c: ") as exc:
        containers_of(pod, ("10.0.0.1",), set())
    assert message in str(exc.value)


@pytest.mark.parametrize(("request_", "reply"), [
    (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
     b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 15\r\nConnection: "
     b"close\r\n\r\nstockade ns/p1\n"),
    (b"HEAD /x HTTP/1.0\r\n\r\n",
     b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 15\r\nConnection: "
     b"close\r\n\r\n"),
    (b"hello\n", b"stockade ns/p1\n"),
    (b"", b"stockade ns/p1\n"),
])
def test_tcp_listeners_answer_http_and_anything_else(request_: bytes, reply: bytes) -> None:
    assert answer("ns/p1", request_) == reply


def _scenario_clusters() -> list[tuple[str, Cluster]]:
    out = []
    for path in sorted((ROOT / "tests" / "scenarios").glob("*.yaml")) + sorted(
            (ROOT / "examples").glob("*")):
        out.append((path.name, build_cluster(read_paths([str(path)])).cluster))
    return out


@pytest.mark.parametrize(("name", "cluster"), _scenario_clusters(),
                         ids=[n for n, _ in _scenario_clusters()])
def test_state_codec_round_trips_every_scenario(name: str, cluster: Cluster) -> None:
    assert decode(Cluster, encode(cluster)) == cluster


def test_state_codec_counts_shared_values_once_per_use() -> None:
    big = "x" * (1024 * 1024)
    with pytest.raises(TooLarge, match="larger than 3 MiB"):
        encode((big, big, big, big))
    assert len(encode((big, big))) == 2
    assert OBJECT_LIMIT == 3 * 1024 * 1024


def test_lab_names() -> None:
    names = LabNames("demo")
    assert (names.node_netns(0), names.pod_netns(12), names.table) == (
        "stk-demo-n0", "stk-demo-p12", "stk-demo")
    assert [lab_of_netns(n) for n in ("stk-demo-n0", "stk-demo-p3", "stk-demo-node",
                                      "stk-demo-x", "stk-demo2-p1", "other")] == [
        "demo", "demo", "demo", None, "demo2", None]
    assert names.owns_netns("stk-demo-p1") and not names.owns_netns("stk-demo2-p1")


def test_a_lab_pod_serves_its_native_sidecars_ports_too(tmp_path: Path) -> None:
    """A native sidecar (an init container with ``restartPolicy: Always``) runs beside the
    containers, so the lab pod listens on its ports too (a Service may target them by
    name); an ordinary init container has ended before the pod serves."""
    path = tmp_path / "p.yaml"
    path.write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: a}\nspec:\n"
                    "  initContainers:\n"
                    "  - {name: proxy, image: envoy, restartPolicy: Always,\n"
                    "     ports: [{name: web, containerPort: 15001}]}\n"
                    "  - {name: setup, image: busybox, ports: [{containerPort: 9999}]}\n"
                    "  containers: [{name: app, image: app, ports: [{containerPort: 8080}]}]\n"
                    "status: {podIP: 10.0.0.5}\n")
    plan = make_plan(build_cluster(read_paths([str(path)])).cluster, LabNames("t"))
    [pod] = plan.pods
    assert pod.ports == ((8080, "TCP"), (15001, "TCP"))


def test_a_native_sidecar_is_started_not_waited_for(tmp_path: Path) -> None:
    """The kubelet starts what follows a native sidecar once it has started: the lab does
    not wait for it to end as it waits for an init container."""
    pod = _pod(tmp_path, "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n"
               "  initContainers:\n"
               "  - {name: proxy, image: envoy, restartPolicy: Always, command: [sleep, '60']}\n"
               "  - {name: setup, image: busybox, command: ['true']}\n"
               "  containers: [{name: app, image: app, command: [sleep, '60']}]\n")
    proxy, setup, app = containers_of(pod, ("10.1.0.5",), set())
    assert [(c.name, c.init) for c in (proxy, setup, app)] == [
        ("proxy", False), ("setup", True), ("app", False)]
