"""The shipped evidence base (seqarch.shipped): read under the user's store, versioned with the
recipe, and the advisor answering from it without training."""

import importlib

import pytest

from seqarch import shipped
from seqarch.advise import ProblemSpec, advise, coverage
from seqarch.models.lstm import LSTMCell
from seqarch.store import Store
from seqarch.study import run_study

plans = importlib.import_module("seqarch.advise.plans")

NAMES = ["rnn", "gru"]


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory):
    """A base built the way `seqarch base --build` builds one: the advisor's own plan for a
    problem 8 steps back (tiny step budget), stamped by coverage.finish."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SEQARCH_BASE", "none")
        path = tmp_path_factory.mktemp("base") / "base.db"
        spec = ProblemSpec(seq_len=40, horizon=8, hidden_size=16)
        run_study(plans.calibration_runs(spec, NAMES, max_steps=40), path)
        coverage.finish(path)
    return path


def test_the_shipped_base_matches_the_code():
    """Every architecture's runs in the shipped base were trained by today's equations,
    initialisation and protocol; when one changes, this fails until it is regenerated."""
    if shipped.BASE_PATH.is_file():
        gone = shipped.stale(shipped.BASE_PATH)
        assert not gone, (
            f"stale in {shipped.BASE_PATH}: {gone}; regenerate with `seqarch base --build` "
            f"(its runs: {coverage.summary(shipped.BASE_PATH)['coverage']})"
        )
    else:
        pytest.skip("no base shipped in this checkout")


def test_changing_an_initialisation_marks_its_runs_stale(tiny_base, monkeypatch):
    assert shipped.stale(tiny_base) == {}
    monkeypatch.setattr(LSTMCell, "FORGET_BIAS", 0.0)  # the LSTM's forget bias, as PyTorch's
    shipped._current.cache_clear()
    try:
        gone = shipped.stale(tiny_base)
        assert set(gone) == {"lstm"}, gone
        assert "initialisation" in gone["lstm"]
    finally:
        shipped._current.cache_clear()


def test_a_changed_protocol_makes_every_run_stale(tiny_base, monkeypatch):
    monkeypatch.setattr(shipped, "protocol_text", lambda: "fair/99(...)")
    assert set(shipped.stale(tiny_base)) == {"*"}


def test_the_user_store_reads_over_the_base(tiny_base, tmp_path, monkeypatch):
    monkeypatch.setenv("SEQARCH_BASE", str(tiny_base))
    shipped._layer.cache_clear()
    with Store(tiny_base, base=False) as b:
        base_runs = b.runs()
    one = base_runs[0]
    user = tmp_path / "user.db"
    with Store(user) as st:
        assert st.has_run(one.id) and st.get_run(one.id).origin == "base"
        assert {r.id for r in st.runs()} == {r.id for r in base_runs}
        assert all(r.origin == "base" for r in st.runs(arch="gru"))
        # the user's own run wins where both hold it; writes never reach the base
        st.put_run(one.id, one.config.to_dict(), {"mse": 0.5}, [], {}, 1.0, 2.0)
        assert st.get_run(one.id).metrics == {"mse": 0.5}
        assert [r.metrics for r in st.runs() if r.id == one.id] == [{"mse": 0.5}]
    with Store(user, base=False) as st:
        assert [r.id for r in st.runs()] == [one.id]
    with Store(user) as st:
        assert not st.in_base(one.id) and st.in_base(base_runs[1].id)
    with Store(tiny_base, base=False) as b:
        assert len(b.runs()) == len(base_runs)


def test_the_advisor_answers_from_the_base_without_training(tiny_base, tmp_path, monkeypatch):
    monkeypatch.setenv("SEQARCH_BASE", str(tiny_base))
    shipped._layer.cache_clear()
    user = tmp_path / "user.db"
    spec = ProblemSpec(seq_len=40, horizon=8, hidden_size=16)
    rec = advise(spec, db=user, run=True, names=NAMES, measure=False, keep=False)
    assert all("skill" in v.expected for v in rec.ranking)
    assert "shipped evidence base" in rec.defense and "measured under fair/" in rec.defense
    assert not any("--measure" in c for c in rec.caveats), rec.caveats  # covered: no gap
    # a problem the base does not reach: the nearest distance, said, with the time to measure
    far = ProblemSpec(seq_len=300, horizon=100, hidden_size=16)
    rec = advise(far, db=user, run=True, names=NAMES, measure=False, keep=False, max_steps=40)
    gap = next(c for c in rec.caveats if "--measure" in c)
    assert "distance 8" in gap and "min" in gap, gap
    assert all(v.expected.get("horizon") == 8 for v in rec.ranking)
    with Store(user, base=False) as st:
        assert st.runs() == []  # nothing was trained


def test_a_real_proxy_not_stored_has_the_adding_problem_stand_in(tiny_base, tmp_path, monkeypatch):
    """A streaming problem 20 steps back is measured on the wrist-sensor stream; with none of
    its runs stored and nothing to train, the adding problem at the nearest stored distance
    stands in, and the advice says so and what --measure would train."""
    monkeypatch.setenv("SEQARCH_BASE", str(tiny_base))
    shipped._layer.cache_clear()
    spec = ProblemSpec(seq_len=200, horizon=20, streaming=True, hidden_size=16)
    rec = advise(spec, db=tmp_path / "u.db", run=True, names=NAMES, measure=False, keep=False)
    assert all(v.expected.get("horizon") == 8 for v in rec.ranking)
    assert "nothing is stored yet on the real task nearest this problem" in rec.defense
    gap = next(c for c in rec.caveats if "--measure" in c)
    assert "activity_stream" in gap, gap


def test_a_failed_try_of_the_users_does_not_hide_a_finished_base_run(
    tiny_base, tmp_path, monkeypatch
):
    monkeypatch.setenv("SEQARCH_BASE", str(tiny_base))
    shipped._layer.cache_clear()
    with Store(tmp_path / "u.db") as st:
        one = st.runs()[0]
        st.put_run(one.id, one.config.to_dict(), {"error": "x"}, [], {}, 1.0, 2.0, status="failed")
        assert st.get_run(one.id).status == "done"
        assert [r.status for r in st.runs(status=None) if r.id == one.id] == ["done"]
        st.runs()[0].metrics["planted"] = 1.0  # a caller's mutation stays its own
    with Store(tmp_path / "v.db") as st:
        assert all("planted" not in r.metrics for r in st.runs())


def test_a_rebuild_deletes_the_stale_runs_first(tiny_base, tmp_path, monkeypatch):
    """A changed initialisation keeps a run's id: resuming would skip the run and stamp it as
    current, so the build deletes what is stale before it trains."""
    import shutil

    copy = tmp_path / "b.db"
    shutil.copy(tiny_base, copy)
    real = shipped._current

    def moved(arch):
        return tuple(x + 1.0 for x in real(arch)) if arch == "gru" else real(arch)

    monkeypatch.setattr(shipped, "_current", moved)
    assert set(shipped.stale(copy)) == {"gru"}
    coverage.drop_stale(copy, say=lambda _m: None)
    with Store(copy, base=False) as st:
        assert {r.arch for r in st.runs()} == {"rnn"}


def test_seqarch_base_says_what_it_covers_and_what_is_stale(tiny_base, monkeypatch):
    from typer.testing import CliRunner

    from seqarch.cli import app

    monkeypatch.setenv("SEQARCH_BASE", str(tiny_base))
    r = CliRunner().invoke(app, ["base"], env={"COLUMNS": "120"})
    assert r.exit_code == 0, r.output
    assert "adding" in r.output and "gru, rnn" in r.output and "Nothing is stale" in r.output
    monkeypatch.setattr(LSTMCell, "FORGET_BIAS", 0.0)
    shipped._current.cache_clear()
    try:
        r = CliRunner().invoke(app, ["base", "--json"])
        assert "initialisation changed" in r.output
    finally:
        shipped._current.cache_clear()
    r = CliRunner().invoke(app, ["base"], env={"SEQARCH_BASE": str(tiny_base) + ".missing"})
    assert r.exit_code == 2 and "SEQARCH_BASE=" in r.output


def test_a_real_task_asked_for_by_name_never_has_a_stand_in(tiny_base, tmp_path, monkeypatch):
    """The trade-off table's real rows and the ledger's real parts name their task: with none of
    its runs stored they have no quality (incomplete), never the adding problem's under the real
    task's name."""
    monkeypatch.setenv("SEQARCH_BASE", str(tiny_base))
    shipped._layer.cache_clear()
    spec = ProblemSpec(seq_len=200, horizon=20, streaming=True, hidden_size=16, proxy="vad")
    rec = advise(spec, db=tmp_path / "u.db", run=False, names=NAMES, keep=False)
    assert not any("skill" in v.expected for v in rec.ranking)
    assert "stands in" not in rec.defense
