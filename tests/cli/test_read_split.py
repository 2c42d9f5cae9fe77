"""One large file read by two processes that meet in the middle (``cli.read_split``):
whichever process checks an object, wherever they meet, and whatever the child does wrong,
the build is exactly the one-process build."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from processes import children
from stockade.cli import forked, read_split
from stockade.errors import DocumentError, InputError
from stockade.model import build
from stockade.model.build import BuildResult, Checked, RawObject, build_cluster, check_object
from stockade.sources.files import file_sizes, read_files
from stockade.sources.limits import Budget

# Items of a kubectl-style List: every kind the build treats differently, invalid ones, one
# of a kind not modelled, one with a key written twice (a note that travels with it), and
# one that is not an object at all (an unreadable document).
_ITEMS: list[str] = [
    '{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ns-%d", '
    '"labels": {"team": "t%d"}}}',
    '{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p-%d", "namespace": "ns-1", '
    '"labels": {"app": "a%d"}}, "spec": {"containers": [{"name": "c", "image": "i", '
    '"ports": [{"name": "http", "containerPort": 80}]}]}, "status": {"podIP": "10.0.0.9"}}',
    '{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "BAD_%d", "lables": {}}, '
    '"spec": {"containers": []}, "x": %d}',
    '{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": '
    '{"name": "np-%d", "namespace": "ns-1"}, "spec": {"podSelector": {"matchLabels": '
    '{"app": "a%d"}}, "ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/8", '
    '"except": ["10.1.0.0/16"]}}], "ports": [{"port": "http"}, {"port": 8000, '
    '"endPort": 8080, "protocol": "UDP"}]}], "policyTypes": ["Ingress", "Egress"]}}',
    '{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": '
    '{"name": "bad-%d"}, "spec": {"podSelector": {}, "ingress": [{"ports": [{"port": %d}]}]}}',
    '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm-%d"}, "data": '
    '{"k": "%d"}}',
    '{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "twice-%d", "labels": '
    '{"a": "b", "a": "c%d"}}}',
    '{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web-%d", '
    '"namespace": "ns-1"}, "spec": {"replicas": %d, "selector": {"matchLabels": '
    '{"app": "w"}}, "template": {"metadata": {"labels": {"app": "w"}}, "spec": '
    '{"containers": [{"name": "c", "image": "i"}]}}}}',
    "[%d, %d]",
]


def _list_file(path: Path, kinds: list[int]) -> list[str]:
    items = [_ITEMS[k] % (i, i % 3) for i, k in enumerate(kinds)]
    path.write_text('{"apiVersion": "v1", "kind": "List", "items": [\n'
                    + ",\n".join(items) + "\n]}\n")
    return [str(path)]


class _Watched(read_split._Meeting):
    """The meeting of the last ``read_split``, kept for the test to look at."""

    last: _Watched | None = None

    def __init__(self) -> None:
        super().__init__()
        _Watched.last = self

    def child_place(self) -> int:
        return int(self._places[1])


def _split(files: list[str], namespace: str, *, child_first: bool, child_all: bool = True,
           pause: float = 0.0) -> tuple[list[RawObject | Checked], list[DocumentError]]:
    """What ``read_split`` gives: taken at once, or only once the child has claimed every
    object (then it checks all it can; ``child_all=False``: a child that stops early, given
    a second); ``pause`` after each object taken here."""
    broken: list[DocumentError] = []
    check = functools.partial(check_object, default_namespace=namespace)
    objects = read_split.read_split(files, broken, Budget(), None, check)
    if child_first:
        meeting = _Watched.last
        assert meeting is not None
        deadline = time.monotonic() + (60 if child_all else 1)
        while meeting.child_place() != 0 and time.monotonic() < deadline:
            time.sleep(0.005)
        assert meeting.child_place() == 0 or not child_all
    taken: list[RawObject | Checked] = []
    for obj in objects:
        taken.append(obj)
        if pause:
            time.sleep(pause)
    forked.reap_ended()
    return taken, broken


def _here(files: list[str], namespace: str) -> tuple[BuildResult, list[str]]:
    broken: list[DocumentError] = []
    built = build_cluster(read_files(files, broken=broken), default_namespace=namespace)
    return built, [str(b) for b in broken]


def _checkable(files: list[str], namespace: str) -> int:
    """Objects the child hands over checked: valid, of a built-in kind, without notes."""
    return sum(not raw.notes and build.decoded_here(raw)
               and not check_object(raw, namespace).errors
               for raw in read_files(files, broken=[]))


@pytest.fixture(autouse=True)
def _watched(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(read_split, "_Meeting", _Watched)
    yield
    forked.reap_ended()
    assert children(zombies=True) == set()


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kinds=st.lists(st.integers(0, len(_ITEMS) - 1), min_size=1, max_size=40),
       namespace=st.sampled_from(["default", "release"]), child_first=st.booleans())
def test_a_build_read_by_two_processes_is_the_one_process_build(
        tmp_path: Path, kinds: list[int], namespace: str, child_first: bool) -> None:
    files = _list_file(tmp_path / "list.json", kinds)
    objects = sum(k != len(_ITEMS) - 1 for k in kinds)  # the last is no object
    taken, broken = _split(files, namespace, child_first=child_first, child_all=objects > 0)
    built, broken_here = _here(files, namespace)
    assert build_cluster(taken, default_namespace=namespace) == built
    assert [str(b) for b in broken] == broken_here
    checked = sum(isinstance(obj, Checked) for obj in taken)
    if child_first:  # the child took every object: each one it could check came checked
        assert checked == _checkable(files, namespace)


def test_when_both_work_they_meet_in_the_middle(tmp_path: Path) -> None:
    """This process slowed down: the child checks objects from the back until it meets
    it; both shares are there, in the file's order, and the build is the same."""
    kinds = [1, 3] * 2000
    files = _list_file(tmp_path / "list.json", kinds)
    taken, _ = _split(files, "default", child_first=False, pause=0.0002)
    here = [raw.data["metadata"]["name"] for raw in read_files(files)]
    assert [_name(obj) for obj in taken] == here
    shares = [isinstance(obj, Checked) for obj in taken]
    assert 0 < sum(shares) < len(shares)
    first = shares.index(True)
    assert all(shares[first:])  # one meeting point: checked from there to the end
    assert build_cluster(taken) == _here(files, "default")[0]


