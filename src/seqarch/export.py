"""ONNX export with the state as explicit inputs and outputs, so a deployed graph carries a
stream across calls exactly as the model does. Two forms, chosen by what the model is:

* **sequence** — a recurrent model with a fused kernel (``onnx_standard_op``: RNN, LSTM, GRU
  without layer norm) becomes ONNX's own RNN / LSTM / GRU operator over a whole chunk:

      y, h_n        = graph(x, h_0)            RNN, GRU     x (B, T, D), h (L, B, H)
      y, h_n, c_n   = graph(x, h_0, c_0)       LSTM         (PyTorch's layout throughout)

  B and T are dynamic axes.
* **step** — any other model whose state does not grow with T (minGRU, minLSTM, the SSM, a
  layer-normed RNN …, and any architecture registered later) is traced through its own
  ``step`` into a graph of primitives: ``y_t, s_n… = graph(x_t, s_0…)``, x_t (B, D), B dynamic;
  a stream calls it once per step.

A model whose state grows with T (the Transformer's KV cache) has no fixed-size graph to export
and is refused. :func:`check` runs the graph in onnxruntime against the model.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from .errors import BadInput
from .models import RecurrentModel, SequenceModel

OPSET = 17


def _tensors(state: Any) -> list[Tensor]:
    return [state] if isinstance(state, Tensor) else list(state)


def _pack(model: SequenceModel, tensors: tuple[Tensor, ...]) -> Any:
    """The model's own state structure from a flat tuple of tensors."""
    template = model.init_state(1)
    return tensors[0] if isinstance(template, Tensor) else type(template)(tensors)


def form(model: SequenceModel) -> str:
    """'sequence' (a standard ONNX recurrent operator) or 'step' (the model's step, traced)."""
    if model.onnx_standard_op and not getattr(model, "layer_norm", False):
        return "sequence"
    return "step"


class _Explicit(nn.Module):
    """The model (or its step) with its state spelled out as separate tensors (ONNX has no
    tuples)."""

    def __init__(self, model: SequenceModel, step: bool, standardise: Any = None):
        super().__init__()
        self.model, self.step = model, step
        self.norm = None
        if standardise is not None:  # x' = (x − μ) / σ per feature, inside the graph
            mean, std = (torch.as_tensor(np.asarray(v), dtype=torch.float32) for v in standardise)
            self.register_buffer("mean", mean)
            self.register_buffer("std", std)
            self.norm = True

    def forward(self, x: Tensor, *state: Tensor) -> tuple[Tensor, ...]:
        run = self.model.step if self.step else self.model
        if self.norm:
            x = (x - self.mean) / self.std
        y, s = run(x, _pack(self.model, state))
        return (y, *_tensors(s))


def state_names(model: SequenceModel) -> tuple[list[str], list[str]]:
    """Input and output names of the state tensors: h_0 (c_0) and h_n (c_n) for the classic
    models, s0_0, s1_0 … and s0_n, s1_n … for the others."""
    n = len(_tensors(model.init_state(1)))
    letters = ["h", "c"][:n] if isinstance(model, RecurrentModel) else [f"s{i}" for i in range(n)]
    return [f"{k}_0" for k in letters], [f"{k}_n" for k in letters]


