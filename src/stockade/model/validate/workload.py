"""Workload validation: the replicas, the selector and its agreement with the pod template's
labels.

Upstream checks a controller's selector before its template (``ValidateDeploymentSpec``,
``ValidateReplicaSetSpec``, ``ValidateStatefulSetSpec``, ``ValidateDaemonSetSpec``,
``ValidateReplicationControllerSpec``), or after it for a Job (``ValidateJobSpec``) and a
CronJob's job template (``ValidateJobTemplateSpec``). A selector that does not match its
template's labels is refused: the controller could never own the pods it makes, so an
analysis of them would describe pods that never exist. The replicas of a Deployment,
ReplicaSet or StatefulSet are checked before the selector, a ReplicationController's
between a missing selector and the template, a Job's parallelism (``validateJobSpec``)
after its generated labels and before the template.
"""

from __future__ import annotations

from stockade.model.errors import (
    ErrorType,
    FieldError,
    go_json,
    invalid,
    not_supported,
    required,
)
from stockade.model.selectors import selector_matches
from stockade.model.types import LabelSelector, Workload
from stockade.model.validate.pod import template_namespace_errors, validate_template
from stockade.model.validate.selectors import validate_label_selector
from stockade.model.workloads import JOB_NAME_LABELS

MISMATCH = "`selector` does not match template `labels`"
NEGATIVE = "must be greater than or equal to 0"  # apimachinery's IsNegativeErrorMsg
# A Job's uid labels (legacy, prefixed), and a uid no selector can name (not a label value).
JOB_UID_LABELS = ("controller-uid", "batch.kubernetes.io/controller-uid")
_UNKNOWN_UID = "\x00"

# The empty-selector message per kind; ReplicaSet shares the Deployment's wording upstream.
_EMPTY = {"Deployment": "empty selector is invalid for deployment",
          "ReplicaSet": "empty selector is invalid for deployment",
          "StatefulSet": "empty selector is invalid for statefulset"}
# ``LabelSelectorAsSelector`` failing: Deployment and ReplicaSet say so, StatefulSet not.
_UNPARSABLE = {"Deployment": "invalid label selector", "ReplicaSet": "invalid label selector",
               "StatefulSet": ""}


def validate_workload(workload: Workload, prefix: str) -> list[FieldError]:
    """Every error of a workload stockade models, in the API server's order: the namespace
    (``ValidateObjectMeta``), then its spec; ``prefix`` is the template's spec path."""
    errors = template_namespace_errors(workload.template)
    template = validate_template(workload.template, prefix)
    kind = workload.kind_name
    if kind in _EMPTY:
        return errors + _replicas(workload) + _replica_selector(workload) + template
    if kind == "DaemonSet":
        return errors + _daemon_set_selector(workload) + template
    if kind == "ReplicationController":
        # A missing selector first, then the replicas, then the template's match with it.
        selector = _rc_selector(workload)
        missing = [e for e in selector if e.type is ErrorType.REQUIRED]
        return (errors + missing + _replicas(workload)
                + [e for e in selector if e not in missing] + template)
    if kind == "Job":
        return (errors + _job_name_labels(workload) + _replicas(workload, "spec.parallelism")
                + template + _job_selector(workload))
    if kind == "CronJob":
        return (errors + _replicas(workload, "spec.jobTemplate.spec.parallelism") + template
                + _job_template_selector(workload))
    return errors + template


def _replicas(workload: Workload, path: str = "spec.replicas") -> list[FieldError]:
    """``ValidateNonnegativeField`` of ``spec.replicas`` (Deployment, ReplicaSet,
    StatefulSet, ReplicationController) or of a Job's ``parallelism`` (``validateJobSpec``
    checks it first, before the template), which ``Workload.replicas`` holds."""
    if workload.replicas is not None and workload.replicas < 0:
        return [invalid(path, workload.replicas, NEGATIVE)]
    return []


def _go_selector(selector: LabelSelector) -> object:
    """A ``metav1.LabelSelector`` as ``json.Marshal`` sees it (empty fields omitted)."""
    out: dict[str, object] = {}
    if selector.match_labels:
        out["matchLabels"] = dict(sorted(selector.match_labels))
    if selector.match_expressions:
        out["matchExpressions"] = [
            {"key": r.key, "operator": r.operator, **({"values": list(r.values)} if r.values
                                                      else {})}
            for r in selector.match_expressions]
    return out


def _template_labels(workload: Workload) -> object:
    """The template's labels as the error shows them; none is Go's nil map, ``null``."""
    labels = workload.template.metadata.labels
    return dict(sorted(labels)) if labels else None


def _mismatch(workload: Workload, selector: LabelSelector | None) -> list[FieldError]:
    """``selector.Matches(template labels)``; a nil selector (``labels.Nothing``) matches
    nothing, an empty one (``labels.Everything``) everything."""
    labels = workload.template.metadata.label_map
    if selector is not None and selector_matches(selector, labels):
        return []
    return [invalid("spec.template.metadata.labels", go_json(_template_labels(workload)),
                    MISMATCH)]


