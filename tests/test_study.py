"""Studies: expansion, presets, TOML files, local and Ray backends, kills and resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import replace

import pytest

from seqarch.models import MODELS
from seqarch.presets import PRESETS
from seqarch.protocol import FAIR
from seqarch.runs import Run
from seqarch.store import Store
from seqarch.study import expand, load_study, run_study, study_rows, summarize

TINY = {"seq_len": 10, "n_train": 64, "n_val": 32, "n_test": 32}


def tiny_study(archs=("rnn", "gru"), **train) -> dict:
    return {
        "defaults": {
            "task": "adding",
            "task_config": TINY,
            "model_config": {"hidden_size": 8},
            "train": {"max_steps": 5, "eval_every": 5, "batch_size": 16, **train},
        },
        "sweep": [{"arch": list(archs)}],
    }


def test_lists_sweep_and_duplicates_collapse():
    spec = {
        "defaults": {"seed": [0, 1], "task": "adding"},
        "sweep": [
            {"arch": ["rnn", "lstm"], "task_config": {"seq_len": [10, 20]}},
            {"arch": "rnn", "task_config": {"seq_len": 10}},  # already in the first sweep
        ],
    }
    runs = expand(spec)
    assert len(runs) == 2 * 2 * 2
    assert len({r.id for r in runs}) == 8
    assert {(r.arch, r.task_config["seq_len"], r.seed) for r in runs} == {
        (a, t, s) for a in ("rnn", "lstm") for t in (10, 20) for s in (0, 1)
    }


def test_bad_studies_are_refused_in_one_line(tmp_path):
    with pytest.raises(ValueError, match="key 'model' in sweep 1 is not accepted"):
        expand({"sweep": [{"arch": "rnn", "task": "adding", "model": {}}]})
    with pytest.raises(ValueError, match="task 'sorting' is not known"):
        expand({"sweep": [{"arch": "rnn", "task": "sorting"}]})
    with pytest.raises(ValueError, match="option 'length' is not accepted by task adding"):
        expand({"sweep": [{"arch": "rnn", "task": "adding", "task_config": {"length": 5}}]})
    with pytest.raises(ValueError, match="augmentation is not accepted for task 'copy'"):
        expand({"sweep": [{"arch": "rnn", "task": "copy", "train": {"jitter_sigma": 0.1}}]})
    with pytest.raises(ValueError, match="study 'quik' is not accepted.*quick"):
        load_study("quik")
    bad = tmp_path / "bad.toml"
    bad.write_text("[[sweep]\narch = 1")
    with pytest.raises(ValueError, match="bad.toml is not valid TOML"):
        load_study(bad)


def test_a_toml_study_reads_like_its_python_twin(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(
        textwrap.dedent(
            """
            [defaults]
            task = "adding"
            task_config = { seq_len = 10, n_train = 64, n_val = 32, n_test = 32 }
            model_config = { hidden_size = 8 }
            train = { max_steps = 5, eval_every = 5, batch_size = 16 }

            [[sweep]]
            arch = ["rnn", "gru"]
            """
        )
    )
    assert [r.id for r in load_study(path)] == [r.id for r in expand(tiny_study())]


def test_presets_cover_the_textbook_picture():
    quick = load_study("quick")
    adding = {r.arch for r in quick if r.task == "adding" and r.task_config["distance"] == 60}
    assert adding == {"rnn", "lstm", "gru", "transformer"}
    assert any(r.arch == "rnn" and r.task == "stream_events" for r in quick)
    assert all(r.train.time_budget_s is not None for r in quick)  # a safety net only
    for name in ("quick", "full", "ablation"):  # the protocol's sweep: every lr, sweep seed
        runs = load_study(name)
        assert {r.train.lr for r in runs} == set(FAIR.lr_grid) and {r.seed for r in runs} == {0}
        per_task = {}
        for r in runs:  # one step budget per task, the same for every architecture
            per_task.setdefault((r.task, json.dumps(r.task_config)), set()).add(r.train.max_steps)
        assert all(len(steps) == 1 for steps in per_task.values()), name
    full = load_study("full")
    assert {r.arch for r in full} == set(MODELS)
    assert len({(r.task, r.task_config.get("seq_len")) for r in full}) >= 5
    ablation = load_study("ablation")
    assert {r.task for r in ablation} == {"ucr"}
    regularised = [r for r in ablation if r.train.layer_norm]
    assert regularised and all(r.train.clip_norm and r.train.jitter_sigma for r in regularised)
    real = load_study("real")
    assert {r.task for r in real} == {"transduce", "vad", "activity_stream"}
    assert {r.task_config["max_digits"] for r in real if r.task == "transduce"} == {2, 4, 6}
    assert {r.arch for r in real if r.task == "vad"} == set(MODELS)
    assert set(PRESETS) == {"quick", "full", "ablation", "real"}


def test_local_study_stores_every_run_once_and_resumes(tmp_path):
    db = tmp_path / "s.db"
    runs = expand(tiny_study())
    events = []
    outcome = run_study(runs, db, workers=2, on_event=events.append)
    assert (outcome.done, outcome.skipped, outcome.failed) == (2, 0, 0)
    assert sorted(e.kind for e in events) == ["done", "done", "queued", "queued", "start", "start"]
    with Store(db) as s:
        first = {r.id: r.finished for r in s.runs()}
        assert set(first) == {r.id for r in runs}
        assert {r.env["torch_threads"] for r in s.runs()} == {1}
    again = run_study(runs, db, workers=2)  # nothing left to do
    assert (again.done, again.skipped) == (0, 2)
    with Store(db) as s:
        assert {r.id: r.finished for r in s.runs()} == first
        rows = summarize(study_rows(s, runs))
    assert [(r.arch, r.task, r.seq_len, r.metric) for r in rows] == [
        ("rnn", "adding", 10, "mse"),
        ("gru", "adding", 10, "mse"),
    ]
    assert rows[0].baseline == pytest.approx(1 / 6) and rows[0].seeds == 1


def test_a_killed_worker_loses_only_its_run(tmp_path):
    db = tmp_path / "s.db"
    # the GRU run is long (stopped by its budget); it is killed as soon as it starts
    runs = expand(tiny_study())
    slow = expand(tiny_study(archs=("gru",), max_steps=10**6, time_budget_s=1.0))
    study = [runs[0], slow[0]]

    def kill_the_slow_one(event):
        if event.kind == "start" and event.run.id == slow[0].id:
            os.kill(event.pid, signal.SIGKILL)

    outcome = run_study(study, db, workers=1, on_event=kill_the_slow_one)
    assert (outcome.done, outcome.lost) == (1, 1)
    with Store(db) as s:
        assert [r.id for r in s.runs(status=None)] == [runs[0].id]  # no half record
    again = run_study(study, db, workers=1)  # the same study again completes the rest
    assert (again.skipped, again.done) == (1, 1)
    with Store(db) as s:
        assert sorted(r.id for r in s.runs()) == sorted(r.id for r in study)


def test_a_killed_study_resumes_without_duplicates(tmp_path):
    db = tmp_path / "s.db"
    study = tmp_path / "study.toml"
    study.write_text(
        textwrap.dedent(
            """
            [defaults]
            task = "adding"
            task_config = { seq_len = 10, n_train = 64, n_val = 32, n_test = 32 }
            model_config = { hidden_size = 8 }
            train = { max_steps = 5, eval_every = 5, batch_size = 16 }

            [[sweep]]
            arch = "rnn"

            [[sweep]]
            arch = "gru"
            train = { max_steps = 1000000, time_budget_s = 1.0 }
            """
        )
    )
    code = (
        "import sys; from seqarch.study import load_study, run_study; "
        "run_study(load_study(sys.argv[1]), sys.argv[2], workers=1)"
    )
    cmd = [sys.executable, "-c", code, str(study), str(db)]
    proc = subprocess.Popen(cmd, start_new_session=True)
    deadline = time.time() + 60
    while time.time() < deadline:  # wait for the first run to be stored, then kill everything
        time.sleep(0.2)
        if db.exists():
            with Store(db) as s:
                if s.runs():
                    break
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)
    with Store(db) as s:
        assert [r.arch for r in s.runs(status=None)] == ["rnn"]
    assert subprocess.run(cmd, timeout=120).returncode == 0  # the same command again
    with Store(db) as s:
        assert sorted(r.arch for r in s.runs(status=None)) == ["gru", "rnn"]


@pytest.mark.slow
def test_ray_backend_writes_the_same_rows_as_local(tmp_path):
    pytest.importorskip("ray")
    runs = expand(tiny_study())
    run_study(runs, tmp_path / "local.db", backend="local", workers=2)
    run_study(runs, tmp_path / "ray.db", backend="ray", workers=2)
    with Store(tmp_path / "local.db") as a, Store(tmp_path / "ray.db") as b:
        local, ray_rows = a.runs(), b.runs()
    assert sorted(r.id for r in local) == sorted(r.id for r in ray_rows)

    def comparable(rows):
        out = {}
        for r in rows:
            metrics = {k: v for k, v in r.metrics.items() if k != "train_seconds"}
            losses = [c["train_loss"] for c in r.curve]
            out[r.id] = (r.config, metrics, losses, r.status)
        return out

    assert comparable(local) == comparable(ray_rows)


def test_cli_study_then_results(tmp_path):
    import json

    from typer.testing import CliRunner

    from seqarch.cli import app

    study = tmp_path / "tiny.toml"
    study.write_text(
        textwrap.dedent(
            """
            [defaults]
            task = "adding"
            task_config = { seq_len = 10, n_train = 64, n_val = 32, n_test = 32 }
            model_config = { hidden_size = 8 }
            train = { max_steps = 5, eval_every = 5, batch_size = 16 }

            [[sweep]]
            arch = ["rnn", "gru"]
            """
        )
    )
    db = str(tmp_path / "s.db")
    runner = CliRunner()
    report = tmp_path / "report"
    r = runner.invoke(
        app,
        ["study", "--preset", str(study), "--db", db, "--workers", "2", "--report", str(report)],
    )
    assert r.exit_code == 0, r.output
    assert "2 run(s) trained, 0 already stored" in r.output and "base" in r.output
    assert (report / "index.html").is_file()  # the study refreshed the report
    r = runner.invoke(app, ["study", "--preset", str(study), "--db", db, "--report", ""])
    assert "0 run(s) trained, 2 already stored" in r.output
    r = runner.invoke(app, ["results", "--db", db, "--json", "--arch", "gru"])
    rows = json.loads(r.output)
    assert [row["config"]["arch"] for row in rows] == ["gru"] and "mse" in rows[0]["metrics"]
    r = runner.invoke(app, ["results", "--db", db, "--seq-len", "10"])
    assert r.exit_code == 0 and "2 finished run(s)" in r.output
    foreign = tmp_path / "notes.txt"
    foreign.write_text("not a database")
    for args in (["results", "--db", str(foreign)], ["study", "--db", str(foreign)]):
        r = runner.invoke(app, args)
        assert r.exit_code == 2 and "not an SQLite file" in r.output
    assert foreign.read_text() == "not a database"
    r = runner.invoke(app, ["study", "--preset", "nope", "--db", db])
    assert r.exit_code == 2 and "expected a preset" in r.output


def test_summary_keeps_an_ablations_arms_apart():
    def run(seed, dropout, acc):
        config = {
            "arch": "gru",
            "task": "ucr",
            "seed": seed,
            "task_config": {"seq_len": 150},
            "model_config": {},
            "train": {"dropout": dropout, "lr": 0.01},
        }
        metrics = {"metric": "accuracy", "accuracy": acc, "train_seconds": 1.0, "params": 10}
        return Run.of(config, metrics)

    rows = summarize([run(0, 0.3, 0.8), run(1, 0.3, 0.6), run(0, 0.0, 0.5)])
    assert sorted((r.variant, r.seeds) for r in rows) == [
        ("train.dropout=0.0", 1),
        ("train.dropout=0.3", 2),
    ]
    assert next(r for r in rows if r.seeds == 2).mean == pytest.approx(0.7)


def _watch_then_sleep(parent: int) -> None:
    import threading as _threading
    import time as _time

    from seqarch.study import _watch_parent

    _threading.Thread(target=_watch_parent, args=(parent, 0.1), daemon=True).start()
    _time.sleep(60)


def test_a_worker_ends_when_the_study_process_is_killed():
    """SIGKILL gives the study no chance to stop its workers: their watchdog does."""
    import multiprocessing as mp

    parent = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    worker = mp.get_context("spawn").Process(target=_watch_then_sleep, args=(parent.pid,))
    worker.start()
    try:
        time.sleep(1.0)
        assert worker.is_alive()
        parent.kill()  # and not reaped: a zombie, which signal 0 still reaches
        worker.join(10)
        assert not worker.is_alive() and worker.exitcode == 1
    finally:
        parent.kill()
        parent.wait()
        if worker.is_alive():
            worker.terminate()


_LONG_STUDY = """
import sys
from seqarch.study import run_study
from seqarch.train import RunConfig, TrainConfig

