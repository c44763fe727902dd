r"""Gradient flow, measured: how much of h_T's sensitivity reaches k steps back.

For a model from ``seqarch.models`` at its standard (PyTorch) initialisation, or a trained one,
we unroll ``model.step`` over a random input x (T, D) and measure, for k = 1..K,

    state:  ‖∂h_T/∂h_{T−k}‖_F     the (H × H) Jacobian of the last hidden state with respect to
                                  the hidden state k steps earlier (recurrent models only; for
                                  the LSTM with C_{T−k} held, so the cell path is counted
                                  through the gates that h_{T−k} drives)
    input:  ‖∂h_T/∂x_{T−k}‖_F     the (H × D) Jacobian with respect to the input k steps back
                                  (every architecture, the Transformer included)

Theory (see the walkthroughs): the tanh RNN's Jacobian is a product of k factors
diag(1 − h²) W_hh, so it decays geometrically; the LSTM's cell path multiplies forget gates
and the GRU's carries diag(z); attention reaches every earlier position in one step.

All H rows of a Jacobian come from one backward pass: the batch holds H copies of the same
sequence and the loss is Σ_j h_T[j, j], so batch row j carries ∂h_T[j]/∂(·).
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import torch

from ..errors import BadInput
from ..models import MODELS, SequenceModel, build
from ._numeric import check_sizes

MEASURES = ("state", "input")
FLOW_KIND = "gradient_flow"  # the store's kind for a gradient_flow result


def check_flow_args(arch: str, seq_len: int, k_max: int, hidden_size: int, input_size: int) -> None:
    """One-line ValueErrors for an unknown architecture, non-positive sizes, or K ≥ T."""
    if arch not in MODELS:
        raise BadInput(f"architecture {arch!r} is not known; expected one of {', '.join(MODELS)}")
    check_sizes(seq_len=seq_len, k_max=k_max, hidden_size=hidden_size, input_size=input_size)
    if k_max >= seq_len:
        raise BadInput(
            f"k_max={k_max} is not accepted with seq_len={seq_len}; expected k_max < seq_len"
        )


def _hidden(state: Any) -> torch.Tensor:
    """The hidden-state tensor h (L, B, H) of a recurrent state (the LSTM's is (h, C))."""
    return state[0] if isinstance(state, tuple) else state


def measure_once(model: SequenceModel, x: torch.Tensor, k_max: int) -> dict[str, list[float]]:
    """‖∂y_T/∂h_{T−k}‖_F and ‖∂y_T/∂x_{T−k}‖_F for k = 1..k_max on one sequence x (T, D)."""
    T, D = x.shape
    O = model.out_features
    xb = x.expand(O, T, D).clone().requires_grad_()  # (O, T, D): O copies, one per output row
    recurrent = not model.state_grows()  # a KV cache has no single state to differentiate
    hidden: list[torch.Tensor] = []
    if recurrent:
        state = model.init_state(O)
        for t in range(T):
            y_t, state = model.step(xb[:, t], state)  # y_t (O, O)
            hidden.append(_hidden(state))  # h_t (L, O, H)
        y_T = y_t
    else:
        y, _ = model(xb)  # (O, T, O)
        y_T = y[:, -1]
    targets = [hidden[T - 1 - k] for k in range(1, k_max + 1)] if recurrent else []
    grads = torch.autograd.grad(y_T.diagonal().sum(), [*targets, xb])  # Σ_j ∂y_T[j]/∂(·) in row j
    dx = grads[-1]  # (O, T, D): row j, position t holds ∂y_T[j]/∂x_t
    return {
        "state": [float(g.norm()) for g in grads[:-1]] if recurrent else [],
        "input": [float(dx[:, T - 1 - k].norm()) for k in range(1, k_max + 1)],
    }


def gradient_flow(
    arch: str,
    seq_len: int = 100,
    k_max: int = 60,
    hidden_size: int = 32,
    input_size: int = 8,
    seeds: tuple[int, ...] = (0, 1, 2),
    model: SequenceModel | None = None,
) -> dict[str, Any]:
    """Jacobian norms for k = 1..k_max, averaged over seeds (fresh init and input per seed).

    With ``model`` given (e.g. a trained one), its weights are used for every seed and only the
    input changes. Returns plain data (JSON-ready): per-k means, per-seed values and the ratio
    ‖J_k‖ / ‖J_1‖ of each measure.
    """
    check_flow_args(arch, seq_len, k_max, hidden_size, input_size)
    if not seeds:
        raise BadInput("seeds=() is not accepted; expected at least one seed")
    if model is not None:
        hidden_size, input_size = model.hidden_size, model.input_size
        model = copy.deepcopy(model)  # measured in float64 without touching the caller's model
    per_seed: dict[str, list[list[float]]] = {m: [] for m in MEASURES}
    for seed in seeds:
        torch.manual_seed(seed)
        net = (
            model
            if model is not None
            else build(arch, input_size=input_size, hidden_size=hidden_size)
        )
        net = net.double().eval()
        x = torch.randn(seq_len, input_size, dtype=torch.float64)
        for m, values in measure_once(net, x, k_max).items():
            per_seed[m].append(values)
    result: dict[str, Any] = {
        "arch": arch,
        "seq_len": seq_len,
        "k_max": k_max,
        "hidden_size": hidden_size,
        "input_size": input_size,
        "seeds": list(seeds),
        "trained": model is not None,
        "k": list(range(1, k_max + 1)),
        "definitions": {
            "state": "‖∂h_T/∂h_{T−k}‖_F (recurrent models; LSTM with C_{T−k} held)",
            "input": "‖∂h_T/∂x_{T−k}‖_F",
        },
    }
    for m in MEASURES:
        runs = per_seed[m]
        if runs and runs[0]:
            mean = np.mean(runs, axis=0)
            result[m] = mean.tolist()
            result[f"{m}_per_seed"] = runs
            result[f"{m}_ratio"] = (mean / mean[0]).tolist()  # ‖J_k‖ / ‖J_1‖
        else:
            result[m] = result[f"{m}_per_seed"] = result[f"{m}_ratio"] = None
    return result


def decay_ratio(result: dict[str, Any], k: int, measure: str = "state") -> float:
    """‖J_k‖ / ‖J_1‖ of a :func:`gradient_flow` result (seed-averaged norms)."""
    if measure not in MEASURES or result.get(measure) is None:
        raise BadInput(
            f"measure {measure!r} is not available for {result['arch']}; expected one of "
            + ", ".join(m for m in MEASURES if result.get(m) is not None)
        )
    if not 1 <= k <= result["k_max"]:
        raise BadInput(f"k={k} is not accepted; expected 1 ≤ k ≤ k_max={result['k_max']}")
    return result[f"{measure}_ratio"][k - 1]


def measure_flows(
    archs: list[str] | None,
    seq_len: int,
    k_max: int,
    hidden_size: int,
    input_size: int,
    seeds: int,
    plot: str | None = None,
    db: Any = None,
) -> tuple[list[dict[str, Any]], list[Any], list[str]]:
    """``seqarch derive flow``: :func:`gradient_flow` for each of ``archs`` (default: every
    registered model), every argument checked before anything runs; optionally plotted to
    ``plot`` and stored in ``db``. Returns (results, files written, measurement ids)."""
    from ..errors import positive

    archs = archs or list(MODELS)
    positive("seeds", seeds)
    for a in archs:
        check_flow_args(a, seq_len, k_max, hidden_size, input_size)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matrices: one thread is fastest and spares a shared CPU
    try:
        results = [
            gradient_flow(a, seq_len, k_max, hidden_size, input_size, seeds=tuple(range(seeds)))
            for a in archs
        ]
    finally:
        torch.set_num_threads(threads)
    written = []
    if plot:
        from .plot import plot_flow

        written = plot_flow(results, plot)
    ids = [store_flow(r, db) for r in results] if db else []
    return results, written, ids


def store_flow(result: dict[str, Any], db: Any) -> str:
    """Save a :func:`gradient_flow` result in the SQLite store at ``db``; returns its id.

    kind "gradient_flow"; the key is the configuration, the value the measured curves.
    """
    from ..store import Store  # the store is optional for everything else in this module

    key_fields = ("arch", "seq_len", "k_max", "hidden_size", "input_size", "seeds", "trained")
    key = {k: result[k] for k in key_fields}
    value = {k: v for k, v in result.items() if k not in key_fields}
    if isinstance(db, Store):  # an open store: one connection per process is the safe habit
        return db.put_measurement(FLOW_KIND, key, value)
    with Store(db) as store:
        return store.put_measurement(FLOW_KIND, key, value)
