r"""Checks that every hand-written backward pass is right, two independent ways.

1. Central finite differences (float64): for every entry θ_j of every parameter and input,

       ∂L/∂θ_j ≈ (L(θ + ε e_j) − L(θ − ε e_j)) / 2ε,      error O(ε²)

   compared by the relative error ‖g_hand − g_fd‖ / max(‖g_hand‖, ‖g_fd‖) < 1e-6.
2. PyTorch autograd through the ``seqarch.models`` implementation holding the same weights
   (float64), both the equation-by-equation path (impl="reference") and PyTorch's fused kernel
   (impl="fast"); max |g_hand − g_autograd| < 1e-10.

The loss is L = Σ_{b,t,j} R_{btj} h_{btj} with a fixed random R, so ∂L/∂h = R reaches every
output at every step and every path through time is exercised.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch

from ..models import build
from ..models.transformer import CausalSelfAttention
from ._numeric import check_sizes
from .numpy_models import NUMPY_MODELS, numpy_model

FD_TOLERANCE = 1e-6  # relative error, finite differences vs hand backward
AUTOGRAD_TOLERANCE = 1e-10  # absolute error, autograd vs hand backward
EPSILON = 1e-6  # central-difference step


@dataclass(frozen=True)
class GradCheck:
    """One tensor's gradient, checked: hand backward vs finite differences and autograd."""

    arch: str
    seed: int
    tensor: str  # W_x, W_h, b_x, b_h, x, h0, C0 (or W_in, b_in, W_O, b_O, x for attention)
    shape: tuple[int, ...]
    fd_relative_error: float
    autograd_abs_error: float

    @property
    def passed(self) -> bool:
        return (
            self.fd_relative_error < FD_TOLERANCE and self.autograd_abs_error < AUTOGRAD_TOLERANCE
        )

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "shape": list(self.shape), "passed": self.passed}


@dataclass
class Problem:
    """Weights, input, initial state and upstream gradient R of one gradient check."""

    arch: str
    params: dict[str, np.ndarray]
    x: np.ndarray  # (B, T, D)
    state: dict[str, np.ndarray]  # h0 (and C0) (B, H), nonzero so their gradients are checked
    R: np.ndarray  # ∂L/∂h (B, T, H)

    def tensors(self) -> dict[str, np.ndarray]:
        """Every array the loss depends on, by name (the arrays themselves, not copies)."""
        return {**self.params, "x": self.x, **self.state}

    def loss(self) -> float:
        h, _ = numpy_model(self.arch).forward(self.params, self.x, **self.state)
        return float(np.sum(self.R * h))  # L = Σ R ⊙ h


def make_problem(
    arch: str,
    seed: int,
    batch_size: int = 2,
    seq_len: int = 5,
    input_size: int = 3,
    hidden_size: int = 4,
) -> Problem:
    """A small random problem; attention uses input_size = hidden_size (it maps d to d)."""
    model = numpy_model(arch)
    check_sizes(
        batch_size=batch_size, seq_len=seq_len, input_size=input_size, hidden_size=hidden_size
    )
    if arch == "attention":
        input_size = hidden_size
    rng = np.random.default_rng(seed)
    params = model.init_params(input_size, hidden_size, rng)
    x = rng.standard_normal((batch_size, seq_len, input_size))
    state = {k: 0.5 * rng.standard_normal((batch_size, hidden_size)) for k in model.STATE}
    R = rng.standard_normal((batch_size, seq_len, hidden_size))
    return Problem(arch, params, x, state, R)


def hand_gradients(p: Problem) -> dict[str, np.ndarray]:
    """∂L/∂(every tensor) from the model's hand-written backward pass."""
    model = numpy_model(p.arch)
    _, cache = model.forward(p.params, p.x, **p.state)
    return model.backward(p.params, cache, p.R)


