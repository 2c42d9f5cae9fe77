"""Control characters from user data never reach the terminal raw: not in error headers,
not in warnings or notes, not in any text renderer (matrix text, Markdown, CSV, port
tables, query, Services) nor in the comments of a compiled ruleset. A newline in a name
cannot forge a second ``error:`` line."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import pytest

from stockade.cli.main import main

# A name that retitles the terminal, clears the screen and forges an error line.
EVIL = "x\\nerror: forged line\\u001b]0;pwned\\u0007\\u001b[2J\\u202e"
SHOWN = "x\\nerror: forged line\\x1b]0;pwned\\x07\\x1b[2J\\u202e"
RAW = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202e]")

MANIFESTS = f"""\
apiVersion: v1
kind: Pod
metadata: {{name: "{EVIL}", namespace: default}}
spec: {{containers: [{{name: c}}]}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: "{EVIL}", namespace: default}}
spec:
  selector: {{matchLabels: {{app: a}}}}
  template: {{metadata: {{labels: {{app: a}}}}, spec: {{containers: [{{name: c}}]}}}}
---
apiVersion: v1
kind: Service
metadata: {{name: "{EVIL}", namespace: default}}
spec: {{selector: {{app: a}}, ports: [{{port: 80}}]}}
---
apiVersion: v1
kind: Pod
metadata: {{name: ok, namespace: default, labels: {{app: a}}}}
spec: {{containers: [{{name: c}}]}}
status: {{podIP: 10.0.0.1}}
"""


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def manifests(tmp_path: Path) -> str:
    path = tmp_path / "evil.yaml"
    path.write_text(MANIFESTS)
    return str(path)


def _no_raw_controls(text: str) -> None:
    assert RAW.search(text) is None, RAW.findall(text)


def test_error_headers_cannot_forge_lines(capsys: pytest.CaptureFixture[str],
                                          manifests: str) -> None:
    code, _, err = run(capsys, "check", manifests)
    assert code == 2
    _no_raw_controls(err)
    assert [line for line in err.splitlines() if line.startswith("error: ")] == [
        line for line in err.splitlines() if "forged" in line]
    assert f"Pod default/{SHOWN}: metadata.name: Invalid value:" in err
    code, _, err = run(capsys, "matrix", manifests)
    _no_raw_controls(err)
    assert all(line.startswith(("error: ", "stockade: ", "warning: ", "note: "))
               for line in err.splitlines())


@pytest.mark.parametrize("argv", [
    ["matrix"], ["matrix", "--pods"], ["matrix", "-o", "md"], ["matrix", "-o", "csv"],
    ["matrix", "--services"], ["matrix", "--services", "-o", "md"],
    ["matrix", "--port", "80"], ["matrix", "--port", "80", "-o", "md"],
    ["matrix", "--port", "80", "-o", "csv"], ["compile"],
    ["query", "--from", "10.0.0.1", "--to", "svc/default/x:80"],
    ["matrix", "-o", "dot", "--all-edges"], ["matrix", "-o", "dot", "--title", "t\x1b[2J\n"],
    ["matrix", "-o", "svg"], ["lint"], ["lint", "-o", "md"], ["report"],
])
def test_text_renderers_escape_names(capsys: pytest.CaptureFixture[str], manifests: str,
                                     argv: list[str]) -> None:
    code, out, err = run(capsys, argv[0], manifests, "--skip-invalid", *argv[1:])
    if argv[0] == "report":  # the bundled dagre library holds \x01 itself
        out = out.replace(resources.files("stockade.render.html").joinpath(
            "assets", "dagre.min.js").read_text("utf-8"), "")
    _no_raw_controls(out)
    _no_raw_controls(err)
    if argv[0] != "query":  # the Service's name is not one --to accepts
        assert code == 0, err
        # The report's data is JSON, which writes the name with JSON's own escapes.
        assert SHOWN in out or SHOWN in err or argv[0] == "report"


def test_query_of_a_service_escapes_its_backends(capsys: pytest.CaptureFixture[str],
                                                 tmp_path: Path) -> None:
    """A workload's name is not validated (its rules vary by kind), so it reaches query's
    text as a backend of a Service."""
    path = tmp_path / "q.yaml"
    service = f'name: "{EVIL}", namespace: default}}\nspec: {{selector'
    assert service in MANIFESTS
    text = MANIFESTS.replace(service, "name: s, namespace: default}\nspec: {selector")
    path.write_text(text.replace("name: ok, namespace: default, labels: {app: a}",
                                 "name: ok, namespace: default, labels: {app: other}"))
    code, out, err = run(capsys, "query", str(path), "--skip-invalid", "--from", "10.9.9.9",
                         "--to", "svc/default/s:80")
    assert code == 0, err
    _no_raw_controls(out + err)
    assert f"backend default/Deployment/{SHOWN} TCP 80: allowed" in out
