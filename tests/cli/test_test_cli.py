"""``stockade test`` end to end: the shop's promises pass on the shop and one fails on its
broken variant; every selector form, Services, any-port promises, netassert files, every
failure message, test files validated with file, line and field, JSON and JUnit (parsed
back), and the exit codes."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from k8s_double import ApiServerDouble
from kubeconfig_files import Kubeconfigs

from stockade.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
PROMISES = str(ROOT / "examples" / "shop" / "tests" / "promises.yaml")
BROKEN = str(ROOT / "variants" / "shop-broken")
SHOP = str(ROOT / "examples" / "shop")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def suite(*expectations: str, manifests: str = "") -> str:
    head = ("apiVersion: stockade.dev/v1alpha1\nkind: ConnectivityTest\nmetadata: {name: t}\n"
            f"spec:\n{manifests}  expect:\n")
    return head + "".join(expectations)


def expect(name: str, source: str, destination: str, allowed: bool, ports: str = "") -> str:
    text = f"  - name: {name}\n    from: {source}\n    to: {destination}\n"
    if ports:
        text += f"    ports: {ports}\n"
    return text + f"    allowed: {'true' if allowed else 'false'}\n"


# --- the shop ---------------------------------------------------------------------------------

def test_the_shop_keeps_its_promises(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "test", PROMISES)
    assert code == 0
    assert out.splitlines()[-1] == "6 promises: 6 passed, 0 failed, 0 skipped"
    assert all(line.startswith("PASS  ") for line in out.splitlines()[:-1])


def test_the_broken_variant_breaks_one_with_its_explanation(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "test", PROMISES, BROKEN)
    assert code == 1
    lines = out.splitlines()
    fail = lines.index(f"FAIL  the canary API never reaches the database  ({PROMISES}:19)")
    assert lines[fail + 1:fail + 7] == [
        "      1 of 1 check is allowed (promised: none allowed)",
        "      why:",
        "        shop/Deployment/api-canary -> shop/StatefulSet/db TCP 5432: allowed",
        "          egress  shop/Deployment/api-canary: not isolated for egress",
        "          ingress shop/StatefulSet/db: isolated by shop/default-deny, "
        "shop/db-from-api-and-report, shop/metrics-from-monitoring",
        "                  allowed by shop/db-from-api-and-report ingress[0] (from[0], "
        "ports[0])"]
    assert lines[-1] == "6 promises: 5 passed, 1 failed, 0 skipped"


def test_json_and_junit(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "test", PROMISES, BROKEN, "-o", "json")
    assert code == 1
    answer = json.loads(out)
    assert answer["passed"] is False
    assert answer["summary"] == {"passed": 5, "failed": 1, "skipped": 0}
    failed = [r for r in answer["results"] if r["status"] == "failed"]
    assert [(r["name"], r["line"], r["checks"], r["failures"]) for r in failed] == [
        ("the canary API never reaches the database", 19, 1, 1)]
    assert failed[0]["breaches"] == [{"from": "shop/Deployment/api-canary",
                                      "to": "shop/StatefulSet/db", "protocol": "TCP",
                                      "port": 5432, "allowed": True, "connections": None}]
    assert failed[0]["explanation"]["ingress"]["allowed_by"][0]["policy"] == \
        "shop/db-from-api-and-report"

    code, out, _ = run(capsys, "test", PROMISES, BROKEN, "-o", "junit")
    assert code == 1
    root = ET.fromstring(out)
    assert (root.tag, root.get("tests"), root.get("failures"), root.get("skipped")) == (
        "testsuites", "6", "1", "0")
    [testsuite] = root
    assert testsuite.get("name") == "shop-promises"
    cases = list(testsuite)
    assert [c.get("name") for c in cases][2] == "the canary API never reaches the database"
    failure = cases[2].find("failure")
    assert failure is not None and cases[2].get("line") == "19"
    assert failure.get("message") == "1 of 1 check is allowed (promised: none allowed)"
    assert "allowed by shop/db-from-api-and-report ingress[0]" in (failure.text or "")
    assert all(c.find("failure") is None for i, c in enumerate(cases) if i != 2)


# --- selector forms, Services, any port ------------------------------------------------------

PODS = """\
apiVersion: v1
kind: Namespace
metadata: {name: app, labels: {team: shop}}
---
apiVersion: v1
kind: Namespace
metadata: {name: ops, labels: {team: platform}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: app}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, ports: [{name: http, containerPort: 8080}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: db, namespace: app, labels: {app: db}}
spec: {containers: [{name: c, ports: [{name: pg, containerPort: 5432}]}]}
status: {podIP: 10.1.0.5}
---
apiVersion: v1
kind: Pod
metadata: {name: probe, namespace: ops, labels: {app: probe}}
spec: {containers: [{name: c}]}
status: {podIP: 10.1.0.9}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: app}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}]
---
apiVersion: v1
kind: Service
metadata: {name: nothing, namespace: app}
spec:
  selector: {app: none}
  ports: [{port: 80}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-from-web, namespace: app}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
  - from: [{podSelector: {matchLabels: {app: web}}}]
    ports: [{port: 5432}]
