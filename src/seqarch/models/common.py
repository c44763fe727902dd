"""What every sequence model in seqarch shares: the contract, input checks, and the cost record.

The contract (batch-first everywhere):

    y, state = model(x, state=None)      # x: (B, T, D)  ->  y: (B, T, O)
    y_t, state = model.step(x_t, state)  # x_t: (B, D)   ->  y_t: (B, O)
    state = model.init_state(batch_size)

O is ``output_size`` when the model has a read-out ``y_t = W_hy h_t + b_y``, otherwise the
top layer's hidden size (then ``y`` is the hidden sequence, as PyTorch's modules return it).

The recurrent models (rnn.py, lstm.py, gru.py) share one stacked-layer skeleton,
:class:`RecurrentModel`: each file supplies its cell (the equations) and its fused kernel.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from ..errors import BadInput, positive

IMPLS = ("reference", "fast")


# ---------------------------------------------------------------------------------------------
# Input checks: one-line errors that name the bad value and what is accepted.


MAX_WIDTH = 2**20  # the widest input, hidden or output size accepted: ~1M units per layer


check_positive_int = positive  # the one positive-integer check (seqarch.errors)


def check_width(name: str, value: Any) -> int:
    """A layer width: a positive integer up to ``MAX_WIDTH`` (a weight matrix of 10¹¹ × 10¹¹
    is not a model, and its size overflows before any memory check could refuse it)."""
    check_positive_int(name, value)
    if value > MAX_WIDTH:
        raise BadInput(f"{name}={value} is not accepted; expected 1 ≤ {name} ≤ {MAX_WIDTH}")
    return value


def heads_for(num_heads: int | None, d: int) -> int:
    """The head count of a multi-head layer of width d: ``num_heads`` (it must divide d), or
    when None the largest of 4, 2, 1 that divides d."""
    if num_heads is None:
        return next(h for h in (4, 2, 1) if d % h == 0)
    check_positive_int("num_heads", num_heads)
    if d % num_heads:
        divisors = [h for h in range(1, min(d, 16) + 1) if d % h == 0]
        raise BadInput(
            f"num_heads={num_heads} does not divide hidden_size={d}; expected one of {divisors}"
        )
    return num_heads


def check_choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise BadInput(f"{name}={value!r} is not accepted; expected one of {', '.join(choices)}")
    return value


def check_probability(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value < 1.0:
        raise BadInput(f"{name}={value!r} is not accepted; expected a number in [0, 1)")
    return float(value)


def check_input(x: Any, input_size: int, rank: int) -> Tensor:
    """Raise unless ``x`` is a floating tensor of ``rank`` dims whose last dim is ``input_size``."""
    expected = "(B, T, D)" if rank == 3 else "(B, D)"
    if not isinstance(x, Tensor):
        raise BadInput(f"x of type {type(x).__name__} is not accepted; expected a torch.Tensor")
    if x.dim() != rank:
        raise BadInput(
            f"x of shape {tuple(x.shape)} is not accepted; expected rank {rank}: {expected} "
            f"with D = input_size = {input_size} (batch-first)"
        )
    if x.shape[-1] != input_size:
        raise BadInput(
            f"x of shape {tuple(x.shape)} has feature size {x.shape[-1]}; "
            f"expected {expected} with D = input_size = {input_size}"
        )
    if not x.is_floating_point():
        raise BadInput(f"x of dtype {x.dtype} is not accepted; expected a floating dtype")
    return x


# ---------------------------------------------------------------------------------------------
# The cost record: every figure comes with the formula that produced it.


@dataclass(frozen=True)
class Cost:
    """Analytic cost of one model at one size.

    FLOPs count matrix multiplications only (2 FLOPs per multiply-add), the term that
    dominates at any realistic size; element-wise gate arithmetic is O(H) per token and left out.
    """

    arch: str
    params: int  # learnable scalars
    flops_per_token: int  # forward (inference) FLOPs per token at the given length
    train_flops_per_token: int  # forward + backward, ~3x forward
    state_bytes: int  # what inference must carry from step to step at length T
    activation_bytes: int  # what backprop must keep for a training batch (B, T)
    seq_len: int
    batch_size: int
    bytes_per_value: int
    formulas: dict[str, str] = field(default_factory=dict)
    # How many steps back (inclusive) an output can see: None for an unbounded model (a
    # recurrent state or attention over the whole prefix); a convolution's window is finite.
    receptive_field: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "arch": self.arch,
            "params": self.params,
            "flops_per_token": self.flops_per_token,
            "train_flops_per_token": self.train_flops_per_token,
            "state_bytes": self.state_bytes,
            "activation_bytes": self.activation_bytes,
            "seq_len": self.seq_len,
            "batch_size": self.batch_size,
            "bytes_per_value": self.bytes_per_value,
            "formulas": dict(self.formulas),
            "receptive_field": self.receptive_field,
        }


TRAIN_FLOPS_FACTOR = 3
"""Backward costs two matmuls per forward matmul (grad w.r.t. input and w.r.t. weight)."""


# ---------------------------------------------------------------------------------------------
# The base class.


class SequenceModel(nn.Module):
    """Base of every seqarch model; subclasses implement ``forward``, ``init_state``, ``cost``."""

    arch: ClassVar[str]
    # What the rest of seqarch asks a model instead of testing its name:
    colour: ClassVar[str] = "#7f7f7f"  # its line and marker in every plot and chart
    # Exported as a standard ONNX operator (RNN, LSTM, GRU) that every runtime ships, rather
    # than a custom graph of primitives: a tie between two models breaks toward it.
    onnx_standard_op: ClassVar[bool] = False
    # The implementation a population (seqarch.population) runs under torch.func.vmap: the
    # model's own equations (fused kernels and compiled scans have no batching rule).
    population_impl: ClassVar[str] = "reference"
    # What the model can show of its own working, each with the method that returns it:
    #   "gates"      gate_values(x)        layer 0's gates over the sequence (LSTM, GRU)
    #   "attention"  attention_weights(x)  block 0's attention map per head (Transformer)
    # The report's interpretability figure asks this, not the model's name.
    shows: ClassVar[tuple[str, ...]] = ()

    # Token inputs. A task with a vocabulary feeds one one-hot row (or a sum of a few) per step;
    # a model told ``tokens=True`` starts the weights that multiply x directly (``read_in``) at
    # embedding scale instead of a Linear's default U(±1/√D_in) (see docs/init-audit.md):
    #   x W_inᵀ with x one-hot  ==  a row look-up of W_inᵀ: the read-in *is* an embedding table.
    # ``token_std`` is that table's start-up scale. Default: a model whose reference reads
    # tokens as nn.Embedding(V, H) (N(0, 1)) followed by a layer's input weights U(±1/√H)
    # (nn.LSTM after an embedding; minGRU-pytorch's Embedding → Linear; mamba's embedding →
    # in_proj): the folded product has entries of variance H · 1/(3H) = 1/3, so σ = 1/√3.
    # Models whose read-in *is* the residual stream's embedding (nanoGPT's wte, Zoology's
    # token embedding) set σ = 1, nn.Embedding's own scale, comparable to the positions.
    token_std: ClassVar[float] = 3**-0.5
    tokens: bool = False

    input_size: int
    hidden_size: int
    num_layers: int
    output_size: int | None

    def read_in(self) -> list[Tensor]:
        """The weights (out, D) — or a convolution's (out, D, k) — that multiply the input x
        directly: with token inputs, the embedding table, one column per token."""
        raise NotImplementedError  # pragma: no cover - abstract

    def _init_tokens(self, tokens: Any) -> None:
        """Call last in ``__init__``: with ``tokens=True`` the read-in starts at N(0, token_std²)
        — the one mechanism by which every model reads a vocabulary."""
        if not isinstance(tokens, bool):
            raise BadInput(f"tokens={tokens!r} is not accepted; expected true or false")
        self.tokens = tokens
        if tokens:
            with torch.no_grad():
                for w in self.read_in():
                    nn.init.normal_(w, 0.0, self.token_std)

    def _init_readout(self, output_size: int | None) -> None:
        # y_t = W_hy h_t + b_y ; absent when the model returns its hidden sequence.
        self.output_size = None if output_size is None else check_width("output_size", output_size)
        self.readout = None if output_size is None else nn.Linear(self.hidden_size, output_size)

    def _readout(self, h: Tensor) -> Tensor:
        return h if self.readout is None else self.readout(h)

    @property
    def out_features(self) -> int:
        return self.hidden_size if self.output_size is None else self.output_size

    def step(self, x_t: Tensor, state: Any = None) -> tuple[Tensor, Any]:
        """One time step: x_t (B, D) -> y_t (B, O), carrying ``state``."""
        check_input(x_t, self.input_size, rank=2)
        y, state = self(x_t.unsqueeze(1), state)  # (B, 1, O)
        return y[:, 0], state

    def init_state(self, batch_size: int) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def cost(self, seq_len: int, batch_size: int = 1, bytes_per_value: int = 4) -> Cost:
        raise NotImplementedError  # pragma: no cover - abstract

    def gate_values(self, x: Tensor) -> dict[str, Tensor]:
        """Gate name -> its activations over x (B, T, D), each (B, T, H); if "gates" is shown."""
        raise NotImplementedError(f"{self.arch} does not show gates")

    def attention_weights(self, x: Tensor) -> dict[str, Tensor]:
        """Head -> its attention map over x (B, T, D), each (B, T query, T key); if "attention"
        is shown."""
        raise NotImplementedError(f"{self.arch} does not show attention")

    def state_batch_dim(self) -> int:
        """Where the batch lies in the model's state tensors: found by asking for two sizes."""
        one, two = self.init_state(1), self.init_state(2)
        one = one if isinstance(one, Tensor) else one[0]
        two = two if isinstance(two, Tensor) else two[0]
        return next(i for i, (a, b) in enumerate(zip(one.shape, two.shape, strict=True)) if a != b)

    def state_grows(self) -> bool:
        """Whether the inference state grows with T (a KV cache), read off the model's own cost
        formula: such a model cannot stream at constant memory or export a fixed-size step."""
        return self.cost(2).state_bytes != self.cost(1).state_bytes

    def receptive_field(self) -> int | None:
        """How many steps back (inclusive) y_t can depend on; None when unbounded. A model
        whose window is finite cannot use a signal further back, whatever it is trained on."""
        return None

    def num_params(self) -> int:
        """Counted, not derived: the figure the cost formulas are tested against."""
        return sum(p.numel() for p in self.parameters())

    def _cost(
        self,
        seq_len: int,
        batch_size: int,
        bytes_per_value: int,
        *,
        params: int,
        flops: int,
        state_values: int,
        activation_values: int,
        formulas: dict[str, str],
        notes: dict[str, str] | None = None,
    ) -> Cost:
        """Assemble a :class:`Cost` from a model's own terms: adds the read-out
        y_t = W_hy h_t + b_y (H·O + O parameters, 2·H·O FLOPs per token) and the training
        factor, and writes each formula as ``<terms> [+ read-out]  [<note>]``."""
        check_positive_int("seq_len", seq_len)
        check_positive_int("batch_size", batch_size)
        H, O = self.hidden_size, self.output_size
        r_params, r_flops = (0, 0) if O is None else (H * O + O, 2 * H * O)
        readout = {} if O is None else {"params": " + (H·O + O)", "flops_per_token": " + 2·H·O"}
        notes = notes or {}
        formulas = {
            **formulas,
            "train_flops_per_token": f"{TRAIN_FLOPS_FACTOR} × flops_per_token",
        }
        return Cost(
            arch=self.arch,
            params=params + r_params,
            flops_per_token=flops + r_flops,
            train_flops_per_token=TRAIN_FLOPS_FACTOR * (flops + r_flops),
            state_bytes=state_values * bytes_per_value,
            activation_bytes=activation_values * bytes_per_value,
            seq_len=seq_len,
            batch_size=batch_size,
            bytes_per_value=bytes_per_value,
            receptive_field=self.receptive_field(),
            formulas={
                k: f + readout.get(k, "") + (f"  [{notes[k]}]" if k in notes else "")
                for k, f in formulas.items()
            },
        )


