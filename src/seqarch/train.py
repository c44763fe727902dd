r"""The one training loop, for every model and every task.

A run is a frozen :class:`RunConfig` (architecture, task, sizes, training options, seed); its
id is the hash of its canonical JSON, so the same run is never trained twice.

The loop, for step s = 1 .. S (S = max_steps, or epochs · ⌈N / batch_size⌉):

    x, y, mask = augment(next mini-batch)         training batches only
    ℓ = task.loss(model(x), batch)
    g = ∇ℓ;  g ← g · min(1, c / ‖g‖₂)             global-norm clipping at c = clip_norm
    θ ← AdamW(θ, g, η_s, weight_decay)
    η_s = η · s / W                               warmup, W = ⌈warmup · S⌉ steps
    η_s = η · ½ (1 + cos(π (s − W) / (S − W)))    then cosine decay to 0 (schedule="cosine")

Every ``eval_every`` steps the validation metric is computed; the best parameters are kept and
restored at the end, and training stops early after ``patience`` evaluations without
improvement (never before ``min_steps``: a plateau is not convergence), or when
``time_budget_s`` of wall clock is spent — a safety net: such a run is marked
``stopped = "time_budget"`` and is never presented as converged evidence. The final metrics
are on the held-out test split, next to the task's trivial baseline.

Temporal augmentation (training batches only; Um et al. 2017, Le Guennec et al. 2016):
    jitter   x ← x + ε,              ε ~ N(0, σ_j²) per value
    scaling  x ← x ⊙ s,              s ~ N(1, σ_s²) per sequence and feature
    window   x ← stretch(x[a : a+W]) W = ⌈f · T_i⌉, a ~ U{0 .. T_i − W}, stretched back to T_i
             by linear interpolation (labels and mask untouched: for sequence-level targets)
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

import torch
from torch import Tensor

from . import devices, models
from .errors import BadInput
from .ids import run_id
from .tasks import make_task

SCHEDULES = ("cosine", "constant")
SPLITS = ("train", "val", "test")
EVAL_BATCH = 256  # sequences per forward pass at evaluation; memory only, not results
MODEL_DEFAULTS: dict[str, Any] = {"hidden_size": 64, "num_layers": 1}


@dataclass(frozen=True)
class TrainConfig:
    lr: float = 1e-3  # peak learning rate η
    weight_decay: float = 0.01  # AdamW's decoupled weight decay
    batch_size: int = 64
    max_steps: int | None = 1000  # optimiser steps; or set epochs (and max_steps=None)
    epochs: int | None = None  # passes over the training split
    warmup: float = 0.05  # fraction of the steps with a linear warmup
    schedule: str = "cosine"  # after warmup: "cosine" decay to 0, or "constant"
    clip_norm: float | None = 1.0  # global gradient-norm clipping threshold c; None = off
    dropout: float = 0.0  # passed to the model
    layer_norm: bool = False  # passed to the model
    patience: int | None = None  # evaluations without improvement before stopping; None = off
    min_steps: int = 0  # early stopping cannot fire before this many steps (a plateau's escape)
    eval_every: int = 50  # steps between validation evaluations
    time_budget_s: float | None = None  # wall-clock budget of the run; None = unlimited
    threads: int = 1  # torch.set_num_threads for the run
    jitter_sigma: float = 0.0  # augmentation: additive Gaussian noise σ_j
    scaling_sigma: float = 0.0  # augmentation: multiplicative scale σ_s
    window_slice: float = 1.0  # augmentation: fraction f of each sequence kept; 1 = off
    protocol: str | None = None  # the comparison protocol's tag (seqarch.protocol), e.g. fair/1

    def __post_init__(self) -> None:
        # Canonical types, so {"lr": 1} and {"lr": 1.0} are the same run (same id).
        for f in fields(self):
            v = getattr(self, f.name)
            if "float" in str(f.type) and isinstance(v, int) and not isinstance(v, bool):
                object.__setattr__(self, f.name, float(v))
        if (self.max_steps is None) == (self.epochs is None):
            raise BadInput(
                f"max_steps={self.max_steps} and epochs={self.epochs} are not accepted together; "
                "expected exactly one of them set"
            )
        positive = ("lr", "batch_size", "eval_every", "threads", "max_steps", "epochs")
        positive += ("patience", "time_budget_s", "clip_norm")  # these may also be None (off)
        for name in positive:
            v = getattr(self, name)
            if v is not None and not v > 0:
                raise BadInput(f"{name}={v} is not accepted; expected a positive number")
        for name in ("weight_decay", "jitter_sigma", "scaling_sigma", "dropout", "min_steps"):
            if getattr(self, name) < 0:
                raise BadInput(f"{name}={getattr(self, name)} is not accepted; expected ≥ 0")
        if not 0 <= self.warmup < 1:
            raise BadInput(f"warmup={self.warmup} is not accepted; expected 0 ≤ warmup < 1")
        if not 0 < self.window_slice <= 1:
            raise BadInput(
                f"window_slice={self.window_slice} is not accepted; expected 0 < fraction ≤ 1"
            )
        if self.schedule not in SCHEDULES:
            raise BadInput(f"schedule {self.schedule!r} is not accepted; expected {SCHEDULES}")

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise BadInput(
                f"training option {unknown[0]!r} is not accepted; expected any of "
                f"{', '.join(sorted(known))}"
            )
        if "epochs" in d and "max_steps" not in d:
            d = {**d, "max_steps": None}
        return cls(**d)


@dataclass(frozen=True)
class RunConfig:
    """One training run. ``id`` = sha256 of the canonical JSON of ``to_dict()``, 16 hex."""

    arch: str  # a key of seqarch.models.MODELS
    task: str  # a key of seqarch.tasks.TASKS
    task_config: dict = field(default_factory=dict)  # make_task(task, **task_config)
    model_config: dict = field(default_factory=dict)  # hidden_size, num_layers, arch options
    train: TrainConfig = field(default_factory=TrainConfig)
    seed: int = 0  # model initialisation, batch order and augmentation
    device: str = field(default_factory=devices.current)  # cpu | cuda (seqarch.devices)

    def __post_init__(self) -> None:
        models.model_class(self.arch)  # unknown names: one-line ValueError
        devices.check(self.device)
        object.__setattr__(self, "model_config", {**MODEL_DEFAULTS, **self.model_config})
        for owned in ("input_size", "output_size", "dropout", "layer_norm"):
            if owned in self.model_config:
                raise BadInput(
                    f"model option {owned!r} is not accepted in model_config; it comes from "
                    "the task (sizes) or the training config (dropout, layer_norm)"
                )
        if not isinstance(self.seed, int) or isinstance(self.seed, bool):
            raise BadInput(f"seed={self.seed!r} is not accepted; expected an integer")

    def to_dict(self) -> dict:
        d = {
            "arch": self.arch,
            "task": self.task,
            "task_config": dict(self.task_config),
            "model_config": dict(self.model_config),
            "train": asdict(self.train),
            "seed": self.seed,
        }
        if reads_tokens(self.task):
            # Part of the id: runs from before token inputs were read through an embedding
            # (seqarch.models.common, ``tokens``) are a different recipe and never mixed in.
            d["read_in"] = "embedding"
        if self.device != "cpu":  # part of the id; CPU runs keep the ids they had before
            d["device"] = self.device
        return d

    @classmethod
    def from_dict(cls, d: dict) -> RunConfig:
        return cls(
            arch=d["arch"],
            task=d["task"],
            task_config=dict(d.get("task_config", {})),
            model_config=dict(d.get("model_config", {})),
            train=TrainConfig.from_dict(dict(d.get("train", {}))),
            seed=d.get("seed", 0),
            device=d.get("device", "cpu"),
        )

    @property
    def id(self) -> str:
        return run_id(self.to_dict())


@dataclass
class RunResult:
    metrics: dict  # test metrics, val_<m>, baseline_<m>, params, train_seconds, steps, ...
    curve: list[dict]  # [{step, train_loss, val_metric, seconds}] at every evaluation
    model: Any = None  # the trained model, when train(keep_model=True) was asked for it


def reads_tokens(task_name: str) -> bool:
    """Whether the task feeds a vocabulary (one-hot rows), so models read it as an embedding."""
    from .tasks import TASKS

    cls = TASKS.get(task_name)
    return cls is not None and cls.inputs == "tokens"


# -- data ------------------------------------------------------------------------------------


def as_tensors(batch: Any) -> Any:
    """The same Batch with torch tensors (x float32, y as given, mask bool, lengths int64)."""
    lengths = None if batch.lengths is None else torch.as_tensor(batch.lengths, dtype=torch.int64)
    return replace(
        batch,
        x=torch.as_tensor(batch.x, dtype=torch.float32),
        y=torch.as_tensor(batch.y),
        mask=torch.as_tensor(batch.mask, dtype=torch.bool),
        lengths=lengths,
    )


def on(batch: Any, device: str) -> Any:
    """The batch's tensors on ``device`` (the CPU keeps them where they are)."""
    if device == "cpu":
        return batch
    lengths = None if batch.lengths is None else batch.lengths.to(device)
    to = {"x": batch.x.to(device), "y": batch.y.to(device), "mask": batch.mask.to(device)}
    return replace(batch, **to, lengths=lengths)


