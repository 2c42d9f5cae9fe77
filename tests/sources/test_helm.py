"""``--helm CHART_DIR [--values FILE]...``: running ``helm template`` and reading its output.

Helm is not installable here (no Debian package; PyPI and npm carry wrappers and SDKs, not
the binary), so the runner is tested with a TEST DOUBLE: a tiny executable script named
``helm`` put first on PATH, which records its arguments and prints canned ``helm template``
output (or fails like helm does). Everything after the subprocess is the real code.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from matrix_doc import by_name
from stockade.cli.main import main
from stockade.errors import InputError
from stockade.sources.files import parse_text
from stockade.sources.helm import attribute_sources, helm_argv, render_chart, source_lines
from stockade.sources.limits import Budget

RENDERED = """\
---
# Source: web/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: release-name-web
spec:
  selector:
    matchLabels: {app.kubernetes.io/instance: release-name}
  template:
    metadata:
      labels: {app.kubernetes.io/instance: release-name}
    spec:
      containers:
        - name: web
          image: nginx
          ports: [{name: http, containerPort: 8080}]
---
# Source: web/templates/service.yaml
apiVersion: v1
kind: Service
metadata:
  name: release-name-web
spec:
  selector: {app.kubernetes.io/instance: release-name}
  ports: [{name: http, port: 80, targetPort: http}]
