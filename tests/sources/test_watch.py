"""List and watch through lightkube against the API server double (a double: no real API
server can run here; the client, its requests and its TLS are the real ones): events in
order, bookmarks asked for and followed, watches resumed where they stopped, a relist on
410 Gone, backoff while the server is away, and errors worded for people."""

from __future__ import annotations

import queue
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from watch_support import api_netns, config_for, double, drain, in_thread, pod, wait_for

from stockade.lab.apiserver import ApiServerDouble, Deny
from stockade.sources import cluster_kinds
from stockade.sources.watch import Backoff, Changed, Listed, Trouble, Watcher

__all__ = ["api_netns", "double"]  # fixtures
POD = next(k for k in cluster_kinds.NAMESPACED if k.kind == "Pod")

pytestmark = pytest.mark.lab


class Recorder:
    def __init__(self) -> None:
        self.events: queue.Queue[Any] = queue.Queue()
        self.seen: list[Any] = []

    def __call__(self, event: Any) -> None:
        self.events.put(event)

    def take(self) -> list[Any]:
        self.seen += drain(self.events)
        return self.seen


def _watcher(double: ApiServerDouble, tmp_path: Path, netns: str, recorder: Recorder,
             **kwargs: Any) -> Watcher:
    watcher = Watcher(config_for(double, "agent", tmp_path), POD, recorder,
                      backoff=Backoff(first=0.1, cap=0.5), **kwargs)
    in_thread(netns, watcher.run)
    return watcher


def _names(events: list[Any]) -> list[tuple[str, str]]:
    return [(e.action, e.object.data["metadata"]["name"]) for e in events
            if isinstance(e, Changed)]


def test_list_then_watch_in_order_with_bookmarks_and_resumption(
        double: ApiServerDouble, api_netns: str, tmp_path: Path) -> None:
    double.apply(pod("a", ip="10.0.0.1"))
    recorder = Recorder()
    # The server ends each watch after a second: the watcher must resume from where it was.
    watcher = _watcher(double, tmp_path, api_netns, recorder, watch_seconds=1)
    try:
        first = wait_for(lambda: [e for e in recorder.take() if isinstance(e, Listed)])[0]
        assert [o.data["metadata"]["name"] for o in first.objects] == ["a"]
        assert first.resource_version == str(double.store.revision)
        double.apply(pod("b", ip="10.0.0.2"))
        wait_for(lambda: ("ADDED", "b") in _names(recorder.take()))
        watches = wait_for(lambda: [q for q in (s.query for s in double.seen)
                                    if q.get("watch") == "true"][3:], what="three resumptions")
        assert all(q["allowWatchBookmarks"] == "true" for q in watches)
        versions = [int(q["resourceVersion"]) for q in watches]
        assert versions == sorted(versions) and versions[0] >= int(first.resource_version)
        double.apply(pod("b", labels={"x": "y"}, ip="10.0.0.2"))
        double.remove("Pod", "default", "a")
        wait_for(lambda: ("DELETED", "a") in _names(recorder.take()))
        assert _names(recorder.take()) == [("ADDED", "b"), ("MODIFIED", "b"), ("DELETED", "a")]
        assert watcher.stats.bookmarks > 0  # asked for, sent, and they moved the point on
        assert watcher.stats.relists == 0 and watcher.stats.failures == 0
        assert watcher.resource_version == str(double.store.revision)
    finally:
        watcher.close()


def test_gone_means_a_relist(double: ApiServerDouble, api_netns: str, tmp_path: Path) -> None:
    double.apply(pod("a", ip="10.0.0.1"))
    recorder = Recorder()
    watcher = _watcher(double, tmp_path, api_netns, recorder)
    try:
        wait_for(lambda: [e for e in recorder.take() if isinstance(e, Listed)])
        double.pause()  # the agent cannot reach the server ...
        double.remove("Pod", "default", "a")  # ... while objects change
        double.apply(pod("c", ip="10.0.0.3"))
        double.store.compact()  # and the history it would resume from is gone
        wait_for(lambda: [e for e in recorder.take() if isinstance(e, Trouble)])
        double.resume()
        relisted = wait_for(lambda: [e for e in recorder.take()
                                     if isinstance(e, Listed) and e.relist])[0]
        assert [o.data["metadata"]["name"] for o in relisted.objects] == ["c"]
        assert any(isinstance(e, Trouble) and e.gone and "410" in e.message
                   for e in recorder.take())
        assert watcher.stats.relists == 1
    finally:
        watcher.close()


