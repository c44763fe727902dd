r"""Retention (Sun et al. 2023, "Retentive Network"): attention-like parallel training and a
constant-size recurrent state for decoding — a Transformer that streams.

Read-in (d = hidden_size; no position code: the decay below orders the past):
    e_t = W_in x_t + b_in
Each of the L blocks (pre-LN, as the Transformer here), with h heads of width d_k = d / h and a
fixed decay per head γ_i = 1 − 2^{−5−i}, i = 0..h−1 (the paper's multi-scale retention):
    a       = LN_1(e)
    Q, K, V = a W_Q,  a W_K / √d_k,  a W_V                 (B, h, T, d_k) after splitting heads
    o       = Retention(Q, K, V)                            one of the two equal forms below
    e       = e + W_O (swish(a W_G) ⊙ GroupNorm_h(o))      the gate and the per-head norm
    e       = e + W_2 act(W_1 LN_2(e) + b_1) + b_2          the position-wise MLP, width d_ff
Then  y_t = W_hy LN_f(e_t) + b_y.

**Parallel form** (training; positions n, m = 0..T−1 of a chunk, S_0 the state carried in):
    o = (Q Kᵀ ⊙ D) V + (Γ ⊙ Q) S_0,     D_nm = γ^{n−m} if n ≥ m else 0,   Γ_n = γ^{n+1}
    S_T = γ^T S_0 + Kᵀ (w ⊙ V),         w_m = γ^{T−1−m}
**Recurrent form** (decoding; one position at a time):
    S_n = γ S_{n−1} + k_nᵀ v_n          S is d_k × d_k per head: the whole memory
    o_n = q_n S_n

Why they are equal: unrolling the recurrence gives
    S_n = γ^{n+1} S_0 + Σ_{m≤n} γ^{n−m} k_mᵀ v_m        (S_n here: after position n)
so  q_n S_n = γ^{n+1} q_n S_0 + Σ_{m≤n} γ^{n−m} (q_n · k_m) v_m,
which is row n of (Q Kᵀ ⊙ D) V + (Γ ⊙ Q) S_0: attention whose softmax is replaced by a fixed
causal decay. Without the softmax the sum factorises through the d_k × d_k matrix S, so a
decoder carries S — H·d_k values per layer, constant in T — where a Transformer carries a KV
cache of 2·T·H. The price: the past is compressed into S with a fixed forgetting rate per head
(no content-based selection of what to keep), which is what associative-recall tasks probe.

Simplifications, stated: no xPos rotation of Q and K (the paper's relative-position code; the
decay alone orders the past here), values as wide as keys (the paper widens V to 2·d_k), and the
GroupNorm — invariant to a scale per head and position — makes the paper's score normalisation
unnecessary, so both forms above are exact.

``impl="reference"`` runs the recurrent form position by position (the readable loop);
``impl="fast"`` (default) the parallel form. They are tested equal in outputs, states and
gradients; the cost formulas count each form's own matrix products.
"""

from __future__ import annotations

import math
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .common import (
    Cost,
    StackedModel,
    check_choice,
    check_input,
    check_positive_int,
    heads_for,
)
from .transformer import ACTIVATIONS, PreLNBlock


def decays(num_heads: int) -> Tensor:
    """γ_i = 1 − 2^{−5−i}: head 0 forgets within ~32 steps, head h−1 keeps ~2^{4+h} steps."""
    return 1 - 2.0 ** (-5 - torch.arange(num_heads, dtype=torch.float64))


