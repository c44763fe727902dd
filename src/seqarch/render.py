"""Terminal renderings of the top-level modules' results — the cost table (:mod:`.cost`), a
study's summary (:mod:`.study`), the stored runs (:mod:`.store`), the bench (:mod:`.measure`),
a kept model's predictions (:mod:`.deploy`) — and the progress bar over training runs. Nothing
here prints except the progress bar's lines; the CLI prints what these return. The packages
keep theirs beside them (``advise/render.py``, ``derive/render.py``, ``practice/render.py``).
"""

from __future__ import annotations

import math
from typing import Any

from rich.console import Console, RenderableType
from rich.markup import escape
from rich.table import Table


def human(n: float, unit: str = "") -> str:
    """1234567 → '1.23 M'; with a unit, '1.23 MB'."""
    for div, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= div:
            return f"{n / div:.3g} {suffix}{unit}"
    return f"{n:.4g} {unit}".rstrip()


def num(v: float | None, fmt: str = ".3g") -> str:
    """A table cell: '—' for no value; thousands with separators."""
    if v is None:
        return "—"
    return f"{v:,.0f}" if abs(v) >= 1000 and fmt == ".3g" else format(v, fmt)


def fmt(v: float | None) -> str:
    return "—" if v is None else f"{v:.4g}"


def columns(t: Table, names: tuple[str, ...], left: tuple[str, ...] = ("arch",)) -> Table:
    """Add ``names`` as columns, right-justified except those in ``left``."""
    for col in names:
        t.add_column(col, justify="left" if col in left else "right")
    return t


def cost_table(rows: list[Any], sizes: dict[str, int]) -> Table:
    """:func:`seqarch.cost.table` as a table with each model's formulas."""
    s = sizes
    t = Table(
        title=f"Cost at D={s['input_size']}, H={s['hidden_size']}, L={s['num_layers']}, "
        f"T={s['seq_len']}, B={s['batch_size']}, float32 (formulas in seqarch.models; FLOPs = "
        "matmul FLOPs)",
        show_lines=True,
    )
    columns(t, ("arch", "params", "FLOPs/token", "train FLOPs/token", "state at T", "activations"))
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
    return t


def study_table(rows: list[Any], preset: str) -> Table:
    """:func:`seqarch.study.summarize` as a table: mean ± 95 % interval, the selected lr. Fits
    an 80-column terminal: numbers to 3 significant digits never wrap; the task name may."""
    from rich import box

    t = Table(
        title=f"Study {preset}: test metric, mean ± 95 % interval over seeds",
        caption="lr: selected on validation by the protocol; n: seeds; s/run: seconds per run; "
        "* = a run stopped by time (not converged)",
        box=box.SIMPLE_HEAD,
        padding=(0, 1),
        pad_edge=False,
    )
    variants = any(r.variant for r in rows)
    t.add_column("task, T", overflow="fold", min_width=8)
    t.add_column("arch", no_wrap=True)
    if variants:
        t.add_column("variant", overflow="fold")
    for col in ("metric", "value", "base", "lr", "n", "s/run"):  # s/run: seconds per run
        t.add_column(col, justify="left" if col == "metric" else "right", no_wrap=True)
    for r in rows:
        arrow = "↑" if r.higher_is_better else "↓"
        ci = f" ± {r.ci:.2g}" if math.isfinite(r.ci) else ""
        value = ("—" if r.mean is None else f"{r.mean:.3g}") + ci
        t.add_row(
            f"{r.task} {r.seq_len}" if r.seq_len else r.task,
            r.arch,
            *((escape(r.variant),) if variants else ()),
            f"{r.metric}{arrow}",
            value + ("*" if r.stopped_by_time else ""),
            "—" if r.baseline is None else f"{r.baseline:.3g}",
            "—" if r.lr is None else f"{r.lr:g}",
            str(r.seeds),
            f"{r.seconds:.0f}",
        )
    return t


RUN_COLUMNS = ("id", "task", "T", "arch", "seed", "lr", "metric", "value", "base")
RUN_COLUMNS_WIDE = (*RUN_COLUMNS, "steps", "train s", "stopped")