train = TrainConfig(max_steps=10**6, eval_every=10**5, batch_size=16, time_budget_s=120.0)
runs = [
    RunConfig(arch=arch, task="adding", task_config={"seq_len": 50, "n_train": 64, "n_val": 32,
              "n_test": 32}, model_config={"hidden_size": 8}, train=train)
    for arch in ("rnn", "gru")
]

def on_event(e):
    if e.kind == "start":
        print("start", e.pid, flush=True)  # the output is a pipe, as when another program runs it

run_study(runs, sys.argv[1], workers=2, on_event=on_event)
"""


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_workers_end_with_a_study_signalled_while_its_output_is_piped(tmp_path, sig):
    """Issue 27: after SIGTERM to a study whose output was piped, its workers ran on,
    reparented to init. The study's process, signalled and not reaped by whoever started it
    (a zombie), must take its workers with it; nothing half-trained is stored."""
    from seqarch.study import _parent_gone

    db = tmp_path / "s.db"
    proc = subprocess.Popen(
        [sys.executable, "-c", _LONG_STUDY, str(db)], stdout=subprocess.PIPE, text=True
    )
    try:
        workers = [int(proc.stdout.readline().split()[1]) for _ in range(2)]
        time.sleep(1.0)  # both training
        assert not any(_parent_gone(w) for w in workers)
        os.kill(proc.pid, sig)  # and not reaped until the workers are checked
        deadline = time.time() + 10
        while time.time() < deadline and not all(_parent_gone(w) for w in workers):
            time.sleep(0.1)
        assert all(_parent_gone(w) for w in workers), "a worker outlived its study"
    finally:
        proc.kill()
        proc.wait(10)
    if db.exists():
        with Store(db) as s:
            assert s.runs(status=None) == []  # the runs in flight were discarded, not half-written


def test_a_protocol_sweep_and_its_seeds_train_as_fused_populations(tmp_path):
    """Issue 27 item 2: the sweep (the lr grid at the sweep seed) is one population, the selected
    lr's seeds another; each member is stored under its own id, equal to its run alone."""
    from seqarch import protocol
    from seqarch.train import RunConfig, TrainConfig, train

    base = RunConfig(
        arch="gru",
        task="adding",
        task_config=TINY,
        model_config={"hidden_size": 8},
        train=TrainConfig(max_steps=5, eval_every=5, batch_size=16),
    )
    sweep = protocol.expand(base, FAIR)
    layer_normed = protocol.expand(replace(base, train=replace(base.train, layer_norm=True)))[:1]
    db = tmp_path / "s.db"
    outcome = run_study(sweep + layer_normed, db, workers=1)
    assert (outcome.populations, outcome.in_populations) == (2, 4 + len(FAIR.seeds) - 1)
    assert outcome.done == len(sweep) + len(FAIR.seeds) - 1 + 1 and outcome.failed == 0
    assert any("layer-normed" in why for why in outcome.alone)
    assert "fused population" in outcome.line(db) and "trained alone" in outcome.line(db)
    with Store(db) as s:
        stored = s.get_run(sweep[2].id)
    assert stored.metrics["population_kernel"] == "fused"
    alone = train(sweep[2]).metrics
    assert stored.metrics["mse"] == pytest.approx(alone["mse"], rel=1e-4)
    assert stored.metrics["steps"] == alone["steps"]


def test_units_keep_unfused_runs_alone_and_feed_every_worker():
    from seqarch import protocol
    from seqarch.study import units
    from seqarch.train import RunConfig, TrainConfig

    base = RunConfig(arch="lstm", task="adding", task_config=TINY, train=TrainConfig())
    sweep = protocol.expand(base, FAIR)  # 4 runs
    budgeted = protocol.expand(replace(base, train=TrainConfig(time_budget_s=600.0)), FAIR)
    ssm = protocol.expand(replace(base, arch="ssm"), FAIR)
    work, why = units(sweep + budgeted + ssm, workers=1)
    assert sorted(len(u) for u in work) == [1] * 4 + [4, 4]  # a safety net does not split
    assert why == ["ssm has no fused population kernel"]
    halves, _ = units(sweep, workers=2)  # one population, two workers: two of 2
    assert sorted(len(u) for u in halves) == [2, 2]