# ---------------------------------------------------------------------------------------------
# The skeleton of a stack of constant-state layers: written once for the classic recurrent
# models, minGRU / minLSTM, the SSM and RetNet; each model file keeps its equations.


class StackedModel(SequenceModel):
    """``num_layers`` layers whose state does not grow with T, dropout between layers, an
    optional read-out. The state is ``state_tensors`` zero-initialised tensors of
    :meth:`state_shape` (PyTorch's layout: layers first, then the batch)."""

    state_tensors: ClassVar[int] = 1  # 2 for the LSTM: (h, C)
    state_layout: ClassVar[str] = "(L, B, H)"  # how the shape reads, for error messages

    def _init_stack(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int,
        dropout: float,
        layer_norm: bool,
        impl: str,
        impls: tuple[str, ...] = IMPLS,
    ) -> None:
        """The checked sizes and options every stacked model shares."""
        self.input_size = check_width("input_size", input_size)
        self.hidden_size = check_width("hidden_size", hidden_size)
        self.num_layers = check_positive_int("num_layers", num_layers)
        self.dropout = check_probability("dropout", dropout)
        self.layer_norm = bool(layer_norm)
        self.impl = check_choice("impl", impl, impls)
        self.drop = nn.Dropout(dropout)

    def state_shape(self, batch_size: int) -> tuple[int, ...]:
        """The shape of each state tensor: (L, B, H) unless a model keeps more per layer."""
        return (self.num_layers, batch_size, self.hidden_size)

    def init_state(self, batch_size: int) -> Any:
        check_positive_int("batch_size", batch_size)
        p = next(self.parameters())
        zeros = [p.new_zeros(self.state_shape(batch_size)) for _ in range(self.state_tensors)]
        return zeros[0] if self.state_tensors == 1 else tuple(zeros)

    def _check_state(self, state: Any, batch_size: int) -> Any:
        if state is None:
            return self.init_state(batch_size)
        tensors = (state,) if self.state_tensors == 1 else state
        want = self.state_shape(batch_size)
        if (
            not isinstance(tensors, tuple | list)
            or len(tensors) != self.state_tensors
            or any(not isinstance(s, Tensor) or tuple(s.shape) != want for s in tensors)
        ):
            kind = "tensor" if self.state_tensors == 1 else f"tuple of {self.state_tensors}"
            got = [tuple(s.shape) if isinstance(s, Tensor) else type(s).__name__ for s in tensors]
            got = got[0] if self.state_tensors == 1 else got
            raise BadInput(
                f"state {got} is not accepted; expected a {kind} of shape "
                f"{self.state_layout} = {want}"
            )
        return state

    def _between(self, l: int, inputs: Tensor) -> Tensor:
        """Dropout between layers (not before the first), as nn.LSTM applies it."""
        return self.drop(inputs) if l > 0 else inputs


