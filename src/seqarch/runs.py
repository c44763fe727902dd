"""A stored training run, typed: what the store (and the shipped evidence base beneath it)
hands every reader.

``config`` is the :class:`~seqarch.train.RunConfig` the run trained under, read back from
the stored JSON; the rest is what training produced and where. Readers ask ``run.config.arch``
or ``run.config.train.lr``, never a dict path, so a renamed field fails in one place.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from .errors import BadInput
from .ids import recipe, recipe_key
from .train import RunConfig


@dataclass(frozen=True)
class Run:
    id: str
    config: RunConfig
    metrics: dict = field(default_factory=dict)  # test, val_<m>, baseline_<m>, params, ...
    curve: list = field(default_factory=list)  # [{step, train_loss, val_...}]
    env: dict = field(default_factory=dict)  # seqarch.machine.environment() where it trained
    status: str = "done"  # done | failed
    started: float = 0.0
    finished: float = 0.0
    origin: str = "mine"  # "mine" (the user's store) or "base" (the shipped evidence base)

    @classmethod
    def of(cls, config: dict | RunConfig, metrics: dict | None = None, **rest: Any) -> Run:
        """A run from a config (dict or RunConfig) and what it produced; its id is the config's
        unless given."""
        cfg = config if isinstance(config, RunConfig) else RunConfig.from_dict(config)
        rest.setdefault("id", cfg.id)
        return cls(config=cfg, metrics=dict(metrics or {}), **rest)

    @classmethod
    def from_row(cls, row: Any, origin: str = "mine") -> Run:
        """A stored row (sqlite3.Row or mapping with the store's columns) as a run."""
        try:
            config = RunConfig.from_dict(json.loads(row["config"]))
        except (BadInput, ValueError, KeyError, TypeError) as e:
            raise BadInput(
                f"stored run {row['id']} has a config this version of seqarch cannot read "
                f"({e}); expected a run stored by this version (rerun it into a new --db)"
            ) from None
        return cls(
            id=row["id"],
            config=config,
            metrics=json.loads(row["metrics"]),
            curve=json.loads(row["curve"]),
            env=json.loads(row["env"]),
            status=row["status"],
            started=float(row["started"] or 0.0),
            finished=float(row["finished"] or 0.0),
            origin=origin,
        )

    @property
    def arch(self) -> str:
        return self.config.arch

    @property
    def task(self) -> str:
        return self.config.task

    @property
    def seed(self) -> int:
        return self.config.seed

    @property
    def lr(self) -> float:
        return float(self.config.train.lr)

    @property
    def protocol(self) -> str | None:
        """The comparison protocol's tag it ran under (seqarch.protocol), or None."""
        return self.config.train.protocol

    @property
    def done(self) -> bool:
        return self.status == "done" and bool(self.metrics)

    @cached_property
    def recipe_key(self) -> str:
        """What the runs of one protocol comparison share (seqarch.ids.recipe_key)."""
        return recipe_key(self.config.to_dict())

    def recipe(self) -> dict[str, Any]:
        """Its options but its seeds, flattened (seqarch.ids.recipe)."""
        return recipe(self.config.to_dict())

    def to_dict(self) -> dict[str, Any]:
        """The stored layout, for JSON output."""
        return {
            "id": self.id,
            "config": self.config.to_dict(),
            "metrics": self.metrics,
            "curve": self.curve,
            "env": self.env,
            "status": self.status,
            "started": self.started,
            "finished": self.finished,
            "origin": self.origin,
        }