"""


@pytest.fixture
def cluster(tmp_path: Path) -> str:
    return write(tmp_path, "cluster.yaml", PODS)


def results(capsys: pytest.CaptureFixture[str], tmp_path: Path, cluster: str,
            *expectations: str) -> tuple[int, list[dict[str, Any]]]:
    tests = write(tmp_path, "t.yaml", suite(*expectations))
    code, out, err = run(capsys, "test", tests, cluster, "-o", "json")
    assert code in (0, 1), err
    return code, json.loads(out)["results"]


def test_every_endpoint_form(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                             cluster: str) -> None:
    code, found = results(
        capsys, tmp_path, cluster,
        expect("pod to pod", "app/Deployment/web", "app/db", True, "[5432/TCP]"),
        expect("by IP", "10.1.0.9", "10.1.0.5", False, "[5432]"),
        expect("outside address", "app/db", "192.0.2.1", True, "[443/TCP]"),
        expect("namespace by name", "{namespace: ops}", "app/db", False, "[5432/TCP]"),
        expect("namespace by labels", "{namespaceSelector: {matchLabels: {team: platform}}}",
               "app/db", False, "[5432/TCP]"),
        expect("pods by labels everywhere",
               "{namespaceSelector: {}, podSelector: {matchExpressions: "
               "[{key: app, operator: In, values: [web]}]}}", "app/db", True, "[5432/TCP]"),
        expect("a Service", "{namespace: ops}", "svc/app/web:http", True),
        expect("any port, allowed", "app/db", "app/Deployment/web", True),
        expect("any port, denied", "ops/probe", "app/db", False),
    )
    assert code == 0, found
    assert [r["checks"] for r in found] == [1, 1, 1, 1, 1, 1, 1, 1, 1]


def test_every_failure_message(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                               cluster: str) -> None:
    code, found = results(
        capsys, tmp_path, cluster,
        expect("denied pair", "ops/probe", "app/db", True, "[5432/TCP, 5433/TCP]"),
        expect("allowed pair", "app/Deployment/web", "app/db", False, "[5432/TCP]"),
        expect("nobody", "{namespace: nowhere}", "app/db", False, "[5432/TCP]"),
        expect("no destination", "app/db", "{namespace: app, podSelector: {matchLabels: "
               "{app: ghost}}}", True, "[80]"),
        expect("itself only", "app/db", "{namespace: app, podSelector: {matchLabels: "
               "{app: db}}}", True, "[80]"),
        expect("no backends", "app/db", "svc/app/nothing", True),
        expect("any port, nothing open", "ops/probe", "app/db", True),
        expect("any port, something open", "app/Deployment/web", "app/db", False),
        expect("an address and itself", "192.0.2.7", "192.0.2.7", True, "[80]"),
    )
    assert code == 1
    assert [(r["status"], r["message"]) for r in found] == [
        ("failed", "2 of 2 checks are denied (promised: all allowed)"),
        ("failed", "1 of 1 check is allowed (promised: none allowed)"),
        ("failed", "from (namespace nowhere) matched no endpoint: a promise about nothing "
                   "fails"),
        ("failed", "to (namespace app, podSelector {app=ghost}) matched no endpoint: a "
                   "promise about nothing fails"),
        ("failed", "from and to are the same endpoint: no pair of distinct endpoints to "
                   "check"),
        ("failed", "svc/app/nothing: no usable backends (its selector matches no endpoint "
                   "of the input)"),
        ("failed", "1 of 1 pair is denied (promised: all allowed)"),
        ("failed", "1 of 1 pair is allowed (promised: none allowed)"),
        ("failed", "from and to are the same endpoint: no pair of distinct endpoints to "
                   "check"),
    ]
    assert found[6]["breaches"][0]["connections"] == "none"
    assert found[7]["breaches"][0]["connections"] == "TCP 5432"
    explanation = found[6]["explanation"]
    assert explanation["port"] == 5432  # a port the destination declares
    assert explanation["ingress"]["misses"][0]["reasons"] == [
        "from[0]: ops/probe is in namespace ops; a podSelector alone selects pods of app only"]


def test_text_names_the_first_breaches(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                       cluster: str) -> None:
    tests = write(tmp_path, "t.yaml", suite(
        expect("two ports", "ops/probe", "app/db", True, "[5432/TCP, 5433/TCP]")))
    code, out, _ = run(capsys, "test", tests, cluster)
    assert code == 1
    assert out.splitlines()[1:4] == [
        "      2 of 2 checks are denied (promised: all allowed)",
        "        ops/probe -> app/db TCP 5432: denied",
        "        ops/probe -> app/db TCP 5433: denied"]


# --- validation of test files ----------------------------------------------------------------

def test_test_files_are_validated_with_file_line_and_field(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, cluster: str) -> None:
    text = suite(
        "  - name: typo\n    from: app/db\n    to: app/db\n    alowed: true\n",
        "  - name: bad port\n    from: app/db\n    to: ops/probe\n    ports: [54x/TCP]\n"
        "    allowed: false\n",
        "  - name: bad selector\n    from: {namespace: app, podSelector: {matchExpressions: "
        "[{key: app, operator: Near}]}}\n    to: ops/probe\n    ports: [80]\n    allowed: \"no\"\n",
        "  - name: lonely podSelector\n    from: {podSelector: {}}\n    to: svc/app/web\n"
        "    ports: [80]\n    allowed: true\n",
        "  - name: a Service source\n    from: svc/app/web\n    to: 10.1.0.5\n    allowed: true\n")
    tests = write(tmp_path, "t.yaml", text)
    code, out, err = run(capsys, "test", tests, cluster)
    assert code == 2 and out == ""
    assert err.splitlines() == [
        f"error: {tests}:9: ConnectivityTest t: spec.expect[0].alowed: Forbidden: unknown "
        "field (known: name, from, to, ports, allowed)",
        f"error: {tests}:6: ConnectivityTest t: spec.expect[0].allowed: Required value: true "
        "(every pair on every port is allowed) or false (none is)",
        f"error: {tests}:13: ConnectivityTest t: spec.expect[1].ports[0]: Invalid value: "
        '"54x/TCP": must be PORT/PROTOCOL: a port from 1 to 65535 and TCP, UDP or SCTP '
        "(80/TCP, 53/UDP; TCP if omitted)",
        f"error: {tests}:16: ConnectivityTest t: spec.expect[2].from.podSelector."
        'matchExpressions[0].operator: Invalid value: "Near": not a valid selector operator',
        f"error: {tests}:19: ConnectivityTest t: spec.expect[2].allowed: Invalid value: "
        '"no": must be true or false',
        f"error: {tests}:21: ConnectivityTest t: spec.expect[3].from.namespace: Required "
        "value: a podSelector needs namespace or namespaceSelector (namespaceSelector: {} for "
        "every namespace)",
        f"error: {tests}:23: ConnectivityTest t: spec.expect[3].ports: Forbidden: the port of "
        "a Service destination is the Service's (svc/ns/name:port)",
        f"error: {tests}:26: ConnectivityTest t: spec.expect[4].from: Invalid value: "
        '"svc/app/web": a Service is only a destination (clients connect to it; its backends '
        "answer)",
        f"error: {tests}:25: ConnectivityTest t: spec.expect[4].ports: Required value: "
        "10.1.0.5 is an address, not a pod: list the ports to check",
        # --skip-invalid skips invalid manifests, never promises: no hint to it.
        "stockade: 9 errors; nothing analysed",
    ]


def test_document_level_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                               cluster: str) -> None:
    tests = write(tmp_path, "t.yaml", (
        "apiVersion: stockade.dev/v1\nkind: ConnectivityTest\nmetadata: {name: x, team: a}\n"
        "spec:\n  manifests: ../k8s\n  expect:\n  - {name: a, from: a/b, to: a/c, ports: [1], "
        "allowed: true}\n  - {name: a, from: a/b, to: a/c, ports: [2], allowed: true}\n"))
    code, _, err = run(capsys, "test", tests, cluster)
    assert code == 2
    assert err.splitlines()[:5] == [
        f'error: {tests}:1: ConnectivityTest x: apiVersion: Unsupported value: '
        '"stockade.dev/v1": supported values: "stockade.dev/v1alpha1"',
        f"error: {tests}:3: ConnectivityTest x: metadata.team: Forbidden: unknown field "
        "(known: name, labels, annotations)",
        f'error: {tests}:5: ConnectivityTest x: spec.manifests: Invalid value: "../k8s": must '
        "be a list of paths (files or directories)",
        f'error: {tests}:8: ConnectivityTest x: spec.expect[1].name: Duplicate value: "a"',
        "stockade: 4 errors; nothing analysed",
    ]
    code, _, err = run(capsys, "test", "--skip-invalid", tests, cluster)
    assert code == 2 and err.endswith("stockade: 4 errors; nothing analysed\n")


def test_unknown_names_are_input_errors_at_the_promise(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, cluster: str) -> None:
    tests = write(tmp_path, "t.yaml", suite(expect("ghost", "app/web", "app/db", True,
                                                   "[80]")))
    code, _, err = run(capsys, "test", tests, cluster)
    assert code == 2
    assert err.endswith(f"stockade: error: {tests}:6: t: spec.expect[0].from: no pod "
                        "'app/web' in the input; workloads are named ns/Kind/name: "
                        "app/Deployment/web\n")


def test_a_test_file_that_is_not_yaml_is_named(capsys: pytest.CaptureFixture[str],
                                               tmp_path: Path, cluster: str) -> None:
    """A syntax error in the only test file is reported at its line, not as "no test file
    among the arguments"."""
    tests = write(tmp_path, "t.yaml", suite(expect("a", "app/db", "ops/probe", True, "[1]"))
                  + "  - name: b\n    from: {a: \n")
    for argv in ([tests], [tests, cluster]):
        code, _, err = run(capsys, "test", *argv)
        assert code == 2
        assert err == (f"stockade: error: {tests}:13: invalid YAML: did not find expected node "
                       "content (no test file could be read among the arguments)\n")


