"""``stockade hosts``: exact stdout bytes, notes on stderr, exit codes, errors for people.

Runs the real CLI entry point (``main``) in-process, and once as a real subprocess so that
the bytes on the actual stdout pipe are checked too.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from stockade.cli.main import main

ROOT = Path(__file__).parents[2]
GOLDEN = ROOT / "tests" / "hosts" / "golden"
SEED = ROOT / "examples" / "hostaliases" / "hostaliases-konvoy-pod.yaml"
SEED_SHA256 = "7a6f6a034dfa1eb4b614b31dad11860cfa56e7a449b96cfa96dbe1a7816b4bc8"
HOST_NETWORK_HEADER = b"# Kubernetes-managed hosts file (host network).\n"


def run(capsysbinary: pytest.CaptureFixture[bytes], *argv: str) -> tuple[int, bytes, str]:
    code = main(["hosts", *argv])
    out, err = capsysbinary.readouterr()
    return code, out, err.decode()


def write(tmp_path: Path, text: str, name: str = "pod.yaml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


POD = """apiVersion: v1
kind: Pod
metadata:
  name: {name}
spec:
{extra}  containers:
  - name: app
    image: busybox
{containers}"""


def pod_yaml(name: str = "p", extra: str = "", containers: str = "", status: str = "") -> str:
    return POD.format(name=name, extra=extra, containers=containers) + status


@pytest.mark.parametrize("name", sorted(p.stem for p in GOLDEN.glob("*.yaml")))
def test_golden_cases_through_the_cli(capsysbinary: pytest.CaptureFixture[bytes],
                                      name: str) -> None:
    args_file = GOLDEN / f"{name}.args"
    flags = [t for t in args_file.read_text().split("\n") if t] if args_file.exists() else []
    node = GOLDEN / f"{name}.node-hosts"
    if node.exists():
        flags += ["--node-hosts", str(node)]
    code, out, _ = run(capsysbinary, str(GOLDEN / f"{name}.yaml"), *flags)
    assert code == 0
    assert out == (GOLDEN / f"{name}.hosts").read_bytes()


def test_seed_example_exact_output_and_silence(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    code, out, err = run(capsysbinary, str(SEED))
    assert (code, err) == (0, "")
    assert hashlib.sha256(out).hexdigest() == SEED_SHA256


def test_seed_example_in_a_real_process() -> None:
    proc = subprocess.run([sys.executable, "-m", "stockade", "hosts", str(SEED)],
                          capture_output=True, check=False, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == b""
    assert hashlib.sha256(proc.stdout).hexdigest() == SEED_SHA256


def test_reads_stdin(capsysbinary: pytest.CaptureFixture[bytes],
                     monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    monkeypatch.setattr(sys, "stdin", io.StringIO(SEED.read_text()))
    code, out, _ = run(capsysbinary, "-")
    assert code == 0
    assert hashlib.sha256(out).hexdigest() == SEED_SHA256


def test_pod_ip_flags_override_status(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    code, out, _ = run(capsysbinary, str(SEED), "--pod-ip", "10.9.9.9", "--pod-ip", "fd00::9")
    assert code == 0
    assert b"\n10.9.9.9\thostaliases-konvoy-pod\nfd00::9\thostaliases-konvoy-pod\n\n" in out
    assert b"10.200.0.5" not in out


def test_invalid_pod_ip_flag(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    code, out, err = run(capsysbinary, str(SEED), "--pod-ip", "10.0.0.256")
    assert (code, out) == (2, b"")
    assert '--pod-ip "10.0.0.256": not a valid IP address' in err


def test_pod_without_ip_explains_and_suggests_pod_ip(
        capsysbinary: pytest.CaptureFixture[bytes], tmp_path: Path) -> None:
    path = write(tmp_path, pod_yaml("noip"))
    code, out, err = run(capsysbinary, path)
    assert (code, out) == (2, b"")
    assert f"{path}:1: Pod default/noip has no pod IP" in err
    assert "only once the pod has an IP" in err
    assert "--pod-ip" in err
    assert "Traceback" not in err


def test_workload_needs_pod_name(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    code, out, err = run(capsysbinary, str(GOLDEN / "deployment-template.yaml"),
                         "--pod-ip", "10.0.0.1")
    assert (code, out) == (2, b"")
    assert "Deployment/web is a workload" in err
    assert "--pod-name" in err


def test_invalid_pod_name(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    code, _, err = run(capsysbinary, str(GOLDEN / "deployment-template.yaml"),
                       "--pod-ip", "10.0.0.1", "--pod-name", "Web_1")
    assert code == 2
    assert '--pod-name "Web_1": a pod name must be a lowercase RFC 1123 subdomain' in err


def test_pod_name_contradicting_a_pod(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    code, _, err = run(capsysbinary, str(SEED), "--pod-name", "other")
    assert code == 2
    assert f"{SEED}:9: --pod-name \"other\" differs from the Pod's own name" in err


MOUNTS_HOSTS = """  - name: own-hosts
    image: busybox
    volumeMounts:
    - name: hosts
      mountPath: /etc/hosts
