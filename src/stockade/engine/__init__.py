"""The NetworkPolicy engine: pure functions of (cluster, traffic) that record why.

Policies are compiled once into matchers over *behaviour classes* (pods that no selector,
ipBlock or named port can tell apart); evaluation of one connection, the whole matrix and the
resolved per-pod rules for a dataplane all come from that one compilation.
"""

from __future__ import annotations

from stockade.engine.engine import Engine
from stockade.engine.explain import DirectionVerdict, RuleMatch, Verdict
from stockade.engine.traffic import Endpoint, Traffic

__all__ = ["DirectionVerdict", "Endpoint", "Engine", "RuleMatch", "Traffic", "Verdict"]
