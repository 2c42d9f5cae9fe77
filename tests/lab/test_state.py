"""What a lab keeps on disk (root): the objects it runs, never the input as written, so a
YAML alias bomb or deep nesting inside a Pod costs what analysing it costs; a value the lab
does keep that would expand past what an API server accepts is refused, named; and a lab
whose state was never completely written is still listed and removed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from lab_support import leftovers

from stockade.lab import lifecycle
from stockade.lab.names import LabNames
from stockade.sources.files import read_paths
from stockade.sources.limits import MAX_DEPTH

pytestmark = pytest.mark.lab

# As many aliased values as Kubernetes' YAML decoder lets a document hold (just under 99%
# of its 384,000 nodes come through aliases; a billion laughs is refused when read, as
# go-yaml refuses it): 380,000 values in a field the lab does not keep.
BOMB_POD = """apiVersion: v1
kind: Pod
metadata: {name: bomb, namespace: b}
spec:
  containers: [{name: c, ports: [{containerPort: 80}]}]
  affinity:
    many: &m [""" + ", ".join(["x"] * 4000) + """]
    uses: [""" + ", ".join(["*m"] * 95) + "]\n"

# As deep as input may nest (sources refuse deeper input with a clear error; the issue's
# 990 levels are now refused there): the lab's state save must not care.
DEPTH = MAX_DEPTH - 4
DEEP_POD = ("apiVersion: v1\nkind: Pod\nmetadata: {name: deep, namespace: d}\n"
            "spec:\n  containers: [{name: c, ports: [{containerPort: 80}]}]\n"
            "  extra: " + "[" * DEPTH + "]" * DEPTH + "\n")


def _lab_run(path: Path, name: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "stockade", "lab", "run", str(path),
                           "--name", name, "-o", "json", *extra], capture_output=True,
                          text=True, check=False, timeout=120)


@pytest.mark.parametrize("text", [BOMB_POD, DEEP_POD], ids=["alias-bomb", "deepest-input"])
def test_the_lab_keeps_what_it_runs_not_the_input(text: str, lab_name: str,
                                                  tmp_path: Path) -> None:
    source = tmp_path / "pod.yaml"
    source.write_text(text)
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "stockade", "lab", "up", str(source),
                           "--name", lab_name], capture_output=True, text=True, check=False,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started < 30
    state_dir = LabNames(lab_name).state_dir
    kept = sum(p.stat().st_size for p in state_dir.glob("*.json"))
    assert kept < 20_000
    probe = subprocess.run([sys.executable, "-m", "stockade", "lab", "probe", lab_name,
                            "-o", "json"], capture_output=True, text=True, check=False,
                           timeout=120)
    assert probe.returncode == 0, probe.stderr
    assert json.loads(probe.stdout)["mismatches"] == []


def test_a_value_the_lab_keeps_too_large_once_expanded_is_refused(lab_name: str,
                                                                   tmp_path: Path) -> None:
    """Aliases of a long string in args (which the lab keeps, to run them) expand to 4 MiB:
    more than an API server accepts, refused with the object named, nothing left behind."""
    text = ("apiVersion: v1\nkind: Pod\nmetadata: {name: big, namespace: b}\n"
            "spec:\n  initContainers: [{name: i, args: [&s '" + "y" * 65536 + "']}]\n"
            "  containers: [{name: c, args: [" + ", ".join(["*s"] * 64) + "]}]\n")
    source = tmp_path / "big.yaml"
    source.write_text(text)
    done = _lab_run(source, lab_name)
    assert done.returncode == 2
    assert f"{source}:1: Pod b/big: larger than 3 MiB once written out" in done.stderr
    assert "Traceback" not in done.stderr
    assert leftovers(lab_name) == []


@pytest.mark.parametrize("field", ["args", "env"])
def test_an_alias_bomb_the_lab_would_keep_is_refused_before_it_is_expanded(
        field: str, lab_name: str, tmp_path: Path) -> None:
    """A 1 MB string aliased 5,000 times (5 GB once expanded) where the lab reads it: refused
    by its size as written out, before the containers' command lines are built from it."""
    uses = (", ".join(["*s"] * 5000) if field == "args"
            else ", ".join(f"{{name: V{i}, value: *s}}" for i in range(5000)))
    text = ("apiVersion: v1\nkind: Pod\nmetadata: {name: big, namespace: b}\n"
            "x: &s " + "A" * 1_000_000 + "\n"
            f"spec:\n  containers: [{{name: c, command: [echo], {field}: [{uses}]}}]\n")
    source = tmp_path / "big.yaml"
    source.write_text(text)
    done = _lab_run(source, lab_name)
    assert done.returncode == 2
    assert f"{source}:1: Pod b/big: larger than 3 MiB once written out" in done.stderr
    assert leftovers(lab_name) == []


def test_a_half_written_lab_is_listed_and_removed(lab_name: str, tmp_path: Path) -> None:
    source = tmp_path / "pod.yaml"
    source.write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: h}\n"
                      "spec: {containers: [{name: c, ports: [{containerPort: 80}]}]}\n")
    lifecycle.up(read_paths([str(source)]), lab_name)
    state = LabNames(lab_name).state_dir / "state.json"
    for broken in ("truncated", "missing"):
        if broken == "truncated":
            state.write_text(state.read_text()[:40])
        else:
            state.unlink()
        listed = subprocess.run([sys.executable, "-m", "stockade", "lab", "list"],
                                capture_output=True, text=True, check=True).stdout
        assert (f"{lab_name}\tincomplete (half built, or its state is unreadable): remove it "
                f"with stockade lab down {lab_name}") in listed.splitlines()
        probe = subprocess.run([sys.executable, "-m", "stockade", "lab", "probe", lab_name],
                               capture_output=True, text=True, check=False)
        assert probe.returncode == 2
        assert f"the state of lab {lab_name} is unreadable" in probe.stderr
        assert f"stockade lab down {lab_name}" in probe.stderr
        assert "Traceback" not in probe.stderr
    down = subprocess.run([sys.executable, "-m", "stockade", "lab", "down", lab_name],
                          capture_output=True, text=True, check=False)
    assert down.returncode == 0, down.stderr
    assert leftovers(lab_name) == []
    listed = subprocess.run([sys.executable, "-m", "stockade", "lab", "list"],
                            capture_output=True, text=True, check=True).stdout
    assert lab_name not in listed


def test_a_lab_with_only_namespaces_left_is_listed(lab_name: str) -> None:
    """A crash can leave namespaces and no state directory at all."""
    netns = f"stk-{lab_name}-p0"
    subprocess.run(["ip", "netns", "add", netns], check=True)
    try:
        listed = subprocess.run([sys.executable, "-m", "stockade", "lab", "list"],
                                capture_output=True, text=True, check=True).stdout
        assert any(line.startswith(f"{lab_name}\tincomplete") for line in listed.splitlines())
    finally:
        lifecycle.down(lab_name)
    assert not os.path.exists(f"/run/netns/{netns}")
