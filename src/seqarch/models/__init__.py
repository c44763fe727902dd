"""The model registry: ``MODELS[name]`` and ``build(name, **config)``.

Every model keeps one contract (see :mod:`seqarch.models.common`):
``y, state = model(x, state=None)``, ``y_t, state = model.step(x_t, state)``,
``model.init_state(batch_size)`` and ``model.cost(seq_len, batch_size)``.
"""

from __future__ import annotations

import inspect
from typing import Any

from ..errors import BadInput
from .common import Cost, RecurrentModel, SequenceModel
from .gru import GRU
from .lstm import LSTM
from .mingru import MinGRU, MinLSTM
from .retnet import RetNet
from .rnn import RNN
from .ssm import SSM
from .tcn import TCN
from .transformer import KVCache, Transformer

MODELS: dict[str, type[SequenceModel]] = {
    "rnn": RNN,
    "lstm": LSTM,
    "gru": GRU,
    "transformer": Transformer,
    "mingru": MinGRU,
    "minlstm": MinLSTM,
    "ssm": SSM,
    "retnet": RetNet,
    "tcn": TCN,
}


def model_class(name: str) -> type[SequenceModel]:
    if name not in MODELS:
        raise BadInput(f"model {name!r} is not known; expected one of {', '.join(MODELS)}")
    return MODELS[name]


def accepted_options(name: str) -> list[str]:
    """The keyword options ``build(name, ...)`` takes."""
    cls = model_class(name)
    names: list[str] = []
    for klass in cls.__mro__:
        if "__init__" in vars(klass) and klass is not object:
            for p in inspect.signature(klass.__init__).parameters.values():
                if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                    names.append(p.name)
        if klass in (RecurrentModel, Transformer):
            break
    return list(dict.fromkeys(names))


def build(name: str, **config: Any) -> SequenceModel:
    """Build a registered model; unknown names and options are refused in one line."""
    cls = model_class(name)
    accepted = accepted_options(name)
    unknown = [k for k in config if k not in accepted]
    if unknown:
        raise BadInput(
            f"option {unknown[0]!r} is not accepted by {name}; "
            f"expected any of {', '.join(accepted)}"
        )
    return cls(**config)


__all__ = [
    "MODELS",
    "Cost",
    "GRU",
    "KVCache",
    "LSTM",
    "MinGRU",
    "MinLSTM",
    "RNN",
    "SSM",
    "SequenceModel",
    "TCN",
    "Transformer",
    "accepted_options",
    "build",
    "model_class",
]
