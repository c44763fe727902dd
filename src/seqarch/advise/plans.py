"""Plans: the runs a comparison needs and what they cost here — the calibration on the adding
problem, the comparison on the user's data and its step budget, the training-memory guard, the
training-time estimate. Data, built by :func:`seqarch.protocol.comparison`; the evidence they
produce is gathered in :mod:`seqarch.advise.gather`."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from . import proxy as proxies
from .evidence import fmt, spec_cost
from .spec import ProblemSpec, Progress, archs, calibration_horizon

CALIBRATION_TASK = "adding"


MEASURE_MEMORY_FRACTION = 0.25  # of this machine's RAM: the most a timing may need by formula


def measure_budget_bytes() -> int:
    """The memory a timing may use: a stated fraction of this machine's physical RAM."""
    import os

    return int(MEASURE_MEMORY_FRACTION * os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))


def calibration_steps(h: int) -> int:
    """The step budget at distance h, the same for every architecture: 40 steps per step of
    distance, at least 1000 and at most 6000. Longer distances need longer training: the
    adding problem's plateau lasts longer (measured: an LSTM at h = 60, lr 1e-2, sits at the
    baseline for ~1100 steps, then solves it; a 1500-step budget with early stopping from 750
    cut every learning rate off on the plateau)."""
    return min(6000, max(1000, 40 * h))