def test_backoff_while_the_server_is_away(double: ApiServerDouble, api_netns: str,
                                          tmp_path: Path) -> None:
    recorder = Recorder()
    watcher = _watcher(double, tmp_path, api_netns, recorder)
    try:
        wait_for(lambda: [e for e in recorder.take() if isinstance(e, Listed)])
        double.pause()
        troubles = wait_for(lambda: [e for e in recorder.take() if isinstance(e, Trouble)][3:])
        waits = [t.retry_in for t in troubles]
        assert waits == sorted(waits) or max(waits) <= 0.6, waits
        assert "cannot reach the Kubernetes API server" in troubles[0].message
        double.apply(pod("late", ip="10.0.0.9"))
        double.resume()
        wait_for(lambda: ("ADDED", "late") in _names(recorder.take()),
                 what="the watch resumed after the server came back")
        assert watcher.stats.relists == 0  # resumed from its point, nothing lost
    finally:
        watcher.close()


def test_forbidden_is_named(double: ApiServerDouble, api_netns: str, tmp_path: Path) -> None:
    double.denies.append(Deny("list", "pods"))
    recorder = Recorder()
    watcher = _watcher(double, tmp_path, api_netns, recorder)
    try:
        trouble = wait_for(lambda: [e for e in recorder.take() if isinstance(e, Trouble)])[0]
        assert trouble.code == 403
        assert 'RBAC needs verb "list" on resource "pods"' in trouble.message
        assert not [e for e in recorder.take() if isinstance(e, Listed)]
    finally:
        watcher.close()


def test_a_kind_not_served_is_asked_for_again_later(double: ApiServerDouble, api_netns: str,
                                                    tmp_path: Path) -> None:
    """A CRD not installed: 404, and the next attempt only after ``not_served_delay`` (not
    the short backoff of a failure); once served, its list arrives."""
    anp = next(k for k in cluster_kinds.CLUSTER_POLICIES if k.kind == "AdminNetworkPolicy")
    double.not_served = frozenset({"AdminNetworkPolicy"})
    recorder = Recorder()
    watcher = Watcher(config_for(double, "agent", tmp_path), anp, recorder,
                      backoff=Backoff(first=0.1, cap=0.5), not_served_delay=1.5)
    in_thread(api_netns, watcher.run)
    try:
        trouble = wait_for(lambda: [e for e in recorder.take() if isinstance(e, Trouble)])[0]
        assert trouble.code == 404 and trouble.retry_in == 1.5
        double.not_served = frozenset()
        time.sleep(0.8)  # the short backoff would have tried again by now
        assert len([e for e in recorder.take() if isinstance(e, Trouble)]) == 1
        assert not [e for e in recorder.take() if isinstance(e, Listed)]
        wait_for(lambda: [e for e in recorder.take() if isinstance(e, Listed)])
    finally:
        watcher.close()


def test_close_cuts_a_waiting_watch(double: ApiServerDouble, api_netns: str,
                                    tmp_path: Path) -> None:
    recorder = Recorder()
    watcher = Watcher(config_for(double, "agent", tmp_path), POD, recorder)
    done = threading.Event()

    def run() -> None:
        watcher.run()
        done.set()

    in_thread(api_netns, run)
    wait_for(lambda: [s for s in double.seen if s.query.get("watch") == "true"])
    watcher.close()
    assert done.wait(10)


def test_a_silent_connection_is_cut_and_the_watch_resumes(
        double: ApiServerDouble, api_netns: str, tmp_path: Path) -> None:
    recorder = Recorder()
    watcher = _watcher(double, tmp_path, api_netns, recorder)
    try:
        wait_for(lambda: [e for e in recorder.take() if isinstance(e, Listed)])
        wait_for(lambda: [s for s in double.seen if s.query.get("watch") == "true"])
        double.stalled = True  # the connection stays open, nothing comes through
        time.sleep(0.5)  # (a loop already past the stall check finishes its round)
        double.apply(pod("during", ip="10.0.0.7"))
        time.sleep(0.5)
        assert ("ADDED", "during") not in _names(recorder.take())
        before = len([s for s in double.seen if s.query.get("watch") == "true"])
        watcher.cut()
        double.stalled = False
        wait_for(lambda: ("ADDED", "during") in _names(recorder.take()))
        assert len([s for s in double.seen if s.query.get("watch") == "true"]) > before
        assert watcher.stats.relists == 0
    finally:
        watcher.close()
