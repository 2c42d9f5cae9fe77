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

from collections.abc import Iterable, Sequence
from dataclasses import replace
from functools import cached_property

import numpy as np
import numpy.typing as npt

from stockade.engine import Engine
from stockade.engine.compile import CompiledPolicy
from stockade.engine.matrix import PairSets
from stockade.lint.findings import LintFinding
from stockade.lint.registry import BY_ID
from stockade.model.types import (
    Cluster,
    Container,
    ContainerPort,
    Namespace,
    NetworkPolicy,
    ObjectMeta,
    Origin,
    Pod,
    PodSpec,
    Workload,
)
from stockade.model.workloads import Endpoints, choose_endpoints

SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
DNS_NAMESPACE, DNS_LABEL = "kube-system", ("k8s-app", "kube-dns")
ASSUMED = Origin("<assumed>")

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


def listing(names: Sequence[str], limit: int = 3) -> str:
    """``a, b and c`` or ``a, b, c and 7 more``."""
    if len(names) <= limit:
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return ", ".join(names[:limit]) + f" and {len(names) - limit} more"


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
        # Namespaces whose labels are all known (declared, or assumed system namespaces).
        self.implied = {ns.name for ns in cluster.namespaces if not ns.declared}

    # --- endpoints and classes ------------------------------------------------------------

    def display(self, index: int) -> str:
        """An endpoint's name for people: its workload's when a workload owns it."""
        key = self.engine.pods[index].key
        return self.owner.get(key, key)

    def members(self, classes: BoolArray | Iterable[int], *,
                host_network: bool | None = False, stand_ins: bool = False) -> list[int]:
        """Endpoints of the classes, in input order: real ones (stand-ins too with
        ``stand_ins``), by default only pod-network ones (``host_network=None``: both)."""
        limit = len(self.engine.pods) if stand_ins else self.real
        picked = (np.flatnonzero(classes) if isinstance(classes, np.ndarray)
                  else classes)
        out: list[int] = []
        for c in picked:
            cls = self.engine.classes[int(c)]
            if host_network is not None and cls.host_network != host_network:
                continue
            out.extend(m for m in cls.members if m < limit)
        return sorted(out)

    def names(self, indices: Iterable[int]) -> list[str]:
        """Distinct display names of endpoints, in order."""
        seen: dict[str, None] = {}
        for i in indices:
            seen.setdefault(self.display(i), None)
        return list(seen)

    def subjects(self, policy: int) -> list[int]:
        """The real endpoints a policy selects (pod network only, as the engine does)."""
        return self.members(self.compiled[policy].subjects)

    @cached_property
    def pair_sets(self) -> PairSets:
        """The matrix's numbered port sets, shared by the checks that need connectivity."""
        return PairSets(self.engine)

    def pods_in(self, namespaces: Iterable[str]) -> list[int]:
        wanted = set(namespaces)
        return [i for i, p in enumerate(self.engine.pods[:self.real]) if p.namespace in wanted]

    # --- findings -------------------------------------------------------------------------

    def finding(self, check: str, obj: NetworkPolicy | Pod | Workload | Namespace, path: str,
                message: str, hint: str = "", related: Iterable[str] = ()) -> LintFinding:
        namespace = "" if isinstance(obj, Namespace) else obj.namespace
        return LintFinding(check, BY_ID[check].severity, obj.kind, namespace, obj.name,
                           obj.origin, path, message, hint, tuple(related))
