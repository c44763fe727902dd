"""The claims ledger: every claim of the source has an entry; verdicts follow the stored
evidence (planted evidence flips them); the regime-switching task and its recovery metric."""

from __future__ import annotations

import math
import time

import pytest
import torch

from seqarch import claims as C
from seqarch.claims import evidence as E
from seqarch.claims import ledger, render
from seqarch.records import Latency
from seqarch.store import Store, run_id
from seqarch.tasks import make_task
from seqarch.tasks.regime_switch import recovery, steps_since_switch

ENV = {"hostname": "test-host", "cpu": "Test CPU", "cores": 2, "torch": "x", "python": "3"}


# ---------------------------------------------------------------------------------------------
# Coverage: every item of the source's lists has an entry


def test_every_item_of_the_source_has_an_entry():
    items = C.source_items()
    sections = [s for s, _ in items]
    # Step 5: 4 strengths, 4 limitations, 3 table rows; Step 6: 3 misunderstandings; Step 2:
    # the example answer's 2 sentences
    assert [sections.count(s) for s in ("strengths", "limitations", "trade-offs")] == [4, 4, 3]
    assert sections.count("misunderstandings") == 3 and sections.count("example") == 2
    assert C.uncovered(items) == []


def test_an_item_no_claim_quotes_is_reported():
    text = C.SOURCE.read_text(encoding="utf-8").replace(
        "- GRUs → May underfit long sequences.",
        "- GRUs → May underfit long sequences.\n- SSMs → Hard to tune.",
    )
    assert C.uncovered(C.source_items(text)) == [("limitations", "SSMs → Hard to tune.")]


def test_every_claim_is_quoted_verbatim_and_judged():
    source = C.SOURCE.read_text(encoding="utf-8")
    ids = [c.id for c in C.claims()]
    assert len(ids) == len(set(ids))
    for c in C.claims():
        assert c.quote in source, c.id
        assert (c.row is not None) != (c.id in E.JUDGES), c.id
        assert c.experiment and c.words and c.section.startswith("Step ")


# ---------------------------------------------------------------------------------------------
# Planted evidence


def put_adding(store: Store, arch: str, h: int, mses: list[float]) -> list[str]:
    """Runs of the adding problem h steps back (no protocol: every seed is evidence)."""
    ids = []
    for seed, mse in enumerate(mses):
        config = {
            "arch": arch,
            "task": "adding",
            "seed": seed,
            "task_config": {"seq_len": h + 5, "distance": h},
            "model_config": {"hidden_size": 64},
            "train": {"lr": 0.01},
        }
        rid = run_id(config)
        store.put_run(rid, config, {"mse": mse}, [], ENV, time.time(), time.time())
        ids.append(rid)
    return ids


def put_step(store: Store, arch: str, H: int, p50: float, spread: float = 0.05) -> str:
    row = Latency(
        arch=arch, hidden_size=H, input_size=H, how="stream fast", p50_us=p50, spread_us=spread
    )
    return row.save(store, ENV)


def put_regime(store: Store, arch: str, costs: list[float]) -> None:
    for seed, cost in enumerate(costs):
        config = {
            "arch": arch,
            "task": "regime_switch",
            "seed": seed,
            "task_config": {},
            "model_config": {"hidden_size": 32},
            "train": {"lr": 0.01, "protocol": "fair/1"},
        }
        metrics = {
            "accuracy": 0.9,
            "val_accuracy": 0.9,
            "metric": "accuracy",
            "higher_is_better": True,
            "switch_cost": cost,
            "recovery_steps": 2.0,
        }
        store.put_run(run_id(config), config, metrics, [], ENV, time.time(), time.time())


def judge(db, claim_id: str) -> E.Finding:
    with Store(db) as store:
        return E.JUDGES[claim_id](E.Stored(store))


def test_step_latency_flips_the_gru_latency_claim(tmp_path):
    db = tmp_path / "s.db"
    with Store(db) as store:
        for H in (64, 128, 256):
            put_step(store, "gru", H, 1.0 * H / 64)
            put_step(store, "lstm", H, 2.0 * H / 64)
    f = judge(db, "example-gru-latency")
    assert f.verdict == "holds", f.why
    with Store(db) as store:  # a newer measurement at H = 256: the GRU slower there
        put_step(store, "gru", 256, 9.0)
    f = judge(db, "example-gru-latency")
    assert f.verdict == "depends" and "H = 64, 128 only" in f.why, f.why
    with Store(db) as store:  # within the spread: a tie, not "faster"
        for H in (64, 128, 256):
            put_step(store, "gru", H, 2.0 * H / 64 - 0.01)
    f = judge(db, "example-gru-latency")
    assert "faster per step: breaks" in f.why, f.why
    assert all(n.source.startswith(("measurement:", "formula:")) for n in f.numbers)


