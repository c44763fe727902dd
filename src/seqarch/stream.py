r"""The streaming runtime: a trained recurrent model served one time step at a time.

    session = seqarch.stream.open(model)       # a seqarch RNN/LSTM/GRU or a torch nn.RNN/LSTM/GRU
    y_t = session.push(x_t)                    # x_t (D,) NumPy -> y_t (O,); the state is kept
    session.state / session.load_state(s) / session.reset()

With ``streams=B`` the session carries B independent streams: x_t (B, D) -> y_t (B, O).

Why a runtime at all: at batch 1 a recurrent step is one matrix-vector product
``a = [W_x W_h] [x_t; h_{t-1}] + b`` (G·H × (D+H) multiply-adds) plus O(H) gate arithmetic, a
few microseconds of work. PyTorch eager spends several times that in dispatch around each of
its ~10 ops. Here the whole step, every layer and the read-out, is one compiled call (numba)
into a single preallocated float32 workspace: the floor is one GEMV and the call around it.

Numerics: float32 throughout, as the model. σ and tanh are evaluated with the rational
approximation of Eigen's ``generic_fast_tanh_float`` (|error| < 4e-7 against float64 tanh),
because libm's scalar ``expf`` would cost more than the GEMV; σ(x) = ½ + ½·tanh(x/2).
A model whose cell has no compiled kernel here (layer-normed cells, models added later) but
whose state is constant in T is served through its own ``step`` — same API, eager speed.
A model whose state grows with T (the Transformer's KV cache) is refused: an unbounded stream
would need unbounded memory.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from numba import njit
from torch import nn

from .models import MODELS, RecurrentModel, SequenceModel
from .models.gru import GRUCell
from .models.lstm import LSTMCell
from .models.rnn import RNNCell

# ---------------------------------------------------------------------------------------------
# The kernel. One workspace ws (float32, 1-D) holds parameters, state, scratch and output; one
# int64 ``layout`` says where each part lives. Few arguments keep numba's call overhead small.

RNN_TANH, RNN_RELU, LSTM_GATES, GRU_GATES = 0, 1, 2, 3
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


@njit(fastmath=FASTMATH, error_model="numpy", inline="always", cache=True)
def _tanh(x: float) -> float:
    x = _CLAMP if x > _CLAMP else x
    x = -_CLAMP if x < -_CLAMP else x
    x2 = x * x
    p = ((((((_A[6] * x2 + _A[5]) * x2 + _A[4]) * x2 + _A[3]) * x2 + _A[2]) * x2) + _A[1]) * x2
    p = (p + _A[0]) * x
    q = ((_B[3] * x2 + _B[2]) * x2 + _B[1]) * x2 + _B[0]
    return p / q


@njit(fastmath=FASTMATH, error_model="numpy", inline="always", cache=True)
def _sigmoid(x: float) -> float:
    return _HALF + _HALF * _tanh(_HALF * x)


# error_model="numpy": a float division returns inf instead of raising, which removes the branch
# that would stop LLVM from vectorising the gate loops (16 float32 lanes per AVX-512 register).


@njit(fastmath=FASTMATH, error_model="numpy", cache=True)
def _pre_activations(W_x, W_h, b_x, b_h, x, h, a_x, a_h):  # noqa: ANN001
    """a_x = W_x x + b_x,  a_h = W_h h + b_h: one pass over each weight row (vectorised dots;
    at these sizes a call into BLAS costs more than it saves)."""
    for i in range(W_x.shape[0]):
        s = b_x[i]
        for j in range(x.shape[0]):
            s += W_x[i, j] * x[j]
        t = b_h[i]
        for j in range(h.shape[0]):
            t += W_h[i, j] * h[j]
        a_x[i] = s
        a_h[i] = t


@njit(fastmath=FASTMATH, error_model="numpy", cache=True)
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


@njit(fastmath=FASTMATH, error_model="numpy", cache=True)
def _push(x, ws, layout):  # noqa: ANN001
    """One step of every stream: x (B·D,) -> ws[y : y + B·O]. Returns −1−j if x[j] is not finite
    (the state is then untouched), else 0."""
    for j in range(x.shape[0]):
        if not math.isfinite(x[j]):
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
            W_h = ws[wh : wh + GH * H].reshape(GH, H)
            x_l = x[b * D : (b + 1) * D] if l == 0 else state[0, l - 1, b]  # the layer below
            h = state[0, l, b]
            _pre_activations(W_x, W_h, ws[bx : bx + GH], ws[bh : bh + GH], x_l, h, a_x, a_h)
            _gates(layout[KIND], a, h, state[state.shape[0] - 1, l, b])
        y = ws[layout[Y] + b * width : layout[Y] + (b + 1) * width]
        if O:  # y_t = W_hy h_t + b_y
            W_hy = ws[layout[WY] : layout[WY] + O * H].reshape(O, H)
            np.dot(W_hy, state[0, L - 1, b], y)
            for i in range(O):
                y[i] += ws[layout[BY] + i]
        else:
            y[:] = state[0, L - 1, b]
    return 0


# ---------------------------------------------------------------------------------------------
# Sessions.


def _cell_kind(cell: nn.Module) -> int | None:
    """The compiled gate kind for a cell, or None when this runtime has no kernel for it."""
    if getattr(cell, "layer_norm", False):
        return None
    if type(cell) is GRUCell:
        return GRU_GATES
    if type(cell) is LSTMCell:
        return LSTM_GATES
    if type(cell) is RNNCell:
        return RNN_TANH if cell.nonlinearity == "tanh" else RNN_RELU
    return None


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
        x = x_t
        if type(x) is not np.ndarray or x.dtype != np.float32:
            try:
                x = np.asarray(x_t, dtype=np.float32)
            except (TypeError, ValueError):
                raise ValueError(
                    f"x_t of type {type(x_t).__name__} is not accepted; expected a NumPy array "
                    f"of shape {self._x_shape}"
                ) from None
        if x.shape != self._x_shape:
            raise ValueError(
                f"x_t of shape {x.shape} is not accepted; expected {self._x_shape} "
                f"(input_size = {self.input_size}, streams = {self.streams})"
            )
        if not x.flags.c_contiguous:
            x = np.ascontiguousarray(x)
        return x

    def _bad_value(self, j: int) -> ValueError:
        where = j if self.streams == 1 else divmod(j, self.input_size)
        return ValueError(
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
            raise ValueError(f"state of shapes {got} is not accepted; expected {want}")
        arrays = [
            np.asarray(s.detach() if isinstance(s, torch.Tensor) else s, np.float32) for s in given
        ]
        if not all(np.isfinite(a).all() for a in arrays):
            raise ValueError("state has a non-finite value; expected finite numbers")
        return arrays

    def _as_model_state(self, arrays: list[np.ndarray]) -> Any:
        tensors = [torch.from_numpy(a.copy()) for a in arrays]
        template = self.model.init_state(self.streams)
        return tuple(tensors) if isinstance(template, tuple | list) else tensors[0]


class FastSession(Session):
    """The compiled runtime for seqarch RNN / LSTM / GRU stacks (without layer norm)."""

    def __init__(self, model: RecurrentModel, streams: int):
        super().__init__(model, streams)
        D, H, L, B = model.input_size, model.hidden_size, model.num_layers, streams
        O, S, G = model.output_size or 0, model.state_tensors, model.cell_class.gates
        parts: list[np.ndarray] = []
        size = 0

        def place(values: np.ndarray) -> int:
            nonlocal size
            parts.append(np.asarray(values, np.float32).ravel())
            size += parts[-1].size
            return size - parts[-1].size

        layers = []
        with torch.no_grad():
            for cell in model.cells:  # W_x (G·H, D_l), D_l, W_h (G·H, H), b_x, b_h
                layers += [place(cell.W_x.float().numpy()), cell.W_x.shape[1]]
                layers += [place(cell.W_h.float().numpy())]
                layers += [place(cell.b_x.float().numpy()), place(cell.b_h.float().numpy())]
            wy = by = 0
            if model.readout is not None:
                wy = place(model.readout.weight.float().numpy())  # W_hy (O, H)
                by = place(model.readout.bias.float().numpy())
        state = place(np.zeros(S * L * B * H))  # (S, L, B, H)
        scratch = place(np.zeros(2 * G * H))  # a_x, a_h
        y = place(np.zeros(B * (O or H)))
        self._ws = np.concatenate(parts)
        kind = _cell_kind(model.cells[0])
        header = [kind, D, H, L, O, B, S, G, state, scratch, y, wy, by]
        self._layout = np.array(header + layers, dtype=np.int64)
        self._state = self._ws[state : state + S * L * B * H].reshape(S, L, B, H)  # a view
        self._y = self._ws[y : y + B * (O or H)]
        self._y_shape = (O or H,) if B == 1 else (B, O or H)

    def push(self, x_t: np.ndarray) -> np.ndarray:
        """One step: x_t (D,) -> y_t (O,), or (B, D) -> (B, O) with ``streams=B``."""
        x = self._check_x(x_t)
        status = _push(x if self.streams == 1 else x.reshape(-1), self._ws, self._layout)
        if status < 0:
            raise self._bad_value(-1 - status)
        return self._y.reshape(self._y_shape).copy()

    def reset(self) -> None:
        """Back to the zero state h_0 = 0 (and C_0 = 0)."""
        self._state[...] = 0.0

    @property
    def state(self) -> Any:
        """A copy of the state in the model's format, (L, B, H) tensor(s), for ``model.step``."""
        return self._as_model_state(list(self._state))

    def load_state(self, state: Any) -> None:
        """Continue from ``state`` (the model's format; tensors or arrays)."""
        arrays = self._check_state(state)
        for k, a in enumerate(arrays):
            self._state[k] = a


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

    def reset(self) -> None:
        self._value = self.model.init_state(self.streams)

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
    raise ValueError(
        f"module of type {type(module).__name__} is not accepted; expected torch.nn."
        f"{'/'.join(known)} or a seqarch model"
    )


