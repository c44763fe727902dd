"""The fair comparison protocol: selection on validation, intervals, follow-up seeds, the step
floor of early stopping, runs stopped by time, tie-breaking, the memory guard, the one rule."""

from __future__ import annotations

import ast
import importlib
import math
import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from seqarch import advise as A
from seqarch import protocol, study
from seqarch.advise import decide
from seqarch.store import Store
from seqarch.train import RunConfig, TrainConfig, train

SMALL = protocol.Protocol(
    "small", 1, lr_grid=(1e-3, 1e-2), seeds=(0, 1, 2), min_steps_fraction=0.5, patience=2
)


def record(
    lr: float, seed: int, val: float, test: float, stopped: str = "max_steps", tag: str = SMALL.tag
) -> dict:
    config = RunConfig(
        arch="gru",
        task="adding",
        task_config={"seq_len": 20, "distance": 10},
        train=TrainConfig(lr=lr, max_steps=10, protocol=tag),
        seed=seed,
    )
    return {
        "id": config.id,
        "config": config.to_dict(),
        "status": "done",
        "metrics": {
            "metric": "mse",
            "higher_is_better": False,
            "mse": test,
            "val_mse": val,
            "baseline_mse": 1 / 6,
            "stopped": stopped,
            "train_seconds": 1.0,
            "params": 10,
        },
    }


def test_selection_uses_validation_only() -> None:
    # lr 1e-3 is the best on test and the worst on validation: it must not be selected
    records = [record(1e-3, 0, val=0.16, test=0.001), record(1e-2, 0, val=0.01, test=0.15)]
    records += [record(1e-2, 1, val=0.02, test=0.14), record(1e-2, 2, val=0.03, test=0.16)]
    sel = protocol.select(records, SMALL)
    assert sel.lr == 1e-2
    assert sorted(r["config"]["seed"] for r in sel.runs) == [0, 1, 2]
    assert sel.test.mean == pytest.approx(0.15)
    assert sel.complete


def test_a_diverged_sweep_run_is_never_selected() -> None:
    records = [record(1e-3, 0, val=0.10, test=0.1), record(1e-2, 0, val=math.nan, test=math.nan)]
    assert protocol.select(records, SMALL).lr == 1e-3


def test_interval_is_the_student_t_interval() -> None:
    iv = protocol.interval([1.0, 2.0, 3.0])
    assert iv.mean == 2.0 and iv.n == 3
    assert iv.half_width == pytest.approx(4.302653 * 1.0 / math.sqrt(3), rel=1e-5)
    assert protocol.interval([0.5]).half_width == math.inf  # one value: no interval
    assert protocol.Interval(0.5, 0.1, 3).overlaps(protocol.Interval(0.65, 0.1, 3))
    assert not protocol.Interval(0.5, 0.01, 3).overlaps(protocol.Interval(0.65, 0.1, 3))


def test_followups_wait_for_the_whole_sweep_then_train_the_selected_lr() -> None:
    first = [record(1e-3, 0, val=0.16, test=0.1)]
    assert protocol.followups(first, SMALL) == []
    both = first + [record(1e-2, 0, val=0.01, test=0.1)]
    runs = protocol.followups(both, SMALL)
    assert [(r.train.lr, r.seed) for r in runs] == [(1e-2, 1), (1e-2, 2)]
    assert all(r.train.protocol == SMALL.tag for r in runs)


def test_the_protocol_tag_is_part_of_the_run_id() -> None:
    base = RunConfig(arch="rnn", task="adding", train=TrainConfig(max_steps=10))
    tagged = replace(base, train=replace(base.train, protocol="fair/1"))
    assert base.id != tagged.id


