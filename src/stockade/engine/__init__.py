"""The NetworkPolicy engine: pure functions of (cluster, traffic) that record why.

Policies are compiled once into matchers over *behaviour classes* (pods that no selector,
ipBlock or named port can tell apart); evaluation of one connection, the whole matrix and the
resolved per-pod rules for a dataplane all come from that one compilation. Connections and
verdicts are in ``stockade.engine.traffic`` and ``stockade.engine.explain``: a matrix run
needs neither, and imports only the engine.
"""

from __future__ import annotations

from stockade.engine.engine import Engine

__all__ = ["Engine"]
