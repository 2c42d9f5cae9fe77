"""From raw manifest objects to a ``Cluster``: decode, default, validate, resolve namespaces.

Pure: the raw objects come from ``stockade.sources``. Objects of kinds stockade does not
model are skipped with a note; invalid objects become ``Finding``s (all of them, not only
the first), and the caller decides whether to refuse the input or skip those objects.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import msgspec
from msgspec.structs import replace

from stockade.model.crds import API_VERSIONS as CLUSTER_POLICY_KINDS
from stockade.model.decode import Decoder
from stockade.model.errors import FieldError, Finding, not_supported, required
from stockade.model.netparse import parse_ip
from stockade.model.types import (
    NODE_IP_TYPES,
    Cluster,
    ClusterNetworkPolicy,
    Namespace,
    NetworkPolicy,
    Node,
    ObjectMeta,
    Origin,
    Pod,
    Service,
    Workload,
)
from stockade.model.unknown_fields import SCHEMAS, unknown_fields
from stockade.model.validate import (
    pod_warnings,
    validate_namespace,
    validate_network_policy,
    validate_node,
    validate_pod,
    validate_service,
    validate_workload,
)
from stockade.wording import count as counted


class RawObject(msgspec.Struct, frozen=True):
    """One manifest object as read, before decoding, with where it was read from, and
    what its reading found to say (a key written twice, each note naming its file and
    line), which ``build_cluster`` passes on as warnings."""

    data: Mapping[str, Any]
    origin: Origin
    notes: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        kind = self.data.get("kind")
        return kind if isinstance(kind, str) else ""

    @property
    def api_version(self) -> str:
        version = self.data.get("apiVersion")
        return version if isinstance(version, str) else ""


# kind -> apiVersions stockade decodes it from. Other groups with the same kind name
# (Calico's projectcalico.org/v3 NetworkPolicy, say) are different objects and are skipped.
WORKLOAD_KINDS: dict[str, tuple[str, ...]] = {
    "Deployment": ("apps/v1",),
    "ReplicaSet": ("apps/v1",),
    "StatefulSet": ("apps/v1",),
    "DaemonSet": ("apps/v1",),
    "Job": ("batch/v1",),
    "CronJob": ("batch/v1",),
    "ReplicationController": ("v1",),
}
CORE_KINDS: dict[str, tuple[str, ...]] = {
    "Namespace": ("v1",),
    "Pod": ("v1",),
    "Service": ("v1",),
    "NetworkPolicy": ("networking.k8s.io/v1",),
    "Node": ("v1",),
}
KNOWN_KINDS = {**CORE_KINDS, **WORKLOAD_KINDS, **CLUSTER_POLICY_KINDS}
# The groups Kubernetes serves (or once served) these kinds from. Another version there is
# not a third party's object of the same name (Calico's projectcalico.org NetworkPolicy) but
# one no current API server serves, such as NetworkPolicy in extensions/v1beta1 (removed in
# 1.16) or CronJob in batch/v1beta1 (1.25): kubectl refuses it ("no matches for kind").
_KUBERNETES_GROUPS = frozenset({"", "extensions", "apps", "batch", "networking.k8s.io"})
_CLUSTER_POLICY_GROUP = "policy.networking.k8s.io"


class BuildResult(msgspec.Struct):
    cluster: Cluster
    findings: list[Finding] = msgspec.field(default_factory=list)
    warnings: list[str] = msgspec.field(default_factory=list)
    skipped: list[str] = msgspec.field(default_factory=list)  # notes about objects not modelled
    invalid_keys: set[str] = msgspec.field(default_factory=set)  # "Kind ns/name" of invalid objects
    notes: list[str] = msgspec.field(default_factory=list)  # what the analysis leaves out, and why
    finished: list[Pod] = msgspec.field(default_factory=list)  # valid pods in a terminal phase


Decoded = Namespace | Pod | NetworkPolicy | Service | Workload | Node


_DECODERS: dict[str, Callable[[Decoder, Mapping[str, Any], Origin], Decoded]] = {
    "Pod": Decoder.pod,
    "Namespace": Decoder.namespace,
    "Service": Decoder.service,
    "NetworkPolicy": Decoder.network_policy,
    "Node": Decoder.node,
}


def _decode(raw: RawObject, decoder: Decoder) -> Decoded:
    return _DECODERS.get(raw.kind, Decoder.workload)(decoder, raw.data, raw.origin)


_CLUSTER_SCOPED = (Namespace, Node)


def _with_namespace(obj: Decoded, namespace: str) -> Decoded:
    """Namespaced objects without ``metadata.namespace`` land in ``default``, as with kubectl."""
    if isinstance(obj, _CLUSTER_SCOPED) or obj.metadata.namespace:
        return obj
    meta = replace(obj.metadata, namespace=namespace)
    if isinstance(obj, Workload):
        tmpl = obj.template
        template = replace(tmpl, metadata=replace(tmpl.metadata, namespace=namespace))
        return replace(obj, metadata=meta, template=template)
    return replace(obj, metadata=meta)


def _template_spec(workload: Workload) -> str:
    """The path of a workload's pod template's spec, as the API server names it."""
    return ("spec.template.spec" if workload.kind_name != "CronJob"
            else "spec.jobTemplate.spec.template.spec")


def _pod_warnings(obj: Decoded) -> list[str]:
    """The API server's warnings for a valid pod or workload template that stockade
    models (see ``pod_warnings``), with the template's path for a workload."""
    if isinstance(obj, Pod):
        return pod_warnings(obj)
    if isinstance(obj, Workload):
        return pod_warnings(obj.template, _template_spec(obj))
    return []