def to_onnx(
    model: SequenceModel,
    path: str | Path,
    *,
    seq_len: int = 4,
    batch_size: int = 1,
    standardise: Any = None,
) -> Path:
    """Write ``model`` to ``path`` as ONNX in its :func:`form`; the state explicit.
    ``standardise`` = (μ, σ) per feature puts x' = (x − μ) / σ in front of the model."""
    if not isinstance(model, SequenceModel):
        raise BadInput(
            f"model of type {type(model).__name__} is not accepted; expected a seqarch model"
        )
    if model.state_grows():
        raise BadInput(
            f"{model.arch}: its state grows with T (a KV cache), so it has no fixed-size graph "
            "to export; expected a model whose state does not grow (seqarch models lists them)"
        )
    path = Path(path)
    step = form(model) == "step"
    was_training, impl = model.training, getattr(model, "impl", None)
    model.eval()
    if not step:
        model.impl = "fast"  # the fused kernel maps onto ONNX's recurrent operators
    ins, outs = state_names(model)
    x = (
        torch.zeros(batch_size, model.input_size)
        if step
        else torch.zeros(batch_size, seq_len, model.input_size)
    )
    state = _tensors(model.init_state(batch_size))
    batch_axis = {name: {model.state_batch_dim(): "batch"} for name in ins + outs}
    axes = {"x": {0: "batch"}, "y": {0: "batch"}}
    if not step:
        axes = {"x": {0: "batch", 1: "time"}, "y": {0: "batch", 1: "time"}}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the legacy exporter's notices
            torch.onnx.export(
                _Explicit(model, step, standardise),
                (x, *state),
                str(path),
                input_names=["x", *ins],
                output_names=["y", *outs],
                dynamic_axes=axes | batch_axis,
                opset_version=OPSET,
                dynamo=False,
            )
    finally:
        if impl is not None:
            model.impl = impl
        model.train(was_training)
    return path


def run_onnx(path: str | Path | Any, x: np.ndarray, *state: np.ndarray) -> list[np.ndarray]:
    """Run an exported graph once in onnxruntime: [y, final state tensors…]. ``path`` may be
    an open ``onnxruntime.InferenceSession`` (a stream calls one graph many times)."""
    import onnxruntime as ort

    session = (
        path
        if isinstance(path, ort.InferenceSession)
        else ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    )
    names = [i.name for i in session.get_inputs()]
    feeds = dict(zip(names, (x, *state), strict=True))
    return session.run(None, {k: np.ascontiguousarray(v, np.float32) for k, v in feeds.items()})


def check(
    model: SequenceModel,
    path: str | Path,
    *,
    seq_len: int = 7,
    batch_size: int = 2,
    seed: int = 0,
    standardise: Any = None,
) -> float:
    """Largest |onnxruntime − model| over y and the final state, on random x and a random
    initial state; a step graph is called once per step and its state carried. With
    ``standardise`` = (μ, σ), x is drawn in raw units and the model reads (x − μ) / σ."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batch_size, seq_len, model.input_size, generator=g)
    fed = x
    if standardise is not None:
        mean, std = (torch.as_tensor(np.asarray(v), dtype=torch.float32) for v in standardise)
        x = x * std + mean  # raw inputs whose standardised values are the draws
        fed = (x - mean) / std
    init = _tensors(model.init_state(batch_size))
    state = [torch.randn(s.shape, generator=g) * 0.5 for s in init]
    with torch.no_grad():
        y, s = model.eval()(fed, _pack(model, tuple(state)))
    expected = [y, *_tensors(s)]
    if form(model) == "sequence":
        got = run_onnx(path, x.numpy(), *(t.numpy() for t in state))
    else:
        import onnxruntime as ort

        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        carried = [t.numpy() for t in state]
        ys = []
        for t in range(seq_len):
            y_t, *carried = run_onnx(session, x[:, t].numpy(), *carried)
            ys.append(y_t)
        got = [np.stack(ys, axis=1), *carried]
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


def deployment(arch: str, hidden_size: int = 64, input_size: int = 8) -> Any:
    """What deploying ``arch`` takes, measured: a fresh model at these sizes written to ONNX
    (in a temporary folder) and checked in onnxruntime — an :class:`~seqarch.records.Export`
    record (``refused`` with the reason for a model whose state grows)."""
    import tempfile

    from .models import build
    from .records import Export

    model = build(arch, hidden_size=hidden_size, input_size=input_size)
    row = Export(arch=arch, hidden_size=hidden_size, input_size=input_size, opset=OPSET)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            written = to_onnx(model, Path(tmp) / f"{arch}.onnx")
        except BadInput as e:
            row.form, row.why = "refused", str(e)
            return row
        row.form = form(model)
        row.max_error = check(model, written)
        row.onnx_bytes = written.stat().st_size
    return row
