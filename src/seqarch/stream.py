r"""The streaming runtime: a trained recurrent model served one time step at a time.

    session = seqarch.stream.open(model)       # a seqarch model, a torch nn.RNN/LSTM/GRU, or a
                                               # model directory seqarch advise --data kept
    y_t = session.push(x_t)                    # x_t (D,) NumPy -> y_t (O,); the state is kept
    session.state / session.load_state(s) / session.reset()

With ``streams=B`` the session carries B independent streams: x_t (B, D) -> y_t (B, O).

Why a runtime at all: at batch 1 a recurrent step is one matrix-vector product
``a = [W_x W_h] [x_t; h_{t-1}] + b`` (G·H × (D+H) multiply-adds) plus O(H) gate arithmetic, a
few microseconds of work (minGRU / minLSTM: their gates see x_t only, so a = W x_t + b, a
smaller GEMV still). PyTorch eager spends several times that in dispatch around each of
its ~10 ops. Here the whole step, every layer and the read-out, is one compiled call (numba)
into a single preallocated float32 workspace: the floor is one GEMV and the call around it.

Numerics: float32 throughout, as the model. σ and tanh are evaluated with the rational
approximation of Eigen's ``generic_fast_tanh_float`` (|error| < 4e-7 against float64 tanh),
because libm's scalar ``expf`` would cost more than the GEMV; σ(x) = ½ + ½·tanh(x/2).
Compiled: seqarch RNN (tanh, ReLU), LSTM, GRU, minGRU, minLSTM, and the selective SSM (whose
Ā = exp(Δ A) needs H·N of libm's expf per layer). A model with no compiled kernel here
(layer-normed ones, models added later) but whose state is constant in T is served through its
own ``step`` — same API, eager speed.
A model whose state grows with T (the Transformer's KV cache) is refused: an unbounded stream
would need unbounded memory.
"""

from __future__ import annotations

import math
import os
from typing import Any

import numba
import numpy as np
import torch
from torch import nn

from ._numba import jit
from .errors import BadInput
from .models import MODELS, RecurrentModel, SequenceModel
from .models.gru import GRUCell
from .models.lstm import LSTMCell
from .models.mingru import MinGRUCell, MinLSTMCell, MinRNN
from .models.rnn import RNNCell
from .models.ssm import SSM

# ---------------------------------------------------------------------------------------------
# The kernel. One workspace ws (float32, 1-D) holds parameters, state, scratch and output; one
# int64 ``layout`` says where each part lives. Few arguments keep numba's call overhead small.

RNN_TANH, RNN_RELU, LSTM_GATES, GRU_GATES = 0, 1, 2, 3
MINGRU_GATES, MINLSTM_GATES = 4, 5  # gates from x_t alone: no W_h, b_h (their offsets are 0)
SSM_SCAN = 6  # the selective SSM: its own kernel and layout, below
# layout header: kind, D, H, L, O (0: no read-out), B, S (state tensors), G (gate blocks),
# state offset, scratch offset, y offset, W_hy offset, b_y offset; then per layer
# (W_x offset, D_l, W_h offset, b_x offset, b_h offset).
KIND, D_, H_, L_, O_, B_, S_, G_, STATE, SCRATCH, Y, WY, BY, HEADER = range(14)
FASTMATH = {"reassoc", "contract", "nsz"}  # vectorise the dot products; no NaN/inf shortcuts

# tanh(x) ≈ x·P(x²)/Q(x²) on |x| ≤ 7.9053 (beyond it tanh rounds to ±1 in float32). Constants
# are float32 so the gate loops stay float32 (16 lanes per AVX-512 register).
_A = tuple(
    np.float32(c)
    for c in (
        4.89352455891786e-03,
        6.37261928875436e-04,
        1.48572235717979e-05,
        5.12229709037114e-08,
        -8.60467152213735e-11,
        2.00018790482477e-13,
        -2.76076847742355e-16,
    )
)
_B = tuple(
    np.float32(c)
    for c in (
        4.89352518554385e-03,
        2.26843463243900e-03,
        1.18534705686654e-04,
        1.19825839466702e-06,
    )
)
_CLAMP, _HALF, _ONE, _ZERO = (np.float32(c) for c in (7.90531110763549805, 0.5, 1.0, 0.0))
_SHUT = np.float32(-8.0)  # a gate pre-activation below it: σ < 3.4e-4, the approximation's
# absolute error (2e-7) no longer small against it