"""
IP = "status:\n  podIP: 10.0.0.8\n"


def test_container_mounting_etc_hosts(capsysbinary: pytest.CaptureFixture[bytes],
                                      tmp_path: Path) -> None:
    path = write(tmp_path, pod_yaml("mixed", containers=MOUNTS_HOSTS, status=IP))
    code, out, err = run(capsysbinary, path, "--container", "own-hosts")
    assert (code, out) == (1, b"")
    assert 'container "own-hosts" of Pod default/mixed mounts its own /etc/hosts' in err
    # Its sibling still gets the managed file.
    code, out, err = run(capsysbinary, path, "--container", "app")
    assert code == 0
    assert out.endswith(b"\n10.0.0.8\tmixed\n")
    assert err == ""


def test_without_container_notes_who_keeps_its_own_file(
        capsysbinary: pytest.CaptureFixture[bytes], tmp_path: Path) -> None:
    path = write(tmp_path, pod_yaml("mixed", containers=MOUNTS_HOSTS, status=IP))
    code, out, err = run(capsysbinary, path)
    assert code == 0
    assert out.endswith(b"\n10.0.0.8\tmixed\n")
    assert err == ('note: container "own-hosts" mounts its own /etc/hosts and does not get '
                   "this file\n")


def test_unknown_container(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    code, out, err = run(capsysbinary, str(SEED), "--container", "nope")
    assert (code, out) == (2, b"")
    assert 'has no container "nope" (containers: cat-hosts)' in err


def test_long_name_is_noted(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    code, out, err = run(capsysbinary, str(GOLDEN / "long-name-dash.yaml"))
    assert code == 0
    assert out == (GOLDEN / "long-name-dash.hosts").read_bytes()
    assert "longer than 63 characters; the kubelet truncates it to" in err


def test_host_network_defaults_to_the_real_etc_hosts(
        capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    code, out, _ = run(capsysbinary, str(GOLDEN / "host-network-no-aliases.yaml"))
    assert code == 0
    assert out == HOST_NETWORK_HEADER + Path("/etc/hosts").read_bytes()


def test_host_network_unreadable_node_file(capsysbinary: pytest.CaptureFixture[bytes],
                                           tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    code, out, err = run(capsysbinary, str(GOLDEN / "host-network.yaml"),
                         "--node-hosts", str(missing))
    assert (code, out) == (2, b"")
    assert f"{missing} (the node's hosts file, needed for a hostNetwork pod): no such " in err


def test_host_network_ignores_pod_ip_with_a_note(capsysbinary: pytest.CaptureFixture[bytes]
                                                 ) -> None:
    code, out, err = run(capsysbinary, str(GOLDEN / "host-network.yaml"),
                         "--node-hosts", str(GOLDEN / "host-network.node-hosts"),
                         "--pod-ip", "10.0.0.1")
    assert code == 0
    assert out == (GOLDEN / "host-network.hosts").read_bytes()
    assert "--pod-ip is not used" in err


def test_file_without_pod(capsysbinary: pytest.CaptureFixture[bytes], tmp_path: Path) -> None:
    path = write(tmp_path, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n")
    code, _, err = run(capsysbinary, path)
    assert code == 2
    assert "no Pod or workload" in err


def test_file_with_two_pods(capsysbinary: pytest.CaptureFixture[bytes], tmp_path: Path) -> None:
    path = write(tmp_path, pod_yaml("a", status=IP) + "---\n" + pod_yaml("b", status=IP))
    code, _, err = run(capsysbinary, path)
    assert code == 2
    assert "holds 2 pods and workloads (Pod/a, Pod/b)" in err


def test_missing_file(capsysbinary: pytest.CaptureFixture[bytes], tmp_path: Path) -> None:
    code, _, err = run(capsysbinary, str(tmp_path / "absent.yaml"))
    assert code == 2
    assert "absent.yaml: no such file or directory" in err


IP_MSG = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"
SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "
    "or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex "
    r"used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
BAD_ALIASES = """  hostAliases:
  - ip: "not-an-ip"
    hostnames: ["ok.local"]
  - ip: "10.1.2.3"
    hostnames: ["Foo.Local", "fine", "trailing.dot."]
  - ip: ""
