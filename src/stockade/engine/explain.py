"""Verdicts as data: which policies isolate an endpoint, which rule allowed the connection,
and, when nothing did, how close each rule came. Renderers turn these into text or JSON.

Why each rule missed is prose, and costly on rules with many peers: a side's misses are
worked out only when first read, so callers that want the answer alone never pay for it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from stockade.engine.traffic import Traffic
from stockade.model.types import PolicyType


def rule_path(direction: PolicyType, index: int) -> str:
    """A rule's field path in its policy: ``ingress[0]``, ``egress[2]``."""
    return f"{'ingress' if direction is PolicyType.INGRESS else 'egress'}[{index}]"


@dataclass(frozen=True, slots=True)
class RuleMatch:
    """A rule that matched: ``peer``/``port`` are the indices of the matching ``from``/``to``
    and ``ports`` entries, ``None`` when that list is empty (unrestricted)."""

    policy: str
    direction: PolicyType
    rule: int
    peer: int | None
    port: int | None

    @property
    def path(self) -> str:
        return rule_path(self.direction, self.rule)


@dataclass(frozen=True, slots=True)
class RuleMiss:
    """A rule of an isolating policy that did not match, and why; ``closeness`` is 1 when
    either its peers or its ports matched (a near miss), 0 when neither did."""

    policy: str
    direction: PolicyType
    rule: int
    closeness: int
    reasons: tuple[str, ...]

    @property
    def path(self) -> str:
        return rule_path(self.direction, self.rule)


@dataclass(frozen=True, slots=True)
class ClusterRuleMatch:
    """A rule of a cluster-wide policy that matched: it decided the side (Accept, Allow,
    Deny) or handed it on (Pass). ``peer``/``port`` index its ``from``/``to`` and
    ``ports``/``protocols`` entries, ``None`` when every peer / every port matches (no
    list, or a rule failing closed)."""

    policy: str  # "ClusterNetworkPolicy/name", "AdminNetworkPolicy/name", ...
    tier: str  # "Admin" | "Baseline"
    priority: int | None  # None: a BaselineAdminNetworkPolicy, which has none
    direction: PolicyType
    rule: int
    name: str  # the rule's name, "" when it has none
    action: str  # as written: Accept (v1alpha1: Allow), Deny, Pass
    peer: int | None
    port: int | None
    ports_field: str = "protocols"  # v1alpha1: "ports"
    fail_closed: bool = False  # a peer set no known field: the rule denies everything

    @property
    def path(self) -> str:
        return rule_path(self.direction, self.rule)

    @property
    def accepts(self) -> bool:
        return self.action in ("Accept", "Allow") and not self.fail_closed

    @property
    def passes(self) -> bool:
        return self.action == "Pass" and not self.fail_closed


@dataclass(frozen=True, slots=True)
class DirectionVerdict:
    """One side of a connection: the source's egress or the destination's ingress.

    ``explain``, given for a denied isolated side, works out ``misses`` (every rule of the
    isolating policies and why it did not match) on first access; it is kept after."""

    direction: PolicyType
    allowed: bool
    isolated: bool = False
    policies: tuple[str, ...] = ()  # the policies that isolate this side
    allowed_by: tuple[RuleMatch, ...] = ()
    note: str = ""  # why policy was not consulted (external address, node traffic, ...)
    tier: str = ""
    decided_by: ClusterRuleMatch | None = None
    passed: tuple[ClusterRuleMatch, ...] = ()
    tiered: bool = False
    remarks: tuple[str, ...] = ()
    explain: Callable[[], tuple[RuleMiss, ...]] | None = field(
        default=None, repr=False, compare=False)
    _explained: list[tuple[RuleMiss, ...]] = field(
        default_factory=list, init=False, repr=False, compare=False)

    @property
    def misses(self) -> tuple[RuleMiss, ...]:
        """The rules that did not match, nearest misses first (empty when allowed)."""
        if self.explain is None:
            return ()
        if not self._explained:
            self._explained.append(self.explain())
        return self._explained[0]


@dataclass(frozen=True, slots=True)
class Verdict:
    traffic: Traffic
    allowed: bool
    egress: DirectionVerdict
    ingress: DirectionVerdict
    notes: tuple[str, ...] = field(default=())