def state_grows(model: SequenceModel) -> bool:
    """Whether the model's inference state grows with T, from its own cost formula."""
    return model.cost(2).state_bytes != model.cost(1).state_bytes


def open(model: SequenceModel | nn.RNNBase, streams: int = 1) -> FastSession | StepSession:  # noqa: A001
    """A streaming session over ``model`` carrying ``streams`` independent streams."""
    if isinstance(streams, bool) or not isinstance(streams, int) or streams <= 0:
        raise ValueError(f"streams={streams!r} is not accepted; expected a positive integer")
    if isinstance(model, nn.RNNBase):
        model = _from_torch(model)
    if not isinstance(model, SequenceModel):
        raise ValueError(
            f"model of type {type(model).__name__} is not accepted; expected a seqarch model "
            f"({', '.join(MODELS)}) or a torch nn.RNN / nn.LSTM / nn.GRU"
        )
    if state_grows(model):
        raise ValueError(
            f"model {model.arch!r} is not accepted: its state grows with T (e.g. a KV cache), so "
            "an unbounded stream needs unbounded memory; expected a constant-state model "
            f"(use model.step for bounded decoding)"
        )
    if isinstance(model, RecurrentModel) and _cell_kind(model.cells[0]) is not None:
        return FastSession(model, streams)
    return StepSession(model, streams)
