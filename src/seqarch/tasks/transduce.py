r"""Translation-like transduction on real language: number words → digits.

The source is a number written out in words by ``num2words`` (German by default, whose
"siebenundneunzig" = 97 names the units before the tens: a real reordering that reaches back
across the word), the target its digits. Decoder-only framing, so every architecture in the
registry applies: one character stream ``source ▸ target ■`` read left to right, the model
predicting the next character; the loss and the metrics cover the target and its end mark only.

Worked example (97, German):

    stream   s i e b e n u n d n e u n z i g ▸ 9 7 ■
    input    s i e b e n u n d n e u n z i g ▸ 9 7           (one-hot, step by step)
    target                                     9 7 ■         (scored: the steps from ▸ on)

Exact match scores a sequence 1 when every target character is the argmax under teacher
forcing — which is exactly when greedy decoding reproduces the target (by induction over its
prefix). ``chrf_tf`` is sacrebleu's chrF of the teacher-forced argmax string against the target,
a partial-credit view (not greedy decoding's chrF when a character is wrong).

Numbers: a digit count d uniform in 1..``max_digits``, then n uniform among the d-digit numbers;
each number belongs to one split by a fixed hash (80 / 10 / 10 %), so a test number was never
seen in training — the model must compose, not recall. The source's length grows with
``max_digits`` (German: up to 12 characters at 2 digits, 40 at 4, 65 at 6): what a fixed-size
state must carry until the separator grows with it, while attention can look back.

Baseline: a memoryless guess (the same character everywhere): exact match 0.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import Tensor

from .base import Batch, Task, check_choice, check_range, generator, one_hot

LETTERS = "abcdefghijklmnopqrstuvwxyzäöüßéèêàâçôûîœ -,"
DIGITS = "0123456789"
SEP, END = "▸", "■"
VOCAB = LETTERS + DIGITS + SEP + END
INDEX = {c: i for i, c in enumerate(VOCAB)}
LANGS = ("de", "fr", "en", "es", "it", "nl")
SPLIT_SHARE = {"train": (0.0, 0.8), "val": (0.8, 0.9), "test": (0.9, 1.0)}


def split_of(n: int) -> str:
    """The split number ``n`` belongs to: a fixed multiplicative hash, 80 / 10 / 10 %."""
    u = ((n * 2654435761) % 2**32) / 2**32
    return next(s for s, (lo, hi) in SPLIT_SHARE.items() if lo <= u < hi)


@functools.lru_cache(maxsize=200_000)
def words(n: int, lang: str) -> str:
    from num2words import num2words

    return num2words(n, lang=lang)


@dataclass(frozen=True)
class Transduce(Task):
    """Number words (German by default) → digits, decoder-only, scored on the target."""

    name: ClassVar[str] = "transduce"
    proxy_mode: ClassVar[str | None] = "sequence"
    proxy_words: ClassVar[str] = "German number words to digits, real language with reordering"
    kind: ClassVar[str] = "classify"
    metric: ClassVar[str] = "exact_match"
    higher_is_better: ClassVar[bool] = True

    max_digits: int = 3  # numbers of 1..max_digits digits
    lang: str = "de"  # the source language (num2words)
    seed: int = 0
    n_train: int = 4000
    n_val: int = 500
    n_test: int = 1000

    def validate(self) -> None:
        check_range("max_digits", self.max_digits, 1, 9)
        check_choice("lang", self.lang, LANGS)

    @property
    def input_size(self) -> int:
        return len(VOCAB)

    @property
    def output_size(self) -> int:
        return len(VOCAB)

    @property
    def horizon(self) -> int:
        """The longest stream of the test split: its first source character is needed at its
        last output."""
        return int(self.data("test").lengths.max())

    def numbers(self, split: str, N: int) -> list[int]:
        """N numbers of ``split``: a digit count uniform in 1..max_digits, then a number of
        that many digits uniform, redrawn until it belongs to ``split``."""
        g = generator(self.seed, split)
        out: list[int] = []
        while len(out) < N:
            d = int(torch.randint(1, self.max_digits + 1, (1,), generator=g))
            lo = 0 if d == 1 else 10 ** (d - 1)
            n = int(torch.randint(lo, 10**d, (1,), generator=g))
            if split_of(n) == split:
                out.append(n)
        return out

    def pair(self, n: int) -> tuple[str, str]:
        return words(n, self.lang), str(n)

    def _generate(self, split: str) -> Batch:
        N = {"train": self.n_train, "val": self.n_val, "test": self.n_test}[split]
        streams = []
        for n in self.numbers(split, N):
            src, tgt = self.pair(n)
            streams.append((src, tgt))
        T = max(len(s) + len(t) + 1 for s, t in streams)  # steps: every token but the last
        tokens = torch.zeros(N, T + 1, dtype=torch.long)
        mask = torch.zeros(N, T, dtype=torch.bool)
        lengths = torch.zeros(N, dtype=torch.long)
        for i, (src, tgt) in enumerate(streams):
            ids = [INDEX[c] for c in src + SEP + tgt + END]
            tokens[i, : len(ids)] = torch.tensor(ids)
            mask[i, len(src) : len(ids) - 1] = True  # predicting target chars and the end
            lengths[i] = len(ids) - 1
        x = one_hot(tokens[:, :T], self.input_size)
        x[torch.arange(T)[None, :] >= lengths[:, None]] = 0.0  # nothing after the end
        return Batch(x, tokens[:, 1:], mask, lengths)

    def trivial_prediction(self, batch: Batch) -> Tensor:
        return torch.zeros(*batch.y.shape, self.output_size)  # the same character everywhere

    def evaluate(self, y_pred: Tensor, batch: Batch) -> dict[str, float]:
        import sacrebleu

        out = super().evaluate(y_pred, batch)
        with torch.no_grad():
            guess = y_pred.detach().cpu().argmax(-1)
            y, mask = batch.y.cpu(), batch.mask.cpu()
            right = (guess == y) | ~mask
            exact = right.all(dim=1).float().mean()
            hyps, refs = [], []
            for i in range(y.shape[0]):
                m = mask[i]
                hyps.append(_text(guess[i][m]))
                refs.append(_text(y[i][m]))
        chrf = sacrebleu.corpus_chrf(hyps, [refs]).score / 100
        return out | {"exact_match": float(exact), "chrf_tf": float(chrf)}

    def baseline(self) -> dict[str, float]:
        test = self.data("test")
        return self.evaluate(self.trivial_prediction(test), test)

    def baseline_formula(self) -> str:
        return "a memoryless guess (the same character at every step): exact match 0"


def _text(ids: Tensor) -> str:
    """Characters up to the end mark."""
    s = "".join(VOCAB[int(i)] for i in ids)
    return s.split(END, 1)[0]
