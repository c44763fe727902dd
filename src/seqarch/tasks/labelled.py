r"""Labelled sequences from arrays: the machinery shared by the UCR sets and the user's files.

A data-backed task hands over, per split, a list of N sequences x⁽ⁿ⁾ (T_n, D) and their targets
(a class id, or a vector of O numbers). This module right-pads them into a :class:`Batch`:

    x      (N, T_max, D)  zero after each sequence's end
    y      (N, T_max)     the class id at every step        (classify)
           (N, T_max, O)  the target vector at every step   (regress)
    mask   (N, T_max)     true only at the last valid step T_n − 1: the model reads the whole
                          sequence, then answers
    lengths (N,)          T_n when the lengths differ, else None

Worked example (two univariate sequences of lengths 3 and 2, classes 1 and 0):

    step        0    1    2
    x⁽¹⁾       0.4  1.2  0.9      y = 1 1 1   mask = · · ✓
    x⁽²⁾      -0.3  0.1  0.0(pad) y = 0 0 0   mask = · ✓ ·

Inputs are standardised per channel with the mean and standard deviation of the training split
(over its valid steps). Baselines: the majority training class (classify) or the mean training
target (regress), scored on the test split.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch
from torch import Tensor

from .base import Batch, Task, check_range, last_step_mask

Split = tuple[list[np.ndarray], np.ndarray]  # sequences (T_n, D) each; targets (N,) or (N, O)


def pad(seqs: list[np.ndarray], T: int | None = None) -> tuple[Tensor, Tensor]:
    """Right-pad (T_n, D) arrays to (N, T, D) float32 (T = the longest by default); lengths."""
    lengths = torch.tensor([min(len(s), T or len(s)) for s in seqs], dtype=torch.long)
    T = int(lengths.max()) if T is None else T
    x = torch.zeros(len(seqs), T, seqs[0].shape[1])
    for n, s in enumerate(seqs):
        x[n, : lengths[n]] = torch.as_tensor(s[: lengths[n]], dtype=torch.float32)
    return x, lengths


@dataclass(frozen=True)
class LabelledSequences(Task):
    """Base of tasks that classify or regress whole sequences held in arrays.

    A subclass provides ``_load_splits()`` -> {"train": (seqs, targets), "val": ..., "test": ...}
    (targets: int class ids, or floats (N, O)) and, for classification, ``classes``.
    """

    inputs: ClassVar[str] = "signal"

    # -- what a subclass provides -------------------------------------------------------------

    def _load_splits(self) -> dict[str, Split]:
        raise NotImplementedError

    @property
    def classes(self) -> tuple[str, ...]:
        """The class names, in id order (classification only)."""
        raise NotImplementedError

    # -- shared ---------------------------------------------------------------------------------

    def _splits(self) -> dict[str, Split]:
        return _cached_splits(self, self._version())

    def _version(self) -> object:
        """What else, besides the config, the data depends on (a file's stamp); None if nothing."""
        return None

    def validate(self) -> None:
        if getattr(self, "seq_len", None) is not None:
            check_range("seq_len", self.seq_len, 1)
        if getattr(self, "last", None) is not None:
            check_range("last", self.last, 1)

    @property
    def input_size(self) -> int:
        return int(self._splits()["train"][0][0].shape[1])

    @property
    def output_size(self) -> int:
        if self.kind == "classify":
            return len(self.classes)
        return int(self._splits()["train"][1].shape[1])

    @property
    def ragged(self) -> bool:
        """Whether the sequences differ in length (then batches carry ``lengths``)."""
        lengths = {len(s) for seqs, _ in self._splits().values() for s in seqs}
        return len(lengths) > 1

    @property
    def horizon(self) -> int:
        longest = max(len(s) for seqs, _ in self._splits().values() for s in seqs)
        crop = getattr(self, "seq_len", None)
        longest = longest if crop is None else min(crop, longest)
        last = getattr(self, "last", None)
        return longest if last is None else min(last, longest)

    def standardiser(self) -> tuple[np.ndarray, np.ndarray]:
        """Per-channel mean and standard deviation over the valid steps of the training split."""
        steps = np.concatenate(self._splits()["train"][0], axis=0)  # (Σ T_n, D)
        std = steps.std(axis=0)
        return steps.mean(axis=0), np.where(std > 0, std, 1.0)

    def _generate(self, split: str) -> Batch:
        seqs, targets = self._splits()[split]
        if getattr(self, "last", None) is not None:  # only the last k steps of each sequence
            crop = getattr(self, "seq_len", None)
            seqs = [(s[:crop] if crop else s)[-self.last :] for s in seqs]
        if getattr(self, "normalize", True):
            mu, sd = self.standardiser()
            seqs = [(s - mu) / sd for s in seqs]
        x, lengths = pad(seqs, getattr(self, "seq_len", None))
        N, T = x.shape[:2]
        if self.kind == "classify":
            y = torch.as_tensor(targets, dtype=torch.long).view(N, 1).expand(N, T).clone()
        else:
            t = torch.as_tensor(targets, dtype=torch.float32).view(N, 1, -1)
            y = t.expand(N, T, t.shape[-1]).clone()
        return Batch(x, y, last_step_mask(lengths, T), lengths if self.ragged else None)

    def trivial_prediction(self, batch: Batch) -> Tensor:
        N, T = batch.y.shape[:2]
        train_targets = self._splits()["train"][1]
        if self.kind == "classify":
            counts = np.bincount(train_targets, minlength=self.output_size)
            logits = torch.full((N, T, self.output_size), -1.0)
            logits[..., int(counts.argmax())] = 0.0  # the majority class (the first on ties)
            return logits
        mean = torch.as_tensor(train_targets.mean(axis=0), dtype=torch.float32)
        return mean.expand(N, T, self.output_size).clone()

    def baseline_formula(self) -> str:
        if self.kind == "classify":
            return "predict the majority training class, scored on the test split"
        return "predict the mean training target, scored on the test split"


@functools.lru_cache(maxsize=16)
def _cached_splits(task: LabelledSequences, version: object) -> dict[str, Split]:
    """Each config's splits, loaded once per process (the configs are frozen and hashable)."""
    return task._load_splits()
