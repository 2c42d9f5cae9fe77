"""``stockade lint``: mistakes that valid policies still make, found with the engine.

``lint(cluster)`` runs the enabled checks (``registry.CHECKS``, one module per family)
over one ``LintContext`` and returns findings as data, minus those an object silences with
the annotation ``stockade.dev/lint-disable: ID[,ID...]`` (or ``all``). Pure: no I/O;
placing findings on lines is the source map's job (``stockade.sources.positions``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass

from stockade.lint import (
    cluster,
    cluster_redundancy,
    cluster_rules,
    dns,
    hostaliases,
    peers,
    policies,
    ports,
    redundancy,
)
from stockade.lint.context import LintContext
from stockade.lint.findings import LintFinding, Severity
from stockade.lint.registry import BY_ID, CHECKS, DEFAULT_IDS, Check
from stockade.model.types import Cluster, NetworkPolicy, Pod, Workload
from stockade.model.workloads import Endpoints

__all__ = ["BY_ID", "CHECKS", "DEFAULT_IDS", "DISABLE_ANNOTATION", "Check", "LintFinding",
           "LintReport", "Severity", "lint"]

DISABLE_ANNOTATION = "stockade.dev/lint-disable"

Family = Callable[[LintContext, set[str]], Iterator[LintFinding]]
FAMILIES: tuple[Family, ...] = (policies.run, peers.run, ports.run, dns.run,
                                redundancy.run, cluster_redundancy.run, hostaliases.run,
                                cluster.run, cluster_rules.run)


@dataclass(frozen=True, slots=True)
class LintReport:
    findings: tuple[LintFinding, ...]
    silenced: int  # findings dropped by annotations
    notes: tuple[str, ...]  # e.g. unknown IDs in an annotation
    checks: tuple[str, ...]  # the IDs that ran


def _silences(cluster: Cluster) -> tuple[dict[tuple[str, str, str], set[str]], list[str]]:
    """(kind, namespace, name) -> IDs silenced by the object's annotation; notes."""
    out: dict[tuple[str, str, str], set[str]] = {}
    notes: list[str] = []
    objects: list[tuple[str, str, str, str | None, str]] = []
    annotated: tuple[NetworkPolicy | Pod | Workload, ...] = (
        *cluster.policies, *cluster.pods, *cluster.workloads)
    for obj in annotated:
        objects.append((obj.kind, obj.namespace, obj.name,
                        obj.metadata.annotation(DISABLE_ANNOTATION), str(obj.origin)))
    for policy in cluster.cluster_policies:  # cluster-scoped: no namespace
        objects.append((policy.kind, "", policy.name,
                        policy.metadata.annotation(DISABLE_ANNOTATION), str(policy.origin)))
    for namespace in cluster.namespaces:
        objects.append(("Namespace", "", namespace.name,
                        namespace.metadata.annotation(DISABLE_ANNOTATION),
                        str(namespace.origin)))
    for kind, ns, name, value, origin in objects:
        if value is None:
            continue
        ids = {part.strip() for part in value.split(",") if part.strip()}
        unknown = sorted(ids - set(BY_ID) - {"all"})
        if unknown:
            notes.append(f"{origin}: {kind} {ns + '/' if ns else ''}{name}: "
                         f"{DISABLE_ANNOTATION} names unknown check(s) {', '.join(unknown)}")
        out[kind, ns, name] = ids
    return out, notes


def lint(cluster: Cluster, *, enabled: Collection[str] = DEFAULT_IDS,
         endpoints: Endpoints | None = None) -> LintReport:
    """Run the ``enabled`` checks over a validated cluster."""
    wanted = set(enabled)
    ctx = LintContext(cluster, endpoints)
    silences, notes = _silences(cluster)
    found: list[LintFinding] = []
    silenced = 0
    for family in FAMILIES:
        for finding in family(ctx, wanted):
            if finding.check not in wanted:
                continue
            ids = silences.get((finding.kind, finding.namespace, finding.name), set())
            if finding.check in ids or "all" in ids:
                silenced += 1
                continue
            found.append(finding)
    found.sort(key=lambda f: (f.origin.file, f.origin.line, f.path, f.check, f.message))
    ran = tuple(c.id for c in CHECKS if c.id in wanted)
    return LintReport(tuple(found), silenced, tuple(notes), ran)
