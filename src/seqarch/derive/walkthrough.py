r"""The derivations, step by step, with every number computed live at the sizes asked for.

A :class:`Walkthrough` holds three sections — the forward equations (each with the shape of
every term at the given sizes and what the term does), the backward equations, and the
gradient-path argument — plus the live numbers: parameters per matrix counted from a freshly
built ``seqarch.models`` model (and that model's own total), σ_max of a fresh W_hh and the
bound (σ_max · max tanh')^{T−t} at T−t = 10, 50, 100, gate means at initialisation, and the
measured Jacobian ratio ‖∂h_T/∂h_{T−k}‖ / ‖∂h_T/∂h_{T−1}‖. Rendering lives in render.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ..errors import BadInput
from ..models import build
from ..models.transformer import CausalSelfAttention
from . import attention as np_attention
from ._numeric import check_sizes, sigmoid
from .flow import gradient_flow
from .numpy_models import numpy_model

LAGS = (10, 50, 100)  # T − t at which bounds and products are evaluated
GATE_NAMES = {"rnn": ("",), "lstm": ("i", "f", "g", "o"), "gru": ("r", "z", "n")}


@dataclass(frozen=True)
class Step:
    """One equation: LaTeX for documents, Unicode for the terminal, shapes, and its meaning."""

    latex: str
    text: str
    shapes: str = ""
    meaning: str = ""


@dataclass(frozen=True)
class Section:
    title: str
    steps: list[Step]
    intro: str = ""


@dataclass(frozen=True)
class Walkthrough:
    arch: str
    input_size: int
    hidden_size: int
    sections: list[Section]
    param_counts: dict[str, int]  # per matrix / vector, counted from the model's tensors
    model_params: int  # the seqarch module's own count (its num_params / parameters())
    numbers: dict[str, Any] = field(default_factory=dict)  # live figures, by name

    @property
    def total_params(self) -> int:
        return sum(self.param_counts.values())


# ---------------------------------------------------------------------------------------------
# Live numbers.


def _recurrent_counts(arch: str, D: int, H: int, seed: int) -> tuple[dict[str, int], int, Any]:
    """Per-gate parameter counts read from a fresh seqarch model's tensors, and its total."""
    torch.manual_seed(seed)
    model = build(arch, input_size=D, hidden_size=H)
    cell = model.cells[0]
    counts: dict[str, int] = {}
    for k, g in enumerate(GATE_NAMES[arch]):
        rows = slice(k * H, (k + 1) * H)
        for name, tensor in (
            ("W_x", cell.W_x),
            ("W_h", cell.W_h),
            ("b_x", cell.b_x),
            ("b_h", cell.b_h),
        ):
            counts[f"{name}{g}"] = tensor[rows].numel()
    return counts, model.num_params(), model


def _gate_means(arch: str, D: int, H: int, seed: int, T: int = 200) -> dict[str, float]:
    """Mean value of each gate over a random input of length T, at PyTorch's initialisation."""
    rng = np.random.default_rng(seed)
    model = numpy_model(arch)
    params = model.init_params(D, H, rng)
    x = rng.standard_normal((1, T, D))
    _, cache = model.forward(params, x)
    if arch == "lstm":
        return {g: float(cache["gates"][:, :, k].mean()) for k, g in enumerate("ifgo")}
    return {g: float(cache["saved"][:, :, k].mean()) for k, g in enumerate("rz")}


def _measured_ratios(arch: str, D: int, H: int, seed: int, measure: str) -> dict[int, float]:
    """‖J_k‖ / ‖J_1‖ at k = 10, 50 from :func:`gradient_flow` (one seed, T = 51)."""
    flow = gradient_flow(arch, seq_len=51, k_max=50, hidden_size=H, input_size=D, seeds=(seed,))
    return {k: flow[f"{measure}_ratio"][k - 1] for k in (10, 50)}