# ---------------------------------------------------------------------------------------------
# The recurrent skeleton: a stack of cells, run by the equations or by PyTorch's fused kernel.


class RecurrentCell(nn.Module):
    """One layer's parameters, laid out as PyTorch keeps them.

    W_x (G·H, D_in), W_h (G·H, H), b_x (G·H), b_h (G·H) where G is the number of gate blocks
    (1 for the Elman RNN, 4 for the LSTM, 3 for the GRU), stacked in PyTorch's gate order.
    Subclasses implement ``forward(x_t, state) -> state`` as the cell's equations.
    """

    gates: ClassVar[int]

    def __init__(self, input_size: int, hidden_size: int, layer_norm: bool = False):
        super().__init__()
        G, H = self.gates, hidden_size
        self.input_size, self.hidden_size, self.layer_norm = input_size, hidden_size, layer_norm
        self.W_x = nn.Parameter(torch.empty(G * H, input_size))
        self.W_h = nn.Parameter(torch.empty(G * H, H))
        self.b_x = nn.Parameter(torch.empty(G * H))
        self.b_h = nn.Parameter(torch.empty(G * H))
        # PyTorch's initialisation: U(-1/sqrt(H), 1/sqrt(H)) for every weight and bias.
        bound = H**-0.5
        for p in (self.W_x, self.W_h, self.b_x, self.b_h):
            nn.init.uniform_(p, -bound, bound)
        if layer_norm:
            # Ba et al. 2016: normalise the input and recurrent pre-activations separately.
            self.ln_x = nn.LayerNorm(G * H)
            self.ln_h = nn.LayerNorm(G * H)

    def pre_activations(self, x_t: Tensor, h_prev: Tensor) -> tuple[Tensor, Tensor]:
        """a_x = W_x x_t + b_x and a_h = W_h h_{t-1} + b_h, each (B, G·H), layer-normed if asked."""
        a_x = x_t @ self.W_x.T
        a_h = h_prev @ self.W_h.T
        if self.layer_norm:
            a_x, a_h = self.ln_x(a_x), self.ln_h(a_h)
        return a_x + self.b_x, a_h + self.b_h

    def gate_values(self, x_t: Tensor, h_prev: Tensor) -> dict[str, Tensor]:
        """Gate name -> its activation at this step, (B, H) each; cells with sigmoid gates."""
        raise NotImplementedError  # pragma: no cover - abstract

    @classmethod
    def layer_norm_param_count(cls, hidden_size: int) -> int:
        """Gain and bias of LN(W_x x) and LN(W_h h): 2 norms × 2 vectors × G·H."""
        return 4 * cls.gates * hidden_size


