"""Time the ``quick`` study preset end to end against its 5-minute budget (not a test).

    python benchmarks/quick_preset.py [--workers 2] [--db PATH]

Runs every run of the preset into a fresh database (a temporary one unless --db is given),
then prints the wall clock, its ratio to the 300 s budget, the machine, and the summary rows
(the textbook picture: the tanh RNN near its baseline on adding at T = 200, the LSTM, GRU and
Transformer far below it; the RNN well above its baseline on stream_events).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from seqarch.store import Store, environment
from seqarch.study import load_study, run_study, study_rows, summarize

BUDGET_S = 300.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--db", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or Path(tmp) / "quick.db"
        if db.exists():
            raise SystemExit(f"{db} exists; the benchmark needs a fresh database")
        runs = load_study("quick")
        t0 = time.perf_counter()
        outcome = run_study(runs, db, workers=args.workers)
        wall = time.perf_counter() - t0
        with Store(db) as store:
            rows = summarize(study_rows(store, runs))
    env = environment()
    print(f"machine: {env['cpu']}, {os.cpu_count()} cores, torch {env['torch']}")
    print(
        f"quick preset: {len(runs)} runs, {args.workers} workers, {outcome.done} done, "
        f"{outcome.failed} failed, {outcome.lost} lost"
    )
    print(f"wall clock {wall:.1f} s = {wall / BUDGET_S:.2f} × the {BUDGET_S:.0f} s budget")
    print(
        f"{'task':<14} {'T':>4} {'arch':<12} {'metric':<6} {'value':>8} {'baseline':>8} "
        f"{'ratio':>6} {'train s':>7}"
    )
    for r in rows:
        ratio = r.mean / r.baseline if r.baseline else float("nan")
        print(
            f"{r.task:<14} {r.seq_len!s:>4} {r.arch:<12} {r.metric:<6} {r.mean:>8.4f} "
            f"{r.baseline:>8.4f} {ratio:>6.2f} {r.seconds:>7.1f}"
        )


if __name__ == "__main__":
    main()
