"""The foundation's contract: step == forward, equal to PyTorch's modules, reference == fast."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from seqarch import cost
from seqarch.models import GRU, LSTM, MODELS, RNN, KVCache, Transformer, build

CLASSIC = ["rnn", "lstm", "gru", "transformer"]
RECURRENT = {"rnn": (RNN, nn.RNN), "lstm": (LSTM, nn.LSTM), "gru": (GRU, nn.GRU)}


def _clone_state(state):
    if isinstance(state, torch.Tensor):
        return state.clone()
    if isinstance(state, tuple):
        return tuple(s.clone() for s in state)
    return state


def _flat(state) -> list[torch.Tensor]:
    if isinstance(state, torch.Tensor):
        return [state]
    if isinstance(state, KVCache):
        return state.keys + state.values
    return list(state)


def _small(name: str, num_layers: int, dtype: torch.dtype, **kw) -> nn.Module:
    torch.manual_seed(0)
    return build(name, input_size=3, hidden_size=8, num_layers=num_layers, **kw).to(dtype).eval()


@pytest.mark.parametrize("dtype,atol", [(torch.float32, 1e-5), (torch.float64, 1e-10)], ids=str)
@pytest.mark.parametrize("given_state", [False, True], ids=["zero-state", "given-state"])
@pytest.mark.parametrize("num_layers", [1, 2], ids=lambda n: f"L{n}")
@pytest.mark.parametrize("name", CLASSIC)
def test_unrolled_step_equals_forward(name, num_layers, given_state, dtype, atol):
    model = _small(name, num_layers, dtype, output_size=2)
    x = torch.randn(2, 6, 3, dtype=dtype)
    state0 = None
    if given_state:  # a state reached by running a random prefix
        _, state0 = model(torch.randn(2, 4, 3, dtype=dtype))
    y, state = model(x, _clone_state(state0))
    s = model.init_state(2) if state0 is None else _clone_state(state0)
    ys = []
    for t in range(x.shape[1]):
        y_t, s = model.step(x[:, t], s)
        ys.append(y_t)
    torch.testing.assert_close(torch.stack(ys, dim=1), y, atol=atol, rtol=0)
    for a, b in zip(_flat(s), _flat(state), strict=True):
        torch.testing.assert_close(a, b, atol=atol, rtol=0)


def _grads(module: nn.Module) -> list[torch.Tensor]:
    return [p.grad.clone() for p in module.parameters()]


@pytest.mark.parametrize("num_layers", [1, 2], ids=lambda n: f"L{n}")
@pytest.mark.parametrize("name", list(RECURRENT))
def test_from_torch_equals_torch_outputs_states_gradients(name, num_layers):
    ours_cls, torch_cls = RECURRENT[name]
    torch.manual_seed(1)
    ref = torch_cls(3, 8, num_layers=num_layers, batch_first=True).double()
    x = torch.randn(4, 9, 3, dtype=torch.float64)
    for impl in ("reference", "fast"):
        model = ours_cls.from_torch(ref, impl=impl)
        ref.zero_grad()
        y_ref, s_ref = ref(x)
        (y_ref.square().sum() + sum(s.sum() for s in _flat(s_ref))).backward()
        y, s = model(x)
        (y.square().sum() + sum(t.sum() for t in _flat(s))).backward()
        torch.testing.assert_close(y, y_ref, atol=1e-10, rtol=0)
        for a, b in zip(_flat(s), _flat(s_ref), strict=True):
            torch.testing.assert_close(a, b, atol=1e-10, rtol=0)
        # parameters in the same order: W_x, W_h, b_x, b_h per layer == weight_ih, weight_hh, ...
        for g, g_ref in zip(_grads(model), _grads(ref), strict=True):
            torch.testing.assert_close(g, g_ref, atol=1e-10, rtol=0)


@pytest.mark.parametrize("name", list(RECURRENT))
def test_to_torch_round_trips(name):
    model = _small(name, 2, torch.float64)
    back = type(model).from_torch(model.to_torch())
    for p, q in zip(model.parameters(), back.parameters(), strict=True):
        assert torch.equal(p, q)
    x = torch.randn(2, 5, 3, dtype=torch.float64)
    torch.testing.assert_close(model.to_torch()(x)[0], model(x)[0], atol=1e-12, rtol=0)


def test_rnn_relu_round_trips_and_matches():
    ref = nn.RNN(3, 8, nonlinearity="relu", batch_first=True).double()
    model = RNN.from_torch(ref)
    assert model.nonlinearity == "relu" and model.to_torch().nonlinearity == "relu"
    x = torch.randn(2, 5, 3, dtype=torch.float64)
    torch.testing.assert_close(model(x)[0], ref(x)[0], atol=1e-12, rtol=0)


@pytest.mark.parametrize("layer_norm", [False, True], ids=["plain", "LN"])
@pytest.mark.parametrize("name", CLASSIC)
def test_reference_equals_fast(name, layer_norm):
    if name == "transformer" and layer_norm:
        pytest.skip("the Transformer is pre-LN by construction")
    fast = _small(name, 2, torch.float64, layer_norm=layer_norm, output_size=3, impl="fast")
    ref = _small(name, 2, torch.float64, layer_norm=layer_norm, output_size=3, impl="reference")
    ref.load_state_dict(fast.state_dict())
    x = torch.randn(3, 7, 3, dtype=torch.float64)
    state0 = fast.init_state(3)
    outs = []
    for model in (fast, ref):
        model.zero_grad()
        y, s = model(x, _clone_state(state0))
        (y.square().sum() + sum(t.sum() for t in _flat(s))).backward()
        outs.append((y, _flat(s), _grads(model)))
    (y_f, s_f, g_f), (y_r, s_r, g_r) = outs
    torch.testing.assert_close(y_f, y_r, atol=1e-10, rtol=0)
    for a, b in zip(s_f + g_f, s_r + g_r, strict=True):
        torch.testing.assert_close(a, b, atol=1e-10, rtol=0)


@pytest.mark.parametrize("num_layers", [1, 2], ids=lambda n: f"L{n}")
def test_transformer_equals_torch_encoder_layers_under_causal_mask(num_layers):
    torch.manual_seed(2)
    layers = nn.ModuleList(
        nn.TransformerEncoderLayer(
            16, 4, 32, dropout=0.0, activation="gelu", batch_first=True, norm_first=True
        )
        for _ in range(num_layers)
    ).double()
    layers.eval()
    model = Transformer(3, 16, num_layers=num_layers, num_heads=4, ffn_size=32).double().eval()
    model.load_torch_layers(layers)
    x = torch.randn(2, 10, 3, dtype=torch.float64)
    e = model.embed(x)
    mask = nn.Transformer.generate_square_subsequent_mask(10, dtype=torch.float64)
    for layer in layers:
        e = layer(e, src_mask=mask, is_causal=True)
    torch.testing.assert_close(model(x)[0], model.ln_f(e), atol=1e-10, rtol=0)
    # and back: our blocks exported equal themselves
    back = Transformer(3, 16, num_layers=num_layers, num_heads=4, ffn_size=32).double()
    back.load_torch_layers(model.to_torch_layers())
    for block, other in zip(model.blocks, back.blocks, strict=True):
        for p, q in zip(block.parameters(), other.parameters(), strict=True):
            assert torch.equal(p, q)


@pytest.mark.parametrize("positions", ["sinusoidal", "learned"])
def test_transformer_kv_cache_step_equals_causal_forward_at_every_position(positions):
    model = _small("transformer", 2, torch.float64, positions=positions, max_len=64)
    x = torch.randn(2, 12, 3, dtype=torch.float64)
    y, _ = model(x)
    cache = model.init_state(2)
    for t in range(12):
        y_t, cache = model.step(x[:, t], cache)
        torch.testing.assert_close(y_t, y[:, t], atol=1e-10, rtol=0)
        assert cache.length == t + 1  # the cache grows by one position per step


@pytest.mark.parametrize("name", CLASSIC)
@pytest.mark.parametrize("num_layers", [1, 3], ids=lambda n: f"L{n}")
@pytest.mark.parametrize("layer_norm", [False, True], ids=["plain", "LN"])
def test_param_formula_equals_counted(name, num_layers, layer_norm):
    for output_size in (None, 5):
        model = build(
            name,
            input_size=7,
            hidden_size=12,
            num_layers=num_layers,
            output_size=output_size,
            layer_norm=layer_norm,
        )
        assert model.cost(seq_len=10).params == model.num_params()
        assert (
            cost.estimate(
                name,
                seq_len=10,
                input_size=7,
                hidden_size=12,
                num_layers=num_layers,
                output_size=output_size,
                layer_norm=layer_norm,
            ).params
            == model.num_params()
        )


def test_learned_positions_counted():
    model = build("transformer", input_size=4, hidden_size=16, positions="learned", max_len=50)
    assert model.cost(seq_len=10).params == model.num_params()


@pytest.mark.parametrize("name", CLASSIC)
def test_matmul_flops_agree_with_flop_counter(name):
    B, T = 2, 9
    model = build(name, input_size=5, hidden_size=16, num_layers=2, output_size=3, impl="reference")
    with FlopCounterMode(display=False) as counter:
        model(torch.randn(B, T, 5))
    expected = model.cost(seq_len=T, batch_size=B).flops_per_token * B * T
    assert counter.get_total_flops() == pytest.approx(expected, rel=0.05)


def test_state_bytes_constant_for_recurrent_and_growing_for_transformer():
    sizes = dict(input_size=4, hidden_size=32, num_layers=2)
    for name in RECURRENT:
        short = cost.estimate(name, seq_len=10, **sizes).state_bytes
        assert short == cost.estimate(name, seq_len=10_000, **sizes).state_bytes
        # and equals what the model actually carries
        state = build(name, **sizes).init_state(1)
        assert short == sum(s.numel() * s.element_size() for s in _flat(state))
    model = build("transformer", **sizes)
    _, cache = model(torch.randn(1, 10, 4))
    carried = sum(s.numel() * s.element_size() for s in _flat(cache))
    assert cost.estimate("transformer", seq_len=10, **sizes).state_bytes == carried
    assert cost.estimate("transformer", seq_len=1000, **sizes).state_bytes == 100 * carried


def test_cost_is_cheap_at_large_sizes():
    # built on the meta device: no 4096×4096 weights are allocated
    c = cost.estimate("lstm", seq_len=100, input_size=4096, hidden_size=4096, num_layers=4)
    assert c.params == 4 * (4 * 4096 * 8192 + 8 * 4096)


def test_dropout_between_layers_only_in_training():
    model = build("lstm", input_size=3, hidden_size=8, num_layers=2, dropout=0.5)
    x = torch.randn(2, 5, 3)
    model.eval()
    torch.testing.assert_close(model(x)[0], model(x)[0])
    model.train()
    assert not torch.allclose(model(x)[0], model(x)[0])


@pytest.mark.parametrize("name", list(MODELS))
def test_what_a_model_shows_it_returns(name):
    """``shows`` is a promise: gates are (B, T, H) in (0, 1), attention maps (B, T, T) causal
    rows summing to one; each sample's maps as if it were alone; nothing else is offered."""
    model = build(name, input_size=3, hidden_size=8, num_layers=2).double().eval()
    assert set(model.shows) <= {"gates", "attention"}
    x = torch.randn(2, 6, 3, dtype=torch.float64)
    with torch.no_grad():
        if "gates" in model.shows:
            gates = model.gate_values(x)
            for v in gates.values():
                assert v.shape == (2, 6, 8) and bool(((v > 0) & (v < 1)).all())
            for g, v in model.gate_values(x[1:]).items():
                torch.testing.assert_close(v[0], gates[g][1], atol=1e-12, rtol=0)
        else:
            with pytest.raises(NotImplementedError):
                model.gate_values(x)
        if "attention" in model.shows:
            maps = model.attention_weights(x)
            for A in maps.values():
                assert A.shape == (2, 6, 6)
                torch.testing.assert_close(A.sum(-1), torch.ones(2, 6, dtype=A.dtype))
                assert bool((A.triu(1) == 0).all())  # no query looks ahead
            for h, A in model.attention_weights(x[1:]).items():
                torch.testing.assert_close(A[0], maps[h][1], atol=1e-12, rtol=0)
        else:
            with pytest.raises(NotImplementedError):
                model.attention_weights(x)


