"""Services as destinations: a Service port resolved to its backends and their target ports.

Policies never see a Service: kube-proxy (or its replacement) rewrites the destination to a
backend pod and its ``targetPort`` before any policy is consulted. So "may A reach
svc/ns/db:5432" is "may A reach each backend of db on its target port", answered by the
engine per backend. Pure: the Service and the endpoints come from the caller.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from stockade.engine.engine import Engine
from stockade.engine.explain import Verdict
from stockade.engine.matrix import BoolMatrix, port_reachability
from stockade.engine.traffic import Endpoint, Traffic
from stockade.errors import InputError, UsageError
from stockade.model.types import Pod, Protocol, Service, ServicePort

PREFIX = "svc/"


class Unresolvable(InputError):
    """A Service whose backends manifests cannot tell (no selector, ExternalName)."""


@dataclass(frozen=True, slots=True)
class ServiceRef:
    """``svc/NS/NAME[:PORT[/PROTO]]``: PORT is a Service port number or name."""

    namespace: str
    name: str
    port: str = ""
    protocol: Protocol | None = None

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


def parse_service_ref(text: str) -> ServiceRef | None:
    """The reference in ``text``, or ``None`` when it is not of the ``svc/`` form."""
    if not text.startswith(PREFIX):
        return None
    body, _, port = text[len(PREFIX):].partition(":")
    namespace, _, name = body.partition("/")
    if not namespace or not name or "/" in name:
        raise UsageError(f"{text!r}: a Service is named svc/NAMESPACE/NAME[:PORT], "
                         "e.g. svc/shop/db:5432 or svc/shop/db:postgres")
    port, _, proto = port.partition("/")
    protocol: Protocol | None = None
    if proto:
        try:
            protocol = Protocol(proto.upper())
        except ValueError:
            raise UsageError(f"{text!r}: protocol must be TCP, UDP or SCTP") from None
    return ServiceRef(namespace, name, port, protocol)


def column_key(service: Service, port: ServicePort) -> str:
    """How a Service port is named in outputs: ``svc/ns/name:port``."""
    label = port.name or str(port.port)
    return f"{PREFIX}{service.key}:{label}"


def find_service(services: Sequence[Service], ref: ServiceRef) -> Service:
    for service in services:
        if service.namespace == ref.namespace and service.name == ref.name:
            return service
    names = sorted(s.key for s in services if s.namespace == ref.namespace)
    hint = f" (Services in {ref.namespace}: {', '.join(names)})" if names else ""
    raise InputError(f"no Service {ref.key} in the input{hint}")


def _describe_ports(service: Service) -> str:
    return ", ".join(f"{p.name + ' ' if p.name else ''}{p.port}/{p.protocol}"
                     for p in service.ports) or "none"


def service_port(service: Service, ref: ServiceRef) -> ServicePort:
    """The port the reference names, by number or by name (and protocol if given)."""
    ports = [p for p in service.ports
             if ref.protocol is None or p.protocol.upper() == ref.protocol.value]
    where = f"Service {service.key}"
    if not ref.port:
        if len(ports) == 1:
            return ports[0]
        raise UsageError(f"{where} has ports {_describe_ports(service)}: name one, e.g. "
                         f"svc/{service.key}:{(service.ports or [ServicePort(80)])[0].port}")
    if ref.port.isascii() and ref.port.isdigit():  # ASCII digits only, as the API reads
        found = [p for p in ports if p.port == int(ref.port)]
    else:
        found = [p for p in ports if p.name == ref.port]
    if not found:
        raise InputError(f"{where} has no port {ref.port!r} (its ports: "
                         f"{_describe_ports(service)})")
    if len(found) > 1:
        choices = " and ".join(f"{p.name or p.port} ({p.protocol})" for p in found)
        raise UsageError(f"svc/{service.key}:{ref.port} matches ports {choices}: add "
                         "/TCP, /UDP or /SCTP, or use the port name")
    return found[0]


def check_resolvable(service: Service) -> None:
    """Refuse Services whose backends are not decided by a selector over pods."""
    where = f"Service {service.key} ({service.origin})"
    if service.type == "ExternalName":
        raise Unresolvable(
            f"{where} is of type ExternalName ({service.external_name or 'no name'}): it "
            "is a DNS alias outside the cluster, and cannot be resolved to pods from "
            "manifests; query the address it points to instead")
    if not service.selector:
        raise Unresolvable(
            f"{where} has no selector: its endpoints are managed by hand (EndpointSlices) "
            "and cannot be resolved from manifests alone; query the backend pods instead")


@dataclass(frozen=True, slots=True)
class Backend:
    """An endpoint the Service selects; ``port`` is ``None`` when its target port does not
    resolve on it (the endpoints controller then leaves it out for this port)."""

    pod: Pod
    port: int | None
    problem: str = ""


def _protocol(service: Service, port: ServicePort) -> Protocol:
    try:
        return Protocol(port.protocol)
    except ValueError:
        raise InputError(f"Service {service.key} ({service.origin}): port {port.port}: "
                         f"protocol {port.protocol!r} is not TCP, UDP or SCTP") from None


def target_port(pod: Pod, port: ServicePort) -> tuple[int | None, str]:
    """The backend's port for a Service port, as the endpoints controller finds it: a
    number as is; a name looked up among the ports of the same protocol of the regular
    containers, then of the native sidecars (``Pod.serving_ports``); no ``targetPort``,
    or 0 or ``""`` (which the API server defaults, as ``SetDefaults_Service`` does),
    means the Service's own port."""
    target = port.target_port
    if target is None or target in (0, ""):
        return port.port, ""
    if isinstance(target, int):
        return target, ""
    if target.isdigit():  # "8080" as a string is still a number to the API
        return int(target), ""
    same_name = [p for p in pod.serving_ports() if p.name == target]
    for p in same_name:
        if p.protocol == port.protocol:
            return p.container_port, ""
    if same_name:
        return None, (f"declares port {target!r} as {same_name[0].protocol}, not "
                      f"{port.protocol}: not a backend for this port")
    return None, f"declares no container port named {target!r}: not a backend for this port"


