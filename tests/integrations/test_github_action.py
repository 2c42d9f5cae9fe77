"""The GitHub action, run as a runner runs a composite action's steps: each ``run`` step
of ``action.yml`` through ``bash --noprofile --norc -eo pipefail``, with the inputs put in
its environment and the GitHub variables set (``GITHUB_ACTION_PATH`` is this checkout,
``GITHUB_WORKSPACE`` a temporary git repository). The install step really installs
stockade from this checkout into a virtual environment under ``RUNNER_TEMP``. Only the
``actions/setup-python`` step is left out: it is another repository's action, and this
machine has the Python it would provide.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ACTION = yaml.safe_load((ROOT / "action.yml").read_text())
SCHEMA = json.loads((ROOT / "tests" / "render" / "data" / "sarif-schema-2.1.0.json")
                    .read_text())
EXPRESSION = re.compile(r"\$\{\{\s*inputs\.([\w-]+)\s*\}\}")


class Runner:
    """One job's environment: workspace, temp dir, and the files GitHub reads back."""

    def __init__(self, tmp: Path) -> None:
        self.workspace = tmp / "workspace"
        self.temp = tmp / "runner-temp"
        self.temp.mkdir()
        self.output = tmp / "github-output"
        self.summary = tmp / "step-summary"
        self.path_file = tmp / "github-path"
        for f in (self.output, self.summary, self.path_file):
            f.write_text("")

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_"))}
        env.update(GITHUB_ACTION_PATH=str(ROOT), GITHUB_WORKSPACE=str(self.workspace),
                   RUNNER_TEMP=str(self.temp), GITHUB_OUTPUT=str(self.output),
                   GITHUB_STEP_SUMMARY=str(self.summary), GITHUB_PATH=str(self.path_file),
                   GITHUB_ACTIONS="true", CI="true", NO_COLOR="1")
        return env

    def step(self, step: dict[str, Any],
             inputs: dict[str, str]) -> subprocess.CompletedProcess[str]:
        defaults = {name: str(spec.get("default", "")) for name, spec in
                    ACTION["inputs"].items()}
        values = {**defaults, **inputs}
        env = self.env()
        for key, value in (step.get("env") or {}).items():
            env[key] = EXPRESSION.sub(lambda m: values[m.group(1)], str(value))
        script = self.temp / "step.sh"
        script.write_text(step["run"])
        return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail",
                               str(script)], cwd=self.workspace, env=env,
                              capture_output=True, text=True, timeout=900, check=False)


def _run_steps() -> list[dict[str, Any]]:
    steps = ACTION["runs"]["steps"]
    assert ACTION["runs"]["using"] == "composite"
    assert [s.get("uses", "").split("@")[0] for s in steps if "uses" in s] == [
        "actions/setup-python"]
    return [s for s in steps if "run" in s]


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory) -> Runner:
    the_runner = Runner(tmp_path_factory.mktemp("action"))
    ws = the_runner.workspace
    ws.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=ws, check=True)
    shutil.copytree(ROOT / "examples" / "konvoy", ws / "k8s")
    shutil.copytree(ROOT / "examples" / "shop", ws / "shop")
    install, _ = _run_steps()
    result = the_runner.step(install, {})
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("stockade ")
    return the_runner


def _lint(runner: Runner, **inputs: str) -> subprocess.CompletedProcess[str]:
    for f in (runner.output, runner.summary):
        f.write_text("")
    _, lint = _run_steps()
    return runner.step(lint, inputs)


def test_findings_fail_the_step_and_land_in_sarif_and_summary(runner: Runner) -> None:
    result = _lint(runner, paths="k8s")
    assert result.returncode == 1, result.stderr
    assert "[ipblock-covers-pods]" in result.stdout
    assert runner.output.read_text() == "sarif-file=stockade.sarif\n"
    sarif = json.loads((runner.workspace / "stockade.sarif").read_text())
    jsonschema.Draft4Validator(SCHEMA).validate(sarif)
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in sarif["runs"][0]["results"]}
    assert uris == {"k8s/policy.yaml"}  # repository-relative, as code scanning wants
    summary = runner.summary.read_text()
    assert summary.startswith("## stockade lint\n\n2 findings: 0 errors, 2 warnings, 0 info\n")
    assert "| warning | `egress-blocks-dns` | k8s/policy.yaml:29 `spec.egress` |" in summary


def test_fail_on_and_several_paths(runner: Runner) -> None:
    result = _lint(runner, **{"paths": "k8s\nshop", "fail-on": "error",
                              "sarif-file": "out/lint.sarif"})
    assert result.returncode == 2  # out/ does not exist: SARIF cannot be written
    assert "--sarif 'out/lint.sarif': no such directory 'out'" in result.stderr
    (runner.workspace / "out").mkdir()
    result = _lint(runner, **{"paths": "k8s\nshop", "fail-on": "error",
                              "sarif-file": "out/lint.sarif"})
    assert result.returncode == 0, result.stderr
    assert runner.output.read_text() == "sarif-file=out/lint.sarif\n"
    doc = json.loads((runner.workspace / "out" / "lint.sarif").read_text())
    assert len(doc["runs"][0]["results"]) == 2


def test_clean_input_passes(runner: Runner) -> None:
    result = _lint(runner, paths="shop")
    assert result.returncode == 0, result.stderr
    assert runner.summary.read_text().startswith(
        "## stockade lint\n\nno findings (1 silenced by annotations)\n")


def test_bad_input_exits_2_and_says_so(runner: Runner) -> None:
    (runner.workspace / "broken.yaml").write_text("kind: [\n")
    result = _lint(runner, paths="broken.yaml")
    assert result.returncode == 2
    summary = runner.summary.read_text()
    assert "The input could not be analysed (exit 2)" in summary
    assert "stockade: error: broken.yaml:2: invalid YAML" in summary


def _git(runner: Runner, *argv: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *argv],
                   cwd=runner.workspace, check=True, capture_output=True)


def test_base_adds_the_diff_to_the_summary(runner: Runner) -> None:
    """With ``base``, the paths are compared with that ref by ``stockade diff --base``: the
    Markdown lands in the log and the summary, ``changed`` in the outputs; a change does not
    fail the step, a base the checkout lacks does."""
    _git(runner, "add", "shop")
    _git(runner, "commit", "-qm", "shop")
    policies = runner.workspace / "shop" / "policies.yaml"
    kept = policies.read_text()
    try:
        result = _lint(runner, paths="shop", base="HEAD")
        assert result.returncode == 0, result.stderr
        assert "changed=false" in runner.output.read_text()
        assert "### stockade diff: no connection changed" in runner.summary.read_text()
        policies.write_text(kept.replace("port: 8000", "port: 8001"))
        result = _lint(runner, paths="shop", base="HEAD")
        assert result.returncode == 0, result.stderr
        assert "changed=true" in runner.output.read_text()
        summary = runner.summary.read_text()
        assert summary.startswith("## stockade lint\n")
        assert "### stockade diff: 2 connection changes" in summary
        assert "| shop/Deployment/web | shop/Deployment/api | TCP 8001 | TCP 8000 |" in summary
        assert "### stockade diff" in result.stdout
        result = _lint(runner, paths="shop", base="no-such-ref")
        assert result.returncode == 2
        assert "could not be made (exit 2" in runner.summary.read_text()
        assert "no such revision" in result.stderr
    finally:
        policies.write_text(kept)
