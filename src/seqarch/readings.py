"""Stored evidence, read one way: how far back a stored run's signal lies, which runs count
where several recipes measured one thing, the newest measurement under a key, and which timing
is "the step latency". The advisor, the claims ledger and the report read through these, so
one stored row means one thing everywhere.

Below advise, claims and report; above the store's rows (plain dicts) and the records.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import cache
from typing import Any

from . import protocol
from .ids import canonical_json
from .records import Latency

DATA_FIELDS = ("dataset", "series", "path")  # task options that name the data a task reads


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


def own_and_complete(group: list[dict]) -> bool:
    """Runs the user trained here, the whole sweep and every seed of their protocol: they win
    over the base's (a partial try does not hide the base's finished comparison)."""
    if any(r.get("origin") == "base" for r in group):
        return False
    tag = group[0]["config"]["train"].get(protocol.PROTOCOL_KEY)
    if not tag:
        return True
    p = protocol.get(tag)
    return len(group) >= len(p.lr_grid) + len(p.seeds) - 1


def preferred(recipes: Iterable[list[dict]]) -> list[dict]:
    """Of several recipes' runs that measured one thing (another protocol, width or step
    budget), the one that counts — never pooled: a protocol's recipe before a run made without
    one, then the user's own complete comparison before the shipped base's, then the recipe
    with the most finished runs, the newest on a tie."""
    return max(
        recipes,
        key=lambda g: (
            bool(g[0]["config"]["train"].get(protocol.PROTOCOL_KEY)),
            own_and_complete(g),
            len(g),
            max(r.get("finished") or 0 for r in g),
        ),
    )


def comparisons(runs: Iterable[dict]) -> dict[tuple, list[dict]]:
    """Finished runs with metrics, by what they measured — (task, its data, arch, horizon; the
    sequence length where a task has no horizon) — each the runs of the one recipe that counts
    there (:func:`preferred`): a protocol recipe's whole sweep and seeds, for its selection."""
    by: dict[tuple, dict[str, list[dict]]] = {}
    for r in runs:
        if r.get("status", "done") != "done" or not r.get("metrics"):
            continue
        c = r["config"]
        task_config = c.get("task_config") or {}
        h = run_horizon(r)
        h = task_config.get("seq_len", r["metrics"].get("seq_len")) if h is None else h
        data = canonical_json({k: task_config[k] for k in DATA_FIELDS if k in task_config})
        key = (c["task"], data, c["arch"], h)
        by.setdefault(key, {}).setdefault(protocol.recipe_key(c), []).append(r)
    return {key: preferred(recipes.values()) for key, recipes in by.items()}


def _holding(rows: list[dict], key: dict) -> list[dict]:
    return [m for m in rows if all(m["key"].get(k) == v for k, v in key.items())]


def latest(rows: list[dict], **key: Any) -> dict | None:
    """The newest stored measurement among ``rows`` whose key holds every item of ``key``."""
    hits = _holding(rows, key)
    return max(hits, key=lambda m: m["created"]) if hits else None


def step(rows: list[dict], **key: Any) -> Latency | None:
    """The step latency under ``key``: the newest timing of the seqarch streaming runtime (what
    one would deploy) when there is one, else the newest eager ``step``."""
    timed = [Latency.read(m) for m in _holding(rows, key)]
    pool = [r for r in timed if r.streams] or timed
    return max(pool, key=lambda r: r.created) if pool else None
