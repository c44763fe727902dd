"""The task suite: ``TASKS[name]``, ``make_task(name, **config)`` and ``from_files(path, kind)``.

Every task is a frozen dataclass config with a pure, seeded generator (see :mod:`.base`):

    task = make_task("adding", seq_len=200)
    batch = task.data("train")          # Batch(x (N, T, D), y, mask (N, T), lengths)
    loss = task.loss(model(batch.x)[0], batch)
    task.evaluate(y_pred, batch)[task.metric], task.baseline()[task.metric]

    adding          regress   mse            two marked values, their sum at the end
    copy            classify  xent           K symbols, a delay of T, reproduce them
    selective_copy  classify  accuracy       symbols scattered among noise, reproduce in order
    recall          classify  accuracy       multi-query associative recall (MQAR)
    stream_events   classify  f1             flag short events in a noisy stream, every step
    regime_switch   classify  accuracy       a hidden rule that switches at random, every step
    activity_stream classify  accuracy       the activity under way, every step (real wrist sensors)
    transduce       classify  exact_match    number words (German …) → digits, decoder-only
    vad             classify  f1             speech / non-speech every 10 ms, real speech in noise
    names           classify  bits_per_char  character-level LM of first names (ragged)
    ucr             classify  accuracy       real series shipped with aeon (GunPoint, ...)
    forecast        regress   mase           co2 / sunspots, against the seasonal naive
    file_sequences  either    accuracy|mse   the user's CSV / NPZ (via from_files)
    file_forecast   regress   mase           the user's series (via from_files)
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ..errors import BadInput
from .activity import ActivityStream
from .adding import Adding
from .base import SPLITS, Batch, Task
from .copy import Copy
from .files import FileForecast, FileSequences, from_files
from .forecast import Forecast
from .names import Names
from .recall import Recall
from .regime_switch import RegimeSwitch
from .selective_copy import SelectiveCopy
from .stream_events import StreamEvents
from .transduce import Transduce
from .ucr import UCR
from .vad import VAD

TASKS: dict[str, type[Task]] = {
    cls.name: cls
    for cls in (
        Adding,
        Copy,
        SelectiveCopy,
        Recall,
        StreamEvents,
        RegimeSwitch,
        ActivityStream,
        Transduce,
        VAD,
        Names,
        UCR,
        Forecast,
        FileSequences,
        FileForecast,
    )
}


def task_class(name: str) -> type[Task]:
    if name not in TASKS:
        raise BadInput(f"task {name!r} is not known; expected one of {', '.join(TASKS)}")
    return TASKS[name]


def accepted_options(name: str) -> list[str]:
    """The keyword options ``make_task(name, ...)`` takes."""
    return [f.name for f in dataclasses.fields(task_class(name))]


def make_task(name: str, **config: Any) -> Task:
    """Build a registered task; unknown names, options and bad values raise one-line ValueErrors."""
    accepted = accepted_options(name)
    unknown = [k for k in config if k not in accepted]
    if unknown:
        raise BadInput(
            f"option {unknown[0]!r} is not accepted by task {name}; "
            f"expected any of {', '.join(accepted)}"
        )
    return TASKS[name](**config)


__all__ = [
    "SPLITS",
    "ActivityStream",
    "TASKS",
    "Adding",
    "Batch",
    "Copy",
    "FileForecast",
    "FileSequences",
    "Forecast",
    "Names",
    "Recall",
    "RegimeSwitch",
    "SelectiveCopy",
    "StreamEvents",
    "Task",
    "Transduce",
    "VAD",
    "UCR",
    "accepted_options",
    "from_files",
    "make_task",
    "task_class",
]
