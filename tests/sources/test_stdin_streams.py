"""Templated manifests on stdin: ``helm template ... | stockade matrix -`` and
``kustomize build ... | stockade matrix -``.

Helm and kustomize are not installed here, so their output is written into this file as
they print it (the ``helm create`` starter chart with a NetworkPolicy added, rendered by
``helm template``; a kustomize overlay with a name prefix, common labels and a generated
ConfigMap). The streams go through the real reader and the real CLI.
"""

from __future__ import annotations

import io
import json

import pytest

from matrix_doc import by_name
from stockade.cli.main import main
from stockade.model.build import build_cluster
from stockade.sources.files import parse_text, read_paths

HELM_OUTPUT = """\
---
# Source: shop/templates/serviceaccount.yaml
apiVersion: v1
kind: ServiceAccount
metadata:
  name: release-name-shop
  labels:
    helm.sh/chart: shop-0.1.0
    app.kubernetes.io/name: shop
    app.kubernetes.io/instance: release-name
    app.kubernetes.io/version: "1.16.0"
    app.kubernetes.io/managed-by: Helm
automountServiceAccountToken: true
---
# Source: shop/templates/service.yaml
apiVersion: v1
kind: Service
metadata:
  name: release-name-shop
  labels:
    helm.sh/chart: shop-0.1.0
    app.kubernetes.io/name: shop
    app.kubernetes.io/instance: release-name
    app.kubernetes.io/version: "1.16.0"
    app.kubernetes.io/managed-by: Helm
spec:
  type: ClusterIP
  ports:
    - port: 80
      targetPort: http
      protocol: TCP
      name: http
  selector:
    app.kubernetes.io/name: shop
    app.kubernetes.io/instance: release-name
---
# Source: shop/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: release-name-shop
  labels:
    helm.sh/chart: shop-0.1.0
    app.kubernetes.io/name: shop
    app.kubernetes.io/instance: release-name
    app.kubernetes.io/version: "1.16.0"
    app.kubernetes.io/managed-by: Helm
spec:
  replicas: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: shop
      app.kubernetes.io/instance: release-name
  template:
    metadata:
      labels:
        helm.sh/chart: shop-0.1.0
        app.kubernetes.io/name: shop
        app.kubernetes.io/instance: release-name
        app.kubernetes.io/version: "1.16.0"
        app.kubernetes.io/managed-by: Helm
    spec:
      serviceAccountName: release-name-shop
      securityContext:
        {}
      containers:
        - name: shop
          securityContext:
            {}
          image: "nginx:1.16.0"
          imagePullPolicy: IfNotPresent
          ports:
            - name: http
              containerPort: 80
              protocol: TCP
          livenessProbe:
            httpGet:
              path: /
              port: http
          readinessProbe:
            httpGet:
              path: /
              port: http
          resources:
            {}
---
# Source: shop/templates/networkpolicy.yaml
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: release-name-shop
  labels:
    app.kubernetes.io/name: shop
    app.kubernetes.io/instance: release-name
spec:
  podSelector:
    matchLabels:
      app.kubernetes.io/name: shop
      app.kubernetes.io/instance: release-name
  policyTypes:
    - Ingress
  ingress:
    - from:
        - podSelector:
            matchLabels:
              app.kubernetes.io/name: shop-client
      ports:
        - port: http
---
# Source: shop/templates/tests/test-connection.yaml
apiVersion: v1
kind: Pod
metadata:
  name: "release-name-shop-test-connection"
  labels:
    app.kubernetes.io/name: shop-client
    app.kubernetes.io/instance: release-name
  annotations:
    "helm.sh/hook": test
spec:
  containers:
    - name: wget
      image: busybox
      command: ['wget']
      args: ['release-name-shop:80']
  restartPolicy: Never
"""

KUSTOMIZE_OUTPUT = """\
apiVersion: v1
kind: Namespace
metadata:
  labels:
    env: staging
  name: staging
---
apiVersion: v1
data:
  LOG_LEVEL: debug
kind: ConfigMap
metadata:
  labels:
    env: staging
  name: staging-api-config-8h2k7m9c4t
  namespace: staging
---
apiVersion: v1
kind: Service
metadata:
  labels:
    env: staging
  name: staging-api
  namespace: staging
spec:
  ports:
  - name: http
    port: 80
    targetPort: 8080
  selector:
    app: api
    env: staging
---
apiVersion: apps/v1
kind: Deployment
metadata:
  labels:
    env: staging
  name: staging-api
  namespace: staging
spec:
  selector:
    matchLabels:
      app: api
      env: staging
  template:
    metadata:
      labels:
        app: api
        env: staging
    spec:
      containers:
      - envFrom:
        - configMapRef:
            name: staging-api-config-8h2k7m9c4t
        image: registry.example.com/api:1.4.2
        name: api
        ports:
        - containerPort: 8080
          name: http
---
apiVersion: apps/v1
kind: Deployment
metadata:
  labels:
    env: staging
  name: staging-frontend
  namespace: staging
spec:
  selector:
    matchLabels:
      app: frontend
      env: staging
  template:
    metadata:
      labels:
        app: frontend
        env: staging
    spec:
      containers:
      - image: registry.example.com/frontend:3.0.0
        name: frontend
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  labels:
    env: staging
  name: staging-api-from-frontend
  namespace: staging
spec:
  ingress:
  - from:
    - podSelector:
        matchLabels:
          app: frontend
    ports:
    - port: http
  podSelector:
    matchLabels:
      app: api
      env: staging
"""

