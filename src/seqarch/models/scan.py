r"""The linear recurrence of the modern recurrent models, compiled for the CPU, with its gradient
derived by hand.

minGRU, minLSTM and the selective SSM all reduce, per channel, to

    h_t = a_t ⊙ h_{t−1} + b_t,        t = 1 … T,  h_0 given,

with a_t, b_t computed from x_t alone (never from h_{t−1}). That is what makes them trainable
in parallel: the coefficients of every step exist before the scan starts. The models keep two
scans in PyTorch primitives — minGRU's log-space scan (Heinsen 2023) and the SSM's
Hillis–Steele chunks — which are parallel over T and run on any device (``impl="scan"``).

On a CPU, parallelism over T buys little: a few cores, while the sequential PyTorch loop loses
not to the arithmetic (one multiply-add per element) but to the ~10 µs of dispatch around each
of its 2·T small ops, forward and backward. This module removes the dispatch instead: one
compiled sweep over T, vectorised over the B·M independent channels, forward and backward —
``impl="fast"`` on CPU tensors of float32 / float64. It does the reference's arithmetic in the
reference's order (no logs, no divisions), so it equals the sequential loop to rounding.

Backward. With ḡ_t = ∂L/∂h_t from everything that reads h_t directly, the total derivative
g_t = dL/dh_t also counts h_{t+1} = a_{t+1} ⊙ h_t + b_{t+1}:

    g_T = ḡ_T,        g_t = ḡ_t + a_{t+1} ⊙ g_{t+1}          (the same recurrence, run backward)
    ∂L/∂b_t = g_t,    ∂L/∂a_t = g_t ⊙ h_{t−1},    ∂L/∂h_0 = a_1 ⊙ g_1.

So the backward pass is one reverse sweep needing a, h and h_0 (b is not kept).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from .._numba import jit

SCAN_IMPLS = ("reference", "scan", "fast")  # the loop, the PyTorch parallel scan, compiled
DTYPES = (torch.float32, torch.float64)


@jit
def _forward(a, b, h0, h):  # noqa: ANN001
    """h[:, t] = a[:, t] ⊙ h[:, t−1] + b[:, t]; a, b, h (B, T, M), h0 (B, M)."""
    B, T, M = a.shape
    for i in range(B):
        for m in range(M):
            h[i, 0, m] = a[i, 0, m] * h0[i, m] + b[i, 0, m]
        for t in range(1, T):
            for m in range(M):  # contiguous in m: one vector multiply-add per SIMD width
                h[i, t, m] = a[i, t, m] * h[i, t - 1, m] + b[i, t, m]


@jit
def _backward(a, h, h0, g_out, da, db, dh0):  # noqa: ANN001
    """The reverse sweep of the module docstring, fused; g_out = ḡ (B, T, M)."""
    B, T, M = a.shape
    for i in range(B):
        carry = np.zeros(M, a.dtype)  # a_{t+1} ⊙ g_{t+1}
        for t in range(T - 1, 0, -1):
            for m in range(M):
                g = g_out[i, t, m] + carry[m]  # g_t = ḡ_t + a_{t+1} ⊙ g_{t+1}
                db[i, t, m] = g  # ∂L/∂b_t = g_t
                da[i, t, m] = g * h[i, t - 1, m]  # ∂L/∂a_t = g_t ⊙ h_{t−1}
                carry[m] = a[i, t, m] * g
        for m in range(M):  # t = 1 (index 0): h_{t−1} is h_0
            g = g_out[i, 0, m] + carry[m]
            db[i, 0, m] = g
            da[i, 0, m] = g * h0[i, m]
            dh0[i, m] = a[i, 0, m] * g  # ∂L/∂h_0 = a_1 ⊙ g_1


class _LinearScan(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a: Tensor, b: Tensor, h0: Tensor) -> Tensor:  # noqa: ANN001
        a, b, h0 = a.contiguous(), b.contiguous(), h0.contiguous()
        h = torch.empty_like(a)
        _forward(a.detach().numpy(), b.detach().numpy(), h0.detach().numpy(), h.numpy())
        ctx.save_for_backward(a, h, h0)
        return h

    @staticmethod
    def backward(ctx, g_out: Tensor) -> tuple[Tensor, Tensor, Tensor]:  # noqa: ANN001
        a, h, h0 = ctx.saved_tensors
        if torch.is_grad_enabled():  # create_graph=True: the same sweep in differentiable ops
            return _backward_differentiable(a, h, h0, g_out)
        da, db, dh0 = torch.empty_like(a), torch.empty_like(a), torch.empty_like(h0)
        arrays = (a, h, h0, g_out.contiguous(), da, db, dh0)
        _backward(*(t.detach().numpy() for t in arrays))
        return da, db, dh0


def _backward_differentiable(
    a: Tensor, h: Tensor, h0: Tensor, g_out: Tensor
) -> tuple[Tensor, Tensor, Tensor]:
    """The reverse sweep as a forward scan over reversed time, so that it has a gradient too
    (second derivatives: gradient penalties, Hessian-vector products). g_t = ḡ_t + a_{t+1} g_{t+1}
    reversed is h'_s = a'_s h'_{s−1} + b'_s with a'_s = a_{T−s+1} (a'_1 meets h'_0 = 0)."""
    a_next = torch.cat([a[:, 1:], torch.zeros_like(a[:, :1])], dim=1)  # a_{t+1}, 0 past T
    g = _LinearScan.apply(a_next.flip(1), g_out.flip(1), torch.zeros_like(h0)).flip(1)
    h_prev = torch.cat([h0[:, None], h[:, :-1]], dim=1)  # h_{t−1}
    return g * h_prev, g, a[:, 0] * g[:, 0]