def runs_table(rows: list[dict], path: Any, wide: bool = False) -> Table:
    """The store's finished runs (:meth:`seqarch.store.Store.runs`), one per row. The default
    fits 80 columns: ids cut to their first 8 hex digits (as ``run:`` sources print them), a
    run stopped by time marked ``*``; ``wide`` adds the full id, the steps, the training time
    and the reason a run stopped (``seqarch results --wide``; every stored field: ``--json``)."""
    from rich import box

    cols = RUN_COLUMNS_WIDE if wide else RUN_COLUMNS
    t = Table(
        title=f"{len(rows)} finished run(s) in {path}",
        box=box.SIMPLE_HEAD,  # no rules between columns, as the advisor's ranking
        show_edge=False,
        padding=(0, 0),
        pad_edge=False,
        collapse_padding=True,
    )
    for col in cols:
        t.add_column(
            col,
            justify="left" if col in ("id", "task", "arch", "metric", "stopped") else "right",
            no_wrap=col != "task",
            overflow="fold",
        )
    stopped_any = False
    for r in rows:
        c, m = r.config, r.metrics
        name = m.get("metric", "")
        stopped = str(m.get("stopped") or "")
        stopped_any |= bool(stopped)
        lr = c.train.lr
        cells = [
            r.id if wide else r.id[:8],
            c.task,
            str(c.task_config.get("seq_len", m.get("seq_len", "—"))),
            c.arch,
            str(c.seed),
            "—" if lr is None else f"{lr:g}",
            name,
            fmt(m.get(name)) + ("*" if stopped and not wide else ""),
            fmt(m.get(f"baseline_{name}")),
        ]
        if wide:
            cells += [str(m.get("steps", "—")), f"{m.get('train_seconds', 0):.1f}", stopped]
        t.add_row(*(escape(x) for x in cells))
    if stopped_any and not wide:
        t.caption = "* stopped by time, not converged (why: --wide)"
    return t


def conditions_tables(rows: list[dict]) -> list[Table]:
    """One :func:`conditions_table` per task, in the study's order."""
    tasks = dict.fromkeys(r["task"] for r in rows)
    return [conditions_table([r for r in rows if r["task"] == t]) for t in tasks]


def _condition_order(key: str) -> tuple[float, str]:
    """f1_snr5 before f1_snr10: by the number in the key, then by name."""
    digits = "".join(c for c in key if c.isdigit() or c == ".")
    return (float(digits) if digits else math.inf, key)


def conditions_table(rows: list[dict]) -> Table:
    """:func:`seqarch.study.conditions`: models and classical peers on the same test split,
    every metric the task reports per condition (e.g. F1 per SNR), µs per frame here."""
    conditions = dict.fromkeys(k for r in rows for k in r if k.startswith("f1_"))
    keys = ["f1", "auc", *sorted(conditions, key=_condition_order)]
    heads = ["F1", "AUC", *(k.replace("f1_snr", "F1 ").replace("f1_", "F1 ") for k in keys[2:])]
    heads = [h + " dB" if k.startswith("f1_snr") else h for h, k in zip(heads, keys, strict=True)]
    t = Table(title=f"{rows[0]['task']}: models and classical peers on the same test streams")
    columns(t, ("name", *heads, "µs/frame", "params"), left=("name",))
    t.columns[0].no_wrap = True
    for r in rows:
        us = r.get("us_per_frame")
        t.add_row(
            r["name"] + (" (peer)" if r["kind"] == "peer" else ""),
            *(num(r.get(k), ".3f") for k in keys),
            "—" if us is None else f"{us:.3g}",
            "—" if r.get("params") is None else human(r["params"]),
        )
    return t


def base_table(summary: dict) -> list[RenderableType]:
    """``seqarch base``: what the shipped evidence base covers, where it was measured, what is
    stale."""
    if summary.get("path") is None:
        return ["No evidence base is read (SEQARCH_BASE=none, or no file): advice uses your store."]
    m = summary.get("machine") or {}
    head = (
        f"{summary['path']}: {summary['runs']} runs, {human(summary['size_bytes'], 'B')}; built "
        f"{summary.get('built') or '?'} at revision {(summary.get('revision') or '?')[:10]} on a "
        f"{m.get('cores', '?')}-core {m.get('cpu', '?')} (torch {m.get('torch', '?')})"
    )
    t = Table(title="What the shipped evidence base covers")
    columns(t, ("task", "distance", "runs", "architectures"), left=("task", "architectures"))
    for c in summary["coverage"]:
        t.add_row(c["task"], str(c["horizon"]), str(c["runs"]), ", ".join(c["archs"]))
    stale = summary.get("stale") or {}
    tail = (
        "Stale (left out of every read until `seqarch base --build` regenerates it): "
        + "; ".join(f"{a}: {why}" for a, why in stale.items())
        if stale
        else "Nothing is stale: every architecture's equations, initialisation and the protocol "
        "match the code."
    )
    return [head, t, tail]


def predictions(result: dict) -> list[RenderableType]:
    """``seqarch predict``: a row per sequence (or per step ahead), the score when the file
    had targets."""
    rows = result["rows"]
    how = " (step by step through seqarch.stream)" if result.get("stream") else ""
    t = Table(title=f"{len(rows)} prediction(s){how}")
    names = tuple(rows[0]) if rows else ()
    columns(t, names, left=("prediction", "target"))
    for r in rows:
        t.add_row(*(_cell(r[k]) for k in names))
    parts: list[RenderableType] = [t]
    for key in ("accuracy", "mse"):
        if key in result:
            parts.append(f"{key} against the file's targets: {result[key]:.4g}")
    return parts


