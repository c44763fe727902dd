"""The advisor on synthetic evidence: verdicts, ranking, defense, flips, misunderstandings."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
import time

import pytest

from seqarch import advise as A
from seqarch import protocol
from seqarch.store import Store

CLASSIC = ["rnn", "lstm", "gru", "transformer"]


def evidence(
    spec: A.ProblemSpec,
    skills: dict[str, float],
    step_us: dict[str, float] | None = None,
    seq_us: dict[str, float] | None = None,
    spread: float = 0.01,
    train_seconds: float = 30.0,
) -> dict[str, A.Evidence]:
    """Formula evidence for the classic four, plus made-up quality and latency."""
    out = {}
    for arch in CLASSIC:
        ev = A.formula_evidence(spec, arch)
        if arch in skills:
            s = skills[arch]
            ev.quality = A.Quality(
                skill=A.Figure(s, "", f"run:{arch}0001"),
                spread=spread,
                metric="mse",
                value=(1 - s) / 6,
                baseline=1 / 6,
                task="adding",
                horizon=min(spec.effective_horizon, 200),
                seq_len=spec.seq_len,
                run_ids=[f"{arch}0001aaaa", f"{arch}0002bbbb"],
                train_seconds=train_seconds,
                seed_skills={0: s, 1: s},  # the same seeds for every model: paired
            )
        if step_us and arch in step_us:
            ev.step_us = A.Figure(step_us[arch], "µs", f"measurement:{arch}-step")
        if seq_us and arch in seq_us:
            ev.seq_us = A.Figure(seq_us[arch], "µs", f"measurement:{arch}-seq")
        out[arch] = ev
    return out


STREAM_STEPS = {"rnn": 4.0, "gru": 9.0, "lstm": 8.0, "transformer": 410.0}


def test_streaming_short_horizon_picks_the_cheapest_adequate_model():
    spec = A.ProblemSpec(seq_len=2000, horizon=5, streaming=True, latency_us=50, input_size=8)
    ev = evidence(spec, {"rnn": 0.95, "lstm": 0.96, "gru": 0.96, "transformer": 0.97}, STREAM_STEPS)
    rec = A.recommend(spec, ev)
    assert rec.recommendation == "rnn"
    assert [v.arch for v in rec.ranking][-1] == "transformer"  # over the latency budget
    t = next(v for v in rec.ranking if v.arch == "transformer")
    assert not t.feasible and t.blocked_by == ["latency"]
    assert rec.key_reason in ("latency", "short_range")
    assert any("Transformers are always better" in m for m in rec.misunderstandings)


def test_long_horizon_rules_out_the_rnn_and_says_why():
    spec = A.ProblemSpec(seq_len=300, horizon=250, input_size=2, output_size=1)
    ev = evidence(
        spec,
        {"rnn": 0.01, "lstm": 0.99, "gru": 0.98, "transformer": 0.90},
        seq_us={"rnn": 500, "lstm": 900, "gru": 1500, "transformer": 700},
    )
    rec = A.recommend(spec, ev)
    assert rec.recommendation == "lstm"  # adequate and cheaper than the GRU here
    assert rec.key_reason == "long_range"
    rnn = next(v for v in rec.ranking if v.arch == "rnn")
    assert rnn.feasible and not rnn.adequate
    assert "rnn is not enough here" in rec.defense
    # and the GRU-is-faster textbook claim is called out where it breaks on this machine
    gru_note = next(m for m in rec.misunderstandings if "compressed LSTMs" in m)
    assert "does not hold on this machine" in gru_note


def test_a_better_model_blocked_by_latency_makes_latency_the_reason_and_a_flip():
    spec = A.ProblemSpec(seq_len=1000, horizon=500, streaming=True, latency_us=100)
    ev = evidence(spec, {"rnn": 0.0, "lstm": 0.4, "gru": 0.3, "transformer": 0.9}, STREAM_STEPS)
    rec = A.recommend(spec, ev)
    assert rec.recommendation == "lstm"
    assert rec.key_reason == "latency"
    assert any("rose to 410 µs per step, transformer would win" in f for f in rec.flips)
    assert any("fell below lstm's 8 µs per step, only rnn would fit" in f for f in rec.flips)


def test_memory_budget_rules_out_a_growing_kv_cache():
    spec = A.ProblemSpec(seq_len=4096, max_len=100_000, horizon=50, memory_mb=8, hidden_size=128)
    ev = evidence(spec, {a: 0.9 for a in CLASSIC})
    rec = A.recommend(spec, ev)
    t = next(v for v in rec.ranking if v.arch == "transformer")
    assert t.blocked_by == ["memory"]
    assert any("KV cache grows" in f and "no longer fit" in f for f in rec.flips)
    # the KV cache flip is the formula's: 2·L·d·4 bytes per step
    assert "1 KiB per step" in " ".join(rec.flips)


def test_impossible_budget_is_refused_not_silently_picked():
    spec = A.ProblemSpec(seq_len=100, horizon=5, streaming=True, latency_us=0.5)
    ev = evidence(spec, {a: 0.9 for a in CLASSIC}, STREAM_STEPS)
    with pytest.raises(ValueError, match="no architecture meets"):
        A.recommend(spec, ev)


NUMBER = re.compile(r"(?<![\w.])\d+(?:,\d{3})*(?:\.\d+)?(?:e[-+]?\d+)?")


def _allowed_numbers(spec: A.ProblemSpec, ev: dict[str, A.Evidence]) -> set[str]:
    """Every number the defense may print: spec fields and evidence figures, as formatted."""
    allowed: set[str] = set()

    def add(text: str) -> None:
        allowed.update(NUMBER.findall(text))

    for v in spec.to_dict().values():
        if isinstance(v, int | float) and not isinstance(v, bool):
            add(f"{v:g}")
            add(A.fmt(v, "µs"))
    for e in ev.values():
        for f in (e.params, e.flops_per_token, e.state_bytes, e.weights_bytes, e.step_us):
            if f is not None:
                add(f.text())
        if e.quality is not None:
            q = e.quality
            add(f"{q.skill.value:.2f} {q.spread:.2f} {q.value:.3g} {q.baseline:.3g} {q.horizon}")
            add(str(len(q.run_ids)))
            add(" ".join(r[:8] for r in q.run_ids))
    add(f"{100 * protocol.DEFAULT.confidence:.0f}")  # the interval's confidence level
    return allowed


@pytest.mark.parametrize(
    "spec,skills",
    [
        (
            A.ProblemSpec(seq_len=2000, horizon=5, streaming=True, latency_us=50, input_size=8),
            {"rnn": 0.95, "lstm": 0.96, "gru": 0.96, "transformer": 0.97},
        ),
        (
            A.ProblemSpec(seq_len=1000, horizon=500, streaming=True, latency_us=100),
            {"rnn": 0.0, "lstm": 0.4, "gru": 0.3, "transformer": 0.9},
        ),
    ],
)
def test_the_defense_cites_only_numbers_from_the_evidence(spec, skills):
    ev = evidence(spec, skills, STREAM_STEPS)
    rec = A.recommend(spec, ev)
    allowed = _allowed_numbers(spec, ev)
    body = rec.defense.split("When the answer would flip")[0]  # flips derive new thresholds
    body = re.sub(r"\[[^\]]*\]", "", body)  # sources in brackets are ids, not figures
    cited = NUMBER.findall(body)
    assert cited, "a defense without numbers is not a defense"
    assert set(cited) <= allowed, set(cited) - allowed


def test_misunderstandings_appear_exactly_when_they_apply(tmp_path):
    # a Transformer win: no "Transformers are always better" note
    spec = A.ProblemSpec(seq_len=512, horizon=400)
    ev = evidence(spec, {"rnn": 0.0, "lstm": 0.3, "gru": 0.2, "transformer": 0.95})
    rec = A.recommend(spec, ev)
    assert rec.recommendation == "transformer"
    assert not any("Transformers are always better" in m for m in rec.misunderstandings)
    assert not any("Dropout" in m for m in rec.misunderstandings)  # no user data: no note
    # user data given: the dropout note appears
    data = tmp_path / "d.csv"
    data.write_text("a,b,label\n1,2,0\n3,4,1\n")
    spec_d = A.ProblemSpec(seq_len=2, data=str(data))
    rec_d = A.recommend(spec_d, evidence(spec_d, {a: 0.5 for a in CLASSIC}))
    assert any("Dropout alone" in m for m in rec_d.misunderstandings)


def test_json_schema_is_stable():
    spec = A.ProblemSpec(seq_len=200, horizon=20, streaming=True, latency_us=100)
    rec = A.recommend(spec, evidence(spec, {a: 0.9 for a in CLASSIC}, STREAM_STEPS))
    d = json.loads(json.dumps(rec.to_dict()))
    for key in (
        "spec",
        "recommendation",
        "runner_up",
        "ranking",
        "flips",
        "caveats",
        "defense",
        "missing_evidence",
    ):
        assert key in d
    assert {r["arch"] for r in d["ranking"]} == set(CLASSIC)
    for r in d["ranking"]:
        assert set(r) >= {"arch", "feasible", "reasons", "expected", "cost", "evidence"}
        assert any(e.startswith("formula:") for e in r["evidence"])


def test_no_run_with_an_empty_store_says_what_is_missing(tmp_path):
    spec = A.ProblemSpec(seq_len=100, horizon=10, streaming=True, latency_us=100)
    rec = A.advise(spec, db=tmp_path / "empty.db", run=False, names=CLASSIC)
    assert rec.confidence == "low"
    assert any("no stored training runs" in m for m in rec.missing_evidence)
    assert any("latency not measured" in m for m in rec.missing_evidence)
    assert any("cost alone" in c for c in rec.caveats)


def test_stored_runs_are_read_back_at_the_nearest_horizon(tmp_path):
    db = tmp_path / "s.db"
    with Store(db) as store:
        for arch, mse in (("rnn", 0.16), ("lstm", 0.002)):
            for h, seed in ((20, 0), (180, 0), (180, 1)):
                config = {
                    "arch": arch,
                    "task": "adding",
                    "seed": seed,
                    "task_config": {"seq_len": h + 5, "distance": h},
                    "model_config": {"hidden_size": 32},
                    "train": {"lr": 0.01},
                }
                rid = f"{arch}{h}{seed}".ljust(16, "0")
                value = mse if h == 180 else 0.01
                store.put_run(
                    rid,
                    config,
                    {"mse": value, "train_seconds": 12.0},
                    [],
                    {},
                    time.time(),
                    time.time(),
                )
    spec = A.ProblemSpec(seq_len=300, horizon=150)
    rec = A.advise(spec, db=db, run=False, names=["rnn", "lstm"])
    lstm = next(v for v in rec.ranking if v.arch == "lstm")
    assert lstm.expected["horizon"] == 180 and lstm.expected["seeds"] == 2
    assert rec.recommendation == "lstm"
    assert "lstm1800" in " ".join(lstm.evidence)


@pytest.mark.parametrize(
    "kwargs,needle",
    [
        (dict(seq_len=0), "seq_len=0"),
        (dict(seq_len=100, horizon=100), "horizon=100"),
        (dict(seq_len=100, max_len=50), "max_len=50"),
        (dict(seq_len=100, latency_us=-1), "latency_us=-1"),
        (dict(seq_len=100, task_kind="translate"), "translate"),
        (dict(seq_len=100, data="/no/such.csv"), "/no/such.csv"),
    ],
)
def test_bad_specs_are_refused(kwargs, needle):
    with pytest.raises(ValueError, match=re.escape(needle)):
        A.ProblemSpec(**kwargs)


def test_cli_bad_spec_is_one_line_exit_2(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "seqarch.cli",
            "advise",
            "--seq-len",
            "50",
            "--horizon",
            "80",
            "--no-run",
            "--db",
            str(tmp_path / "x.db"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "horizon=80" in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_spec_from_toml(tmp_path):
    f = tmp_path / "p.toml"
    f.write_text('[problem]\nseq-len = 400\nhorizon = "unknown"\nstreaming = true\n')
    spec = A.ProblemSpec.from_toml(f)
    assert spec.seq_len == 400 and spec.horizon is None and spec.streaming
    f.write_text("[problem]\nseq_len = 400\nwidth = 3\n")
    with pytest.raises(ValueError, match="'width'"):
        A.ProblemSpec.from_toml(f)


def test_advice_on_the_users_own_data(tmp_path):
    """--data: the fair protocol on the user's rows (an lr sweep, then 3 seeds, each on its own
    split), the classical peers on the same splits, the winner and its interval."""
    import numpy as np

    rng = np.random.default_rng(0)
    rows = ["t0,t1,t2,t3,t4,t5,t6,t7,label"]
    for _ in range(120):  # the label is the sign of the first value: a 7-step memory
        x = rng.normal(size=8)
        rows.append(",".join(f"{v:.4f}" for v in x) + f",{int(x[0] > 0)}")
    data = tmp_path / "mine.csv"
    data.write_text("\n".join(rows) + "\n")
    spec = A.ProblemSpec(seq_len=8, data=str(data), train_minutes=0.25, hidden_size=16)
    rec = A.advise(spec, db=tmp_path / "d.db", run=True, names=["rnn", "gru"], max_steps=200)
    assert rec.key_reason == "data"
    added = rec.raced["added"] if rec.raced else 0  # racing, if the top was unresolved
    for v in rec.ranking:
        assert v.expected["task"] == "file_sequences"
        assert v.expected["seeds"] == 3 or (added and v.expected["seeds"] == rec.raced["seeds"])
        assert v.expected["protocol"] == "fair/1" and v.expected["lr"] in protocol.FAIR.lr_grid
        assert v.cost["seq_us"] is not None  # timed here at the spec's length
    assert any("Dropout alone" in m for m in rec.misunderstandings)
    assert [p["peer"] for p in rec.peers] == ["minirocket", "1nn-dtw", "linear-summary"]
    assert all(p["splits"] == 3 for p in rec.peers)
    assert any("classical peer" in c for c in rec.caveats)
    # a second call finds everything stored: no new runs
    with Store(tmp_path / "d.db") as store:
        before = len(store.runs())
    A.advise(spec, db=tmp_path / "d.db", run=True, names=["rnn", "gru"], max_steps=200)
    with Store(tmp_path / "d.db") as store:
        # per arch: the sweep, 2 more seeds (and any racing added); then the winner on its
        # last k = 1, 2, 4 steps, every seed of it
        lag = 3 * next(v for v in rec.ranking if v.arch == rec.recommendation).expected["seeds"]
        assert len(store.runs()) == before == 2 * (4 + 2) + added + lag


def test_the_dropout_note_cites_the_stored_ablation(tmp_path):
    db = tmp_path / "a.db"
    with Store(db) as store:
        for i, (train, acc) in enumerate(
            [
                ({"dropout": 0.3, "clip_norm": None}, 0.81),
                ({"dropout": 0.3, "clip_norm": None}, 0.79),
                (
                    {
                        "dropout": 0.3,
                        "clip_norm": 1.0,
                        "layer_norm": True,
                        "jitter_sigma": 0.03,
                    },
                    0.93,
                ),
            ]
        ):
            config = {
                "arch": "lstm",
                "task": "ucr",
                "seed": i,
                "train": train,
                "task_config": {"dataset": "GunPoint"},
                "model_config": {},
            }
            store.put_run(
                f"abl{i}".ljust(16, "0"),
                config,
                {"accuracy": acc, "metric": "accuracy"},
                [],
                {},
                0.0,
                1.0,
            )
        abl = A.ablation_evidence(store)
    assert abl["dropout_only"]["n"] == 2 and abl["combined"]["n"] == 1
    assert abl["dropout_only"]["mean"] == pytest.approx(0.80)
    data = tmp_path / "d.csv"
    data.write_text("a,b,label\n1,2,0\n3,4,1\n")
    spec = A.ProblemSpec(seq_len=2, data=str(data))
    ev = evidence(spec, {a: 0.5 for a in CLASSIC})
    for e in ev.values():
        e.ablation = abl
    note = next(m for m in A.recommend(spec, ev).misunderstandings if "Dropout alone" in m)
    assert (
        "right, measured on GunPoint: test accuracy 0.800 with dropout alone against 0.930" in note
    )
    for e in ev.values():  # and when the measurement says the cure did not help, it says so
        e.ablation = {**abl, "combined": {**abl["combined"], "mean": 0.7}}
    note = next(m for m in A.recommend(spec, ev).misunderstandings if "Dropout alone" in m)
    assert "the source's cure did not hold here" in note and "0.700" in note


def test_the_textbook_table_says_what_decided_each_row(tmp_path):
    """Without stored evidence the rows still name the winner, the textbook's pick beside it
    and the deciding reason (the skills show as unknown, never as invented numbers)."""
    from seqarch.advise.evaluate import TEXTBOOK, textbook_table

    rows = textbook_table(db=tmp_path / "empty.db", run=False)
    assert [r.task_type for r in rows] == [t[0] for t in TEXTBOOK]
    for r in rows:
        assert r.measured_why.startswith(r.measured + " skill ")
        assert " — decided by " in r.measured_why
        assert r.holds == (r.measured in r.textbook.lower().split(" / "))


# ---------------------------------------------------------------------------------------------
# The proxy: the real task nearest the problem when the user brings no data (advise/proxy.py)


@pytest.mark.parametrize(
    "kw, task, config",
    [
        (
            dict(seq_len=2000, horizon=20, streaming=True, input_size=8),
            "activity_stream",
            {"seq_len": 150},
        ),
        (dict(seq_len=1000, horizon=5, streaming=True, input_size=8), "vad", {}),
        (dict(seq_len=1000, horizon=500, streaming=True), "adding", {}),
        (dict(seq_len=120, horizon=60), "adding", {}),
        (
            dict(seq_len=100, horizon=60, task_kind="lm", input_size=55),
            "transduce",
            {"max_digits": 6},
        ),
        (
            dict(seq_len=30, horizon=20, task_kind="lm", input_size=55),
            "transduce",
            {"max_digits": 2},
        ),
        (dict(seq_len=30, horizon=20, streaming=True, proxy="adding"), "adding", {}),
        (
            dict(seq_len=300, horizon=3, streaming=True, proxy="transduce"),
            "transduce",
            {"max_digits": 2},
        ),
    ],
)
def test_the_proxy_is_the_real_task_nearest_the_problem(kw, task, config):
    from seqarch.advise import proxy

    p = proxy.choose(A.ProblemSpec(**kw))
    assert (p.task, p.task_config) == (task, config)
    assert p.real == (task != "adding") and p.why
    if p.real and "proxy" not in kw:  # within the reach window of the problem's horizon
        assert 1 / proxy.WINDOW <= p.horizon / kw["horizon"] <= proxy.WINDOW


def test_no_real_task_in_reach_says_why_the_adding_problem_stands_in():
    from seqarch.advise import proxy

    p = proxy.choose(A.ProblemSpec(seq_len=1000, horizon=500, streaming=True))
    assert "vad 3" in p.why and "activity_stream 30" in p.why and "500" in p.why


def test_a_real_proxy_shares_its_runs_with_the_real_preset():
    """The advisor trains a real proxy under the preset's recipe: the same run ids, stored once."""
    from seqarch.advise import proxy
    from seqarch.models import MODELS
    from seqarch.study import load_study

    preset = {r.id for r in load_study("real")}
    for kw in (
        dict(seq_len=2000, horizon=20, streaming=True, input_size=8),
        dict(seq_len=1000, horizon=5, streaming=True),
    ):
        runs = proxy.runs(proxy.choose(A.ProblemSpec(**kw)), list(MODELS))
        assert runs and {r.id for r in runs} <= preset
        assert len({r.train.max_steps for r in runs}) == 1  # one budget for every architecture


