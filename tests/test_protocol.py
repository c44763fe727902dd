"""The fair comparison protocol: selection on validation, intervals, follow-up seeds, the step
floor of early stopping, runs stopped by time, tie-breaking, the memory guard, the one rule."""

from __future__ import annotations

import importlib
import math
import os
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from seqarch import advise as A
from seqarch import protocol, rules, study
from seqarch.advise import decide
from seqarch.errors import BadInput
from seqarch.runs import Run
from seqarch.store import Store
from seqarch.train import RunConfig, TrainConfig, train

SMALL = protocol.Protocol(
    "small", 1, lr_grid=(1e-3, 1e-2), seeds=(0, 1, 2), min_steps_fraction=0.5, patience=2
)


def record(
    lr: float, seed: int, val: float, test: float, stopped: str = "max_steps", tag: str = SMALL.tag
) -> Run:
    config = RunConfig(
        arch="gru",
        task="adding",
        task_config={"seq_len": 20, "distance": 10},
        train=TrainConfig(lr=lr, max_steps=10, protocol=tag),
        seed=seed,
    )
    return Run.of(
        config,
        {
            "metric": "mse",
            "higher_is_better": False,
            "mse": test,
            "val_mse": val,
            "baseline_mse": 1 / 6,
            "stopped": stopped,
            "train_seconds": 1.0,
            "params": 10,
        },
    )


def test_selection_uses_validation_only() -> None:
    # lr 1e-3 is the best on test and the worst on validation: it must not be selected
    records = [record(1e-3, 0, val=0.16, test=0.001), record(1e-2, 0, val=0.01, test=0.15)]
    records += [record(1e-2, 1, val=0.02, test=0.14), record(1e-2, 2, val=0.03, test=0.16)]
    sel = protocol.select(records, SMALL)
    assert sel.lr == 1e-2
    assert sorted(r.seed for r in sel.runs) == [0, 1, 2]
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


def quality(skill: float, hw: float, n: int = 3, seeds: list[float] | None = None, **kw):
    """A planted quality; ``seeds``: its skill per seed 0, 1, … (paired with other models')."""
    if seeds is not None:
        iv = protocol.interval(seeds)
        skill, hw, n = iv.mean, iv.half_width, iv.n
        kw["seed_skills"] = dict(enumerate(seeds))
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


def test_skill_is_pinned_on_hand_computed_values() -> None:
    """0 at the trivial baseline, 1 at perfect, for higher- and lower-is-better metrics."""
    assert rules.skill_of(0.8, 0.2, True) == pytest.approx(0.75)  # accuracy: 0.6 / 0.8
    assert rules.skill_of(0.2, 0.2, True) == 0.0  # accuracy at chance
    assert rules.skill_of(0.1, 0.2, True) == pytest.approx(-0.125)  # below chance
    assert rules.skill_of(1.0, 0.1, True) == 1.0
    assert rules.skill_of(0.04, 0.16, False) == pytest.approx(0.75)  # MSE: 1 − 0.04 / 0.16
    assert rules.skill_of(0.2, 0.16, False) == pytest.approx(-0.25)  # MSE worse than baseline
    assert rules.skill_of(1 / 60, 1 / 6, False) == pytest.approx(0.9)  # the adding problem
    assert rules.skill_of(0.5, 1.0, False) == pytest.approx(0.5)  # MASE against the naive
    assert rules.skill_of(1.25, 1.0, False) == pytest.approx(-0.25)  # MASE worse than naive
    assert rules.skill_of(0.0, 0.0, False) == 0.0  # a baseline at 0 leaves nothing to gain


