"""Reading large inputs in a second process (``forked.ahead``, ``cli.read_ahead``): the
objects, unreadable documents, file texts and errors are exactly those read in one process,
in the same order; a child that fails, or is not needed any more, never outlives it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from manifest_trees import trees, write_tree
from processes import children
from stockade.cli import forked
from stockade.cli.read_ahead import READ_AHEAD_BYTES, read_ahead, read_ahead_pays
from stockade.errors import DocumentError, InputError
from stockade.model.build import RawObject
from stockade.model.numbers import LongNumber
from stockade.model.types import Origin
from stockade.sources.files import expand_paths, file_sizes, read_files

# --- forked.ahead -------------------------------------------------------------------------

@pytest.mark.parametrize("n", [0, 1, forked.AHEAD_BATCH - 1, forked.AHEAD_BATCH,
                               3 * forked.AHEAD_BATCH + 7])
def test_items_come_back_in_order(n: int) -> None:
    made = [(i, f"item {i}", {"nested": [i] * (i % 3)}) for i in range(n)]
    assert list(forked.ahead(lambda: iter(made), "a test reader")) == made
    forked.reap_ended()  # children that handed everything over end on their own
    assert children(zombies=True) == set()


PLAIN = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.integers(10**18, 10**40),
              st.floats(allow_nan=False), st.text(max_size=8),
              st.sampled_from(["\ud800", "é", ""])),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.one_of(st.text(max_size=4), st.integers()),
                                            inner, max_size=3)),
    max_leaves=12)


@settings(max_examples=30, deadline=None)
@given(st.lists(PLAIN, max_size=forked.AHEAD_BATCH + 3))
def test_plain_data_comes_back_exactly(made: list[object]) -> None:
    """Parsed manifests go by marshal: every value, type and key order arrives as made
    (``repr`` tells ``1`` from ``True`` and ``0.0`` from ``-0.0``)."""
    got = list(forked.ahead(lambda: iter(made), "a test reader"))
    assert repr(got) == repr(made)
    forked.reap_ended()  # children that handed everything over end on their own
    assert children(zombies=True) == set()


def test_what_marshal_cannot_carry_goes_by_pickle() -> None:
    """A subclass of a plain type (a number too long to convert, say), or any other
    object, in a batch."""
    made = [{"n": 1}, Origin("f", 1), {"n": 2}]
    assert list(forked.ahead(lambda: iter(made), "a test reader")) == made
    long = LongNumber("1" * 5000)
    got = list(forked.ahead(lambda: iter([{"port": long}]), "a test reader"))
    assert type(got[0]["port"]) is LongNumber and got[0]["port"] == long


def test_the_items_are_made_by_another_process() -> None:
    here = os.getpid()
    pids = list(forked.ahead(lambda: (os.getpid() for _ in range(3)), "a test reader"))
    assert len(set(pids)) == 1 and pids[0] != here


def test_an_error_comes_after_the_items_before_it() -> None:
    origin = Origin("cluster/pods.yaml", 12)

    def produce() -> Iterator[int]:
        yield from range(forked.AHEAD_BATCH + 5)
        raise DocumentError(origin, "invalid YAML: mapping values are not allowed here")

    got: list[int] = []
    with pytest.raises(DocumentError) as caught:
        for item in forked.ahead(produce, "a test reader"):
            got.append(item)
    assert got == list(range(forked.AHEAD_BATCH + 5))
    assert caught.value.origin == origin
    assert str(caught.value) == ("cluster/pods.yaml:12: invalid YAML: mapping values are not "
                                 "allowed here")
    forked.reap_ended()  # children that handed everything over end on their own
    assert children(zombies=True) == set()


def test_a_child_that_dies_fails_the_whole() -> None:
    def produce() -> Iterator[int]:
        yield from range(forked.AHEAD_BATCH)  # one batch is handed over
        os.kill(os.getpid(), signal.SIGKILL)
        yield -1

    got: list[int] = []
    with pytest.raises(forked.WorkerFailed, match=r"test reader failed \(killed by SIGKILL\)"):
        for item in forked.ahead(produce, "the test reader"):
            got.append(item)
    assert got == list(range(forked.AHEAD_BATCH))
    forked.reap_ended()  # children that handed everything over end on their own
    assert children(zombies=True) == set()


def test_a_reader_closed_early_or_dropped_stops_the_child() -> None:
    def endless() -> Iterator[int]:
        n = 0
        while True:
            yield n
            n += 1

    items = forked.ahead(endless, "a test reader")
    assert next(items) == 0
    assert len(children(zombies=True)) == 1
    items.close()  # type: ignore[attr-defined]
    forked.reap_ended()  # children that handed everything over end on their own
    assert children(zombies=True) == set()
    dropped = forked.ahead(endless, "a test reader")  # never read
    assert len(children(zombies=True)) == 1
    del dropped
    forked.reap_ended()  # children that handed everything over end on their own
    assert children(zombies=True) == set()


# --- read_ahead against read_files ---------------------------------------------------------

_DOCUMENTS = st.sampled_from([
    "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ns-{i}\n",
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p-{i}\n  labels: {{app: a{i}}}\n",
    "apiVersion: v1\nkind: PodList\nitems:\n- metadata:\n    name: l-{i}\n"
    "- metadata:\n    name: m-{i}\n",
    "kind: [unclosed\n",  # broken YAML
    "- just\n- a list\n",  # not an object
    "# only a comment\n",
    "apiVersion: v1\nkind: Service\nmetadata:\n  name: s-{i}\nspec:\n  ports: [{{port: 8{i}}}]\n",
    # what only PyYAML reads: a number too long for an int, a YAML 1.1 timestamp, a tag
    "apiVersion: v1\nkind: Service\nmetadata:\n  name: l-{i}\nspec:\n  ports: [{{port: "
    + "9" * 4400 + "}}]\n",
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: t-{i}\n  labels: {{at: 2021-03-04}}\n",
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b-{i}\ndata: !!binary aGk=\n",
])


def _trees() -> st.SearchStrategy[list[str]]:
    return trees(_DOCUMENTS, min_docs=0, max_docs=6)


_write = write_tree


_Read = tuple[list[RawObject], list[DocumentError], dict[str, str], str]


def _read(files: list[str], collect: bool, *, ahead: bool) -> _Read:
    """What reading gives, here or ahead: objects, unreadable documents (when collected),
    texts, and the error that stopped it (as its type and text)."""
    broken: list[DocumentError] = []
    texts: dict[str, str] = {}
    objects: list[RawObject] = []
    kept = broken if collect else None
    try:
        for obj in (read_ahead(files, kept, texts) if ahead
                    else read_files(files, broken=kept, texts=texts)):
            assert isinstance(obj, RawObject)  # nothing comes checked without a check
            objects.append(obj)
    except InputError as exc:
        return objects, broken, texts, f"{type(exc).__name__}: {exc}"
    return objects, broken, texts, ""


def _read_here(files: list[str], collect: bool) -> _Read:
    return _read(files, collect, ahead=False)


def _read_ahead(files: list[str], collect: bool) -> _Read:
    return _read(files, collect, ahead=True)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=_trees(), collect=st.booleans())
def test_read_ahead_reads_what_one_process_reads(tmp_path: Path, texts: list[str],
                                                 collect: bool) -> None:
    files = _write(tmp_path, texts)
    here = _read_here(files, collect)
    there = _read_ahead(files, collect)
    assert there[0] == here[0]  # the same objects, data and origin, in the same order
    assert [(e.origin, e.problem) for e in there[1]] == [(e.origin, e.problem)
                                                          for e in here[1]]
    assert there[2] == here[2]  # texts, up to the file that stopped the reading
    assert there[3] == here[3]
    forked.reap_ended()  # children that handed everything over end on their own
    assert children(zombies=True) == set()


def test_a_file_that_goes_missing_is_named_as_one_process_names_it(tmp_path: Path) -> None:
    files = _write(tmp_path, ["kind: Namespace\napiVersion: v1\nmetadata: {name: a}\n"] * 3)
    os.unlink(files[1])
    assert _read_ahead(files, True)[3] == _read_here(files, True)[3] != ""


def test_a_frame_cut_short_fails_the_whole() -> None:
    """A child killed while it writes a batch larger than the pipe: a clean failure."""
    big = "x" * (8 << 20)
    items = forked.ahead(lambda: iter([big, big]), "the test reader")
    (child,) = children(zombies=True)
    time.sleep(0.3)  # it fills the pipe and waits
    os.kill(child, signal.SIGKILL)
    with pytest.raises(forked.WorkerFailed, match="test reader failed"):
        list(items)
    forked.reap_ended()  # children that handed everything over end on their own
    assert children(zombies=True) == set()


def test_what_pickle_cannot_carry_fails_cleanly(capfd: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(forked.WorkerFailed, match="could not hand over"):
        list(forked.ahead(lambda: iter([1, lambda: 2]), "the test reader"))
    assert "Traceback" not in capfd.readouterr().err
    forked.reap_ended()  # children that handed everything over end on their own
    assert children(zombies=True) == set()


def test_a_child_whose_reader_is_gone_ends_quietly(tmp_path: Path) -> None:
    """The parent ends (killed, say) while the child still has batches to hand over: the
    child stops at its next write, with nothing on stderr."""
    script = tmp_path / "parent.py"
    script.write_text(
        "import os\n"
        "from stockade.cli import forked\n"
        "items = forked.ahead(lambda: iter(['x' * (1 << 20)] * 64), 'a test reader')\n"
        "next(items)\n"
        "os._exit(0)\n")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0
    assert done.stderr == ""


def test_without_a_process_to_be_had_the_input_is_read_here(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = _write(tmp_path, ["apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n",
                              "kind: [unclosed\n"] * 2)

    def no_fork() -> int:
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_fork)
    there, here = _read_ahead(files, True), _read_here(files, True)
    assert there[0] == here[0] and len(there[0]) == 2
    assert [str(e) for e in there[1]] == [str(e) for e in here[1]] and len(here[1]) == 2


# --- when a second process pays ------------------------------------------------------------

def _pays(files: list[str]) -> bool:
    return read_ahead_pays(files, file_sizes(files))


def test_read_ahead_pays_for_several_large_files_only(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STOCKADE_WORKERS", raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0, 1})
    half = "#" * (READ_AHEAD_BYTES // 2) + "\n"
    for name in ("small", "two", "lopsided"):
        (tmp_path / name).mkdir()
    assert not _pays(_write(tmp_path / "small", ["kind: Namespace\n"] * 3))
    two = _write(tmp_path / "two", [half, half])
    assert _pays(two)
    assert not _pays([*two, "-"])  # stdin is read here
    lopsided = _write(tmp_path / "lopsided", [half * 3, "kind: Namespace\n"])  # one List
    assert not _pays(lopsided)
    monkeypatch.setenv("STOCKADE_WORKERS", "1")
    assert not _pays(two)
    monkeypatch.delenv("STOCKADE_WORKERS")
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0})
    assert not _pays(two)


def test_check_answers_the_same_with_and_without_a_reading_process(tmp_path: Path) -> None:
    """The whole command, large enough to read ahead: the same report, the same exit."""
    for n in range(40):
        docs = [f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: p{k}\n  namespace: ns{n}\n"
                f"  labels: {{app: a{k % 7}}}\n  annotations: {{pad: \"{'x' * 600}\"}}\n"
                "spec:\n  containers: [{name: c, image: i}]\n" for k in range(12)]
        if n == 17:
            docs.insert(5, "kind: [unclosed\n")
        if n == 23:
            docs.append("apiVersion: v1\nkind: Pod\nmetadata: {name: BAD_NAME}\n")
        (tmp_path / f"{n:02d}.yaml").write_text("---\n".join(docs))
    assert _pays(expand_paths([str(tmp_path)]))
    answers = []
    for workers in ("1", "2"):
        for extra in ([], ["--skip-invalid"], ["-o", "json"]):
            env = {**os.environ, "STOCKADE_WORKERS": workers}
            done = subprocess.run([sys.executable, "-m", "stockade", "check", str(tmp_path),
                                   *extra], capture_output=True, text=True, env=env,
                                  check=False)
            answers.append((extra, done.returncode, done.stdout, done.stderr))
    assert answers[:3] == answers[3:]
    assert answers[0][1] == 2 and "17.yaml" in answers[0][3] and "BAD_NAME" in answers[0][3]
