r"""Temporal convolutional network (Bai, Kolter & Koltun 2018, "An Empirical Evaluation of
Generic Convolutional and Recurrent Networks for Sequence Modeling", §3): a stack of residual
blocks of causal, dilated 1-D convolutions — a sequence model with no recurrence at all.

A causal dilated convolution of kernel size k and dilation d, channels C_in → C_out:

    F(u)_t = b + Σ_{j=0..k−1} W_j u_{t−(k−1−j)·d}        W_j (C_out, C_in), u_s = 0 for s < 0

so position t reads only t, t − d, …, t − (k−1)·d: never the future. Every weight is
weight-normalised (Salimans & Kingma 2016), one gain per output channel:

    W = g · V / ‖V‖                                     ‖V‖ over (C_in, k), per output channel

Level l = 0..L−1 (``num_layers`` levels) has dilation d = 2^l and holds one residual block,
its input u (width D_l: D for the first level, H after) and output o (width H):

    z = Dropout(ReLU(F_1(u)))                            conv 1, dilation 2^l, D_l → H
    z = Dropout(ReLU(F_2(z)))                            conv 2, dilation 2^l, H → H
    o = ReLU(z + S u)                                    S = I, or a 1×1 convolution when D_l ≠ H

Then  y_t = W_hy o_t + b_y  on the last level's output (the optional read-out).

**Receptive field.** Each convolution of level l looks (k−1)·2^l steps further back, and each
level holds two of them, so the last output sees

    R = 1 + 2·(k−1)·Σ_{l<L} 2^l = 1 + 2·(k−1)·(2^L − 1)   steps   (k = 2, L = 2: R = 7)

Nothing older reaches y_t: ∂y_t/∂x_s = 0 exactly for t − s ≥ R (derive/tcn.py shows the
backward pass, and the gradient-flow measurement shows the zero). Depth buys memory
exponentially: a history of T needs only L = ⌈log₂((T − 1) / (2(k − 1)) + 1)⌉ levels.
With ``max_len`` given (the training loop passes the longest sequence), the network gets the
fewest levels whose R covers it, never fewer than ``num_layers`` — the paper's rule of choosing
depth so that the receptive field covers the sequence.

**Streaming.** Convolution F at dilation d needs its last (k−1)·d inputs and nothing else,
so the state is one buffer per convolution: (B, D_l, (k−1)·2^l) and (B, H, (k−1)·2^l) at
level l, 2L tensors in all, (k−1)·Σ_l 2^l·(D_l + H) values per sequence — it grows with the
receptive field and never with T. A whole-sequence forward is the same computation with the
buffer in front of the chunk (zeros at the start: the causal padding), so ``forward`` with a
state continues the sequence and unrolling ``step`` equals ``forward``.

**Initial scales** (as the authors' code runs, locuslab/TCN ``TCN/tcn.py``): V of both
convolutions from PyTorch's Conv1d default U(±1/√(C_in·k)) with g = ‖V‖ (so W = V at the
start; the reference's ``normal_(0, 0.01)`` on the weight-normed convolutions is overwritten
by the weight-norm hook before any forward, so it never takes effect), the 1×1 skip
convolution N(0, 0.01²), every bias PyTorch's default. With ``tokens=True`` (one-hot inputs)
the read-in — the first level's V (one table per tap) and its 1×1 skip — starts at
N(0, 1/3) instead, the scale of an embedding N(0, 1) folded into a layer's default weights
(``SequenceModel.token_std``), and g = ‖V‖ again so that W is the drawn table.

``impl="reference"`` writes F as the sum over the k taps above (one matrix product per tap);
``impl="fast"`` (default) calls PyTorch's conv1d, and for a single step (T = 1, streaming)
gathers the k taps from the buffer into one matrix-vector product. They are tested equal in
outputs, states and gradients, and count the same FLOPs.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.parametrizations import weight_norm

from ..errors import BadInput
from .common import (
    IMPLS,
    Cost,
    SequenceModel,
    check_choice,
    check_input,
    check_positive_int,
    check_probability,
    check_width,
)


def receptive_field(kernel_size: int, levels: int) -> int:
    """R = 1 + 2·(k−1)·(2^L − 1): how many steps back (inclusive) the last level sees."""
    return 1 + 2 * (kernel_size - 1) * (2**levels - 1)


def levels_to_cover(span: int, kernel_size: int) -> int:
    """The fewest levels L with R(k, L) ≥ span: ⌈log₂((span − 1) / (2(k − 1)) + 1)⌉ (≥ 1)."""
    return max(1, math.ceil(math.log2((span - 1) / (2 * (kernel_size - 1)) + 1)))


class CausalConv(nn.Module):
    """F(u)_t = b + Σ_j W_j u_{t−(k−1−j)·d}, W = g·V/‖V‖: one weight-normed causal convolution
    whose left padding is the carried buffer of its last (k−1)·d inputs."""

    def __init__(self, c_in: int, c_out: int, kernel_size: int, dilation: int):
        super().__init__()
        self.k, self.d = kernel_size, dilation
        self.span = (kernel_size - 1) * dilation  # the buffer: inputs kept from the past
        # No padding: the buffer in front of the chunk is the padding (zeros at the start).
        self.conv = weight_norm(nn.Conv1d(c_in, c_out, kernel_size, dilation=dilation))

    @property
    def weight(self) -> Tensor:
        return self.conv.weight  # W = g · V / ‖V‖, (C_out, C_in, k)

    def forward(self, u: Tensor, buf: Tensor, impl: str) -> tuple[Tensor, Tensor]:
        """u (B, C_in, T), buf (B, C_in, (k−1)·d) -> F(u) (B, C_out, T), the new buffer."""
        T = u.shape[-1]
        z = torch.cat([buf, u], dim=-1)  # (B, C_in, (k−1)·d + T): the past, then the chunk
        new_buf = z[..., T:]  # the last (k−1)·d inputs
        if impl == "fast" and T == 1:  # a streaming step: only the k taps, not the whole buffer
            taps = z[..., :: self.d].flatten(1)  # (B, C_in·k): u_{t−(k−1)·d}, …, u_{t−d}, u_t
            W = self.weight.flatten(1)  # (C_out, C_in·k), the same (C_in, k) order
            return F.linear(taps, W, self.conv.bias)[..., None], new_buf
        if impl == "fast":
            return self.conv(z), new_buf
        W, b = self.weight, self.conv.bias
        # F(u)_t = b + Σ_j W_j u_{t−(k−1−j)·d}: tap j reads z shifted by j·d
        out = b[None, :, None]
        for j in range(self.k):
            out = out + torch.einsum("oc,bct->bot", W[:, :, j], z[..., j * self.d : j * self.d + T])
        return out, new_buf


class TemporalBlock(nn.Module):
    """o = ReLU(Dropout(ReLU(F_2(Dropout(ReLU(F_1(u)))))) + S u), S = I or a 1×1 convolution."""

    def __init__(self, c_in: int, hidden: int, kernel_size: int, dilation: int, dropout: float):
        super().__init__()
        self.conv1 = CausalConv(c_in, hidden, kernel_size, dilation)
        self.conv2 = CausalConv(hidden, hidden, kernel_size, dilation)
        self.drop = nn.Dropout(dropout)
        self.skip = nn.Conv1d(c_in, hidden, 1) if c_in != hidden else None
        if self.skip is not None:
            nn.init.normal_(self.skip.weight, 0.0, 0.01)  # as the reference's downsample

    def forward(
        self, u: Tensor, buf1: Tensor, buf2: Tensor, impl: str
    ) -> tuple[Tensor, Tensor, Tensor]:
        """u (B, C_in, T) -> o (B, H, T) and the two convolutions' new buffers."""
        z, buf1 = self.conv1(u, buf1, impl)
        z = self.drop(F.relu(z))
        z, buf2 = self.conv2(z, buf2, impl)
        z = self.drop(F.relu(z))
        if self.skip is None:
            res = u
        else:  # S u + c at every position: one matrix product (B·T, C_in) × (C_in, H)
            res = F.linear(u.transpose(1, 2), self.skip.weight[..., 0], self.skip.bias).transpose(
                1, 2
            )
        return F.relu(z + res), buf1, buf2


