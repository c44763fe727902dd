"""The results store: round-trip, concurrent writers, kills, resume, foreign files refused."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from seqarch import store as store_mod
from seqarch.store import SCHEMA_VERSION, Store, default_path, environment, run_id
from seqarch.train import RunConfig

CONFIG = {"arch": "lstm", "task": "adding", "task_config": {"seq_len": 50}, "seed": 1}


def _put(store: Store, config: dict, value: float = 0.01) -> str:
    rid = run_id(config)
    store.put_run(
        rid,
        config,
        metrics={"mse": value, "baseline_mse": 1 / 6},
        curve=[{"step": 10, "train_loss": 0.2, "val_metric": 0.1, "seconds": 0.5}],
        env={"hostname": "h", "cpu": "c"},
        started=1.0,
        finished=2.0,
    )
    return rid


def test_run_id_is_canonical_and_short():
    a = run_id({"b": 1, "a": {"y": 2, "x": 3}})
    b = run_id({"a": {"x": 3, "y": 2}, "b": 1})
    assert a == b and len(a) == 16 and int(a, 16) >= 0
    assert run_id({"a": 1}) != run_id({"a": 2})


def test_round_trip(tmp_path):
    path = tmp_path / "s.db"
    with Store(path) as s:
        rid = _put(s, CONFIG)
        assert s.has_run(rid) and not s.has_run("0" * 16)
    with Store(path) as s:  # reopened: the same row, the same values
        run = s.get_run(rid)
        assert run.config == RunConfig.from_dict(CONFIG)
        assert run.metrics == {"mse": 0.01, "baseline_mse": 1 / 6}
        assert run.curve[0]["val_metric"] == 0.1
        assert run.status == "done" and run.started == 1.0 and run.finished == 2.0
        assert [r.id for r in s.runs(task="adding", arch="lstm", seq_len=50)] == [rid]
        assert s.runs(arch="rnn") == [] and s.runs(seq_len=200) == []
        assert s.get_run("missing") is None
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    con.close()


def test_put_run_is_idempotent_and_failed_runs_are_retried(tmp_path):
    with Store(tmp_path / "s.db") as s:
        rid = run_id(CONFIG)
        s.put_run(rid, CONFIG, {"error": 1.0}, [], {}, 0.0, 1.0, status="failed")
        assert not s.has_run(rid)  # a failed run does not count as finished
        _put(s, CONFIG, value=0.5)
        _put(s, CONFIG, value=0.9)  # the finished run is kept, not duplicated
        assert s.has_run(rid)
        assert [r.metrics["mse"] for r in s.runs(status=None)] == [0.5]
        with pytest.raises(ValueError, match="status 'half'"):
            s.put_run(rid, CONFIG, {}, [], {}, 0.0, 1.0, status="half")


def test_measurements_keep_the_newest_per_machine(tmp_path):
    with Store(tmp_path / "s.db") as s:
        env = {"hostname": "h", "cpu": "c"}
        a = s.put_measurement("latency", {"arch": "rnn", "T": 10}, {"ms": 2.0}, env)
        b = s.put_measurement("latency", {"T": 10, "arch": "rnn"}, {"ms": 1.0}, env)
        c = s.put_measurement("latency", {"arch": "rnn", "T": 10}, {"ms": 5.0}, {"hostname": "o"})
        assert a == b != c
        rows = s.measurements("latency")
        assert len(rows) == 2 and rows[0]["value"] == {"ms": 1.0}
        assert s.measurements("memory") == []
        d = s.put_measurement("memory", {"arch": "gru"}, {"bytes": 10})  # default env
        assert [m["id"] for m in s.measurements() if m["kind"] == "memory"] == [d]
        assert s.measurements("memory")[0]["env"]["hostname"]


def test_environment_names_the_machine():
    env = environment()
    for key in ("python", "torch", "numpy", "cpu", "cores", "torch_threads", "hostname"):
        assert env[key], key
    assert "git_revision" in env and "platform" in env


def test_default_path_follows_the_environment_variable(monkeypatch, tmp_path):
    monkeypatch.delenv("SEQARCH_DB", raising=False)
    assert default_path() == Path("seqarch.db")
    monkeypatch.setenv("SEQARCH_DB", str(tmp_path / "x.db"))
    assert default_path() == tmp_path / "x.db"


# -- foreign files -----------------------------------------------------------------------------


def test_a_non_sqlite_file_is_refused_and_unchanged(tmp_path):
    path = tmp_path / "notes.db"
    path.write_bytes(b"my thesis, chapter 1\n" * 100)
    before = path.read_bytes()
    with pytest.raises(ValueError, match="notes.db.*not an SQLite file"):
        Store(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.db"]


def test_another_applications_sqlite_file_is_refused_and_unchanged(tmp_path):
    path = tmp_path / "app.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE users (name TEXT)")
    con.execute("INSERT INTO users VALUES ('ada')")
    con.commit()
    con.close()
    before = path.read_bytes()
    with pytest.raises(ValueError, match="app.db.*another application.*users"):
        Store(path)
    assert path.read_bytes() == before
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # not switched to WAL
    con.close()


def test_a_truncated_store_is_refused(tmp_path):
    path = tmp_path / "s.db"
    with Store(path) as s:
        _put(s, CONFIG)
    data = path.read_bytes()
    path.write_bytes(data[:100])  # header survives, the rest is gone
    with pytest.raises(ValueError, match="s.db"):
        Store(path)
    assert path.read_bytes() == data[:100]


# -- processes: concurrent writers and a killed writer ------------------------------------------


def _writer(path: str, offset: int, n: int) -> None:
    with Store(path) as s:
        for i in range(offset, offset + n):
            _put(s, {**CONFIG, "seed": i}, value=float(i))


def test_two_processes_write_at_once(tmp_path):
    path = str(tmp_path / "s.db")
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(path, k * 1000, 40)) for k in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    with Store(path) as s:
        rows = s.runs()
        assert len(rows) == 80 and len({r.id for r in rows}) == 80
        assert sorted(r.seed for r in rows) == list(range(40)) + list(range(1000, 1040))
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()


def _slow_writer(path: str, ready) -> None:
    """Open a write transaction, insert half a record, then hang until killed."""
    s = Store(path)
    s._con.execute("BEGIN IMMEDIATE")
    s._con.execute(
        "INSERT INTO runs (id, arch, task, status, config, metrics, curve, env, started, finished)"
        " VALUES ('half', 'rnn', 'adding', 'done', '{}', '{}', '[]', '{}', 0, 0)"
    )
    ready.set()
    time.sleep(60)


def test_a_writer_killed_mid_transaction_leaves_no_half_record(tmp_path):
    path = str(tmp_path / "s.db")
    with Store(path) as s:
        done = _put(s, CONFIG)
    ctx = mp.get_context("spawn")
    ready = ctx.Event()
    p = ctx.Process(target=_slow_writer, args=(path, ready))
    p.start()
    assert ready.wait(30)
    os.kill(p.pid, signal.SIGKILL)
    p.join(10)
    with Store(path) as s:  # the lock died with the process; the store opens and is intact
        assert [r.id for r in s.runs(status=None)] == [done]
        assert s.get_run("half") is None
        _put(s, {**CONFIG, "seed": 2})  # and takes new writes
        assert len(s.runs()) == 2


def test_schema_is_documented():
    doc = store_mod.__doc__
    for word in ("SEQARCH_DB", "runs(", "measurements(", "WAL", "user_version"):
        assert word in doc


def test_a_second_store_in_one_process_keeps_the_first_ones_locks(tmp_path):
    """Opening the store twice in one process (the advisor does: its own store, then a study
    and the gradient flow open theirs) must not drop the first connection's POSIX locks, or
    another process closing last checkpoints and deletes the WAL under it (a lost write)."""
    db = tmp_path / "s.db"
    first = Store(db)
    first.put_measurement("probe", {"n": 0}, {"v": 0})
    Store(db).close()  # a second Store in this process, opened and closed
    other = (
        "import sys; from seqarch.store import Store\n"
        "s = Store(sys.argv[1]); s.put_measurement('probe', {'n': 1}, {'v': 1}); s.close()"
    )
    subprocess.run([sys.executable, "-c", other, str(db)], check=True, timeout=120)
    first.put_measurement("probe", {"n": 2}, {"v": 2})  # written after the other closed
    read = (
        "import sys; from seqarch.store import Store\n"
        "print(sorted(m['key']['n'] for m in Store(sys.argv[1]).measurements('probe')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", read, str(db)], capture_output=True, text=True, timeout=120
    )
    first.close()
    assert out.stdout.strip() == "[0, 1, 2]", out.stderr


def test_ensure_measures_only_what_is_missing(tmp_path):
    """Measure if missing: produce runs once per missing key, never when run is off, and every
    key of several must be stored for nothing to run."""
    calls = []
    with Store(tmp_path / "s.db") as store:

        def produce(c: int = 1) -> None:
            calls.append(c)
            store.put_measurement("probe", {"arch": "gru", "context": c}, {"us": 1.0})

        assert not store.ensure("probe", produce, {"arch": "gru"}, run=False) and calls == []
        assert store.ensure("probe", produce, {"arch": "gru"}) and calls == [1]
        assert not store.ensure("probe", produce, {"arch": "gru", "context": 1})
        wants = ({"arch": "gru", "context": 1}, {"arch": "gru", "context": 2})
        assert store.ensure("probe", lambda: produce(2), *wants) and calls == [1, 2]
        assert not store.ensure("probe", lambda: produce(3), *wants) and calls == [1, 2]
        assert [m["key"]["context"] for m in store.matching("probe", arch="gru")] == [1, 2]
