"""Workloads through ``matrix``, ``query`` and ``check``: names, --per-pod, notes, skipped kinds.

Runs the real CLI entry point in-process on the shop example and on small inputs.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from matrix_doc import by_name
from stockade.cli.main import main

ROOT = Path(__file__).parents[2]
SHOP = str(ROOT / "examples" / "shop")
TEMPLATE_NOTE = ("note: workloads stand for their pods through their pod templates, which "
                 "have no IP addresses: selectors match them, ipBlocks never do")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


RUNNING = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx, ports: [{name: http, containerPort: 8080}]}]}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: web-7c9f
  namespace: shop
  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, controller: true}]
spec:
  selector: {matchLabels: {app: web, pod-template-hash: 7c9f}}
  template:
    metadata: {labels: {app: web, pod-template-hash: 7c9f}}
    spec: {containers: [{name: web, image: nginx, ports: [{name: http, containerPort: 8080}]}]}
---
apiVersion: v1
kind: Pod
metadata:
  name: web-7c9f-a1
  namespace: shop
  labels: {app: web, pod-template-hash: 7c9f}
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-7c9f, controller: true}]
spec: {containers: [{name: web, image: nginx, ports: [{name: http, containerPort: 8080}]}]}
status: {podIP: 10.1.0.11}
---
apiVersion: v1
kind: Pod
metadata:
  name: web-7c9f-b2
  namespace: shop
  labels: {app: web, pod-template-hash: 7c9f}
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-7c9f, controller: true}]
spec: {containers: [{name: web, image: nginx, ports: [{name: http, containerPort: 8080}]}]}
status: {podIP: 10.1.0.12}
---
apiVersion: v1
kind: Pod
metadata: {name: debug, namespace: shop, labels: {run: debug}}
spec: {containers: [{name: sh, image: busybox}]}
status: {podIP: 10.1.0.99}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-from-debug-only-ip, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
  - from: [{ipBlock: {cidr: 10.1.0.99/32}}]
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: w, namespace: shop}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: shop}
data: {a: b}
"""


@pytest.fixture
def running(tmp_path: Path) -> str:
    path = tmp_path / "running.yaml"
    path.write_text(RUNNING)
    return str(path)


def test_matrix_names_workloads_ns_kind_name(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "matrix", SHOP, "--pods", "-o", "json")
    assert code == 0
    _, matrix = by_name(json.loads(out))
    assert set(matrix) == {
        "shop/Deployment/web", "shop/Deployment/api", "shop/Deployment/api-canary",
        "shop/StatefulSet/db", "shop/Deployment/cache", "shop/CronJob/nightly-report",
        "monitoring/Deployment/prometheus", "monitoring/DaemonSet/node-exporter"}
    assert matrix["shop/CronJob/nightly-report"]["TCP 5432"] == ["shop/StatefulSet/db"]
    assert "shop/StatefulSet/db" in matrix["shop/Deployment/api"]["TCP 5432"]
    assert err.count(TEMPLATE_NOTE) == 1
    code, out, _ = run(capsys, "query", SHOP, "--from", "shop/Deployment/api-canary",
                       "--to", "shop/StatefulSet/db", "--port", "5432")
    assert code == 1
    assert ("from[0]: shop/Deployment/api-canary does not match podSelector "
            "{tier=backend,track=stable}") in out


def test_owned_pods_are_grouped_under_their_deployment(capsys: pytest.CaptureFixture[str],
                                                       running: str) -> None:
    code, out, err = run(capsys, "matrix", running, "-o", "json")
    groups, matrix = by_name(json.loads(out))
    assert code == 0
    assert set(matrix) == {"shop/debug", "shop/Deployment/web"}
    assert groups["shop/Deployment/web"] == ["shop/web-7c9f-a1", "shop/web-7c9f-b2"]
    assert ("note: 1 workload analysed through 2 pods of the input that they own (grouped "
            "under the workload's name)") in err
    assert "note: 1 workload (ReplicaSet) shown as the workload that owns them" in err
    assert TEMPLATE_NOTE not in err  # the pods, with their IPs, stand for the Deployment
    assert "Widget" not in err and "ConfigMap" not in err  # skipped silently