def _shape(*terms: tuple[str, tuple[int, ...]]) -> str:
    return ",  ".join(f"{n} {tuple(s) if len(s) > 1 else '(' + str(s[0]) + ',)'}" for n, s in terms)


# ---------------------------------------------------------------------------------------------
# The four derivations.


def _rnn(D: int, H: int, seed: int, measure: bool) -> Walkthrough:
    counts, total, model = _recurrent_counts("rnn", D, H, seed)
    W_hh = model.cells[0].W_h.detach().double()
    sigma = float(torch.linalg.matrix_norm(W_hh, ord=2))
    rho = float(torch.linalg.eigvals(W_hh).abs().max())
    numbers: dict[str, Any] = {"sigma_max_W_hh": sigma, "spectral_radius_W_hh": rho}
    numbers.update({f"bound_at_{n}": sigma**n for n in LAGS})
    numbers.update({f"rho_power_at_{n}": rho**n for n in LAGS})
    if measure:
        numbers.update(
            {
                f"measured_ratio_at_{k}": v
                for k, v in _measured_ratios("rnn", D, H, seed, "state").items()
            }
        )
    forward = [
        Step(
            r"a_t = W_{xh} x_t + b_{xh} + W_{hh} h_{t-1} + b_{hh}",
            "a_t = W_xh x_t + b_xh + W_hh h_{t−1} + b_hh",
            _shape(
                ("W_xh", (H, D)), ("x_t", (D,)), ("W_hh", (H, H)), ("h_{t−1}", (H,)), ("a_t", (H,))
            ),
            "W_xh sets how strongly the input moves the state; W_hh carries the past into the "
            "present; the two biases (PyTorch keeps both) shift the operating point.",
        ),
        Step(
            r"h_t = \tanh(a_t)",
            "h_t = tanh(a_t)",
            _shape(("h_t", (H,))),
            "tanh bounds the signal to (−1, 1) so the state cannot blow up; its slope "
            "1 − h_t² ≤ 1 scales every gradient that passes back through it.",
        ),
        Step(
            r"y_t = W_{hy} h_t + b_y",
            "y_t = W_hy h_t + b_y",
            f"W_hy (O, {H}) with O = output_size; absent when the model returns h",
            "The read-out maps the state to the output; the state itself is the whole memory.",
        ),
    ]
    backward = [
        Step(
            r"\frac{\partial L}{\partial h_t} = "
            r"\frac{\partial L}{\partial h_t}\Big|_{out} + \delta_{t+1} W_{hh}",
            "∂L/∂h_t = ∂L/∂h_t|_out + δ_{t+1} W_hh",
            _shape(("δ_{t+1}", (H,)), ("W_hh", (H, H))),
            "h_t feeds the loss at t and the next step; both paths add.",
        ),
        Step(
            r"\delta_t = \frac{\partial L}{\partial a_t} = "
            r"\frac{\partial L}{\partial h_t} \odot (1 - h_t^2)",
            "δ_t = ∂L/∂a_t = ∂L/∂h_t ⊙ (1 − h_t²)",
            _shape(("δ_t", (H,))),
            "Through tanh: multiply by its slope.",
        ),
        Step(
            r"\frac{\partial L}{\partial W_{xh}} \mathrel{+}= \delta_t^\top x_t,\quad "
            r"\frac{\partial L}{\partial W_{hh}} \mathrel{+}= \delta_t^\top h_{t-1},\quad "
            r"\frac{\partial L}{\partial b} \mathrel{+}= \delta_t",
            "∂L/∂W_xh += δ_tᵀ x_t,   ∂L/∂W_hh += δ_tᵀ h_{t−1},   ∂L/∂b_xh = ∂L/∂b_hh += δ_t",
            _shape(("∂L/∂W_xh", (H, D)), ("∂L/∂W_hh", (H, H))),
            "The same weights act at every step, so their gradients sum over t.",
        ),
        Step(
            r"\frac{\partial L}{\partial x_t} = \delta_t W_{xh}",
            "∂L/∂x_t = δ_t W_xh",
            _shape(("∂L/∂x_t", (D,))),
        ),
    ]
    path = [
        Step(
            r"\frac{\partial h_t}{\partial h_{t-1}} = \operatorname{diag}(1 - h_t^2)\, W_{hh}",
            "∂h_t/∂h_{t−1} = diag(1 − h_t²) W_hh",
            _shape(("Jacobian", (H, H))),
            "One step back: the tanh slope times the recurrent matrix.",
        ),
        Step(
            r"\frac{\partial h_T}{\partial h_t} = \prod_{k=t+1}^{T} "
            r"\operatorname{diag}(1 - h_k^2)\, W_{hh}",
            "∂h_T/∂h_t = ∏_{k=t+1..T} diag(1 − h_k²) W_hh",
            f"a product of T−t Jacobians, each ({H}, {H})",
            "T−t steps back: T−t such matrices multiplied together.",
        ),
        Step(
            r"\left\|\frac{\partial h_T}{\partial h_t}\right\| \le "
            r"\left(\sigma_{\max}(W_{hh}) \cdot \max "
            r"\tanh'\right)^{T-t} = \sigma_{\max}(W_{hh})^{T-t}",
            "‖∂h_T/∂h_t‖ ≤ (σ_max(W_hh) · max tanh')^{T−t} = σ_max(W_hh)^{T−t}   (max tanh' = 1)",
            f"σ_max(W_hh) = {sigma:.4f} for a fresh W_hh ({H}×{H}, seed {seed}); bound at T−t = "
            + ", ".join(f"{n}: {sigma**n:.3g}" for n in LAGS),
            "Geometric in the lag: below 1 per step the gradient vanishes, above 1 it may explode. "
            f"A fresh W_hh has σ_max = {sigma:.3f}, so the bound alone allows growth; the typical "
            f"factor is nearer the spectral radius ρ(W_hh) = {rho:.3f} times tanh' < 1, and "
            f"ρ^{{T−t}} = "
            + ", ".join(f"{rho**n:.3g}" for n in LAGS)
            + " at T−t = "
            + ", ".join(map(str, LAGS))
            + "."
            + (
                f" Measured (torch autograd, seed {seed}): ‖∂h_T/∂h_{{T−k}}‖/‖∂h_T/∂h_{{T−1}}‖ = "
                if measure
                else ""
            )
            + _measured(numbers, measure),
        ),
    ]
    return _recurrent("rnn", D, H, forward, backward, path, counts, total, numbers)


