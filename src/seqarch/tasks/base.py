r"""The task contract: a frozen config, a pure seeded generator, a metric and a trivial baseline.

A task config is a frozen dataclass subclassing :class:`Task`. ``task.data(split)`` returns a
:class:`Batch` for ``split`` in ``("train", "val", "test")``; the same config always gives the
same tensors, and the three splits draw their random numbers from disjoint seed ranges:

    generator seed = SPLIT_BASE[split] + seed,   SPLIT_BASE = {train: 0, val: 10⁹, test: 2·10⁹}

so no train seed can ever equal a test seed (``0 ≤ seed < 10⁹``).

Every step of every sequence has a target; ``mask`` says which (sample, step) positions are
scored. Two kinds of task share one loss:

    classify:  ℓ = −(1/|M|) Σ_{(n,t)∈M} log softmax(ŷ_{n,t})[y_{n,t}]     y (N, T) int64
    regress:   ℓ =  (1/(|M|·O)) Σ_{(n,t)∈M} ‖ŷ_{n,t} − y_{n,t}‖²          y (N, T, O) float32

where M is the set of masked positions and ŷ (N, T, output_size) the model's output.

Tokens are fed to models as one-hot float features (the models take float inputs); a padded
step of a variable-length sequence is the zero vector, lies after the sequence (right padding)
and is never in the mask. Because seqarch's models are causal, outputs at valid steps do not
depend on the padding.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor

from ..errors import BadInput

SPLITS = ("train", "val", "test")
SEED_RANGE = 10**9  # split seeds: train [0, 1e9), val [1e9, 2e9), test [2e9, 3e9)
SPLIT_BASE = {split: i * SEED_RANGE for i, split in enumerate(SPLITS)}
KINDS = ("classify", "regress")
NEG = -1.0e4  # a logit whose softmax weight is exactly 0 in float32


# ---------------------------------------------------------------------------------------------
# The batch


@dataclass
class Batch:
    """One split of a task, batch-first.

    x       (N, T, D) float32 inputs (one-hot for tokens; zeros on padded steps)
    y       (N, T) int64 class ids (classify) or (N, T, O) float32 targets (regress)
    mask    (N, T) bool: the positions that are scored
    lengths (N,) int64 valid lengths of right-padded ragged data, else None
    """

    x: Tensor
    y: Tensor
    mask: Tensor
    lengths: Tensor | None = None

    def __post_init__(self) -> None:
        N, T = self.x.shape[:2]
        if self.y.shape[:2] != (N, T) or self.mask.shape != (N, T):
            raise BadInput(
                f"batch shapes x {tuple(self.x.shape)}, y {tuple(self.y.shape)}, "
                f"mask {tuple(self.mask.shape)} do not agree on (N, T) = ({N}, {T})"
            )

    def __len__(self) -> int:
        return self.x.shape[0]

    def __getitem__(self, idx: Any) -> Batch:
        """The samples ``idx`` (an index tensor, slice or list), all steps kept."""
        lengths = None if self.lengths is None else self.lengths[idx]
        return Batch(self.x[idx], self.y[idx], self.mask[idx], lengths)

    def to(self, device: str | torch.device) -> Batch:
        lengths = None if self.lengths is None else self.lengths.to(device)
        return Batch(self.x.to(device), self.y.to(device), self.mask.to(device), lengths)


# ---------------------------------------------------------------------------------------------
# Small shared pieces


def split_seed(seed: int, split: str) -> int:
    """The generator seed of ``split``: ranges of width 10⁹ that never overlap."""
    check_split(split)
    return SPLIT_BASE[split] + seed


def generator(seed: int, split: str) -> torch.Generator:
    return torch.Generator().manual_seed(split_seed(seed, split))


def check_split(split: Any) -> str:
    if split not in SPLITS:
        raise BadInput(f"split {split!r} is not accepted; expected one of {', '.join(SPLITS)}")
    return split


def one_hot(tokens: Tensor, vocab: int) -> Tensor:
    """(N, T) int64 token ids -> (N, T, vocab) float32; id -1 (padding) -> the zero vector."""
    out = F.one_hot(tokens.clamp(min=0), vocab).float()
    return out * (tokens >= 0).unsqueeze(-1)


def random_positions(n: int, k: int, span: int, gen: torch.Generator) -> Tensor:
    """(n, k) sorted, distinct random positions in [0, span), one row per sample."""
    return torch.rand(n, span, generator=gen).argsort(dim=1)[:, :k].sort(dim=1).values


def last_step_mask(lengths: Tensor, T: int) -> Tensor:
    """(N, T) bool, true only at step lengths[n] − 1 of each sample."""
    return torch.arange(T).unsqueeze(0) == (lengths - 1).unsqueeze(1)


def valid_mask(lengths: Tensor, T: int) -> Tensor:
    """(N, T) bool, true at the valid steps t < lengths[n]."""
    return torch.arange(T).unsqueeze(0) < lengths.unsqueeze(1)


def classification_metrics(logits: Tensor, y: Tensor, mask: Tensor) -> dict[str, float]:
    """Cross-entropy (nats, and bits), accuracy over the masked positions."""
    z, t = logits[mask].float(), y[mask]  # (M, C), (M,)
    if t.numel() == 0:
        raise BadInput("no position is scored: the mask is empty")
    xent = F.cross_entropy(z, t).item()
    return {
        "xent": xent,
        "bits": xent / math.log(2),
        "accuracy": (z.argmax(-1) == t).float().mean().item(),
    }


def regression_metrics(pred: Tensor, y: Tensor, mask: Tensor) -> dict[str, float]:
    """Mean squared and mean absolute error over the masked positions and output columns."""
    d = (pred[mask] - y[mask]).float()  # (M, O)
    if d.numel() == 0:
        raise BadInput("no position is scored: the mask is empty")
    return {"mse": d.pow(2).mean().item(), "mae": d.abs().mean().item()}


# ---------------------------------------------------------------------------------------------
# Config checks: one-line errors that name the bad value and what is accepted.


def check_range(name: str, value: float, low: float, high: float | None = None) -> None:
    if value < low or (high is not None and value > high):
        upper = "∞" if high is None else f"{high}"
        raise BadInput(f"{name}={value!r} is not accepted; expected a value in [{low}, {upper}]")


def check_choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise BadInput(f"{name}={value!r} is not accepted; expected one of {', '.join(choices)}")


def _accepts(value: Any, hint: Any) -> tuple[bool, Any]:
    """Whether ``value`` fits the type hint (int, float, str, bool, X | None); the value to keep."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        for h in typing.get_args(hint):
            ok, v = _accepts(value, h)
            if ok:
                return True, v
        return False, value
    if hint is type(None):
        return value is None, value
    if hint is bool:
        return isinstance(value, bool), value
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool), value
    if hint is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return ok, float(value) if ok else value
    if hint is str:
        return isinstance(value, str), value
    return True, value