def _cell(v: Any) -> str:
    if isinstance(v, list):
        return ", ".join(f"{x:.4g}" for x in v)
    return f"{v:.6g}" if isinstance(v, float) else escape(str(v))


def bench_tables(result: dict) -> list[RenderableType]:
    """:func:`seqarch.measure.run_bench`'s result: the machine's limits, latency, throughput,
    memory and the attention crossover."""
    lim = result["limits"]
    parts: list[RenderableType] = [
        f"[bold]Machine[/] {result['machine']['cpu']}, {lim['threads_all']} threads "
        f"({'cached' if lim['cached'] else 'measured now'}): GEMV {lim['gemv_gflops_1t']:.3g} / "
        f"{lim['gemv_gflops_all']:.3g} GFLOP/s (1 / all threads), GEMM {lim['gemm_gflops_1t']:.3g}"
        f" / {lim['gemm_gflops_all']:.3g} GFLOP/s, copy bandwidth {lim['bandwidth_gbs']:.3g} GB/s"
    ]
    t = Table(title="Per-step latency at batch 1, state carried (1 thread)")
    cols = ("arch", "H", "how", "T", "p50 µs", "p99 µs", "floor µs", "×floor", "recompute µs")
    columns(t, cols, left=("arch", "how"))
    for r in result["latency"]:  # seqarch.records.Latency
        t.add_row(
            r.arch,
            str(r.hidden_size),
            r.how,
            num(r.context, "d"),
            num(r.p50_us),
            num(r.p99_us),
            num(r.floor_gemv_us),
            num(r.ratio_to_floor, ".2f"),
            num(r.recompute_p50_us),
        )
    parts.append(t)
    t = Table(title="Throughput (tokens/s) and MFU vs the measured GEMM peak")
    columns(t, ("arch", "mode", "T", "B", "tokens/s", "GFLOP/s", "MFU"), left=("arch", "mode"))
    for r in result["throughput"]:  # seqarch.records.Throughput
        head = (r.arch, r.mode, str(r.seq_len), str(r.batch_size))
        if r.skipped:
            t.add_row(*head, "skipped", escape(r.skipped), "")
        else:
            mfu = "—" if r.mfu is None else f"{r.mfu:.1%}"
            t.add_row(*head, human(r.tokens_per_s), num(r.gflops), mfu)
    parts.append(t)
    t = Table(
        title="Memory vs T: training activations (measured: autograd saved tensors) "
        "and inference state (measured: state tensors), beside the formulas"
    )
    columns(t, ("arch", "T", "B", "activations", "formula", "state", "formula"))
    for r in result["memory"]:  # seqarch.records.Memory
        act = r.measured_activation_bytes
        t.add_row(
            r.arch,
            str(r.seq_len),
            str(r.batch_size),
            "skipped" if act is None else human(act, "B"),
            human(r.formula_activation_bytes, "B"),
            human(r.measured_state_bytes, "B"),
            human(r.formula_state_bytes, "B"),
        )
    parts.append(t)
    for c in result["crossover"]:  # seqarch.records.Crossover
        measured = "—" if c.measured_T is None else f"{c.measured_T:.0f}"
        parts.append(
            f"[bold]{c.arch}[/]: the T-dependent (attention) term dominates its FLOPs past "
            f"T* = {c.formula_T:.0f} (formula: {escape(c.formula)}); measured on this "
            f"machine (fit of time/token = a + b·T): T* ≈ {measured}"
        )
    return parts


def jsonable(obj: Any) -> Any:
    """For ``json.dumps(default=…)``: a record (any dataclass) as its fields, else its text."""
    from dataclasses import asdict, is_dataclass

    return asdict(obj) if is_dataclass(obj) and not isinstance(obj, type) else str(obj)


def run_bar(console: Console, quiet: bool = False) -> tuple[Any, Any, Any]:
    """A rich progress bar over training runs (what is training, how many remain, elapsed),
    the study event handler that drives it (each finished run prints a line above it), and a
    ``say`` for dim progress lines. ``quiet`` (JSON output): a null context and no handlers."""
    import contextlib

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    if quiet:
        return contextlib.nullcontext(), None, None

    progress = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    bar = progress.add_task("runs", total=0)

    def on_event(e: Any) -> None:
        c = e.run.task_config
        length = f"T={c['seq_len']}" if c.get("seq_len") is not None else ""
        window = f"last {c['last']} steps" if c.get("last") is not None else ""
        label = " ".join(p for p in (e.run.arch, e.run.task, length, window) if p)
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

    def say(msg: str) -> None:
        progress.console.print(msg, style="dim", markup=False)

    return progress, on_event, say
