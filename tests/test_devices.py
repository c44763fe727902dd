"""--device: where runs train. A GPU run is its own experiment (its id and its recipe say so);
CPU runs keep the ids they had before the field existed; a device that is not here is bad input."""

from __future__ import annotations

import pytest
import torch
from typer.testing import CliRunner

from seqarch import devices
from seqarch.cli import app
from seqarch.errors import BadInput
from seqarch.ids import recipe
from seqarch.study import units
from seqarch.train import RunConfig, TrainConfig, on, train

NO_GPU = not torch.cuda.is_available()


def _run(**kw) -> RunConfig:
    return RunConfig(arch="gru", task="adding", task_config={"seq_len": 10}, **kw)


def test_a_cpu_run_keeps_its_id_and_a_gpu_run_is_another_experiment():
    cpu = _run()
    assert cpu.device == "cpu" and "device" not in cpu.to_dict()  # ids from before the field
    gpu = _run(device="cuda")  # readable anywhere: a stored GPU run on a machine without one
    assert gpu.to_dict()["device"] == "cuda" and gpu.id != cpu.id
    assert RunConfig.from_dict(gpu.to_dict()) == gpu and RunConfig.from_dict(cpu.to_dict()) == cpu
    # never seeds of one recipe: study.summarize groups by the recipe
    assert recipe(gpu.to_dict()) != recipe(cpu.to_dict())
    with pytest.raises(BadInput, match="'tpu' is not accepted; expected one of cpu, cuda"):
        _run(device="tpu")


def test_the_process_device_is_what_new_runs_get():
    with devices.using("auto") as name:
        assert name == ("cpu" if NO_GPU else "cuda") and _run().device == name
    assert devices.current() == "cpu"
    with pytest.raises(BadInput, match="'gpu' is not accepted; expected one of auto, cpu, cuda"):
        devices.resolve("gpu")


@pytest.mark.skipif(not NO_GPU, reason="a GPU is visible")
def test_cuda_without_a_gpu_is_one_line_and_exit_2():
    with pytest.raises(BadInput, match="'cuda' is not available here"):
        devices.resolve("cuda")
    for command in (["study"], ["reproduce", "zoology-mqar"], ["bench"], ["claims"]):
        r = CliRunner().invoke(app, [*command, "--device", "cuda", "--db", "x.db"])
        assert r.exit_code == 2 and "expected cpu or auto" in r.output, (command, r.output)
        assert "Traceback" not in r.output


def test_gpu_runs_train_alone_and_say_why():
    gpu = [_run(device="cuda", train=TrainConfig(lr=lr)) for lr in (1e-3, 3e-3)]
    cpu = [_run(train=TrainConfig(lr=lr)) for lr in (1e-3, 3e-3)]
    work, why = units(gpu + cpu)
    assert sorted(len(u) for u in work) == [1, 1, 2]  # the CPU sweep is one population
    assert any("run on the CPU; cuda runs train alone" in w for w in why)


def test_a_cpu_run_trains_as_before():
    run = _run(train=TrainConfig(max_steps=3, eval_every=1, batch_size=8), seed=1)
    a, b = train(run), train(run)
    assert a.metrics["steps"] == 3 and a.metrics["mse"] == b.metrics["mse"]
    batch = object()
    assert on(batch, "cpu") is batch  # nothing moves on the CPU


@pytest.mark.skipif(NO_GPU, reason="no GPU here: benchmarks/gpu_check.sh runs this where one is")
def test_a_gpu_run_trains_and_its_model_comes_back_to_the_cpu():
    run = _run(device="cuda", train=TrainConfig(max_steps=3, eval_every=1, batch_size=8))
    result = train(run, keep_model=True)
    assert result.metrics["steps"] == 3
    assert next(result.model.parameters()).device.type == "cpu"
