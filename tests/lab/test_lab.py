"""The lab with real namespaces and real packets (root). The differential test compares the
packet matrix with the engine's for every scenario; the others check policy updates under
traffic, replies under egress isolation, node access, logs, SCTP and cleanup."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from lab_support import ROOT, SCENARIOS, leftovers

from stockade.engine import Engine
from stockade.lab import lifecycle, measure
from stockade.lab.probe import DROPPED, REACHABLE, UNTESTABLE, Target, probe_all
from stockade.model.types import Protocol
from stockade.sources.files import read_paths

pytestmark = pytest.mark.lab

TCP_UDP = [(80, "TCP"), (53, "UDP")]


def _raws(*paths: Path):  # type: ignore[no-untyped-def]
    return read_paths([str(p) for p in paths])


def _cases() -> list[tuple[str, list[Path]]]:
    cases = [(p.name, [p]) for p in sorted((ROOT / "tests" / "scenarios").glob("*.yaml"))]
    cases.append(("nine-pods", [SCENARIOS / "nine-pods-base.yaml",
                                SCENARIOS / "nine-pods-policies.yaml"]))
    cases.append(("allocated-dual-stack", [SCENARIOS / "allocated-dual-stack.yaml"]))
    return cases


@pytest.mark.parametrize(("case", "paths"), _cases(), ids=[c[0] for c in _cases()])
def test_packets_agree_with_engine(case: str, paths: list[Path], lab_name: str) -> None:
    lab = lifecycle.up(_raws(*paths), lab_name)
    declared = measure.declared_ports(lab.state)
    ports = [p for p in declared if p[1] in ("TCP", "UDP")] or TCP_UDP
    if not any(p[1] == "UDP" for p in ports):
        ports.append((53, "UDP"))
    if not any(p[1] == "TCP" for p in ports):
        ports.append((80, "TCP"))
    m = measure.measure(lab.state, lab.engine, ports)
    assert m.plumbing == ()
    assert m.mismatches == ()
    judged = [p for p in m.probes if p.outcome in (REACHABLE, DROPPED)]
    # Pods with no IP family in common cannot talk at all; every other probe is judged.
    no_family = [p for p in m.probes if p.outcome == UNTESTABLE and "has no IPv" in p.detail]
    assert len(judged) + len(no_family) == len(lab.state.pods) ** 2 * len(ports)
    assert no_family == []
    # The lab compares with the engine's matrix; its point queries say the same.
    point = [p for p in judged if lab.engine.allowed(p.src, p.dst, Protocol(p.protocol),
                                                     p.port) != (p.outcome == REACHABLE)]
    assert point == []
    # Between the pods and every node address the input knows, both ways, all judged.
    addresses = lab.state.addresses
    assert len(m.address_probes) == 2 * len(ports) * sum(
        1 for pod in lab.state.pods for a in addresses
        if any((":" in a) == (":" in ip) for ip in pod.ips))
    assert {p.outcome for p in m.address_probes} <= {REACHABLE, DROPPED}
    if case == "36-own-node-addresses.yaml":
        assert addresses == ["172.16.0.1", "172.20.0.1", "172.16.0.2"]
        assert {p.outcome for p in m.address_probes} == {REACHABLE, DROPPED}
    if case in ("nine-pods", "allocated-dual-stack"):
        outcomes = {p.outcome for p in judged}
        assert outcomes == {REACHABLE, DROPPED}


def test_drops_come_from_the_ruleset(lab_name: str) -> None:
    base = SCENARIOS / "nine-pods-base.yaml"
    lab = lifecycle.up(_raws(base, SCENARIOS / "nine-pods-policies.yaml"), lab_name)
    before = measure.measure(lab.state, lab.engine, TCP_UDP)
    assert any(p.outcome == DROPPED for p in before.probes)
    engine = lifecycle.apply(lab_name, [])  # no policies at all
    assert engine.policies == ()
    after = measure.measure(lifecycle.engine_of(lab_name)[0], engine, TCP_UDP)
    assert {p.outcome for p in after.probes} == {REACHABLE}
    assert after.mismatches == ()


def test_policy_update_under_traffic(lab_name: str) -> None:
    base = SCENARIOS / "nine-pods-base.yaml"
    policies = SCENARIOS / "nine-pods-policies.yaml"
    lab = lifecycle.up(_raws(base, policies), lab_name)
    old = lab.engine
    new = Engine(lifecycle.build(_raws(base)).cluster)  # after the swap: no policies
    # The pods carry the same addresses for both engines (all IPs are in the manifests).
    targets = measure.targets_of(lab.state)
    seen: list[tuple[str, str, int, str, str]] = []
    stop = threading.Event()

    def traffic() -> None:
        while not stop.is_set():
            for p in probe_all(targets, TCP_UDP, timeout=0.3):
                seen.append((p.src, p.dst, p.port, p.protocol, p.outcome))

    worker = threading.Thread(target=traffic)
    worker.start()
    try:
        for round_ in range(6):
            time.sleep(0.2)
            lifecycle.apply(lab_name, _raws(policies) if round_ % 2 else [])
    finally:
        stop.set()
        worker.join()
    assert len(seen) > len(targets) ** 2 * 2 * 3
    impossible = []
    for src, dst, port, protocol, outcome in seen:
        verdicts = {old.allowed(src, dst, Protocol(protocol), port),
                    new.allowed(src, dst, Protocol(protocol), port)}
        if outcome not in (REACHABLE, DROPPED) or (outcome == REACHABLE) not in verdicts:
            impossible.append((src, dst, port, protocol, outcome))
    assert impossible == []
    changed = {(s, d, p, pr) for s, d, p, pr, _ in seen
               if old.allowed(s, d, Protocol(pr), p) != new.allowed(s, d, Protocol(pr), p)}
    both = {(s, d, p, pr, o) for s, d, p, pr, o in seen if (s, d, p, pr) in changed}
    assert {o for *_, o in both} == {REACHABLE, DROPPED}  # the swap really happened


REPLY_LAB = """
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: r, labels: {app: client}}
spec: {containers: [{name: c}]}
status: {podIP: 10.66.0.2}
---
apiVersion: v1
kind: Pod
metadata: {name: server, namespace: r, labels: {app: server}}
spec: {containers: [{name: c, ports: [{containerPort: 80}, {containerPort: 53, protocol: UDP}]}]}
status: {podIP: 10.66.0.3}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: client-out-only, namespace: r}
spec:
  podSelector: {matchLabels: {app: client}}
  policyTypes: [Ingress, Egress]
  egress: [{to: [{podSelector: {matchLabels: {app: server}}}]}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: server-in-only, namespace: r}
