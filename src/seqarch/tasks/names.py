r"""Character-level language modelling on the first names shipped in the ``names`` package.

The corpus: the 5,163 distinct first names of the US census lists in the package (male and
female, lower-cased, letters a-z only). Each name is one short sequence, framed by a boundary
token '.': the input is '.' followed by the name, the target is the name followed by '.', so the
model predicts every next character and the end of the name. Names differ in length, so the
batch is right-padded and ``lengths`` / ``mask`` mark the valid steps.

Worked example ("emma" and "al", vocabulary '.', a-z):

    step          0  1  2  3  4
    input  emma   .  e  m  m  a        length 5
    target emma   e  m  m  a  .
    input  al     .  a  l  ·  ·        length 3 (· = padding: zero input, not scored)
    target al     a  l  .  ·  ·

Metric: bits per character, the mean cross-entropy over the valid steps in bits,
−(1/|M|) Σ log₂ p(y_t | y_<t). Baseline: the unigram model (character frequencies of the
training names, add-one smoothed), which ignores all context; log₂ 27 ≈ 4.75 bits is the
uniform guess.

The splits are disjoint sets of names: a seeded permutation of the corpus, cut in three.
"""

from __future__ import annotations

import functools
import math
import string
from dataclasses import dataclass
from importlib import resources
from typing import ClassVar

import numpy as np
import torch
from torch import Tensor

from ..errors import BadInput
from .base import Batch, Task, check_range, classification_metrics, one_hot, valid_mask

BOUNDARY = "."
VOCAB = BOUNDARY + string.ascii_lowercase  # token id = index in this string
FILES = ("dist.male.first", "dist.female.first")


@functools.lru_cache(maxsize=1)
def load_names() -> tuple[str, ...]:
    """The corpus: distinct lower-cased first names, sorted (read once per process)."""
    found: set[str] = set()
    for f in FILES:
        text = resources.files("names").joinpath(f).read_text()
        found.update(line.split()[0].lower() for line in text.splitlines() if line.strip())
    return tuple(sorted(n for n in found if n.isalpha() and n.isascii()))


@dataclass(frozen=True)
class Names(Task):
    """Character-level language modelling of first names (bits per character)."""

    name: ClassVar[str] = "names"
    kind: ClassVar[str] = "classify"
    metric: ClassVar[str] = "bits_per_char"
    higher_is_better: ClassVar[bool] = False

    seq_len: int | None = None  # truncate to at most this many steps (None = longest name + 1)
    seed: int = 0  # which names fall in which split
    n_train: int = 4000
    n_val: int = 500
    n_test: int = 500

    def validate(self) -> None:
        if self.seq_len is not None:
            check_range("seq_len", self.seq_len, 1)
        total, have = self.n_train + self.n_val + self.n_test, len(load_names())
        if total > have:
            raise BadInput(
                f"n_train + n_val + n_test = {total} is not accepted; the corpus has {have} names"
            )

    @property
    def input_size(self) -> int:
        return len(VOCAB)

    @property
    def output_size(self) -> int:
        return len(VOCAB)

    def split_names(self, split: str) -> list[str]:
        corpus = load_names()
        order = np.random.default_rng(self.seed).permutation(len(corpus))
        start = {"train": 0, "val": self.n_train, "test": self.n_train + self.n_val}[split]
        size = {"train": self.n_train, "val": self.n_val, "test": self.n_test}[split]
        return [corpus[i] for i in order[start : start + size]]

    def _generate(self, split: str) -> Batch:
        words = self.split_names(split)
        longest = max(len(w) for w in words) + 1
        T = longest if self.seq_len is None else min(self.seq_len, longest)
        N = len(words)
        inputs = torch.full((N, T), -1)  # -1 = padding
        y = torch.zeros(N, T, dtype=torch.long)
        lengths = torch.zeros(N, dtype=torch.long)
        for n, w in enumerate(words):
            ids = [VOCAB.index(c) for c in BOUNDARY + w + BOUNDARY][: T + 1]
            L = len(ids) - 1
            inputs[n, :L] = torch.tensor(ids[:-1])
            y[n, :L] = torch.tensor(ids[1:])
            lengths[n] = L
        return Batch(one_hot(inputs, len(VOCAB)), y, valid_mask(lengths, T), lengths)

    def evaluate(self, y_pred: Tensor, batch: Batch) -> dict[str, float]:
        out = super().evaluate(y_pred, batch)
        return out | {"bits_per_char": out["bits"]}

    def unigram(self) -> Tensor:
        """(V,) log-probabilities of each next token in the training names, add-one smoothed."""
        train = self.data("train")
        counts = torch.bincount(train.y[train.mask], minlength=len(VOCAB)).float() + 1.0
        return (counts / counts.sum()).log()

    def trivial_prediction(self, batch: Batch) -> Tensor:
        return self.unigram().expand(*batch.y.shape, len(VOCAB)).clone()

    def baseline(self) -> dict[str, float]:
        test = self.data("test")
        unigram = classification_metrics(self.trivial_prediction(test), test.y, test.mask)
        return {
            "bits_per_char": unigram["bits"],
            "xent": unigram["xent"],
            "uniform_bits_per_char": math.log2(len(VOCAB)),
        }

    def baseline_formula(self) -> str:
        return "unigram character model of the training names, scored on the test names"
