"""The streaming runtime equals the model step, keeps and restores state, refuses bad input."""

import numpy as np
import pytest
import torch
from torch import nn

from seqarch import stream
from seqarch.models import MODELS, build

CONFIGS = [
    pytest.param("rnn", {}, id="rnn-L1"),
    pytest.param("rnn", {"nonlinearity": "relu", "num_layers": 2}, id="rnn-relu-L2"),
    pytest.param("lstm", {}, id="lstm-L1"),
    pytest.param("lstm", {"num_layers": 2, "output_size": 3}, id="lstm-L2-readout"),
    pytest.param("gru", {}, id="gru-L1"),
    pytest.param("gru", {"num_layers": 2, "output_size": 3}, id="gru-L2-readout"),
    pytest.param("mingru", {}, id="mingru-L1"),
    pytest.param("mingru", {"num_layers": 2, "output_size": 3}, id="mingru-L2-readout"),
    pytest.param("minlstm", {}, id="minlstm-L1"),
    pytest.param("minlstm", {"num_layers": 2, "output_size": 3}, id="minlstm-L2-readout"),
    pytest.param("ssm", {}, id="ssm-L1"),
    pytest.param("ssm", {"num_layers": 2, "output_size": 3}, id="ssm-L2-readout"),
]
STEP_IS_REFERENCE = ("mingru", "minlstm", "ssm")  # their forward is a parallel scan, not step


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """The references are 1000 one-step calls: on a busy 2-core machine PyTorch's thread pool
    spins per call (~16 ms each, against ~0.2 ms on one thread)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _model(name, **kw):
    torch.manual_seed(0)
    return build(name, input_size=5, hidden_size=16, **kw).eval()


def _unroll_step(model, xs, state=None):
    ys = []
    with torch.no_grad():
        for x in xs:
            y, state = model.step(torch.from_numpy(x)[None], state)
            ys.append(y[0].numpy())
    return np.stack(ys), state


@pytest.mark.parametrize("name, kw", CONFIGS)
def test_runtime_equals_the_model_over_1000_steps(name, kw):
    model = _model(name, **kw)
    session = stream.open(model)
    assert isinstance(session, stream.FastSession)
    xs = np.random.default_rng(1).standard_normal((1000, 5)).astype(np.float32)
    ours = np.stack([session.push(x) for x in xs])
    if model.num_layers == 1 or name in STEP_IS_REFERENCE:  # against step, one call per step
        ref, ref_state = _unroll_step(model, xs)
    else:  # against forward (= unrolled step): PyTorch's stacked one-step kernel is ~5 ms/call
        with torch.no_grad():
            y, ref_state = model(torch.from_numpy(xs)[None])
        ref = y[0].numpy()
    np.testing.assert_allclose(ours, ref, atol=1e-5, rtol=0)
    for a, b in zip(
        stream.Session._check_state(session, session.state),
        stream.Session._check_state(session, ref_state),
        strict=True,
    ):
        np.testing.assert_allclose(a, b, atol=1e-5, rtol=0)


@pytest.mark.parametrize("name", ["lstm", "minlstm"])
def test_saved_state_continues_identically(name):
    session = stream.open(_model(name))
    rng = np.random.default_rng(2)
    for x in rng.standard_normal((50, 5)).astype(np.float32):
        session.push(x)
    saved = session.state
    tail = rng.standard_normal((30, 5)).astype(np.float32)
    first = np.stack([session.push(x) for x in tail])
    session.reset()
    assert not np.allclose(session.push(tail[0]), first[0])  # reset really forgot
    session.load_state(saved)
    second = np.stack([session.push(x) for x in tail])
    np.testing.assert_array_equal(first, second)
    # and the state is the model's format: model.step continues from it too
    ref, _ = _unroll_step(session.model, tail, saved)
    np.testing.assert_allclose(first, ref, atol=1e-5, rtol=0)


@pytest.mark.parametrize("name", ["gru", "mingru", "ssm"])
def test_independent_streams_match_batch_one(name):
    model = _model(name)
    many, one = stream.open(model, streams=3), [stream.open(model) for _ in range(3)]
    xs = np.random.default_rng(3).standard_normal((20, 3, 5)).astype(np.float32)
    for x in xs:
        y = many.push(x)
        assert y.shape == (3, 16)
        for b in range(3):
            np.testing.assert_allclose(y[b], one[b].push(x[b]), atol=1e-6)


@pytest.mark.parametrize("name, kw", CONFIGS)
def test_many_streams_in_one_call_equal_single_sessions(name, kw):
    """From BATCHED_FROM streams a step is one GEMM per layer (BLAS) and the compiled gates:
    every stream equals its own batch-1 session; a non-finite input leaves every state as it
    was; one stream is reset on its own."""
    model, B = _model(name, **kw), stream.BATCHED_FROM + 3
    many, one = stream.open(model, streams=B), [stream.open(model) for _ in range(B)]
    assert (many._layers is not None) == (name != "ssm")  # the SSM keeps its own kernel
    xs = np.random.default_rng(4).standard_normal((12, B, 5)).astype(np.float32)
    for t, x in enumerate(xs):
        if t == 6:
            many.reset(2)
            one[2].reset()
        y = many.push(x)
        for b in range(B):
            np.testing.assert_allclose(y[b], one[b].push(x[b]), atol=2e-6, rtol=1e-5)
    before = [s.copy() for s in many._state]
    bad = xs[0].copy()
    bad[5, 1] = np.nan
    with pytest.raises(ValueError, match="non-finite value at index \\(5, 1\\)"):
        many.push(bad)
    assert all(np.array_equal(a, b) for a, b in zip(before, many._state, strict=True))
    with pytest.raises(ValueError, match="stream=99"):
        many.reset(99)


@pytest.mark.parametrize("name", ["retnet", "lstm"])
def test_a_step_session_resets_one_stream(name):
    model = _model(name, layer_norm=True) if name == "lstm" else _model(name)
    many = stream.open(model, streams=3)
    assert isinstance(many, stream.StepSession)
    xs = np.random.default_rng(6).standard_normal((6, 3, 5)).astype(np.float32)
    fresh = stream.open(model)
    for x in xs[:3]:
        many.push(x)
    many.reset(1)
    for x in xs[3:]:
        y = many.push(x)
        np.testing.assert_allclose(y[1], fresh.push(x[1]), atol=1e-6)


@pytest.mark.parametrize("name", ["lstm", "ssm"])
def test_strided_float64_and_list_inputs_give_the_float32_result(name):
    """The fast path takes C-contiguous float32 as it is; every other form is converted first."""
    model = _model(name)
    ref, other = stream.open(model), stream.open(model)
    xs = np.random.default_rng(5).standard_normal((30, 10))  # float64; xs[:, ::2] is strided
    for x in xs:
        y = other.push([*x[:5]]) if x[0] > 0 else other.push(x[::2])
        np.testing.assert_array_equal(y, ref.push((x[:5] if x[0] > 0 else x[::2]).astype("f4")))
    returned = ref.push(np.ones(5, np.float32))
    ref.push(np.ones(5, np.float32))
    assert not np.array_equal(returned, ref.push(np.zeros(5, np.float32)))  # a copy, not a view


def test_minlstm_with_both_gates_shut_streams_finite_and_equal():
    """Both gate pre-activations far below zero: no 0/0 in f' = f/(f+i) (see _min_gates)."""
    model = _model("minlstm")
    with torch.no_grad():
        model.cells[0].W.weight.mul_(0.1)
        model.cells[0].W.bias[:16] = -110.0  # f
        model.cells[0].W.bias[16:32] = torch.linspace(-120.0, -9.0, 16)  # i
    session = stream.open(model)
    xs = np.random.default_rng(6).standard_normal((50, 5)).astype(np.float32)
    ours = np.stack([session.push(x) for x in xs])
    ref, _ = _unroll_step(model, xs)
    assert np.isfinite(ours).all()
    np.testing.assert_allclose(ours, ref, atol=1e-5, rtol=0)


