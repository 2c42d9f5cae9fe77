"""Upstream's network-policy-api conformance tests, transcribed: the loader.

Each file of ``tests/scenarios/conformance/<version>/`` is one upstream conformance test:
its fixture manifests (the policies the test applies) followed by one ``Expectations``
document that cites the test and lists its steps. A step is what the test does between two
sets of probes: the changes it makes to the objects (cumulative, as in the test, which
patches the live objects) and then the probes, each the client pod, the server pod (probed
at its pod IP, as upstream does), protocol, port and ``.`` (connects) or ``X`` (does not).
Every step starts from ``base.yaml``, the suite's base topology, plus the fixtures.

A change names its ``target`` as ``Kind/name`` or ``Kind/namespace/name`` and does one of:
``swap: [pointer, pointer]`` (exchange two values, as upstream swaps rules), ``patch:``
(RFC 6902 ``add``/``remove``/``replace`` operations with JSON pointers), or
``delete: true``. Pods in probes may be written by name alone when the name is unique.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stockade.model.build import RawObject
from stockade.model.types import Protocol
from stockade.sources.files import read_paths

CONFORMANCE_DIR = Path(__file__).resolve().parents[1] / "scenarios" / "conformance"
BASE = CONFORMANCE_DIR / "base.yaml"
VERSIONS = ("v1alpha1", "v1alpha2")
_PROBE = re.compile(r"^(\S+)\s+->\s+(\S+)\s+(TCP|UDP|SCTP)\s+(\d+)\s+([.X])$")


class CaseError(ValueError):
    """A transcription that cannot be understood; the message names file and place."""


@dataclass(frozen=True, slots=True)
class Probe:
    source: str  # ns/name
    destination: str
    protocol: Protocol
    port: int
    allowed: bool
    where: str


@dataclass(frozen=True, slots=True)
class Step:
    index: int
    name: str  # the upstream subtest (t.Run) it belongs to
    raws: tuple[RawObject, ...]  # the whole state: base topology, fixtures, changes so far
    probes: tuple[Probe, ...]


@dataclass(frozen=True, slots=True)
class Case:
    name: str  # the file's stem, upstream's test file name
    path: Path
    version: str
    test: str  # upstream's ShortName
    cite: str  # upstream file(s) and ref
    description: str
    steps: tuple[Step, ...]


def case_paths(version: str | None = None) -> list[Path]:
    versions = (version,) if version else VERSIONS
    return sorted(p for v in versions for p in (CONFORMANCE_DIR / v).glob("*.yaml"))


def _ident(data: Mapping[str, Any]) -> str:
    meta = data.get("metadata") or {}
    parts = [str(data.get("kind")), *([meta["namespace"]] if meta.get("namespace") else []),
             str(meta.get("name"))]
    return "/".join(parts)


def _pointer(doc: Any, pointer: str, where: str) -> tuple[Any, str | int]:
    """The container a JSON pointer's last token lives in, and that token."""
    if not pointer.startswith("/"):
        raise CaseError(f"{where}: {pointer!r} is not a JSON pointer")
    tokens = [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]
    node = doc
    for token in tokens[:-1]:
        node = node[int(token)] if isinstance(node, list) else node[token]
    last: str | int = tokens[-1]
    if isinstance(node, list) and last != "-":
        last = int(last)
    return node, last


def _apply(objects: dict[str, dict[str, Any]], change: Mapping[str, Any], where: str) -> None:
    target = change.get("target")
    if target not in objects:
        raise CaseError(f"{where}: target {target!r} is not an object of this case "
                        f"(known: {', '.join(objects)})")
    assert isinstance(target, str)
    doc = objects[target]
    try:
        if change.get("delete") is True:
            del objects[target]
        elif "swap" in change:
            (a_node, a_key), (b_node, b_key) = (_pointer(doc, p, where)
                                                for p in change["swap"])
            a_node[a_key], b_node[b_key] = b_node[b_key], a_node[a_key]
        elif "patch" in change:
            for op in change["patch"]:
                node, key = _pointer(doc, op["path"], where)
                if op["op"] == "remove":
                    del node[key]
                elif op["op"] == "replace":
                    if isinstance(node, dict) and key not in node:
                        raise CaseError(f"{where}: replace of missing {op['path']}")
                    node[key] = copy.deepcopy(op["value"])
                elif op["op"] == "add" and isinstance(node, list):
                    node.insert(len(node) if key == "-" else int(key), copy.deepcopy(op["value"]))
                elif op["op"] == "add":
                    node[key] = copy.deepcopy(op["value"])
                else:
                    raise CaseError(f"{where}: unknown patch op {op['op']!r}")
        else:
            raise CaseError(f"{where}: a change needs swap, patch or delete")
    except (KeyError, IndexError, ValueError, TypeError) as exc:
        raise CaseError(f"{where}: cannot apply {dict(change)}: {exc!r}") from None


def _probes(text: str, pods: Sequence[str], where: str) -> list[Probe]:
    by_name: dict[str, list[str]] = {}
    for key in pods:
        by_name.setdefault(key.rsplit("/", 1)[-1], []).append(key)

    def resolve(name: str, line: int) -> str:
        if name in pods:
            return name
        found = by_name.get(name, [])
        if len(found) != 1:
            raise CaseError(f"{where} line {line}: pod {name!r} is "
                            f"{'ambiguous' if found else 'unknown'}")
        return found[0]

    out: list[Probe] = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        match = _PROBE.match(line.strip())
        if match is None:
            raise CaseError(f"{where} line {n}: expected 'CLIENT -> SERVER PROTO PORT ./X', "
                            f"got {line.strip()!r}")
        src, dst, proto, port, mark = match.groups()
        out.append(Probe(resolve(src, n), resolve(dst, n), Protocol(proto), int(port),
                         mark == ".", f"{where} line {n}"))
    return out


def load_case(path: Path) -> Case:
    raws = read_paths([str(BASE), str(path)])
    expectations = [r for r in raws if r.kind == "Expectations"]
    if len(expectations) != 1:
        raise CaseError(f"{path}: needs exactly one Expectations document")
    exp = expectations[0].data
    where = str(expectations[0].origin)
    for key in ("test", "cite", "description", "steps"):
        if not exp.get(key):
            raise CaseError(f"{where}: {key} is required")
    objects: dict[str, dict[str, Any]] = {}
    origins: dict[str, Any] = {}
    for raw in raws:
        if raw is not expectations[0]:
            objects[_ident(raw.data)] = copy.deepcopy(dict(raw.data))
            origins[_ident(raw.data)] = raw.origin
    pods = [f"{o['metadata']['namespace']}/{o['metadata']['name']}"
            for o in objects.values() if o.get("kind") == "Pod"]
    steps: list[Step] = []
    for i, step in enumerate(exp["steps"]):
        here = f"{where}: steps[{i}]"
        for j, change in enumerate(step.get("changes") or ()):
            _apply(objects, change, f"{here}.changes[{j}]")
        probes = _probes(step.get("probes") or "", pods, f"{here}.probes")
        if not probes:
            raise CaseError(f"{here}: a step needs probes")
        state = tuple(RawObject(copy.deepcopy(doc), origins[k]) for k, doc in objects.items())
        steps.append(Step(i, str(step.get("name", "")), state, tuple(probes)))
    return Case(path.stem, path, path.parent.name, str(exp["test"]), str(exp["cite"]),
                str(exp["description"]).strip(), tuple(steps))
