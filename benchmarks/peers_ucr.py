"""The classical peers on the UCR archive's official splits, one thread: test accuracy and
seconds (fit + predict) of MiniRocket, 1-NN DTW and the summary-feature logistic regression
that seqarch runs as peers, and MultiRocket and Hydra (aeon), which it does not.

    python benchmarks/peers_ucr.py PickupGestureWiimoteZ ACSF1 [--repeats 3]

Series of unequal length are edge-padded for the convolutional methods (as seqarch.peers does);
1-NN DTW aligns them as they are. Each method is first fitted once on a tiny set so numba's
compilation is not timed; the fast ones are timed ``--repeats`` times (the median is printed).
"""

from __future__ import annotations

import os

os.environ.setdefault("NUMBA_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402

from seqarch import peers  # noqa: E402


def load(name: str) -> tuple[list[np.ndarray], np.ndarray, list[np.ndarray], np.ndarray]:
    """The official train and test splits as (T, D) sequences and label arrays."""
    from aeon.datasets import load_classification

    out = []
    for split in ("train", "test"):
        X, y = load_classification(name, split=split)
        out += [[np.asarray(s, dtype=np.float64).T for s in X], np.asarray(y)]
    return tuple(out)  # type: ignore[return-value]


def aeon_accuracy(cls: type, X, y, Xt, yt) -> float:
    a, b = peers.to_aeon(X), peers.to_aeon(Xt)
    length = max(peers.MINIROCKET_MIN_LENGTH, *(s.shape[1] for s in a + b))
    clf = cls(n_jobs=1, random_state=0)
    clf.fit(peers.edge_padded(a, length), y)
    return float(np.mean(clf.predict(peers.edge_padded(b, length)) == yt))


def summary_accuracy(X, y, Xt, yt) -> float:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    F = np.stack([peers.summary_features(s) for s in X])
    Ft = np.stack([peers.summary_features(s) for s in Xt])
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(F, y)
    return float(np.mean(clf.predict(Ft) == yt))


def methods() -> dict:
    from aeon.classification.convolution_based import HydraClassifier, MultiRocketClassifier

    return {
        "minirocket": (peers.minirocket_accuracy, True),
        "1nn-dtw": (peers.dtw_accuracy, False),
        "linear-summary": (summary_accuracy, True),
        "multirocket": (lambda *d: aeon_accuracy(MultiRocketClassifier, *d), False),
        "hydra": (lambda *d: aeon_accuracy(HydraClassifier, *d), False),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("datasets", nargs="+")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    import torch

    torch.set_num_threads(1)  # Hydra runs in torch
    warnings.simplefilter("ignore")
    rng = np.random.default_rng(0)
    tiny = [rng.normal(size=(20, 1)) for _ in range(8)], np.arange(8) % 2
    for fn, _ in methods().values():  # compile (numba) before timing
        fn(tiny[0], tiny[1], tiny[0], tiny[1])
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, one thread"
    )
    print("| dataset | method | accuracy | seconds (fit + predict) |\n|---|---|---|---|")
    for name in args.datasets:
        data = load(name)
        for method, (fn, repeat) in methods().items():
            times, acc = [], None
            for _ in range(args.repeats if repeat else 1):
                t0 = time.perf_counter()
                acc = fn(*data)
                times.append(time.perf_counter() - t0)
            print(f"| {name} | {method} | {acc:.3f} | {statistics.median(times):.2f} |", flush=True)


if __name__ == "__main__":
    main()
