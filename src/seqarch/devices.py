"""Where runs train and whole sequences are timed: ``cpu`` or ``cuda`` (``--device``).

A run's device is part of its config, and so of its id and its recipe: a CPU run and a GPU
run of one recipe are two experiments, never averaged as seeds of one (float arithmetic
differs, and so do their times). CPU runs, the only kind before the field existed, keep their
ids: the field is written only when it is not ``cpu``.

The process's device is set once by the command line (:func:`using`); every RunConfig built
while it is set trains there. Streaming steps at batch 1 are timed on the CPU whatever the
device: a deployment question of the CPU that serves the stream.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from .errors import BadInput

DEVICES = ("cpu", "cuda")
CHOICES = ("auto", *DEVICES)
_current = ["cpu"]


def available(name: str) -> bool:
    import torch

    return name == "cpu" or (name == "cuda" and torch.cuda.is_available())


def resolve(name: str) -> str:
    """``auto`` → ``cuda`` when a GPU is visible, else ``cpu``; ``cuda`` must be visible."""
    if name not in CHOICES:
        raise BadInput(f"device {name!r} is not accepted; expected one of {', '.join(CHOICES)}")
    if name == "auto":
        return "cuda" if available("cuda") else "cpu"
    if not available(name):
        import torch

        raise BadInput(
            f"device {name!r} is not available here (torch {torch.__version__} sees no GPU); "
            "expected cpu or auto"
        )
    return name


def check(name: str) -> str:
    """A run's device as stored: one of :data:`DEVICES` (not resolved: a stored GPU run is
    readable on a machine without one)."""
    if name not in DEVICES:
        raise BadInput(f"device {name!r} is not accepted; expected one of {', '.join(DEVICES)}")
    return name


def current() -> str:
    """The device new runs get (``cpu`` unless a command set another)."""
    return _current[0]


@contextmanager
def using(name: str) -> Iterator[str]:
    """Runs configured inside train on ``name`` (resolved: ``auto`` picks)."""
    before, _current[0] = _current[0], resolve(name)
    try:
        yield _current[0]
    finally:
        _current[0] = before


def describe(name: str | None = None) -> str:
    """``cpu``, or ``cuda (NVIDIA H200)``: what a measurement's environment records."""
    import torch

    name = name or current()
    if name == "cuda" and torch.cuda.is_available():
        return f"cuda ({torch.cuda.get_device_name(0)})"
    return name


def synchronize(name: str) -> None:
    """Wait for the device's queued work (a GPU timer must, or it times the launch)."""
    if name == "cuda":
        import torch

        torch.cuda.synchronize()