def _measured(numbers: dict[str, float], measure: bool) -> str:
    """The measured Jacobian ratios at k = 10 and 50, when measured."""
    if not measure:
        return ""
    return (
        f"{numbers['measured_ratio_at_10']:.3g} at k=10, "
        f"{numbers['measured_ratio_at_50']:.3g} at k=50."
    )


def _recurrent(
    arch: str,
    D: int,
    H: int,
    forward: list,
    backward: list,
    path: list,
    counts: dict,
    total: int,
    numbers: dict,
) -> Walkthrough:
    """A recurrent model's walkthrough: forward, backward through time, the gradient path."""
    sections = [
        Section("Forward", forward),
        Section("Backward through time", backward, "Walk t = T..1."),
        Section("Gradient path", path),
    ]
    return Walkthrough(arch, D, H, sections, counts, total, numbers)


def _gate_step(g: str, act: str, meaning: str, H: int, D: int) -> Step:
    sym = r"\sigma" if act == "σ" else r"\tanh"
    return Step(
        rf"{g}_t = {sym}(W_{{x{g}}} x_t + b_{{x{g}}} + W_{{h{g}}} h_{{t-1}} + b_{{h{g}}})",
        f"{g}_t = {act}(W_x{g} x_t + b_x{g} + W_h{g} h_{{t−1}} + b_h{g})",
        _shape((f"W_x{g}", (H, D)), (f"W_h{g}", (H, H)), (f"{g}_t", (H,))),
        meaning,
    )


