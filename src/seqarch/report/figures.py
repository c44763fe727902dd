r"""The report's figures, each built from the store's tables (seqarch.report.data) as a Chart.

A figure whose evidence is not stored yet is still returned, with ``missing`` saying which
command fills it; every figure lists the runs or measurements its numbers came from.
"""

from __future__ import annotations

import math
from functools import cache
from pathlib import Path

import torch

from ..models import MODELS, build
from ..records import Latency, Throughput
from .charts import NEUTRAL, Chart, Heatmap, Panel, Rule, Series, color_for
from .data import QualityPoint, ReportData, step_latency_at
from .interpret import SEQ_LEN, Interpretation


def _run_sources(ids: list[str]) -> list[str]:
    return [f"run:{i}" for i in ids]


def _spans_decades(xs: list[float]) -> bool:
    xs = [x for x in xs if x > 0]
    return bool(xs) and max(xs) / min(xs) >= 20


# ---------------------------------------------------------------------------------------------
# Quality against dependency length


ONE_DISTANCE_HINT = (
    "A line over distances needs runs at two or more: `seqarch advise --proxy adding "
    "--seq-len T --horizon H` stores the adding problem at H steps back, `seqarch study "
    "--preset full` several lengths per task."
)


def quality(data: ReportData) -> Chart:
    """Per task: the metric against the horizon, one line per arch (band = min..max over
    seeds), with the trivial baseline dashed. A task stored at one distance only shows its
    models side by side there (a dot and its min..max per arch) and says what adds distances."""
    chart = Chart(
        id="quality",
        title="Quality against dependency length",
        caption="Test metric against how far back the signal lies (the task's horizon). "
        "Line: mean over seeds; band: min–max over seeds; dashed: the trivial baseline.",
        sources=[],
    )
    if not data.points:
        chart.missing = "No training runs are stored yet: run `seqarch study --preset quick`."
        return chart
    by_task: dict[str, list[QualityPoint]] = {}
    for p in data.points:
        by_task.setdefault(p.task, []).append(p)
    one_distance = []
    for task, pts in by_task.items():
        if len({p.horizon for p in pts}) == 1:
            chart.panels.append(_quality_at_one_distance(task, pts))
            one_distance.append(f"{task} ({pts[0].horizon} steps back)")
        else:
            chart.panels.append(_quality_over_distances(task, pts))
        chart.sources += _run_sources([i for p in pts for i in p.run_ids])
    if one_distance:
        chart.caption += (
            f" Stored at one distance only: {', '.join(one_distance)} — its models side by "
            f"side there (dot: mean; bar: min–max over seeds; dotted: the trivial baseline). "
            + ONE_DISTANCE_HINT
        )
    return chart


def _y_label(p: QualityPoint) -> str:
    return f"{p.metric} ({'higher' if p.higher_is_better else 'lower'} is better)"


def _hover(p: QualityPoint) -> str:
    return f"{len(p.run_ids)} seed(s): " + " ".join(i[:8] for i in p.run_ids)


def _quality_at_one_distance(task: str, pts: list[QualityPoint]) -> Panel:
    """The models side by side at the task's one stored distance."""
    panel = Panel(
        title=f"{task}, {pts[0].horizon} steps back (the one stored distance)",
        x_label="architecture",
        y_label=_y_label(pts[0]),
        categories=[p.arch for p in pts],
    )
    for i, p in enumerate(pts):
        panel.series.append(
            Series(
                name=p.arch,
                x=[i],
                y=[p.mean],
                lo=[p.low],
                hi=[p.high],
                style="markers",
                hover=[_hover(p)],
            )
        )
    base = [p.baseline for p in pts if p.baseline is not None]
    if base:
        panel.rules.append(Rule("y", sum(base) / len(base), "trivial baseline"))
    return panel