@pytest.mark.parametrize(
    "kw, words",
    [
        (dict(seq_len=100, proxy="speech"), "proxy='speech' is not accepted; expected one of auto"),
        (dict(seq_len=100, proxy="vad", data=__file__), "not accepted with --data"),
    ],
)
def test_a_bad_proxy_is_refused_in_one_line(kw, words):
    from seqarch.errors import BadInput

    with pytest.raises(BadInput, match=re.escape(words)):
        A.ProblemSpec(**kw)


def test_the_defense_names_the_real_proxy_and_why():
    from seqarch.advise import proxy

    spec = A.ProblemSpec(seq_len=2000, horizon=20, streaming=True, input_size=8)
    p = proxy.choose(spec)
    ev = evidence(spec, {"rnn": 0.9, "lstm": 0.92, "gru": 0.91, "transformer": 0.9}, STREAM_STEPS)
    for e in ev.values():
        e.proxy = p
    rec = A.recommend(spec, ev)
    assert "activity_stream" in rec.defense and p.words in rec.defense and p.why in rec.defense
    assert rec.proxy["task"] == "activity_stream" and rec.to_dict()["proxy"] == rec.proxy
    synthetic = proxy.choose(A.ProblemSpec(seq_len=120, horizon=60))
    for e in ev.values():
        e.proxy = synthetic
    rec = A.recommend(A.ProblemSpec(seq_len=120, horizon=60), ev)
    assert "The adding problem stands in for this problem: no real classify task" in rec.defense


