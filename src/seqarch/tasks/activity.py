r"""A real sensor stream: which activity is going on, at every step.

The UEA BasicMotions recordings (shipped in the aeon wheel): a wrist-worn smartwatch's 3-axis
accelerometer and 3-axis gyroscope at 10 Hz, 100 steps (10 s) per recording, four activities —
standing, walking, running, badminton — 40 training and 40 test recordings. A stream
concatenates excerpts of 3–10 s of random recordings of its split, so the activity changes
at random moments; the label at every step is the activity of the excerpt under way. A
streaming model must recognise each new activity within a few steps of the switch and hold it.

    x_t = the six sensor channels, standardised with the training recordings' statistics
    y_t = the activity at step t (scored at every step)

Worked example (seq_len 12, two excerpts):

    step    0 1 2 3 4 5 6 7 8 9 10 11
    source  walking ──────┤ running ─────
    y       W W W W W W W R R R R  R

Splits by recording: the archive's test recordings make the test streams; every fifth
training recording (by index) the validation streams; the rest train. Baseline: the majority
activity of the training streams' steps, at every step.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch
from torch import Tensor

from .base import Batch, Task, check_range, split_seed


@functools.lru_cache(maxsize=1)
def recordings() -> dict[str, tuple[list[np.ndarray], np.ndarray, tuple[str, ...]]]:
    """Per split: the recordings (100, 6) each, their activity ids, the activity names."""
    from .ucr import load_ucr

    (tr_x, tr_y), (te_x, te_y), names = load_ucr("BasicMotions")
    val = [i for i in range(len(tr_x)) if i % 5 == 4]
    train = [i for i in range(len(tr_x)) if i % 5 != 4]
    return {
        "train": ([tr_x[i] for i in train], tr_y[train], names),
        "val": ([tr_x[i] for i in val], tr_y[val], names),
        "test": (list(te_x), te_y, names),
    }


@dataclass(frozen=True)
class ActivityStream(Task):
    """Per-step activity recognition in a stream of real wrist-sensor recordings."""

    name: ClassVar[str] = "activity_stream"
    proxy_mode: ClassVar[str | None] = "streaming"
    proxy_words: ClassVar[str] = (
        "a real wrist sensor's stream, the activity under way at every step"
    )
    kind: ClassVar[str] = "classify"
    metric: ClassVar[str] = "accuracy"
    higher_is_better: ClassVar[bool] = True
    inputs: ClassVar[str] = "signal"

    seq_len: int = 300  # steps of 0.1 s
    seed: int = 0
    n_train: int = 400
    n_val: int = 64
    n_test: int = 128

    def validate(self) -> None:
        check_range("seq_len", self.seq_len, 10)

    @property
    def input_size(self) -> int:
        return 6

    @property
    def output_size(self) -> int:
        return len(recordings()["train"][2])

    @property
    def horizon(self) -> int:
        return 30  # an activity is told from its last few seconds of motion

    def _generate(self, split: str) -> Batch:
        x, y = _streams(self, split)
        mu, sd = _standardiser()
        x = torch.as_tensor((x - mu) / sd, dtype=torch.float32)
        y = torch.as_tensor(y)
        return Batch(x, y, torch.ones_like(y, dtype=torch.bool))

    def trivial_prediction(self, batch: Batch) -> Tensor:
        counts = np.bincount(_streams(self, "train")[1].ravel(), minlength=self.output_size)
        logits = torch.full((*batch.y.shape, self.output_size), -1.0)
        logits[..., int(counts.argmax())] = 0.0
        return logits

    def baseline_formula(self) -> str:
        return "the majority activity of the training steps, at every step"


@functools.lru_cache(maxsize=8)
def _streams(task: ActivityStream, split: str) -> tuple[np.ndarray, np.ndarray]:
    N = {"train": task.n_train, "val": task.n_val, "test": task.n_test}[split]
    seqs, labels, _ = recordings()[split]
    rng = np.random.default_rng(split_seed(task.seed, split))
    T = task.seq_len
    x = np.zeros((N, T, 6), np.float32)
    y = np.zeros((N, T), np.int64)
    for n in range(N):
        t = 0
        while t < T:
            i = int(rng.integers(len(seqs)))
            length = min(int(rng.integers(30, 101)), T - t)
            start = int(rng.integers(0, len(seqs[i]) - length + 1))
            x[n, t : t + length] = seqs[i][start : start + length]
            y[n, t : t + length] = labels[i]
            t += length
    return x, y


@functools.lru_cache(maxsize=1)
def _standardiser() -> tuple[np.ndarray, np.ndarray]:
    steps = np.concatenate(recordings()["train"][0], axis=0)
    return steps.mean(axis=0), steps.std(axis=0) + 1e-8
