"""The few NumPy helpers every hand-derived model shares: σ, PyTorch's initialisation, checks.

σ(a) = 1 / (1 + e^{−a})          σ'(a) = σ(a) (1 − σ(a))
tanh'(a) = 1 − tanh²(a)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import BadInput


def sigmoid(a: np.ndarray) -> np.ndarray:
    """σ(a), computed without overflow for large |a|."""
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def uniform_init(
    rng: np.random.Generator, gates: int, input_size: int, hidden_size: int
) -> dict[str, np.ndarray]:
    """W_x (G·H, D), W_h (G·H, H), b_x, b_h (G·H,), each U(−1/√H, 1/√H) as PyTorch draws them."""
    check_sizes(input_size=input_size, hidden_size=hidden_size)
    G, H, D = gates, hidden_size, input_size
    bound = H**-0.5
    shapes = {"W_x": (G * H, D), "W_h": (G * H, H), "b_x": (G * H,), "b_h": (G * H,)}
    return {k: rng.uniform(-bound, bound, size=s) for k, s in shapes.items()}


def check_sizes(**sizes: Any) -> None:
    """Raise a one-line ValueError unless every size is a positive integer."""
    for name, value in sizes.items():
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value <= 0:
            raise BadInput(f"{name}={value!r} is not accepted; expected a positive integer")


def check_sequence(x: np.ndarray, input_size: int) -> np.ndarray:
    """x must be a float (B, T, D) array with D = input_size; returned as float64."""
    x = np.asarray(x)
    if x.ndim != 3 or x.shape[-1] != input_size:
        raise BadInput(
            f"x of shape {x.shape} is not accepted; expected (B, T, D) with D = {input_size}"
        )
    return x.astype(np.float64, copy=False)
