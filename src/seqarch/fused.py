r"""Fused population kernels: K members of one recurrent architecture, forward and hand-derived
backward over (K, B, T, ·) tensors, no autograd inside the recurrence.

A population (``seqarch.population``) trains K runs that differ only in learning rate and seed.
Here their parameters are stacked, W_x (K, G·H, D), W_h (K, G·H, H), b_x, b_h (K, G·H), and
each time step is

    A_h = H_{t−1} W_hᵀ + b_h          one batched GEMM for all K members     (K, B, G·H)
    (gates, h_t) = cell(A_x[t], A_h)  one compiled call, the gates fused      (numba)

with A_x = X W_xᵀ + b_x computed for all T at once before the loop. The backward pass is the
BPTT of ``seqarch.derive`` (rnn.py, lstm.py, gru.py: the same equations, gradient-checked
there), run for all members at once, t = T..1:

    δ_t = cell'(∂L/∂h_t|_out + δ_{t+1} W_h, saved gates)    one compiled call
    δ_t W_h                                                 one batched GEMM
    ∂L/∂W_h = Σ_t δ_tᵀ h_{t−1},  ∂L/∂W_x = Σ_t δ_tᵀ x_t     one large GEMM each, after the loop

Only the read-out's loss goes through autograd: y = h W_hyᵀ + b_y is handed to the task's loss
as a leaf, and ∂L/∂y comes back (the loss is a few operations, the recurrence thousands).

σ and tanh are ``seqarch.stream``'s rational approximation (|error| < 4e-7 against float64),
which LLVM vectorises; the members therefore agree with their separate ``train()`` runs (PyTorch's
fused kernels) to float32 rounding, not bit for bit — ``tests/test_population.py`` holds them to
1e-4.

Covered: the Elman RNN (tanh, ReLU), the LSTM and the GRU, any number of layers, without layer
norm, with dropout only where it has no effect (one layer); and minGRU, whose gates see x_t
only: one GEMM gives every step's pre-activations, then the gates and the linear scan are one
compiled pass forward and one backward (:class:`MinLayer`).
:func:`unsupported` says why a model is not covered; the population then falls back to
``torch.func.vmap`` over the model's own equations.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from ._numba import jit
from .models import RecurrentModel
from .models.mingru import MinRNN
from .stream import FASTMATH, _sigmoid, _tanh

_ONE, _ZERO, _HALF = np.float32(1.0), np.float32(0.0), np.float32(0.5)

# Members' sequences per forward pass at evaluation: memory only (the gate store is
# K · T · EVAL_ROWS · G·H floats), not results.
EVAL_ROWS = 64


# ---------------------------------------------------------------------------------------------
# The cells' time steps. Shapes: ax (K, T, B, G·H) with b_x; ah (K, B, G·H) with b_h;
# hs (K, T+1, B, H), slot t+1 holds h_t; saved (K, S, B, W) the values the backward reads,
# slot ``c`` written, slot ``p`` the previous step's. Backward: dh (K, T, B, H) from the output,
# dh_rec (K, B, H) = δ_{t+1} W_h, carry (K, B, H) what the cell carries back besides W_h,
# du (K, T, B, G·H) = ∂L/∂(x-side pre-activations), dv the h-side ones (the same array
# except for the GRU, where r_t multiplies W_hn h + b_hn).


@jit(fastmath=FASTMATH, error_model="numpy")
def _rnn_forward(relu, t, ax, ah, hs, saved, p, c):  # noqa: ANN001
    # h_t = tanh(W_x x_t + b_x + W_h h_{t−1} + b_h)   (or relu)
    K, _, B, H = hs.shape
    for k in range(K):
        for b in range(B):
            for j in range(H):
                a = ax[k, t, b, j] + ah[k, b, j]
                if relu:
                    h = a if a > _ZERO else _ZERO
                else:
                    h = _tanh(a)
                hs[k, t + 1, b, j] = h
                saved[k, c, b, j] = h


@jit(fastmath=FASTMATH, error_model="numpy")
def _rnn_backward(relu, t, dh, dh_rec, hs, saved, carry, du, dv):  # noqa: ANN001
    # δ_t = (∂L/∂h_t|_out + δ_{t+1} W_h) ⊙ (1 − h_t²)   (relu: ⊙ [h_t > 0])
    K, _, B, H = hs.shape
    for k in range(K):
        for b in range(B):
            for j in range(H):
                g = dh[k, t, b, j] + dh_rec[k, b, j]
                h = saved[k, t + 1, b, j]
                if relu:
                    d = g if h > _ZERO else _ZERO
                else:
                    d = g * (_ONE - h * h)
                du[k, t, b, j] = d


@jit(fastmath=FASTMATH, error_model="numpy")
def _lstm_forward(relu, t, ax, ah, hs, saved, p, c):  # noqa: ANN001
    # saved = [i, f, g, o, C, tanh C] (6H);  C_t = f ⊙ C_{t−1} + i ⊙ g;  h_t = o ⊙ tanh C_t.
    # One pass per equation over contiguous rows: each loop touches few arrays, so LLVM
    # vectorises it (one loop over all seven streams was 3× slower, scalar).
    K, _, B, H = hs.shape
    for k in range(K):
        for b in range(B):
            a_x, a_h, s, s_prev = ax[k, t, b], ah[k, b], saved[k, c, b], saved[k, p, b]
            h = hs[k, t + 1, b]
            for j in range(2 * H):  # i, f
                s[j] = _sigmoid(a_x[j] + a_h[j])
            for j in range(2 * H, 3 * H):  # g
                s[j] = _tanh(a_x[j] + a_h[j])
            for j in range(3 * H, 4 * H):  # o
                s[j] = _sigmoid(a_x[j] + a_h[j])
            for j in range(H):  # C_t
                s[4 * H + j] = s[H + j] * s_prev[4 * H + j] + s[j] * s[2 * H + j]
            for j in range(H):  # tanh C_t, h_t
                tC = _tanh(s[4 * H + j])
                s[5 * H + j] = tC
                h[j] = s[3 * H + j] * tC


@jit(fastmath=FASTMATH, error_model="numpy")
def _lstm_backward(relu, t, dh, dh_rec, hs, saved, carry, du, dv):  # noqa: ANN001
    # derive/lstm.py: ∂L/∂C_t = ∂L/∂h_t ⊙ o ⊙ (1 − tanh² C_t) + ∂L/∂C_{t+1} ⊙ f_{t+1} (carry);
    # carry holds ∂L/∂C_t between the passes, then ∂L/∂C_t ⊙ f_t for step t − 1.
    K, _, B, H = hs.shape
    for k in range(K):
        for b in range(B):
            s, s_prev, d, c = saved[k, t + 1, b], saved[k, t, b], du[k, t, b], carry[k, b]
            d_out, d_rec = dh[k, t, b], dh_rec[k, b]
            for j in range(H):  # ∂L/∂h_t, ∂L/∂a_o, ∂L/∂C_t
                d_h = d_out[j] + d_rec[j]
                o, tC = s[3 * H + j], s[5 * H + j]
                d[3 * H + j] = d_h * tC * o * (_ONE - o)
                c[j] = d_h * o * (_ONE - tC * tC) + c[j]
            for j in range(H):  # ∂L/∂a_i, ∂L/∂a_g
                i, g = s[j], s[2 * H + j]
                d[j] = c[j] * g * i * (_ONE - i)
                d[2 * H + j] = c[j] * i * (_ONE - g * g)
            for j in range(H):  # ∂L/∂a_f, and ∂L/∂C_t ⊙ f_t for step t − 1
                f = s[H + j]
                d[H + j] = c[j] * s_prev[4 * H + j] * f * (_ONE - f)
                c[j] = c[j] * f


@jit(fastmath=FASTMATH, error_model="numpy")
def _gru_forward(relu, t, ax, ah, hs, saved, p, c):  # noqa: ANN001
    # saved = [r, z, n, v_n] (4H);  n = tanh(u_n + r ⊙ v_n);  h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}
    K, _, B, H = hs.shape
    for k in range(K):
        for b in range(B):
            a_x, a_h, s, h_prev, h = (
                ax[k, t, b],
                ah[k, b],
                saved[k, c, b],
                hs[k, t, b],
                hs[k, t + 1, b],
            )
            for j in range(2 * H):  # r, z
                s[j] = _sigmoid(a_x[j] + a_h[j])
            for j in range(H):  # n, v_n
                v_n = a_h[2 * H + j]
                s[3 * H + j] = v_n
                s[2 * H + j] = _tanh(a_x[2 * H + j] + s[j] * v_n)
            for j in range(H):
                z = s[H + j]
                h[j] = (_ONE - z) * s[2 * H + j] + z * h_prev[j]


@jit(fastmath=FASTMATH, error_model="numpy")
def _gru_backward(relu, t, dh, dh_rec, hs, saved, carry, du, dv):  # noqa: ANN001
    # derive/gru.py; carry = ∂L/∂h_{t+1} ⊙ z_{t+1}, the highway; δv_n = δu_n ⊙ r
    K, _, B, H = hs.shape
    for k in range(K):
        for b in range(B):
            s, u, v, c, h_prev = (
                saved[k, t + 1, b],
                du[k, t, b],
                dv[k, t, b],
                carry[k, b],
                hs[k, t, b],
            )
            d_out, d_rec = dh[k, t, b], dh_rec[k, b]
            for j in range(H):  # ∂L/∂h_t, ∂L/∂â_n, ∂L/∂a_z, the highway
                d_h = d_out[j] + d_rec[j] + c[j]
                z, n = s[H + j], s[2 * H + j]
                u[2 * H + j] = d_h * (_ONE - z) * (_ONE - n * n)
                da_z = d_h * (h_prev[j] - n) * z * (_ONE - z)
                u[H + j] = da_z
                v[H + j] = da_z
                c[j] = d_h * z
            for j in range(H):  # ∂L/∂a_r, and δv_n = ∂L/∂â_n ⊙ r
                r, da_n = s[j], u[2 * H + j]
                da_r = da_n * s[3 * H + j] * r * (_ONE - r)
                u[j] = da_r
                v[j] = da_r
                v[2 * H + j] = da_n * r


@jit(fastmath=FASTMATH, error_model="numpy", inline="always")
def _g(x: float) -> float:
    """minGRU's g(x) = x + ½ for x ≥ 0, σ(x) below (models/mingru.py)."""
    return x + _HALF if x >= _ZERO else _sigmoid(x)