def take(batch: Any, idx: Tensor) -> Any:
    """Rows ``idx`` of a batch, trimmed to the longest sequence among them."""
    lengths = None if batch.lengths is None else batch.lengths[idx]
    T = batch.x.shape[1] if lengths is None else max(int(lengths.max()), 1)
    return replace(
        batch,
        x=batch.x[idx, :T],
        y=batch.y[idx, :T],
        mask=batch.mask[idx, :T],
        lengths=lengths,
    )


def window_slice(
    x: Tensor, lengths: Tensor | None, fraction: float, gen: torch.Generator
) -> Tensor:
    """Crop each sequence to a random window of ⌈f·T_i⌉ steps and stretch it back to T_i."""
    N, T, _ = x.shape
    L = torch.full((N,), T) if lengths is None else lengths.clamp(min=1)  # (N,)
    W = torch.ceil(fraction * L).long().clamp(min=1)  # (N,)
    start = torch.floor(torch.rand(N, generator=gen) * (L - W + 1)).long()  # (N,)
    j = torch.arange(T)  # (T,)
    scale = (W - 1).double() / (L - 1).clamp(min=1).double()  # (N,)
    src = start[:, None] + j[None, :] * scale[:, None]  # (N, T): source position of each step
    src = torch.where(j[None, :] < L[:, None], src, j[None, :].double())  # padding stays put
    lo = src.floor().long().clamp(max=T - 1)
    hi = (lo + 1).clamp(max=T - 1)
    w = (src - lo).to(x.dtype)[..., None]  # (N, T, 1)
    gather = lambda i: torch.gather(x, 1, i[..., None].expand(-1, -1, x.shape[2]))  # noqa: E731
    return gather(lo) * (1 - w) + gather(hi) * w