def _validate(obj: Decoded) -> list[FieldError]:
    if isinstance(obj, NetworkPolicy):
        return validate_network_policy(obj)
    if isinstance(obj, Pod):
        return validate_pod(obj)
    if isinstance(obj, Workload):
        return validate_workload(obj, _template_spec(obj))
    if isinstance(obj, Namespace):
        return validate_namespace(obj)
    if isinstance(obj, Node):
        return validate_node(obj)
    if isinstance(obj, Service):
        return validate_service(obj)
    return []


def _unusable_addresses(node: Node) -> list[str]:
    """Warnings for InternalIP/ExternalIP entries that are no IP address: the API server
    stores them, NetworkPolicy cannot use them as the node's addresses."""
    return [f'{node.origin}: Node {node.name}: status.addresses[{i}].address "{a.address}" '
            f"({a.type}) is not an IP address; not counted among the node's addresses"
            for i, a in enumerate(node.addresses)
            if a.type in NODE_IP_TYPES and parse_ip(a.address) is None]


def _unknown_field_warnings(raw: RawObject, kind: str, namespace: str,
                            meta: ObjectMeta) -> list[str]:
    """A warning for each field the API server would drop as unknown (``kubectl apply``
    refuses the object): a misspelt field changes what the object means, silently."""
    fields = unknown_fields(raw.data, SCHEMAS[kind])
    if not fields:
        return []
    ident = _ident(namespace, meta)
    return [f"{raw.origin}: {kind} {ident}: {path}: unknown field, ignored (the API server "
            "drops it with a warning; kubectl apply refuses the object)" for path in fields]


def _ident(namespace: str, meta: ObjectMeta) -> str:
    """``ns/name`` (``name`` when cluster-scoped) as a warning names an object."""
    name = meta.name or (f"{meta.generate_name}*" if meta.generate_name else "<unnamed>")
    return f"{namespace}/{name}" if namespace else name


def _meta_text(raw: RawObject, field: str) -> str:
    """``metadata.<field>`` as the raw object has it, when it is a string."""
    meta = raw.data.get("metadata")
    value = meta.get(field, "") if isinstance(meta, Mapping) else ""
    return value if isinstance(value, str) else ""


def _finding(raw: RawObject, kind: str, err: FieldError) -> Finding:
    """A finding about an object that could not be decoded at all, named as it reads."""
    return Finding(raw.origin, kind or "object", _meta_text(raw, "namespace"),
                   _meta_text(raw, "name"), err)