@jit(fastmath=FASTMATH, error_model="numpy", inline="always")
def _tanh(x: float) -> float:
    x = _CLAMP if x > _CLAMP else x
    x = -_CLAMP if x < -_CLAMP else x
    x2 = x * x
    p = ((((((_A[6] * x2 + _A[5]) * x2 + _A[4]) * x2 + _A[3]) * x2 + _A[2]) * x2) + _A[1]) * x2
    p = (p + _A[0]) * x
    q = ((_B[3] * x2 + _B[2]) * x2 + _B[1]) * x2 + _B[0]
    return p / q


@jit(fastmath=FASTMATH, error_model="numpy", inline="always")
def _sigmoid(x: float) -> float:
    return _HALF + _HALF * _tanh(_HALF * x)


@jit(fastmath=FASTMATH, error_model="numpy", inline="always")
def _g(x: float) -> float:
    """minGRU's g(x) = x + ½ for x ≥ 0, σ(x) for x < 0 (continuous, always positive)."""
    return x + _HALF if x >= _ZERO else _sigmoid(x)


# error_model="numpy": a float division returns inf instead of raising, which removes the branch
# that would stop LLVM from vectorising the gate loops (16 float32 lanes per AVX-512 register).


@jit(fastmath=FASTMATH, error_model="numpy")
def _linear(W, b, x, a):  # noqa: ANN001
    """a = W x + b, four rows at a time: four independent sums share each load of x[j] and hide
    the add latency that a single running sum waits on (measured here: 25–30 % faster than row
    by row at H = 64 … 256). At these sizes a call into BLAS costs more than it saves."""
    n, m = W.shape[0], x.shape[0]
    i = 0
    while i + 4 <= n:
        s0 = s1 = s2 = s3 = _ZERO
        for j in range(m):
            x_j = x[j]
            s0 += W[i, j] * x_j
            s1 += W[i + 1, j] * x_j
            s2 += W[i + 2, j] * x_j
            s3 += W[i + 3, j] * x_j
        a[i], a[i + 1], a[i + 2], a[i + 3] = s0 + b[i], s1 + b[i + 1], s2 + b[i + 2], s3 + b[i + 3]
        i += 4
    while i < n:  # the last n mod 4 rows
        s = b[i]
        for j in range(m):
            s += W[i, j] * x[j]
        a[i] = s
        i += 1


@jit(fastmath=FASTMATH, error_model="numpy")
def _gates(kind, a, h, c):  # noqa: ANN001
    """The cell's equations on a = [a_x; a_h] (2·G·H,); writes h_t (and C_t) over h_{t-1}
    (and C_{t-1}). Block j of a_x is a[jH : (j+1)H], of a_h a[GH + jH : GH + (j+1)H]."""
    H = h.shape[0]
    if kind == GRU_GATES:  # r, z, n blocks
        GH = 3 * H
        for k in range(H):
            r = _sigmoid(a[k] + a[GH + k])
            z = _sigmoid(a[H + k] + a[GH + H + k])
            n = _tanh(a[2 * H + k] + r * a[GH + 2 * H + k])
            h[k] = (_ONE - z) * n + z * h[k]
    elif kind == LSTM_GATES:  # i, f, g, o blocks
        GH = 4 * H
        for k in range(H):
            i = _sigmoid(a[k] + a[GH + k])
            f = _sigmoid(a[H + k] + a[GH + H + k])
            g = _tanh(a[2 * H + k] + a[GH + 2 * H + k])
            o = _sigmoid(a[3 * H + k] + a[GH + 3 * H + k])
            c[k] = f * c[k] + i * g
            h[k] = o * _tanh(c[k])
    elif kind == RNN_TANH:
        for k in range(H):
            h[k] = _tanh(a[k] + a[H + k])
    else:  # RNN_RELU
        for k in range(H):
            z = a[k] + a[H + k]
            h[k] = z if z > _ZERO else _ZERO


@jit(fastmath=FASTMATH, error_model="numpy")
def _min_gates(kind, a, h):  # noqa: ANN001
    """minGRU / minLSTM on a = W x_t + b (G·H,): h_t = a_t ⊙ h_{t−1} + b_t over h_{t−1}."""
    H = h.shape[0]
    if kind == MINGRU_GATES:  # z, h̃ blocks
        for k in range(H):
            z = _sigmoid(a[k])  # z_t = σ(W_z x_t + b_z)
            h_tilde = _g(a[H + k])  # h̃_t = g(W_h x_t + b_h)
            h[k] = (_ONE - z) * h[k] + z * h_tilde  # h_t = (1 − z_t) h_{t−1} + z_t h̃_t
    else:  # MINLSTM_GATES: f, i, h̃ blocks
        for k in range(H):
            f = _sigmoid(a[k])  # f_t = σ(W_f x_t + b_f)
            i = _sigmoid(a[H + k])  # i_t = σ(W_i x_t + b_i)
            h_tilde = _g(a[2 * H + k])  # h̃_t = g(W_h x_t + b_h)
            if a[k] < _SHUT and a[H + k] < _SHUT:
                # Both gates nearly shut: f and i are too small for a ratio of approximations
                # (and 0/0 past −15.9). f' = σ(log f − log i), with log σ(k) = k − σ(k) + O(σ²).
                f_ = _sigmoid((a[k] - a[H + k]) - (f - i))
            else:
                f_ = f / (f + i)  # f'_t = f_t / (f_t + i_t);  i'_t = 1 − f'_t
            h[k] = f_ * h[k] + (_ONE - f_) * h_tilde  # h_t = f'_t h_{t−1} + i'_t h̃_t


