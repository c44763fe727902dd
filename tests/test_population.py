"""Populations: each member trains exactly as the same run trained alone (up to rounding)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from seqarch.models import MODELS
from seqarch.population import train_population
from seqarch.train import RunConfig, TrainConfig, train


def runs(arch: str) -> list[RunConfig]:
    base = RunConfig(
        arch=arch,
        task="adding",
        task_config={"seq_len": 12, "distance": 8, "n_train": 256, "n_val": 64, "n_test": 64},
        model_config={"hidden_size": 8},
        train=TrainConfig(lr=1e-2, batch_size=32, max_steps=24, eval_every=6, patience=1),
    )
    return [base, replace(base, train=replace(base.train, lr=3e-3), seed=1)]


@pytest.mark.parametrize("arch", list(MODELS))
def test_each_member_equals_its_run_alone(arch: str) -> None:
    planned = runs(arch)
    together = train_population(planned)
    for run, member in zip(planned, together, strict=True):
        alone = train(run).metrics
        m = member.metrics
        assert m["steps"] == alone["steps"] and m["stopped"] == alone["stopped"]
        assert m["best_step"] == alone["best_step"]
        for key in ("mse", "val_mse"):
            assert m[key] == pytest.approx(alone[key], rel=1e-4, abs=1e-6), key


def test_a_population_refuses_runs_that_differ_in_more_than_lr_and_seed() -> None:
    a, b = runs("gru")
    with pytest.raises(ValueError, match="differ only in learning rate and seed"):
        train_population([a, replace(b, model_config={"hidden_size": 16})])
