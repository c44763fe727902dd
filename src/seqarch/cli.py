"""The ``seqarch`` command line: it parses, calls, and prints what the renderers return."""

from __future__ import annotations

import json
import sys
from functools import partial
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from . import errors
from .derive.render import TITLES
from .errors import DEBUG, positive
from .render import jsonable, run_bar

app = typer.Typer(
    help="RNN, LSTM, GRU, Transformer — or a modern recurrent model: derive, decide, defend.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
out = Console()
err = Console(stderr=True)
REPORT = "seqarch-report"  # where commands that add evidence refresh the HTML report
one_line_errors = partial(errors.one_line_errors, err)  # bad input: exit 2; a bug: exit 1


def opt(text: str, *names: str) -> Any:
    """A typer option: its help ``text`` and, when the default will not do, its ``names``."""
    return typer.Option(*names, help=text)


Db = Annotated[str | None, opt("SQLite store (default: $SEQARCH_DB, else ./seqarch.db).")]
Json = Annotated[bool, opt("Print JSON instead of a table.", "--json")]
Inputs = Annotated[int, opt("Features per time step (D).")]
Hidden = Annotated[int, opt("Hidden width (H, or d_model).")]
Layers = Annotated[int, opt("Stacked layers (L).")]
SeqLen = Annotated[int, opt("Sequence length T.", "--seq-len")]
Seeds = Annotated[int, opt("Seeds (per architecture).")]
Device = Annotated[
    str,
    opt(
        "Where runs train and whole sequences are timed: cpu, cuda, or auto (a GPU when there "
        "is one). A GPU run is its own experiment, never averaged with CPU runs; the shipped "
        "evidence base holds CPU runs."
    ),
]


def show(*parts: Any) -> None:
    [out.print(part) for part in parts]


def dump(obj: Any) -> None:
    print(json.dumps(obj, indent=2, default=jsonable))


@app.callback()
def _root(debug: Annotated[bool, opt("Traceback of an internal error.")] = False) -> None:
    """RNN, LSTM, GRU, Transformer — or a modern recurrent model: derive, decide, defend."""
    DEBUG["on"] = debug


@app.command()
def models(
    input_size: Inputs = 32,
    hidden_size: Hidden = 128,
    num_layers: Layers = 1,
    seq_len: SeqLen = 512,
    batch_size: Annotated[int, opt("Batch size B.")] = 1,
    as_json: Json = False,
) -> None:
    """Every architecture's parameters, FLOPs/token and state bytes at T, with the formulas."""
    sizes = {k: v for k, v in locals().items() if k != "as_json"}  # the options above
    from . import cost
    from .render import cost_table

    with one_line_errors():
        rows = cost.table(**sizes)
    dump([c.as_dict() for c in rows]) if as_json else show(cost_table(rows, sizes))


DERIVE = "Hand BPTT vs finite differences and autograd; walkthroughs; measured gradient flow."
derive_app = typer.Typer(help=DERIVE, no_args_is_help=True)
app.add_typer(derive_app, name="derive")


@derive_app.command("check")
def derive_check(seeds: Seeds = 3) -> None:
    """Check every hand-written backward pass; exit 1 if any check fails."""
    from .derive import AUTOGRAD_TOLERANCE, FD_TOLERANCE, check_all
    from .derive.render import check_table

    with one_line_errors():
        results = check_all(seeds=tuple(range(positive("seeds", seeds))))
    show(*check_table(results, seeds, FD_TOLERANCE, AUTOGRAD_TOLERANCE))
    raise typer.Exit(int(not all(r.passed for r in results)))


def _walkthrough(arch: str, what: str) -> None:
    def command(
        input_size: Inputs = 32,
        hidden_size: Hidden = 128,
        markdown: Annotated[str | None, opt("Also write Markdown with LaTeX to FILE.")] = None,
    ) -> None:
        from .derive import walkthrough
        from .derive.render import to_markdown, to_rich

        with one_line_errors():
            w = walkthrough(arch, input_size=input_size, hidden_size=hidden_size)
        show(to_rich(w))
        if markdown:
            Path(markdown).write_text(to_markdown(w), encoding="utf-8")
            out.print(f"wrote {markdown}")

    command.__doc__ = f"{what} derived step by step, with live numbers at these sizes."
    derive_app.command(arch)(command)


for _arch, _title in TITLES.items():
    _walkthrough(_arch, _title)


@derive_app.command("flow")
def derive_flow(
    arch: Annotated[list[str] | None, opt("Architecture (repeatable; default all).")] = None,
    seq_len: SeqLen = 100,
    k: Annotated[int, opt("Largest lag K (< T).", "--k")] = 50,
    hidden_size: Hidden = 32,
    input_size: Inputs = 8,
    seeds: Seeds = 3,
    as_json: Json = False,
    plot: Annotated[str | None, opt("Write a log-scale plot: FILE.png, .svg.")] = None,
    db: Annotated[str | None, opt("Also save the results in this store.")] = None,
) -> None:
    """Measured ‖∂h_T/∂h_{T−k}‖ and ‖∂h_T/∂x_{T−k}‖ for k = 1..K at initialisation."""
    from .derive.flow import measure_flows
    from .derive.render import flow_table

    with one_line_errors():
        results, written, ids = measure_flows(
            arch, seq_len, k, hidden_size, input_size, seeds, plot, db
        )
    sizes = f"H={hidden_size}, D={input_size}"
    dump(results) if as_json else show(flow_table(results, seq_len, k, sizes, seeds))
    for line in [f"wrote {p}" for p in written] + [f"stored {len(ids)} in {db}"] * bool(ids):
        err.print(line)


@app.command()
def practice(
    seed: Annotated[int | None, opt("Seed (same seed, same questions).")] = None,
    count: Annotated[int, opt("Number of questions.")] = 10,
    category: Annotated[list[str] | None, opt("derivations, comparison or tradeoffs.")] = None,
    focus: Annotated[str | None, opt("'weak': the categories missed most so far.")] = None,
    answers: Annotated[str | None, opt("A file of answers, one per line ('-' = stdin).")] = None,
    db: Db = None,
    progress: Annotated[bool, opt("Show progress over past sessions.")] = False,
) -> None:
    """Interview drills — derivations, comparisons, trade-offs — checked by the code."""
    from .practice.render import drill

    with one_line_errors():
        code = drill(out, seed, count, category, focus, answers, db, progress)
    raise typer.Exit(code)


@app.command()
def study(
    preset: Annotated[str, opt("quick, full, ablation, real, or a study .toml file.")] = "quick",
    db: Db = None,
    backend: Annotated[str, opt("local (worker processes) or ray.")] = "local",
    workers: Annotated[int | None, opt("Parallel runs (default: cores / threads).")] = None,
    address: Annotated[str | None, opt("Ray cluster address (default: start a local Ray).")] = None,
    report: Annotated[str | None, opt("Refresh the HTML report here ('' = no).")] = REPORT,
    device: Device = "cpu",
) -> None:
    """Run a study's runs that are not yet stored, in parallel; then summarise it."""
    from . import study as study_lib
    from .devices import using
    from .render import conditions_tables, study_table
    from .store import default_path

    with one_line_errors(), using(device):
        path = db or str(default_path())
        runs = study_lib.load_study(preset)
        progress, on_event, _ = run_bar(err)
        with progress:
            outcome = study_lib.run_study(runs, path, backend, workers, address, on_event)
        rows = study_lib.summarize_stored(path, runs)
        extra = study_lib.conditions(path, runs)
    show(study_table(rows, preset), outcome.line(path), *conditions_tables(extra))
    _refresh_report(path, report)
    if outcome.failed or outcome.lost:
        raise typer.Exit(1)


@app.command()
def base(
    build: Annotated[bool, opt("Produce (or resume) it: train its coverage here.")] = False,
    out: Annotated[str | None, opt("--build: write it here (default: the shipped one).")] = None,
    as_json: Json = False,
) -> None:
    """The shipped evidence base: what it covers, where and when it was measured, what is
    stale. With --build, produce it (hours on a CPU; resumable)."""
    from . import shipped
    from .advise import coverage
    from .render import base_table

    with one_line_errors():
        if build:
            path = Path(out) if out else shipped.BASE_PATH
            progress, on_event, say = run_bar(err)
            with progress:
                coverage.build(path, say=say, on_event=on_event)
            summary = coverage.summary(path)
        else:
            summary = coverage.summary()
    dump(summary) if as_json else show(*base_table(summary))


@app.command()
def results(
    db: Db = None,
    task: Annotated[str | None, opt("Only this task.")] = None,
    arch: Annotated[str | None, opt("Only this architecture.")] = None,
    seq_len: Annotated[int | None, opt("Only this length T.", "--seq-len")] = None,
    wide: Annotated[bool, opt("Every column: full ids, steps, time, why a run stopped.")] = False,
    as_json: Json = False,
) -> None:
    """List the finished runs stored in the results database."""
    from .render import runs_table
    from .store import Store, existing

    with one_line_errors(), Store(path := existing(db, layered=False), base=False) as store:
        rows = store.runs(task=task, arch=arch, seq_len=seq_len)
    if as_json:
        return dump([r.to_dict() for r in rows])
    table = runs_table(rows, path, wide=wide)
    # --wide: as wide as the table needs (a narrower terminal wraps the lines, no cell is cut)
    Console(width=max(out.width, 160)).print(table) if wide else show(table)


@app.command()
def advise(
    seq_len: Annotated[int | None, opt("Typical length T.", "--seq-len")] = None,
    max_len: Annotated[int | None, opt("Longest sequence served.")] = None,
    horizon: Annotated[str, opt("How far back the signal lies (steps), or 'unknown'.")] = "unknown",
    streaming: Annotated[bool, opt("An output per arriving step.")] = False,
    latency_us: Annotated[float | None, opt("Budget: per step if streaming, else per T.")] = None,
    memory_mb: Annotated[float | None, opt("Budget: weights + state.")] = None,
    train_minutes: Annotated[
        float | None,
        opt(
            "Training budget here, minutes (default 5 with --data, else 20); evidence that would "
            "take longer is not trained: the answer is cost only, with the estimate."
        ),
    ] = None,
    input_size: Inputs = 1,
    output_size: Annotated[int, opt("Classes or regression width.")] = 1,
    task_kind: Annotated[str, opt("classify | regress | forecast | lm")] = "classify",
    hidden_size: Annotated[int, opt("Model width to evaluate.")] = 128,
    num_layers: Layers = 1,
    data: Annotated[str | None, opt("Your own CSV / NPZ data.")] = None,
    column: Annotated[str | None, opt("Forecasting: the series' CSV column (name or N).")] = None,
    proxy: Annotated[str, opt("No --data: train on auto | adding | a real task.")] = "auto",
    spec: Annotated[str | None, opt("A TOML problem file.", "--spec")] = None,
    db: Db = None,
    no_run: Annotated[bool, opt("Use only stored evidence; measure nothing.", "--no-run")] = False,
    measure: Annotated[
        bool, opt("Train the quality evidence the stores lack here (always with --data).")
    ] = False,
    as_json: Annotated[bool, opt("Print the JSON advice.", "--json")] = False,
    markdown: Annotated[str | None, opt("Also write the advice here.")] = None,
    report: Annotated[str | None, opt("Refresh the HTML report in this folder.")] = REPORT,
    table: Annotated[bool, opt("The source's trade-off table, measured here.", "--table")] = False,
    evaluate: Annotated[str | None, opt("Score the advisor on a suite (TOML, 'default').")] = None,
    archs: Annotated[str | None, opt("Only these, comma-separated (default: all).")] = None,
    out_dir: Annotated[str | None, opt("--data: keep the models here.", "--out")] = None,
    device: Device = "cpu",
) -> None:
    """Which architecture fits this problem, and why — measured on this machine. With --data,
    the winner and the runner-up are refit and kept as model directories."""
    from . import advise as advisor
    from . import deploy
    from .advise import render
    from .devices import using

    bar, on_event, say = run_bar(err, quiet=as_json)
    run = dict(db=db, progress=say, on_event=on_event)
    with one_line_errors(), using(device), bar:
        run["names"] = advisor.archs(archs.split(",") if archs else None)
        if table:
            rows = advisor.textbook_table(
                run=not no_run, real=proxy != "adding", measure=measure, **run
            )
        elif evaluate is not None:
            rows = advisor.evaluate(evaluate, **run)
        else:
            rec = advisor.advise(
                advisor.ProblemSpec.from_options(**locals()), run=not no_run, measure=measure, **run
            )
            kept = deploy.keep(rec, db, out_dir, say) if data and not no_run else []
    if table:
        return dump([r.__dict__ for r in rows]) if as_json else show(render.textbook(rows))
    if evaluate is not None:
        return dump(advisor.evaluation_summary(rows)) if as_json else show(render.evaluation(rows))
    if markdown:
        Path(markdown).write_text(advisor.to_markdown(rec), encoding="utf-8")
    dump(rec.to_dict()) if as_json else show(*render.advice(rec))
    [err.print(deploy.kept_line(arch, path)) for arch, path in kept]
    _refresh_report(db, report)


def _refresh_report(db: str | None, out_dir: str | None) -> None:
    from .report import write_report

    if out_dir:
        err.print(f"report: {write_report(db, out_dir)}", soft_wrap=True)  # a path, unbroken


@app.command()
def report(
    db: Db = None,
    out_dir: Annotated[str, opt("Folder for index.html (created if missing).", "--out")] = REPORT,
    interpret_steps: Annotated[int, opt("Steps of the tiny models shown (0 = skip).")] = 400,
) -> None:
    """Write DIR/index.html: every stored result as charts and tables, readable offline."""
    from .report import write_report
    from .store import existing

    with one_line_errors():
        out.print(f"report: {write_report(existing(db), out_dir, interpret_steps)}", soft_wrap=True)


@app.command()
def bench(
    arch: Annotated[list[str] | None, opt("Architecture (repeatable; default all).")] = None,
    quick: Annotated[bool, opt("Small sizes, few repeats (under a minute).")] = False,
    db: Db = None,
    as_json: Annotated[bool, opt("Print JSON instead of tables.", "--json")] = False,
    device: Device = "cpu",
) -> None:
    """Measure latency, throughput and memory against this machine's own limits; store them."""
    from . import measure
    from .devices import using
    from .render import bench_tables
    from .store import Store, default_path

    with one_line_errors(), using(device), Store(db or default_path()) as store:
        say = lambda m: err.print(f"[dim]{m}…[/]")  # noqa: E731
        result = measure.run_bench(arch, quick=quick, store=store, progress=say)
    dump(result) if as_json else show(*bench_tables(result))


@app.command()
def reproduce(
    name: Annotated[str | None, typer.Argument(help="A reproduction (none: the list).")] = None,
    quick: Annotated[bool, opt("A smaller version, labelled as such.")] = False,
    db: Db = None,
    as_json: Json = False,
    device: Device = "cpu",
) -> None:
    """Published results reproduced under the fair protocol, beside the paper's numbers."""
    from . import reproduce as rep
    from .devices import using
    from .reproduce.render import listing, result_view
    from .store import default_path

    with one_line_errors(), using(device):
        if name is None:
            return dump(rep.papers()) if as_json else show(listing(rep.papers()))
        progress, on_event, _ = run_bar(err)
        with progress:
            res = rep.reproduce(name, db or default_path(), quick, on_event=on_event)
    dump(res.to_dict()) if as_json else show(*result_view(res))


@app.command()
def claims(
    run: Annotated[
        bool, opt("First train and time what is missing (~29 min on an empty store here).")
    ] = False,
    db: Db = None,
    as_json: Json = False,
    markdown: Annotated[str | None, opt("Also write the README table to FILE.")] = None,
    device: Device = "cpu",
) -> None:
    """Every claim of the source document, measured: holds, breaks or depends — and on what."""
    from .claims import claims_ledger
    from .claims.render import markdown as to_markdown
    from .claims.render import table
    from .devices import using

    bar, on_event, say = run_bar(err, quiet=as_json)
    with one_line_errors(), using(device), bar:
        ledger = claims_ledger(db, run=run, progress=say, on_event=on_event)
    if markdown:
        Path(markdown).write_text(to_markdown(ledger), encoding="utf-8")
    dump(ledger.to_dict()) if as_json else show(*table(ledger))
    if markdown:
        err.print(f"wrote {markdown}")


@app.command("export")
def export_onnx(
    target: Annotated[str, typer.Argument(help="A kept model's directory, or an arch.")],
    path: Annotated[str | None, typer.Argument(help="The .onnx file (arch: required).")] = None,
    onnx: Annotated[str | None, opt("The .onnx file (default DIR/model.onnx).")] = None,
    input_size: Inputs = 32,
    hidden_size: Hidden = 128,
    num_layers: Layers = 1,
) -> None:
    """Export a kept model (or a freshly initialised arch) to ONNX, state explicit; check it
    in onnxruntime."""
    from .deploy import export_any

    sizes = dict(input_size=input_size, hidden_size=hidden_size, num_layers=num_layers)
    with one_line_errors():
        out.print(export_any(target, onnx or path, **sizes))


@app.command()
def predict(
    model_dir: Annotated[str, typer.Argument(help="A model directory advise --data kept.")],
    file: Annotated[str, typer.Argument(help="CSV / NPZ in the training file's layout.")],
    stream: Annotated[bool, opt("Step by step through seqarch.stream.")] = False,
    as_json: Json = False,
) -> None:
    """Predictions of a kept model: a label or values per sequence, or a series' next values."""
    from .deploy import predict_file
    from .render import predictions

    with one_line_errors():
        result = predict_file(model_dir, file, stream=stream)
    dump(result) if as_json else show(*predictions(result))


def main() -> None:
    """The console entry point. A malformed option (``--seq-len abc``, an unknown flag) is bad
    input like any other — one line naming it, exit 2 — not click's usage panel; Ctrl-C ends
    with what finished stored (runs, drills) and exit 130: the same command resumes."""
    try:
        with one_line_errors():
            code = app(standalone_mode=False)
    except (KeyboardInterrupt, typer.Abort):
        err.print("interrupted: what finished is stored; run the same command again to resume")
        code = 130
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
