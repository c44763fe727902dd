"""The temporal convolutional network: equal to the authors' code, a receptive field that is
exactly what the formula says, a streaming state bounded by it, and an ONNX step graph.

The equality test loads locuslab/TCN's ``TCN/tcn.py`` from the path in ``SEQARCH_TCN_REF``
(a file, or the repository root) and is skipped without it.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from seqarch import export, stream
from seqarch.models import build
from seqarch.models.tcn import levels_to_cover, receptive_field


def _model(**kw):
    torch.manual_seed(0)
    return build("tcn", **{"input_size": 3, "hidden_size": 6, **kw}).double().eval()


# ---------------------------------------------------------------------------------------------
# The authors' code.


def _reference_module():
    where = os.environ.get("SEQARCH_TCN_REF")
    if not where:
        pytest.skip("SEQARCH_TCN_REF (locuslab/TCN's TCN/tcn.py) is not set")
    path = Path(where)
    path = path / "TCN" / "tcn.py" if path.is_dir() else path
    if not path.is_file():
        pytest.skip(f"SEQARCH_TCN_REF={where}: no tcn.py there")
    spec = importlib.util.spec_from_file_location("locuslab_tcn", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _copy_from_reference(ours, ref) -> None:
    """Each TemporalBlock's weight-norm (g, v), biases and downsample into ours."""
    with torch.no_grad():
        for block, rb in zip(ours.blocks, ref.network, strict=True):
            for conv, rconv in ((block.conv1, rb.conv1), (block.conv2, rb.conv2)):
                param = conv.conv.parametrizations.weight
                param.original0.copy_(rconv.weight_g)  # g (C_out, 1, 1)
                param.original1.copy_(rconv.weight_v)  # V (C_out, C_in, k)
                conv.conv.bias.copy_(rconv.bias)
            assert (block.skip is None) == (rb.downsample is None)
            if block.skip is not None:
                block.skip.weight.copy_(rb.downsample.weight)
                block.skip.bias.copy_(rb.downsample.bias)


@pytest.mark.parametrize(
    "D, H, k, L", [(3, 6, 2, 3), (4, 4, 3, 2), (2, 5, 7, 4)], ids=lambda v: str(v)
)
@pytest.mark.parametrize("impl", ["reference", "fast"])
def test_equals_the_authors_temporal_conv_net(D, H, k, L, impl):
    module = _reference_module()
    torch.manual_seed(1)
    ref = module.TemporalConvNet(D, [H] * L, kernel_size=k, dropout=0.0).double().eval()
    ours = build("tcn", input_size=D, hidden_size=H, num_layers=L, kernel_size=k, impl=impl)
    ours = ours.double().eval()
    _copy_from_reference(ours, ref)
    x = torch.randn(3, 50, D, dtype=torch.float64)
    with torch.no_grad():
        expected = ref(x.transpose(1, 2)).transpose(1, 2)  # the reference is channels-first
        y, _ = ours(x)
    assert (y - expected).abs().max().item() < 1e-12


# ---------------------------------------------------------------------------------------------
# The receptive field.


@pytest.mark.parametrize("k, L", [(2, 1), (2, 3), (3, 2), (5, 3)])
def test_receptive_field_is_exactly_the_formula(k, L):
    """y_t moves with x_{t−R+1} and never with x_{t−R}: R = 1 + 2·(k−1)·(2^L − 1)."""
    R = 1 + 2 * (k - 1) * (2**L - 1)
    model = _model(num_layers=L, kernel_size=k, output_size=2)
    assert model.receptive_field() == receptive_field(k, L) == R
    assert f"= {R} steps" in model.cost(10).formulas["receptive_field"]
    T = R + 5
    x = torch.randn(2, T, 3, dtype=torch.float64, requires_grad=True)
    y, _ = model(x)
    (dx,) = torch.autograd.grad(y[:, -1].sum(), x)  # ∂y_T/∂x_s for every s
    lags = torch.arange(T - 1, -1, -1)  # T−1−s
    assert torch.all(dx[:, lags >= R] == 0)  # exactly zero outside the receptive field
    assert dx[:, lags == R - 1].abs().sum() > 0  # the oldest step inside it does reach y_T