def augment(batch: Any, cfg: TrainConfig, gen: torch.Generator) -> Any:
    """Jitter, scaling and window slicing of x (see the module docstring); y and mask kept."""
    x = batch.x  # (B, T, D)
    if cfg.window_slice < 1:
        x = window_slice(x, batch.lengths, cfg.window_slice, gen)
    if cfg.scaling_sigma > 0:
        s = 1 + cfg.scaling_sigma * torch.randn(x.shape[0], 1, x.shape[2], generator=gen)
        x = x * s
    if cfg.jitter_sigma > 0:
        x = x + cfg.jitter_sigma * torch.randn(x.shape, generator=gen)
    return replace(batch, x=x) if x is not batch.x else batch


# -- model and schedule ----------------------------------------------------------------------


def model_options(run: RunConfig, task: Any, max_len: int) -> dict[str, Any]:
    """Every keyword ``models.build(run.arch, **options)`` gets for ``run`` on ``task``: what a
    kept model stores to be rebuilt (seqarch.deploy)."""
    config = dict(run.model_config)
    if "max_len" in models.accepted_options(run.arch):
        config["max_len"] = max(max_len, config.get("max_len", 0))
    return {
        "input_size": task.input_size,
        "output_size": task.output_size,
        "dropout": run.train.dropout,
        "layer_norm": run.train.layer_norm,
        **({"tokens": True} if task.inputs == "tokens" else {}),
        **config,
    }


