"""Training-step time of minGRU's scans vs its own sequential loop vs nn.GRU.

One training step = forward over (B, T, D) + backward of a scalar loss through every output.
Four contenders run side by side in one process, interleaved round-robin at each T:
  compiled    impl="fast" on CPU: the compiled scan of seqarch/models/scan.py (the default)
  log-space   impl="scan": the paper's parallel log-space scan in PyTorch primitives
  sequential  impl="reference": the recurrence, one PyTorch step at a time
  nn.GRU      PyTorch's fused GRU of the same width
The table reports medians and the ratios measured in the same run. Slow contenders get fewer
repeats (at least one real measurement each; nothing extrapolated).

Goals (issue 8): ≥ 20× over the sequential loop at T = 4096; faster than nn.GRU from T = 1024.

    python benchmarks/parallel_scan.py [--batch 4] [--hidden 64] [--threads 1]

The ratio to the sequential loop grows as B·H shrinks: the loop costs a near-constant overhead
per step, the scan costs work proportional to B·T·H.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable

import torch
from torch import nn

from seqarch.models import MinGRU


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def train_step(model: nn.Module, x: torch.Tensor) -> Callable[[], None]:
    """A closure doing forward + backward of mean(y²) (every output feeds the loss)."""

    def step() -> None:
        model.zero_grad(set_to_none=True)
        y, _ = model(x)
        y.pow(2).mean().backward()

    return step


def seconds(fn: Callable[[], None]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--hidden", type=int, default=64, help="H = D (input width)")
    # One thread by default: on a small shared machine, OpenMP threads waiting for a busy core
    # made every contender's tiny per-step ops many times slower and the ratios noise.
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--lengths", type=int, nargs="+", default=[256, 512, 1024, 2048, 4096, 8192]
    )
    parser.add_argument("--repeats", type=int, default=5, help="most repeats per contender")
    parser.add_argument("--budget", type=float, default=20.0, help="seconds per contender per T")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    B, H = args.batch, args.hidden
    models = {
        "compiled": MinGRU(H, H, impl="fast"),
        "log-space": MinGRU(H, H, impl="scan"),
        "sequential": MinGRU(H, H, impl="reference"),
        "nn.GRU": nn.GRU(H, H, batch_first=True),
    }
    load_before = os.getloadavg()
    print(
        f"CPU: {cpu_model()} ({os.cpu_count()} logical CPUs), torch {torch.__version__}, "
        f"threads {torch.get_num_threads()}, python {platform.python_version()}"
    )
    print(
        f"minGRU (1 layer, log-space chunk_size={models['log-space'].chunk_size}) vs nn.GRU; "
        f"B={B}, D=H={H}, float32; load average before: "
        + ", ".join(f"{v:.1f}" for v in load_before)
    )
    print("training step = forward + backward; median ms over n repeats, interleaved\n")

    warm = torch.randn(B, 32, H)
    for model in models.values():  # first-call costs out of the way
        train_step(model, warm)()

    header = (
        f"{'T':>6} | {'compiled ms':>12} | {'log-space ms':>12} | {'sequential ms':>14} | "
        f"{'nn.GRU ms':>12} | {'seq/comp':>8} | {'seq/log':>7} | {'GRU/comp':>8} | {'GRU/log':>7}"
    )
    print(header)
    print("-" * len(header))
    results: dict[int, dict[str, float]] = {}
    for T in args.lengths:
        x = torch.randn(B, T, H)
        steps = {name: train_step(model, x) for name, model in models.items()}
        times = {name: [seconds(step)] for name, step in steps.items()}  # one probe each
        repeats = {
            name: max(1, min(args.repeats, int(args.budget / ts[0]))) for name, ts in times.items()
        }
        for r in range(1, max(repeats.values())):
            for name, step in steps.items():
                if r < repeats[name]:
                    times[name].append(seconds(step))
        med = {name: statistics.median(ts) for name, ts in times.items()}
        results[T] = med
        n = {name: len(ts) for name, ts in times.items()}
        cells = " | ".join(
            f"{med[name] * 1e3:>{w}.1f} ({n[name]})"
            for name, w in (("compiled", 8), ("log-space", 8), ("sequential", 10), ("nn.GRU", 8))
        )
        ratios = [
            med["sequential"] / med["compiled"],
            med["sequential"] / med["log-space"],
            med["nn.GRU"] / med["compiled"],
            med["nn.GRU"] / med["log-space"],
        ]
        print(
            f"{T:>6} | {cells} | {ratios[0]:>7.1f}× | {ratios[1]:>6.1f}× | "
            f"{ratios[2]:>7.2f}× | {ratios[3]:>6.2f}×",
            flush=True,
        )

    print(f"\nload average after: {', '.join(f'{v:.1f}' for v in os.getloadavg())}")
    for scan in ("compiled", "log-space"):
        if 4096 in results:
            r = results[4096]["sequential"] / results[4096][scan]
            print(
                f"{scan}: goal ≥ 20× over the sequential loop at T=4096: "
                f"{'HIT' if r >= 20 else 'MISSED'} ({r:.1f}×)"
            )
        long = [T for T in results if T >= 1024]
        if long:
            beaten = [T for T in long if results[T]["nn.GRU"] > results[T][scan]]
            ok = len(beaten) == len(long)
            print(
                f"{scan}: goal faster than nn.GRU from T=1024: {'HIT' if ok else 'MISSED'} "
                f"(faster at T = {', '.join(map(str, beaten)) or 'none'} of "
                f"{', '.join(map(str, long))})"
            )


if __name__ == "__main__":
    main()
