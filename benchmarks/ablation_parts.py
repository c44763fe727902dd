"""Which part of "dropout + clipping + layer norm + temporal augmentation" costs accuracy?

`study --preset ablation` (and the claims ledger) measure the source's whole combination
against dropout alone on UCR GunPoint; at 600 steps the combination is worse for the LSTM and
the GRU beyond the intervals. This probe adds each part alone to the dropout-only recipe, at the
learning rate the fair protocol selected for dropout alone, and trains it once (seed 0): a
diagnosis of the recipe, not a verdict (one seed, no lr sweep per part). Runs go through
`seqarch.study.run_study` into their own store, so a rerun skips what is stored.

    python benchmarks/ablation_parts.py [--db ablation_parts.db] [--lstm-lr 1e-3] [--gru-lr 3e-3]

The default learning rates are the protocol's selections for dropout alone measured here
(`seqarch claims --run`, session 7).
"""

from __future__ import annotations

import argparse
import json
import platform
import sqlite3
import time
from dataclasses import replace

import torch

from seqarch.study import load_study, run_study

PARTS = {
    "dropout alone": {},
    "+ clipping 1.0": {"clip_norm": 1.0},
    "+ layer norm": {"layer_norm": True},
    "+ jitter 0.03": {"jitter_sigma": 0.03},
    "+ scaling 0.1": {"scaling_sigma": 0.1},
    "+ window slice 0.9": {"window_slice": 0.9},
    "+ the 3 augmentations": {"jitter_sigma": 0.03, "scaling_sigma": 0.1, "window_slice": 0.9},
    "+ clipping + layer norm": {"clip_norm": 1.0, "layer_norm": True},
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", default="ablation_parts.db")
    ap.add_argument("--lstm-lr", type=float, default=1e-3)
    ap.add_argument("--gru-lr", type=float, default=3e-3)
    args = ap.parse_args()
    lrs = {"lstm": args.lstm_lr, "gru": args.gru_lr}
    # the ablation preset's dropout-only sweep runs (seed 0) at the chosen lr, one per arch
    bases = {
        r.arch: r
        for r in load_study("ablation")
        if not r.train.layer_norm and r.train.clip_norm is None and r.train.lr == lrs[r.arch]
    }
    runs = {
        (arch, part): replace(base, train=replace(base.train, **change))
        for arch, base in bases.items()
        for part, change in PARTS.items()
    }
    t0 = time.perf_counter()
    run_study(list(runs.values()), args.db)
    con = sqlite3.connect(args.db)
    print(
        f"\n{platform.processor() or platform.machine()}, torch {torch.__version__}; "
        f"UCR GunPoint, 2 layers, H = 64, 600 steps, seed 0; {time.perf_counter() - t0:.0f} s"
    )
    print(f"{'recipe':26s}" + "".join(f"{a} (lr {lrs[a]:g})".rjust(20) for a in bases))
    for part in PARTS:
        cells = []
        for arch in bases:
            row = con.execute("SELECT metrics FROM runs WHERE id = ?", (runs[arch, part].id,))
            m = json.loads(row.fetchone()[0])
            cells.append(f"{m['accuracy']:.3f} (val {m['val_accuracy']:.2f})".rjust(20))
        print(f"{part:26s}" + "".join(cells))


if __name__ == "__main__":
    main()
