"""Stored evidence, read one way: how far back a stored run's signal lies, which runs count
where several recipes measured one thing, the newest measurement under a key, and which timing
is "the step latency". The advisor, the claims ledger and the report read through these, so
one stored row means one thing everywhere.

Below advise, claims and report; above the store's typed runs (:class:`seqarch.runs.Run`) and
the measurement records.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from . import protocol
from .ids import canonical_json
from .records import Latency
from .rules import clears_baseline

if TYPE_CHECKING:
    from .runs import Run

DATA_FIELDS = ("dataset", "series", "path")  # task options that name the data a task reads


@dataclass(frozen=True)
class Figure:
    """A number, its unit, and where it came from (a formula, a run, a measurement)."""

    value: float
    unit: str
    source: str
    spread: float = 0.0  # a measurement's spread across rounds (0: a formula, or not recorded)

    def __str__(self) -> str:
        return f"{fmt(self.value, self.unit)} [{self.source}]"

    def text(self) -> str:
        """The number without its source, for sentences that cite the source separately."""
        return fmt(self.value, self.unit)


def fmt(value: float, unit: str) -> str:
    if unit == "B":
        for div, name in ((2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
            if abs(value) >= div:
                return f"{_sig(value / div)} {name}"
        return f"{value:.0f} B"
    if unit == "µs":
        if value >= 1e6:
            return f"{value / 1e6:.3g} s"
        if value >= 1e3:
            return f"{_sig(value / 1e3)} ms"
        return f"{_sig(value)} µs"
    if unit == "":
        return f"{value:.3g}"
    if unit in ("params", "FLOPs"):
        for div, name in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
            if abs(value) >= div:
                return f"{_sig(value / div)}{name}{' ' + unit if unit == 'FLOPs' else ''}"
        return f"{value:.0f}" + (" FLOPs" if unit == "FLOPs" else "")
    return f"{value:.3g} {unit}"


def _sig(x: float) -> str:
    """Three significant figures, never in exponent form (1000, not 1e+03)."""
    return f"{x:.0f}" if abs(x) >= 100 else f"{x:.3g}"


@dataclass
class Quality:
    """How well an architecture did on the stored task nearest the spec's horizon."""

    skill: Figure  # mean over seeds; 0 = trivial baseline, 1 = perfect
    spread: float  # half-width of the 95 % interval of skill over seeds (inf for one seed)
    metric: str
    value: float  # mean of the metric over seeds
    baseline: float
    task: str
    horizon: int  # the dependency distance the runs trained at
    seq_len: int
    run_ids: list[str]
    train_seconds: float  # mean wall-clock per run
    lr: float | None = None  # the learning rate the protocol selected on validation
    protocol: str | None = None  # the protocol's tag (None: a run made without one)
    stopped_by_time: int = 0  # selected runs a wall-clock safety net stopped (not converged)
    tuning_runs: int = 0  # runs behind the selection (lr grid × seeds)
    seed_skills: dict[int, float] = field(default_factory=dict)  # skill per seed (for pairing)
    origin: str | None = None  # from the shipped evidence base: where and when it was measured
    width: int | None = None  # the trained models' hidden size

    @property
    def lo(self) -> float:
        return self.skill.value - self.spread

    @property
    def hi(self) -> float:
        return self.skill.value + self.spread

    @property
    def resolved(self) -> bool:
        """The interval clears the baseline (seqarch.rules.clears_baseline)."""
        return clears_baseline(self)


@cache
def _horizon(task: str, task_config_json: str) -> int | None:
    from .tasks import make_task

    try:
        return make_task(task, **json.loads(task_config_json)).horizon
    except (ValueError, TypeError, OSError):  # a task this version no longer builds
        return None


def horizon(task: str, task_config: dict) -> int | None:
    """How far back the signal lies in ``task`` built with ``task_config`` — from the task
    itself, never a hand-kept table (once per configuration and process: some tasks build a
    split to know it)."""
    return _horizon(str(task), canonical_json(task_config or {}))


def run_horizon(run: Run) -> int | None:
    """:func:`horizon` of a stored run."""
    return horizon(run.task, run.config.task_config)


def own_and_complete(group: list[Run]) -> bool:
    """Runs the user trained here, the whole sweep and every seed of their protocol: they win
    over the base's (a partial try does not hide the base's finished comparison)."""
    if any(r.origin == "base" for r in group):
        return False
    tag = group[0].protocol
    if not tag:
        return True
    p = protocol.get(tag)
    return len(group) >= len(p.lr_grid) + len(p.seeds) - 1


def preferred(recipes: Iterable[list[Run]]) -> list[Run]:
    """Of several recipes' runs that measured one thing (another protocol, width or step
    budget), the one that counts — never pooled: a protocol's recipe before a run made without
    one, then the user's own complete comparison before the shipped base's, then the recipe
    with the most finished runs, the newest on a tie."""
    return max(
        recipes,
        key=lambda g: (
            bool(g[0].protocol),
            own_and_complete(g),
            len(g),
            max(r.finished for r in g),
        ),
    )


def comparisons(runs: Iterable[Run]) -> dict[tuple, list[Run]]:
    """Finished runs with metrics, by what they measured — (task, its data, arch, horizon; the
    sequence length where a task has no horizon) — each the runs of the one recipe that counts
    there (:func:`preferred`): a protocol recipe's whole sweep and seeds, for its selection."""
    by: dict[tuple, dict[str, list[Run]]] = {}
    for r in runs:
        if not r.done:
            continue
        task_config = r.config.task_config
        h = run_horizon(r)
        h = task_config.get("seq_len", r.metrics.get("seq_len")) if h is None else h
        data = canonical_json({k: task_config[k] for k in DATA_FIELDS if k in task_config})
        key = (r.task, data, r.arch, h)
        by.setdefault(key, {}).setdefault(r.recipe_key, []).append(r)
    return {key: preferred(recipes.values()) for key, recipes in by.items()}


