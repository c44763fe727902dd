"""The gradient-flow figure: Jacobian norm against lag k, log scale, one line per architecture.

Left panel ‖∂h_T/∂h_{T−k}‖ (recurrent models), right panel ‖∂h_T/∂x_{T−k}‖ (every model).
A straight falling line on the log axis is geometric decay; a flat line is no decay at all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

from ..errors import BadInput

matplotlib.use("Agg")  # files only, no display

import matplotlib.pyplot as plt  # noqa: E402


def _colour(arch: str) -> str | None:
    from ..models import MODELS

    return MODELS[arch].colour if arch in MODELS else None


def plot_flow(results: list[dict[str, Any]], path: str | Path) -> list[Path]:
    """Write the figure as PNG and SVG beside each other (``path`` with either suffix or none)."""
    if not results:
        raise BadInput("results=[] is not accepted; expected at least one gradient_flow result")
    base = Path(path)
    if base.suffix.lower() in (".png", ".svg"):
        base = base.with_suffix("")
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharex=True)
    panels = (
        ("state", r"$\|\partial h_T / \partial h_{T-k}\|_F$"),
        ("input", r"$\|\partial h_T / \partial x_{T-k}\|_F$"),
    )
    for ax, (measure, label) in zip(axes, panels, strict=True):
        for r in results:
            if r.get(measure) is not None:
                ax.semilogy(r["k"], r[measure], label=r["arch"], color=_colour(r["arch"]), lw=2)
        ax.set_xlabel("lag k (steps back from T)")
        ax.set_ylabel(label)
        ax.grid(True, which="major", alpha=0.3)
        if ax.has_data():
            ax.legend(frameon=False)
        else:
            ax.text(0.5, 0.5, "no recurrent model selected", ha="center", transform=ax.transAxes)
    r0 = results[0]
    state = "trained" if r0["trained"] else "at initialisation"
    fig.suptitle(
        f"Gradient flow {state}: T={r0['seq_len']}, H={r0['hidden_size']}, "
        f"D={r0['input_size']}, mean over {len(r0['seeds'])} seeds (measured, torch autograd)"
    )
    fig.tight_layout()
    base.parent.mkdir(parents=True, exist_ok=True)
    written = [base.with_suffix(".png"), base.with_suffix(".svg")]
    fig.savefig(written[0], dpi=130)
    fig.savefig(written[1])
    plt.close(fig)
    return written
