"""What the command's start-up does, and what a plain run leaves alone: structural checks
(which modules a run imports, which settings it makes), never timings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from stockade.cli import start
from stockade.cli.read_ahead import READ_AHEAD_BYTES

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

# Imported for cluster-wide policies, temporary files, a failing child or -o csv only (and
# the utf-8-sig codec not at all).
NOT_FOR_A_PLAIN_MATRIX = ("stockade.model.cluster_policies", "stockade.model.validate.crd",
                          "stockade.model.validate.cel", "shutil", "tempfile", "traceback", "csv",
                          "encodings.utf_8_sig")
# The engine's modules for queries (connections, verdicts), for a dataplane (resolved rules)
# and for cluster-wide policies (tiers): a matrix of NetworkPolicies needs none of them.
ENGINE_NOT_FOR_A_PLAIN_MATRIX = ("stockade.engine.traffic", "stockade.engine.explain",
                                 "stockade.engine.evaluate", "stockade.engine.resolved",
                                 "stockade.engine.resolve", "stockade.engine.tiers")

_RUN = """
import contextlib, gc, io, json, os, sys
from stockade.cli.main import main
with contextlib.redirect_stdout(io.StringIO()) as out:
    code = main(["matrix", *sys.argv[1:], "-o", "json"])
print(json.dumps({"code": code, "modules": sorted(sys.modules), "gc": gc.isenabled(),
                  "blas": os.environ.get("OPENBLAS_NUM_THREADS"),
                  "groups": len(json.loads(out.getvalue())["groups"])}))