def test_gradient_flow_is_zero_beyond_the_receptive_field():
    """The gradient-flow measurement (derive.flow) shows the cut-off: ‖∂y_T/∂x_{T−k}‖ = 0 for
    k ≥ R, and nonzero just inside."""
    from seqarch.derive import gradient_flow

    # hidden_size 8, 1 level, k = 2: R = 3
    flow = gradient_flow("tcn", seq_len=12, k_max=8, hidden_size=8, input_size=3, seeds=(0, 1))
    R = build("tcn", input_size=3, hidden_size=8).receptive_field()
    assert R == 3
    inside, outside = flow["input"][: R - 1], flow["input"][R - 1 :]  # k = 1..R−1, then R..
    assert all(v > 0 for v in inside)
    assert all(v == 0.0 for v in outside)


def test_max_len_sets_the_fewest_levels_that_cover_it():
    for k, T in [(2, 3), (2, 4), (2, 100), (3, 1000), (8, 600)]:
        L = levels_to_cover(T, k)
        assert receptive_field(k, L) >= T and (L == 1 or receptive_field(k, L - 1) < T)
        model = build("tcn", input_size=2, hidden_size=4, kernel_size=k, max_len=T)
        assert model.num_layers == L and model.receptive_field() >= T
    deep = build("tcn", input_size=2, hidden_size=4, num_layers=5, max_len=3)
    assert deep.num_layers == 5  # never fewer than asked for


# ---------------------------------------------------------------------------------------------
# The state: bounded by the receptive field, carried across chunks.


def test_state_grows_with_the_receptive_field_not_with_t():
    small, deep = _model(num_layers=2), _model(num_layers=4)
    assert small.cost(10).state_bytes == small.cost(10_000).state_bytes
    assert not small.state_grows()
    # (k−1)·Σ_l 2^l·(D_l + H): D = 3, H = 6, k = 2
    assert small.cost(10).state_bytes == 4 * (1 * (3 + 6) + 2 * (6 + 6))
    assert deep.cost(10).state_bytes > small.cost(10).state_bytes
    shapes = [tuple(s.shape) for s in deep.init_state(2)]
    assert shapes == [(2, 3, 1), (2, 6, 1), (2, 6, 2), (2, 6, 2), (2, 6, 4), (2, 6, 4)] + [
        (2, 6, 8),
        (2, 6, 8),
    ]


@pytest.mark.parametrize("impl", ["reference", "fast"])
def test_chunks_shorter_than_the_buffer_continue_the_sequence(impl):
    """A chunk of 1 or 3 steps (shorter than the deepest buffer of 8) with the carried state
    equals the whole sequence at once."""
    model = _model(num_layers=4, output_size=2, impl=impl)
    x = torch.randn(2, 20, 3, dtype=torch.float64)
    y_ref, s_ref = model(x)
    ys, s = [], None
    for a, b in [(0, 1), (1, 4), (4, 5), (5, 13), (13, 20)]:
        y, s = model(x[:, a:b], s)
        ys.append(y)
    torch.testing.assert_close(torch.cat(ys, 1), y_ref, atol=1e-12, rtol=1e-10)
    for a, b in zip(s, s_ref, strict=True):
        torch.testing.assert_close(a, b)


def test_bad_options_and_states_are_refused_in_one_line():
    with pytest.raises(ValueError, match="kernel_size=1 is not accepted"):
        build("tcn", input_size=2, hidden_size=4, kernel_size=1)
    with pytest.raises(ValueError, match="num_layers=0"):
        build("tcn", input_size=2, hidden_size=4, num_layers=0)
    with pytest.raises(ValueError, match="at most 30 levels"):
        build("tcn", input_size=2, hidden_size=4, num_layers=40)
    model = _model(num_layers=2)
    with pytest.raises(ValueError, match="tuple of 4 buffers") as e:
        model(torch.randn(1, 5, 3, dtype=torch.float64), torch.zeros(1, 6, 1))
    assert "\n" not in str(e.value)


