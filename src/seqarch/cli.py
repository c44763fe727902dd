"""The ``seqarch`` command line: it parses, calls the library, and prints. Nothing else."""

from __future__ import annotations

import contextlib
import json
import math
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from . import cost as cost_model
from .errors import BadInput

app = typer.Typer(
    help="RNN, LSTM, GRU, Transformer — or a modern recurrent model: derive, decide, defend.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
out = Console()
err = Console(stderr=True)


@contextmanager
def one_line_errors() -> Iterator[None]:
    """Bad input (:class:`BadInput`): one line naming the bad value and what is accepted, exit
    code 2. Anything else is an internal error: one line saying so, exit code 1, and the
    traceback with ``--debug`` — a bug is never reported as the user's mistake."""
    try:
        yield
    except BadInput as e:
        err.print(f"[bold red]error:[/] {e}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    except (typer.Exit, KeyboardInterrupt, SystemExit):
        raise
    except Exception as e:  # noqa: BLE001 - reported as what it is: ours, not the user's
        if DEBUG["on"]:
            raise
        first = (str(e).splitlines() or [""])[0]
        err.print(
            f"[bold red]internal error:[/] {type(e).__name__}: {first} — a bug in seqarch, not "
            "your input; rerun with `seqarch --debug …` for the traceback",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(1) from None


DEBUG = {"on": False}


def existing_store(path: str | Path) -> Path:
    """A command that only reads the store refuses a path with no store, in one line — the
    same for every such command (study and advise create the store they write to)."""
    path = Path(path)
    if not path.exists():
        raise BadInput(
            f"database {path} does not exist; expected --db PATH of a seqarch store (`seqarch "
            "advise` or `seqarch study` creates one)"
        )
    return path


@app.callback()
def _root(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the traceback of an internal error.")
    ] = False,
) -> None:
    """RNN, LSTM, GRU, Transformer — or a modern recurrent model: derive, decide, defend."""
    DEBUG["on"] = debug


def human(n: float, unit: str = "") -> str:
    for div, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= div:
            return f"{n / div:.3g} {suffix}{unit}"
    return f"{n:.4g} {unit}".rstrip()


@app.command()
def models(
    input_size: Annotated[int, typer.Option(help="Features per time step (D).")] = 32,
    hidden_size: Annotated[int, typer.Option(help="Hidden width (H, or d_model).")] = 128,
    num_layers: Annotated[int, typer.Option(help="Stacked layers (L).")] = 1,
    seq_len: Annotated[int, typer.Option("--seq-len", help="Sequence length T.")] = 512,
    batch_size: Annotated[int, typer.Option(help="Batch size B.")] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Every architecture's parameters, FLOPs/token and state bytes at T, with the formulas."""
    with one_line_errors():
        rows = cost_model.table(
            input_size=input_size,
            hidden_size=hidden_size,
            num_layers=num_layers,
            seq_len=seq_len,
            batch_size=batch_size,
        )
    if as_json:
        print(json.dumps([c.as_dict() for c in rows], indent=2))
        return
    t = Table(
        title=f"Cost at D={input_size}, H={hidden_size}, L={num_layers}, T={seq_len}, "
        f"B={batch_size}, float32 (formulas in seqarch.models; FLOPs = matmul FLOPs)",
        show_lines=True,
    )
    for col in ("arch", "params", "FLOPs/token", "train FLOPs/token", "state at T", "activations"):
        t.add_column(col, justify="left" if col == "arch" else "right")
    t.add_column("formulas", overflow="fold")
    for c in rows:
        f = c.formulas
        t.add_row(
            c.arch,
            f"{c.params:,}",
            human(c.flops_per_token),
            human(c.train_flops_per_token),
            human(c.state_bytes, "B"),
            human(c.activation_bytes, "B"),
            escape(
                f"params = {f['params']}\nFLOPs/token = {f['flops_per_token']}\n"
                f"state = {f['state_bytes']}\nactivations = {f['activation_bytes']}"
            ),
        )
    out.print(t)


# ---------------------------------------------------------------------------------------------
# seqarch derive: hand-derived backward passes, walkthroughs, measured gradient flow.

derive_app = typer.Typer(
    help="Derive: hand-written BPTT checked against finite differences and autograd, "
    "step-by-step walkthroughs, measured gradient flow.",
    no_args_is_help=True,
)
app.add_typer(derive_app, name="derive")


@derive_app.command("check")
def derive_check(
    seeds: Annotated[int, typer.Option(help="Seeds per architecture.")] = 3,
) -> None:
    """Check every hand-written backward pass; exit 1 if any check fails."""
    from .derive import AUTOGRAD_TOLERANCE, FD_TOLERANCE, check_all

    with one_line_errors():
        if seeds <= 0:
            raise BadInput(f"seeds={seeds} is not accepted; expected a positive integer")
        results = check_all(seeds=tuple(range(seeds)))
    worst: dict[tuple[str, str], list] = {}
    for r in results:
        worst.setdefault((r.arch, r.tensor), []).append(r)
    t = Table(
        title=f"Hand backward vs central finite differences (relative error < {FD_TOLERANCE:g}) "
        f"and vs torch autograd through seqarch.models, reference and fused (max |Δ| < "
        f"{AUTOGRAD_TOLERANCE:g}); float64, worst of {seeds} seed(s)"
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
    out.print(t)
    failed = [r for r in results if not r.passed]
    if failed:
        err.print(f"[bold red]{len(failed)} of {len(results)} gradient checks failed[/]")
        raise typer.Exit(1)
    out.print(f"all {len(results)} gradient checks passed")


def _derive_walkthrough(arch: str, input_size: int, hidden_size: int, markdown: str | None) -> None:
    from .derive import walkthrough
    from .derive.render import to_markdown, to_rich

    with one_line_errors():
        w = walkthrough(arch, input_size=input_size, hidden_size=hidden_size)
    out.print(to_rich(w))
    if markdown:
        from pathlib import Path

        Path(markdown).write_text(to_markdown(w), encoding="utf-8")
        out.print(f"wrote {markdown}")


WalkInput = Annotated[int, typer.Option(help="Features per time step (D).")]
WalkHidden = Annotated[int, typer.Option(help="Hidden width (H, or d for attention).")]
WalkMarkdown = Annotated[
    str | None, typer.Option("--markdown", help="Also write Markdown with LaTeX to FILE.")
]


@derive_app.command("rnn")
def derive_rnn(
    input_size: WalkInput = 32, hidden_size: WalkHidden = 128, markdown: WalkMarkdown = None
) -> None:
    """The Elman RNN derived step by step, with live numbers at these sizes."""
    _derive_walkthrough("rnn", input_size, hidden_size, markdown)


@derive_app.command("lstm")
def derive_lstm(
    input_size: WalkInput = 32, hidden_size: WalkHidden = 128, markdown: WalkMarkdown = None
) -> None:
    """The LSTM derived step by step, with live numbers at these sizes."""
    _derive_walkthrough("lstm", input_size, hidden_size, markdown)


@derive_app.command("gru")
def derive_gru(
    input_size: WalkInput = 32, hidden_size: WalkHidden = 128, markdown: WalkMarkdown = None
) -> None:
    """The GRU derived step by step, with live numbers at these sizes."""
    _derive_walkthrough("gru", input_size, hidden_size, markdown)


@derive_app.command("attention")
def derive_attention(
    input_size: WalkInput = 32, hidden_size: WalkHidden = 128, markdown: WalkMarkdown = None
) -> None:
    """Single-head causal self-attention derived step by step, with live numbers."""
    _derive_walkthrough("attention", input_size, hidden_size, markdown)


@derive_app.command("flow")
def derive_flow(
    arch: Annotated[
        list[str] | None, typer.Option(help="Architecture (repeat for several; default all).")
    ] = None,
    seq_len: Annotated[int, typer.Option("--seq-len", help="Sequence length T.")] = 100,
    k: Annotated[int, typer.Option("--k", help="Largest lag K (< T).")] = 50,
    hidden_size: Annotated[int, typer.Option(help="Hidden width H.")] = 32,
    input_size: Annotated[int, typer.Option(help="Features per time step D.")] = 8,
    seeds: Annotated[int, typer.Option(help="Seeds to average over.")] = 3,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    plot: Annotated[
        str | None, typer.Option(help="Write a log-scale plot: FILE.png and .svg.")
    ] = None,
    db: Annotated[str | None, typer.Option(help="Also save the results in this store.")] = None,
) -> None:
    """Measured ‖∂h_T/∂h_{T−k}‖ and ‖∂h_T/∂x_{T−k}‖ for k = 1..K at initialisation."""
    import torch
    from rich import box

    from .derive import gradient_flow
    from .derive.flow import check_flow_args, store_flow
    from .models import MODELS

    archs = arch or list(MODELS)
    torch.set_num_threads(1)  # tiny matrices: one thread is fastest and spares a shared CPU
    with one_line_errors():
        if seeds <= 0:
            raise BadInput(f"seeds={seeds} is not accepted; expected a positive integer")
        for a in archs:
            check_flow_args(a, seq_len, k, hidden_size, input_size)
        results = [
            gradient_flow(a, seq_len, k, hidden_size, input_size, seeds=tuple(range(seeds)))
            for a in archs
        ]
        written = []
        if plot:
            from .derive.plot import plot_flow

            written = plot_flow(results, plot)
        ids = [store_flow(r, db) for r in results] if db else []
    if as_json:
        print(json.dumps(results, indent=2))
    else:
        lags = sorted({j for j in (1, 5, 10, 20, 50, 100, 200, 500, 1000) if j <= k} | {k})
        t = Table(
            title=f"Gradient flow at initialisation, measured (torch autograd), T={seq_len}, "
            f"H={hidden_size}, D={input_size}, mean over {seeds} seed(s): "
            "‖∂h_T/∂h_T−k‖ (state) and ‖∂h_T/∂x_T−k‖ (input)",
            box=box.SIMPLE_HEAD,
            padding=(0, 1),
        )
        t.add_column("arch / norm", no_wrap=True)
        for j in lags:
            t.add_column(f"k={j}", justify="right", no_wrap=True, min_width=7)
        for measure in ("state", "input"):
            for r in results:
                if r[measure] is not None:
                    values = (f"{r[measure][j - 1]:.1e}" for j in lags)
                    t.add_row(f"{r['arch']} {measure}", *values)
        out.print(t)
    for path in written:
        err.print(f"wrote {path}")
    if ids:
        err.print(f"stored {len(ids)} gradient_flow measurement(s) in {db}")


@app.command()
def practice(
    seed: Annotated[
        int | None, typer.Option(help="Seed of the drill (same seed, same questions).")
    ] = None,
    count: Annotated[int, typer.Option(help="Number of questions.")] = 10,
    category: Annotated[
        list[str] | None,
        typer.Option(help="derivations, comparison or tradeoffs (repeat for several)."),
    ] = None,
    focus: Annotated[
        str | None, typer.Option(help="'weak': draw the categories missed most, from history.")
    ] = None,
    answers: Annotated[
        str | None,
        typer.Option(help="Read answers from this file, one per line ('-' = stdin), not a prompt."),
    ] = None,
    db: Annotated[
        str | None, typer.Option(help="Store file (default $SEQARCH_DB or ./seqarch.db).")
    ] = None,
    progress: Annotated[
        bool, typer.Option(help="Show progress over past sessions and exit.")
    ] = False,
) -> None:
    """Interview drills — derivations, comparisons, trade-offs — checked by the code."""
    import random
    from pathlib import Path

    from rich.prompt import Prompt

    from . import practice as drills
    from .practice.render import render_event, render_progress, render_summary
    from .store import default_path

    with one_line_errors():
        if focus not in (None, "weak"):
            raise BadInput(f"focus={focus!r} is not accepted; expected 'weak'")
        path = str(db or default_path())
        seed = random.randrange(10**6) if seed is None else seed
        history = drills.History(path, seed=seed)
        if progress:
            out.print(render_progress(history.sessions(), history.weak_weights()))
            history.close()
            return
        weights = history.weak_weights() if focus == "weak" else None
        questions = drills.generate(seed, count, category, weights)
        if answers is not None:
            if answers != "-" and not Path(answers).is_file():
                raise BadInput(
                    f"--answers {answers!r} is not a file; expected a text file of answers, one "
                    "per line, or '-' for standard input"
                )
            text = sys.stdin.read() if answers == "-" else Path(answers).read_text()
    out.print(f"[dim]seqarch practice --seed {seed} (repeat it with this seed)[/]")
    if answers is not None:
        lines = iter(
            line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
        )

        def read(q, error):
            answer = next(lines, None)
            if answer is not None:
                out.print(f"[bold]answer>[/] {escape(answer)}", highlight=False)
            return answer
    else:

        def read(q, error):
            try:
                return Prompt.ask("[bold]answer[/] ('skip' to see it)", console=out)
            except EOFError:
                return None

    summary = drills.run(
        questions,
        read,
        lambda event: out.print(render_event(event)),
        history=history,
        advisor=drills.default_advisor(path),
    )
    history.close()
    out.print(render_summary(summary, path))
    if summary.interrupted and answers is None:
        raise typer.Exit(130)


# ---------------------------------------------------------------------------------------------
# seqarch study / seqarch results: run studies into the SQLite store, list what it holds.


def _fmt(v: float | None) -> str:
    return "—" if v is None else f"{v:.4g}"


@app.command()
def study(
    preset: Annotated[
        str, typer.Option(help="quick, full, ablation, or the path of a study .toml file.")
    ] = "quick",
    db: Annotated[
        str | None, typer.Option(help="Results database (default: $SEQARCH_DB, else ./seqarch.db).")
    ] = None,
    backend: Annotated[str, typer.Option(help="local (worker processes) or ray.")] = "local",
    workers: Annotated[
        int | None, typer.Option(help="Parallel runs (default: CPU cores / threads per run).")
    ] = None,
    address: Annotated[
        str | None, typer.Option(help="Ray cluster address (default: start a local Ray).")
    ] = None,
    report: Annotated[
        str | None, typer.Option(help="Refresh the HTML report in this folder ('' = no).")
    ] = "seqarch-report",
) -> None:
    """Run a study's runs that are not yet stored, in parallel; then summarise it."""
    from . import study as study_lib
    from .store import Store, default_path

    path = db or str(default_path())
    with one_line_errors():
        runs = study_lib.load_study(preset)
        Store(path).close()  # a foreign file is refused before anything runs
        progress, on_event = _run_bar()

        try:
            with progress:
                outcome = study_lib.run_study(runs, path, backend, workers, address, on_event)
        except KeyboardInterrupt:
            err.print(
                f"interrupted: finished runs are stored in {path}; run the same command again "
                "to resume"
            )
            raise typer.Exit(130) from None
        with Store(path) as store:
            rows = study_lib.summarize(study_lib.study_rows(store, runs))
    t = Table(
        title=f"Study {preset}: test metric, mean ± 95 % interval over seeds",
        caption="lr: selected on validation by the protocol; * = a run stopped by time "
        "(not converged)",
    )
    variants = any(r.variant for r in rows)
    cols = ("task", "T", "arch", *(("variant",) if variants else ()), "metric", "value")
    for col in (*cols, "base", "lr", "n", "s/run"):
        t.add_column(
            col,
            justify="left" if col in ("task", "arch", "variant", "metric") else "right",
            no_wrap=col in ("value", "metric", "arch"),
        )
    for r in rows:
        arrow = "↑" if r.higher_is_better else "↓"
        ci = f" ± {r.ci:.2g}" if math.isfinite(r.ci) else ""
        value = _fmt(r.mean) + ci + ("*" if r.stopped_by_time else "")
        t.add_row(
            r.task,
            str(r.seq_len or "—"),
            r.arch,
            *((escape(r.variant),) if variants else ()),
            f"{r.metric}{arrow}",
            value,
            _fmt(r.baseline),
            "—" if r.lr is None else f"{r.lr:g}",
            str(r.seeds),
            f"{r.seconds:.0f}",
        )
    out.print(t)
    out.print(
        f"{outcome.done} run(s) trained, {outcome.skipped} already stored, {outcome.failed} "
        f"failed, {outcome.lost} lost (rerun to retry) — in {path}",
        highlight=False,
    )
    if report:
        _refresh_report(path, report)
    if outcome.failed or outcome.lost:
        raise typer.Exit(1)


def _run_bar() -> tuple[Any, Any]:
    """A rich progress bar over training runs (what is training, how many remain, elapsed)
    and the study event handler that drives it; each finished run prints a line above it."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    progress = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )
    bar = progress.add_task("runs", total=0)

    def on_event(e: Any) -> None:
        label = f"{e.run.arch} {e.run.task} {e.run.task_config.get('seq_len', '')}".strip()
        lr = f"lr {e.run.train.lr:g}"
        if e.kind == "queued":
            progress.update(bar, total=progress.tasks[0].total + 1)
        elif e.kind == "start":
            progress.update(bar, description=f"training {label} {lr}")
        else:
            progress.advance(bar)
            name = e.metrics.get("metric")
            result = f"{name}={e.metrics[name]:.4g}" if e.kind == "done" else e.kind
            if e.kind == "failed":
                result += f": {e.metrics.get('error', '')}"
            steps = e.metrics.get("steps")
            if steps is not None:
                result += f" after {steps} steps"
            if e.metrics.get("stopped") == "time_budget":
                result += " (stopped by time: not converged)"
            progress.console.print(
                f"{e.kind:>6}  {label}  {lr}  seed {e.run.seed}  {escape(result)}", highlight=False
            )

    return progress, on_event


@app.command()
def results(
    db: Annotated[
        str | None, typer.Option(help="Results database (default: $SEQARCH_DB, else ./seqarch.db).")
    ] = None,
    task: Annotated[str | None, typer.Option(help="Only this task.")] = None,
    arch: Annotated[str | None, typer.Option(help="Only this architecture.")] = None,
    seq_len: Annotated[int | None, typer.Option("--seq-len", help="Only this length T.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List the finished runs stored in the results database."""
    from pathlib import Path

    from .store import Store, default_path

    path = Path(db) if db else default_path()
    with one_line_errors():
        existing_store(path)
        with Store(path) as store:
            rows = store.runs(task=task, arch=arch, seq_len=seq_len)
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    t = Table(title=f"{len(rows)} finished run(s) in {path}")
    for col in (
        "id",
        "task",
        "T",
        "arch",
        "seed",
        "metric",
        "value",
        "baseline",
        "steps",
        "train s",
        "stopped",
    ):
        t.add_column(col, justify="left" if col in ("id", "task", "arch", "metric") else "right")
    for r in rows:
        c, m = r["config"], r["metrics"]
        name = m.get("metric", "")
        t.add_row(
            r["id"],
            c["task"],
            str(c["task_config"].get("seq_len", m.get("seq_len", "—"))),
            c["arch"],
            str(c["seed"]),
            name,
            _fmt(m.get(name)),
            _fmt(m.get(f"baseline_{name}")),
            str(m.get("steps", "—")),
            f"{m.get('train_seconds', 0):.1f}",
            str(m.get("stopped", "")),
        )
    out.print(t)


@app.command()
def advise(
    seq_len: Annotated[int | None, typer.Option("--seq-len", help="Typical length T.")] = None,
    max_len: Annotated[int | None, typer.Option(help="Longest sequence served.")] = None,
    horizon: Annotated[
        str, typer.Option(help="How far back the signal lies (steps), or 'unknown'.")
    ] = "unknown",
    streaming: Annotated[bool, typer.Option(help="An output per arriving step.")] = False,
    latency_us: Annotated[
        float | None, typer.Option(help="Budget: per step if streaming, else per sequence.")
    ] = None,
    memory_mb: Annotated[float | None, typer.Option(help="Budget: weights + state.")] = None,
    train_minutes: Annotated[float | None, typer.Option(help="Training budget here.")] = None,
    input_size: Annotated[int, typer.Option(help="Features per step.")] = 1,
    output_size: Annotated[int, typer.Option(help="Classes or regression width.")] = 1,
    task_kind: Annotated[str, typer.Option(help="classify | regress | forecast | lm")] = "classify",
    hidden_size: Annotated[int, typer.Option(help="Model width to evaluate.")] = 128,
    num_layers: Annotated[int, typer.Option(help="Stacked layers.")] = 1,
    data: Annotated[str | None, typer.Option(help="Your own CSV / NPZ data.")] = None,
    spec: Annotated[str | None, typer.Option("--spec", help="A TOML problem file.")] = None,
    db: Annotated[str | None, typer.Option(help="SQLite store (default $SEQARCH_DB).")] = None,
    no_run: Annotated[bool, typer.Option("--no-run", help="Use only stored evidence.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON advice.")] = False,
    markdown: Annotated[str | None, typer.Option(help="Also write the advice here.")] = None,
    report: Annotated[
        str | None, typer.Option(help="Refresh the HTML report in this folder.")
    ] = "seqarch-report",
    table: Annotated[
        bool, typer.Option("--table", help="The source's trade-off table, measured here.")
    ] = False,
    evaluate: Annotated[
        str | None, typer.Option(help="Score the advisor on a suite (TOML or 'default').")
    ] = None,
    archs: Annotated[
        str | None, typer.Option("--archs", help="Only these, comma-separated (default: all).")
    ] = None,
) -> None:
    """Which architecture fits this problem, and why — measured on this machine."""
    from . import advise as advisor

    bar, on_event = (None, None) if as_json else _run_bar()
    say = None if as_json else (lambda msg: bar.console.print(f"[dim]{escape(msg)}[/]"))
    with one_line_errors():
        names = advisor.archs(archs.split(",") if archs else None)
    if table:
        with one_line_errors():
            with bar or contextlib.nullcontext():
                rows = advisor.textbook_table(
                    db=db, run=not no_run, names=names, progress=say, on_event=on_event
                )
        _print_textbook(rows, as_json)
        return
    if evaluate is not None:
        with one_line_errors():
            with bar or contextlib.nullcontext():
                rows = advisor.evaluate(
                    evaluate, db=db, names=names, progress=say, on_event=on_event
                )
        _print_evaluation(rows, as_json)
        return
    with one_line_errors():
        if spec is not None:
            problem = advisor.ProblemSpec.from_toml(spec)
        else:
            if seq_len is None:
                raise BadInput("--seq-len is required (or give --spec FILE); expected T ≥ 1")
            h = None if horizon == "unknown" else _int_option("horizon", horizon)
            problem = advisor.ProblemSpec(
                seq_len=seq_len,
                max_len=max_len,
                horizon=h,
                streaming=streaming,
                latency_us=latency_us,
                memory_mb=memory_mb,
                train_minutes=train_minutes,
                input_size=input_size,
                output_size=output_size,
                task_kind=task_kind,
                hidden_size=hidden_size,
                num_layers=num_layers,
                data=data,
            )
        with bar or contextlib.nullcontext():
            rec = advisor.advise(
                problem, db=db, run=not no_run, names=names, progress=say, on_event=on_event
            )
    if markdown:
        Path(markdown).write_text(advisor.to_markdown(rec), encoding="utf-8")
    if as_json:
        print(json.dumps(rec.to_dict(), indent=2, default=str))
    else:
        _print_advice(rec)
    if report:
        _refresh_report(db, report)


def _print_advice(rec) -> None:  # noqa: ANN001 - a seqarch.advise.Recommendation
    from rich.panel import Panel

    from .advise.defend import peer_rows, ranking_rows

    rows = ranking_rows(rec) + peer_rows(rec)
    t = Table(
        title=f"Ranking (confidence: {rec.confidence})",
        caption="skill: mean ± 95 % interval over seeds; ? = unresolved (the interval spans "
        f"the baseline). Confidence: {rec.confidence_basis}.",
    )
    for col in rows[0]:
        t.add_column(
            col,
            justify="right" if col in ("rank", "latency", "params") else "left",
            no_wrap=col in ("arch", "skill", "latency", "params"),
        )
    for r in rows:
        t.add_row(*(escape(v) for v in r.values()))
    out.print(t)
    title = f"[bold]{rec.recommendation}[/] (runner-up: {rec.runner_up})"
    out.print(Panel(escape(rec.defense), title=title, border_style="green"))
    for head, items in (
        ("Common misunderstandings", rec.misunderstandings),
        ("Caveats", rec.caveats),
        ("Missing evidence", rec.missing_evidence),
    ):
        if items:
            out.print(f"[bold]{head}[/]")
            for item in items:
                out.print(f"  • {escape(item)}")


def _print_textbook(rows, as_json: bool) -> None:  # noqa: ANN001 - advise.TableRow list
    if as_json:
        print(json.dumps([r.__dict__ for r in rows], indent=2))
        return
    t = Table(title="The source's trade-off table, re-decided on this machine", show_lines=True)
    for col in ("task type", "textbook", "measured here", "why (measured)", "claim"):
        t.add_column(col, overflow="fold")
    for r in rows:
        verdict = "[green]holds[/]" if r.holds else "[red]breaks[/]"
        t.add_row(
            r.task_type,
            f"{r.textbook} ({r.textbook_why})",
            r.measured,
            escape(r.measured_why),
            verdict,
        )
    out.print(t)


def _print_evaluation(rows, as_json: bool) -> None:  # noqa: ANN001 - advise.EvalRow list
    top1 = sum(r.top1 for r in rows) / len(rows)
    rho = sum(r.rho for r in rows) / len(rows)
    if as_json:
        print(
            json.dumps(
                {
                    "top1_agreement": top1,
                    "mean_spearman": rho,
                    "specs": [
                        {
                            "spec": r.spec.to_dict(),
                            "advised": r.advised,
                            "truth": r.truth,
                            "top1": r.top1,
                            "spearman": r.rho,
                        }
                        for r in rows
                    ],
                },
                indent=2,
            )
        )
        return
    t = Table(title=f"Advisor vs exhaustive truth: top-1 {top1:.0%}, mean Spearman ρ {rho:.2f}")
    for col in ("T", "horizon", "streaming", "budget", "advised", "truth", "top-1", "ρ"):
        t.add_column(col)
    for r in rows:
        s = r.spec
        budget = ", ".join(
            x
            for x in (
                f"{s.latency_us:g} µs" if s.latency_us else "",
                f"{s.memory_mb:g} MB" if s.memory_mb else "",
            )
            if x
        )
        t.add_row(
            str(s.seq_len),
            str(s.horizon),
            "yes" if s.streaming else "no",
            budget or "—",
            " > ".join(r.advised[:3]),
            " > ".join(r.truth[:3]),
            "✓" if r.top1 else "✗",
            f"{r.rho:.2f}",
        )
    out.print(t)


def _int_option(name: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise BadInput(
            f"{name}={value!r} is not accepted; expected an integer or 'unknown'"
        ) from None


def _refresh_report(db: str | None, out_dir: str) -> None:
    try:
        from .report import write_report
        from .store import default_path
    except ImportError:  # pragma: no cover - the report is part of the package
        return
    path = write_report(db or default_path(), out_dir)
    err.print(f"report: {path}")


# ---------------------------------------------------------------------------------------------
# seqarch report: the self-contained HTML page of the trade-offs.


@app.command()
def report(
    db: Annotated[
        str | None, typer.Option(help="Results database (default: $SEQARCH_DB, else ./seqarch.db).")
    ] = None,
    out_dir: Annotated[
        str, typer.Option("--out", help="Folder to write index.html into (created if missing).")
    ] = "seqarch-report",
    interpret_steps: Annotated[
        int,
        typer.Option(
            help="Adam steps for the tiny models whose gates and attention are shown "
            "(0 = skip that figure)."
        ),
    ] = 400,
) -> None:
    """Write DIR/index.html: every stored result as charts and tables, readable offline."""
    from .report import write_report
    from .store import default_path

    with one_line_errors():
        if interpret_steps < 0:
            raise BadInput(
                f"--interpret-steps {interpret_steps} is not accepted; expected ≥ 0 (0 = skip)"
            )
        path = write_report(existing_store(db or default_path()), out_dir, interpret_steps or None)
    out.print(f"report: {path}")


# -- bench / export (issue 5) --------------------------------------------------------------------


def _num(v: float | None, fmt: str = ".3g") -> str:
    if v is None:
        return "—"
    return f"{v:,.0f}" if abs(v) >= 1000 and fmt == ".3g" else format(v, fmt)


@app.command()
def bench(
    arch: Annotated[
        list[str] | None, typer.Option("--arch", help="Architecture (repeatable; default: all).")
    ] = None,
    quick: Annotated[
        bool, typer.Option(help="Small sizes and few repeats (under a minute).")
    ] = False,
    db: Annotated[
        str | None, typer.Option(help="Results database (default: $SEQARCH_DB, else ./seqarch.db).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """Measure latency, throughput and memory against this machine's own limits; store them."""
    from . import measure
    from .store import Store, default_path

    with one_line_errors(), Store(db or default_path()) as store:
        result = measure.run_bench(
            arch, quick=quick, store=store, progress=lambda m: err.print(f"[dim]{m}…[/]")
        )
    if as_json:
        print(json.dumps(result, indent=2, default=str))
        return
    lim = result["limits"]
    out.print(
        f"[bold]Machine[/] {result['machine']['cpu']}, {lim['threads_all']} threads "
        f"({'cached' if lim['cached'] else 'measured now'}): GEMV {lim['gemv_gflops_1t']:.3g} / "
        f"{lim['gemv_gflops_all']:.3g} GFLOP/s (1 / all threads), GEMM {lim['gemm_gflops_1t']:.3g}"
        f" / {lim['gemm_gflops_all']:.3g} GFLOP/s, copy bandwidth {lim['bandwidth_gbs']:.3g} GB/s"
    )
    t = Table(title="Per-step latency at batch 1, state carried (1 thread)")
    for col in ("arch", "H", "how", "T", "p50 µs", "p99 µs", "floor µs", "×floor", "recompute µs"):
        t.add_column(col, justify="left" if col in ("arch", "how") else "right")
    for r in result["latency"]:
        t.add_row(
            r["arch"],
            str(r["hidden_size"]),
            r["how"],
            _num(r["context"], "d"),
            _num(r["p50_us"]),
            _num(r["p99_us"]),
            _num(r["floor_gemv_us"]),
            _num(r["ratio_to_floor"], ".2f"),
            _num(r.get("recompute_p50_us")),
        )
    out.print(t)
    t = Table(title="Throughput (tokens/s) and MFU vs the measured GEMM peak")
    for col in ("arch", "mode", "T", "B", "tokens/s", "GFLOP/s", "MFU"):
        t.add_column(col, justify="left" if col in ("arch", "mode") else "right")
    for r in result["throughput"]:
        if "skipped" in r:
            t.add_row(
                r["arch"],
                r["mode"],
                str(r["seq_len"]),
                str(r["batch_size"]),
                "skipped",
                escape(r["skipped"]),
                "",
            )
            continue
        t.add_row(
            r["arch"],
            r["mode"],
            str(r["seq_len"]),
            str(r["batch_size"]),
            human(r["tokens_per_s"]),
            _num(r["gflops"]),
            f"{r['mfu']:.1%}",
        )
    out.print(t)
    t = Table(
        title="Memory vs T: training activations (measured: autograd saved tensors) "
        "and inference state (measured: state tensors), beside the formulas"
    )
    for col in ("arch", "T", "B", "activations", "formula", "state", "formula"):
        t.add_column(col, justify="left" if col == "arch" else "right")
    for r in result["memory"]:
        act = r["measured_activation_bytes"]
        t.add_row(
            r["arch"],
            str(r["seq_len"]),
            str(r["batch_size"]),
            "skipped" if act is None else human(act, "B"),
            human(r["formula_activation_bytes"], "B"),
            human(r["measured_state_bytes"], "B"),
            human(r["formula_state_bytes"], "B"),
        )
    out.print(t)
    for c in result["crossover"]:
        measured = "—" if c["measured_T"] is None else f"{c['measured_T']:.0f}"
        out.print(
            f"[bold]{c['arch']}[/]: the T-dependent (attention) term dominates its FLOPs past "
            f"T* = {c['formula_T']:.0f} (formula: {escape(c['formula'])}); measured on this "
            f"machine (fit of time/token = a + b·T): T* ≈ {measured}"
        )


@app.command("export")
def export_onnx(
    arch: Annotated[str, typer.Argument(help="rnn, lstm or gru.")],
    path: Annotated[str, typer.Argument(help="Where to write the .onnx file.")],
    input_size: Annotated[int, typer.Option(help="Features per time step (D).")] = 32,
    hidden_size: Annotated[int, typer.Option(help="Hidden width (H).")] = 128,
    num_layers: Annotated[int, typer.Option(help="Stacked layers (L).")] = 1,
) -> None:
    """Export a freshly initialised recurrent model to ONNX and check it with onnxruntime."""
    from . import export as export_lib
    from .models import build

    with one_line_errors():
        model = build(arch, input_size=input_size, hidden_size=hidden_size, num_layers=num_layers)
        written = export_lib.to_onnx(model, path)
        error = export_lib.check(model, written)
    ins, outs = export_lib.state_names(model)
    out.print(
        f"wrote {written}: inputs x, {', '.join(ins)} → outputs y, {', '.join(outs)}; "
        f"max |onnxruntime − PyTorch| = {error:.2g}"
    )


def main() -> None:
    """The console entry point: a malformed option (``--seq-len abc``, an unknown flag) is bad
    input like any other — one line naming it, exit 2 — not click's usage panel."""
    from typer.exceptions import TyperException

    try:
        code = app(standalone_mode=False)
    except typer.Abort:  # Ctrl-C at a prompt
        sys.exit(130)
    except TyperException as e:  # click's usage errors, as typer ships click
        if not hasattr(e, "format_message"):
            raise
        ctx = getattr(e, "ctx", None)
        where = f" (`{ctx.command_path} --help` lists what is accepted)" if ctx else ""
        err.print(
            f"[bold red]error:[/] {e.format_message()}{where}", highlight=False, soft_wrap=True
        )
        sys.exit(getattr(e, "exit_code", 2))
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
