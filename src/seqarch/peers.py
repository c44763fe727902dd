r"""Classical peers: what a neural model must beat to be worth it, on the same splits.

Every peer is fitted on the task's training and validation splits (peers have nothing to tune
on validation) and scored on its test split, by the task's own metric — exactly the data a
neural run of the same task config sees:

    classification (sequence → class)
        minirocket      MiniRocket (Dempster, Schmidt & Webb 2021; aeon's
                        ``MiniRocketClassifier``): 10,000 fixed random convolutional features
                        (PPV pooling) and a ridge classifier with cross-validated α — the
                        strongest cheap method of the field (seconds on the UCR archive, near
                        the accuracy of its best ensembles). Series of unequal length, or
                        shorter than its 9-weight kernels, are edge-padded (the last value
                        repeated) to a common length of at least 9
        1nn-dtw         1-nearest neighbour under dynamic time warping (aeon), unconstrained
                        window; the long-standing benchmark on the UCR archive
        linear-summary  multinomial logistic regression (scikit-learn) on summary features per
                        channel: mean, standard deviation, min, max, last value, slope of the
                        least-squares line through the sequence (standardised)
    forecasting (window → next h values), scored by MASE
        seasonal-naive  ŝ_{t+k} = s_{t+k−m}: the task's own baseline
        ets             Holt–Winters exponential smoothing (statsmodels): additive trend and
                        season m, parameters fitted once on the training part, then run
                        forward with those parameters to every test window's origin
        auto-ets        automatic exponential smoothing (Hyndman et al. 2002, R's
                        ``forecast::ets``) in statsmodels' ``ETSModel``: every error × trend
                        (none, additive, damped) × season (none, additive, multiplicative)
                        model, multiplicative ones only for a positive series and additive error
                        never with a multiplicative season; the lowest AICc on the training part
                        wins and is run forward with its parameters, as ``ets``. As in
                        ``forecast::ets``, a season longer than 24 steps (weekly data, m = 52)
                        is not modelled. (statsforecast's AutoETS is the same method, but its
                        wheel requires pandas < 3, which this environment is past.)
    voice activity detection (the ``vad`` task: raw 16 kHz audio of the same test streams)
        webrtcvad-0…3   Google's WebRTC VAD (``webrtcvad-wheels``) at aggressiveness 0–3, fed
                        the stream's consecutive 10 ms frames as 16-bit PCM; frame t is the
                        10 ms ending where the task's 25 ms window t ends
        silero-vad      Silero VAD's ONNX model (shipped in the ``silero-vad`` wheel) run in
                        onnxruntime on 32 ms chunks with its 64-sample context and state carried;
                        frame t takes the chunk holding the centre of its window (up to 19 ms
                        of look-ahead past the frame's end: the peer's advantage, not ours)
    A task may name its own peers (``peers`` on its class); the generic ones apply otherwise.

A peer result is stored as a measurement of kind ``peer`` keyed by the peer and the task config
(the split seed included), so the advisor and the report read it like any other evidence.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import BadInput

PEER_KIND = "peer"
PEERS: dict[str, tuple[str, ...]] = {
    "classify": ("minirocket", "1nn-dtw", "linear-summary"),
    "forecast": ("seasonal-naive", "ets", "auto-ets"),
}


def peers_for(task: Any) -> tuple[str, ...]:
    """The peers that apply to ``task`` (none for a kind they do not cover)."""
    if getattr(type(task), "peers", None):
        return tuple(type(task).peers)
    if getattr(task, "kind", None) == "classify" and hasattr(task, "_splits"):
        return PEERS["classify"]
    if hasattr(task, "season_length") and hasattr(task, "window_ends"):
        return PEERS["forecast"]
    return ()


# -- classification ----------------------------------------------------------------------------


def _standardised(task: Any, split: str) -> tuple[list[np.ndarray], np.ndarray]:
    seqs, targets = task._splits()[split]
    mu, sd = task.standardiser()
    crop = getattr(task, "seq_len", None)
    return [((s - mu) / sd)[:crop] for s in seqs], np.asarray(targets)


def _fit_split(task: Any) -> tuple[list[np.ndarray], np.ndarray, list[np.ndarray], np.ndarray]:
    tr_x, tr_y = _standardised(task, "train")
    va_x, va_y = _standardised(task, "val")
    te_x, te_y = _standardised(task, "test")
    return tr_x + va_x, np.concatenate([tr_y, va_y]), te_x, te_y


def summary_features(seq: np.ndarray) -> np.ndarray:
    """mean, std, min, max, last, slope per channel of one (T, D) sequence → (6·D,)."""
    T = len(seq)
    t = np.arange(T) - (T - 1) / 2
    slope = (t @ (seq - seq.mean(0))) / max(float(t @ t), 1e-12)
    return np.concatenate([seq.mean(0), seq.std(0), seq.min(0), seq.max(0), seq[-1], slope])


def to_aeon(seqs: list[np.ndarray]) -> list[np.ndarray]:
    """(T, D) sequences as aeon's (D, T) float64 series."""
    return [np.ascontiguousarray(np.asarray(s, dtype=np.float64).T) for s in seqs]


