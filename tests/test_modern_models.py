"""minGRU, minLSTM and the selective SSM: the parallel scans equal their sequential references."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from seqarch import cost
from seqarch.models import MODELS, accepted_options, build
from seqarch.models.mingru import g, log_g, parallel_log_scan, sequential_scan
from seqarch.models.scan import linear_scan, selective_scan
from seqarch.models.ssm import chunked_scan

MODERN = ["mingru", "minlstm", "ssm"]
SMALL = dict(input_size=3, hidden_size=8)


def _model(name: str, dtype: torch.dtype = torch.float64, **kw) -> nn.Module:
    torch.manual_seed(0)
    if name == "ssm":
        kw.setdefault("state_size", 4)
    return build(name, **{**SMALL, **kw}).to(dtype)


def _run(model: nn.Module, impl: str, x: torch.Tensor, state0: torch.Tensor | None):
    """Outputs, final state and every parameter's gradient (and the initial state's)."""
    model.impl = impl
    model.zero_grad()
    s0 = None if state0 is None else state0.clone().requires_grad_()
    y, state = model(x, s0)
    (y.sin().sum() + state.cos().sum()).backward()  # touches every output and the state
    grads = [p.grad.clone() for p in model.parameters()]
    return y, state, grads + ([] if s0 is None else [s0.grad])


@pytest.mark.parametrize("impl", ["scan", "fast"], ids=["pytorch-scan", "compiled"])
@pytest.mark.parametrize("given_state", [False, True], ids=["zero-state", "given-state"])
@pytest.mark.parametrize("T", [1, 7, 64, 100], ids=lambda T: f"T{T}")
@pytest.mark.parametrize("name", MODERN)
def test_parallel_scan_equals_sequential_outputs_states_gradients(name, T, given_state, impl):
    # chunk_size=16 makes T=64 and T=100 cross chunk boundaries (100 = 6·16 + 4, padded)
    model = _model(name, num_layers=2, output_size=2, chunk_size=16)
    x = torch.randn(2, T, 3, dtype=torch.float64)
    state0 = model.init_state(2).normal_() if given_state else None
    fast = _run(model, impl, x, state0)
    ref = _run(model, "reference", x, state0)
    torch.testing.assert_close(fast[0], ref[0], atol=1e-8, rtol=0)
    torch.testing.assert_close(fast[1], ref[1], atol=1e-8, rtol=0)
    assert len(fast[2]) == len(ref[2])
    for a, b in zip(fast[2], ref[2], strict=True):
        torch.testing.assert_close(a, b, atol=1e-8, rtol=0)


@pytest.mark.parametrize("name", MODERN)
def test_layer_norm_variant_also_equal(name):
    model = _model(name, num_layers=2, layer_norm=True, chunk_size=8)
    x = torch.randn(2, 21, 3, dtype=torch.float64)
    fast, ref = _run(model, "fast", x, None), _run(model, "reference", x, None)
    torch.testing.assert_close(fast[0], ref[0], atol=1e-8, rtol=0)
    for a, b in zip(fast[2], ref[2], strict=True):
        torch.testing.assert_close(a, b, atol=1e-8, rtol=0)


@pytest.mark.parametrize("impl", ["scan", "fast"], ids=["pytorch-scan", "compiled"])
@pytest.mark.parametrize("name", MODERN)
def test_float32_long_sequence_stays_close_to_reference(name, impl):
    # the chunking keeps the log-space scan accurate in float32 at long T
    model = _model(name, torch.float32, hidden_size=16).eval()
    x = torch.randn(2, 1500, 3)
    with torch.no_grad():
        model.impl = impl
        y_fast, s_fast = model(x)
        model.impl = "reference"
        y_ref, s_ref = model(x)
    torch.testing.assert_close(y_fast, y_ref, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(s_fast, s_ref, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("chunk_size", [1, 3, 64])
def test_scans_agree_for_any_chunk_size(chunk_size):
    torch.manual_seed(0)
    B, T, H, N = 2, 37, 5, 3
    a = torch.rand(B, T, H, dtype=torch.float64) * 0.98 + 0.01
    b = torch.rand(B, T, H, dtype=torch.float64) + 0.01
    h0 = torch.randn(B, H, dtype=torch.float64)  # negative entries too
    expected = sequential_scan(a, b, h0)
    got = parallel_log_scan(a.log(), b.log(), h0, chunk_size)
    torch.testing.assert_close(got, expected, atol=1e-10, rtol=0)
    # the SSM's scan takes signed inputs
    a4 = torch.rand(B, T, H, N, dtype=torch.float64)
    X4 = torch.randn(B, T, H, N, dtype=torch.float64)
    h04 = torch.randn(B, H, N, dtype=torch.float64)
    expected4 = sequential_scan(a4.flatten(2), X4.flatten(2), h04.flatten(1)).view(B, T, H, N)
    torch.testing.assert_close(chunked_scan(a4, X4, h04, chunk_size), expected4, atol=1e-10, rtol=0)


@pytest.mark.parametrize("shape", [(2, 1, 3), (3, 37, 5), (2, 19, 4, 3)], ids=str)
def test_compiled_scan_gradient_equals_finite_differences(shape):
    """The hand-derived reverse sweep (models/scan.py) against central differences."""
    torch.manual_seed(0)
    a = (torch.rand(shape, dtype=torch.float64) * 1.2).requires_grad_()  # a > 1 too: any a
    b = torch.randn(shape, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(shape[:1] + shape[2:], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(linear_scan, (a, b, h0), eps=1e-6, atol=1e-8)
    flat = (a.flatten(2), b.flatten(2), h0.flatten(1))
    torch.testing.assert_close(linear_scan(a, b, h0).flatten(2), sequential_scan(*flat))


def test_compiled_selective_scan_gradients_equal_finite_differences():
    """The SSM's fused scan (models/scan.py): hand-derived backward and its second derivative."""
    torch.manual_seed(2)
    B, T, H, N, f64 = 2, 6, 3, 4, torch.float64
    args = (
        torch.randn(B, T, H, dtype=f64),  # u
        torch.rand(B, T, H, dtype=f64) * 0.5 + 0.05,  # Δ > 0
        -torch.rand(H, N, dtype=f64) - 0.1,  # A < 0
        torch.randn(B, T, N, dtype=f64),  # B
        torch.randn(B, T, N, dtype=f64),  # C
        torch.randn(B, H, N, dtype=f64),  # h0
    )
    args = tuple(a.requires_grad_() for a in args)
    assert torch.autograd.gradcheck(selective_scan, args, atol=1e-8)
    assert torch.autograd.gradgradcheck(selective_scan, args, atol=1e-8)