def test_every_architecture_is_judged_at_one_stored_distance():
    """Never each model at its own nearest distance: the common one nearest the target among
    the distances stored for at least two models; a model without a run there is missing."""
    from seqarch.advise.gather import common_horizon

    q = object()
    assert common_horizon({"a": {60: q, 150: q}, "b": {60: q}, "c": {150: q}}, 200) == 150
    assert common_horizon({"a": {60: q}, "b": {60: q}, "c": {150: q}}, 200) == 60
    assert common_horizon({"a": {20: q, 40: q}, "b": {20: q, 40: q}}, 28) == 20
    assert common_horizon({"a": {20: q, 80: q}, "b": {20: q, 80: q}}, 40) == 80  # tie: longer
    assert common_horizon({"a": {30: q}}, 200) == 30  # one model alone: its own
    assert common_horizon({"a": {}, "b": {}}, 10) is None


def test_the_ablation_cites_the_protocols_selected_seeds_only(tmp_path):
    """Under the fair protocol the sweep's rejected learning rates are tuning, not evidence:
    the dropout note averages the selected lr's seeds alone."""
    from seqarch.train import RunConfig, TrainConfig

    fair = protocol.DEFAULT
    arms = {
        "dropout_only": {"dropout": 0.3, "clip_norm": None},
        "combined": {"dropout": 0.3, "clip_norm": 1.0, "layer_norm": True, "jitter_sigma": 0.03},
    }
    with Store(tmp_path / "p.db") as store:
        for arm, train in arms.items():
            base = RunConfig(
                arch="lstm",
                task="ucr",
                task_config={"dataset": "GunPoint"},
                train=TrainConfig(**train, **fair.train_options(100)),
            )
            sweep = protocol.expand(base, fair)
            chosen = next(r for r in sweep if r.train.lr == fair.lr_grid[1])
            seeds = [dataclasses.replace(chosen, seed=s) for s in fair.seeds[1:]]
            for r in sweep + seeds:
                best = r.train.lr == fair.lr_grid[1]  # the lr validation selects
                acc = (0.9 if arm == "combined" else 0.8) if best else 0.1  # rejected: poor
                metrics = {"metric": "accuracy", "accuracy": acc, "val_accuracy": acc}
                store.put_run(r.id, r.to_dict(), metrics, [], {}, 1.7e9, 1.7e9 + 1)
        abl = A.ablation_evidence(store)
    assert abl["dropout_only"]["mean"] == pytest.approx(0.8)
    assert abl["combined"]["mean"] == pytest.approx(0.9)
    assert abl["combined"]["n"] == len(fair.seeds)


