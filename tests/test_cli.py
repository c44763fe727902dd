"""The CLI as a user meets it: tables, JSON, and one-line errors with exit code 2."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from seqarch.cli import app
from seqarch.models import build

runner = CliRunner()


def test_models_json_matches_the_models_own_counts():
    result = runner.invoke(
        app, ["models", "--input-size", "5", "--hidden-size", "16", "--seq-len", "64", "--json"]
    )
    assert result.exit_code == 0, result.output
    rows = {r["arch"]: r for r in json.loads(result.output)}
    assert {"rnn", "lstm", "gru", "transformer"} <= set(rows)
    for name, row in rows.items():
        assert row["params"] == build(name, input_size=5, hidden_size=16).num_params()
        assert row["formulas"]["params"]
    assert rows["transformer"]["state_bytes"] > rows["lstm"]["state_bytes"] > 0


def test_models_table_shows_every_architecture_and_formula():
    result = runner.invoke(app, ["models", "--seq-len", "100"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for name in ("rnn", "lstm", "gru", "transformer"):
        assert name in result.output
    assert "KV cache, grows with T" in result.output  # markup must not eat bracketed notes
    assert "constant in T" in result.output


@pytest.mark.parametrize(
    "args,needle",
    [
        (["models", "--hidden-size", "-3"], "hidden_size=-3"),
        (["models", "--seq-len", "0"], "seq_len=0"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, needle):
    proc = subprocess.run(
        [sys.executable, "-m", "seqarch.cli", *args], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2
    assert needle in proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
