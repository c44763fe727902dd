"""The measure functions return sane, positive numbers on tiny configurations, and store them."""

import math

import pytest

from seqarch import measure
from seqarch.models import MODELS
from seqarch.store import Store


def _positive(x):
    return isinstance(x, int | float) and math.isfinite(x) and x > 0


def test_machine_limits_are_measured_once_and_cached(tmp_path):
    store = Store(tmp_path / "m.db")
    first = measure.machine_limits(store, quick=True)
    second = measure.machine_limits(store, quick=True)
    assert first["cached"] is False and second["cached"] is True
    assert second["gemv_gflops_1t"] == first["gemv_gflops_1t"]
    assert len(store.measurements("machine_limits")) == 1
    for k in ("gemv_gflops_1t", "gemv_gflops_all", "gemm_gflops_1t", "gemm_gflops_all"):
        assert _positive(first[k]), k
    assert _positive(first["bandwidth_gbs"])


@pytest.mark.parametrize("name", list(MODELS))
def test_stream_latency_is_positive_for_every_model(name):
    rows = measure.stream_latency(name, 8, input_size=3, contexts=(4, 16), repeats=40)
    assert rows
    for r in rows:
        assert _positive(r["p50_us"]) and r["p99_us"] >= r["p50_us"]
        assert _positive(r["floor_gemv_us"]) and _positive(r["ratio_to_floor"])
    grows = [r for r in rows if r["context"] is not None]
    if grows:  # the KV cache is shown growing with T, and recomputing is measured beside it
        assert grows[1]["state_bytes"] > grows[0]["state_bytes"]
        assert all(_positive(r["recompute_p50_us"]) for r in grows)
    else:
        assert {r["how"] for r in rows} >= {"eager step"}


def test_throughput_memory_and_crossover_on_tiny_sizes():
    tiny = {"hidden_size": 8, "input_size": 3, "seq_lens": (8, 16)}
    busy = {"gemm_gflops_1t": 20.0, "gemm_gflops_all": 10.0}  # two threads measured slower
    rows = measure.throughput("gru", batch_sizes=(2,), limits=busy, calls=1, **tiny)
    assert {r["mode"] for r in rows} == {"inference", "training"}
    assert all(_positive(r["tokens_per_s"]) and _positive(r["mfu"]) for r in rows)
    for r in rows:  # utilisation is against the better of the two measured peaks
        assert r["mfu"] == pytest.approx(r["gflops"] / 20.0, rel=1e-6)
    mem = measure.memory("lstm", batch_size=2, **tiny)
    assert all(r["measured_state_bytes"] == r["formula_state_bytes"] for r in mem)
    assert mem[1]["measured_activation_bytes"] > mem[0]["measured_activation_bytes"]
    assert measure.attention_crossover("gru", **tiny) is None  # no T-dependent term
    cross = measure.attention_crossover("transformer", **tiny)
    assert _positive(cross["formula_T"])


def test_run_bench_stores_what_it_returns(tmp_path):
    plan = {
        "hidden_sizes": (8,),
        "contexts": (4,),
        "repeats": 20,
        "seq_lens": (8,),
        "batch_sizes": (1,),
        "crossover_lens": (4, 8),
        "calls": 1,
    }
    store = Store(tmp_path / "b.db")
    result = measure.run_bench(["rnn", "transformer"], quick=True, plan=plan, store=store)
    for kind in ("latency", "throughput", "memory", "crossover"):
        assert len(store.measurements(kind)) == len(result[kind]) > 0, kind
    with pytest.raises(ValueError, match="expected any of"):
        measure.run_bench(["nope"], quick=True)
