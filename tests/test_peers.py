"""The classical peers: MiniRocket on any lengths, auto-ETS's model set and its forecasts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from seqarch import peers


def _sequences(rng: np.random.Generator, n: int, lengths: tuple[int, int]) -> tuple[list, list]:
    """Class 1 rises, class 0 falls, at lengths drawn from ``lengths`` (inclusive)."""
    seqs, labels = [], []
    for i in range(n):
        T = int(rng.integers(lengths[0], lengths[1] + 1))
        sign = 1 if i % 2 else -1
        seqs.append((sign * np.linspace(0, 1, T) + 0.1 * rng.normal(size=T))[:, None])
        labels.append(i % 2)
    return seqs, np.array(labels)


@pytest.mark.parametrize("lengths", [(3, 3), (4, 8), (20, 40)], ids=lambda x: f"T{x[0]}-{x[1]}")
def test_minirocket_takes_short_and_unequal_series_by_edge_padding(lengths) -> None:
    rng = np.random.default_rng(0)
    X, y = _sequences(rng, 40, lengths)
    Xt, yt = _sequences(rng, 20, lengths)
    assert peers.minirocket_accuracy(X, y, Xt, yt) >= 0.9


def test_edge_padding_repeats_the_last_value() -> None:
    padded = peers.edge_padded([np.array([[1.0, 2.0]]), np.array([[5.0, 6.0, 7.0]])], 4)
    assert padded.tolist() == [[[1, 2, 2, 2]], [[5, 6, 7, 7]]]


def test_minirocket_is_a_peer_of_a_user_file_with_variable_lengths(tmp_path: Path) -> None:
    from seqarch.tasks import from_files

    rng = np.random.default_rng(1)
    seqs, y = _sequences(rng, 60, (5, 12))
    x = np.zeros((60, 12, 1))
    for i, s in enumerate(seqs):
        x[i, : len(s)] = s
    path = tmp_path / "var.npz"
    np.savez(path, x=x, y=y, lengths=np.array([len(s) for s in seqs]))
    task = from_files(path, kind="classify")
    assert peers.peers_for(task)[0] == "minirocket"
    result = peers.run_peer("minirocket", task)
    assert result["metric"] == "accuracy" and result["value"] >= 0.8


def test_auto_ets_chooses_among_forecast_ets_models() -> None:
    assert len(peers.auto_ets_candidates(12, positive=True)) == 15  # 6 additive + 9 mult.
    assert len(peers.auto_ets_candidates(12, positive=False)) == 6  # additive only
    assert len(peers.auto_ets_candidates(1, positive=True)) == 6  # no season
    assert len(peers.auto_ets_candidates(52, positive=True)) == 6  # m > 24: season dropped
    for c in peers.auto_ets_candidates(12, positive=True):
        assert not (c["error"] == "add" and c["seasonal"] == "mul")


def test_auto_ets_beats_the_seasonal_naive_on_a_trending_seasonal_series(tmp_path: Path) -> None:
    from seqarch.tasks import from_files

    t = np.arange(96)
    rng = np.random.default_rng(0)
    values = 50 + 0.5 * t + 8 * np.sin(2 * np.pi * t / 4) + rng.normal(0, 0.5, len(t))
    path = tmp_path / "q.csv"
    dates = [f"{2000 + i // 4}-{1 + 3 * (i % 4):02d}-01" for i in t]
    path.write_text(
        "quarter,value\n" + "".join(f"{d},{v:.3f}\n" for d, v in zip(dates, values, strict=True))
    )
    task = from_files(path, kind="forecast", season=4, seq_len=8)
    assert peers.peers_for(task) == ("seasonal-naive", "ets", "auto-ets")
    result = peers.run_peer("auto-ets", task)
    assert result["model"].startswith("ETS(")
    assert 0 < result["value"] < peers.run_peer("seasonal-naive", task)["value"]
