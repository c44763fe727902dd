r"""The speed lab: latency, throughput and memory, each beside the floor this machine allows.

The machine's own limits are measured first and cached per machine in the store:
    GEMV and GEMM throughput (float32, GFLOP/s = 2·rows·cols / t, resp. 2·n³ / t), with one
    thread and with all; memory bandwidth (GB/s = 2 · bytes copied / t: one read, one write).
Every timing is then also a ratio to a floor from those limits or measured beside it:
    step latency / one GEMV with the step's multiply-adds (flops_per_token / 2, square shape),
    model FLOPs utilisation MFU = cost.train_flops_per_token · tokens / t / GEMM peak.

Timing method (the habits of ``benchmarks/``): warm up, then per-call samples for p50 / p99,
or interleaved rounds (candidate, reference, candidate, …) whose median is robust to a busy
machine. Every function returns plain dicts; :func:`run_bench` also stores them.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

import numpy as np
import torch

from . import devices, stream
from .errors import BadInput
from .machine import environment
from .models import MODELS, SequenceModel, accepted_options, build
from .records import Crossover, Latency, Memory, Record, Throughput, record_class

# ---------------------------------------------------------------------------------------------
# Timing primitives.


def latency_samples(
    fn: Callable[[], object], *, repeats: int = 2000, warmup: int = 200
) -> np.ndarray:
    """Seconds of each of ``repeats`` calls of ``fn``, timed one by one after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    samples = np.empty(repeats)
    clock = time.perf_counter
    for i in range(repeats):
        t0 = clock()
        fn()
        samples[i] = clock() - t0
    return samples


LIMITS_KIND = "machine_limits"  # the store's kind for this machine's measured limits
SPREAD_ROUNDS = 10  # consecutive blocks of calls whose medians give the spread


def summarize(samples: np.ndarray) -> dict[str, float]:
    """p50, p99 and mean in microseconds, and the spread across rounds: the interquartile range
    of the medians of ``SPREAD_ROUNDS`` consecutive blocks of calls (two latencies closer than
    their spread are a tie: the machine's own drift could swap them; one disturbed block does
    not widen it)."""
    us = samples * 1e6
    blocks = [np.median(b) for b in np.array_split(us, min(SPREAD_ROUNDS, us.size))]
    return {
        "p50_us": float(np.percentile(us, 50)),
        "p99_us": float(np.percentile(us, 99)),
        "mean_us": float(us.mean()),
        "spread_us": float(np.percentile(blocks, 75) - np.percentile(blocks, 25)),
        "n": int(us.size),
    }


def interleaved(
    fns: dict[str, Callable[[], object]], *, calls: int = 200, rounds: int = 9, warmup: int = 20
) -> dict[str, float]:
    """Median seconds per call of each candidate, measured in alternating rounds."""
    return {
        k: float(np.median(v)) for k, v in interleaved_rounds(fns, calls, rounds, warmup).items()
    }


