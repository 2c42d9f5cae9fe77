"""Hostile manifests against the lab (root): each escape the issue names — a host file, the
host's hostname, a host sysctl, a process left behind, a process that joins the root
network namespace or leaves the pod's through a user namespace — is attempted from a
container, an init container and ``args`` alone, without and with ``--run-commands``, and
shown not to touch the host. Then what the sandbox does give a container: its user and
group, working directory, environment, hostname, hosts file, no capabilities, a PID
namespace of its own, and a log capped at 1 MiB.

The attempts are harmless even if one escaped: the hostname and the sysctl are set to the
values they already have, and each attempt prints ``ESCAPED`` when it succeeds."""

from __future__ import annotations

import ctypes
import json
import os
import re
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from lab_support import leftovers

from stockade.lab import lifecycle
from stockade.lab import state as lab_state
from stockade.lab.names import LabNames
from stockade.lab.supervise import CUT_NOTE, LOG_LIMIT, log_path
from stockade.sources.files import read_paths

pytestmark = pytest.mark.lab

MAX_MAP = Path("/proc/sys/vm/max_map_count")


def _marker() -> str:
    return f"{os.getpid() % 100000}{time.monotonic_ns() % 1000}"


def _script(token: str, variant: str, linger: float) -> str:
    hostname = Path("/proc/sys/kernel/hostname").read_text().strip()
    return "\n".join([
        f"echo ran-{token}-{variant}",
        f"echo x > /tmp/stk-{token}-{variant}",  # the private /tmp: allowed, not the host's
        f"echo x > /var/tmp/stk-{token}-{variant} && echo ESCAPED-file-var",
        f"echo x > /root/stk-{token}-{variant} && echo ESCAPED-file-root",
        f"hostname {hostname} && echo ESCAPED-hostname",
        f"echo {MAX_MAP.read_text().strip()} > {MAX_MAP} && echo ESCAPED-sysctl",
        f"(setsid sleep {token}1 &)",
        f"nohup sleep {token}2 >/dev/null 2>&1 &",
        f"(nsenter --net=/proc/1/ns/net sleep {token}3 && echo ESCAPED-nsenter) &",
        f"(nsenter --net=/proc/$PPID/ns/net sleep {token}3 && echo ESCAPED-nsenter) &",
        f"(unshare -Urn sleep {token}4 && echo ESCAPED-userns) &",
        "echo env KUBECONFIG=$KUBECONFIG STK_SECRET=$STK_SECRET",
        f"sleep {linger}",  # when PID 1 ends, the kernel ends the rest of its namespace
    ])


def _manifest(token: str, linger: float = 0.3) -> str:
    docs = []
    for variant in ("container", "init", "args"):
        script = json.dumps(_script(token, variant, linger))
        if variant == "container":
            spec = f"containers: [{{name: c, command: [sh, -c, {script}]}}]"
        elif variant == "init":
            spec = (f"initContainers: [{{name: i, command: [sh, -c, {script}]}}]\n"
                    "  containers: [{name: c}]")
        else:
            spec = f"containers: [{{name: c, args: [sh, -c, {script}]}}]"
        docs.append(f"apiVersion: v1\nkind: Pod\nmetadata: {{name: escape-{variant}, "
                    f"namespace: hostile}}\nspec:\n  {spec}\n")
    return "---\n".join(docs)


def _processes_with(text: str) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if text in argv:
            found.append(f"{entry.name}: {argv}")
    return found


def _host_untouched(token: str, hostname: str, max_map: str) -> None:
    assert sorted(p for d in ("/tmp", "/var/tmp", "/root")
                  for p in os.listdir(d) if token in p) == []
    assert Path("/proc/sys/kernel/hostname").read_text().strip() == hostname
    assert MAX_MAP.read_text().strip() == max_map
    assert _processes_with(f"sleep {token}") == []


