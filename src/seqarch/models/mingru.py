r"""minGRU and minLSTM (Feng et al. 2024, "Were RNNs All We Needed?").

Take the GRU and the LSTM, and let the gates see only the input, never h_{t−1}:

minGRU
    z_t = σ(W_z x_t + b_z)                         update gate
    h̃_t = g(W_h x_t + b_h)                         candidate
    h_t = (1 − z_t) ⊙ h_{t−1} + z_t ⊙ h̃_t
minLSTM
    f_t = σ(W_f x_t + b_f),  i_t = σ(W_i x_t + b_i),  h̃_t = g(W_h x_t + b_h)
    f'_t = f_t / (f_t + i_t),  i'_t = i_t / (f_t + i_t)      normalised: f'_t + i'_t = 1
    h_t = f'_t ⊙ h_{t−1} + i'_t ⊙ h̃_t
with the paper's g(a) = a + ½ for a ≥ 0 and σ(a) for a < 0 (continuous, always > 0), and
y_t = W_hy h_t + b_y on top. The state is h alone: (L, B, H), no cell.

Both are the linear recurrence h_t = a_t ⊙ h_{t−1} + b_t whose coefficients a_t ∈ (0, 1) and
b_t > 0 depend on x_t only. Unrolled, with A_t = ∏_{r≤t} a_r,

    h_t = A_t h_0 + Σ_{s≤t} (A_t / A_s) b_s,

every term of which can be computed for all t at once (Heinsen 2023): with a*_t = Σ_{r≤t} log a_r,

    log(h_t − A_t h_0) = a*_t + logcumsumexp_{s≤t}(log b_s − a*_s).

log b_s exists because b_s > 0 — that is what g is for. The h_0 term stays outside the logs, so
any initial state (zero, negative) is accepted. In float32 the log loses about |a*_t|·ε, and
|a*_t| grows linearly with t, so the scan runs inside chunks of ``chunk_size`` steps (all chunks
at once) and the state crosses chunk boundaries in T/chunk_size multiply-adds.

``impl="reference"`` is the recurrence itself, one step at a time; ``impl="scan"`` the log-space
scan above (PyTorch primitives, any device); ``impl="fast"`` the compiled scan of
``models/scan.py`` on CPU tensors — the linear coefficients a_t, b_t, one multiply-add per
element forward and backward, no logs — and the log-space scan elsewhere (GPU, half precision).
Layers stack without residuals, dropout between them; ``layer_norm=True`` normalises each
layer's gate pre-activations LN(W x + b), as the classic cells normalise LN(W_x x).
"""

from __future__ import annotations

import math
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .common import (
    Cost,
    StackedModel,
    check_input,
    check_positive_int,
)
from .scan import SCAN_IMPLS, compiles, linear_scan

# ---------------------------------------------------------------------------------------------
# The activation g and the two scans.


def g(a: Tensor) -> Tensor:
    """g(a) = a + ½ for a ≥ 0, σ(a) for a < 0: continuous, increasing, always positive.

    Written as relu(a) + σ(min(a, 0)), which is both branches at once (σ(0) = ½): no
    ``torch.where``, whose CPU forward and backward were a quarter of a training step."""
    return F.relu(a) + torch.sigmoid(a.clamp(max=0))


def log_g(a: Tensor) -> Tensor:
    """log g(a), computed without forming g(a) where it would be tiny (log σ(a) = −softplus(−a)):
    log(relu(a) + ½) for a ≥ 0 plus log σ(min(a, 0)) − log ½, which is 0 there and carries the
    a < 0 branch (log ½ + log σ(a) − log ½)."""
    return torch.log(F.relu(a) + 0.5) - F.softplus(-a.clamp(max=0)) + math.log(2.0)


def sequential_scan(a: Tensor, b: Tensor, h0: Tensor) -> Tensor:
    """h_t = a_t ⊙ h_{t−1} + b_t, one step at a time; a, b (B, T, H), h0 (B, H) -> h (B, T, H)."""
    h, hs = h0, []
    for a_t, b_t in zip(a.unbind(1), b.unbind(1), strict=True):  # unbind: one stack backward
        h = a_t * h + b_t
        hs.append(h)
    return torch.stack(hs, dim=1)


