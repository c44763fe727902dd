r"""Question generators: one function per kind of question, each ``(rng) -> Question``.

Sizes, architectures and scenarios are drawn from a seeded ``random.Random``, so a seed gives
the same drill every time and a new seed a new one. Every expected answer is computed here,
never typed: numbers by :func:`seqarch.cost.estimate` (the formulas in ``seqarch/models``),
equations and their derivatives from the model files' docstrings (:mod:`.equations`).

The vanishing-gradient bound of the Elman RNN (``seqarch/models/rnn.py``):

    ‖∂h_T/∂h_t‖ ≤ (σ_max(W_hh) · max tanh')^{T−t},      max tanh' = tanh'(0) = 1

and the LSTM's cell path ∂C_T/∂C_t = ∏_{k=t+1..T} f_k (= f^{T−t} for a constant forget gate).
"""

from __future__ import annotations

import random
from collections.abc import Callable

from .. import cost as cost_model
from ..errors import BadInput
from ..models import MODELS
from . import equations as eqs
from .question import CATEGORIES, Question

DIMS = {
    "input_size": (1, 4, 8, 16, 32, 64),
    "hidden_size": (16, 32, 64, 128, 256, 512),  # multiples of the Transformer's 4 heads
    "num_layers": (1, 2, 3, 4),
    "seq_len": (64, 128, 256, 512, 1024, 2048, 4096),  # within the Transformer's max_len
    "batch_size": (1, 8, 32, 64),
}
METRICS = {  # Cost field: (words, unit, scale)
    "params": ("learnable parameters", "", 1.0),
    "flops_per_token": ("forward FLOPs per token (matmul FLOPs, 2 per multiply-add)", "FLOPs", 1),
    "state_bytes": ("inference state in bytes (recurrent state or KV cache, float32)", "B", 1.0),
}
MB = 1e6
TANH_MAX_SLOPE = 1.0  # max_a tanh'(a) = 1 - tanh(0)^2


def vanishing_bound(sigma_max: float, lag: int, max_slope: float = TANH_MAX_SLOPE) -> float:
    """(σ_max(W_hh) · max tanh')^lag: the Elman RNN's bound on ‖∂h_T/∂h_{T−lag}‖."""
    return (sigma_max * max_slope) ** lag


def _sizes(rng: random.Random, *keys: str) -> dict[str, int]:
    return {k: rng.choice(DIMS[k]) for k in keys}


def _cost(arch: str, sizes: dict[str, int]) -> cost_model.Cost:
    return cost_model.estimate(
        arch,
        seq_len=sizes.get("seq_len", 1),
        batch_size=sizes.get("batch_size", 1),
        input_size=sizes["input_size"],
        hidden_size=sizes["hidden_size"],
        num_layers=sizes["num_layers"],
    )


def _describe(sizes: dict[str, int]) -> str:
    short = {"input_size": "D", "hidden_size": "H", "num_layers": "L", "seq_len": "T"}
    short["batch_size"] = "B"
    return ", ".join(f"{short[k]}={v}" for k, v in sizes.items())


def _formula(c: cost_model.Cost, metric: str) -> str:
    return c.formulas.get(metric, "")


# ---------------------------------------------------------------------------------------------
# Derivations.


def equation_question(rng: random.Random) -> Question:
    """Write one update of an RNN / LSTM / GRU; checked for equivalence with the model's."""
    arch = rng.choice(eqs.CLASSIC)
    lhs, eq = rng.choice(sorted(eqs.model_equations(arch).items()))
    role = f" ({eq.note})" if eq.note else ""
    return Question(
        category="derivations",
        kind="equation",
        topic=f"{arch} {lhs}",
        prompt=f"{arch.upper()}: write the update for {lhs}{role}.",
        expected=eq,
        explanation=f"seqarch/models/{arch}.py computes {eq}. Each term: see its docstring.",
        arch=arch,
        hint=f"symbols: {eqs.notation(arch)}  — e.g. {eqs.EXAMPLE}",
    )