def _holding(rows: list[dict], key: dict) -> list[dict]:
    return [m for m in rows if all(m["key"].get(k) == v for k, v in key.items())]


def latest(rows: list[dict], **key: Any) -> dict | None:
    """The newest stored measurement among ``rows`` whose key holds every item of ``key``."""
    hits = _holding(rows, key)
    return max(hits, key=lambda m: m["created"]) if hits else None


def step(rows: list[dict], **key: Any) -> Latency | None:
    """The step latency under ``key``: the newest timing of the seqarch streaming runtime (what
    one would deploy) when there is one, else the newest eager ``step``."""
    timed = [Latency.read(m) for m in _holding(rows, key)]
    pool = [r for r in timed if r.streams] or timed
    return max(pool, key=lambda r: r.created) if pool else None


# -- quality: what the runs that count say about one architecture --------------------------


def quality_of(group: list[Run], task: Any, h: int) -> Quality | None:
    """One recipe's runs at distance ``h``: the protocol's selection (the lr chosen on
    validation, its seeds' test metric), or every seed of a run made without a protocol."""
    from .rules import skill_of
    from .shipped import provenance

    tag = group[0].protocol
    chosen, lr = group, None
    sel = protocol.select(group, protocol.get(tag)) if tag else None
    if sel is not None:
        chosen, lr = sel.runs, sel.lr
    measured = [r for r in chosen if task.metric in r.metrics]
    values = [float(r.metrics[task.metric]) for r in measured]
    if not values:
        return None
    baseline = float(task.baseline()[task.metric])
    skills = [skill_of(v, baseline, task.higher_is_better) for v in values]
    by_seed = {r.seed: s for r, s in zip(measured, skills, strict=True)}
    iv = protocol.interval(skills)
    ids = [r.id for r in chosen]
    return Quality(
        skill=Figure(iv.mean, "", "run:" + ",".join(i[:8] for i in ids)),
        spread=iv.half_width,
        metric=task.metric,
        value=sum(values) / len(values),
        baseline=baseline,
        task=group[0].task,
        horizon=h,
        seq_len=int(group[0].config.task_config.get("seq_len") or 0),
        run_ids=ids,
        train_seconds=sum(float(r.metrics.get("train_seconds", 0.0)) for r in chosen) / len(chosen),
        lr=lr,
        protocol=tag,
        stopped_by_time=protocol.stopped_by_time(chosen),
        tuning_runs=len(group),
        seed_skills=by_seed if len(by_seed) == len(skills) else {},
        origin=provenance(chosen),
        width=group[0].config.model_config.get("hidden_size"),
    )


def qualities_by_horizon(runs: list[Run], arch: str, task: str) -> dict[int, Quality]:
    """Quality of ``arch`` on ``task`` at every stored dependency distance, from the runs that
    count there (:func:`seqarch.readings.comparisons`: one recipe, never pooled)."""
    from .tasks import make_task

    mine = [r for r in runs if r.arch == arch and r.task == task]
    by_h: dict[int, list[list[Run]]] = {}
    for (_, _, _, h), group in comparisons(mine).items():
        if h is not None and run_horizon(group[0]) is not None:
            by_h.setdefault(h, []).append(group)
    out: dict[int, Quality] = {}
    for h, groups in by_h.items():
        group = preferred(groups)
        t = make_task(task, **group[0].config.task_config)
        q = quality_of(group, t, h)
        if q is not None:
            out[h] = q
    return out


def nearest(by_horizon: dict[int, Quality], target: int) -> Quality | None:
    """The quality at the stored distance nearest ``target`` in log-distance (a run at 150
    says more about 200 than one at 20); ties go to the longer, more conservative distance."""
    if not by_horizon:
        return None
    h = min(by_horizon, key=lambda k: (abs(math.log(k) - math.log(target)), -k))
    return by_horizon[h]


def common_horizon(by_arch: dict[str, dict[int, Quality]], target: int) -> int | None:
    """The one stored distance every architecture is judged at: the nearest ``target`` in
    log-distance (ties to the longer) among the distances stored for at least two of them (one
    alone compares with nothing). Never each architecture at its own nearest distance: an
    LSTM at 150 steps against a minGRU at 60 is not a comparison. An architecture with no run
    at that distance has no quality here (named as missing)."""
    counts: dict[int, int] = {}
    for qs in by_arch.values():
        for k in qs:
            counts[k] = counts.get(k, 0) + 1
    pool = [k for k, n in counts.items() if n >= min(2, len(by_arch))]
    if not pool:
        return None
    return min(pool, key=lambda k: (abs(math.log(k) - math.log(target)), -k))


def stored_flow_ratio(store: Any, arch: str, k: int) -> Figure | None:
    """‖∂h_T/∂x_{T−k}‖ / ‖∂h_T/∂x_{T−1}‖ from a stored gradient-flow measurement covering k."""
    from .derive.flow import FLOW_KIND

    best = None
    for m in store.measurements(FLOW_KIND):
        key, value = m["key"], m["value"]
        if key.get("arch") != arch or key.get("trained") or key.get("k_max", 0) < k:
            continue
        ratios = value.get("input_ratio")
        if ratios and (best is None or m["created"] > best[0]):
            best = (m["created"], Figure(float(ratios[k - 1]), "", f"measurement:{m['id'][:8]}"))
    return None if best is None else best[1]
