r"""The store, read into plain tables for the report: one row type per kind of evidence.

Nothing here draws or formats; every row keeps the id of the run or measurement it came from,
so each chart can say where its numbers are from.

Quality. A run's *dependency length* is its task's horizon (how far back the signal lies,
``make_task(task, **task_config).horizon``), else its sequence length. Its *skill* closes the
gap from the trivial baseline to perfect (the advisor's definition, seqarch.advise.skill_of):

    skill = 1 − metric / baseline                      for an error (lower is better)
    skill = (metric − baseline) / (1 − baseline)       for a score (higher is better)

Runs of one (task, arch, horizon) form a :class:`QualityPoint`: mean, standard deviation, the
95 % interval, min and max over seeds. Of a protocol comparison only the selected learning
rate's seeds are evidence (seqarch.protocol.selected_runs): the sweep's other rates were tuning.

The measured trade-off table (:func:`tradeoff_rows`) puts the source document's table

    | Task Type | Best Choice | Why |  Streaming → RNN, Medium → LSTM / GRU, Long → Transformer

beside what the store says, decided by the advisor's one rule (seqarch.advise.decide.rank, via
``textbook_table(run=False)``): the same specs, the same evidence, the same answer as
``seqarch advise --table``.
"""

from __future__ import annotations

import itertools
import math
import statistics
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from .. import protocol, readings
from ..advise import ADVICE_KIND, LAG_KIND, TEXTBOOK, TEXTBOOK_REAL, skill_of
from ..derive.flow import FLOW_KIND
from ..measure import LIMITS_KIND
from ..records import Crossover, Latency, Memory, Throughput
from ..reproduce import KIND as REPRODUCTION_KIND
from ..runs import Run
from ..store import Snapshot, canonical_json

# Measurement kinds read here (written by seqarch.derive.flow, seqarch.measure, seqarch.advise).
# Every kind is declared by its producer; the report only reads them.
LATENCY_KIND, THROUGHPUT_KIND = Latency.kind, Throughput.kind
MEMORY_KIND, CROSSOVER_KIND = Memory.kind, Crossover.kind


# ---------------------------------------------------------------------------------------------
# Quality from training runs


@dataclass
class QualityRow:
    run_id: str
    task: str
    arch: str
    horizon: int | None
    seq_len: int | None
    seed: int | None
    metric: str
    value: float
    baseline: float | None
    higher_is_better: bool
    hidden_size: int | None
    train_seconds: float | None
    variant: str = ""  # the run's recipe: its configuration but its seeds (canonical JSON)
    finished: float = 0.0

    @property
    def skill(self) -> float | None:
        if self.baseline is None:
            return None
        return skill_of(self.value, self.baseline, self.higher_is_better)


@lru_cache(maxsize=256)
def _task_facts(task: str, task_config_json: str) -> tuple[int | None, str | None, bool | None]:
    """(horizon, metric, higher_is_better) of a stored task config; Nones if it won't build."""
    import json

    from ..readings import horizon
    from ..tasks import TASKS

    cls = TASKS.get(task)
    if cls is None:
        return None, None, None
    return horizon(task, json.loads(task_config_json)), cls.metric, cls.higher_is_better


def quality_rows(runs: list[Run]) -> list[QualityRow]:
    """One row per finished run that has its task's headline metric."""
    rows = []
    for r in runs:
        config, m = r.config, r.metrics
        task_config = config.task_config
        horizon, metric, hib = _task_facts(config.task, canonical_json(task_config))
        metric = m.get("metric", metric)
        hib = m.get("higher_is_better", hib)
        if metric is None or not _is_number(m.get(metric)):
            continue
        seq_len = task_config.get("seq_len", m.get("seq_len"))
        baseline = m.get(f"baseline_{metric}")
        rows.append(
            QualityRow(
                run_id=r.id,
                task=task_label(config.task, task_config),
                arch=config.arch,
                horizon=horizon if horizon is not None else seq_len,
                seq_len=seq_len,
                seed=config.seed,
                metric=str(metric),
                value=float(m[metric]),
                baseline=float(baseline) if _is_number(baseline) else None,
                higher_is_better=bool(hib),
                hidden_size=config.model_config.get("hidden_size"),
                train_seconds=m.get("train_seconds"),
                variant=canonical_json(r.recipe()),
                finished=r.finished,
            )
        )
    return rows


LABEL_FIELDS = readings.DATA_FIELDS  # task options that name the data


