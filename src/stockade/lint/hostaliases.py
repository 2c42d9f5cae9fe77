"""``hostaliases-shadowed``: hostAliases entries that never resolve as written.

The kubelet writes the localhost names, then the pod's own hostname (pod-network pods),
then the aliases (``stockade.hosts``); a resolver answers with the first line naming a
host. So a hostname listed again later, or an alias for a name already written above
pointing elsewhere, is shadowed. Checked once per pod template: on a workload, and on pods
no workload of the input owns. Pure.
"""

from __future__ import annotations

from collections.abc import Iterator

from stockade.errors import InputError
from stockade.hosts import pod_hostname_and_domain
from stockade.lint.context import LintContext
from stockade.lint.findings import LintFinding
from stockade.model.netparse import parse_ip
from stockade.model.types import Pod, Workload

CHECK_IDS = frozenset({"hostaliases-shadowed"})

# The kubelet's fixed lines of a pod-network pod's file: name -> addresses.
LOCAL_NAMES: dict[str, tuple[str, ...]] = {
    "localhost": ("127.0.0.1", "::1"),
    "ip6-localhost": ("::1",),
    "ip6-loopback": ("::1",),
    "ip6-localnet": ("fe00::0",),
    "ip6-mcastprefix": ("fe00::0",),
    "ip6-allnodes": ("fe00::1",),
    "ip6-allrouters": ("fe00::2",),
}


def run(ctx: LintContext, enabled: set[str]) -> Iterator[LintFinding]:
    if "hostaliases-shadowed" not in enabled:
        return
    cluster = ctx.cluster
    present = {(w.namespace, w.kind_name, w.name) for w in cluster.workloads}
    for pod in cluster.pods:
        if pod.key not in ctx.owner:
            yield from _check(ctx, pod, pod, "spec")
    for w in cluster.workloads:
        if any((w.namespace, ref.kind, ref.name) in present
               for ref in w.metadata.owner_references):
            continue  # its owner's template says the same
        prefix = ("spec.jobTemplate.spec.template.spec" if w.kind_name == "CronJob"
                  else "spec.template.spec")
        yield from _check(ctx, w, w.template, prefix)


def _same(a: str, b: str) -> bool:
    x, y = parse_ip(a), parse_ip(b)
    return x == y if x is not None and y is not None else a == b


def _above(pod: Pod, template: bool) -> dict[str, tuple[str, ...]]:
    """The names the kubelet writes above the aliases, with their addresses."""
    if pod.host_network:
        return {}  # the node's own file comes first: unknown here
    names = dict(LOCAL_NAMES)
    if template and not pod.spec.hostname:
        return names  # the pods' names are generated: unknown here
    try:
        own = pod_hostname_and_domain(pod)
    except InputError:
        return names
    for name in {own.hostname, own.fqdn}:
        names[name] = pod.ips or ("the pod's IP",)
    return names


def _check(ctx: LintContext, obj: Pod | Workload, pod: Pod,
           prefix: str) -> Iterator[LintFinding]:
    above = _above(pod, isinstance(obj, Workload))
    first: dict[str, tuple[int, str]] = {}
    for i, alias in enumerate(pod.spec.host_aliases):
        for j, host in enumerate(alias.hostnames):
            path = f"{prefix}.hostAliases[{i}].hostnames[{j}]"
            if host in first:
                at, ip = first[host]
                if _same(ip, alias.ip):
                    message = (f"{host} is listed twice for {alias.ip} (first in "
                               f"hostAliases[{at}]): the later entry is never used")
                    hint = "delete the repeated name"
                else:
                    message = (f"{host} -> {alias.ip} is shadowed by hostAliases[{at}], "
                               f"which lists {host} -> {ip} first: lookups answer {ip} first")
                    hint = "keep one address per hostname"
                yield ctx.finding("hostaliases-shadowed", obj, path, message, hint)
                continue
            first[host] = (i, alias.ip)
            addresses = above.get(host)
            if addresses is None or any(_same(a, alias.ip) for a in addresses):
                continue
            what = ("the pod's own hostname" if host not in LOCAL_NAMES
                    else "a localhost name")
            shown = ", ".join(addresses)
            yield ctx.finding(
                "hostaliases-shadowed", obj, path,
                f"{host} is {what}: the kubelet writes {host} -> {shown} above the aliases, "
                f"so this alias to {alias.ip} never resolves",
                "use another name for that address" if host not in LOCAL_NAMES
                else "do not alias localhost names")