# A pod in a terminal phase has finished: the kubelet has torn down its sandbox and released
# its IP, which a new pod may already hold. No packet leaves or reaches it, so it is no
# endpoint (network plugins drop it; so does the endpoints controller), though its object
# is still validated.
TERMINAL_PHASES = ("Succeeded", "Failed")


def _phase(raw: RawObject) -> str:
    status = raw.data.get("status")
    phase = status.get("phase") if type(status) is dict or isinstance(status, Mapping) else None
    return phase if isinstance(phase, str) else ""


class Checked(msgspec.Struct, frozen=True):
    """One object of a built-in kind decoded and checked by itself (``check_object``): all
    that ``build_cluster`` needs of it, so that the work may be done in another process
    (the one reading the input, see ``cli.read_ahead``) and handed over."""

    obj: Decoded
    errors: list[FieldError]  # decoding's, then validation's (each field once)
    # the reading's notes, then (if valid) unknown fields and the API server's pod warnings
    warnings: list[str]
    phase: str = ""  # a pod's status.phase

    @property
    def kind(self) -> str:
        return _key_kind(self.obj)

    @property
    def origin(self) -> Origin:
        return self.obj.origin


def decoded_here(raw: RawObject) -> bool:
    """Whether ``raw`` is of a built-in kind at a version stockade decodes, which
    ``check_object`` checks by itself (everything else ``build_cluster`` takes whole)."""
    kind = raw.kind
    return raw.api_version in CORE_KINDS.get(kind, WORKLOAD_KINDS.get(kind, ()))


def check_object(raw: RawObject, default_namespace: str = "default") -> Checked:
    """Decode, default and validate one object for which ``decoded_here`` holds, and find
    its unknown fields: ``build_cluster``'s work on each object, which depends on nothing
    else."""
    decoder = Decoder()
    obj = _with_namespace(_decode(raw, decoder), default_namespace)
    errors = _errors(obj, decoder)
    kind = raw.kind
    ns = "" if isinstance(obj, _CLUSTER_SCOPED) else obj.metadata.namespace
    warnings = list(raw.notes)
    if not errors:
        warnings += _unknown_field_warnings(raw, kind, ns, obj.metadata)
        warnings.extend(f"{raw.origin}: {kind} {_ident(ns, obj.metadata)}: {w}"
                        for w in _pod_warnings(obj))
    return Checked(obj, errors, warnings, _phase(raw) if isinstance(obj, Pod) else "")


def _not_decoded(raw: RawObject, result: BuildResult,
                 valid: dict[tuple[str, str, str] | int, Decoded | ClusterNetworkPolicy],
                 seen: dict[tuple[str, str, str], Origin], skipped_kinds: dict[str, int]
                 ) -> None:
    """An object ``check_object`` does not take: a cluster-wide policy (checked against
    its CRD's schema and rules), or one of a kind or version stockade does not read
    (a finding without kind or apiVersion, or for a version Kubernetes no longer serves;
    a warning, or a note for ``--verbose``, otherwise)."""
    kind = raw.kind
    api_version = raw.api_version
    if kind not in KNOWN_KINDS:
        if not kind:
            result.findings.append(_finding(raw, kind, required(
                "kind", "every manifest needs a kind")))
        elif (meant := _kind_meant(kind, api_version)) is not None:
            result.findings.append(_finding(raw, kind, not_supported("kind", kind, (meant,))))
        else:
            skipped_kinds[kind] = skipped_kinds.get(kind, 0) + 1
        return
    if api_version not in KNOWN_KINDS[kind]:
        group = api_version.rpartition("/")[0]
        if not api_version:
            result.findings.append(_finding(raw, kind, required("apiVersion")))
        elif _served_group(group) and group != _CLUSTER_POLICY_GROUP:
            result.findings.append(_finding(raw, kind, not_supported(
                "apiVersion", api_version, KNOWN_KINDS[kind])))
        elif group == _CLUSTER_POLICY_GROUP:
            result.warnings.append(
                f"{raw.origin}: {kind} {_meta_text(raw, 'name') or '<unnamed>'}: "
                f"apiVersion {api_version} is not read (stockade reads {kind} as "
                f"{', '.join(KNOWN_KINDS[kind])}); skipped")
        else:
            label = f"{kind} ({api_version})"
            skipped_kinds[label] = skipped_kinds.get(label, 0) + 1
        return
    # A cluster-scoped CRD: schema and CEL rules. Imported here: its schemas and checks
    # are for inputs that hold such a policy.
    from stockade.model.cluster_policies import check_cluster_policy

    checked = check_cluster_policy(raw.data, raw.origin)
    name = _meta_text(raw, "name")
    ident = (kind, "", name)
    if name:
        if ident in seen:
            result.warnings.append(
                f"{kind} {name} is defined more than once ({seen[ident]}, then "
                f"{raw.origin}): the later definition wins, as with kubectl apply")
        seen[ident] = raw.origin
    result.warnings.extend(f"{raw.origin}: {kind} {name}: {w}" for w in checked.warnings)
    if checked.errors or checked.policy is None:
        result.findings.extend(Finding(raw.origin, kind, "", name, e) for e in checked.errors)
        result.invalid_keys.add(f"{kind} /{name}")
        return
    valid[ident if name else len(valid)] = checked.policy


