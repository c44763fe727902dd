r"""The LSTM in NumPy: forward over a sequence, and its backward pass written out by hand.

Forward, for t = 1..T (gate blocks stacked i, f, g, o in W_x (4H, D), W_h (4H, H), as PyTorch):

    a_t = W_x x_t + b_x + W_h h_{t−1} + b_h = [a_i; a_f; a_g; a_o]          (B, 4H)
    i_t = σ(a_i)      input gate: how much of the candidate to write
    f_t = σ(a_f)      forget gate: how much of the old cell to keep
    g_t = tanh(a_g)   candidate: what could be written
    o_t = σ(a_o)      output gate: how much of the cell to reveal
    C_t = f_t ⊙ C_{t−1} + i_t ⊙ g_t
    h_t = o_t ⊙ tanh(C_t)

Backward through time, t = T..1, with ∂L/∂h_t|_out (``dh``) from the loss at step t and
δ_t = ∂L/∂a_t (B, 4H):

    ∂L/∂h_t = ∂L/∂h_t|_out + δ_{t+1} W_h
    ∂L/∂C_t = ∂L/∂h_t ⊙ o_t ⊙ (1 − tanh² C_t) + ∂L/∂C_{t+1} ⊙ f_{t+1}
    ∂L/∂o_t = ∂L/∂h_t ⊙ tanh C_t               ∂L/∂a_o = ∂L/∂o_t ⊙ o_t (1 − o_t)
    ∂L/∂i_t = ∂L/∂C_t ⊙ g_t                    ∂L/∂a_i = ∂L/∂i_t ⊙ i_t (1 − i_t)
    ∂L/∂f_t = ∂L/∂C_t ⊙ C_{t−1}                ∂L/∂a_f = ∂L/∂f_t ⊙ f_t (1 − f_t)
    ∂L/∂g_t = ∂L/∂C_t ⊙ i_t                    ∂L/∂a_g = ∂L/∂g_t ⊙ (1 − g_t²)
    ∂L/∂W_x += δ_tᵀ x_t    ∂L/∂W_h += δ_tᵀ h_{t−1}    ∂L/∂b_x = ∂L/∂b_h += Σ_b δ_t
    ∂L/∂x_t = δ_t W_x      ∂L/∂h_0 = δ_1 W_h          ∂L/∂C_0 = ∂L/∂C_1 ⊙ f_1

The cell path: ∂C_T/∂C_t ∋ ∏_{k=t+1..T} diag(f_k), a product of gates, not of weight matrices.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._numeric import check_sequence, sigmoid, uniform_init

GATES = 4
STATE = ("h0", "C0")


def init_params(input_size: int, hidden_size: int, rng: np.random.Generator) -> dict[str, Any]:
    """W_x (4H, D), W_h (4H, H), b_x, b_h (4H,): PyTorch's nn.LSTM layout and initialisation."""
    return uniform_init(rng, GATES, input_size, hidden_size)


def forward(
    params: dict[str, np.ndarray],
    x: np.ndarray,
    h0: np.ndarray | None = None,
    C0: np.ndarray | None = None,
) -> tuple[np.ndarray, dict[str, Any]]:
    """x (B, T, D) -> h (B, T, H), and the cache (gates and cells) the backward pass reads."""
    W_x, W_h, b_x, b_h = params["W_x"], params["W_h"], params["b_x"], params["b_h"]
    x = check_sequence(x, W_x.shape[1])
    B, T, _ = x.shape
    H = W_h.shape[1]
    hs = np.zeros((B, T + 1, H))  # slot t holds h_t, slot 0 h_0
    Cs = np.zeros((B, T + 1, H))  # slot t holds C_t
    if h0 is not None:
        hs[:, 0] = h0
    if C0 is not None:
        Cs[:, 0] = C0
    gates = np.empty((B, T, 4, H))  # i, f, g, o at each step
    for t in range(T):
        a = x[:, t] @ W_x.T + b_x + hs[:, t] @ W_h.T + b_h  # (B, 4H)
        a_i, a_f, a_g, a_o = np.split(a, 4, axis=-1)  # (B, H) each
        i_t, f_t, g_t, o_t = sigmoid(a_i), sigmoid(a_f), np.tanh(a_g), sigmoid(a_o)
        Cs[:, t + 1] = f_t * Cs[:, t] + i_t * g_t  # C_t = f_t ⊙ C_{t−1} + i_t ⊙ g_t
        hs[:, t + 1] = o_t * np.tanh(Cs[:, t + 1])  # h_t = o_t ⊙ tanh(C_t)
        gates[:, t] = np.stack([i_t, f_t, g_t, o_t], axis=1)
    return hs[:, 1:], {"x": x, "hs": hs, "Cs": Cs, "gates": gates}


