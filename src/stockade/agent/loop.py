"""The agent's loop: watch events in, one nftables transaction per batch out.

Decided behaviour (the README's "agent" section says the same):

- Before every kind has been listed completely once, nothing is loaded: the node's pods
  stay as the network plugin leaves them, and ``/readyz`` says why it is not ready.
- The first load replaces the table whole, in one transaction: a table left by an earlier
  agent keeps enforcing until the new one is in place, and established connections keep
  their conntrack entries, so a restart opens no window and cuts nothing allowed.
- Then every batch of events (whatever has arrived while the last one was applied)
  becomes one incremental transaction; if the kernel refuses it, the whole table is loaded
  again.
- When the API cannot be read the last state stays enforced (the table is never flushed);
  the watches retry with backoff and ``stockade_agent_api_reachable`` is 0.
- Every ``--resync`` the loaded table is read back and compared with the intended one;
  drift (elements deleted by hand, a chain emptied) is repaired by a whole-table load and
  counted in ``stockade_agent_resync_repairs_total``.
- On SIGTERM the table stays (policies stay enforced while the agent is upgraded), unless
  the agent was started with ``--remove-on-exit``.
- Cluster-wide policies are CRDs a cluster may not have: a kind the API does not serve
  (404) counts as listed and empty, is looked for again every few minutes, and neither
  keeps the agent unready nor counts as the API being unreachable. Every Node is watched
  (a cluster policy's ``nodes`` peer matches the addresses of the Nodes it selects).
"""

from __future__ import annotations

import ipaddress
import queue
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from stockade.agent import bridge
from stockade.agent.health import Health, serve
from stockade.agent.log import Log
from stockade.agent.metrics import Metrics
from stockade.agent.objects import CLUSTER_KINDS, KINDS, Objects, key_of
from stockade.engine.node_rules import NodeRules, Touched
from stockade.errors import CommandFailed, EnvironmentProblem
from stockade.model.build import RawObject
from stockade.model.netparse import IPNetwork
from stockade.nft.apply import NftRunner
from stockade.nft.listing import differences, from_json, from_table
from stockade.nft.names import DEFAULT_TABLE
from stockade.nft.node import NodeTable
from stockade.nft.render import render_replace
from stockade.nft.transaction import Transaction
from stockade.sources import cluster_kinds
from stockade.sources.cluster_config import ClusterConfig
from stockade.sources.watch import (
    WATCH_SECONDS,
    Event,
    Listed,
    Recovered,
    Trouble,
    Watcher,
)

KIND_OF = {k.kind: k for k in (cluster_kinds.NAMESPACE, cluster_kinds.NODE,
                               *cluster_kinds.NAMESPACED, *cluster_kinds.CLUSTER_POLICIES)
           if k.kind in KINDS}
RETRY_SECONDS = 5.0  # a failed whole-table load is tried again this soon
SILENCE_SECONDS = 60.0  # past the server's own end of a watch: the connection is dead
BATCH_LIMIT = 5000  # events taken into one transaction at most


@dataclass(frozen=True, slots=True)
class AgentOptions:
    node: str
    table: str = DEFAULT_TABLE
    metrics_address: tuple[str, int] | None = ("", 9753)
    resync_seconds: float = 600.0
    hold_unknown: bool = False
    pod_cidrs: tuple[str, ...] = ()  # for hold_unknown; else the Node's spec.podCIDRs
    remove_on_exit: bool = False
    watch_seconds: int = WATCH_SECONDS
    check_bridge: bool = True


@dataclass(slots=True)
class _Trouble:
    since: float
    message: str
    code: int | None
    count: int = 1


