"""Everything seqarch claims about a GPU, checked on one, in one run, as one JSON.

    python benchmarks/gpu_check.py --json gpu_check.json [--device cuda] [--parts ...]

(``benchmarks/gpu_check.sh`` runs it with the time limits below; ≤ 8 minutes on a GPU.)

Parts, each timed and each with its own time limit (a part over it is recorded as such):

  equality  every registered model on the device equals itself on the CPU in float64 (which
            tests/test_contract.py holds equal to its reference), forward and gradients; and
            its unrolled step equals its forward on the device
  scan      minGRU's parallel log-space scan (impl="scan") against its own sequential loop
            (impl="reference"), one training step at T = 512 and 4096 (Feng et al. 2024 report
            175× and 1324× on a T4 at T = 512 and 4096), interleaved in one run
  tests     tests/test_devices.py, whose GPU test is skipped on a machine without one
  mqar      ``seqarch reproduce zoology-mqar --device DEVICE`` on a fresh store: its verdict
  study     ``seqarch study --preset quick --device DEVICE`` on a fresh store: its wall time

``--device cpu`` runs the same code on the CPU (equality is then trivial; a dry run of the
script itself).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from seqarch import devices
from seqarch.machine import environment
from seqarch.models import MODELS, build

PARTS = ("equality", "scan", "tests", "mqar", "study")
LIMIT_S = {"equality": 60, "scan": 90, "tests": 60, "mqar": 240, "study": 90}


def equality(device: str) -> dict:
    """Per model: max |Δ| of output and of every gradient, device against CPU (float64); and
    the device's unrolled step against its forward."""
    out = {}
    for name in MODELS:
        torch.manual_seed(0)
        options = {"input_size": 5, "hidden_size": 16, "output_size": 3}
        if name in ("transformer", "tcn"):
            options["max_len"] = 32
        cpu = build(name, **options).double()
        gpu = build(name, **options).double()
        gpu.load_state_dict(cpu.state_dict())
        gpu = gpu.to(device)
        x = torch.randn(2, 24, 5, dtype=torch.float64)
        y_cpu, _ = cpu(x)
        y_gpu, _ = gpu(x.to(device))
        y_cpu.pow(2).sum().backward()
        y_gpu.pow(2).sum().backward()
        grads = [
            float((a.grad - b.grad.cpu()).abs().max())
            for a, b in zip(cpu.parameters(), gpu.parameters(), strict=True)
            if a.grad is not None
        ]
        with torch.no_grad():
            state, steps = None, []
            for t in range(x.shape[1]):
                y_t, state = gpu.step(x[:, t].to(device), state)
                steps.append(y_t)
            unrolled = torch.stack(steps, 1)
            forward, _ = gpu(x.to(device))
        out[name] = {
            "forward": float((y_cpu - y_gpu.cpu()).abs().max()),
            "gradients": max(grads, default=0.0),
            "step_vs_forward": float((unrolled - forward).abs().max()),
        }
    worst = max(max(v.values()) for v in out.values())
    return {"models": out, "worst": worst, "ok": worst < 1e-9}


def scan(device: str, rounds: int = 5) -> dict:
    """minGRU's scan against its sequential loop: one training step each, medians, ratios."""
    from seqarch.models import MinGRU

    rows = {}
    for T in (512, 4096):
        torch.manual_seed(0)
        x = torch.randn(4, T, 64, device=device)
        impls = {}
        for impl in ("scan", "reference"):
            m = MinGRU(input_size=64, hidden_size=64, impl=impl).to(device)

            def step(m: torch.nn.Module = m, x: torch.Tensor = x) -> None:
                m.zero_grad(set_to_none=True)
                y, _ = m(x)
                y.pow(2).mean().backward()
                devices.synchronize(device)

            step()  # warm-up
            impls[impl] = step
        times: dict[str, list[float]] = {k: [] for k in impls}
        for _ in range(rounds):
            for k, fn in impls.items():
                t0 = time.perf_counter()
                fn()
                times[k].append(time.perf_counter() - t0)
        med = {k: statistics.median(v) for k, v in times.items()}
        rows[str(T)] = {
            "scan_s": med["scan"],
            "sequential_s": med["reference"],
            "ratio": med["reference"] / med["scan"],
        }
    return {
        "batch": 4,
        "hidden": 64,
        "rounds": rounds,
        "by_T": rows,
        "paper_T4": {"512": 175, "4096": 1324},
    }


def _command(args: list[str], limit: int) -> dict:
    t0 = time.perf_counter()
    p = subprocess.run(args, capture_output=True, text=True, timeout=limit)
    return {
        "command": " ".join(args),
        "rc": p.returncode,
        "seconds": time.perf_counter() - t0,
        "tail": (p.stdout + p.stderr)[-1500:],
    }


def tests(device: str) -> dict:
    args = [sys.executable, "-m", "pytest", "-q", "-n", "0", "tests/test_devices.py"]
    r = _command(args, LIMIT_S["tests"])
    return r | {"ok": r["rc"] == 0}


def mqar(device: str, db: Path) -> dict:
    args = ["seqarch", "reproduce", "zoology-mqar", "--device", device, "--db", str(db), "--json"]
    r = _command(args, LIMIT_S["mqar"])
    try:
        res = json.loads(r["tail"][r["tail"].index("{") :]) if r["rc"] == 0 else None
    except ValueError:
        res = None
    if res is None:  # --json output is longer than the tail: read the result from the store
        from seqarch.reproduce import result

        res = result("zoology-mqar", db).to_dict()
    return r | {"verdict": res["verdict"], "why": res["why"]}


def study(device: str, db: Path) -> dict:
    args = ["seqarch", "study", "--preset", "quick", "--device", device, "--db", str(db)]
    return _command([*args, "--report", ""], LIMIT_S["study"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", choices=devices.CHOICES)
    parser.add_argument("--parts", default=",".join(PARTS), help=f"any of {', '.join(PARTS)}")
    parser.add_argument("--json", metavar="FILE", help="write the result here")
    a = parser.parse_args()
    parts = a.parts.split(",")
    unknown = [p for p in parts if p not in PARTS]
    if unknown:
        parser.error(f"part {unknown[0]!r} is not known; expected any of {', '.join(PARTS)}")
    device = devices.resolve(a.device)
    result: dict = {"device": devices.describe(device), "machine": environment(), "parts": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for part in parts:
            print(f"{part} …", file=sys.stderr, flush=True)
            t0 = time.perf_counter()
            try:
                if part in ("mqar", "study"):
                    value = globals()[part](device, Path(tmp) / f"{part}.db")
                else:
                    value = globals()[part](device)
            except subprocess.TimeoutExpired:
                value = {"error": f"over its limit of {LIMIT_S[part]} s"}
            except Exception as e:  # noqa: BLE001 - a part's failure is its result
                value = {"error": f"{type(e).__name__}: {e}"}
            value["part_seconds"] = time.perf_counter() - t0
            result["parts"][part] = value
            print(json.dumps({part: value}, default=str)[:400], file=sys.stderr, flush=True)
    text = json.dumps(result, indent=2, default=str)
    if a.json:
        Path(a.json).write_text(text)
    print(text)


if __name__ == "__main__":
    os.environ.setdefault("SEQARCH_BASE", "none")  # a fresh store: nothing read from the base
    main()
