r"""Selective copying (Gu & Dao 2023, Mamba §3.1): K tokens scattered among noise, in order.

A context of L = seq_len − K − 1 steps holds K symbols (from S) at random positions, noise
('_') everywhere else; then a delimiter and K blank steps during which the model must output the
K symbols in the order they appeared. Unlike the copy task the positions vary, so a fixed
time-invariant delay line cannot solve it: the model must select what to keep by content.

Worked example (K = 3, S = 4 symbols a-d, seq_len = 12, so L = 8):

    step     0  1  2  3  4  5  6  7  8  9 10 11
    input    _  b  _  _  d  _  a  _  :  _  _  _
    target                               b  d  a     (scored at the last K steps only)

Baseline (memoryless): each output is uniform over S symbols, so accuracy = 1/S and
cross-entropy = log S.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import Tensor

from .base import Batch, Task, check_range, generator, one_hot, random_positions


@dataclass(frozen=True)
class SelectiveCopy(Task):
    """Reproduce, in order, the K symbols scattered at random positions of a noisy context."""

    name: ClassVar[str] = "selective_copy"
    kind: ClassVar[str] = "classify"
    metric: ClassVar[str] = "accuracy"
    higher_is_better: ClassVar[bool] = True

    seq_len: int = 32  # context L + delimiter + K outputs
    n_tokens: int = 4  # K symbols to select and reproduce
    n_symbols: int = 8  # S
    seed: int = 0
    n_train: int = 4000
    n_val: int = 500
    n_test: int = 1000

    def validate(self) -> None:
        check_range("n_tokens", self.n_tokens, 1)
        check_range("n_symbols", self.n_symbols, 2)
        check_range("seq_len", self.seq_len, 2 * self.n_tokens + 1)

    @property
    def context(self) -> int:
        return self.seq_len - self.n_tokens - 1  # L

    @property
    def noise(self) -> int:
        return self.n_symbols

    @property
    def delimiter(self) -> int:
        return self.n_symbols + 1

    @property
    def input_size(self) -> int:
        return self.n_symbols + 2  # symbols, noise/blank, delimiter

    @property
    def output_size(self) -> int:
        return self.n_symbols

    @property
    def horizon(self) -> int:
        return self.seq_len - self.n_tokens  # a symbol at step 0 is output at step L + 1

    def _generate(self, split: str) -> Batch:
        N = {"train": self.n_train, "val": self.n_val, "test": self.n_test}[split]
        T, K, L = self.seq_len, self.n_tokens, self.context
        g = generator(self.seed, split)
        symbols = torch.randint(0, self.n_symbols, (N, K), generator=g)  # (N, K)
        where = random_positions(N, K, L, g)  # (N, K) sorted positions in the context
        tokens = torch.full((N, T), self.noise)
        tokens.scatter_(1, where, symbols)
        tokens[:, L] = self.delimiter
        y = torch.zeros(N, T, dtype=torch.long)
        y[:, T - K :] = symbols
        mask = torch.zeros(N, T, dtype=torch.bool)
        mask[:, T - K :] = True
        return Batch(one_hot(tokens, self.input_size), y, mask)

    def trivial_prediction(self, batch: Batch) -> Tensor:
        return torch.zeros(*batch.y.shape, self.output_size)  # uniform: always argmax = symbol 0

    def baseline(self) -> dict[str, float]:
        return {"accuracy": 1 / self.n_symbols, "xent": math.log(self.n_symbols)}

    def baseline_formula(self) -> str:
        return "memoryless uniform guess: accuracy 1/S, cross-entropy log S"