def _replica_selector(workload: Workload) -> list[FieldError]:
    """Deployment, ReplicaSet, StatefulSet: required, valid, not empty, matching."""
    kind, selector = workload.kind_name, workload.selector
    if selector is None:
        return [required("spec.selector"), *_mismatch(workload, None)]
    errors = validate_label_selector(selector, "spec.selector")
    # LabelSelectorAsSelector fails exactly when ValidateLabelSelector finds an error.
    unparsable = bool(errors)
    if selector.is_empty:
        errors.append(invalid("spec.selector", go_json({}), _EMPTY[kind]))
    if unparsable:
        errors.append(invalid("spec.selector", go_json(_go_selector(selector)),
                              _UNPARSABLE[kind]))
    elif not selector.is_empty:
        errors.extend(_mismatch(workload, selector))
    return errors


def _daemon_set_selector(workload: Workload) -> list[FieldError]:
    """DaemonSet: no Required (a nil selector only fails to match), the match before the
    empty-selector error."""
    selector = workload.selector
    if selector is None:
        return _mismatch(workload, None)
    errors = validate_label_selector(selector, "spec.selector")
    if not errors:
        errors.extend(_mismatch(workload, selector))
    if selector.is_empty:
        errors.append(invalid("spec.selector", go_json({}),
                              "empty selector is invalid for daemonset"))
    return errors


def _rc_selector(workload: Workload) -> list[FieldError]:
    """ReplicationController: ``SetDefaults_ReplicationController`` copies the template's
    labels into an empty selector first, so only a selector and labels both empty is
    missing (``ValidateNonEmptySelector``); the map's keys are not validated."""
    selector = workload.selector
    if selector is None or selector.is_empty:
        if workload.template.metadata.labels:
            return []  # defaulted from the labels: matches them
        return [required("spec.selector")]
    return _mismatch(workload, selector)


def _job_selector(workload: Workload) -> list[FieldError]:
    """Job: the API server generates the selector (and the template labels it matches)
    unless ``manualSelector`` is true. A selector of the user's is checked all the same
    (``ValidateJobSpec``): its rules, and that it matches the template's labels, the
    generated ones included (the server adds its ``controller-uid`` to both)."""
    selector = workload.selector
    if not workload.manual_selector:
        if selector is None:
            return []  # generated
        errors = validate_label_selector(selector, "spec.selector")
        labels = {**dict.fromkeys(JOB_UID_LABELS, _job_uid(workload)),
                  **workload.template.metadata.label_map}
        if not errors and not selector_matches(selector, labels):
            errors.append(invalid("spec.template.metadata.labels",
                                  go_json(_template_labels(workload)), MISMATCH))
        return errors
    if selector is None:
        return [required("spec.selector"), *_mismatch(workload, None)]
    errors = validate_label_selector(selector, "spec.selector")
    if not errors:
        errors.extend(_mismatch(workload, selector))
    return errors


def _job_name_labels(workload: Workload) -> list[FieldError]:
    """A Job that leaves its selector to the API server (``generateSelector``) gets its
    name as its pods' ``JOB_NAME_LABELS`` (``decode.job_name_labels``), and a selector
    of the labels the server gives its pods: ``validateGeneratedSelector``, which runs
    before the spec's checks, refuses a template that sets one of those labels to another
    value, and a selector of the user's that those labels do not match
    (```selector` not auto-generated``; upstream shows it with the ``controller-uid`` the
    server added, which stockade cannot know). The uid is the one the template's
    ``controller-uid`` labels carry (as in a Job read from a cluster), else one no
    selector can name: the server assigns it."""
    if workload.manual_selector:
        return []
    labels = workload.template.metadata.label_map
    name = workload.metadata.name
    errors = [invalid(f"spec.template.metadata.labels[{key}]",
                      go_json(_template_labels(workload)), f"must be '{name}'")
              for key in JOB_NAME_LABELS if labels.get(key, name) != name]
    selector = workload.selector
    if selector is not None:
        uid = _job_uid(workload)
        expected = {**dict.fromkeys(JOB_NAME_LABELS, name), **dict.fromkeys(JOB_UID_LABELS, uid)}
        if not validate_label_selector(selector, "spec.selector") and not selector_matches(
                selector, expected):
            errors.append(invalid("spec.selector", go_json(_go_selector(selector)),
                                  "`selector` not auto-generated"))
    return errors


def _job_uid(workload: Workload) -> str:
    """The uid a Job's generated labels carry: its template's ``controller-uid`` (a Job
    read from a cluster), else one no selector can name (the server assigns it)."""
    labels = workload.template.metadata.label_map
    return labels.get(JOB_UID_LABELS[1], labels.get(JOB_UID_LABELS[0], _UNKNOWN_UID))


def _job_template_selector(workload: Workload) -> list[FieldError]:
    """CronJob: each Job's selector is generated, so its job template may not set one."""
    errors: list[FieldError] = []
    if workload.selector is not None:
        errors.append(invalid("spec.jobTemplate.spec.selector",
                              go_json(_go_selector(workload.selector)),
                              "`selector` will be auto-generated"))
    if workload.manual_selector:
        errors.append(not_supported("spec.jobTemplate.spec.manualSelector", True,
                                    ("nil", "false")))
    return errors