def _products(prefix: str, value: float) -> dict[str, float]:
    return {f"{prefix}_at_{n}": value**n for n in LAGS}


def _lstm(D: int, H: int, seed: int, measure: bool) -> Walkthrough:
    counts, total, _ = _recurrent_counts("lstm", D, H, seed)
    means = _gate_means("lstm", D, H, seed)
    f_bar = means["f"]
    numbers: dict[str, Any] = {f"mean_{g}_at_init": v for g, v in means.items()}
    numbers.update(_products("forget_product", f_bar))
    for b in (1.0, 3.0):  # forget-gate bias initialisations (Gers 2000; Jozefowicz 2015)
        numbers.update(_products(f"forget_product_bias_{b:g}", float(sigmoid(np.array(b)))))
    if measure:
        numbers.update(
            {
                f"measured_ratio_at_{k}": v
                for k, v in _measured_ratios("lstm", D, H, seed, "state").items()
            }
        )
    forward = [
        _gate_step(
            "i", "σ", "Input gate: how much of the candidate to write, per unit, in (0, 1).", H, D
        ),
        _gate_step("f", "σ", "Forget gate: erases — how much of the old cell to keep.", H, D),
        _gate_step("g", "tanh", "Candidate: what could be written, bounded to (−1, 1).", H, D),
        _gate_step("o", "σ", "Output gate: decides how much of the cell to reveal as h_t.", H, D),
        Step(
            r"C_t = f_t \odot C_{t-1} + i_t \odot g_t",
            "C_t = f_t ⊙ C_{t−1} + i_t ⊙ g_t",
            _shape(("C_t", (H,))),
            "The cell carries long-term memory: kept by f, written by i — an addition, not a "
            "matrix product.",
        ),
        Step(
            r"h_t = o_t \odot \tanh(C_t)",
            "h_t = o_t ⊙ tanh(C_t)",
            _shape(("h_t", (H,))),
            "The hidden state is what the cell reveals; it drives the gates at t+1.",
        ),
    ]
    backward = [
        Step(
            r"\frac{\partial L}{\partial h_t} = "
            r"\frac{\partial L}{\partial h_t}\Big|_{out} + \delta_{t+1} W_h",
            "∂L/∂h_t = ∂L/∂h_t|_out + δ_{t+1} W_h",
            _shape(("δ_{t+1}", (4 * H,)), ("W_h", (4 * H, H))),
        ),
        Step(
            r"\frac{\partial L}{\partial C_t} = \frac{\partial L}{\partial h_t} \odot o_t \odot "
            r"(1 - \tanh^2 C_t) + \frac{\partial L}{\partial C_{t+1}} \odot f_{t+1}",
            "∂L/∂C_t = ∂L/∂h_t ⊙ o_t ⊙ (1 − tanh² C_t) + ∂L/∂C_{t+1} ⊙ f_{t+1}",
            _shape(("∂L/∂C_t", (H,))),
            "The second term is the cell path: the gradient is multiplied by f, nothing else.",
        ),
        Step(
            r"\delta_{o} = \tfrac{\partial L}{\partial h_t} \odot \tanh C_t \odot o_t(1-o_t),\ "
            r"\delta_{i} = \tfrac{\partial L}{\partial C_t} \odot g_t \odot i_t(1-i_t),\ "
            r"\delta_{f} = \tfrac{\partial L}{\partial C_t} \odot C_{t-1} \odot f_t(1-f_t),\ "
            r"\delta_{g} = \tfrac{\partial L}{\partial C_t} \odot i_t \odot (1-g_t^2)",
            "δ_o = ∂L/∂h_t ⊙ tanh C_t ⊙ o(1−o),  δ_i = ∂L/∂C_t ⊙ g ⊙ i(1−i),\n"
            "δ_f = ∂L/∂C_t ⊙ C_{t−1} ⊙ f(1−f),  δ_g = ∂L/∂C_t ⊙ i ⊙ (1 − g²)",
            _shape(("δ_t = [δ_i; δ_f; δ_g; δ_o]", (4 * H,))),
            "Each gate's pre-activation gradient: what it multiplies, times its own slope.",
        ),
        Step(
            r"\frac{\partial L}{\partial W_x} \mathrel{+}= \delta_t^\top x_t,\ "
            r"\frac{\partial L}{\partial W_h} \mathrel{+}= \delta_t^\top h_{t-1},\ "
            r"\frac{\partial L}{\partial x_t} = \delta_t W_x,\ "
            r"\frac{\partial L}{\partial C_0} = \frac{\partial L}{\partial C_1} \odot f_1",
            "∂L/∂W_x += δ_tᵀ x_t,  ∂L/∂W_h += δ_tᵀ h_{t−1},  ∂L/∂x_t = δ_t W_x,  "
            "∂L/∂C_0 = ∂L/∂C_1 ⊙ f_1",
            _shape(("∂L/∂W_x", (4 * H, D)), ("∂L/∂W_h", (4 * H, H))),
        ),
    ]
    lags = ", ".join(map(str, LAGS))
    path = [
        Step(
            r"\frac{\partial C_T}{\partial C_t} \ni \prod_{k=t+1}^{T} \operatorname{diag}(f_k)",
            "∂C_T/∂C_t ∋ ∏_{k=t+1..T} diag(f_k)   (plus terms through h and the gates)",
            f"element-wise, ({H},) per step — no weight matrix in the product",
            f"The network can hold f_k near 1 and keep the path open. At PyTorch's init the "
            f"mean forget gate is f̄ = {f_bar:.3f} (seed {seed}), so f̄^(T−t) = "
            + ", ".join(f"{f_bar**n:.3g}" for n in LAGS)
            + f" at T−t = {lags}; a forget bias b_f = 1 gives σ(1)^(T−t) = "
            + ", ".join(f"{numbers[f'forget_product_bias_1_at_{n}']:.3g}" for n in LAGS)
            + ", b_f = 3 gives "
            + ", ".join(f"{numbers[f'forget_product_bias_3_at_{n}']:.3g}" for n in LAGS)
            + "."
            + (" Measured ‖∂h_T/∂h_{T−k}‖/‖∂h_T/∂h_{T−1}‖ at init: " if measure else "")
            + _measured(numbers, measure),
        ),
    ]
    return _recurrent("lstm", D, H, forward, backward, path, counts, total, numbers)


