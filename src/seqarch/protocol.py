r"""The fair comparison protocol: one recipe for every architecture, named and versioned.

Every comparison seqarch makes (the presets, the advisor's calibration, ``advise --data``,
``advise --evaluate``) trains its architectures the same way:

1. **The same tuning budget.** Each architecture is trained at every learning rate of one
   fixed log-spaced grid (the same grid for all) with the sweep seed, for the same number of
   optimiser *steps*; then at the selected rate with every other seed of the protocol.
   Seconds never decide quality: a wall-clock limit is a safety net, and a run it stops is
   marked ``stopped = "time_budget"``, never called converged.
2. **Early stopping waits.** Early stopping on validation cannot fire before ``min_steps``
   (a fraction of the step budget), so a model on the adding problem's plateau is not cut off
   before it escapes.
3. **Selection on validation only.** The η whose sweep run (seed ``seeds[0]``) has the best
   validation metric is selected; a diverged run is the worst. The test split is never looked
   at. Then the other seeds train at that η.
4. **Test with an interval.** The selected η's seeds give the test metric as a mean with a 95 %
   Student-t interval over seeds:  m̄ ± t_{0.975, n−1} · s / √n.
5. **Small data** (a user's file): each seed also redraws the train / validation / test split
   (repeated random splits), so the interval reflects the data and not one small test split.
6. **Paired, then raced.** Every architecture trains on the same seeds, so models are
   compared through the paired interval of their per-seed difference (seqarch.rules). When
   the decision at the top is unresolved (the difference straddles the margin), the models in
   question only get ``race_step`` more seeds at their selected lr, round after round, until it
   resolves or they reach ``max_seeds`` (racing, as in F-Race: Birattari et al. 2002):
   :func:`race`.

The protocol's tag (``fair/1``) is part of every run's config and so of its id: runs of
different protocols are never averaged together.

A worked example (error metric, lower is better; grid {1e-3, 1e-2}, seeds {0, 1, 2})::

    sweep   lr 1e-3, seed 0: val 0.160, test 0.020     <- best on test ...
            lr 1e-2, seed 0: val 0.010, test 0.150
    select  1e-2 (val 0.010): selection never sees test
    seeds   lr 1e-2, seeds 1, 2: test 0.140, 0.160
    report  test 0.150 ± 0.025 (95 % interval over seeds 0, 1, 2)

A study runs the sweep first and the seeds after (:func:`followups`); the sweep's runs are
stored like any other, so an interrupted comparison resumes where it stopped.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from .errors import BadInput
from .ids import recipe_key  # noqa: F401 - what one comparison's runs share

if TYPE_CHECKING:
    from .runs import Run

PROTOCOL_KEY = "protocol"  # the TrainConfig field holding a run's protocol tag


@dataclass(frozen=True)
class Protocol:
    """What every architecture in a comparison gets: the grid, the seeds, the stopping rule."""

    name: str
    version: int
    lr_grid: tuple[float, ...]  # peak learning rates, log-spaced; the same for every model
    seeds: tuple[int, ...]  # model initialisation, batch order (and the split, on small data)
    min_steps_fraction: float  # early stopping cannot fire before this fraction of the steps
    patience: int  # evaluations without improvement (after min_steps) before stopping
    confidence: float = 0.95  # of the interval over seeds
    max_seeds: int = 10  # racing: the most seeds an unresolved decision may add up to
    race_step: int = 2  # racing: seeds added to the models in question per round

    @property
    def tag(self) -> str:
        return f"{self.name}/{self.version}"

    def train_options(self, max_steps: int, eval_every: int | None = None) -> dict[str, Any]:
        """The TrainConfig fields the protocol sets, at a step budget of ``max_steps``."""
        every = eval_every or max(10, min(100, max_steps // 20))
        return {
            PROTOCOL_KEY: self.tag,
            "max_steps": max_steps,
            "min_steps": math.ceil(self.min_steps_fraction * max_steps),
            "patience": self.patience,
            "eval_every": every,
        }


FAIR = Protocol(
    name="fair",
    version=1,
    lr_grid=(1e-3, 3e-3, 1e-2, 3e-2),
    seeds=(0, 1, 2),
    min_steps_fraction=0.75,
    patience=5,
)
PROTOCOLS: dict[str, Protocol] = {FAIR.tag: FAIR}
DEFAULT = FAIR


def get(tag: str | None) -> Protocol:
    """The protocol of ``tag`` (``fair/1``, or a bare name for its latest version)."""
    if tag is None:
        return DEFAULT
    if tag in PROTOCOLS:
        return PROTOCOLS[tag]
    latest = [p for p in PROTOCOLS.values() if p.name == tag]
    if latest:
        return max(latest, key=lambda p: p.version)
    raise BadInput(f"protocol {tag!r} is not known; expected one of {', '.join(PROTOCOLS)}")


def _at(run: Any, protocol: Protocol, lr: float, seed: int, resplit: bool) -> Any:
    task_config = {**run.task_config, "seed": seed} if resplit else run.task_config
    return replace(
        run,
        train=replace(run.train, lr=lr, protocol=protocol.tag),
        task_config=task_config,
        seed=seed,
    )


def expand(run: Any, protocol: Protocol = DEFAULT, resplit: bool = False) -> list[Any]:
    """The sweep of one recipe: ``run`` (a RunConfig) at every lr of the grid, sweep seed.

    ``resplit``: the task's split seed follows the run's seed (repeated random splits).
    """
    return [_at(run, protocol, lr, protocol.seeds[0], resplit) for lr in protocol.lr_grid]


def comparison(
    archs: Iterable[str],
    task: str,
    task_config: dict,
    model_config: dict,
    steps: int,
    protocol: Protocol = DEFAULT,
    resplit: bool = False,
    **train: Any,
) -> list[Any]:
    """A comparison as data: every architecture of ``archs`` on one task and model size, under
    ``protocol`` at a step budget of ``steps`` — each one's sweep (:func:`expand`; its seeds
    follow once the sweep is stored). ``train``: the TrainConfig options the protocol does not
    set (batch size, threads, clipping, a wall-clock safety net)."""
    from .train import RunConfig, TrainConfig

    out = []
    for arch in archs:
        base = RunConfig(
            arch=arch,
            task=task,
            task_config=dict(task_config),
            model_config=dict(model_config),
            train=TrainConfig(**train, **protocol.train_options(steps)),
        )
        out.extend(expand(base, protocol, resplit))
    return out


def everything(run: Any, protocol: Protocol = DEFAULT, resplit: bool = False) -> list[Any]:
    """Every run the protocol could need for one recipe (the grid × every seed): an upper
    bound, for counting; a study trains only the sweep and the selected lr's seeds."""
    return [
        _at(run, protocol, lr, seed, resplit) for lr in protocol.lr_grid for seed in protocol.seeds
    ]


