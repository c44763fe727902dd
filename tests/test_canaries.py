"""Recipe canaries: known-solvable configurations that must solve within a fixed step budget on
one thread. A recipe defect (a start-up scale, a read-in, a schedule) fails here, in CI, instead
of becoming a finding about architectures.

Each is a configuration the field solves routinely; the thresholds sit far from the trivial
baseline and the step budgets leave a margin over what solved here (docs/init-audit.md).
Reverting the token read-in (``tokens=False``: one-hot rows through a Linear's default scale,
drowned by the position table) fails the attention canary: accuracy ≈ 0.26 instead of ≈ 1.
"""

from __future__ import annotations

import pytest
import torch

from seqarch.train import RunConfig, TrainConfig, train

MQAR = {"seq_len": 32, "n_pairs": 4, "n_keys": 16, "n_values": 16, "n_train": 4000}
ATTENTION = {"hidden_size": 64, "num_layers": 2, "positions": "learned", "num_heads": 1}

CANARIES = [
    # (id, arch, task, task config, model config, steps, lr, metric, threshold)
    ("attention-mqar", "transformer", "recall", MQAR, ATTENTION, 600, 3e-3, "accuracy", 0.95),
    ("lstm-adding", "lstm", "adding", {"seq_len": 30}, {}, 1500, 3e-3, "mse", 0.05),
    ("gru-adding", "gru", "adding", {"seq_len": 30}, {}, 600, 1e-2, "mse", 0.05),
    (
        "mingru-selective-copy",
        "mingru",
        "selective_copy",
        {"seq_len": 32, "n_tokens": 4, "n_symbols": 8},
        {"num_layers": 3},
        1500,
        1e-2,
        "accuracy",
        0.95,
    ),
]


def _solve(arch, task, task_config, model_config, steps, lr, metric):
    torch.set_num_threads(1)
    run = RunConfig(
        arch=arch,
        task=task,
        task_config={**task_config, "n_train": 4000},
        model_config={"hidden_size": 64, **model_config},
        train=TrainConfig(batch_size=32, max_steps=steps, lr=lr, eval_every=steps // 10),
    )
    m = train(run).metrics
    return m[metric], m[f"baseline_{metric}"]


@pytest.mark.parametrize(
    "arch, task, task_config, model_config, steps, lr, metric, threshold",
    [pytest.param(*c[1:], id=c[0]) for c in CANARIES],
)
def test_known_solvable_configuration_solves(
    arch, task, task_config, model_config, steps, lr, metric, threshold
):
    value, baseline = _solve(arch, task, task_config, model_config, steps, lr, metric)
    if metric == "accuracy":
        assert value >= threshold, f"{arch} on {task}: {value:.3f} (baseline {baseline:.3f})"
    else:
        assert value <= threshold, f"{arch} on {task}: {value:.4f} (baseline {baseline:.4f})"
