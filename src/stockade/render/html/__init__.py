"""The report as one self-contained HTML file: the matrix, a focused graph, the reasons and
the policies, drawn in the browser from data the engine computed.

``report_data`` gathers the data (``data.py``), ``explain_cells`` the explanations
(``reasons.py``), ``render_page`` inlines everything into the page (``page.py``). Pure.
"""

from __future__ import annotations

from stockade.render.html.data import FindingLike, report_data
from stockade.render.html.overlays import CellChange, DiffPage, EdgeChange, RemovedGroup
from stockade.render.html.page import render_page
from stockade.render.html.reasons import CellReasons, explain_cells

__all__ = ["CellChange", "CellReasons", "DiffPage", "EdgeChange", "FindingLike",
           "RemovedGroup", "explain_cells", "render_page", "report_data"]
