"""Published results, reproduced here: ``seqarch reproduce [NAME] [--quick]``.

Each reproduction is a study under the fair protocol (every model the same lr grid, selection
on validation, three seeds; :mod:`seqarch.protocol`), stored and resumable like any study. Its
result is printed beside the published figure, with every difference of configuration stated,
and a verdict on the published *shape*: ``reproduced`` or ``not reproduced``.

The papers, their numbers and their settings live in ``published.toml`` (one table each); this
module plans the runs (:func:`plan`) and judges the shape (:func:`judge`). ``quick`` is a
smaller version, labelled as such: fewer steps, fewer configurations.
"""

from .reproductions import (
    KIND,
    PUBLISHED,
    REPRODUCTIONS,
    Reproduction,
    Result,
    Row,
    judged,
    papers,
    planned_runs,
    reproduce,
    reproduction,
    result,
)

__all__ = [
    "KIND",
    "PUBLISHED",
    "REPRODUCTIONS",
    "Reproduction",
    "Result",
    "Row",
    "judged",
    "papers",
    "planned_runs",
    "reproduce",
    "reproduction",
    "result",
]