"""


def test_invalid_aliases_print_every_finding(capsysbinary: pytest.CaptureFixture[bytes],
                                             tmp_path: Path) -> None:
    # Passes once stockade.model.validate.validate_pod checks hostAliases (other workstream).
    path = write(tmp_path, pod_yaml("bad-aliases", extra=BAD_ALIASES, status=IP))
    code, out, err = run(capsysbinary, path)
    assert (code, out) == (2, b"")
    prefix = f"error: {path}:1: Pod default/bad-aliases: spec.hostAliases"
    lines = err.splitlines()
    assert lines[:4] == [
        f'{prefix}[0].ip: Invalid value: "not-an-ip": {IP_MSG}',
        f'{prefix}[1].hostnames[0]: Invalid value: "Foo.Local": {SUBDOMAIN_MSG}',
        f'{prefix}[1].hostnames[2]: Invalid value: "trailing.dot.": {SUBDOMAIN_MSG}',
        f'{prefix}[2].ip: Invalid value: "": {IP_MSG}',
    ]


def test_invalid_aliases_in_a_workload(capsysbinary: pytest.CaptureFixture[bytes],
                                       tmp_path: Path) -> None:
    # Passes once stockade.model.validate.validate_pod checks hostAliases (other workstream).
    text = (GOLDEN / "deployment-template.yaml").read_text().replace(
        'ip: "10.1.2.3"', 'ip: "10.1.2"')
    path = write(tmp_path, text)
    code, out, err = run(capsysbinary, path, "--pod-name", "web-1", "--pod-ip", "10.0.0.1")
    assert (code, out) == (2, b"")
    assert (f"error: {path}:1: Deployment shop/web: spec.template.spec.hostAliases[0].ip: "
            f'Invalid value: "10.1.2": {IP_MSG}') in err.splitlines()


EXAMPLES = ROOT / "examples" / "hostaliases"


def test_deployment_example(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    code, out, _ = run(capsysbinary, str(EXAMPLES / "hostaliases-deployment.yaml"),
                       "--pod-name", "web-7d4b9c6f5-x2x9z", "--pod-ip", "10.200.0.7")
    assert code == 0
    # The golden Deployment is in namespace shop; the example in its own, hosts-demo.
    golden = (GOLDEN / "deployment-template.hosts").read_bytes()
    assert b".web.shop.svc." in golden
    assert out == golden.replace(b".web.shop.svc.", b".web.hosts-demo.svc.")


def test_host_network_example(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    code, out, _ = run(capsysbinary, str(EXAMPLES / "hostaliases-hostnetwork-pod.yaml"),
                       "--node-hosts", str(EXAMPLES / "node-hosts"))
    assert code == 0
    assert out == (HOST_NETWORK_HEADER + b"127.0.0.1 localhost\n192.168.1.10 node1\n\n"
                   b"# Entries added by HostAliases.\n127.0.0.1\tfoo.node.local\tbar.node.local\n")
