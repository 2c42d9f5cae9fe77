"""Read Namespaces, Nodes, Pods, NetworkPolicies, Services, workloads and the cluster-wide
policies (when their CRDs are installed) from a live cluster.

Read-only (list and get, nothing else) through lightkube, with kubectl's kubeconfig rules
(``cluster_config``), paginated lists (``limit``/``continue``), and objects returned as plain
dicts in manifest shape (``cluster_clean``), so the rest of stockade cannot tell a cluster from
a directory of YAML. lightkube's generic resources keep the server's JSON as it was sent
instead of converting it through typed models that could drop or reshape fields.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import httpx2
from lightkube import Client
from lightkube.core.exceptions import ConfigError
from lightkube.core.resource import ApiInfo, ResourceDef
from lightkube.generic_resource import GenericGlobalResource, GenericNamespacedResource

from stockade.errors import InputError
from stockade.model.build import RawObject
from stockade.model.types import Origin
from stockade.sources import cluster_kinds
from stockade.sources.cluster_clean import clean_object
from stockade.sources.cluster_config import (
    SERVICE_ACCOUNT_DIR,
    ClusterConfig,
    load_cluster_config,
)
from stockade.sources.cluster_errors import (
    Request,
    Where,
    credentials_error,
    forbidden_text,
    is_forbidden,
    status_code,
    translate,
)
from stockade.sources.cluster_kinds import ResourceKind

# kubectl's page size: big enough for few round trips, small enough for the API server.
DEFAULT_CHUNK_SIZE = 500
DEFAULT_TIMEOUT = 30.0

Warn = Callable[[str], None]

_ALL_NAMESPACES = "*"  # lightkube's marker for a list across every namespace
_VERBS = ["get", "list", "global_list"]  # all stockade ever asks for


def _stderr_warning(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


def _resource_class(kind: ResourceKind) -> type[Any]:
    """A lightkube generic resource for ``kind``, made locally: lightkube's registry is
    global, and registering core kinds there could clash with code using typed models."""
    base: type[Any] = GenericNamespacedResource if kind.namespaced else GenericGlobalResource
    info = ApiInfo(resource=ResourceDef(kind.group, kind.version, kind.kind),
                   plural=kind.plural, verbs=list(_VERBS))
    return type(kind.kind, (base,), {"_api_info": info})


_CLASSES: dict[ResourceKind, type[Any]] = {k: _resource_class(k) for k in cluster_kinds.ALL}


class ClusterSource:
    """One cluster to read; ``read`` lists every kind stockade models, in manifest shape."""

    def __init__(self, config: ClusterConfig, *, chunk_size: int = DEFAULT_CHUNK_SIZE,
                 timeout: float = DEFAULT_TIMEOUT, warn: Warn | None = None) -> None:
        self.config = config
        self.chunk_size = chunk_size
        self.timeout = timeout
        self.warnings: list[str] = []
        self.notes: list[str] = []
        self._warn = warn or _stderr_warning
        self._where = Where(config.label, config.server)
        self._origin = Origin(config.origin_name)

    @classmethod
    def from_kubeconfig(cls, *, kubeconfig: str | None = None, context: str | None = None,
                        environ: Mapping[str, str] | None = None,
                        service_account_dir: str = SERVICE_ACCOUNT_DIR,
                        chunk_size: int = DEFAULT_CHUNK_SIZE,
                        timeout: float = DEFAULT_TIMEOUT,
                        warn: Warn | None = None) -> ClusterSource:
        """The cluster kubectl would talk to with these flags (see ``load_cluster_config``)."""
        config = load_cluster_config(kubeconfig=kubeconfig, context=context, environ=environ,
                                     service_account_dir=service_account_dir)
        return cls(config, chunk_size=chunk_size, timeout=timeout, warn=warn)

    @property
    def description(self) -> str:
        return f"{self.config.label} ({self.config.server})"

    def read(self, *, namespace: str | None = None) -> list[RawObject]:
        """Every modelled object in ``namespace``, or in the whole cluster when None."""
        objects: list[RawObject] = []
        with self._client() as client:
            objects.extend(self._namespaces(client, namespace))
            objects.extend(self._nodes(client))
            for kind in cluster_kinds.NAMESPACED:
                request = Request("list", kind, namespace)
                objects.extend(self._list(client, request))
            missing: list[ResourceKind] = []
            for kind in cluster_kinds.CLUSTER_POLICIES:
                objects.extend(self._optional(client, Request("list", kind), missing))
        if missing:
            names = ", ".join(f"{k.plural}.{k.group}/{k.version}" for k in missing)
            note = (f"{self.config.label}: no cluster-wide policies of these kinds: the "
                    f"server does not serve {names} (their CRDs are not installed)")
            self.notes.append(note)
            print(f"note: {note}", file=sys.stderr)
        return objects

    def _client(self) -> Client:
        try:
            return Client(self.config.single, timeout=httpx2.Timeout(self.timeout))
        except ConfigError as exc:
            raise InputError(f"{self.config.label}: {exc}") from exc
        except OSError as exc:  # ssl.SSLError too: unreadable or mismatched cert/key/CA
            raise credentials_error(exc, self._where) from exc

    def _warn_once(self, message: str) -> None:
        self.warnings.append(message)
        self._warn(message)

    def _namespaces(self, client: Client, namespace: str | None) -> Iterable[RawObject]:
        """The Namespace objects; when RBAC forbids them, a warning and none (labels unknown)."""
        kind = cluster_kinds.NAMESPACE
        if namespace is None:
            request = Request("list", kind)
        else:
            request = Request("get", kind, namespace, name=namespace)
        try:
            if request.verb == "list":
                return self._fetch(client, request)
            obj = client.get(_CLASSES[kind], name=request.name or "")
            return [self._raw(obj, kind)]
        except (httpx2.HTTPError, ConfigError, OSError) as exc:
            if is_forbidden(exc):
                which = f'namespace "{namespace}"' if namespace else "the namespaces"
                self._warn_once(
                    f"{self.config.label}: {forbidden_text(request)}; continuing without it: "
                    f"the labels of {which} are unknown, so namespaceSelectors see only "
                    "kubernetes.io/metadata.name"
                )
                return []
            if status_code(exc) == 404 and namespace is not None:
                raise InputError(f'namespace "{namespace}" not found in {self.description}') \
                    from exc
            raise translate(exc, request, self._where) from exc

    def _optional(self, client: Client, request: Request,
                  missing: list[ResourceKind]) -> Iterable[RawObject]:
        """A CRD kind: none when the server does not serve it (added to ``missing``)."""
        try:
            return self._fetch(client, request)
        except (httpx2.HTTPError, ConfigError, OSError) as exc:
            if status_code(exc) == 404:
                missing.append(request.resource)
                return []
            raise translate(exc, request, self._where) from exc

    def _nodes(self, client: Client) -> Iterable[RawObject]:
        """The Node objects, for their addresses; when RBAC forbids them, a warning and none
        (also with ``-n``: a pod's node is outside any namespace)."""
        request = Request("list", cluster_kinds.NODE)
        try:
            return self._fetch(client, request)
        except (httpx2.HTTPError, ConfigError, OSError) as exc:
            if is_forbidden(exc):
                self._warn_once(
                    f"{self.config.label}: {forbidden_text(request)}; continuing without "
                    "them: a node's addresses are then only its pods' status.hostIPs and "
                    "its host-network pods' IPs, so traffic between a pod and another "
                    "address of its node (an ExternalIP) is judged by the policies"
                )
                return []
            raise translate(exc, request, self._where) from exc

    def _list(self, client: Client, request: Request) -> Iterable[RawObject]:
        try:
            return self._fetch(client, request)
        except (httpx2.HTTPError, ConfigError, OSError) as exc:
            raise translate(exc, request, self._where) from exc

    def _fetch(self, client: Client, request: Request) -> list[RawObject]:
        """Every page of one list; lightkube follows ``continue`` while we iterate."""
        kind = request.resource
        if kind.namespaced:
            scope = request.namespace or _ALL_NAMESPACES
            items = client.list(_CLASSES[kind], namespace=scope, chunk_size=self.chunk_size)
        else:
            items = client.list(_CLASSES[kind], chunk_size=self.chunk_size)
        return [self._raw(item, kind) for item in items]

    def _raw(self, obj: Mapping[str, Any], kind: ResourceKind) -> RawObject:
        data = clean_object(obj, api_version=kind.api_version, kind=kind.kind)
        return RawObject(data, self._origin)
