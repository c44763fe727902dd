"""Stored evidence, read one way: how far back a stored run's signal lies, the newest
measurement under a key, and which timing is "the step latency". The advisor, the claims ledger
and the report read through these, so one stored row means one thing everywhere.

Below advise, claims and report; above the store's rows (plain dicts) and the records.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from .ids import canonical_json
from .records import Latency


@cache
def _horizon(task: str, task_config_json: str) -> int | None:
    from .tasks import make_task

    try:
        return make_task(task, **json.loads(task_config_json)).horizon
    except (ValueError, TypeError, OSError):  # a task this version no longer builds
        return None


def horizon(task: str, task_config: dict) -> int | None:
    """How far back the signal lies in ``task`` built with ``task_config`` — from the task
    itself, never a hand-kept table (once per configuration and process: some tasks build a
    split to know it)."""
    return _horizon(str(task), canonical_json(task_config or {}))


def run_horizon(run: dict) -> int | None:
    """:func:`horizon` of a stored run."""
    return horizon(run["config"]["task"], run["config"].get("task_config", {}))


def latest(rows: list[dict], **key: Any) -> dict | None:
    """The newest stored measurement among ``rows`` whose key holds every item of ``key``."""
    hits = [m for m in rows if all(m["key"].get(k) == v for k, v in key.items())]
    return max(hits, key=lambda m: m["created"]) if hits else None


def step(rows: list[dict], **key: Any) -> Latency | None:
    """The step latency under ``key``: the newest timing of the seqarch streaming runtime (what
    one would deploy) when there is one, else the newest eager ``step``."""
    hits = [m for m in rows if all(m["key"].get(k) == v for k, v in key.items())]
    timed = [Latency.read(m) for m in hits]
    pool = [r for r in timed if r.streams] or timed
    return max(pool, key=lambda r: r.created) if pool else None
