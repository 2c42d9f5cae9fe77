"""``stockade lint`` end to end: exit codes, --fail-on, --disable/--enable, annotations,
field lines from the source map, and the text, JSON and Markdown outputs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from stockade.cli.main import main
from stockade.lint import CHECKS

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"

BROKEN = """\
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {team: shop}}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web}}
spec: {containers: [{name: c, image: i}]}
status: {podIP: 10.0.0.1}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: web
  namespace: shop
spec:
  podSelector:
    matchLabels: {app: web}
  policyTypes: [Ingress]
  ingress:
  - from:
    - namespaceSelector:
        matchLabels: {team: shopp}
  egress:
  - {}
---
apiVersion: v1
kind: Pod
metadata: {name: cron, namespace: shop, labels: {app: cron}}
spec: {containers: [{name: c, image: i}]}
status: {podIP: 10.0.0.2}
"""


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def broken(tmp_path: Path) -> str:
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN)
    return str(path)


def test_text_output_names_file_line_of_the_field(capsys: pytest.CaptureFixture[str],
                                                  broken: str) -> None:
    code, out, _ = run(capsys, "lint", broken)
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == (
        f"{broken}:22: warning: NetworkPolicy shop/web: spec.ingress[0].from[0]."
        "namespaceSelector: namespaceSelector {team=shopp} matches no namespace; namespaces "
        "have team=shop [peer-selects-nothing]")
    assert lines[1] == "    hint: did you mean team=shop?"
    assert lines[2] == (
        f"{broken}:24: error: NetworkPolicy shop/web: spec.egress: policyTypes [Ingress] does "
        "not list Egress: the egress rule has no effect [rules-ignored-by-policy-types]")
    assert lines[-1] == "2 findings: 1 error, 1 warning, 0 info"


def test_field_lines_with_separators_only_kubectl_reads(capsys: pytest.CaptureFixture[str],
                                                         tmp_path: Path) -> None:
    """``---#c`` and ``---`` followed by a vertical tab separate documents for kubectl
    (``yaml_stream``): the objects, and the lines of their fields, are those of the file
    with plain separators."""
    parts = BROKEN.split("\n---\n")
    path = tmp_path / "kubectl.yaml"
    path.write_text(parts[0] + "\n---#1\n" + parts[1] + "\n---\v\n" + parts[2] + "\n---\xa0# 3\n"
                    + parts[3])
    code, out, _ = run(capsys, "lint", str(path), "-o", "json")
    assert code == 1
    found = [(f["line"], f["object_line"], f["path"]) for f in json.loads(out)["findings"]]
    assert found == [(22, 11, "spec.ingress[0].from[0].namespaceSelector"),
                     (24, 11, "spec.egress")]


@pytest.mark.parametrize(("fail_on", "expected"), [("error", 1), ("warning", 1),
                                                    ("info", 1)])
def test_fail_on(capsys: pytest.CaptureFixture[str], broken: str, fail_on: str,
                 expected: int) -> None:
    assert run(capsys, "lint", broken, "--fail-on", fail_on)[0] == expected


def test_fail_on_thresholds(capsys: pytest.CaptureFixture[str]) -> None:
    shop = str(EXAMPLES / "shop")  # one info finding, silenced by annotation... none left
    konvoy = str(EXAMPLES / "konvoy")  # two warnings
    assert run(capsys, "lint", konvoy)[0] == 1
    assert run(capsys, "lint", konvoy, "--fail-on", "error")[0] == 0
    assert run(capsys, "lint", shop, "--fail-on", "info")[0] == 0


def test_disable_and_enable(capsys: pytest.CaptureFixture[str], broken: str) -> None:
    code, out, _ = run(capsys, "lint", broken, "--disable",
                       "peer-selects-nothing,rules-ignored-by-policy-types")
    assert code == 0
    assert out.splitlines()[-1] == "no findings"
    code, out, _ = run(capsys, "lint", broken, "--disable", "rules-ignored-by-policy-types",
                       "--disable", "peer-selects-nothing", "--enable",
                       "namespace-without-default-deny")
    assert code == 0  # info only
    assert "[namespace-without-default-deny]" in out


def test_unknown_check_is_a_usage_error(capsys: pytest.CaptureFixture[str],
                                        broken: str) -> None:
    code, _, err = run(capsys, "lint", broken, "--disable", "no-such-check")
    assert code == 2
    assert "--disable: unknown check no-such-check" in err


def test_annotation_silences_on_the_object(capsys: pytest.CaptureFixture[str],
                                           tmp_path: Path) -> None:
    text = BROKEN.replace(
        "  name: web\n  namespace: shop\n",
        "  name: web\n  namespace: shop\n  annotations:\n"
        "    stockade.dev/lint-disable: peer-selects-nothing, rules-ignored-by-policy-types\n")
    path = tmp_path / "silenced.yaml"
    path.write_text(text)
    code, out, _ = run(capsys, "lint", str(path))
    assert code == 0
    assert out.splitlines()[-1] == "no findings (2 silenced by annotations)"
    path.write_text(text.replace("peer-selects-nothing, ", "peer-selects-nothin, "))
    code, out, err = run(capsys, "lint", str(path))
    assert code == 1
    assert "names unknown check(s) peer-selects-nothin" in err


def test_invalid_objects_are_checks_errors(capsys: pytest.CaptureFixture[str],
                                           tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(BROKEN.replace("policyTypes: [Ingress]", "policyTypes: [ingress]"))
    code, out, err = run(capsys, "lint", str(path))
    assert code == 2
    assert out == ""
    assert 'spec.policyTypes[0]: Unsupported value: "ingress"' in err


def test_bad_yaml_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("a: [\n")
    code, _, err = run(capsys, "lint", str(path))
    assert code == 2
    assert f"{path}:" in err and "invalid YAML" in err


def test_json_output(capsys: pytest.CaptureFixture[str], broken: str) -> None:
    code, out, _ = run(capsys, "lint", broken, "-o", "json")
    doc = json.loads(out)
    assert code == 1
    assert doc["summary"] == {"error": 1, "warning": 1, "info": 0}
    first = doc["findings"][0]
    assert first == {
        "check": "peer-selects-nothing", "severity": "warning", "file": broken, "line": 22,
        "object_line": 11, "kind": "NetworkPolicy", "namespace": "shop", "name": "web",
        "path": "spec.ingress[0].from[0].namespaceSelector",
        "message": "namespaceSelector {team=shopp} matches no namespace; namespaces have "
                   "team=shop",
        "hint": "did you mean team=shop?", "related": []}
    assert "namespace-without-default-deny" not in doc["checks"]


def test_markdown_and_summary_file(capsys: pytest.CaptureFixture[str], broken: str,
                                   tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    code, out, _ = run(capsys, "lint", broken, "-o", "md", "--summary", str(summary))
    assert code == 1
    assert out.startswith("## stockade lint\n\n2 findings: 1 error, 1 warning, 0 info\n")
    assert "| warning | `peer-selects-nothing` |" in out
    assert summary.read_text() == "earlier step\n" + out


def test_markdown_cells_cannot_break_the_table() -> None:
    from stockade.lint import LintReport
    from stockade.lint.findings import LintFinding, Severity
    from stockade.model.types import Origin
    from stockade.render.lint import write_markdown

    finding = LintFinding("allow-all-rule", Severity.INFO, "NetworkPolicy", "a", "b|c",
                          Origin("f.yaml", 3), "spec", "x | y\n`z`", "h")
    import io
    import re

    out = io.StringIO()
    write_markdown(LintReport((finding,), 0, (), ("allow-all-rule",)), out)
    row = out.getvalue().splitlines()[-1]
    cells = re.split(r"(?<!\\)\|", row)
    assert len(cells) == 7  # five cells between the outer pipes
    assert cells[3].strip() == "f.yaml:3 `spec`"


def test_list_checks(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "lint", "--list-checks")
    assert code == 0
    assert [line.split()[0] for line in out.splitlines()] == [c.id for c in CHECKS]


def test_control_characters_are_escaped(capsys: pytest.CaptureFixture[str],
                                        tmp_path: Path) -> None:
    path = tmp_path / "esc\x1b[31m.yaml"  # user-supplied text reaches the terminal inert
    path.write_text(BROKEN)
    _, out, _ = run(capsys, "lint", str(path))
    assert "\x1b" not in out
    assert "esc\\x1b[31m.yaml:22: warning:" in out


def test_lint_reads_stdin() -> None:
    proc = subprocess.run([sys.executable, "-m", "stockade", "lint", "-"], input=BROKEN,
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 1
    assert proc.stdout.startswith("<stdin>:22: warning: NetworkPolicy shop/web: ")


def test_report_shows_lint_findings(capsys: pytest.CaptureFixture[str],
                                    tmp_path: Path) -> None:
    import html

    page = tmp_path / "konvoy.html"
    assert main(["report", str(EXAMPLES / "konvoy"), "-o", str(page)]) == 0
    text = html.unescape(page.read_text())
    assert '"check":"egress-blocks-dns"' in text
    assert '"check":"ipblock-covers-pods"' in text
    assert main(["report", str(EXAMPLES / "konvoy"), "-o", str(page), "--no-lint"]) == 0
    assert '"check":' not in html.unescape(page.read_text())
    capsys.readouterr()


def test_a_lint_disable_annotation_must_be_a_string(capsys: pytest.CaptureFixture[str],
                                                    tmp_path: Path) -> None:
    path = tmp_path / "bad-annotation.yaml"
    path.write_text(BROKEN.replace(
        "  name: web\n  namespace: shop\n",
        "  name: web\n  namespace: shop\n  annotations:\n"
        "    stockade.dev/lint-disable: [peer-selects-nothing]\n"
        "    other.example/anything: [not, read]\n"))
    code, _, err = run(capsys, "lint", str(path))
    assert code == 2
    assert "metadata.annotations[stockade.dev/lint-disable]: Invalid value: \"array\": must " \
           "be of type string" in err
    assert "other.example" not in err