def _gru(D: int, H: int, seed: int, measure: bool) -> Walkthrough:
    counts, total, _ = _recurrent_counts("gru", D, H, seed)
    means = _gate_means("gru", D, H, seed)
    z_bar = means["z"]
    numbers: dict[str, Any] = {f"mean_{g}_at_init": v for g, v in means.items()}
    numbers.update(_products("update_product", z_bar))
    if measure:
        numbers.update(
            {
                f"measured_ratio_at_{k}": v
                for k, v in _measured_ratios("gru", D, H, seed, "state").items()
            }
        )
    forward = [
        _gate_step("r", "σ", "Reset gate: decides how much of the past feeds the candidate.", H, D),
        _gate_step("z", "σ", "Update gate: interpolates between the old state and the new.", H, D),
        Step(
            r"n_t = \tanh(W_{xn} x_t + b_{xn} + r_t \odot (W_{hn} h_{t-1} + b_{hn}))",
            "n_t = tanh(W_xn x_t + b_xn + r_t ⊙ (W_hn h_{t−1} + b_hn))",
            _shape(("W_xn", (H, D)), ("W_hn", (H, H)), ("n_t", (H,))),
            "Candidate state; r_t scales the recurrent term after the matrix product (PyTorch).",
        ),
        Step(
            r"h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}",
            "h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t−1}",
            _shape(("h_t", (H,))),
            "One state is both memory and output; one gate both forgets and writes.",
        ),
    ]
    backward = [
        Step(
            r"\tfrac{\partial L}{\partial n_t} = "
            r"\tfrac{\partial L}{\partial h_t} \odot (1 - z_t),\ "
            r"\tfrac{\partial L}{\partial z_t} = "
            r"\tfrac{\partial L}{\partial h_t} \odot (h_{t-1} - n_t)",
            "∂L/∂n_t = ∂L/∂h_t ⊙ (1 − z_t),   ∂L/∂z_t = ∂L/∂h_t ⊙ (h_{t−1} − n_t)",
            _shape(("∂L/∂n_t", (H,))),
        ),
        Step(
            r"\delta_n = \tfrac{\partial L}{\partial n_t} \odot (1 - n_t^2),\ "
            r"\tfrac{\partial L}{\partial r_t} = \delta_n \odot (W_{hn} h_{t-1} + b_{hn})",
            "δ_n = ∂L/∂n_t ⊙ (1 − n_t²),   ∂L/∂r_t = δ_n ⊙ (W_hn h_{t−1} + b_hn)",
            _shape(("δ_n", (H,))),
        ),
        Step(
            r"\tfrac{\partial L}{\partial h_{t-1}} = "
            r"\tfrac{\partial L}{\partial h_t} \odot z_t + \delta^h_t W_h,"
            r"\ \delta^h_t = [\delta_r; \delta_z; \delta_n \odot r_t]",
            "∂L/∂h_{t−1} = ∂L/∂h_t ⊙ z_t + δʰ_t W_h,   δʰ_t = [δ_r; δ_z; δ_n ⊙ r_t]",
            _shape(("δʰ_t", (3 * H,)), ("W_h", (3 * H, H))),
            "The first term is the highway: the gradient passes through z_t untouched by weights.",
        ),
        Step(
            r"\tfrac{\partial L}{\partial W_x} \mathrel{+}= \delta^x_t{}^\top x_t,\ "
            r"\tfrac{\partial L}{\partial W_h} \mathrel{+}= \delta^h_t{}^\top h_{t-1},\ "
            r"\delta^x_t = [\delta_r; \delta_z; \delta_n]",
            "∂L/∂W_x += δˣ_tᵀ x_t,   ∂L/∂W_h += δʰ_tᵀ h_{t−1},   δˣ_t = [δ_r; δ_z; δ_n]",
            _shape(("∂L/∂W_x", (3 * H, D)), ("∂L/∂W_h", (3 * H, H))),
        ),
    ]
    path = [
        Step(
            r"\frac{\partial h_t}{\partial h_{t-1}} = \operatorname{diag}(z_t) + \ldots,\quad "
            r"\frac{\partial h_T}{\partial h_t} \ni \prod_{k=t+1}^{T} \operatorname{diag}(z_k)",
            "∂h_t/∂h_{t−1} = diag(z_t) + (terms through n, r, z);   ∂h_T/∂h_t ∋ ∏ diag(z_k)",
            f"element-wise, ({H},) per step",
            f"Like the LSTM's ∏ f: with z near 1 the state (and its gradient) is carried. At init "
            f"z̄ = {z_bar:.3f} (seed {seed}), so z̄^(T−t) = "
            + ", ".join(f"{z_bar**n:.3g}" for n in LAGS)
            + f" at T−t = {', '.join(map(str, LAGS))}."
            + (" Measured ‖∂h_T/∂h_{T−k}‖/‖∂h_T/∂h_{T−1}‖ at init: " if measure else "")
            + _measured(numbers, measure),
        ),
    ]
    return _recurrent("gru", D, H, forward, backward, path, counts, total, numbers)