def test_skill_by_horizon_flips_the_gru_underfit_claim(tmp_path):
    db = tmp_path / "s.db"
    with Store(db) as store:
        for h in (5, 60):
            put_adding(store, "lstm", h, [0.001, 0.0012, 0.0011])
            put_adding(store, "gru", h, [0.001, 0.0011, 0.0012])
    f = judge(db, "gru-underfit")
    assert f.verdict == "breaks", f.why  # equivalent at both distances
    db2 = tmp_path / "s2.db"
    with Store(db2) as store:
        put_adding(store, "lstm", 5, [0.001, 0.0012, 0.0011])
        put_adding(store, "gru", 5, [0.001, 0.0011, 0.0012])
        put_adding(store, "lstm", 60, [0.001, 0.0012, 0.0011])
        ids = put_adding(store, "gru", 60, [0.10, 0.11, 0.105])  # skill ≈ 0.37: behind
    f = judge(db2, "gru-underfit")
    assert f.verdict == "depends" and "h = 60 only" in f.why, f.why
    assert any(ids[0][:8] in n.source for n in f.numbers)
    # the same evidence answers the example answer's "LSTM over GRU for longer dependencies"
    assert "the LSTM is better as dependencies grow: depends" in judge(db2, "example-lstm-long").why


def test_an_interval_that_spans_the_difference_is_unresolved(tmp_path):
    db = tmp_path / "s.db"
    with Store(db) as store:
        put_adding(store, "lstm", 60, [0.001, 0.0012, 0.0011])
        put_adding(store, "gru", 60, [0.001, 0.16, 0.05])  # wide: skill 0.0 … 1.0
    f = judge(db, "gru-underfit")
    assert f.verdict == "unresolved", f.why


def test_the_rnn_forgets_where_the_gated_models_do_not(tmp_path):
    db = tmp_path / "s.db"
    with Store(db) as store:
        for h, rnn in ((5, [0.001, 0.001, 0.0012]), (60, [0.166, 0.167, 0.165])):
            put_adding(store, "rnn", h, rnn)
            put_adding(store, "lstm", h, [0.001, 0.0012, 0.0011])
    part = judge(db, "rnn-forgets").parts[0]
    assert part.verdict == "holds" and "solves up to h = 5, not from h = 60" in part.why
    db2 = tmp_path / "s2.db"
    with Store(db2) as store:
        for h in (5, 60):
            put_adding(store, "rnn", h, [0.001, 0.001, 0.0012])
            put_adding(store, "lstm", h, [0.001, 0.0012, 0.0011])
    assert judge(db2, "rnn-forgets").parts[0].verdict == "breaks"


def test_regime_switching_flips_the_gru_context_claim(tmp_path):
    db = tmp_path / "s.db"
    with Store(db) as store:
        put_regime(store, "lstm", [1.00, 1.02, 1.01])
        put_regime(store, "gru", [1.01, 1.00, 1.02])
    f = judge(db, "gru-context")
    assert f.verdict == "breaks", f.why  # the same within ±0.25 steps
    db2 = tmp_path / "s2.db"
    with Store(db2) as store:
        put_regime(store, "lstm", [1.00, 1.02, 1.01])
        put_regime(store, "gru", [2.00, 2.05, 2.02])
    f = judge(db2, "gru-context")
    assert f.verdict == "holds" and "GRU loses more" in f.why, f.why


def test_an_empty_store_names_what_is_missing(tmp_path):
    db = tmp_path / "empty.db"
    Store(db).close()
    ledger = C.claims_ledger(db)
    assert [e.claim.id for e in ledger.entries][: len(C.claims())] == [c.id for c in C.claims()]
    by_id = {e.claim.id: e for e in ledger.entries}
    for cid in ("gru-context", "dropout-alone", "table-streaming", "table-long"):
        assert by_id[cid].verdict == "missing" and by_id[cid].missing, cid
    # formula-only parts are judged even so: the GRU has fewer parameters than the LSTM
    assert "simpler: holds" in by_id["gru-simpler"].why
    text = render.markdown(ledger)
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    assert len(rows) == len(ledger.entries) + 1  # the header, then one row per entry
    assert "Missing:" in text
    assert set(ledger.to_dict()["verdicts"]) == set(E.VERDICTS)


