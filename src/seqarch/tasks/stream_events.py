r"""Streaming event detection: a noisy sensor signal with short local events, an output each step.

The background is AR(1) noise with unit stationary variance; E events of L steps each are added
at random, non-overlapping onsets (at least ``gap`` quiet steps apart), each a level shift of
height A (a sensor stuck high for L steps):

    n_t = φ n_{t−1} + √(1 − φ²) ε_t,   ε_t ~ N(0, 1)
    x_t = n_t + A    for s ≤ t < s + L (s an onset), else n_t
    y_t = 1 inside an event, else 0            (every step is scored)

Worked example (L = 3, one event at s = 4; values rounded):

    step     0     1     2     3     4     5     6     7     8
    x      0.1  -0.4   0.2   0.0   2.7   2.3   2.1  -0.3   0.1
    target   0     0     0     0     1     1     1     0     0

The signal lies at most L steps back, so a small RNN should be enough: this is the case where
the recurrent state of a few units matches attention at a fraction of the cost.

Metrics: F1 of the event class pooled over all steps (headline), precision, recall, and the
detection delay: for each event, the steps from its onset to the first step inside it that is
predicted positive; a missed event counts as L. Baseline: always predict "event", whose
precision is p = E·L/T and recall 1:

    F1 = 2p / (1 + p),   delay = 0
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import Tensor

from .base import NEG, Batch, Task, check_range, generator, random_positions


def event_delays(pred: Tensor, y: Tensor) -> Tensor:
    """Per-event detection delay in steps; a missed event counts as its length.

    pred, y: (N, T) 0/1. An event is a maximal run of y = 1.
    """
    N, T = y.shape
    inside = y == 1
    onset = inside & torch.cat([torch.ones(N, 1, dtype=torch.bool), ~inside[:, :-1]], dim=1)
    steps = torch.arange(T).expand(N, T)
    last_onset = torch.where(onset, steps, -1).cummax(dim=1).values  # (N, T)
    since = steps - last_onset  # steps since the event began
    event_id = onset.flatten().long().cumsum(0) - 1  # (N·T,) id of the current event
    n_events = int(onset.sum())
    ids = event_id[inside.flatten()]
    length = torch.zeros(n_events, dtype=torch.long).scatter_add_(0, ids, torch.ones_like(ids))
    hit = (inside & (pred == 1)).flatten()
    delay = length.clone()
    return delay.scatter_reduce_(0, event_id[hit], since.flatten()[hit], "amin").float()


@dataclass(frozen=True)
class StreamEvents(Task):
    """Flag short events in a noisy sensor stream, at every step."""

    name: ClassVar[str] = "stream_events"
    kind: ClassVar[str] = "classify"
    metric: ClassVar[str] = "f1"
    higher_is_better: ClassVar[bool] = True
    inputs: ClassVar[str] = "signal"

    seq_len: int = 100
    n_events: int = 3  # E events per sequence
    event_len: int = 6  # L steps per event
    gap: int = 4  # minimum quiet steps between events
    amplitude: float = 2.5  # A, the height of an event in noise standard deviations
    phi: float = 0.8  # AR(1) coefficient of the background noise
    seed: int = 0
    n_train: int = 2000
    n_val: int = 300
    n_test: int = 500

    def validate(self) -> None:
        check_range("n_events", self.n_events, 1)
        check_range("event_len", self.event_len, 1)
        check_range("gap", self.gap, 0)
        check_range("amplitude", self.amplitude, 0.0)
        check_range("phi", self.phi, 0.0, 0.999)
        check_range("seq_len", self.seq_len, self.n_events * (self.event_len + self.gap))

    @property
    def input_size(self) -> int:
        return 1

    @property
    def output_size(self) -> int:
        return 2  # no event, event

    @property
    def horizon(self) -> int:
        return self.event_len

    @property
    def occupancy(self) -> float:
        """p: the fraction of steps inside an event (exact: E·L/T)."""
        return self.n_events * self.event_len / self.seq_len

    def _generate(self, split: str) -> Batch:
        N = {"train": self.n_train, "val": self.n_val, "test": self.n_test}[split]
        T, E, L = self.seq_len, self.n_events, self.event_len
        g = generator(self.seed, split)
        # AR(1) noise with unit stationary variance
        eps = torch.randn(N, T, generator=g)
        noise = torch.empty(N, T)
        noise[:, 0] = eps[:, 0]
        scale = math.sqrt(1 - self.phi**2)
        for t in range(1, T):
            noise[:, t] = self.phi * noise[:, t - 1] + scale * eps[:, t]
        # non-overlapping onsets: E sorted slots among the free steps, then spread out
        span = L + self.gap
        slots = random_positions(N, E, T - E * span + E, g)  # (N, E)
        onsets = slots + torch.arange(E) * (span - 1)  # s_{i+1} − s_i ≥ span; s_E ≤ T − span
        offset = torch.arange(T).view(1, 1, T) - onsets.unsqueeze(-1)  # (N, E, T): t − s
        inside = (offset >= 0) & (offset < L)
        y = inside.any(dim=1).long()  # (N, T)
        x = noise + self.amplitude * y  # (N, T)
        mask = torch.ones(N, T, dtype=torch.bool)
        return Batch(x.unsqueeze(-1), y, mask)

    def evaluate(self, y_pred: Tensor, batch: Batch) -> dict[str, float]:
        out = super().evaluate(y_pred, batch)
        pred = y_pred.detach().cpu().argmax(-1)  # (N, T)
        y, m = batch.y.cpu(), batch.mask.cpu()
        tp = ((pred == 1) & (y == 1) & m).sum().item()
        fp = ((pred == 1) & (y == 0) & m).sum().item()
        fn = ((pred == 0) & (y == 1) & m).sum().item()
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0
        delays = event_delays(torch.where(m, pred, 0), torch.where(m, y, 0))
        return out | {
            "f1": f1,
            "precision": precision,
            "recall": recall,
            "delay": delays.mean().item() if delays.numel() else 0.0,
            "detected": (delays < self.event_len).float().mean().item() if delays.numel() else 1.0,
        }

    def trivial_prediction(self, batch: Batch) -> Tensor:
        logits = torch.zeros(*batch.y.shape, 2)
        logits[..., 0] = NEG  # always "event"
        return logits

    def baseline(self) -> dict[str, float]:
        p = self.occupancy
        return {"f1": 2 * p / (1 + p), "precision": p, "recall": 1.0, "delay": 0.0}

    def baseline_formula(self) -> str:
        return "always predict 'event': F1 = 2p/(1+p) with p = E·L/T the event occupancy"
