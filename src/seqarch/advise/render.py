"""The advice rendered for a terminal: the ranking with its defense, the source's trade-off
table re-decided, and the self-evaluation. Nothing here prints; the CLI prints what these
return (Markdown lives in :func:`seqarch.advise.defend.to_markdown`)."""

from __future__ import annotations

from typing import Any

from rich.console import RenderableType
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from .defend import Recommendation, peer_rows, ranking_rows
from .evaluate import EvalRow, TableRow, differs, evaluation_summary


def advice(rec: Recommendation) -> list[RenderableType]:
    """The headline when a classical peer wins, the ranking (peers beneath), the defense in a
    panel, then the notes."""
    from rich import box

    from .headline import headline

    rows = ranking_rows(rec) + peer_rows(rec)
    caption = (
        "[dim]skill: mean ± 95 % interval over seeds; ? = unresolved (the interval spans the "
        f"baseline); latency — = not measured. Confidence: {escape(rec.confidence_basis)}.[/]"
    )
    t = Table(
        title=f"Ranking (confidence: {rec.confidence})",
        box=box.SIMPLE_HEAD,  # no rules between columns: the numbers fit 80 columns
        padding=(0, 1),
        pad_edge=False,
        collapse_padding=True,
    )
    for col in rows[0]:
        t.add_column(
            "#" if col == "rank" else col,
            justify="right" if col in ("rank", "latency", "params") else "left",
            no_wrap=col in ("arch", "skill", "latency", "params"),
            min_width={"feasible": 11, "state": 11}.get(col),
        )
    for r in rows:
        t.add_row(*(escape(v) for v in r.values()))
    title = f"[bold]{rec.recommendation}[/] (runner-up: {rec.runner_up})"
    first = headline(rec.peer_win)
    if first is not None:  # a classical peer wins: said before anything else
        title = f"the best sequence model: {title}"
    parts: list[RenderableType] = [
        *([f"[bold]{escape(first)}[/]"] if first is not None else []),
        t,
        caption,
        Panel(escape(rec.defense), title=title, border_style="green"),
    ]
    for head, items in (
        ("Common misunderstandings", rec.misunderstandings),
        ("Caveats", rec.caveats),
        ("Missing evidence", rec.missing_evidence),
    ):
        if items:
            parts.append(f"[bold]{head}[/]")
            parts.extend(f"  • {escape(item)}" for item in items)
    return parts


def textbook(rows: list[TableRow]) -> Table:
    """The source's rows: the textbook's choice beside what was measured here (on real tasks,
    also beside the adding problem's stored pick for the same task type)."""
    real = any(r.proxy != "adding" for r in rows)
    t = Table(title="The source's trade-off table, re-decided on this machine", show_lines=True)
    cols = ["task type", "textbook", "measured here", "why (measured)", "claim"]
    cols += ["decided on", "vs the adding problem"] if real else []
    for col in cols:
        t.add_column(col, overflow="fold")
    for r in rows:
        cells = [
            r.task_type,
            f"{r.textbook} ({r.textbook_why})",
            r.measured,
            escape(r.measured_why),
            {"holds": "[green]holds[/]", "breaks": "[red]breaks[/]"}.get(r.claim, r.claim),
        ]
        cells += [r.proxy, differs(r)] if real else []
        t.add_row(*cells)
    return t


def _budget(s: Any) -> str:
    parts = (
        f"{s.latency_us:g} µs" if s.latency_us else "",
        f"{s.memory_mb:g} MB" if s.memory_mb else "",
    )
    return ", ".join(x for x in parts if x) or "—"


def evaluation(rows: list[EvalRow]) -> Table:
    """The advisor against the exhaustive truth, spec by spec, with its score in the title."""
    score = evaluation_summary(rows)
    t = Table(
        title=f"Advisor vs exhaustive truth: top-1 {score['top1_agreement']:.0%}, mean "
        f"Spearman ρ {score['mean_spearman']:.2f}"
    )
    for col in ("T", "horizon", "streaming", "budget", "advised", "truth", "top-1", "ρ"):
        t.add_column(col)
    for r in rows:
        s = r.spec
        t.add_row(
            str(s.seq_len),
            str(s.horizon),
            "yes" if s.streaming else "no",
            _budget(s),
            " > ".join(r.advised[:3]),
            " > ".join(r.truth[:3]),
            "✓" if r.top1 else "✗",
            f"{r.rho:.2f}",
        )
    return t