def test_compiled_scan_has_second_derivatives():
    """create_graph=True runs the reverse sweep in differentiable ops (gradient penalties)."""
    torch.manual_seed(1)
    a = (torch.rand(2, 9, 3, dtype=torch.float64) * 0.9).requires_grad_()
    b = torch.randn(2, 9, 3, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(2, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradgradcheck(linear_scan, (a, b, h0), atol=1e-8)


@pytest.mark.parametrize("name", MODERN)
def test_gradient_penalties_equal_the_reference(name):
    model, x = _model(name), torch.randn(2, 6, 3, dtype=torch.float64, requires_grad=True)
    penalties = []
    for impl in ("fast", "reference"):
        model.impl = impl
        model.zero_grad()
        (gx,) = torch.autograd.grad(model(x)[0].sum(), x, create_graph=True)
        gx.pow(2).sum().backward()
        penalties.append([p.grad.clone() for p in model.parameters()])
    for fast, ref in zip(*penalties, strict=True):
        torch.testing.assert_close(fast, ref, atol=1e-10, rtol=0)


def test_compiled_scan_checks_shapes():
    a = torch.full((2, 3, 4), 0.5, dtype=torch.float64)
    with pytest.raises(ValueError, match=r"h0 \(4,\).*expected.*h0 \(2, 4\)"):
        linear_scan(a, torch.zeros_like(a), torch.zeros(4, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"b \(2, 3\)"):
        linear_scan(a, torch.zeros(2, 3, dtype=torch.float64), torch.zeros(2, 4).double())


@pytest.mark.parametrize("name", MODERN)
def test_autocast_and_torch_func_fall_back_to_the_pytorch_scan(name):
    model = _model(name, torch.float32)
    x = torch.randn(2, 7, 3)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        y, _ = model(x)
    assert torch.isfinite(y.float()).all()
    params = dict(model.named_parameters())

    def loss(p: dict) -> torch.Tensor:
        return torch.func.functional_call(model, p, (x,))[0].pow(2).sum()

    grads = torch.func.grad(loss)(params)
    model.zero_grad()
    loss(params).backward()
    for k, p in params.items():
        torch.testing.assert_close(grads[k], p.grad, atol=1e-5, rtol=1e-4)


def test_minlstm_with_both_gates_shut_stays_finite_and_equal():
    """f' = f/(f+i) is 0/0 in float32 when both gates underflow; σ(log f − log i) is not."""
    model = _model("minlstm", torch.float32)
    with torch.no_grad():
        model.cells[0].W.bias[: 2 * 8] = -110.0  # f and i pre-activations far below −104
    x = torch.randn(2, 5, 3)
    outs = []
    for impl in ("fast", "scan", "reference"):
        model.impl = impl
        with torch.no_grad():
            outs.append(model(x)[0])
    assert torch.isfinite(outs[0]).all()
    for other in outs[1:]:
        torch.testing.assert_close(outs[0], other, atol=1e-5, rtol=1e-5)


def test_compiled_scan_refuses_what_it_cannot_run():
    a = torch.rand(1, 4, 2, dtype=torch.bfloat16)
    with pytest.raises(ValueError, match="bfloat16 are not accepted.*float32 or float64"):
        linear_scan(a, a, a[:, 0])
    # a model in such a dtype falls back to the PyTorch scan instead of failing
    model = _model("mingru").to(torch.bfloat16)
    y, _ = model(torch.randn(1, 5, 3, dtype=torch.bfloat16))
    assert y.dtype == torch.bfloat16 and torch.isfinite(y.float()).all()


def test_g_is_continuous_positive_and_log_g_matches():
    a = torch.linspace(-10, 30, 401, dtype=torch.float64)
    assert (g(a) > 0).all()
    torch.testing.assert_close(g(torch.tensor([0.0])), torch.tensor([0.5]))  # both branches
    torch.testing.assert_close(log_g(a), torch.log(g(a)), atol=1e-12, rtol=0)
    # where σ(a) underflows, log g stays finite: log σ(a) ≈ a
    assert log_g(torch.tensor([-1000.0])).item() == pytest.approx(-1000.0)


@pytest.mark.parametrize("dtype,atol", [(torch.float32, 1e-5), (torch.float64, 1e-10)], ids=str)
@pytest.mark.parametrize("given_state", [False, True], ids=["zero-state", "given-state"])
@pytest.mark.parametrize("name", MODERN)
def test_unrolled_step_equals_forward(name, given_state, dtype, atol):
    model = _model(name, dtype, num_layers=2, output_size=2).eval()
    x = torch.randn(2, 9, 3, dtype=dtype)
    state0 = model(torch.randn(2, 4, 3, dtype=dtype))[1] if given_state else None
    y, state = model(x, state0)
    s = model.init_state(2) if state0 is None else state0
    ys = []
    for t in range(x.shape[1]):
        y_t, s = model.step(x[:, t], s)
        ys.append(y_t)
    torch.testing.assert_close(torch.stack(ys, dim=1), y, atol=atol, rtol=0)
    torch.testing.assert_close(s, state, atol=atol, rtol=0)


@pytest.mark.parametrize("name", MODERN)
@pytest.mark.parametrize("num_layers", [1, 3], ids=lambda n: f"L{n}")
@pytest.mark.parametrize("layer_norm", [False, True], ids=["plain", "LN"])
@pytest.mark.parametrize("output_size", [None, 2], ids=["hidden", "readout"])
def test_param_formula_equals_counted(name, num_layers, layer_norm, output_size):
    config = dict(
        input_size=5,
        hidden_size=24,
        num_layers=num_layers,
        layer_norm=layer_norm,
        output_size=output_size,
    )
    model = build(name, **config)
    assert model.cost(seq_len=10).params == model.num_params()
    # the meta-device estimate (no weights allocated) agrees
    assert cost.estimate(name, seq_len=10, **config).params == model.num_params()


@pytest.mark.parametrize("name", MODERN)
def test_matmul_flops_agree_with_flop_counter(name):
    B, T = 2, 9
    model = build(name, input_size=5, hidden_size=16, num_layers=2, output_size=3)
    with FlopCounterMode(display=False) as counter:
        model(torch.randn(B, T, 5))
    expected = model.cost(seq_len=T, batch_size=B).flops_per_token * B * T
    assert counter.get_total_flops() == pytest.approx(expected, rel=0.05)


@pytest.mark.parametrize("name", MODERN)
def test_state_bytes_constant_in_T_and_equal_to_what_is_carried(name):
    sizes = dict(input_size=4, hidden_size=32, num_layers=2)
    short = cost.estimate(name, seq_len=10, batch_size=3, **sizes)
    long = cost.estimate(name, seq_len=100_000, batch_size=3, **sizes)
    assert short.state_bytes == long.state_bytes
    assert long.activation_bytes == 10_000 * short.activation_bytes
    _, state = build(name, **sizes)(torch.randn(3, 5, 4))
    assert short.state_bytes == state.numel() * state.element_size()
    assert set(short.formulas) >= {"params", "flops_per_token", "state_bytes", "activation_bytes"}


def test_registry_and_options():
    assert set(MODERN) <= set(MODELS)
    assert {"chunk_size", "impl", "layer_norm"} <= set(accepted_options("mingru"))
    assert {"state_size", "dt_rank"} <= set(accepted_options("ssm"))


@pytest.mark.parametrize(
    "name,config,match",
    [
        ("mingru", dict(chunk_size=0), "chunk_size=0"),
        ("minlstm", dict(impl="cuda"), "impl='cuda'.*reference, scan, fast"),
        ("ssm", dict(state_size=-1), "state_size=-1"),
        ("ssm", dict(heads=2), "'heads'.*state_size"),
    ],
)
def test_bad_config_names_value_and_accepted(name, config, match):
    with pytest.raises(ValueError, match=match):
        build(name, **SMALL, **config)


@pytest.mark.parametrize("name", MODERN)
def test_bad_input_and_state(name):
    model = build(name, **SMALL)
    with pytest.raises(ValueError, match="input_size = 3"):
        model(torch.randn(2, 5, 4))
    with pytest.raises(ValueError, match="rank 3"):
        model(torch.randn(2, 3))
    with pytest.raises(ValueError, match="state .* is not accepted"):
        model(torch.randn(2, 5, 3), torch.zeros(1, 2, 7))


# ---------------------------------------------------------------------------------------------
# Learning: the adding problem (Hochreiter & Schmidhuber 1997).


def adding_batch(batch: int, T: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """x (B, T, 2): a value in U(0, 1) and a marker; two steps are marked, one in each half.

    y (B, 1) is the sum of the two marked values. Always predicting 1 scores MSE = 2/12 ≈ 0.167.
    """
    values = torch.rand(batch, T, generator=gen)
    first = torch.randint(0, T // 2, (batch,), generator=gen)
    second = torch.randint(T // 2, T, (batch,), generator=gen)
    markers = torch.zeros(batch, T)
    markers[torch.arange(batch), first] = 1.0
    markers[torch.arange(batch), second] = 1.0
    y = (values * markers).sum(dim=1, keepdim=True)
    return torch.stack([values, markers], dim=-1), y


@pytest.fixture
def one_thread():
    """Small training steps run faster on one thread than on two contended ones."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize("name", MODERN)
def test_learns_the_adding_problem_below_baseline(name, one_thread):
    torch.manual_seed(0)
    T, baseline = 20, 2 / 12
    extra = {"state_size": 4} if name == "ssm" else {}
    model = build(name, input_size=2, hidden_size=32, output_size=1, **extra)
    opt = torch.optim.Adam(model.parameters(), lr=3e-2)
    train = torch.Generator().manual_seed(1)
    for _ in range(250):
        x, y = adding_batch(64, T, train)
        loss = nn.functional.mse_loss(model(x)[0][:, -1], y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    x, y = adding_batch(1000, T, torch.Generator().manual_seed(10_000))  # held-out seed
    with torch.no_grad():
        mse = nn.functional.mse_loss(model(x)[0][:, -1], y).item()
    assert mse < 0.5 * baseline


# -- the time-invariant SSM (selective=False): Gu & Dao 2023's S4-like baseline -----------------


def test_the_time_invariant_ssm_ignores_its_input_in_delta_b_and_c() -> None:
    from seqarch.models import build

    torch.manual_seed(0)
    lti = build("ssm", input_size=3, hidden_size=8, state_size=4, selective=False)
    sel = build("ssm", input_size=3, hidden_size=8, state_size=4)
    layer = lti.layers[0]
    u1, u2 = torch.randn(2, 5, 8), torch.randn(2, 5, 8)
    for a, b in zip(layer.selection(u1), layer.selection(u2), strict=True):
        assert torch.equal(a, b)  # Δ, A, B, C: the same whatever the input
    d1, _, B1, _ = sel.layers[0].selection(u1)
    d2, _, B2, _ = sel.layers[0].selection(u2)
    assert not torch.equal(d1, d2) and not torch.equal(B1, B2)  # the selective one chooses
    assert lti.num_params() == lti.cost(10).params < sel.num_params()


@pytest.mark.parametrize("impl", ["fast", "scan"])
def test_the_time_invariant_ssm_equals_its_reference_and_its_steps(impl: str) -> None:
    from seqarch.models import build

    torch.manual_seed(1)
    ref = build("ssm", input_size=3, hidden_size=8, state_size=4, selective=False, num_layers=2)
    ref = ref.double()
    ref.impl = "reference"
    other = build("ssm", input_size=3, hidden_size=8, state_size=4, selective=False, num_layers=2)
    other.load_state_dict(ref.state_dict())
    other = other.double()
    other.impl = impl
    x = torch.randn(2, 9, 3, dtype=torch.float64, requires_grad=True)
    y_ref, h_ref = ref(x)
    y, h = other(x)
    torch.testing.assert_close(y, y_ref)
    torch.testing.assert_close(h, h_ref)
    g_ref = torch.autograd.grad(y_ref.sum(), [x, *ref.parameters()])
    g = torch.autograd.grad(y.sum(), [x, *other.parameters()])
    for a, b in zip(g, g_ref, strict=True):
        torch.testing.assert_close(a, b)
    state, ys = None, []
    for t in range(x.shape[1]):
        y_t, state = other.step(x[:, t], state)
        ys.append(y_t)
    torch.testing.assert_close(torch.stack(ys, 1), y_ref)
