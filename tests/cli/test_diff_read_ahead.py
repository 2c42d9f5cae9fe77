"""``stockade diff`` of sides large enough to be read ahead: the process reading the new
side checks its objects while this one builds and compiles the old side, and the answer
(report, notes, errors, exit) is the one a single process gives."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from processes import children
from stockade.cli import diff_cmd, forked
from stockade.cli.main import build_parser
from stockade.cli.read_ahead import read_ahead_pays
from stockade.model.build import Checked, build_cluster
from stockade.sources.files import expand_paths, file_sizes


def _side(directory: Path, *, port: int, broken: bool = False, invalid: bool = False) -> None:
    """Forty files of pods (padded with an annotation, so that the side is read ahead)
    and a policy per namespace letting its pods reach each other on ``port``."""
    directory.mkdir()
    for n in range(40):
        docs = [f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: p{k}\n  namespace: ns{n}\n"
                f"  labels: {{app: a{k % 3}}}\n  annotations: {{pad: \"{'x' * 600}\"}}\n"
                f"spec:\n  containers: [{{name: c, image: i}}]\nstatus: {{podIP: "
                f"10.{n}.0.{k + 1}}}\n" for k in range(12)]
        docs.append("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n"
                    f"  name: allow\n  namespace: ns{n}\nspec:\n  podSelector: {{}}\n"
                    "  ingress:\n  - from: [{podSelector: {matchLabels: {app: a1}}}]\n"
                    f"    ports: [{{port: {port if n % 5 == 0 else 80}}}]\n")
        if broken and n == 17:
            docs.insert(5, "kind: [unclosed\n")
        if invalid and n == 23:
            docs.append("apiVersion: v1\nkind: Pod\nmetadata: {name: BAD_NAME}\n")
        (directory / f"{n:02d}.yaml").write_text("---\n".join(docs))


def _diff(old: Path, new: Path, workers: str, *extra: str) -> tuple[int, str, str]:
    env = {**os.environ, "STOCKADE_WORKERS": workers}
    done = subprocess.run([sys.executable, "-m", "stockade", "diff", str(old), str(new),
                           *extra], capture_output=True, text=True, env=env, check=False)
    return done.returncode, done.stdout, done.stderr


@pytest.mark.parametrize(("old_faults", "new_faults"), [
    ({}, {}),
    ({}, {"invalid": True}),
    ({"invalid": True}, {"broken": True}),
])
def test_diff_answers_the_same_with_and_without_reading_processes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, old_faults: dict[str, bool],
        new_faults: dict[str, bool]) -> None:
    monkeypatch.setenv("STOCKADE_WORKERS", "2")  # what the runs with "2" below read ahead
    _side(tmp_path / "old", port=80, **old_faults)
    _side(tmp_path / "new", port=8080, **new_faults)
    for side in ("old", "new"):
        files = expand_paths([str(tmp_path / side)])
        assert read_ahead_pays(files, file_sizes(files))
    for extra in ([], ["--skip-invalid"], ["-o", "json"]):
        one = _diff(tmp_path / "old", tmp_path / "new", "1", *extra)
        two = _diff(tmp_path / "old", tmp_path / "new", "2", *extra)
        assert one == two
    clean = not old_faults and not new_faults
    code, out, _ = _diff(tmp_path / "old", tmp_path / "new", "2",
                         *([] if clean else ["--skip-invalid"]))
    assert code == 1 and "8080" in out  # the change is seen
    if not clean:
        code, _, err = _diff(tmp_path / "old", tmp_path / "new", "2")
        # A document that cannot be read is named before an invalid object of either side.
        assert code == 2 and ("17.yaml" if new_faults.get("broken") else "BAD_NAME") in err


def test_a_side_not_read_yet_comes_checked(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """While this process is busy elsewhere, the reading process checks what it reads:
    the objects come checked, and build the cluster they build as read here."""
    _side(tmp_path / "new", port=8080)
    monkeypatch.setenv("STOCKADE_WORKERS", "2")  # a second process, however many cores
    args = build_parser().parse_args(["diff", str(tmp_path / "new"), str(tmp_path / "new")])
    side = diff_cmd._files(args, "new side", [str(tmp_path / "new")])
    before = children()
    reading = side.read()
    reader = children() - before
    assert len(reader) == 1
    deadline = time.monotonic() + 60
    while children() & reader and time.monotonic() < deadline:
        time.sleep(0.05)  # busy elsewhere: the child reads and checks everything, and ends
    objects = list(reading)
    forked.reap_ended()
    assert sum(isinstance(o, Checked) for o in objects) == len(objects) == 40 * 13
    monkeypatch.setenv("STOCKADE_WORKERS", "1")
    read_here = list(diff_cmd._files(args, "new side", [str(tmp_path / "new")]).read())
    assert not any(isinstance(o, Checked) for o in read_here)
    built = build_cluster(objects, default_namespace=diff_cmd.DEFAULT_NAMESPACE)
    built_here = build_cluster(read_here, default_namespace=diff_cmd.DEFAULT_NAMESPACE)
    assert built.cluster == built_here.cluster
    assert (built.findings, built.warnings) == (built_here.findings, built_here.warnings)
