"""seqarch.derive: hand-written backward passes, walkthrough numbers, measured gradient flow."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from seqarch.cli import app
from seqarch.derive import (
    NUMPY_MODELS,
    check,
    decay_ratio,
    gradient_flow,
    numpy_model,
    walkthrough,
)
from seqarch.derive.gradcheck import autograd_gradients, hand_gradients, make_problem
from seqarch.derive.render import to_markdown, to_rich
from seqarch.models import build
from seqarch.models.transformer import CausalSelfAttention

ARCHS = list(NUMPY_MODELS)  # rnn, lstm, gru, attention
runner = CliRunner()


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Jacobians of tiny models: one thread avoids oversubscribing a shared CPU."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# -- gradient checks -----------------------------------------------------------------------------


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_hand_backward_matches_finite_differences_and_autograd(arch, seed):
    results = check(arch, seed)
    names = {r.tensor for r in results}
    assert "x" in names and len(names) == len(results)
    for r in results:
        assert r.fd_relative_error < 1e-6, (r.tensor, r.fd_relative_error)
        assert r.autograd_abs_error < 1e-10, (r.tensor, r.autograd_abs_error)


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("impl", ["reference", "fast"])
def test_hand_backward_equals_autograd_at_other_sizes(arch, impl):
    p = make_problem(arch, seed=7, batch_size=3, seq_len=9, input_size=2, hidden_size=6)
    hand, auto = hand_gradients(p), autograd_gradients(p, impl)
    assert set(auto) <= set(hand)
    for name, g in auto.items():
        np.testing.assert_allclose(hand[name], g, rtol=0, atol=1e-10, err_msg=name)


@pytest.mark.parametrize("arch", ["rnn", "lstm", "gru"])
def test_numpy_forward_equals_seqarch_model(arch):
    rng = np.random.default_rng(3)
    params = numpy_model(arch).init_params(3, 5, rng)
    x = rng.standard_normal((2, 6, 3))
    h, _ = numpy_model(arch).forward(params, x)
    model = build(arch, input_size=3, hidden_size=5).double()
    with torch.no_grad():
        for k in ("W_x", "W_h", "b_x", "b_h"):
            getattr(model.cells[0], k).copy_(torch.tensor(params[k]))
        y, _ = model(torch.tensor(x))
    np.testing.assert_allclose(h, y.numpy(), atol=1e-12)


def test_attention_forward_is_causal():
    rng = np.random.default_rng(0)
    params = numpy_model("attention").init_params(4, 4, rng)
    x = rng.standard_normal((1, 6, 4))
    y, cache = numpy_model("attention").forward(params, x)
    x2 = x.copy()
    x2[:, -1] += 1.0  # changing the last position must not change earlier outputs
    y2, _ = numpy_model("attention").forward(params, x2)
    np.testing.assert_allclose(y[:, :-1], y2[:, :-1], atol=1e-14)
    np.testing.assert_allclose(cache["P"].sum(-1), 1.0)


def test_attention_refuses_mismatched_widths():
    with pytest.raises(ValueError, match="input_size=3"):
        numpy_model("attention").init_params(3, 4, np.random.default_rng(0))


# -- walkthroughs --------------------------------------------------------------------------------


@pytest.mark.parametrize("arch", ["rnn", "lstm", "gru"])
def test_walkthrough_counts_equal_the_models_own(arch):
    D, H = 7, 12
    w = walkthrough(arch, input_size=D, hidden_size=H, measure=False)
    assert w.total_params == w.model_params == build(arch, input_size=D, hidden_size=H).num_params()
    G = {"rnn": 1, "lstm": 4, "gru": 3}[arch]
    assert sum(v == H * D for k, v in w.param_counts.items() if k.startswith("W_x")) == G
    assert sum(v == H * H for k, v in w.param_counts.items() if k.startswith("W_h")) == G


def test_attention_walkthrough_counts_equal_the_modules_own():
    w = walkthrough("attention", input_size=5, hidden_size=16, measure=False)
    attn = CausalSelfAttention(16, num_heads=1, dropout=0.0, impl="reference")
    assert w.total_params == w.model_params == sum(p.numel() for p in attn.parameters())
    assert w.param_counts["W_Q"] == w.param_counts["W_O"] == 16 * 16


def test_rnn_walkthrough_sigma_max_and_bound_are_live():
    w = walkthrough("rnn", input_size=4, hidden_size=20, seed=5, measure=False)
    torch.manual_seed(5)
    W_hh = build("rnn", input_size=4, hidden_size=20).cells[0].W_h.detach().double()
    sigma = float(torch.linalg.matrix_norm(W_hh, ord=2))
    assert w.numbers["sigma_max_W_hh"] == pytest.approx(sigma)
    for n in (10, 50, 100):
        assert w.numbers[f"bound_at_{n}"] == pytest.approx(sigma**n)
    w2 = walkthrough("rnn", input_size=4, hidden_size=40, seed=5, measure=False)
    assert w2.numbers["sigma_max_W_hh"] != w.numbers["sigma_max_W_hh"]  # depends on the size


def test_walkthrough_markdown_has_latex_and_shapes():
    md = to_markdown(walkthrough("lstm", input_size=3, hidden_size=6, measure=False))
    assert "$$" in md and r"\odot" in md and r"\prod" in md
    assert "W_xi (6, 3)" in md and "f̄" in md
    assert to_rich(walkthrough("gru", input_size=3, hidden_size=6, measure=False)) is not None


# -- gradient flow -------------------------------------------------------------------------------


def test_rnn_gradient_vanishes_100x_faster_than_lstm():
    """‖∂h_T/∂h_{T−50}‖/‖∂h_T/∂h_{T−1}‖, seed-averaged at PyTorch's init: RNN ≤ LSTM / 100."""
    kw = dict(seq_len=51, k_max=50, hidden_size=16, input_size=4, seeds=(0, 1, 2))
    rnn, lstm = gradient_flow("rnn", **kw), gradient_flow("lstm", **kw)
    assert decay_ratio(rnn, 50) * 100 <= decay_ratio(lstm, 50)
    assert decay_ratio(rnn, 50) < 1e-6  # geometric decay, not a plateau
    assert len(rnn["state_per_seed"]) == 3 and len(rnn["k"]) == 50


