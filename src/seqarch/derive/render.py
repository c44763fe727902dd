"""Walkthroughs rendered: Markdown with real LaTeX for documents, rich renderables for terminals.

Nothing here prints; the CLI prints what :func:`to_rich` returns and writes what
:func:`to_markdown` returns.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Group
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from .walkthrough import Walkthrough

TITLES = {"rnn": "Elman RNN", "lstm": "LSTM", "gru": "GRU", "attention": "Causal self-attention"}


def _sizes(w: Walkthrough) -> str:
    return f"D = {w.input_size}, H = {w.hidden_size}"


def to_markdown(w: Walkthrough) -> str:
    """The walkthrough as Markdown: equations in $$…$$ display LaTeX, live numbers in tables."""
    lines = [f"# {TITLES[w.arch]}: derived step by step ({_sizes(w)})", ""]
    for section in w.sections:
        lines += [f"## {section.title}", ""]
        if section.intro:
            lines += [section.intro, ""]
        for n, step in enumerate(section.steps, 1):
            lines += [f"**{n}.**", "", "$$", step.latex, "$$", ""]
            if step.shapes:
                lines += [f"*At these sizes:* `{step.shapes}`", ""]
            if step.meaning:
                lines += [step.meaning, ""]
    lines += ["## Parameters per matrix (counted from a freshly built seqarch model)", ""]
    lines += ["| tensor | parameters |", "|---|---:|"]
    lines += [f"| `{k}` | {v:,} |" for k, v in w.param_counts.items()]
    lines += [
        f"| **total** | **{w.total_params:,}** |",
        f"| model's own count | {w.model_params:,} |",
    ]
    lines += ["", "## Live numbers", "", "| quantity | value |", "|---|---:|"]
    lines += [f"| `{k}` | {v:.4g} |" for k, v in w.numbers.items()]
    return "\n".join(lines) + "\n"


def to_rich(w: Walkthrough) -> Group:
    """The walkthrough as rich renderables: one panel per section, then the parameter table."""
    parts: list = [Text(f"{TITLES[w.arch]} — derived step by step ({_sizes(w)})", style="bold")]
    for section in w.sections:
        body = Table.grid(padding=(0, 1))  # a number column, so wrapped lines keep their indent
        body.add_column(style="bold", no_wrap=True)
        body.add_column()
        if section.intro:
            body.add_row("", Text(section.intro, style="italic"))
        for n, step in enumerate(section.steps, 1):
            cell = Text(step.text, style="bold cyan")
            if step.shapes:
                cell.append(f"\nat these sizes: {step.shapes}", style="dim")
            if step.meaning:
                cell.append(f"\n{step.meaning}")
            body.add_row(f"{n}.", cell)
            if n < len(section.steps):
                body.add_row("", "")
        parts.append(Panel(body, title=section.title, title_align="left"))
    table = Table(title="Parameters per matrix (counted from a fresh seqarch model)")
    table.add_column("tensor")
    table.add_column("parameters", justify="right")
    for k, v in w.param_counts.items():
        table.add_row(escape(k), f"{v:,}")
    table.add_row("total", f"{w.total_params:,}", style="bold")
    table.add_row("model's own count", f"{w.model_params:,}")
    parts.append(table)
    return Group(*parts)


def check_table(results: list, seeds: int, fd_tol: float, autograd_tol: float) -> list:
    """:func:`seqarch.derive.check_all`'s results: the worst error per (arch, tensor), then
    the verdict line."""
    worst: dict[tuple[str, str], list] = {}
    for r in results:
        worst.setdefault((r.arch, r.tensor), []).append(r)
    t = Table(
        title=f"Hand backward vs central finite differences (relative error < {fd_tol:g}) "
        f"and vs torch autograd through seqarch.models, reference and fused (max |Δ| < "
        f"{autograd_tol:g}); float64, worst of {seeds} seed(s)"
    )
    for col in ("arch", "tensor", "shape", "finite-diff rel. error", "autograd max |Δ|", ""):
        t.add_column(col, justify="right" if "error" in col or "|" in col else "left")
    for (arch, tensor), rs in worst.items():
        ok = all(r.passed for r in rs)
        t.add_row(
            arch,
            tensor,
            str(rs[0].shape),
            f"{max(r.fd_relative_error for r in rs):.1e}",
            f"{max(r.autograd_abs_error for r in rs):.1e}",
            "[green]ok[/]" if ok else "[bold red]FAIL[/]",
        )
    failed = sum(not r.passed for r in results)
    verdict = (
        f"[bold red]{failed} of {len(results)} gradient checks failed[/]"
        if failed
        else f"all {len(results)} gradient checks passed"
    )
    return [t, verdict]


def flow_table(results: list[dict], seq_len: int, k: int, sizes: str, seeds: int) -> Table:
    """:func:`seqarch.derive.gradient_flow`'s norms at a log-spaced set of lags up to ``k``."""
    from rich import box

    lags = sorted({j for j in (1, 5, 10, 20, 50, 100, 200, 500, 1000) if j <= k} | {k})
    t = Table(
        title=f"Gradient flow at initialisation, measured (torch autograd), T={seq_len}, "
        f"{sizes}, mean over {seeds} seed(s): ‖∂h_T/∂h_T−k‖ (state) and ‖∂h_T/∂x_T−k‖ (input)",
        box=box.SIMPLE_HEAD,
        padding=(0, 1),
    )
    t.add_column("arch / norm", no_wrap=True)
    for j in lags:
        t.add_column(f"k={j}", justify="right", no_wrap=True, min_width=7)
    for measure in ("state", "input"):
        for r in results:
            if r[measure] is not None:
                t.add_row(f"{r['arch']} {measure}", *(f"{r[measure][j - 1]:.1e}" for j in lags))
    return t
