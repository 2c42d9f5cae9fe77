"""Follow a live cluster's objects as they change: list, then watch, through lightkube.

What client-go's reflector does, one ``Watcher`` per kind: list every object (in pages)
and keep the list's ``resourceVersion``; watch from it, asking for bookmarks
(``allowWatchBookmarks``), every event and bookmark moving the resume point on; when the
server ends a watch (``timeoutSeconds``) lightkube watches again from that point; when the
point is gone (``410 Gone``: compacted away) list again; on any other failure wait, longer
each time (exponential backoff with jitter, capped), and resume; a kind the server does
not serve (404: a CRD not installed) is looked for again only every few minutes. A list is
delivered whole (``Listed``), so the consumer can drop what disappeared while nobody was
watching.
Objects arrive in manifest shape (``cluster_clean``), as the live reader gives them.

lightkube's ``Client.watch`` cannot ask for bookmarks, so the request is prepared with
its generic client, whose watch driver then does the streaming, decoding and resuming.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx2
from lightkube import Client
from lightkube.core.exceptions import ConfigError
from lightkube.core.resource import ApiInfo, ResourceDef
from lightkube.generic_resource import GenericGlobalResource, GenericNamespacedResource
from lightkube.types import OnErrorAction, OnErrorResult

from stockade.errors import StockadeError
from stockade.model.build import RawObject
from stockade.model.types import Origin
from stockade.sources.cluster_clean import clean_object
from stockade.sources.cluster_config import ClusterConfig
from stockade.sources.cluster_errors import Request, Where, status_code, translate
from stockade.sources.cluster_kinds import ResourceKind

CHUNK_SIZE = 500
WATCH_SECONDS = 300  # the server ends each watch after this long (client-go: 5-10 min)
FIRST_DELAY, MAX_DELAY = 0.5, 30.0  # backoff between failed attempts
NOT_SERVED_DELAY = 300.0  # a kind the server does not serve (404): an uninstalled CRD
CONNECT_TIMEOUT = 10.0
_ALL = "*"
_VERBS = ["get", "list", "global_list", "watch", "global_watch"]


def _resource_class(kind: ResourceKind) -> type[Any]:
    base: type[Any] = GenericNamespacedResource if kind.namespaced else GenericGlobalResource
    info = ApiInfo(resource=ResourceDef(kind.group, kind.version, kind.kind),
                   plural=kind.plural, verbs=list(_VERBS))
    return type(kind.kind, (base,), {"_api_info": info})


@dataclass(frozen=True, slots=True)
class Listed:
    """Every object of ``kind`` at ``resource_version`` (a first list, or a relist)."""

    kind: ResourceKind
    objects: tuple[RawObject, ...]
    resource_version: str
    relist: bool
    received: float  # time.monotonic() when the list was complete


@dataclass(frozen=True, slots=True)
class Changed:
    """One watch event: ``action`` is ADDED, MODIFIED or DELETED (the last state)."""

    kind: ResourceKind
    action: str
    object: RawObject
    resource_version: str
    received: float


@dataclass(frozen=True, slots=True)
class Trouble:
    """A failed list or watch, and when it is tried again. ``gone``: the resume point was
    compacted away (a relist follows); ``code``: the HTTP status, when there was one."""

    kind: ResourceKind
    message: str
    attempt: int
    retry_in: float
    code: int | None = None
    gone: bool = False


@dataclass(frozen=True, slots=True)
class Recovered:
    """A watch that had failed works again (a bookmark or an event came through)."""

    kind: ResourceKind


Event = Listed | Changed | Trouble | Recovered
Sink = Callable[[Event], None]


@dataclass(slots=True)
class Backoff:
    """Waits between attempts: doubling from ``first`` up to ``cap``, each jittered by up
    to a fifth either way so that agents restarted together do not retry together."""

    first: float = FIRST_DELAY
    cap: float = MAX_DELAY
    attempt: int = 0
    rng: random.Random = field(default_factory=random.Random)

    def next(self) -> float:
        self.attempt += 1
        base = min(self.cap, self.first * 2 ** (self.attempt - 1))
        return float(base * self.rng.uniform(0.8, 1.2))

    def reset(self) -> None:
        self.attempt = 0


@dataclass(slots=True)
class WatchStats:
    """What a watcher has been through, for metrics."""

    lists: int = 0
    relists: int = 0
    watches: int = 0  # watch requests started (the first one and every resumption)
    failures: int = 0
    bookmarks: int = 0
    events: int = 0


class Watcher:
    """Lists and watches one kind (in every namespace) until ``stop`` is set."""

    def __init__(self, config: ClusterConfig, kind: ResourceKind, sink: Sink, *,
                 fields: Mapping[str, str] | None = None, watch_seconds: int = WATCH_SECONDS,
                 backoff: Backoff | None = None, stop: threading.Event | None = None,
                 chunk_size: int = CHUNK_SIZE,
                 not_served_delay: float = NOT_SERVED_DELAY) -> None:
        self.config = config
        self.kind = kind
        self.sink = sink
        self.fields = dict(fields or {})  # a field selector, such as metadata.name
        self.watch_seconds = watch_seconds
        self.backoff = backoff or Backoff()
        self.stop = stop or threading.Event()
        self.chunk_size = chunk_size
        self.not_served_delay = not_served_delay
        self.stats = WatchStats()
        self.resource_version = ""
        self.last_activity = time.monotonic()  # a list, an event or a bookmark
        self._class = _resource_class(kind)
        self._where = Where(config.label, config.server)
        self._origin = Origin(config.origin_name)
        self._client: Client | None = None
        self._lock = threading.Lock()

    # --- the loop --------------------------------------------------------------------------

    def run(self) -> None:
        """List, watch, resume, relist; every outcome goes to the sink. Returns on stop."""
        listed = False
        while not self.stop.is_set():
            try:
                if not listed or not self.resource_version:
                    self._list(relist=listed)
                    listed = True
                self._watch()
            except Exception as exc:  # every failure is reported and retried
                if self.stop.is_set():
                    break
                self._trouble(exc)
            finally:
                self._close()

    def close(self) -> None:
        """Stop, and cut the connection a watch may be waiting on."""
        self.stop.set()
        self._close()

    def cut(self) -> None:
        """Cut the connection a watch is waiting on, so that it resumes on a new one (a
        connection that went silent without closing: the server would have sent a
        bookmark, or ended the watch)."""
        self.last_activity = time.monotonic()
        self._close()

    def _connect(self) -> Client:
        with self._lock:
            if self._client is None:
                self._client = Client(self.config.single, trust_env=False,
                                      timeout=httpx2.Timeout(CONNECT_TIMEOUT))
            return self._client

    def _close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    def _raw(self, obj: Mapping[str, Any]) -> RawObject:
        return RawObject(clean_object(obj, api_version=self.kind.api_version,
                                      kind=self.kind.kind), self._origin)

    def _list(self, *, relist: bool) -> None:
        client = self._connect()
        fields: dict[str, Any] | None = dict(self.fields) or None
        if self.kind.namespaced:
            items = client.list(self._class, namespace=_ALL, chunk_size=self.chunk_size,
                                fields=fields)
        else:
            items = client.list(self._class, chunk_size=self.chunk_size, fields=fields)
        objects = tuple(self._raw(o) for o in items)
        self.resource_version = items.resourceVersion
        self.last_activity = time.monotonic()
        self.stats.lists += 1
        if relist:
            self.stats.relists += 1
        self.backoff.reset()
        self.sink(Listed(self.kind, objects, self.resource_version, relist, time.monotonic()))

    def _watch(self) -> None:
        client = self._connect()
        params: dict[str, Any] = {"allowWatchBookmarks": "true",
                                  "timeoutSeconds": self.watch_seconds,
                                  "resourceVersion": self.resource_version}
        if self.fields:
            params["fieldSelector"] = ",".join(f"{k}={v}" for k, v in self.fields.items())
        generic = client._client  # lightkube's generic client: see the module docstring
        request = generic.prepare_request("list", res=self._class,
                                          namespace=_ALL if self.kind.namespaced else None,
                                          watch=True, params=params)
        self.stats.watches += 1
        for action, obj in generic.watch(request, on_error=_raise):
            if self.stop.is_set():
                return
            self.last_activity = time.monotonic()
            version = obj.get("metadata", {}).get("resourceVersion") or ""
            if version:
                self.resource_version = version
            if self.backoff.attempt:
                self.backoff.reset()
                self.sink(Recovered(self.kind))
            if action == "BOOKMARK":
                self.stats.bookmarks += 1
                continue
            self.stats.events += 1
            self.sink(Changed(self.kind, action, self._raw(obj), self.resource_version,
                              time.monotonic()))

    def _trouble(self, exc: BaseException) -> None:
        self.stats.failures += 1
        code = status_code(exc)
        gone = code == 410
        if gone:
            self.resource_version = ""  # list again
        wait = 0.0 if gone and self.backoff.attempt == 0 else self.backoff.next()
        if code == 404:
            wait = max(wait, self.not_served_delay)
        self.sink(Trouble(self.kind, _describe(exc, self.kind, self._where), self.backoff.attempt,
                          wait, code, gone))
        self.stop.wait(wait)


def _raise(_exc: Exception, _count: int) -> OnErrorResult:
    return OnErrorResult(OnErrorAction.RAISE)


def _describe(exc: BaseException, kind: ResourceKind, where: Where) -> str:
    if isinstance(exc, StockadeError):
        return str(exc)
    if isinstance(exc, httpx2.HTTPError | ConfigError | OSError):
        code = status_code(exc)
        if code == 410:
            return (f"watching {kind.qualified}: the resume point is too old (410 Gone); "
                    "listing again")
        return str(translate(exc, Request("list", kind), where))
    return f"watching {kind.qualified}: {type(exc).__name__}: {exc}"