def _put_protocol_runs(store: Store, arch: str, skills: list[float]) -> None:
    """A complete fair/1 comparison of ``arch`` on a tiny adding problem: the sweep (lr 1e-2
    best on validation) and seeds 1, 2 at it, with test skill ``skills`` per seed 0, 1, 2."""
    from seqarch.train import RunConfig, TrainConfig

    base = RunConfig(
        arch=arch,
        task="adding",
        task_config={"seq_len": 12, "distance": 5, "n_train": 128, "n_val": 32, "n_test": 64},
        model_config={"hidden_size": 8, "num_layers": 1},
        train=TrainConfig(batch_size=32, threads=1, **protocol.DEFAULT.train_options(10)),
    )
    runs = protocol.expand(base) + [r for r in protocol.everything(base) if r.train.lr == 1e-2]
    for r in {r.id: r for r in runs}.values():
        skill = skills[r.seed] if r.train.lr == 1e-2 else 0.0
        metrics = {
            "metric": "mse",
            "higher_is_better": False,
            "mse": (1 - skill) / 6,
            "val_mse": 0.01 if r.train.lr == 1e-2 else 0.1,
            "train_seconds": 1.0,
        }
        store.put_run(r.id, r.to_dict(), metrics, [], {}, time.time(), time.time())


