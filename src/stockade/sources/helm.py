"""Render a Helm chart with the ``helm`` binary and read what it prints.

``helm template`` is the only faithful renderer of a chart (its template functions, its
dependencies, its values merging), so stockade runs it rather than imitating it. Each object
keeps the chart file it came from (Helm's ``# Source:`` comments) for error messages.
"""

from __future__ import annotations

import os
import re
import selectors
import shutil
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from stockade.errors import CommandFailed, DocumentError, EnvironmentProblem, InputError
from stockade.model.build import RawObject
from stockade.model.types import Origin
from stockade.sources.files import decode_text, parse_text
from stockade.sources.limits import Budget

NOT_INSTALLED = (
    "--helm needs the helm binary, and there is no `helm` on PATH. Install Helm "
    "(https://helm.sh/docs/intro/install/, e.g. `brew install helm` or the release "
    "tarball), or render the chart yourself and pipe it in: "
    "`helm template RELEASE CHART_DIR [--values FILE] | stockade {command} -`"
)
TIMEOUT_SECONDS = 120
ERRORS_KEPT = 1 << 20  # bytes of helm's own error output shown at most

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
        out.append(RawObject(obj.data, origin, obj.notes))
    return out


def render_chart(chart: str, values: Sequence[str] = (), *, namespace: str | None = None,
                 command: str = "matrix", broken: list[DocumentError] | None = None,
                 budget: Budget | None = None) -> list[RawObject]:
    """Run ``helm template`` on a chart directory (or packaged chart) and parse its output,
    which counts against the input limits like any file.

    ``command`` only shapes the not-installed message (which stockade command to pipe to).
    """
    budget = budget or Budget()
    if not Path(chart).exists():
        raise InputError(f"--helm {chart}: no such chart directory or file")
    for path in values:
        if not Path(path).exists():
            raise InputError(f"--values {path}: no such file")
        if not Path(path).is_file():
            raise InputError(f"--values {path}: not a regular file (helm reads it itself, so "
                             "a pipe or <(...) cannot be passed on: write the values to a "
                             "file)")
    helm = shutil.which("helm")
    if helm is None:
        raise EnvironmentProblem(NOT_INSTALLED.format(command=command))
    argv = helm_argv(chart, values, namespace=namespace, helm=helm)
    stream = f"helm template {chart}"
    returncode, out, err = _run_bounded(argv, budget, stream)
    if returncode != 0:
        raise CommandFailed(["helm", *argv[1:]], returncode,
                            decode_lossy(err) or decode_lossy(out) or "no output")
    budget.take_bytes(len(out), stream)
    text = decode_text(out, stream)
    return attribute_sources(parse_text(text, stream, broken=broken, budget=budget), text,
                             "helm template")


def decode_lossy(data: bytes) -> str:
    return data.decode("utf-8", "replace")


def _run_bounded(argv: list[str], budget: Budget, stream: str) -> tuple[int, bytes, bytes]:
    """Run a command, keeping no more of its output than the budget allows (and 1 MiB of
    its errors): a chart that renders endlessly is stopped, not read into memory."""
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
    except OSError as exc:
        raise EnvironmentProblem(f"cannot run {argv[0]}: {exc.strerror or exc}") from exc
    assert proc.stdout is not None and proc.stderr is not None
    out_fd, err_fd = proc.stdout.fileno(), proc.stderr.fileno()
    buffers = {out_fd: bytearray(), err_fd: bytearray()}
    limits = {out_fd: budget.bytes_left, err_fd: ERRORS_KEPT}
    deadline = time.monotonic() + TIMEOUT_SECONDS
    try:
        with selectors.DefaultSelector() as selector:
            for pipe in (proc.stdout, proc.stderr):
                selector.register(pipe, selectors.EVENT_READ)
            while selector.get_map():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise CommandFailed(argv, -1, f"timed out after {TIMEOUT_SECONDS} s")
                for key, _ in selector.select(timeout=left):
                    fd = key.fd
                    block = os.read(fd, 1 << 16)
                    if not block:
                        selector.unregister(key.fileobj)
                        continue
                    buffers[fd] += block
                    if len(buffers[fd]) > limits[fd] and fd == out_fd:
                        budget.check_bytes(len(buffers[fd]), stream)  # raises
                    del buffers[fd][limits[fd] + 1:]
        returncode = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    finally:
        proc.stdout.close()
        proc.stderr.close()
    return returncode, bytes(buffers[out_fd]), bytes(buffers[err_fd])