def test_registry_names():
    assert {"rnn", "lstm", "gru", "transformer"} <= set(MODELS)


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: build("lstmm", input_size=3, hidden_size=4), r"'lstmm'.*expected one of rnn"),
        (lambda: build("gru", input_size=0, hidden_size=4), r"input_size=0.*positive integer"),
        (lambda: build("rnn", input_size=3, hidden_size=-1), r"hidden_size=-1"),
        (lambda: build("rnn", input_size=3, hidden_size=4, nonlinearity="sigmoid"), r"tanh, relu"),
        (lambda: build("rnn", input_size=3, hidden_size=4, impl="cuda"), r"reference, fast"),
        (lambda: build("gru", input_size=3, hidden_size=4, colour=1), r"'colour'"),
        (lambda: build("lstm", input_size=3, hidden_size=4, dropout=1.5), r"dropout=1.5"),
        (lambda: build("transformer", input_size=3, hidden_size=10, num_heads=4), r"num_heads=4"),
    ],
)
def test_bad_config_names_value_and_accepted(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("name", CLASSIC)
def test_bad_tensor_rank_and_feature_size(name):
    model = build(name, input_size=3, hidden_size=8)
    with pytest.raises(ValueError, match=r"rank 3"):
        model(torch.randn(5, 3))
    with pytest.raises(ValueError, match=r"feature size 4.*input_size = 3"):
        model(torch.randn(2, 5, 4))
    with pytest.raises(ValueError, match=r"rank 2"):
        model.step(torch.randn(2, 1, 3), model.init_state(2))


def test_bad_state_shape():
    model = build("gru", input_size=3, hidden_size=8, num_layers=2)
    with pytest.raises(ValueError, match=r"\(2, 4, 8\)"):
        model(torch.randn(4, 5, 3), torch.zeros(1, 4, 8))
