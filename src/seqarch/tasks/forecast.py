r"""Forecasting a real series, scored by MASE against the seasonal-naive forecast.

Series (shipped with statsmodels, offline):

    co2        Mauna Loa CO₂, weekly 1958-2001 averaged to 526 months (gaps interpolated), m = 12
    sunspots   yearly sunspot numbers 1700-2008, 309 years; the ~11-year cycle gives m = 11

A sample is a window of ``seq_len`` consecutive values; from the window's last step the model
forecasts the next h = ``steps_ahead`` values (scored at the last step only; the targets of the
earlier steps, their own next h values, are filled in but not scored):

    x (N, T, 1) = s_{t−T+1} … s_t,    y[:, T−1] (N, h) = s_{t+1} … s_{t+h}     (minus s_t)

Worked example (monthly, T = 4, h = 2, m = 3; the window ends at t = 5):

    time      2    3    4    5  │  6    7
    x        1.0  2.0  0.5  1.1 │
    target                      │ 2.1  0.4     (scored at step 3)
    naive                       │ 2.0  0.5     (ŝ_{t+k} = s_{t+k−m})

Splits are by time, never shuffled: the windows whose forecast targets fall in the first
``train_fraction`` of the series train, the next ``val_fraction`` validate, the rest test.
Values are standardised with the training part's mean and standard deviation, then each window
(inputs and targets alike) is taken relative to its last input value s_t, so a trend (co2) does
not carry the test windows outside the range seen in training. A shared shift leaves every
absolute error, and so MASE, unchanged.

MASE (Hyndman & Koehler 2006) divides the forecast's mean absolute error by the in-sample
mean absolute error of the one-season-back forecast on the training part:

    MASE = mean|s − ŝ| / ( (1/(n−m)) Σ_{t=m+1..n} |s_t − s_{t−m}| )

Baseline: the seasonal-naive forecast ŝ_{t+k} = s_{t+k−m} (k ≤ m) run on the test windows.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch
from torch import Tensor

from ..errors import BadInput
from .base import Batch, Task, check_choice, check_range

SERIES = ("co2", "sunspots")
SEASON = {"co2": 12, "sunspots": 11}


@functools.lru_cache(maxsize=4)
def load_series(series: str) -> np.ndarray:
    """A shipped real series as a 1-D float64 array, oldest first."""
    check_choice("series", series, SERIES)
    import statsmodels.api as sm  # heavy import, only when needed

    if series == "co2":
        weekly = sm.datasets.co2.load_pandas().data["co2"]
        monthly = weekly.resample("MS").mean().interpolate()
        return monthly.to_numpy(dtype=np.float64)
    return sm.datasets.sunspots.load_pandas().data["SUNACTIVITY"].to_numpy(dtype=np.float64)


@dataclass(frozen=True)
class Forecasting(Task):
    """Base of the forecasting tasks: windows over one series, split by time.

    A subclass provides ``series_values()`` and ``season_length``.
    """

    kind: ClassVar[str] = "regress"
    metric: ClassVar[str] = "mase"
    higher_is_better: ClassVar[bool] = False
    inputs: ClassVar[str] = "signal"

    def series_values(self) -> np.ndarray:
        raise NotImplementedError

    @property
    def season_length(self) -> int:
        raise NotImplementedError

    def validate(self) -> None:
        check_range("seq_len", self.seq_len, 1)
        check_range("steps_ahead", self.steps_ahead, 1)
        check_range("train_fraction", self.train_fraction, 0.05, 0.95)
        check_range("val_fraction", self.val_fraction, 0.0, 0.95 - self.train_fraction)
        m = self.season_length
        check_range("season", m, 1)
        if self.steps_ahead > m or self.seq_len < m:
            raise BadInput(
                f"steps_ahead={self.steps_ahead}, seq_len={self.seq_len} are not accepted with "
                f"season {m}; the seasonal-naive baseline needs steps_ahead ≤ {m} ≤ seq_len"
            )
        for split in ("train", "val", "test"):
            if len(self.window_ends(split)) == 0:
                raise BadInput(
                    f"the {split} split has no window of seq_len={self.seq_len} + "
                    f"steps_ahead={self.steps_ahead} in a series of {len(self.series_values())} "
                    f"values; expected a shorter seq_len or a longer series"
                )

    @property
    def input_size(self) -> int:
        return 1

    @property
    def output_size(self) -> int:
        return self.steps_ahead

    @property
    def horizon(self) -> int:
        return self.season_length  # the seasonal-naive forecast reaches back m steps

    def boundaries(self) -> tuple[int, int]:
        """Indices where the val and test parts of the series begin."""
        n = len(self.series_values())
        return int(n * self.train_fraction), int(n * (self.train_fraction + self.val_fraction))

    def window_ends(self, split: str) -> np.ndarray:
        """Last input index t of each window whose targets t+1..t+h all lie in ``split``."""
        n, T, h = len(self.series_values()), self.seq_len, self.steps_ahead
        v, w = self.boundaries()
        lo, hi = {"train": (0, v), "val": (v, w), "test": (w, n)}[split]
        first = np.arange(T - 1, n - h)  # every window that fits
        return first[(first + 1 >= lo) & (first + h < hi)]

    def standardised(self) -> np.ndarray:
        s = self.series_values()
        train = s[: self.boundaries()[0]]
        return (s - train.mean()) / (train.std() or 1.0)

    def scale(self) -> float:
        """MASE denominator: in-sample mean |s_t − s_{t−m}| on the training part (standardised)."""
        train, m = self.standardised()[: self.boundaries()[0]], self.season_length
        return float(np.abs(train[m:] - train[:-m]).mean())

    def _generate(self, split: str) -> Batch:
        s = torch.as_tensor(self.standardised(), dtype=torch.float32)
        T, h = self.seq_len, self.steps_ahead
        ends = torch.as_tensor(self.window_ends(split))  # (N,)
        steps = ends.view(-1, 1) - T + 1 + torch.arange(T)  # (N, T) series index of each step
        level = s[ends].view(-1, 1)  # (N, 1): s_t, the window's last value
        x = (s[steps] - level).unsqueeze(-1)  # (N, T, 1)
        ahead = (steps.unsqueeze(-1) + 1 + torch.arange(h)).clamp(max=len(s) - 1)  # (N, T, h)
        y = s[ahead] - level.unsqueeze(-1)  # (N, T, h); only the last step is scored
        mask = torch.zeros(len(ends), T, dtype=torch.bool)
        mask[:, -1] = True
        return Batch(x, y, mask)

    def evaluate(self, y_pred: Tensor, batch: Batch) -> dict[str, float]:
        out = super().evaluate(y_pred, batch)
        return out | {"mase": out["mae"] / self.scale()}

    def trivial_prediction(self, batch: Batch) -> Tensor:
        """Seasonal naive: ŝ_{t+k} = s_{t+k−m}, read from the window itself (k = 1..h ≤ m)."""
        N, T, h = batch.y.shape
        m = self.season_length
        pred = torch.zeros(N, T, h)
        pred[:, -1] = batch.x[:, T - m : T - m + h, 0]
        return pred

    def baseline_formula(self) -> str:
        return f"seasonal naive ŝ(t+k) = s(t+k−{self.season_length}) on the test windows"


@dataclass(frozen=True)
class Forecast(Forecasting):
    """Forecast a real series shipped with statsmodels (co2 monthly, or yearly sunspots)."""

    name: ClassVar[str] = "forecast"

    series: str = "co2"
    seq_len: int = 36  # T, the window the model reads
    steps_ahead: int = 1  # h, values forecast from the window's last step
    season: int | None = None  # m (None = the series' own: co2 12, sunspots 11)
    train_fraction: float = 0.7
    val_fraction: float = 0.15
    seed: int = 0  # unused: windows are not sampled (kept so every task takes a seed)

    def validate(self) -> None:
        check_choice("series", self.series, SERIES)
        super().validate()

    def series_values(self) -> np.ndarray:
        return load_series(self.series)

    @property
    def season_length(self) -> int:
        return SEASON[self.series] if self.season is None else self.season
