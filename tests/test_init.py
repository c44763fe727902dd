"""Start-up scales, pinned (docs/init-audit.md): the read-in of tokens at embedding scale in
every model, the token-to-position ratio of the attention models, PyTorch's defaults elsewhere."""

from __future__ import annotations

import math

import pytest
import torch

from seqarch.errors import BadInput
from seqarch.models import MODELS, accepted_options, build
from seqarch.tasks import make_task
from seqarch.train import RunConfig, model_options

V, H = 256, 64  # a vocabulary the size of Zoology's basic MQAR, a typical width


@pytest.mark.parametrize("arch", list(MODELS))
def test_every_model_reads_tokens_through_an_embedding_at_its_scale(arch):
    assert "tokens" in accepted_options(arch), f"{arch} has no token read-in"
    torch.manual_seed(0)
    model = build(arch, input_size=V, hidden_size=H, tokens=True)
    for w in model.read_in():
        assert V in w.shape[1:2] or w.shape[-1] == V  # one column per token: the embedding table
        assert abs(w.std().item() / model.token_std - 1) < 0.05
        assert abs(w.mean().item()) < 0.05 * model.token_std


@pytest.mark.parametrize("arch", list(MODELS))
def test_continuous_inputs_keep_the_linear_default(arch):
    torch.manual_seed(0)
    model = build(arch, input_size=V, hidden_size=H)
    assert model.tokens is False
    for w in model.read_in():
        # PyTorch's U(±1/√fan_in) (a Linear's fan_in = V; an RNN cell's bound is 1/√H)
        assert w.abs().max().item() <= max(V, H) ** -0.5 * (1 + 1e-6) or w.abs().max() <= H**-0.5


def test_token_scales_follow_the_references():
    # Embedding into the residual stream (nanoGPT, Zoology, fla): nn.Embedding's N(0, 1).
    assert MODELS["transformer"].token_std == 1.0 and MODELS["retnet"].token_std == 1.0
    # Embedding N(0, 1) of width H, then a layer's input weights U(±1/√H): variance 1/3.
    for arch in ("rnn", "lstm", "gru", "mingru", "minlstm", "ssm"):
        assert math.isclose(MODELS[arch].token_std, 3**-0.5)


@pytest.mark.parametrize("positions", ["learned", "sinusoidal"])
def test_attention_sees_tokens_and_positions_at_comparable_scale(positions):
    torch.manual_seed(0)
    T = 64
    x = torch.eye(V)[torch.randint(0, V, (1, T))]  # (1, T, V) one-hot tokens

    def ratio(tokens: bool) -> float:
        m = build("transformer", input_size=V, hidden_size=H, positions=positions, tokens=tokens)
        token = (x @ m.W_in.weight.T).norm(dim=-1).mean()  # the token's part of e_t
        position = (m.embed(x) - m.W_in(x)).norm(dim=-1).mean()  # p_t
        return (token / position).item()

    assert 0.5 <= ratio(True) <= 2.0  # comparable: attention can read both
    assert ratio(False) < 0.1  # the defect the token read-in mends: position only


def test_lstm_forget_bias_starts_at_one():
    torch.manual_seed(0)
    m = build("lstm", input_size=8, hidden_size=H)
    b = m.cells[0].b_x.detach() + m.cells[0].b_h.detach()
    assert abs(b[H : 2 * H].mean().item() - 1.0) < 0.1  # gate order i, f, g, o
    assert abs(b[:H].mean().item()) < 0.1


def test_token_tasks_read_tokens_and_say_so_in_the_run_id():
    recall = RunConfig(arch="gru", task="recall")
    adding = RunConfig(arch="gru", task="adding")
    assert recall.to_dict()["read_in"] == "embedding"
    assert "read_in" not in adding.to_dict()
    assert RunConfig.from_dict(recall.to_dict()).id == recall.id
    assert model_options(recall, make_task("recall"), 32)["tokens"] is True
    assert "tokens" not in model_options(adding, make_task("adding"), 32)


def test_tokens_must_be_a_boolean():
    with pytest.raises(BadInput, match="tokens='yes' is not accepted"):
        build("gru", input_size=4, hidden_size=8, tokens="yes")
