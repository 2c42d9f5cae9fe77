"""The pre-commit hooks, run by the real ``pre-commit`` on a temporary git repository that
uses this checkout (its committed ``HEAD``) as the hook repository: pre-commit builds its
own virtual environment with stockade installed from the checkout, as users' machines do.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRE_COMMIT = Path(sys.executable).with_name("pre-commit")

TYPO = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-from-api, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
  - from:
    - podSelector: {matchLabels: {app: apii}}
"""


def _git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    return subprocess.run(["git", *args], cwd=repo, env=env, check=True,
                          capture_output=True, text=True).stdout


def _head() -> str:
    return _git(ROOT, "rev-parse", "HEAD").strip()


class Repo:
    def __init__(self, path: Path, home: Path) -> None:
        self.path = path
        self.env = {**os.environ, "PRE_COMMIT_HOME": str(home), "NO_COLOR": "1"}
        self.env.pop("PYTHONDONTWRITEBYTECODE", None)

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(PRE_COMMIT), *args], cwd=self.path, env=self.env,
                              capture_output=True, text=True, timeout=900, check=False)


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Repo]:
    path = tmp_path_factory.mktemp("precommit-repo")
    home = tmp_path_factory.mktemp("precommit-home")
    _git(path, "init", "-q")
    shutil.copytree(ROOT / "examples" / "shop", path / "deploy")
    (path / ".pre-commit-config.yaml").write_text(f"""\
repos:
- repo: {ROOT}
  rev: {_head()}
  hooks:
  - id: stockade-check
    files: ^deploy/
  - id: stockade-lint
    args: [deploy/]
    files: ^deploy/
""")
    _git(path, "add", ".")
    _git(path, "commit", "-q", "-m", "shop")
    the_repo = Repo(path, home)
    installed = the_repo.run("install-hooks")
    assert installed.returncode == 0, installed.stdout + installed.stderr
    yield the_repo


def test_hooks_pass_on_a_clean_repository(repo: Repo) -> None:
    result = repo.run("run", "--all-files")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "stockade check" in result.stdout and "stockade lint" in result.stdout
    assert result.stdout.count("Passed") == 2


def test_lint_hook_fails_with_the_finding(repo: Repo) -> None:
    broken = repo.path / "deploy" / "typo.yaml"
    broken.write_text(TYPO)
    try:
        _git(repo.path, "add", "deploy/typo.yaml")
        result = repo.run("run", "--files", "deploy/typo.yaml")
        assert result.returncode == 1
        assert "stockade check" in result.stdout
        lines = result.stdout.splitlines()
        assert any(line.startswith("stockade lint") and line.endswith("Failed")
                   for line in lines)
        assert ("deploy/typo.yaml:8: warning: NetworkPolicy shop/db-from-api: "
                "spec.ingress[0].from[0].podSelector: podSelector {app=apii} matches no pod "
                "in namespace shop") in result.stdout
        assert "hint: did you mean app=api?" in result.stdout
    finally:
        _git(repo.path, "rm", "-q", "-f", "deploy/typo.yaml")


def test_check_hook_fails_on_an_invalid_manifest(repo: Repo) -> None:
    bad = repo.path / "deploy" / "bad.yaml"
    bad.write_text(TYPO.replace("ingress:\n", "policyTypes: [ingress]\n  ingress:\n"))
    try:
        _git(repo.path, "add", "deploy/bad.yaml")
        result = repo.run("run", "--files", "deploy/bad.yaml")
        assert result.returncode == 1
        assert ('deploy/bad.yaml:1: NetworkPolicy shop/db-from-api: spec.policyTypes[0]: '
                'Unsupported value: "ingress"') in result.stdout
        assert result.stdout.count("Failed") == 2  # lint refuses invalid input too
    finally:
        _git(repo.path, "rm", "-q", "-f", "deploy/bad.yaml")