"""

INVALID = RENDERED.replace("containerPort: 8080", "containerPort: 80800")


def install_fake_helm(bin_dir: Path, *, stdout: str = RENDERED, exit_code: int = 0,
                      stderr: str = "") -> Path:
    """The test double for the helm binary; returns the file its argv is recorded in."""
    bin_dir.mkdir(exist_ok=True)
    record = bin_dir / "argv.txt"
    (bin_dir / "out.yaml").write_text(stdout)
    script = bin_dir / "helm"
    script.write_text(
        "#!/bin/sh\n"
        f'printf "%s\\n" "$@" > "{record}"\n'
        f'cat "{bin_dir / "out.yaml"}"\n'
        f"printf '%s' '{stderr}' >&2\n"
        f"exit {exit_code}\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return record


@pytest.fixture
def chart(tmp_path: Path) -> Path:
    chart_dir = tmp_path / "web"
    (chart_dir / "templates").mkdir(parents=True)
    (chart_dir / "Chart.yaml").write_text("apiVersion: v2\nname: web\nversion: 0.1.0\n")
    return chart_dir


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def only_on_path(monkeypatch: pytest.MonkeyPatch, directory: Path) -> None:
    monkeypatch.setenv("PATH", f"{directory}{os.pathsep}/usr/bin{os.pathsep}/bin")


def test_helm_argv() -> None:
    assert helm_argv("ch", ["a.yaml", "b.yaml"], namespace="shop") == [
        "helm", "template", "release-name", "ch", "--namespace", "shop",
        "--values", "a.yaml", "--values", "b.yaml"]
    assert helm_argv("ch", []) == ["helm", "template", "release-name", "ch"]


def test_source_comments_become_origins() -> None:
    objects = attribute_sources(parse_text(RENDERED, "x"), RENDERED, "helm template")
    assert [str(o.origin) for o in objects] == [
        "web/templates/deployment.yaml (helm template line 3)",
        "web/templates/service.yaml (helm template line 20)"]
    assert source_lines(RENDERED) == [(2, "web/templates/deployment.yaml"),
                                      (19, "web/templates/service.yaml")]


@pytest.mark.parametrize("command", ["matrix", "query", "check"])
def test_not_installed_says_how_to_install_or_pipe(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        chart: Path, command: str) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    extra = ["--from", "a/b", "--to", "c/d", "--port", "80"] if command == "query" else []
    code, out, err = run(capsys, command, "--helm", str(chart), *extra)
    assert (code, out) == (2, "")
    assert err == (
        "stockade: error: --helm needs the helm binary, and there is no `helm` on PATH. "
        "Install Helm (https://helm.sh/docs/intro/install/, e.g. `brew install helm` or the "
        "release tarball), or render the chart yourself and pipe it in: `helm template "
        f"RELEASE CHART_DIR [--values FILE] | stockade {command} -`\n")


def test_runs_helm_template_with_values_and_namespace(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        chart: Path) -> None:
    record = install_fake_helm(tmp_path / "bin")
    only_on_path(monkeypatch, tmp_path / "bin")
    values = [tmp_path / "base.yaml", tmp_path / "prod.yaml"]
    for path in values:
        path.write_text("replicaCount: 2\n")
    code, out, err = run(capsys, "matrix", "--helm", str(chart), "--values", str(values[0]),
                         "--values", str(values[1]), "--helm-namespace", "shop", "--services",
                         "-o", "json")
    assert code == 0, err
    assert record.read_text().splitlines() == [
        "template", "release-name", str(chart), "--namespace", "shop",
        "--values", str(values[0]), "--values", str(values[1])]
    doc = json.loads(out)
    # No namespace in the rendered objects: they land in the release namespace.
    assert list(by_name(doc)[1]) == ["shop/Deployment/release-name-web"]
    assert doc["services"]["svc/shop/release-name-web:http"]["backends"] == [
        {"endpoint": "shop/Deployment/release-name-web", "target_port": 8080,
         "problem": None}]


def test_helm_output_joins_files_given_too(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        chart: Path) -> None:
    install_fake_helm(tmp_path / "bin")
    only_on_path(monkeypatch, tmp_path / "bin")
    client = tmp_path / "client.yaml"
    client.write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: client}\n"
                      "spec: {containers: [{name: c, image: c}]}\n")
    code, out, _ = run(capsys, "query", str(client), "--helm", str(chart), "--from",
                       "default/client", "--to", "svc/default/release-name-web:80")
    assert code == 0
    assert out.startswith("default/client -> svc/default/release-name-web:http (TCP 80): "
                          "allowed")


def test_invalid_rendered_object_names_the_template(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        chart: Path) -> None:
    install_fake_helm(tmp_path / "bin", stdout=INVALID)
    only_on_path(monkeypatch, tmp_path / "bin")
    code, _, err = run(capsys, "check", "--helm", str(chart))
    assert code == 2
    assert err.startswith(
        "error: web/templates/deployment.yaml (helm template line 3): Deployment "
        "default/release-name-web: spec.template.spec.containers[0].ports[0].containerPort: "
        "Invalid value: 80800")


def test_helm_failure_shows_its_stderr(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        chart: Path) -> None:
    install_fake_helm(tmp_path / "bin", stdout="", exit_code=1,
                      stderr="Error: template: web/templates/x.yaml:3:8: executing ...")
    only_on_path(monkeypatch, tmp_path / "bin")
    code, _, err = run(capsys, "matrix", "--helm", str(chart))
    assert code == 2
    assert err == (f"stockade: error: helm template release-name {chart} exited 1: Error: "
                   "template: web/templates/x.yaml:3:8: executing ...\n")


@pytest.mark.parametrize("case", [
    (["--helm", "{tmp}/nochart"],
     "stockade: error: --helm {tmp}/nochart: no such chart directory or file"),
    (["--helm", "{chart}", "--values", "{tmp}/missing.yaml"],
     "stockade: error: --values {tmp}/missing.yaml: no such file"),
    (["--helm", "{chart}", "--values", "{tmp}/fifo"],
     "stockade: error: --values {tmp}/fifo: not a regular file (helm reads it itself, so "
     "a pipe or <(...) cannot be passed on: write the values to a file)"),
    (["{chart}/Chart.yaml", "--values", "{tmp}/v.yaml"],
     "stockade: error: --values is for --helm CHART_DIR"),
    (["--helm", "{chart}", "--cluster"],
     "stockade: error: give either --helm or --cluster, not both"),
    ([], "stockade: error: no input: give manifest files or directories, - for stdin, "
         "--helm CHART_DIR, or --cluster"),
])
def test_usage_errors(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                      tmp_path: Path, chart: Path, case: tuple[list[str], str]) -> None:
    argv, message = case
    install_fake_helm(tmp_path / "bin")
    only_on_path(monkeypatch, tmp_path / "bin")
    os.mkfifo(tmp_path / "fifo")
    args = [a.format(tmp=tmp_path, chart=chart) for a in argv]
    code, _, err = run(capsys, "matrix", *args)
    assert code == 2
    assert err == message.format(tmp=tmp_path, chart=chart) + "\n"


def test_helm_output_counts_against_the_input_limit(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, chart: Path) -> None:
    """A chart that renders more than stockade reads is stopped, not read into memory."""
    install_fake_helm(tmp_path / "bin")
    only_on_path(monkeypatch, tmp_path / "bin")
    assert len(render_chart(str(chart), budget=Budget(max_bytes=len(RENDERED)))) == 2
    with pytest.raises(InputError, match=r"helm template .*: too large: stockade reads at "
                       r"most 100 bytes"):
        render_chart(str(chart), budget=Budget(max_bytes=100))


def test_helm_output_that_renders_nothing_is_no_objects(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        chart: Path) -> None:
    install_fake_helm(tmp_path / "bin", stdout="---\n# Source: web/templates/empty.yaml\n")
    only_on_path(monkeypatch, tmp_path / "bin")
    code, out, err = run(capsys, "matrix", "--helm", str(chart))
    assert (code, out) == (2, "")
    assert err == (f"stockade: error: no objects in the output of helm template {chart}: "
                   "nothing to analyse\n")