@pytest.mark.parametrize("run_commands", [False, True], ids=["default", "run-commands"])
def test_escapes_from_a_manifest_do_not_touch_the_host(run_commands: bool,
                                                        tmp_path: Path) -> None:
    token = _marker()
    source = tmp_path / "hostile.yaml"
    source.write_text(_manifest(token))
    hostname = Path("/proc/sys/kernel/hostname").read_text().strip()
    max_map = MAX_MAP.read_text().strip()
    name = f"e{token}"[:16]
    env = {**os.environ, "KUBECONFIG": "/secret/kubeconfig", "STK_SECRET": "s3cret"}
    argv = [sys.executable, "-m", "stockade", "lab", "run", str(source), "--name", name,
            "--port", "80/TCP", "-o", "json"] + (["--run-commands"] if run_commands else [])
    done = subprocess.run(argv, capture_output=True, text=True, env=env, check=False,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    _host_untouched(token, hostname, max_map)
    assert leftovers(name) == []
    notes = [line for line in done.stderr.splitlines() if "did not run" in line]
    if not run_commands:
        assert report["logs"] == {}
        assert notes == [
            "note: the lab did not run the commands of hostile/escape-container [c]; "
            "hostile/escape-init [i]; hostile/escape-args [c]: run them sandboxed with "
            "--run-commands (no image: the host's binaries, read-only; see the README's lab "
            "sandbox section)"]
        return
    assert notes == []
    logs = {pod: "".join(c.values()) for pod, c in report["logs"].items()}
    assert set(logs) == {f"hostile/escape-{v}" for v in ("container", "init", "args")}
    for pod, log in logs.items():
        variant = pod.rsplit("-", 1)[1]
        assert f"ran-{token}-{variant}" in log  # it did run
        assert "ESCAPED" not in log
        assert "Read-only file system" in log
        assert "env KUBECONFIG= STK_SECRET=\n" in log


def test_a_running_lab_confines_its_containers(lab_name: str, tmp_path: Path) -> None:
    """While the lab is up, every process the containers started is inside the pod's
    network namespace, none in the root one; ``down`` leaves none."""
    token = _marker()
    source = tmp_path / "hostile.yaml"
    source.write_text(_manifest(token, linger=60))
    lab = lifecycle.up(read_paths([str(source)]), lab_name, run_commands=True)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and len(_processes_with(f"sleep {token}")) < 6:
        time.sleep(0.1)
    sleepers = [int(p.split(":")[0]) for p in _processes_with(f"sleep {token}")]
    assert len(sleepers) >= 6  # two per variant: setsid'd and nohup'd
    pods = {os.stat(f"/run/netns/{p.netns}").st_ino for p in lab.state.pods}
    root = os.stat("/proc/self/ns/net").st_ino  # this test runs in the root namespace
    lasting = 0
    for pid in sleepers:
        try:
            netns = os.stat(f"/proc/{pid}/ns/net").st_ino
            pidns = os.stat(f"/proc/{pid}/ns/pid").st_ino
        except FileNotFoundError:  # ended since it was listed (a refused escape ends at once)
            continue
        assert netns in pods and netns != root
        assert pidns != os.stat("/proc/self/ns/pid").st_ino
        lasting += 1
    assert lasting >= 6  # the setsid'd and nohup'd ones stay
    lifecycle.down(lab_name)
    assert _processes_with(f"sleep {token}") == []


SANDBOX_POD = """
apiVersion: v1
kind: Pod
metadata: {name: inside, namespace: sbx}
spec:
  hostname: box
  subdomain: sub
  setHostnameAsFQDN: true
  securityContext: {runAsUser: 1234, runAsGroup: 5678}
  containers:
  - name: look
    workingDir: /workspace/app
    env:
    - {name: GREETING, value: hello}
    - {name: POD_IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}
    command: [sh, -c]
    args:
    - >-
      echo uid=$(id -u) gid=$(id -g) groups=$(id -G) pwd=$(pwd) host=$(hostname);
      grep CapEff /proc/self/status; echo procs=$(ls /proc | grep -c '^[0-9]');
      echo $(env | sort);
      touch /tmp/t && touch ./w && touch /run/r && echo writable;
      touch /usr/u 2>&1; touch /etc/e 2>&1;
      cat /etc/hosts; echo $(GREETING)
  - {name: nowhere, workingDir: /usr/no-such-dir, command: ["true"]}
  - {name: covered, workingDir: /usr/share, command: [sh, -c, "ls -A | wc -l"]}
status: {podIP: 10.71.0.4}
"""


def test_what_a_sandboxed_container_sees(lab_name: str, tmp_path: Path) -> None:
    source = tmp_path / "pod.yaml"
    source.write_text(SANDBOX_POD)
    lab = lifecycle.up(read_paths([str(source)]), lab_name, run_commands=True)
    lifecycle.wait_for_commands(lab.state, 20)
    logs = lifecycle.read_logs(lab.state, "sbx/inside")
    log = logs["look"]
    assert ("uid=1234 gid=5678 groups=5678 pwd=/workspace/app "
            "host=box.sub.sbx.svc.cluster.local" in log)
    assert "CapEff:\t0000000000000000" in log
    # Its own PID namespace: sh, the subshell, ls and (if it has started by the time ls
    # reads /proc) grep; the host has hundreds.
    procs = re.search(r"^procs=(\d+)$", log, re.M)
    assert procs is not None and 3 <= int(procs.group(1)) <= 4, log
    assert ("GREETING=hello HOME=/ HOSTNAME=box.sub.sbx.svc.cluster.local "
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "
            "POD_IP=10.71.0.4 PWD=/workspace/app\n" in log)
    assert "writable\n" in log
    assert "touch: cannot touch '/usr/u': Read-only file system" in log
    assert "touch: cannot touch '/etc/e': Read-only file system" in log
    assert "10.71.0.4\tbox.sub.sbx.svc.cluster.local\tbox\n" in log
    assert log.rstrip().endswith("hello")
    assert not Path("/workspace").exists()
    assert logs["nowhere"] == (
        "stockade: the container's sandbox could not be set up: workingDir /usr/no-such-dir "
        "does not exist on this host and cannot be made (Read-only file system): the host is "
        "read-only in the lab's sandbox; use a directory that exists, a new top-level one, or "
        "one under /tmp or /run\n")
    assert logs["covered"] == "0\n"  # an existing working directory is private and empty
    status = json.loads((LabNames(lab_name).state_dir / "containers.json").read_text())
    assert status["sbx/inside"]["nowhere"]["exit_code"] == 126


def test_logs_are_capped_and_state_is_private(lab_name: str, tmp_path: Path) -> None:
    source = tmp_path / "yes.yaml"
    source.write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: chatty, namespace: 'y'}\n"
                      "spec: {containers: [{name: c, command: ['yes']}]}\n")
    lab = lifecycle.up(read_paths([str(source)]), lab_name, run_commands=True)
    names = LabNames(lab_name)
    log = log_path(names, 0, 0)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not (log.exists()
                                               and log.read_bytes().endswith(CUT_NOTE)):
        time.sleep(0.1)
    time.sleep(1.0)  # were it still read, it would grow
    data = log.read_bytes()
    assert len(data) == LOG_LIMIT + len(CUT_NOTE) and data.endswith(CUT_NOTE)
    assert data[:LOG_LIMIT] == b"y\n" * (LOG_LIMIT // 2)
    assert lifecycle.read_logs(lab.state, "y/chatty")["c"].endswith(CUT_NOTE.decode())
    used = sum(p.stat().st_size for p in names.state_dir.rglob("*") if p.is_file())
    assert used < 2 * LOG_LIMIT
    status = json.loads((names.state_dir / "containers.json").read_text())
    assert status["y/chatty"]["c"]["log_cut"] is True
    for path in [names.state_dir, *names.state_dir.rglob("*")]:
        if path.is_symlink() or "roots" in path.parts:
            continue
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), path
    assert stat.S_IMODE(lab_state.path_of(lab_name).parent.parent.stat().st_mode) == 0o700


