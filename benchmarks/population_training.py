"""K runs trained as one population against the same K runs trained one after another, and one
LSTM run's time step against its GEMM floor.

Goal (issue 27): at the advisor's sizes (H = 64, T = 64 and 256, batch 64, one thread), K = 8
members train at least 4× faster than 8 separate runs through ``train()`` (the autograd path,
kept as the reference) for the RNN, LSTM, GRU, minGRU and minLSTM; and one LSTM time step costs
at most 2× its GEMM floor.

Both sides run the same K configurations (seeds 0..K−1 at the four learning rates of the fair
protocol's grid, cycled) for the same steps on the adding problem, with the loop of
``seqarch.train.train`` (separate) and ``seqarch.population.train_population`` (population: the
fused kernel of ``seqarch.fused`` where the architecture has one, else ``vmap``, said in the
``kernel`` column); each side's best of ``--rounds`` rounds is kept (interleaved: separate,
population, separate …). Every member's metric is compared with its separate run's before any
time is printed (last column).

The GEMM floor of a time step: the training multiply-adds of one LSTM step, forward
(B × (D+H) × 4H) and backward (twice that: ∂h and ∂W), at this machine's single-thread SGEMM
peak, measured in the same run (torch.mm, n = 1024). *one run* = ``train.step_seconds`` / T
(forward, loss, backward, clipping, AdamW); *fused member* = the fused kernel's forward, loss and
backward for K members / (K · T).

    python benchmarks/population_training.py [--archs rnn,lstm] [--lengths 64,256] [--steps 10]
        [--members 8] [--rounds 2] [--json]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import time

import torch

from seqarch import __version__ as seqarch_version
from seqarch.fused import ARCHS
from seqarch.models import MODELS
from seqarch.population import kernel, train_population
from seqarch.protocol import FAIR
from seqarch.train import RunConfig, TrainConfig, step_seconds, train

H, BATCH = 64, 64


def runs_for(arch: str, T: int, K: int, steps: int) -> list[RunConfig]:
    grid = FAIR.lr_grid
    return [
        RunConfig(
            arch=arch,
            task="adding",
            task_config={
                "seq_len": T,
                "distance": T - 5,
                "n_train": 1024,
                "n_val": 128,
                "n_test": 64,
            },
            model_config={"hidden_size": H},
            train=TrainConfig(
                lr=grid[k % len(grid)], batch_size=BATCH, max_steps=steps, eval_every=steps
            ),
            seed=k,
        )
        for k in range(K)
    ]


def gemm_peak(n: int = 1024, repeats: int = 5) -> float:
    """Single-thread SGEMM FLOP/s: the best of ``repeats`` n×n×n products."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.mm(a, b)
    best = math.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - t0)
    return 2 * n**3 / best


