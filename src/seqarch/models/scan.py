r"""The recurrences of the modern recurrent models, compiled for the CPU, with their gradients
derived by hand: the linear scan of minGRU / minLSTM here, and the selective SSM's fused scan
further down.

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

from .._numba import lazy_jit
from ..errors import BadInput

SCAN_IMPLS = ("reference", "scan", "fast")  # the loop, the PyTorch parallel scan, compiled
DTYPES = (torch.float32, torch.float64)


@lazy_jit
def _forward(a, b, h0, h):  # noqa: ANN001
    """h[:, t] = a[:, t] ⊙ h[:, t−1] + b[:, t]; a, b, h (B, T, M), h0 (B, M)."""
    B, T, M = a.shape
    for i in range(B):
        for m in range(M):
            h[i, 0, m] = a[i, 0, m] * h0[i, m] + b[i, 0, m]
        for t in range(1, T):
            for m in range(M):  # contiguous in m: one vector multiply-add per SIMD width
                h[i, t, m] = a[i, t, m] * h[i, t - 1, m] + b[i, t, m]


@lazy_jit
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
        h = torch.empty(a.shape, dtype=a.dtype)
        arrays = (a.contiguous(), b.contiguous(), h0.contiguous(), h)
        _forward(*(t.detach().numpy() for t in arrays))
        ctx.save_for_backward(a, h, h0)  # the inputs themselves, not contiguous copies: a copy
        return h  # made here is not in the graph, and second derivatives would miss it

    @staticmethod
    def backward(ctx, g_out: Tensor) -> tuple[Tensor, Tensor, Tensor]:  # noqa: ANN001
        a, h, h0 = ctx.saved_tensors
        if torch.is_grad_enabled():  # create_graph=True: the same sweep in differentiable ops
            return _backward_differentiable(a, h, h0, g_out)
        a, h0 = a.contiguous(), h0.contiguous()
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

    a, b (B, T, *S), h0 (B, *S) -> h (B, T, *S); any trailing shape S.
    """
    if not compiles(a, b, h0):
        kinds = sorted({f"{t.device.type} {t.dtype}" for t in (a, b, h0)})
        raise BadInput(
            f"tensors of {', '.join(kinds)} are not accepted by the compiled scan (or a "
            "torch.func transform / autocast is active); expected CPU float32 or float64, "
            "one dtype (use impl='scan' elsewhere)"
        )
    want_h0 = a.shape[:1] + a.shape[2:]
    if a.dim() < 2 or b.shape != a.shape or h0.shape != want_h0:
        raise BadInput(
            f"shapes a {tuple(a.shape)}, b {tuple(b.shape)}, h0 {tuple(h0.shape)} are not "
            f"accepted; expected a and b (B, T, ...) alike and h0 {tuple(want_h0)}"
        )
    B, T = a.shape[:2]
    h = _LinearScan.apply(a.reshape(B, T, -1), b.reshape(B, T, -1), h0.reshape(B, -1))
    return h.view(a.shape)


# ---------------------------------------------------------------------------------------------
# The selective SSM's scan, fused with its discretisation and read-out (models/ssm.py):
#
#     h_t = exp(Δ_t ⊗ A) ⊙ h_{t−1} + (Δ_t ⊙ u_t) ⊗ B_t,    y_t = h_t C_t
#
# per channel c and state dimension n. Computed as above, Ā and B̄u are (B, T, H, N) tensors
# written to memory and read back, forward and backward: 57 % of a training step. Mamba's kernel
# never writes them; neither does this one. With g_t = dL/dh_t (total; ḡ_t = ∂L/∂y_t ⊗ C_t),
#
#     g_t = ḡ_t + Ā_{t+1} ⊙ g_{t+1}
#     ∂L/∂C_t = Σ_c ∂L/∂y_t[c] h_t[c]              ∂L/∂B_t = Σ_c g_t[c] Δ_t[c] u_t[c]
#     ∂L/∂Δ_t[c] = Σ_n g_t h_{t−1} Ā_t A + u_t[c] Σ_n g_t B_t    ∂L/∂u_t[c] = Δ_t[c] Σ_n g_t B_t
#     ∂L/∂A = Σ_t g_t h_{t−1} Ā_t Δ_t                ∂L/∂h_0 = Ā_1 ⊙ g_1


@lazy_jit
def _selective_forward(u, dt, A, B_, C_, h0, y, hs):  # noqa: ANN001
    """u, dt (B, T, H); A (H, N); B_, C_ (B, T, N); h0 (B, H, N) -> y (B, T, H), hs = every h_t
    (B, T, H, N), kept for the backward sweep."""
    Bn, T, H = u.shape
    N = A.shape[1]
    for b in range(Bn):
        for t in range(T):
            for c in range(H):
                du = dt[b, t, c] * u[b, t, c]
                acc = 0.0
                for n in range(N):
                    prev = hs[b, t - 1, c, n] if t > 0 else h0[b, c, n]
                    h = np.exp(dt[b, t, c] * A[c, n]) * prev + du * B_[b, t, n]
                    hs[b, t, c, n] = h
                    acc += h * C_[b, t, n]
                y[b, t, c] = acc