@jit(fastmath=FASTMATH, error_model="numpy")
def _first_non_finite(x):  # noqa: ANN001
    """The index of the first NaN or ±inf in x, or −1. x·0 is NaN exactly when x is not finite
    (FASTMATH keeps NaN and inf semantics), so one vectorised sum answers the common case; an
    element-by-element test with an early exit costs ~90 ns at D = 64, as much as the gates."""
    s = _ZERO
    for j in range(x.shape[0]):
        s += x[j] * _ZERO
    if s == _ZERO:
        return -1
    for j in range(x.shape[0]):
        if not math.isfinite(x[j]):
            return j
    return -1


@jit(fastmath=FASTMATH, error_model="numpy")
def _push(x, ws, layout):  # noqa: ANN001
    """One step of every stream: x (B·D,) -> ws[y : y + B·O]. Returns −1−j if x[j] is not finite
    (the state is then untouched), else 0."""
    j = _first_non_finite(x)
    if j >= 0:
        return -1 - j
    D, H, L, O, B = layout[D_], layout[H_], layout[L_], layout[O_], layout[B_]
    GH = layout[G_] * H
    state = ws[layout[STATE] : layout[STATE] + layout[S_] * L * B * H].reshape(-1, L, B, H)
    a = ws[layout[SCRATCH] : layout[SCRATCH] + 2 * GH]  # [a_x; a_h]
    a_x, a_h = a[:GH], a[GH:]
    width = O if O else H
    for b in range(B):
        for l in range(L):
            k = HEADER + 5 * l
            wx, n_x, wh, bx, bh = (
                layout[k],
                layout[k + 1],
                layout[k + 2],
                layout[k + 3],
                layout[k + 4],
            )
            W_x = ws[wx : wx + GH * n_x].reshape(GH, n_x)
            x_l = x[b * D : (b + 1) * D] if l == 0 else state[0, l - 1, b]  # the layer below
            h = state[0, l, b]
            _linear(W_x, ws[bx : bx + GH], x_l, a_x)  # a_x = W_x x_t + b_x
            if layout[KIND] >= MINGRU_GATES:  # min cells: no recurrent product
                _min_gates(layout[KIND], a_x, h)
            else:
                W_h = ws[wh : wh + GH * H].reshape(GH, H)
                _linear(W_h, ws[bh : bh + GH], h, a_h)  # a_h = W_h h_{t−1} + b_h
                _gates(layout[KIND], a, h, state[state.shape[0] - 1, l, b])
        y = ws[layout[Y] + b * width : layout[Y] + (b + 1) * width]
        if O:  # y_t = W_hy h_t + b_y
            W_hy = ws[layout[WY] : layout[WY] + O * H].reshape(O, H)
            _linear(W_hy, ws[layout[BY] : layout[BY] + O], state[0, L - 1, b], y)
        else:
            y[:] = state[0, L - 1, b]
    return 0


@jit(fastmath=FASTMATH, error_model="numpy")
def _rows(kind, a_x, b_x, a_h, b_h, h, c, a):  # noqa: ANN001
    """The gates of B streams whose products a GEMM computed: row b of a_x + b_x (B, G·H)
    and a_h + b_h -> h[b] (and c[b]) in place; ``a`` (2·G·H,) is scratch for one row."""
    GH = a_x.shape[1]
    for b in range(a_x.shape[0]):
        for k in range(GH):
            a[k] = a_x[b, k] + b_x[k]
        if kind >= MINGRU_GATES:
            _min_gates(kind, a[:GH], h[b])
        else:
            for k in range(GH):
                a[GH + k] = a_h[b, k] + b_h[k]
            _gates(kind, a, h[b], c[b])