def _name(obj: RawObject | Checked) -> str:
    if isinstance(obj, RawObject):
        return str(obj.data["metadata"]["name"])
    return str(obj.obj.metadata.name)


def _child_that(behaviour: str) -> Any:
    real = read_split._from_the_back

    def produce(*args: Any) -> Iterator[object]:
        made: Iterator[Any] = real(*args)
        count = next(made)
        if behaviour == "miscounts":
            yield count + 1
            yield from made
        elif behaviour == "fails":
            yield count
            yield next(made)
            raise InputError("the child's reading failed")
        elif behaviour == "dies":
            yield count
            yield next(made)
            os._exit(3)
        elif behaviour == "strays":  # places before the first and beyond the last
            yield count
            for place, item in made:
                yield place - count, item
                yield place + count, item

    return produce


@pytest.mark.parametrize("behaviour", ["miscounts", "fails", "dies", "strays"])
def test_a_child_that_goes_wrong_leaves_the_rest_to_this_process(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, behaviour: str) -> None:
    monkeypatch.setattr(read_split, "_from_the_back", _child_that(behaviour))
    files = _list_file(tmp_path / "list.json", [0, 1, 2, 3, 4, 5, 7, 8] * 30 + [1])
    taken, broken = _split(files, "default", child_first=True,
                           child_all=behaviour in ("miscounts", "strays"))
    built, broken_here = _here(files, "default")
    assert build_cluster(taken) == built
    assert [str(b) for b in broken] == broken_here
    checked = sum(isinstance(obj, Checked) for obj in taken)
    if behaviour in ("miscounts", "strays"):
        assert checked == 0
    elif behaviour == "fails":  # what it handed over before its failure is taken
        assert checked == 1
    else:  # what it made before it died may be lost with it
        assert checked <= 1


def test_a_place_is_never_read_half_written() -> None:
    """The child's place, written by another process as fast as it can between two values
    that differ in every byte, is only ever read as one or the other (a place read half
    written once stopped this process at the first object)."""
    meeting = read_split._Meeting()
    values = (0x00FF_FFFF_FFFF_FFFF, 0x0100_0000_0000_0000)
    pid = os.fork()
    if pid == 0:  # the writer: the child's side of the meeting
        try:
            deadline = time.monotonic() + 1.0
            while time.monotonic() < deadline:
                for value in values * 1000:
                    meeting.back_may_take(value)
        finally:
            os._exit(0)
    seen: set[int] = set()
    try:
        deadline = time.monotonic() + 0.8
        while time.monotonic() < deadline:
            for _ in range(1000):
                seen.add(int(meeting._places[1]))
    finally:
        os.waitpid(pid, 0)
    assert seen <= {*values, read_split._Meeting._UNCLAIMED}
    assert set(values) <= seen  # it was read while it was written


