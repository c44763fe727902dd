r"""The Elman RNN in NumPy: forward over a sequence, and its backward pass written out by hand.

Forward, for t = 1..T (batch-first, x (B, T, D), h (B, T, H); PyTorch's layout and names):

    a_t = W_xh x_t + b_xh + W_hh h_{t−1} + b_hh          pre-activation      (B, H)
    h_t = tanh(a_t)                                      hidden state        (B, H)

Backward through time. Let ∂L/∂h_t|_out be the gradient that arrives at h_t from the loss at
step t (``dh``), and δ_t = ∂L/∂a_t. Walking t = T..1:

    ∂L/∂h_t   = ∂L/∂h_t|_out + δ_{t+1} W_hh             (h_t feeds the loss and a_{t+1})
    δ_t       = ∂L/∂h_t ⊙ (1 − h_t²)                    (tanh' = 1 − tanh²)
    ∂L/∂W_xh += δ_tᵀ x_t        ∂L/∂b_xh += Σ_b δ_t
    ∂L/∂W_hh += δ_tᵀ h_{t−1}    ∂L/∂b_hh += Σ_b δ_t
    ∂L/∂x_t   = δ_t W_xh
    ∂L/∂h_0   = δ_1 W_hh

So ∂h_T/∂h_t = ∏_{k=t+1..T} diag(1 − h_k²) W_hh: T−t Jacobians multiplied together.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._numeric import check_sequence, uniform_init

GATES = 1
STATE = ("h0",)


def init_params(input_size: int, hidden_size: int, rng: np.random.Generator) -> dict[str, Any]:
    """W_x (H, D), W_h (H, H), b_x, b_h (H,): PyTorch's nn.RNN layout and initialisation."""
    return uniform_init(rng, GATES, input_size, hidden_size)


def forward(
    params: dict[str, np.ndarray], x: np.ndarray, h0: np.ndarray | None = None
) -> tuple[np.ndarray, dict[str, Any]]:
    """x (B, T, D) -> h (B, T, H), and the cache the backward pass reads."""
    W_x, W_h, b_x, b_h = params["W_x"], params["W_h"], params["b_x"], params["b_h"]
    x = check_sequence(x, W_x.shape[1])
    B, T, _ = x.shape
    H = W_h.shape[1]
    h_prev = np.zeros((B, H)) if h0 is None else h0  # (B, H)
    hs = np.empty((B, T + 1, H))  # hs[:, t] = h_t, with h_0 in slot 0
    hs[:, 0] = h_prev
    for t in range(T):
        a_t = x[:, t] @ W_x.T + b_x + hs[:, t] @ W_h.T + b_h  # (B, H)
        hs[:, t + 1] = np.tanh(a_t)
    return hs[:, 1:], {"x": x, "hs": hs}


def backward(
    params: dict[str, np.ndarray], cache: dict[str, Any], dh: np.ndarray
) -> dict[str, np.ndarray]:
    """∂L/∂(W_x, W_h, b_x, b_h, x, h0) given dh = ∂L/∂h_t|_out (B, T, H) from the loss."""
    W_x, W_h = params["W_x"], params["W_h"]
    x, hs = cache["x"], cache["hs"]
    T = x.shape[1]
    grads = {k: np.zeros_like(v) for k, v in params.items()}
    dx = np.zeros_like(x)
    delta_next = np.zeros((x.shape[0], W_h.shape[0]))  # δ_{T+1} = 0
    for t in reversed(range(T)):  # slot t+1 of hs holds h_t
        h_t, h_prev = hs[:, t + 1], hs[:, t]
        dh_t = dh[:, t] + delta_next @ W_h  # ∂L/∂h_t = ∂L/∂h_t|_out + δ_{t+1} W_hh
        delta = dh_t * (1.0 - h_t**2)  # δ_t = ∂L/∂h_t ⊙ (1 − h_t²)
        grads["W_x"] += delta.T @ x[:, t]  # ∂L/∂W_xh += δ_tᵀ x_t
        grads["W_h"] += delta.T @ h_prev  # ∂L/∂W_hh += δ_tᵀ h_{t−1}
        grads["b_x"] += delta.sum(0)  # ∂L/∂b_xh += Σ_b δ_t
        grads["b_h"] += delta.sum(0)  # ∂L/∂b_hh += Σ_b δ_t
        dx[:, t] = delta @ W_x  # ∂L/∂x_t = δ_t W_xh
        delta_next = delta
    grads["x"] = dx
    grads["h0"] = delta_next @ W_h  # ∂L/∂h_0 = δ_1 W_hh
    return grads