# The selective SSM's layout: the same header (slot G_ holds N, the state size per channel), then
# W_in offset, b_in offset, R (the rank of Δ), the offset of R + 2N zeros (W_p's absent bias);
# per layer (W_p offset, W_Δ offset, b_Δ offset, A offset, D offset) with W_p = [W_r; W_B; W_C]
# (R + 2N, H) and A = −exp(A_log) (H, N).
N_, WIN, BIN, R_, ZEROS, SSM_HEADER = G_, 13, 14, 15, 16, 17
_TWENTY = np.float32(20.0)


@jit(fastmath=FASTMATH, error_model="numpy", inline="always")
def _softplus(x: float) -> float:
    """softplus(x) = log(1 + eˣ), and x itself above 20 (PyTorch's threshold)."""
    return x if x > _TWENTY else math.log1p(math.exp(x))


@jit(fastmath=FASTMATH, error_model="numpy")
def _push_ssm(x, ws, layout):  # noqa: ANN001
    """One step of the selective SSM for every stream: x (B·D,) -> ws[y : y + B·O]. Returns
    −1−j if x[j] is not finite (the state is then untouched), else 0."""
    j = _first_non_finite(x)
    if j >= 0:
        return -1 - j
    D, H, L, O, B = layout[D_], layout[H_], layout[L_], layout[O_], layout[B_]
    N, R = layout[N_], layout[R_]
    P = R + 2 * N
    state = ws[layout[STATE] : layout[STATE] + L * B * H * N].reshape(L, B, H, N)
    s = layout[SCRATCH]
    u, p, delta = ws[s : s + H], ws[s + H : s + H + P], ws[s + H + P : s + 2 * H + P]
    W_in = ws[layout[WIN] : layout[WIN] + H * D].reshape(H, D)
    width = O if O else H
    for b in range(B):
        _linear(W_in, ws[layout[BIN] : layout[BIN] + H], x[b * D : (b + 1) * D], u)  # u = W_in x
        for l in range(L):
            k = SSM_HEADER + 5 * l
            wp, wd, bd, a, d = layout[k], layout[k + 1], layout[k + 2], layout[k + 3], layout[k + 4]
            # [r; B_t; C_t] = [W_r; W_B; W_C] u_t (W_p has no bias: a stored zero one)
            _linear(ws[wp : wp + P * H].reshape(P, H), ws[layout[ZEROS] : layout[ZEROS] + P], u, p)
            # Δ_t before softplus: W_Δ r + b_Δ
            _linear(ws[wd : wd + H * R].reshape(H, R), ws[bd : bd + H], p[:R], delta)
            A = ws[a : a + H * N].reshape(H, N)
            h = state[l, b]  # (H, N)
            for c in range(H):  # channel c; u[c] becomes the layer's output y_c, the next input
                dt = _softplus(delta[c])  # Δ_t = softplus(W_Δ r + b_Δ)
                du = dt * u[c]
                y_c = _ZERO
                for n in range(N):
                    # h_t = exp(Δ_t A) ⊙ h_{t−1} + (Δ_t u_t) B_t ;  y_t = h_t C_t
                    h[c, n] = math.exp(dt * A[c, n]) * h[c, n] + du * p[R + n]
                    y_c += h[c, n] * p[R + N + n]
                u[c] = y_c + ws[d + c] * u[c]  # + D ⊙ u_t
        y = ws[layout[Y] + b * width : layout[Y] + (b + 1) * width]
        if O:  # y_t = W_hy u^L_t + b_y
            W_hy = ws[layout[WY] : layout[WY] + O * H].reshape(O, H)
            b_y = ws[layout[BY] : layout[BY] + O]
            _linear(W_hy, b_y, u, y)
        else:
            y[:] = u
    return 0


# ---------------------------------------------------------------------------------------------
# Sessions.


CELL_KINDS: dict[type[nn.Module], int] = {
    GRUCell: GRU_GATES,
    LSTMCell: LSTM_GATES,
    MinGRUCell: MINGRU_GATES,
    MinLSTMCell: MINLSTM_GATES,
}


def _cell_kind(cell: nn.Module) -> int | None:
    """The compiled gate kind for a cell, or None when this runtime has no kernel for it."""
    if getattr(cell, "layer_norm", False):
        return None
    if type(cell) is RNNCell:
        return RNN_TANH if cell.nonlinearity == "tanh" else RNN_RELU
    return CELL_KINDS.get(type(cell))


def _model_kind(model: SequenceModel) -> int | None:
    """The compiled kind shared by all of a model's cells, or None (served through its step)."""
    if isinstance(model, SSM):  # the kernel computes the selection; time-invariant: via step
        return None if model.layer_norm or not model.selective else SSM_SCAN
    if not isinstance(model, RecurrentModel | MinRNN):
        return None
    kinds = {_cell_kind(cell) for cell in model.cells}
    return kinds.pop() if len(kinds) == 1 else None


