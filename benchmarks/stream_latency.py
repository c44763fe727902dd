"""Per-step streaming latency at batch 1: seqarch.stream vs the GEMV floor vs PyTorch eager cells.

    python benchmarks/stream_latency.py [--hidden 64 128 256] [--input-size D] [--rounds 15]

For each cell and hidden size H, in one run and interleaved round by round (so a busy machine
slows every candidate alike), the median time per call of:
  floor   one fused float32 GEMV with the step's multiply-adds: (G·H, D+H) for RNN/LSTM/GRU,
          (G·H, D) for minGRU/minLSTM (no recurrent product), (H + 2R + 2N, H) for the SSM
          (W_in, [W_r; W_B; W_C], W_Δ with D = H; its H·N exps per layer are not in it): the
          faster of numpy's BLAS sgemv and torch.mv, called from Python like the step is
  ours    seqarch.stream session.push(x_t), state carried, output copied out
  eager   torch nn.RNNCell / nn.LSTMCell / nn.GRUCell under no_grad, state carried; for
          mingru / minlstm / ssm (no torch cell) the model's own ``step`` under no_grad
Goals (issue 5), for rnn/lstm/gru: ours / floor ≤ 1.5 at H = 64, 128, 256; eager / ours ≥ 5 at
H ≤ 128. The modern models' rows are for comparison (same runtime, same machine, same run).
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

CELLS = {"rnn": nn.RNNCell, "lstm": nn.LSTMCell, "gru": nn.GRUCell}  # eager: torch's own cell
MODERN = ("mingru", "minlstm", "ssm")  # eager: the model's own step


def gemv_shape(model: torch.nn.Module) -> tuple[int, int]:
    """Rows and columns of one GEMV with the step's multiply-adds (see the module docstring)."""
    D, H = model.input_size, model.hidden_size
    if model.arch == "ssm":
        R, N = model.dt_rank, model.state_size
        return (H * D + (R + 2 * N) * H + H * R) // H, H
    G = model.cell_class.gates
    return G * H, D + (0 if model.arch in ("mingru", "minlstm") else H)


def bench_one(name: str, H: int, D: int, rounds: int) -> dict:
    torch.manual_seed(0)
    model = build(name, input_size=D, hidden_size=H).eval()
    session = stream.open(model)
    assert isinstance(session, stream.FastSession), name
    x_np = np.random.default_rng(0).standard_normal(D).astype(np.float32)

    rows, cols = gemv_shape(model)
    W = np.random.default_rng(1).standard_normal((rows, cols)).astype(np.float32)
    v, out = np.ones(cols, np.float32), np.empty(rows, np.float32)
    W_t, v_t, out_t = torch.from_numpy(W), torch.from_numpy(v), torch.from_numpy(out)

    x_t = torch.from_numpy(x_np)[None]  # (1, D)
    if name in CELLS:
        cell = CELLS[name](D, H)
        state = [(torch.zeros(1, H), torch.zeros(1, H)) if name == "lstm" else torch.zeros(1, H)]

        def eager() -> None:
            with torch.no_grad():
                state[0] = cell(x_t, state[0])
    else:
        state = [model.init_state(1)]

        def eager() -> None:
            with torch.no_grad():
                state[0] = model.step(x_t, state[0])[1]

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
        "gemv_shape": [rows, cols],
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
    names = [*CELLS, *MODERN]
    p.add_argument("--cells", nargs="+", default=names, choices=names)
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
        f"{'cell':7} {'H':>5} {'D':>5} {'GEMV shape':>12} {'floor µs':>9} {'ours µs':>8} "
        f"{'eager µs':>9} {'ours/floor':>10} {'eager/ours':>10}  goals"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        ok_floor = r["ours_over_floor"] <= 1.5
        ok_eager = r["eager_over_ours"] >= 5 if r["H"] <= 128 else None
        goals = f"≤1.5×floor {'yes' if ok_floor else 'NO'}" if r["cell"] in CELLS else "-"
        if ok_eager is not None and r["cell"] in ("lstm", "gru"):
            goals += f", ≥5×eager {'yes' if ok_eager else 'NO'}"
        shape = f"{r['gemv_shape'][0]}x{r['gemv_shape'][1]}"
        print(
            f"{r['cell']:7} {r['H']:>5} {r['D']:>5} {shape:>12} {r['floor_us']:>9.2f} "
            f"{r['ours_us']:>8.2f} {r['eager_us']:>9.2f} {r['ours_over_floor']:>10.2f} "
            f"{r['eager_over_ours']:>10.1f}  {goals}"
        )


if __name__ == "__main__":
    main()