def _quality_over_distances(task: str, pts: list[QualityPoint]) -> Panel:
    """One line per architecture over the stored distances."""
    panel = Panel(
        title=task,
        x_label="dependency length (steps back)",
        y_label=_y_label(pts[0]),
        log_x=_spans_decades([p.horizon for p in pts]),
    )
    for arch in dict.fromkeys(p.arch for p in pts):
        mine = [p for p in pts if p.arch == arch]
        panel.series.append(
            Series(
                name=arch,
                x=[p.horizon for p in mine],
                y=[p.mean for p in mine],
                lo=[p.low for p in mine],
                hi=[p.high for p in mine],
                hover=[_hover(p) for p in mine],
            )
        )
    base: dict[int, list[float]] = {}
    for p in pts:
        if p.baseline is not None:
            base.setdefault(p.horizon, []).append(p.baseline)
    if base:
        hs = sorted(base)
        panel.series.append(
            Series(
                name="trivial baseline",
                x=hs,
                y=[sum(base[h]) / len(base[h]) for h in hs],
                style="dash",
                color="#888888",
            )
        )
    return panel


# ---------------------------------------------------------------------------------------------
# Gradient flow


def gradient_flow(data: ReportData) -> Chart:
    chart = Chart(
        id="gradient-flow",
        title="Gradient flow",
        caption="How much of h_T's sensitivity reaches k steps back (log scale): a straight "
        "falling line is geometric decay (the vanishing gradient), a flat one is none.",
        sources=[f"measurement:{r.id}" for r in data.flow],
    )
    if not data.flow:
        chart.missing = (
            "No gradient-flow measurement is stored: run `seqarch derive flow --db PATH`."
        )
        return chart
    for measure, label in (("state", "‖∂h_T/∂h_{T−k}‖"), ("input", "‖∂h_T/∂x_{T−k}‖")):
        panel = Panel(title=label, x_label="lag k (steps back)", y_label=label, log_y=True)
        for r in data.flow:
            values = getattr(r, measure)
            if values:
                name = f"{r.arch} ({'trained' if r.trained else 'init'}, T={r.seq_len})"
                panel.series.append(Series(name=name, x=r.k, y=values, style="line"))
        if panel.series:
            chart.panels.append(panel)
    return chart


# ---------------------------------------------------------------------------------------------
# Speed: latency, throughput, memory


def latency(data: ReportData) -> Chart:
    """Left: each arch's fastest step against H, its GEMV floor dashed. Right: the decode step
    against the KV-cache length, beside recomputing the prefix and the constant-state steps."""
    chart = Chart(
        id="latency",
        title="Per-step latency",
        caption="One streaming step at batch 1 with the state carried (median, the fastest "
        "runtime of each model), against the hidden size; dashed in the same colour: its floor, "
        "one fused float32 GEMV with the step's multiply-adds, measured on this machine. "
        "Right: the Transformer's decode step against its context (its KV cache grows), beside "
        "recomputing the prefix without a cache and the recurrent models' constant step.",
        sources=[f"measurement:{r.id}" for r in data.latency],
    )
    if not data.latency:
        chart.missing = "No latency is measured on this machine yet: run `seqarch bench`."
        return chart
    left = Panel(
        title="step latency vs hidden size",
        x_label="hidden size H",
        y_label="µs per step (p50)",
        log_x=True,
        log_y=True,
    )
    archs = list(dict.fromkeys(r.arch for r in data.latency))
    for arch in archs:
        mine = [r for r in data.latency if r.arch == arch]
        shortest = min((r.context or 0) for r in mine)
        by_h: dict[int, Latency] = {}
        for r in mine:
            if (r.context or 0) == shortest and (
                r.hidden_size not in by_h or r.p50_us < by_h[r.hidden_size].p50_us
            ):
                by_h[r.hidden_size] = r
        hs = sorted(by_h)
        label = f"{arch} (decode, T={shortest})" if shortest else arch
        left.series.append(
            Series(
                name=label,
                x=hs,
                y=[by_h[h].p50_us for h in hs],
                hover=[by_h[h].how for h in hs],
                color=color_for(arch),
            )
        )
        floors = [h for h in hs if by_h[h].floor_gemv_us is not None]
        if floors:
            left.series.append(
                Series(
                    name=f"{arch} GEMV floor",
                    x=floors,
                    y=[by_h[h].floor_gemv_us for h in floors],
                    style="dash",
                    color=color_for(arch),
                )
            )
    chart.panels.append(left)
    decode = [r for r in data.latency if r.context is not None]
    if decode:
        h0 = min(r.hidden_size for r in decode)
        right = Panel(
            title=f"a step vs context length, H={h0}",
            x_label="context length T",
            y_label="µs per step (p50)",
            log_x=True,
            log_y=True,
        )
        contexts = sorted({r.context for r in decode if r.hidden_size == h0})
        for arch in dict.fromkeys(r.arch for r in decode):
            rows = [r for r in decode if r.arch == arch and r.hidden_size == h0]
            right.series.append(
                Series(
                    name=f"{arch} decode (KV cache)",
                    x=[r.context for r in rows],
                    y=[r.p50_us for r in rows],
                    color=color_for(arch),
                )
            )
            again = [r for r in rows if r.recompute_p50_us is not None]
            if again:
                right.series.append(
                    Series(
                        name=f"{arch} recompute prefix (no cache)",
                        x=[r.context for r in again],
                        y=[r.recompute_p50_us for r in again],
                        style="dash",
                        color=NEUTRAL,
                    )
                )
        constant = step_latency_at(data, h0)
        for arch, r in constant.items():
            if r.context is None and r.hidden_size == h0:
                right.series.append(
                    Series(
                        name=f"{arch} step (constant state)",
                        x=[contexts[0], contexts[-1]],
                        y=[r.p50_us] * 2,
                        style="line",
                        color=color_for(arch),
                    )
                )
        chart.panels.append(right)
    return chart