def fused_step_seconds(T: int, K: int, repeats: int) -> float:
    """Median seconds of the fused kernel's forward, loss and backward for K LSTM members on a
    batch of the adding problem (the population's optimiser step, a few element-wise ops over
    the parameters, is left out)."""
    from seqarch.fused import Fused
    from seqarch.models import build

    members = [build("lstm", input_size=2, hidden_size=H, output_size=1) for _ in range(K)]
    names = [n for n, _ in members[0].named_parameters()]
    theta = {
        n: torch.stack([dict(m.named_parameters())[n].detach() for m in members]) for n in names
    }
    kernel_ = Fused(members[0])
    x, target = torch.randn(K, BATCH, T, 2), torch.randn(K, BATCH, 1)

    def loss(y: torch.Tensor) -> torch.Tensor:  # (K, B, T, 1) -> (K,), the last step's MSE
        return (y[:, :, -1] - target).pow(2).mean(dim=(1, 2))

    kernel_.loss_and_grads(theta, x, loss)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        kernel_.loss_and_grads(theta, x, loss)
        times.append(time.perf_counter() - t0)
    return sorted(times)[len(times) // 2]


def lstm_floor(T: int, K: int, steps: int, peak: float) -> dict:
    """One LSTM run's time step, and a fused member's, against the step's GEMM floor."""
    run = runs_for("lstm", T, 1, steps)[0]
    D = 2  # the adding problem's input: value and marker
    flops = 3 * 2 * BATCH * (D + H) * 4 * H  # forward, ∂h and ∂W per time step
    floor_us = flops / peak * 1e6
    one_us = step_seconds(run, steps=steps) / T * 1e6
    fwd_bwd = fused_step_seconds(T, K, steps)
    member_us = fwd_bwd / (K * T) * 1e6
    return {
        "T": T,
        "floor_us": floor_us,
        "one_run_us": one_us,
        "one_run_over_floor": one_us / floor_us,
        "fused_member_us": member_us,
        "fused_member_over_floor": member_us / floor_us,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--archs", default=",".join(ARCHS), help="comma-separated, or 'all'")
    ap.add_argument("--lengths", default="64,256")
    ap.add_argument("--members", type=int, default=8)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--json", action="store_true", help="print one JSON object instead")
    args = ap.parse_args()
    archs = list(MODELS) if args.archs == "all" else args.archs.split(",")
    lengths = [int(t) for t in args.lengths.split(",")]
    torch.set_num_threads(1)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    machine = {
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "load_average_1min": load,
        "torch": torch.__version__,
        "seqarch": seqarch_version,
        "threads": 1,
    }
    say = (lambda *a, **k: None) if args.json else print
    say(
        f"# {machine['cpu']}, {machine['cores']} cores, load {load}, torch {torch.__version__}, "
        f"seqarch {seqarch_version}, 1 thread; K = {args.members}, {args.steps} steps, "
        f"H = {H}, batch {BATCH}; best of {args.rounds} interleaved rounds"
    )
    say(
        f"{'arch':<12} {'T':>4} {'kernel':>6} {'separate s':>11} {'population s':>13} "
        f"{'speed-up':>9}  max |Δ metric|"
    )
    rows = []
    for arch in archs:
        for T in lengths:
            runs = runs_for(arch, T, args.members, args.steps)
            train(runs[0])  # warm up: compiled kernels, allocator
            train_population(runs[:2])
            sep, pop = math.inf, math.inf
            for _ in range(args.rounds):
                t0 = time.perf_counter()
                alone = [train(r) for r in runs]
                sep = min(sep, time.perf_counter() - t0)
                t0 = time.perf_counter()
                together = train_population(runs)
                pop = min(pop, time.perf_counter() - t0)
            diff = max(
                abs(a.metrics["mse"] - b.metrics["mse"])
                for a, b in zip(alone, together, strict=True)
            )
            row = {
                "arch": arch,
                "T": T,
                "kernel": kernel(runs[0])[0],
                "separate_s": sep,
                "population_s": pop,
                "speedup": sep / pop,
                "max_abs_metric_diff": diff,
            }
            rows.append(row)
            say(
                f"{arch:<12} {T:>4} {row['kernel']:>6} {sep:>11.2f} {pop:>13.2f} "
                f"{sep / pop:>8.2f}×  {diff:.1e}",
                flush=True,
            )
    peak = gemm_peak()
    say(
        f"\n# LSTM time step against its GEMM floor (SGEMM peak {peak / 1e9:.1f} GFLOP/s, 1 thread)"
    )
    head = f"{'T':>4} {'floor µs':>9} {'one run µs':>11} {'/ floor':>8} {'fused member µs':>16}"
    say(head + f" {'/ floor':>8}")
    floors = []
    for T in lengths:
        f = lstm_floor(T, args.members, args.steps, peak)
        floors.append(f)
        say(
            f"{T:>4} {f['floor_us']:>9.1f} {f['one_run_us']:>11.1f} "
            f"{f['one_run_over_floor']:>7.2f}× {f['fused_member_us']:>16.1f} "
            f"{f['fused_member_over_floor']:>7.2f}×",
            flush=True,
        )
    if args.json:
        out = {
            "machine": machine,
            "members": args.members,
            "steps": args.steps,
            "rounds": args.rounds,
            "hidden_size": H,
            "batch_size": BATCH,
            "gemm_peak_flops": peak,
            "populations": rows,
            "lstm_floor": floors,
        }
        print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
