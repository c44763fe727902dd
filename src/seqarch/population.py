r"""Populations: K runs of one architecture that differ only in learning rate and seed, trained
as one program.

The K members' parameters are stacked along a leading population axis
(``torch.func.stack_module_state``) and the model's own equations run over it with
``torch.func.vmap``; each member keeps its own seed (initialisation, batch order), learning
rate, gradient clipping, AdamW moments, best-on-validation parameters and early stopping.
A member therefore trains exactly as :func:`seqarch.train.train` trains it alone — the same
loop, step for step — up to floating-point rounding (a test holds them together).

Per step s and member k (θ_k stacked; g_k = ∇_{θ_k} Σ_j ℓ_j = ∇ ℓ_k, the members independent):

    g_k ← g_k · min(1, c / (‖g_k‖₂ + 10⁻⁶))               per-member global-norm clipping
    θ_k ← θ_k (1 − η_k,s λ)                               AdamW's decoupled weight decay
    m_k ← β₁ m_k + (1 − β₁) g_k;   v_k ← β₂ v_k + (1 − β₂) g_k²
    θ_k ← θ_k − η_k,s / (1 − β₁ˢ) · m_k / (√v_k / √(1 − β₂ˢ) + ε)
    η_k,s = η_k · lr_factor(s)                            the same warmup + cosine schedule

A member that has stopped (early stopping) is frozen: its rate is 0 from then on. A member's
clock is its share of the population's, elapsed / K: its ``train_seconds``, and what its
``time_budget_s`` (a safety net, never converged evidence) is checked against.

Where it pays (``benchmarks/population_training.py`` measures it per architecture): the
members share every Python-level dispatch, the optimiser step and the evaluation; the
arithmetic is the same K times over. A single small run on this CPU is dominated by dispatch
overhead, which a population amortises; a model whose single run already keeps the GEMM busy
(the Transformer's big matrix products) gains little.

Two kernels, one loop. Where ``seqarch.fused`` has a kernel for the architecture (the RNN, LSTM
and GRU without layer norm) the members run as one program: one batched GEMM per time step
for all K members, the gates fused in one compiled call, the backward the hand-derived BPTT of
``seqarch.derive`` — no autograd inside the recurrence. Otherwise the model's own equations run
under ``torch.func.vmap`` (:func:`kernel` says which, and why).
"""

from __future__ import annotations

import math
import time
from dataclasses import replace
from typing import Any

import torch
from torch.func import functional_call, stack_module_state, vmap

from . import fused
from .errors import BadInput
from .train import (
    EVAL_BATCH,
    RunConfig,
    RunResult,
    _floats,
    augment,
    build_model,
    final_metrics,
    lr_factor,
    setup,
    take,
)

BETAS = (0.9, 0.999)  # torch.optim.AdamW's defaults, as train() uses them
EPS = 1e-8


def compatible(runs: list[RunConfig]) -> None:
    """Raise unless ``runs`` differ only in lr and seed (what a population may vary)."""
    if not runs:
        raise BadInput("an empty population is not accepted; expected at least one run")
    first = runs[0]
    for r in runs[1:]:
        same = (
            r.arch == first.arch
            and r.task == first.task
            and r.task_config == first.task_config
            and r.model_config == first.model_config
            and replace(r.train, lr=first.train.lr) == first.train
        )
        if not same:
            raise BadInput(
                f"run {r.id} is not accepted in a population with {first.id}; expected runs "
                "that differ only in learning rate and seed"
            )


def _pad_to(x: torch.Tensor, T: int) -> torch.Tensor:
    """Right-pad dim 1 with zeros to T (a causal model's outputs before T_n are unchanged)."""
    if x.shape[1] == T:
        return x
    pad = torch.zeros(x.shape[0], T - x.shape[1], *x.shape[2:], dtype=x.dtype)
    return torch.cat([x, pad], dim=1)


