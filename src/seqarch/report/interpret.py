r"""What a trained model keeps and where it looks: gate activations and attention maps.

At report time a tiny model of each kind that shows something (``shows`` on the model class:
gates or attention) is trained on the adding problem (T = 20; two marked values, their sum at
the last step; seqarch.tasks.adding) for a few hundred Adam steps — a few seconds on a CPU,
independent of the store, deterministic for a seed. Then, on one sample sequence from the test
split, the model's own ``gate_values`` or ``attention_weights``:

    LSTM (the reference cell's own pre_activations, layer 0):
        i_t = σ(a_i)  input gate    f_t = σ(a_f)  forget gate    o_t = σ(a_o)  output gate
    GRU:
        r_t = σ(x_r + h_r)  reset gate    z_t = σ(x_z + h_z)  update gate (z ≈ 1 keeps h_{t−1})
    Transformer (block 0, every head):
        A = softmax(Q Kᵀ / √d_k + M),   Q, K from the block's in_proj of LN_1(e),   M causal

Each is a (units × steps) or (query × key) matrix of values in [0, 1].
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache

import torch

from ..errors import BadInput
from ..models import MODELS, accepted_options, build
from ..tasks import make_task

SEQ_LEN = 20  # short enough to train in seconds, long enough to see a marker held
HIDDEN = 16
HEADS = 2
DRAWN = ("gates", "attention")  # what this figure draws of what a model ``shows``
# the models that show one of them, asked of the classes (today lstm, gru, transformer)
ARCHS = tuple(name for name, cls in MODELS.items() if set(cls.shows) & set(DRAWN))


@dataclass
class Interpretation:
    """Gate or attention maps of one trained model on one sample sequence."""

    arch: str
    shows: str  # what the maps are: "gates" or "attention" (the first the model shows)
    maps: dict[str, list[list[float]]]  # name -> (units × T) gates, or (T × T) attention
    values: list[float]  # the sample's values v_t (T,)
    markers: list[int]  # the marked steps p₁, p₂
    target: float
    prediction: float
    test_mse: float
    baseline_mse: float
    steps: int
    seconds: float


def _train(arch: str, steps: int, seed: int) -> tuple[torch.nn.Module, object]:
    """Adam on the adding problem; returns the model and the task."""
    torch.manual_seed(seed)
    task = make_task("adding", seq_len=SEQ_LEN, seed=seed, n_train=2048, n_val=8, n_test=256)
    options = {"num_heads": HEADS, "max_len": SEQ_LEN}  # for the models that take them
    extra = {k: v for k, v in options.items() if k in accepted_options(arch)}
    model = build(arch, input_size=task.input_size, hidden_size=HIDDEN, output_size=1, **extra)
    data = task.data("train")
    x, y = torch.as_tensor(data.x), torch.as_tensor(data.y)  # (N, T, 2), (N, T, 1)
    mask = torch.as_tensor(data.mask)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        idx = torch.randint(0, x.shape[0], (64,), generator=gen)
        pred = model(x[idx])[0]  # (64, T, 1)
        loss = (pred - y[idx])[mask[idx]].pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval(), task


@lru_cache(maxsize=16)
def interpret(arch: str, steps: int = 400, seed: int = 0) -> Interpretation:
    """Train a tiny ``arch`` on the adding problem and read its gates or attention."""
    if arch not in ARCHS:
        raise BadInput(
            f"arch {arch!r} is not accepted (it shows neither gates nor attention); "
            f"expected one of {', '.join(ARCHS)}"
        )
    if steps < 1:
        raise BadInput(f"steps={steps} is not accepted; expected a positive integer")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matrices: one thread is fastest and deterministic
    try:
        t0 = time.perf_counter()
        model, task = _train(arch, steps, seed)
        seconds = time.perf_counter() - t0
    finally:
        torch.set_num_threads(threads)
    test = task.data("test")
    with torch.no_grad():
        pred = model(torch.as_tensor(test.x))[0][:, -1, 0]  # (N,)
        target = torch.as_tensor(test.y)[:, -1, 0]
        test_mse = float((pred - target).pow(2).mean())
    x = torch.as_tensor(test.x[0])  # (T, 2): value, marker
    shows = next(s for s in model.shows if s in DRAWN)
    with torch.no_grad():
        if shows == "gates":
            maps = {g: v[0].T for g, v in model.gate_values(x[None]).items()}  # (H, T) each
        else:  # "attention"
            maps = {h: A[0] for h, A in model.attention_weights(x[None]).items()}  # (T, T) each
    return Interpretation(
        arch=arch,
        shows=shows,
        maps={k: v.tolist() for k, v in maps.items()},
        values=x[:, 0].tolist(),
        markers=[int(t) for t in torch.nonzero(x[:, 1]).flatten()],
        target=float(target[0]),
        prediction=float(pred[0]),
        test_mse=test_mse,
        baseline_mse=float(task.baseline()["mse"]),
        steps=steps,
        seconds=seconds,
    )