# ---------------------------------------------------------------------------------------------
# Weight normalisation and the initial scales.


def test_weights_are_weight_normalised_and_start_as_the_reference_runs():
    torch.manual_seed(0)
    model = build("tcn", input_size=3, hidden_size=64, num_layers=2, kernel_size=3)
    for block in model.blocks:
        for conv in (block.conv1, block.conv2):
            g = conv.conv.parametrizations.weight.original0
            V = conv.conv.parametrizations.weight.original1
            W = conv.weight
            torch.testing.assert_close(W, g * V / V.norm(dim=(1, 2), keepdim=True))
            torch.testing.assert_close(W, V)  # g = ‖V‖ at the start: W = V, Conv1d's init
            bound = (V.shape[1] * V.shape[2]) ** -0.5
            assert V.abs().max() <= bound
    skip = model.blocks[0].skip.weight
    assert model.blocks[1].skip is None  # H → H: the identity
    assert abs(skip.std().item() - 0.01) < 0.003  # N(0, 0.01²), as the reference's downsample


# ---------------------------------------------------------------------------------------------
# Deployment: ONNX with the buffers as explicit state, and the streaming runtime.


def test_onnx_step_graph_carries_every_buffer(tmp_path):
    import onnx

    torch.manual_seed(3)
    model = build("tcn", input_size=3, hidden_size=6, num_layers=3, output_size=2)
    path = export.to_onnx(model, tmp_path / "tcn.onnx")
    assert export.form(model) == "step"
    graph = onnx.load(str(path)).graph
    ins, outs = export.state_names(model)
    assert len(ins) == 6  # two buffers per level
    assert [i.name for i in graph.input] == ["x", *ins]
    assert [o.name for o in graph.output] == ["y", *outs]
    assert export.check(model, path, seq_len=20, batch_size=3) < 1e-5


def test_stream_serves_it_through_its_step_and_resets_one_stream():
    torch.manual_seed(4)
    model = build("tcn", input_size=3, hidden_size=6, num_layers=3, output_size=2).eval()
    session = stream.open(model, streams=2)
    xs = np.random.default_rng(0).standard_normal((12, 2, 3)).astype(np.float32)
    ours = np.stack([session.push(x) for x in xs], axis=1)  # (2, T, O)
    with torch.no_grad():
        y, _ = model(torch.from_numpy(xs).transpose(0, 1))
    np.testing.assert_allclose(ours, y.numpy(), atol=1e-5)
    session.reset(0)  # stream 0 starts over; stream 1 keeps its buffers
    a = session.push(xs[0])
    with torch.no_grad():
        fresh, _ = model(torch.from_numpy(xs[:1, :1]).transpose(0, 1))
    np.testing.assert_allclose(a[0], fresh[0, 0].numpy(), atol=1e-5)


# ---------------------------------------------------------------------------------------------
# Derived: the NumPy forward and the hand-written backward (derive/tcn.py).


def test_numpy_forward_equals_the_model():
    from seqarch.derive import numpy_model
    from seqarch.derive.gradcheck import Problem, autograd_gradients

    tcn = numpy_model("tcn")
    rng = np.random.default_rng(3)
    params = tcn.init_params(3, 5, rng, kernel_size=3, levels=3)
    x = rng.standard_normal((2, 30, 3))
    h, _ = tcn.forward(params, x)
    model, weights = tcn.torch_twin(params, "fast")
    with torch.no_grad():
        for k, w in weights.items():
            w.copy_(torch.tensor(params[k]).reshape(w.shape))
        y, _ = model(torch.tensor(x))
    np.testing.assert_allclose(h, y.numpy(), atol=1e-12)
    # and the hand backward equals autograd at k = 3, L = 3 (the gradient check uses k = 2)
    R = rng.standard_normal(h.shape)
    p = Problem("tcn", params, x, {}, R)
    hand = tcn.backward(params, tcn.forward(params, x)[1], R)
    for name, g in autograd_gradients(p, "reference").items():
        np.testing.assert_allclose(hand[name], g, rtol=0, atol=1e-10, err_msg=name)