def test_bad_entries_of_spec_manifests_are_named(capsys: pytest.CaptureFixture[str],
                                                 tmp_path: Path, cluster: str) -> None:
    """An empty entry is refused as such (not as "must be a list"), and one naming nothing
    is reported with the test file and the field, not as a bare path."""
    (tmp_path / "k8s").mkdir()
    tests = write(tmp_path, "t.yaml", suite(
        expect("a", "app/db", "ops/probe", True, "[1]"),
        manifests="  manifests: [k8s/, '']\n"))
    code, _, err = run(capsys, "test", tests)
    assert code == 2
    assert err.splitlines()[0] == (f'error: {tests}:5: ConnectivityTest t: spec.manifests[1]: '
                                   'Invalid value: "": must be a path (a file or directory)')
    tests = write(tmp_path, "t.yaml", suite(
        expect("a", "app/db", "ops/probe", True, "[1]"),
        manifests="  manifests: [k8s/, ../nowhere/]\n"))
    code, _, err = run(capsys, "test", tests)
    assert code == 2
    assert err == (f"stockade: error: {tests}:1: t: spec.manifests[1]: '../nowhere/' "
                   f"({tmp_path.parent / 'nowhere'}) does not exist\n")


def test_usage_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path, cluster: str) -> None:
    code, _, err = run(capsys, "test", cluster)
    assert code == 2
    assert err.startswith(f"stockade: error: no test file among the arguments ({cluster}: "
                          "manifests): give ConnectivityTest files")
    tests = write(tmp_path, "t.yaml", suite(expect("a", "app/db", "ops/probe", True, "[1]")))
    code, _, err = run(capsys, "test", tests)
    assert code == 2
    assert err == (f"stockade: error: {tests}:1: t: nothing to check the promises against: "
                   "its spec.manifests is empty; give manifest PATHs\n")


