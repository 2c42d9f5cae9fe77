"""One self-contained HTML file: the page template with its style, its script, the vendored
layout library (with its licence) and the report's data inlined. Nothing is loaded from the
network when the file is opened; a Content-Security-Policy in the page forbids it too.

The assets are files of this package (``assets/``), read with ``importlib.resources`` as
the package ships them: no user file is read here.
"""

from __future__ import annotations

import html
import json
import re
from importlib import resources
from typing import Any

from stockade import __version__
from stockade.render.escape import escape

_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")


def _asset(name: str) -> str:
    return resources.files("stockade.render.html").joinpath("assets", name).read_text("utf-8")


def _json_for_script(data: Any) -> str:
    """JSON safe inside a ``<script>`` element: ``<`` escaped, so no ``</script>`` or
    ``<!--`` can appear whatever the data holds, and ASCII, so that no control character
    (C1 controls, bidirectional overrides) is written raw when the page goes to a
    terminal."""
    return json.dumps(data, separators=(",", ":")).replace("<", "\\u003c")


def render_page(data: dict[str, Any]) -> str:
    """The page for the report's ``data`` (``report_data``)."""
    values = {
        "title": html.escape(escape(str(data.get("title", "stockade report")))),
        "version": html.escape(__version__),
        "style": _asset("report.css"),
        "script": _asset("report.js"),
        "dagre": _asset("dagre.min.js"),
        "dagre_license": _asset("dagre.LICENSE"),
        "data": _json_for_script(data),
    }
    # One pass: text put in is never scanned for placeholders again.
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], _asset("report.html"))