def test_a_workload_with_pods_is_judged_by_its_pods(capsys: pytest.CaptureFixture[str],
                                                    running: str) -> None:
    """ipBlocks match the pods' addresses, which the template lacks: a workload whose pods
    are in the input is answered for one of them, never for its IP-less template."""
    code, out, _ = run(capsys, "query", running, "--from", "shop/debug",
                       "--to", "shop/Deployment/web", "--port", "8080")
    assert code == 0 and "allowed" in out.splitlines()[0]
    code, out, err = run(capsys, "query", running, "--from", "shop/Deployment/web",
                         "--to", "shop/web-7c9f-b2", "--port", "8080")
    assert code == 1
    assert "shop/Deployment/web answered for its pod shop/web-7c9f-a1" in err
    assert "is outside ipBlock 10.1.0.99/32" in out


def test_template_pods_never_match_an_ipblock(capsys: pytest.CaptureFixture[str],
                                             tmp_path: Path) -> None:
    """A workload none of whose pods is in the input is its template, which has no IP."""
    docs = [d for d in RUNNING.split("\n---\n") if "name: web-7c9f-" not in d]
    docs.append("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
                "metadata: {name: debug-in, namespace: shop}\n"
                "spec:\n  podSelector: {matchLabels: {run: debug}}\n"
                "  ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8}}]}]\n")
    path = tmp_path / "t.yaml"
    path.write_text("\n---\n".join(docs))
    code, out, err = run(capsys, "query", str(path), "--from", "shop/Deployment/web",
                         "--to", "shop/debug", "--port", "80")
    assert code == 1
    assert TEMPLATE_NOTE in err
    assert ("from[0]: shop/Deployment/web has no IP address, and an ipBlock matches "
            "addresses only") in out


def test_per_pod_shows_each_pod(capsys: pytest.CaptureFixture[str], running: str) -> None:
    code, out, err = run(capsys, "matrix", running, "--per-pod", "--pods", "-o", "json")
    assert code == 0
    assert list(by_name(json.loads(out))[1]) == ["shop/web-7c9f-a1", "shop/web-7c9f-b2",
                                                "shop/debug"]
    assert ("note: 1 workload analysed through 2 pods of the input that they own (by pod "
            "name)") in err
    assert TEMPLATE_NOTE not in err


def test_query_can_name_a_pod_its_workload_stands_for(capsys: pytest.CaptureFixture[str],
                                                      running: str) -> None:
    code, out, _ = run(capsys, "query", running, "--from", "10.1.0.99",
                       "--to", "shop/web-7c9f-a1", "--port", "8080")
    assert code == 0
    assert out.startswith("shop/debug -> shop/web-7c9f-a1 TCP 8080: allowed")


def test_query_with_a_plain_workload_name_hints_the_form(capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    code, _, err = run(capsys, "query", SHOP, "--from", "shop/web", "--to",
                       "shop/StatefulSet/db", "--port", "5432")
    assert code == 2
    assert ("stockade: error: no pod 'shop/web' in the input; workloads are named "
            "ns/Kind/name: shop/Deployment/web") in err


def test_verbose_lists_skipped_kinds(capsys: pytest.CaptureFixture[str], running: str) -> None:
    _, _, err = run(capsys, "matrix", running, "-v")
    assert "note: skipped 1 object of kind ConfigMap: not modelled" in err
    assert "note: skipped 1 object of kind Widget: not modelled" in err


def test_group_names_for_workloads(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    text = "".join(
        f"---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: worker-{n}, "
        f"namespace: jobs}}\nspec:\n  selector: {{matchLabels: {{app: w{n}}}}}\n  template:\n"
        f"    metadata: {{labels: {{app: w{n}}}}}\n    spec: {{containers: [{{name: c, "
        f"image: i}}]}}\n" for n in ("a", "b", "c"))
    path = tmp_path / "w.yaml"
    path.write_text(text)
    code, out, _ = run(capsys, "matrix", str(path), "-o", "json")
    assert code == 0
    assert by_name(json.loads(out))[0] == {"jobs/Deployment/worker-*": [
        "jobs/Deployment/worker-a", "jobs/Deployment/worker-b", "jobs/Deployment/worker-c"]}


def test_check_counts_workloads_and_reads_stdin(capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO(RUNNING))
    code, out, _ = run(capsys, "check", "-")
    assert code == 0
    assert out == "valid: 1 NetworkPolicy, 3 Pods, 1 Deployment, 1 ReplicaSet\n"
