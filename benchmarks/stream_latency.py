"""Per-step streaming latency: seqarch.stream vs the GEMV (GEMM) floor vs PyTorch eager cells.

    python benchmarks/stream_latency.py [--hidden 64 128 256] [--input-size D] [--rounds 15]
    python benchmarks/stream_latency.py --streams 256 --hidden 128     # many streams

For each cell and hidden size H, in one run and interleaved round by round (so a busy machine
slows every candidate alike), the median time per call of:
  floor   one fused float32 GEMV with the step's multiply-adds: (G·H, D+H) for RNN/LSTM/GRU,
          (G·H, D) for minGRU/minLSTM (no recurrent product), (H + 2R + 2N, H) for the SSM
          (W_in, [W_r; W_B; W_C], W_Δ with D = H; its H·N exps per layer are not in it): the
          faster of numpy's BLAS sgemv and torch.mv, called from Python like the step is
  ours    seqarch.stream session.push(x_t), state carried, output copied out
  eager   torch nn.RNNCell / nn.LSTMCell / nn.GRUCell under torch.inference_mode (PyTorch at
          its best for inference), state carried; for mingru / minlstm / ssm (no torch cell) the
          model's own ``step`` under inference_mode
Goals (issue 5), for rnn/lstm/gru: ours / floor ≤ 1.5 at H = 64, 128, 256; eager / ours ≥ 5 at
H ≤ 128. The modern models' rows are for comparison (same runtime, same machine, same run).

With ``--streams N`` (issue 18) every candidate steps N independent streams per call:
  floor   one GEMM of the step's shape, (N, D+H) × (D+H, G·H) (minGRU/minLSTM: (N, D) ×
          (D, G·H)), the faster of numpy's and torch's, into a preallocated output
  ours    session.push(X) with ``stream.open(model, streams=N)``: one GEMM per layer and
          product, then the compiled gates
  eager   torch's cell on the (N, D) batch under inference_mode (the model's step for the
          modern models)
Goals at N = 256, H = 128: ours / floor ≤ 1.5; eager / ours ≥ 5 — the table prints
eager / floor beside it: no runtime can beat the eager cell by more than that ratio.
Single-threaded throughout (OPENBLAS / torch threads = 1): one core.
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
            with torch.inference_mode():
                state[0] = cell(x_t, state[0])
    else:
        state = [model.init_state(1)]

        def eager() -> None:
            with torch.inference_mode():
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


def gemm_shape(model: torch.nn.Module) -> tuple[int, int]:
    """(K, N) of the one GEMM with a many-stream step's multiply-adds: X (B, K) × W (K, N)."""
    D, H, G = model.input_size, model.hidden_size, model.cell_class.gates
    return D + (0 if model.arch in ("mingru", "minlstm") else H), G * H


def bench_many(name: str, H: int, D: int, B: int, rounds: int) -> dict:
    """One step of B streams: ours, one GEMM of the step's shape, torch's batched cell."""
    torch.manual_seed(0)
    model = build(name, input_size=D, hidden_size=H).eval()
    session = stream.open(model, streams=B)
    X = np.random.default_rng(0).standard_normal((B, D)).astype(np.float32)
    K, N = gemm_shape(model)
    A = np.random.default_rng(1).standard_normal((B, K)).astype(np.float32)
    W = np.random.default_rng(2).standard_normal((K, N)).astype(np.float32)
    out = np.empty((B, N), np.float32)
    A_t, W_t, out_t = torch.from_numpy(A), torch.from_numpy(W), torch.from_numpy(out)
    X_t = torch.from_numpy(X)
    if name in CELLS:
        cell = CELLS[name](D, H)
        state = [(torch.zeros(B, H), torch.zeros(B, H)) if name == "lstm" else torch.zeros(B, H)]

        def eager() -> None:
            with torch.inference_mode():
                state[0] = cell(X_t, state[0])
    else:
        state = [model.init_state(B)]

        def eager() -> None:
            with torch.inference_mode():
                state[0] = model.step(X_t, state[0])[1]

    t = interleaved(
        {
            "np.matmul": lambda: np.matmul(A, W, out=out),
            "torch.mm": lambda: torch.mm(A_t, W_t, out=out_t),
            "ours": lambda: session.push(X),
            "eager": eager,
        },
        calls=max(10, 2_000_000 // (B * K * N // 100)),
        rounds=rounds,
    )
    floor = min(t["np.matmul"], t["torch.mm"])
    return {
        "cell": name,
        "streams": B,
        "H": H,
        "D": D,
        "gemm_shape": [B, K, N],
        "floor_us": floor * 1e6,
        "ours_us": t["ours"] * 1e6,
        "eager_us": t["eager"] * 1e6,
        "ours_over_floor": t["ours"] / floor,
        "eager_over_ours": t["eager"] / t["ours"],
        "eager_over_floor": t["eager"] / floor,
    }


def print_many(rows: list[dict]) -> None:
    head = (
        f"{'cell':7} {'N':>4} {'H':>4} {'GEMM (N,K)x(K,M)':>17} {'floor µs':>9} {'ours µs':>8} "
        f"{'eager µs':>9} {'ours/floor':>10} {'eager/ours':>10} {'eager/floor':>11}  goals"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        B, K, N = r["gemm_shape"]
        goals = "-"
        if r["cell"] in CELLS:
            goals = f"≤1.5×GEMM {'yes' if r['ours_over_floor'] <= 1.5 else 'NO'}"
            goals += f", ≥5×eager {'yes' if r['eager_over_ours'] >= 5 else 'NO'}"
        print(
            f"{r['cell']:7} {B:>4} {r['H']:>4} {f'({B},{K})x({K},{N})':>17} "
            f"{r['floor_us']:>9.1f} {r['ours_us']:>8.1f} {r['eager_us']:>9.1f} "
            f"{r['ours_over_floor']:>10.2f} {r['eager_over_ours']:>10.2f} "
            f"{r['eager_over_floor']:>11.2f}  {goals}"
        )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--hidden", type=int, nargs="+", default=[64, 128, 256])
    p.add_argument("--input-size", type=int, default=None, help="D (default: D = H)")
    names = [*CELLS, *MODERN]
    p.add_argument("--cells", nargs="+", default=names, choices=names)
    p.add_argument("--rounds", type=int, default=15)
    p.add_argument("--streams", type=int, default=1, help="N streams per call (default 1)")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    torch.set_num_threads(1)
    many = args.streams > 1
    cells = [c for c in args.cells if not (many and c == "ssm")]  # the SSM: per-stream kernel
    rows = [
        bench_many(c, H, args.input_size or H, args.streams, args.rounds)
        if many
        else bench_one(c, H, args.input_size or H, args.rounds)
        for H in args.hidden
        for c in cells
    ]
    env = environment()
    if args.json:
        print(json.dumps({"machine": env, "rows": rows}, indent=2))
        return
    what = f"{args.streams} streams a call" if many else "batch 1"
    print(
        f"machine: {env['cpu']}, {env['cores']} cores, torch {env['torch']}, numpy "
        f"{env['numpy']}, Python {platform.python_version()}; 1 thread; {what}; medians of "
        f"{args.rounds} interleaved rounds"
    )
    (print_many if many else print_one)(rows)


def print_one(rows: list[dict]) -> None:
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