def _type_name(hint: Any) -> str:
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        return " or ".join(_type_name(h) for h in typing.get_args(hint))
    return "None" if hint is type(None) else getattr(hint, "__name__", str(hint))


# ---------------------------------------------------------------------------------------------
# The task


@dataclass(frozen=True)
class Task:
    """Base of every task config (a frozen dataclass; subclasses add their fields).

    Subclasses set the class attributes and implement ``_generate(split)``, ``validate()``,
    ``trivial_prediction(batch)`` and, where it has a closed form, ``baseline()``.
    """

    name: ClassVar[str] = ""
    kind: ClassVar[str] = "classify"  # "classify" | "regress"
    metric: ClassVar[str] = "accuracy"  # the headline metric, a key of evaluate()
    higher_is_better: ClassVar[bool] = True
    inputs: ClassVar[str] = "tokens"  # "tokens" (one-hot) | "signal" (real-valued; augmentable)
    # A real task that can stand for a user's problem when no data is given (advise/proxy.py):
    # "streaming" (a label per arriving step) or "sequence" (whole-sequence transduction).
    proxy_mode: ClassVar[str | None] = None
    proxy_words: ClassVar[str] = ""  # what the task is, in a few words, for the defense

    def __post_init__(self) -> None:
        hints = typing.get_type_hints(type(self))
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            ok, kept = _accepts(value, hints[f.name])
            if not ok:
                raise BadInput(
                    f"{self.name} option {f.name}={value!r} is not accepted; "
                    f"expected {_type_name(hints[f.name])}"
                )
            object.__setattr__(self, f.name, kept)
        if hasattr(self, "seed"):
            check_range("seed", self.seed, 0, SEED_RANGE - 1)
        for n in ("n_train", "n_val", "n_test"):
            if hasattr(self, n):
                check_range(n, getattr(self, n), 1)
        self.validate()

    # -- what a subclass provides ------------------------------------------------------------

    def validate(self) -> None:
        """Raise ValueError on a bad combination of options."""

    @property
    def input_size(self) -> int:
        raise NotImplementedError

    @property
    def output_size(self) -> int:
        raise NotImplementedError

    @property
    def horizon(self) -> int | None:
        """How far back the signal lies: the largest distance, in steps, between a scored output
        and the input it needs; None when not meaningful (e.g. language modelling)."""
        return None

    def _generate(self, split: str) -> Batch:
        raise NotImplementedError

    def trivial_prediction(self, batch: Batch) -> Tensor:
        """(N, T, output_size): what the trivial predictor (the baseline) outputs on ``batch``."""
        raise NotImplementedError

    def baseline(self) -> dict[str, float]:
        """The trivial predictor's metrics. By default computed by running it on the test split;
        tasks with a closed form override this with the formula (tests check both agree)."""
        test = self.data("test")
        return self.evaluate(self.trivial_prediction(test), test)

    def baseline_formula(self) -> str:
        """The baseline in words or as a formula."""
        return "the trivial predictor run on the test split"

    # -- shared by all tasks ----------------------------------------------------------------

    def data(self, split: str) -> Batch:
        """The ``split`` ("train", "val" or "test") of this task: pure and seeded."""
        return self._generate(check_split(split))

    def config(self) -> dict[str, Any]:
        """The task's name and options: ``make_task(**config())`` rebuilds it."""
        return {"name": self.name, **dataclasses.asdict(self)}

    def loss(self, y_pred: Tensor, batch: Batch) -> Tensor:
        """Scalar training loss: masked cross-entropy (classify) or masked MSE (regress)."""
        m = batch.mask
        if self.kind == "classify":
            return F.cross_entropy(y_pred[m], batch.y[m])
        return F.mse_loss(y_pred[m], batch.y[m])

    def evaluate(self, y_pred: Tensor, batch: Batch) -> dict[str, float]:
        """Metrics over the masked positions; includes the key ``self.metric``."""
        with torch.no_grad():
            y_pred = y_pred.detach().cpu()
            b = batch.to("cpu")
            if self.kind == "classify":
                return classification_metrics(y_pred, b.y, b.mask)
            return regression_metrics(y_pred, b.y, b.mask)