def test_container_output_cannot_drive_the_terminal(lab_name: str, tmp_path: Path) -> None:
    """A container's log in ``lab run``'s text report keeps its lines and tabs, and shows
    any other control character escaped (it could retitle a terminal or move its cursor)."""
    source = tmp_path / "ansi.yaml"
    source.write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: ansi, namespace: t}\n"
                      "spec: {containers: [{name: c, command: [printf, "
                      "'a\\tb\\033]0;pwned\\007\\nnext\\n']}]}\n")
    done = subprocess.run([sys.executable, "-m", "stockade", "lab", "run", str(source),
                           "--name", lab_name, "--run-commands", "--port", "80/TCP"],
                          capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "\n--- logs t/ansi [c]\na\tb\\x1b]0;pwned\\x07\nnext\n" in done.stdout
    assert "\x1b" not in done.stdout and "\x07" not in done.stdout


# Kernel keyrings are not namespaced: a container's uid 0 (or 65534) keyring is the host's.
# Each attempt prints what the kernel answered; the 32-bit ABI (int 0x80) is tried too, as
# a careful attacker would try it against a filter of 64-bit system call numbers only.
KEYRING_SCRIPT = r"""
import ctypes, mmap, os, sys
libc = ctypes.CDLL(None, use_errno=True)
def answer(r):
    return "refused" if r < 0 else "ESCAPED"
name = sys.argv[1].encode()
# add_key(2) into the user keyring (-4), then the user session (-5) and persistent ones.
print("user", answer(libc.syscall(248, b"user", name, b"x", 1, ctypes.c_int(-4))))
print("usess", answer(libc.syscall(248, b"user", name + b"s", b"x", 1, ctypes.c_int(-5))))
print("persistent", answer(libc.syscall(250, 22, ctypes.c_int(-1), ctypes.c_int(-3))))
print("x32", answer(libc.syscall(0x40000000 | 250, 0, ctypes.c_int(-4), 0)))
# keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_USER_KEYRING, 0) through int 0x80 (i386 nr 288)
code = bytes([0x53, 0xb8, 32, 1, 0, 0, 0xbb, 0, 0, 0, 0, 0xb9, 0xfc, 0xff, 0xff, 0xff,
              0xba, 0, 0, 0, 0, 0xcd, 0x80, 0x5b, 0xc3])
buf = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
buf.write(code)
call = ctypes.CFUNCTYPE(ctypes.c_int)(ctypes.addressof(ctypes.c_char.from_buffer(buf)))
print("i386", answer(call()))
"""


def _host_has_key(name: str) -> bool:
    libc = ctypes.CDLL(None, use_errno=True)
    return any(libc.syscall(250, 10, ctypes.c_int(ring), b"user", key.encode(), 0) >= 0
               for ring in (-4, -5) for key in (name, name + "s"))


@pytest.mark.skipif(os.uname().machine != "x86_64", reason="the attempts use x86_64 numbers")
@pytest.mark.parametrize("user", [0, 65534])
def test_a_container_cannot_reach_the_hosts_keyrings(lab_name: str, tmp_path: Path,
                                                     user: int) -> None:
    key = f"stk-key-{_marker()}"
    source = tmp_path / "keys.yaml"
    source.write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: keys, namespace: k}\n"
        f"spec:\n  securityContext: {{runAsUser: {user}, runAsGroup: {user}}}\n"
        f"  containers: [{{name: c, command: [python3, /var/tmp/{lab_name}.py, {key}]}}]\n")
    copy = Path(f"/var/tmp/{lab_name}.py")  # /tmp is private in the sandbox, /var/tmp not
    copy.write_text(KEYRING_SCRIPT)
    copy.chmod(0o644)
    try:
        lab = lifecycle.up(read_paths([str(source)]), lab_name, run_commands=True)
        lifecycle.wait_for_commands(lab.state, 20)
        log = lifecycle.read_logs(lab.state, "k/keys")["c"]
    finally:
        copy.unlink()
    assert log == "user refused\nusess refused\npersistent refused\nx32 refused\n" \
                  "i386 refused\n"
    assert not _host_has_key(key)
