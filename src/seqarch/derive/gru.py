r"""The GRU in NumPy, in PyTorch's form: forward over a sequence and a hand-written backward.

Forward, for t = 1..T (gate blocks stacked r, z, n in W_x (3H, D), W_h (3H, H), as PyTorch):

    [u_r; u_z; u_n] = W_x x_t + b_x          input pre-activations        (B, 3H)
    [v_r; v_z; v_n] = W_h h_{t−1} + b_h      recurrent pre-activations    (B, 3H)
    r_t = σ(u_r + v_r)                       reset gate: how much past feeds the candidate
    z_t = σ(u_z + v_z)                       update gate: keep the old state or take the new
    n_t = tanh(u_n + r_t ⊙ v_n)              candidate state
    h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t−1}    interpolation

Backward through time, t = T..1, with ∂L/∂h_t|_out (``dh``) from the loss at step t:

    ∂L/∂h_t   = ∂L/∂h_t|_out + ∂L/∂h_t|_{from t+1}
    ∂L/∂n_t   = ∂L/∂h_t ⊙ (1 − z_t)           ∂L/∂â_n = ∂L/∂n_t ⊙ (1 − n_t²)   (â_n = u_n + r v_n)
    ∂L/∂z_t   = ∂L/∂h_t ⊙ (h_{t−1} − n_t)     ∂L/∂a_z = ∂L/∂z_t ⊙ z_t (1 − z_t)
    ∂L/∂r_t   = ∂L/∂â_n ⊙ v_n                 ∂L/∂a_r = ∂L/∂r_t ⊙ r_t (1 − r_t)
    δu_t = [∂L/∂a_r; ∂L/∂a_z; ∂L/∂â_n]        δv_t = [∂L/∂a_r; ∂L/∂a_z; ∂L/∂â_n ⊙ r_t]
    ∂L/∂W_x += δu_tᵀ x_t    ∂L/∂b_x += Σ_b δu_t    ∂L/∂W_h += δv_tᵀ h_{t−1}    ∂L/∂b_h += Σ_b δv_t
    ∂L/∂x_t = δu_t W_x
    ∂L/∂h_{t−1}|_{from t} = ∂L/∂h_t ⊙ z_t + δv_t W_h     (the direct term z_t is the highway)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._numeric import check_sequence, sigmoid, uniform_init

GATES = 3
STATE = ("h0",)


def init_params(input_size: int, hidden_size: int, rng: np.random.Generator) -> dict[str, Any]:
    """W_x (3H, D), W_h (3H, H), b_x, b_h (3H,): PyTorch's nn.GRU layout and initialisation."""
    return uniform_init(rng, GATES, input_size, hidden_size)


def forward(
    params: dict[str, np.ndarray], x: np.ndarray, h0: np.ndarray | None = None
) -> tuple[np.ndarray, dict[str, Any]]:
    """x (B, T, D) -> h (B, T, H), and the cache (gates, v_n) the backward pass reads."""
    W_x, W_h, b_x, b_h = params["W_x"], params["W_h"], params["b_x"], params["b_h"]
    x = check_sequence(x, W_x.shape[1])
    B, T, _ = x.shape
    H = W_h.shape[1]
    hs = np.zeros((B, T + 1, H))  # slot t holds h_t, slot 0 h_0
    if h0 is not None:
        hs[:, 0] = h0
    saved = np.empty((B, T, 4, H))  # r, z, n, v_n at each step
    for t in range(T):
        u_r, u_z, u_n = np.split(x[:, t] @ W_x.T + b_x, 3, axis=-1)  # (B, H) each
        v_r, v_z, v_n = np.split(hs[:, t] @ W_h.T + b_h, 3, axis=-1)
        r_t = sigmoid(u_r + v_r)
        z_t = sigmoid(u_z + v_z)
        n_t = np.tanh(u_n + r_t * v_n)
        hs[:, t + 1] = (1.0 - z_t) * n_t + z_t * hs[:, t]
        saved[:, t] = np.stack([r_t, z_t, n_t, v_n], axis=1)
    return hs[:, 1:], {"x": x, "hs": hs, "saved": saved}


def backward(
    params: dict[str, np.ndarray], cache: dict[str, Any], dh: np.ndarray
) -> dict[str, np.ndarray]:
    """∂L/∂(W_x, W_h, b_x, b_h, x, h0) given dh = ∂L/∂h_t|_out (B, T, H) from the loss."""
    W_x, W_h = params["W_x"], params["W_h"]
    x, hs, saved = cache["x"], cache["hs"], cache["saved"]
    B, T, _ = x.shape
    H = W_h.shape[1]
    grads = {k: np.zeros_like(v) for k, v in params.items()}
    dx = np.zeros_like(x)
    dh_carry = np.zeros((B, H))  # ∂L/∂h_T|_{from T+1} = 0
    for t in reversed(range(T)):
        r_t, z_t, n_t, v_n = (saved[:, t, k] for k in range(4))
        h_prev = hs[:, t]
        dh_t = dh[:, t] + dh_carry  # ∂L/∂h_t = ∂L/∂h_t|_out + ∂L/∂h_t|_{from t+1}
        dn = dh_t * (1.0 - z_t)  # ∂L/∂n_t = ∂L/∂h_t ⊙ (1 − z_t)
        da_n = dn * (1.0 - n_t**2)  # ∂L/∂â_n = ∂L/∂n_t ⊙ (1 − n_t²)
        dz = dh_t * (h_prev - n_t)  # ∂L/∂z_t = ∂L/∂h_t ⊙ (h_{t−1} − n_t)
        da_z = dz * z_t * (1.0 - z_t)
        dr = da_n * v_n  # ∂L/∂r_t = ∂L/∂â_n ⊙ v_n
        da_r = dr * r_t * (1.0 - r_t)
        du = np.concatenate([da_r, da_z, da_n], axis=-1)  # δu_t (B, 3H)
        dv = np.concatenate([da_r, da_z, da_n * r_t], axis=-1)  # δv_t (B, 3H)
        grads["W_x"] += du.T @ x[:, t]  # ∂L/∂W_x += δu_tᵀ x_t
        grads["b_x"] += du.sum(0)
        grads["W_h"] += dv.T @ h_prev  # ∂L/∂W_h += δv_tᵀ h_{t−1}
        grads["b_h"] += dv.sum(0)
        dx[:, t] = du @ W_x  # ∂L/∂x_t = δu_t W_x
        dh_carry = dh_t * z_t + dv @ W_h  # ∂L/∂h_{t−1}|_{from t} = ∂L/∂h_t ⊙ z_t + δv_t W_h
    grads["x"] = dx
    grads["h0"] = dh_carry
    return grads
