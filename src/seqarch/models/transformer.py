r"""A decoder-only causal Transformer over feature sequences (pre-LayerNorm).

Read-in and positions (d = hidden_size):
    e_t = W_in x_t + b_in + p_t                       p_t sinusoidal or learned, (d,)
Each of the L blocks (pre-LN, as nn.TransformerEncoderLayer(norm_first=True)):
    a   = LN_1(e)
    Q, K, V = a W_Q, a W_K, a W_V                     (B, h, T, d_k) after splitting h heads
    Attention(Q, K, V) = softmax(Q Kᵀ / √d_k + M) V   M_ij = −∞ for j > i (causal)
    e   = e + W_O concat(heads)
    e   = e + W_2 act(W_1 LN_2(e) + b_1) + b_2        the position-wise MLP, width d_ff
Then
    y_t = W_hy LN_f(e_t) + b_y

Every position reaches every earlier one in one step (one Jacobian, not a product of T−t),
which is why long dependencies are easy — at O(T) work per token and a KV cache that grows
with T. ``step`` appends the new token's K, V to that cache and attends over it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..errors import BadInput
from .common import (
    IMPLS,
    Cost,
    SequenceModel,
    check_choice,
    check_input,
    check_positive_int,
    check_probability,
    check_width,
    heads_for,
)

POSITIONS = ("sinusoidal", "learned")
ACTIVATIONS = ("gelu", "relu")


@dataclass
class KVCache:
    """Per layer, the keys and values of every position seen so far: (B, h, t, d_k) each."""

    keys: list[Tensor]
    values: list[Tensor]

    @property
    def length(self) -> int:
        return self.keys[0].shape[2]


def sinusoidal_positions(positions: Tensor, d: int) -> Tensor:
    """p_{t,2i} = sin(t / 10000^{2i/d}), p_{t,2i+1} = cos(t / 10000^{2i/d}); (T,) -> (T, d)."""
    i = torch.arange(0, d, 2, dtype=torch.float64, device=positions.device)
    angle = positions.to(torch.float64)[:, None] / 10000.0 ** (i / d)  # (T, ⌈d/2⌉)
    p = torch.zeros(positions.shape[0], d, dtype=torch.float64, device=positions.device)
    p[:, 0::2] = torch.sin(angle)
    p[:, 1::2] = torch.cos(angle[:, : d // 2])
    return p


class CausalSelfAttention(nn.Module):
    """Multi-head attention with nn.MultiheadAttention's parameter layout (in_proj, out_proj)."""

    def __init__(self, d: int, num_heads: int, dropout: float, impl: str):
        super().__init__()
        self.h, self.d_k, self.impl = num_heads, d // num_heads, impl
        self.in_proj = nn.Linear(d, 3 * d)  # [W_Q; W_K; W_V], (3d, d)
        self.out_proj = nn.Linear(d, d)  # W_O
        self.dropout = dropout

    def forward(self, a: Tensor, past: tuple[Tensor, Tensor]) -> tuple[Tensor, tuple]:
        """a (B, T, d) and the cache (K, V) of earlier positions -> output, extended cache."""
        k_past, v_past = past
        B, T, d = a.shape  # batch, new positions, model width
        q, k, v = self.in_proj(a).split(d, dim=-1)  # (B, T, d) each
        q, k, v = (z.view(B, T, self.h, self.d_k).transpose(1, 2) for z in (q, k, v))
        k = torch.cat([k_past, k], dim=2)  # (B, h, P+T, d_k): the cache plus the new positions
        v = torch.cat([v_past, v], dim=2)
        P = k_past.shape[2]
        # new position i (absolute P+i) sees keys 0..P+i
        allowed = torch.ones(T, P + T, dtype=torch.bool, device=a.device).tril(diagonal=P)
        p_drop = self.dropout if self.training else 0.0
        if self.impl == "fast":
            o = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed, dropout_p=p_drop)
        else:
            scores = q @ k.transpose(-2, -1) / math.sqrt(self.d_k)  # (B, h, T, P+T)
            scores = scores.masked_fill(~allowed, float("-inf"))
            o = F.dropout(torch.softmax(scores, dim=-1), p_drop, self.training) @ v
        o = o.transpose(1, 2).reshape(B, T, d)  # concat(heads)
        return self.out_proj(o), (k, v)

    def weights(self, a: Tensor) -> Tensor:
        """A = softmax(Q Kᵀ / √d_k + M), M causal, over a (B, T, d) alone: (B, h, T, T)."""
        B, T, d = a.shape
        q, k, _ = self.in_proj(a).split(d, dim=-1)  # (B, T, d) each
        q, k = (z.view(B, T, self.h, self.d_k).transpose(1, 2) for z in (q, k))  # (B, h, T, d_k)
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.d_k)  # (B, h, T, T)
        causal = torch.ones(T, T, dtype=torch.bool, device=a.device).tril()
        return torch.softmax(scores.masked_fill(~causal, float("-inf")), dim=-1)


