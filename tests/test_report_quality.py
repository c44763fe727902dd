"""The report's "quality against dependency length": a line per model over the stored
distances; with one stored distance, the models side by side there and the command that adds
distances (not a single point on an axis from 29 to 31)."""

from __future__ import annotations

from pathlib import Path

import pytest

from seqarch import protocol
from seqarch.report.charts import to_plotly, to_svg
from seqarch.report.data import ReportData, quality_points, quality_rows
from seqarch.report.figures import quality
from seqarch.store import Store, run_id

ARCHS = ("rnn", "gru", "transformer")


def _points(path: Path) -> ReportData:
    """The report's quality points of a store, read as ``report.data.load`` reads them (without
    the claims ledger, which this figure does not use)."""
    with Store(path) as store:
        runs = store.runs()
    rows = quality_rows(protocol.selected_runs(runs))
    return ReportData(str(path), runs, rows, quality_points(rows), [], [], [], [], [], None, None)


def _store(path: Path, distances: tuple[int, ...]) -> Path:
    with Store(path) as store:
        for i, arch in enumerate(ARCHS):
            for h in distances:
                for seed in (0, 1, 2):
                    config = {
                        "arch": arch,
                        "task": "adding",
                        "task_config": {"seq_len": 40, "distance": h},
                        "model_config": {"hidden_size": 8},
                        "train": {"max_steps": 10},
                        "seed": seed,
                    }
                    mse = 0.15 - 0.05 * i + 0.002 * seed
                    metrics = {"metric": "mse", "mse": mse, "baseline_mse": 1 / 6}
                    store.put_run(run_id(config), config, metrics, [], {}, 1.0, 2.0 + seed)
    return path


def test_one_stored_distance_shows_the_models_side_by_side(tmp_path: Path) -> None:
    chart = quality(_points(_store(tmp_path / "one.db", (30,))))
    (panel,) = chart.panels
    assert sorted(panel.categories) == sorted(ARCHS)
    assert "30 steps back" in panel.title and panel.x_label == "architecture"
    assert [s.x for s in panel.series] == [[0], [1], [2]]  # one slot per model
    for s in panel.series:
        assert s.lo[0] <= s.y[0] <= s.hi[0]  # min..max over the 3 seeds
    means = {s.name: s.y[0] for s in panel.series}
    assert means["transformer"] == pytest.approx(0.05 + 0.002)  # the mean over seeds
    (rule,) = panel.rules
    assert rule.axis == "y" and rule.at == pytest.approx(1 / 6)
    assert "seqarch advise --proxy adding" in chart.caption  # what adds a distance
    assert len(chart.sources) == 9

    fig = to_plotly(panel)
    assert fig["layout"]["xaxis"]["ticktext"] == panel.categories
    assert fig["layout"]["xaxis"]["range"] == [-0.5, 2.5]
    dots = [t for t in fig["data"] if "error_y" in t]
    assert len(dots) == 3 and not any(t.get("fill") for t in fig["data"])
    svg = to_svg(panel, "q")
    assert all(f">{arch}<" in svg for arch in ARCHS)  # the ticks name the models


def test_two_stored_distances_draw_a_line_per_model(tmp_path: Path) -> None:
    chart = quality(_points(_store(tmp_path / "two.db", (10, 30))))
    (panel,) = chart.panels
    assert panel.categories is None and panel.x_label.startswith("dependency length")
    assert sorted(s.name for s in panel.series if s.x == [10, 30]) == sorted(
        [*ARCHS, "trivial baseline"]
    )
    assert "one distance" not in chart.caption