def more_seeds(records: list[Run], n_seeds: int) -> list[Any]:
    """Runs for seeds 0 .. n_seeds − 1 at each comparison's selected lr that are not among
    ``records`` yet (an exhaustive measurement adds seeds to the protocol's)."""
    out = []
    for g in group(records).values():
        sel = select(g)
        if sel is None:
            continue
        p = get(sel.runs[0].protocol)
        base = sel.runs[0].config
        resplit = "seed" in base.task_config and base.task_config["seed"] == base.seed
        have = {r.seed for r in sel.runs}
        out += [_at(base, p, sel.lr, s, resplit) for s in range(n_seeds) if s not in have]
    return out


def race_round(records: list[Run], protocol: Protocol | None = None) -> list[Any]:
    """One racing round for the comparisons of ``records`` (the stored runs of the models in
    question): every one of them gets the seeds 0 … n + race_step − 1 it lacks at its selected
    lr (n: the most seeds any of them has, so they stay matched seed for seed), never beyond
    ``max_seeds``. Empty when they are at the cap."""
    groups = [select(g) for g in group(records).values()]
    groups = [g for g in groups if g is not None]
    if not groups:
        return []
    p = protocol or get(groups[0].runs[0].protocol)
    have = max(len(g.runs) for g in groups)
    target = min(have + p.race_step, p.max_seeds)
    return more_seeds(records, target) if target > 0 else []


