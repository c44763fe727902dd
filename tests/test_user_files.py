"""User files as they come: a weekly series forecast with the window --seq-len asks for, gaps
filled (and counted) or refused in one line, long sequences inside the memory guard or refused
before training. Bad input through the CLI follows tests/test_bad_input.py: one line, exit 2."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import numpy as np
import pytest

from seqarch import cli
from seqarch.advise import ProblemSpec
from seqarch.errors import BadInput
from seqarch.tasks import from_files
from seqarch.tasks.files import fill_missing, forecast_options

gather = importlib.import_module("seqarch.advise.gather")
plans = importlib.import_module("seqarch.advise.plans")


def weekly(path: Path, n: int = 260, gaps: tuple[int, ...] = ()) -> Path:
    """A ``date,value`` CSV whose dates step by 7 days; the values at ``gaps`` left empty."""
    t = np.arange(n)
    values = 100 + 0.05 * t + 10 * np.sin(2 * np.pi * t / 52)
    start = np.datetime64("2015-01-04")
    rows = [f"{start + 7 * i},{'' if i in gaps else f'{v:.3f}'}" for i, v in enumerate(values)]
    path.write_text("date,value\n" + "\n".join(rows) + "\n")
    return path


def test_a_weekly_series_forecasts_with_the_window_seq_len_asks_for(tmp_path: Path) -> None:
    spec = ProblemSpec(
        seq_len=104, task_kind="forecast", data=str(weekly(tmp_path / "w.csv")), column="value"
    )
    run = plans.data_runs(spec, ["gru"], steps=100)[0]
    assert run.task == "file_forecast"
    assert run.task_config["seq_len"] == 104 and run.task_config["season"] == 52
    assert "season 52 read off the dates" in plans.data_card(spec)


def test_a_season_longer_than_the_window_is_dropped_and_said(tmp_path: Path) -> None:
    opts, words = forecast_options(str(weekly(tmp_path / "w.csv")), "value", 40)
    assert opts == {"seq_len": 40, "column": "value"}  # the default season 1
    assert "season of 52, longer than the window" in words and "--seq-len ≥ 52" in words


def test_missing_values_are_filled_by_linear_interpolation_and_counted(tmp_path: Path) -> None:
    nan = np.nan
    assert fill_missing(np.array([nan, 1.0, nan, 3.0, nan])).tolist() == [1, 1, 2, 3, 3]
    path = weekly(tmp_path / "w.csv", gaps=(10, 11, 40))
    text = path.read_text().replace("\n2015-10-11,", "\n2015-10-11,NaN", 1)  # row 42: NaN
    path.write_text(text)
    task = from_files(path, kind="forecast", column="value", season=52, seq_len=104)
    s = task.series_values()
    assert np.isfinite(s).all()
    assert task.filled == ("row 12", "row 13", "row 42")  # header is row 1
    assert s[10] == pytest.approx(s[9] + (s[12] - s[9]) / 3)
    assert "3 missing value(s) filled by linear interpolation (rows 12, 13, 42)" in task.card()


def test_long_sequences_fit_the_memory_guard_or_are_refused_before_training(
    tmp_path: Path, monkeypatch
) -> None:
    rng = np.random.default_rng(0)
    path = tmp_path / "long.npz"
    np.savez(path, x=rng.normal(size=(200, 1460)), y=np.arange(200) % 10)  # ACSF1's shape
    spec = ProblemSpec(seq_len=1460, data=str(path), output_size=10, hidden_size=64)
    plans.training_memory_guard(spec, ["gru", "lstm", "transformer"])  # fits: no error
    monkeypatch.setattr(plans, "measure_budget_bytes", lambda: 2**30)  # a 1 GiB machine
    with pytest.raises(BadInput, match=r"transformer.*1460 steps needs ~.*GiB.*over the memory"):
        plans.training_memory_guard(spec, ["gru", "transformer"])


def run_cli(argv: list[str], capsys, monkeypatch) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["seqarch", *argv])
    cli.DEBUG["on"] = False
    with pytest.raises(SystemExit) as e:
        cli.main()
    return int(e.value.code or 0), capsys.readouterr().err


def bad_files(tmp: Path) -> dict[str, Path]:
    gappy = weekly(tmp / "gappy.csv", n=100, gaps=tuple(range(5, 100, 3)))  # 32 % missing
    holes = tmp / "holes.csv"
    holes.write_text("a,b,c,label\n1,2,3,x\n4,,6,y\n7,8,NaN,x\n1,2,3,y\n")
    nan = tmp / "nan.npz"
    x = np.ones((6, 5))
    x[2, 1] = x[4, 0] = np.nan
    np.savez(nan, x=x, y=np.arange(6) % 2)
    long = tmp / "long.npz"
    np.savez(long, x=np.zeros((30, 30000), dtype=np.float32), y=np.arange(30) % 2)
    return {"gappy": gappy, "holes": holes, "nan": nan, "long": long}


FORECAST = ["--task-kind", "forecast", "--column", "value"]
CASES = [
    (["advise", "--seq-len", "52", "--data", "{gappy}", *FORECAST], "32 of 100 values"),
    (["advise", "--seq-len", "3", "--data", "{holes}"], "2 of 12 values in the sequences"),
    (["advise", "--seq-len", "5", "--data", "{nan}"], "2 of 30 values of array 'x'"),
    (["advise", "--seq-len", "30000", "--data", "{long}", "--archs", "gru,transformer"], "guard"),
]


@pytest.mark.parametrize("argv,needle", CASES, ids=[c[1] for c in CASES])
def test_bad_user_files_are_one_line_and_exit_2(argv, needle, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    paths = bad_files(tmp_path)
    before = {k: p.read_bytes() for k, p in paths.items()}
    fill = {k: str(p) for k, p in paths.items()}
    argv = [a.format(**fill) for a in argv] + ["--db", str(tmp_path / "s.db"), "--report", ""]
    argv += [] if "--archs" in argv else ["--archs", "gru"]
    code, err = run_cli(argv, capsys, monkeypatch)
    assert code == 2, err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    assert needle in err, err
    assert {k: p.read_bytes() for k, p in paths.items()} == before


def test_a_forecast_peer_is_fitted_once_and_paired_with_every_seed(tmp_path: Path) -> None:
    """A series is split by time, not re-split per seed: each peer runs once, and its skill
    stands beside every seed of the sequence models."""
    from seqarch.store import Store

    t = np.arange(80)
    path = tmp_path / "q.csv"
    path.write_text("value\n" + "".join(f"{10 + 0.1 * i + np.sin(i * np.pi / 2):.4f}\n" for i in t))
    spec = ProblemSpec(seq_len=8, task_kind="forecast", data=str(path))
    planned = plans.data_runs(spec, ["gru"], steps=100)
    said: list[str] = []
    with Store(tmp_path / "s.db") as store:
        found = gather.peer_evidence(store, planned, run=True, say=said.append)
        assert len(store.measurements("peer")) == len(found) == 3
    assert all("on the same 1 split(s)" in s for s in said)
    for p in found:
        assert p.skill.n == 1 and sorted(p.seed_skills) == [0, 1, 2]
        assert len(set(p.seed_skills.values())) == 1


def test_peers_follow_every_stored_seed_of_the_comparison(tmp_path: Path) -> None:
    """Racing adds seeds (each its own split of the rows): the peers are fitted on those splits
    too, so a peer and a model are paired over all the model's seeds."""
    from seqarch.store import Store

    rng = np.random.default_rng(0)
    rows = ["t0,t1,t2,t3,t4,t5,t6,t7,t8,t9,label"]
    for i in range(60):
        x = rng.normal(size=10) + (i % 2)
        rows.append(",".join(f"{v:.3f}" for v in x) + f",{i % 2}")
    path = tmp_path / "rows.csv"
    path.write_text("\n".join(rows) + "\n")
    spec = ProblemSpec(seq_len=10, data=str(path), output_size=2)
    planned = plans.data_runs(spec, ["gru"], steps=100)
    with Store(tmp_path / "s.db") as store:
        for seed in (3, 4):  # two raced seeds, as the study stores them
            config = planned[0].to_dict() | {"seed": seed}
            config["task_config"] = {**planned[0].task_config, "seed": seed}
            store.put_run(f"raced{seed}", config, {"accuracy": 1.0}, [], {}, 0.0, 1.0)
        found = gather.peer_evidence(store, planned, run=True, say=lambda _m: None)
    for p in found:
        assert sorted(p.seed_skills) == [0, 1, 2, 3, 4] and p.skill.n == 5