def interleaved_rounds(
    fns: dict[str, Callable[[], object]], calls: int = 200, rounds: int = 9, warmup: int = 20
) -> dict[str, list[float]]:
    """Seconds per call of each candidate in each of ``rounds`` alternating rounds."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    per_call: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            for _ in range(calls):
                fn()
            per_call[name].append((time.perf_counter() - t0) / calls)
    return per_call


class threads:
    """``with threads(n):`` run torch on n threads, restoring the previous count after."""

    def __init__(self, n: int):
        self.n = n

    def __enter__(self) -> None:
        self.before = torch.get_num_threads()
        torch.set_num_threads(self.n)

    def __exit__(self, *exc: object) -> None:
        torch.set_num_threads(self.before)


# ---------------------------------------------------------------------------------------------
# The machine's own limits.


def gemv_seconds(rows: int, cols: int, n_threads: int = 1, calls: int = 50) -> float:
    """Median seconds of one float32 y = W v with W (rows, cols): the floor of a recurrent step."""
    W = torch.rand(rows, cols)
    v, y = torch.rand(cols), torch.empty(rows)
    W_np, v_np, y_np = W.numpy(), v.numpy(), y.numpy()
    with threads(n_threads):
        t = interleaved(
            {
                "torch.mv": lambda: torch.mv(W, v, out=y),
                "np.dot": lambda: np.dot(W_np, v_np, out=y_np),
            },
            calls=calls,
        )
    return min(t.values())  # the faster of the two BLAS paths is the floor


def gemm_seconds(n: int, n_threads: int, calls: int = 3, rounds: int = 7) -> float:
    """Least seconds of one float32 (n, n) @ (n, n) product over ``rounds`` rounds of ``calls``.

    A peak is what the machine *can* do, so the least disturbed round is the measurement (a
    median on a shared machine measured the neighbours too: two threads came out slower than
    one, and models then ran at "170 % of peak")."""
    A, B, C = torch.rand(n, n), torch.rand(n, n), torch.empty(n, n)
    best = math.inf
    with threads(n_threads):
        torch.mm(A, B, out=C)  # warm-up
        for _ in range(rounds):
            t0 = time.perf_counter()
            for _ in range(calls):
                torch.mm(A, B, out=C)
            best = min(best, (time.perf_counter() - t0) / calls)
    return best


def peak_gflops(limits: dict[str, Any]) -> float:
    """The GEMM peak that utilisation is measured against: the best of one and all threads
    (more threads cannot lower what the machine can do; when they measure lower, it was busy)."""
    return max(limits["gemm_gflops_1t"], limits["gemm_gflops_all"])


def bandwidth_gbs(megabytes: int = 64, calls: int = 3) -> float:
    """Copy bandwidth: 2 · bytes / t (each byte read once and written once), one thread."""
    a = np.ones(megabytes * 2**20 // 4, np.float32)
    b = np.empty_like(a)
    t = interleaved({"copy": lambda: np.copyto(b, a)}, calls=calls, rounds=5, warmup=1)["copy"]
    return 2 * a.nbytes / t / 1e9


def measure_machine_limits(quick: bool = False) -> dict[str, Any]:
    """GEMV / GEMM GFLOP/s (one thread, all threads) and memory bandwidth, measured now."""
    all_threads = os.cpu_count() or 1
    n_gemv, n_gemm = (1024, 512) if quick else (2048, 1024)
    limits: dict[str, Any] = {"threads_all": all_threads, "gemv_n": n_gemv, "gemm_n": n_gemm}
    for label, k in (("1t", 1), ("all", all_threads)):
        limits[f"gemv_gflops_{label}"] = 2 * n_gemv * n_gemv / gemv_seconds(n_gemv, n_gemv, k) / 1e9
        limits[f"gemm_gflops_{label}"] = 2 * n_gemm**3 / gemm_seconds(n_gemm, k) / 1e9
    limits["bandwidth_gbs"] = bandwidth_gbs(16 if quick else 64)
    return limits


def _same_machine(env: dict, here: dict) -> bool:
    return all(env.get(k) == here.get(k) for k in ("hostname", "cpu", "cores", "torch"))


def machine_limits(
    store: Any | None = None, *, refresh: bool = False, quick: bool = False
) -> dict[str, Any]:
    """The machine's limits, from the store when this machine has them, else measured and stored."""
    here = environment()
    if store is not None and not refresh:
        for m in reversed(store.measurements(LIMITS_KIND)):
            if _same_machine(m["env"], here):
                return {**m["value"], "cached": True}
    limits = measure_machine_limits(quick=quick)
    if store is not None:
        store.put_measurement(LIMITS_KIND, {"quick": quick}, limits, here)
    return {**limits, "cached": False}


# ---------------------------------------------------------------------------------------------
# Streaming latency.


def _model(
    name: str, hidden_size: int, input_size: int | None, num_layers: int, longest: int = 0
) -> SequenceModel:
    """The model under test, seeded; a model with a length limit gets room for ``longest``."""
    torch.manual_seed(0)
    D = hidden_size if input_size is None else input_size
    extra = {"max_len": longest + 1} if "max_len" in accepted_options(name) and longest else {}
    return build(name, input_size=D, hidden_size=hidden_size, num_layers=num_layers, **extra).eval()


def _floor_gemv_us(flops_per_token: int) -> tuple[float, int]:
    """One GEMV with the same multiply-adds as the step (square n × n, n² = flops / 2)."""
    n = max(1, round(math.sqrt(flops_per_token / 2)))
    return gemv_seconds(n, n) * 1e6, n