@dataclass
class Race:
    """What racing did: the rounds it ran, the runs it added, the seeds the models in question
    had when it stopped, and whether the decision resolved (False: it stopped at the cap)."""

    rounds: int = 0
    added: int = 0
    seeds: int = 0
    resolved: bool = True
    out_of_time: bool = False  # stopped by the training budget's deadline, not the cap

    def text(self) -> str:
        if self.out_of_time:
            return (
                f"racing stopped at the training budget ({self.seeds} seeds, {self.added} more "
                "run(s)) with the decision still unresolved"
            )
        if not self.rounds:
            return ""
        return (
            f"raced: {self.added} more seed run(s) in {self.rounds} round(s); decided at "
            f"{self.seeds} seeds"
            if self.resolved
            else f"raced to the protocol's cap ({self.seeds} seeds, {self.added} more run(s)) "
            "and still unresolved"
        )


def race(
    in_question: Callable[[], list[Run]],
    train: Callable[[list[Any]], None],
    protocol: Protocol | None = None,
    deadline: float | None = None,
) -> Race:
    """Race seeds until the decision resolves: ``in_question()`` returns the stored runs of the
    models whose decision is unresolved (none: resolved); each round trains their next seeds
    (:func:`race_round`) with ``train``, then asks again. No round starts that would end after
    ``deadline`` (Unix seconds: the training budget's end), judged by the previous round's
    time; that leaves it unresolved and says so. The one
    mechanism of the advisor and of ``claims --run``."""
    import time

    out = Race()
    last = 0.0  # seconds the previous round took: a round is started only if one more fits
    while records := in_question():
        extra = race_round(records, protocol)
        late = deadline is not None and time.time() + last >= deadline
        if not extra or late:
            sels = [select(g) for g in group(records).values()]
            out.seeds = max((len(s.runs) for s in sels if s is not None), default=0)
            out.resolved = False
            out.out_of_time = bool(extra) and late
            return out
        started = time.time()
        train(extra)
        last = time.time() - started
        out.rounds += 1
        out.added += len(extra)
        out.seeds = max(r.seed for r in extra) + 1
    return out


def followups(records: list[Run], protocol: Protocol | None = None) -> list[Any]:
    """The seed runs at the selected lr, once one recipe's sweep is stored complete (every lr
    of the grid, finished or failed); none before."""
    if not records:
        return []
    p = protocol or get(records[0].protocol)
    sweep_seed = p.seeds[0]
    swept = {r.lr for r in records if r.seed == sweep_seed}
    if not set(p.lr_grid) <= swept:
        return []
    sel = select(records, p)
    if sel is None:
        return []
    base = sel.runs[0].config
    resplit = "seed" in base.task_config and base.task_config["seed"] == base.seed
    return [_at(base, p, sel.lr, seed, resplit) for seed in p.seeds[1:]]


# -- intervals -----------------------------------------------------------------------------------


def t_quantile(p: float, dof: int) -> float:
    """Student's t quantile (scipy, which statsmodels brings)."""
    from scipy.stats import t

    return float(t.ppf(p, dof))


@dataclass(frozen=True)
class Interval:
    """Mean ± half-width over n values; half-width is inf for n < 2 (no interval)."""

    mean: float
    half_width: float
    n: int

    @property
    def lo(self) -> float:
        return self.mean - self.half_width

    @property
    def hi(self) -> float:
        return self.mean + self.half_width

    def overlaps(self, other: Interval) -> bool:
        return self.lo <= other.hi and other.lo <= self.hi

    def text(self, digits: int = 2) -> str:
        if not math.isfinite(self.half_width):
            return f"{self.mean:.{digits}f} (1 run, no interval)"
        return f"{self.mean:.{digits}f} ± {self.half_width:.{digits}f}"


