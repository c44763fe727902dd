r"""A regime-switching stream: the rule mapping inputs to outputs changes at random moments.

The source's misunderstanding "GRUs are just compressed LSTMs → they behave differently when
context changes rapidly" asks what a model does right after the context changes. Here a stream
of symbols x_t ∈ {0 … V−1} is mapped by one of K rules, each a shift modulo V,

    y_t = (x_t + s_{r_t}) mod V,      s_r = r + 1,  r ∈ {0 … K−1}

and the rule r_t in force switches at random moments: at each step t ≥ 1, once the current
rule has held for at least ``min_gap`` steps, it switches with probability ``switch_prob`` to
one of the other K − 1 rules (uniformly). The rule is never shown; the model infers it from
feedback: step t's input is [one-hot x_t, one-hot f_t] with f_t the previous step's target
y_{t−1} (a *noisy* one: with probability ``noise`` it is replaced by a uniform random
symbol; f_0 = 0, no feedback yet). So the rule of step t−1 is (f_t − x_{t−1}) mod V, clean
most of the time; a model must remember x_{t−1}, weigh the recent feedback, and drop the old
rule when the feedback says it changed. Every step is scored (classify, V classes).

Worked example (V = 5, K = 3, min_gap = 4, noise 0; the rule switches from s = 1 to s = 3 at
step 4)::

    step      0   1   2   3   4   5   6   7
    x         3   0   4   1   2   2   0   3
    rule s    1   1   1   1   3   3   3   3
    target y  4   1   0   2   0   0   3   1      y_t = (x_t + s) mod 5
    feedback  -   4   1   0   2   0   0   3      f_t = y_{t−1} (the input's second half)
    since d   0   1   2   3   0   1   2   3      steps since the rule in force began

At step 4 no model can know the rule changed (its feedback f_4 = y_3 still shows s = 1); at
step 5 the feedback (f_5 = 0, x_4 = 2) shows s = 3.

**Recovery** (:func:`recovery`). With d_t the steps since the rule in force began (d = 0 at
t = 0 and at every switch; recomputed from the batch itself, since the rule of each step is
(y_t − x_t) mod V), let acc(d) be the accuracy over the scored steps with d_t = d, for
d = 0 … W−1 with W = ``min_gap`` (no switch can interrupt these), and *steady* the accuracy
over steps with d_t ≥ W. Then

    recovery_steps = min { d ∈ [0, W] : acc(d') ≥ steady − tol  for every d' ∈ [d, W−1] }
    switch_cost    = Σ_{d=0}^{W−1} max(0, steady − acc(d))     (steps of accuracy lost)

with tol = ``RECOVERY_TOLERANCE``; recovery_steps = W means "not back within the window".
``switch_cost`` is the smoother of the two (it does not jump by whole steps), and the one the
claims ledger compares.

Baseline: a predictor that ignores the context (every rule is equally likely, so the target is
uniform given x_t): xent = log V, accuracy 1/V.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import Tensor

from .base import Batch, Task, check_range, generator, one_hot

RECOVERY_TOLERANCE = 0.05  # tol: within 5 accuracy points of the steady state counts as back


def steps_since_switch(rule: Tensor) -> Tensor:
    """(N, T) int64: steps since the rule in force began (0 at t = 0 and at every switch)."""
    N, T = rule.shape
    switch = torch.ones(N, T, dtype=torch.bool)
    switch[:, 1:] = rule[:, 1:] != rule[:, :-1]
    steps = torch.arange(T).expand(N, T)
    began = torch.where(switch, steps, 0).cummax(dim=1).values
    return steps - began


def recovery(
    correct: Tensor, since: Tensor, mask: Tensor, window: int, tol: float = RECOVERY_TOLERANCE
) -> dict[str, float]:
    """acc(d) for d < ``window``, the steady accuracy (d ≥ window), recovery_steps and
    switch_cost as defined in the module docstring. ``correct``, ``since``, ``mask``: (N, T).

    A d with no scored step is skipped (it neither delays nor speeds recovery); with no
    steady-state step the steady accuracy is NaN and recovery is reported as NaN."""
    c = correct.float()
    acc: dict[int, float] = {}
    for d in range(window):
        sel = mask & (since == d)
        if sel.any():
            acc[d] = c[sel].mean().item()
    far = mask & (since >= window)
    steady = c[far].mean().item() if far.any() else math.nan
    out = {f"acc_since_{d}": v for d, v in acc.items()} | {"steady_accuracy": steady}
    if math.isnan(steady):
        return out | {"recovery_steps": math.nan, "switch_cost": math.nan}
    back = window
    for d in sorted(acc, reverse=True):
        if acc[d] < steady - tol:
            break
        back = d
    cost = sum(max(0.0, steady - a) for a in acc.values())
    return out | {"recovery_steps": float(back), "switch_cost": cost}


@dataclass(frozen=True)
class RegimeSwitch(Task):
    """Map a symbol stream by a hidden rule that switches at random moments, every step."""

    name: ClassVar[str] = "regime_switch"
    kind: ClassVar[str] = "classify"
    metric: ClassVar[str] = "accuracy"
    higher_is_better: ClassVar[bool] = True

    seq_len: int = 64
    vocab: int = 5  # V symbols
    rules: int = 3  # K rules, shifts 1 … K (K < V, so every rule changes the symbol)
    switch_prob: float = 0.1  # per step, once a rule has held min_gap steps
    min_gap: int = 8  # W: a rule holds at least this many steps (the recovery window)
    noise: float = 0.1  # probability that a feedback symbol is replaced by a random one
    seed: int = 0
    n_train: int = 4000
    n_val: int = 300
    n_test: int = 500

    def validate(self) -> None:
        check_range("vocab", self.vocab, 2)
        check_range("rules", self.rules, 2, self.vocab - 1)
        check_range("switch_prob", self.switch_prob, 0.0, 1.0)
        check_range("min_gap", self.min_gap, 1)
        check_range("noise", self.noise, 0.0, 1.0)
        check_range("seq_len", self.seq_len, 2 * self.min_gap)

    @property
    def input_size(self) -> int:
        return 2 * self.vocab  # [one-hot x_t, one-hot feedback f_t]

    @property
    def output_size(self) -> int:
        return self.vocab

    @property
    def horizon(self) -> int:
        """The current rule shows in the feedback since its start: at most W steps are needed
        to read it (one clean feedback suffices; noise asks for a few)."""
        return self.min_gap

    def shifts(self) -> Tensor:
        return torch.arange(1, self.rules + 1)

    def _generate(self, split: str) -> Batch:
        N = {"train": self.n_train, "val": self.n_val, "test": self.n_test}[split]
        T, V, K = self.seq_len, self.vocab, self.rules
        g = generator(self.seed, split)
        x = torch.randint(0, V, (N, T), generator=g)
        rule = torch.empty(N, T, dtype=torch.long)
        rule[:, 0] = torch.randint(0, K, (N,), generator=g)
        held = torch.ones(N, dtype=torch.long)  # steps the current rule has held
        for t in range(1, T):
            flip = (held >= self.min_gap) & (torch.rand(N, generator=g) < self.switch_prob)
            other = (rule[:, t - 1] + torch.randint(1, K, (N,), generator=g)) % K
            rule[:, t] = torch.where(flip, other, rule[:, t - 1])
            held = torch.where(flip, 1, held + 1)
        y = (x + self.shifts()[rule]) % V  # (N, T)
        noisy = torch.rand(N, T, generator=g) < self.noise
        shown = torch.where(noisy, torch.randint(0, V, (N, T), generator=g), y)
        feedback = torch.full((N, T), -1, dtype=torch.long)  # -1: the zero vector (no feedback)
        feedback[:, 1:] = shown[:, :-1]
        inputs = torch.cat([one_hot(x, V), one_hot(feedback, V)], dim=-1)
        return Batch(inputs, y, torch.ones(N, T, dtype=torch.bool))

    def rule_of(self, batch: Batch) -> Tensor:
        """(N, T) the rule in force at each step, read back from the batch: s = (y − x) mod V."""
        x = batch.x[..., : self.vocab].argmax(-1)
        return (batch.y - x) % self.vocab - 1

    def evaluate(self, y_pred: Tensor, batch: Batch) -> dict[str, float]:
        out = super().evaluate(y_pred, batch)
        b = batch.to("cpu")
        correct = y_pred.detach().cpu().argmax(-1) == b.y
        since = steps_since_switch(self.rule_of(b))
        return out | recovery(correct, since, b.mask, self.min_gap)

    def trivial_prediction(self, batch: Batch) -> Tensor:
        return torch.zeros(*batch.y.shape, self.vocab)  # uniform: the context ignored

    def baseline(self) -> dict[str, float]:
        xent = math.log(self.vocab)
        return {"accuracy": 1.0 / self.vocab, "xent": xent, "bits": xent / math.log(2)}

    def baseline_formula(self) -> str:
        return "ignore the context (the target is uniform given x_t): accuracy 1/V, xent log V"