class Retention(nn.Module):
    """Multi-scale retention: Q, K, V, the gate G and the output O, no biases (as the paper)."""

    def __init__(self, d: int, num_heads: int, impl: str):
        super().__init__()
        self.h, self.d_k, self.impl = num_heads, d // num_heads, impl
        self.W_Q = nn.Linear(d, d, bias=False)
        self.W_K = nn.Linear(d, d, bias=False)
        self.W_V = nn.Linear(d, d, bias=False)
        self.W_G = nn.Linear(d, d, bias=False)
        self.W_O = nn.Linear(d, d, bias=False)
        self.norm = nn.GroupNorm(num_heads, d)  # per head and position, affine per channel
        self.register_buffer("gamma", decays(num_heads), persistent=False)

    def heads(self, a: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        B, T, d = a.shape
        q, k, v = self.W_Q(a), self.W_K(a) / math.sqrt(self.d_k), self.W_V(a)
        return tuple(z.view(B, T, self.h, self.d_k).transpose(1, 2) for z in (q, k, v))

    def forward(self, a: Tensor, S: Tensor) -> tuple[Tensor, Tensor]:
        """a (B, T, d), S (B, h, d_k, d_k) carried in -> (B, T, d), S after the chunk."""
        B, T, d = a.shape
        q, k, v = self.heads(a)  # (B, h, T, d_k)
        gamma = self.gamma.to(a.dtype)
        if self.impl == "reference":
            outs = []
            for n in range(T):  # S_n = γ S_{n−1} + k_nᵀ v_n ;  o_n = q_n S_n
                S = gamma[:, None, None] * S + k[:, :, n, :, None] @ v[:, :, n, None, :]
                outs.append(q[:, :, n, None, :] @ S)  # (B, h, 1, d_k)
            o = torch.cat(outs, dim=2)
        else:
            n = torch.arange(T, device=a.device, dtype=a.dtype)
            lag = n[:, None] - n[None, :]  # n − m
            log_g = torch.log(gamma)[:, None, None]  # (h, 1, 1)
            D = torch.exp(lag.clamp(min=0) * log_g) * (lag >= 0)  # (h, T, T)
            Gamma = torch.exp((n + 1)[:, None] * log_g)  # γ^{n+1}, (h, T, 1)
            w = torch.exp((T - 1 - n)[:, None] * log_g)  # γ^{T−1−m}, (h, T, 1)
            o = ((q @ k.transpose(-2, -1)) * D) @ v + (Gamma * q) @ S
            S = torch.exp(T * log_g) * S + k.transpose(-2, -1) @ (w * v)
        o = o.transpose(1, 2).reshape(B * T, d)  # concat(heads), one row per position
        o = self.norm(o).view(B, T, d)
        return self.W_O(F.silu(self.W_G(a)) * o), S


class Block(PreLNBlock):
    """Pre-LN block: e += Retention(LN_1 e); e += MLP(LN_2 e); the state is S."""

    def __init__(
        self, d: int, num_heads: int, d_ff: int, dropout: float, activation: str, impl: str
    ):
        super().__init__(d, "ret", Retention(d, num_heads, impl), d_ff, dropout, activation)


class RetNet(StackedModel):
    """Retention network (RetNet): parallel training like attention, a d_k × d_k state per head
    for decoding, constant in T."""

    arch: ClassVar[str] = "retnet"
    colour: ClassVar[str] = "#17becf"
    population_impl: ClassVar[str] = "fast"  # the parallel form is plain tensor algebra
    state_layout: ClassVar[str] = "(L, B, h, d_k, d_k)"

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        output_size: int | None = None,
        dropout: float = 0.0,
        num_heads: int | None = None,  # None: 4, or 2 or 1 where 4 does not divide d
        ffn_size: int | None = None,
        activation: str = "gelu",
        layer_norm: bool = True,  # accepted for a uniform config; pre-LN is part of the design
        impl: str = "fast",
        tokens: bool = False,  # one-hot token inputs: W_in starts as an embedding table
    ):
        super().__init__()
        self._init_stack(input_size, hidden_size, num_layers, dropout, True, impl)
        d = self.hidden_size
        self.num_heads = heads_for(num_heads, d)
        self.ffn_size = 4 * d if ffn_size is None else check_positive_int("ffn_size", ffn_size)
        self.activation = check_choice("activation", activation, ACTIVATIONS)
        self.W_in = nn.Linear(input_size, d)
        self.blocks = nn.ModuleList(
            Block(d, self.num_heads, self.ffn_size, dropout, activation, self.impl)
            for _ in range(num_layers)
        )
        self.ln_f = nn.LayerNorm(d)
        self._init_readout(output_size)
        self._init_tokens(tokens)

    token_std: ClassVar[float] = 1.0  # tokens read into the residual stream, as fla's embedding

    def read_in(self) -> list[Tensor]:
        return [self.W_in.weight]  # (d, D)

    @property
    def d_k(self) -> int:
        return self.hidden_size // self.num_heads

    def state_shape(self, batch_size: int) -> tuple[int, ...]:
        """S per layer and head: (L, B, h, d_k, d_k), zero at the start."""
        return (self.num_layers, batch_size, self.num_heads, self.d_k, self.d_k)

    def forward(self, x: Tensor, state: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """x (B, T, D) -> y (B, T, O) and the retention state after the last position."""
        check_input(x, self.input_size, rank=3)
        state = self._check_state(state, x.shape[0])
        for block in self.blocks:  # implementations switchable after construction
            block.ret.impl = self.impl
        e = self.drop(self.W_in(x))
        finals = []
        for block, S in zip(self.blocks, state, strict=True):
            e, S = block(e, S)
            finals.append(S)
        return self._readout(self.ln_f(e)), torch.stack(finals)

    def cost(self, seq_len: int, batch_size: int = 1, bytes_per_value: int = 4) -> Cost:
        """Parameters, FLOPs, state and activation memory at T, for the form ``impl`` runs.

        params = (D·d + d) [read-in] + L·(5d² [Q,K,V,G,O] + 2·d·d_ff + d_ff + d [MLP]
                 + 2d [GroupNorm] + 4d [two LNs]) + 2d [final LN] (+ d·O + O read-out)
        FLOPs per token, matrix products only:
            parallel (fast): 2·D·d + L·(10d² + 4·d·d_ff + 4·d·T [QKᵀ and its product with V]
                             + 4·d·d_k [the carried state in and out])
            recurrent (reference, and every decode step): the same without 4·d·T — constant in T
        State: L·B·h·d_k² = L·B·d·d_k values, whatever T (a KV cache would hold 2·L·B·T·d).
        Activations per token and layer, roughly: 10d + 2·d_ff, plus h·T for the parallel
        form's decay-weighted score matrix or d·d_k for the recurrent form's states.
        """
        D, d, L, T = self.input_size, self.hidden_size, self.num_layers, seq_len
        d_ff, h, d_k = self.ffn_size, self.num_heads, self.d_k
        parallel = self.impl != "reference"
        T_term, T_text = (4 * d * T, " + 4·d·T") if parallel else (0, "")
        kept, kept_text = (h * T, "h·T") if parallel else (d * d_k, "d·d_k")
        return self._cost(
            seq_len,
            batch_size,
            bytes_per_value,
            params=D * d + d + L * (5 * d * d + 2 * d * d_ff + d_ff + d + 6 * d) + 2 * d,
            flops=2 * D * d + L * (10 * d * d + 4 * d * d_ff + T_term + 4 * d * d_k),
            state_values=L * batch_size * d * d_k,
            activation_values=batch_size * T * L * (10 * d + 2 * d_ff + kept),
            formulas={
                "params": "D·d + d + L·(5d² + 2·d·d_ff + d_ff + 7d) + 2d",
                "flops_per_token": f"2·D·d + L·(10d² + 4·d·d_ff{T_text} + 4·d·d_k)",
                "state_bytes": "L·B·d·d_k·bytes",
                "activation_bytes": f"B·T·L·(10d + 2·d_ff + {kept_text})·bytes",
            },
            notes={
                "flops_per_token": "parallel form: grows with T" if parallel else "recurrent form",
                "state_bytes": "constant in T",
            },
        )