NOISE = """\
# a stream assembled by hand and by tools
---
---
# only a comment in this document
---   # a separator with a trailing comment
apiVersion: v1
kind: Namespace
metadata: {name: a}
...
---

---
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: a}
spec: {containers: [{name: c, image: c}]}<TRAILING>
---
""".replace("<TRAILING>", "   ")


def run_stdin(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
              text: str, *argv: str) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(text))
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_helm_stream_objects_and_lines() -> None:
    objects = read_paths(["-"], stdin=io.StringIO(HELM_OUTPUT))
    assert [(o.kind, o.origin.file) for o in objects] == [
        ("ServiceAccount", "<stdin>"), ("Service", "<stdin>"), ("Deployment", "<stdin>"),
        ("NetworkPolicy", "<stdin>"), ("Pod", "<stdin>")]
    lines = HELM_OUTPUT.splitlines()
    for obj in objects:
        # Each object's line is its apiVersion line (the first after the # Source comment).
        assert lines[obj.origin.line - 1].startswith("apiVersion:"), obj.kind
        assert lines[obj.origin.line - 2].startswith("# Source: shop/templates/")


def test_helm_stream_builds_in_the_default_namespace() -> None:
    result = build_cluster(parse_text(HELM_OUTPUT, "<stdin>"))
    assert not result.findings
    cluster = result.cluster
    assert [w.key for w in cluster.workloads] == ["default/Deployment/release-name-shop"]
    assert [s.key for s in cluster.services] == ["default/release-name-shop"]
    assert result.skipped == ["skipped 1 object of kind ServiceAccount: not modelled"]


def test_helm_template_piped_into_matrix(capsys: pytest.CaptureFixture[str],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, err = run_stdin(capsys, monkeypatch, HELM_OUTPUT, "matrix", "-", "--pods",
                               "--services", "-o", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert list(by_name(doc)[1]) == ["default/release-name-shop-test-connection",
                                     "default/Deployment/release-name-shop"]
    service = doc["services"]["svc/default/release-name-shop:http"]
    assert service["backends"] == [{"endpoint": "default/Deployment/release-name-shop",
                                    "target_port": 80, "problem": None}]
    assert service["reachable_from"] == ["default/release-name-shop-test-connection",
                                         "default/Deployment/release-name-shop"]
    assert "ServiceAccount" not in err


def test_helm_template_piped_into_query(capsys: pytest.CaptureFixture[str],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, _ = run_stdin(capsys, monkeypatch, HELM_OUTPUT, "query", "-", "--from",
                             "default/release-name-shop-test-connection", "--to",
                             "svc/default/release-name-shop:80")
    assert code == 0
    assert out.startswith("default/release-name-shop-test-connection -> "
                          "svc/default/release-name-shop:http (TCP 80): allowed")


def test_kustomize_build_piped_into_matrix(capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, err = run_stdin(capsys, monkeypatch, KUSTOMIZE_OUTPUT, "matrix", "-", "--pods",
                               "-o", "json", "-v")
    assert code == 0, err
    assert set(by_name(json.loads(out))[1]) == {"staging/Deployment/staging-api",
                                                "staging/Deployment/staging-frontend"}
    assert "note: skipped 1 object of kind ConfigMap: not modelled" in err
    code, out, _ = run_stdin(capsys, monkeypatch, KUSTOMIZE_OUTPUT, "query", "-", "--from",
                             "staging/Deployment/staging-frontend", "--to",
                             "svc/staging/staging-api:http")
    assert code == 0
    assert "backend staging/Deployment/staging-api TCP 8080: allowed" in out


def test_separator_noise_comments_and_empty_documents() -> None:
    objects = parse_text(NOISE, "<stdin>")
    assert [(o.kind, o.origin.line) for o in objects] == [("Namespace", 6), ("Pod", 13)]


def test_windows_line_endings() -> None:
    objects = parse_text(KUSTOMIZE_OUTPUT.replace("\n", "\r\n"), "<stdin>")
    assert [o.kind for o in objects] == ["Namespace", "ConfigMap", "Service", "Deployment",
                                         "Deployment", "NetworkPolicy"]


@pytest.mark.parametrize("text", ["", "---\n# nothing rendered\n---\n", "\n\n"])
@pytest.mark.parametrize("command", [
    ["check", "-"], ["matrix", "-"], ["matrix", "-", "--port", "80"], ["compile", "-"],
    ["query", "-", "--from", "a/b", "--to", "c/d", "--port", "80"], ["hosts", "-"],
])
def test_empty_stdin_is_refused_by_every_command(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, text: str,
        command: list[str]) -> None:
    """Empty stdin usually means that the command before the pipe failed (helm template
    did not render): saying nothing and exiting 0 would pass a broken pipeline."""
    code, out, err = run_stdin(capsys, monkeypatch, text, *command)
    assert (code, out) == (2, "")
    assert err.startswith("stockade: error: no objects on stdin"), err


def test_helm_error_text_on_stdin_is_reported_with_its_line(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    # What a pipe carries when a template renders broken YAML.
    broken = HELM_OUTPUT.replace("  replicas: 1\n", "  replicas: 1\n   bad: [\n", 1)
    code, _, err = run_stdin(capsys, monkeypatch, broken, "matrix", "-")
    assert code == 2
    line = broken.splitlines().index("   bad: [") + 1
    assert f"stockade: error: <stdin>:{line}: invalid YAML" in err