def backends(service: Service, port: ServicePort, endpoints: Sequence[Pod]) -> tuple[Backend, ...]:
    """The endpoints of the Service's namespace whose labels its selector matches."""
    check_resolvable(service)
    selector = dict(service.selector or ())
    out: list[Backend] = []
    for pod in endpoints:
        if pod.namespace != service.namespace:
            continue
        labels = pod.labels
        if all(labels.get(k) == v for k, v in selector.items()):
            number, problem = target_port(pod, port)
            out.append(Backend(pod, number, problem))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class BackendAnswer:
    backend: Backend
    verdict: Verdict | None  # None: the target port does not resolve on this backend


ALLOWED, DENIED, PARTIALLY, NO_BACKENDS = "allowed", "denied", "partially", "no backends"


def outcome(reachable: int, usable: int) -> str:
    """All usable backends reachable: allowed; none: denied; some: partially."""
    if usable == 0:
        return NO_BACKENDS
    if reachable == usable:
        return ALLOWED
    return DENIED if reachable == 0 else PARTIALLY


@dataclass(frozen=True, slots=True)
class ServiceAnswer:
    """A query to a Service port: one engine verdict per backend."""

    service: Service
    port: ServicePort
    source: Endpoint
    answers: tuple[BackendAnswer, ...]

    @property
    def key(self) -> str:
        return column_key(self.service, self.port)

    @property
    def usable(self) -> int:
        return sum(1 for a in self.answers if a.verdict is not None)

    @property
    def reachable(self) -> int:
        return sum(1 for a in self.answers if a.verdict is not None and a.verdict.allowed)

    @property
    def outcome(self) -> str:
        return outcome(self.reachable, self.usable)

    @property
    def allowed(self) -> bool:
        return self.outcome == ALLOWED


def query_service(engine: Engine, source: Endpoint, service: Service,
                  port: ServicePort) -> ServiceAnswer:
    """Evaluate the connection to every backend on its target port."""
    protocol = _protocol(service, port)
    answers: list[BackendAnswer] = []
    for backend in backends(service, port, engine.pods):
        if backend.port is None:
            answers.append(BackendAnswer(backend, None))
            continue
        # Back to the source itself (hairpin): cluster-wide policies still judge it.
        traffic = Traffic(source, Endpoint(backend.pod), protocol, backend.port,
                          via_service=True)
        answers.append(BackendAnswer(backend, engine.evaluate(traffic)))
    return ServiceAnswer(service, port, source, tuple(answers))