def task_label(task: str, task_config: dict) -> str:
    """The task's name, with the data it ran on when that is an option (``ucr (GunPoint)``)."""
    for name in LABEL_FIELDS:
        if task_config.get(name):
            value = str(task_config[name])
            return f"{task} ({Path(value).name if name == 'path' else value})"
    return task


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


@dataclass
class QualityPoint:
    """All seeds of one (task, arch, horizon)."""

    task: str
    arch: str
    horizon: int
    metric: str
    higher_is_better: bool
    mean: float
    std: float
    low: float
    high: float
    baseline: float | None
    skill: float | None  # mean skill over seeds
    skill_std: float
    run_ids: list[str]
    hidden_size: int | None
    ci: float = math.inf  # half-width of the 95 % interval of the metric over seeds


def quality_points(rows: list[QualityRow], counted: set[str] | None = None) -> list[QualityPoint]:
    """Rows grouped by (task, arch, horizon), sorted so; of the rows whose run counts
    (``counted``: the runs of :func:`seqarch.readings.comparisons`, the advisor's rule — seeds
    of different recipes are not one distribution, so they are never averaged together)."""
    groups: dict[tuple[str, str, int], list[QualityRow]] = {}
    for r in rows:
        if r.horizon is not None and (counted is None or r.run_id in counted):
            groups.setdefault((r.task, r.arch, int(r.horizon)), []).append(r)
    points = []
    for (task, arch, horizon), g in sorted(groups.items()):
        values = [r.value for r in g]
        baselines = [r.baseline for r in g if r.baseline is not None]
        skills = [r.skill for r in g if r.skill is not None]
        points.append(
            QualityPoint(
                task=task,
                arch=arch,
                horizon=horizon,
                metric=g[0].metric,
                higher_is_better=g[0].higher_is_better,
                mean=statistics.fmean(values),
                std=statistics.stdev(values) if len(values) > 1 else 0.0,
                low=min(values),
                high=max(values),
                baseline=statistics.fmean(baselines) if baselines else None,
                skill=statistics.fmean(skills) if skills else None,
                skill_std=statistics.stdev(skills) if len(skills) > 1 else 0.0,
                run_ids=[r.run_id for r in g],
                hidden_size=g[0].hidden_size,
                ci=protocol.interval(values).half_width,
            )
        )
    return points


# ---------------------------------------------------------------------------------------------
# Measurements


@dataclass
class FlowRow:
    """A gradient_flow measurement: Jacobian norms against lag k (seqarch.derive.flow)."""

    id: str
    arch: str
    trained: bool
    seq_len: int
    hidden_size: int
    k: list[int]
    state: list[float] | None  # ‖∂h_T/∂h_{T−k}‖_F, recurrent models
    input: list[float] | None  # ‖∂h_T/∂x_{T−k}‖_F, every model


def flow_rows(measurements: list[dict]) -> list[FlowRow]:
    rows = []
    for m in measurements:
        key, v = m["key"], m["value"]
        if not v.get("k"):
            continue
        rows.append(
            FlowRow(
                id=m["id"],
                arch=str(key.get("arch")),
                trained=bool(key.get("trained")),
                seq_len=int(key.get("seq_len", 0)),
                hidden_size=int(key.get("hidden_size", 0)),
                k=list(v["k"]),
                state=v.get("state"),
                input=v.get("input"),
            )
        )
    return rows


# The measurement rows are the records the producers wrote (seqarch.records), read back.


def _readable(cls: type, measurements: list[dict], needed: tuple[str, ...]) -> list:
    """The records of ``measurements`` whose ``needed`` fields are numbers (a configuration
    skipped for memory, or a malformed row, is left out)."""
    rows = []
    for m in measurements:
        r = cls.read(m)
        if all(_is_number(getattr(r, k)) for k in needed):
            rows.append(r)
    return rows


def latency_rows(measurements: list[dict]) -> list[Latency]:
    rows = _readable(Latency, measurements, ("p50_us", "hidden_size"))
    return sorted(rows, key=lambda r: (r.arch, r.how, r.context or 0, r.hidden_size))


def throughput_rows(measurements: list[dict]) -> list[Throughput]:
    rows = _readable(Throughput, measurements, ("tokens_per_s", "seq_len"))
    return sorted(rows, key=lambda r: (r.arch, r.mode, r.batch_size, r.seq_len))


