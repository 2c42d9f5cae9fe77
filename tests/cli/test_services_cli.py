"""``query --to svc/...`` and ``matrix --services`` on the shop example: outputs, exit codes,
every error message. Runs the real CLI entry point in-process."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from stockade.cli.main import main

SHOP = str(Path(__file__).parents[2] / "examples" / "shop")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_named_target_port_allowed_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "query", SHOP, "--from", "shop/Deployment/web",
                       "--to", "svc/shop/api:http")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == ("shop/Deployment/web -> svc/shop/api:http (TCP 80): allowed "
                        "(1 of 1 backend reachable)")
    assert "  backend shop/Deployment/api TCP 8000: allowed" in lines
    assert ("  backend shop/Deployment/api-canary: declares no container port named 'http': "
            "not a backend for this port") in lines
    assert "            allowed by shop/api-from-web ingress[0] (from[0], ports[0])" in lines


def test_partially_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "query", SHOP, "--from", "monitoring/Deployment/prometheus",
                       "--to", "svc/shop/api:9090")
    assert code == 1
    assert out.splitlines()[0] == (
        "monitoring/Deployment/prometheus -> svc/shop/api:metrics (TCP 9090): partially "
        "allowed (1 of 2 backends reachable)")
    assert "  backend shop/Deployment/api-canary TCP 9090: denied" in out.splitlines()


def test_denied_by_number_exit_1_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "query", SHOP, "--from", "shop/Deployment/web",
                       "--to", "svc/shop/cache:16379", "-o", "json")
    assert code == 1
    doc = json.loads(out)
    assert (doc["to"], doc["outcome"], doc["allowed"]) == ("svc/shop/cache:16379", "denied",
                                                           False)
    (backend,) = doc["backends"]
    assert (backend["endpoint"], backend["target_port"]) == ("shop/Deployment/cache", 6379)
    assert backend["verdict"]["port"] == 6379 and backend["verdict"]["allowed"] is False


def test_headless_service_without_target_port(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "query", SHOP, "--from", "shop/CronJob/nightly-report",
                       "--to", "svc/shop/db:postgres", "-o", "json")
    assert code == 0
    assert json.loads(out)["backends"][0]["target_port"] == 5432


def test_from_an_address_outside_the_cluster(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "query", SHOP, "--from", "203.0.113.7", "--to", "svc/shop/web")
    assert code == 0
    assert out.startswith("203.0.113.7 -> svc/shop/web:http (TCP 80): allowed")


@pytest.mark.parametrize(("argv", "message"), [
    (["--to", "svc/shop/payments"],
     "stockade: error: Service shop/payments ({shop}/external.yaml:2) is of type ExternalName "
     "(api.payments.example.com): it is a DNS alias outside the cluster, and cannot be "
     "resolved to pods from manifests; query the address it points to instead"),
    (["--to", "svc/shop/legacy-erp:443"],
     "stockade: error: Service shop/legacy-erp ({shop}/external.yaml:11) has no selector: "
     "its endpoints are managed by hand (EndpointSlices) and cannot be resolved from "
     "manifests alone; query the backend pods instead"),
    (["--to", "svc/shop/nope:80"],
     "stockade: error: no Service shop/nope in the input (Services in shop: shop/api, "
     "shop/cache, shop/db, shop/legacy-erp, shop/payments, shop/web)"),
    (["--to", "svc/shop/db:5433"],
     "stockade: error: Service shop/db has no port '5433' (its ports: postgres 5432/TCP)"),
    (["--to", "svc/shop/api"],
     "stockade: error: Service shop/api has ports http 80/TCP, metrics 9090/TCP: name one, "
     "e.g. svc/shop/api:80"),
    (["--to", "svc/shop:80"],
     "stockade: error: 'svc/shop:80': a Service is named svc/NAMESPACE/NAME[:PORT], e.g. "
     "svc/shop/db:5432 or svc/shop/db:postgres"),
    (["--to", "svc/shop/db:5432", "--port", "5432"],
     "stockade: error: --port 5432: with --to svc/shop/db:5432 the port is the Service's "
     "(svc/NS/NAME:PORT); leave out --port"),
    (["--to", "shop/StatefulSet/db"],
     "stockade: error: --port is required (unless --to names a Service: svc/NS/NAME:PORT)"),
])
def test_service_query_errors_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str],
                                     message: str) -> None:
    code, _, err = run(capsys, "query", SHOP, "--from", "shop/Deployment/web", *argv)
    assert code == 2
    assert message.format(shop=SHOP) in err.splitlines()


def test_service_as_source_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "query", SHOP, "--from", "svc/shop/web:80", "--to",
                       "shop/Deployment/api", "--port", "80")
    assert code == 2
    assert ("stockade: error: --from svc/shop/web:80: a Service is only a destination "
            "(clients connect to it; its backends answer)") in err


def test_no_backends_exit_1(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "svc.yaml").write_text(
        "apiVersion: v1\nkind: Service\nmetadata: {name: lonely, namespace: shop}\n"
        "spec: {selector: {app: nobody}, ports: [{port: 80}]}\n"
        "---\napiVersion: v1\nkind: Pod\nmetadata: {name: client, namespace: shop}\n"
        "spec: {containers: [{name: c, image: c}]}\n")
    code, out, _ = run(capsys, "query", str(tmp_path), "--from", "shop/client",
                       "--to", "svc/shop/lonely:80")
    assert code == 1
    assert out.splitlines() == [
        "shop/client -> svc/shop/lonely:80 (TCP 80): no usable backends (0 of 0 backends "
        "reachable)",
        "  no pod or workload in namespace shop matches the selector app=nobody: the Service "
        "has no endpoints"]


def test_matrix_services_text(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "matrix", SHOP, "--services")
    assert code == 0
    section = out[out.index("services (a Service is reachable"):]
    web = section[section.index("shop/Deployment/web\n"):].splitlines()
    assert web[1].split() == ["->", "allowed", "svc/shop/api:http,", "svc/shop/web:http"]
    assert web[2].split() == ["->", "denied", "svc/shop/api:metrics,", "svc/shop/cache:16379,",
                              "svc/shop/db:postgres"]
    assert "  -> partially (1 of 2 backends)  svc/shop/api:metrics" in section
    assert "not resolved (no backends known from manifests)" in section
    assert "  svc/shop/payments: Service shop/payments" in section


def test_matrix_services_json_adds_one_key(capsys: pytest.CaptureFixture[str]) -> None:
    code, plain, _ = run(capsys, "matrix", SHOP, "-o", "json")
    code2, out, _ = run(capsys, "matrix", SHOP, "--services", "-o", "json")
    assert code == code2 == 0
    doc = json.loads(out)
    base = json.loads(plain)
    assert {k: v for k, v in doc.items() if k != "services"} == base
    api = doc["services"]["svc/shop/api:http"]
    assert api["backends"] == [
        {"endpoint": "shop/Deployment/api", "target_port": 8000, "problem": None},
        {"endpoint": "shop/Deployment/api-canary", "target_port": None,
         "problem": "declares no container port named 'http': not a backend for this port"}]
    assert api["reachable_from"] == ["shop/Deployment/api", "shop/Deployment/web"]
    metrics = doc["services"]["svc/shop/api:metrics"]
    assert metrics["partially_from"]["monitoring/Deployment/prometheus"] == [
        "shop/Deployment/api"]
    assert doc["services"]["svc/shop/payments"]["problem"].startswith(
        "Service shop/payments")


def test_matrix_services_with_ports_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "matrix", SHOP, "--services", "--port", "8000", "-o", "json")
    assert code == 0
    doc = json.loads(out)
    assert set(doc) == {"pods", "results", "services"}
    assert doc["services"]["svc/shop/db:postgres"]["reachable_from"] == [
        "shop/Deployment/api", "shop/StatefulSet/db", "shop/CronJob/nightly-report"]


def test_matrix_services_csv_and_md(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "matrix", SHOP, "--services", "--per-pod", "-o", "csv")
    assert code == 0
    rows = list(csv.reader(io.StringIO(out)))
    assert ["shop/Deployment/web", "svc/shop/api:http", "allowed"] in rows
    assert ["monitoring/Deployment/prometheus", "svc/shop/api:metrics",
            "partially (1 of 2 backends)"] in rows
    assert ["shop/Deployment/web", "svc/shop/payments", "unresolvable"] in rows
    code, out, _ = run(capsys, "matrix", SHOP, "--services", "-o", "md")
    assert code == 0
    assert "| from | service | allowed |" in out
    assert "| shop/Deployment/web | svc/shop/db:postgres | denied |" in out


def test_matrix_services_port_csv_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "matrix", SHOP, "--services", "--port", "80", "-o", "csv")
    assert code == 2
    assert ("stockade: error: --services with --port cannot be written as csv; leave out "
            "--port, or use -o text or -o json") in err


def _pod(name: str, namespace: str, labels: str, ip: str, more: str = "") -> str:
    return (f"apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: {namespace}, "
            f"labels: {{{labels}}}}}\nspec: {{containers: [{{name: c, image: c, ports: "
            f"[{{name: http, containerPort: 8080}}]}}]{more}}}\nstatus: {{podIP: {ip}}}\n")


ONLY_BACKEND = "\n---\n".join([
    "apiVersion: v1\nkind: Namespace\nmetadata: {name: ns}\n",
    # Three replicas no policy tells apart; the Service selects one of them alone.
    *(_pod(f"a-{n}", "ns", f"app: a, instance: '{n}'", f"10.0.0.{n}") for n in (1, 2, 3)),
    "apiVersion: v1\nkind: Service\nmetadata: {name: first, namespace: ns}\n"
    "spec: {selector: {instance: '1'}, ports: [{port: 80, targetPort: http}]}\n",
    "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
    "metadata: {name: deny, namespace: ns}\nspec: {podSelector: {}, policyTypes: [Ingress]}\n",
])


def test_matrix_services_splits_a_group_for_its_only_backend(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """The Service's only backend reaches it (itself): it becomes a group of its own, in
    the matrix too, while the other replicas are denied."""
    (tmp_path / "cluster.yaml").write_text(ONLY_BACKEND)
    code, out, _ = run(capsys, "matrix", str(tmp_path), "--services")
    assert code == 0
    assert out.splitlines() == [
        "ns/a-1",
        "  -> all   ns/a-1",
        "  -> none  ns/a-*",
        "ns/a-*",
        "  -> none  ns/a-1, ns/a-*",
        "",
        "groups (pods that every policy treats alike; --pods shows each)",
        "  ns/a-*: ns/a-2, ns/a-3",
        "",
        "services (a Service is reachable when the policies allow every backend on its "
        "target port)",
        "ns/a-1",
        "  -> allowed  svc/ns/first:80",
        "ns/a-*",
        "  -> denied  svc/ns/first:80"]
    code, out, _ = run(capsys, "matrix", str(tmp_path), "--services", "-o", "json")
    doc = json.loads(out)
    assert doc["groups"] == [{"name": "ns/a-1", "pods": ["ns/a-1"]},
                             {"name": "ns/a-*", "pods": ["ns/a-2", "ns/a-3"]}]
    assert doc["matrix"] == [{"*": "all", "none": [1]}, {"*": "none"}]
    first = doc["services"]["svc/ns/first:80"]
    assert (first["reachable_from"], first["partially_from"], first["denied_from"]) == (
        ["ns/a-1"], {}, ["ns/a-*"])
    # Without --services the replicas stay one group.
    code, out, _ = run(capsys, "matrix", str(tmp_path), "-o", "json")
    assert json.loads(out)["groups"] == [{"name": "ns/a-*",
                                          "pods": ["ns/a-1", "ns/a-2", "ns/a-3"]}]


def test_matrix_services_splits_a_group_for_a_node_peer_of_a_backend(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """Node traffic is always allowed: of two pods policies treat alike, the one on the
    node of a host-network backend reaches it, the other is denied (egress)."""
    (tmp_path / "cluster.yaml").write_text("\n---\n".join([
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: apps}\n",
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: infra}\n",
        _pod("agent", "infra", "app: agent", "10.0.1.1",
             ", nodeName: n1, hostNetwork: true"),
        _pod("c-1", "apps", "app: c", "10.0.0.1", ", nodeName: n1"),
        _pod("c-2", "apps", "app: c", "10.0.0.2", ", nodeName: n2"),
        "apiVersion: v1\nkind: Service\nmetadata: {name: agent, namespace: infra}\n"
        "spec: {selector: {app: agent}, ports: [{port: 80, targetPort: 8080}]}\n",
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        "metadata: {name: deny, namespace: apps}\nspec: {podSelector: {}, "
        "policyTypes: [Egress]}\n"]))
    code, out, _ = run(capsys, "matrix", str(tmp_path), "--services", "-o", "json")
    assert code == 0
    doc = json.loads(out)
    assert [g["pods"] for g in doc["groups"]] == [["infra/agent"], ["apps/c-1"], ["apps/c-2"]]
    agent = doc["services"]["svc/infra/agent:80"]
    assert (agent["reachable_from"], agent["denied_from"]) == (
        ["infra/agent", "apps/c-1"], ["apps/c-2"])
    assert doc["node_traffic"] == {"infra/agent": ["apps/c-1"]}
