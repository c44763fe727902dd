"""The problem, as an engineer states it: :class:`ProblemSpec`."""

from __future__ import annotations

import math
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from ..errors import BadInput
from ..models import MODELS

TASK_KINDS = ("classify", "regress", "forecast", "lm")
KEY_REASONS = (
    "latency",
    "memory",
    "training_budget",
    "long_range",
    "short_range",
    "data",
    "tie",
    "unresolved",  # a cheaper model may be as good: the paired difference cannot tell yet
    "cost",  # no quality evidence: the ranking is by cost alone
)
CALIBRATION_MAX_HORIZON = 200  # the longest distance the on-demand calibration trains at


def calibration_horizon(spec: ProblemSpec) -> int:
    """The distance the on-demand calibration trains at: the spec's, capped for CPU budgets."""
    return max(2, min(spec.effective_horizon, CALIBRATION_MAX_HORIZON))


@dataclass(frozen=True)
class ProblemSpec:
    """A problem, as an engineer would state it. Lengths are in time steps."""

    seq_len: int  # typical sequence length T
    max_len: int | None = None  # longest sequence served (None = seq_len)
    horizon: int | None = None  # how far back the relevant information lies (None = unknown)
    streaming: bool = False  # an output per arriving step, state carried between steps
    latency_us: float | None = None  # per step when streaming, per sequence otherwise
    memory_mb: float | None = None  # inference state + weights
    train_minutes: float | None = None  # training budget on this machine
    input_size: int = 1  # features per step
    output_size: int = 1  # classes, or regression width
    task_kind: str = "classify"  # classify | regress | forecast | lm
    hidden_size: int = 128  # the model width the costs are evaluated at
    num_layers: int = 1
    data: str | None = None  # the user's own data file (CSV / NPZ)
    column: str | None = None  # forecasting: the series' CSV column (name or 1-based number)
    proxy: str = "auto"  # without data: the task quality is measured on (advise/proxy.py)

    def __post_init__(self) -> None:
        if self.column is not None and (self.task_kind != "forecast" or self.data is None):
            raise BadInput(
                f"column={self.column!r} is not accepted here; expected it with --data FILE "
                "and --task-kind forecast (it names the series' column)"
            )
        if self.proxy != "auto":
            from .proxy import names

            if self.data is not None:
                raise BadInput(
                    f"proxy={self.proxy!r} is not accepted with --data FILE; expected it only "
                    "without data (the comparison then runs on your file)"
                )
            if self.proxy not in names():
                raise BadInput(
                    f"proxy={self.proxy!r} is not accepted; expected one of {', '.join(names())}"
                )
        for name in ("seq_len", "input_size", "output_size", "hidden_size", "num_layers"):
            _positive_int(name, getattr(self, name))
        if self.max_len is not None:
            _positive_int("max_len", self.max_len)
            if self.max_len < self.seq_len:
                raise BadInput(
                    f"max_len={self.max_len} is shorter than seq_len={self.seq_len}; "
                    "expected max_len ≥ seq_len (or leave it out)"
                )
        if self.horizon is not None:
            _positive_int("horizon", self.horizon)
            if self.horizon >= self.longest:
                raise BadInput(
                    f"horizon={self.horizon} is not accepted: the signal cannot lie further back "
                    f"than the sequence is long (max_len={self.longest}); expected 1 ≤ horizon "
                    f"< {self.longest}, or 'unknown'"
                )
        for name in ("latency_us", "memory_mb", "train_minutes"):
            value = getattr(self, name)
            if value is not None and (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
                or value <= 0
            ):
                raise BadInput(f"{name}={value!r} is not accepted; expected a positive number")
        if self.task_kind not in TASK_KINDS:
            raise BadInput(
                f"task_kind={self.task_kind!r} is not accepted; expected one of "
                f"{', '.join(TASK_KINDS)}"
            )
        if self.data is not None and not Path(self.data).is_file():
            raise BadInput(f"data file {self.data!r} does not exist; expected a CSV or NPZ file")

    @property
    def longest(self) -> int:
        return self.max_len or self.seq_len

    @property
    def effective_horizon(self) -> int:
        """The horizon, or — when unknown — the worst case: the whole sequence."""
        return self.horizon if self.horizon is not None else self.longest - 1

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ProblemSpec:
        names = {f.name for f in fields(cls)}
        unknown = [k for k in d if k.replace("-", "_") not in names]
        if unknown:
            raise BadInput(
                f"spec field {unknown[0]!r} is not accepted; expected any of {', '.join(names)}"
            )
        clean = {k.replace("-", "_"): v for k, v in d.items()}
        if clean.get("horizon") == "unknown":
            clean["horizon"] = None
        return cls(**clean)

    @classmethod
    def from_toml(cls, path: str | Path) -> ProblemSpec:
        try:
            with open(path, "rb") as f:
                d = tomllib.load(f)
        except FileNotFoundError:
            raise BadInput(
                f"spec file {str(path)!r} does not exist; expected a TOML file"
            ) from None
        except tomllib.TOMLDecodeError as e:
            raise BadInput(f"spec file {str(path)!r} is not valid TOML: {e}") from None
        return cls.from_dict(d.get("problem", d))

    @classmethod
    def from_options(cls, spec: str | Path | None = None, **options: Any) -> ProblemSpec:
        """The command line's problem: the TOML file ``spec`` if given, else the options (any
        of this class's fields; ``horizon`` an integer string or 'unknown'). Options that are
        not fields are ignored, so a caller may pass everything it parsed."""
        if spec is not None:
            return cls.from_toml(spec)
        names = {f.name for f in fields(cls)}
        d = {k: v for k, v in options.items() if k in names}
        if d.get("seq_len") is None:
            raise BadInput("--seq-len is required (or give --spec FILE); expected T ≥ 1")
        h = d.get("horizon")
        if isinstance(h, str) and h != "unknown":
            try:
                d["horizon"] = int(h)
            except ValueError:
                raise BadInput(
                    f"horizon={h!r} is not accepted; expected an integer or 'unknown'"
                ) from None
        return cls.from_dict(d)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _positive_int(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise BadInput(f"{name}={value!r} is not accepted; expected a positive integer")


def archs(names: Iterable[str] | None = None) -> list[str]:
    """The architectures to rank: ``names`` (checked against the registry) or all of them."""
    if names is None:
        return list(MODELS)
    names = [n.strip() for n in names if n.strip()]
    for n in names:
        if n not in MODELS:
            raise BadInput(f"architecture {n!r} is not known; expected any of {', '.join(MODELS)}")
    if not names:
        raise BadInput("no architectures given; expected any of " + ", ".join(MODELS))
    return names


Progress = Callable[[str], None]