def memory_rows(measurements: list[dict]) -> list[Memory]:
    return sorted(_readable(Memory, measurements, ("seq_len",)), key=lambda r: (r.arch, r.seq_len))


def crossover_rows(measurements: list[dict]) -> list[Crossover]:
    return _readable(Crossover, measurements, ())


# ---------------------------------------------------------------------------------------------
# Everything the page needs


@dataclass
class ReportData:
    db: str
    runs: list[Run]
    quality: list[QualityRow]
    points: list[QualityPoint]
    flow: list[FlowRow]
    latency: list[Latency]
    throughput: list[Throughput]
    memory: list[Memory]
    crossover: list[Crossover]
    limits: dict | None  # the latest machine_limits measurement, {id, value, ...}
    advice: dict | None  # the latest "advice" measurement, {id, created, key, value}
    environments: list[dict] = field(default_factory=list)
    reproductions: list[dict] = field(default_factory=list)  # stored seqarch.reproduce results
    lags: list[dict] = field(default_factory=list)  # stored signal-lag estimates (advise/lag.py)
    # the real tasks with classical peers (study --preset real): models and peers side by side
    conditions: list[dict] = field(default_factory=list)
    claims: Any = None  # the claims ledger on this store (seqarch.claims.Ledger)
    claims_plots: dict = field(default_factory=dict)  # the numbers behind its plots
    source: Snapshot | None = None  # the store as read once for this build

    @property
    def empty(self) -> bool:
        return not (self.runs or self.flow or self.latency or self.throughput or self.advice)


def has_evidence(db: str | Path) -> bool:
    """Whether there is evidence to read at ``db``: the store, or, with none there yet, the
    shipped evidence base (seqarch.shipped; the store is then created empty, as `existing`
    allows). Without either, nothing is read and nothing is created."""
    from .. import shipped

    return Path(db).exists() or shipped.path() is not None


def load(db: str | Path) -> ReportData:
    """Read everything the report shows from the store at ``db`` (a missing file reads empty),
    once: the ledger, the trade-off tables and the conditions read the same snapshot."""
    runs: list[Run] = []
    by_kind: dict[str, list[dict]] = {}
    source = None
    if has_evidence(db):  # a missing store reads as empty (the shipped evidence base, if any)
        source = Snapshot(db)
        runs = source.runs()
        for m in source.measurements():
            by_kind.setdefault(m["kind"], []).append(m)
    done = [r for r in runs if r.status == "done"]
    quality = quality_rows(protocol.selected_runs(done))
    counted = {r.id for group in readings.comparisons(done).values() for r in group}
    ledger, plots = claims_of(source)
    return ReportData(
        db=str(db),
        source=source,
        runs=runs,
        quality=quality,
        points=quality_points(quality, counted),
        flow=flow_rows(by_kind.get(FLOW_KIND, [])),
        latency=latency_rows(by_kind.get(LATENCY_KIND, [])),
        throughput=throughput_rows(by_kind.get(THROUGHPUT_KIND, [])),
        memory=memory_rows(by_kind.get(MEMORY_KIND, [])),
        crossover=crossover_rows(by_kind.get(CROSSOVER_KIND, [])),
        limits=_latest(by_kind.get(LIMITS_KIND, [])),
        advice=_latest(by_kind.get(ADVICE_KIND, [])),
        environments=environments(runs, [m for ms in by_kind.values() for m in ms]),
        reproductions=[{"id": m["id"], **m["value"]} for m in by_kind.get(REPRODUCTION_KIND, [])],
        lags=[
            {**m["value"], "id": m["id"], "data": m["key"]["data"]}
            for m in by_kind.get(LAG_KIND, [])
        ],
        conditions=stored_conditions(source, runs) if source is not None else [],
        claims=ledger,
        claims_plots=plots,
    )


def stored_conditions(db: Snapshot, runs: list[Run]) -> list[dict]:
    """``seqarch.study.conditions`` of the real preset on what is stored (nothing run or timed):
    every task with classical peers, each architecture's selected seeds beside the peers."""
    from ..study import conditions, load_study
    from ..tasks import TASKS

    tasks = {r.task for r in runs}
    with_peers = {t for t in tasks if getattr(TASKS.get(t), "peers", ())}  # unknown: none
    if not with_peers:
        return []
    planned = [r for r in load_study("real") if r.task in with_peers]
    return conditions(db, planned, measure=False)


