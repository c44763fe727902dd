"""The forecasting peers on real series written as the user's CSV files would be: MASE on the
test windows and seconds of seasonal naive, Holt–Winters (ets) and auto-ets.

    python benchmarks/peers_forecast.py OUT_DIR

Series (offline: shipped in the statsmodels and aeon wheels):
    co2-weekly   Mauna Loa CO₂, 2,284 weekly values 1958–2001 as ``date,value``, its 59 missing
                 weeks left as empty cells (filled by linear interpolation and counted), season
                 52 read off the dates, window seq_len = 104 — the weekly case of issue 28
    airline      aeon's 144 monthly passenger counts 1949–1960, season 12, window 24
The window and season come from ``seqarch.tasks.files.forecast_options``, as ``advise --data``
chooses them.
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import numpy as np

from seqarch import peers
from seqarch.tasks import from_files
from seqarch.tasks.files import forecast_options


def write_series(out: Path) -> dict[str, tuple[Path, int]]:
    import statsmodels.api as sm
    from aeon.datasets import load_airline

    out.mkdir(parents=True, exist_ok=True)
    co2 = sm.datasets.co2.load_pandas().data["co2"]
    rows = [f"{d.date()},{'' if np.isnan(v) else v}" for d, v in co2.items()]
    (out / "co2-weekly.csv").write_text("date,value\n" + "\n".join(rows) + "\n")
    air = np.asarray(load_airline(), dtype=float)  # monthly from 1949-01
    rows = [f"{1949 + i // 12}-{1 + i % 12:02d}-01,{v:g}" for i, v in enumerate(air)]
    (out / "airline.csv").write_text("month,passengers\n" + "\n".join(rows) + "\n")
    return {"co2-weekly": (out / "co2-weekly.csv", 104), "airline": (out / "airline.csv", 24)}


def main() -> None:
    warnings.simplefilter("ignore")
    print("| series | data card | peer | MASE | model | seconds |\n|---|---|---|---|---|---|")
    for name, (path, seq_len) in write_series(Path(sys.argv[1])).items():
        opts, how = forecast_options(str(path), None, seq_len)
        task = from_files(path, kind="forecast", **opts)
        for peer in peers.peers_for(task):
            t0 = time.perf_counter()
            r = peers.run_peer(peer, task)
            print(
                f"| {name} | {task.card(how)} | {peer} | {r['value']:.3f} | "
                f"{r.get('model', '')} | {time.perf_counter() - t0:.1f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