def test_every_standing_at_its_boundary() -> None:
    """The advisor's standings on planted intervals at each boundary (margin 0.01)."""
    m = rules.EQUIVALENT_SKILL
    assert m == 0.01
    best = quality(0, 0, seeds=[0.70, 0.80, 0.90])
    assert rules.adequacy(None, best) == "unknown"
    assert rules.adequacy(best, best) == "adequate"
    # the paired difference lies exactly at −margin: adequate; a hair below: short
    assert rules.adequacy(quality(0, 0, seeds=[0.69, 0.79, 0.89]), best) == "adequate"
    assert rules.adequacy(quality(0, 0, seeds=[0.689, 0.789, 0.889]), best) == "short"
    # a difference of −0.01 ± 0.0248 straddles −margin: unresolved
    assert rules.adequacy(quality(0, 0, seeds=[0.68, 0.80, 0.89]), best) == "unresolved"
    d = rules.Difference
    assert rules.against_margin(d(-0.005, 0.005, 3, True, "")) == "adequate"  # lo = −0.01
    assert rules.against_margin(d(-0.005, 0.0051, 3, True, "")) == "unresolved"
    assert rules.against_margin(d(-0.02, 0.01, 3, True, "")) == "unresolved"  # hi = −0.01
    assert rules.against_margin(d(-0.02, 0.0099, 3, True, "")) == "short"
    # baseline: the whole interval below the margin; at the margin it is not
    assert rules.adequacy(quality(0.004, 0.0059), best) == "baseline"
    assert rules.adequacy(quality(0.004, 0.006), best) != "baseline"
    # an interval as wide as its distance from the baseline is unresolved; narrower clears it
    wide, narrow = quality(0.05, 0.05), quality(0.05, 0.0499)
    assert rules.adequacy(wide, wide) == "unresolved"
    assert rules.adequacy(narrow, narrow) == "adequate"


def test_the_claims_standings_and_comparisons_at_their_boundaries() -> None:
    assert (rules.SOLVED, rules.FAILED) == (0.9, 0.5)
    q = quality  # lo = skill − hw, hi = skill + hw
    assert rules.standing(q(0.95, 0.05)) == "solves"  # lo = 0.9
    assert rules.standing(q(0.95, 0.0501)) == "unresolved"  # straddles 0.9
    assert rules.standing(q(0.85, 0.05)) == "unresolved"  # hi = 0.9
    assert rules.standing(q(0.85, 0.0499)) == "short"
    assert rules.standing(q(0.25, 0.25)) == "short"  # hi = 0.5
    assert rules.standing(q(0.25, 0.2499)) == "fails"
    assert rules.standing(q(0.99, math.inf, n=1)) == "unresolved"  # one seed
    assert rules.standing(q(0.99, 0.001, stopped_by_time=1)) == "unresolved"
    d = rules.Difference
    assert rules.compare(d(0.0, 0.05, 3, True, ""), 0.05) == "equivalent"  # within ±0.05
    assert rules.compare(d(0.0, 0.0625, 3, True, ""), 0.05) == "unresolved"
    assert rules.compare(d(0.0625, 0.0625, 3, True, ""), 0.05) == "unresolved"  # lo = 0
    assert rules.compare(d(0.0625, 0.0624, 3, True, ""), 0.05) == "better"
    assert rules.compare(d(-0.0625, 0.0624, 3, True, ""), 0.05) == "worse"
    assert rules.faster(1.0, 0.25, 1.25, 0.0) == "tie"  # a gap equal to the spread
    assert rules.faster(1.0, 0.25, 1.5, 0.0) == "faster"
    assert rules.faster(1.5, 0.0, 1.0, 0.25) == "slower"
    assert rules.tie(2.0, None, 2.0, None)


def test_a_paired_difference_pairs_by_seed_and_falls_back_honestly() -> None:
    a = {0: 0.70, 1: 0.80, 2: 0.90}
    b = {0: 0.65, 1: 0.76, 2: 0.84}  # 0.05, 0.04, 0.06 below a, seed for seed
    d = rules.paired_difference(a, b)
    assert d.paired and d.n == 3 and d.mean == pytest.approx(0.05)
    assert d.half_width == pytest.approx(4.302653 * 0.01 / math.sqrt(3), rel=1e-5)
    assert d.lo > 0  # the marginal intervals (±0.25) overlap; the paired difference does not
    assert protocol.interval(a.values()).overlaps(protocol.interval(b.values()))
    u = rules.paired_difference({0: 0.7, 1: 0.8}, {2: 0.6, 3: 0.7})
    assert not u.paired and u.how.startswith("unpaired (Welch)")
    assert u.mean == pytest.approx(0.1) and u.half_width > 0.1
    one = rules.paired_difference({0: 0.7}, {0: 0.6})
    assert not one.paired and one.half_width == math.inf  # one seed: no interval, said so
    assert "no interval" in one.text()
    # between qualities: paired when both have per-seed skills under one protocol
    qa, qb = quality(0, 0, seeds=list(a.values())), quality(0, 0, seeds=list(b.values()))
    assert rules.difference(qa, qb).paired
    assert not rules.difference(quality(0.8, 0.1), quality(0.7, 0.1)).paired