def claims_of(source: Snapshot | None) -> tuple[Any, dict]:
    """The claims ledger judged on the store read once (``source``) and the numbers behind
    its plots (nothing is trained or timed); (None, {}) when there is no store."""
    if source is None:
        return None, {}
    from ..claims import claims_ledger
    from ..claims.evidence import Stored, plot_data

    return claims_ledger(source), plot_data(Stored(source))


def _latest(measurements: list[dict]) -> dict | None:
    return max(measurements, key=lambda m: m["created"]) if measurements else None


ENV_FIELDS = (
    "hostname",
    "cpu",
    "cores",
    "torch_threads",
    "python",
    "torch",
    "numpy",
    "platform",
    "git_revision",
)


def environments(runs: list[Run], measurements: list[dict]) -> list[dict]:
    """Distinct machines/versions the evidence came from, with counts and the time span."""
    seen: dict[str, dict] = {}
    items = [(r.env, r.finished, "run") for r in runs]
    items += [(m["env"], m["created"], "measurement") for m in measurements]
    for env, when, what in items:
        env = {k: env.get(k) for k in ENV_FIELDS}
        entry = seen.setdefault(
            canonical_json(env), {**env, "runs": 0, "measurements": 0, "first": when, "last": when}
        )
        entry["runs" if what == "run" else "measurements"] += 1
        entry["first"], entry["last"] = min(entry["first"], when), max(entry["last"], when)
    return sorted(seen.values(), key=lambda e: e["last"], reverse=True)


# ---------------------------------------------------------------------------------------------
# The measured trade-off table


@dataclass
class TradeoffRow:
    task_type: str
    document_says: str  # the source document's best choice
    document_why: str
    measured: str | None  # the measured best choice, None = no evidence yet
    why: str  # the numbers behind it, or what to run
    sources: list[str]
    decided_on: str = "adding"  # the task the row was decided on (a real task, or adding)


def tradeoff_rows(data: ReportData) -> list[TradeoffRow]:
    """One row per task type of the source document's table, decided from the store by the
    advisor's own rule (``seqarch advise --table`` on stored evidence: nothing is trained or
    timed here, and nothing is written): on the adding problem, then on the real tasks."""
    from ..advise import differs, textbook_table

    out = []
    for table, real in ((TEXTBOOK, False), (TEXTBOOK_REAL, True)):
        source = data.source
        rows = textbook_table(source, run=False, keep=False, real=real) if source else []
        command = "seqarch advise --table" + ("" if real else " --proxy adding")
        for (task_type, choice, why, _), r in itertools.zip_longest(table, rows):
            doc = " / ".join(c.upper() for c in choice)
            if r is None or not r.has_quality:
                out.append(
                    TradeoffRow(
                        task_type,
                        doc,
                        why,
                        None,
                        f"no stored evidence at this row's sizes yet — run `{command}`",
                        [],
                        "—" if r is None else r.proxy,
                    )
                )
                continue
            versus = f"; {differs(r)}" if real else ""
            out.append(
                TradeoffRow(
                    task_type,
                    doc,
                    why,
                    r.measured,
                    f"{r.measured_why}; confidence {r.confidence}{versus}",
                    r.evidence,
                    r.proxy,
                )
            )
    return out


TASK_TYPES = tuple(
    (row[0], " / ".join(c.upper() for c in row[1]), row[2]) for row in (*TEXTBOOK, *TEXTBOOK_REAL)
)


def step_latency_at(data: ReportData, hidden_size: int | None) -> dict[str, Latency]:
    """Per arch, its fastest way to take one step, at the hidden size nearest ``hidden_size``
    (log scale); for a growing state (KV cache), the decode step at the shortest context."""
    best: dict[str, Latency] = {}
    target = math.log(hidden_size or 128)

    def closeness(r: Latency) -> tuple[float, int, float]:
        return (abs(math.log(r.hidden_size) - target), r.context or 0, r.p50_us)

    for r in data.latency:
        if r.arch not in best or closeness(r) < closeness(best[r.arch]):
            best[r.arch] = r
    return best


def _flops_per_token(arch: str, hidden_size: int | None) -> float:
    """The cost formula at the runs' width (seqarch.cost); inf for an unknown architecture."""
    from .. import cost

    try:
        return float(
            cost.estimate(
                arch, seq_len=1, input_size=1, hidden_size=hidden_size or 64
            ).flops_per_token
        )
    except ValueError:
        return math.inf
