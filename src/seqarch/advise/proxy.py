r"""The task the advisor trains on when the user brings no data: the *proxy*.

A real task stands in when one matches the problem's kind and reaches about as far back; the
adding problem, whose signal can be placed at any distance, stands in otherwise. The rule:

1. **Kind.** A streaming problem matches the real streaming tasks (``vad``: speech in noise,
   a label per 10 ms frame; ``activity_stream``: a wrist sensor, the activity at every
   step); a whole-sequence language problem (``--task-kind lm``) matches ``transduce``
   (number words → digits). Other kinds (a whole-sequence classifier, a regressor, a
   forecaster) have no real task here: the adding problem.
2. **Reach.** Of those, the ones whose horizon lies within a factor ``WINDOW`` of the
   problem's: a task that needs far less memory would flatter the short-memory models, one
   that needs far more would understate them. The nearest in log-horizon wins, then the
   nearest in features per step.
3. **Recipe.** A real proxy trains under the recipe of ``seqarch study --preset real`` (its
   sizes and step budget, the fair protocol): the advisor and the preset share their runs.

Worked example — a streaming problem with the signal 20 steps back: ``vad`` reaches 3 steps
(20 / 3 > 2), ``activity_stream`` 30 (30 / 20 ≤ 2): the proxy is ``activity_stream``. With
the signal 500 steps back no real streaming task reaches it: the adding problem at 200 (the
calibration's longest distance).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from ..errors import BadInput

AUTO = "auto"
SYNTHETIC = "adding"  # the calibration task (plans.CALIBRATION_TASK)
WINDOW = 2.0  # a real task stands in when its horizon is within this factor of the problem's


@dataclass(frozen=True)
class Proxy:
    """The task quality is measured on, and why it was chosen."""

    task: str
    real: bool
    why: str  # one clause, printed in the defense
    task_config: dict = field(default_factory=dict)  # a real task's preset configuration
    horizon: int | None = None  # a real task's horizon
    words: str = ""  # what the task is, for a reader

    def label(self) -> str:
        """``activity_stream (a wrist sensor …)`` — the task and what it is."""
        return f"{self.task} ({self.words})" if self.words else self.task

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "real": self.real,
            "why": self.why,
            "task_config": dict(self.task_config),
            "horizon": self.horizon,
            "words": self.words,
        }


def mode_of(spec: Any) -> str | None:
    """The kind of real task that can stand for ``spec``: streaming, sequence, or none."""
    if spec.streaming:
        return "streaming"
    return "sequence" if spec.task_kind == "lm" else None


def _entries() -> list[dict]:
    """The real preset's sweep entries (one per task), each a proxy recipe."""
    from ..presets import REAL

    return REAL["sweep"]


def _configs(entry: dict) -> list[dict]:
    """An entry's task configurations: a list-valued key (transduce's max_digits) expanded."""
    from ..study import _grid

    return _grid(entry.get("task_config", {}))


def candidates(mode: str | None = None) -> list[Proxy]:
    """Every real task configuration of the preset (of ``mode`` when given), with its reach."""
    return list(_candidates(mode))


@cache
def _candidates(mode: str | None) -> tuple[Proxy, ...]:
    """Computed once a process: a task's reach is its test split's longest dependency, and
    transduction generates its whole split to know it (~0.5 s a configuration)."""
    from ..tasks import TASKS, make_task

    out = []
    for entry in _entries():
        cls = TASKS[entry["task"]]
        if cls.proxy_mode is None or (mode is not None and cls.proxy_mode != mode):
            continue
        for config in _configs(entry):
            task = make_task(entry["task"], **config)
            out.append(
                Proxy(
                    task=entry["task"],
                    real=True,
                    why="",
                    task_config=config,
                    horizon=int(task.horizon),
                    words=cls.proxy_words,
                )
            )
    return tuple(out)


def names() -> list[str]:
    """What ``--proxy`` accepts."""
    return [AUTO, SYNTHETIC, *dict.fromkeys(p.task for p in candidates())]


def choose(spec: Any) -> Proxy:
    """The proxy for ``spec`` (its ``proxy`` field: ``auto`` by the rule above, ``adding``, or
    a real task's name — then the configuration nearest the problem's horizon)."""
    want = getattr(spec, "proxy", AUTO)
    if want not in names():
        raise BadInput(f"proxy={want!r} is not accepted; expected one of {', '.join(names())}")
    h = spec.effective_horizon
    if want == SYNTHETIC:
        return Proxy(SYNTHETIC, False, "chosen with --proxy adding")
    if want != AUTO:
        pool = [p for p in candidates() if p.task == want]
        best = min(pool, key=lambda p: _distance(p, spec))
        return _with_why(best, f"chosen with --proxy {want}; horizon {best.horizon}")
    mode = mode_of(spec)
    if mode is None:
        return Proxy(
            SYNTHETIC,
            False,
            f"no real {spec.task_kind} task of whole sequences ships here, so the adding problem "
            f"places the signal {h} steps back",
        )
    pool = candidates(mode)
    near = [p for p in pool if abs(math.log(p.horizon / h)) <= math.log(WINDOW)]
    if not near:
        reach = ", ".join(f"{p.task} {p.horizon}" for p in pool)
        return Proxy(
            SYNTHETIC,
            False,
            f"no real {mode} task reaches {h} steps back within a factor {WINDOW:g} ({reach}), "
            "so the adding problem places the signal there",
        )
    best = min(near, key=lambda p: _distance(p, spec))
    return _with_why(
        best,
        f"the real {mode} task nearest this problem: it reaches {best.horizon} steps back "
        f"(this problem: {h})",
    )


def _distance(p: Proxy, spec: Any) -> tuple[float, float]:
    from ..tasks import make_task

    task = make_task(p.task, **p.task_config)
    return (
        abs(math.log(p.horizon / spec.effective_horizon)),
        abs(math.log(task.input_size / spec.input_size)),
    )


def _with_why(p: Proxy, why: str) -> Proxy:
    return Proxy(p.task, True, why, p.task_config, p.horizon, p.words)


def runs(p: Proxy, names: list[str], protocol: Any = None, max_steps: int | None = None) -> list:
    """A real proxy's runs: the real preset's recipe for its task and configuration, every
    architecture of ``names`` under the fair protocol (the same run ids as the preset's)."""
    from .. import protocol as protocols
    from ..presets import REAL
    from ..study import expand

    entry = next(e for e in _entries() if e["task"] == p.task)
    defaults = {k: v for k, v in REAL["defaults"].items() if k != "protocol"}
    fair = protocol or protocols.DEFAULT
    steps = entry["train"]["max_steps"]
    steps = steps if max_steps is None else min(max_steps, steps)
    train = {**entry["train"], **fair.train_options(steps)}
    one = {**entry, "arch": list(names), "task_config": dict(p.task_config), "train": train}
    out = []
    for base in expand({"defaults": defaults, "sweep": [one]}):
        out.extend(protocols.expand(base, fair))
    return out