@jit(fastmath=FASTMATH, error_model="numpy")
def _mingru_forward(kz, hs):  # noqa: ANN001
    # kz (K, T, B, 2H) = [k_z; k_h];  h_t = (1 − z) ⊙ h_{t−1} + z ⊙ g(k_h),  z = σ(k_z)
    K, T, B, H2 = kz.shape
    H = H2 // 2
    for k in range(K):
        for t in range(T):
            for i in range(B):
                a, h_prev, h = kz[k, t, i], hs[k, t, i], hs[k, t + 1, i]
                for j in range(H):
                    z = _sigmoid(a[j])
                    h[j] = (_ONE - z) * h_prev[j] + z * _g(a[H + j])


@jit(fastmath=FASTMATH, error_model="numpy")
def _mingru_backward(kz, hs, dh, carry, dk):  # noqa: ANN001
    # ∂L/∂h_t = ∂L/∂h_t|_out + (1 − z_{t+1}) ⊙ ∂L/∂h_{t+1} (carry);
    # ∂k_z = ∂L/∂h_t ⊙ (g(k_h) − h_{t−1}) ⊙ z (1 − z);  ∂k_h = ∂L/∂h_t ⊙ z ⊙ g'(k_h)
    K, T, B, H2 = kz.shape
    H = H2 // 2
    for k in range(K):
        for t in range(T - 1, -1, -1):
            for i in range(B):
                a, h_prev, d_out, c, d = (
                    kz[k, t, i],
                    hs[k, t, i],
                    dh[k, t, i],
                    carry[k, i],
                    dk[k, t, i],
                )
                for j in range(H):
                    g_t = d_out[j] + c[j]
                    z = _sigmoid(a[j])
                    x = a[H + j]
                    s = _sigmoid(x if x < _ZERO else _ZERO)
                    g_prime = _ONE if x > _ZERO else s * (_ONE - s)
                    d[j] = g_t * (_g(x) - h_prev[j]) * z * (_ONE - z)
                    d[H + j] = g_t * z * g_prime
                    c[j] = (_ONE - z) * g_t