class PreLNBlock(nn.Module):
    """The pre-LN residual block around a sequence mixer ``mix`` (attention here; retention in
    models/retnet.py): e += Mix(LN_1 e); e += MLP(LN_2 e). ``state`` is the mixer's own."""

    def __init__(
        self, d: int, name: str, mixer: nn.Module, d_ff: int, dropout: float, activation: str
    ):
        super().__init__()
        self.ln_1 = nn.LayerNorm(d)
        self.add_module(name, mixer)  # ln_1, mixer, ln_2, W_1, W_2: the parameters' order
        self.mixer_name = name
        self.ln_2 = nn.LayerNorm(d)
        self.W_1 = nn.Linear(d, d_ff)
        self.W_2 = nn.Linear(d_ff, d)
        self.act = F.gelu if activation == "gelu" else F.relu
        self.drop = nn.Dropout(dropout)

    def forward(self, e: Tensor, state: Any) -> tuple[Tensor, Any]:
        r, state = getattr(self, self.mixer_name)(self.ln_1(e), state)
        e = e + self.drop(r)
        e = e + self.drop(self.W_2(self.drop(self.act(self.W_1(self.ln_2(e))))))
        return e, state


class Block(PreLNBlock):
    """Pre-LN Transformer block: e += Attn(LN_1 e); e += MLP(LN_2 e); state = (K, V) so far."""

    def __init__(
        self, d: int, num_heads: int, d_ff: int, dropout: float, activation: str, impl: str
    ):
        super().__init__(
            d, "attn", CausalSelfAttention(d, num_heads, dropout, impl), d_ff, dropout, activation
        )


def _tensor_pairs(block: Block, layer: nn.TransformerEncoderLayer) -> list[tuple[Tensor, Tensor]]:
    """Our block's tensors beside the same tensors of an nn.TransformerEncoderLayer."""
    modules = [
        (block.ln_1, layer.norm1),
        (block.ln_2, layer.norm2),
        (block.W_1, layer.linear1),
        (block.W_2, layer.linear2),
        (block.attn.out_proj, layer.self_attn.out_proj),
    ]
    pairs = [(o.weight, t.weight) for o, t in modules] + [(o.bias, t.bias) for o, t in modules]
    return pairs + [
        (block.attn.in_proj.weight, layer.self_attn.in_proj_weight),
        (block.attn.in_proj.bias, layer.self_attn.in_proj_bias),
    ]