def test_a_missing_store_is_refused_and_not_created(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        C.claims_ledger(tmp_path / "none.db")
    assert not (tmp_path / "none.db").exists()


# ---------------------------------------------------------------------------------------------
# The regime-switching task


def test_regime_switch_follows_its_rules():
    task = make_task("regime_switch", seq_len=40, noise=0.0, n_train=200, n_val=8, n_test=8)
    b = task.data("train")
    V = task.vocab
    x, fb = b.x[..., :V].argmax(-1), b.x[..., V:]
    rule = task.rule_of(b)
    assert rule.min() >= 0 and rule.max() < task.rules
    assert torch.equal(b.y, (x + rule + 1) % V)  # y = (x + s_r) mod V, s_r = r + 1
    assert fb[:, 0].abs().sum() == 0  # no feedback at t = 0
    assert torch.equal(fb[:, 1:].argmax(-1), b.y[:, :-1])  # noise 0: the previous target
    since = steps_since_switch(rule)
    switches = (since == 0)[:, 1:]
    assert switches.any()  # the rule does switch
    starts = [torch.nonzero(row).flatten().tolist() for row in (since == 0)]
    gaps = [b - a for s in starts for a, b in zip(s, s[1:], strict=False)]
    assert min(gaps) >= task.min_gap  # a rule holds at least W steps
    noisy = make_task("regime_switch", seq_len=40, noise=0.5, n_train=200, n_val=8, n_test=8)
    nb = noisy.data("train")
    agree = (nb.x[:, 1:, V:].argmax(-1) == nb.y[:, :-1]).float().mean().item()
    assert 0.5 < agree < 0.7  # noise 0.5: half replaced by uniform symbols (1/5 of those agree)


def test_steps_since_switch_on_the_docstring_example():
    rule = torch.tensor([[0, 0, 0, 0, 2, 2, 2, 2]])
    assert steps_since_switch(rule).tolist() == [[0, 1, 2, 3, 0, 1, 2, 3]]


def test_recovery_on_a_hand_built_case():
    # Two regimes of W = 4 steps, then a steady stretch; wrong at d = 0 and 1, right after.
    since = torch.tensor([[0, 1, 2, 3, 4, 5, 6, 7]] * 2 + [[0, 1, 2, 3, 0, 1, 2, 3]])
    correct = torch.tensor(
        [[0, 0, 1, 1, 1, 1, 1, 1], [0, 1, 1, 1, 1, 1, 1, 1], [0, 0, 1, 1, 0, 0, 1, 1]]
    ).bool()
    mask = torch.ones_like(correct)
    r = recovery(correct, since, mask, window=4)
    # acc(0) = 0/4, acc(1) = 1/4, acc(2) = acc(3) = 4/4; steady (d ≥ 4) = 8/8
    assert r["acc_since_0"] == 0.0 and r["acc_since_1"] == 0.25 and r["acc_since_2"] == 1.0
    assert r["steady_accuracy"] == 1.0
    assert r["recovery_steps"] == 2.0  # back within tol from d = 2 on
    assert r["switch_cost"] == pytest.approx(1.75)  # 1 + 0.75 steps of accuracy lost
    never = recovery(torch.zeros_like(correct), since, mask, window=4)
    assert never["switch_cost"] == 0.0 and never["recovery_steps"] == 0.0  # steady 0: no gap
    late = correct.clone()
    late[:, 3] = False  # wrong again at d = 3: not back within the window
    assert recovery(late, since, mask, window=4)["recovery_steps"] == 4.0
    no_steady = recovery(correct[2:], since[2:], mask[2:], window=4)
    assert math.isnan(no_steady["recovery_steps"])


def test_a_perfect_model_recovers_at_once_and_the_baseline_is_uniform():
    task = make_task("regime_switch", n_train=8, n_val=8, n_test=400)
    b = task.data("test")
    perfect = task.evaluate(20.0 * torch.nn.functional.one_hot(b.y, task.vocab).float(), b)
    assert perfect["recovery_steps"] == 0.0 and perfect["switch_cost"] == 0.0
    trivial = task.evaluate(task.trivial_prediction(b), b)
    assert trivial["accuracy"] == pytest.approx(task.baseline()["accuracy"], abs=0.02)


# ---------------------------------------------------------------------------------------------
# The drills cite the ledger


def put_flow(store: Store, arch: str, ratio: float) -> str:
    from seqarch.derive.flow import FLOW_KIND

    key = {"arch": arch, "seq_len": 61, "k_max": 60, "hidden_size": 32, "input_size": 8}
    key |= {"seeds": [0, 1], "trained": False}
    return store.put_measurement(FLOW_KIND, key, {"input_ratio": [ratio] * 60}, ENV)


def test_a_drill_on_a_claim_cites_the_ledger(tmp_path):
    import random

    from seqarch.practice import generators, run
    from seqarch.practice.session import default_citer

    q = generators.highway_question(random.Random(0))
    db = tmp_path / "s.db"
    Store(db).close()
    assert default_citer(str(db))(q) is None  # nothing stored: nothing cited
    with Store(db) as store:
        lstm_id = put_flow(store, "lstm", 1e-3)
        put_flow(store, "rnn", 1e-12)
    line = default_citer(str(db))(q)
    assert "LSTM's gradient flow is stable" in line and "holds" in line
    assert f"measurement:{lstm_id[:8]}" in line
    other = generators.serving_question(random.Random(1))
    if "transformer" not in other.prompt:
        assert default_citer(str(db))(other) is None
    summary = run([q], lambda _q, _e: "skip", lambda _e: None, cite=default_citer(str(db)))
    assert "Measured here (`seqarch claims`)" in summary.graded[0].grade.explanation


def test_one_seed_is_no_interval_so_no_verdict(tmp_path):
    db = tmp_path / "s.db"
    with Store(db) as store:
        put_adding(store, "lstm", 60, [0.0001])  # skill 1.00 from one seed: no interval
    part = judge(db, "lstm-stable").parts[-1]
    assert part.verdict == "unresolved" and "1.00" in part.why
    with Store(db) as store:
        put_adding(store, "lstm", 60, [0.0001, 0.00012, 0.00011])  # seeds 0–2 (seed 0 kept)
    assert judge(db, "lstm-stable").parts[-1].verdict == "holds"


def test_compare_states_its_rule():
    from seqarch.protocol import Interval
    from seqarch.rules import interval_difference as diff

    # disjoint but far inside the margin (1.0000 against 0.9995): no difference that matters
    assert E.compare(diff(Interval(1.0, 1e-4, 3), Interval(0.9995, 1e-4, 3)), 0.05) == "equivalent"
    assert E.compare(diff(Interval(0.9, 0.01, 3), Interval(0.5, 0.01, 3)), 0.05) == "better"
    assert E.compare(diff(Interval(0.5, 0.01, 3), Interval(0.9, 0.01, 3)), 0.05) == "worse"
    assert E.compare(diff(Interval(0.9, 0.3, 3), Interval(0.8, 0.3, 3)), 0.05) == "unresolved"
    assert E.faster(1.0, 0.1, 2.0, 0.1) == "faster" and E.faster(1.0, 0.5, 1.2, 0.1) == "tie"
    # paired by seed: marginal intervals that overlap, a difference that does not
    seeds = E.paired_difference({0: 0.5, 1: 0.7, 2: 0.9}, {0: 0.4, 1: 0.61, 2: 0.79})
    assert E.compare(seeds, 0.05) == "better" and seeds.paired


def test_a_claim_with_a_part_not_measured_is_incomplete_not_holds():
    f = E.Finding()
    f.part("lighter", "holds", "fewer parameters")
    f.part("faster per step", None, "`seqarch claims --run` takes the timings")
    assert f.verdict == "incomplete"
    assert f.why.startswith("incomplete: 1 of 2 parts measured (holds so far)")
    f.part("cheaper state", "breaks", "more bytes")
    assert f.verdict == "incomplete" and "2 of 3 parts measured (depends so far)" in f.why
    g = E.Finding()
    g.part("faster per step", None, "not timed")
    assert g.verdict == "missing"
    h = E.Finding()
    h.part("lighter", "holds", "fewer parameters")
    assert h.verdict == "holds" and not h.why.startswith("incomplete")


def test_a_run_stopped_by_time_never_decides_a_claim():
    """The wall-clock limit is a safety net: a quality resting on a run it stopped is
    unresolved, however good its numbers."""
    from seqarch.advise import Figure, Quality
    from seqarch.claims.evidence import solved_part, standing

    def q(stopped: int) -> Quality:
        return Quality(
            skill=Figure(0.99, "", "run:x"),
            spread=0.005,
            metric="mse",
            value=0.001,
            baseline=1 / 6,
            task="adding",
            horizon=60,
            seq_len=67,
            run_ids=["a", "b", "c"],
            train_seconds=1.0,
            stopped_by_time=stopped,
        )

    assert standing(q(0)) == "solves" and solved_part(q(0)) == "holds"
    assert standing(q(1)) == "unresolved" and solved_part(q(1)) == "unresolved"


# ---------------------------------------------------------------------------------------------
# The trade-off rows: judged on the real tasks of their kind and on the synthetic probe


def _row(measured: str, holds: bool, covered: str = "4 of 4", proxy: str = "vad") -> object:
    from seqarch.advise.evaluate import TableRow

    return TableRow(
        task_type="Medium sequences: a short sentence",
        textbook="LSTM / GRU",
        textbook_why="balanced memory & speed",
        measured=measured,
        measured_why=f"{measured} skill 0.90 — decided by the dependency length",
        holds=holds,
        evidence=["run:0123456789abcdef"],
        confidence="high",
        has_quality=True,
        proxy=proxy,
        covered=covered,
        complete=covered == "4 of 4",
    )


def test_a_table_row_is_judged_on_its_real_task_and_on_its_probe(tmp_path):
    db = tmp_path / "s.db"
    Store(db).close()
    claim = next(c for c in C.claims() if c.id == "table-medium")
    with Store(db) as store:
        st = E.Stored(store)
    adding = _row("lstm", True)
    # the real task alone: incomplete, never holds — the probe named as missing
    e = ledger._table_entry(claim, st, adding, [_row("lstm", True)])
    assert e.verdict == "incomplete" and e.why.startswith(
        "incomplete: 1 of 2 parts measured (holds so far)"
    )
    assert any("adding problem 60 steps back" in m for m in e.missing)
    assert any(n.source == "run:0123456789abcdef" for n in e.numbers)
    e = ledger._table_entry(claim, st, adding, [_row("transformer", False)])
    assert e.verdict == "incomplete" and "(breaks so far)" in e.why, e.why
    # a real task where one of the four has no runs is not judged
    e = ledger._table_entry(claim, st, adding, [_row("lstm", True, covered="3 of 4")])
    assert e.verdict == "missing" and len(e.missing) == 2
    # the probe stored for all four (every seed): a real task that breaks and a probe that
    # holds make the row depend on the task, and the entry says which is which
    with Store(db) as store:
        for arch in ("rnn", "lstm", "gru", "transformer"):
            put_adding(store, arch, 60, [0.01, 0.011, 0.012])
        st = E.Stored(store)
    e = ledger._table_entry(claim, st, adding, [_row("transformer", False)])
    assert e.verdict == "depends", e.why
    assert "on a short sentence (`vad`, real data): breaks" in e.why
    assert "on the adding problem 60 steps back (synthetic): holds" in e.why


def test_an_unresolved_entry_asks_for_more_seeds_of_what_it_cites(tmp_path):
    from seqarch import protocol
    from seqarch.claims import seeds_for_unresolved

    db = tmp_path / "s.db"
    with Store(db) as store:
        put_regime(store, "lstm", [1.0, 2.0, 3.0])  # wide intervals that overlap: unresolved
        put_regime(store, "gru", [1.5, 2.5, 0.5])
    assert judge(db, "gru-context").verdict == "unresolved"
    extra = seeds_for_unresolved(db)
    assert sorted((r.arch, r.seed) for r in extra) == [
        (a, s) for a in ("gru", "lstm") for s in range(3, 3 + protocol.DEFAULT.race_step)
    ]  # one racing round: the models in question only, matched seed for seed
    assert {r.train.lr for r in extra} == {0.01} and {r.task for r in extra} == {"regime_switch"}
    db2 = tmp_path / "s2.db"
    with Store(db2) as store:  # resolved: nothing more is asked
        put_regime(store, "lstm", [1.0, 1.01, 1.02])
        put_regime(store, "gru", [1.0, 1.01, 1.02])
    assert judge(db2, "gru-context").verdict == "breaks"
    assert seeds_for_unresolved(db2) == []


def test_the_onnx_export_check_judges_easy_to_deploy(tmp_path):
    from seqarch.export import deployment
    from seqarch.records import Export

    db = tmp_path / "s.db"
    with Store(db) as store:
        assert "easy to deploy: missing" in judge(db, "rnn-streaming").why
        for arch in ("rnn", "transformer"):
            deployment(arch, 64, 8).save(store, ENV)
    f = judge(db, "rnn-streaming")
    assert "easy to deploy: holds — one standard ONNX RNN operator" in f.why, f.why
    assert "transformer: no fixed-size graph" in f.why
    with Store(db) as store:  # an export that drifts from PyTorch is not easy to deploy
        Export(arch="rnn", hidden_size=64, input_size=8, form="sequence", max_error=0.3).save(
            store, ENV
        )
    assert "easy to deploy: breaks" in judge(db, "rnn-streaming").why


# ---------------------------------------------------------------------------------------------
# "RNNs for streaming" held against the models that stream too with a bounded window


def put_window_step(store: Store, arch: str, R: int, p50: float, spread: float = 0.05) -> str:
    row = Latency(
        arch=arch,
        hidden_size=64,
        input_size=64,
        how="stream via step",
        p50_us=p50,
        spread_us=spread,
        receptive_field=R,
    )
    return row.save(store, ENV)


def window_part(db, w: str) -> E.Part:
    return next(p for p in judge(db, "rnn-streaming").parts if f"bounded window ({w}," in p.name)


def test_the_bounded_windows_are_chosen_by_capability(monkeypatch):
    from seqarch.claims import run as plan
    from seqarch.models import MODELS, build

    windows = plan.window_archs()
    assert windows  # the registry has one today
    for name in MODELS:
        m = build(name, input_size=1, hidden_size=4)
        bounded = not m.state_grows() and m.receptive_field() is not None
        assert (name in windows) == bounded, name
    for w in windows:  # built to see the streaming probe's signal
        assert plan.window_field(w) >= plan.WINDOW_LEN == plan.STREAM_H + 1
    # a new bounded-window model joins without being named anywhere in the ledger
    new = type("Window2", (MODELS[windows[0]],), {"arch": "window2"})
    monkeypatch.setitem(MODELS, "window2", new)
    plan.window_archs.cache_clear()
    try:
        assert plan.window_archs() == (*windows, "window2")
    finally:
        monkeypatch.delitem(MODELS, "window2")
        plan.window_archs.cache_clear()


def test_a_bounded_window_is_judged_on_its_state_and_measured_step(tmp_path):
    from seqarch.claims import run as plan

    w = plan.window_archs()[0]
    R = plan.window_field(w)
    db = tmp_path / "s.db"
    with Store(db) as store:  # no step timed: the part is missing, the entry never holds
        put_step(store, "rnn", 64, 1.0)
    part = window_part(db, w)
    assert part.verdict is None and "takes the timings" in part.why
    assert judge(db, "rnn-streaming").verdict in ("incomplete", "missing")
    with Store(db) as store:  # a window of another R is another model: still not measured
        put_window_step(store, w, R + 1, 5.0)
    assert window_part(db, w).verdict is None
    with Store(db) as store:  # timed at the window that sees h = 5: 1000× the RNN's step
        wid = put_window_step(store, w, R, 1000.0)
    part = window_part(db, w)
    assert part.verdict == "holds" and "the RNN steps faster" in part.why, part.why
    assert f"R = {R}" in part.name and f"sees the signal {plan.STREAM_H} steps back" in part.why
    f = judge(db, "rnn-streaming")
    assert any(n.source == f"measurement:{wid[:8]}" for n in f.numbers)
    assert any(n.source == f"formula:{w}.cost.state_bytes" for n in f.numbers)
    with Store(db) as store:  # a newer timing: the window steps faster, its state still larger
        put_window_step(store, w, R, 0.5)
    part = window_part(db, w)
    assert part.verdict == "depends" and "the RNN steps slower" in part.why, part.why
    with Store(db) as store:  # within the spread: a tie is not "faster", still depends
        put_window_step(store, w, R, 1.01)
    assert "their steps tie" in window_part(db, w).why