def test_a_test_file_with_a_document_of_another_kind_is_refused_not_left_out(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, cluster: str) -> None:
    """One misspelt kind (or a manifest) among a file's ConnectivityTests once made the whole
    file read as manifests: its promises were never checked, and nothing said so."""
    first = write(tmp_path, "a.yaml", suite(expect("a", "app/db", "ops/probe", True, "[1]")))
    second = suite(expect("b", "app/db", "ops/probe", False, "[1]"))
    for other, message in [
            (second.replace("kind: ConnectivityTest", "kind: ConectivityTest"),
             'ConectivityTest t: kind: Unsupported value: "ConectivityTest": supported '
             'values: "ConnectivityTest"'),
            ("apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n",
             'Namespace x: kind: Unsupported value: "Namespace": supported values: '
             '"ConnectivityTest"'),
            ("- a\n", 'document <unnamed>: Invalid value: "array": a test file holds only '
             "ConnectivityTest documents")]:
        tests = write(tmp_path, "b.yaml", second + "---\n" + other)
        code, out, err = run(capsys, "test", first, tests, cluster)
        assert (code, out) == (2, "")
        assert err.splitlines()[0] == f"error: {tests}:12: {message}"


def test_a_netassert_list_with_a_broken_test_is_read_as_tests(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, cluster: str) -> None:
    """A list in which one test lacks every netassert field is still a netassert file (not
    a manifest that "must be an object"): the broken test is named."""
    tests = write(tmp_path, "n.yaml", NETASSERT + "- {nam: typo}\n")
    code, _, err = run(capsys, "test", tests, cluster)
    assert code == 2
    assert f"error: {tests}:45: netassert test n.yaml: [5].name: Required value" in err