"""


def _matrix(*paths: str | Path, **env: str) -> dict[str, object]:
    """``main(["matrix", ...])`` in a fresh interpreter, as a program would call it."""
    done = subprocess.run([sys.executable, "-c", _RUN, *map(str, paths)], check=True,
                          capture_output=True, text=True,
                          env={**os.environ, **env})
    answer: dict[str, object] = json.loads(done.stdout)
    return answer


def _plain_cluster(directory: Path) -> Path:
    """Namespaces of pods with a NetworkPolicy each, large enough to be read ahead by a
    second process (on a machine with two cores; rows made by one: few groups)."""
    pad = "x" * 600
    for n in range(40):
        docs = [f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: p{k}\n  namespace: ns{n}\n"
                f"  labels: {{app: a{k % 7}}}\n  annotations: {{pad: \"{pad}\"}}\nspec:\n"
                f"  containers: [{{name: c, image: i}}]\nstatus: {{podIP: 10.0.{n}.{k + 1}}}\n"
                for k in range(12)]
        docs.append(f"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n"
                    f"  name: web\n  namespace: ns{n}\nspec:\n  podSelector: {{matchLabels: "
                    f"{{app: a1}}}}\n  ingress: [{{from: [{{podSelector: {{}}}}]}}]\n")
        (directory / f"{n:02d}.yaml").write_text("---\n".join(docs))
    assert sum(p.stat().st_size for p in directory.iterdir()) >= READ_AHEAD_BYTES
    return directory


@pytest.mark.parametrize("read_ahead", [False, True])
def test_a_plain_networkpolicy_matrix_imports_nothing_for_cluster_policies(
        tmp_path: Path, read_ahead: bool) -> None:
    paths = [_plain_cluster(tmp_path)] if read_ahead else sorted(
        (EXAMPLES / "konvoy").iterdir())
    answer = _matrix(*paths)
    assert answer["code"] == 0 and answer["groups"]
    modules = answer["modules"]
    assert isinstance(modules, list)
    assert [m for m in NOT_FOR_A_PLAIN_MATRIX if m in modules] == []
    assert [m for m in ENGINE_NOT_FOR_A_PLAIN_MATRIX if m in modules] == []


def test_cluster_policies_still_import_their_checks() -> None:
    """The other side of the test above: that it looks at modules a run does import."""
    answer = _matrix(EXAMPLES / "cluster-policies")
    assert answer["code"] == 0
    modules = answer["modules"]
    assert isinstance(modules, list)
    assert {"stockade.model.cluster_policies", "stockade.model.validate.crd",
            "stockade.engine.tiers"} <= set(modules)


def test_a_query_imports_the_engine_modules_a_matrix_leaves_alone() -> None:
    """The other side for the engine's modules: a query (with its nearest misses) and a
    compiled ruleset need the modules a plain matrix does not import."""
    run = ("import contextlib, io, json, sys\n"
           "from stockade.cli.main import main\n"
           "with contextlib.redirect_stdout(io.StringIO()):\n"
           "    codes = [main(['query', sys.argv[1], '--from', 'frontend/web', '--to',\n"
           "                   'default/db', '--port', '80/TCP']),\n"
           "             main(['compile', sys.argv[1]])]\n"
           "print(json.dumps({'codes': codes, 'modules': sorted(sys.modules)}))\n")
    done = subprocess.run([sys.executable, "-c", run, str(EXAMPLES / "konvoy")], check=True,
                          capture_output=True, text=True)
    answer = json.loads(done.stdout)
    assert answer["codes"] == [1, 0]  # denied, with the rules that missed; compiled
    assert [m for m in ENGINE_NOT_FOR_A_PLAIN_MATRIX if m not in answer["modules"]] == []


def test_the_library_leaves_the_environment_and_the_collector_alone() -> None:
    """``main`` called from a program (not the ``stockade`` command): no BLAS setting, and
    the cyclic collector as the program left it."""
    answer = _matrix(EXAMPLES / "konvoy", OPENBLAS_NUM_THREADS="")
    assert answer["blas"] == "" and answer["gc"] is True


@pytest.mark.parametrize(("given", "expected"), [
    ({}, {"OPENBLAS_NUM_THREADS": "1"}),
    ({"OPENBLAS_NUM_THREADS": ""}, {"OPENBLAS_NUM_THREADS": "1"}),  # empty: not set
    ({"OPENBLAS_NUM_THREADS": "4"}, {"OPENBLAS_NUM_THREADS": "4"}),
    ({"GOTO_NUM_THREADS": "2"}, {"GOTO_NUM_THREADS": "2"}),
    ({"OMP_NUM_THREADS": "3"}, {"OMP_NUM_THREADS": "3"}),
])
def test_one_blas_thread_unless_the_user_chose(given: dict[str, str],
                                               expected: dict[str, str]) -> None:
    environ = dict(given)
    start.single_threaded_blas(environ)
    assert environ == expected


def test_the_command_sets_one_blas_thread_and_resumes_the_collector_for_the_work(
        tmp_path: Path) -> None:
    """The ``stockade`` entry point: the setting is in place when NumPy is imported, and the
    collector, paused for start-up, runs again (start-up's objects frozen) when the command
    works."""
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import gc, os, sys\n"
        "from stockade.cli import matrix_cmd\n"
        "def run(args):\n"
        "    import numpy\n"
        "    print(os.environ['OPENBLAS_NUM_THREADS'], gc.isenabled(), gc.get_freeze_count() > 0)\n"
        "    return 0\n"
        "matrix_cmd.run = run  # the command's work, as register() finds it\n"
        "sys.argv = ['stockade', 'matrix', 'x']\n"
        "from stockade.cli.start import entry\n"
        "entry()\n")
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    done = subprocess.run([sys.executable, str(probe)], capture_output=True, text=True,
                          env=env, check=False)
    assert (done.returncode, done.stdout) == (0, "1 True True\n"), done.stderr


@pytest.mark.parametrize("read_ahead", [False, True])
def test_the_yaml_parser_is_imported_by_the_process_that_reads(tmp_path: Path,
                                                                read_ahead: bool) -> None:
    """A large input is read (and parsed) by a second process: this one never imports the
    fast YAML parser; a small input is read, and parsed, here."""
    paths = [_plain_cluster(tmp_path)] if read_ahead else sorted(
        (EXAMPLES / "konvoy").iterdir())
    answer = _matrix(*paths)
    assert answer["code"] == 0
    modules = answer["modules"]
    assert isinstance(modules, list)
    assert ("yaml_rs" in modules) is not read_ahead


def test_the_command_imports_msgspec_without_typing_extensions() -> None:
    """Start-up keeps ``typing_extensions`` (and ``inspect``, ``ast``... which it imports)
    out of msgspec: a whole matrix run never imports it."""
    done = subprocess.run([sys.executable, "-v", "-m", "stockade", "matrix",
                           str(EXAMPLES / "konvoy"), "-o", "json"], capture_output=True,
                          text=True, check=True)
    loaded = {line.split("'")[1] for line in done.stderr.splitlines()
              if line.startswith("import '")}  # what was loaded, from a file or built in
    assert {"msgspec", "stockade.cli.main", "numpy"} <= loaded
    assert "typing_extensions" not in loaded


def test_typing_extensions_still_imports_after_msgspec_did_without_it() -> None:
    probe = ("import sys\n"
             "from stockade.cli import start\n"
             "start.msgspec_without_typing_extensions()\n"
             "before = 'typing_extensions' in sys.modules\n"
             "import msgspec, typing_extensions\n"
             "from stockade.model.types import Origin\n"
             "again = msgspec.msgpack.decode(msgspec.msgpack.encode(Origin('f', 3)), "
             "type=Origin)\n"
             "print(before, typing_extensions.__name__, again == Origin('f', 3))\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=False)
    assert (done.returncode, done.stdout) == (0, "False typing_extensions True\n"), done.stderr
