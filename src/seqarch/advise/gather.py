"""Gathering evidence from the store, and producing what is missing."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from .defend import Recommendation, recommend
from .evidence import Evidence, Figure, Quality, formula_evidence, skill_of
from .spec import CALIBRATION_MAX_HORIZON, ProblemSpec, Progress, archs

CALIBRATION_TASK = "adding"


def calibration_horizon(spec: ProblemSpec) -> int:
    """The distance the on-demand calibration trains at: the spec's, capped for CPU budgets."""
    return max(2, min(spec.effective_horizon, CALIBRATION_MAX_HORIZON))


def _run_horizon(run: dict) -> int | None:
    """The dependency distance of a stored run, from its task config (no hand-kept table)."""
    from ..tasks import make_task

    try:
        return make_task(run["config"]["task"], **run["config"].get("task_config", {})).horizon
    except (ValueError, TypeError):
        return None


def qualities_by_horizon(
    runs: list[dict], arch: str, task: str = CALIBRATION_TASK
) -> dict[int, Quality]:
    """Quality of ``arch`` on ``task`` at every stored dependency distance, seeds averaged."""
    from ..tasks import make_task

    by_h: dict[int, list[dict]] = {}
    for r in runs:
        if r["config"]["arch"] == arch and r["config"]["task"] == task and r["metrics"]:
            h = _run_horizon(r)
            if h is not None:
                by_h.setdefault(h, []).append(r)
    out: dict[int, Quality] = {}
    for h, group in by_h.items():
        t = make_task(task, **group[0]["config"].get("task_config", {}))
        values = [float(r["metrics"][t.metric]) for r in group if t.metric in r["metrics"]]
        if not values:
            continue
        baseline = float(t.baseline()[t.metric])
        skills = [skill_of(v, baseline, t.higher_is_better) for v in values]
        mean = sum(skills) / len(skills)
        spread = (
            math.sqrt(sum((x - mean) ** 2 for x in skills) / (len(skills) - 1))
            if len(skills) > 1
            else 0.0
        )
        ids = [r["id"] for r in group]
        out[h] = Quality(
            skill=Figure(mean, "", "run:" + ",".join(i[:8] for i in ids)),
            spread=spread,
            metric=t.metric,
            value=sum(values) / len(values),
            baseline=baseline,
            task=task,
            horizon=h,
            seq_len=int(group[0]["config"].get("task_config", {}).get("seq_len") or 0),
            run_ids=ids,
            train_seconds=sum(float(r["metrics"].get("train_seconds", 0.0)) for r in group)
            / len(group),
        )
    return out


def nearest(by_horizon: dict[int, Quality], target: int) -> Quality | None:
    """The quality at the stored distance nearest ``target`` in log-distance (a run at 150
    says more about 200 than one at 20); ties go to the longer, more conservative distance."""
    if not by_horizon:
        return None
    h = min(by_horizon, key=lambda k: (abs(math.log(k) - math.log(target)), -k))
    return by_horizon[h]


