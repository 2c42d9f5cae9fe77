"""Running Graphviz's ``dot`` to turn DOT text into SVG (the one place that starts it)."""

from __future__ import annotations

import shutil
import subprocess

from stockade.errors import EnvironmentProblem

TIMEOUT = 300  # seconds; dot lays out thousands of nodes in well under a minute


def dot_to_svg(dot_text: str) -> str:
    """The SVG ``dot -Tsvg`` draws; a clear error when Graphviz is missing or fails."""
    program = shutil.which("dot")
    if program is None:
        raise EnvironmentProblem("-o svg needs Graphviz's dot program (Debian: apt-get "
                                 "install graphviz); -o dot writes the graph without it")
    try:
        result = subprocess.run([program, "-Tsvg"], input=dot_text, capture_output=True,
                                text=True, timeout=TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise EnvironmentProblem(f"dot -Tsvg took more than {TIMEOUT} s; write -o dot and "
                                 "lay it out with another Graphviz engine (sfdp)") from None
    if result.returncode != 0:
        raise EnvironmentProblem(f"dot -Tsvg failed: {result.stderr.strip()}")
    return result.stdout