class TCN(SequenceModel):
    """Temporal convolutional network: residual blocks of causal dilated convolutions
    (dilation 2^l at level l); a bounded receptive field R = 1 + 2·(k−1)·(2^L − 1) and a
    streaming state of the last (k−1)·2^l inputs of each convolution, constant in T."""

    arch: ClassVar[str] = "tcn"
    colour: ClassVar[str] = "#bcbd22"
    population_impl: ClassVar[str] = "fast"  # conv1d has a batching rule

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,  # levels (residual blocks); more if max_len needs them
        output_size: int | None = None,
        dropout: float = 0.0,
        kernel_size: int = 2,  # k, the reference's default
        max_len: int | None = None,  # the history to cover: levels grow until R ≥ max_len
        layer_norm: bool = False,  # accepted for a uniform config; the TCN normalises weights
        impl: str = "fast",
        tokens: bool = False,  # one-hot token inputs: the first level's read-in as a table
    ):
        super().__init__()
        self.input_size = check_width("input_size", input_size)
        self.hidden_size = check_width("hidden_size", hidden_size)
        levels = check_positive_int("num_layers", num_layers)
        self.kernel_size = check_positive_int("kernel_size", kernel_size)
        if kernel_size < 2:
            raise BadInput(
                f"kernel_size={kernel_size} is not accepted; expected an integer ≥ 2 "
                "(a kernel of 1 sees only the present)"
            )
        if max_len is not None:
            check_positive_int("max_len", max_len)
            levels = max(levels, levels_to_cover(max_len, kernel_size))
        if levels > 30:
            raise BadInput(
                f"num_layers={levels} is not accepted for the TCN; expected at most 30 levels "
                "(dilation 2^l: 30 levels already see 2^31 steps back)"
            )
        self.max_len = max_len
        self.num_layers = levels
        self.dropout = check_probability("dropout", dropout)
        self.layer_norm = bool(layer_norm)
        self.impl = check_choice("impl", impl, IMPLS)
        D, H, k = self.input_size, self.hidden_size, self.kernel_size
        self.blocks = nn.ModuleList(
            TemporalBlock(D if l == 0 else H, H, k, 2**l, self.dropout) for l in range(levels)
        )
        self._init_readout(output_size)
        self._init_tokens(tokens)
        if self.tokens:  # g = ‖V‖ again, so W = V: the drawn table itself, at token_std
            conv = self.blocks[0].conv1.conv.parametrizations.weight
            with torch.no_grad():
                conv.original0.copy_(conv.original1.norm(dim=(1, 2), keepdim=True))

    def read_in(self) -> list[Tensor]:
        """The first level's weights on x: conv 1's V (H, D, k), one table per tap, and the
        1×1 skip (H, D, 1) when D ≠ H."""
        first = self.blocks[0]
        V = first.conv1.conv.parametrizations.weight.original1
        return [V] + ([first.skip.weight] if first.skip is not None else [])

    # -- what the rest of seqarch asks -----------------------------------------------------------

    def receptive_field(self) -> int:
        """R = 1 + 2·(k−1)·(2^L − 1): y_t depends on x_{t−R+1} … x_t and nothing older."""
        return receptive_field(self.kernel_size, self.num_layers)

    def _widths(self) -> list[int]:
        """D_l, the input width of level l: D, then H."""
        return [self.input_size] + [self.hidden_size] * (self.num_layers - 1)

    # -- state -----------------------------------------------------------------------------------

    def state_shapes(self, batch_size: int) -> list[tuple[int, int, int]]:
        """Per level l: (B, D_l, (k−1)·2^l) for conv 1 and (B, H, (k−1)·2^l) for conv 2."""
        k, H = self.kernel_size, self.hidden_size
        return [
            shape
            for l, d_in in enumerate(self._widths())
            for shape in ((batch_size, d_in, (k - 1) * 2**l), (batch_size, H, (k - 1) * 2**l))
        ]

    def init_state(self, batch_size: int) -> tuple[Tensor, ...]:
        """Zero buffers: the causal zero padding before the first input."""
        check_positive_int("batch_size", batch_size)
        p = next(self.parameters())
        return tuple(p.new_zeros(s) for s in self.state_shapes(batch_size))

    def _check_state(self, state: Any, batch_size: int) -> tuple[Tensor, ...]:
        if state is None:
            return self.init_state(batch_size)
        want = self.state_shapes(batch_size)
        if (
            not isinstance(state, tuple | list)
            or len(state) != len(want)
            or any(
                not isinstance(s, Tensor) or tuple(s.shape) != w
                for s, w in zip(state, want, strict=True)
            )
        ):
            got = (
                [tuple(s.shape) if isinstance(s, Tensor) else type(s).__name__ for s in state]
                if isinstance(state, tuple | list)
                else type(state).__name__
            )
            raise BadInput(
                f"state {got} is not accepted; expected a tuple of {len(want)} buffers, per level "
                f"(B, D_l, (k−1)·2^l) and (B, H, (k−1)·2^l): {want}"
            )
        return tuple(state)

    # -- forward ---------------------------------------------------------------------------------

    def forward(self, x: Tensor, state: Any = None) -> tuple[Tensor, tuple[Tensor, ...]]:
        """x (B, T, D) -> y (B, T, O), and every convolution's buffer after the last step."""
        check_input(x, self.input_size, rank=3)
        state = self._check_state(state, x.shape[0])
        u = x.transpose(1, 2)  # (B, D, T): channels first, as conv1d reads them
        finals: list[Tensor] = []
        for l, block in enumerate(self.blocks):
            u, buf1, buf2 = block(u, state[2 * l], state[2 * l + 1], self.impl)
            finals += [buf1, buf2]
        return self._readout(u.transpose(1, 2)), tuple(finals)

    # -- cost ------------------------------------------------------------------------------------

    def cost(self, seq_len: int, batch_size: int = 1, bytes_per_value: int = 4) -> Cost:
        """Parameters, FLOPs, state and activation memory, level by level.

        Level l (input width D_l, dilation 2^l), [D_l ≠ H] the 1×1 skip convolution:
          params_l = H·D_l·k + 2H  [conv 1: V, g, b] + H·H·k + 2H  [conv 2]
                     + [D_l ≠ H]·(H·D_l + H)
          flops_l  = 2·H·k·(D_l + H) + [D_l ≠ H]·2·H·D_l          per token, independent of T
        State: B·(k−1)·Σ_l 2^l·(D_l + H) values — the receptive field R = 1 + 2·(k−1)·(2^L − 1)
        sets it, T never does.
        Activations kept for backprop per token and level: the input (D_l) and the two
        convolutions' outputs before and after ReLU (4H): B·T·Σ_l (D_l + 4H).
        """
        H, k, L = self.hidden_size, self.kernel_size, self.num_layers
        widths = self._widths()
        skip = [int(d != H) for d in widths]  # [D_l ≠ H]: a 1×1 skip convolution
        levels = list(zip(widths, skip, strict=True))
        R = self.receptive_field()
        skip_text = " + (H·D + H)" if skip[0] else ""
        skip_flops = " + 2·H·D" if skip[0] else ""
        return self._cost(
            seq_len,
            batch_size,
            bytes_per_value,
            params=sum(H * d * k + H * H * k + 4 * H + s * (H * d + H) for d, s in levels),
            flops=sum(2 * H * k * (d + H) + s * 2 * H * d for d, s in levels),
            state_values=batch_size * (k - 1) * sum(2**l * (d + H) for l, d in enumerate(widths)),
            activation_values=batch_size * seq_len * sum(d + 4 * H for d in widths),
            formulas={
                "params": f"H·D·k + H·H·k + 4H{skip_text}"
                + (" + (L−1)·(2·H·H·k + 4H)" if L > 1 else ""),
                "flops_per_token": f"2·H·k·(D + H){skip_flops}"
                + (" + (L−1)·4·H·H·k" if L > 1 else ""),
                "state_bytes": "B·(k−1)·Σ_l 2^l·(D_l + H)·bytes",
                "activation_bytes": "B·T·Σ_l (D_l + 4H)·bytes",
                "receptive_field": f"1 + 2·(k−1)·(2^L − 1) = {R} steps",
            },
            notes={
                "params": f"k={k}, L={L}",
                "flops_per_token": f"k={k}, independent of T",
                "state_bytes": f"grows with the receptive field R = {R}, constant in T",
            },
        )
