"""The reading process checks objects while this one is busy (``forked.Demand``,
``read_ahead(check=...)``, ``model.build.check_object``): whichever process checks an
object, and however the work is shared, the build is exactly the one-process build."""

from __future__ import annotations

import functools
import mmap
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from manifest_trees import trees, write_tree
from processes import children
from stockade.cli import forked
from stockade.cli.read_ahead import read_ahead
from stockade.model.build import (
    BuildResult,
    Checked,
    RawObject,
    build_cluster,
    check_object,
    decoded_here,
)
from stockade.sources.files import expand_paths, read_files

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

# --- forked.Demand -------------------------------------------------------------------------


def test_the_child_learns_when_the_reader_starts_and_hands_over_at_once() -> None:
    """Before the reader reads, the child sees no demand; once it reads, the child sees it,
    and what it made so far is handed over without waiting for a full batch."""
    demand = forked.Demand()

    def produce() -> Iterator[object]:
        yield demand.waiting()  # False: the reader has not started
        deadline = time.monotonic() + 30
        while not demand.waiting() and time.monotonic() < deadline:
            time.sleep(0.005)
        yield demand.waiting()  # True, and the batch goes now
        time.sleep(60)  # the batch must not wait for this
        yield "never read"

    items = forked.ahead(produce, "a test reader", demand)
    time.sleep(0.2)  # busy elsewhere
    started = time.monotonic()
    assert [next(items), next(items)] == [False, True]
    assert time.monotonic() - started < 30
    items.close()  # type: ignore[attr-defined]
    forked.reap_ended()  # children that handed everything over end on their own
    assert children(zombies=True) == set()


def test_until_the_reader_reads_the_child_is_not_held_back_by_the_pipe() -> None:
    """Before the reader reads, the child makes everything (many times what the pipe
    holds: frames wait in the child); the items then come in order. Once the reader reads,
    a full pipe holds the child back again."""
    made = mmap.mmap(-1, 8)  # how many items the child made, shared with it
    demand = forked.Demand()
    size = 4 << 10  # batches of 1 MiB, what the pipe holds
    first, second = 4 * forked.AHEAD_BATCH, 8 * forked.AHEAD_BATCH

    def produce() -> Iterator[bytes]:
        for n in range(first + second):
            if n == first:  # the reader is now reading: it sees this wait
                deadline = time.monotonic() + 30
                while not demand.waiting() and time.monotonic() < deadline:
                    time.sleep(0.005)
            made[:8] = (n + 1).to_bytes(8, "little")
            yield bytes([n % 256]) * size

    items = forked.ahead(produce, "a test reader", demand)
    deadline = time.monotonic() + 30
    while int.from_bytes(made[:8], "little") < first and time.monotonic() < deadline:
        time.sleep(0.01)  # busy elsewhere: the child goes on meanwhile
    assert int.from_bytes(made[:8], "little") == first
    assert next(items) == bytes([0]) * size
    time.sleep(1.0)  # reading now: a full pipe holds the child back
    assert int.from_bytes(made[:8], "little") < first + second
    assert [*items] == [bytes([n % 256]) * size for n in range(1, first + second)]
    forked.reap_ended()
    assert children(zombies=True) == set()


