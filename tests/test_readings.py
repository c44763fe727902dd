"""Stored evidence read one way (seqarch.readings): a run's horizon from its task, the newest
measurement under a key, and which timing is the step latency — for the advisor, the ledger
and the report alike."""

from __future__ import annotations

import re
from pathlib import Path

import seqarch
from seqarch import readings
from seqarch.records import Latency
from seqarch.runs import Run
from seqarch.tasks import make_task

SRC = Path(seqarch.__file__).parent


def _latency(created: float, p50: float, runtime: bool, **key) -> dict:
    key = {"arch": "gru", "hidden_size": 8, "input_size": 8, **key}
    key["how"] = "stream runtime" if runtime else "eager step"
    return {"id": f"m{created}", "key": key, "value": {"p50_us": p50}, "created": created}


def test_a_runs_horizon_comes_from_its_task():
    run = Run.of({"arch": "gru", "task": "adding", "task_config": {"seq_len": 50}})
    assert readings.run_horizon(run) == make_task("adding", seq_len=50).horizon
    assert readings.horizon("adding", {"seq_len": 50, "no_such_option": 1}) is None


def test_the_step_latency_prefers_the_streaming_runtime_then_the_newest():
    rows = [
        _latency(1.0, 5.0, False),
        _latency(2.0, 4.0, True),  # the runtime, older than the eager step below
        _latency(3.0, 9.0, False),
        _latency(4.0, 1.0, False, hidden_size=16),  # another key
    ]
    assert Latency.read(rows[1]).streams
    assert readings.step(rows, arch="gru", hidden_size=8).p50_us == 4.0
    assert readings.step(rows[:1] + rows[2:], arch="gru", hidden_size=8).p50_us == 9.0
    assert readings.step(rows, arch="lstm") is None
    assert readings.latest(rows, arch="gru")["id"] == "m4.0"


def test_nothing_else_reads_a_horizon_or_a_step_latency_its_own_way():
    """The guard: a second reading of these would let two commands disagree on one row."""
    for path in SRC.rglob("*.py"):
        if path.name == "readings.py":
            continue
        code = path.read_text(encoding="utf-8")
        assert not re.search(r"(?<!`)make_task\(.*\)\.horizon", code), path  # not in ``docs``
        assert not re.search(r"\.read\(m\)\.streams|r\.streams\]", code), path


def test_stored_runs_are_typed_outside_the_store():
    """Readers ask ``run.config.arch``, never a dict path into a stored row: only the store's
    own modules (and the base's coverage, which reads the base's raw columns) touch one."""
    raw = ("store.py", "runs.py", "shipped.py", "coverage.py")
    for path in SRC.rglob("*.py"):
        if path.name in raw:
            continue
        code = path.read_text(encoding="utf-8")
        assert not re.search(r"""\[["'](config|metrics)["']\]""", code), path