def derivative_question(rng: random.Random) -> Question:
    """∂s_t/∂s_{t−1} along the direct path: the gate that makes (or breaks) a gradient highway."""
    options = [
        (arch, lhs, d)
        for arch in eqs.CLASSIC
        for lhs in eqs.model_equations(arch)
        if (d := eqs.direct_derivative(arch, lhs)) is not None
    ]
    arch, lhs, d = rng.choice(options)
    prev = lhs[:-2] + "_{t-1}"
    eq = eqs.model_equations(arch)[lhs]
    return Question(
        category="derivations",
        kind="derivative",
        topic=f"{arch} d{lhs}/d{prev}",
        prompt=(
            f"{arch.upper()}: along the direct path, what is ∂{lhs}/∂{prev}? "
            "Hold the gates and the candidate fixed."
        ),
        expected=eqs.Equation(None, d),
        explanation=(
            f"Differentiate {eq} with respect to {prev}: {eqs.show(d)}. Over a lag of k steps "
            f"the product of these factors is what carries the gradient, with no weight matrix "
            "in it: the gradient highway."
        ),
        arch=arch,
        hint=f"an expression in the model's symbols ({eqs.notation(arch)})",
    )


def bound_question(rng: random.Random) -> Question:
    """The vanishing-gradient bound (σ_max · max tanh')^lag at a drawn norm and lag."""
    sigma = rng.choice((0.5, 0.7, 0.8, 0.9, 0.95, 0.99, 1.05, 1.1))
    lag = rng.choice((5, 10, 20, 50, 100))
    value = vanishing_bound(sigma, lag)
    return Question(
        category="derivations",
        kind="number",
        topic="rnn gradient bound",
        prompt=(
            f"Elman RNN with tanh, σ_max(W_hh) = {sigma}: the upper bound on ‖∂h_T/∂h_t‖ "
            f"at a lag T−t = {lag}?"
        ),
        expected=value,
        explanation=(
            f"∂h_T/∂h_t = ∏ diag(1 − h_k²) W_hh, so ‖∂h_T/∂h_t‖ ≤ (σ_max · max tanh')^(T−t) "
            f"= ({sigma} · {TANH_MAX_SLOPE:g})^{lag} = {value:.4g} "
            "(seqarch/models/rnn.py; max tanh' = tanh'(0) = 1)."
        ),
        tolerance=0.03,
        hint="a number, e.g. 0.0123 or 1.2e-5",
    )


def count_question(rng: random.Random) -> Question:
    """Parameters, FLOPs per token or state bytes of one architecture at drawn sizes."""
    arch = rng.choice(sorted(MODELS))
    metric = rng.choice(sorted(METRICS))
    keys = ["input_size", "hidden_size", "num_layers"]
    if metric != "params":
        keys += ["seq_len", "batch_size"] if metric == "state_bytes" else ["seq_len"]
    sizes = _sizes(rng, *keys)
    c = _cost(arch, sizes)
    words, unit, scale = METRICS[metric]
    value = float(getattr(c, metric))
    return Question(
        category="derivations",
        kind="number",
        topic=f"{metric}",
        prompt=f"{arch} at {_describe(sizes)}, no read-out: how many {words}?",
        expected=value,
        explanation=(
            f"{metric} = {_formula(c, metric)} at {_describe(sizes)} = {value:,.0f} "
            f"(formula in seqarch/models/{arch}.py, evaluated by seqarch.cost.estimate)."
        ),
        unit=unit,
        scale=scale,
        hint="a number; 1.2M, 3,456 and 2.1e6 are all read",
    )


# ---------------------------------------------------------------------------------------------
# Architecture comparison.


def ratio_question(rng: random.Random) -> Question:
    """How many times more of a cost one architecture has than another at the same sizes."""
    a, b = rng.sample(sorted(MODELS), 2)
    metric = rng.choice(sorted(METRICS))
    sizes = _sizes(rng, "input_size", "hidden_size", "num_layers", "seq_len")
    ca, cb = _cost(a, sizes), _cost(b, sizes)
    words = METRICS[metric][0]
    va, vb = getattr(ca, metric), getattr(cb, metric)
    ratio = va / vb
    return Question(
        category="comparison",
        kind="number",
        topic=f"ratio {metric}",
        prompt=f"At {_describe(sizes)}, B=1: {a} ÷ {b}, in {words}?",
        expected=ratio,
        explanation=(
            f"{a}: {_formula(ca, metric)} = {va:,}; {b}: {_formula(cb, metric)} = {vb:,}; "
            f"ratio {ratio:.4g} (seqarch.cost.estimate)."
        ),
        tolerance=0.02,
        hint="a ratio, e.g. 1.33",
    )