def _plural(kind: str) -> str:
    """A kind's resource name, as ``kubectl get networkpolicies`` types it."""
    lower = kind.lower()
    return lower[:-1] + "ies" if lower.endswith("y") else lower + "s"


# Each way a kind stockade reads is misspelt in earnest: another case (``Networkpolicy``,
# ``list``) or its resource name (``networkpolicies``). No Kubernetes kind differs from
# another only so.
_MISSPELT = {spelling: kind for kind in (*KNOWN_KINDS, "List")
             for spelling in (kind.lower(), _plural(kind))}


def _served_group(group: str) -> bool:
    """Whether ``group``, in any case, is one Kubernetes serves the kinds stockade reads
    from (another case of it is no group kubectl knows, and no third party's either)."""
    lower = group.lower()
    return lower in _KUBERNETES_GROUPS or lower == _CLUSTER_POLICY_GROUP


def _kind_meant(kind: str, api_version: str) -> str | None:
    """The kind stockade reads that ``kind`` misspells, when ``api_version`` is of a group
    that serves it (any case). kubectl refuses such an object ("no matches for kind");
    skipped as another group's kind, it would be lost without a word: a deny-all policy
    spelt ``Networkpolicy`` would leave every pod open."""
    meant = _MISSPELT.get(kind.lower())
    if meant is None or meant == kind:
        return None
    return meant if _served_group(api_version.rpartition("/")[0]) else None


def decode_object(raw: RawObject) -> tuple[Decoded | None, list[FieldError]]:
    """One object of a modelled kind, decoded, with what decoding and validation found
    (``None`` for a kind or apiVersion stockade does not model). Unlike ``build_cluster``
    this keeps an object validation objects to: the caller decides (an agent enforces what
    the API server stored)."""
    versions = KNOWN_KINDS.get(raw.kind)
    if versions is None or raw.api_version not in versions:
        return None, []
    decoder = Decoder()
    obj = _decode(raw, decoder)
    return obj, _errors(obj, decoder)


def _errors(obj: Decoded, decoder: Decoder) -> list[FieldError]:
    """What decoding ``obj`` found, then what validating it finds: a field that failed to
    decode is reported once, not again by validation."""
    if not decoder.errors:
        return _validate(obj)
    undecodable = {e.path for e in decoder.errors}
    return decoder.errors + [e for e in _validate(obj) if e.path not in undecodable]


# What the API server appends to generateName: five characters of this alphabet (apimachinery's
# util/rand, no vowels nor 0, 1, 3), after at most 58 characters of generateName.
_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_SUFFIX_LENGTH, _MAX_GENERATED_BASE = 5, 58


