"""The contract every registered architecture keeps, tested over the registry itself: a model
added to ``seqarch.models.MODELS`` is held to all of it with no list here to edit.

step == forward; every implementation == the readable reference (outputs, states, gradients);
PyTorch interop where the model has a PyTorch twin; the cost formulas against counted
parameters and ``FlopCounterMode``; the state's size against what is carried; stream == step;
ONNX (onnxruntime) == PyTorch wherever the state does not grow with T.
"""

import numpy as np
import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from seqarch import cost, export, stream
from seqarch.errors import BadInput
from seqarch.models import MODELS, build

NAMES = list(MODELS)
SIZES = dict(input_size=5, hidden_size=8, num_layers=2, output_size=3)


def _flat(state):
    if isinstance(state, torch.Tensor):
        return [state]
    if hasattr(state, "keys") and hasattr(state, "values") and not isinstance(state, dict):
        return [*state.keys, *state.values]  # a KV cache
    return list(state)


def _impls(name):
    """Every implementation the model accepts besides the reference."""
    out = []
    for impl in ("scan", "fast"):
        try:
            build(name, input_size=2, hidden_size=4, impl=impl)
        except BadInput:
            continue
        out.append(impl)
    return out


@pytest.mark.parametrize("name", NAMES)
def test_every_model_declares_what_the_rest_asks(name):
    cls = MODELS[name]
    assert cls.arch == name
    assert cls.colour.startswith("#") and len(cls.colour) == 7
    assert isinstance(cls.onnx_standard_op, bool)
    assert cls.__doc__ and len(cls.__doc__) > 20
    assert len({c.colour for c in MODELS.values()}) == len(MODELS)  # one colour each


@pytest.mark.parametrize("given_state", [False, True], ids=["zero-state", "given-state"])
@pytest.mark.parametrize("name", NAMES)
def test_unrolled_step_equals_forward(name, given_state):
    torch.manual_seed(0)
    model = build(name, **SIZES).double().eval()
    x = torch.randn(3, 9, 5, dtype=torch.float64)
    state = model(x[:, :4])[1] if given_state else None
    y_ref, s_ref = model(x[:, 4:], state)
    ys, s = [], state
    for t in range(4, 9):
        y_t, s = model.step(x[:, t], s)
        ys.append(y_t)
    torch.testing.assert_close(torch.stack(ys, 1), y_ref, atol=1e-10, rtol=1e-8)
    for a, b in zip(_flat(s), _flat(s_ref), strict=True):
        torch.testing.assert_close(a, b, atol=1e-10, rtol=1e-8)


@pytest.mark.parametrize("name", NAMES)
def test_every_implementation_equals_the_reference(name):
    impls = _impls(name)
    x = torch.randn(2, 11, 5, dtype=torch.float64)
    torch.manual_seed(1)
    ref = build(name, impl="reference", **SIZES).double()
    y_ref, s_ref = ref(x)
    g_ref = torch.autograd.grad(y_ref.square().sum(), list(ref.parameters()), allow_unused=True)
    for impl in impls:
        torch.manual_seed(1)
        model = build(name, impl=impl, **SIZES).double()
        y, s = model(x)
        torch.testing.assert_close(y, y_ref, atol=1e-9, rtol=1e-7, msg=f"{name} {impl}")
        for a, b in zip(_flat(s), _flat(s_ref), strict=True):
            torch.testing.assert_close(a, b, atol=1e-9, rtol=1e-7)
        grads = torch.autograd.grad(y.square().sum(), list(model.parameters()), allow_unused=True)
        for a, b in zip(grads, g_ref, strict=True):
            if a is None or b is None:
                assert a is None and b is None
            else:
                torch.testing.assert_close(a, b, atol=1e-8, rtol=1e-6)


@pytest.mark.parametrize("name", [n for n in NAMES if hasattr(MODELS[n], "to_torch")])
def test_torch_twin_equals_the_model(name):
    torch.manual_seed(2)
    model = build(name, input_size=5, hidden_size=8, num_layers=2)
    twin = model.to_torch()
    x = torch.randn(2, 6, 5)
    torch.testing.assert_close(model(x)[0], twin(x)[0], atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("name", NAMES)
def test_param_formula_equals_counted_and_flops_the_counter(name):
    torch.manual_seed(3)
    model = build(name, **SIZES)
    assert model.cost(seq_len=10).params == model.num_params()
    assert cost.estimate(name, seq_len=10, **SIZES).params == model.num_params()
    try:
        model = build(name, impl="reference", **SIZES)
    except BadInput:
        pass
    B, T = 2, 9
    with FlopCounterMode(display=False) as counter:
        model(torch.randn(B, T, 5))
    expected = model.cost(seq_len=T, batch_size=B).flops_per_token * B * T
    assert counter.get_total_flops() == pytest.approx(expected, rel=0.05)


@pytest.mark.parametrize("name", NAMES)
def test_state_size_is_what_is_carried(name):
    model = build(name, **SIZES)
    _, state = model(torch.randn(3, 10, 5))
    carried = sum(s.numel() * s.element_size() for s in _flat(state))
    assert model.cost(seq_len=10, batch_size=3).state_bytes == carried
    grows = model.cost(1000, 3).state_bytes != model.cost(10, 3).state_bytes
    assert grows == model.state_grows()


@pytest.mark.parametrize("name", NAMES)
def test_stream_equals_step_or_is_refused(name):
    torch.manual_seed(4)
    model = build(name, **SIZES).eval()
    if model.state_grows():
        with pytest.raises(ValueError, match="grows with T"):
            stream.open(model)
        return
    session = stream.open(model)
    xs = np.random.default_rng(5).standard_normal((10, 5)).astype(np.float32)
    ours = np.stack([session.push(x) for x in xs])
    ref, s = [], None
    with torch.no_grad():
        for x in xs:
            y, s = model.step(torch.from_numpy(x)[None], s)
            ref.append(y[0].numpy())
    np.testing.assert_allclose(ours, np.stack(ref), atol=1e-5)


@pytest.mark.parametrize("name", NAMES)
def test_onnx_equals_pytorch_or_is_refused(tmp_path, name):
    torch.manual_seed(6)
    model = build(name, **SIZES)
    if model.state_grows():
        with pytest.raises(ValueError, match="grows with T"):
            export.to_onnx(model, tmp_path / "m.onnx")
        return
    path = export.to_onnx(model, tmp_path / "m.onnx")
    assert export.check(model, path, seq_len=6, batch_size=3) < 1e-5