def numeric_gradient(f: Callable[[], float], a: np.ndarray, eps: float = EPSILON) -> np.ndarray:
    """Central differences of f() with respect to every entry of ``a`` (perturbed in place)."""
    g = np.zeros_like(a)
    flat, gflat = a.reshape(-1), g.reshape(-1)  # views: writing flat[j] writes a
    for j in range(flat.size):
        old = flat[j]
        flat[j] = old + eps
        up = f()
        flat[j] = old - eps
        down = f()
        flat[j] = old
        gflat[j] = (up - down) / (2 * eps)  # (L(θ + ε e_j) − L(θ − ε e_j)) / 2ε
    return g


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """‖a − b‖ / max(‖a‖, ‖b‖), 0 when both are 0."""
    scale = max(np.linalg.norm(a), np.linalg.norm(b))
    return 0.0 if scale == 0 else float(np.linalg.norm(a - b) / scale)


def autograd_gradients(p: Problem, impl: str = "reference") -> dict[str, np.ndarray]:
    """∂L/∂(every tensor) by PyTorch autograd through seqarch.models on the same weights."""
    t = {
        k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in p.tensors().items()
    }
    twin = getattr(numpy_model(p.arch), "torch_twin", None)
    if twin is not None:  # a model that names its own twin and weights (shapes may differ)
        model, weights = twin(p.params, impl)
        with torch.no_grad():
            for k, w in weights.items():
                w.copy_(t[k].reshape(w.shape))
        h, _ = model(t["x"])
    elif p.arch == "attention":
        d = p.x.shape[-1]
        attn = CausalSelfAttention(d, num_heads=1, dropout=0.0, impl=impl).double()
        weights = {
            "W_in": attn.in_proj.weight,
            "b_in": attn.in_proj.bias,
            "W_O": attn.out_proj.weight,
            "b_O": attn.out_proj.bias,
        }
        empty = torch.zeros(p.x.shape[0], 1, 0, d, dtype=torch.float64)  # no KV cache
        with torch.no_grad():
            for k, w in weights.items():
                w.copy_(t[k])
        h, _ = attn(t["x"], (empty, empty))
    else:
        D, H = p.x.shape[-1], p.R.shape[-1]
        model = build(p.arch, input_size=D, hidden_size=H, impl=impl).double()
        cell = model.cells[0]
        weights = {"W_x": cell.W_x, "W_h": cell.W_h, "b_x": cell.b_x, "b_h": cell.b_h}
        with torch.no_grad():
            for k, w in weights.items():
                w.copy_(t[k])
        state = tuple(t[k].unsqueeze(0) for k in NUMPY_MODELS[p.arch].STATE)  # (1, B, H) each
        h, _ = model(t["x"], state[0] if len(state) == 1 else state)
    loss = (torch.tensor(p.R) * h).sum()  # L = Σ R ⊙ h
    loss.backward()
    grads = {k: w.grad.reshape(t[k].shape) for k, w in weights.items()}
    grads.update({k: t[k].grad for k in ("x", *NUMPY_MODELS[p.arch].STATE)})
    return {k: g.numpy() for k, g in grads.items()}


def check(arch: str, seed: int, **sizes: int) -> list[GradCheck]:
    """Every tensor of one problem: hand backward vs finite differences and vs autograd."""
    p = make_problem(arch, seed, **sizes)
    hand = hand_gradients(p)
    by_autograd = [autograd_gradients(p, impl) for impl in ("reference", "fast")]
    results = []
    for name, a in p.tensors().items():
        fd = numeric_gradient(p.loss, a)
        autograd_err = max(float(np.max(np.abs(hand[name] - g[name]))) for g in by_autograd)
        results.append(
            GradCheck(arch, seed, name, a.shape, relative_error(hand[name], fd), autograd_err)
        )
    return results


def check_all(
    archs: tuple[str, ...] = tuple(NUMPY_MODELS), seeds: tuple[int, ...] = (0, 1, 2)
) -> list[GradCheck]:
    """The full suite: every architecture, every seed, every tensor."""
    return [r for arch in archs for seed in seeds for r in check(arch, seed)]