@cache
def grows_with_T(arch: str) -> bool:
    """Whether ``arch``'s inference state grows with T (a KV cache), asked of the model itself
    (built on the meta device: no weights); a name no longer registered does not."""
    if arch not in MODELS:
        return False
    with torch.device("meta"):
        return build(arch, input_size=1, hidden_size=4).state_grows()


def crossover(rows: list[Throughput], arch: str) -> float | None:
    """The first length at which ``arch``'s throughput falls below the best other model's."""
    mine = {r.seq_len: r.tokens_per_s for r in rows if r.arch == arch}
    others: dict[int, float] = {}
    for r in rows:
        if r.arch != arch:
            others[r.seq_len] = max(others.get(r.seq_len, 0.0), r.tokens_per_s)
    for T in sorted(mine):
        if T in others and mine[T] < others[T]:
            return T
    return None


def throughput_memory(data: ReportData) -> Chart:
    chart = Chart(
        id="throughput-memory",
        title="Throughput and memory against sequence length",
        caption="Tokens per second for inference and training at the largest batch measured, "
        "and memory: activations saved for backward (training) and the inference state. "
        "Dotted: where the Transformer's attention term starts to dominate its cost "
        "(measured fit of time per token to a + b·T), and where its throughput falls below the "
        "fastest recurrent model's.",
        sources=[f"measurement:{r.id}" for r in data.throughput]
        + [f"measurement:{r.id}" for r in data.memory]
        + [f"measurement:{r.id}" for r in data.crossover],
    )
    if not data.throughput and not data.memory:
        chart.missing = "No throughput or memory is measured yet: run `seqarch bench`."
        return chart
    rules = []
    for c in data.crossover:
        T = c.measured_T if c.measured_T is not None else c.formula_T
        if T is not None and T > 0:
            how = "measured" if c.measured_T is not None else "formula"
            rules.append(Rule("x", T, f"{c.arch} attention dominates, T≈{T:.0f} ({how})"))
    for mode in dict.fromkeys(r.mode for r in data.throughput):
        rows = [r for r in data.throughput if r.mode == mode]
        B = max(r.batch_size for r in rows)
        rows = [r for r in rows if r.batch_size == B]
        panel = Panel(
            title=f"{mode} throughput, batch {B}",
            x_label="sequence length T",
            y_label="tokens / s",
            log_x=True,
            log_y=True,
            rules=list(rules),
        )
        for arch in dict.fromkeys(r.arch for r in rows):
            mine = [r for r in rows if r.arch == arch]
            panel.series.append(
                Series(name=arch, x=[r.seq_len for r in mine], y=[r.tokens_per_s for r in mine])
            )
        for arch in filter(grows_with_T, dict.fromkeys(r.arch for r in rows)):  # the Transformer
            t_star = crossover(rows, arch)
            if t_star is not None:
                panel.rules.append(Rule("x", t_star, f"slower than recurrent from T={t_star}"))
        chart.panels.append(panel)
    for attr, title in (
        ("measured_activation_bytes", "training activations"),
        ("measured_state_bytes", "inference state"),
    ):
        rows = [r for r in data.memory if getattr(r, attr) is not None]
        if not rows:
            continue
        batch = f", batch {rows[0].batch_size}" if "activation" in attr else ", batch 1"
        panel = Panel(
            title=title + batch, x_label="sequence length T", y_label="MiB", log_x=True, log_y=True
        )
        for arch in dict.fromkeys(r.arch for r in rows):
            mine = [r for r in rows if r.arch == arch]
            panel.series.append(
                Series(
                    name=arch,
                    x=[r.seq_len for r in mine],
                    y=[getattr(r, attr) / 2**20 for r in mine],
                )
            )
        chart.panels.append(panel)
    return chart


