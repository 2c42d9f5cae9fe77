"""The benchmark harness: process measurement, reading stockade's JSON, sampled checks.

The real ``stockade matrix`` is replaced by tests/benchmarks/fake_stockade.py (a test double
built on the reference evaluator) so that the harness is tested on its own; the lead runs
it end to end against the engine.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from benchmarks.generate import Params, generate, write
from benchmarks.reference import ReferenceCluster
from benchmarks.run import (
    CheckError,
    Matrix,
    check,
    main,
    measure,
    parse_sizes,
    read_matrix,
    read_matrix_rows,
    sample_pairs,
)

FAKE = Path(__file__).with_name("fake_stockade.py")


def test_measure_reports_exit_code_wall_time_and_peak_memory(tmp_path: Path) -> None:
    code = "import sys, time; b = bytearray(150 * 1024 * 1024); time.sleep(0.2); sys.exit(3)"
    m = measure([sys.executable, "-c", code], tmp_path / "out", timeout_s=60)
    assert m.returncode == 3
    assert m.wall_s >= 0.2
    assert 150 <= m.peak_mib < 400


def test_measure_kills_at_the_time_limit(tmp_path: Path) -> None:
    m = measure([sys.executable, "-c", "import time; print('hi', flush=True); time.sleep(30)"],
                tmp_path / "out", timeout_s=1)
    assert m.returncode is None
    assert 1 <= m.wall_s < 10
    assert (tmp_path / "out").read_text() == "hi\n"


def test_parse_sizes() -> None:
    sizes = parse_sizes("700, 10000,50000:2500:16666", seed=4)
    assert [(p.pods, p.namespaces, p.policies) for p in sizes] == [
        (700, 35, 233), (10000, 500, 3333), (50000, 2500, 16666)]
    assert all(p.seed == 4 for p in sizes)


def _small_reference() -> ReferenceCluster:
    files = generate(Params(pods=30, namespaces=4, policies=12, seed=5))
    return ReferenceCluster.from_dicts([d for docs in files.values() for d in docs])


def test_read_matrix_and_check_with_shared_groups() -> None:
    ref = _small_reference()
    keys = sorted(ref.pods)
    a, b, c = keys[0], keys[1], keys[2]
    data = {"groups": [{"name": "first", "pods": [a]}, {"name": "rest", "pods": keys[1:]}],
            "matrix": [{"*": "none", ref.connections(a, b): [1]}, {"*": "none"}]}
    matrix = read_matrix(data)
    assert matrix.connections(a, b) == ref.connections(a, b)
    assert matrix.connections(b, a) == "none"  # a group pair left out gets the "*" text
    problems = check(ref, matrix, [(a, b), (b, c)])
    assert len(problems) == sum(ref.connections(s, d) != matrix.connections(s, d)
                                for s, d in [(a, b), (b, c)])


G = {"name": "g", "pods": ["x"]}


@pytest.mark.parametrize(("data", "message"), [
    ([], "expected an object"),
    ({"groups": [G, {"name": "h", "pods": ["x"]}], "matrix": []}, "is in groups"),
    ({"groups": [G], "matrix": [{"*": "none", "all": [1]}]}, "unknown group"),
    ({"groups": [G], "matrix": []}, "0 rows for 1 groups"),
    ({"groups": [G], "matrix": [{"all": [0]}]}, 'with a "\\*" text'),
    ({"groups": [G], "matrix": [0]}, "not an earlier written row"),
    ({"groups": [G], "matrix": [{"*": "none", "all": [0], "UDP 1": [0]}]}, "two answers"),
])
def test_read_matrix_rejects_malformed_answers(data: object, message: str) -> None:
    with pytest.raises(CheckError, match=message):
        read_matrix(data)


def test_check_reports_pods_missing_from_groups() -> None:
    ref = _small_reference()
    keys = sorted(ref.pods)
    problems = check(ref, Matrix({k: 0 for k in keys[1:]}, ["g"]), [])
    assert problems == [f"1 pod(s) in no group, e.g. {keys[0]}"]


def test_sample_pairs_are_distinct_ordered_and_include_rare_pods() -> None:
    files = generate(Params(pods=600, namespaces=30, policies=10, seed=2))
    ref = ReferenceCluster.from_dicts([d for docs in files.values() for d in docs])
    pairs = sample_pairs(ref, 500, seed=9)
    assert len(pairs) > 450
    assert all(s != d and s in ref.pods and d in ref.pods for s, d in pairs)
    assert any(ref.pods[s].host_network or ref.pods[d].host_network for s, d in pairs)
    assert any(not ref.pods[s].ips or not ref.pods[d].ips for s, d in pairs)
    assert sample_pairs(ref, 500, seed=9) == pairs


def _run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["--sizes", "40:4:15", "--skip-nca", "--samples", "300",
                 "--work", str(tmp_path), "--stockade", f"{sys.executable} {FAKE}"])
    out, err = capsys.readouterr()
    return code, out, err


def test_harness_end_to_end_with_an_agreeing_stockade(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(tmp_path, capsys)
    assert code == 0, err
    assert "| 40 | 4 | 15 |" in out
    assert "300 ok" in out
    assert "agree with the reference" in err
    assert (tmp_path / "stockade-40.json").stat().st_size > 0


@pytest.mark.parametrize(("breakage", "expected"), [
    ("none-as-udp", "stockade says 'UDP 7'"),
    ("drop-pod", "pod(s) in no group"),
])
def test_harness_fails_loudly_on_a_disagreeing_stockade(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        breakage: str, expected: str) -> None:
    monkeypatch.setenv("FAKE_STOCKADE_BREAK", breakage)
    code, out, err = _run(tmp_path, capsys)
    assert code == 1
    assert "MISMATCH" in out
    assert "FAILED" in out
    assert expected in err


def test_harness_reports_a_crashing_stockade(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--sizes", "20:3:5", "--skip-nca", "--work", str(tmp_path),
                 "--stockade", f"{sys.executable} -c 'import sys; sys.exit(\"boom\")'"])
    out, err = capsys.readouterr()
    assert code == 1
    assert "failed (exit 1)" in out
    assert "boom" in err


def test_answers_are_checked_reading_only_the_sampled_rows(tmp_path: Path) -> None:
    """The check reads the rows of the sampled sources from the file, a line at a time, and
    follows a row written as an earlier row's position; what it reads equals the whole."""
    ref = _small_reference()
    out = tmp_path / "answer.json"
    with open(out, "w") as fh:
        subprocess.run([sys.executable, str(FAKE), "matrix", str(_small_dir(tmp_path)),
                        "-o", "json"], stdout=fh, check=True)
    whole = read_matrix(json.loads(out.read_text()))
    pairs = sample_pairs(ref, 200, seed=3)
    some = read_matrix_rows(out, {src for src, _ in pairs[:50]})
    assert len(some.default) < len(whole.default)
    assert check(ref, some, pairs[:50]) == []
    assert [some.connections(s, d) for s, d in pairs[:50]] == \
        [whole.connections(s, d) for s, d in pairs[:50]]
    with pytest.raises(CheckError, match="was not read"):
        for s, d in pairs:
            some.connections(s, d)


def test_a_row_written_as_an_earlier_rows_position_is_that_row(tmp_path: Path) -> None:
    out = tmp_path / "answer.json"
    out.write_text('{"groups": [\n{"name": "a", "pods": ["ns/a"]},\n{"name": "b", "pods": '
                   '["ns/b", "ns/c"]}\n],\n"matrix": [\n{"*": "none", "TCP 80": [1]},\n0\n'
                   '],\n"node_traffic": {"ns/a": ["ns/c"]}}\n')
    for matrix in (read_matrix(json.loads(out.read_text())),
                   read_matrix_rows(out, ["ns/a", "ns/b"])):
        assert matrix.connections("ns/b", "ns/c") == "TCP 80"
        assert matrix.connections("ns/b", "ns/a") == "none"
        assert matrix.connections("ns/a", "ns/c") == matrix.connections("ns/c", "ns/a") == "all"


def _small_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "small"
    write(generate(Params(pods=30, namespaces=4, policies=12, seed=5)), directory)
    return directory