def test_what_waits_in_the_child_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past ``AHEAD_WAITING_BYTES`` waiting, a full pipe holds the child back even before
    the reader reads; everything still comes, in order."""
    monkeypatch.setattr(forked, "AHEAD_WAITING_BYTES", 1 << 20)
    made = mmap.mmap(-1, 8)
    size, count = 4 << 10, 16 * forked.AHEAD_BATCH  # 16 MiB in all

    def produce() -> Iterator[bytes]:
        for n in range(count):
            made[:8] = (n + 1).to_bytes(8, "little")
            yield bytes([n % 256]) * size

    items = forked.ahead(produce, "a test reader", forked.Demand())
    time.sleep(1.0)  # the child would make all 16 MiB in this time, unbounded
    assert int.from_bytes(made[:8], "little") <= 4 * forked.AHEAD_BATCH
    assert [*items] == [bytes([n % 256]) * size for n in range(count)]
    forked.reap_ended()
    assert children(zombies=True) == set()


def test_without_a_demand_items_over_several_batches_come_back_in_order() -> None:
    made = list(range(forked.AHEAD_BATCH * 2 + 3))
    assert list(forked.ahead(lambda: iter(made), "a test reader")) == made


# --- the checked build against the one-process build ---------------------------------------

_DOCUMENTS = st.sampled_from([
    "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ns-{i}\n  labels: {{team: t{i}}}\n",
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p-{i}\n  namespace: ns-{i}\n"
    "  labels: {{app: a{i}}}\nspec:\n  containers: [{{name: c, image: i, ports: "
    "[{{name: http, containerPort: 80}}]}}]\nstatus: {{podIP: 10.0.0.{i}}}\n",
    # no namespace: the default one (or --helm-namespace's)
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: q-{i}\nspec:\n  hostAliases: "
    "[{{ip: 10.1.1.1, hostnames: [db]}}]\n  containers: [{{name: c, image: i}}]\n",
    # finished, misspelt field, invalid, generateName only
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: done-{i}\nspec:\n  containers: "
    "[{{name: c, image: i}}]\nstatus: {{phase: Succeeded, podIP: 10.0.1.{i}}}\n",
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: typo-{i}\n  lables: {{app: x}}\nspec:\n"
    "  containers: [{{name: c, image: i}}]\n",
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: BAD_{i}\nspec:\n  containers: []\n",
    "apiVersion: v1\nkind: Pod\nmetadata:\n  generateName: gen-\nspec:\n  containers: "
    "[{{name: c, image: i}}]\n",
    "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: np-{i}\n"
    "  namespace: ns-{i}\nspec:\n  podSelector: {{matchLabels: {{app: a{i}}}}}\n  ingress:\n"
    "  - from: [{{ipBlock: {{cidr: 10.0.0.0/8, except: [10.1.0.0/16]}}}}]\n"
    "    ports: [{{port: http}}, {{port: 8000, endPort: 8080, protocol: UDP}}]\n"
    "  policyTypes: [Ingress, Egress]\n",
    "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: bad-{i}\n"
    "spec:\n  podSelector: {{}}\n  ingress: [{{ports: [{{port: 0}}]}}]\n",
    "apiVersion: v1\nkind: Service\nmetadata:\n  name: svc-{i}\n  namespace: ns-{i}\nspec:\n"
    "  selector: {{app: a{i}}}\n  ports: [{{port: 80, targetPort: http}}]\n",
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web-{i}\n  namespace: ns-{i}\n"
    "spec:\n  replicas: 2\n  selector: {{matchLabels: {{app: w}}}}\n  template:\n"
    "    metadata: {{labels: {{app: w}}}}\n    spec: {{containers: [{{name: c, image: i}}]}}\n",
    "apiVersion: v1\nkind: Node\nmetadata:\n  name: node-{i}\nstatus:\n  addresses: "
    "[{{type: InternalIP, address: 192.168.0.{i}}}, {{type: ExternalIP, address: nope}}]\n",
    "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\nmetadata:\n"
    "  name: anp-{i}\nspec:\n  priority: 5\n  subject: {{namespaces: {{}}}}\n  ingress:\n"
    "  - name: deny\n    action: Deny\n    from: [{{namespaces: {{}}}}]\n",
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i}\n",  # not modelled
    # a key written twice: the later value, and a note that travels with the object
    "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: twice-{i}\n  labels: {{a: b, a: c}}\n",
    "apiVersion: extensions/v1beta1\nkind: NetworkPolicy\nmetadata:\n  name: old-{i}\n",
    "kind: Pod\nmetadata:\n  name: noversion-{i}\n",
    "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ns-1\n",  # defined again
])


def _trees() -> st.SearchStrategy[list[str]]:
    return trees(_DOCUMENTS, min_docs=1, max_docs=8)


_write = write_tree


def _wait_for_the_child() -> None:
    """Until the reading process has read (and checked) everything: it then ends."""
    deadline = time.monotonic() + 60
    while children() and time.monotonic() < deadline:
        time.sleep(0.005)


def _built(files: list[str], namespace: str, *, wait: str) -> tuple[BuildResult, int]:
    """The build from objects read ahead (the reader busy until the child ended, never
    busy, or busy for a moment), and how many came checked."""
    check = functools.partial(check_object, default_namespace=namespace)
    handed = read_ahead(files, None, None, check)
    if wait == "all":
        _wait_for_the_child()
    elif wait == "some":
        time.sleep(0.002)
    items: list[RawObject | Checked] = list(handed)
    checked = sum(isinstance(item, Checked) for item in items)
    return build_cluster(items, default_namespace=namespace), checked


def _built_here(files: list[str], namespace: str) -> BuildResult:
    return build_cluster(read_files(files), default_namespace=namespace)


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=_trees(), namespace=st.sampled_from(["default", "release"]),
       wait=st.sampled_from(["all", "none", "some"]))
def test_a_build_from_checked_objects_is_the_one_process_build(
        tmp_path: Path, texts: list[str], namespace: str, wait: str) -> None:
    files = _write(tmp_path, texts)
    there, checked = _built(files, namespace, wait=wait)
    here = _built_here(files, namespace)
    assert there == here  # the cluster, findings, warnings, notes, skipped kinds
    if wait == "all":  # the child checked every valid object of a built-in kind
        assert checked == _checkable(files, namespace)
    forked.reap_ended()  # children that handed everything over end on their own
    assert children(zombies=True) == set()


def _checkable(files: list[str], namespace: str) -> int:
    """The objects the child checks when the reader never asks: those of a built-in kind
    that are valid (an invalid one is handed over as read, and checked again)."""
    return sum(decoded_here(raw) and not check_object(raw, namespace).errors
               for raw in read_files(files))


@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.iterdir() if p.is_dir()))
def test_every_example_builds_the_same_from_checked_objects(example: str) -> None:
    """Each object of every example crosses the pipe checked (MessagePack): decoded into
    its type, it equals the object checked here."""
    files = expand_paths([str(EXAMPLES / example)])
    there, checked = _built(files, "default", wait="all")
    assert there == _built_here(files, "default")
    assert checked == _checkable(files, "default")
    assert checked > 0 or not any(decoded_here(raw) for raw in read_files(files))


def test_what_messagepack_cannot_carry_goes_as_read(tmp_path: Path) -> None:
    """A file name that is not UTF-8 (held with surrogates), an integer beyond 64 bits that
    validation leaves alone, a string with a lone surrogate (from a JSON escape): MessagePack
    cannot carry them, so these objects go as read, and the build is the one-process build."""
    pad = "\n".join(f"# {'x' * 70}" for _ in range(40))  # the other files: some bytes
    # In JSON (in YAML, go-yaml reads so long a number as a float: 1e+23, refused).
    (tmp_path / "00.json").write_text(
        '{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "w", '
        '"namespace": "a"}, "spec": {"replicas": 99999999999999999999999, "selector": '
        '{"matchLabels": {"app": "w"}}, "template": {"metadata": {"labels": {"app": "w"}}, '
        '"spec": {"containers": [{"name": "c", "image": "i"}]}}}}\n' + " " * 2900 + "\n")
    (tmp_path / "01.json").write_text(
        '{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "a"},'
        ' "spec": {"containers": [{"name": "c", "image": "img\\ud800"}]}}\n')
    (tmp_path / os.fsdecode(b"02-\xe9.yaml")).write_text(
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n" + pad + "\n")
    (tmp_path / "03.yaml").write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: b}\n")
    files = expand_paths([str(tmp_path)])
    assert len(files) == 4
    there, checked = _built(files, "default", wait="all")
    here = _built_here(files, "default")
    assert there == here and not here.findings
    assert checked == 1  # only namespace b crosses checked
    forked.reap_ended()  # children that handed everything over end on their own
    assert children(zombies=True) == set()
