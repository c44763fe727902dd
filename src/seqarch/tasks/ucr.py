r"""Real time-series classification: UCR/UEA sets shipped inside the ``aeon`` wheel (offline).

``aeon.datasets.load_classification(name, split=...)`` finds these sets in the wheel's own data
folder, so no download happens. Each series is read whole, and the class is scored at its last
valid step (see :mod:`seqarch.tasks.labelled` for the padding and masking).

    dataset            train  test  channels  length   classes
    GunPoint              50   150         1     150         2
    ItalyPowerDemand      67  1029         1      24         2
    BasicMotions          40    40         6     100         4
    JapaneseVowels       270   370        12    7-29         9   (variable length)
    ArrowHead             36   175         1     251         3

Worked example (ItalyPowerDemand: 24 hourly loads of one day, class 1 = winter, 2 = summer):

    step     0     1     2    …    22    23
    x      -0.7  -1.0  -1.1   …   0.5  -0.2
    target                                 1 → id 0   (scored at step 23 only)

Splits: the archive's own test split is the test split; the validation split is a seeded,
class-stratified ``val_fraction`` of the archive's training split (the rest trains). With
training sets of a few dozen series these are the small real datasets on which overfitting is
likely. Baseline: the majority training class, scored on the test split.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .base import check_choice, check_range
from .labelled import LabelledSequences, Split

DATASETS = ("GunPoint", "ItalyPowerDemand", "BasicMotions", "JapaneseVowels", "ArrowHead")


@functools.lru_cache(maxsize=8)
def load_ucr(dataset: str) -> tuple[Split, Split, tuple[str, ...]]:
    """(train, test, class names) of a shipped set; series as (T, D) float arrays."""
    from aeon.datasets import load_classification  # heavy import, only when needed

    check_choice("dataset", dataset, DATASETS)
    out = []
    for split in ("train", "test"):
        X, labels = load_classification(dataset, split=split)  # (N, D, T) or list of (D, T_n)
        out.append(([np.asarray(s, dtype=np.float64).T for s in X], np.asarray(labels)))
    classes = tuple(sorted(set(out[0][1].tolist()), key=_label_order))
    ids = {c: i for i, c in enumerate(classes)}
    train, test = ((seqs, np.array([ids[c] for c in lab])) for seqs, lab in out)
    return train, test, classes


def _label_order(label: str) -> tuple[int, float | str]:
    try:
        return (0, float(label))  # numeric labels in numeric order
    except ValueError:
        return (1, label)


def stratified_holdout(labels: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """Boolean mask of a seeded, per-class ``fraction`` (at least one per class of ≥ 2)."""
    rng = np.random.default_rng(seed)
    held = np.zeros(len(labels), dtype=bool)
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        k = int(round(fraction * len(idx)))
        k = min(max(k, 1 if len(idx) > 1 and fraction > 0 else 0), len(idx) - 1)
        held[rng.permutation(idx)[:k]] = True
    return held


@dataclass(frozen=True)
class UCR(LabelledSequences):
    """Classify real series from the UCR/UEA archive (shipped with aeon)."""

    name: ClassVar[str] = "ucr"
    kind: ClassVar[str] = "classify"
    metric: ClassVar[str] = "accuracy"
    higher_is_better: ClassVar[bool] = True

    dataset: str = "GunPoint"
    seq_len: int | None = None  # crop each series to its first seq_len steps (None = whole)
    val_fraction: float = 0.2  # of the archive's training split, per class
    normalize: bool = True  # standardise channels with training-split statistics
    seed: int = 0  # which training series are held out for validation

    def validate(self) -> None:
        super().validate()
        check_choice("dataset", self.dataset, DATASETS)
        check_range("val_fraction", self.val_fraction, 0.0, 0.5)

    @property
    def classes(self) -> tuple[str, ...]:
        return load_ucr(self.dataset)[2]

    def _load_splits(self) -> dict[str, Split]:
        (seqs, y), test, _ = load_ucr(self.dataset)
        held = stratified_holdout(y, self.val_fraction, self.seed)
        train = ([s for s, h in zip(seqs, held, strict=True) if not h], y[~held])
        val = ([s for s, h in zip(seqs, held, strict=True) if h], y[held])
        return {"train": train, "val": val, "test": test}