def calibration_runs(
    spec: ProblemSpec, names: list[str], protocol: Any = None, max_steps: int | None = None
) -> list[Any]:
    """The study that measures quality at the spec's horizon: the adding problem with its
    first marker ``h`` steps before the end, every architecture under the fair protocol
    (every lr of its grid × every seed, the same step budget; ``max_steps`` caps it)."""
    from .. import protocol as protocols

    h = calibration_horizon(spec)
    steps = calibration_steps(h) if max_steps is None else min(max_steps, calibration_steps(h))
    return protocols.comparison(
        names,
        CALIBRATION_TASK,
        {"seq_len": h + 1 + max(4, h // 10), "distance": h, "n_train": 4000},
        {"hidden_size": min(spec.hidden_size, 64), "num_layers": 1},
        steps,
        protocol or protocols.DEFAULT,
        batch_size=64,
        threads=1,
        time_budget_s=SAFETY_NET_S,
    )


SAFETY_NET_S = 900.0  # wall clock per run: far above the step budget's need; flagged if hit


def data_runs(
    spec: ProblemSpec,
    names: list[str],
    protocol: Any = None,
    max_steps: int | None = None,
    steps: int | None = None,
) -> list[Any]:
    """The comparison on the user's own data under the fair protocol; rows (classification,
    regression) are re-split for every seed, so the interval reflects the data. ``steps``: the
    budget :func:`data_step_budget` chose (default ``DATA_STEPS``), capped by ``max_steps``."""
    from .. import protocol as protocols
    from ..tasks import from_files

    assert spec.data is not None
    kind = kind_of(spec)
    extra: dict[str, Any] = {}
    if kind == "forecast":  # the window is --seq-len; the season read off the dates if it fits
        from ..tasks.files import forecast_options

        extra, _ = forecast_options(spec.data, spec.column, spec.seq_len)
    task = from_files(spec.data, kind=kind, **extra)
    config = task.config()
    name = config.pop("name")
    steps = steps or DATA_STEPS
    steps = steps if max_steps is None else min(max_steps, steps)
    return protocols.comparison(
        names,
        name,
        config,
        {"hidden_size": min(spec.hidden_size, 64), "num_layers": 1},
        steps,
        protocol or protocols.DEFAULT,
        resplit=kind != "forecast",
        threads=1,
        clip_norm=1.0,
        time_budget_s=SAFETY_NET_S,
    )


def kind_of(spec: ProblemSpec) -> str:
    """The file task's kind for the spec's task kind."""
    return {"forecast": "forecast", "regress": "regress"}.get(spec.task_kind, "classify")


def data_card(spec: ProblemSpec) -> str:
    """One line on what was read from the user's file: sizes, the forecasting window and
    season (and why), values filled."""
    from ..tasks import make_task

    first = data_runs(spec, archs(None)[:1], steps=1)[0]
    task = make_task(first.task, **first.task_config)
    if kind_of(spec) == "forecast":
        from ..tasks.files import forecast_options

        return f"data: {task.card(forecast_options(spec.data, spec.column, spec.seq_len)[1])}"
    seqs, _ = task._read()
    lengths = sorted({len(x) for x in seqs})
    span = f"{lengths[0]}" if len(lengths) == 1 else f"{lengths[0]}–{lengths[-1]}"
    return (
        f"data: {Path(spec.data).name}: {len(seqs)} sequences of {span} steps × "
        f"{seqs[0].shape[1]} feature(s), {task.output_size} "
        + ("classes" if task.kind == "classify" else "target(s)")
    )


TRAIN_MEMORY_STATE = 4  # values kept per parameter in training: weight, gradient, Adam's m, v


def training_bytes(spec: ProblemSpec, arch: str, seq_len: int, batch_size: int) -> int:
    """What one training run of ``arch`` needs by formula: weights, gradients and Adam's two
    moments (4 values per parameter) and the activations backprop keeps for a batch."""
    from .. import cost

    batch = cost.estimate(
        arch,
        seq_len=seq_len,
        batch_size=batch_size,
        input_size=spec.input_size,
        hidden_size=min(spec.hidden_size, 64),
        num_layers=1,
        output_size=spec.output_size,
    )
    return 4 * TRAIN_MEMORY_STATE * batch.params + batch.activation_bytes


def training_memory_guard(spec: ProblemSpec, names: list[str], protocol: Any = None) -> None:
    """The memory guard for training on the user's data, before anything trains: every
    architecture's run (by formula, at the file's longest sequence and the training batch),
    times the runs this machine trains at once, must fit ``MEASURE_MEMORY_FRACTION`` of its
    RAM; otherwise one line with the estimate and what to change."""
    import os

    from ..errors import BadInput
    from ..tasks import make_task

    first = data_runs(spec, names[:1], protocol, steps=1)[0]
    task = make_task(first.task, **first.task_config)
    T = max(int(b.x.shape[1]) for b in (task.data(s) for s in ("train", "val", "test")))
    workers = max(1, os.cpu_count() or 1)
    budget = measure_budget_bytes()
    need = {a: workers * training_bytes(spec, a, T, first.train.batch_size) for a in names}
    over = [a for a in names if need[a] > budget]
    if over:
        worst = max(over, key=need.get)
        raise BadInput(
            f"training {', '.join(over)} on sequences of {T} steps needs ~{fmt(need[worst], 'B')} "
            f"({worst}: {workers} run(s) at once, batch {first.train.batch_size}, by formula), "
            f"over the memory guard's {fmt(budget, 'B')} ({MEASURE_MEMORY_FRACTION:.0%} of this "
            f"machine's RAM); expected --archs without {', '.join(over)}, a smaller "
            "--hidden-size, or shorter sequences"
        )


DATA_STEPS = 600  # the step budget on a user's data without a measured budget
DATA_MINUTES = 5.0  # the default wall-clock target of --data when --train-minutes is not given
# Without --data, the most training the advisor starts unasked: the main job's real proxy
# (≈ 3–8 min here) fits; a spec needing hours answers on cost first and says so.
ADVISE_MINUTES = 20.0
ADEQUATE_STEPS = 1000  # the fewest steps a comparison on the user's data is run with
STEP_GRID = (1000, 1200, 1600, 2400, 3200)  # budgets it may choose
STEP_KIND = "train_step"  # measurement: seconds per training step of one architecture


def data_step_budget(
    spec: ProblemSpec,
    names: list[str],
    store: Any,
    run: bool,
    say: Progress,
    protocol: Any = None,
    max_steps: int | None = None,
) -> tuple[int, str]:
    """One step budget for every architecture on the user's data, from ``--train-minutes``
    (default ``DATA_MINUTES``): the largest of ``STEP_GRID`` whose whole comparison — every
    architecture's sweep and seeds, on this machine's cores — fits, from each architecture's
    measured seconds per training step (stored, so a rerun chooses the same budget). Never
    below ``ADEQUATE_STEPS``: when even that does not fit, it says before anything trains how
    many minutes it would take and asks for ``--train-minutes`` (a budget no model can learn
    in is never chosen silently) — unless the caller capped the steps itself (``max_steps``).
    Returns (steps, how it was chosen)."""
    import os

    from .. import protocol as protocols
    from ..tasks import make_task
    from ..train import step_seconds

    fair = protocol or protocols.DEFAULT
    minutes = spec.train_minutes if spec.train_minutes is not None else DATA_MINUTES
    probe = data_runs(spec, names, fair, steps=STEP_GRID[0])
    per_step = {}
    for arch in names:
        first = next(r for r in probe if r.arch == arch)
        key = {"arch": arch, "task": first.task, "task_config": first.task_config}
        key |= {"model_config": first.model_config, "batch_size": first.train.batch_size}
        key |= {"device": first.device}

        def timed(first: Any = first, key: dict = key, arch: str = arch) -> None:
            say(f"timing a training step of {arch} on your data …")
            seconds = step_seconds(first, make_task(first.task, **first.task_config))
            store.put_measurement(STEP_KIND, key, {"seconds": seconds})

        store.ensure(STEP_KIND, timed, key, run=run)
        hit = next(iter(store.matching(STEP_KIND, **key)), None)
        if hit is None:
            return DATA_STEPS, f"{DATA_STEPS} steps (no step time stored to fit a budget to)"
        per_step[arch] = float(hit["value"]["seconds"])
    runs_per_arch = len(fair.lr_grid) + len(fair.seeds) - 1
    workers = max(1, os.cpu_count() or 1)
    overhead = 1.25  # evaluation every few steps, process start-up
    per_budget_step = overhead * runs_per_arch * sum(per_step.values()) / workers
    lag_note = ""
    if spec.horizon is None and kind_of(spec) != "forecast":  # the lag runs (advise/lag.py)
        from .lag import lag_grid

        lag_runs = len(fair.seeds) * len(lag_grid(spec.seq_len))
        lag_note = f", and {lag_runs} runs to measure how far back the signal lies"
        mean_step = sum(per_step.values()) / len(per_step)
        per_budget_step += overhead * lag_runs * mean_step / workers
    fits = [s for s in STEP_GRID if s * per_budget_step <= minutes * 60]
    steps = fits[-1] if fits else STEP_GRID[0]
    slowest = max(per_step, key=per_step.get)
    how = (
        f"{steps} steps for every architecture: what fits {minutes:g} min on {workers} core(s) "
        f"at the measured step times ({slowest} slowest, {per_step[slowest] * 1e3:.0f} ms a "
        f"step; {runs_per_arch} runs each{lag_note})"
    )
    if not fits:
        need = math.ceil(ADEQUATE_STEPS * per_budget_step / 60)
        if run and (max_steps is None or max_steps > ADEQUATE_STEPS):
            from ..errors import BadInput

            raise BadInput(
                f"train_minutes={minutes:g} is not enough here: {ADEQUATE_STEPS} steps for every "
                f"architecture ({runs_per_arch} runs each{lag_note}; {slowest} slowest at "
                f"{per_step[slowest] * 1e3:.0f} ms a step) need ≈ {need} min on {workers} "
                f"core(s); expected --train-minutes {need} or more, or fewer --archs"
            )
        how += (
            f" — over the budget: even {steps} steps need ~{steps * per_budget_step / 60:.1f} min"
        )
    return steps, how


def planned_runs(
    spec: ProblemSpec, names: list[str], protocol: Any = None, max_steps: int | None = None
) -> list[Any]:
    """The sweep that produces a spec's quality evidence (not on the user's data): the real task
    nearest the problem, or the adding problem at the calibration distance."""
    proxy = proxies.choose(spec)
    if proxy.real:
        return proxies.runs(proxy, names, protocol, max_steps)
    return calibration_runs(spec, names, protocol, max_steps)


STEP_PROBE_LEN = 512  # longer sequences are timed at this length and scaled by the formula


def _step_probe(run: Any) -> tuple[Any, int, int]:
    """The run whose training step is timed for ``run``'s estimate, with the lengths to scale
    between: ``run`` itself, or for sequences over ``STEP_PROBE_LEN`` the same recipe at that
    length on a small training set (a step of the adding problem at T = 6,600 would build a
    4,000-sequence set and, for attention, a 64 × T² score matrix just to be timed)."""
    from dataclasses import replace

    tc = dict(run.task_config)
    T = int(tc.get("seq_len") or 0)
    if T <= STEP_PROBE_LEN:
        return run, T, T
    gap = T - int(tc.get("distance", T))
    tc |= {"seq_len": STEP_PROBE_LEN, "n_train": min(int(tc.get("n_train", 256)), 256)}
    if "distance" in tc:
        tc["distance"] = max(1, STEP_PROBE_LEN - max(gap, 1))
    return replace(run, task_config=tc), T, STEP_PROBE_LEN


def training_estimate(
    spec: ProblemSpec,
    names: list[str],
    store: Any,
    say: Progress,
    protocol: Any = None,
    max_steps: int | None = None,
) -> float:
    """Seconds that training the missing evidence would take on this machine, before any of it
    is trained: each architecture's runs still to train (its sweep, plus the seeds at the
    selected learning rate) × their steps × its seconds per step (``train.step_seconds``, stored
    as a ``STEP_KIND`` measurement so a rerun does not time it again; over ``STEP_PROBE_LEN``
    steps, timed at that length and scaled by the cost formula's training FLOPs), on this
    machine's cores. 0 when everything is stored."""
    import os

    from .. import protocol as protocols
    from ..tasks import make_task
    from ..train import step_seconds

    fair = protocol or protocols.DEFAULT
    planned = [r for r in planned_runs(spec, names, protocol, max_steps) if not store.has_run(r.id)]
    total = 0.0
    for arch in dict.fromkeys(r.arch for r in planned):
        mine = [r for r in planned if r.arch == arch]
        first, T, probe_len = _step_probe(mine[0])
        key = {"arch": arch, "task": first.task, "task_config": first.task_config}
        key |= {"model_config": first.model_config, "batch_size": first.train.batch_size}
        hit = next((m for m in store.measurements(STEP_KIND) if m["key"] == key), None)
        if hit is None:
            say(f"timing a training step of {arch} …")
            seconds = step_seconds(first, make_task(first.task, **first.task_config))
            store.put_measurement(STEP_KIND, key, {"seconds": seconds})
        else:
            seconds = float(hit["value"]["seconds"])
        if T != probe_len:
            at = [spec_cost(spec, arch, n) for n in (T, probe_len)]
            seconds *= (at[0].train_flops_per_token * T) / (at[1].train_flops_per_token * probe_len)
        runs = len(mine) + len(fair.seeds) - 1  # the seeds follow the sweep
        total += runs * mine[0].train.max_steps * seconds
    overhead = 1.25  # evaluation every few steps, process start-up (as data_step_budget)
    return overhead * total / max(1, os.cpu_count() or 1)