def _suffix(number: int) -> str:
    digits = []
    for _ in range(_SUFFIX_LENGTH):
        number, digit = divmod(number, len(_SUFFIX_ALPHABET))
        digits.append(_SUFFIX_ALPHABET[digit])
    return "".join(reversed(digits))


def _generate_names(valid: dict[tuple[str, str, str] | int, Decoded | ClusterNetworkPolicy],
                    ) -> list[str]:
    """Name the objects that have only ``generateName`` as the API server would (the
    prefix and five characters), with suffixes counted up from ``bbbbb`` rather than drawn
    at random, so that every run names them alike and two pods of one prefix stay two.
    Returns a note listing them."""
    taken = {key for key in valid if isinstance(key, tuple)}
    named: list[str] = []
    for key, obj in list(valid.items()):
        if isinstance(key, tuple) or isinstance(obj, ClusterNetworkPolicy):
            continue
        meta = obj.metadata
        if meta.name or not meta.generate_name:
            continue
        kind = _key_kind(obj)
        ns = "" if isinstance(obj, _CLUSTER_SCOPED) else meta.namespace
        base, number = meta.generate_name[:_MAX_GENERATED_BASE], 0
        while (kind, ns, base + _suffix(number)) in taken:
            number += 1
        name = base + _suffix(number)
        taken.add((kind, ns, name))
        valid[key] = replace(obj, metadata=replace(meta, name=name))
        named.append(f"{kind} {f'{ns}/' if ns else ''}{name} ({obj.origin})")
    if not named:
        return []
    return [f"{counted(len(named), 'object')} with only metadata.generateName, named as the API "
            "server would name them, with suffixes stockade chose: " + ", ".join(named[:5])
            + (", ..." if len(named) > 5 else "")]


def _key_kind(obj: Decoded) -> str:
    """The kind an object is keyed by (a workload's own kind)."""
    return obj.kind_name if isinstance(obj, Workload) else type(obj).__name__


