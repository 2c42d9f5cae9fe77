"""Run a lab's containers, as the kubelet would, each in its sandbox (``sandbox``): a pod's
init containers one after the other (a native sidecar started, not waited for), then its
other containers; pods side by side.

Each container's output goes through a pipe into its log, capped at ``LOG_LIMIT``: past
it the log ends with a note and the pipe is no longer read, so a container that keeps
writing waits on its next write instead of filling memory or ``/run``. What became of
each container is kept in ``containers.json`` (mode 0600) for ``lab logs`` and ``lab run``.
Used by the lab daemon (``serve``), which lives as long as the lab.
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from stockade.lab.containers import DEFAULT_PATH, LabContainer
from stockade.lab.names import NETNS_ETC, LabNames
from stockade.lab.state import LabState, PodState, private_dir, write_private

LOG_LIMIT = 1024 * 1024
INIT_TIMEOUT = 10.0  # seconds an init container may run before the others start anyway
SANDBOX = Path(__file__).with_name("sandbox.py")
CUT_NOTE = (b"\n[stockade: log cut at 1 MiB; the rest of the container's output is not read, "
            b"so its next writes wait]\n")


def log_path(names: LabNames, pod_index: int, container_index: int) -> Path:
    return names.state_dir / "logs" / str(pod_index) / f"{container_index}.log"


def status_path(names: LabNames) -> Path:
    return names.state_dir / "containers.json"


def environment(pod: PodState, container: LabContainer) -> list[tuple[str, str]]:
    """PATH, HOSTNAME and HOME as a runtime sets them, then the manifest's variables
    (which win)."""
    env = {"PATH": DEFAULT_PATH, "HOSTNAME": pod.hostname, "HOME": "/"}
    env.update(dict(container.env))
    return list(env.items())


def sandbox_argv(pod: PodState, spec_path: Path) -> list[str]:
    return ["nsenter", f"--net=/run/netns/{pod.netns}", "--",
            "unshare", "--mount", "--uts", "--ipc", "--pid", "--fork", "--kill-child",
            "--propagation", "private", "--",
            sys.executable, "-I", "-S", str(SANDBOX), str(spec_path)]


@dataclass(slots=True)
class _Running:
    pod: PodState
    container: LabContainer
    index: int
    proc: subprocess.Popen[bytes]
    log: IO[bytes]
    started: float
    written: int = 0
    cut: bool = False


@dataclass(slots=True)
class _PodQueue:
    pod: PodState
    pod_index: int
    waiting: list[tuple[int, LabContainer]]
    current_init: _Running | None = None


@dataclass(slots=True)
class Supervisor:
    lab: LabState
    stop: threading.Event = field(default_factory=threading.Event)
    status: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    _selector: selectors.DefaultSelector = field(default_factory=selectors.DefaultSelector)
    _running: list[_Running] = field(default_factory=list)
    _dirty: bool = True

    @property
    def names(self) -> LabNames:
        return LabNames(self.lab.name)

    def _record(self, pod: PodState, container: LabContainer, **values: Any) -> None:
        self.status.setdefault(pod.key, {}).setdefault(container.name, {}).update(values)
        self._dirty = True

    def _save(self) -> None:
        write_private(status_path(self.names), json.dumps(self.status, indent=1))

    def _start(self, queue: _PodQueue, index: int, container: LabContainer) -> _Running:
        pod = queue.pod
        key = f"{queue.pod_index}-{index}"
        root = private_dir(self.names.state_dir / "roots" / key)
        hosts = NETNS_ETC / pod.netns / "hosts"
        spec = {"root": str(root), "user": container.user, "group": container.group,
                "hostname": pod.hostname, "working_dir": container.working_dir,
                "hosts": str(hosts) if container.hosts_file else "",
                "argv": list(container.argv), "env": environment(pod, container)}
        spec_path = self.names.state_dir / "specs" / f"{key}.json"
        write_private(spec_path, json.dumps(spec))
        path = log_path(self.names, queue.pod_index, index)
        private_dir(path.parent)
        log = open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb")  # noqa: SIM115
        read_end, write_end = os.pipe()
        try:
            proc = subprocess.Popen(sandbox_argv(pod, spec_path), stdin=subprocess.DEVNULL,
                                    stdout=write_end, stderr=write_end, start_new_session=True,
                                    env={"PATH": DEFAULT_PATH})
        finally:
            os.close(write_end)
        os.set_blocking(read_end, False)
        running = _Running(pod, container, index, proc, log, time.monotonic())
        self._selector.register(read_end, selectors.EVENT_READ, running)
        self._running.append(running)
        self._record(pod, container, pid=proc.pid, state="running", exit_code=None,
                     log=str(path))
        return running

    def _pump(self, fd: int, running: _Running) -> None:
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return
        if not data:
            self._selector.unregister(fd)
            os.close(fd)
            running.log.close()
            return
        room = LOG_LIMIT - running.written
        running.log.write(data[:room])
        running.written += min(room, len(data))
        if len(data) > room:
            running.log.write(CUT_NOTE)
            running.cut = True
            self._selector.unregister(fd)  # left open and unread: the writer waits
            self._record(running.pod, running.container, log_cut=True)
            running.log.close()
            return
        running.log.flush()

    def _next(self, queue: _PodQueue) -> None:
        """Start what may start now in ``queue``'s pod."""
        init = queue.current_init
        if init is not None:
            code = init.proc.poll()
            if code is None and time.monotonic() - init.started < INIT_TIMEOUT:
                return
            if code not in (None, 0):
                for _, c in queue.waiting:
                    self._record(queue.pod, c, state="not started",
                                 note=f"init container {init.container.name} exited {code}")
                queue.waiting = []
                return
            queue.current_init = None
        while queue.waiting:
            index, container = queue.waiting.pop(0)
            running = self._start(queue, index, container)
            if container.init:
                queue.current_init = running
                return

    def run(self) -> None:
        queues = [_PodQueue(pod, i, list(enumerate(pod.containers)))
                  for i, pod in enumerate(self.lab.pods) if pod.containers]
        while not self.stop.is_set():
            for queue in queues:
                self._next(queue)
            for key, _ in self._selector.select(timeout=0.1):
                assert isinstance(key.fd, int)
                self._pump(key.fd, key.data)
            for running in self._running:
                code = running.proc.poll()
                entry = self.status[running.pod.key][running.container.name]
                if code is not None and entry["state"] == "running":
                    self._record(running.pod, running.container, state="exited",
                                 exit_code=code)
            if self._dirty:
                self._save()
                self._dirty = False
            queues = [q for q in queues if q.waiting or q.current_init is not None]


def read_status(names: LabNames) -> dict[str, dict[str, dict[str, Any]]]:
    try:
        data = json.loads(status_path(names).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
