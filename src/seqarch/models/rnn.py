r"""The Elman RNN.

    h_t = tanh(W_xh x_t + b_xh + W_hh h_{t-1} + b_hh)        (or relu instead of tanh)
    y_t = W_hy h_t + b_y

x_t (B, D) is the input at step t, h_{t-1} (B, H) the memory of everything before it.
W_xh (H, D) sets how strongly the input moves the state; W_hh (H, H) carries the past;
tanh bounds the signal to (-1, 1). PyTorch keeps two bias vectors (b_xh, b_hh), and so do we,
so weights load across unchanged.

Why it forgets: ∂h_T/∂h_t = ∏_{k=t+1..T} diag(1 − h_k²) W_hh, so
‖∂h_T/∂h_t‖ ≤ (σ_max(W_hh) · max tanh')^{T−t}: a product of T−t Jacobians that shrinks (or
explodes) geometrically with the lag.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from .common import RecurrentCell, RecurrentModel, check_choice

NONLINEARITIES = ("tanh", "relu")


class RNNCell(RecurrentCell):
    gates: ClassVar[int] = 1
    nonlinearity: str = "tanh"

    def forward(self, x_t: Tensor, h_prev: Tensor) -> Tensor:
        a_x, a_h = self.pre_activations(x_t, h_prev)  # W_xh x_t + b_xh, W_hh h_{t-1} + b_hh
        f = torch.tanh if self.nonlinearity == "tanh" else torch.relu
        return f(a_x + a_h)  # h_t (B, H)


class RNN(RecurrentModel):
    """Elman RNN stack: ``RNN(input_size, hidden_size, num_layers=1, nonlinearity="tanh")``."""

    arch: ClassVar[str] = "rnn"
    colour: ClassVar[str] = "#d62728"
    cell_class: ClassVar[type[RecurrentCell]] = RNNCell
    torch_class: ClassVar[type[nn.RNNBase]] = nn.RNN

    def __init__(self, *args: Any, nonlinearity: str = "tanh", **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.nonlinearity = check_choice("nonlinearity", nonlinearity, NONLINEARITIES)
        for cell in self.cells:
            cell.nonlinearity = nonlinearity

    def _fused(self, x: Tensor, h0: Tensor) -> tuple[Tensor, Tensor]:
        # PyTorch's fused kernel on our weights (what nn.RNN.forward calls).
        kernel = torch.rnn_tanh if self.nonlinearity == "tanh" else torch.rnn_relu
        y, h_T = kernel(
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

    def _torch_kwargs(self) -> dict[str, Any]:
        return {"nonlinearity": self.nonlinearity}

    @classmethod
    def _from_torch_kwargs(cls, module: nn.RNNBase) -> dict[str, Any]:
        return {"nonlinearity": module.nonlinearity}