def train_population(runs: list[RunConfig], task: Any = None) -> list[RunResult]:
    """Train ``runs`` (differing only in lr and seed) together; one RunResult per run, in order."""
    compatible(runs)
    first = runs[0]
    cfg = first.train
    K = len(runs)
    ready = setup(first, task)
    task, data, total, warmup_steps = ready.task, ready.data, ready.total, ready.warmup_steps
    steps_per_epoch, max_len = ready.steps_per_epoch, ready.max_len
    tr = data["train"]
    N = tr.x.shape[0]

    members = []
    gens = []
    for run in runs:  # each member initialised exactly as train() initialises it alone
        torch.manual_seed(run.seed)
        gens.append(torch.Generator().manual_seed(run.seed))
        members.append(build_model(run, task, max_len))
    engine: _Fused | _Vmap = (
        _Fused(members) if fused.unsupported(members[0]) is None else _Vmap(members)
    )
    theta, names = engine.theta, list(engine.theta)
    m1 = {k: torch.zeros_like(v) for k, v in theta.items()}
    m2 = {k: torch.zeros_like(v) for k, v in theta.items()}
    lrs = torch.tensor([r.train.lr for r in runs], dtype=torch.float32)  # (K,)
    active = torch.ones(K, dtype=torch.bool)

    def predict(split: str) -> torch.Tensor:
        return engine.predict(data[split].x)  # (K, N, T, O)

    sign = 1.0 if task.higher_is_better else -1.0
    curves: list[list[dict]] = [[] for _ in runs]
    best_score = [-math.inf] * K
    best_step = [0] * K
    best_theta: list[dict | None] = [None] * K
    since_best = [0] * K
    stopped = ["max_steps"] * K
    steps_done = [0] * K
    losses: list[list[float]] = [[] for _ in runs]
    orders = [torch.randperm(N, generator=g) for g in gens]
    t0 = time.perf_counter()
    step = 0
    while step < total and bool(active.any()):
        pos = (step % steps_per_epoch) * cfg.batch_size
        if step and pos == 0:
            orders = [
                torch.randperm(N, generator=g) if active[k] else orders[k]
                for k, g in enumerate(gens)
            ]
        batches = [
            augment(take(tr, orders[k][pos : pos + cfg.batch_size]), cfg, gens[k]) for k in range(K)
        ]
        T = max(b.x.shape[1] for b in batches)
        x = torch.stack([_pad_to(b.x, T) for b in batches])  # (K, B, T, D)

        def loss_of(y: torch.Tensor, batches: list = batches) -> torch.Tensor:
            """y (K, B, T, O) -> (K,): each member's loss on its own batch."""
            return torch.stack(
                [task.loss(y[k, :, : b.x.shape[1]], b) for k, b in enumerate(batches)]
            )

        member_loss, g = engine.loss_and_grads(x, loss_of)
        step += 1
        with torch.no_grad():
            if cfg.clip_norm is not None:
                norms = torch.sqrt(sum(v.pow(2).flatten(1).sum(1) for v in g.values()))  # (K,)
                coef = (cfg.clip_norm / (norms + 1e-6)).clamp(max=1.0)
                g = {k: v * coef.view(-1, *[1] * (v.dim() - 1)) for k, v in g.items()}
            eta = lrs * lr_factor(step - 1, total, warmup_steps, cfg.schedule) * active  # (K,)
            b1, b2 = BETAS
            bias1, bias2 = 1 - b1**step, 1 - b2**step
            for k in names:
                shape = (-1, *[1] * (theta[k].dim() - 1))
                e = eta.view(shape)
                theta[k].mul_(1 - e * cfg.weight_decay)
                m1[k].mul_(b1).add_(g[k], alpha=1 - b1)
                m2[k].mul_(b2).addcmul_(g[k], g[k], value=1 - b2)
                denom = (m2[k].sqrt() / math.sqrt(bias2)).add_(EPS)
                theta[k].sub_(e / bias1 * m1[k] / denom)
        values = member_loss.detach().tolist()
        # Each member's clock is its share of the population's: the time it is recorded with
        # (``train_seconds``), and what its wall-clock budget (a safety net) is checked against.
        elapsed = (time.perf_counter() - t0) / K
        for k in range(K):
            if not active[k]:
                continue
            steps_done[k] = step
            losses[k].append(values[k])
            if not math.isfinite(values[k]):
                stopped[k] = "diverged"
            if cfg.time_budget_s is not None and elapsed > cfg.time_budget_s:
                stopped[k] = "time_budget"
        last = step == total
        due = [
            active[k] and (step % cfg.eval_every == 0 or last or stopped[k] != "max_steps")
            for k in range(K)
        ]
        if any(due):
            pred = predict("val")
            for k in range(K):
                if not due[k]:
                    continue
                val = _floats(task.evaluate(pred[k], data["val"]))
                score = sign * val[task.metric]
                curves[k].append(
                    {
                        "step": step,
                        "train_loss": sum(losses[k]) / len(losses[k]),
                        "val_metric": val[task.metric],
                        "seconds": time.perf_counter() - t0,
                    }
                )
                losses[k] = []
                if score > best_score[k]:
                    best_score[k], best_step[k], since_best[k] = score, step, 0
                    best_theta[k] = {n: theta[n][k].detach().clone() for n in names}
                else:
                    since_best[k] += 1
                    waited = step >= cfg.min_steps
                    if cfg.patience is not None and waited and since_best[k] >= cfg.patience:
                        stopped[k] = "early_stopping"
        for k in range(K):
            if stopped[k] != "max_steps":
                active[k] = False
    train_seconds = time.perf_counter() - t0

    with torch.no_grad():
        for k in range(K):
            if best_theta[k] is not None:
                for n in names:
                    theta[n][k].copy_(best_theta[k][n])
    pred_val, pred_test = predict("val"), predict("test")
    results = []
    n_params = sum(p.numel() for p in members[0].parameters())
    for k, _run in enumerate(runs):
        metrics = final_metrics(task, data, pred_val[k], pred_test[k])
        metrics |= {
            "params": n_params,
            "train_seconds": train_seconds / K,  # the population's time, shared
            "steps": steps_done[k],
            "epochs": steps_done[k] * cfg.batch_size / N,
            "best_step": best_step[k],
            "stopped": stopped[k],
            "seq_len": int(tr.x.shape[1]),
            "population": K,
            "population_kernel": engine.name,
        }
        results.append(RunResult(metrics=metrics, curve=curves[k]))
    return results


