r"""The copy task (Hochreiter & Schmidhuber 1997; the setting of Arjovsky et al. 2016).

K = 10 symbols drawn from S = 8, then T − 1 blanks and a delimiter, then K blanks during which
the model must reproduce the K symbols in order. The sequence has T + 2K = T + 20 steps;
``seq_len`` is that total, so T = seq_len − 20 (the delay). Every step is scored: the target is
blank everywhere except the last K steps.

Worked example (K = 3, S = 4 symbols a-d, T = 4; '_' blank, ':' delimiter, seq_len = 10):

    step     0  1  2  3  4  5  6  7  8  9
    input    c  a  d  _  _  _  :  _  _  _
    target   _  _  _  _  _  _  _  c  a  d

Baseline, the best memoryless predictor: blank with certainty on the first T + K steps (loss 0),
uniform over the S symbols on the last K (loss log S each). Averaged over all T + 2K positions:

    xent = K · log S / (T + 2K) = 10 · log 8 / (T + 20)   nats per step
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import Tensor

from .base import NEG, Batch, Task, check_range, classification_metrics, generator, one_hot


@dataclass(frozen=True)
class Copy(Task):
    """Reproduce K symbols after a delay of T steps."""

    name: ClassVar[str] = "copy"
    kind: ClassVar[str] = "classify"
    metric: ClassVar[str] = "xent"
    higher_is_better: ClassVar[bool] = False

    seq_len: int = 30  # T + 2K steps in all (T = seq_len − 2K is the delay)
    n_copy: int = 10  # K symbols to copy
    n_symbols: int = 8  # S, the alphabet of the copied symbols
    seed: int = 0
    n_train: int = 4000
    n_val: int = 500
    n_test: int = 1000

    def validate(self) -> None:
        check_range("n_copy", self.n_copy, 1)
        check_range("n_symbols", self.n_symbols, 2)
        check_range("seq_len", self.seq_len, 2 * self.n_copy + 1)

    @property
    def delay(self) -> int:
        """T: the steps from the end of the symbols to the delimiter, inclusive."""
        return self.seq_len - 2 * self.n_copy

    @property
    def blank(self) -> int:
        return self.n_symbols

    @property
    def delimiter(self) -> int:
        return self.n_symbols + 1

    @property
    def input_size(self) -> int:
        return self.n_symbols + 2  # symbols, blank, delimiter

    @property
    def output_size(self) -> int:
        return self.n_symbols + 1  # symbols, blank

    @property
    def horizon(self) -> int:
        return self.delay + self.n_copy  # symbol 0 is reproduced at step T + K

    def _generate(self, split: str) -> Batch:
        N = {"train": self.n_train, "val": self.n_val, "test": self.n_test}[split]
        T, K = self.seq_len, self.n_copy
        g = generator(self.seed, split)
        symbols = torch.randint(0, self.n_symbols, (N, K), generator=g)  # (N, K)
        tokens = torch.full((N, T), self.blank)
        tokens[:, :K] = symbols
        tokens[:, T - K - 1] = self.delimiter
        y = torch.full((N, T), self.blank)
        y[:, T - K :] = symbols
        mask = torch.ones(N, T, dtype=torch.bool)  # every step, as in the 10·log 8/(T+20) bound
        return Batch(one_hot(tokens, self.input_size), y, mask)

    def trivial_prediction(self, batch: Batch) -> Tensor:
        N, T = batch.y.shape
        logits = torch.full((N, T, self.output_size), NEG)
        logits[:, : T - self.n_copy, self.blank] = 0.0  # blank, certain
        logits[:, T - self.n_copy :, : self.n_symbols] = 0.0  # uniform over the symbols
        return logits

    def evaluate(self, y_pred: Tensor, batch: Batch) -> dict[str, float]:
        out = super().evaluate(y_pred, batch)
        K = self.n_copy
        tail = torch.zeros_like(batch.mask)
        tail[:, -K:] = True
        copied = classification_metrics(y_pred.detach().cpu(), batch.y.cpu(), tail.cpu())
        out["symbol_accuracy"] = copied["accuracy"]  # accuracy on the K reproduced symbols
        return out

    def baseline(self) -> dict[str, float]:
        return {
            "xent": self.n_copy * math.log(self.n_symbols) / self.seq_len,
            "symbol_accuracy": 1 / self.n_symbols,
        }

    def baseline_formula(self) -> str:
        return "memoryless: K·log S / (T + 2K) = 10·log 8 / (T + 20) nats per step"
