r"""Multi-query associative recall, MQAR (Arora et al. 2023, Zoology).

The sequence opens with P key-value pairs k₁ v₁ k₂ v₂ … k_P v_P (distinct keys, distinct values,
keys and values from disjoint vocabularies); the rest holds Q of those keys again as queries at
random positions, blanks elsewhere. At each query the model must output the value that was
paired with that key. Only the query positions are scored.

Worked example (P = 3, Q = 2, keys A-F, values 1-6, seq_len = 12):

    step     0  1  2  3  4  5  6  7  8  9 10 11
    input    C  4  A  6  E  1  _  E  _  _  C  _
    target                        1        4         (scored at the query steps 7 and 10)

Recall at a query needs the pair that lies up to seq_len − 2 steps back; the state must hold
all P pairs at once, which is where fixed-size recurrent states and attention part ways.

Baseline (memoryless): uniform over the V values, accuracy 1/V and cross-entropy log V.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import Tensor

from .base import Batch, Task, check_range, generator, one_hot, random_positions


@dataclass(frozen=True)
class Recall(Task):
    """Multi-query associative recall: key-value pairs, then queries for their values."""

    name: ClassVar[str] = "recall"
    kind: ClassVar[str] = "classify"
    metric: ClassVar[str] = "accuracy"
    higher_is_better: ClassVar[bool] = True

    seq_len: int = 32
    n_pairs: int = 4  # P key-value pairs
    n_queries: int | None = None  # Q queries (None = P, each key queried once)
    n_keys: int = 16  # key vocabulary
    n_values: int = 16  # value vocabulary (V)
    seed: int = 0
    n_train: int = 4000
    n_val: int = 500
    n_test: int = 1000

    def validate(self) -> None:
        check_range("n_pairs", self.n_pairs, 1)
        check_range("n_keys", self.n_keys, self.n_pairs)
        check_range("n_values", self.n_values, max(self.n_pairs, 2))
        check_range("n_queries", self.queries, 1, self.n_pairs)
        check_range("seq_len", self.seq_len, 2 * self.n_pairs + self.queries)

    @property
    def queries(self) -> int:
        return self.n_pairs if self.n_queries is None else self.n_queries

    @property
    def blank(self) -> int:
        return self.n_keys + self.n_values

    @property
    def input_size(self) -> int:
        return self.n_keys + self.n_values + 1  # keys, values, blank

    @property
    def output_size(self) -> int:
        return self.n_values

    @property
    def horizon(self) -> int:
        return self.seq_len - 2  # v₁ at step 1, queried at the last step

    def _generate(self, split: str) -> Batch:
        N = {"train": self.n_train, "val": self.n_val, "test": self.n_test}[split]
        T, P, Q = self.seq_len, self.n_pairs, self.queries
        g = generator(self.seed, split)
        keys = torch.rand(N, self.n_keys, generator=g).argsort(dim=1)[:, :P]  # (N, P) distinct
        values = torch.rand(N, self.n_values, generator=g).argsort(dim=1)[:, :P]  # (N, P)
        asked = torch.rand(N, P, generator=g).argsort(dim=1)[:, :Q]  # (N, Q) which pairs
        where = 2 * P + random_positions(N, Q, T - 2 * P, g)  # (N, Q) query steps
        tokens = torch.full((N, T), self.blank)
        tokens[:, 0 : 2 * P : 2] = keys
        tokens[:, 1 : 2 * P : 2] = self.n_keys + values
        tokens.scatter_(1, where, keys.gather(1, asked))
        y = torch.zeros(N, T, dtype=torch.long)
        y.scatter_(1, where, values.gather(1, asked))
        mask = torch.zeros(N, T, dtype=torch.bool)
        mask.scatter_(1, where, True)
        return Batch(one_hot(tokens, self.input_size), y, mask)

    def trivial_prediction(self, batch: Batch) -> Tensor:
        return torch.zeros(*batch.y.shape, self.output_size)  # uniform: argmax = value 0

    def baseline(self) -> dict[str, float]:
        return {"accuracy": 1 / self.n_values, "xent": math.log(self.n_values)}

    def baseline_formula(self) -> str:
        return "memoryless uniform guess over the V values: accuracy 1/V, cross-entropy log V"
