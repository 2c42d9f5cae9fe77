"""Bring a lab up, change its policies, and take it down (also after a crash).

``up`` makes the lab's state directory before it creates anything, so ``down`` can always
find what a half-built or crashed lab left: every namespace named with the lab's prefix,
the processes inside them (the daemon's listeners, the containers), the ``/etc/netns``
hosts files and the state directory. The root namespace is never changed: links,
addresses and rulesets all live in the lab's own namespaces.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from msgspec import structs

from stockade.engine import Engine
from stockade.errors import EnvironmentProblem, InputError, InvalidObjects
from stockade.hosts.write import write_hosts_file
from stockade.lab import agents, network, tracking, watch
from stockade.lab import state as lab_state
from stockade.lab.api_objects import (
    Manifest,
    namespace_manifest,
    node_manifest,
    pod_manifest,
    policy_manifests,
)
from stockade.lab.names import DEFAULT_POD_CIDR, NETNS_ETC, LabNames
from stockade.lab.plan import (
    LabNode,
    LabPlan,
    LabPod,
    expand_workloads,
    input_node_addresses,
    make_plan,
    node_names,
)
from stockade.lab.state import LabState, NodeState, PodState
from stockade.lab.supervise import log_path, read_status
from stockade.lab.system import ip_batch, list_netns, pids_in_netns, processes_running
from stockade.model.build import BuildResult, RawObject, build_cluster
from stockade.model.crds import API_VERSIONS as CLUSTER_POLICY_KINDS
from stockade.model.types import Cluster, Node, NodeAddress, ObjectMeta, Origin
from stockade.model.workloads import choose_endpoints, with_endpoints
from stockade.nft.apply import NftRunner
from stockade.nft.compile import compile_engine
from stockade.nft.render import render_replace

# Processes this process started (the daemon), so that it reaps what it kills.
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
    for tool in ("ip", "nft", "nsenter", "unshare", "setpriv"):
        if shutil.which(tool) is None:
            raise EnvironmentProblem(f"{tool} not found: the lab needs iproute2, nftables "
                                     "and util-linux")


def build(raws: Sequence[RawObject], *, skip_invalid: bool = False) -> BuildResult:
    result = build_cluster(raws)
    if result.findings and not skip_invalid:
        raise InvalidObjects(result.findings)
    return result


def lab_cluster(cluster: Cluster) -> Cluster:
    """The pods the lab runs: every Pod, and each workload none of whose pods is in the input
    as one pod of its template (it gets an address from the lab's pod CIDR)."""
    return with_endpoints(cluster, choose_endpoints(cluster))


def load_ruleset(netns: str, engine: Engine, table: str) -> None:
    NftRunner(netns).run(render_replace(compile_engine(engine, table=table).table))


def _start_server(names: LabNames) -> int:
    log_file = names.state_dir / "serve.log"
    fd = os.open(log_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with open(fd, "wb") as log:
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
        detail = log_file.read_text(errors="replace").strip()
        raise EnvironmentProblem(f"the lab's daemon did not start: {detail}")
    return proc.pid


def _state_of(plan: LabPlan, pod_cidr: str, run_commands: bool, agent: bool = False,
              agent_args: tuple[str, ...] = ()) -> LabState:
    names = plan.names
    return LabState(
        names.lab, [NodeState(n.netns, list(n.ips), n.name, n.pod_cidr) for n in plan.nodes],
        pod_cidr, names.table,
        [PodState(p.key, p.netns, list(p.ips), list(p.ports), p.node, p.hostname,
                  list(p.containers)) for p in plan.pods],
        {k: list(v) for k, v in plan.allocated.items()}, skipped=list(plan.skipped),
        run_commands=run_commands, agent=agent, agent_args=list(agent_args))


def _with_nodes(plan: LabPlan) -> LabPlan:
    """An agent lab's cluster as its API holds it: each pod's hostIPs are its node's, and
    the lab's Nodes are objects with those addresses (what the agents read) and the labels
    of the cluster's Nodes of the same names."""
    by_name = {n.name: n for n in plan.nodes}
    pods = []
    for pod in plan.cluster.pods:
        node = by_name.get(pod.spec.node_name)
        if node is not None and not pod.host_ips and not pod.host_network:
            pods.append(structs.replace(pod, host_ips=node.ips))
        else:
            pods.append(pod)
    labels = {n.name: n.metadata.labels for n in plan.cluster.nodes}
    nodes = tuple(Node(ObjectMeta(n.name, labels=labels.get(n.name, ())),
                       tuple(NodeAddress("InternalIP", ip) for ip in n.ips),
                       Origin("<lab>"), pod_cidrs=(n.pod_cidr,)) for n in plan.nodes)
    cluster = structs.replace(plan.cluster, pods=tuple(pods), nodes=nodes)
    return dataclasses.replace(plan, cluster=cluster)


def _manifests(plan: LabPlan, raws: Sequence[RawObject]) -> list[Manifest]:
    """Every object an agent lab's API holds."""
    by_name = {n.name: n for n in plan.nodes}
    labels = {n.name: n.metadata.label_map for n in plan.cluster.nodes}
    out = [node_manifest(n, labels.get(n.name)) for n in plan.nodes]
    out += [namespace_manifest(ns) for ns in plan.cluster.namespaces]
    out += [pod_manifest(p, by_name.get(p.spec.node_name)) for p in plan.cluster.pods]
    valid = {p.key for p in plan.cluster.policies}
    valid |= {p.key for p in plan.cluster.cluster_policies}
    out += [m for m in policy_manifests(raws)
            if f"{m['metadata'].get('namespace', '')}/{m['metadata'].get('name')}" in valid
            or f"{m['kind']}/{m['metadata'].get('name')}" in valid]
    return out


def _start_agents(plan: LabPlan, lab: LabState, raws: Sequence[RawObject]) -> None:
    names = plan.names
    api = agents.start_api(names, [n.netns for n in plan.nodes])
    _children[api.pid] = api
    lab.api_pid = api.pid
    lab_state.save(lab)
    agents.LabApi(names).sync(_manifests(plan, raws), agents.ORDER)
    for node, state in zip(plan.nodes, lab.nodes, strict=True):
        state.agent_pid = start_agent(names, node, lab.agent_args)
    lab_state.save(lab)
    agents.wait_ready([n.netns for n in plan.nodes])


def start_agent(names: LabNames, node: LabNode, extra: Sequence[str] = ()) -> int:
    """(Re)start node ``node``'s agent; its pid."""
    proc = agents.start_agent(names, node, names.table, extra)
    _children[proc.pid] = proc
    return proc.pid


def up(raws: Sequence[RawObject], name: str, *, pod_cidr: str = DEFAULT_POD_CIDR,
       skip_invalid: bool = False, run_commands: bool = False, nodes: int = 1,
       agent: bool = False, agent_args: tuple[str, ...] = (),
       report: Callable[[BuildResult], None] | None = None) -> Lab:
    """Build lab ``name`` from ``raws``; ``report`` is given the objects' build result (its
    warnings, and the invalid objects ``skip_invalid`` leaves out) before anything runs.
    ``nodes``: node namespaces joined by an underlay, pods placed on them; ``agent``: a
    ``stockade agent`` per node enforces the policies it reads from the API server double,
    instead of the lab loading the compiled ruleset itself."""
    require_root()
    started = time.monotonic()
    names = LabNames(name)
    if names.state_dir.exists() or any(names.owns_netns(n) for n in list_netns()):
        raise InputError(f"lab {name!r} already exists; remove it with: stockade lab down "
                         f"{name}")
    result = build(raws, skip_invalid=skip_invalid)
    if report is not None:
        report(result)
    kept = lab_state.encode_cluster(result.cluster)  # an oversized object: refused now
    if agent:
        cluster = expand_workloads(result.cluster, node_names(result.cluster, nodes))
    else:
        cluster = lab_cluster(result.cluster)
    plan = make_plan(cluster, names, pod_cidr=pod_cidr, nodes=nodes)
    if not plan.pods:
        raise InputError("no pod to run: the input has no pod-network Pod")
    if agent:
        plan = _with_nodes(plan)
    engine = Engine(plan.cluster)
    lab = _state_of(plan, pod_cidr, run_commands, agent, agent_args)
    if nodes == 1:
        addresses, notes = input_node_addresses(engine, plan)
    else:
        addresses, notes = (), ()
    lab.addresses = list(addresses)
    lab.skipped += notes
    lab_state.private_dir(names.state_dir)  # first, so that ``down`` finds a half-built lab
    try:
        # An agent lab keeps its own cluster (placed, addressed), as its API holds it.
        lab_state.write_cluster(name, lab_state.encode_cluster(plan.cluster) if agent
                                else kept)
        lab_state.save(lab)
        network.build(plan, addresses)
        for node in plan.nodes:
            watch.install(node.netns)
            if not agent:
                load_ruleset(node.netns, engine, names.table)
        if agent:
            _start_agents(plan, lab, raws)
        for pod in plan.pods:
            directory = NETNS_ETC / pod.netns
            directory.mkdir(parents=True, exist_ok=True)
            write_hosts_file(directory / "hosts", pod.hosts)
        lab.server_pid = _start_server(names)
        lab_state.save(lab)
    except BaseException:
        down(name)
        raise
    return Lab(lab, plan, engine, time.monotonic() - started)


def _engine(name: str, lab: LabState, cluster: Cluster) -> Engine:
    if lab.agent:  # the lab's own cluster, as its API holds it
        return Engine(cluster)
    fixed = {k: tuple(v) for k, v in lab.allocated.items()}
    plan = make_plan(lab_cluster(cluster), LabNames(name), pod_cidr=lab.pod_cidr, fixed=fixed)
    return Engine(plan.cluster)


APPLIED_KINDS = frozenset({"NetworkPolicy", "Namespace", *CLUSTER_POLICY_KINDS})


def apply(name: str, raws: Sequence[RawObject], *, skip_invalid: bool = False,
          report: Callable[[BuildResult], None] | None = None) -> Engine:
    """Replace the lab's policies (NetworkPolicies and cluster-wide policies) by those of
    ``raws``, atomically (one nft transaction). Pods stay as the lab was built; a Namespace
    in ``raws`` brings its labels (policies select by them); other kinds are ignored. The
    nodes' tracked connections that the new policies deny are then forgotten
    (``tracking``): a probe after the swap is judged by the new rules even when its
    source port happens to be that of a flow probed before, and connections the new
    rules still allow carry on, replies in flight included. ``report`` is given the
    policies' build result, as for ``up``. In an agent lab, changes go through the API
    instead (``apply_through_api``)."""
    require_root()
    lab = lab_state.load(name)
    if lab.agent:
        return apply_through_api(name, raws, skip_invalid=skip_invalid, report=report).engine
    cluster = lab_state.load_cluster(name)
    new = build([r for r in raws if r.kind in APPLIED_KINDS], skip_invalid=skip_invalid)
    if report is not None:
        report(new)
    declared = {ns.name: ns for ns in new.cluster.namespaces if ns.declared}
    known = {ns.name for ns in cluster.namespaces}
    namespaces = tuple(declared.get(ns.name, ns) for ns in cluster.namespaces)
    namespaces += tuple(ns for ns in new.cluster.namespaces if ns.name not in known)
    cluster = structs.replace(cluster, namespaces=namespaces,
                                  policies=new.cluster.policies,
                                  cluster_policies=new.cluster.cluster_policies)
    engine = _engine(name, lab, cluster)
    for node in lab.nodes:
        load_ruleset(node.netns, engine, lab.table)
    for node in lab.nodes:
        tracking.forget_denied(node.netns, engine.allowed)
    lab_state.save_cluster(name, cluster)  # what ``probe`` now compares with
    return engine


@dataclass(frozen=True, slots=True)
class Applied:
    engine: Engine
    added: tuple[str, ...]  # pods brought up
    removed: tuple[str, ...]  # pods taken down
    changes: dict[str, int]  # kind -> resourceVersion of its last change
    seconds: float  # until every agent had loaded the changes


def _pods_given(raws: Sequence[RawObject]) -> bool:
    from stockade.model.build import WORKLOAD_KINDS

    return any(r.kind == "Pod" or r.kind in WORKLOAD_KINDS for r in raws)


def apply_through_api(name: str, raws: Sequence[RawObject], *, skip_invalid: bool = False,
                      report: Callable[[BuildResult], None] | None = None) -> Applied:
    """Change an agent lab through its API, as kubectl would: the input's NetworkPolicies
    and cluster-wide policies replace the lab's; its Namespaces are created or updated; when
    it has Pods or workloads, they replace the lab's pods (new ones come up, gone ones go
    down, a workload runs ``replicas`` pods). Then wait until every agent has loaded it all,
    and forget the tracked connections the new policies deny (as ``apply``)."""
    lab = lab_state.load(name)
    names = LabNames(name)
    old = lab_state.load_cluster(name)
    result = build(raws, skip_invalid=skip_invalid)
    if report is not None:
        report(result)
    new = result.cluster
    namespaces = {ns.name: ns for ns in old.namespaces}
    namespaces.update({ns.name: ns for ns in new.namespaces
                       if ns.declared or ns.name not in namespaces})
    running = {p.key: p for p in old.pods}
    if _pods_given(raws):
        pods = []
        for wanted in expand_workloads(new, [n.name for n in lab.nodes]).pods:
            was = running.get(wanted.key)
            if was is not None and not wanted.ips and not wanted.spec.node_name:
                pods.append(structs.replace(wanted, ips=was.ips, spec=structs.replace(
                    wanted.spec, node_name=was.spec.node_name)))
            else:
                pods.append(wanted)
    else:
        pods = list(old.pods)
    cluster = structs.replace(old, namespaces=tuple(namespaces.values()),
                                  policies=new.policies,
                                  cluster_policies=new.cluster_policies, pods=tuple(pods))
    indexes = {p.key: int(p.netns.rsplit("-p", 1)[1]) for p in lab.pods}
    fixed = {k: tuple(v) for k, v in lab.allocated.items()}
    plan = _with_nodes(make_plan(cluster, names, pod_cidr=lab.pod_cidr, fixed=fixed,
                                 nodes=len(lab.nodes), indexes=indexes,
                                 named=[n.name for n in lab.nodes]))
    then = {p.key: p for p in lab.pods}
    now = {p.key: p for p in plan.pods}
    gone = [k for k, p in then.items()
            if k not in now or (tuple(p.ips), p.node) != (now[k].ips, now[k].node)]
    fresh = [p for k, p in now.items() if k not in then or k in gone]
    leaving = [LabPod(k, indexes[k], then[k].node, then[k].netns, tuple(then[k].ips), (), (),
                      b"", "") for k in gone]
    with _signals_deferred():
        network.remove_pods(plan, leaving)
        for pod in leaving:
            shutil.rmtree(NETNS_ETC / pod.netns, ignore_errors=True)
        network.add_pods(plan, fresh)
        for lab_pod in fresh:
            directory = NETNS_ETC / lab_pod.netns
            directory.mkdir(parents=True, exist_ok=True)
            write_hosts_file(directory / "hosts", lab_pod.hosts)
        changes = agents.LabApi(names).sync(_manifests(plan, raws),
                                            ("Namespace", "Pod", "NetworkPolicy",
                                             *CLUSTER_POLICY_KINDS))
        written = time.monotonic()
        state = _state_of(plan, lab.pod_cidr, lab.run_commands, True, tuple(lab.agent_args))
        for mine, theirs in zip(state.nodes, lab.nodes, strict=True):
            mine.agent_pid = theirs.agent_pid
        state.api_pid, state.addresses = lab.api_pid, lab.addresses
        state.server_pid = lab.server_pid
        lab_state.save_cluster(name, plan.cluster)
        lab_state.save(state)
        if gone or fresh:  # the daemon listens for the pods it was started with
            _kill(servers_of(name))
            state.server_pid = _start_server(names)
            lab_state.save(state)
    agents.converged([n.netns for n in plan.nodes], changes)
    seconds = time.monotonic() - written
    engine = Engine(plan.cluster)
    # The agents leave tracked connections alone (an established one outlives a policy
    # change, as in a cluster); the lab, as ``apply`` does, forgets those the new policies
    # deny, so that a probe reusing a tracked flow's source port is judged afresh.
    for node in plan.nodes:
        tracking.forget_denied(node.netns, engine.allowed)
    return Applied(engine, tuple(p.key for p in fresh), tuple(gone), changes, seconds)


def engine_of(name: str) -> tuple[LabState, Engine]:
    """The running lab's state and an engine over its pods (with their lab addresses).

    The policies are those last loaded (by ``up`` or ``apply``).
    """
    lab = lab_state.load(name)
    return lab, _engine(name, lab, lab_state.load_cluster(name))


def commands_done(lab: LabState) -> bool:
    """Whether every container the lab runs has finished (or will never start)."""
    status = read_status(LabNames(lab.name))
    for pod in lab.pods:
        for container in pod.containers:
            entry = status.get(pod.key, {}).get(container.name)
            if entry is None or entry.get("state") == "running":
                return False
    return True


def wait_for_commands(lab: LabState, timeout: float) -> None:
    """Give the pods' commands up to ``timeout`` seconds to finish (``cat`` needs little)."""
    if not lab.run_commands:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not commands_done(lab):
        time.sleep(0.05)


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
    return processes_running("stockade.lab.serve", name)


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
    _kill(servers_of(name) + agents.api_processes(names))
    ours = [n for n in list_netns() if names.owns_netns(n)]
    # Every process in the lab's namespaces was started by the lab (its containers, which
    # cannot leave them: no capabilities, and chroot keeps them from user namespaces).
    _kill(pids_in_netns(ours))
    ip_batch([f"netns del {ns}" for ns in ours])
    if NETNS_ETC.is_dir():
        for entry in NETNS_ETC.iterdir():
            if names.owns_netns(entry.name):
                shutil.rmtree(entry, ignore_errors=True)
    shutil.rmtree(names.state_dir, ignore_errors=True)
    return ours


def read_logs(lab: LabState, key: str) -> dict[str, str]:
    """The output of each container of pod ``key`` that ran (none unless
    ``--run-commands``)."""
    pod = lab.pod(key)
    if not lab.run_commands:
        return {}
    index = lab.pods.index(pod)
    names = LabNames(lab.name)
    logs = {}
    for i, container in enumerate(pod.containers):
        try:
            logs[container.name] = log_path(names, index, i).read_text(errors="replace")
        except OSError:
            logs[container.name] = ""
    return logs