def test_a_study_under_the_protocol_refuses_a_hand_set_learning_rate() -> None:
    spec = {
        "defaults": {"protocol": "fair"},
        "sweep": [{"task": "adding", "arch": "rnn", "train": {"max_steps": 10, "lr": 0.1}}],
    }
    with pytest.raises(ValueError, match="'lr' is set by protocol fair/1"):
        study.expand(spec)
    spec["sweep"][0]["train"].pop("lr")
    runs = study.expand(spec)
    assert sorted(r.train.lr for r in runs) == sorted(protocol.FAIR.lr_grid)
    assert {r.seed for r in runs} == {0} and {r.train.protocol for r in runs} == {"fair/1"}
    assert {r.train.min_steps for r in runs} == {8}  # ⌈0.75 · 10⌉


def test_no_preset_hand_sets_a_learning_rate_or_steps_per_architecture() -> None:
    from seqarch.presets import PRESETS

    for name, spec in PRESETS.items():
        for table in [spec.get("defaults", {}), *spec["sweep"]]:
            assert "lr" not in table.get("train", {}), name
        assert "protocol" in spec["defaults"], name
        for run in study.expand(spec):
            assert run.train.protocol == "fair/1", name


def test_early_stopping_never_fires_before_min_steps() -> None:
    cfg = TrainConfig(lr=1e-9, max_steps=60, eval_every=5, patience=1, min_steps=40)
    run = RunConfig(
        arch="rnn",
        task="adding",
        task_config={"seq_len": 10, "n_train": 64, "n_val": 32, "n_test": 32},
        model_config={"hidden_size": 8},
        train=cfg,
    )
    m = train(run).metrics
    assert m["stopped"] == "early_stopping" and m["steps"] >= 40


def test_a_run_stopped_by_time_is_flagged_and_never_high_confidence() -> None:
    spec = A.ProblemSpec(seq_len=100, horizon=20, streaming=True)
    ev = {}
    for arch, skill, stopped in (("gru", 0.95, 1), ("lstm", 0.5, 0)):
        e = A.formula_evidence(spec, arch)
        e.quality = quality(skill, 0.02, stopped_by_time=stopped)
        e.step_us = A.Figure(2.0 if arch == "gru" else 3.0, "µs", f"measurement:{arch}")
        ev[arch] = e
    rec = A.recommend(spec, ev)
    assert rec.recommendation == "gru"
    assert rec.confidence != "high" and "stopped by time" in rec.confidence_basis
    assert "stopped by the time limit, not converged" in rec.defense


def quality(skill: float, hw: float, n: int = 3, **kw) -> A.Quality:
    return A.Quality(
        skill=A.Figure(skill, "", "run:x"),
        spread=hw,
        metric="mse",
        value=(1 - skill) / 6,
        baseline=1 / 6,
        task="adding",
        horizon=20,
        seq_len=25,
        run_ids=[f"r{i}" for i in range(n)],
        train_seconds=1.0,
        lr=1e-2,
        protocol="fair/1",
        tuning_runs=6,
        **kw,
    )


def test_high_confidence_never_stands_over_an_interval_that_spans_the_baseline() -> None:
    spec = A.ProblemSpec(seq_len=100, horizon=20)
    ev = {}
    for arch, skill, hw in (("gru", 0.14, 0.20), ("lstm", 0.05, 0.3)):
        e = A.formula_evidence(spec, arch)
        e.quality = quality(skill, hw)
        ev[arch] = e
    rec = A.recommend(spec, ev)
    assert rec.confidence == "low" and "spans the baseline" in rec.confidence_basis
    assert all(v.standing == "unresolved" for v in rec.ranking)
    assert not any(v.adequate for v in rec.ranking)


def test_adequate_means_the_interval_overlaps_the_best() -> None:
    best = quality(0.90, 0.02)
    assert decide.adequacy(quality(0.85, 0.04), best) == "adequate"  # 0.89 ≥ 0.88 − 0.01
    assert decide.adequacy(quality(0.80, 0.02), best) == "short"
    assert decide.adequacy(quality(0.10, 0.20), best) == "unresolved"
    assert decide.adequacy(quality(-0.10, 0.02), best) == "baseline"