def test_a_file_replaced_meanwhile_is_read_as_it_was(tmp_path: Path) -> None:
    """The bytes are read once, before the fork: a file replaced by another of as many
    objects once the child has started gives neither process the new objects."""
    path = tmp_path / "list.json"
    files = _list_file(path, [1, 3, 2] * 50)
    original, _ = _here(files, "default")
    broken: list[DocumentError] = []
    check = functools.partial(check_object, default_namespace="default")
    objects = read_split.read_split(files, broken, Budget(), None, check)
    replaced = tmp_path / "replaced.json"
    _list_file(replaced, [3, 1, 0] * 50)
    os.replace(replaced, path)
    assert _here(files, "default")[0] != original
    taken = list(objects)
    assert build_cluster(taken) == original


def test_without_a_process_to_be_had_the_file_is_read_here(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        raise forked.WorkerFailed("no process")

    monkeypatch.setattr(forked, "ahead", refuse)
    files = _list_file(tmp_path / "list.json", [0, 1, 3])
    check = functools.partial(check_object, default_namespace="default")
    objects = list(read_split.read_split(files, None, Budget(), None, check))
    assert all(isinstance(obj, RawObject) for obj in objects) and len(objects) == 3


def test_an_unreadable_file_fails_as_one_process_fails(tmp_path: Path) -> None:
    (tmp_path / "list.json").write_text('{"kind": "List", "items": [')
    files = [str(tmp_path / "list.json")]
    check = functools.partial(check_object, default_namespace="default")
    with pytest.raises(InputError) as here:
        list(read_files(files))
    with pytest.raises(InputError) as split:
        list(read_split.read_split(files, None, Budget(), None, check))
    assert str(split.value) == str(here.value)


def test_read_split_pays_for_one_large_file_only(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STOCKADE_WORKERS", raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0, 1})
    big, small = tmp_path / "big.json", tmp_path / "small.json"
    big.write_text(" " * read_split.SPLIT_BYTES + "{}")
    small.write_text("{}")

    def pays(*names: Path | str) -> bool:
        files = [str(n) for n in names]
        return read_split.read_split_pays(files, file_sizes(files))

    assert pays(big)
    assert not pays(small)
    assert not pays(big, small)  # several files: read ahead, or here
    assert not pays("-")  # stdin is read here
    monkeypatch.setenv("STOCKADE_WORKERS", "1")
    assert not pays(big)


def test_check_and_matrix_answer_the_same_with_one_or_two_processes(tmp_path: Path) -> None:
    """The whole commands on a List over ``SPLIT_BYTES``: the same report, the same exit."""
    pad = "x" * 600
    items: list[dict[str, Any]] = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": f"ns{n}"}}
        for n in range(40)]
    for k in range(read_split.SPLIT_BYTES // 700 + 1):
        items.append({"apiVersion": "v1", "kind": "Pod",
                      "metadata": {"name": f"p{k}", "namespace": f"ns{k % 40}",
                                   "labels": {"app": f"a{k % 7}"}, "annotations": {"pad": pad}},
                      "spec": {"containers": [{"name": "c", "image": "i"}]},
                      "status": {"podIP": f"10.{k // 65536}.{k // 256 % 256}.{k % 256}"}})
    for n in range(40):
        items.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                      "metadata": {"name": f"np{n}", "namespace": f"ns{n}"},
                      "spec": {"podSelector": {"matchLabels": {"app": f"a{n % 7}"}},
                               "ingress": [{"from": [{"podSelector": {}}]}]}})
    valid = tmp_path / "valid.json"
    valid.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
    items.insert(len(items) - 3, {"apiVersion": "v1", "kind": "Pod",
                                  "metadata": {"name": "BAD_NAME"}})
    invalid = tmp_path / "invalid.json"
    invalid.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
    assert read_split.read_split_pays([str(valid)], file_sizes([str(valid)]))
    runs = [["check", str(invalid)], ["check", str(invalid), "--skip-invalid", "-o", "json"],
            ["matrix", str(valid), "-o", "json"]]
    answers = []
    for workers in ("1", "2"):
        for command in runs:
            env = {**os.environ, "STOCKADE_WORKERS": workers}
            done = subprocess.run([sys.executable, "-m", "stockade", *command],
                                  capture_output=True, text=True, env=env, check=False)
            answers.append((command, done.returncode, done.stdout, done.stderr))
    assert answers[:3] == answers[3:]
    assert answers[0][1] == 2 and "BAD_NAME" in answers[0][3]
    assert answers[2][1] == 0 and len(answers[2][2]) > 1000