# name -> (forward, backward, saved width in H, separate δv)
CELLS: dict[str, tuple[Any, Any, int, bool]] = {
    "rnn": (_rnn_forward, _rnn_backward, 1, False),
    "lstm": (_lstm_forward, _lstm_backward, 6, False),
    "gru": (_gru_forward, _gru_backward, 4, True),
}


# Gates from x_t alone: one GEMM for every step, then gates and scan in one compiled pass.
# minLSTM is left out: its gate d = softplus(−k_f) − softplus(−k_i) needs exp and log1p, which
# numba runs as scalar libm calls here (no SVML) — measured 2.6× slower than its own train().
MIN_CELLS = ("mingru",)
ARCHS = (*CELLS, *MIN_CELLS)  # every architecture with a fused population kernel


def unsupported(model: torch.nn.Module) -> str | None:
    """Why ``model`` has no fused population kernel, or None when it has one."""
    arch = getattr(model, "arch", type(model).__name__)
    recurrent = isinstance(model, RecurrentModel) and arch in CELLS
    if not (recurrent or (isinstance(model, MinRNN) and arch in MIN_CELLS)):
        return f"{arch} has no fused population kernel"
    if model.layer_norm:
        return "layer-normed cells have no fused population kernel"
    if model.dropout > 0 and model.num_layers > 1:
        return "dropout between layers has no fused population kernel (its masks are random)"
    if model.readout is None:
        return "a model without a read-out has no fused population kernel"
    return None