@pytest.mark.parametrize(
    "skills,params_equal,want,why",
    [
        ({"gru": 0.99, "mingru": 0.95}, False, "gru", "skill"),  # tie on latency: skill breaks it
        ({"gru": 0.97, "mingru": 0.975}, False, "gru", "deployability"),  # standard ONNX op
    ],
)
def test_a_latency_tie_breaks_by_skill_then_deployability(skills, params_equal, want, why) -> None:
    spec = A.ProblemSpec(seq_len=1000, horizon=5, streaming=True, latency_us=100)
    ev = {}
    for arch, skill in skills.items():
        e = A.formula_evidence(spec, arch)
        e.quality = quality(skill, 0.03)
        # 1.10 vs 1.20 µs, each with a spread of 0.15 µs across rounds: a tie
        e.step_us = A.Figure(1.1 if arch == "mingru" else 1.2, "µs", f"measurement:{arch}", 0.15)
        ev[arch] = e
    rec = A.recommend(spec, ev)
    assert rec.recommendation == want
    assert rec.ranking[0].decided_by == why
    assert "tie was broken" in rec.defense


def test_a_clear_latency_gap_is_not_a_tie() -> None:
    spec = A.ProblemSpec(seq_len=1000, horizon=5, streaming=True, latency_us=100)
    ev = {}
    for arch in ("gru", "mingru"):
        e = A.formula_evidence(spec, arch)
        e.quality = quality(0.99 if arch == "gru" else 0.97, 0.03)
        e.step_us = A.Figure(1.1 if arch == "mingru" else 1.8, "µs", f"measurement:{arch}", 0.05)
        ev[arch] = e
    rec = A.recommend(spec, ev)
    assert rec.recommendation == "mingru" and rec.ranking[0].decided_by == "cost"


def test_the_memory_guard_refuses_before_allocating(tmp_path: Path) -> None:
    spec = A.ProblemSpec(
        seq_len=100000, horizon=30, streaming=True, latency_us=40, memory_mb=1, input_size=6
    )
    ev = {"transformer": A.formula_evidence(spec, "transformer")}
    with Store(tmp_path / "g.db") as store:
        A.attach_latency(spec, store, ev, run=True, say=lambda _m: None)
        assert store.measurements("latency") == []  # nothing was timed
    assert (
        ev["transformer"].step_us is None and "over the 1 MB budget" in ev["transformer"].not_timed
    )


def test_a_context_over_the_ram_budget_is_measured_shorter_and_extrapolated(tmp_path, monkeypatch):
    gather = importlib.import_module("seqarch.advise.gather")  # the module, not the function
    spec = A.ProblemSpec(seq_len=4096, horizon=30, streaming=True, input_size=4, hidden_size=16)
    budget = gather.timing_bytes(spec, "transformer", 512)
    monkeypatch.setattr(gather, "measure_budget_bytes", lambda: budget)
    ev = {"transformer": A.formula_evidence(spec, "transformer")}
    with Store(tmp_path / "g.db") as store:
        A.attach_latency(spec, store, ev, run=True, say=lambda _m: None)
        contexts = {m["key"]["context"] for m in store.measurements("latency")}
    assert contexts == {512}
    fig = ev["transformer"].step_us
    assert (
        fig is not None
        and "at context 512 × formula:transformer.cost.flops_per_token" in fig.source
    )


def test_the_report_and_the_advisor_use_the_one_rule(tmp_path: Path) -> None:
    """The report's trade-off table is advise --table on stored evidence, and no module but
    advise/decide.py decides adequacy (a reimplementation would fail here)."""
    from seqarch.report.data import load, tradeoff_rows

    db = tmp_path / "e.db"
    Store(db).close()
    rows = tradeoff_rows(load(db))
    table = A.textbook_table(db, run=False, keep=False)
    table += A.textbook_table(db, run=False, keep=False, real=True)
    assert [r.task_type for r in rows] == [t.task_type for t in table]
    src = Path(A.__file__).parent.parent
    for path in src.rglob("*.py"):
        if path.name == "decide.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        names |= {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
        assert "ADEQUATE_MARGIN" not in names, path
        defs = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
        assert not defs & {"rank", "adequacy", "_by_skill", "_streaming"}, path