def build_model(run: RunConfig, task: Any, max_len: int) -> torch.nn.Module:
    return models.build(run.arch, **model_options(run, task, max_len))


def lr_factor(step: int, total: int, warmup_steps: int, schedule: str) -> float:
    """η_s / η: linear warmup over W steps, then cosine decay to 0 (or constant)."""
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    if schedule == "constant":
        return 1.0
    progress = (step - warmup_steps) / max(total - warmup_steps, 1)
    return 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))


@torch.no_grad()
def predict(model: torch.nn.Module, batch: Any) -> Tensor:
    """y_pred (N, T, O) in evaluation mode, EVAL_BATCH sequences at a time, on the CPU (the
    model runs where its parameters are)."""
    model.eval()
    device = next(model.parameters()).device
    x = batch.x
    outs = [
        model(x[i : i + EVAL_BATCH].to(device))[0].cpu() for i in range(0, x.shape[0], EVAL_BATCH)
    ]
    return torch.cat(outs)


def _floats(d: dict) -> dict:
    return {k: float(v) for k, v in d.items()}


# -- the loop --------------------------------------------------------------------------------


@dataclass
class Setup:
    """What a training loop needs before its first step (shared with seqarch.population)."""

    task: Any
    data: dict[str, Any]  # split -> Batch of tensors
    steps_per_epoch: int
    total: int  # S, the optimiser steps
    warmup_steps: int  # W

    @property
    def max_len(self) -> int:
        return max(b.x.shape[1] for b in self.data.values())


def setup(run: RunConfig, task: Any = None) -> Setup:
    """Threads, the task's three splits as tensors, and the step schedule of ``run``."""
    cfg = run.train
    torch.set_num_threads(cfg.threads)
    task = make_task(run.task, **run.task_config) if task is None else task
    data = {split: as_tensors(task.data(split)) for split in SPLITS}
    steps_per_epoch = math.ceil(data["train"].x.shape[0] / cfg.batch_size)
    total = cfg.max_steps if cfg.max_steps is not None else cfg.epochs * steps_per_epoch
    return Setup(task, data, steps_per_epoch, total, math.ceil(cfg.warmup * total))


def optimise(model: torch.nn.Module, opt: Any, task: Any, batch: Any, cfg: TrainConfig) -> Tensor:
    """One step: the loss, its gradient, clipping at ``clip_norm``, the optimiser's update."""
    model.train()
    loss = task.loss(model(batch.x)[0], batch)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    if cfg.clip_norm is not None:
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip_norm)
    opt.step()
    return loss


def final_metrics(task: Any, data: dict[str, Any], y_val: Tensor, y_test: Tensor) -> dict:
    """The record's metrics: test, ``val_*`` and ``baseline_*``, and the headline metric."""
    val = _floats(task.evaluate(y_val, data["val"]))
    metrics: dict[str, Any] = _floats(task.evaluate(y_test, data["test"]))
    metrics |= {f"val_{k}": v for k, v in val.items()}
    metrics |= {f"baseline_{k}": v for k, v in _floats(task.baseline()).items()}
    return metrics | {"metric": task.metric, "higher_is_better": bool(task.higher_is_better)}