def test_attention_gradient_does_not_decay():
    r = gradient_flow("transformer", seq_len=41, k_max=40, hidden_size=16, input_size=4, seeds=(0,))
    assert r["state"] is None
    assert decay_ratio(r, 40, "input") > 0.05
    with pytest.raises(ValueError, match="input"):
        decay_ratio(r, 10, "state")


@pytest.mark.parametrize(
    "kwargs, bad",
    [
        (dict(arch="mamba"), "mamba"),
        (dict(arch="rnn", hidden_size=0), "hidden_size=0"),
        (dict(arch="rnn", seq_len=10, k_max=10), "k_max=10"),
    ],
)
def test_gradient_flow_refuses_bad_input(kwargs, bad):
    with pytest.raises(ValueError, match=bad):
        gradient_flow(**kwargs)


# -- CLI -----------------------------------------------------------------------------------------


def test_cli_check_passes_and_prints_table():
    r = runner.invoke(app, ["derive", "check", "--seeds", "1"])
    assert r.exit_code == 0, r.output
    assert "lstm" in r.output and "C0" in r.output and "FAIL" not in r.output


def test_cli_walkthrough_writes_markdown(tmp_path):
    md = tmp_path / "rnn.md"
    r = runner.invoke(
        app, ["derive", "rnn", "--input-size", "3", "--hidden-size", "8", "--markdown", str(md)]
    )
    assert r.exit_code == 0, r.output
    assert "σ_max" in r.output and "tanh" in r.output
    assert r"\tanh" in md.read_text()


def test_cli_flow_json_plot_and_store(tmp_path):
    pytest.importorskip("seqarch.store")
    from seqarch.store import Store

    db, plot = tmp_path / "s.db", tmp_path / "flow.png"
    args = ["derive", "flow", "--arch", "rnn", "--arch", "transformer", "--seq-len", "12"]
    args += ["--k", "8", "--hidden-size", "6", "--seeds", "1", "--json"]
    r = runner.invoke(app, [*args, "--plot", str(plot), "--db", str(db)])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert [d["arch"] for d in data] == ["rnn", "transformer"] and len(data[0]["state"]) == 8
    assert plot.exists() and plot.with_suffix(".svg").exists()
    with Store(db) as store:
        assert {m["key"]["arch"] for m in store.measurements("gradient_flow")} == {
            "rnn",
            "transformer",
        }


@pytest.mark.parametrize(
    "args",
    [
        ["flow", "--arch", "mamba"],
        ["flow", "--seq-len", "10", "--k", "10"],
        ["flow", "--hidden-size", "-1"],
        ["rnn", "--hidden-size", "0"],
    ],
)
def test_cli_bad_input_is_one_line_exit_2(args):
    r = runner.invoke(app, ["derive", *args])
    assert r.exit_code == 2
    assert len(r.stderr.strip().splitlines()) == 1 and "error" in r.stderr
