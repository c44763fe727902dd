"""The training loop: it learns, it is deterministic, and its options do what they say."""

from __future__ import annotations

import math

import pytest
import torch

from seqarch.tasks import make_task
from seqarch.train import (
    RunConfig,
    TrainConfig,
    augment,
    lr_factor,
    train,
    window_slice,
)


def adding_run(arch: str = "gru", steps: int = 300, **train_options) -> RunConfig:
    options = {"lr": 1e-2, "batch_size": 32, "max_steps": steps, "eval_every": 100}
    return RunConfig(
        arch=arch,
        task="adding",
        task_config={"seq_len": 20, "n_train": 2000, "n_val": 200, "n_test": 300},
        model_config={"hidden_size": 32},
        train=TrainConfig(**{**options, **train_options}),
        seed=0,
    )


def test_training_drives_adding_at_T20_well_below_its_baseline():
    result = train(adding_run("gru"))
    m = result.metrics
    assert m["baseline_mse"] == pytest.approx(1 / 6)
    assert m["mse"] < 0.2 * m["baseline_mse"]  # well below "always predict 1"
    assert m["val_mse"] < 0.2 * m["baseline_mse"]
    assert m["metric"] == "mse" and m["steps"] == 300 and m["stopped"] == "max_steps"
    assert m["params"] == sum(p.numel() for p in _model_of(adding_run("gru")).parameters())
    steps = [c["step"] for c in result.curve]
    assert steps == [100, 200, 300]
    assert result.curve[-1]["val_metric"] < result.curve[0]["train_loss"]
    assert all(c["seconds"] > 0 for c in result.curve)


def _model_of(run: RunConfig) -> torch.nn.Module:
    from seqarch.train import build_model

    return build_model(run, make_task(run.task, **run.task_config), 20)


def test_the_same_run_gives_the_same_numbers():
    a = train(adding_run("rnn", steps=40, eval_every=20))
    b = train(adding_run("rnn", steps=40, eval_every=20))
    assert a.metrics["mse"] == b.metrics["mse"]
    assert [c["train_loss"] for c in a.curve] == [c["train_loss"] for c in b.curve]
    c = train(RunConfig(**{**adding_run("rnn", steps=40, eval_every=20).__dict__, "seed": 1}))
    assert c.metrics["mse"] != a.metrics["mse"]  # the seed changes initialisation and order


def test_run_id_is_the_hash_of_the_canonical_config():
    a = adding_run()
    b = RunConfig.from_dict(a.to_dict())
    assert a.id == b.id and len(a.id) == 16
    # {"lr": 1} and {"lr": 1.0} are the same run
    assert TrainConfig(lr=1) == TrainConfig(lr=1.0)
    assert adding_run(lr=1).id == adding_run(lr=1.0).id
    assert adding_run(lr=2e-2).id != a.id


def test_early_stopping_and_time_budget_stop_the_run():
    # lr = 0 never improves, so patience 2 stops after 3 evaluations
    m = train(adding_run("rnn", steps=1000, eval_every=10, patience=2, lr=1e-9)).metrics
    assert m["stopped"] == "early_stopping" and m["steps"] == 30
    m = train(adding_run("rnn", steps=100000, time_budget_s=0.5)).metrics
    assert m["stopped"] == "time_budget" and m["steps"] < 100000


def test_epochs_set_the_number_of_steps():
    m = train(adding_run("rnn", steps=None, epochs=2, batch_size=500)).metrics
    assert m["steps"] == 8 and m["epochs"] == 2.0  # 2000 samples / 500 = 4 steps per epoch


def test_the_schedule_warms_up_then_decays_to_zero():
    f = [lr_factor(s, 100, 10, "cosine") for s in range(100)]
    assert f[0] == pytest.approx(0.1) and f[9] == 1.0 and f[10] == 1.0
    assert all(a >= b for a, b in zip(f[10:], f[11:], strict=False))
    assert f[99] < 0.01
    assert lr_factor(50, 100, 10, "constant") == 1.0


def test_clipping_bounds_the_global_gradient_norm():
    # With clip_norm tiny, parameters move by at most lr per step (Adam's update is ~lr·sign).
    run = adding_run("rnn", steps=5, eval_every=5, clip_norm=1e-6, warmup=0.0, schedule="constant")
    m = train(run).metrics
    assert math.isfinite(m["mse"])


def test_augmentation_changes_training_inputs_only_as_asked():
    gen = torch.Generator().manual_seed(0)
    batch = make_task("adding", seq_len=20, n_train=8).data("train")
    same = augment(batch, TrainConfig(), gen)
    assert same is batch
    jittered = augment(batch, TrainConfig(jitter_sigma=0.1), gen)
    assert 0.05 < (jittered.x - batch.x).std() < 0.15
    assert torch.equal(jittered.y, batch.y) and torch.equal(jittered.mask, batch.mask)
    scaled = augment(batch, TrainConfig(scaling_sigma=0.2), gen)
    ratio = scaled.x[..., 0] / batch.x[..., 0]  # one scale per sequence and feature
    assert torch.allclose(ratio, ratio[:, :1].expand_as(ratio), rtol=1e-4)


def test_window_slicing_stretches_a_window_back_to_full_length():
    x = torch.arange(10.0).view(1, 10, 1)  # 0, 1, ..., 9
    gen = torch.Generator().manual_seed(0)
    y = window_slice(x, None, 0.5, gen)[0, :, 0]  # a window of 5 steps, stretched to 10
    assert y[-1] - y[0] == pytest.approx(4.0)  # spans exactly 5 source steps
    assert torch.all(y[1:] >= y[:-1])  # order kept
    # ragged: each sequence is sliced within its own length; padding stays put
    x2 = torch.stack([torch.arange(10.0), torch.cat([torch.arange(4.0), torch.full((6,), -1.0)])])
    y2 = window_slice(x2[..., None], torch.tensor([10, 4]), 0.5, gen)[..., 0]
    assert torch.all(y2[1, 4:] == -1) and y2[1, :4].max() <= 3


def test_bad_options_are_refused_in_one_line():
    with pytest.raises(ValueError, match="lr=0.0 is not accepted"):
        TrainConfig(lr=0)
    with pytest.raises(ValueError, match="exactly one"):
        TrainConfig(max_steps=10, epochs=2)
    with pytest.raises(ValueError, match="window_slice=1.5"):
        TrainConfig(window_slice=1.5)
    with pytest.raises(ValueError, match="'momentum' is not accepted"):
        TrainConfig.from_dict({"momentum": 0.9})
    with pytest.raises(ValueError, match="model 'cnn' is not known"):
        RunConfig(arch="cnn", task="adding")
    with pytest.raises(ValueError, match="'dropout' is not accepted in model_config"):
        RunConfig(arch="rnn", task="adding", model_config={"dropout": 0.1})


@pytest.mark.parametrize("arch", ["lstm", "transformer"])
def test_every_architecture_trains_on_a_classification_task(arch):
    run = RunConfig(
        arch=arch,
        task="stream_events",
        task_config={"seq_len": 60, "n_train": 200, "n_val": 50, "n_test": 50},
        model_config={"hidden_size": 16, "num_heads": 2} if arch == "transformer" else {},
        train=TrainConfig(max_steps=20, eval_every=10, batch_size=32, lr=1e-2),
    )
    m = train(run).metrics
    assert {"f1", "val_f1", "baseline_f1", "accuracy", "params", "train_seconds"} <= set(m)
    assert 0 <= m["f1"] <= 1 and m["seq_len"] == 60