# ---------------------------------------------------------------------------------------------
# The quality–latency Pareto front


def pareto(data: ReportData) -> Chart:
    """Per task at its longest stored horizon: skill against cost, the front dashed."""
    chart = Chart(
        id="pareto",
        title="Quality–latency Pareto front",
        caption="Each point is an architecture at the task's longest stored dependency length: "
        "skill (0 = trivial baseline, 1 = perfect) against its cost per step — measured latency "
        "where stored, else the FLOPs/token formula. The dashed line joins the models no other "
        "model beats on both.",
        sources=[],
    )
    pts = [p for p in data.points if p.skill is not None]
    if not pts:
        chart.missing = "No training runs are stored yet: run `seqarch study --preset quick`."
        return chart
    from .data import _flops_per_token

    for task in dict.fromkeys(p.task for p in pts):
        longest = max(p.horizon for p in pts if p.task == task)
        group = [p for p in pts if p.task == task and p.horizon == longest]
        lat = step_latency_at(data, group[0].hidden_size)
        measured = all(p.arch in lat for p in group)
        cost = {
            p.arch: lat[p.arch].p50_us if measured else _flops_per_token(p.arch, p.hidden_size)
            for p in group
        }
        group = [p for p in group if math.isfinite(cost[p.arch])]
        if not group:
            continue
        panel = Panel(
            title=f"{task}, horizon {longest}",
            x_label=(
                f"µs per step at H={next(iter(lat.values())).hidden_size} (measured)"
                if measured
                else f"FLOPs per token at H={group[0].hidden_size} (formula)"
            ),
            y_label="skill",
            log_x=_spans_decades(list(cost.values())),
        )
        for p in group:
            panel.series.append(
                Series(
                    name=p.arch,
                    x=[cost[p.arch]],
                    y=[p.skill],
                    style="markers",
                    labels=[p.arch],
                    hover=[" ".join(i[:8] for i in p.run_ids)],
                )
            )
        front = pareto_front([(cost[p.arch], p.skill) for p in group])
        if len(front) > 1:
            panel.series.append(
                Series(
                    name="Pareto front",
                    x=[c for c, _ in front],
                    y=[s for _, s in front],
                    style="dash",
                    color="#888888",
                )
            )
        chart.panels.append(panel)
        chart.sources += _run_sources([i for p in group for i in p.run_ids])
        if measured:
            chart.sources += [f"measurement:{lat[p.arch].id}" for p in group]
        else:
            chart.sources.append("formula:seqarch.cost.estimate(...).flops_per_token")
    return chart