@pytest.mark.parametrize("name", ["gru", "ssm"])
def test_a_pickled_or_copied_session_continues_identically(name):
    import copy
    import pickle

    session = stream.open(_model(name))
    xs = np.random.default_rng(7).standard_normal((20, 5)).astype(np.float32)
    for x in xs[:10]:
        session.push(x)
    copies = [pickle.loads(pickle.dumps(session)), copy.deepcopy(session)]
    for x in xs[10:]:
        want = session.push(x)
        for c in copies:
            np.testing.assert_array_equal(c.push(x), want)


def test_torch_module_is_converted():
    torch.manual_seed(4)
    module = nn.GRU(5, 8, batch_first=True)
    session = stream.open(module)
    xs = np.random.default_rng(4).standard_normal((40, 5)).astype(np.float32)
    ours = np.stack([session.push(x) for x in xs])
    with torch.no_grad():
        ref, _ = module(torch.from_numpy(xs)[None])
    np.testing.assert_allclose(ours, ref[0].numpy(), atol=1e-5)


@pytest.mark.parametrize(
    "bad, match",
    [
        (np.zeros(4, np.float32), "shape"),
        (np.zeros((1, 5), np.float32), "shape"),
        (np.array([0, 0, np.nan, 0, 0], np.float32), "non-finite"),
        (np.array([0, np.inf, 0, 0, 0]), "non-finite"),
        ("abc", "not accepted"),
    ],
    ids=["short", "rank2", "nan", "inf", "string"],
)
@pytest.mark.parametrize("name", ["lstm", "mingru", "ssm"])
def test_bad_input_is_refused_and_state_untouched(name, bad, match):
    session = stream.open(_model(name))
    session.push(np.ones(5, np.float32))
    before = stream.Session._check_state(session, session.state)
    with pytest.raises(ValueError, match=match):
        session.push(bad)
    after = stream.Session._check_state(session, session.state)
    for a, b in zip(before, after, strict=True):
        np.testing.assert_array_equal(a, b)