def unsupported_run(run: Any) -> str | None:
    """:func:`unsupported` for a RunConfig, without building its task (sizes do not matter)."""
    from .models import build

    if run.arch not in ARCHS:
        return f"{run.arch} has no fused population kernel"
    if run.device != "cpu":
        return f"the fused population kernels run on the CPU; {run.device} runs train alone"
    options = {"dropout": run.train.dropout, "layer_norm": run.train.layer_norm}
    model = build(run.arch, input_size=1, output_size=1, **options, **run.model_config)
    return unsupported(model)


# ---------------------------------------------------------------------------------------------
# One layer over all members, forward and backward.


def _buffer(ws: dict[str, Tensor], name: str, shape: tuple[int, ...]) -> Tensor:
    """A float32 tensor of ``shape`` kept in ``ws`` across steps: a fresh allocation of this size
    is a fresh mmap, and its page faults cost as much as the gate arithmetic."""
    buf = ws.get(name)
    if buf is None or tuple(buf.shape) != shape:
        buf = ws[name] = torch.empty(shape)
    return buf


class Layer:
    """Layer l of the K stacked members: its weights, and what its backward pass reads."""

    def __init__(self, arch: str, relu: bool, ws: dict[str, Tensor], weights: tuple[Tensor, ...]):
        self.forward_step, self.backward_step, self.width, self.split = CELLS[arch]
        self.relu, self.ws = relu, ws
        self.W_x, self.W_h, self.b_x, self.b_h = weights  # (K, G·H, D|H), (K, G·H)

    def forward(self, inp: Tensor, keep: bool) -> Tensor:
        """inp (K, T, B, D) -> hs (K, T+1, B, H), slot 0 = h_0 = 0; ``keep``: save for backward."""
        K, T, B, D = inp.shape
        GH, H = self.W_h.shape[1:]
        ws, tag = self.ws, "train" if keep else "eval"
        ax = _buffer(ws, f"ax.{tag}", (K, T * B, GH))
        torch.baddbmm(self.b_x[:, None], inp.reshape(K, T * B, D), self.W_x.transpose(1, 2), out=ax)
        hs = _buffer(ws, f"hs.{tag}", (K, T + 1, B, H))
        saved = _buffer(ws, f"saved.{tag}", (K, T + 1 if keep else 2, B, self.width * H))
        hs[:, 0] = 0  # h_0
        saved[:, 0] = 0  # C_0 for the LSTM
        ah = _buffer(ws, "ah", (K, B, GH))
        b_h, W_hT = self.b_h[:, None], self.W_h.transpose(1, 2)
        ax_, ah_, hs_, saved_ = ax.view(K, T, B, GH).numpy(), ah.numpy(), hs.numpy(), saved.numpy()
        for t in range(T):
            torch.baddbmm(b_h, hs[:, t], W_hT, out=ah)  # A_h = H_{t−1} W_hᵀ + b_h
            p, c = (t, t + 1) if keep else (t % 2, (t + 1) % 2)
            self.forward_step(self.relu, t, ax_, ah_, hs_, saved_, p, c)
        if keep:
            self.inp, self.hs, self.saved = inp, hs, saved
        return hs

    def backward(self, dh: Tensor, need_dx: bool) -> tuple[dict[str, Tensor], Tensor | None]:
        """dh (K, T, B, H) = ∂L/∂h_t from above -> the weights' gradients and ∂L/∂inp."""
        inp, hs, saved, ws = self.inp, self.hs, self.saved, self.ws
        K, T, B, D = inp.shape
        GH, H = self.W_h.shape[1:]
        du = _buffer(ws, "du", (K, T, B, GH))
        dv = _buffer(ws, "dv", (K, T, B, GH)) if self.split else du
        dh_rec = _buffer(ws, "dh_rec", (K, B, H)).zero_()
        carry = _buffer(ws, "carry", (K, B, H)).zero_()
        dh = dh.contiguous()
        args = (dh.numpy(), dh_rec.numpy(), hs.numpy(), saved.numpy(), carry.numpy())
        du_, dv_ = du.numpy(), dv.numpy()
        for t in reversed(range(T)):
            self.backward_step(self.relu, t, *args, du_, dv_)
            if t:
                torch.bmm(dv[:, t], self.W_h, out=dh_rec)  # δv_t W_h -> ∂L/∂h_{t−1}
        U, V = du.view(K, T * B, GH), dv.view(K, T * B, GH)
        grads = {
            "W_x": torch.bmm(U.transpose(1, 2), inp.reshape(K, T * B, D)),  # Σ_t δu_tᵀ x_t
            "W_h": torch.bmm(V.transpose(1, 2), hs[:, :T].reshape(K, T * B, H)),  # Σ δv_tᵀ h_{t−1}
            "b_x": U.sum(1),
            "b_h": V.sum(1),
        }
        dx = torch.bmm(U, self.W_x).view(K, T, B, D) if need_dx else None  # δu_t W_x
        self.inp = self.hs = self.saved = None
        return grads, dx