def test_manifests_of_the_file_and_add(capsys: pytest.CaptureFixture[str],
                                       tmp_path: Path) -> None:
    (tmp_path / "k8s").mkdir()
    write(tmp_path, "k8s/cluster.yaml", PODS)
    extra = write(tmp_path, "deny.yaml", "apiVersion: networking.k8s.io/v1\nkind: "
                  "NetworkPolicy\nmetadata: {name: deny, namespace: ops}\nspec: "
                  "{podSelector: {}, policyTypes: [Egress]}\n")
    tests = write(tmp_path, "t.yaml", suite(
        expect("probe reaches web", "ops/probe", "app/Deployment/web", True, "[8080]"),
        manifests="  manifests: [k8s/]\n"))
    assert run(capsys, "test", tests)[0] == 0
    assert run(capsys, "test", "--add", tests, extra)[0] == 1
    # PATHs replace the file's manifests: deny.yaml alone has no pod to check.
    assert run(capsys, "test", tests, extra)[0] == 2


# --- netassert v2 ------------------------------------------------------------------------

NETASSERT = """\
---
- name: web-to-db
  type: k8s
  protocol: tcp
  targetPort: 5432
  timeoutSeconds: 20
  attempts: 3
  exitCode: 0
  src:
    k8sResource: {kind: deployment, name: web, namespace: app}
  dst:
    k8sResource: {kind: pod, name: db, namespace: app}
- name: probe-to-db
  type: k8s
  protocol: tcp
  targetPort: 5432
  exitCode: 1
  src:
    k8sResource: {kind: pod, name: probe, namespace: ops}
  dst:
    k8sResource: {kind: pod, name: db, namespace: app}
- name: db-to-outside
  type: k8s
  protocol: udp
  targetPort: 53
  exitCode: 0
  src:
    k8sResource: {kind: pod, name: db, namespace: app}
  dst:
    host: {name: 192.0.2.53}
- name: to-a-dns-name
  type: k8s
  targetPort: 443
  src:
    k8sResource: {kind: pod, name: db, namespace: app}
  dst:
    host: {name: control-plane.io}
- name: another-type
  type: http
  targetPort: 80
  src:
    k8sResource: {kind: pod, name: db, namespace: app}
  dst:
    k8sResource: {kind: pod, name: probe, namespace: ops}
"""


