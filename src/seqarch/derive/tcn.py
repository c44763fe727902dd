r"""The temporal convolutional network in NumPy: forward, and its backward pass written by hand.

Forward (batch-first, u (B, T, C_in); ``seqarch.models.tcn`` for the model). A causal
convolution of kernel k and dilation d, its input padded on the left with (k−1)·d zeros
(ū_s = u_{s−(k−1)d}, zero for s < (k−1)d):

    W     = g · V / ‖V‖              weight norm, per output channel o: ‖V_o‖ over (C_in, k)
    a_t   = b + Σ_j W_j ū_{t+j·d}    W_j = W[:, :, j] (C_out, C_in): tap j reads u_{t−(k−1−j)·d}

Level l (dilation d = 2^l), u the level's input, o its output:

    a¹ = conv₁(u)        z¹ = ReLU(a¹)
    a² = conv₂(z¹)       z² = ReLU(a²)
    r  = u, or S u + c   (a 1×1 convolution when the widths differ)
    s  = z² + r          o  = ReLU(s)

Backward, with ∂L/∂o from above (from the loss at the top level), level by level downwards:

    ∂L/∂s  = ∂L/∂o ⊙ [s > 0]
    ∂L/∂a² = ∂L/∂s ⊙ [a² > 0]          ∂L/∂r = ∂L/∂s
    each convolution (a from ū):
        ∂L/∂b   = Σ_{b,t} ∂L/∂a_t
        ∂L/∂W_j = Σ_{b,t} (∂L/∂a_t)ᵀ ū_{t+j·d}
        ∂L/∂ū_s = Σ_j ∂L/∂a_{s−j·d} W_j       (a transposed convolution: the taps flipped)
        ∂L/∂u   = ∂L/∂ū without its first (k−1)·d positions (the zero padding)
    weight norm (ŵ_o = V_o / ‖V_o‖):
        ∂L/∂g_o = ⟨∂L/∂W_o, ŵ_o⟩
        ∂L/∂V_o = (g_o / ‖V_o‖) · (∂L/∂W_o − ⟨∂L/∂W_o, ŵ_o⟩ ŵ_o)     (the part along V_o removed)
    ∂L/∂z¹ from conv₂, ∂L/∂a¹ = ∂L/∂z¹ ⊙ [a¹ > 0], ∂L/∂u from conv₁
    skip: ∂L/∂u += ∂L/∂r (identity), or ∂L/∂S = Σ (∂L/∂r_t)ᵀ u_t, ∂L/∂c = Σ ∂L/∂r_t,
          ∂L/∂u += ∂L/∂r S

**Where the gradient stops.** ∂L/∂ū_s collects ∂L/∂a_t only for t = s, s + d, …, s + (k−1)·d:
one convolution sends a gradient at most (k−1)·d steps back, a level (two convolutions)
2·(k−1)·2^l, the whole stack Σ_l 2·(k−1)·2^l = R − 1 with R = 1 + 2·(k−1)·(2^L − 1). So from
a loss at step t, ∂L/∂x_s is a finite sum of products of weights and ReLU masks for
t − s < R, and exactly 0 — no term at all, not a small number — for t − s ≥ R. A recurrent
network's gradient decays (RNN) or is gated (LSTM) over the distance; a TCN's is cut off.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._numeric import check_sequence, check_sizes

STATE: tuple[str, ...] = ()  # zero padding at the start: the streaming buffers begin at zero
KERNEL_SIZE = 2  # k, the model's default
LEVELS = 2  # L: dilations 1, 2; R = 1 + 2·(k−1)·(2^L − 1) = 7


def init_params(
    input_size: int,
    hidden_size: int,
    rng: np.random.Generator,
    kernel_size: int = KERNEL_SIZE,
    levels: int = LEVELS,
) -> dict[str, Any]:
    """Per level l: V1_l (H, D_l, k), g1_l (H,), b1_l (H,), V2_l, g2_l, b2_l, and where
    D_l ≠ H the skip S_l (H, D_l), c_l (H,). V and b are U(±1/√(C_in·k)) as Conv1d draws them,
    g = ‖V‖ (so W = V at the start), S ~ N(0, 0.01²): the model's own initial scales."""
    check_sizes(input_size=input_size, hidden_size=hidden_size, kernel_size=kernel_size)
    check_sizes(levels=levels)
    H, k = hidden_size, kernel_size
    params: dict[str, Any] = {}
    for l in range(levels):
        D_l = input_size if l == 0 else H
        for n, c_in in ((1, D_l), (2, H)):
            bound = (c_in * k) ** -0.5
            V = rng.uniform(-bound, bound, size=(H, c_in, k))
            params[f"V{n}_{l}"] = V
            params[f"g{n}_{l}"] = np.sqrt((V**2).sum(axis=(1, 2)))
            params[f"b{n}_{l}"] = rng.uniform(-bound, bound, size=H)
        if D_l != H:
            params[f"S_{l}"] = rng.normal(0.0, 0.01, size=(H, D_l))
            params[f"c_{l}"] = rng.uniform(-(D_l**-0.5), D_l**-0.5, size=H)
    return params


