"""The registry of hand-derived NumPy models: ``NUMPY_MODELS[name]`` is a module with

init_params(input_size, hidden_size, rng) -> params        PyTorch's layout and init
forward(params, x, **state) -> (h, cache)                   x (B, T, D) -> h (B, T, H)
backward(params, cache, dh) -> grads                        dh = ∂L/∂h from the loss
STATE                                                       names of the initial state
torch_twin(params, impl) -> (model, weights)   optional: the seqarch model holding the same
                                               weights, when it is not a one-cell recurrent one
"""

from __future__ import annotations

from types import ModuleType

from ..errors import BadInput
from . import attention, gru, lstm, rnn, tcn

NUMPY_MODELS: dict[str, ModuleType] = {
    "rnn": rnn,
    "lstm": lstm,
    "gru": gru,
    "attention": attention,
    "tcn": tcn,
}


def numpy_model(name: str) -> ModuleType:
    """The hand-derived model ``name``; unknown names are refused in one line."""
    if name not in NUMPY_MODELS:
        raise BadInput(
            f"architecture {name!r} is not known; expected one of {', '.join(NUMPY_MODELS)}"
        )
    return NUMPY_MODELS[name]