def compiles(*tensors: Tensor) -> bool:
    """Whether ``linear_scan`` can run on these tensors: CPU, float32 or float64, one dtype,
    no CPU autocast (it would hand the scan half-precision coefficients) and no torch.func
    transform (whose wrapped tensors have no memory to hand to compiled code)."""
    first = tensors[0]
    wrapped = getattr(torch._C._functorch, "is_functorch_wrapped_tensor", lambda t: False)
    return (
        first.dtype in DTYPES
        and not torch.is_autocast_enabled("cpu")
        and all(t.device.type == "cpu" and t.dtype == first.dtype for t in tensors)
        and not any(wrapped(t) for t in tensors)
    )


def linear_scan(a: Tensor, b: Tensor, h0: Tensor) -> Tensor:
    """h_t = a_t ⊙ h_{t−1} + b_t for all t, differentiable in a, b and h0 (twice over).

    a, b (B, T, *S), h0 (B, *S) -> h (B, T, *S); any trailing shape S (the SSM's (H, N)).
    """
    if not compiles(a, b, h0):
        kinds = sorted({f"{t.device.type} {t.dtype}" for t in (a, b, h0)})
        raise ValueError(
            f"tensors of {', '.join(kinds)} are not accepted by the compiled scan (or a "
            "torch.func transform / autocast is active); expected CPU float32 or float64, "
            "one dtype (use impl='scan' elsewhere)"
        )
    want_h0 = a.shape[:1] + a.shape[2:]
    if a.dim() < 2 or b.shape != a.shape or h0.shape != want_h0:
        raise ValueError(
            f"shapes a {tuple(a.shape)}, b {tuple(b.shape)}, h0 {tuple(h0.shape)} are not "
            f"accepted; expected a and b (B, T, ...) alike and h0 {tuple(want_h0)}"
        )
    B, T = a.shape[:2]
    h = _LinearScan.apply(a.reshape(B, T, -1), b.reshape(B, T, -1), h0.reshape(B, -1))
    return h.view(a.shape)