def interval(values: Iterable[float], confidence: float = 0.95) -> Interval:
    """m̄ ± t_{(1+c)/2, n−1} · s / √n over ``values``."""
    xs = [float(v) for v in values]
    if not xs:
        raise BadInput("no values to take an interval over; expected at least one")
    mean = statistics.fmean(xs)
    if len(xs) < 2:
        return Interval(mean, math.inf, len(xs))
    s = statistics.stdev(xs)
    hw = t_quantile((1 + confidence) / 2, len(xs) - 1) * s / math.sqrt(len(xs))
    return Interval(mean, hw, len(xs))


# -- selection -----------------------------------------------------------------------------------


@dataclass
class Selection:
    """The protocol's outcome for one recipe: the selected lr and its seeds' test results."""

    lr: float
    runs: list[Run]  # the stored runs of the selected lr, one per seed
    metric: str
    higher_is_better: bool
    val_by_lr: dict[float, float]  # the sweep seed's validation metric per lr (what decided)
    test: Interval  # the test metric over the selected seeds
    stopped_by_time: int  # of the selected runs, how many a wall-clock limit stopped
    complete: bool  # the whole sweep and every seed of the selected lr are stored
    seeds_by_lr: dict[float, int] = field(default_factory=dict)

    @property
    def run_ids(self) -> list[str]:
        return [r.id for r in self.runs]


def _score(value: float, higher_is_better: bool) -> float:
    """Larger is better; NaN (a diverged run) is the worst."""
    if value is None or not math.isfinite(value):
        return -math.inf
    return value if higher_is_better else -value


def stopped_by_time(records: Iterable[dict]) -> int:
    """How many of ``records`` a wall-clock safety net stopped (not converged evidence)."""
    return sum(r.metrics.get("stopped") == "time_budget" for r in records)


def select(records: list[Run], protocol: Protocol | None = None) -> Selection | None:
    """Select the learning rate of one recipe's runs on validation only (see the docstring)
    and report the test metric of its seeds. ``records`` are stored runs that differ only in
    lr and seed. Returns None when none is done."""
    done = [r for r in records if r.done]
    if not done:
        return None
    m0 = done[0].metrics
    metric, hib = m0["metric"], bool(m0.get("higher_is_better", True))
    by_lr: dict[float, list[Run]] = {}
    for r in done:
        by_lr.setdefault(r.lr, []).append(r)

    p = protocol or get(done[0].protocol)
    sweep_seed = p.seeds[0]

    def val_score(rs: list[Run]) -> float:
        swept = [r for r in rs if r.seed == sweep_seed] or rs
        vals = [_score(r.metrics.get(f"val_{metric}", math.nan), hib) for r in swept]
        return statistics.fmean(vals)

    means = {lr: val_score(rs) for lr, rs in by_lr.items()}
    # the best validation score; a tie goes to the smaller learning rate (the safer one)
    lr = max(sorted(means), key=lambda k: means[k])
    chosen = sorted(by_lr[lr], key=lambda r: r.seed)
    tests = [float(r.metrics.get(metric, math.nan)) for r in chosen]
    conf = p.confidence
    return Selection(
        lr=lr,
        runs=chosen,
        metric=metric,
        higher_is_better=hib,
        val_by_lr={k: (v if hib else -v) for k, v in means.items()},
        test=interval(tests, conf),
        stopped_by_time=stopped_by_time(chosen),
        complete=set(p.lr_grid) <= set(by_lr) and len(chosen) >= len(p.seeds),
        seeds_by_lr={k: len(v) for k, v in by_lr.items()},
    )


def group(records: Iterable[Run]) -> dict[str, list[Run]]:
    """Stored runs grouped by :func:`recipe_key` (protocol runs only)."""
    out: dict[str, list[Run]] = {}
    for r in records:
        if r.protocol:
            out.setdefault(r.recipe_key, []).append(r)
    return out


def selected_runs(records: Iterable[Run]) -> list[Run]:
    """The runs that are evidence: for each protocol comparison the selected lr's seeds (the
    sweep's other learning rates were tuning, not results); runs made without a protocol
    pass through unchanged."""
    records = list(records)
    out = [r for r in records if not r.protocol]
    for group_records in group(records).values():
        sel = select(group_records)
        if sel is not None:
            out.extend(sel.runs)
    return out
