"""Bad input through the command line: one line naming the bad value, exit 2, no traceback, and
foreign or corrupt files left byte-for-byte as they were. A bug is not bad input: exit 1."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import pytest

from seqarch import cli
from seqarch.errors import BadInput


def run_cli(argv: list[str], capsys: pytest.CaptureFixture, monkeypatch) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["seqarch", *argv])
    cli.DEBUG["on"] = False
    with pytest.raises(SystemExit) as e:
        cli.main()
    return int(e.value.code or 0), capsys.readouterr().err


def files(tmp: Path) -> dict[str, Path]:
    junk = tmp / "junk.db"
    junk.write_bytes(b"this is not a database\x00\x01")
    foreign = tmp / "foreign.db"
    con = sqlite3.connect(foreign)
    con.execute("CREATE TABLE notes (x TEXT)")
    con.execute("INSERT INTO notes VALUES ('keep me')")
    con.commit()
    con.close()
    spec = tmp / "bad.toml"
    spec.write_text("[problem\nseq_len = 10\n")
    data = tmp / "bad.csv"
    data.write_text("a,b,label\n1,2,0\n3,oops,1\n")
    series = tmp / "two.csv"
    series.write_text("month,a,b\n" + "".join(f"2000-{m:02d},{m},{2 * m}\n" for m in range(1, 13)))
    return {"junk": junk, "foreign": foreign, "spec": spec, "data": data, "series": series}


CASES = [
    (["advise", "--seq-len", "100", "--latency-us", "nan", "--no-run"], "latency_us=nan"),
    (["advise", "--seq-len", "100", "--latency-us", "inf", "--no-run"], "latency_us=inf"),
    (["advise", "--seq-len", "abc"], "--seq-len"),
    (["advise", "--seq-len", "50", "--horizon", "80", "--no-run"], "horizon=80"),
    (["advise", "--seq-len", "10", "--archs", "lstm,nope", "--no-run"], "'nope'"),
    (["advise", "--spec", "{spec}"], "not valid TOML"),
    (["advise", "--seq-len", "3", "--data", "{data}", "--no-run"], "oops"),
    (["models", "--hidden-size", "99999999999"], "hidden_size=99999999999"),
    (["models", "--bogus"], "--bogus"),
    (["practice", "--answers", "{tmp}/missing.txt"], "missing.txt"),
    (["report", "--db", "{tmp}/missing.db", "--out", "{tmp}/r"], "missing.db"),
    (["results", "--db", "{tmp}/missing.db"], "missing.db"),
    (["results", "--db", "{junk}"], "junk.db"),
    (["results", "--db", "{foreign}"], "foreign.db"),
    (["report", "--db", "{foreign}", "--out", "{tmp}/r"], "foreign.db"),
    (["claims", "--db", "{tmp}/missing.db"], "missing.db"),
    (["claims", "--db", "{foreign}"], "foreign.db"),
    (["study", "--preset", "nope"], "'nope'"),
    (["study", "--preset", "quick", "--db", "{junk}"], "junk.db"),
    (["nosuchcommand"], "nosuchcommand"),
    (["advise", "--seq-len", "50", "--horizon", "soon", "--no-run"], "horizon='soon'"),
    (["export", "transformer", "{tmp}/t.onnx"], "grows with T"),
    (["export", "nope", "{tmp}/t.onnx"], "'nope'"),
    (["derive", "flow", "--seeds", "0"], "seeds=0"),
    (["derive", "check", "--seeds", "-1"], "seeds=-1"),
    (["advise", "--seq-len", "8", "--data", "{series}", "--task-kind", "forecast"], "--column"),
    (["advise", "--seq-len", "8", "--column", "a", "--no-run"], "column='a'"),
    (["predict", "{tmp}/no-model", "{data}"], "no-model"),
    (["predict", "{tmp}", "{data}"], "has no model.safetensors"),
    (["export", "{tmp}/nothing"], "needs PATH"),
]


@pytest.mark.parametrize("argv,needle", CASES, ids=[" ".join(c[0])[:40] for c in CASES])
def test_bad_input_is_one_line_and_exit_2(argv, needle, tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    paths = files(tmp_path)
    before = {k: p.read_bytes() for k, p in paths.items()}
    fill = {**{k: str(p) for k, p in paths.items()}, "tmp": str(tmp_path)}
    code, err = run_cli([a.format(**fill) for a in argv], capsys, monkeypatch)
    assert code == 2, err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    assert needle in err.replace(str(tmp_path) + "/", ""), err
    assert {k: p.read_bytes() for k, p in paths.items()} == before  # nothing was touched
    assert not (tmp_path / "missing.db").exists()  # reading never creates a store


def test_a_bug_is_an_internal_error_not_bad_input(capsys, monkeypatch) -> None:
    """Exit 1 and one line saying it is ours; ``--debug`` shows the traceback."""

    def boom() -> None:
        raise KeyError("a bug")

    with pytest.raises(SystemExit) as e, cli.one_line_errors():
        boom()
    assert e.value.code == 1
    err = capsys.readouterr().err
    assert "internal error" in err and "KeyError" in err and "Traceback" not in err
    with pytest.raises(SystemExit) as e, cli.one_line_errors():
        raise BadInput("x=1 is not accepted; expected 2")
    assert e.value.code == 2
    cli.DEBUG["on"] = True
    try:
        with pytest.raises(KeyError), cli.one_line_errors():
            boom()
    finally:
        cli.DEBUG["on"] = False