def test_bad_state_and_streams_are_refused():
    session = stream.open(_model("gru"))
    with pytest.raises(ValueError, match="expected"):
        session.load_state(torch.zeros(1, 1, 7))
    with pytest.raises(ValueError, match="non-finite"):
        session.load_state(torch.full((1, 1, 16), float("nan")))
    with pytest.raises(ValueError, match="streams"):
        stream.open(_model("gru"), streams=0)


def test_every_registered_model_streams_or_is_refused_clearly():
    """Constant-state models stream (compiled or via step); growing-state ones are refused."""
    for name in MODELS:
        model = build(name, input_size=5, hidden_size=16).eval()
        if model.state_grows():
            with pytest.raises(ValueError, match="grows with T"):
                stream.open(model)
            continue
        session = stream.open(model)
        xs = np.random.default_rng(5).standard_normal((10, 5)).astype(np.float32)
        ours = np.stack([session.push(x) for x in xs])
        ref, _ = _unroll_step(model, xs)
        np.testing.assert_allclose(ours, ref, atol=1e-5, err_msg=name)


@pytest.mark.parametrize("name", ["lstm", "mingru", "ssm"])
def test_layer_norm_model_is_served_through_its_step(name):
    model = _model(name, layer_norm=True)
    session = stream.open(model)
    assert isinstance(session, stream.StepSession)
    xs = np.random.default_rng(6).standard_normal((20, 5)).astype(np.float32)
    ours = np.stack([session.push(x) for x in xs])
    np.testing.assert_allclose(ours, _unroll_step(model, xs)[0], atol=1e-6)
    saved = session.state
    a = session.push(xs[0])
    session.load_state(saved)
    np.testing.assert_array_equal(session.push(xs[0]), a)


@pytest.mark.parametrize(
    "name, shape", [("mingru", (2, 2, 16)), ("minlstm", (2, 2, 16)), ("ssm", (2, 2, 16, 16))]
)
def test_modern_models_run_compiled_and_their_state_feeds_model_step(name, shape):
    """minGRU / minLSTM / SSM get a compiled kernel; session.state is the model's own tensor
    (L, B, H) or (L, B, H, N), and model.step continues from it, stream by stream."""
    model = _model(name, num_layers=2)
    session = stream.open(model, streams=2)
    assert isinstance(session, stream.FastSession)
    xs = np.random.default_rng(7).standard_normal((40, 2, 5)).astype(np.float32)
    for x in xs[:20]:
        session.push(x)
    state = session.state
    assert isinstance(state, torch.Tensor) and state.shape == shape
    with torch.no_grad():
        for x in xs[20:]:
            y, state = model.step(torch.from_numpy(x), state)
            np.testing.assert_allclose(session.push(x), y.numpy(), atol=1e-5, rtol=0)


def test_works_where_no_numba_cache_can_be_written():
    """A read-only install run by another user: numba refuses ``cache=True`` at decoration, so
    seqarch's kernels must compile per process instead of failing the import."""
    import subprocess
    import sys

    code = """
from numba.core import caching
class NoLocator:
    @classmethod
    def from_function(cls, *args, **kwargs):
        return None
caching.CacheImpl._locator_classes = [NoLocator]
import numpy as np, torch
from seqarch import stream
from seqarch.models import build
model = build("mingru", input_size=3, hidden_size=4)
y, _ = model(torch.randn(1, 5, 3))
y.sum().backward()
print(stream.open(model).push(np.ones(3, np.float32)).shape)
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "(4,)"
