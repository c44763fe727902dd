"""A run's identity: its config as canonical JSON, the hash of it, and its recipe (the config
but its seeds). Pure functions, below the store, the protocol and the training loop alike."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def canonical_json(obj: Any) -> str:
    """JSON with sorted keys and no spaces: equal configs give equal strings."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=True)


def recipe(config: dict) -> dict[str, Any]:
    """A run config's options but its seeds, flattened: {"train.dropout": 0.3, ...}. Runs with
    equal recipes are seeds of one experiment; different recipes (an ablation's arms, a preset
    whose budget changed) are not one distribution."""
    flat: dict[str, Any] = {}
    for section in ("task_config", "model_config", "train"):
        for k, v in config.get(section, {}).items():
            if k != "seed":
                flat[f"{section.split('_')[0]}.{k}"] = v
    if config.get("device", "cpu") != "cpu":  # a GPU run is never a seed of a CPU experiment
        flat["device"] = config["device"]
    return flat


def run_id(config: dict) -> str:
    """sha256 of the canonical JSON of ``config``, first 16 hex characters."""
    return hashlib.sha256(canonical_json(config).encode()).hexdigest()[:16]


def recipe_key(config: dict) -> str:
    """What the runs of one protocol comparison share: the config without lr and seeds."""
    flat = {k: v for k, v in recipe(config).items() if k != "train.lr"}
    return canonical_json({"arch": config["arch"], "task": config["task"], **flat})
