"""The scenario corpus (``tests/scenarios/*.yaml``) as the engine's judge.

Each scenario is a manifest stream plus one ``Expectations`` document of hand-derived truth
tables. Every cell is checked three ways, which must agree: ``Engine.allowed`` (one
connection), ``port_reachability`` + ``reachable_pods`` (one port, all pairs), and
``connectivity(...).between_pods`` (all ports, all pairs, as canonical text); and once more
by the independent reference evaluator (``benchmarks/reference.py``). A row or column may
be an IP address instead of a pod (a node's, say): the matrices are between pods, so such
cells are checked by ``Engine.allowed`` and the reference.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from benchmarks.reference import ReferenceCluster

from stockade.engine import Engine
from stockade.engine.matrix import connectivity, port_reachability, reachable_pods
from stockade.model.build import RawObject, build_cluster
from stockade.model.netparse import parse_ip
from stockade.model.types import Protocol
from stockade.sources.files import parse_text, read_paths

SCENARIO_DIR = Path(__file__).resolve().parents[1] / "scenarios"
EXPECTATIONS_API = "stockade.dev/v1"
EXPECTATIONS_KIND = "Expectations"
ALLOWED, DENIED = ".", "X"
CORNER = "from\\to"

# (scenario id, check) -> why the engine is known to disagree with the hand-derived table;
# checks are "allowed", "port_reachability" and "connectivity". Each reason names the spec
# section the engine violates. The tests stay xfail(strict=True): they turn red as soon as
# the engine is fixed, and the entry must then go.
KNOWN_ENGINE_BUGS: dict[tuple[str, str], str] = {}


class ScenarioError(ValueError):
    """A scenario file that cannot be understood; the message names file and place."""


@dataclass(frozen=True, slots=True)
class Cell:
    source: str  # ns/name, or an IP address
    destination: str
    protocol: Protocol
    port: int
    allowed: bool
    where: str  # "file: expect[i] line n" for failure messages

    @property
    def between_pods(self) -> bool:
        return not (_is_address(self.source) or _is_address(self.destination))


def _is_address(endpoint: str) -> bool:
    return parse_ip(endpoint) is not None


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    path: Path
    description: str
    engine_only: str  # why the lab cannot replay it, "" when it can
    raws: tuple[RawObject, ...]  # the manifests, Expectations excluded
    cells: tuple[Cell, ...]


def _is_expectations(raw: RawObject) -> bool:
    return raw.kind == EXPECTATIONS_KIND and raw.api_version == EXPECTATIONS_API


def parse_table(text: str, protocol: Protocol, port: int, where: str) -> list[Cell]:
    """A truth table: a header ``from\\to`` + destination pods, then one row per source pod
    with one ``.`` (allowed) or ``X`` (denied) per destination."""
    lines = [(n, line.split()) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    if not lines:
        raise ScenarioError(f"{where}: the table is empty")
    n, header = lines[0]
    if header[0] != CORNER:
        raise ScenarioError(f"{where} line {n}: the header must start with {CORNER!r}, "
                            f"found {header[0]!r}")
    columns = header[1:]
    if not columns:
        raise ScenarioError(f"{where} line {n}: the header names no destination pod")
    if len(set(columns)) != len(columns):
        raise ScenarioError(f"{where} line {n}: a destination pod is listed twice")
    cells: list[Cell] = []
    seen_rows: set[str] = set()
    for n, fields in lines[1:]:
        source, marks = fields[0], fields[1:]
        if source in seen_rows:
            raise ScenarioError(f"{where} line {n}: source {source} has two rows")
        seen_rows.add(source)
        if len(marks) != len(columns):
            raise ScenarioError(
                f"{where} line {n}: row {source} has {len(marks)} cells but the header "
                f"names {len(columns)} destinations"
            )
        for destination, mark in zip(columns, marks, strict=True):
            if mark not in (ALLOWED, DENIED):
                raise ScenarioError(
                    f"{where} line {n}: cell {source} -> {destination} is {mark!r}; use "
                    f"{ALLOWED!r} for allowed or {DENIED!r} for denied"
                )
            cells.append(Cell(source, destination, protocol, port, mark == ALLOWED,
                              f"{where} line {n}"))
    if not cells:
        raise ScenarioError(f"{where}: the table has a header but no rows")
    return cells


def _expectations(data: Mapping[str, Any], where: str) -> tuple[str, str, list[Cell]]:
    description = data.get("description")
    if not isinstance(description, str) or not description.strip():
        raise ScenarioError(f"{where}: description is required (one sentence: what the "
                            "scenario checks and which spec section)")
    engine_only = data.get("engineOnly", "")
    if not isinstance(engine_only, str):
        raise ScenarioError(f"{where}: engineOnly must be a string (the reason)")
    entries = data.get("expect")
    if not isinstance(entries, list) or not entries:
        raise ScenarioError(f"{where}: expect must be a non-empty list of tables")
    cells: list[Cell] = []
    for i, entry in enumerate(entries):
        here = f"{where}: expect[{i}]"
        if not isinstance(entry, Mapping):
            raise ScenarioError(f"{here} must be a mapping with port, protocol and table")
        port = entry.get("port")
        if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
            raise ScenarioError(f"{here}.port must be a port number 1-65535, got {port!r}")
        proto_text = entry.get("protocol")
        try:
            protocol = Protocol(str(proto_text))
        except ValueError:
            raise ScenarioError(f"{here}.protocol must be TCP, UDP or SCTP, got "
                                f"{proto_text!r}") from None
        table = entry.get("table")
        if not isinstance(table, str):
            raise ScenarioError(f"{here}.table must be a block of text (use 'table: |')")
        cells.extend(parse_table(table, protocol, port, f"{here}.table"))
    return description.strip(), engine_only.strip(), cells


def scenario_from_raws(name: str, path: Path, raws: Sequence[RawObject]) -> Scenario:
    where = str(path)
    expectations = [r for r in raws if _is_expectations(r)]
    if len(expectations) != 1:
        raise ScenarioError(f"{where}: needs exactly one {EXPECTATIONS_KIND} document "
                            f"({EXPECTATIONS_API}), found {len(expectations)}")
    exp = expectations[0]
    description, engine_only, cells = _expectations(exp.data, f"{exp.origin}")
    manifests = tuple(r for r in raws if not _is_expectations(r))
    return Scenario(name, path, description, engine_only, manifests, tuple(cells))


def load_scenario(path: Path) -> Scenario:
    return scenario_from_raws(path.stem, path, read_paths([str(path)]))


def scenario_paths() -> list[Path]:
    return sorted(SCENARIO_DIR.glob("*.yaml"))


# --- connection text ---------------------------------------------------------------------

_PART = re.compile(r"^(TCP|UDP|SCTP) (all|\d+(?:-\d+)?(?:,\d+(?:-\d+)?)*)$")


def connection_allows(text: str, protocol: Protocol, port: int) -> bool:
    """Does a canonical connection text (``all``, ``none``, ``TCP 80-81, UDP all``) contain
    this protocol and port? Raises on text that is not canonical."""
    if text == "all":
        return True
    if text == "none":
        return False
    for part in text.split(", "):
        match = _PART.match(part)
        if match is None:
            raise AssertionError(f"not a canonical connection text: {text!r}")
        if match.group(1) != protocol.value:
            continue
        if match.group(2) == "all":
            return True
        for span in match.group(2).split(","):
            first, _, last = span.partition("-")
            if int(first) <= port <= int(last or first):
                return True
    return False


# --- the checks --------------------------------------------------------------------------


def _scenario_params(check: str) -> list[Any]:
    params = []
    for path in scenario_paths():
        marks = []
        reason = KNOWN_ENGINE_BUGS.get((path.stem, check))
        if reason is not None:
            marks.append(pytest.mark.xfail(strict=True, reason=reason))
        params.append(pytest.param(path, id=path.stem, marks=marks))
    return params


def _engine(scenario: Scenario) -> Engine:
    result = build_cluster(scenario.raws)
    assert not result.findings, (
        f"{scenario.path}: the manifests must be valid: "
        + "; ".join(str(f) for f in result.findings)
    )
    known = {p.key for p in result.cluster.pods}
    named = {c.source for c in scenario.cells} | {c.destination for c in scenario.cells}
    unknown = sorted(n for n in named - known if not _is_address(n))
    assert not unknown, f"{scenario.path}: tables name pods that do not exist: {unknown}"
    return Engine(result.cluster)


def _report(wrong: list[str], scenario: Scenario, how: str) -> str:
    head = f"{scenario.name}: {len(wrong)} cell(s) disagree ({how}):\n  "
    return head + "\n  ".join(wrong[:40])


def _mark(allowed: bool) -> str:
    return ALLOWED if allowed else DENIED


def test_corpus_is_large_enough() -> None:
    assert len(scenario_paths()) >= 30


def test_known_bugs_name_existing_scenarios() -> None:
    stems = {p.stem for p in scenario_paths()}
    checks = {"allowed", "port_reachability", "connectivity"}
    for stem, check in KNOWN_ENGINE_BUGS:
        assert stem in stems and check in checks, (stem, check)


@pytest.mark.parametrize("path", _scenario_params("allowed"))
def test_allowed(path: Path) -> None:
    scenario = load_scenario(path)
    engine = _engine(scenario)
    wrong = []
    for cell in scenario.cells:
        got = engine.allowed(cell.source, cell.destination, cell.protocol, cell.port)
        if got != cell.allowed:
            wrong.append(f"{cell.where}: {cell.source} -> {cell.destination} {cell.protocol} "
                         f"{cell.port}: expected {_mark(cell.allowed)}, engine says "
                         f"{_mark(got)}")
    assert not wrong, _report(wrong, scenario, "Engine.allowed")


@pytest.mark.parametrize("path", _scenario_params("port_reachability"))
def test_port_reachability(path: Path) -> None:
    scenario = load_scenario(path)
    engine = _engine(scenario)
    index = {pod.key: i for i, pod in enumerate(engine.pods)}
    reach: dict[tuple[Protocol, int, str], set[int]] = {}
    wrong = []
    for cell in filter(lambda c: c.between_pods, scenario.cells):
        key = (cell.protocol, cell.port, cell.source)
        if key not in reach:
            matrix = port_reachability(engine, cell.protocol, cell.port)
            reach[key] = set(reachable_pods(engine, matrix, index[cell.source]))
        got = index[cell.destination] in reach[key]
        if got != cell.allowed:
            wrong.append(f"{cell.where}: {cell.source} -> {cell.destination} {cell.protocol} "
                         f"{cell.port}: expected {_mark(cell.allowed)}, matrix says "
                         f"{_mark(got)}")
    assert not wrong, _report(wrong, scenario, "port_reachability + reachable_pods")


@pytest.mark.parametrize("path", _scenario_params("connectivity"))
def test_connectivity_text(path: Path) -> None:
    scenario = load_scenario(path)
    engine = _engine(scenario)
    index = {pod.key: i for i, pod in enumerate(engine.pods)}
    matrix = connectivity(engine)
    wrong = []
    for cell in filter(lambda c: c.between_pods, scenario.cells):
        text = matrix.between_pods(index[cell.source], index[cell.destination])
        got = connection_allows(text, cell.protocol, cell.port)
        if got != cell.allowed:
            wrong.append(f"{cell.where}: {cell.source} -> {cell.destination} {cell.protocol} "
                         f"{cell.port}: expected {_mark(cell.allowed)}, connectivity says "
                         f"{text!r}")
    assert not wrong, _report(wrong, scenario, "connectivity().between_pods")


@pytest.mark.parametrize("path", [pytest.param(p, id=p.stem) for p in scenario_paths()])
def test_reference_agrees(path: Path) -> None:
    """The independent evaluator, fed the same manifests, gives every cell too."""
    scenario = load_scenario(path)
    reference = ReferenceCluster.from_dicts([dict(r.data) for r in scenario.raws])
    wrong = []
    for cell in scenario.cells:
        got = reference.allowed(cell.source, cell.destination, cell.protocol.value, cell.port)
        if got != cell.allowed:
            wrong.append(f"{cell.where}: {cell.source} -> {cell.destination} {cell.protocol} "
                         f"{cell.port}: expected {_mark(cell.allowed)}, reference says "
                         f"{_mark(got)}")
    assert not wrong, _report(wrong, scenario, "benchmarks/reference.py")


@pytest.mark.parametrize("path", [pytest.param(p, id=p.stem) for p in scenario_paths()])
def test_scenario_is_well_formed(path: Path) -> None:
    scenario = load_scenario(path)
    assert scenario.description
    result = build_cluster(scenario.raws)
    assert not result.findings
    # The stockade loader must skip the Expectations document as an unknown kind, so the
    # scenario file is a valid stockade input as it stands.
    full = build_cluster(read_paths([str(path)]))
    assert any(EXPECTATIONS_KIND in note for note in full.skipped)
    assert full.cluster.pods == result.cluster.pods
    # The lab needs a server on every tested destination port.
    served = {pod.key: {(p.protocol, p.container_port) for p in pod.container_ports()}
              for pod in result.cluster.pods}
    missing = sorted({f"{c.destination} {c.protocol} {c.port}" for c in scenario.cells
                      if not _is_address(c.destination)
                      and (c.protocol.value, c.port) not in served[c.destination]})
    assert not missing, f"{path}: destinations without a container port: {missing}"
    # ... and addresses it may use on a lab host.
    private = [ipaddress.ip_network(n) for n in
               ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fd00::/8")]
    for pod in result.cluster.pods:
        for ip in pod.ips:
            addr = ipaddress.ip_address(ip)
            assert any(addr in n for n in private if n.version == addr.version), (pod.key, ip)


# --- the loader rejects malformed scenarios ----------------------------------------------

_MANIFEST = """\
apiVersion: v1
kind: Pod
metadata: {namespace: x, name: a}
---
apiVersion: stockade.dev/v1
kind: Expectations
description: a malformed table
expect:
- port: 80
  protocol: TCP
  table: |
