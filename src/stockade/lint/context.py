"""What every lint check reads: the cluster's endpoints, one engine built over them, and
names for people.

The engine is the one the other commands use, built over the same endpoints (pods, and
workloads through their templates) with two assumptions every real cluster satisfies:
the API server's own namespaces exist (``default``, ``kube-system``, ``kube-public``,
``kube-node-lease``), and a DNS service runs as pods labelled ``k8s-app=kube-dns`` in
``kube-system`` (a stand-in, ``kube-system/Deployment/kube-dns``, is added when the input
has none). Stand-ins never appear as subjects of findings. Pure: no I/O.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from msgspec.structs import replace

from stockade.engine import Engine
from stockade.engine.compile import CompiledPolicy
from stockade.engine.matrix import PairSets
from stockade.lint.findings import LintFinding
from stockade.lint.registry import BY_ID
from stockade.model.types import (
    Cluster,
    ClusterNetworkPolicy,
    Container,
    ContainerPort,
    Namespace,
    NetworkPolicy,
    ObjectMeta,
    Origin,
    Pod,
    PodSpec,
    Protocol,
    Workload,
)
from stockade.model.workloads import Endpoints, choose_endpoints

if TYPE_CHECKING:
    from stockade.lint.reach import Rows

SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
DNS_NAMESPACE, DNS_LABEL = "kube-system", ("k8s-app", "kube-dns")
ASSUMED = Origin("<assumed>")
RELATED_LIMIT = 25  # endpoints named in a finding's data (its message says how many)

BoolArray = npt.NDArray[np.bool_]


def is_dns_server(pod: Pod) -> bool:
    return (pod.namespace == DNS_NAMESPACE and not pod.host_network
            and pod.labels.get(DNS_LABEL[0]) == DNS_LABEL[1])


def dns_stand_in() -> Pod:
    """kube-dns as CoreDNS's manifests declare it: ports ``dns`` (UDP 53), ``dns-tcp``
    (TCP 53) and ``metrics`` (TCP 9153)."""
    ports = (ContainerPort(53, "UDP", "dns"), ContainerPort(53, "TCP", "dns-tcp"),
             ContainerPort(9153, "TCP", "metrics"))
    return Pod(ObjectMeta("kube-dns", DNS_NAMESPACE, (DNS_LABEL,)),
               PodSpec(containers=(Container("coredns", ports),)), origin=ASSUMED,
               template_of="Deployment/kube-dns")


@dataclass(frozen=True, slots=True)
class Names:
    """Distinct names of endpoints: the first ``RELATED_LIMIT`` of them, and how many."""

    shown: tuple[str, ...]
    total: int

    def __len__(self) -> int:
        return self.total

    def __iter__(self) -> Iterator[str]:
        return iter(self.shown)


def listing(names: Sequence[str] | Names, limit: int = 3) -> str:
    """``a, b and c`` or ``a, b, c and 7 more``."""
    shown = list(names.shown if isinstance(names, Names) else names)
    total = len(names)
    if not shown:
        return "none"
    if total <= limit and len(shown) == total:
        return shown[0] if total == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]
    return ", ".join(shown[:limit]) + f" and {total - limit} more"


class LintContext:
    """The cluster as lint sees it. Built once; checks only read it."""

    def __init__(self, cluster: Cluster, endpoints: Endpoints | None = None) -> None:
        self.cluster = cluster
        self.endpoints = endpoints or choose_endpoints(cluster)
        self.owner = self.endpoints.owner
        pods = self.endpoints.pods
        have = {ns.name for ns in cluster.namespaces}
        extra_ns = tuple(Namespace(ObjectMeta(name), ASSUMED, declared=False)
                         for name in SYSTEM_NAMESPACES if name not in have)
        stand_ins = () if any(is_dns_server(p) for p in pods) else (dns_stand_in(),)
        analysed = replace(cluster, pods=pods, namespaces=cluster.namespaces + extra_ns)
        self.engine = Engine(analysed, extra_pods=stand_ins)
        self.real = len(pods)  # engine.pods[real:] are stand-ins
        self.policies: tuple[NetworkPolicy, ...] = self.engine.policies
        self.compiled: tuple[CompiledPolicy, ...] = self.engine.compiled
        # Namespaces whose pods the input holds: lint judges selectors only there.
        self.populated = {p.namespace for p in pods}
        # Namespaces no manifest declares: their labels beyond the name are unknown.
        self.implied = {ns.name for ns in cluster.namespaces if not ns.declared}
        self._subjects: dict[int, list[int]] = {}
        self._declaring: dict[tuple[str, str], BoolArray] = {}
        self._by_port_name: dict[str, dict[str, list[int]]] = {}

    # --- endpoints and classes ------------------------------------------------------------

    @cached_property
    def _display(self) -> list[str]:
        pods = self.engine.pods
        return [self.owner.get(key, key) for key in (p.key for p in pods)]

    def display(self, index: int) -> str:
        """An endpoint's name for people: its workload's when a workload owns it."""
        return self._display[index]

    @cached_property
    def _members(self) -> dict[tuple[bool | None, bool], list[list[int]]]:
        """Per (host_network filter, stand-ins) the members of each class."""
        out: dict[tuple[bool | None, bool], list[list[int]]] = {}
        for host in (False, True, None):
            for stand_ins in (False, True):
                limit = len(self.engine.pods) if stand_ins else self.real
                out[host, stand_ins] = [
                    [m for m in c.members if m < limit]
                    if host is None or c.host_network == host else []
                    for c in self.engine.classes]
        return out

    @cached_property
    def _populated(self) -> dict[bool, BoolArray]:
        return {stand_ins: np.array([bool(m) for m in self._members[False, stand_ins]],
                                    dtype=np.bool_) for stand_ins in (False, True)}

    def populated_classes(self, *, stand_ins: bool = False) -> BoolArray:
        """The classes holding a pod-network endpoint (real, or also a stand-in)."""
        return self._populated[stand_ins]

    def any_member(self, classes: BoolArray, *, stand_ins: bool = False) -> bool:
        """Whether the classes hold a pod-network endpoint (real, or also a stand-in)."""
        return bool((classes & self._populated[stand_ins]).any())

    def declaring(self, protocol: str, name: str) -> BoolArray:
        """Pod-network classes that declare a named port (one the policies use)."""
        key = (protocol, name)
        found = self._declaring.get(key)
        if found is None:
            found = self._declaring[key] = np.array(
                [not c.host_network and c.named_port(Protocol(protocol), name) is not None
                 for c in self.engine.classes], dtype=np.bool_)
        return found

    def declaring_name(self, name: str) -> dict[str, list[int]]:
        """Protocol -> endpoints (stand-ins too) declaring a container port of that name."""
        found = self._by_port_name.get(name)
        if found is None:
            found = {}
            for i, pod in enumerate(self.engine.pods):
                if pod.host_network:
                    continue
                for port in pod.container_ports():
                    if port.name == name:
                        found.setdefault(port.protocol, []).append(i)
            self._by_port_name[name] = found
        return found

    def members(self, classes: BoolArray | Iterable[int], *,
                host_network: bool | None = False, stand_ins: bool = False) -> list[int]:
        """Endpoints of the classes, in input order: real ones (stand-ins too with
        ``stand_ins``), by default only pod-network ones (``host_network=None``: both)."""
        picked = (np.flatnonzero(classes) if isinstance(classes, np.ndarray) else classes)
        table = self._members[host_network, stand_ins]
        out: list[int] = []
        for c in picked:
            out.extend(table[int(c)])
        out.sort()
        return out

    def names(self, indices: Sequence[int]) -> Names:
        """Distinct display names of endpoints, in order (the first few, and how many)."""
        display = self._display
        if not self.owner:  # every endpoint is named after itself: all names differ
            return Names(tuple(display[i] for i in indices[:RELATED_LIMIT]), len(indices))
        distinct = dict.fromkeys(display[i] for i in indices)
        return Names(tuple(itertools.islice(distinct, RELATED_LIMIT)), len(distinct))

    def subjects(self, policy: int) -> list[int]:
        """The real endpoints a policy selects (pod network only, as the engine does)."""
        found = self._subjects.get(policy)
        if found is None:
            found = self._subjects[policy] = self.members(self.compiled[policy].subjects.dense())
        return found

    @cached_property
    def pair_sets(self) -> PairSets:
        """The matrix's numbered port sets, shared by the checks that need connectivity."""
        return PairSets(self.engine)

    @cached_property
    def rows(self) -> Rows:
        """The matrix's rows per type of pod (``reach``), shared likewise."""
        from stockade.lint.reach import Rows

        return Rows(self)

    @cached_property
    def _by_namespace(self) -> dict[str, list[int]]:
        out: dict[str, list[int]] = {}
        for i, pod in enumerate(self.engine.pods[:self.real]):
            out.setdefault(pod.namespace, []).append(i)
        return out

    def pods_in(self, namespaces: Iterable[str]) -> list[int]:
        """Real endpoints of the namespaces (host-network ones too), in input order."""
        out = [i for ns in set(namespaces) for i in self._by_namespace.get(ns, ())]
        out.sort()
        return out

    # --- findings -------------------------------------------------------------------------

    def finding(self, check: str,
                obj: NetworkPolicy | Pod | Workload | Namespace | ClusterNetworkPolicy,
                path: str, message: str, hint: str = "", *,
                related: Iterable[str] = ()) -> LintFinding:
        namespace = ("" if isinstance(obj, Namespace | ClusterNetworkPolicy)
                     else obj.namespace)
        return LintFinding(check, BY_ID[check].severity, obj.kind, namespace, obj.name,
                           obj.origin, path, message, hint,
                           tuple(itertools.islice(related, RELATED_LIMIT)))