def _planted(spec, qualities: dict, seq_us: dict) -> dict:
    ev = {}
    for arch, q in qualities.items():
        e = A.formula_evidence(spec, arch)
        e.quality = q
        e.seq_us = A.Figure(seq_us[arch], "µs", f"measurement:{arch}")
        ev[arch] = e
    return ev


def test_the_ranking_follows_the_paired_rule_not_overlapping_intervals() -> None:
    """Three models whose marginal intervals overlap (a strong seed effect) but whose paired
    differences do not: the cheapest is shown short, the next shown as good — it wins."""
    spec = A.ProblemSpec(seq_len=100, horizon=20)
    best = [0.70, 0.80, 0.90]  # lstm: ± 0.25 over seeds, the costliest
    ev = _planted(
        spec,
        {
            "lstm": quality(0, 0, seeds=best),
            "gru": quality(0, 0, seeds=[x - 0.004 for x in best]),  # −0.004, seed for seed
            "rnn": quality(0, 0, seeds=[x - 0.06 for x in best]),  # −0.06, seed for seed
        },
        {"rnn": 100.0, "gru": 200.0, "lstm": 300.0},
    )
    iv = {a: e.quality for a, e in ev.items()}
    assert iv["rnn"].hi >= iv["lstm"].lo - 0.01  # the old overlap rule called it adequate
    rec = A.recommend(spec, ev)
    standing = {v.arch: v.standing for v in rec.ranking}
    assert standing == {"gru": "adequate", "lstm": "adequate", "rnn": "short"}
    assert [v.arch for v in rec.ranking] == ["gru", "lstm", "rnn"]
    assert rec.key_reason == "long_range"  # the cheaper rnn was shown short
    rnn = next(v for v in rec.ranking if v.arch == "rnn")
    assert rnn.versus_best.paired and rnn.versus_best.hi < -0.01
    assert rec.ranking[0].versus_runner_up.paired  # the winner against the runner-up
    assert "winner − runner-up" in rec.confidence_basis


def test_a_wide_best_no_longer_makes_a_weak_cheap_model_adequate() -> None:
    """The README's 10-class case: the best at 0.50 ± 0.50, a cheap model at 0.07 ± 0.00.
    Its paired difference straddles the margin: unresolved, not adequate, so it does not win;
    the decision at the top is unresolved and racing would add seeds to these two only."""
    spec = A.ProblemSpec(seq_len=100, horizon=20)
    ev = _planted(
        spec,
        {
            "ssm": quality(0, 0, seeds=[0.3, 0.5, 0.7]),
            "mingru": quality(0, 0, seeds=[0.07, 0.0701, 0.0699]),
        },
        {"mingru": 100.0, "ssm": 200.0},
    )
    rec = A.recommend(spec, ev)
    mingru = next(v for v in rec.ranking if v.arch == "mingru")
    assert mingru.standing == "unresolved" and not mingru.adequate
    assert rec.recommendation == "ssm"
    assert rec.key_reason == "unresolved"
    assert decide.in_question(spec, rec.ranking, ev) == ["mingru", "ssm"]
    assert rec.confidence != "high" and "unresolved at the top" in rec.confidence_basis
    assert "more seeds would tell" in rec.defense


def test_racing_adds_seeds_to_the_models_in_question_up_to_the_cap() -> None:
    fair = "fair/1"
    stored = [record(1e-3, 0, 0.16, 0.1, tag=fair), record(1e-2, 0, 0.01, 0.1, tag=fair)]
    stored += [record(1e-2, 1, 0.02, 0.1, tag=fair), record(1e-2, 2, 0.03, 0.1, tag=fair)]
    p = replace(protocol.FAIR, max_seeds=10, race_step=2)
    assert [r.seed for r in protocol.race_round(stored, p)] == [3, 4]
    assert [r.seed for r in protocol.race_round(stored, replace(p, max_seeds=4))] == [3]
    assert protocol.race_round(stored, replace(p, max_seeds=3)) == []

    def train(extra):
        stored.extend(record(r.train.lr, r.seed, 0.02, 0.1, tag=fair) for r in extra)

    def seeds():
        return len({r.seed for r in stored if r.lr == 1e-2})

    done = protocol.race(lambda: stored if seeds() < 7 else [], train, p)  # resolves at 7
    assert (done.rounds, done.added, done.seeds, done.resolved) == (2, 4, 7, True)
    assert "decided at 7 seeds" in done.text()
    capped = protocol.race(lambda: stored, train, replace(p, max_seeds=8))  # never resolves
    assert (capped.rounds, capped.seeds, capped.resolved) == (1, 8, False)
    assert "cap" in capped.text()


