"""Label selector validation (``ValidateLabelSelector``) for policy and peer selectors.

Creation rules only: ``AllowInvalidLabelValueInSelector`` (an update-time ratchet) is
never set, so expression values are always checked.
"""

from __future__ import annotations

from stockade.model.errors import FieldError, forbidden, invalid, required
from stockade.model.types import LabelSelector, LabelSelectorRequirement
from stockade.model.validate.labels import is_label_value, validate_label_name, validate_labels


def validate_label_selector(selector: LabelSelector, path: str) -> list[FieldError]:
    if not selector.match_labels and not selector.match_expressions:
        return []  # the empty selector (all pods, all namespaces)
    errors = validate_labels(selector.match_labels, f"{path}.matchLabels")
    for i, requirement in enumerate(selector.match_expressions):
        errors.extend(_validate_requirement(requirement, f"{path}.matchExpressions[{i}]"))
    return errors


def _validate_requirement(req: LabelSelectorRequirement, path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    if req.operator in ("In", "NotIn"):
        if not req.values:
            errors.append(required(
                f"{path}.values", "must be specified when `operator` is 'In' or 'NotIn'"
            ))
    elif req.operator in ("Exists", "DoesNotExist"):
        if req.values:
            errors.append(forbidden(
                f"{path}.values",
                "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
            ))
    else:
        errors.append(invalid(f"{path}.operator", req.operator, "not a valid selector operator"))
    errors.extend(validate_label_name(req.key, f"{path}.key"))
    for j, value in enumerate(req.values):
        errors.extend(invalid(f"{path}.values[{j}]", value, msg) for msg in is_label_value(value))
    return errors