def test_racing_adds_seeds_to_the_models_in_question_only(tmp_path):
    """The cheap RNN's paired difference to the LSTM straddles the margin: racing trains more
    seeds of those two (not of the GRU, shown short), re-reads the evidence after each round,
    and the advice says how many seeds decided it."""
    import importlib

    gather = importlib.import_module("seqarch.advise.gather")
    db = tmp_path / "race.db"
    spec = A.ProblemSpec(seq_len=12, horizon=5)
    archs = ["rnn", "gru", "lstm"]
    with Store(db) as store:
        _put_protocol_runs(store, "lstm", [0.52, 0.58, 0.75])
        _put_protocol_runs(store, "rnn", [0.50, 0.60, 0.70])  # −0.02 ± 0.09: unresolved
        _put_protocol_runs(store, "gru", [0.20, 0.30, 0.40])  # shown short

    def regather():
        with Store(db) as store:
            runs = store.runs(task="adding")
        ev = {a: A.formula_evidence(spec, a) for a in archs}
        for a in archs:
            ev[a].quality = A.qualities_by_horizon(runs, a, "adding")[5]
        return ev

    ev = regather()
    assert A.decide.in_question(spec, A.rank(spec, ev), ev) == ["rnn", "lstm"]
    ev, raced = gather.race_top(spec, ev, db, regather, say=lambda _m: None)
    assert raced.rounds >= 1 and raced.seeds >= 5
    seeds = {a: len(ev[a].quality.run_ids) for a in archs}
    assert seeds["gru"] == 3 and seeds["rnn"] == seeds["lstm"] == raced.seeds
    assert set(ev["rnn"].quality.seed_skills) == set(range(raced.seeds))  # matched, seed for seed
    rec = A.recommend(spec, ev, raced)
    assert any("raced" in c and f"{raced.seeds} seeds" in c for c in rec.caveats)
    assert rec.raced["seeds"] == raced.seeds