def backward(
    params: dict[str, np.ndarray], cache: dict[str, Any], dh: np.ndarray
) -> dict[str, np.ndarray]:
    """∂L/∂(W_x, W_h, b_x, b_h, x, h0, C0) given dh = ∂L/∂h_t|_out (B, T, H) from the loss."""
    W_x, W_h = params["W_x"], params["W_h"]
    x, hs, Cs, gates = cache["x"], cache["hs"], cache["Cs"], cache["gates"]
    B, T, _ = x.shape
    H = W_h.shape[1]
    grads = {k: np.zeros_like(v) for k, v in params.items()}
    dx = np.zeros_like(x)
    delta_next = np.zeros((B, 4 * H))  # δ_{T+1} = 0
    dC_next = np.zeros((B, H))  # ∂L/∂C_{T+1} = 0
    f_next = np.zeros((B, H))  # f_{T+1}: nothing after T
    for t in reversed(range(T)):
        i_t, f_t, g_t, o_t = (gates[:, t, k] for k in range(4))
        C_t, C_prev, h_prev = Cs[:, t + 1], Cs[:, t], hs[:, t]
        tanh_C = np.tanh(C_t)
        dh_t = dh[:, t] + delta_next @ W_h  # ∂L/∂h_t = ∂L/∂h_t|_out + δ_{t+1} W_h
        # ∂L/∂C_t = ∂L/∂h_t ⊙ o_t ⊙ (1 − tanh² C_t) + ∂L/∂C_{t+1} ⊙ f_{t+1}
        dC_t = dh_t * o_t * (1.0 - tanh_C**2) + dC_next * f_next
        da_o = dh_t * tanh_C * o_t * (1.0 - o_t)  # ∂L/∂o_t = ∂L/∂h_t ⊙ tanh C_t, times σ'
        da_i = dC_t * g_t * i_t * (1.0 - i_t)  # ∂L/∂i_t = ∂L/∂C_t ⊙ g_t, times σ'
        da_f = dC_t * C_prev * f_t * (1.0 - f_t)  # ∂L/∂f_t = ∂L/∂C_t ⊙ C_{t−1}, times σ'
        da_g = dC_t * i_t * (1.0 - g_t**2)  # ∂L/∂g_t = ∂L/∂C_t ⊙ i_t, times tanh'
        delta = np.concatenate([da_i, da_f, da_g, da_o], axis=-1)  # δ_t (B, 4H), gate order
        grads["W_x"] += delta.T @ x[:, t]  # ∂L/∂W_x += δ_tᵀ x_t
        grads["W_h"] += delta.T @ h_prev  # ∂L/∂W_h += δ_tᵀ h_{t−1}
        grads["b_x"] += delta.sum(0)
        grads["b_h"] += delta.sum(0)
        dx[:, t] = delta @ W_x  # ∂L/∂x_t = δ_t W_x
        delta_next, dC_next, f_next = delta, dC_t, f_t
    grads["x"] = dx
    grads["h0"] = delta_next @ W_h  # ∂L/∂h_0 = δ_1 W_h
    grads["C0"] = dC_next * f_next  # ∂L/∂C_0 = ∂L/∂C_1 ⊙ f_1
    return grads
