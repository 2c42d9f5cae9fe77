"""Render a Helm chart with the ``helm`` binary and read what it prints.

``helm template`` is the only faithful renderer of a chart (its template functions, its
dependencies, its values merging), so stockade runs it rather than imitating it. Each object
keeps the chart file it came from (Helm's ``# Source:`` comments) for error messages.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from stockade.errors import CommandFailed, EnvironmentProblem, InputError
from stockade.model.build import RawObject
from stockade.model.types import Origin
from stockade.sources.files import parse_text

NOT_INSTALLED = (
    "--helm needs the helm binary, and there is no `helm` on PATH. Install Helm "
    "(https://helm.sh/docs/intro/install/, e.g. `brew install helm` or the release "
    "tarball), or render the chart yourself and pipe it in: "
    "`helm template RELEASE CHART_DIR [--values FILE] | stockade {command} -`"
)
TIMEOUT_SECONDS = 120

_SOURCE = re.compile(r"^# Source: (\S.*?)\s*$")


def helm_argv(chart: str, values: Sequence[str], *, namespace: str | None = None,
              helm: str = "helm") -> list[str]:
    """``helm template`` for a chart; the release is called ``release-name`` as Helm's own
    default, so rendered names match what ``helm template CHART`` shows."""
    argv = [helm, "template", "release-name", chart]
    if namespace:
        argv += ["--namespace", namespace]
    for path in values:
        argv += ["--values", path]
    return argv


def source_lines(text: str) -> list[tuple[int, str]]:
    """``(line, template path)`` of each ``# Source:`` comment, in order (1-based lines)."""
    found: list[tuple[int, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = _SOURCE.match(line)
        if match:
            found.append((number, match.group(1)))
    return found


def attribute_sources(objects: Sequence[RawObject], text: str, stream: str) -> list[RawObject]:
    """Give each object the template it was rendered from, with its line in the stream:
    ``mychart/templates/db.yaml (helm template output line 42)``."""
    sources = source_lines(text)
    out: list[RawObject] = []
    for obj in objects:
        template = ""
        for line, path in sources:
            if line > obj.origin.line:
                break
            template = path
        origin = Origin(f"{template} ({stream} line {obj.origin.line})") if template else (
            obj.origin)
        out.append(RawObject(obj.data, origin))
    return out


def render_chart(chart: str, values: Sequence[str] = (), *, namespace: str | None = None,
                 command: str = "matrix") -> list[RawObject]:
    """Run ``helm template`` on a chart directory (or packaged chart) and parse its output.

    ``command`` only shapes the not-installed message (which stockade command to pipe to).
    """
    if not Path(chart).exists():
        raise InputError(f"--helm {chart}: no such chart directory or file")
    for path in values:
        if not Path(path).is_file():
            raise InputError(f"--values {path}: no such file")
    helm = shutil.which("helm")
    if helm is None:
        raise EnvironmentProblem(NOT_INSTALLED.format(command=command))
    argv = helm_argv(chart, values, namespace=namespace, helm=helm)
    try:
        done = subprocess.run(argv, capture_output=True, text=True, check=False,
                              timeout=TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        raise CommandFailed(argv, -1, f"timed out after {TIMEOUT_SECONDS} s") from None
    except OSError as exc:
        raise EnvironmentProblem(f"cannot run {helm}: {exc.strerror or exc}") from exc
    if done.returncode != 0:
        raise CommandFailed(["helm", *argv[1:]], done.returncode,
                            done.stderr or done.stdout or "no output")
    stream = f"helm template {chart}"
    return attribute_sources(parse_text(done.stdout, stream), done.stdout, "helm template")