def pareto_front(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """(cost, quality) points not dominated (cheaper-or-equal and better-or-equal), by cost."""
    front: list[tuple[float, float]] = []
    for c, q in sorted(points, key=lambda p: (p[0], -p[1])):
        if not front or q > front[-1][1]:
            front.append((c, q))
    return front


# ---------------------------------------------------------------------------------------------
# Interpretability


def interpretability(results: list[Interpretation]) -> Chart:
    """Gate heatmaps (units × steps) of the models that show gates (LSTM, GRU), attention maps
    (query × key) of those that show attention (Transformer)."""
    chart = Chart(
        id="interpretability",
        title="What each model keeps, and where it looks",
        caption=f"Tiny models (H=16) trained at report time on the adding problem (T={SEQ_LEN}: "
        "add the two marked values, answer at the last step), read on one test sequence; the "
        "marked steps are outlined in red. Gates: rows are hidden units, columns time steps, "
        "1 = open. Attention: row = query step, column = the earlier step it looks at.",
        sources=["computed at report time: seqarch.report.interpret (not from the store)"],
    )
    if not results:
        chart.missing = "Interpretability was skipped for this report (interpret=False)."
        return chart
    fits = []
    for r in results:
        fits.append(f"{r.arch} test MSE {r.test_mse:.3g} (baseline {r.baseline_mse:.3g})")
        attention = r.shows == "attention"
        for name, z in r.maps.items():
            chart.panels.append(
                Panel(
                    title=f"{r.arch}: {name if attention else name + ' gate'}",
                    x_label="key step (looked at)" if attention else "time step",
                    y_label="query step" if attention else "hidden unit",
                    heatmap=Heatmap(z=z, x=list(range(len(r.values))), y=list(range(len(z)))),
                    marks=list(r.markers),
                )
            )
    chart.caption += f" After {results[0].steps} Adam steps: " + "; ".join(fits) + "."
    return chart


# ---------------------------------------------------------------------------------------------
# Published results, reproduced


def reproductions(data: ReportData) -> Chart:
    """Each stored reproduction: accuracy (or the task's metric) against the model's inference
    state, one colour per architecture, each point labelled with its configuration — as
    Zoology plots recall against state size; the verdicts in the caption."""
    chart = Chart(
        id="reproductions",
        title="Published results, reproduced here",
        caption="Test metric (mean over 3 seeds at the lr the fair protocol selected) against "
        "the model's inference state in values, log scale. ",
        sources=[f"measurement:{r['id']}" for r in data.reproductions],
    )
    if not data.reproductions:
        chart.missing = "No reproduction is stored yet: run `seqarch reproduce NAME [--quick]`."
        return chart
    verdicts = []
    for r in sorted(data.reproductions, key=lambda r: (r["name"], r["quick"])):
        name = r["name"] + (" (quick)" if r["quick"] else "")
        verdicts.append(f"{name}: {r['verdict']} — {r['why']}")
        panel = Panel(
            title=name,
            x_label="inference state (values, batch 1)",
            y_label="test metric",
            log_x=True,
        )
        rows = [row for row in r["rows"] if row.get("state_values")]
        for arch in dict.fromkeys(row["arch"] for row in rows):
            mine = [row for row in rows if row["arch"] == arch]
            panel.series.append(
                Series(
                    name=arch,
                    x=[row["state_values"] for row in mine],
                    y=[row["mean"] for row in mine],
                    style="markers",
                    labels=[row["label"].removeprefix(arch).strip() for row in mine],
                    hover=[" ".join(i[:8] for i in row["run_ids"]) for row in mine],
                )
            )
        chart.panels.append(panel)
    chart.caption += " ".join(verdicts)
    return chart


# ---------------------------------------------------------------------------------------------
# How far back the signal lies in the user's data


def signal_lag(data: ReportData) -> Chart:
    """Each stored lag estimate (``advise --data`` with an unknown horizon): the recommended
    model's test metric trained on only the last k steps, against k, beside the full
    context's mean and interval; the estimate k̂ in the caption."""
    chart = Chart(
        id="signal-lag",
        title="How far back the signal lies in your data",
        caption="Test metric (mean over the protocol's seeds, each on its own split) of the "
        "recommended model trained on only the last k steps of each sequence; the dashed lines "
        "are the full context's mean and 95 % interval. ",
        sources=[f"measurement:{m['id']}" for m in data.lags],
    )
    if not data.lags:
        chart.missing = (
            "No estimate is stored yet: `seqarch advise --data FILE` with the horizon unknown "
            "measures one."
        )
        return chart
    notes = []
    latest = {}
    for m in sorted(data.lags, key=lambda m: m.get("created", "")):
        latest[(m["data"], m["arch"])] = m
    for m in latest.values():
        ks = sorted(int(k) for k in m["curve"])
        ref = m["full"]
        panel = Panel(
            title=f"{Path(m['data']).name}: {m['arch']}",
            x_label="last k steps kept (log scale)",
            y_label=ref["metric"],
            log_x=True,
        )
        xs = [*ks, m["T"]]
        panel.series.append(
            Series(
                name=m["arch"],
                x=xs,
                y=[m["curve"][str(k)]["mean"] for k in ks] + [ref["mean"]],
                style="lines+markers",
            )
        )
        panel.rules += [
            Rule("y", ref["mean"], f"full context {ref['mean']:.3g}"),
            Rule("y", ref["lo"], "95 % interval"),
            Rule("y", ref["hi"], ""),
        ]
        chart.panels.append(panel)
        k = m["k"]
        notes.append(
            f"{Path(m['data']).name}: k̂ = {k} of T = {m['T']}"
            if k is not None
            else f"{Path(m['data']).name}: no estimate (the full context is not clear of the "
            "baseline)"
        )
    chart.caption += "; ".join(notes) + "."
    return chart


# ---------------------------------------------------------------------------------------------
# The source's claims, measured


def claims(data: ReportData) -> Chart:
    """The plots behind the claims ledger where a plot says it better than a sentence: skill
    against the horizon (the RNN forgets; the GRU against the LSTM as dependencies grow),
    accuracy after a rule switch (GRU against LSTM when the context changes), the compiled
    step against the width (LSTM heavy, GRU faster) and training memory against T (the
    Transformer memory-hungry). The verdicts are in the table above the plots."""
    p = data.claims_plots
    ids = [i for group in p.values() for rows in group.values() for i in _ids(rows)]
    chart = Chart(
        id="claims",
        title="The source's claims, measured",
        caption="The evidence behind the claims table, where a plot says it better. ",
        sources=_run_sources(list(dict.fromkeys(i for i in ids if len(i) == 16))),
    )
    if not any(p.values()):
        chart.missing = "No evidence for the claims is stored yet: run `seqarch claims --run`."
        return chart
    if p.get("skill"):
        panel = Panel(
            title="Skill against the horizon (adding problem, fair/1)",
            x_label="steps back (h)",
            y_label="skill (0 = baseline, 1 = perfect)",
        )
        for a, rows in p["skill"].items():
            panel.series.append(
                Series(
                    name=a,
                    x=[r["x"] for r in rows],
                    y=[r["y"] for r in rows],
                    lo=[r["lo"] for r in rows],
                    hi=[r["hi"] for r in rows],
                    hover=[" ".join(i[:8] for i in r["ids"]) for r in rows],
                )
            )
        chart.panels.append(panel)
    if p.get("recovery"):
        panel = Panel(
            title="After a rule switch (regime-switching stream)",
            x_label="steps since the switch",
            y_label="accuracy",
        )
        for a, r in p["recovery"].items():
            panel.series.append(
                Series(
                    name=a,
                    x=r["x"],
                    y=r["y"],
                    hover=[" ".join(i[:8] for i in r["ids"])] * len(r["x"]),
                )
            )
            panel.rules.append(Rule("y", r["steady"], f"{a} steady"))
        chart.panels.append(panel)
    if p.get("steps"):
        panel = Panel(
            title="Compiled step at batch 1 against the width",
            x_label="H",
            y_label="p50 µs (band: spread)",
            log_x=True,
            log_y=True,
        )
        for a, rows in p["steps"].items():
            panel.series.append(
                Series(
                    name=a,
                    x=[r["x"] for r in rows],
                    y=[r["y"] for r in rows],
                    lo=[r["lo"] for r in rows],
                    hi=[r["hi"] for r in rows],
                )
            )
        chart.panels.append(panel)
    if p.get("memory"):
        panel = Panel(
            title="Training memory against T (B = 8, H = 64)",
            x_label="T",
            y_label="MiB saved for backward",
            log_x=True,
            log_y=True,
        )
        for a, rows in p["memory"].items():
            panel.series.append(Series(name=a, x=[r["x"] for r in rows], y=[r["y"] for r in rows]))
        chart.panels.append(panel)
    if data.claims is not None:
        counts = {}
        for e in data.claims.entries:
            counts[e.verdict] = counts.get(e.verdict, 0) + 1
        chart.caption += (
            f"{len(data.claims.entries)} claims: "
            + ", ".join(f"{n} {v}" for v, n in counts.items())
            + "."
        )
    return chart


def _ids(rows: object) -> list[str]:
    """Every id under the plot rows (a list of points, or one series' dict)."""
    if isinstance(rows, dict):
        return list(rows.get("ids", []))
    return [i for r in rows for i in r.get("ids", [])]
