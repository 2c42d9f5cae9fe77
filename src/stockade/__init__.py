"""stockade: Kubernetes NetworkPolicy and HostAliases, analysed, enforced and tested for real.

The public surface is small: load manifests into a ``Cluster``, build an ``Engine`` over it,
and ask it questions. Everything else is private modules behind it.
"""

from __future__ import annotations

__version__ = "0.1.0"
