"""Build the report: every chart from the store's tables, written as one HTML page."""

from __future__ import annotations

from pathlib import Path

from ..errors import BadInput
from . import figures
from .charts import Chart
from .data import ReportData, load
from .interpret import ARCHS, interpret
from .page import render_page

INTERPRET_STEPS = 400  # Adam steps per tiny model: about a second each on one CPU thread


def build_charts(data: ReportData, interpret_steps: int | None = INTERPRET_STEPS) -> list[Chart]:
    """Every figure of the report; ``interpret_steps=None`` skips training the tiny models."""
    results = [] if interpret_steps is None else [interpret(a, interpret_steps) for a in ARCHS]
    return [
        figures.quality(data),
        figures.pareto(data),
        figures.gradient_flow(data),
        figures.latency(data),
        figures.throughput_memory(data),
        figures.interpretability(results),
        figures.reproductions(data),
        figures.signal_lag(data),
        figures.claims(data),
    ]


def write_report(
    db: str | Path | None, out_dir: str | Path, interpret_steps: int | None = INTERPRET_STEPS
) -> Path:
    """Write ``out_dir/index.html`` from the store at ``db`` (default: the default store);
    returns its path. ``interpret_steps`` 0 or None skips the trained-gates figure."""
    from ..store import default_path

    db = db or default_path()
    interpret_steps = interpret_steps or None
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise BadInput(f"--out {str(out)!r} is a file; expected a directory (created if missing)")
    if interpret_steps is not None and interpret_steps < 1:
        raise BadInput(
            f"--interpret-steps {interpret_steps} is not accepted; expected ≥ 0 (0 = skip)"
        )
    data = load(db)
    html = render_page(data, build_charts(data, interpret_steps))
    out.mkdir(parents=True, exist_ok=True)
    path = out / "index.html"
    tmp = path.with_suffix(".html.tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(path)  # a reader never sees half a page
    return path