def _attention(D: int, H: int, seed: int, measure: bool) -> Walkthrough:
    d = H
    torch.manual_seed(seed)
    attn = CausalSelfAttention(d, num_heads=1, dropout=0.0, impl="reference")
    W, b = attn.in_proj.weight, attn.in_proj.bias
    counts: dict[str, int] = {}
    for k, name in enumerate("QKV"):
        counts[f"W_{name}"] = W[k * d : (k + 1) * d].numel()
        counts[f"b_{name}"] = b[k * d : (k + 1) * d].numel()
    counts["W_O"], counts["b_O"] = attn.out_proj.weight.numel(), attn.out_proj.bias.numel()
    total = sum(p.numel() for p in attn.parameters())
    # How the last position spreads its attention at init, on a random input of length T.
    T = max(LAGS) + 1
    rng = np.random.default_rng(seed)
    _, cache = np_attention.forward(
        np_attention.init_params(d, d, rng), rng.standard_normal((1, T, d))
    )
    P_last = cache["P"][0, -1]  # (T,): weights of position T on positions 1..T
    numbers: dict[str, Any] = {f"attention_weight_at_lag_{n}": float(P_last[-1 - n]) for n in LAGS}
    numbers["uniform_weight"] = 1.0 / T
    numbers.update({f"score_flops_per_token_at_T_{n}": 4 * d * n for n in LAGS})
    if measure:
        numbers.update(
            {
                f"measured_input_ratio_at_{k}": v
                for k, v in _measured_ratios("transformer", D, H, seed, "input").items()
            }
        )
    forward = [
        Step(
            r"Q = x W_Q^\top + b_Q,\ K = x W_K^\top + b_K,\ V = x W_V^\top + b_V",
            "Q = x W_Qᵀ + b_Q,   K = x W_Kᵀ + b_K,   V = x W_Vᵀ + b_V",
            _shape(("x", ("T", d)), ("W_Q, W_K, W_V", (d, d)), ("Q, K, V", ("T", d)))
            + f";  x is d = {d} wide (the Transformer reads D = {D} in with W_in ({d}, {D}))",
            "Each position asks (query), advertises (key) and offers (value).",
        ),
        Step(
            r"S = \frac{Q K^\top}{\sqrt{d}} + M,\quad M_{ij} = -\infty \text{ for } j > i",
            "S = Q Kᵀ / √d + M,   M_ij = −∞ for j > i",
            _shape(("S", ("T", "T"))),
            "Every pair's match, scaled so the scores stay O(1); the mask hides the future.",
        ),
        Step(
            r"P = \operatorname{softmax}(S),\quad O = P V",
            "P = softmax(S),   O = P V",
            _shape(("P", ("T", "T")), ("O", ("T", d))),
            "Row i of P says how much position i reads from each j ≤ i; O mixes the values.",
        ),
        Step(
            r"y = O W_O^\top + b_O",
            "y = O W_Oᵀ + b_O",
            _shape(("W_O", (d, d)), ("y", ("T", d))),
            "The output projection.",
        ),
    ]
    backward = [
        Step(
            r"\tfrac{\partial L}{\partial O} = \tfrac{\partial L}{\partial y} W_O,\ "
            r"\tfrac{\partial L}{\partial W_O} = \textstyle\sum "
            r"\tfrac{\partial L}{\partial y}^\top O",
            "∂L/∂O = ∂L/∂y W_O,   ∂L/∂W_O = Σ (∂L/∂y)ᵀ O",
            _shape(("∂L/∂W_O", (d, d))),
        ),
        Step(
            r"\tfrac{\partial L}{\partial P} = \tfrac{\partial L}{\partial O} V^\top,\ "
            r"\tfrac{\partial L}{\partial V} = P^\top \tfrac{\partial L}{\partial O}",
            "∂L/∂P = ∂L/∂O Vᵀ,   ∂L/∂V = Pᵀ ∂L/∂O",
            _shape(("∂L/∂P", ("T", "T")), ("∂L/∂V", ("T", d))),
        ),
        Step(
            r"\tfrac{\partial L}{\partial S} = P \odot \left(\tfrac{\partial L}{\partial P} - "
            r"\operatorname{rowsum}(\tfrac{\partial L}{\partial P} \odot P)\right)",
            "∂L/∂S = P ⊙ (∂L/∂P − rowsum(∂L/∂P ⊙ P))",
            _shape(("∂L/∂S", ("T", "T"))),
            "The softmax Jacobian diag(p) − p pᵀ, applied row by row.",
        ),
        Step(
            r"\tfrac{\partial L}{\partial Q} = \tfrac{\partial L}{\partial S} K/\sqrt{d},\ "
            r"\tfrac{\partial L}{\partial K} = \tfrac{\partial L}{\partial S}^\top Q/\sqrt{d},\ "
            r"\tfrac{\partial L}{\partial x} = \tfrac{\partial L}{\partial Q} W_Q + "
            r"\tfrac{\partial L}{\partial K} W_K + \tfrac{\partial L}{\partial V} W_V",
            "∂L/∂Q = ∂L/∂S K/√d,   ∂L/∂K = (∂L/∂S)ᵀ Q/√d,   "
            "∂L/∂x = ∂L/∂Q W_Q + ∂L/∂K W_K + ∂L/∂V W_V",
            _shape(("∂L/∂x", ("T", d))),
        ),
    ]
    lag_weights = ", ".join(f"{numbers[f'attention_weight_at_lag_{n}']:.3g}" for n in LAGS)
    path = [
        Step(
            r"\frac{\partial y_i}{\partial x_j} = \frac{\partial y_i}{\partial (P_{ij}, V_j)}"
            r"\frac{\partial (P_{ij}, V_j)}{\partial x_j} \quad \text{for every } j \le i",
            "∂y_i/∂x_j passes through P_ij and V_j only: one step, for every j ≤ i",
            f"no product over the lag; the price is the ({T}, {T}) score matrix, "
            f"4·d·T score FLOPs per token",
            "Every position is one step from every other, so nothing multiplies over distance. "
            f"At init the last of T = {T} positions spreads its attention almost evenly "
            f"(weights {lag_weights} at lags {', '.join(map(str, LAGS))}; uniform = "
            f"{1 / T:.3g}): the gradient is diluted by ~1/T, not shrunk geometrically."
            + (
                f" Measured for the seqarch Transformer at init: ‖∂h_T/∂x_{{T−k}}‖ / "
                f"‖∂h_T/∂x_{{T−1}}‖ = {numbers['measured_input_ratio_at_10']:.3g} at k=10, "
                f"{numbers['measured_input_ratio_at_50']:.3g} at k=50."
                if measure
                else ""
            ),
        ),
    ]
    return Walkthrough(
        "attention",
        D,
        H,
        [
            Section("Forward", forward),
            Section("Backward", backward),
            Section("Gradient path", path),
        ],
        counts,
        total,
        numbers,
    )


BUILDERS = {"rnn": _rnn, "lstm": _lstm, "gru": _gru, "attention": _attention}


def walkthrough(
    arch: str, input_size: int = 32, hidden_size: int = 128, seed: int = 0, measure: bool = True
) -> Walkthrough:
    """The derivation of ``arch`` (rnn, lstm, gru, attention) with live numbers at these sizes.

    ``measure`` adds a measured Jacobian ratio from :func:`gradient_flow` (a few seconds at
    large sizes).
    """
    if arch not in BUILDERS:
        raise BadInput(f"architecture {arch!r} is not known; expected one of {', '.join(BUILDERS)}")
    check_sizes(input_size=input_size, hidden_size=hidden_size)
    return BUILDERS[arch](input_size, hidden_size, seed, measure)