def test_the_splits_racing_adds_get_their_peers_in_the_same_call(tmp_path: Path, monkeypatch):
    from seqarch import protocol
    from seqarch.advise import advise
    from seqarch.store import Store

    rng = np.random.default_rng(0)
    rows = ["t0,t1,t2,t3,t4,t5,label"]
    for i in range(48):
        rows.append(",".join(f"{v:.3f}" for v in rng.normal(size=6) + (i % 2)) + f",{i % 2}")
    path = tmp_path / "rows.csv"
    path.write_text("\n".join(rows) + "\n")
    db = tmp_path / "s.db"

    def race_top(spec, evidence, db, regather, say, on_event=None, deadline=None):  # 2 seeds more
        with Store(db) as store:
            run = next(r for r in store.runs() if r.seed == 0)
            for seed in (3, 4):
                config = dict(run.config.to_dict(), seed=seed)
                config["task_config"] = {**run.config.task_config, "seed": seed}
                store.put_run(f"raced{seed}", config, run.metrics, [], {}, 0.0, 1.0)
        return evidence, protocol.Race(rounds=1, added=2, seeds=5, resolved=True)

    monkeypatch.setattr(gather, "race_top", race_top)
    spec = ProblemSpec(seq_len=6, horizon=5, data=str(path), output_size=2, hidden_size=8)
    rec = advise(spec, db=db, names=["rnn"], max_steps=30, keep=False)
    assert rec.peers and all(p["splits"] == 5 for p in rec.peers)
