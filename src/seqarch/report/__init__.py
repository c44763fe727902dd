"""The report: one self-contained HTML page of the trade-offs, read from the results store.

    path = write_report("seqarch.db", "report/")      # -> report/index.html

``seqarch report --db PATH --out DIR`` calls it; ``seqarch study`` and ``seqarch advise`` can
call it to refresh the page. Modules: :mod:`.data` (the store as plain tables),
:mod:`.figures` (which charts, from those tables), :mod:`.charts` (a chart spec drawn as plotly
and as static SVG), :mod:`.interpret` (gates and attention of tiny trained models),
:mod:`.page` (the HTML, escaped), :mod:`.build` (all of them into one page on disk).
"""

from __future__ import annotations

from .build import INTERPRET_STEPS, build_charts, write_report
from .data import load
from .page import render_page

__all__ = ["INTERPRET_STEPS", "build_charts", "load", "render_page", "write_report"]