spec:
  podSelector: {matchLabels: {app: server}}
  policyTypes: [Ingress, Egress]
  ingress: [{}]
"""


def test_replies_pass_under_egress_isolation_and_node_reaches_pods(
        lab_name: str, tmp_path: Path) -> None:
    source = tmp_path / "reply.yaml"
    source.write_text(REPLY_LAB)
    lab = lifecycle.up(_raws(source), lab_name)
    client, server = measure.targets_of(lab.state)
    # The replies (server -> client) are denied by both the server's egress and the client's
    # ingress; only connection tracking lets them through.
    assert not lab.engine.allowed("r/server", "r/client", Protocol.TCP, 80)
    forward = probe_all([client, server], TCP_UDP, pairs=[(client, server), (server, client)])
    outcome = {(p.src, p.protocol): p.outcome for p in forward}
    assert outcome == {("r/client", "TCP"): REACHABLE, ("r/client", "UDP"): REACHABLE,
                       ("r/server", "TCP"): DROPPED, ("r/server", "UDP"): DROPPED}
    node = Target("node", lab.state.node_netns, ("169.254.77.1",))
    from_node = probe_all([client, server], TCP_UDP, pairs=[(node, client), (node, server)])
    assert {p.outcome for p in from_node} == {REACHABLE}


def test_mismatch_is_reported_and_exits_1(lab_name: str) -> None:
    base = SCENARIOS / "nine-pods-base.yaml"
    lifecycle.up(_raws(base, SCENARIOS / "nine-pods-policies.yaml"), lab_name)
    # Load a ruleset the lab's engine does not know about (no policies): packets now pass
    # where the engine says denied.
    lab_state, _ = lifecycle.engine_of(lab_name)
    lifecycle.load_ruleset(lab_state.node_netns, Engine(lifecycle.build(_raws(base)).cluster),
                           lab_state.table)
    done = subprocess.run([sys.executable, "-m", "stockade", "lab", "probe", lab_name,
                           "--port", "80/TCP", "-o", "json"], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert report["mismatches"]
    assert all(m["packets"] == "reachable" and m["engine"] == "denied"
               for m in report["mismatches"])


def test_lab_run_json_logs_seed_pod_and_sctp_untestable() -> None:
    seed = ROOT / "examples" / "hostaliases" / "hostaliases-konvoy-pod.yaml"
    done = subprocess.run([sys.executable, "-m", "stockade", "lab", "run", str(seed),
                           "--name", f"r{os.getpid() % 100000}", "--port", "80/TCP",
                           "--port", "9/SCTP", "-o", "json", "--run-commands"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    expected = (ROOT / "examples" / "hostaliases" / "hostaliases-konvoy-pod.hosts").read_text()
    assert report["logs"] == {"default/hostaliases-konvoy-pod": {"cat-hosts": expected}}
    assert report["pods"] == ["default/hostaliases-konvoy-pod"]
    sctp = next(r for r in report["results"] if r["protocol"] == "SCTP")
    assert sctp["reachable"] is None and "not testable on this kernel" in sctp["note"]
    tcp = next(r for r in report["results"] if r["protocol"] == "TCP")
    assert tcp["reachable"] == {"default/hostaliases-konvoy-pod":
                                ["default/hostaliases-konvoy-pod"]}
    assert report["mismatches"] == []
    assert leftovers(f"r{os.getpid() % 100000}") == []


SLEEPER = """
apiVersion: v1
kind: Pod
metadata: {name: sleeper, namespace: s}
spec: {containers: [{name: c, command: [sleep, "30"], ports: [{containerPort: 80}]}]}
status: {podIP: 10.67.0.2}
"""


def test_ctrl_c_removes_everything(tmp_path: Path) -> None:
    source = tmp_path / "sleeper.yaml"
    source.write_text(SLEEPER)
    name = f"c{os.getpid() % 100000}"
    before_tables = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True,
                                   check=True).stdout
    before_links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True,
                                  check=True).stdout
    proc = subprocess.Popen([sys.executable, "-m", "stockade", "lab", "run", str(source),
                             "--name", name, "--run-commands"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not (Path("/run/netns") / f"stk-{name}-p0").exists():
        time.sleep(0.05)
    time.sleep(0.5)  # inside the wait for the pod's command
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert leftovers(name) == []
    assert subprocess.run(["nft", "list", "tables"], capture_output=True, text=True,
                          check=True).stdout == before_tables
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True,
                           check=True).stdout
    assert "stk-" not in links and len(links.splitlines()) == len(before_links.splitlines())


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupt_at_any_moment_leaves_nothing(sig: signal.Signals) -> None:
    """Interrupt ``lab run`` at moments spread over its whole life, the teardown included
    (a signal there once left the lab half removed): nothing may remain, whatever the moment."""
    konvoy = ROOT / "examples" / "konvoy"
    name = f"i{os.getpid() % 10000}{int(sig)}"
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "stockade", "lab", "run", str(konvoy), "--name",
                    name], capture_output=True, check=False, timeout=60)
    lifetime = time.monotonic() - started
    try:
        for step in range(1, 10):
            proc = subprocess.Popen([sys.executable, "-m", "stockade", "lab", "run",
                                     str(konvoy), "--name", name],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(lifetime * step / 10)
            proc.send_signal(sig)
            proc.wait(timeout=60)
            assert leftovers(name) == [], f"interrupted after {lifetime * step / 10:.2f} s"
    finally:
        lifecycle.down(name)


def test_down_cleans_a_crashed_lab(lab_name: str) -> None:
    lifecycle.up(_raws(SCENARIOS / "nine-pods-base.yaml"), lab_name)
    import shutil

    from stockade.lab.names import LabNames

    shutil.rmtree(LabNames(lab_name).state_dir)  # a crash before the state was kept
    assert leftovers(lab_name)  # namespaces and hosts files are still there
    done = subprocess.run([sys.executable, "-m", "stockade", "lab", "down", lab_name],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert leftovers(lab_name) == []


def test_exec_sees_the_hosts_file_and_the_pod_address(lab_name: str) -> None:
    seed = ROOT / "examples" / "hostaliases" / "hostaliases-konvoy-pod.yaml"
    lab = lifecycle.up(_raws(seed), lab_name, run_commands=True)
    lifecycle.wait_for_commands(lab.state, 10)
    done = subprocess.run([sys.executable, "-m", "stockade", "lab", "exec", lab_name,
                           "default/hostaliases-konvoy-pod", "--", "sh", "-c",
                           "cat /etc/hosts; ip -o -4 addr show dev eth0"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "10.1.2.3\tfoo.node.remote\tbar.node.remote" in done.stdout
    assert "10.200.0.5/32" in done.stdout
    logs = subprocess.run([sys.executable, "-m", "stockade", "lab", "logs", lab_name,
                           "default/hostaliases-konvoy-pod"], capture_output=True, text=True,
                          check=True).stdout
    assert "foo.node.local" in logs
    listed = subprocess.run([sys.executable, "-m", "stockade", "lab", "list"],
                            capture_output=True, text=True, check=True).stdout
    assert lab_name in listed
    assert UNTESTABLE == "untestable"


def test_workloads_run_as_one_pod_each(lab_name: str) -> None:
    """A workload none of whose pods is in the input runs as one pod of its template, with
    an address from the lab's pod CIDR; packets agree with the engine on it."""
    done = subprocess.run([sys.executable, "-m", "stockade", "lab", "run",
                           str(ROOT / "examples" / "shop"), "--name", lab_name, "-o", "json",
                           "--port", "8000/TCP", "--port", "5432/TCP"],
                          capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert {"shop/Deployment/web", "shop/StatefulSet/db", "shop/CronJob/nightly-report"} <= set(
        doc["pods"])
    assert doc["mismatches"] == []
    to_db = doc["results"][1]["reachable"]
    assert "shop/StatefulSet/db" in to_db["shop/Deployment/api"]
    assert "shop/StatefulSet/db" not in to_db["shop/Deployment/web"]


@pytest.mark.parametrize("address", ["127.0.0.5", "224.0.0.1", "169.254.77.1", "fe80::1"])
def test_addresses_a_lab_pod_cannot_have_are_refused(address: str, lab_name: str,
                                                     tmp_path: Path) -> None:
    source = tmp_path / "pod.yaml"
    source.write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"
                      f"status: {{podIP: '{address}'}}\n")
    done = subprocess.run([sys.executable, "-m", "stockade", "lab", "run", str(source),
                           "--name", lab_name], capture_output=True, text=True, check=False,
                          timeout=60)
    assert done.returncode == 2
    assert f'pod IP "{address}" cannot be a pod\'s address in the lab' in done.stderr
    assert leftovers(lab_name) == []


