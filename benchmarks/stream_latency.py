"""Per-step streaming latency at batch 1: seqarch.stream vs the GEMV floor vs PyTorch eager cells.

    python benchmarks/stream_latency.py [--hidden 64 128 256] [--input-size D] [--rounds 15]

For each cell and hidden size H, in one run and interleaved round by round (so a busy machine
slows every candidate alike), the median time per call of:
  floor   one fused float32 GEMV of the step's shape, (G·H, D+H) @ (D+H,): the faster of
          numpy's BLAS sgemv and torch.mv, called from Python like the step is
  ours    seqarch.stream session.push(x_t), state carried, output copied out
  eager   torch nn.RNNCell / nn.LSTMCell / nn.GRUCell under no_grad, state carried
Goals (issue 5): ours / floor ≤ 1.5 at H = 64, 128, 256; eager / ours ≥ 5 at H ≤ 128.
Single-threaded throughout (OPENBLAS / torch threads = 1): one stream, one core.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy loads BLAS
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from seqarch import stream  # noqa: E402
from seqarch.measure import interleaved  # noqa: E402
from seqarch.models import build  # noqa: E402
from seqarch.store import environment  # noqa: E402

CELLS = {"rnn": nn.RNNCell, "lstm": nn.LSTMCell, "gru": nn.GRUCell}


def bench_one(name: str, H: int, D: int, rounds: int) -> dict:
    torch.manual_seed(0)
    model = build(name, input_size=D, hidden_size=H).eval()
    G = model.cell_class.gates
    session = stream.open(model)
    x_np = np.random.default_rng(0).standard_normal(D).astype(np.float32)

    W = np.random.default_rng(1).standard_normal((G * H, D + H)).astype(np.float32)
    v, out = np.ones(D + H, np.float32), np.empty(G * H, np.float32)
    W_t, v_t, out_t = torch.from_numpy(W), torch.from_numpy(v), torch.from_numpy(out)

    cell = CELLS[name](D, H)
    x_t = torch.from_numpy(x_np)[None]  # (1, D)
    state = [(torch.zeros(1, H), torch.zeros(1, H)) if name == "lstm" else torch.zeros(1, H)]

    def eager() -> None:
        with torch.no_grad():
            state[0] = cell(x_t, state[0])

    calls = max(50, 20000 // H)
    t = interleaved(
        {
            "np.dot": lambda: np.dot(W, v, out=out),
            "torch.mv": lambda: torch.mv(W_t, v_t, out=out_t),
            "ours": lambda: session.push(x_np),
            "eager": eager,
        },
        calls=calls,
        rounds=rounds,
    )
    floor = min(t["np.dot"], t["torch.mv"])
    return {
        "cell": name,
        "H": H,
        "D": D,
        "gemv_shape": [G * H, D + H],
        "floor_us": floor * 1e6,
        "np_dot_us": t["np.dot"] * 1e6,
        "torch_mv_us": t["torch.mv"] * 1e6,
        "ours_us": t["ours"] * 1e6,
        "eager_us": t["eager"] * 1e6,
        "ours_over_floor": t["ours"] / floor,
        "eager_over_ours": t["eager"] / t["ours"],
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--hidden", type=int, nargs="+", default=[64, 128, 256])
    p.add_argument("--input-size", type=int, default=None, help="D (default: D = H)")
    p.add_argument("--cells", nargs="+", default=list(CELLS), choices=list(CELLS))
    p.add_argument("--rounds", type=int, default=15)
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    torch.set_num_threads(1)
    rows = [
        bench_one(c, H, args.input_size or H, args.rounds) for H in args.hidden for c in args.cells
    ]
    env = environment()
    if args.json:
        print(json.dumps({"machine": env, "rows": rows}, indent=2))
        return
    print(
        f"machine: {env['cpu']}, {env['cores']} cores, torch {env['torch']}, numpy "
        f"{env['numpy']}, Python {platform.python_version()}; 1 thread; medians of "
        f"{args.rounds} interleaved rounds"
    )
    head = (
        f"{'cell':5} {'H':>5} {'D':>5} {'GEMV shape':>12} {'floor µs':>9} {'ours µs':>8} "
        f"{'eager µs':>9} {'ours/floor':>10} {'eager/ours':>10}  goals"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        ok_floor = r["ours_over_floor"] <= 1.5
        ok_eager = r["eager_over_ours"] >= 5 if r["H"] <= 128 else None
        goals = f"≤1.5×floor {'yes' if ok_floor else 'NO'}"
        if ok_eager is not None and r["cell"] in ("lstm", "gru"):
            goals += f", ≥5×eager {'yes' if ok_eager else 'NO'}"
        shape = f"{r['gemv_shape'][0]}x{r['gemv_shape'][1]}"
        print(
            f"{r['cell']:5} {r['H']:>5} {r['D']:>5} {shape:>12} {r['floor_us']:>9.2f} "
            f"{r['ours_us']:>8.2f} {r['eager_us']:>9.2f} {r['ours_over_floor']:>10.2f} "
            f"{r['eager_over_ours']:>10.1f}  {goals}"
        )


if __name__ == "__main__":
    main()