def test_a_ranking_line_with_a_budget_not_measured_reads_incomplete() -> None:
    spec = A.ProblemSpec(seq_len=100, horizon=20, streaming=True, latency_us=50, memory_mb=64)
    ev = {a: A.formula_evidence(spec, a) for a in ("rnn", "gru")}
    ev["gru"].step_us = A.Figure(3.0, "µs", "measurement:gru")  # the rnn's step is not timed
    rows = {r["arch"]: r["feasible"] for r in A.ranking_rows(A.recommend(spec, ev))}
    assert rows["gru"] == "yes"
    assert rows["rnn"] == "incomplete: 1 of 2 parts measured (holds so far)"


def test_without_quality_evidence_the_ranking_gives_no_quality_reason() -> None:
    """`advise --seq-len 5000 --horizon 4500 --input-size 12 --task-kind classify --no-run` on
    an empty store: ranked by cost alone, and said so — not "the signal is close"."""
    spec = A.ProblemSpec(seq_len=5000, horizon=4500, input_size=12, task_kind="classify")
    ev = {a: A.formula_evidence(spec, a) for a in ("rnn", "gru", "lstm")}
    rec = A.recommend(spec, ev)
    assert rec.key_reason == "cost"
    assert "cost alone" in rec.defense and "signal is close" not in rec.defense
    assert "good enough" not in rec.defense.split("Deciding reason")[0]
    assert rec.confidence == "low"


@pytest.mark.parametrize(
    "skills,params_equal,want,why",
    [
        # both adequate (within 0.01 of the best, paired); the GRU shown better: skill breaks it
        ({"gru": [0.995, 0.996, 0.997], "mingru": [0.991, 0.992, 0.993]}, False, "gru", "skill"),
        # the paired difference cannot order them: a standard ONNX operator breaks it
        (
            {"gru": [0.970, 0.975, 0.980], "mingru": [0.971, 0.975, 0.981]},
            False,
            "gru",
            "deployability",
        ),
    ],
)
def test_a_latency_tie_breaks_by_skill_then_deployability(skills, params_equal, want, why) -> None:
    spec = A.ProblemSpec(seq_len=1000, horizon=5, streaming=True, latency_us=100)
    ev = {}
    for arch, skill in skills.items():
        e = A.formula_evidence(spec, arch)
        e.quality = quality(0, 0, seeds=skill)
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
        gru = [0.990, 0.992, 0.994]  # the MinGRU 0.005 below, seed for seed: adequate
        e.quality = quality(0, 0, seeds=gru if arch == "gru" else [x - 0.005 for x in gru])
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


RULE_NAMES = (
    "adequacy against_margin clears_baseline standing solved_part compare faster tie skill_of "
    "skill_text paired_difference interval_difference difference combine so_far "
    "incomplete_text race_targets EQUIVALENT_SKILL SKILL_MARGIN SWITCH_MARGIN ACCURACY_MARGIN "
    "SOLVED FAILED"
).split()
OTHER_MEANINGS = {("compare", "practice/equations.py")}  # two equations, not two intervals