@lazy_jit
def _selective_backward(u, dt, A, B_, C_, h0, hs, gy, gh, du, ddt, dA, dB, dC, dh0):  # noqa: ANN001
    """The reverse sweep of the comment above; gh = ∂L/∂h_T from outside (the final state);
    dA, dB, dC accumulate (zeroed by the caller)."""
    Bn, T, H = u.shape
    N = A.shape[1]
    carry = np.zeros((H, N), u.dtype)  # Ā_{t+1} ⊙ g_{t+1}; at t = T, ∂L/∂h_T
    for b in range(Bn):
        carry[:] = gh[b]
        for t in range(T - 1, -1, -1):
            for c in range(H):
                d, x = dt[b, t, c], u[b, t, c]
                g_y = gy[b, t, c]
                g_du = 0.0  # Σ_n g_t B_t
                g_dt = 0.0  # Σ_n g_t h_{t−1} Ā_t A
                for n in range(N):
                    g = g_y * C_[b, t, n] + carry[c, n]
                    dC[b, t, n] += g_y * hs[b, t, c, n]
                    prev = hs[b, t - 1, c, n] if t > 0 else h0[b, c, n]
                    a_bar = np.exp(d * A[c, n])
                    g_a = g * prev * a_bar  # ∂L/∂(Δ A) through Ā = exp(Δ A)
                    g_dt += g_a * A[c, n]
                    dA[c, n] += g_a * d
                    g_du += g * B_[b, t, n]
                    dB[b, t, n] += g * d * x
                    carry[c, n] = a_bar * g
                ddt[b, t, c] = g_dt + g_du * x
                du[b, t, c] = g_du * d
        for c in range(H):
            for n in range(N):
                dh0[b, c, n] = carry[c, n]  # Ā_1 ⊙ g_1


def zero_order_hold(delta: Tensor, A: Tensor, B_: Tensor, u: Tensor) -> tuple[Tensor, Tensor]:
    """Ā = exp(Δ ⊗ A) and B̄u = (Δ ⊙ u) ⊗ B, each (…, H, N), from Δ, u (…, H), A (H, N), B (…, N).
    The selective SSM's discretisation (models/ssm.py uses it; here because the compiled scan's
    second derivatives differentiate the same equations, and models/ssm.py imports this module)."""
    return torch.exp(delta[..., None] * A), (delta * u)[..., None] * B_[..., None, :]


def read_state(h: Tensor, C_: Tensor) -> Tensor:
    """h C: h (…, H, N), C (…, N) -> (…, H)."""
    return (h * C_[..., None, :]).sum(-1)


def _selective_reference(u, dt, A, B_, C_, h0):  # noqa: ANN001, ANN202
    """The same function in PyTorch ops, one step at a time, from the SSM's own equations: used
    for second derivatives, where the compiled backward is not differentiable."""
    h, ys, hs = h0, [], []
    steps = zip(u.unbind(1), dt.unbind(1), B_.unbind(1), C_.unbind(1), strict=True)
    for u_t, dt_t, B_t, C_t in steps:
        A_bar, Bu = zero_order_hold(dt_t, A, B_t, u_t)
        h = A_bar * h + Bu
        ys.append(read_state(h, C_t))
        hs.append(h)
    return torch.stack(ys, 1), torch.stack(hs, 1)


class _SelectiveScan(torch.autograd.Function):
    @staticmethod
    def forward(ctx, u, dt, A, B_, C_, h0):  # noqa: ANN001, ANN205
        Bn, T, H = u.shape
        y = torch.empty(Bn, T, H, dtype=u.dtype)
        hs = torch.empty(Bn, T, H, A.shape[1], dtype=u.dtype)
        arrays = (*(t.contiguous() for t in (u, dt, A, B_, C_, h0)), y, hs)
        _selective_forward(*(t.detach().numpy() for t in arrays))
        # the inputs, not copies (see above), and every h_t for the reverse sweep (through
        # save_for_backward, so that saved-tensor hooks — seqarch.measure.memory — see it)
        ctx.save_for_backward(u, dt, A, B_, C_, h0, hs)
        return y, hs[:, -1].clone()

    @staticmethod
    def backward(ctx, gy, gh):  # noqa: ANN001, ANN205
        *inputs, hs = ctx.saved_tensors
        u, dt, A, B_, C_, h0 = inputs
        gy = torch.zeros_like(u) if gy is None else gy.contiguous()
        gh = torch.zeros_like(h0) if gh is None else gh.contiguous()
        if torch.is_grad_enabled():  # create_graph=True: differentiate the PyTorch equations
            # torch.func.vjp: the partial derivative in each argument (Δ, B, C are functions
            # of u upstream; autograd.grad on a recomputation would count those paths twice),
            # as ops on the saved inputs, so that the outer graph differentiates them again.
            def final(*args: Tensor) -> tuple[Tensor, Tensor]:
                y, hs = _selective_reference(*args)
                return y, hs[:, -1]

            _, vjp = torch.func.vjp(final, *inputs)
            return vjp((gy, gh))
        inputs = tuple(t.contiguous() for t in inputs)
        grads = [torch.empty(t.shape, dtype=t.dtype) for t in (u, dt)]
        grads += [torch.zeros(t.shape, dtype=t.dtype) for t in (A, B_, C_)]
        grads += [torch.empty(h0.shape, dtype=h0.dtype)]
        arrays = (*inputs, hs, gy, gh, *grads)
        _selective_backward(*(t.detach().numpy() for t in arrays))
        return tuple(grads)


def selective_scan(
    u: Tensor, dt: Tensor, A: Tensor, B_: Tensor, C_: Tensor, h0: Tensor
) -> tuple[Tensor, Tensor]:
    """The selective SSM's recurrence and read-out, fused: u, Δ (B, T, H), A (H, N), B, C
    (B, T, N), h0 (B, H, N) -> y (B, T, H) without the D ⊙ u skip, and h_T (B, H, N)."""
    if not compiles(u, dt, A, B_, C_, h0):
        raise BadInput(
            "tensors that are not CPU float32/float64 of one dtype are not accepted by the "
            "compiled selective scan; expected CPU float32 or float64 (use impl='scan')"
        )
    return _SelectiveScan.apply(u, dt, A, B_, C_, h0)