def build_cluster(raws: Iterable[RawObject | Checked], *, default_namespace: str = "default",
                  generate_names: bool = True) -> BuildResult:
    """Decode and validate every object; the ``Cluster`` holds the valid ones.

    An object defined twice (same kind, namespace and name) is taken from its later
    definition, as ``kubectl apply`` leaves it, with a warning naming both places; an invalid
    later definition leaves the earlier one in place, as the API server would refuse it.
    Objects with only ``generateName`` are given names (``kubectl create`` accepts them, and
    each is another object) unless ``generate_names`` is false. An object may come already
    checked (``check_object``, by the process that read it); the outcome is the same.
    """
    result = BuildResult(Cluster())
    valid: dict[tuple[str, str, str] | int, Decoded | ClusterNetworkPolicy] = {}
    finished: dict[tuple[str, str, str] | int, str] = {}  # pods in a terminal phase
    seen: dict[tuple[str, str, str], Origin] = {}
    skipped_kinds: dict[str, int] = {}

    for item in raws:
        if isinstance(item, Checked):
            checked = item
        else:
            raw = item
            if not decoded_here(raw):
                result.warnings.extend(raw.notes)
                _not_decoded(raw, result, valid, seen, skipped_kinds)
                continue
            checked = check_object(raw, default_namespace)
        kind, obj, errors, origin = checked.kind, checked.obj, checked.errors, checked.origin
        ns = "" if isinstance(obj, _CLUSTER_SCOPED) else obj.metadata.namespace
        ident = (kind, ns, obj.metadata.name)
        if obj.metadata.name:
            if ident in seen:
                outcome = ("the later definition is invalid, so the earlier one stays (the "
                           "API server would refuse the update)" if errors and ident in valid
                           else "the later definition wins, as with kubectl apply")
                result.warnings.append(
                    f"{kind} {f'{ns}/' if ns else ''}{obj.metadata.name} is defined more "
                    f"than once ({seen[ident]}, then {origin}): {outcome}")
            seen[ident] = origin
        result.warnings.extend(checked.warnings)
        if errors:
            result.findings.extend(Finding(origin, kind, ns, obj.metadata.name, e,
                                           generate_name=obj.metadata.generate_name)
                                   for e in errors)
            result.invalid_keys.add(f"{kind} {ns}/{obj.metadata.name}")
            continue
        key = ident if obj.metadata.name else len(valid)
        valid[key] = obj
        finished.pop(key, None)
        if checked.phase in TERMINAL_PHASES:
            finished[key] = checked.phase

    namespaces: dict[str, Namespace] = {}
    pods: list[Pod] = []
    policies: list[NetworkPolicy] = []
    services: list[Service] = []
    workloads: list[Workload] = []
    nodes: list[Node] = []
    cluster_policies: list[ClusterNetworkPolicy] = []
    if generate_names:
        result.notes.extend(_generate_names(valid))
    ended = {id(valid[k]) for k in finished}
    if ended:
        shown = sorted(f"{k[1]}/{k[2]}" if isinstance(k, tuple) else "(unnamed)"
                       for k in finished)
        result.notes.append(
            f"{counted(len(ended), 'pod')} in phase Succeeded or Failed not analysed (a "
            "finished pod has no network; its IP may belong to another pod already): "
            + ", ".join(shown[:5]) + (", ..." if len(shown) > 5 else ""))
    for kept in valid.values():
        if isinstance(kept, ClusterNetworkPolicy):
            cluster_policies.append(kept)
            continue
        obj = kept
        if isinstance(obj, Namespace):
            namespaces[obj.name] = obj
        elif isinstance(obj, Pod):
            if id(obj) in ended:
                result.finished.append(obj)
                continue
            pods.append(obj)
        elif isinstance(obj, NetworkPolicy):
            policies.append(obj)
        elif isinstance(obj, Service):
            services.append(obj)
        elif isinstance(obj, Node):
            nodes.append(obj)
            result.warnings.extend(_unusable_addresses(obj))
        else:
            workloads.append(obj)

    used = [p.namespace for p in pods] + [p.namespace for p in policies]
    used += [s.namespace for s in services] + [w.namespace for w in workloads]
    implied = sorted(set(used) - set(namespaces))
    for name in implied:
        namespaces[name] = Namespace(ObjectMeta(name), Origin("<implied>"), declared=False)
    if implied:
        result.warnings.append(
            f"{'namespace' if len(implied) == 1 else 'namespaces'} used but not declared, "
            "assumed to carry only the label kubernetes.io/metadata.name: "
            f"{', '.join(implied)}"
        )
    result.warnings.extend(_mixed_baselines(cluster_policies))
    for kind, number in sorted(skipped_kinds.items()):
        result.skipped.append(f"skipped {counted(number, 'object')} of kind {kind}: not modelled")

    result.cluster = Cluster(
        namespaces=tuple(sorted(namespaces.values(), key=lambda n: n.name)),
        pods=tuple(pods),
        policies=tuple(policies),
        services=tuple(services),
        workloads=tuple(workloads),
        nodes=tuple(nodes),
        cluster_policies=tuple(cluster_policies),
        finished_host_ips=tuple(dict.fromkeys(
            (p.spec.node_name, p.host_ips) for p in result.finished
            if p.spec.node_name and p.host_ips)),
    )
    return result


def _mixed_baselines(policies: list[ClusterNetworkPolicy]) -> list[str]:
    """Both API versions' baselines at once is outside either API: say how it is read."""
    banp = [p for p in policies if p.kind == "BaselineAdminNetworkPolicy"]
    cnp = [p for p in policies if p.kind == "ClusterNetworkPolicy" and p.tier == "Baseline"]
    if not (banp and cnp):
        return []
    return ["both a BaselineAdminNetworkPolicy (v1alpha1) and Baseline-tier "
            "ClusterNetworkPolicies (v1alpha2) are present; stockade evaluates the "
            "BaselineAdminNetworkPolicy after every Baseline ClusterNetworkPolicy"]