def test_netassert_files_run_statically(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                        cluster: str) -> None:
    tests = write(tmp_path, "netassert.yaml", NETASSERT)
    code, out, err = run(capsys, "test", tests, cluster)
    assert code == 0
    assert err.splitlines()[0] == (f"note: {tests}: netassert fields not used: "
                                   "timeoutSeconds, attempts (checked statically: no "
                                   "timeouts, no retries)")
    assert out.splitlines() == [
        f"PASS  web-to-db  ({tests}:2)",
        f"PASS  probe-to-db  ({tests}:13)",
        f"PASS  db-to-outside  ({tests}:22)",
        f"SKIP  to-a-dns-name  ({tests}:31)",
        "      dst.host.name 'control-plane.io' is a DNS name: its address is not in the "
        "manifests (give an IP address to test it)",
        f"SKIP  another-type  ({tests}:38)",
        "      type 'http': only k8s tests are understood",
        "5 promises: 3 passed, 0 failed, 2 skipped",
    ]
    code, out, _ = run(capsys, "test", tests, cluster, "-o", "junit")
    root = ET.fromstring(out)
    assert root.get("skipped") == "2"
    skipped = [c.get("name") for c in root.iter("testcase") if c.find("skipped") is not None]
    assert skipped == ["to-a-dns-name", "another-type"]


def test_a_suite_kept_among_its_manifests(capsys: pytest.CaptureFixture[str],
                                          tmp_path: Path) -> None:
    """A test file inside the manifests' directory is a test file, not a manifest: a
    netassert list there was refused as "a manifest must be an object"."""
    (tmp_path / "k8s" / "tests").mkdir(parents=True)
    write(tmp_path, "k8s/cluster.yaml", PODS)
    tests = write(tmp_path, "k8s/tests/netassert.yaml", NETASSERT)
    code, out, err = run(capsys, "test", tests, str(tmp_path / "k8s"))
    assert code == 0, err
    assert out.splitlines()[-1] == "5 promises: 3 passed, 0 failed, 2 skipped"
    empty = tmp_path / "empty"
    (empty / "tests").mkdir(parents=True)
    tests = write(tmp_path, "empty/tests/netassert.yaml", NETASSERT)
    code, _, err = run(capsys, "test", tests, str(empty))
    assert code == 2
    assert err.endswith(f"\nstockade: error: no manifests in {empty} besides the test "
                        "files: nothing to check the promises against\n")


