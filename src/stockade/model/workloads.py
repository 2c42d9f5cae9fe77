"""Which endpoints an analysis shows: workloads' pod templates and the real Pods.

People keep Deployments and StatefulSets, not Pods; clusters have both. A Pod owned by a
workload of the same input (through ``ownerReferences``, following a ReplicaSet up to its
Deployment, or because its labels match the workload's selector) is represented by that
workload unless each pod is asked for. Pure: decides a list, reads nothing.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import msgspec
from msgspec.structs import replace

from stockade.model.selectors import selector_matches
from stockade.model.types import (
    Cluster,
    LabelSelector,
    OwnerReference,
    Pod,
    Workload,
)
from stockade.wording import count

# The labels the API server gives a Job's pod template, unless the Job selects its pods
# itself (``manualSelector``): its name under the legacy key and the prefixed one
# (``generateSelector``, batch/v1 1.27 and later), in that order. The ``controller-uid``
# pair it also adds carries the uid the server assigns, which a manifest cannot know.
JOB_NAME_LABELS = ("job-name", "batch.kubernetes.io/job-name")


def job_name_labels(labels: tuple[tuple[str, str], ...],
                    name: str) -> tuple[tuple[str, str], ...]:
    """``labels`` with each of ``JOB_NAME_LABELS`` they lack set to ``name``: a label the
    user set is kept (validation refuses one that differs, as upstream's does)."""
    present = {key for key, _ in labels}
    return labels + tuple((key, name) for key in JOB_NAME_LABELS if key not in present)


TEMPLATE_NOTE = ("workloads stand for their pods through their pod templates, which have no "
                 "IP addresses: selectors match them, ipBlocks never do")


class Endpoints(msgspec.Struct, frozen=True):
    """The pods the engine is built over, and how the input's pods map to workloads.

    ``owner`` maps every owned pod's key (``ns/name``) to its workload's key
    (``ns/Kind/name``), whether the pod is shown or folded into the workload.
    """

    pods: tuple[Pod, ...]
    owner: Mapping[str, str]
    folded: tuple[str, ...]  # keys of pods (and owned workloads) not shown themselves
    notes: tuple[str, ...]

    @property
    def has_templates(self) -> bool:
        return any(p.template_of for p in self.pods)


def effective_selector(workload: Workload) -> LabelSelector | None:
    """The selector that claims pods: the workload's own, or (as for a ReplicationController
    or a Job, whose selector the API server generates) its template's labels. ``None`` when
    neither says anything: an empty selector would claim every pod of the namespace."""
    if workload.selector is not None and not workload.selector.is_empty:
        return workload.selector
    labels = workload.template.metadata.labels
    if workload.kind_name == "Job" and not workload.manual_selector:
        # Not the name labels the server adds (``job_name_labels``): pods written without
        # them, or from a cluster before 1.27 (no batch.kubernetes.io/job-name), are the
        # Job's by the labels its manifest gives them, as before it had them.
        name = workload.metadata.name
        labels = tuple((key, value) for key, value in labels
                       if key not in JOB_NAME_LABELS or value != name)
    return LabelSelector(match_labels=labels) if labels else None


def _ordered(refs: Sequence[OwnerReference]) -> list[OwnerReference]:
    """The controller reference first: it is the one that manages the object."""
    return sorted(refs, key=lambda r: not r.controller)


class _Owners:
    """Workloads of one input indexed for ownership lookups."""

    def __init__(self, workloads: Sequence[Workload]) -> None:
        self.by_ref = {(w.namespace, w.kind_name, w.name): w for w in workloads}
        self.by_namespace: dict[str, list[Workload]] = {}
        for w in workloads:
            self.by_namespace.setdefault(w.namespace, []).append(w)
        self.selectors = {w.key: effective_selector(w) for w in workloads}

    def owner_of(self, namespace: str, refs: Sequence[OwnerReference]) -> Workload | None:
        for ref in _ordered(refs):
            found = self.by_ref.get((namespace, ref.kind, ref.name))
            if found is not None:
                return found
        return None

    def root(self, workload: Workload) -> Workload:
        """Follow owners up (ReplicaSet -> Deployment, Job -> CronJob) within the input.
        Owners that go round in a circle own nothing: each workload stands for itself."""
        seen = {workload.key}
        current = workload
        while True:
            parent = self.owner_of(current.namespace, current.metadata.owner_references)
            if parent is None:
                return current
            if parent.key in seen:
                return workload
            seen.add(parent.key)
            current = parent

    def claiming(self, pod: Pod) -> list[Workload]:
        """Root workloads whose selector matches the pod's labels, in input order."""
        labels = pod.labels
        roots: list[Workload] = []
        for w in self.by_namespace.get(pod.namespace, ()):
            selector = self.selectors[w.key]
            if selector is not None and selector_matches(selector, labels):
                root = self.root(w)
                if root not in roots:
                    roots.append(root)
        return roots


def choose_endpoints(cluster: Cluster, *, per_pod: bool = False,
                     keep: Collection[str] = ()) -> Endpoints:
    """Every Pod of the input, plus the template of each workload none of whose pods is in
    the input. A workload's real pods stand for it: they have the IPs that ipBlocks match,
    which its template lacks; outputs group them under the workload's name (``owner``)
    unless ``per_pod``. ``keep`` names workloads whose template is wanted all the same
    (a query about a workload the input has no pod of).
    """
    owners = _Owners(cluster.workloads)
    owner: dict[str, str] = {}
    ambiguous: list[str] = []
    for pod in cluster.pods:
        direct = owners.owner_of(pod.namespace, pod.metadata.owner_references)
        if direct is not None:
            owner[pod.key] = owners.root(direct).key
            continue
        claims = owners.claiming(pod)
        if claims:
            owner[pod.key] = claims[0].key
            if len(claims) > 1:
                ambiguous.append(f"{pod.key} ({', '.join(w.key for w in claims)})")

    kept = set(keep)
    roots = [w for w in cluster.workloads if owners.root(w) is w]
    owned_workloads = [w for w in cluster.workloads if owners.root(w) is not w]
    with_pods = set(owner.values())

    pods: list[Pod] = list(cluster.pods)
    folded: list[str] = []
    for w in roots:
        if w.key in with_pods:
            folded.append(w.key)  # its pods stand for it
        else:
            pods.append(w.template)
    for w in owned_workloads:
        if w.key in kept:
            pods.append(w.template)
        else:
            folded.append(w.key)

    notes: list[str] = []
    through_pods = [w for w in roots if w.key in with_pods]
    if through_pods:
        shown = "by pod name" if per_pod else "grouped under the workload's name"
        notes.append(f"{count(len(through_pods), 'workload')} analysed through "
                     f"{count(len(owner), 'pod')} of the input that they own ({shown})")
    folded_owned = [w for w in owned_workloads if w.key not in kept]
    if folded_owned:
        kinds = sorted({w.kind_name for w in folded_owned})
        notes.append(f"{count(len(folded_owned), 'workload')} ({', '.join(kinds)}) shown "
                     "as the workload that owns them")
    for text in ambiguous:
        notes.append(f"pod {text.split(' ', 1)[0]} matches the selectors of several "
                     f"workloads {text.split(' ', 1)[1]}; shown as the first")
    return Endpoints(tuple(pods), owner, tuple(folded), tuple(notes))


def with_endpoints(cluster: Cluster, endpoints: Endpoints) -> Cluster:
    """The cluster whose ``pods`` are the chosen endpoints, ready for ``Engine``."""
    return replace(cluster, pods=endpoints.pods)