def test_hand_backward_sends_nothing_beyond_the_receptive_field():
    """From a loss at the last step only, the hand-derived ∂L/∂x_s is exactly 0 for T−1−s ≥ R."""
    from seqarch.derive import numpy_model

    tcn = numpy_model("tcn")
    rng = np.random.default_rng(0)
    k, L = 3, 2
    R = receptive_field(k, L)  # 1 + 2·2·3 = 13
    params = tcn.init_params(2, 4, rng, kernel_size=k, levels=L)
    x = rng.standard_normal((3, R + 10, 2))
    h, cache = tcn.forward(params, x)
    dh = np.zeros_like(h)
    dh[:, -1] = rng.standard_normal((3, 4))  # L = ⟨r, o_T⟩
    dx = tcn.backward(params, cache, dh)["x"]
    lag = np.arange(x.shape[1])[::-1]  # T−1−s
    assert np.all(dx[:, lag >= R] == 0.0)
    assert np.abs(dx[:, lag == R - 1]).sum() > 0


# ---------------------------------------------------------------------------------------------
# The reproduction (bai2018-tcn): matched sizes, every difference said, the verdict from rows.


def test_bai_reproduction_matches_parameters_and_covers_the_sequence():
    from seqarch import cost
    from seqarch.reproduce import planned_runs
    from seqarch.tasks import make_task

    runs = planned_runs("bai2018-tcn", quick=False)
    by_task: dict[str, dict[str, int]] = {}
    for r in runs:
        task = make_task(r.task, **r.task_config)
        config = dict(r.model_config, input_size=task.input_size, output_size=task.output_size)
        if r.arch == "tcn":
            config["max_len"] = task.seq_len
            model = build("tcn", **config)
            assert model.receptive_field() >= task.seq_len
        by_task.setdefault(r.task, {})[r.arch] = cost.estimate(
            r.arch, seq_len=task.seq_len, **config
        ).params
    assert set(by_task) == {"adding", "copy"}
    for counts in by_task.values():
        assert set(counts) == {"tcn", "lstm", "gru"}
        assert all(abs(n / counts["tcn"] - 1) < 0.05 for n in counts.values()), counts


def test_bai_verdict_follows_the_rows():
    from seqarch.reproduce import REPRODUCTIONS, Row

    judge = REPRODUCTIONS["bai2018-tcn"].judge

    def row(arch, task, mean, baseline):
        return Row(f"{arch} {task} T=100", arch, mean, mean * 0.1 + 1e-6, baseline, 1e-2, 3)

    rows = {
        "tcn adding": row("tcn", "adding", 1e-4, 0.167),
        "lstm adding": row("lstm", "adding", 0.16, 0.167),
        "gru adding": row("gru", "adding", 1e-4, 0.167),
        "tcn copy": row("tcn", "copy", 1e-3, 0.17),
        "lstm copy": row("lstm", "copy", 0.17, 0.17),
        "gru copy": row("gru", "copy", 0.17, 0.17),
    }
    assert judge(rows)[0] == "reproduced"
    solved = dict(rows, **{"gru copy": row("gru", "copy", 1e-3, 0.17)})  # the GRU copies too
    assert judge(solved)[0] == "not reproduced"
    failed = dict(rows, **{"tcn copy": row("tcn", "copy", 0.1, 0.17)})  # skill 0.41 < 0.9
    assert judge(failed)[0] == "not reproduced"
    assert "tcn" in judge(rows)[1] and "skill" in judge(rows)[1]