def parallel_log_scan(log_a: Tensor, log_b: Tensor, h0: Tensor, chunk_size: int = 64) -> Tensor:
    """The same recurrence from log a_t ≤ 0 and log b_t, all steps at once (see module docstring).

    log_a, log_b (B, T, H), h0 (B, H) of any sign -> h (B, T, H).
    """
    B, T, H = log_a.shape
    C = min(chunk_size, T)
    K = -(-T // C)  # number of chunks
    pad = K * C - T  # trailing steps with a = b = 1; causal, so they change nothing before T
    log_a = F.pad(log_a, (0, 0, 0, pad)).view(B, K, C, H)
    log_b = F.pad(log_b, (0, 0, 0, pad)).view(B, K, C, H)
    a_star = log_a.cumsum(dim=2)  # log A_t within each chunk, (B, K, C, H)
    h_local = torch.exp(a_star + torch.logcumsumexp(log_b - a_star, dim=2))  # h_t from h = 0
    decay = torch.exp(a_star)  # A_t within each chunk: how much of the entering state is left
    # Across chunks, one multiply-add per chunk: h_end_k = A_end_k ⊙ h_end_{k−1} + h_local_end_k.
    carried, h = [], h0  # the state entering each chunk
    ends = zip(decay[:, :, -1].unbind(1), h_local[:, :, -1].unbind(1), strict=True)
    for decay_end, local_end in ends:
        carried.append(h)
        h = decay_end * h + local_end
    entering = torch.stack(carried, dim=1)  # (B, K, H)
    h_all = h_local + decay * entering[:, :, None]  # (B, K, C, H)
    return h_all.view(B, K * C, H)[:, :T]


# ---------------------------------------------------------------------------------------------
# The cells: the coefficients a_t, b_t of h_t = a_t ⊙ h_{t−1} + b_t, from x_t alone.


class MinCell(nn.Module):
    """One layer's gate projections W (G·H, D_in), b (G·H), stacked in the order of ``gates``."""

    gates: ClassVar[int]

    def __init__(self, input_size: int, hidden_size: int, layer_norm: bool = False):
        super().__init__()
        self.hidden_size, self.layer_norm = hidden_size, layer_norm
        self.W = nn.Linear(input_size, self.gates * hidden_size)
        self.ln = nn.LayerNorm(self.gates * hidden_size) if layer_norm else None

    def pre_activations(self, x: Tensor) -> tuple[Tensor, ...]:
        """W x + b (layer-normed if asked), split into G blocks of (…, H)."""
        k = self.W(x)
        if self.ln is not None:
            k = self.ln(k)
        return k.chunk(self.gates, dim=-1)

    def coefficients(self, x: Tensor) -> tuple[Tensor, Tensor]:  # pragma: no cover - abstract
        """a, b from the equations (linear space)."""
        raise NotImplementedError

    def log_coefficients(self, x: Tensor) -> tuple[Tensor, Tensor]:  # pragma: no cover
        """log a, log b, computed stably in log space."""
        raise NotImplementedError

    def forward(self, x_t: Tensor, h_prev: Tensor) -> Tensor:
        """One step: x_t (B, D_in), h_{t−1} (B, H) -> h_t (B, H)."""
        a, b = self.coefficients(x_t)
        return a * h_prev + b


class MinGRUCell(MinCell):
    gates: ClassVar[int] = 2  # (z, h̃)

    def coefficients(self, x: Tensor) -> tuple[Tensor, Tensor]:
        k_z, k_h = self.pre_activations(x)
        z = torch.sigmoid(k_z)
        return 1 - z, z * g(k_h)  # a = 1 − z, b = z ⊙ h̃

    def log_coefficients(self, x: Tensor) -> tuple[Tensor, Tensor]:
        k_z, k_h = self.pre_activations(x)
        # log(1 − σ(k)) = −softplus(k), log σ(k) = −softplus(−k)
        return -F.softplus(k_z), -F.softplus(-k_z) + log_g(k_h)


class MinLSTMCell(MinCell):
    gates: ClassVar[int] = 3  # (f, i, h̃)

    def coefficients(self, x: Tensor) -> tuple[Tensor, Tensor]:
        k_f, k_i, k_h = self.pre_activations(x)
        # f' = f / (f + i) = σ(log f − log i): the same number, but no 0/0 where both gates
        # underflow (float32 σ(k) = 0 below k ≈ −104)
        diff = F.softplus(-k_f) - F.softplus(-k_i)  # log i − log f
        return torch.sigmoid(-diff), torch.sigmoid(diff) * g(k_h)  # a = f', b = i' ⊙ h̃

    def log_coefficients(self, x: Tensor) -> tuple[Tensor, Tensor]:
        k_f, k_i, k_h = self.pre_activations(x)
        # log f' = log f − log(f + i) = −softplus(log i − log f), and likewise for i'
        diff = F.softplus(-k_f) - F.softplus(-k_i)  # log i − log f
        return -F.softplus(diff), -F.softplus(-diff) + log_g(k_h)


# ---------------------------------------------------------------------------------------------
# The stack.


class MinRNN(StackedModel):
    """A stack of minimal cells with dropout between layers and an optional read-out.

    The state is one tensor (L, B, H).
    """

    cell_class: ClassVar[type[MinCell]]

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        output_size: int | None = None,
        dropout: float = 0.0,
        layer_norm: bool = False,
        impl: str = "fast",
        chunk_size: int = 64,
        tokens: bool = False,  # one-hot token inputs: the first W starts at embedding scale
    ):
        super().__init__()
        self._init_stack(input_size, hidden_size, num_layers, dropout, layer_norm, impl, SCAN_IMPLS)
        self.chunk_size = check_positive_int("chunk_size", chunk_size)
        self.cells = nn.ModuleList(
            self.cell_class(input_size if l == 0 else hidden_size, hidden_size, self.layer_norm)
            for l in range(num_layers)
        )
        self._init_readout(output_size)
        self._init_tokens(tokens)

    def read_in(self) -> list[Tensor]:
        return [self.cells[0].W.weight]  # (G·H, D)

    def forward(self, x: Tensor, state: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """x (B, T, D) -> y (B, T, O), state (L, B, H) at T."""
        check_input(x, self.input_size, rank=3)
        state = self._check_state(state, x.shape[0])
        inputs, finals = x, []  # inputs: (B, T, D_in) of the current layer
        for l, cell in enumerate(self.cells):
            inputs = self._between(l, inputs)
            if self.impl == "reference":
                inputs = self._reference_layer(cell, inputs, state[l])
            elif self.impl == "fast" and compiles(inputs, state[l]):
                a, b = cell.coefficients(inputs)  # (B, T, H) each
                inputs = linear_scan(a, b, state[l])
            else:  # "scan", or "fast" where the compiled scan does not run
                log_a, log_b = cell.log_coefficients(inputs)  # (B, T, H) each
                inputs = parallel_log_scan(log_a, log_b, state[l], self.chunk_size)
            finals.append(inputs[:, -1])
        return self._readout(inputs), torch.stack(finals)

    @staticmethod
    def _reference_layer(cell: MinCell, inputs: Tensor, h: Tensor) -> Tensor:
        """The equations, one step at a time: (B, T, D_in) -> (B, T, H)."""
        hs = []
        for x_t in inputs.unbind(1):  # not inputs[:, t]: each select's backward is a full (B, T, D)
            h = cell(x_t, h)
            hs.append(h)
        return torch.stack(hs, dim=1)

    def step(self, x_t: Tensor, state: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """One step for streaming: x_t (B, D) -> y_t (B, O), state (L, B, H); no scan needed."""
        check_input(x_t, self.input_size, rank=2)
        state = self._check_state(state, x_t.shape[0])
        h, finals = x_t, []
        for l, cell in enumerate(self.cells):
            if l > 0:
                h = self.drop(h)
            h = cell(h, state[l])
            finals.append(h)
        return self._readout(h), torch.stack(finals)

    def cost(self, seq_len: int, batch_size: int = 1, bytes_per_value: int = 4) -> Cost:
        """Parameters, FLOPs, state and activation memory of the stack.

        Per layer l with input width D_l (D_0 = D, D_l = H after) and G gate blocks
        (G = 2 for minGRU: z, h̃; G = 3 for minLSTM: f, i, h̃):
          params_l = G·H·D_l + G·H        (W, b; + 2·G·H with layer norm: LN gain and bias)
          flops_l  = 2·G·H·D_l            (one matrix-vector product; no W_h h_{t−1} at all)
        State: one tensor (L, B, H), independent of T.
        Activations kept for backprop, per step and layer: the layer input (D_l), the G·H
        pre-activations, and about 5·H more for the gates and the scan (the compiled scan keeps
        a and h; the gates' σ, g and products the rest; the log-space scan keeps log a, log b,
        their cumulative sum, the log-cumsum-exp and h) -> B·T·Σ_l (D_l + G·H + 5·H) values.
        ``seqarch bench`` measures autograd's saved tensors beside it (minGRU, H = 128,
        T = 8192: 1.14× this formula).
        """
        check_positive_int("seq_len", seq_len)
        check_positive_int("batch_size", batch_size)
        D, H, L, G = self.input_size, self.hidden_size, self.num_layers, self.cell_class.gates
        widths = [D] + [H] * (L - 1)
        ln = 2 * G * H if self.layer_norm else 0
        params = sum(G * H * d + G * H + ln for d in widths)
        flops = sum(2 * G * H * d for d in widths)
        acts = batch_size * seq_len * sum(d + G * H + 5 * H for d in widths)
        ln_f = " + 2·G·H" if self.layer_norm else ""
        return self._cost(
            seq_len,
            batch_size,
            bytes_per_value,
            params=params,
            flops=flops,
            state_values=L * batch_size * H,
            activation_values=acts,
            formulas={
                "params": f"G·H·D + G·H{ln_f}" + (f" + (L−1)·(G·H·H + G·H{ln_f})" if L > 1 else ""),
                "flops_per_token": "2·G·H·D" + (" + (L−1)·2·G·H·H" if L > 1 else ""),
                "state_bytes": "L·B·H·bytes",
                "activation_bytes": "B·T·Σ_l (D_l + G·H + 5·H)·bytes",
            },
            notes={
                "params": f"G={G}",
                "flops_per_token": f"G={G}, independent of T; no recurrent matmul",
                "state_bytes": "constant in T",
            },
        )


class MinGRU(MinRNN):
    """minGRU stack: ``MinGRU(input_size, hidden_size, num_layers=1)``; state (L, B, H)."""

    arch: ClassVar[str] = "mingru"
    colour: ClassVar[str] = "#ff7f0e"
    cell_class: ClassVar[type[MinCell]] = MinGRUCell


class MinLSTM(MinRNN):
    """minLSTM stack: ``MinLSTM(input_size, hidden_size, num_layers=1)``; state (L, B, H)."""

    arch: ClassVar[str] = "minlstm"
    colour: ClassVar[str] = "#8c564b"
    cell_class: ClassVar[type[MinCell]] = MinLSTMCell
