"""`seqarch results` reads in an 80-column terminal: the columns that matter, whole; the rest
behind --wide and --json."""

import json

import pytest
from typer.testing import CliRunner

from seqarch.cli import app
from seqarch.store import Store

RUNS = [
    # (id, task, T, arch, seed, lr, metric, value, baseline, stopped): the longest names
    ("0c71452d9e1f2a3b", "activity_stream", 150, "transformer", 2, 0.03, "accuracy", 0.9264,
     0.256, None),
    ("beb8ea0d11223344", "adding", 166, "minlstm", 0, 0.001, "mse", 1.56e-05, 0.1667, None),
    ("6c708d93aabbccdd", "stream_events", 100, "retnet", 1, 0.003, "f1", 0.93151, 0.3051,
     "time_budget"),
]  # fmt: skip


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "runs.db"
    with Store(path) as store:
        for i, (rid, task, t, arch, seed, lr, metric, value, base, stopped) in enumerate(RUNS):
            config = {
                "arch": arch,
                "task": task,
                "task_config": {"seq_len": t},
                "model_config": {"hidden_size": 32},
                "train": {"lr": lr, "max_steps": 400},
                "seed": seed,
            }
            metrics = {"metric": metric, metric: value, f"baseline_{metric}": base}
            metrics |= {"steps": 400, "train_seconds": 12.5}
            if stopped:
                metrics["stopped"] = stopped
            store.put_run(rid, config, metrics, [], {}, started=i, finished=i + 1)
    return str(path)


def results(*args):
    r = CliRunner().invoke(app, ["results", *args], env={"COLUMNS": "80", "NO_COLOR": "1"})
    assert r.exit_code == 0, r.output
    return r.output


def test_results_fit_80_columns_with_whole_cells(db):
    text = results("--db", db)
    assert "…" not in text
    assert max(len(line) for line in text.splitlines()) <= 80
    for rid, task, t, arch, _seed, lr, metric, *_ in RUNS:
        row = next(line for line in text.splitlines() if line.startswith(rid[:8]))
        assert rid not in row  # ids shortened, as `run:` sources print them
        for cell in (task, str(t), arch, f"{lr:g}", metric):
            assert cell in row.split(), (cell, row)
    assert "1.56e-05" in text and "0.9315*" in text  # a run stopped by time is marked
    assert "stopped by time" in text


def test_wide_and_json_keep_the_rest(db):
    text = results("--db", db, "--wide")
    assert "…" not in text
    assert all(rid in text for rid, *_ in RUNS)
    assert "time_budget" in text and "train s" in text and "12.5" in text
    rows = json.loads(results("--db", db, "--json"))
    assert [r["id"] for r in rows] == [rid for rid, *_ in RUNS]