def test_peers_run_on_the_same_split_as_the_neural_models(tmp_path: Path) -> None:
    from seqarch import peers
    from seqarch.tasks import from_files, make_task

    rng = np.random.default_rng(0)
    rows = ["t0,t1,t2,t3,t4,t5,label"]
    for _ in range(60):
        x = rng.normal(size=6)
        rows.append(",".join(f"{v:.4f}" for v in x) + f",{int(x[0] > 0)}")
    data = tmp_path / "d.csv"
    data.write_text("\n".join(rows) + "\n")
    config = from_files(str(data), kind="classify").config()
    name = config.pop("name")
    for seed in (0, 1):
        task = make_task(name, **{**config, "seed": seed})
        _, _, _, test_y = peers._fit_split(task)
        batch = task.data("test")
        assert test_y.tolist() == batch.y[batch.mask].tolist()
        for peer in peers.peers_for(task):
            result = peers.run_peer(peer, task)
            assert 0.0 <= result["value"] <= 1.0 and result["metric"] == task.metric
    assert peers.peers_for(task) == ("minirocket", "1nn-dtw", "linear-summary")


def test_the_ets_peer_forecasts_a_real_series() -> None:
    from seqarch import peers
    from seqarch.tasks import make_task

    task = make_task("forecast", series="co2", seq_len=24, steps_ahead=3)
    assert peers.peers_for(task) == ("seasonal-naive", "ets", "auto-ets")
    ets = peers.run_peer("ets", task)["value"]
    naive = peers.run_peer("seasonal-naive", task)["value"]
    assert 0 < ets < naive  # co2 has a trend the seasonal-naive forecast ignores


def test_an_exhaustive_measurement_adds_seeds_at_the_selected_lr() -> None:
    fair = "fair/1"
    records = [record(1e-3, 0, 0.16, 0.1, tag=fair), record(1e-2, 0, 0.01, 0.1, tag=fair)]
    records += [record(1e-2, 1, 0.02, 0.1, tag=fair), record(1e-2, 2, 0.03, 0.1, tag=fair)]
    more = protocol.more_seeds(records, 5)
    assert [(r.train.lr, r.seed) for r in more] == [(1e-2, 3), (1e-2, 4)]


def test_the_data_step_budget_fits_train_minutes_from_stored_step_times(tmp_path: Path) -> None:
    """One budget for every architecture, from the stored step times: fair and repeatable."""
    gather = importlib.import_module("seqarch.advise.gather")
    rng = np.random.default_rng(0)
    rows = ["t0,t1,t2,t3,label"] + [
        ",".join(f"{v:.3f}" for v in rng.normal(size=4)) + f",{i % 2}" for i in range(40)
    ]
    data = tmp_path / "d.csv"
    data.write_text("\n".join(rows) + "\n")
    names = ["rnn", "gru"]
    with Store(tmp_path / "s.db") as store:
        workers = max(1, os.cpu_count() or 1)
        # per step of budget: 6 runs of each architecture, and (the horizon unknown) 3 seeds
        # × k = 1, 2 of the lag measurement at the mean step time
        fit = [s for s in gather.STEP_GRID if s * 1.25 * (6 * 0.02 + 6 * 0.01) / workers <= 60]
        for minutes, per_step, want in ((1.0, 0.01, fit[-1]), (0.01, 0.01, 100)):
            spec = A.ProblemSpec(seq_len=4, data=str(data), train_minutes=minutes)
            for r in gather.data_runs(spec, names, steps=100):
                key = {"arch": r.arch, "task": r.task, "task_config": r.task_config}
                key |= {"model_config": r.model_config, "batch_size": r.train.batch_size}
                store.put_measurement(gather.STEP_KIND, key, {"seconds": per_step})
            steps, how = gather.data_step_budget(spec, names, store, run=False, say=print)
            assert steps == want, how
            assert "every architecture" in how
        assert "over the budget" in how  # 0.01 min cannot hold even 100 steps: said, not hidden