def test_the_report_and_the_advisor_use_the_one_rule(tmp_path: Path) -> None:
    """The report's trade-off table is advise --table on stored evidence, and every decision
    rule is defined once, in seqarch/rules.py: a second ``def name(`` or ``NAME =`` of any of
    them anywhere in src/ fails here (a grep, so a copy under any module is caught)."""
    from seqarch.report.data import load, tradeoff_rows

    db = tmp_path / "e.db"
    Store(db).close()
    rows = tradeoff_rows(load(db))
    table = A.textbook_table(db, run=False, keep=False)
    table += A.textbook_table(db, run=False, keep=False, real=True)
    assert [r.task_type for r in rows] == [t.task_type for t in table]
    src = Path(A.__file__).parent.parent
    pattern = re.compile(
        r"^(?:\s*def\s+(\w+)\s*\(|(\w+)\s*(?::[^=\n]+)?=(?!=))", flags=re.MULTILINE
    )
    where: dict[str, list[str]] = {}
    for path in sorted(src.rglob("*.py")):
        rel = path.relative_to(src).as_posix()
        for m in pattern.finditer(path.read_text(encoding="utf-8")):
            name = m.group(1) or m.group(2)
            if name in RULE_NAMES and (name, rel) not in OTHER_MEANINGS:
                where.setdefault(name, []).append(rel)
            if name in ("rank", "ADEQUATE_MARGIN", "latency_tie"):
                where.setdefault(name, []).append(rel)
    twice = {n: w for n, w in where.items() if n in RULE_NAMES and w != ["rules.py"]}
    assert not twice, f"decision rules defined outside seqarch/rules.py: {twice}"
    assert set(RULE_NAMES) <= set(where)  # every rule is found where it lives
    assert where["rank"] == ["advise/decide.py"] and "ADEQUATE_MARGIN" not in where
    assert where["latency_tie"] == ["advise/decide.py"]  # a wrapper of rules.tie


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
    """One budget for every architecture, from the stored step times: fair and repeatable; a
    budget too small for ADEQUATE_STEPS is refused before training, with the minutes it needs."""
    plans = importlib.import_module("seqarch.advise.plans")
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
        per_budget_step = 1.25 * (6 * 0.02 + 6 * 0.01 + 6 * 0.015) / workers
        fit = [s for s in plans.STEP_GRID if s * per_budget_step <= 300]
        spec = A.ProblemSpec(seq_len=4, data=str(data), train_minutes=5.0)
        for r in plans.data_runs(spec, names, steps=100):
            key = {"arch": r.arch, "task": r.task, "task_config": r.task_config}
            key |= {"model_config": r.model_config, "batch_size": r.train.batch_size}
            key |= {"device": r.device}  # a step time is the device's
            store.put_measurement(
                plans.STEP_KIND, key, {"seconds": {"rnn": 0.01, "gru": 0.02}[r.arch]}
            )
        spec = A.ProblemSpec(seq_len=4, data=str(data), train_minutes=5.0)
        steps, how = plans.data_step_budget(spec, names, store, run=True, say=print)
        assert steps == fit[-1] >= plans.ADEQUATE_STEPS, how
        assert "every architecture" in how
        need = math.ceil(plans.ADEQUATE_STEPS * per_budget_step / 60)
        spec = A.ProblemSpec(seq_len=4, data=str(data), train_minutes=0.5)
        with pytest.raises(BadInput, match=f"train_minutes=0.5 .* --train-minutes {need} "):
            plans.data_step_budget(spec, names, store, run=True, say=print)
        # a caller that caps the steps itself (the tests' tiny budgets) is not refused
        steps, how = plans.data_step_budget(spec, names, store, True, print, max_steps=30)
        assert "over the budget" in how


def test_racing_starts_no_round_that_would_end_past_the_budget(monkeypatch) -> None:
    """A round takes 0.3 s and the budget ends at 0.5 s: the first runs, the second would end
    at 0.6 s and does not start; the race says it stopped at the budget, unresolved."""
    import time

    seed = type("Run", (), {"seed": 3})()
    monkeypatch.setattr(protocol, "race_round", lambda records, p=None: [seed])
    monkeypatch.setattr(protocol, "group", lambda records: {})
    rounds: list[float] = []

    def train(extra: list) -> None:
        rounds.append(time.time())
        time.sleep(0.3)

    out = protocol.race(lambda: [{"planted": True}], train, deadline=time.time() + 0.5)
    assert len(rounds) == 1 and out.rounds == 1
    assert out.out_of_time and not out.resolved
    assert "racing stopped at the training budget" in out.text()


def test_a_comparison_is_data_every_arch_swept_under_the_protocol():
    """protocol.comparison: each architecture's sweep at one step budget, with the options the
    protocol does not set, and nothing else differing between the architectures."""
    from seqarch import protocol

    runs = protocol.comparison(
        ["gru", "lstm"], "adding", {"seq_len": 30}, {"hidden_size": 16}, 500, batch_size=8
    )
    grid = protocol.DEFAULT.lr_grid
    assert [(r.arch, r.train.lr) for r in runs] == [(a, lr) for a in ("gru", "lstm") for lr in grid]
    assert {r.train.max_steps for r in runs} == {500} and {r.train.batch_size for r in runs} == {8}
    assert {r.train.protocol for r in runs} == {protocol.DEFAULT.tag}
    assert {r.seed for r in runs} == {protocol.DEFAULT.seeds[0]}  # the seeds follow the sweep
    assert len({protocol.recipe_key(r.to_dict()) for r in runs}) == 2  # one recipe per arch