def test_lab_grids_use_the_marks_and_layout_of_matrix_port(lab_name: str) -> None:
    """One convention: the lab's grids and ``matrix --port`` print the same rows (``.``
    reachable, ``X`` not), cell for cell, when packets and engine agree."""
    konvoy = str(ROOT / "examples" / "konvoy")
    ports = ["--port", "8080/TCP", "--port", "6379/TCP", "--port", "53/UDP"]
    lab = subprocess.run([sys.executable, "-m", "stockade", "lab", "run", konvoy, "--name",
                          lab_name, *ports], capture_output=True, text=True, check=False,
                         timeout=120)
    assert lab.returncode == 0, lab.stderr
    matrix = subprocess.run([sys.executable, "-m", "stockade", "matrix", konvoy, *ports],
                            capture_output=True, text=True, check=True)

    def grids(text: str) -> list[str]:
        return [line.rstrip() for line in text.splitlines()
                if re.match(r"\d+ \S+/\S+ +[.X]", line) or re.fullmatch(r" +[\d ]+", line)]

    assert grids(lab.stdout) == grids(matrix.stdout)
    assert {"X", "."} <= set("".join(grids(lab.stdout)))
    assert "Y" not in "".join(grids(lab.stdout))


def test_listener_survives_a_connection_closed_while_its_event_is_pending(
        lab_name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The daemon once died on a 500-pod lab: a connection answered early (too many open)
    still had a read event in the same round, and reading a closed socket raised."""
    from stockade.lab import listeners
    from stockade.lab.system import in_netns

    monkeypatch.setattr(listeners, "MAX_OPEN", 1)
    netns = f"stk-{lab_name}-p0"
    subprocess.run(["ip", "netns", "add", netns], check=True)
    subprocess.run(["ip", "-n", netns, "link", "set", "lo", "up"], check=True)
    responder = listeners.Responder()
    assert responder.listen(netns, "t/p", 80, "TCP", (4,))
    thread = threading.Thread(target=responder.serve)
    thread.start()
    try:
        with in_netns(netns):
            first = socket.create_connection(("127.0.0.1", 80), timeout=5)
            first.sendall(b"GET / HTTP/1.1\r\n")  # not complete: stays open
            time.sleep(0.3)
            second = socket.create_connection(("127.0.0.1", 80), timeout=5)
            first.sendall(b"Host: x\r\n")  # read event for a connection about to be closed
            time.sleep(0.5)
            assert thread.is_alive()
            assert first.recv(100).startswith(b"HTTP/1.0 200 OK")  # answered when pushed out
            second.sendall(b"GET / HTTP/1.0\r\n\r\n")
            assert second.recv(200).endswith(b"stockade t/p\n")
            first.close()
            second.close()
    finally:
        responder.stop.set()
        thread.join()
        responder.close()


def test_a_dead_daemon_is_reported_as_plumbing(lab_name: str) -> None:
    lab = lifecycle.up(_raws(SCENARIOS / "nine-pods-base.yaml"), lab_name)
    os.kill(lab.state.server_pid, signal.SIGKILL)
    done = subprocess.run([sys.executable, "-m", "stockade", "lab", "probe", lab_name,
                           "--port", "80/TCP"], capture_output=True, text=True, check=False,
                          timeout=120)
    assert done.returncode == 1
    assert (f"PLUMBING the lab's daemon serves the declared ports: no; the daemon (pid "
            f"{lab.state.server_pid}) has exited") in done.stdout
    assert "MISMATCH" not in done.stdout


DUPLICATED = """\
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: dup}
spec: {containers: [{name: c, ports: [{containerPort: 80}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: broken, namespace: dup}
spec: {containers: [{name: c, ports: [{containerPort: 0}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: dup}
spec: {containers: [{name: c, ports: [{containerPort: 81}]}]}
"""

POLICIES = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: dup}
spec: {podSelector: {}, policyTypes: [Ingress]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: dup}
spec: {podSelector: {}, ingress: [{}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: bad, namespace: dup}
spec: {podSelector: {matchLabels: {a: $$}}}
"""


def test_the_lab_warns_as_every_command_warns(lab_name: str, tmp_path: Path) -> None:
    """``lab run``, ``up`` and ``apply`` say which definition of a duplicated object they
    took and which invalid objects ``--skip-invalid`` left out, as the other commands do."""
    pods, policies = tmp_path / "pods.yaml", tmp_path / "policies.yaml"
    pods.write_text(DUPLICATED)
    policies.write_text(POLICIES)
    stockade = [sys.executable, "-m", "stockade", "lab"]
    dup = (f"warning: Pod dup/web is defined more than once ({pods}:1, then {pods}:11): "
           "the later definition wins, as with kubectl apply")
    skipped = f"warning: skipping invalid object: {pods}:6: Pod dup/broken: "
    done = subprocess.run([*stockade, "run", str(pods), "--skip-invalid", "--name", lab_name],
                          capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    assert dup in done.stderr.splitlines()
    assert skipped in done.stderr
    done = subprocess.run([*stockade, "up", str(pods), "--skip-invalid", "--name", lab_name],
                          capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    assert dup in done.stderr.splitlines() and skipped in done.stderr
    done = subprocess.run([*stockade, "apply", lab_name, str(policies), "--skip-invalid"],
                          capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    assert (f"warning: NetworkPolicy dup/p is defined more than once ({policies}:1, then "
            f"{policies}:6): the later definition wins, as with kubectl apply"
            in done.stderr.splitlines())
    assert f"warning: skipping invalid object: {policies}:11: NetworkPolicy dup/bad" \
        in done.stderr
    assert "used but not declared" not in done.stderr  # the lab has the namespace
