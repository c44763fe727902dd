"""Named studies, written as the same structure a study TOML file has (see seqarch.study).

Every preset runs under the fair protocol (:mod:`seqarch.protocol`): each architecture is
trained at every learning rate of one grid and every seed, for the same number of steps; the
learning rate is selected on validation and the test metric is reported with a 95 % interval
over seeds. A preset sets only what a comparison must hold equal: the task, the sizes and one
step budget per task — never a learning rate or a step count for one architecture.

    quick     the textbook picture on 2 cores: the tanh RNN against the LSTM, GRU and
              Transformer on the adding problem with the signal 60 steps back; on stream_events
              (the signal lies ≤ 6 steps back) the small RNN is fine.
    full      several lengths per task; selective copy and associative recall at T = 256 for
              the classics and the modern recurrent models.
    ablation  a small real dataset where overfitting is likely (UCR GunPoint, 50 training
              series): dropout alone against dropout + gradient clipping + layer norm +
              temporal augmentation.
    real      the source's example tasks on real data: voice activity detection (against
              WebRTC VAD and Silero VAD), a real sensor stream (the activity under way at
              every step) and transduction (number words → digits) against the source's length.

The wall-clock limits below are safety nets, far above what a run needs here: a run one stops
is marked ``stopped = "time_budget"`` and the summary flags it.
"""

from __future__ import annotations

from ..models import MODELS

ALL_ARCHS = list(MODELS)  # every registered architecture, the modern recurrent models included

_SMALL = {"hidden_size": 32}
_TRAIN = {"batch_size": 32, "warmup": 0.02, "threads": 1, "time_budget_s": 600}

QUICK: dict = {
    "defaults": {"protocol": "fair", "model_config": _SMALL, "train": _TRAIN},
    "sweep": [
        {
            "task": "adding",
            "arch": ["rnn", "lstm", "gru", "transformer"],
            "task_config": {"seq_len": 70, "distance": 60, "n_train": 10000, "n_val": 300},
            "train": {"max_steps": 2400},  # 40 steps per step of distance, as the advisor
        },
        {
            "task": "stream_events",
            "arch": ["rnn", "lstm"],
            "task_config": {"seq_len": 100},
            "train": {"max_steps": 300},
        },
    ],
}

FULL: dict = {
    "defaults": {"protocol": "fair", "model_config": _SMALL, "train": _TRAIN},
    "sweep": [
        {
            "task": "adding",
            "arch": ALL_ARCHS,
            "task_config": {"seq_len": 70, "distance": 60, "n_train": 10000, "n_val": 300},
            "train": {"max_steps": 2400},
        },
        {
            "task": "adding",
            "arch": ALL_ARCHS,
            "task_config": {"seq_len": 170, "distance": 150, "n_train": 10000, "n_val": 300},
            "train": {"max_steps": 6000},
        },
        {
            "task": "stream_events",
            "arch": ALL_ARCHS,
            "task_config": {"seq_len": 100},
            "train": {"max_steps": 400},
        },
        {
            "task": "copy",
            "arch": ALL_ARCHS,
            "task_config": {"seq_len": 40},
            "train": {"max_steps": 1000},
        },
        # Long-range selection and recall: where the modern recurrent models land against the
        # classics and attention, in quality and in cost, at equal steps.
        {
            "task": ["selective_copy", "recall"],
            "arch": ALL_ARCHS,
            "task_config": {"seq_len": 256},
            "train": {"max_steps": 1000},
        },
    ],
}

# Two layers, so the recurrent models' dropout (applied between layers) is active. The same
# steps for both arms: layer-normed cells run the reference loop, so a wall-clock budget would
# starve them and confound regularisation with speed.
_ABLATION_TRAIN = {
    "batch_size": 16,
    "warmup": 0.05,
    "max_steps": 600,
    "clip_norm": None,
    "threads": 1,
    "time_budget_s": 900,
}
ABLATION: dict = {
    "defaults": {
        "protocol": "fair",
        "task": "ucr",
        "task_config": {"dataset": "GunPoint"},
        "model_config": {"hidden_size": 64, "num_layers": 2},
    },
    "sweep": [
        {  # dropout alone
            "arch": ["lstm", "gru"],
            "train": {**_ABLATION_TRAIN, "dropout": 0.3},
        },
        {  # dropout + clipping + layer norm + temporal augmentation
            "arch": ["lstm", "gru"],
            "train": {
                **_ABLATION_TRAIN,
                "dropout": 0.3,
                "clip_norm": 1.0,
                "layer_norm": True,
                "jitter_sigma": 0.03,
                "scaling_sigma": 0.1,
                "window_slice": 0.9,
            },
        },
    ],
}

# The source's own example tasks on real data (issue 16): voice activity detection on real
# speech in noise (every architecture at H = 32, the WebRTC and Silero peers on the same test
# streams), per-step activity recognition in a real wrist-sensor stream, and translation-like
# transduction on real language — German number words to
# digits, the source growing with the digits (up to 16, 40 and 65 characters at 2, 4 and 6
# digits): where a fixed-size state breaks and attention holds.
REAL: dict = {
    "defaults": {"protocol": "fair", "train": _TRAIN},
    "sweep": [
        {  # voice activity detection on real speech, tiny streaming models, against the peers
            "task": "vad",
            "arch": ALL_ARCHS,
            "model_config": {"hidden_size": 32},
            "train": {"max_steps": 400},
        },
        {  # a real sensor stream: the activity under way at every step (BasicMotions)
            "task": "activity_stream",
            "arch": ALL_ARCHS,
            "task_config": {"seq_len": 150},  # 15 s streams: 1.5–5 activities each
            "model_config": {"hidden_size": 32},
            "train": {"max_steps": 400},
        },
        {
            "task": "transduce",
            "arch": ["rnn", "lstm", "gru", "transformer"],
            "task_config": {"max_digits": [2, 4, 6]},
            "model_config": {"hidden_size": 64},
            "train": {"max_steps": 600, "batch_size": 64},
        },
    ],
}

PRESETS: dict[str, dict] = {"quick": QUICK, "full": FULL, "ablation": ABLATION, "real": REAL}
