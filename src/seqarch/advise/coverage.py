"""What the shipped evidence base (:mod:`seqarch.shipped`) covers, and how it is built:
``seqarch base [--build]``.

The problems it answers for are listed in ``src/seqarch/data/coverage.toml``; the advisor
plans each one's runs exactly as on a user's machine, so building the base is running the
advisor with training on each of them, from an empty store, then dropping what belongs to the
machine (timings, advice), thinning the curves and stamping the recipe's fingerprints.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import shipped
from ..shipped import (
    BASE_PATH,
    COVERAGE,
    CURVE_POINTS,
    ENV,
    fingerprint,
    meta,
    protocol_text,
    stale,
)

KEEP_KINDS = ("gradient_flow",)  # measurements that travel: arithmetic, the same on any machine


def coverage() -> list[Any]:
    """The problems the base answers for (``data/coverage.toml``): the advisor plans each
    one's runs exactly as it would on a user's machine."""
    from .evaluate import load_suite

    return load_suite(COVERAGE)


def build(out: Path = BASE_PATH, say: Callable[[str], None] = print, on_event: Any = None) -> Path:
    """Produce (or resume) the base at ``out``: the advisor trains every coverage problem's
    runs under the protocol, races the top to its seed cap, measures gradient flow; then the
    timings are dropped, the curves thinned, the recipe stamped and the file compacted.
    Resumable: a rerun trains only what is missing."""
    from ..derive.flow import FLOW_KIND
    from .gather import advise

    assert FLOW_KIND in KEEP_KINDS
    before = os.environ.get(ENV)
    os.environ[ENV] = "none"  # the base is built from nothing but itself (workers inherit it)
    try:
        if out.is_file() and "protocol" in meta(out):
            drop_stale(out, say)
        for i, spec in enumerate(coverage(), 1):
            say(f"[{i}/{len(coverage())}] {spec.describe() if hasattr(spec, 'describe') else spec}")
            started = time.time()
            big = spec.__class__.from_dict({**spec.to_dict(), "train_minutes": 1e6})
            advise(big, db=out, run=True, progress=say, keep=False, on_event=on_event)
            say(f"  done in {time.time() - started:.0f} s")
        finish(out)
    finally:
        if before is None:
            os.environ.pop(ENV, None)
        else:
            os.environ[ENV] = before
    return out


def drop_stale(out: Path, say: Callable[[str], None] = print) -> None:
    """Delete from a stamped base the runs (and measurements) the code no longer matches, so a
    rebuild retrains them: a changed initialisation keeps a run's id, and resuming would
    otherwise skip it and stamp the old run as current."""
    from ..store import Store

    gone = stale(out)
    if not gone:
        return
    with Store(out, base=False) as st:
        con = st._con
        if "*" in gone:
            say(f"every run is stale ({gone['*']}): rebuilding from nothing")
            con.execute("DELETE FROM runs")
            con.execute("DELETE FROM measurements")
            return
        for arch, why in gone.items():
            n = con.execute("SELECT COUNT(*) FROM runs WHERE arch = ?", (arch,)).fetchone()[0]
            say(f"{arch}: {why}; its {n} run(s) are retrained")
            con.execute("DELETE FROM runs WHERE arch = ?", (arch,))
            con.execute("DELETE FROM measurements WHERE json_extract(key, '$.arch') = ?", (arch,))


def finish(out: Path) -> None:
    """Drop what belongs to the machine (timings, advice), thin curves, stamp the recipe."""
    from .. import models
    from ..store import Store, canonical_json, environment

    with Store(out, base=False) as st:
        con = st._con
        kinds = ",".join("?" * len(KEEP_KINDS))
        con.execute(f"DELETE FROM measurements WHERE kind NOT IN ({kinds})", KEEP_KINDS)
        con.execute("DELETE FROM runs WHERE status != 'done'")
        for rid, curve in con.execute("SELECT id, curve FROM runs").fetchall():
            points = json.loads(curve)
            if len(points) > CURVE_POINTS:
                stride = math.ceil(len(points) / (CURVE_POINTS - 1))  # the last point added
                thin = points[::stride]
                if thin[-1] is not points[-1]:
                    thin.append(points[-1])
                con.execute("UPDATE runs SET curve = ? WHERE id = ?", (canonical_json(thin), rid))
        env = environment()
        stamp = {
            "protocol": protocol_text(),
            "fingerprints": {a: fingerprint(a) for a in models.MODELS},
            "revision": env.get("git_revision"),
            "machine": {k: env.get(k) for k in ("cpu", "cores", "torch", "python", "platform")},
            "built": time.strftime("%Y-%m-%d", time.gmtime()),
        }
        for k, v in stamp.items():
            con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (f"base.{k}", json.dumps(v)))
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        con.execute("PRAGMA journal_mode = DELETE")
        con.execute("VACUUM")


def summary(p: Path | None = None) -> dict[str, Any]:
    """What the base holds: provenance, what is stale, and per task and distance the
    architectures and runs (``seqarch base``)."""
    from ..readings import horizon

    p = p or shipped.path()
    if p is None:
        return {"path": None}
    m = meta(p)
    con = shipped.connect(p)
    try:
        rows = con.execute("SELECT id, arch, config FROM runs WHERE status = 'done'").fetchall()
    finally:
        con.close()
    cells: dict[tuple[str, int | None], dict[str, int]] = {}
    for r in rows:
        config = json.loads(r["config"])
        key = (config["task"], horizon(config["task"], config.get("task_config", {})))
        cells.setdefault(key, {}).setdefault(r["arch"], 0)
        cells[key][r["arch"]] += 1
    return {
        "path": str(p),
        "size_bytes": p.stat().st_size,
        "built": m.get("built"),
        "revision": m.get("revision"),
        "machine": m.get("machine"),
        "runs": len(rows),
        "stale": stale(p),
        "coverage": [
            {"task": t, "horizon": h, "runs": sum(a.values()), "archs": sorted(a)}
            for (t, h), a in sorted(cells.items(), key=lambda kv: (kv[0][0], kv[0][1] or 0))
        ],
    }
