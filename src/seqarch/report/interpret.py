r"""What a trained model keeps and where it looks: gate activations and attention maps.

At report time a tiny model of each kind is trained on the adding problem (T = 20; two marked
values, their sum at the last step; seqarch.tasks.adding) for a few hundred Adam steps — a
few seconds on a CPU, independent of the store, deterministic for a seed. Then, on one sample
sequence from the test split:

    LSTM (the reference cell's own pre_activations, layer 0):
        i_t = σ(a_i)  input gate    f_t = σ(a_f)  forget gate    o_t = σ(a_o)  output gate
    GRU:
        r_t = σ(x_r + h_r)  reset gate    z_t = σ(x_z + h_z)  update gate (z ≈ 1 keeps h_{t−1})
    Transformer (block 0, every head):
        A = softmax(Q Kᵀ / √d_k + M),   Q, K from the block's in_proj of LN_1(e),   M causal

Each is a (units × steps) or (query × key) matrix of values in [0, 1].
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from functools import lru_cache

import torch

from ..errors import BadInput
from ..models import GRU, LSTM, Transformer, build
from ..tasks import make_task

SEQ_LEN = 20  # short enough to train in seconds, long enough to see a marker held
HIDDEN = 16
HEADS = 2
ARCHS = ("lstm", "gru", "transformer")
GATES = {"lstm": ("input", "forget", "output"), "gru": ("reset", "update")}


@dataclass
class Interpretation:
    """Gate or attention maps of one trained model on one sample sequence."""

    arch: str
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
    extra = {"num_heads": HEADS, "max_len": SEQ_LEN} if arch == "transformer" else {}
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


@torch.no_grad()
def lstm_gates(model: LSTM, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """i, f, o of layer 0 over x (T, D) at batch 1: each (H, T)."""
    cell = model.cells[0]
    h = x.new_zeros(1, model.hidden_size)
    C = x.new_zeros(1, model.hidden_size)
    out: dict[str, list[torch.Tensor]] = {g: [] for g in GATES["lstm"]}
    for x_t in x:
        a_x, a_h = cell.pre_activations(x_t[None], h)  # (1, 4H) each
        a_i, a_f, _, a_o = (a_x + a_h).chunk(4, dim=-1)
        out["input"].append(torch.sigmoid(a_i)[0])
        out["forget"].append(torch.sigmoid(a_f)[0])
        out["output"].append(torch.sigmoid(a_o)[0])
        h, C = cell(x_t[None], (h, C))
    return {g: torch.stack(v, dim=1) for g, v in out.items()}


@torch.no_grad()
def gru_gates(model: GRU, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """r, z of layer 0 over x (T, D) at batch 1: each (H, T)."""
    cell = model.cells[0]
    h = x.new_zeros(1, model.hidden_size)
    out: dict[str, list[torch.Tensor]] = {g: [] for g in GATES["gru"]}
    for x_t in x:
        a_x, a_h = cell.pre_activations(x_t[None], h)  # (1, 3H) each
        x_r, x_z, _ = a_x.chunk(3, dim=-1)
        h_r, h_z, _ = a_h.chunk(3, dim=-1)
        out["reset"].append(torch.sigmoid(x_r + h_r)[0])
        out["update"].append(torch.sigmoid(x_z + h_z)[0])
        h = cell(x_t[None], h)
    return {g: torch.stack(v, dim=1) for g, v in out.items()}


@torch.no_grad()
def attention_maps(model: Transformer, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """softmax(Q Kᵀ/√d_k + M) of block 0 per head over x (T, D): each (T query × T key)."""
    block = model.blocks[0]
    attn = block.attn
    e = model.embed(x[None])  # (1, T, d)
    a = block.ln_1(e)
    d = model.hidden_size
    q, k, _ = attn.in_proj(a).split(d, dim=-1)  # (1, T, d) each
    T = x.shape[0]
    q = q.view(1, T, attn.h, attn.d_k).transpose(1, 2)  # (1, h, T, d_k)
    k = k.view(1, T, attn.h, attn.d_k).transpose(1, 2)
    scores = q @ k.transpose(-2, -1) / math.sqrt(attn.d_k)  # (1, h, T, T)
    causal = torch.ones(T, T, dtype=torch.bool).tril()
    A = torch.softmax(scores.masked_fill(~causal, float("-inf")), dim=-1)[0]  # (h, T, T)
    return {f"head {i + 1}": A[i] for i in range(attn.h)}


@lru_cache(maxsize=16)
def interpret(arch: str, steps: int = 400, seed: int = 0) -> Interpretation:
    """Train a tiny ``arch`` on the adding problem and read its gates or attention."""
    if arch not in ARCHS:
        raise BadInput(f"arch {arch!r} is not accepted; expected one of {', '.join(ARCHS)}")
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
    if arch == "lstm":
        maps = lstm_gates(model, x)
    elif arch == "gru":
        maps = gru_gates(model, x)
    else:
        maps = attention_maps(model, x)
    return Interpretation(
        arch=arch,
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
