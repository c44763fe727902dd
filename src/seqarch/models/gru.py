r"""The GRU (Cho et al. 2014), in the form PyTorch and cuDNN compute.

    r_t = σ(W_xr x_t + b_xr + W_hr h_{t-1} + b_hr)             reset gate: how much past feeds n_t
    z_t = σ(W_xz x_t + b_xz + W_hz h_{t-1} + b_hz)             update gate: keep old vs take new
    n_t = tanh(W_xn x_t + b_xn + r_t ⊙ (W_hn h_{t-1} + b_hn))  candidate state
    h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t-1}                      interpolation
    y_t = W_hy h_t + b_y

Gate blocks are stacked in PyTorch's order (r, z, n). Note r_t multiplies W_hn h_{t-1} + b_hn,
*after* the matrix product; Cho et al. wrote W_hn (r_t ⊙ h_{t-1}). The two are different
functions — one reason "a GRU is just a compressed LSTM" is wrong: it has no separate cell, its
one state is both memory and output, and a single gate z_t both forgets and writes (coupled,
where the LSTM's f_t and i_t are free). ∂h_t/∂h_{t-1} contains the direct term diag(z_t): the
GRU's gradient highway.
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import Tensor, nn

from .common import RecurrentCell, RecurrentModel


class GRUCell(RecurrentCell):
    gates: ClassVar[int] = 3

    def forward(self, x_t: Tensor, h_prev: Tensor) -> Tensor:
        a_x, a_h = self.pre_activations(x_t, h_prev)  # (B, 3H) each
        x_r, x_z, x_n = a_x.chunk(3, dim=-1)  # (B, H) each, PyTorch's gate order
        h_r, h_z, h_n = a_h.chunk(3, dim=-1)
        r_t = torch.sigmoid(x_r + h_r)
        z_t = torch.sigmoid(x_z + h_z)
        n_t = torch.tanh(x_n + r_t * h_n)
        return (1 - z_t) * n_t + z_t * h_prev  # h_t (B, H)

    def gate_values(self, x_t: Tensor, h_prev: Tensor) -> dict[str, Tensor]:
        """r_t, z_t (B, H) each: how much past feeds the candidate, how much of h_{t-1} is kept."""
        a_x, a_h = self.pre_activations(x_t, h_prev)  # (B, 3H) each
        x_r, x_z, _ = a_x.chunk(3, dim=-1)
        h_r, h_z, _ = a_h.chunk(3, dim=-1)
        return {"reset": torch.sigmoid(x_r + h_r), "update": torch.sigmoid(x_z + h_z)}


class GRU(RecurrentModel):
    """GRU stack; the state is one tensor (L, B, H), as nn.GRU keeps it."""

    arch: ClassVar[str] = "gru"
    colour: ClassVar[str] = "#2ca02c"
    cell_class: ClassVar[type[RecurrentCell]] = GRUCell
    torch_class: ClassVar[type[nn.RNNBase]] = nn.GRU
    shows: ClassVar[tuple[str, ...]] = ("gates",)  # reset, update (gate_values)

    def _fused(self, x: Tensor, h0: Tensor) -> tuple[Tensor, Tensor]:
        # PyTorch's fused kernel on our weights (what nn.GRU.forward calls).
        y, h_T = torch.gru(
            x,
            h0,
            self._flat_weights(),
            True,
            self.num_layers,
            self.dropout,
            self.training,
            False,
            True,  # bidirectional, batch_first
        )
        return y, h_T