class RecurrentModel(StackedModel):
    """A stack of ``num_layers`` cells with dropout between layers and an optional read-out.

    State is a tensor (L, B, H), or for the LSTM a tuple (h, C) of two — PyTorch's layout.
    """

    cell_class: ClassVar[type[RecurrentCell]]
    onnx_standard_op: ClassVar[bool] = True

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        output_size: int | None = None,
        dropout: float = 0.0,
        layer_norm: bool = False,
        impl: str = "fast",
        tokens: bool = False,
    ):
        super().__init__()
        self._init_stack(input_size, hidden_size, num_layers, dropout, layer_norm, impl)
        self.cells = nn.ModuleList(
            self.cell_class(input_size if l == 0 else hidden_size, hidden_size, layer_norm)
            for l in range(num_layers)
        )
        self._init_readout(output_size)
        self._init_tokens(tokens)

    def read_in(self) -> list[Tensor]:
        return [self.cells[0].W_x]  # (G·H, D): every gate's input weights of the first layer

    # -- state ---------------------------------------------------------------------------------

    def _layer_state(self, state: Any, l: int) -> Any:
        return state[l] if self.state_tensors == 1 else tuple(s[l] for s in state)

    def _stack_states(self, per_layer: list[Any]) -> Any:
        if self.state_tensors == 1:
            return torch.stack(per_layer)
        return tuple(torch.stack([s[k] for s in per_layer]) for k in range(self.state_tensors))

    @staticmethod
    def _top_hidden(state_l: Any) -> Tensor:
        return state_l if isinstance(state_l, Tensor) else state_l[0]

    # -- forward -------------------------------------------------------------------------------

    def forward(self, x: Tensor, state: Any = None) -> tuple[Tensor, Any]:
        """x (B, T, D) -> y (B, T, O), state at T."""
        check_input(x, self.input_size, rank=3)
        state = self._check_state(state, x.shape[0])
        if self.impl == "fast" and not self.layer_norm:
            h, state = self._fused(x, state)
        else:  # the equations, one step at a time (also the only path for LN cells)
            h, state = self._reference(x, state)
        return self._readout(h), state

    def _reference(self, x: Tensor, state: Any) -> tuple[Tensor, Any]:
        inputs = x  # (B, T, D_in) of the current layer
        finals = []
        for l, cell in enumerate(self.cells):
            inputs = self._between(l, inputs)
            s = self._layer_state(state, l)
            outputs = []
            for x_t in inputs.unbind(1):  # (B, D_in); unbind keeps the backward O(T), not O(T²)
                s = cell(x_t, s)
                outputs.append(self._top_hidden(s))  # (B, H)
            inputs = torch.stack(outputs, dim=1)  # (B, T, H)
            finals.append(s)
        return inputs, self._stack_states(finals)

    def gate_values(self, x: Tensor) -> dict[str, Tensor]:
        """Layer 0's gates over x (B, T, D) from a zero state: gate name -> (B, T, H)."""
        check_input(x, self.input_size, rank=3)
        cell = self.cells[0]
        s = self._layer_state(self.init_state(x.shape[0]), 0)
        per_step = []
        for x_t in x.unbind(1):  # (B, D)
            per_step.append(cell.gate_values(x_t, self._top_hidden(s)))
            s = cell(x_t, s)
        return {g: torch.stack([v[g] for v in per_step], dim=1) for g in per_step[0]}

    def _flat_weights(self) -> list[Tensor]:
        """[W_x, W_h, b_x, b_h] per layer: the list PyTorch's fused kernels take."""
        return [w for c in self.cells for w in (c.W_x, c.W_h, c.b_x, c.b_h)]

    def _fused(self, x: Tensor, state: Any) -> tuple[Tensor, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- weight compatibility with torch.nn.RNN / LSTM / GRU -------------------------------------

    torch_class: ClassVar[type[nn.RNNBase]]

    def _torch_kwargs(self) -> dict[str, Any]:
        return {}

    @classmethod
    def _from_torch_kwargs(cls, module: nn.RNNBase) -> dict[str, Any]:
        return {}

    @classmethod
    def from_torch(cls, module: nn.RNNBase, impl: str = "fast") -> RecurrentModel:
        """A seqarch model holding copies of ``module``'s weights (outputs equal module's)."""
        if not isinstance(module, cls.torch_class):
            raise BadInput(
                f"module of type {type(module).__name__} is not accepted; "
                f"expected torch.nn.{cls.torch_class.__name__}"
            )
        unsupported = {
            "batch_first=False": not module.batch_first,
            "bidirectional=True": module.bidirectional,
            "bias=False": not module.bias,
            "proj_size>0": getattr(module, "proj_size", 0) > 0,
        }
        bad = [k for k, v in unsupported.items() if v]
        if bad:
            raise BadInput(
                f"{type(module).__name__} with {', '.join(bad)} is not accepted; expected "
                "batch_first=True, unidirectional, with biases and no projection"
            )
        ref = module.weight_ih_l0
        model = cls(
            module.input_size,
            module.hidden_size,
            num_layers=module.num_layers,
            dropout=module.dropout,
            impl=impl,
            **cls._from_torch_kwargs(module),
        ).to(dtype=ref.dtype, device=ref.device)
        with torch.no_grad():
            for l, cell in enumerate(model.cells):
                cell.W_x.copy_(getattr(module, f"weight_ih_l{l}"))
                cell.W_h.copy_(getattr(module, f"weight_hh_l{l}"))
                cell.b_x.copy_(getattr(module, f"bias_ih_l{l}"))
                cell.b_h.copy_(getattr(module, f"bias_hh_l{l}"))
        return model

    def to_torch(self) -> nn.RNNBase:
        """A batch-first torch module holding copies of this model's recurrent weights."""
        if self.layer_norm:
            raise BadInput(
                "layer_norm=True is not accepted by to_torch; PyTorch's fused RNNs have no "
                "layer normalisation (expected layer_norm=False)"
            )
        ref = self.cells[0].W_h
        module = self.torch_class(
            self.input_size,
            self.hidden_size,
            num_layers=self.num_layers,
            dropout=self.dropout,
            batch_first=True,
            **self._torch_kwargs(),
        ).to(dtype=ref.dtype, device=ref.device)
        with torch.no_grad():
            for l, cell in enumerate(self.cells):
                getattr(module, f"weight_ih_l{l}").copy_(cell.W_x)
                getattr(module, f"weight_hh_l{l}").copy_(cell.W_h)
                getattr(module, f"bias_ih_l{l}").copy_(cell.b_x)
                getattr(module, f"bias_hh_l{l}").copy_(cell.b_h)
        return module

    # -- cost ----------------------------------------------------------------------------------

    def cost(self, seq_len: int, batch_size: int = 1, bytes_per_value: int = 4) -> Cost:
        """Parameters, FLOPs, state and activation memory of the stack, derived from the cells.

        Per layer l with input width D_l (D_0 = D, D_l = H after) and G gate blocks:
          params_l  = G·H·(D_l + H) + 2·G·H       (W_x, W_h and PyTorch's two bias vectors)
                      (+ 4·G·H with layer norm: gain and bias of LN(W_x x) and LN(W_h h))
          flops_l   = 2·G·H·(D_l + H)             (two matrix-vector products per step)
        State: S tensors (L, B, H) — S = 2 for the LSTM (h, C), else 1 — independent of T.
        Activations kept for BPTT, per step and layer: the layer input (D_l), the G·H gate
        values and S hidden tensors (H each) -> B·T·Σ_l (D_l + G·H + S·H) values.
        """
        D, H, L, G = self.input_size, self.hidden_size, self.num_layers, self.cell_class.gates
        S = self.state_tensors
        widths = [D] + [H] * (L - 1)
        ln = self.cell_class.layer_norm_param_count(H) if self.layer_norm else 0
        ln_f = f" + {ln}" if self.layer_norm else ""
        return self._cost(
            seq_len,
            batch_size,
            bytes_per_value,
            params=sum(G * H * (d + H) + 2 * G * H + ln for d in widths),
            flops=sum(2 * G * H * (d + H) for d in widths),
            state_values=S * L * batch_size * H,
            activation_values=batch_size * seq_len * sum(d + G * H + S * H for d in widths),
            formulas={
                "params": f"G·H·(D+H) + 2·G·H{ln_f}"
                + (f" + (L−1)·(G·H·2H + 2·G·H{ln_f})" if L > 1 else ""),
                "flops_per_token": "2·G·H·(D+H)" + (" + (L−1)·2·G·H·2H" if L > 1 else ""),
                "state_bytes": f"{S}·L·B·H·bytes",
                "activation_bytes": f"B·T·Σ_l (D_l + G·H + {S}·H)·bytes",
            },
            notes={
                "params": f"G={G}",
                "flops_per_token": f"G={G}, independent of T",
                "state_bytes": "constant in T",
            },
        )
