"""ONNX export of the recurrent models, the initial state an explicit input and the final state an
explicit output, so a deployed graph can carry a stream across calls exactly as ``model`` does:

    y, h_n        = graph(x, h_0)            RNN, GRU     x (B, T, D), h (L, B, H)
    y, h_n, c_n   = graph(x, h_0, c_0)       LSTM         (PyTorch's layout throughout)

Batch B and length T are dynamic axes. The graph is traced from the model's fused path (the
same kernel as ``nn.GRU`` / ``nn.LSTM`` / ``nn.RNN``), which ONNX has as its own GRU / LSTM / RNN
operators; :func:`check` runs it in onnxruntime against the model.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from .errors import BadInput
from .models import RecurrentModel

OPSET = 17


class _ExplicitState(nn.Module):
    """The model with its state spelled out as separate tensors (ONNX has no tuples)."""

    def __init__(self, model: RecurrentModel):
        super().__init__()
        self.model = model

    def forward(self, x: Tensor, *state: Tensor) -> tuple[Tensor, ...]:
        s: Any = state[0] if len(state) == 1 else tuple(state)
        y, s = self.model(x, s)
        return (y, s) if isinstance(s, Tensor) else (y, *s)


def state_names(model: RecurrentModel) -> tuple[list[str], list[str]]:
    """Input and output names of the state tensors: h_0 (c_0) and h_n (c_n)."""
    letters = ["h", "c"][: model.state_tensors]
    return [f"{k}_0" for k in letters], [f"{k}_n" for k in letters]


def to_onnx(
    model: RecurrentModel, path: str | Path, *, seq_len: int = 4, batch_size: int = 1
) -> Path:
    """Write ``model`` to ``path`` as ONNX; inputs x, h_0 (, c_0); outputs y, h_n (, c_n)."""
    if not isinstance(model, RecurrentModel):
        raise BadInput(
            f"model of type {type(model).__name__} is not accepted; expected a seqarch RNN, LSTM "
            "or GRU (a recurrent model with a fused kernel)"
        )
    if model.layer_norm:
        raise BadInput(
            "layer_norm=True is not accepted for export; ONNX's RNN/LSTM/GRU operators have no "
            "layer normalisation (expected layer_norm=False)"
        )
    path = Path(path)
    was_training, impl = model.training, model.impl
    model.eval()
    model.impl = "fast"  # the fused kernel maps onto ONNX's recurrent operators
    ins, outs = state_names(model)
    x = torch.zeros(batch_size, seq_len, model.input_size)
    init = model.init_state(batch_size)
    state = (init,) if isinstance(init, Tensor) else tuple(init)
    axes = {"x": {0: "batch", 1: "time"}, "y": {0: "batch", 1: "time"}}
    axes |= {name: {1: "batch"} for name in ins + outs}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the legacy exporter's deprecation notice
            torch.onnx.export(
                _ExplicitState(model),
                (x, *state),
                str(path),
                input_names=["x", *ins],
                output_names=["y", *outs],
                dynamic_axes=axes,
                opset_version=OPSET,
                dynamo=False,
            )
    finally:
        model.impl = impl
        model.train(was_training)
    return path


def run_onnx(path: str | Path, x: np.ndarray, *state: np.ndarray) -> list[np.ndarray]:
    """Run an exported graph in onnxruntime: [y, h_n (, c_n)]."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    feeds = dict(zip(names, (x, *state), strict=True))
    return session.run(None, {k: np.ascontiguousarray(v, np.float32) for k, v in feeds.items()})


def check(
    model: RecurrentModel, path: str | Path, *, seq_len: int = 7, batch_size: int = 2, seed: int = 0
) -> float:
    """Largest |onnxruntime − model| over y and the final state, on random x and h_0 (, c_0)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batch_size, seq_len, model.input_size, generator=g)
    init = model.init_state(batch_size)
    state = [
        torch.randn(s.shape, generator=g) for s in ((init,) if isinstance(init, Tensor) else init)
    ]
    with torch.no_grad():
        y, s = model.eval()(x, state[0] if len(state) == 1 else tuple(state))
    expected = [y, s] if isinstance(s, Tensor) else [y, *s]
    got = run_onnx(path, x.numpy(), *(t.numpy() for t in state))
    return max(float(np.abs(g_ - e.numpy()).max()) for g_, e in zip(got, expected, strict=True))


def export_fresh(arch: str, path: str | Path, **sizes: int) -> str:
    """``seqarch export``: a freshly initialised ``arch`` at ``sizes`` written to ``path`` as
    ONNX and checked in onnxruntime; returns the line that says what was written and how
    close onnxruntime came to PyTorch."""
    from .models import build

    model = build(arch, **sizes)
    written = to_onnx(model, path)
    error = check(model, written)
    ins, outs = state_names(model)
    return (
        f"wrote {written}: inputs x, {', '.join(ins)} → outputs y, {', '.join(outs)}; "
        f"max |onnxruntime − PyTorch| = {error:.2g}"
    )
