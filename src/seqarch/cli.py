"""The ``seqarch`` command line: it parses, calls the library, and prints. Nothing else."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from . import cost as cost_model

app = typer.Typer(
    help="RNN, LSTM, GRU, Transformer — or a modern recurrent model: derive, decide, defend.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
out = Console()
err = Console(stderr=True)


@contextmanager
def one_line_errors() -> Iterator[None]:
    """Bad input: one line naming the bad value and what is accepted, exit code 2."""
    try:
        yield
    except ValueError as e:
        err.print(f"[bold red]error:[/] {e}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None


@app.callback()
def _root() -> None:
    """RNN, LSTM, GRU, Transformer — or a modern recurrent model: derive, decide, defend."""


def human(n: float, unit: str = "") -> str:
    for div, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= div:
            return f"{n / div:.3g} {suffix}{unit}"
    return f"{n:.4g} {unit}".rstrip()


@app.command()
def models(
    input_size: Annotated[int, typer.Option(help="Features per time step (D).")] = 32,
    hidden_size: Annotated[int, typer.Option(help="Hidden width (H, or d_model).")] = 128,
    num_layers: Annotated[int, typer.Option(help="Stacked layers (L).")] = 1,
    seq_len: Annotated[int, typer.Option("--seq-len", help="Sequence length T.")] = 512,
    batch_size: Annotated[int, typer.Option(help="Batch size B.")] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Every architecture's parameters, FLOPs/token and state bytes at T, with the formulas."""
    with one_line_errors():
        rows = cost_model.table(
            input_size=input_size,
            hidden_size=hidden_size,
            num_layers=num_layers,
            seq_len=seq_len,
            batch_size=batch_size,
        )
    if as_json:
        print(json.dumps([c.as_dict() for c in rows], indent=2))
        return
    t = Table(
        title=f"Cost at D={input_size}, H={hidden_size}, L={num_layers}, T={seq_len}, "
        f"B={batch_size}, float32 (formulas in seqarch.models; FLOPs = matmul FLOPs)",
        show_lines=True,
    )
    for col in ("arch", "params", "FLOPs/token", "train FLOPs/token", "state at T", "activations"):
        t.add_column(col, justify="left" if col == "arch" else "right")
    t.add_column("formulas", overflow="fold")
    for c in rows:
        f = c.formulas
        t.add_row(
            c.arch,
            f"{c.params:,}",
            human(c.flops_per_token),
            human(c.train_flops_per_token),
            human(c.state_bytes, "B"),
            human(c.activation_bytes, "B"),
            escape(
                f"params = {f['params']}\nFLOPs/token = {f['flops_per_token']}\n"
                f"state = {f['state_bytes']}\nactivations = {f['activation_bytes']}"
            ),
        )
    out.print(t)


def main() -> None:
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