def stream_latency(
    name: str,
    hidden_size: int,
    *,
    input_size: int | None = None,
    num_layers: int = 1,
    contexts: Iterable[int] = (64, 256, 1024),
    repeats: int = 2000,
    max_len: int | None = None,
) -> list[Latency]:
    """Per-step latency at batch 1 with the state carried, p50 / p99, and the ratio to the floor.

    Constant-state models: the model's eager ``step`` and the :mod:`seqarch.stream` runtime.
    Models whose state grows with T (from their cost formula): a KV-cache decode step at each
    context length T, beside recomputing the whole prefix of T + 1 tokens without a cache.
    A model with a length option is built with room for the longest context, or for
    ``max_len`` when given; a bounded window's receptive field is recorded with its rows.
    """
    contexts = list(contexts)
    longest = max_len - 1 if max_len is not None else max(contexts) + 1
    model = _model(name, hidden_size, input_size, num_layers, longest)
    D = model.input_size
    rows: list[Latency] = []
    base = {"arch": name, "hidden_size": hidden_size, "input_size": D, "num_layers": num_layers}
    base["receptive_field"] = model.receptive_field()
    with threads(1), torch.no_grad():
        if not model.state_grows():
            flops = model.cost(1).flops_per_token
            floor_us, n = _floor_gemv_us(flops)
            x = torch.randn(1, D)
            state = [model.init_state(1)]

            def eager() -> None:
                _, state[0] = model.step(x, state[0])

            session = stream.open(model)
            x_np = x[0].numpy()
            kind = "fast" if isinstance(session, stream.FastSession) else "via step"
            runtimes = {"eager step": eager, f"stream {kind}": lambda: session.push(x_np)}
            for how, fn in runtimes.items():
                s = summarize(latency_samples(fn, repeats=repeats, warmup=repeats // 10))
                rows.append(
                    Latency(
                        **base,
                        how=how,
                        context=None,
                        **s,
                        flops_per_step=flops,
                        floor_gemv_us=floor_us,
                        floor_gemv_n=n,
                        ratio_to_floor=s["p50_us"] / floor_us,
                    )
                )
            return rows
        for T in contexts:
            flops = model.cost(T + 1).flops_per_token
            floor_us, n = _floor_gemv_us(flops)
            prefix = torch.randn(1, T + 1, D)
            _, cache = model(prefix[:, :T])
            x_t = prefix[:, T]
            step = summarize(
                latency_samples(partial(model.step, x_t, cache), repeats=repeats // 4, warmup=20)
            )
            full = summarize(
                latency_samples(partial(model, prefix), repeats=max(5, repeats // 100), warmup=2)
            )
            rows.append(
                Latency(
                    **base,
                    how="KV-cache step",
                    context=T,
                    **step,
                    flops_per_step=flops,
                    floor_gemv_us=floor_us,
                    floor_gemv_n=n,
                    ratio_to_floor=step["p50_us"] / floor_us,
                    state_bytes=model.cost(T).state_bytes,
                    recompute_p50_us=full["p50_us"],
                    recompute_over_step=full["p50_us"] / step["p50_us"],
                )
            )
    return rows


# ---------------------------------------------------------------------------------------------
# Throughput and model FLOPs utilisation.


SLOW_CALL_S = 0.5  # a whole-sequence call this long is timed once after its warm-up, not 6 times


def throughput(
    name: str,
    *,
    hidden_size: int = 128,
    input_size: int = 32,
    seq_lens: Iterable[int] = (64, 256, 1024),
    batch_sizes: Iterable[int] = (1, 8),
    modes: Iterable[str] = ("inference", "training"),
    limits: dict[str, Any] | None = None,
    memory_budget: int = 2 * 2**30,
    calls: int = 2,
    device: str | None = None,
) -> list[Throughput]:
    """Tokens/s against T and B, and MFU against the measured GEMM peak (``peak_gflops``), on
    ``device`` (default: the process's, :mod:`seqarch.devices`; a GPU's MFU is against the
    CPU's peak, so it is left out there).

    A training step is forward + mean-square loss + backward (no optimiser update).
    Configurations whose formula activation memory exceeds ``memory_budget`` are skipped and
    say so, rather than thrash the machine.
    """
    modes = list(modes)
    for m in modes:
        if m not in ("inference", "training"):
            raise BadInput(f"mode {m!r} is not accepted; expected inference or training")
    seq_lens = list(seq_lens)
    device = device or devices.current()
    model = _model(name, hidden_size, input_size, 1, max(seq_lens)).to(device)
    peak = None if limits is None or device != "cpu" else peak_gflops(limits) * 1e9
    rows: list[Throughput] = []
    for T in seq_lens:
        for B in batch_sizes:
            cost = model.cost(T, B)
            row = {
                "arch": name,
                "hidden_size": hidden_size,
                "input_size": input_size,
                "seq_len": T,
                "batch_size": B,
            }
            if cost.activation_bytes > memory_budget:
                for mode in modes:
                    rows.append(
                        Throughput(
                            **row,
                            mode=mode,
                            skipped="activation bytes "
                            f"{cost.activation_bytes:,} > budget {memory_budget:,}",
                        )
                    )
                continue
            x = torch.randn(B, T, input_size).to(device)
            for mode in modes:
                if mode == "inference":

                    def fn(x: torch.Tensor = x) -> None:
                        with torch.no_grad():
                            model(x)
                        devices.synchronize(device)

                    flops = cost.flops_per_token
                else:

                    def fn(x: torch.Tensor = x) -> None:
                        y, _ = model(x)
                        y.pow(2).mean().backward()
                        devices.synchronize(device)

                    flops = cost.train_flops_per_token
                t0 = time.perf_counter()
                fn()  # the warm-up call, timed: a call over SLOW_CALL_S is timed once more
                slow = time.perf_counter() - t0 > SLOW_CALL_S
                per_round = interleaved_rounds(
                    {"run": fn}, calls=1 if slow else calls, rounds=1 if slow else 3, warmup=0
                )
                t = float(np.median(per_round["run"]))
                achieved = flops * B * T / t
                rows.append(
                    Throughput(
                        **row,
                        mode=mode,
                        seconds=t,
                        spread_seconds=max(per_round["run"]) - min(per_round["run"]),
                        tokens_per_s=B * T / t,
                        gflops=achieved / 1e9,
                        mfu=None if peak is None else achieved / peak,
                    )
                )
    return rows


def attention_crossover(
    name: str,
    *,
    hidden_size: int = 128,
    input_size: int = 32,
    seq_lens: Iterable[int] = (64, 256, 1024, 2048),
    batch_size: int = 1,
) -> Crossover | None:
    r"""The length where the T-dependent term of the cost starts to dominate; None if there is none.

    Formula: flops_per_token(T) = c + s·T (c, s read off the model's own cost at T = 1, 2);
    the T-term dominates past T* = c / s. Measured: inference seconds per token t(T) fitted by
    least squares to a + b·T over ``seq_lens``; T*_measured = a / b.
    """
    seq_lens = list(seq_lens)
    model = _model(name, hidden_size, input_size, 1, max(seq_lens))
    f1, f2 = model.cost(1).flops_per_token, model.cost(2).flops_per_token
    slope = f2 - f1
    if slope <= 0:
        return None
    const = f1 - slope
    per_token = []
    with torch.no_grad():
        for T in seq_lens:
            x = torch.randn(batch_size, T, input_size)
            t = interleaved({"fwd": partial(model, x)}, calls=1, rounds=3, warmup=1)["fwd"]
            per_token.append(t / (batch_size * T))
    b, a = np.polyfit(np.array(seq_lens, float), np.array(per_token), 1)
    return Crossover(
        arch=name,
        hidden_size=hidden_size,
        input_size=input_size,
        formula_T=const / slope,
        formula=f"T* = c / s, c = {const:,} FLOPs, s = {slope:,} FLOPs/T",
        measured_T=float(a / b) if b > 0 and a > 0 else None,
        seq_lens=seq_lens,
        seconds_per_token=per_token,
    )


# ---------------------------------------------------------------------------------------------
# Memory.


def _state_bytes(state: Any) -> int:
    """Bytes of every tensor in a state (tensor, tuple, or a dataclass of lists of tensors)."""
    if isinstance(state, torch.Tensor):
        return state.numel() * state.element_size()
    if isinstance(state, tuple | list):
        return sum(_state_bytes(s) for s in state)
    if hasattr(state, "__dict__"):
        return sum(_state_bytes(v) for v in vars(state).values())
    return 0


def saved_activation_bytes(model: SequenceModel, x: torch.Tensor) -> int:
    """Bytes autograd keeps for backward over x (unique storages, seen by saved-tensor hooks)."""
    storages: dict[int, int] = {}
    params = {p.untyped_storage().data_ptr() for p in model.parameters()}

    def pack(t: torch.Tensor) -> torch.Tensor:
        s = t.untyped_storage()
        if s.data_ptr() not in params:
            storages[s.data_ptr()] = s.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        y, _ = model(x)
    y.sum().backward()
    return sum(storages.values())


def memory(
    name: str,
    *,
    hidden_size: int = 128,
    input_size: int = 32,
    seq_lens: Iterable[int] = (64, 256, 1024),
    batch_size: int = 8,
    memory_budget: int = 2 * 2**30,
) -> list[Memory]:
    """Memory against T: training activations and the inference state, measured beside the formula.

    Training: bytes autograd saves for backward, measured with saved-tensor hooks (the part
    that grows with B·T; parameters, gradients and transient workspaces are not in it).
    Inference: bytes of the state tensors the model returns after T steps at batch 1.
    """
    seq_lens = list(seq_lens)
    model = _model(name, hidden_size, input_size, 1, max(seq_lens))
    params_bytes = sum(p.numel() * p.element_size() for p in model.parameters())
    rows = []
    for T in seq_lens:
        cost_train, cost_state = model.cost(T, batch_size), model.cost(T, 1)
        row: dict[str, Any] = {
            "arch": name,
            "hidden_size": hidden_size,
            "input_size": input_size,
            "seq_len": T,
            "batch_size": batch_size,
            "params_bytes": params_bytes,
            "formula_activation_bytes": cost_train.activation_bytes,
            "formula_state_bytes": cost_state.state_bytes,
        }
        with torch.no_grad():
            _, state = model(torch.randn(1, T, input_size))
        row["measured_state_bytes"] = _state_bytes(state)
        if cost_train.activation_bytes > memory_budget:
            row["measured_activation_bytes"] = None
            row["skipped"] = f"formula activations > budget {memory_budget:,} bytes"
        else:
            x = torch.randn(batch_size, T, input_size)
            row["measured_activation_bytes"] = saved_activation_bytes(model, x)
            model.zero_grad(set_to_none=True)
        rows.append(Memory(**row))
    return rows


# ---------------------------------------------------------------------------------------------
# The whole bench.

QUICK = {
    "hidden_sizes": (64,),
    "contexts": (64, 256),
    "repeats": 300,
    "seq_lens": (64, 256),
    "batch_sizes": (8,),
    "crossover_lens": (64, 256, 512),
    "calls": 1,
}
FULL = {
    "hidden_sizes": (64, 128, 256, 512, 1024),
    "contexts": (64, 256, 1024, 4096),
    "repeats": 3000,
    "seq_lens": (64, 256, 1024, 4096, 8192),
    "batch_sizes": (1, 8, 32),
    "crossover_lens": (64, 256, 1024, 2048, 4096),
    "calls": 2,
}


def save(store: Any, kind: str, rows: list[Any], env: dict[str, Any] | None = None) -> list[str]:
    """Store measurement records of ``kind`` (a kind of :mod:`seqarch.records`; plain dicts are
    read into its record); returns their ids."""
    cls = record_class(kind)
    env = environment() if env is None else env
    records = [r if isinstance(r, Record) else cls.read({"value": r}) for r in rows]
    for r in records:
        if not isinstance(r, cls):
            raise BadInput(f"a {r.kind} record is not accepted as kind {kind!r}")
    return [r.save(store, env) for r in records]


def run_bench(
    archs: Iterable[str] | None = None,
    *,
    quick: bool = False,
    plan: dict[str, Any] | None = None,
    store: Any | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Machine limits, stream latency, throughput, attention crossover and memory; all stored.

    ``plan`` (sizes and lengths, keys as in :data:`QUICK`) overrides the quick / full preset.
    """
    archs = list(archs or MODELS)
    for a in archs:
        if a not in MODELS:
            raise BadInput(f"arch {a!r} is not known; expected any of {', '.join(MODELS)}")
    plan = {**(QUICK if quick else FULL), **(plan or {})}
    say = progress or (lambda _msg: None)
    env = environment()
    say("machine limits")
    limits = machine_limits(store, quick=quick)
    result: dict[str, Any] = {
        "machine": env,
        "limits": limits,
        "latency": [],
        "throughput": [],
        "crossover": [],
        "memory": [],
    }

    def keep(kind: str, rows: list[Any]) -> None:
        result[kind] += rows
        if store is not None:
            save(store, kind, rows, env)

    for a in archs:
        for H in plan["hidden_sizes"]:
            say(f"latency {a} H={H}")
            keep(
                "latency",
                stream_latency(a, H, contexts=plan["contexts"], repeats=plan["repeats"]),
            )
        say(f"throughput {a}")
        keep(
            "throughput",
            throughput(
                a, seq_lens=plan["seq_lens"], batch_sizes=plan["batch_sizes"], limits=limits
            ),
        )
        say(f"memory {a}")
        keep(
            "memory",
            memory(a, seq_lens=plan["seq_lens"]),
        )
        cross = attention_crossover(a, seq_lens=plan["crossover_lens"])
        if cross is not None:
            keep("crossover", [cross])
    return result
