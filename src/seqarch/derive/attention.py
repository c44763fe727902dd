r"""Single-head causal self-attention in NumPy: forward, and its backward pass written by hand.

Forward (x (B, T, d); nn.MultiheadAttention's layout: in_proj W_in = [W_Q; W_K; W_V] (3d, d)):

    Q = x W_Qᵀ + b_Q,  K = x W_Kᵀ + b_K,  V = x W_Vᵀ + b_V     (B, T, d) each
    S = Q Kᵀ / √d + M              M_ij = −∞ for j > i (causal)    (B, T, T)
    P = softmax(S)                 row i: how much position i reads from each j ≤ i
    O = P V                                                        (B, T, d)
    y = O W_Oᵀ + b_O                                               (B, T, d)

Backward, with dy = ∂L/∂y from the loss:

    ∂L/∂W_O = Σ dyᵀ O          ∂L/∂b_O = Σ dy          ∂L/∂O = dy W_O
    ∂L/∂P   = ∂L/∂O Vᵀ         ∂L/∂V   = Pᵀ ∂L/∂O
    ∂L/∂S   = P ⊙ (∂L/∂P − rowsum(∂L/∂P ⊙ P))          (softmax Jacobian diag(p) − p pᵀ)
    ∂L/∂Q   = ∂L/∂S K / √d     ∂L/∂K   = ∂L/∂Sᵀ Q / √d
    ∂L/∂W_in = Σ [∂L/∂Q; ∂L/∂K; ∂L/∂V]ᵀ x     ∂L/∂b_in = Σ [∂L/∂Q, ∂L/∂K, ∂L/∂V]
    ∂L/∂x   = ∂L/∂Q W_Q + ∂L/∂K W_K + ∂L/∂V W_V

Every output y_i depends on every x_j, j ≤ i, through one softmax: a path of length 1.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import BadInput
from ._numeric import check_sequence, check_sizes

STATE: tuple[str, ...] = ()


def init_params(input_size: int, hidden_size: int, rng: np.random.Generator) -> dict[str, Any]:
    """W_in (3d, d), b_in (3d,), W_O (d, d), b_O (d,), each U(−1/√d, 1/√d) as nn.Linear draws.

    Attention maps width d to width d, so input_size must equal hidden_size (in the Transformer
    the read-in W_in x_t makes it so).
    """
    check_sizes(input_size=input_size, hidden_size=hidden_size)
    if input_size != hidden_size:
        raise BadInput(
            f"input_size={input_size} is not accepted for attention; expected input_size = "
            f"hidden_size = {hidden_size}"
        )
    d = hidden_size
    bound = d**-0.5
    shapes = {"W_in": (3 * d, d), "b_in": (3 * d,), "W_O": (d, d), "b_O": (d,)}
    return {k: rng.uniform(-bound, bound, size=s) for k, s in shapes.items()}


def softmax(S: np.ndarray) -> np.ndarray:
    """Row-wise softmax, shifted by the row maximum; −∞ entries become exactly 0."""
    e = np.exp(S - S.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def forward(params: dict[str, np.ndarray], x: np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
    """x (B, T, d) -> y (B, T, d), and the cache (Q, K, V, P, O) the backward pass reads."""
    W_in, b_in, W_O, b_O = params["W_in"], params["b_in"], params["W_O"], params["b_O"]
    d = W_O.shape[0]
    x = check_sequence(x, d)
    T = x.shape[1]
    Q, K, V = np.split(x @ W_in.T + b_in, 3, axis=-1)  # (B, T, d) each
    S = Q @ K.transpose(0, 2, 1) / np.sqrt(d)  # (B, T, T)
    S = np.where(np.tri(T, dtype=bool), S, -np.inf)  # causal mask: j ≤ i only
    P = softmax(S)
    O = P @ V  # (B, T, d)
    y = O @ W_O.T + b_O
    return y, {"x": x, "Q": Q, "K": K, "V": V, "P": P, "O": O}


def backward(
    params: dict[str, np.ndarray], cache: dict[str, Any], dy: np.ndarray
) -> dict[str, np.ndarray]:
    """∂L/∂(W_in, b_in, W_O, b_O, x) given dy = ∂L/∂y (B, T, d)."""
    W_in, W_O = params["W_in"], params["W_O"]
    x, Q, K, V, P, O = (cache[k] for k in ("x", "Q", "K", "V", "P", "O"))
    d = W_O.shape[0]
    grads: dict[str, np.ndarray] = {}
    grads["W_O"] = np.einsum("bti,btj->ij", dy, O)  # ∂L/∂W_O = Σ dyᵀ O
    grads["b_O"] = dy.sum(axis=(0, 1))  # ∂L/∂b_O = Σ dy
    dO = dy @ W_O  # ∂L/∂O = dy W_O
    dP = dO @ V.transpose(0, 2, 1)  # ∂L/∂P = ∂L/∂O Vᵀ
    dV = P.transpose(0, 2, 1) @ dO  # ∂L/∂V = Pᵀ ∂L/∂O
    dS = P * (dP - (dP * P).sum(axis=-1, keepdims=True))  # softmax: P ⊙ (dP − rowsum(dP ⊙ P))
    dQ = dS @ K / np.sqrt(d)  # ∂L/∂Q = ∂L/∂S K / √d
    dK = dS.transpose(0, 2, 1) @ Q / np.sqrt(d)  # ∂L/∂K = ∂L/∂Sᵀ Q / √d
    dQKV = np.concatenate([dQ, dK, dV], axis=-1)  # (B, T, 3d)
    grads["W_in"] = np.einsum("bti,btj->ij", dQKV, x)  # ∂L/∂W_in = Σ [dQ; dK; dV]ᵀ x
    grads["b_in"] = dQKV.sum(axis=(0, 1))
    grads["x"] = dQKV @ W_in  # ∂L/∂x = dQ W_Q + dK W_K + dV W_V
    return grads