def calibration_runs(
    spec: ProblemSpec, names: list[str], seeds: int = 1, max_steps: int = 3000
) -> list[Any]:
    """The small study that measures quality at the spec's horizon: the adding problem with its
    first marker ``h`` steps before the end, one short run per architecture and seed."""
    from ..train import RunConfig, TrainConfig

    h = calibration_horizon(spec)
    seq_len = h + 1 + max(4, h // 10)
    budget = 20.0 + h / 5  # seconds per run; longer distances need longer training
    return [
        RunConfig(
            arch=arch,
            task=CALIBRATION_TASK,
            task_config={"seq_len": seq_len, "distance": h, "n_train": 4000},
            model_config={"hidden_size": min(spec.hidden_size, 64), "num_layers": 1},
            train=TrainConfig(
                lr=3e-3,
                batch_size=64,
                max_steps=max_steps,
                eval_every=min(100, max_steps),
                patience=8,
                time_budget_s=budget,
                threads=1,
            ),
            seed=seed,
        )
        for arch in names
        for seed in range(seeds)
    ]


def data_runs(spec: ProblemSpec, names: list[str], seeds: int = 2) -> list[Any]:
    """An empirical selection on the user's own data within the training budget."""
    from ..tasks import from_files
    from ..train import RunConfig, TrainConfig

    assert spec.data is not None
    kind = {"forecast": "forecast", "regress": "regress"}.get(spec.task_kind, "classify")
    task = from_files(spec.data, kind=kind)
    config = task.config()
    name = config.pop("name")
    minutes = spec.train_minutes if spec.train_minutes is not None else 2.0
    per_run = max(5.0, minutes * 60 / (len(names) * seeds))
    return [
        RunConfig(
            arch=arch,
            task=name,
            task_config=config,
            model_config={"hidden_size": min(spec.hidden_size, 64), "num_layers": 1},
            train=TrainConfig(
                lr=3e-3,
                max_steps=2000,
                eval_every=50,
                patience=6,
                time_budget_s=per_run,
                threads=1,
                clip_norm=1.0,
            ),
            seed=seed,
        )
        for arch in names
        for seed in range(seeds)
    ]


def ablation_evidence(store: Any) -> dict[str, Any] | None:
    """Stored UCR runs with dropout alone beside dropout + clipping + layer norm + temporal
    augmentation (``seqarch study --preset ablation``): mean test metric of each group."""
    groups: dict[str, list[dict]] = {"dropout_only": [], "combined": []}
    for r in store.runs(task="ucr"):
        t = r["config"]["train"]
        if not t.get("dropout"):
            continue
        augmented = (
            t.get("jitter_sigma", 0) > 0
            or t.get("scaling_sigma", 0) > 0
            or t.get("window_slice", 1) < 1
        )
        if t.get("clip_norm") is None and not t.get("layer_norm") and not augmented:
            groups["dropout_only"].append(r)
        elif t.get("clip_norm") and t.get("layer_norm") and augmented:
            groups["combined"].append(r)
    if not all(groups.values()):
        return None
    metric = groups["combined"][0]["metrics"].get("metric", "accuracy")
    out: dict[str, Any] = {
        "metric": metric,
        "dataset": groups["combined"][0]["config"]["task_config"].get("dataset", "UCR"),
    }
    for name, runs in groups.items():
        values = [float(r["metrics"][metric]) for r in runs if metric in r["metrics"]]
        out[name] = {
            "mean": sum(values) / max(1, len(values)),
            "n": len(values),
            "ids": [r["id"] for r in runs],
        }
    return out


def stored_flow_ratio(store: Any, arch: str, k: int) -> Figure | None:
    """‖∂h_T/∂x_{T−k}‖ / ‖∂h_T/∂x_{T−1}‖ from a stored gradient-flow measurement covering k."""
    best = None
    for m in store.measurements("gradient_flow"):
        key, value = m["key"], m["value"]
        if key.get("arch") != arch or key.get("trained") or key.get("k_max", 0) < k:
            continue
        ratios = value.get("input_ratio")
        if ratios and (best is None or m["created"] > best[0]):
            best = (m["created"], Figure(float(ratios[k - 1]), "", f"measurement:{m['id'][:8]}"))
    return None if best is None else best[1]


def gather(
    spec: ProblemSpec,
    store: Any,
    db: str | Path,
    run: bool = True,
    names: list[str] | None = None,
    progress: Progress | None = None,
    max_steps: int = 3000,
) -> dict[str, Evidence]:
    """Formulas, stored measurements and stored runs for every architecture; with ``run``,
    whatever is missing is measured and trained first (and stored)."""
    names = archs(names)
    say = progress or (lambda _msg: None)
    evidence = {arch: formula_evidence(spec, arch) for arch in names}
    h = calibration_horizon(spec)

    # Quality: stored runs at the nearest horizon (or on the user's data).
    if run:
        from ..study import run_study

        planned = (
            data_runs(spec, names) if spec.data else calibration_runs(spec, names, 1, max_steps)
        )
        missing = [r for r in planned if not store.has_run(r.id)]
        if missing:
            what = "your data" if spec.data else f"the adding problem at distance {h}"
            say(f"training {len(missing)} calibration run(s) on {what} …")
            run_study(missing, db, on_event=lambda e: say(f"  {e.kind}: {e.run.arch}"))
    if spec.data:
        planned_ids = {r.id for r in data_runs(spec, names)}
        runs = [r for r in store.runs() if r["id"] in planned_ids]
        task_name = next(iter(data_runs(spec, names[:1]))).task
    else:
        runs = store.runs(task=CALIBRATION_TASK)
        task_name = CALIBRATION_TASK
    for arch in names:
        evidence[arch].by_horizon = qualities_by_horizon(runs, arch, task=task_name)
        evidence[arch].quality = nearest(evidence[arch].by_horizon, h)

    # Gradient flow at the horizon, from the store (measured now when allowed).
    for arch in names:
        ratio = stored_flow_ratio(store, arch, h)
        if ratio is None and run and not spec.data:
            from ..derive.flow import gradient_flow, store_flow

            say(f"measuring gradient flow of {arch} over {h} steps …")
            result = gradient_flow(arch, seq_len=h + 1, k_max=h, hidden_size=32, seeds=(0, 1))
            store_flow(result, store)
            ratio = stored_flow_ratio(store, arch, h)
        evidence[arch].grad_ratio = ratio

    # The regularisation ablation, when stored (cited for small user datasets).
    ablation = ablation_evidence(store) if spec.data else None
    for ev in evidence.values():
        ev.ablation = ablation

    # Latency on this machine.
    attach_latency(spec, store, evidence, run=run, say=say)
    return evidence


def _latest(rows: list[dict], **want: Any) -> dict | None:
    """The newest stored measurement whose key matches ``want``."""
    hits = [m for m in rows if all(m["key"].get(k) == v for k, v in want.items())]
    return max(hits, key=lambda m: m["created"]) if hits else None


def _step_figure(store: Any, spec: ProblemSpec, arch: str, grows: bool) -> Figure | None:
    """Per-step latency p50 at batch 1: the decode step at context max_len for a growing state,
    else the seqarch streaming runtime (what one would deploy), else the eager ``step``."""
    rows = store.measurements("latency")
    base = dict(arch=arch, hidden_size=spec.hidden_size, input_size=spec.input_size)
    base["num_layers"] = spec.num_layers
    if grows:
        hit = _latest(rows, **base, context=spec.longest)
    else:
        mine = [m for m in rows if all(m["key"].get(k) == v for k, v in base.items())]
        streams = [m for m in mine if str(m["key"].get("how", "")).startswith("stream")]
        pool = streams or mine
        hit = max(pool, key=lambda m: m["created"]) if pool else None
    if hit is None:
        return None
    return Figure(float(hit["value"]["p50_us"]), "µs", f"measurement:{hit['id'][:8]}")


def _seq_figure(store: Any, spec: ProblemSpec, arch: str) -> Figure | None:
    """Whole-sequence inference latency at batch 1 and T = max_len."""
    hit = _latest(
        store.measurements("throughput"),
        arch=arch,
        hidden_size=spec.hidden_size,
        input_size=spec.input_size,
        seq_len=spec.longest,
        batch_size=1,
        mode="inference",
    )
    if hit is None or "seconds" not in hit["value"]:
        return None
    return Figure(float(hit["value"]["seconds"]) * 1e6, "µs", f"measurement:{hit['id'][:8]}")


def attach_latency(
    spec: ProblemSpec, store: Any, evidence: dict[str, Evidence], run: bool, say: Progress
) -> None:
    """Fill step / sequence latency from the store, measuring what is missing when allowed."""
    from .. import measure

    for arch, ev in evidence.items():
        if spec.streaming:
            ev.step_us = _step_figure(store, spec, arch, ev.state_grows)
            if ev.step_us is None and run:
                say(f"timing a {arch} step (H={spec.hidden_size}) on this machine …")
                rows = measure.stream_latency(
                    arch,
                    spec.hidden_size,
                    input_size=spec.input_size,
                    num_layers=spec.num_layers,
                    contexts=[spec.longest],
                    repeats=400,
                )
                measure.save(store, "latency", rows)
                ev.step_us = _step_figure(store, spec, arch, ev.state_grows)
        else:
            ev.seq_us = _seq_figure(store, spec, arch)
            if ev.seq_us is None and run:
                say(f"timing a {arch} forward over {spec.longest} steps on this machine …")
                rows = measure.throughput(
                    arch,
                    hidden_size=spec.hidden_size,
                    input_size=spec.input_size,
                    seq_lens=[spec.longest],
                    batch_sizes=[1],
                    modes=["inference"],
                )
                measure.save(store, "throughput", rows)
                ev.seq_us = _seq_figure(store, spec, arch)


def advise(
    spec: ProblemSpec,
    db: str | Path | None = None,
    run: bool = True,
    names: list[str] | None = None,
    progress: Progress | None = None,
    max_steps: int = 3000,
) -> Recommendation:
    """Gather the evidence (running what is missing unless ``run=False``), rank, defend; the
    advice is stored (kind "advice") so the report can show the latest one."""
    from ..store import Store, default_path

    db = Path(db) if db is not None else default_path()
    with Store(db) as store:
        evidence = gather(
            spec, store, db, run=run, names=names, progress=progress, max_steps=max_steps
        )
        rec = recommend(spec, evidence)
        store.put_measurement("advice", spec.to_dict(), rec.to_dict())
    return rec