def test_a_window_short_of_the_signal_is_infeasible_and_says_its_receptive_field():
    """A model whose output sees R steps back (a convolution's window) cannot use a signal
    further back: out, with R named and its formula cited. Sized for the spec's longest input
    (as training builds it), the TCN's window covers the whole sequence."""
    spec = A.ProblemSpec(seq_len=200, horizon=150, input_size=4)
    ev = A.formula_evidence(spec, "tcn")
    assert ev.receptive_field is not None and ev.receptive_field.value > 200
    assert A.verdict(spec, ev).feasible
    for arch in CLASSIC:  # unbounded models have no window
        assert A.formula_evidence(spec, arch).receptive_field is None
    ev.receptive_field = A.Figure(100, "steps", "formula:tcn.cost.receptive_field")
    v = A.verdict(spec, ev)
    assert v.blocked_by == ["receptive_field"]
    assert "sees 100 steps back" in " ".join(v.reasons) and "short of" in " ".join(v.reasons)
    assert "formula:tcn.cost.receptive_field" in v.evidence


def test_a_table_row_with_a_model_not_measured_reads_incomplete_never_a_verdict():
    from rich.console import Console

    from seqarch.advise.evaluate import TableRow
    from seqarch.advise.render import textbook

    def row(covered: str, holds: bool = True) -> TableRow:
        return TableRow(
            task_type="Medium sequences",
            textbook="LSTM / GRU",
            textbook_why="balanced memory & speed",
            measured="gru",
            measured_why="gru skill 0.90",
            holds=holds,
            evidence=[],
            covered=covered,
            complete=covered == "4 of 4",
        )

    assert row("4 of 4").claim == "holds" and row("4 of 4", False).claim == "breaks"
    assert row("3 of 4").claim == "incomplete: 3 of 4 parts measured (holds so far)"
    assert row("3 of 4", False).claim == "incomplete: 3 of 4 parts measured (breaks so far)"
    assert row("0 of 4").claim == "incomplete: 0 of 4 parts measured"
    console = Console(width=400, record=True)
    console.print(textbook([row("3 of 4")]))
    shown = console.export_text()
    assert "incomplete: 3 of 4 parts measured (holds so far)" in shown


