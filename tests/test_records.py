"""The measurement records: each kind declared once, written and read back typed."""

import pytest

from seqarch import measure
from seqarch.records import KINDS, Latency, Memory, Throughput, record_class
from seqarch.store import Store


def test_a_record_round_trips_through_the_store(tmp_path):
    row = Latency(
        arch="gru",
        hidden_size=64,
        input_size=8,
        how="stream fast",
        p50_us=3.2,
        spread_us=0.1,
        floor_gemv_us=2.0,
    )
    with Store(tmp_path / "s.db") as store:
        (rid,) = measure.save(store, "latency", [row])
        (stored,) = store.measurements("latency")
    back = Latency.read(stored)
    assert back.id == rid and back.streams and back.p50_us == 3.2 and back.floor_gemv_us == 2.0
    assert back["spread_us"] == 0.1 and back.get("nope", 7) == 7  # mapping access, too
    assert back.key() == row.key() and set(row.key()) == set(Latency.key_fields)


def test_a_bounded_window_s_receptive_field_is_part_of_its_latency_key(tmp_path):
    """An unbounded model's key is as it always was (its stored ids do not change); a window's
    R keys it, so the same width at another R is another measurement, not a replacement."""
    rnn = Latency(arch="rnn", hidden_size=64, input_size=64, p50_us=1.0)
    assert set(rnn.key()) == set(Latency.key_fields)
    seven = Latency(arch="w", hidden_size=64, input_size=64, p50_us=900.0, receptive_field=7)
    wide = Latency(arch="w", hidden_size=64, input_size=64, p50_us=9000.0, receptive_field=2047)
    assert seven.key()["receptive_field"] == 7
    with Store(tmp_path / "s.db") as store:
        ids = measure.save(store, "latency", [rnn, seven, wide])
        rows = store.measurements("latency")
    assert len(set(ids)) == len(rows) == 3
    back = {Latency.read(m).receptive_field: Latency.read(m).p50_us for m in rows}
    assert back == {None: 1.0, 7: 900.0, 2047: 9000.0}


def test_old_rows_read_with_defaults_and_unknown_fields_are_ignored():
    m = {
        "id": "x",
        "created": 1.0,
        "key": {"arch": "lstm", "seq_len": 64},
        "value": {"tokens_per_s": 10.0, "from_the_future": 1},
    }
    r = Throughput.read(m)
    assert r.arch == "lstm" and r.tokens_per_s == 10.0 and r.mode == "inference"


def test_each_kind_is_declared_once_and_unknown_kinds_are_refused(tmp_path):
    assert set(KINDS) == {"latency", "throughput", "memory", "crossover", "export"}
    assert all(cls.kind == kind for kind, cls in KINDS.items())
    assert not hasattr(measure, "KEY_FIELDS")  # the producer reads the records' key fields
    with pytest.raises(ValueError, match="expected one of latency"):
        record_class("latencies")
    with Store(tmp_path / "s.db") as store:
        with pytest.raises(ValueError, match="kind 'nope'"):
            measure.save(store, "nope", [])
    assert Memory(arch="gru", seq_len=8)["measured_activation_bytes"] is None
