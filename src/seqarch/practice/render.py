"""How a drill looks in the terminal: rich renderables for each session event and the summary.

Nothing here prints; the CLI prints what these return.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.console import Console, Group, RenderableType
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ..errors import BadInput
from .question import CATEGORIES
from .session import Asked, Event, Graded, Retry, Skipped, Summary

TITLES = {
    "derivations": "Derivation",
    "comparison": "Architecture comparison",
    "tradeoffs": "Trade-off",
}


def _verdict(score: float) -> Text:
    if score >= 1:
        return Text("✓ right", style="bold green")
    if score > 0:
        return Text(f"◐ partly right ({score:.0%})", style="bold yellow")
    return Text("✗ not right", style="bold red")


def render_event(event: Event) -> RenderableType:
    if isinstance(event, Asked):
        q = event.question
        body = [Text(q.prompt, style="bold")]
        if q.hint:
            body.append(Text(q.hint, style="dim"))
        title = f"{event.index}/{event.total} · {TITLES[q.category]} · {q.topic}"
        return Panel(Group(*body), title=escape(title), title_align="left", border_style="cyan")
    if isinstance(event, Retry):
        return Text.assemble(("could not read that: ", "bold red"), event.message, "\n try again.")
    if isinstance(event, Skipped):
        return Text(event.why, style="yellow")
    if isinstance(event, Graded):
        g = event.grade
        lines: list[RenderableType] = [_verdict(g.score)]
        for d in g.diagnosis:
            lines.append(Text(f"  • {d}"))
        lines.append(Text.assemble(("model answer: ", "bold"), g.model_answer))
        if g.explanation:
            lines.append(Text.assemble(("why: ", "bold"), g.explanation))
        return Group(*lines, Text(""))
    raise BadInput(f"event {event!r} is not known")


def render_summary(summary: Summary, path: str | None = None) -> RenderableType:
    t = Table(title="This session" + (" (stopped early)" if summary.interrupted else ""))
    for col in ("category", "answered", "score", "%"):
        t.add_column(col, justify="left" if col == "category" else "right")
    answered, total = 0, 0.0
    for c, (n, s) in summary.by_category().items():
        t.add_row(TITLES[c], str(n), f"{s:g}", f"{s / n:.0%}")
        answered, total = answered + n, total + s
    pct = f"{total / answered:.0%}" if answered else "–"
    t.add_row("all", str(answered), f"{total:g}", pct, style="bold")
    notes = []
    if summary.skipped:
        notes.append(Text(f"{summary.skipped} question(s) skipped", style="yellow"))
    if path:
        notes.append(Text(f"history: {path} (table practice_answers)", style="dim"))
    return Group(t, *notes)


def render_progress(sessions: list[dict], weights: dict[str, float]) -> RenderableType:
    """Progress over time: % right per category, one row per past session."""
    t = Table(title="Practice history (score per category)")
    t.add_column("session started")
    for c in CATEGORIES:
        t.add_column(TITLES[c], justify="right")
    for row in sessions:
        started = time.strftime("%Y-%m-%d %H:%M", time.localtime(row["started"]))
        cells = []
        for c in CATEGORIES:
            n, s = row["by"].get(c, (0, 0.0))
            cells.append(f"{s / n:.0%} of {n}" if n else "–")
        t.add_row(started, *cells)
    focus = ", ".join(f"{TITLES[c]} {w:.2f}" for c, w in weights.items())
    return Group(t, Text(f"--focus weak draws categories by weight: {focus}", style="dim"))


def prompt_answers(console: Console) -> Callable[..., str | None]:
    """A ``read`` for :func:`seqarch.practice.run` that asks at the terminal; end of input
    (Ctrl-D) ends the drill."""
    from rich.prompt import Prompt

    def read(_q: object, _error: str | None) -> str | None:
        try:
            return Prompt.ask("[bold]answer[/] ('skip' to see it)", console=console)
        except EOFError:
            return None

    return read


def echo_answer(console: Console) -> Callable[[str], None]:
    """Show an answer read from a file as if it had been typed."""
    return lambda answer: console.print(f"[bold]answer>[/] {escape(answer)}", highlight=False)


def drill(
    console: Console,
    seed: int | None = None,
    count: int = 10,
    categories: list[str] | None = None,
    focus: str | None = None,
    answers: str | None = None,
    db: str | None = None,
    progress: bool = False,
) -> int:
    """``seqarch practice`` at a terminal: a drill of ``count`` questions (answers typed, or
    read from the file ``answers``), or with ``progress`` the history; returns the exit code
    (130 when an interactive drill was interrupted)."""
    import random

    from ..store import default_path
    from . import History, default_advisor, file_answers, generate, run
    from .session import default_citer

    if focus not in (None, "weak"):
        raise BadInput(f"focus={focus!r} is not accepted; expected 'weak'")
    path = str(db or default_path())
    seed = random.randrange(10**6) if seed is None else seed
    history = History(path, seed=seed)
    try:
        if progress:
            console.print(render_progress(history.sessions(), history.weak_weights()))
            return 0
        weights = history.weak_weights() if focus == "weak" else None
        questions = generate(seed, count, categories, weights)
        read = (
            prompt_answers(console)
            if answers is None
            else file_answers(answers, echo_answer(console))
        )
        console.print(f"[dim]seqarch practice --seed {seed} (repeat it with this seed)[/]")
        summary = run(
            questions,
            read,
            lambda event: console.print(render_event(event)),
            history=history,
            advisor=default_advisor(path),
            cite=default_citer(path),
        )
    finally:
        history.close()
    console.print(render_summary(summary, path))
    return 130 if summary.interrupted and answers is None else 0
