"""Evidence: numbers with their sources (a formula, a run, a measurement)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .. import cost as cost_model
from ..models import accepted_options
from ..readings import Figure, Quality, fmt
from .spec import ProblemSpec

__all__ = ["Evidence", "Figure", "Peer", "Quality", "fmt", "formula_evidence", "spec_cost"]


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