def test_evidence_that_would_take_longer_than_the_budget_is_not_trained(tmp_path, monkeypatch):
    """A planted step time: the estimate exceeds the default budget, so nothing trains; the
    answer is cost only, with the estimate up front and the --train-minutes that measures it."""
    import seqarch.study
    import seqarch.train
    from seqarch.store import Store

    monkeypatch.setattr(seqarch.train, "step_seconds", lambda *a, **k: 5.0)

    def no_training(*a, **k):
        raise AssertionError("trained despite an estimate over the budget")

    monkeypatch.setattr(seqarch.study, "run_study", no_training)
    said: list[str] = []
    spec = A.ProblemSpec(seq_len=300, horizon=150, input_size=12, task_kind="classify")
    db = tmp_path / "s.db"
    rec = A.advise(spec, db=db, run=True, names=["rnn", "gru"], progress=said.append)
    line = next(m for m in said if m.startswith("Measuring the quality evidence"))
    minutes = int(re.search(r"≈ (\d+) min", line)[1])
    assert minutes > 20 and "over the 20 min training budget" in line  # the no-data default
    assert f"--train-minutes {minutes + 1}" in line or f"--train-minutes {minutes}" in line
    assert rec.caveats[0] == line
    with Store(db) as store:
        assert not store.runs()
    # within a budget that covers it, it trains (here: reaches the planted study)
    spec = dataclasses.replace(spec, train_minutes=minutes + 1)
    with pytest.raises(AssertionError, match="trained despite"):
        A.advise(spec, db=db, run=True, names=["rnn", "gru"])
