"""The VAD task on real speech: labels by construction, splits by recording, features, peers."""

from __future__ import annotations

import numpy as np
import pytest

from seqarch import peers
from seqarch.tasks import make_task
from seqarch.tasks.vad import (
    HOP,
    RATE,
    SPLITS_BY_NAME,
    WINDOW,
    FrameFeatures,
    labels_of,
    log_mel,
    recordings,
    split_recordings,
)


def test_labels_by_construction_on_a_tone_with_silences():
    """0.5 s silence, 1 s of a unit-power 440 Hz tone, 0.5 s silence: frames wholly inside
    the tone are speech, frames wholly in silence are not, one frame of widening each side."""
    t = np.arange(RATE) / RATE
    tone = np.sqrt(2) * np.sin(2 * np.pi * 440 * t)  # unit power
    clean = np.concatenate([np.zeros(RATE // 2), tone, np.zeros(RATE // 2)]).astype(np.float32)
    y = labels_of(clean)
    assert len(y) == 1 + (len(clean) - WINDOW) // HOP  # one label every 10 ms
    first = (RATE // 2) // HOP  # the frame starting where the tone starts
    assert y[first : first + 95].all()  # inside the tone
    assert not y[: first - WINDOW // HOP - 2].any()  # before it, beyond the widening
    assert not y[first + 100 + 2 :].any()  # after it (the tone ends at frame 150)


def test_splits_hold_disjoint_recordings():
    names = recordings()
    assert len(names) >= 10
    parts = {s: set(split_recordings(s)) for s in ("train", "val", "test")}
    assert not parts["train"] & parts["test"] and not parts["train"] & parts["val"]
    assert not parts["val"] & parts["test"]
    assert parts["test"] == set(SPLITS_BY_NAME["test"]) and parts["train"]


def test_features_shape_frame_rate_and_the_streaming_extractor():
    task = make_task("vad", seq_len=50, n_train=6, n_val=2, n_test=4)
    audio, labels, snr = task.streams("test")
    assert audio.shape == (4, (50 - 1) * HOP + WINDOW) and labels.shape == (4, 50)
    assert list(snr) == [0.0, 5.0, 10.0, 20.0]  # the test split cycles through the SNRs
    b = task.data("train")
    assert b.x.shape == (6, 50, 40) and b.mask.all()
    feats = log_mel(audio[0], 40)
    assert feats.shape == (50, 40)  # 10 ms per frame
    one = FrameFeatures(40)
    np.testing.assert_allclose(one(audio[0][7 * HOP : 7 * HOP + WINDOW]), feats[7], atol=1e-4)


@pytest.mark.parametrize("name", ["webrtcvad-2", "silero-vad"])
def test_the_peers_on_a_short_stream(name):
    task = make_task("vad", seq_len=60, n_train=4, n_val=2, n_test=8)
    assert name in peers.peers_for(task)
    r = peers.run_peer(name, task)
    assert r["metric"] == "f1" and 0 <= r["value"] <= 1
    assert {"auc", "f1_snr0", "f1_snr20", "us_per_frame"} <= set(r)
    assert r["value"] > r["baseline"] - 0.2  # a working detector, not noise


def test_a_study_shows_models_and_peers_on_the_same_streams(tmp_path):
    from seqarch import study

    spec = {
        "defaults": {"protocol": "fair", "train": {"threads": 1, "batch_size": 4, "max_steps": 4}},
        "sweep": [
            {
                "task": "vad",
                "arch": ["gru"],
                "task_config": {"seq_len": 40, "n_train": 8, "n_val": 4, "n_test": 8},
                "model_config": {"hidden_size": 4},
            }
        ],
    }
    runs = study.expand(spec)
    study.run_study(runs, tmp_path / "v.db", workers=1)
    rows = study.conditions(tmp_path / "v.db", runs)
    names = [r["name"] for r in rows]
    assert names == [
        "gru",
        "webrtcvad-0",
        "webrtcvad-1",
        "webrtcvad-2",
        "webrtcvad-3",
        "silero-vad",
    ]
    model = rows[0]
    assert model["seeds"] == 3 and {"f1", "auc", "f1_snr0"} <= set(model)
    assert model["us_per_frame"] > 0  # a streaming step and one frame's features, measured
    again = study.conditions(tmp_path / "v.db", runs)  # the peers are stored, not rerun
    assert [r.get("id") for r in again] == [r.get("id") for r in rows]