def _cell_weights(cell: nn.Module) -> tuple[torch.Tensor, ...]:
    """W_x (G·H, D_l), W_h (G·H, H), b_x, b_h (G·H,); a min cell has W_x = W, b_x = b only."""
    if isinstance(cell, MinGRUCell | MinLSTMCell):
        return cell.W.weight, None, cell.W.bias, None
    return cell.W_x, cell.W_h, cell.b_x, cell.b_h


_FLOAT32 = np.dtype(np.float32)


class Session:
    """State and input checks shared by both runtimes; subclasses implement the step."""

    model: SequenceModel
    streams: int

    def __init__(self, model: SequenceModel, streams: int):
        self.model, self.streams = model, streams
        self.input_size = model.input_size
        self.out_features = model.out_features
        self._x_shape = (model.input_size,) if streams == 1 else (streams, model.input_size)

    def _check_x(self, x_t: Any) -> np.ndarray:
        if (  # the common case, checked in ~0.1 µs: a C-contiguous float32 array of the shape
            type(x_t) is np.ndarray
            and x_t.dtype is _FLOAT32
            and x_t.shape == self._x_shape
            and x_t.flags.c_contiguous
        ):
            return x_t
        x = x_t
        if type(x) is not np.ndarray or x.dtype != np.float32:
            try:
                x = np.asarray(x_t, dtype=np.float32)
            except (TypeError, ValueError):
                raise BadInput(
                    f"x_t of type {type(x_t).__name__} is not accepted; expected a NumPy array "
                    f"of shape {self._x_shape}"
                ) from None
        if x.shape != self._x_shape:
            raise BadInput(
                f"x_t of shape {x.shape} is not accepted; expected {self._x_shape} "
                f"(input_size = {self.input_size}, streams = {self.streams})"
            )
        if not x.flags.c_contiguous:
            x = np.ascontiguousarray(x)
        return x

    def _stream_index(self, stream: Any) -> int:
        if isinstance(stream, bool) or not isinstance(stream, int | np.integer):
            raise BadInput(f"stream={stream!r} is not accepted; expected an integer index")
        if not 0 <= stream < self.streams:
            raise BadInput(f"stream={stream} is not accepted; expected 0 ≤ stream < {self.streams}")
        return int(stream)

    def _bad_value(self, j: int) -> BadInput:
        where = j if self.streams == 1 else divmod(j, self.input_size)
        return BadInput(
            f"x_t has a non-finite value at index {where}; expected finite numbers "
            "(the state was left unchanged)"
        )

    def _check_state(self, state: Any) -> list[np.ndarray]:
        """The model's state format -> list of float32 arrays (L, B, H), checked."""
        template = self.model.init_state(self.streams)
        tensors = list(template) if isinstance(template, tuple | list) else [template]
        given = list(state) if isinstance(state, tuple | list) else [state]
        want = [tuple(t.shape) for t in tensors]
        got = [tuple(np.shape(s)) for s in given]
        if got != want:
            raise BadInput(f"state of shapes {got} is not accepted; expected {want}")
        arrays = [
            np.asarray(s.detach() if isinstance(s, torch.Tensor) else s, np.float32) for s in given
        ]
        if not all(np.isfinite(a).all() for a in arrays):
            raise BadInput("state has a non-finite value; expected finite numbers")
        return arrays

    def _as_model_state(self, arrays: list[np.ndarray]) -> Any:
        tensors = [torch.from_numpy(a.copy()) for a in arrays]
        template = self.model.init_state(self.streams)
        return tuple(tensors) if isinstance(template, tuple | list) else tensors[0]