def edge_padded(seqs: list[np.ndarray], length: int) -> np.ndarray:
    """aeon's (D, T_n) series as one (N, D, length) array, each right-padded with its last
    value (edge padding: a series that has ended stays where it ended)."""
    return np.stack([np.pad(s, ((0, 0), (0, length - s.shape[1])), mode="edge") for s in seqs])


MINIROCKET_MIN_LENGTH = 9  # MiniRocket's kernels have 9 weights


def minirocket_accuracy(
    X: list[np.ndarray], y: np.ndarray, Xt: list[np.ndarray], yt: np.ndarray, seed: int = 0
) -> float:
    """Test accuracy of MiniRocket (aeon, one thread, ``random_state=seed``) fitted on (X, y);
    (T, D) sequences, edge-padded to the longest of both sets (at least 9 steps)."""
    from aeon.classification.convolution_based import MiniRocketClassifier

    if len(np.unique(y)) < 2:  # nothing to separate: the one class seen
        return float(np.mean(yt == y[0]))
    a, b = to_aeon(X), to_aeon(Xt)
    length = max(MINIROCKET_MIN_LENGTH, *(s.shape[1] for s in a + b))
    clf = MiniRocketClassifier(n_jobs=1, random_state=seed)
    clf.fit(edge_padded(a, length), y)
    return float(np.mean(clf.predict(edge_padded(b, length)) == yt))


def dtw_accuracy(X: list[np.ndarray], y: np.ndarray, Xt: list[np.ndarray], yt: np.ndarray) -> float:
    """Test accuracy of 1-NN DTW (aeon, unconstrained window) fitted on (X, y); (T, D) sequences
    of any lengths (DTW aligns them; nothing is padded)."""
    from aeon.classification.distance_based import KNeighborsTimeSeriesClassifier

    clf = KNeighborsTimeSeriesClassifier(n_neighbors=1, distance="dtw")
    a, b = to_aeon(X), to_aeon(Xt)
    if len({s.shape[1] for s in a + b}) == 1:  # equal length: one 3-D array (n, channels, T)
        a, b = np.stack(a), np.stack(b)
    clf.fit(a, y)
    return float(np.mean(clf.predict(b) == yt))


def minirocket(task: Any) -> float:
    """Test accuracy of MiniRocket fitted on train + val (the split seed seeds its kernels)."""
    return minirocket_accuracy(*_fit_split(task), seed=int(getattr(task, "seed", 0)))


def one_nn_dtw(task: Any) -> float:
    """Test accuracy of 1-NN DTW fitted on train + val."""
    return dtw_accuracy(*_fit_split(task))


