"""The usual shapes of metadata and pod specs, decoded in one pass.

Almost every object is well formed and uses few fields: a name, a namespace, string labels;
a pod spec with containers (a name, an image, ports) and a node name. These functions
decode exactly that and nothing else: on any other field, type or shape they return
``None`` and the caller decodes the value with ``Decoder``, which reports what is wrong.
What they return equals what ``Decoder`` returns for the same value (without errors,
which such a value never has); ``tests/model/test_fast_paths.py`` compares the two.
"""

from __future__ import annotations

from typing import Any

from stockade.model.types import (
    Container,
    ContainerPort,
    LabelSelector,
    ObjectMeta,
    PodSpec,
    SecurityContext,
)

NO_SECURITY_CONTEXT = SecurityContext(run_as_user=None, run_as_group=None)
EMPTY_SELECTOR = LabelSelector(match_labels=(), match_expressions=())
_STR = {str}  # the types of a list or map that holds nothing but plain strings
_NO_MAP: dict[str, Any] = {}  # an absent map (never written to)
_NO_LIST: list[Any] = []  # an absent list (never written to)

# Fields these functions leave to ``Decoder``: present in few manifests.
_RARE_META = frozenset(["generateName", "ownerReferences", "annotations"])
_RARE_POD_SPEC = frozenset(["initContainers", "hostNetwork", "hostAliases", "hostname",
                            "subdomain", "setHostnameAsFQDN", "securityContext"])
_RARE_CONTAINER = frozenset(["command", "args", "volumeMounts", "env", "envFrom",
                             "workingDir", "securityContext", "restartPolicy"])


def only_strings(value: dict[Any, Any]) -> bool:
    """Whether a map's keys and values are all plain strings."""
    return {*map(type, value), *map(type, value.values())} <= _STR


def all_strings(values: list[Any]) -> bool:
    """Whether a list's items are all plain strings."""
    return {*map(type, values)} <= _STR


def plain_meta(meta: dict[str, Any]) -> ObjectMeta | None:
    """``metadata`` with at most a string name, namespace and string labels."""
    if not _RARE_META.isdisjoint(meta):
        return None
    name = meta.get("name", "")
    namespace = meta.get("namespace", "")
    labels = meta.get("labels", _NO_MAP)
    if (type(name) is not str or type(namespace) is not str or type(labels) is not dict
            or not only_strings(labels)):
        return None
    return ObjectMeta(name=name, namespace=namespace, labels=tuple(labels.items()))


def plain_selector(selector: dict[str, Any]) -> LabelSelector | None:
    """The empty selector, or one with nothing but string ``matchLabels``."""
    if not selector:
        return EMPTY_SELECTOR
    labels = selector.get("matchLabels")
    if len(selector) == 1 and type(labels) is dict and only_strings(labels):
        return LabelSelector(match_labels=tuple(labels.items()), match_expressions=())
    return None


def plain_pod_spec(spec: dict[str, Any]) -> PodSpec | None:
    """A pod spec with at most plain containers and a node name."""
    if not _RARE_POD_SPEC.isdisjoint(spec):
        return None
    items = spec.get("containers", _NO_LIST)
    node_name = spec.get("nodeName", "")
    if type(items) is not list or type(node_name) is not str:
        return None
    containers = []
    for item in items:
        container = _plain_container(item)
        if container is None:
            return None
        containers.append(container)
    return PodSpec(containers=tuple(containers), node_name=node_name,
                   security_context=NO_SECURITY_CONTEXT)


def _plain_container(container: object) -> Container | None:
    """A container with at most a name, an image and ports (a number, a protocol, a name)."""
    if type(container) is not dict or not _RARE_CONTAINER.isdisjoint(container):
        return None
    name = container.get("name", "")
    image = container.get("image", "")
    items = container.get("ports", _NO_LIST)
    if type(name) is not str or type(image) is not str or type(items) is not list:
        return None
    ports = []
    for item in items:
        if type(item) is not dict:
            return None
        number = item.get("containerPort")
        protocol = item.get("protocol", "")
        port_name = item.get("name", "")
        if type(number) is not int or type(protocol) is not str or type(port_name) is not str:
            return None
        ports.append(ContainerPort(container_port=number, protocol=protocol or "TCP",
                                   name=port_name))
    return Container(name=name, ports=tuple(ports), image=image,
                     security_context=NO_SECURITY_CONTEXT)