@dataclass
class Agent:
    options: AgentOptions
    config: ClusterConfig
    log: Log = field(default_factory=Log)
    runner: NftRunner = field(default_factory=NftRunner)
    metrics: Metrics = field(default_factory=Metrics)
    health: Health = field(default_factory=Health)

    def __post_init__(self) -> None:
        self.events: queue.Queue[Event] = queue.Queue()
        self.rules = NodeRules(self.options.node)
        self.objects = Objects(self.rules)
        self.table = NodeTable(self.options.node, table=self.options.table)
        self.pending: dict[str, dict[str, RawObject]] = {}  # before the first sync
        self.versions: dict[str, str] = {}  # kind -> the last resourceVersion taken in
        self.listed: set[str] = set()
        self.synced = False
        self.dirty = False  # the kernel may not hold what the table says: load it whole
        self.troubles: dict[str, _Trouble] = {}
        self.bridge_problem = ""
        self.watchers: list[Watcher] = []
        self._next_resync = 0.0
        self._retry_at = 0.0
        self._server: Any = None

    # --- running ---------------------------------------------------------------------------

    def start(self) -> None:
        """The endpoints and the watches; the loop is ``run``."""
        if self.options.metrics_address is not None:
            self._server = serve(self.options.metrics_address, self.health,
                                 self.metrics.registry)
        for kind in KINDS:
            watcher = Watcher(self.config, KIND_OF[kind], self.events.put,
                              watch_seconds=self.options.watch_seconds)
            self.watchers.append(watcher)
            threading.Thread(target=watcher.run, name=f"watch-{kind}", daemon=True).start()
        self.metrics.api_reachable.set(1)
        self.log.info("agent started", node=self.options.node, table=self.options.table,
                      server=self.config.server,
                      hold_unknown=self.options.hold_unknown)

    def run(self, stop: threading.Event) -> None:
        self.start()
        try:
            while not stop.is_set():
                self.health.tick()
                try:
                    first = self.events.get(timeout=0.5)
                except queue.Empty:
                    self._idle()
                    continue
                batch = [first]
                while len(batch) < BATCH_LIMIT:
                    try:
                        batch.append(self.events.get_nowait())
                    except queue.Empty:
                        break
                self.handle(batch)
                self._idle()
        finally:
            self.shutdown()

    def shutdown(self) -> None:
        for watcher in self.watchers:
            watcher.close()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self.options.remove_on_exit:
            removed = self.runner.delete_table(self.options.table)
            self.log.info("table removed" if removed else "no table to remove",
                          table=self.options.table)
        else:
            self.log.info("agent stopped; the table stays loaded", table=self.options.table)

    def _idle(self) -> None:
        now = time.monotonic()
        for watcher in self.watchers:
            silent = now - watcher.last_activity
            if silent > self.options.watch_seconds + SILENCE_SECONDS:
                self.log.warning("a watch has been silent too long; reconnecting",
                                 kind=watcher.kind.kind, silent_seconds=round(silent))
                watcher.cut()
        if self.synced and self.dirty and now >= self._retry_at:
            self._load_whole("retry")
        if not self.synced and self.dirty and now >= self._retry_at:
            self._first_sync([])  # the first load failed: again, over what is listed
        if self.synced and self.options.resync_seconds and now >= self._next_resync:
            self.resync()

    # --- events ----------------------------------------------------------------------------

    def handle(self, batch: Sequence[Event]) -> None:
        """Take a batch of events; once synced, one transaction for all of them."""
        touched = Touched()
        received: list[tuple[str, float]] = []
        seen: Counter[str] = Counter()
        versions: dict[str, str] = {}
        for event in batch:
            if isinstance(event, Trouble):
                self._trouble(event)
                continue
            kind = event.kind.kind
            self._healthy(kind)
            if isinstance(event, Recovered):
                continue
            if isinstance(event, Listed):
                seen[f"{kind} listed"] += 1
                if kind in self.listed:
                    self.metrics.relists.labels(kind).inc()
                self.listed.add(kind)
                if self.synced:
                    touched.merge(self.objects.relisted(kind, event.objects))
                else:
                    self.pending[kind] = {key_of(r): r for r in event.objects}
            else:
                seen[f"{kind} {event.action.lower()}"] += 1
                self.metrics.watch_events.labels(kind).inc()
                if self.synced:
                    touched.merge(self.objects.changed(kind, event.action, event.object))
                else:
                    found = self.pending.setdefault(kind, {})
                    if event.action == "DELETED":
                        found.pop(key_of(event.object), None)
                    else:
                        found[key_of(event.object)] = event.object
            received.append((kind, event.received))
            versions[kind] = event.resource_version
        for problem in self.objects.take_problems():
            self.log.warning("object enforced as stored, though stockade's validation "
                             "objects to it", problem=problem)
        if not self.synced:
            self.versions.update(versions)
            if self.listed >= set(KINDS):
                self._first_sync(received)
            else:
                self._readiness()
            return
        if touched or self.dirty:
            self._apply(touched, received, dict(seen))
        self.versions.update(versions)
        if not self.dirty:
            self._versions()
        self._counts()

    def _first_sync(self, received: list[tuple[str, float]]) -> None:
        started = time.monotonic()
        # What was listed stays pending until it is in the kernel: a failed load is tried
        # again over it (and over whatever arrived meanwhile).
        self.objects.load({k: list(v.values()) for k, v in self.pending.items()})
        for problem in self.objects.take_problems():
            self.log.warning("object enforced as stored, though stockade's validation "
                             "objects to it", problem=problem)
        self.table = NodeTable(self.options.node, table=self.options.table,
                               hold=self._hold())
        tx = self.table.load(self.rules)
        compiled = time.monotonic() - started
        if not self._run(tx, "full"):
            self.dirty = True
            self._retry_at = time.monotonic() + RETRY_SECONDS
            self._readiness()
            return
        self.synced = True
        self.dirty = False
        self.pending = {}
        self.metrics.synced.set(1)
        done = time.monotonic()
        for kind, at in received:
            self.metrics.event_to_kernel.labels(kind).observe(done - at)
        self._next_resync = done + self.options.resync_seconds
        self._check_bridge()
        self._sizes()
        self._counts()
        self._versions()
        self._readiness()
        sizes = self.table.sizes()
        self.log.info("first sync loaded", pods=len(self.rules.pods),
                      local_pods=len(self.rules.local), policies=len(self.rules.policies),
                      cluster_policies=len(self.rules.cluster_policies),
                      rules=sizes.rules, elements=sizes.elements, groups=sizes.groups,
                      compile_seconds=round(compiled, 4),
                      seconds=round(done - started, 4))

    def _hold(self) -> tuple[IPNetwork, ...]:
        """The node's pod networks whose unknown addresses are held (``--hold-unknown``)."""
        if not self.options.hold_unknown:
            return ()
        texts = self.options.pod_cidrs
        if not texts:
            node = self.rules.nodes.get(self.options.node)
            texts = node.pod_cidrs if node is not None else ()
        networks = []
        for text in texts:
            try:
                networks.append(ipaddress.ip_network(text, strict=False))
            except ValueError:
                self.log.error("not a CIDR; ignored", pod_cidr=text)
        if not networks:
            self.log.error("--hold-unknown: no pod CIDR for this node (give --pod-cidr, or "
                           "let the agent read the Node's spec.podCIDRs); holding nothing")
        return tuple(networks)

    def _apply(self, touched: Touched, received: list[tuple[str, float]],
               seen: dict[str, int]) -> None:
        started = time.monotonic()
        hold = self._hold() if touched.node and self.options.hold_unknown else self.table.hold
        if hold != self.table.hold:
            self.table = NodeTable(self.options.node, table=self.options.table, hold=hold)
            self.dirty = True
        added = deleted = 0
        compiled = 0.0
        if self.dirty:
            self._load_whole("pod CIDR changed" if touched.node else "after a failure")
        else:
            tx = self.table.update(self.rules, touched)
            compiled = time.monotonic() - started
            if tx and not self._run(tx, "incremental"):
                self._load_whole("the kernel refused the incremental transaction")
            added, deleted = tx.added, tx.deleted
            self.metrics.elements_changed.labels("added").inc(added)
            self.metrics.elements_changed.labels("deleted").inc(deleted)
        done = time.monotonic()
        for kind, at in received:
            self.metrics.event_to_kernel.labels(kind).observe(done - at)
        self._sizes()
        self.log.info("update", events=seen, local_pods_touched=len(touched.subjects),
                      pods_touched=len(touched.peers), elements_added=added,
                      elements_deleted=deleted, compile_seconds=round(compiled, 4),
                      seconds=round(done - started, 4))

    def _load_whole(self, why: str) -> None:
        tx = self.table.load(self.rules)
        if self._run(tx, "full"):
            self.dirty = False
            self.log.warning("whole table loaded again", reason=why,
                             elements=tx.added)
        else:
            self.dirty = True
            self._retry_at = time.monotonic() + RETRY_SECONDS
        self._readiness()

    def _run(self, tx: Transaction, kind: str) -> bool:
        started = time.monotonic()
        try:
            self.runner.run(tx.render())
        except (CommandFailed, EnvironmentProblem) as exc:
            self.metrics.transaction_failures.labels(kind).inc()
            self.log.error("nft transaction failed", type=kind, error=str(exc)[:2000])
            return False
        finally:
            self.metrics.transaction_seconds.labels(kind).observe(time.monotonic() - started)
        return True

    # --- trouble and health ----------------------------------------------------------------

    def _trouble(self, event: Trouble) -> None:
        kind = event.kind.kind
        self.metrics.watch_restarts.labels(kind).inc()
        if kind in CLUSTER_KINDS and event.code == 404:
            # The CRD is not installed: no such policies. Looked for again later.
            if kind not in self.listed:
                self.log.warning("the API does not serve this kind (its CRD is not "
                                 "installed): enforcing without it", kind=kind,
                                 retry_in=round(event.retry_in, 2))
                self.listed.add(kind)
                self.pending.setdefault(kind, {})
            self._readiness()
            return
        known = self.troubles.get(kind)
        if known is None or known.message != event.message:
            self.troubles[kind] = _Trouble(time.monotonic(), event.message, event.code)
            log = self.log.info if event.gone else self.log.error
            log("cannot read the API" if not event.gone else "watch resumed from too far back",
                kind=kind, error=event.message, retry_in=round(event.retry_in, 2),
                enforcing="the last known state" if self.synced else "nothing yet")
        else:
            known.count += 1
        if kind == "Node" and event.code == 403 and kind not in self.listed:
            # Nodes only add addresses: go on without them, as the reader does.
            self.log.warning("cannot read Nodes: this node's addresses are then only those "
                             "its pods report, and cluster policies' nodes peers match no "
                             "address", node=self.options.node)
            self.listed.add(kind)
            self.pending.setdefault(kind, {})
        if not event.gone:
            self.metrics.api_reachable.set(0)
        self._readiness()

    def _healthy(self, kind: str) -> None:
        gone = self.troubles.pop(kind, None)
        if gone is not None:
            self.log.info("API readable again", kind=kind,
                          after_seconds=round(time.monotonic() - gone.since, 2))
        if not self.troubles:
            self.metrics.api_reachable.set(1)

    def _readiness(self) -> None:
        reasons = []
        if not self.synced:
            missing = sorted(set(KINDS) - self.listed)
            reasons.append("not synced yet: waiting for the first complete list of "
                           + ", ".join(missing) if missing else
                           "not synced yet: the table could not be loaded")
            reasons += [f"{k}: {t.message}" for k, t in sorted(self.troubles.items())]
        elif self.dirty:
            reasons.append("the kernel refused the table; retrying")
        if self.bridge_problem:
            reasons.append(self.bridge_problem)
        self.health.set_ready(reasons)

    def _check_bridge(self) -> None:
        if not self.options.check_bridge:
            return
        state = bridge.check()
        for family, on in state.on.items():
            self.metrics.bridge_nf_call.labels(str(family)).set(1 if on else 0)
        if state.problem != self.bridge_problem:
            if state.problem:
                self.log.error("bridged pod traffic bypasses the ruleset",
                               problem=state.problem)
            self.bridge_problem = state.problem

    def _sizes(self) -> None:
        sizes = self.table.sizes()
        self.metrics.ruleset_rules.set(sizes.rules)
        self.metrics.ruleset_elements.set(sizes.elements)
        self.metrics.ruleset_groups.set(sizes.groups)

    def _versions(self) -> None:
        for kind, version in self.versions.items():
            if version.isdigit():
                self.metrics.applied_version.labels(kind).set(int(version))

    def _counts(self) -> None:
        for kind, number in self.objects.counts().items():
            self.metrics.objects.labels(kind).set(number)
        self.metrics.local_pods.set(len(self.rules.local))

    # --- resync ----------------------------------------------------------------------------

    def resync(self) -> list[str]:
        """Compare the loaded table with the intended one; load it whole when they differ.
        Returns the differences found."""
        self._next_resync = time.monotonic() + self.options.resync_seconds
        self.metrics.resyncs.inc()
        self._check_bridge()
        self._readiness()
        try:
            listing = self.runner.list_table(self.options.table)
        except CommandFailed as exc:
            self.log.error("cannot read the loaded table", error=str(exc))
            return []
        want = self.table.table()
        found = (["the table is missing"] if listing is None
                 else differences(from_table(want), from_json(listing)))
        if found:
            self.metrics.repairs.inc()
            self.log.warning("the loaded table drifted from the intended one; loading it "
                             "whole", differences=found[:20],
                             more=max(0, len(found) - 20))
            tx = Transaction(self.options.table, replace=render_replace(want),
                             added=want.element_count)
            if not self._run(tx, "full"):
                self.dirty = True
                self._retry_at = time.monotonic() + RETRY_SECONDS
        else:
            self.log.debug("resync: the loaded table is as intended",
                           elements=want.element_count)
        return found
