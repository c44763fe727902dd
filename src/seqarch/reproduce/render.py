"""Reproductions rendered for a terminal: the list, and one result beside the paper's number.
Nothing here prints; the CLI prints what these return."""

from __future__ import annotations

import math

from rich.console import RenderableType
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from .reproductions import REPRODUCTIONS, Result


def listing(papers: dict[str, dict[str, str]]) -> Table:
    """Every reproduction with its source and what it checks."""
    t = Table(title="Published results seqarch reproduces (`seqarch reproduce NAME [--quick]`)")
    for col in ("name", "source", "claim"):
        t.add_column(col, overflow="fold")
    for name in REPRODUCTIONS:
        p = papers[name]
        t.add_row(name, escape(f"{p['citation']} — {p['where']}"), escape(p["claim"]))
    return t


def result_view(res: Result) -> list[RenderableType]:
    """The measured rows, the published figure, the differences and the verdict."""
    label = " (quick: a smaller version)" if res.quick else ""
    t = Table(
        title=f"{res.name}{label}: test metric, mean ± 95 % interval over seeds",
        caption="* = a run stopped by time (not converged; the verdict waits for a rerun)",
    )
    for col in ("configuration", "here", "baseline", "lr", "seeds", "state (values)"):
        t.add_column(col, justify="left" if col == "configuration" else "right")
    for r in res.rows:
        ci = f" ± {r.ci:.2g}" if math.isfinite(r.ci) else ""
        t.add_row(
            escape(r.label),
            f"{r.mean:.3g}{ci}" + ("*" if r.stopped_by_time else ""),
            "—" if r.baseline is None else f"{r.baseline:.3g}",
            "—" if r.lr is None else f"{r.lr:g}",
            str(r.seeds),
            "—" if r.state_values is None else f"{r.state_values:,}",
        )
    colour = {"reproduced": "green", "not reproduced": "red"}.get(res.verdict, "yellow")
    paper = res.paper
    body = (
        f"[bold]Claim:[/] {escape(paper['claim'])}\n"
        f"[bold]Published:[/] {escape(paper['published'])}\n"
        f"[bold]Source:[/] {escape(paper['citation'])} — {escape(paper['where'])}\n"
        f"[bold]Paper's setting:[/] {escape(paper['setting'])}\n"
        f"[bold]Here, differently:[/]\n" + "\n".join(f"  • {escape(d)}" for d in res.differences)
    )
    verdict = f"[bold {colour}]{res.verdict}[/]: {escape(res.why)}"
    return [t, Panel(body, title=f"{res.name}: the paper", border_style=colour), verdict]