def extreme_question(rng: random.Random) -> Question:
    """Which architecture has the smallest / largest cost at these sizes."""
    metric = rng.choice(sorted(METRICS))
    most = rng.random() < 0.5
    sizes = _sizes(rng, "input_size", "hidden_size", "num_layers", "seq_len")
    costs = {name: _cost(name, sizes) for name in sorted(MODELS)}
    values = {name: getattr(c, metric) for name, c in costs.items()}
    best = max(values.values()) if most else min(values.values())
    winners = {name for name, v in values.items() if v == best}
    words = METRICS[metric][0]
    listing = "; ".join(f"{n}: {v:,}" for n, v in sorted(values.items(), key=lambda kv: kv[1]))
    return Question(
        category="comparison",
        kind="choice",
        topic=f"{'most' if most else 'fewest'} {metric}",
        prompt=(
            f"At {_describe(sizes)}, B=1: which architecture has the "
            f"{'most' if most else 'fewest'} {words}?"
        ),
        expected=winners,
        explanation=f"{words} — {listing} (seqarch.cost.estimate, formulas in seqarch.models).",
        choices=tuple(sorted(MODELS)),
        hint=f"one of {', '.join(sorted(MODELS))}",
    )


def highway_question(rng: random.Random) -> Question:
    """LSTM cell path f^k against the RNN bound s^k: by what factor does the LSTM keep more?"""
    f = rng.choice((0.9, 0.95, 0.97, 0.99))
    sigma = rng.choice((0.5, 0.7, 0.8, 0.9))
    lag = rng.choice((10, 20, 50))
    path = eqs.direct_derivative("lstm", "C_t")  # f_t
    keep = float(path.subs({s: f for s in path.free_symbols}) ** lag)
    bound = vanishing_bound(sigma, lag)
    return Question(
        category="comparison",
        kind="number",
        topic="lstm vs rnn gradient path",
        prompt=(
            f"Lag {lag}. An LSTM whose forget gates sit at f = {f}, and an Elman RNN (tanh) "
            f"with σ_max(W_hh) = {sigma}. How many times larger is the LSTM's cell-path "
            f"factor ∏ ∂C_k/∂C_(k-1) than the RNN's bound on ‖∂h_T/∂h_t‖?"
        ),
        expected=keep / bound,
        explanation=(
            f"LSTM: ∂C_t/∂C_(t-1) = {eqs.show(path)} on the cell path, so {f}^{lag} = {keep:.4g}; "
            f"RNN: ({sigma}·1)^{lag} = {bound:.4g}; ratio {keep / bound:.4g}. The gate is "
            "learned and can sit near 1; the RNN's factor passes through W_hh every step."
        ),
        tolerance=0.03,
        hint="a number, e.g. 3.2e4",
    )


# ---------------------------------------------------------------------------------------------
# Trade-offs.


def serving_question(rng: random.Random) -> Question:
    """Memory to hold the state of N concurrent streams: constant for a recurrence, ∝ T for KV."""
    arch = rng.choice(sorted(MODELS))
    sizes = _sizes(rng, "input_size", "hidden_size", "num_layers", "seq_len")
    streams = rng.choice((16, 64, 256, 1024))
    c = _cost(arch, {**sizes, "batch_size": streams})
    return Question(
        category="tradeoffs",
        kind="number",
        topic="serving memory",
        prompt=(
            f"You serve {streams} concurrent streams with a {arch} ({_describe(sizes)}, float32), "
            f"each {sizes['seq_len']} steps in. How many MB of state must stay in memory?"
        ),
        expected=float(c.state_bytes),
        explanation=(
            f"state = {_formula(c, 'state_bytes')} with B={streams} = {c.state_bytes:,} B "
            f"= {c.state_bytes / MB:.4g} MB (seqarch.cost.estimate)."
        ),
        unit="MB",
        scale=MB,
        tolerance=0.02,
        hint="in MB (1 MB = 10^6 bytes); '3.2 MB' or '3.2' both read",
    )