# -- the two kernels -------------------------------------------------------------------------


def kernel(run: RunConfig) -> tuple[str, str]:
    """("fused", why) or ("vmap", why): the kernel a population of ``run`` would train with."""
    reason = fused.unsupported_run(run)
    if reason is None:
        return "fused", f"{run.arch}: fused population kernel (seqarch.fused)"
    return "vmap", f"{reason}; the population runs its own equations under torch.func.vmap"


class _Fused:
    """The members as one program: seqarch.fused's forward and hand-derived backward."""

    name = "fused"

    def __init__(self, members: list[torch.nn.Module]):
        self.kernel = fused.Fused(members[0])
        params, _ = stack_module_state(members)  # {name: (K, ...)}
        self.theta = {k: v.detach().clone() for k, v in params.items()}

    def loss_and_grads(self, x: torch.Tensor, member_loss: Any) -> tuple[torch.Tensor, dict]:
        return self.kernel.loss_and_grads(self.theta, x, member_loss)

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        return self.kernel.predict(self.theta, x)


class _Vmap:
    """The members' own equations under torch.func.vmap, autograd for the gradients."""

    name = "vmap"

    def __init__(self, members: list[torch.nn.Module]):
        for model in members:
            model.impl = type(model).population_impl
        self.base = members[0]
        params, self.buffers = stack_module_state(members)  # {name: (K, ...)}
        self.theta = {k: v.detach().clone().requires_grad_(True) for k, v in params.items()}

        def forward(p: dict, b: dict, x: torch.Tensor) -> torch.Tensor:
            return functional_call(self.base, (p, b), (x,))[0]

        self.train_fn = vmap(forward, randomness="different")  # x (K, B, T, D) -> (K, B, T, O)
        self.eval_fn = vmap(forward, in_dims=(0, 0, None))  # one x for every member

    def loss_and_grads(self, x: torch.Tensor, member_loss: Any) -> tuple[torch.Tensor, dict]:
        self.base.train()
        losses = member_loss(self.train_fn(self.theta, self.buffers, x))  # (K,)
        names = list(self.theta)
        grads = torch.autograd.grad(losses.sum(), [self.theta[k] for k in names])
        return losses.detach(), dict(zip(names, grads, strict=True))

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        self.base.eval()
        with torch.no_grad():
            outs = [
                self.eval_fn(self.theta, self.buffers, x[i : i + EVAL_BATCH])
                for i in range(0, x.shape[0], EVAL_BATCH)
            ]
        return torch.cat(outs, dim=1)  # (K, N, T, O)