# --- Services as matrix columns -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ServiceColumn:
    """One Service port as a matrix destination: its backends, or why it has none."""

    key: str
    service: Service
    port: ServicePort | None  # None only for a Service without ports
    backends: tuple[Backend, ...] = ()
    problem: str = ""  # set when the Service cannot be resolved from manifests


def service_columns(services: Sequence[Service], endpoints: Sequence[Pod]) -> list[ServiceColumn]:
    """Every port of every Service; a Service without ports (an ExternalName alias, say)
    still gets one column so that outputs can say why it has no backends."""
    columns: list[ServiceColumn] = []
    for service in services:
        if not service.ports:
            try:
                check_resolvable(service)
                problem = f"Service {service.key} ({service.origin}) declares no ports"
            except Unresolvable as exc:
                problem = str(exc)
            columns.append(ServiceColumn(f"{PREFIX}{service.key}", service, None, (), problem))
            continue
        for port in service.ports:
            key = column_key(service, port)
            try:
                _protocol(service, port)
                found = backends(service, port, endpoints)
            except InputError as exc:
                columns.append(ServiceColumn(key, service, port, problem=str(exc)))
                continue
            columns.append(ServiceColumn(key, service, port, found))
    return columns


@dataclass(frozen=True, slots=True)
class ColumnReach:
    """For each matrix row, the backends of one column that the row reaches."""

    column: ServiceColumn
    reached: tuple[tuple[str, ...], ...]  # per row: keys of the backends reached

    @property
    def usable(self) -> int:
        return sum(1 for b in self.column.backends if b.port is not None)

    def outcome(self, row: int) -> str:
        return outcome(len(self.reached[row]), self.usable)


@dataclass(frozen=True, slots=True)
class ServiceRows:
    """Matrix rows with Service columns (``split_rows``): each row's pods (indices), the
    group it is (a part of), and per column which backends each row reaches."""

    rows: tuple[tuple[int, ...], ...]
    origin: tuple[int, ...]
    reaches: list[ColumnReach]

    @property
    def split(self) -> bool:
        """Did some group become several rows?"""
        return len(set(self.origin)) != len(self.origin)


