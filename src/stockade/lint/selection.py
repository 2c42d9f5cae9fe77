"""Selections that select nothing, judged only where the input can tell: a namespace
selector that no namespace matches (when every namespace's labels are known), a pod
selector that no pod of the namespaces it looks in matches (when the input has pods of
them). Shared by NetworkPolicy peers and by cluster-wide policies' subjects and peers; the
matches themselves are the engine's compiled ones. Pure.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from stockade.lint.context import BoolArray, LintContext, listing
from stockade.lint.findings import LintFinding
from stockade.lint.labels import why_nothing
from stockade.model.selectors import describe_selector, selector_keys, selector_matches
from stockade.model.types import (
    NAMESPACE_NAME_LABEL,
    ClusterNetworkPolicy,
    LabelSelector,
    NetworkPolicy,
)

Policy = NetworkPolicy | ClusterNetworkPolicy


def selected_namespaces(ctx: LintContext, selector: LabelSelector) -> list[str]:
    """The namespaces (of the input, and those lint assumes) a selector matches."""
    compiler = ctx.engine.compiler
    chosen = np.flatnonzero(compiler.ns_index.select(selector))
    return [compiler.ns_names[int(n)] for n in chosen]


def no_namespace(ctx: LintContext, check: str, obj: Policy, selector: LabelSelector, *,
                 field: str, path: str) -> Iterator[LintFinding]:
    """``field`` (a namespace selector at ``path``) matches no namespace: said when the
    labels of every namespace are known, or when it selects by name alone."""
    known = (not ctx.implied
             or selector_keys(selector) <= {NAMESPACE_NAME_LABEL})
    if not known:
        return
    compiler = ctx.engine.compiler
    labels = [ctx.engine.namespaces[n].labels for n in compiler.ns_names]
    reason, hint = why_nothing(selector, "namespace", labels)
    yield ctx.finding(check, obj, path,
                      f"{field} {describe_selector(selector)} matches no namespace; {reason}",
                      hint)


@dataclass(frozen=True, slots=True)
class PodSelection:
    """A pod selector looking in some namespaces, and what the engine found it selects."""

    selector: LabelSelector
    field: str  # how the message names it: ``podSelector``, ``pods.podSelector``
    path: str
    namespaces: Sequence[str]  # where it looks
    scope: str  # how those were chosen, e.g. `` (selected by namespaceSelector {...})``
    selected: BoolArray  # the pod-network classes it selects
    what: str = "pod"  # ``pod``, or ``pod or workload`` for a policy's own subjects


def no_pod(ctx: LintContext, check: str, obj: Policy, sel: PodSelection, *,
           host_effect: str, host_hint: str) -> Iterator[LintFinding]:
    """The selector matches no pod of the namespaces it looks in that the input has pods
    of (``host_effect``/``host_hint``: what to say when it matches host-network pods only,
    which selectors never select)."""
    populated = [n for n in sel.namespaces if n in ctx.populated]
    if not populated or ctx.any_member(sel.selected):
        return
    where = (f"namespace {populated[0]}" if len(populated) == 1 else
             f"namespaces {listing(populated)}")
    where += sel.scope
    selector = describe_selector(sel.selector)
    pods = [ctx.engine.pods[j] for j in ctx.pods_in(populated)]
    host = [p.key for p in pods if p.host_network and selector_matches(sel.selector,
                                                                        p.labels)]
    if host:
        yield ctx.finding(
            check, obj, sel.path,
            f"{sel.field} {selector} matches only host-network pods in {where} "
            f"({listing(host)}): {host_effect}", host_hint, related=host)
        return
    reason, hint = why_nothing(sel.selector, "pod",
                               [p.labels for p in pods if not p.host_network])
    yield ctx.finding(check, obj, sel.path,
                      f"{sel.field} {selector} matches no {sel.what} in {where}; {reason}", hint)
