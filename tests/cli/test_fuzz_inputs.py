"""Every read-only command on mangled manifests: wrong types at every path, missing and
unknown fields, huge, unicode and deeply nested values, in the example worlds. Whatever
the input, a command ends with 0, 1 or 2, never with an exception or a traceback, and a
refusal (2) names the file it concerns.

Each example mutates one document of a copy of an example directory (``examples/*`` and
a few more kinds here: ReplicaSet, Job, Node, a typed list, a netassert file) at one to
three paths and runs two commands in-process. The example count is modest so that the
suite stays fast; ``STOCKADE_FUZZ_EXAMPLES`` raises it for a longer hunt.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
import tempfile
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stockade.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"

MORE = """\
apiVersion: v1
kind: Namespace
metadata: {name: app, labels: {team: a}}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: web-rs, namespace: app}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: c, image: nginx, ports: [{containerPort: 80, name: http}]}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: job, namespace: app}
spec:
  template:
    metadata: {labels: {app: job}}
    spec: {restartPolicy: Never, containers: [{name: c, image: busybox}]}
---
apiVersion: v1
kind: Node
metadata: {name: n1, labels: {zone: a}}
status: {addresses: [{type: InternalIP, address: 10.9.0.1}]}
---
apiVersion: v1
kind: PodList
items:
- metadata: {name: db, namespace: app, labels: {app: db}}
  spec:
    nodeName: n1
    containers: [{name: c, image: pg, ports: [{containerPort: 5432, name: pg}]}]
  status: {podIP: 10.1.0.5, podIPs: [{ip: 10.1.0.5}, {ip: "fd00::5"}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: app}
spec:
  podSelector: {matchLabels: {app: db}}
  policyTypes: [Ingress, Egress]
  ingress:
  - from:
    - podSelector: {matchExpressions: [{key: app, operator: In, values: [web]}]}
    - ipBlock: {cidr: "fd00::/64", except: ["fd00::/96"]}
    ports: [{port: pg}, {port: 5000, endPort: 5010, protocol: UDP}]
  egress:
  - to: [{namespaceSelector: {}}]
    ports: [{port: 53, protocol: UDP}]
"""
NETASSERT = """\
- name: web-to-db
  type: k8s
  protocol: tcp
  targetPort: 5432
  exitCode: 0
  src: {k8sResource: {kind: pod, name: db, namespace: app}}
  dst: {host: {name: 10.1.0.6}}
"""


def _load(directory: Path) -> dict[str, list[Any]]:
    return {str(p.relative_to(directory)): list(yaml.safe_load_all(p.read_text()))
            for p in sorted(directory.rglob("*.yaml"))}


WORLDS: dict[str, dict[str, list[Any]]] = {
    p.name: _load(p) for p in sorted(EXAMPLES.iterdir()) if p.is_dir()}
WORLDS["more"] = {"cluster.yaml": list(yaml.safe_load_all(MORE)),
                  "tests/netassert.yaml": [yaml.safe_load(NETASSERT)]}

def _nested(depth: int) -> Any:
    value: Any = "x"
    for i in range(depth):
        value = [value] if i % 2 else {"k": value}
    return value


BAD_VALUES = st.one_of(
    st.none(), st.booleans(), st.just(""), st.just([]), st.just({}), st.just([None]),
    st.just([{}]), st.integers(), st.sampled_from([0, -1, 2**31, 2**63, 10**40]),
    st.floats(allow_nan=False, allow_infinity=False), st.just(80.0),
    st.text(max_size=8), st.sampled_from(["80", "-", "a" * 300, "ÿ☃\u200b", "Ünï", "a/b/c",
                                          "10.0.0.0/33", "::ffff:10.0.0.1", "http"]),
    st.recursive(st.none() | st.integers() | st.text(max_size=3),
                 lambda inner: st.lists(inner, max_size=2)
                 | st.dictionaries(st.text(max_size=3), inner, max_size=2), max_leaves=6),
    st.integers(1, 60).map(_nested),
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _paths(item, (*prefix, i))


@st.composite
def mutated_worlds(draw: st.DrawFn) -> tuple[str, dict[str, list[Any]], str]:
    """(world name, mangled copy, the file changed)."""
    name = draw(st.sampled_from(sorted(WORLDS)))
    world = copy.deepcopy(WORLDS[name])
    file = draw(st.sampled_from(sorted(world)))
    docs = world[file]
    index = draw(st.integers(0, len(docs) - 1))
    for _ in range(draw(st.integers(1, 3))):
        paths = list(_paths(docs[index]))
        path = draw(st.sampled_from(paths))
        # A copy: st.just values are shared between draws, and a mutation may change them.
        bad = copy.deepcopy(draw(BAD_VALUES))
        if not path:
            docs[index] = bad
            continue
        parent = docs[index]
        for key in path[:-1]:
            parent = parent[key]
        action = draw(st.sampled_from(["set", "set", "set", "delete", "unknown"]))
        if action == "delete":
            del parent[path[-1]]
        elif action == "unknown" and isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=8))] = bad
        else:
            parent[path[-1]] = bad
    return name, world, file


def _commands(directory: str, before: str, world: dict[str, list[Any]], changed: str
              ) -> list[list[str]]:
    commands = [["check", directory], ["check", directory, "-o", "json"],
                ["lint", directory], ["lint", directory, "-o", "sarif"],
                ["report", directory], ["compile", directory],
                ["diff", before, directory], ["diff", before, directory, "-o", "json"],
                ["query", directory, "--from", "10.1.0.5", "--to", "10.0.0.9", "--port", "53"]]
    commands += [["matrix", directory, "-o", output]
                 for output in ("json", "text", "csv", "md", "dot")]
    commands += [["matrix", directory, *more]
                 for more in (["--by", "namespace"], ["--pods"], ["--services"])]
    commands += [[*c, "--skip-invalid"] for c in commands if c[0] != "check"]
    for name in world:
        if name.startswith("tests/"):
            extra = [os.path.join(directory, "cluster.yaml")] if "netassert" in name else []
            commands.append(["test", os.path.join(directory, name), *extra])
    if changed.endswith(".yaml") and not changed.startswith("tests/"):
        commands.append(["hosts", os.path.join(directory, changed), "--pod-name", "p"])
    return commands


def _write(world: dict[str, list[Any]], directory: Path) -> None:
    for name, docs in world.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump_all(docs, sort_keys=False))


def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(argv)
    except BaseException:  # the point: nothing may escape main
        raise AssertionError(f"stockade {' '.join(argv)} raised:\n"
                             f"{traceback.format_exc()}") from None
    return code, out.getvalue(), err.getvalue()


def _refusals(argv: list[str], out: str, err: str) -> list[str]:
    """Where a refusal is said: stderr's error lines, or ``check -o json``'s errors."""
    if argv[0] == "check" and "json" in argv:
        return [e["file"] for e in json.loads(out)["errors"]]
    return [line for line in err.splitlines()
            if line.startswith(("error:", "stockade: error:"))]


EXAMPLE_COUNT = int(os.environ.get("STOCKADE_FUZZ_EXAMPLES", "25"))


@settings(max_examples=EXAMPLE_COUNT, deadline=None, derandomize=EXAMPLE_COUNT <= 25,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(mutated_worlds(), st.data())
def test_mangled_manifests_end_in_a_clear_exit(
        mutated: tuple[str, dict[str, list[Any]], str], data: st.DataObject) -> None:
    name, world, changed = mutated
    with tempfile.TemporaryDirectory(prefix="stk-fuzz-") as tmp:
        new, old = Path(tmp) / "new", Path(tmp) / "old"
        _write(world, new)
        _write(WORLDS[name], old)
        commands = _commands(str(new), str(old), world, changed)
        for argv in data.draw(st.lists(st.sampled_from(commands), min_size=2, max_size=2,
                                       unique_by=tuple)):
            code, out, err = _run(argv)
            assert code in (0, 1, 2), (argv, code, err)
            assert "Traceback" not in err, (argv, err)
            if code == 2:
                refusals = _refusals(argv, out, err)
                assert refusals, (argv, err)
                assert all(tmp in line for line in refusals), (argv, err)
