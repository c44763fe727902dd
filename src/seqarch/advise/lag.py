r"""How far back the signal lies in the user's data, measured rather than guessed.

With ``--data`` and ``--horizon unknown`` the advisor retrains the recommended model — the
cheapest adequate one, at the learning rate the protocol selected for it — on only the last k
steps of every sequence, for k = 1, 2, 4, … below the full length, with the protocol's seeds
(each on its own split, as the full-context runs). A window and the full context train on the
same seeds, so they are compared by the per-seed difference of their skills (paired, as every
comparison in :mod:`seqarch.rules`). The estimate is the smallest k not shown worse than the
full context — the upper end of the paired interval of skill_k − skill_full at or above
−``EQUIVALENT_SKILL``:

    k̂ = min { k : hi(d_k) ≥ −0.01 },   d_k = (skill_k,s − skill_full,s) over the seeds s

and the full length when every shorter window is shown worse. No estimate (k̂ = None) when the full
context's own interval is not clear of the trivial baseline: there is no signal to locate.
A window of k̂ steps keeps what the whole sequence gives, so the dependency the model uses lies
within about k̂ steps of the end (within a factor of 2: the grid doubles).

Worked example: labels decided by the value 6 steps before the end of 32-step sequences —
k = 1, 2, 4 score at chance (the value is outside the window), k = 8 scores as the full
context, so k̂ = 8 (the true lag 6 lies in (4, 8]).
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from typing import TYPE_CHECKING, Any

from ..protocol import interval

if TYPE_CHECKING:
    from ..runs import Run

LAG_KIND = "signal_lag"  # measurement: the estimate, its curve, the runs behind each point
BOUNDED = ("accuracy", "f1", "exact_match", "auc")  # scores that live in [0, 1]


def lag_grid(T: int) -> list[int]:
    """1, 2, 4, … below T."""
    out, k = [], 1
    while k < T:
        out.append(k)
        k *= 2
    return out


def lag_runs(records: list[Run], ks: list[int]) -> list[Any]:
    """The selected runs of one architecture (``records``: one per seed, full context) again
    with the task cropped to each sequence's last k steps, for every k."""
    out = []
    for k in ks:
        for r in records:
            run = r.config
            out.append(dataclasses.replace(run, task_config={**run.task_config, "last": k}))
    return out


def _summary(records: list[Run]) -> dict:
    m0 = records[0].metrics
    metric = m0["metric"]
    values = [float(r.metrics[metric]) for r in records]
    iv = interval(values)
    lo, hi = iv.lo, iv.hi
    if metric in BOUNDED:  # a score in [0, 1]: the interval is too
        lo, hi = max(lo, 0.0), min(hi, 1.0)
    return {
        "metric": metric,
        "baseline": float(m0.get(f"baseline_{metric}", math.nan)),
        "higher_is_better": bool(m0.get("higher_is_better", True)),
        "mean": statistics.fmean(values),
        "lo": lo,
        "hi": hi,
        "seeds": len(values),
        "runs": [r.id for r in records],
    }


def estimate(full: list[Run], by_k: dict[int, list[Run]], T: int) -> dict:
    """k̂ from the full-context records and each window's records (see the module docstring)."""
    from ..rules import EPS, EQUIVALENT_SKILL, paired_difference, skill_of

    ref = _summary(full)
    curve = {k: _summary(rs) for k, rs in sorted(by_k.items()) if rs}
    hib = ref["higher_is_better"]
    b = ref["baseline"]

    def skills(records: list[Run]) -> dict[int, float]:
        metric = ref["metric"]
        out = {}
        for r in records:
            v = float(r.metrics[metric])
            out[r.seed] = skill_of(v, b, hib) if math.isfinite(b) else v
        return out

    full_skill = skills(full)
    within = []
    for k, s in curve.items():
        d = paired_difference(skills(by_k[k]), full_skill)
        s["difference"] = {"mean": d.mean, "lo": d.lo, "hi": d.hi, "how": d.how}
        if math.isfinite(s["mean"]) and d.hi >= -EQUIVALENT_SKILL - EPS:
            within.append(k)
    k_hat = min(within) if within else T
    # A full context not clear of the baseline has no signal to locate: no estimate.
    resolved = not math.isfinite(b) or (ref["lo"] > b if hib else ref["hi"] < b)
    curve_out = {str(k): s for k, s in curve.items()}
    return {"k": k_hat if resolved else None, "T": T, "full": ref, "curve": curve_out}


def measure_lag(
    rec: Any, db: Any, run: bool = True, on_event: Any = None, say: Any = None
) -> dict | None:
    """Train (unless stored) and estimate how far back the signal lies, for the recommended
    model on the user's data; stored as a ``signal_lag`` measurement. None without the
    recommended model's runs."""
    from ..store import Store
    from ..study import run_study
    from ..tasks import make_task

    arch = rec.recommendation
    verdict = next(v for v in rec.ranking if v.arch == arch)
    ids = [s[4:] for s in verdict.evidence if s.startswith("run:")]
    with Store(db) as store:
        full = [r for r in (store.get_run(i) for i in ids) if r and r.metrics]
    if not full or full[0].task != "file_sequences":
        return None
    task = make_task(full[0].task, **full[0].config.task_config)
    T = task.horizon
    planned = lag_runs(full, lag_grid(T))
    if run:
        with Store(db) as store:
            todo = [r for r in planned if not store.has_run(r.id)]
        if say is not None and todo:
            say(
                f"measuring how far back the signal lies: {arch} on the last k steps of each "
                f"sequence, k = {', '.join(str(k) for k in lag_grid(T))} …"
            )
        run_study(planned, db, on_event=on_event)
    with Store(db) as store:
        by_k: dict[int, list[Run]] = {}
        for r in planned:
            got = store.get_run(r.id)
            if got and got.metrics:
                by_k.setdefault(r.task_config["last"], []).append(got)
        if not by_k:
            return None
        result = {"arch": arch, **estimate(full, by_k, T)}
        key = {"arch": arch, "data": str(rec.spec.data), "runs": sorted(ids)}
        result["id"] = store.put_measurement(LAG_KIND, key, result)
    return result


def lag_sentence(lag: dict) -> str:
    """What the advice says about a measured lag."""
    k, T, ref = lag["k"], lag["T"], lag["full"]
    where = f"[measurement:{lag['id']}]" if lag.get("id") else ""
    if k is None:
        return (
            f"How far back the signal lies could not be measured {where}: {lag['arch']}'s "
            f"full-context {ref['metric']} {ref['mean']:.3g} [{ref['lo']:.3g}, {ref['hi']:.3g}] "
            f"is not clear of the baseline {ref['baseline']:.3g}, so no window can be compared "
            "with it."
        )
    point = lag["curve"].get(str(k))
    seen = (
        f"{lag['arch']} on the last {k} steps scores {point['metric']} {point['mean']:.3g} "
        f"against {ref['mean']:.3g} [{ref['lo']:.3g}, {ref['hi']:.3g}] on all {T}"
        if point
        else f"no window shorter than the full {T} steps matched {lag['arch']}'s full-context "
        f"{ref['metric']} {ref['mean']:.3g}"
    )
    if k >= T:
        so = "so the whole sequence matters: the model needs memory over all of it"
    elif 2 * k <= T:
        so = (
            f"so a model that remembers about {k} steps is enough — a fixed-size recurrent "
            f"state, or even a {k}-step window, keeps the quality, and the horizon of this "
            f"problem is about {k}, not the full length"
        )
    else:
        so = "so most of the sequence matters"
    return f"Your signal lies about {k} steps back ({seen}) {where}, {so}."