"""


def _load_text(table: str, *, port: str = "80", protocol: str = "TCP") -> Scenario:
    text = _MANIFEST.replace("port: 80", f"port: {port}").replace("TCP", protocol)
    text += "".join(f"    {line}\n" for line in table.splitlines())
    path = Path("bad.yaml")
    return scenario_from_raws("bad", path, parse_text(text, str(path)))


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("from\\to x/a x/b\nx/a . X .", r"bad\.yaml:\d+: expect\[0\]\.table line 2: row x/a "
                                        r"has 3 cells but the header names 2 destinations"),
        ("from\\to x/a\nx/a ?", r"line 2: cell x/a -> x/a is '\?'; use '\.' for allowed"),
        ("to x/a\nx/a .", r"line 1: the header must start with 'from\\\\to'"),
        ("from\\to x/a x/a\nx/a . .", r"line 1: a destination pod is listed twice"),
        ("from\\to x/a\nx/a .\nx/a X", r"line 3: source x/a has two rows"),
        ("from\\to x/a", r"the table has a header but no rows"),
    ],
)
def test_loader_rejects_malformed_table(table: str, message: str) -> None:
    with pytest.raises(ScenarioError, match=message):
        _load_text(table)


def test_loader_rejects_bad_port_and_protocol() -> None:
    with pytest.raises(ScenarioError, match=r"expect\[0\]\.port must be a port number"):
        _load_text("from\\to x/a\nx/a .", port="0")
    with pytest.raises(ScenarioError, match=r"expect\[0\]\.protocol must be TCP, UDP or SCTP"):
        _load_text("from\\to x/a\nx/a .", protocol="ICMP")


def test_loader_requires_one_expectations_document() -> None:
    raws = parse_text("apiVersion: v1\nkind: Pod\nmetadata: {namespace: x, name: a}\n", "p.yaml")
    with pytest.raises(ScenarioError, match=r"p\.yaml: needs exactly one Expectations"):
        scenario_from_raws("p", Path("p.yaml"), raws)


@pytest.mark.parametrize(
    ("text", "proto", "port", "expected"),
    [
        ("all", Protocol.SCTP, 9, True),
        ("none", Protocol.TCP, 80, False),
        ("TCP 80-81,443, UDP 53", Protocol.TCP, 81, True),
        ("TCP 80-81,443, UDP 53", Protocol.TCP, 82, False),
        ("TCP 80-81,443, UDP 53", Protocol.UDP, 53, True),
        ("TCP 80-81,443, UDP 53", Protocol.SCTP, 53, False),
        ("TCP all, UDP 53", Protocol.TCP, 65535, True),
    ],
)
def test_connection_allows(text: str, proto: Protocol, port: int, expected: bool) -> None:
    assert connection_allows(text, proto, port) is expected
