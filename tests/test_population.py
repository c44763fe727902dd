"""Populations: each member trains exactly as the same run trained alone (up to rounding)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from seqarch import fused
from seqarch.models import MODELS
from seqarch.population import kernel, train_population
from seqarch.train import RunConfig, TrainConfig, train

FUSED = fused.ARCHS  # the architectures with a fused population kernel


def runs(arch: str, **model: object) -> list[RunConfig]:
    base = RunConfig(
        arch=arch,
        task="adding",
        task_config={"seq_len": 12, "distance": 8, "n_train": 256, "n_val": 64, "n_test": 64},
        model_config={"hidden_size": 8, **model},
        train=TrainConfig(lr=1e-2, batch_size=32, max_steps=24, eval_every=6, patience=1),
    )
    return [base, replace(base, train=replace(base.train, lr=3e-3), seed=1)]


def assert_members_equal_runs(planned: list[RunConfig], metrics: tuple[str, ...]) -> list:
    together = train_population(planned)
    for run, member in zip(planned, together, strict=True):
        alone = train(run).metrics
        m = member.metrics
        assert m["steps"] == alone["steps"] and m["stopped"] == alone["stopped"]
        assert m["best_step"] == alone["best_step"]
        for key in metrics:
            assert m[key] == pytest.approx(alone[key], rel=1e-4, abs=1e-6), key
    return together


@pytest.mark.parametrize("arch", list(MODELS))
def test_each_member_equals_its_run_alone(arch: str) -> None:
    together = assert_members_equal_runs(runs(arch), ("mse", "val_mse"))
    expected = "fused" if arch in FUSED else "vmap"
    assert {m.metrics["population_kernel"] for m in together} == {expected}


@pytest.mark.parametrize(
    "arch, model",
    [
        ("rnn", {"nonlinearity": "relu"}),
        ("lstm", {"num_layers": 2}),
        ("gru", {"num_layers": 2}),
        ("mingru", {"num_layers": 2}),
    ],
    ids=["rnn-relu", "lstm-L2", "gru-L2", "mingru-L2"],
)
def test_fused_members_equal_their_runs_in_more_shapes(arch: str, model: dict) -> None:
    planned = runs(arch, **model)
    assert kernel(planned[0])[0] == "fused"
    assert_members_equal_runs(planned, ("mse", "val_mse"))


@pytest.mark.parametrize("arch", FUSED)
def test_fused_members_equal_their_runs_on_tokens_with_cross_entropy(arch: str) -> None:
    base = RunConfig(
        arch=arch,
        task="copy",
        task_config={"seq_len": 14, "n_copy": 3, "n_train": 128, "n_val": 32, "n_test": 32},
        model_config={"hidden_size": 8},
        train=TrainConfig(lr=1e-2, batch_size=32, max_steps=8, eval_every=4),
    )
    planned = [base, replace(base, train=replace(base.train, lr=3e-3), seed=1)]
    assert_members_equal_runs(planned, ("accuracy", "val_accuracy", "xent"))


def test_a_model_without_a_fused_kernel_falls_back_and_says_why() -> None:
    name, why = kernel(runs("lstm")[0])
    assert name == "fused" and "seqarch.fused" in why
    layer_normed = replace(runs("lstm")[0], train=TrainConfig(layer_norm=True))
    name, why = kernel(layer_normed)
    assert name == "vmap" and "layer-normed" in why and "vmap" in why


def test_a_population_refuses_runs_that_differ_in_more_than_lr_and_seed() -> None:
    a, b = runs("gru")
    with pytest.raises(ValueError, match="differ only in learning rate and seed"):
        train_population([a, replace(b, model_config={"hidden_size": 16})])


def test_a_members_wall_clock_budget_counts_its_share_of_the_population() -> None:
    budgeted = [replace(r, train=replace(r.train, time_budget_s=1e-9)) for r in runs("gru")]
    for member in train_population(budgeted):
        assert member.metrics["stopped"] == "time_budget" and member.metrics["steps"] == 1
