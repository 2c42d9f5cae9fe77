"""Bring a lab up, change its policies, and take it down (also after a crash).

``up`` records its state before it creates anything, so ``down`` can always find what a
half-built or crashed lab left: every namespace named with the lab's prefix, the processes
inside them, the ``/etc/netns`` hosts files and the state directory. The root namespace is
never changed: links, addresses and the ruleset all live in the lab's own namespaces.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from stockade.engine import Engine
from stockade.errors import EnvironmentProblem, InputError, InvalidObjects
from stockade.hosts.write import write_hosts_file
from stockade.lab import state as lab_state
from stockade.lab.names import DEFAULT_POD_CIDR, NETNS_ETC, LabNames
from stockade.lab.plan import LabPlan, make_plan
from stockade.lab.state import LabState, PodState
from stockade.lab.system import ip_batch, list_netns, netns_pids, sysctl
from stockade.model.build import BuildResult, RawObject, build_cluster
from stockade.model.types import Cluster, Origin
from stockade.model.workloads import choose_endpoints, with_endpoints
from stockade.nft.apply import NftRunner
from stockade.nft.compile import compile_engine
from stockade.nft.render import render_replace

INIT_TIMEOUT = 10.0

# Processes this process started (daemon, pod commands), so that it reaps what it kills.
_children: dict[int, subprocess.Popen[bytes]] = {}


@dataclass(frozen=True, slots=True)
class Lab:
    state: LabState
    plan: LabPlan
    engine: Engine
    seconds: float  # how long ``up`` took


def require_root() -> None:
    if os.geteuid() != 0:
        raise EnvironmentProblem("the lab needs root (network namespaces, nftables)")
    for tool in ("ip", "nft"):
        if shutil.which(tool) is None:
            raise EnvironmentProblem(f"{tool} not found: the lab needs iproute2 and nftables")


def build(raws: Sequence[RawObject], *, skip_invalid: bool = False) -> BuildResult:
    result = build_cluster(raws)
    if result.findings and not skip_invalid:
        raise InvalidObjects(result.findings)
    return result


def _raw_records(raws: Sequence[RawObject]) -> list[dict[str, object]]:
    return [{"data": dict(r.data), "file": r.origin.file, "line": r.origin.line} for r in raws]


def _raws_of(records: Sequence[dict[str, object]]) -> list[RawObject]:
    out = []
    for rec in records:
        data = rec["data"]
        assert isinstance(data, dict)
        out.append(RawObject(data, Origin(str(rec["file"]), int(str(rec["line"])))))
    return out


def _node_commands(names: LabNames, plan: LabPlan) -> list[str]:
    br = names.bridge
    cmds = ["link set lo up", f"link add {br} type bridge", f"link set {br} up"]
    for ip in plan.node_ips:
        cmds.append(f"addr add {ip}/{128 if ':' in ip else 32} dev {br}"
                    + (" nodad" if ":" in ip else ""))
    cmds += [f"route add 0.0.0.0/0 dev {br}", f"route add ::/0 dev {br}"]
    for pod in plan.pods:
        veth = names.node_veth(pod.index)
        cmds += [f"link add {veth} type veth peer name eth0 netns {pod.netns}",
                 f"link set {veth} master {br} up"]
    return cmds


def _pod_commands(ips: Sequence[str]) -> list[str]:
    cmds = ["link set lo up", "link set eth0 up"]
    v4 = [ip for ip in ips if ":" not in ip]
    v6 = [ip for ip in ips if ":" in ip]
    cmds += [f"addr add {ip}/32 dev eth0" for ip in v4]
    cmds += [f"addr add {ip}/128 dev eth0 nodad" for ip in v6]
    # Every address is on the link: the bridge carries pods of any subnet to each other.
    cmds += ["route add 0.0.0.0/0 dev eth0", "route add ::/0 dev eth0"]
    return cmds


def _configure_pods(plan: LabPlan) -> None:
    running = []
    for pod in plan.pods:
        proc = subprocess.Popen(["ip", "-n", pod.netns, "-batch", "-"], stdin=subprocess.PIPE,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        assert proc.stdin is not None
        proc.stdin.write("\n".join(_pod_commands(pod.ips)) + "\n")
        proc.stdin.close()
        running.append((pod, proc))
    failures = []
    for pod, proc in running:
        assert proc.stderr is not None
        with proc.stderr:
            err = proc.stderr.read()
        if proc.wait() != 0:
            failures.append(f"{pod.key} ({pod.netns}): {err.strip()}")
    if failures:
        raise EnvironmentProblem("configuring pod namespaces failed: " + "; ".join(failures))


def load_ruleset(netns: str, engine: Engine, table: str) -> None:
    NftRunner(netns).run(render_replace(compile_engine(engine, table=table).table))


def _start_server(names: LabNames) -> int:
    log = open(names.state_dir / "serve.log", "wb")  # noqa: SIM115 - the daemon owns it
    with log:
        proc = subprocess.Popen([sys.executable, "-m", "stockade.lab.serve", names.lab],
                                stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    _children[proc.pid] = proc
    assert proc.stdout is not None
    with proc.stdout:
        line = proc.stdout.readline()
    if line.strip() != b"ready":
        proc.kill()
        proc.wait()
        detail = (names.state_dir / "serve.log").read_text(errors="replace").strip()
        raise EnvironmentProblem(f"the lab's listener daemon did not start: {detail}")
    return proc.pid


def _start_commands(names: LabNames, plan: LabPlan, lab: LabState) -> None:
    for pod, pod_state in zip(plan.pods, lab.pods, strict=True):
        log_dir = names.state_dir / "logs" / str(pod.index)
        log_dir.mkdir(parents=True, exist_ok=True)
        for cmd in sorted(pod.commands, key=lambda c: not c.init):
            log_path = log_dir / f"{cmd.container}.log"
            with open(log_path, "wb") as log:
                argv = ["ip", "netns", "exec", pod.netns, *cmd.argv]
                proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, start_new_session=True)
            _children[proc.pid] = proc
            pod_state.containers[cmd.container] = {"pid": proc.pid, "log": str(log_path),
                                                   "init": cmd.init,
                                                   "argv": list(cmd.argv)}
            if cmd.init:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(INIT_TIMEOUT)


def up(raws: Sequence[RawObject], name: str, *, pod_cidr: str = DEFAULT_POD_CIDR,
       skip_invalid: bool = False) -> Lab:
    require_root()
    started = time.monotonic()
    names = LabNames(name)
    if lab_state.path_of(name).exists() or any(names.owns_netns(n) for n in list_netns()):
        raise InputError(f"lab {name!r} already exists; remove it with: stockade lab down "
                         f"{name}")
    result = build(raws, skip_invalid=skip_invalid)
    plan = make_plan(lab_cluster(result), names, pod_cidr=pod_cidr)
    if not plan.pods:
        raise InputError("no pod to run: the input has no pod-network Pod")
    engine = Engine(plan.cluster)
    lab = LabState(name, names.node_netns, list(plan.node_ips), pod_cidr, names.table,
                   [PodState(p.key, p.netns, list(p.ips), list(p.ports)) for p in plan.pods],
                   {k: list(v) for k, v in plan.allocated.items()}, _raw_records(raws),
                   skipped=list(plan.skipped))
    lab_state.save(lab)  # first, so that ``down`` finds a half-built lab
    try:
        ip_batch([f"netns add {names.node_netns}", *(f"netns add {p.netns}" for p in plan.pods)])
        sysctl(names.node_netns, "net.bridge.bridge-nf-call-iptables", "1")
        sysctl(names.node_netns, "net.bridge.bridge-nf-call-ip6tables", "1")
        ip_batch(_node_commands(names, plan), netns=names.node_netns)
        _configure_pods(plan)
        load_ruleset(names.node_netns, engine, names.table)
        for pod in plan.pods:
            directory = NETNS_ETC / pod.netns
            directory.mkdir(parents=True, exist_ok=True)
            write_hosts_file(directory / "hosts", pod.hosts)
        lab.server_pid = _start_server(names)
        lab_state.save(lab)
        _start_commands(names, plan, lab)
        lab_state.save(lab)
    except BaseException:
        down(name)
        raise
    return Lab(lab, plan, engine, time.monotonic() - started)


def lab_cluster(result: BuildResult) -> Cluster:
    """The pods the lab runs: every Pod, and each workload none of whose pods is in the input
    as one pod of its template (it gets an address from the lab's pod CIDR)."""
    return with_endpoints(result.cluster, choose_endpoints(result.cluster))


def apply(name: str, raws: Sequence[RawObject], *, skip_invalid: bool = False) -> Engine:
    """Replace the lab's policies by those of ``raws``, atomically (one nft transaction).
    Pods and namespaces stay as the lab was built; other kinds in ``raws`` are ignored."""
    require_root()
    lab = lab_state.load(name)
    kept = [r for r in _raws_of(lab.raws) if r.kind != "NetworkPolicy"]
    policies = [r for r in raws if r.kind == "NetworkPolicy"]
    result = build([*kept, *policies], skip_invalid=skip_invalid)
    fixed = {k: tuple(v) for k, v in lab.allocated.items()}
    plan = make_plan(lab_cluster(result), LabNames(name), pod_cidr=lab.pod_cidr, fixed=fixed)
    engine = Engine(plan.cluster)
    load_ruleset(lab.node_netns, engine, lab.table)
    lab.raws = _raw_records([*kept, *policies])  # what ``probe`` now compares with
    lab_state.save(lab)
    return engine


def engine_of(name: str) -> tuple[LabState, Engine]:
    """The running lab's state and an engine over its pods (with their lab addresses).

    The policies are those last loaded (by ``up`` or ``apply``).
    """
    lab = lab_state.load(name)
    result = build(_raws_of(lab.raws), skip_invalid=True)
    fixed = {k: tuple(v) for k, v in lab.allocated.items()}
    plan = make_plan(lab_cluster(result), LabNames(name), pod_cidr=lab.pod_cidr, fixed=fixed)
    return lab, Engine(plan.cluster)


def wait_for_commands(lab: LabState, timeout: float) -> None:
    """Give the pods' commands up to ``timeout`` seconds to finish (``cat`` needs little)."""
    deadline = time.monotonic() + timeout
    for pod in lab.pods:
        for info in pod.containers.values():
            pid = int(info["pid"])
            while time.monotonic() < deadline and _alive(pid):
                time.sleep(0.02)


def _alive(pid: int) -> bool:
    child = _children.get(pid)
    if child is not None:
        return child.poll() is None
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return Path(f"/proc/{pid}").exists() and not _zombie(pid)
    return done == 0


def _zombie(pid: int) -> bool:
    try:
        return ") Z" in Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False


def _is_our_server(pid: int, name: str) -> bool:
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"stockade.lab.serve" in argv and name.encode() in argv[1:]


def _kill(pids: Sequence[int]) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        alive = []
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
                alive.append(pid)
        deadline = time.monotonic() + 1.0
        while alive and time.monotonic() < deadline:
            alive = [p for p in alive if _alive(p)]
            time.sleep(0.02)
        if not alive:
            return
        pids = alive


def servers_of(name: str) -> list[int]:
    """Every running lab daemon of lab ``name``, found by its command line (so also after a
    crash that lost the lab's state file)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and _is_our_server(int(entry.name), name):
            pids.append(int(entry.name))
    return pids


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM back until the block ends: a teardown cut short would leave
    namespaces and a daemon behind. Blocked signals are delivered right after, so the
    program still stops, only with nothing left. Child processes (``ip``) inherit the
    mask, so a Ctrl-C sent to the terminal's process group cannot kill them half-way."""
    held = {signal.SIGINT, signal.SIGTERM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def down(name: str) -> list[str]:
    """Remove everything lab ``name`` created; returns the namespaces removed. Not
    interruptible (see ``_signals_deferred``)."""
    with _signals_deferred():
        return _down(name)


def _down(name: str) -> list[str]:
    names = LabNames(name)
    _kill(servers_of(name))
    ours = [n for n in list_netns() if names.owns_netns(n)]
    # Processes inside the lab's namespaces were started by the lab (pod commands).
    _kill([pid for ns in ours for pid in netns_pids(ns)])
    ip_batch([f"netns del {ns}" for ns in ours])
    if NETNS_ETC.is_dir():
        for entry in NETNS_ETC.iterdir():
            if names.owns_netns(entry.name):
                shutil.rmtree(entry, ignore_errors=True)
    shutil.rmtree(names.state_dir, ignore_errors=True)
    return ours


def read_logs(lab: LabState, key: str) -> dict[str, str]:
    pod = lab.pod(key)
    logs = {}
    for container, info in pod.containers.items():
        try:
            logs[container] = Path(str(info["log"])).read_text(errors="replace")
        except OSError:
            logs[container] = ""
    return logs
