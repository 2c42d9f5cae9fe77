"""An API server double (``stockade.lab.apiserver``: no real API server can run on this
machine) listening inside a network namespace of the test's own, and a way to run code in
that namespace's threads, as the agent runs inside its node's namespace."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from stockade.lab.apiserver import ApiServerDouble
from stockade.lab.system import in_netns
from stockade.sources.cluster_config import ClusterConfig, load_cluster_config


def make_netns(tag: str) -> Iterator[str]:
    name = f"stk-{tag}{os.getpid() % 100000}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True)
    try:
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


@pytest.fixture
def api_netns() -> Iterator[str]:
    yield from make_netns("api")


@pytest.fixture
def double(api_netns: str) -> Iterator[ApiServerDouble]:
    with ApiServerDouble(netns=[api_netns], port=16443, bookmark_seconds=0.2) as found:
        yield found


def config_for(double: ApiServerDouble, user: str, directory: Path,
               *, door: bool = False) -> ClusterConfig:
    path = directory / f"{user}.kubeconfig"
    path.write_text(json.dumps(double.kubeconfig(user, door=door)))
    return load_cluster_config(kubeconfig=str(path))


def in_thread(netns: str, target: Callable[[], None]) -> threading.Thread:
    """Run ``target`` in a daemon thread inside ``netns``."""

    def run() -> None:
        with in_netns(netns):
            target()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def wait_for(found: Callable[[], Any], timeout: float = 20.0, what: str = "") -> Any:
    """Poll ``found`` until it returns something true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = found()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout} s: {what or found}")


def drain(events: queue.Queue[Any]) -> list[Any]:
    out = []
    while True:
        try:
            out.append(events.get_nowait())
        except queue.Empty:
            return out


def pod(name: str, namespace: str = "default", labels: dict[str, str] | None = None,
        ip: str = "", node: str = "n1") -> dict[str, Any]:
    manifest: dict[str, Any] = {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": labels or {}},
        "spec": {"nodeName": node, "containers": [{"name": "c", "image": "x"}]}}
    if ip:
        manifest["status"] = {"podIP": ip, "podIPs": [{"ip": ip}], "phase": "Running"}
    return manifest