class _Workspace:
    """Float32 parts laid end to end, each starting on a 64-byte cache line (so a weight row
    of 16k floats never straddles two lines); ``place`` returns where each one starts."""

    ALIGN = 16  # floats: 64 bytes

    def __init__(self) -> None:
        self.parts: list[tuple[int, np.ndarray]] = []
        self.size = 0

    def place(self, values: Any) -> int:
        if isinstance(values, torch.Tensor):
            values = values.detach().float().numpy()
        part = np.asarray(values, np.float32).ravel()
        start = self.size
        self.parts.append((start, part))
        self.size = -(-(start + part.size) // self.ALIGN) * self.ALIGN
        return start

    def array(self) -> np.ndarray:
        """The parts in one zero-padded float32 array whose first element is 64-byte aligned."""
        raw = np.zeros(self.size + self.ALIGN, np.float32)
        skip = (-raw.ctypes.data % 64) // 4
        ws = raw[skip : skip + self.size]
        for start, part in self.parts:
            ws[start : start + part.size] = part
        return ws


def _pack_cells(model: RecurrentModel | MinRNN, B: int) -> tuple[_Workspace, list[int], tuple]:
    """Workspace, layout and state shape (S, L, B, H) for a stack of cells (see ``_push``)."""
    D, H, L = model.input_size, model.hidden_size, model.num_layers
    O, G = model.output_size or 0, model.cell_class.gates
    S = getattr(model, "state_tensors", 1)  # 2 for the LSTM's (h, C)
    ws, layers = _Workspace(), []
    for cell in model.cells:  # W_x (G·H, D_l), D_l, W_h (G·H, H), b_x, b_h
        W_x, W_h, b_x, b_h = _cell_weights(cell)
        layers += [ws.place(W_x), W_x.shape[1], 0 if W_h is None else ws.place(W_h)]
        layers += [ws.place(b_x), 0 if b_h is None else ws.place(b_h)]
    wy = by = 0
    if model.readout is not None:
        wy, by = ws.place(model.readout.weight), ws.place(model.readout.bias)  # W_hy (O, H), b_y
    state = ws.place(np.zeros(S * L * B * H))  # (S, L, B, H)
    scratch = ws.place(np.zeros(2 * G * H))  # a_x, a_h
    y = ws.place(np.zeros(B * (O or H)))
    header = [_model_kind(model), D, H, L, O, B, S, G, state, scratch, y, wy, by]
    return ws, header + layers, (S, L, B, H)


def _pack_ssm(model: SSM, B: int) -> tuple[_Workspace, list[int], tuple]:
    """Workspace, layout and state shape (1, L, B, H, N) for the selective SSM (``_push_ssm``)."""
    D, H, L, O = model.input_size, model.hidden_size, model.num_layers, model.output_size or 0
    N, R = model.state_size, model.dt_rank
    ws, layers = _Workspace(), []
    w_in, b_in = ws.place(model.W_in.weight), ws.place(model.W_in.bias)  # (H, D), (H,)
    zeros = ws.place(np.zeros(R + 2 * N))  # the bias W_p does not have
    for layer in model.layers:  # W_p (R + 2N, H), W_Δ (H, R), b_Δ, A, D
        wp = ws.place(layer.x_proj.weight)
        layers += [wp, ws.place(layer.dt_proj.weight), ws.place(layer.dt_proj.bias)]
        layers += [ws.place(-torch.exp(layer.A_log)), ws.place(layer.D)]  # A = −exp(A_log)
    wy = by = 0
    if model.readout is not None:
        wy, by = ws.place(model.readout.weight), ws.place(model.readout.bias)
    state = ws.place(np.zeros(L * B * H * N))  # (L, B, H, N)
    scratch = ws.place(np.zeros(2 * H + R + 2 * N))  # u, [r; B_t; C_t], Δ
    y = ws.place(np.zeros(B * (O or H)))
    header = [SSM_SCAN, D, H, L, O, B, 1, N, state, scratch, y, wy, by, w_in, b_in, R, zeros]
    return ws, header + layers, (1, L, B, H, N)


BATCHED_FROM = 8  # streams from which a step is one GEMM per layer (see FastSession)


class FastSession(Session):
    """The compiled runtime for seqarch RNN / LSTM / GRU / minGRU / minLSTM / SSM stacks
    (without layer norm).

    With many streams (B ≥ ``BATCHED_FROM``, the cell models) a step is one GEMM per layer and
    product — A_x = X W_xᵀ (B × D_l by D_l × G·H) and A_h = H_{t−1} W_hᵀ — in the machine's
    BLAS, which reuses each weight for all B rows, then the same compiled gate equations row by
    row, then Y = H_L W_hyᵀ. Below it the per-stream GEMV kernel is faster (a BLAS call costs
    more than it saves at batch 1)."""

    def __init__(self, model: RecurrentModel | MinRNN | SSM, streams: int):
        super().__init__(model, streams)
        B, width = streams, model.out_features
        with torch.no_grad():
            if isinstance(model, SSM):
                ws, layout, state_shape = _pack_ssm(model, B)
                self._kernel = _push_ssm
            else:
                ws, layout, state_shape = _pack_cells(model, B)
                self._kernel = _push
        self._ws = ws.array()
        self._layout = np.array(layout, dtype=np.int64)
        state, y = layout[STATE], layout[Y]
        self._state = self._ws[state : state + math.prod(state_shape)].reshape(state_shape)  # view
        self._y = self._ws[y : y + B * width].reshape((width,) if B == 1 else (B, width))
        # The compiled entry point for exactly these argument types: calling it skips the
        # dispatcher's type resolution (~0.1 µs a call). _check_x guarantees the types.
        x_type = numba.typeof(np.zeros(streams * model.input_size, np.float32))
        self._entry = self._kernel.compile(
            (x_type, numba.typeof(self._ws), numba.typeof(self._layout))
        )
        self._layers = None
        if streams >= BATCHED_FROM and not isinstance(model, SSM):
            self._layers = self._gemm_views(layout, state_shape)

    def _gemm_views(self, layout: list[int], state_shape: tuple) -> list[tuple]:
        """Per layer (W_x, b_x, W_h, b_h, h, c) as views into the workspace, and the GEMMs'
        outputs: what the batched step reads and writes."""
        S, L, B, H = state_shape
        G, ws = layout[G_], self._ws
        GH = G * H
        views = []
        for l in range(L):
            wx, n_x, wh, bx, bh = layout[HEADER + 5 * l : HEADER + 5 * l + 5]
            W_h = None if wh == 0 else ws[wh : wh + GH * H].reshape(GH, H)
            b_h = ws[bx : bx + GH] if wh == 0 else ws[bh : bh + GH]  # min cells: unread
            W_x, b_x = ws[wx : wx + GH * n_x].reshape(GH, n_x), ws[bx : bx + GH]
            views.append((W_x, b_x, W_h, b_h, self._state[0, l], self._state[S - 1, l]))
        O = layout[O_]
        self._W_hy = None if not O else ws[layout[WY] : layout[WY] + O * H].reshape(O, H)
        self._b_y = None if not O else ws[layout[BY] : layout[BY] + O]
        self._a_x = np.zeros((B, GH), np.float32)
        self._a_h = np.zeros((B, GH), np.float32)
        self._a = np.zeros(2 * GH, np.float32)
        self._kind = layout[KIND]
        return views

    def _push_gemm(self, x: np.ndarray) -> None:
        """One step of B streams as GEMMs (BLAS) and compiled gates; state and y in place."""
        a_x, a_h = self._a_x, self._a_h
        below = x
        for W_x, b_x, W_h, b_h, h, c in self._layers:
            np.matmul(below, W_x.T, out=a_x)
            if W_h is not None:
                np.matmul(h, W_h.T, out=a_h)
            _rows(self._kind, a_x, b_x, a_h, b_h, h, c, self._a)
            below = h
        if self._W_hy is None:
            self._y[...] = below
        else:
            np.matmul(below, self._W_hy.T, out=self._y)
            self._y += self._b_y

    def push(self, x_t: np.ndarray) -> np.ndarray:
        """One step: x_t (D,) -> y_t (O,), or (B, D) -> (B, O) with ``streams=B``."""
        x = self._check_x(x_t)
        if self._layers is not None:
            j = _first_non_finite(x.reshape(-1))
            if j >= 0:
                raise self._bad_value(j)
            self._push_gemm(x)
            return self._y.copy()
        status = self._entry(x if self.streams == 1 else x.reshape(-1), self._ws, self._layout)
        if status < 0:
            raise self._bad_value(-1 - status)
        return self._y.copy()

    def reset(self, stream: int | None = None) -> None:
        """Back to the zero state h_0 = 0 (and C_0 = 0): every stream, or only ``stream``."""
        if stream is None:
            self._state[...] = 0.0
        else:
            self._state[:, :, self._stream_index(stream)] = 0.0

    def __reduce__(self) -> tuple:
        """Pickle and deepcopy: rebuild the session (its compiled entry point and the views into
        its workspace cannot be copied) and restore the workspace — weights and state as now."""
        return (_restore_fast_session, (self.model, self.streams, self._ws.copy()))

    @property
    def state(self) -> Any:
        """A copy of the state in the model's format, (L, B, H[, N]) tensor(s), for
        ``model.step``."""
        return self._as_model_state(list(self._state))

    def load_state(self, state: Any) -> None:
        """Continue from ``state`` (the model's format; tensors or arrays)."""
        arrays = self._check_state(state)
        for k, a in enumerate(arrays):
            self._state[k] = a


def _restore_fast_session(model: SequenceModel, streams: int, ws: np.ndarray) -> FastSession:
    session = FastSession(model, streams)
    session._ws[:] = ws
    return session


class StepSession(Session):
    """Any constant-state model served through its own ``step`` (eager PyTorch, no grad)."""

    def __init__(self, model: SequenceModel, streams: int):
        super().__init__(model, streams)
        self._value = model.init_state(streams)

    def push(self, x_t: np.ndarray) -> np.ndarray:
        x = self._check_x(x_t)
        if not np.isfinite(x).all():
            raise self._bad_value(int(np.flatnonzero(~np.isfinite(x.ravel()))[0]))
        with torch.no_grad():
            y, self._value = self.model.step(
                torch.from_numpy(x.reshape(self.streams, -1)), self._value
            )
        y = y.float().numpy()
        return y[0].copy() if self.streams == 1 else y.copy()

    def reset(self, stream: int | None = None) -> None:
        """Back to the model's initial state: every stream, or only ``stream``."""
        fresh = self.model.init_state(self.streams)
        if stream is None:
            self._value = fresh
            return
        b = self._stream_index(stream)
        dim = self.model.state_batch_dim()
        tensors = self._value if isinstance(self._value, tuple | list) else [self._value]
        new = [t.clone() for t in tensors]
        zero = fresh if isinstance(fresh, tuple | list) else [fresh]
        for t, z in zip(new, zero, strict=True):
            t.select(dim, b).copy_(z.select(dim, b))
        self._value = type(self._value)(new) if isinstance(self._value, tuple | list) else new[0]

    @property
    def state(self) -> Any:
        v = self._value
        return tuple(t.clone() for t in v) if isinstance(v, tuple | list) else v.clone()

    def load_state(self, state: Any) -> None:
        arrays = self._check_state(state)
        self._value = self._as_model_state(arrays)


def _from_torch(module: nn.RNNBase) -> RecurrentModel:
    """The registered seqarch model whose ``torch_class`` ``module`` is, holding its weights."""
    for cls in MODELS.values():
        torch_class = getattr(cls, "torch_class", None)
        if torch_class is not None and type(module) is torch_class:
            return cls.from_torch(module)
    known = [c.torch_class.__name__ for c in MODELS.values() if getattr(c, "torch_class", None)]
    raise BadInput(
        f"module of type {type(module).__name__} is not accepted; expected torch.nn."
        f"{'/'.join(known)} or a seqarch model"
    )


class Standardised:
    """A session over a kept model (``open(MODEL_DIR)``): raw inputs, standardised as in
    training, x' = (x − μ) / σ per feature, then the model's own session."""

    def __init__(self, session: Session, mean: Any, std: Any):
        self.session = session
        self.mean = np.asarray(mean, np.float32)
        self.std = np.asarray(std, np.float32)
        self.model, self.streams = session.model, session.streams
        self.input_size, self.out_features = session.input_size, session.out_features

    def push(self, x_t: Any) -> np.ndarray:
        x = self.session._check_x(x_t)
        return self.session.push(((x - self.mean) / self.std).astype(np.float32))

    def reset(self, stream: int | None = None) -> None:
        self.session.reset(stream)

    @property
    def state(self) -> Any:
        return self.session.state

    def load_state(self, state: Any) -> None:
        self.session.load_state(state)


def _open_kept(path: Any, streams: int) -> Any:
    from .kept import load

    kept = load(path)
    if kept.kind == "forecast":
        raise BadInput(
            f"{path}: a forecaster reads windows relative to their last value, not a stream; "
            "expected a classify or regress model directory (use `seqarch predict`)"
        )
    session = open(kept.model, streams)
    s = kept.meta["task"].get("standardise")
    return session if s is None else Standardised(session, s["mean"], s["std"])


def open(  # noqa: A001
    model: SequenceModel | nn.RNNBase | str | os.PathLike, streams: int = 1
) -> FastSession | StepSession | Standardised:
    """A streaming session over ``model`` carrying ``streams`` independent streams. ``model``
    may be a seqarch model, a torch nn.RNN / LSTM / GRU, or a model directory that
    ``seqarch advise --data`` kept (its inputs then standardised as in training)."""
    if isinstance(streams, bool) or not isinstance(streams, int) or streams <= 0:
        raise BadInput(f"streams={streams!r} is not accepted; expected a positive integer")
    if isinstance(model, str | os.PathLike):
        return _open_kept(model, streams)
    if isinstance(model, nn.RNNBase):
        model = _from_torch(model)
    if not isinstance(model, SequenceModel):
        raise BadInput(
            f"model of type {type(model).__name__} is not accepted; expected a seqarch model "
            f"({', '.join(MODELS)}) or a torch nn.RNN / nn.LSTM / nn.GRU"
        )
    if model.state_grows():
        raise BadInput(
            f"model {model.arch!r} is not accepted: its state grows with T (e.g. a KV cache), so "
            "an unbounded stream needs unbounded memory; expected a constant-state model "
            f"(use model.step for bounded decoding)"
        )
    if _model_kind(model) is not None:
        return FastSession(model, streams)
    return StepSession(model, streams)