def linear_summary(task: Any) -> float:
    """Test accuracy of logistic regression on summary features, fitted on train + val."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y, Xt, yt = _fit_split(task)
    F = np.stack([summary_features(s) for s in X])
    Ft = np.stack([summary_features(s) for s in Xt])
    if len(np.unique(y)) < 2:
        return float(np.mean(yt == y[0]))
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    clf.fit(F, y)
    return float(np.mean(clf.predict(Ft) == yt))


# -- forecasting -------------------------------------------------------------------------------


def seasonal_naive(task: Any) -> float:
    """MASE of ŝ_{t+k} = s_{t+k−m} on the test windows (the task's baseline)."""
    return float(task.baseline()["mase"])


def ets(task: Any) -> float:
    """MASE of Holt–Winters (additive trend and season; Holt's linear trend when the season is
    1 step, which has no seasonal component) on the test windows."""
    import warnings

    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    s = task.standardised()
    m, h = task.season_length, task.steps_ahead
    fit_end = task.boundaries()[1]  # train + val: the peer has nothing to tune
    season = {"seasonal": "add", "seasonal_periods": m} if m > 1 else {"seasonal": None}
    smoothing = ("smoothing_level", "smoothing_trend") + ("smoothing_seasonal",) * (m > 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = ExponentialSmoothing(
            s[:fit_end], trend="add", initialization_method="estimated", **season
        ).fit()
        params = {k: fitted.params[k] for k in smoothing}
        known = {
            "initial_level": fitted.params["initial_level"],
            "initial_trend": fitted.params["initial_trend"],
        }
        if m > 1:
            known["initial_seasonal"] = fitted.params["initial_seasons"]
        errors = []
        for t in task.window_ends("test"):
            model = ExponentialSmoothing(
                s[: t + 1], trend="add", initialization_method="known", **season, **known
            )
            forecast = model.fit(optimized=False, **params).forecast(h)
            errors.append(np.abs(np.asarray(forecast) - s[t + 1 : t + 1 + h]).mean())
    return float(np.mean(errors) / task.scale())


AUTO_ETS_MAX_SEASON = 24  # forecast::ets: "frequency too high" above this; the season is dropped


def auto_ets_candidates(m: int, positive: bool) -> list[dict[str, Any]]:
    """The ETS models auto-ets chooses among (forecast::ets's set): error × trend × season,
    multiplicative parts only for a positive series, no additive error with a multiplicative
    season (numerically unstable), no season when m = 1 or m > ``AUTO_ETS_MAX_SEASON``."""
    errors = ("add", "mul") if positive else ("add",)
    trends = ((None, False), ("add", False), ("add", True))
    seasons: tuple[str | None, ...] = (None,)
    if 1 < m <= AUTO_ETS_MAX_SEASON:
        seasons += ("add", "mul") if positive else ("add",)
    return [
        {"error": e, "trend": t, "damped_trend": d, "seasonal": s}
        | ({"seasonal_periods": m} if s else {})
        for e in errors
        for t, d in trends
        for s in seasons
        if not (e == "add" and s == "mul")
    ]


def auto_ets(task: Any) -> dict[str, Any]:
    """MASE of the ETS model with the lowest AICc on the training part (train + val), run
    forward with its parameters to every test window's origin; also which model won."""
    import warnings

    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    raw = task.series_values()
    fit_end = task.boundaries()[1]
    sd = float(raw[: task.boundaries()[0]].std()) or 1.0  # the task's standardising scale
    m, h = task.season_length, task.steps_ahead
    best: tuple[float, dict[str, Any], Any] | None = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for spec in auto_ets_candidates(m, bool(np.all(raw > 0))):
            try:
                fitted = ETSModel(raw[:fit_end], initialization_method="estimated", **spec).fit(
                    disp=False
                )
            except (ValueError, np.linalg.LinAlgError):
                continue  # too few values for this model's initial states
            if np.isfinite(fitted.aicc) and (best is None or fitted.aicc < best[0]):
                best = (float(fitted.aicc), spec, fitted.params)
        if best is None:
            raise BadInput(
                f"auto-ets: no ETS model fits the {fit_end} training values; expected a longer "
                "series"
            )
        _, spec, params = best
        errors = []
        for t in task.window_ends("test"):
            model = ETSModel(raw[: t + 1], initialization_method="estimated", **spec)
            forecast = np.asarray(model.smooth(params).forecast(h))
            errors.append(np.abs(forecast - raw[t + 1 : t + 1 + h]).mean() / sd)
    name = (
        "".join(("A" if spec["error"] == "add" else "M", "N" if spec["trend"] is None else "A"))
        + ("d" if spec["damped_trend"] else "")
        + {None: "N", "add": "A", "mul": "M"}[spec["seasonal"]]
    )
    return {"value": float(np.mean(errors) / task.scale()), "model": f"ETS({name})"}


# -- voice activity detection --------------------------------------------------------------------


def _vad_result(task: Any, prob: np.ndarray, seconds: float) -> dict[str, Any]:
    """F1 (the value), ROC-AUC and both per SNR, and µs per 10 ms frame of audio."""
    from .tasks.vad import scores_by_snr

    _, labels, snr = task.streams("test")
    out: dict[str, Any] = scores_by_snr(prob, labels, snr)
    return {"value": out.pop("f1"), **out, "us_per_frame": seconds / labels.size * 1e6}


def webrtc(level: int) -> Any:
    def run(task: Any) -> dict[str, Any]:
        import time

        import webrtcvad

        from .tasks.vad import HOP, WINDOW

        audio, labels, _ = task.streams("test")
        prob = np.zeros(labels.shape)
        t0 = time.perf_counter()
        for i, a in enumerate(audio):
            vad = webrtcvad.Vad(level)  # a fresh detector per stream
            pcm = (np.clip(a, -1, 1) * 32767).astype("<i2").tobytes()
            for t in range(labels.shape[1]):
                end = HOP * t + WINDOW  # samples; 2 bytes each
                prob[i, t] = vad.is_speech(pcm[2 * (end - HOP) : 2 * end], 16000)
        return _vad_result(task, prob, time.perf_counter() - t0)

    run.__doc__ = f"WebRTC VAD at aggressiveness {level} on the test streams."
    return run


def silero(task: Any) -> dict[str, Any]:
    """Silero VAD (its shipped ONNX model in onnxruntime) on the test streams."""
    import time
    from pathlib import Path

    import onnxruntime as ort
    import silero_vad

    from .tasks.vad import HOP, WINDOW

    path = Path(silero_vad.__file__).parent / "data" / "silero_vad.onnx"
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = opts.inter_op_num_threads = 1
    session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    audio, labels, _ = task.streams("test")
    chunk, context = 512, 64
    sr = np.array(16000, dtype=np.int64)
    prob = np.zeros(labels.shape)
    t0 = time.perf_counter()
    for i, a in enumerate(audio):
        state = np.zeros((2, 1, 128), np.float32)
        ctx = np.zeros((1, context), np.float32)
        n = len(a) // chunk
        p = np.zeros(n + 1)
        for j in range(n):
            x = np.concatenate([ctx, a[None, j * chunk : (j + 1) * chunk]], axis=1)
            out, state = session.run(None, {"input": x, "state": state, "sr": sr})
            p[j] = out[0, 0]
            ctx = x[:, -context:]
        p[n] = p[n - 1]
        centre = HOP * np.arange(labels.shape[1]) + WINDOW // 2
        prob[i] = p[np.minimum(centre // chunk, n)]
    return _vad_result(task, prob, time.perf_counter() - t0)


RUNNERS = {
    "minirocket": (minirocket, "accuracy"),
    "1nn-dtw": (one_nn_dtw, "accuracy"),
    "linear-summary": (linear_summary, "accuracy"),
    "seasonal-naive": (seasonal_naive, "mase"),
    "ets": (ets, "mase"),
    "auto-ets": (auto_ets, "mase"),
    **{f"webrtcvad-{k}": (webrtc(k), "f1") for k in range(4)},
    "silero-vad": (silero, "f1"),
}


def run_peer(name: str, task: Any) -> dict[str, Any]:
    """Fit and score one peer on ``task``'s splits: {metric, value, baseline, seconds}."""
    import time

    if name not in RUNNERS:
        raise BadInput(f"peer {name!r} is not known; expected one of {', '.join(RUNNERS)}")
    fn, metric = RUNNERS[name]
    if metric != task.metric:
        raise BadInput(
            f"peer {name!r} scores {metric}, task {type(task).__name__} scores {task.metric}; "
            f"expected one of {', '.join(peers_for(task)) or 'no peer'}"
        )
    t0 = time.perf_counter()
    value = fn(task)
    extra = {}
    if isinstance(value, dict):  # a peer that reports more than its metric (per SNR, speed)
        extra = {k: v for k, v in value.items() if k != "value"}
        value = value["value"]
    return {
        "metric": metric,
        "value": value,
        "higher_is_better": bool(task.higher_is_better),
        "baseline": float(task.baseline()[metric]),
        "seconds": time.perf_counter() - t0,
        **extra,
    }


def peer_key(name: str, task_name: str, task_config: dict) -> dict[str, Any]:
    return {"peer": name, "task": task_name, "task_config": dict(task_config)}


def ensure(
    store: Any, name: str, task_name: str, task_config: dict, run: bool = True
) -> dict | None:
    """The stored result of peer ``name`` on this task config, computed and stored if missing
    (when ``run``). Returns the measurement {id, key, value, ...} or None."""
    from .tasks import make_task

    key = peer_key(name, task_name, task_config)

    def produce() -> None:
        store.put_measurement(PEER_KIND, key, run_peer(name, make_task(task_name, **task_config)))

    store.ensure(PEER_KIND, produce, key, run=run)
    return next((m for m in store.measurements(PEER_KIND) if m["key"] == key), None)