def budget_question(rng: random.Random) -> Question | None:
    """The longest context whose state fits a memory budget, for a model whose state grows."""
    growing = []
    sizes = _sizes(rng, "input_size", "hidden_size", "num_layers")
    for name in sorted(MODELS):
        one, two = (_cost(name, {**sizes, "seq_len": t}).state_bytes for t in (1, 2))
        if two == 2 * one:
            growing.append((name, one))
    if not growing:
        return None
    arch, per_step = rng.choice(growing)
    budget_mb = rng.choice((1, 4, 16, 64, 256))
    t_max = int(budget_mb * MB // per_step)
    return Question(
        category="tradeoffs",
        kind="number",
        topic="kv-cache budget",
        prompt=(
            f"A {arch} ({_describe(sizes)}, float32, batch 1) must keep its inference state "
            f"within {budget_mb} MB. What is the longest context T that fits?"
        ),
        expected=float(t_max),
        explanation=(
            f"Its state grows linearly with T: {per_step:,} B per position "
            f"({_formula(_cost(arch, {**sizes, 'seq_len': 1}), 'state_bytes')} at T=1), so "
            f"T ≤ {budget_mb}·10^6 / {per_step:,} = {t_max:,} (seqarch.cost.estimate). "
            "A recurrent state would fit at any T."
        ),
        tolerance=0.01,
        hint="a whole number of positions",
    )


def scenario_question(rng: random.Random) -> Question:
    """A deployment problem; the user picks an architecture and the key reason."""
    seq_len = rng.choice((32, 128, 512, 2048, 8192))
    spec = {
        "seq_len": seq_len,
        "horizon": rng.choice([h for h in (4, 16, 64, 256, 1024, 4096) if h <= seq_len]),
        "streaming": rng.random() < 0.5,
        "latency_us": rng.choice((None, None, 50, 200, 1000, 10000)),
        "memory_mb": rng.choice((None, None, 1, 16, 256)),
        "train_minutes": rng.choice((None, 1, 10, 60)),
        "input_size": rng.choice((1, 8, 32)),
        "output_size": 1,
        "task_kind": rng.choice(("classify", "regress")),
        "hidden_size": rng.choice((32, 64, 128)),
    }
    lines = [
        f"sequences of {spec['seq_len']} steps, {spec['input_size']} features per step, "
        f"task: {spec['task_kind']}",
        f"the signal that decides the answer lies about {spec['horizon']} steps back",
        "streaming, one step at a time" if spec["streaming"] else "whole sequences at once",
    ]
    if spec["latency_us"]:
        lines.append(f"latency budget: {spec['latency_us']} µs per step")
    if spec["memory_mb"]:
        lines.append(f"memory budget: {spec['memory_mb']} MB")
    if spec["train_minutes"]:
        lines.append(f"training budget: {spec['train_minutes']} min on this machine")
    return Question(
        category="tradeoffs",
        kind="scenario",
        topic="scenario",
        prompt="Which architecture, and the one key reason?\n  - " + "\n  - ".join(lines),
        expected=spec,
        explanation="graded against `seqarch advise` on this scenario",
        choices=tuple(sorted(MODELS)),
        hint="an architecture and a reason, e.g. 'gru latency'",
    )


Generator = Callable[[random.Random], Question | None]
GENERATORS: dict[str, tuple[Generator, ...]] = {
    "derivations": (equation_question, derivative_question, bound_question, count_question),
    "comparison": (ratio_question, extreme_question, highway_question),
    "tradeoffs": (scenario_question, serving_question, budget_question),
}


def check_categories(categories: list[str] | None) -> list[str]:
    chosen = list(categories or CATEGORIES)
    for c in chosen:
        if c not in CATEGORIES:
            raise BadInput(f"category {c!r} is not accepted; expected any of {CATEGORIES}")
    return chosen


def generate(
    seed: int,
    count: int = 10,
    categories: list[str] | None = None,
    weights: dict[str, float] | None = None,
) -> list[Question]:
    """``count`` questions from ``seed``; categories drawn in proportion to ``weights``."""
    if isinstance(count, bool) or not isinstance(count, int) or count <= 0:
        raise BadInput(f"count={count!r} is not accepted; expected a positive integer")
    chosen = check_categories(categories)
    w = [max(float((weights or {}).get(c, 1.0)), 1e-9) for c in chosen]
    rng = random.Random(seed)
    questions: list[Question] = []
    while len(questions) < count:
        category = rng.choices(chosen, weights=w)[0]
        q = rng.choice(GENERATORS[category])(rng)
        if q is not None:
            questions.append(q)
    return questions