class MinLayer:
    """Layer l of K stacked minGRU members. Its gates see x_t only, so k = W x + b is one GEMM
    for every step; the gates and the scan h_t = a_t ⊙ h_{t−1} + b_t are then one compiled pass
    forward and one backward (recomputing the gates from k):

        z = σ(k_z),  a = 1 − z,  b = z ⊙ g(k_h)
        ∂L/∂h_t = ∂L/∂h_t|_out + a_{t+1} ⊙ ∂L/∂h_{t+1},  ∂a = ∂L/∂h_t ⊙ h_{t−1},  ∂b = ∂L/∂h_t
        ∂k_z = (∂b ⊙ g(k_h) − ∂a) ⊙ z (1 − z),  ∂k_h = ∂b ⊙ z ⊙ g'(k_h)

    with g'(k) = 1 for k > 0 and σ'(k) otherwise, as autograd takes it from g's definition.
    """

    def __init__(self, arch: str, ws: dict[str, Tensor], weights: tuple[Tensor, ...]):
        self.ws = ws
        self.W, self.b = weights  # (K, 2H, D), (K, 2H)
        self.gates = 2
        self.forward_kernel, self.backward_kernel = _mingru_forward, _mingru_backward

    def forward(self, inp: Tensor, keep: bool) -> Tensor:
        """inp (K, T, B, D) -> hs (K, T+1, B, H), slot 0 = h_0 = 0; ``keep``: save for backward."""
        K, T, B, D = inp.shape
        GH = self.W.shape[1]
        k = torch.baddbmm(self.b[:, None], inp.reshape(K, T * B, D), self.W.transpose(1, 2))
        k = k.view(K, T, B, GH)  # the pre-activations of every step
        hs = _buffer(self.ws, f"hs.{'train' if keep else 'eval'}", (K, T + 1, B, GH // self.gates))
        hs[:, 0] = 0
        self.forward_kernel(k.numpy(), hs.numpy())
        if keep:
            self.inp, self.hs, self.k = inp, hs, k
        return hs

    def backward(self, dh: Tensor, need_dx: bool) -> tuple[dict[str, Tensor], Tensor | None]:
        """dh (K, T, B, H) = ∂L/∂h_t from above -> the weights' gradients and ∂L/∂inp."""
        inp, hs, k = self.inp, self.hs, self.k
        K, T, B, D = inp.shape
        carry = _buffer(self.ws, "carry", (K, B, hs.shape[-1])).zero_()
        dk = _buffer(self.ws, "dk", tuple(k.shape))
        self.backward_kernel(
            k.numpy(), hs.numpy(), dh.contiguous().numpy(), carry.numpy(), dk.numpy()
        )
        U = dk.view(K, T * B, -1)  # ∂L/∂k (K, T·B, G·H)
        grads = {
            "W.weight": torch.bmm(U.transpose(1, 2), inp.reshape(K, T * B, D)),  # Σ_t ∂k_tᵀ x_t
            "W.bias": U.sum(1),
        }
        dx = torch.bmm(U, self.W).view(K, T, B, D) if need_dx else None
        self.inp = self.hs = self.k = None
        return grads, dx


class Fused:
    """The population's forward and backward for a stack of cells with a read-out.

    ``theta`` holds the members' parameters under the model's own names, each (K, ...):
    ``cells.{l}.W_x`` … and ``readout.weight``, ``readout.bias``."""

    def __init__(self, model: RecurrentModel | MinRNN):
        reason = unsupported(model)
        if reason is not None:
            raise ValueError(reason)
        self.arch = model.arch
        self.relu = getattr(model, "nonlinearity", "tanh") == "relu"
        self.num_layers = model.num_layers
        self.workspaces: list[dict[str, Tensor]] = [{} for _ in range(model.num_layers)]

    def _layers(self, theta: dict[str, Tensor]) -> list[Layer] | list[MinLayer]:
        if self.arch in MIN_CELLS:
            return [
                MinLayer(self.arch, ws, (theta[f"cells.{l}.W.weight"], theta[f"cells.{l}.W.bias"]))
                for l, ws in enumerate(self.workspaces)
            ]
        names = ("W_x", "W_h", "b_x", "b_h")
        return [
            Layer(self.arch, self.relu, ws, tuple(theta[f"cells.{l}.{n}"] for n in names))
            for l, ws in enumerate(self.workspaces)
        ]

    @staticmethod
    def _readout(theta: dict[str, Tensor], hs: Tensor) -> Tensor:
        """hs (K, T+1, B, H) -> y (K, B, T, O) = h_t W_hyᵀ + b_y, batch-first."""
        K, T1, B, H = hs.shape
        W, b = theta["readout.weight"], theta["readout.bias"]  # (K, O, H), (K, O)
        y = torch.baddbmm(b[:, None], hs[:, 1:].reshape(K, (T1 - 1) * B, H), W.transpose(1, 2))
        return y.view(K, T1 - 1, B, -1).transpose(1, 2)

    @torch.no_grad()
    def predict(self, theta: dict[str, Tensor], x: Tensor) -> Tensor:
        """x (N, T, D), the same for every member -> y (K, N, T, O)."""
        K = theta["readout.bias"].shape[0]
        layers, outs = self._layers(theta), []
        for i in range(0, x.shape[0], EVAL_ROWS):
            h = x[i : i + EVAL_ROWS].transpose(0, 1).expand(K, -1, -1, -1)  # (K, T, n, D)
            for layer in layers:
                hs = layer.forward(h.contiguous(), keep=False)  # (K, T+1, n, H)
                h = hs[:, 1:]
            outs.append(self._readout(theta, hs))
        return torch.cat(outs, dim=1)

    @torch.no_grad()
    def loss_and_grads(
        self, theta: dict[str, Tensor], x: Tensor, member_loss: Any
    ) -> tuple[Tensor, dict[str, Tensor]]:
        """x (K, B, T, D), member k's batch in row k; ``member_loss(y)`` -> (K,) losses of
        y (K, B, T, O). Returns the losses and ∂(Σ_k loss_k)/∂θ under theta's names."""
        layers = self._layers(theta)
        h = x.transpose(1, 2).contiguous()  # (K, T, B, D): time-major within each member
        tops = []
        for layer in layers:
            hs = layer.forward(h, keep=True)
            tops.append(hs)
            h = hs[:, 1:]
        hs = tops[-1]
        y = self._readout(theta, hs).detach().requires_grad_(True)  # (K, B, T, O)
        with torch.enable_grad():
            losses = member_loss(y)
            (dy,) = torch.autograd.grad(losses.sum(), y)
        K, B, T, O = dy.shape
        dy = dy.transpose(1, 2).reshape(K, T * B, O)  # (K, T·B, O), time-major
        H = hs.shape[-1]
        grads = {
            "readout.weight": torch.bmm(dy.transpose(1, 2), hs[:, 1:].reshape(K, T * B, H)),
            "readout.bias": dy.sum(1),
        }
        dh = torch.bmm(dy, theta["readout.weight"]).view(K, T, B, H)  # ∂L/∂h_t|_out
        for l in reversed(range(self.num_layers)):
            g, dh = layers[l].backward(dh, need_dx=l > 0)
            grads |= {f"cells.{l}.{n}": v for n, v in g.items()}
        return losses.detach(), grads
