"""K runs trained as one population against the same K runs trained one after another.

Goal (issue 13): at the advisor's sizes (H = 64, T ≤ 256, batch 64, one thread), K = 8 members
train at least 3× faster than 8 separate runs, for every architecture in the registry.

Both sides run the same K configurations (seeds 0..K−1 at the four learning rates of the fair
protocol's grid, cycled) for the same steps on the adding problem, with the loop of
``seqarch.train.train`` (separate) and ``seqarch.population.train_population`` (population);
each side's best of ``--rounds`` rounds is kept (interleaved: separate, population, separate …).
The members' metrics are checked equal to the separate runs' before any time is printed.

    python benchmarks/population_training.py [--archs rnn,lstm] [--lengths 64,256] [--steps 20]
"""

from __future__ import annotations

import argparse
import math
import platform
import time

import torch

from seqarch import __version__ as seqarch_version
from seqarch.models import MODELS
from seqarch.population import train_population
from seqarch.protocol import FAIR
from seqarch.train import RunConfig, TrainConfig, train


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
            model_config={"hidden_size": 64},
            train=TrainConfig(
                lr=grid[k % len(grid)], batch_size=64, max_steps=steps, eval_every=steps
            ),
            seed=k,
        )
        for k in range(K)
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--archs", default=",".join(MODELS))
    ap.add_argument("--lengths", default="64,256")
    ap.add_argument("--members", type=int, default=8)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(1)
    print(
        f"# {platform.processor() or platform.machine()}, torch {torch.__version__}, "
        f"seqarch {seqarch_version}, 1 thread; K = {args.members}, {args.steps} steps, "
        f"H = 64, batch 64; best of {args.rounds} rounds"
    )
    head = f"{'arch':<12} {'T':>4} {'separate s':>11} {'population s':>13} {'speed-up':>9}"
    print(head + "  max |Δ metric|")
    for arch in args.archs.split(","):
        for T in (int(t) for t in args.lengths.split(",")):
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
            print(
                f"{arch:<12} {T:>4} {sep:>11.2f} {pop:>13.2f} {sep / pop:>8.2f}×  {diff:.1e}",
                flush=True,
            )


if __name__ == "__main__":
    main()