def train(
    run: RunConfig, progress: bool = False, task: Any = None, keep_model: bool = False
) -> RunResult:
    """Train ``run`` and return its test metrics and learning curve (and, with
    ``keep_model``, the model at its best validation step).

    ``task`` overrides ``make_task(run.task, **run.task_config)`` (an already built Task).
    """
    cfg = run.train
    ready = setup(run, task)
    task, data, total, warmup_steps = ready.task, ready.data, ready.total, ready.warmup_steps
    steps_per_epoch = ready.steps_per_epoch
    tr = data["train"]
    N = tr.x.shape[0]

    torch.manual_seed(run.seed)
    gen = torch.Generator().manual_seed(run.seed)
    model = build_model(run, task, ready.max_len).to(run.device)  # initialised on the CPU
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: lr_factor(s, total, warmup_steps, cfg.schedule)
    )
    sign = 1.0 if task.higher_is_better else -1.0  # larger sign·metric is better

    curve: list[dict] = []
    best_score, best_step, best_state = -math.inf, 0, None
    evals_since_best, stopped = 0, "max_steps"
    losses: list[float] = []
    order = torch.randperm(N, generator=gen)
    bar = _progress_bar(run, total) if progress else None
    t0 = time.perf_counter()
    step = 0
    while step < total:
        pos = (step % steps_per_epoch) * cfg.batch_size
        if step and pos == 0:
            order = torch.randperm(N, generator=gen)
        batch = on(augment(take(tr, order[pos : pos + cfg.batch_size]), cfg, gen), run.device)
        loss = optimise(model, opt, task, batch, cfg)
        sched.step()
        step += 1
        losses.append(float(loss.detach()))
        if not math.isfinite(losses[-1]):
            stopped = "diverged"
        elapsed = time.perf_counter() - t0
        if cfg.time_budget_s is not None and elapsed > cfg.time_budget_s:
            stopped = "time_budget"
        last = step == total or stopped != "max_steps"
        if step % cfg.eval_every == 0 or last:
            val = _floats(task.evaluate(predict(model, data["val"]), data["val"]))
            score = sign * val[task.metric]
            curve.append(
                {
                    "step": step,
                    "train_loss": sum(losses) / len(losses),
                    "val_metric": val[task.metric],
                    "seconds": time.perf_counter() - t0,
                }
            )
            losses = []
            if score > best_score:
                best_score, best_step, evals_since_best = score, step, 0
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            else:
                evals_since_best += 1
                waited = step >= cfg.min_steps
                if cfg.patience is not None and waited and evals_since_best >= cfg.patience:
                    stopped = "early_stopping"
            if bar is not None:
                bar[0].update(
                    bar[1],
                    description=f"{run.arch} {run.task} {task.metric}={val[task.metric]:.4g}",
                )
        if bar is not None:
            bar[0].update(bar[1], completed=step)
        if stopped != "max_steps":
            break
    train_seconds = time.perf_counter() - t0
    if bar is not None:
        bar[0].stop()

    if best_state is not None:
        model.load_state_dict(best_state)
    metrics = final_metrics(task, data, predict(model, data["val"]), predict(model, data["test"]))
    metrics |= {
        "params": sum(p.numel() for p in model.parameters()),
        "train_seconds": train_seconds,
        "steps": step,
        "epochs": step * cfg.batch_size / N,
        "best_step": best_step,
        "stopped": stopped,
        "seq_len": int(tr.x.shape[1]),
    }
    return RunResult(metrics=metrics, curve=curve, model=model.cpu() if keep_model else None)


def step_seconds(run: RunConfig, task: Any = None, steps: int = 5) -> float:
    """Median seconds of one training step of ``run`` (forward, loss, backward, clipping,
    AdamW) on its task's training batches, after one warm-up step: what a step budget costs."""
    cfg = run.train
    ready = setup(run, task)
    tr = ready.data["train"]
    torch.manual_seed(run.seed)
    model = build_model(run, ready.task, ready.max_len).to(run.device)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    gen = torch.Generator().manual_seed(run.seed)
    times = []
    for i in range(steps + 1):
        idx = torch.randint(0, tr.x.shape[0], (min(cfg.batch_size, tr.x.shape[0]),), generator=gen)
        batch = on(take(tr, idx), run.device)
        t0 = time.perf_counter()
        optimise(model, opt, ready.task, batch, cfg)
        devices.synchronize(run.device)
        if i:  # the first step warms up (allocator, compiled kernels)
            times.append(time.perf_counter() - t0)
    return sorted(times)[len(times) // 2]


def _progress_bar(run: RunConfig, total: int) -> tuple[Any, Any]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    bar = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        transient=True,
    )
    bar.start()
    return bar, bar.add_task(f"{run.arch} {run.task}", total=total)
