"""The analytic cost model: parameters, FLOPs per token, state and activation memory.

Each formula lives with its architecture (``Model.cost`` in ``seqarch/models/<arch>.py`` and,
for the recurrent stack, ``RecurrentModel.cost`` in ``common.py``), where its docstring
derives it. This module evaluates them at given sizes without allocating any weights: the
model is built on PyTorch's ``meta`` device, which records shapes and stores nothing, so the
cost of a 4096-wide model is as cheap to ask for as that of a 16-wide one.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

import torch

from .errors import BadInput
from .models import MODELS, Cost, build

BYTES = {"float32": 4, "float16": 2, "bfloat16": 2, "float64": 8}


def estimate(
    name: str,
    *,
    seq_len: int,
    batch_size: int = 1,
    dtype: str = "float32",
    **config: Any,
) -> Cost:
    """The cost of model ``name`` built with ``config`` at length ``seq_len``, ``batch_size``
    (once per configuration and process: a Cost is frozen, and building a deep TCN to read its
    formula takes milliseconds that the advisor and the report paid hundreds of times)."""
    if dtype not in BYTES:
        raise BadInput(f"dtype {dtype!r} is not accepted; expected one of {', '.join(BYTES)}")
    return _estimate(name, seq_len, batch_size, dtype, json.dumps(config, sort_keys=True))


@lru_cache(maxsize=4096)
def _estimate(name: str, seq_len: int, batch_size: int, dtype: str, config_json: str) -> Cost:
    with torch.device("meta"):
        model = build(name, **json.loads(config_json))
    return model.cost(seq_len, batch_size=batch_size, bytes_per_value=BYTES[dtype])


def table(
    *,
    input_size: int,
    hidden_size: int,
    num_layers: int = 1,
    seq_len: int,
    batch_size: int = 1,
    output_size: int | None = None,
    names: list[str] | None = None,
) -> list[Cost]:
    """One :class:`Cost` per registered architecture at the same sizes."""
    return [
        estimate(
            name,
            seq_len=seq_len,
            batch_size=batch_size,
            input_size=input_size,
            hidden_size=hidden_size,
            num_layers=num_layers,
            output_size=output_size,
        )
        for name in (names or list(MODELS))
    ]