def test_netassert_problems(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                            cluster: str) -> None:
    text = NETASSERT.replace("kind: deployment", "kind: job").replace("protocol: udp",
                                                                      "protocol: sctp")
    text = text.replace("targetPort: 443", "targetPort: 70000").replace("exitCode: 1",
                                                                        "exitcode: 1")
    tests = write(tmp_path, "netassert.yaml", text)
    code, _, err = run(capsys, "test", tests, cluster)
    assert code == 2
    assert err.splitlines()[:4] == [
        f'error: {tests}:10: netassert test netassert.yaml: [0].src.k8sResource.kind: '
        'Unsupported value: "job": supported values: "deployment", "statefulset", '
        '"daemonset", "pod"',
        f"error: {tests}:17: netassert test netassert.yaml: [1].exitcode: Forbidden: unknown "
        "field (known: name, type, protocol, targetPort, timeoutSeconds, attempts, exitCode, "
        "src, dst, pass, failureReason)",
        f'error: {tests}:24: netassert test netassert.yaml: [2].protocol: Unsupported value: '
        '"sctp": supported values: "tcp", "udp"',
        f"error: {tests}:33: netassert test netassert.yaml: [3].targetPort: Invalid value: "
        "70000: must be a port from 1 to 65535",
    ]


def test_promises_against_the_live_cluster(alpha: ApiServerDouble, beta: ApiServerDouble,
                                           kubeconfigs: Kubeconfigs, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """``--cluster`` reads what the promises are checked against from the API (here its
    double: no real API server runs in these tests)."""
    config = str(kubeconfigs.two_contexts(alpha, beta))
    tests = write(tmp_path, "t.yaml", suite(
        expect("the API reaches its database", "prod/Deployment/api", "svc/prod/db:pg", True),
        expect("dev is isolated", "{namespace: dev}", "prod/StatefulSet/db", False,
               "[5432/TCP]")))
    code, out, err = run(capsys, "test", tests, "--cluster", "--kubeconfig", config)
    assert code == 0, err
    assert out.splitlines()[-1] == "2 promises: 2 passed, 0 failed, 0 skipped"


def test_names_from_the_input_are_escaped(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                          cluster: str) -> None:
    """A promise's name is any string: a terminal sequence or a newline in it is written as
    an escape, never acted on and never a forged line."""
    tests = write(tmp_path, "t.yaml", suite(expect(
        '"evil\\e]0;owned\\a\\nPASS  forged"', "ops/probe", "app/db", True, "[5432]")))
    code, out, _ = run(capsys, "test", tests, cluster)
    assert code == 1
    assert "\x1b" not in out and "\x07" not in out
    assert out.splitlines()[0] == f"FAIL  evil\\x1b]0;owned\\x07\\nPASS  forged  ({tests}:6)"
    code, out, _ = run(capsys, "test", tests, cluster, "-o", "junit")
    case = ET.fromstring(out).find(".//testcase")
    assert case is not None and case.get("name") == "evil]0;owned\nPASS  forged"


@pytest.mark.parametrize("port", ["80/", "٨٠/TCP", "８０", "9" * 5000, "0080/TCP"])
def test_a_promise_port_is_read_as_the_command_line_reads_one(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, cluster: str, port: str) -> None:
    """A protocol left empty after its slash, digits that are not ASCII, a number of
    thousands of digits: each a clear error on its field, never TCP 80 nor a traceback.
    Leading zeros within five digits are a number, as they are for --port."""
    tests = write(tmp_path, "t.yaml", suite(
        f"  - name: p\n    from: app/db\n    to: ops/probe\n    ports: ['{port}']\n"
        "    allowed: false\n"))
    code, out, err = run(capsys, "test", tests, cluster)
    if port == "0080/TCP":  # port 80: a promise checked, not a validation error
        assert code in (0, 1) and "Invalid value" not in err and "Traceback" not in err
        return
    assert code == 2 and out == "" and "Traceback" not in err
    assert "spec.expect[0].ports[0]: Invalid value" in err
    assert "must be PORT/PROTOCOL" in err
