"""ONNX export: onnxruntime reproduces the model's output and final state, with explicit states."""

import onnx
import pytest
import torch

from seqarch import export
from seqarch.models import build


@pytest.mark.parametrize("name", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("kw", [{}, {"num_layers": 2, "output_size": 3}], ids=["L1", "L2-readout"])
def test_onnx_equals_pytorch(tmp_path, name, kw):
    torch.manual_seed(0)
    model = build(name, input_size=5, hidden_size=8, **kw)
    path = export.to_onnx(model, tmp_path / f"{name}.onnx")
    graph = onnx.load(str(path)).graph
    ins, outs = export.state_names(model)
    assert [i.name for i in graph.input] == ["x", *ins]
    assert [o.name for o in graph.output] == ["y", *outs]
    # other batch and length than exported with: the axes are dynamic
    assert export.check(model, path, seq_len=13, batch_size=3) < 1e-5


def test_state_carries_across_onnx_calls(tmp_path):
    torch.manual_seed(1)
    model = build("lstm", input_size=4, hidden_size=6)
    path = export.to_onnx(model, tmp_path / "lstm.onnx")
    x = torch.randn(1, 10, 4)
    with torch.no_grad():
        y_ref, _ = model(x)
    h, c = (s.numpy() for s in model.init_state(1))
    y1, h, c = export.run_onnx(path, x[:, :6].numpy(), h, c)
    y2, h, c = export.run_onnx(path, x[:, 6:].numpy(), h, c)
    torch.testing.assert_close(torch.cat([torch.from_numpy(y1), torch.from_numpy(y2)], 1), y_ref)


def test_growing_state_is_refused_and_layer_norm_exports_its_step(tmp_path):
    with pytest.raises(ValueError, match="grows with T"):
        export.to_onnx(build("transformer", input_size=4, hidden_size=8), tmp_path / "t.onnx")
    with pytest.raises(ValueError, match="expected a seqarch model"):
        export.to_onnx(torch.nn.GRU(4, 8), tmp_path / "g.onnx")
    torch.manual_seed(2)
    model = build("gru", input_size=4, hidden_size=8, layer_norm=True)  # no standard operator
    assert export.form(model) == "step"
    assert export.check(model, export.to_onnx(model, tmp_path / "g.onnx")) < 1e-5
