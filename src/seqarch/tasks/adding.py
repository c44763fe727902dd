r"""The adding problem (Hochreiter & Schmidhuber 1997; the setting of Arjovsky et al. 2016).

Each step carries two features: a value v_t ~ U[0, 1] and a marker m_t ∈ {0, 1}. Exactly two
steps are marked; the target, scored at the last step only, is the sum of the marked values:

    y = Σ_t m_t v_t = v_{p₁} + v_{p₂}

Worked example (T = 8, markers at p₁ = 1 and p₂ = 5):

    step      0     1     2     3     4     5     6     7
    value   0.31  0.92  0.08  0.55  0.47  0.12  0.73  0.64
    marker    0     1     0     0     0     1     0     0
    target                                            1.04   (= 0.92 + 0.12, scored at step 7)

Marker placement sets the dependency distance. By default (``distance=None``) p₁ is uniform in
the first half [0, T/2) and p₂ in the second half [T/2, T), so the first value lies between
T/2 and T − 1 steps back. With ``distance=d`` the first marker sits exactly d steps before the
last step (p₁ = T − 1 − d) and p₂ is uniform in (p₁, T − 1].

Baseline: always predict 1 = E[v_{p₁} + v_{p₂}]. Its MSE is the variance of the sum of two
independent U[0, 1] values:

    MSE = Var(v₁ + v₂) = 2 · 1/12 = 1/6 ≈ 0.167
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import Tensor

from .base import Batch, Task, check_range, generator


@dataclass(frozen=True)
class Adding(Task):
    """The adding problem: remember two marked values and output their sum at the end."""

    name: ClassVar[str] = "adding"
    kind: ClassVar[str] = "regress"
    metric: ClassVar[str] = "mse"
    higher_is_better: ClassVar[bool] = False
    inputs: ClassVar[str] = "signal"

    seq_len: int = 50  # T, steps per sequence
    distance: int | None = None  # steps from the first marker to the last step; None = classic
    seed: int = 0
    n_train: int = 4000
    n_val: int = 500
    n_test: int = 1000

    def validate(self) -> None:
        check_range("seq_len", self.seq_len, 2)
        if self.distance is not None:
            check_range("distance", self.distance, 1, self.seq_len - 1)

    @property
    def input_size(self) -> int:
        return 2  # (value, marker)

    @property
    def output_size(self) -> int:
        return 1

    @property
    def horizon(self) -> int:
        return self.seq_len - 1 if self.distance is None else self.distance

    def _generate(self, split: str) -> Batch:
        N, T = {"train": self.n_train, "val": self.n_val, "test": self.n_test}[split], self.seq_len
        g = generator(self.seed, split)
        values = torch.rand(N, T, generator=g)  # v (N, T)
        if self.distance is None:
            p1 = torch.randint(0, T // 2, (N,), generator=g)
            p2 = torch.randint(T // 2, T, (N,), generator=g)
        else:
            p1 = torch.full((N,), T - 1 - self.distance)
            gap = (torch.rand(N, generator=g) * (T - 1 - p1)).long()  # 0 .. T-2-p1
            p2 = p1 + 1 + gap
        markers = torch.zeros(N, T)
        rows = torch.arange(N)
        markers[rows, p1] = 1.0
        markers[rows, p2] = 1.0
        target = values[rows, p1] + values[rows, p2]  # (N,)
        x = torch.stack([values, markers], dim=-1)  # (N, T, 2)
        y = target.view(N, 1, 1).expand(N, T, 1).clone()  # (N, T, 1), scored at T-1 only
        mask = torch.zeros(N, T, dtype=torch.bool)
        mask[:, -1] = True
        return Batch(x, y, mask)

    def trivial_prediction(self, batch: Batch) -> Tensor:
        return torch.ones_like(batch.y)

    def baseline(self) -> dict[str, float]:
        return {"mse": 1 / 6, "mae": 1 / 3}  # E|v₁+v₂−1| = 1/3 (triangular sum)

    def baseline_formula(self) -> str:
        return "predict 1 always: MSE = Var(v₁ + v₂) = 2/12 = 1/6"
