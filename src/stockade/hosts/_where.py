"""How hosts errors name a pod: ``file.yaml:3: Pod default/web (Deployment/web): ...``.

One helper so that every message of the package points at the same place the same way.
"""

from __future__ import annotations

from stockade.model.types import Pod


def where(pod: Pod) -> str:
    """The prefix of an error about ``pod``: origin, ``Pod ns/name``, the workload if any."""
    meta = pod.metadata
    ident = f"{meta.namespace}/{meta.name}" if meta.namespace else meta.name
    source = f" ({pod.template_of})" if pod.template_of else ""
    return f"{pod.origin}: Pod {ident or '<unnamed>'}{source}: "