def levels_of(params: dict[str, np.ndarray]) -> int:
    return sum(1 for k in params if k.startswith("V1_"))


def weight(V: np.ndarray, g: np.ndarray) -> np.ndarray:
    """W = g · V / ‖V‖, the norm per output channel over (C_in, k)."""
    return g[:, None, None] * V / np.sqrt((V**2).sum(axis=(1, 2), keepdims=True))


def conv(u: np.ndarray, W: np.ndarray, b: np.ndarray, d: int) -> tuple[np.ndarray, np.ndarray]:
    """a_t = b + Σ_j W_j ū_{t+j·d}: u (B, T, C_in) -> a (B, T, C_out), and ū (the padded u)."""
    B, T, C_in = u.shape
    k = W.shape[2]
    u_pad = np.concatenate([np.zeros((B, (k - 1) * d, C_in)), u], axis=1)  # ū
    a = np.broadcast_to(b, (B, T, W.shape[0])).copy()
    for j in range(k):
        a += u_pad[:, j * d : j * d + T] @ W[:, :, j].T
    return a, u_pad


def conv_backward(
    da: np.ndarray, u_pad: np.ndarray, W: np.ndarray, d: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """∂L/∂W, ∂L/∂b and ∂L/∂u (the padding's share dropped) of :func:`conv`."""
    T, k = da.shape[1], W.shape[2]
    dW = np.zeros_like(W)
    du_pad = np.zeros_like(u_pad)
    for j in range(k):
        window = u_pad[:, j * d : j * d + T]  # ū_{t+j·d}, (B, T, C_in)
        dW[:, :, j] = np.einsum("bto,btc->oc", da, window)  # Σ (∂L/∂a_t)ᵀ ū_{t+j·d}
        du_pad[:, j * d : j * d + T] += da @ W[:, :, j]  # ∂L/∂ū_{t+j·d} += ∂L/∂a_t W_j
    return dW, da.sum(axis=(0, 1)), du_pad[:, (k - 1) * d :]


def weight_norm_backward(
    dW: np.ndarray, V: np.ndarray, g: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """∂L/∂V and ∂L/∂g from ∂L/∂W, W = g·V/‖V‖."""
    n = np.sqrt((V**2).sum(axis=(1, 2), keepdims=True))  # ‖V_o‖, (H, 1, 1)
    w_hat = V / n
    dg = (dW * w_hat).sum(axis=(1, 2))  # ⟨∂L/∂W_o, ŵ_o⟩
    dV = (g[:, None, None] / n) * (dW - dg[:, None, None] * w_hat)
    return dV, dg


def forward(params: dict[str, np.ndarray], x: np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
    """x (B, T, D) -> o (B, T, H) of the last level, and the cache the backward pass reads."""
    x = check_sequence(x, params["V1_0"].shape[1])
    u = x
    levels = []
    for l in range(levels_of(params)):
        d = 2**l
        W1 = weight(params[f"V1_{l}"], params[f"g1_{l}"])
        W2 = weight(params[f"V2_{l}"], params[f"g2_{l}"])
        a1, u_pad1 = conv(u, W1, params[f"b1_{l}"], d)
        z1 = np.maximum(a1, 0.0)
        a2, u_pad2 = conv(z1, W2, params[f"b2_{l}"], d)
        z2 = np.maximum(a2, 0.0)
        r = u @ params[f"S_{l}"].T + params[f"c_{l}"] if f"S_{l}" in params else u
        s = z2 + r
        levels.append(
            {"u": u, "d": d, "W1": W1, "W2": W2, "a1": a1, "a2": a2, "s": s}
            | {"pad1": u_pad1, "pad2": u_pad2}
        )
        u = np.maximum(s, 0.0)
    return u, {"x": x, "levels": levels}


def backward(
    params: dict[str, np.ndarray], cache: dict[str, Any], do: np.ndarray
) -> dict[str, np.ndarray]:
    """∂L/∂(every V, g, b, S, c, and x) given do = ∂L/∂o (B, T, H) of the last level."""
    grads: dict[str, np.ndarray] = {}
    for l in reversed(range(len(cache["levels"]))):
        c = cache["levels"][l]
        d = c["d"]
        ds = do * (c["s"] > 0)  # ∂L/∂s = ∂L/∂o ⊙ [s > 0]
        da2 = ds * (c["a2"] > 0)  # ∂L/∂a² = ∂L/∂s ⊙ [a² > 0]
        dW2, grads[f"b2_{l}"], dz1 = conv_backward(da2, c["pad2"], c["W2"], d)
        da1 = dz1 * (c["a1"] > 0)  # ∂L/∂a¹ = ∂L/∂z¹ ⊙ [a¹ > 0]
        dW1, grads[f"b1_{l}"], du = conv_backward(da1, c["pad1"], c["W1"], d)
        for n, dW in ((1, dW1), (2, dW2)):
            grads[f"V{n}_{l}"], grads[f"g{n}_{l}"] = weight_norm_backward(
                dW, params[f"V{n}_{l}"], params[f"g{n}_{l}"]
            )
        if f"S_{l}" in params:  # r = S u + c
            grads[f"S_{l}"] = np.einsum("bto,btc->oc", ds, c["u"])
            grads[f"c_{l}"] = ds.sum(axis=(0, 1))
            du = du + ds @ params[f"S_{l}"]
        else:  # r = u
            du = du + ds
        do = du  # the level below's output is this level's input
    grads["x"] = do
    return grads


def torch_twin(params: dict[str, np.ndarray], impl: str) -> tuple[Any, dict[str, Any]]:
    """The ``seqarch.models`` TCN of the same shape (float64) and its parameter for each of
    ``params`` (g is stored (H, 1, 1) there, S as (H, D, 1): the same values, reshaped)."""
    from ..models import build

    L = levels_of(params)
    H, D, k = params["V1_0"].shape
    model = build("tcn", input_size=D, hidden_size=H, num_layers=L, kernel_size=k, impl=impl)
    model = model.double()
    weights: dict[str, Any] = {}
    for l, block in enumerate(model.blocks):
        for n, c in ((1, block.conv1.conv), (2, block.conv2.conv)):
            weights[f"V{n}_{l}"] = c.parametrizations.weight.original1
            weights[f"g{n}_{l}"] = c.parametrizations.weight.original0
            weights[f"b{n}_{l}"] = c.bias
        if block.skip is not None:
            weights[f"S_{l}"], weights[f"c_{l}"] = block.skip.weight, block.skip.bias
    return model, weights