def split_rows(engine: Engine, columns: Sequence[ServiceColumn],
               groups: Sequence[Sequence[int]]) -> ServiceRows:
    """Which backends each row reaches, rows being ``groups`` (pod indices; each group's
    pods of one behaviour class, such as a class's members or single pods) split where
    their members' answers differ, so that every row's answers are true of each member.

    Members of a class reach a backend that is another pod as the class does (the class
    matrix between distinct pods). Only a pod that is a backend itself (it reaches itself
    through the Service; cluster-wide policies still judge that) or exchanges node traffic
    with one (always allowed) may answer otherwise: those pods, found from the backends,
    are looked at one by one, and a group's members are split by the answers that differ
    from its class's. A group none of whose members differ stays one row."""
    index = {pod.key: i for i, pod in enumerate(engine.pods)}
    classes = np.asarray(engine.pod_class, dtype=np.int64)
    tables: dict[tuple[Protocol, int], BoolMatrix] = {}

    def allowed(protocol: Protocol, port: int) -> BoolMatrix:
        if (protocol, port) not in tables:
            tables[protocol, port] = port_reachability(engine, protocol, port)
        return tables[protocol, port]

    # Back to itself through the Service (hairpin): cluster-wide policies judge it, alike
    # for every member of a class, so once per class and target port.
    judged = bool(engine.cluster_policies) and not engine.tiers.empty
    hairpins: dict[tuple[int, Protocol, int], bool] = {}

    def hairpin(pod: int, protocol: Protocol, port: int) -> bool:
        if not judged:
            return True  # a pod always reaches itself
        key = (int(classes[pod]), protocol, port)
        if key not in hairpins:
            end = Endpoint(engine.pods[pod])
            traffic = Traffic(end, end, protocol, port, via_service=True)
            hairpins[key] = engine.evaluate(traffic).allowed
        return hairpins[key]

    # Per column: its usable backends, their pods and target ports (None: unresolved).
    targets: list[tuple[Protocol, list[str], npt.NDArray[np.int64], npt.NDArray[np.int64]]
                  | None] = []
    # Per pod, the answers (column, backend's position, reached) that are not its class's.
    differs: dict[int, list[tuple[int, int, bool]]] = {}
    for k, column in enumerate(columns):
        if column.problem or column.port is None:
            targets.append(None)
            continue
        protocol = Protocol(column.port.protocol)
        usable = [b for b in column.backends if b.port is not None]
        at = np.array([index[b.pod.key] for b in usable], dtype=np.int64)
        ports = np.array([b.port for b in usable], dtype=np.int64)
        targets.append((protocol, [b.pod.key for b in usable], at, ports))
        for j, (b, port) in enumerate(zip(at.tolist(), ports.tolist(), strict=True)):
            table = allowed(protocol, port)
            for m in (b, *engine.node_peers(b)):  # node traffic is always allowed
                reached = hairpin(b, protocol, port) if m == b else True
                if reached != bool(table[classes[m], classes[b]]):
                    differs.setdefault(m, []).append((k, j, reached))

    # The groups with a member that differs, split by what differs; the others as they are.
    touched: set[int] = set()
    if differs:
        group_of = np.full(len(engine.pods), -1, dtype=np.int64)
        group_of[np.fromiter((m for g in groups for m in g), dtype=np.int64)] = np.repeat(
            np.arange(len(groups)), [len(g) for g in groups])
        touched = {int(group_of[m]) for m in differs}
    rows: list[tuple[int, ...]] = []
    origin: list[int] = []
    changes: list[tuple[tuple[int, int, bool], ...]] = []
    for g, members in enumerate(groups):
        if g not in touched:
            rows.append(tuple(members))
            origin.append(g)
            changes.append(())
            continue
        parts: dict[tuple[tuple[int, int, bool], ...], list[int]] = {}
        for m in members:
            parts.setdefault(tuple(sorted(differs.get(m, ()))), []).append(m)
        for change, part in parts.items():
            rows.append(tuple(part))
            origin.append(g)
            changes.append(change)

    by_column: dict[int, dict[int, list[tuple[int, bool]]]] = {}
    for r, change in enumerate(changes):
        for k, j, reached in change:
            by_column.setdefault(k, {}).setdefault(r, []).append((j, reached))
    split = len(rows) != len(groups)
    row_class = classes[np.array([g[0] for g in groups], dtype=np.int64)]
    out: list[ColumnReach] = []
    for k, (column, target) in enumerate(zip(columns, targets, strict=True)):
        if target is None:
            out.append(ColumnReach(column, tuple(() for _ in rows)))
            continue
        protocol, keys, at, ports = target
        found = np.zeros((len(groups), len(keys)), dtype=np.bool_)  # as their classes do
        for port in np.unique(ports).tolist():
            same = np.flatnonzero(ports == port)
            found[:, same] = allowed(protocol, port)[np.ix_(row_class, classes[at[same]])]
        per_group = _reached(found, keys)
        per_row = [per_group[g] for g in origin] if split else per_group
        for r, flips in by_column.get(k, {}).items():
            row = found[origin[r]].copy()
            for j, reached in flips:
                row[j] = reached
            per_row[r] = tuple(keys[j] for j in np.flatnonzero(row))
        out.append(ColumnReach(column, tuple(per_row)))
    return ServiceRows(tuple(rows), tuple(origin), out)


def _reached(found: npt.NDArray[np.bool_], keys: Sequence[str]) -> list[tuple[str, ...]]:
    """Per row of ``found``, the keys of its true columns (most rows: none)."""
    out: list[tuple[str, ...]] = [()] * len(found)
    rows, columns = np.nonzero(found)
    if len(rows):
        cuts = (np.flatnonzero(np.diff(rows)) + 1).tolist()
        listed = columns.tolist()
        for first, last in zip([0, *cuts], [*cuts, len(listed)], strict=True):
            out[int(rows[first])] = tuple(keys[j] for j in listed[first:last])
    return out


def reach_columns(engine: Engine, columns: Sequence[ServiceColumn],
                  rows: Sequence[Sequence[str]]) -> list[ColumnReach]:
    """Which backends each row reaches, ``rows`` being endpoint keys that must answer
    alike (single endpoints, or the rows ``split_rows`` made); ``ValueError`` if the
    members of one do not."""
    index = {pod.key: i for i, pod in enumerate(engine.pods)}
    found = split_rows(engine, columns, [[index[key] for key in row] for row in rows])
    if found.split:
        raise ValueError("the members of a row answer differently: see split_rows")
    return found.reaches