class Transformer(SequenceModel):
    """Causal pre-LN Transformer over feature sequences, with a KV-cache ``step``."""

    arch: ClassVar[str] = "transformer"
    colour: ClassVar[str] = "#9467bd"
    shows: ClassVar[tuple[str, ...]] = ("attention",)  # block 0, per head (attention_weights)

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        output_size: int | None = None,
        dropout: float = 0.0,
        num_heads: int | None = None,  # None: 4, or 2 or 1 where 4 does not divide d
        ffn_size: int | None = None,
        positions: str = "sinusoidal",
        max_len: int = 4096,
        activation: str = "gelu",
        layer_norm: bool = True,  # accepted for a uniform config; pre-LN is part of the design
        impl: str = "fast",
        tokens: bool = False,  # one-hot token inputs: W_in starts as an embedding table
    ):
        super().__init__()
        self.input_size = check_width("input_size", input_size)
        self.hidden_size = d = check_width("hidden_size", hidden_size)
        self.num_layers = check_positive_int("num_layers", num_layers)
        self.num_heads = num_heads = heads_for(num_heads, d)
        self.ffn_size = 4 * d if ffn_size is None else check_positive_int("ffn_size", ffn_size)
        self.dropout = check_probability("dropout", dropout)
        self.positions = check_choice("positions", positions, POSITIONS)
        self.max_len = check_positive_int("max_len", max_len)
        self.activation = check_choice("activation", activation, ACTIVATIONS)
        self.impl = check_choice("impl", impl, IMPLS)
        self.layer_norm = True
        self.W_in = nn.Linear(input_size, d)  # linear read-in from features
        if positions == "learned":
            self.pos = nn.Embedding(max_len, d)
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(
            Block(d, num_heads, self.ffn_size, dropout, activation, impl) for _ in range(num_layers)
        )
        self.ln_f = nn.LayerNorm(d)
        self._init_readout(output_size)
        self._init_tokens(tokens)

    # The read-in of tokens is the residual stream's embedding (nanoGPT's wte, Zoology's token
    # embedding): N(0, 1) as nn.Embedding, so a token's vector (norm ≈ √d) is comparable to its
    # position's — learned N(0, 1) rows (≈ √d) or sinusoids (√(d/2)). At a Linear's default
    # U(±1/√V) a one-hot token has norm ≈ √(d/(3V)), about 1/20 of the position at V = 256.
    token_std: ClassVar[float] = 1.0

    def read_in(self) -> list[Tensor]:
        return [self.W_in.weight]  # (d, D)

    # -- state: the KV cache ---------------------------------------------------------------

    def init_state(self, batch_size: int) -> KVCache:
        check_positive_int("batch_size", batch_size)
        w = self.W_in.weight
        empty = [
            w.new_zeros(batch_size, self.num_heads, 0, self.hidden_size // self.num_heads)
            for _ in range(self.num_layers)
        ]
        return KVCache(keys=list(empty), values=list(empty))

    def embed(self, x: Tensor, start: int = 0) -> Tensor:
        """e_t = W_in x_t + b_in + p_t for t = start .. start+T−1; (B, T, D) -> (B, T, d)."""
        T = x.shape[1]
        if start + T > self.max_len:
            raise BadInput(
                f"position {start + T - 1} is not accepted; expected positions < max_len="
                f"{self.max_len} (build with a larger max_len)"
            )
        t = torch.arange(start, start + T, device=x.device)
        p = (
            self.pos(t)
            if self.positions == "learned"
            else sinusoidal_positions(t, self.hidden_size)
        )
        return self.drop(self.W_in(x) + p.to(x.dtype))

    def forward(self, x: Tensor, state: KVCache | None = None) -> tuple[Tensor, KVCache]:
        """x (B, T, D) -> y (B, T, O); ``state`` is the KV cache of a prefix, extended here."""
        check_input(x, self.input_size, rank=3)
        B = x.shape[0]
        if state is None:
            state = self.init_state(B)
        elif not isinstance(state, KVCache) or state.keys[0].shape[0] != B:
            raise BadInput(
                f"state of type {type(state).__name__} is not accepted; expected a KVCache for "
                f"batch size {B} (from init_state or a previous call)"
            )
        e = self.embed(x, start=state.length)  # (B, T, d)
        keys, values = [], []
        for block, k_past, v_past in zip(self.blocks, state.keys, state.values, strict=True):
            e, (k, v) = block(e, (k_past, v_past))
            keys.append(k)
            values.append(v)
        return self._readout(self.ln_f(e)), KVCache(keys, values)

    def attention_weights(self, x: Tensor) -> dict[str, Tensor]:
        """Block 0's A per head over x (B, T, D), Q and K from LN_1(e): "head i" -> (B, T, T)."""
        check_input(x, self.input_size, rank=3)
        block = self.blocks[0]
        A = block.attn.weights(block.ln_1(self.embed(x)))  # (B, h, T, T)
        return {f"head {i + 1}": A[:, i] for i in range(block.attn.h)}

    # -- equivalence with torch.nn.TransformerEncoderLayer --------------------------------

    def load_torch_layers(self, layers: list[nn.TransformerEncoderLayer] | nn.ModuleList) -> None:
        """Copy the weights of ``num_layers`` nn.TransformerEncoderLayer(norm_first=True)."""
        layers = list(layers)
        if len(layers) != self.num_layers:
            raise BadInput(f"{len(layers)} layers given; expected num_layers={self.num_layers}")
        with torch.no_grad():
            for block, layer in zip(self.blocks, layers, strict=True):
                if not (layer.norm_first and layer.self_attn.batch_first):
                    raise BadInput(
                        "nn.TransformerEncoderLayer with norm_first=False or batch_first=False is "
                        "not accepted; expected norm_first=True, batch_first=True"
                    )
                for ours, theirs in _tensor_pairs(block, layer):
                    ours.copy_(theirs)

    def to_torch_layers(self) -> nn.ModuleList:
        """The blocks as nn.TransformerEncoderLayer(norm_first=True, batch_first=True)."""
        w = self.W_in.weight
        layers = nn.ModuleList(
            nn.TransformerEncoderLayer(
                self.hidden_size,
                self.num_heads,
                self.ffn_size,
                dropout=self.dropout,
                activation=self.activation,
                batch_first=True,
                norm_first=True,
            )
            for _ in range(self.num_layers)
        ).to(dtype=w.dtype, device=w.device)
        with torch.no_grad():
            for block, layer in zip(self.blocks, layers, strict=True):
                for ours, theirs in _tensor_pairs(block, layer):
                    theirs.copy_(ours)
        return layers

    # -- cost ------------------------------------------------------------------------------

    def cost(self, seq_len: int, batch_size: int = 1, bytes_per_value: int = 4) -> Cost:
        """Parameters, FLOPs, KV-cache and activation memory at context length T.

        params = (D·d + d) [read-in] (+ max_len·d if learned positions)
                 + L·(4d² + 4d [Q,K,V,O] + 2·d·d_ff + d_ff + d [MLP] + 4d [two LNs])
                 + 2d [final LN] (+ d·O + O read-out)
        FLOPs per token with T positions attended (the kernel computes the full T×T score
        matrix, masked entries included):
                 2·D·d + L·(8d² [Q,K,V,O] + 4·d·d_ff [MLP] + 4·d·T [QKᵀ and AV]) (+ 2·d·O)
        KV cache: 2·L·B·T·d values — it grows with T, where a recurrent state does not.
        Activations kept for backprop per token and layer, roughly: LN inputs and outputs (4d),
        Q, K, V and the head outputs (4d), the MLP's hidden pre- and post-activation (2·d_ff)
        and the attention probabilities (h·T) -> B·T·L·(8d + 2·d_ff + h·T) values.
        """
        D, d, L, T = self.input_size, self.hidden_size, self.num_layers, seq_len
        d_ff, h = self.ffn_size, self.num_heads
        pos = self.max_len * d if self.positions == "learned" else 0
        return self._cost(
            seq_len,
            batch_size,
            bytes_per_value,
            params=D * d
            + d
            + pos
            + L * (4 * d * d + 4 * d + 2 * d * d_ff + d_ff + d + 4 * d)
            + 2 * d,
            flops=2 * D * d + L * (8 * d * d + 4 * d * d_ff + 4 * d * T),
            state_values=2 * L * batch_size * T * d,
            activation_values=batch_size * T * L * (8 * d + 2 * d_ff + h * T),
            formulas={
                "params": "D·d + d"
                + (" + max_len·d" if pos else "")
                + " + L·(4d² + 2·d·d_ff + d_ff + 9d) + 2d",
                "flops_per_token": "2·D·d + L·(8d² + 4·d·d_ff + 4·d·T)",
                "state_bytes": "2·L·B·T·d·bytes",
                "activation_bytes": "B·T·L·(8d + 2·d_ff + h·T)·bytes",
            },
            notes={"flops_per_token": "grows with T", "state_bytes": "KV cache, grows with T"},
        )
