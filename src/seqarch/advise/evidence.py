"""Evidence: numbers with their sources (a formula, a run, a measurement)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .. import cost as cost_model
from ..models import accepted_options
from ..rules import clears_baseline
from .spec import ProblemSpec


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


@dataclass
class Peer:
    """A classical peer (seqarch.peers) on the same splits as the neural models."""

    name: str
    metric: str
    value: float  # mean of the metric over the splits
    skill: Any  # a seqarch.protocol.Interval of skill over the splits (half-width 0: one split)
    source: str  # measurement:<id>,...
    seed_skills: dict[int, float] = field(default_factory=dict)  # skill on each seed's split


@dataclass
class Evidence:
    """What the advisor knows about one architecture at the spec's sizes."""

    arch: str
    params: Figure
    flops_per_token: Figure
    weights_bytes: Figure
    state_bytes: Figure  # inference state at max_len
    state_grows: bool  # True when the state grows with T (a KV cache)
    step_us: Figure | None = None  # one streaming step (at context max_len if it grows)
    seq_us: Figure | None = None  # one whole sequence of max_len, batch 1
    quality: Quality | None = None
    grad_ratio: Figure | None = None  # ‖∂h_T/∂x_{T−k}‖ / ‖∂h_T/∂x_{T−1}‖ at k = horizon
    by_horizon: dict[int, Quality] = field(default_factory=dict)  # every stored distance
    ablation: dict[str, Any] | None = None  # stored dropout-alone vs combined regularisation
    not_timed: str | None = None  # why the memory guard did not time it
    peers: list[Peer] = field(default_factory=list)  # classical peers on the same splits
    proxy: Any = None  # without data: the task quality was measured on (advise/proxy.Proxy)
    receptive_field: Figure | None = None  # steps an output can see; None when unbounded

    @property
    def memory_bytes(self) -> float:
        return self.weights_bytes.value + self.state_bytes.value


def spec_cost(spec: ProblemSpec, arch: str, seq_len: int) -> Any:
    """``arch``'s cost formulas at the spec's sizes and length ``seq_len`` (seqarch.cost).
    A model sized by its longest input (``max_len``) is built for the spec's longest, as
    training builds it (train.model_options)."""
    sized = {"max_len": spec.longest} if "max_len" in accepted_options(arch) else {}
    return cost_model.estimate(
        arch,
        seq_len=seq_len,
        input_size=spec.input_size,
        hidden_size=spec.hidden_size,
        num_layers=spec.num_layers,
        output_size=spec.output_size,
        **sized,
    )


def formula_evidence(spec: ProblemSpec, arch: str) -> Evidence:
    """The part of the evidence that is pure formula: params, FLOPs, bytes at the spec."""
    at_max = spec_cost(spec, arch, spec.longest)
    at_one = spec_cost(spec, arch, 1)
    src = f"formula:{arch}.cost"
    grows = at_max.state_bytes > at_one.state_bytes
    # Streaming runs one step at a time: a constant-state model's step costs what one position
    # costs (RetNet's parallel form, counted at T, is not what a stream runs); a growing state
    # attends over the whole context.
    per_step = spec.streaming and not grows
    flops = at_one.flops_per_token if per_step else at_max.flops_per_token
    return Evidence(
        arch=arch,
        params=Figure(at_max.params, "params", f"{src}.params"),
        flops_per_token=Figure(flops, "FLOPs", f"{src}.flops_per_token"),
        weights_bytes=Figure(at_max.params * 4, "B", f"{src}.params×4"),
        state_bytes=Figure(at_max.state_bytes, "B", f"{src}.state_bytes"),
        state_grows=grows,
        receptive_field=None
        if at_max.receptive_field is None
        else Figure(at_max.receptive_field, "steps", f"{src}.receptive_field"),
    )
