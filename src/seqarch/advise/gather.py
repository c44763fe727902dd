"""Gathering evidence from the store, and producing what is missing."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from ..derive.flow import FLOW_KIND
from ..readings import (
    Figure,
    common_horizon,
    fmt,
    latest,
    qualities_by_horizon,
    step,
    stored_flow_ratio,
)
from ..records import Latency, Throughput
from ..rules import skill_of
from ..runs import Run
from ..shipped import layer as shipped_layer
from . import proxy as proxies
from .defend import Recommendation, recommend
from .evidence import (
    Evidence,
    Peer,
    formula_evidence,
    spec_cost,
)
from .plans import (
    ADVISE_MINUTES,
    CALIBRATION_TASK,
    DATA_MINUTES,
    MEASURE_MEMORY_FRACTION,
    data_card,
    data_runs,
    data_step_budget,
    measure_budget_bytes,
    planned_runs,
    training_estimate,
    training_memory_guard,
)
from .spec import ProblemSpec, Progress, archs, calibration_horizon

ADVICE_KIND = "advice"  # the store's kind for a recommendation (the report shows the latest)


def coverage_gap(spec: ProblemSpec, evidence: dict[str, Evidence]) -> str | None:
    """What the stored quality evidence lacks for ``spec`` (None: none): architectures with no
    quality, or quality from another distance than the problem's."""
    h = calibration_horizon(spec)
    none = [a for a, ev in evidence.items() if ev.quality is None]
    at = {ev.quality.horizon for ev in evidence.values() if ev.quality is not None}
    proxy = next((ev.proxy for ev in evidence.values() if ev.proxy is not None), None)
    parts = []
    real = None if spec.data else proxies.choose(spec)
    if real is not None and real.real and (proxy is None or not proxy.real):
        parts.append(f"no stored runs on the real task nearest it, {real.task}")
    if none:
        parts.append(f"no stored quality for {', '.join(none)}")
    width = min(spec.hidden_size, 64)  # the width the advisor trains at (calibration_runs)
    widths = {ev.quality.width for ev in evidence.values() if ev.quality is not None}
    other = sorted(w for w in widths if w is not None and w != width)
    if other and not spec.data and (proxy is None or not proxy.real):
        parts.append(f"measured at width {', '.join(map(str, other))}, not this problem's {width}")
    if at and (proxy is None or not proxy.real) and at != {h}:
        parts.append(
            f"quality stored at distance {', '.join(str(x) for x in sorted(at))}, the nearest to "
            f"this problem's {spec.effective_horizon}"
            + (f" (the adding problem reaches {h} at most)" if h < spec.effective_horizon else "")
        )
    return "; ".join(parts) or None


def ablation_evidence(store: Any) -> dict[str, Any] | None:
    """Stored UCR runs with dropout alone beside dropout + clipping + layer norm + temporal
    augmentation (``seqarch study --preset ablation``): mean test metric of each group."""
    from .. import protocol

    groups: dict[str, list[Run]] = {"dropout_only": [], "combined": []}
    # the protocol's selected seeds only: the sweep's other learning rates were tuning
    for r in protocol.selected_runs(store.runs(task="ucr")):
        t = r.config.train
        if not t.dropout:
            continue
        augmented = t.jitter_sigma > 0 or t.scaling_sigma > 0 or t.window_slice < 1
        if t.clip_norm is None and not t.layer_norm and not augmented:
            groups["dropout_only"].append(r)
        elif t.clip_norm and t.layer_norm and augmented:
            groups["combined"].append(r)
    if not all(groups.values()):
        return None
    metric = groups["combined"][0].metrics.get("metric", "accuracy")
    out: dict[str, Any] = {
        "metric": metric,
        "dataset": groups["combined"][0].config.task_config.get("dataset", "UCR"),
    }
    for name, runs in groups.items():
        values = [float(r.metrics[metric]) for r in runs if metric in r.metrics]
        out[name] = {
            "mean": sum(values) / max(1, len(values)),
            "n": len(values),
            "ids": [r.id for r in runs],
        }
    return out


def gather(
    spec: ProblemSpec,
    store: Any,
    db: str | Path,
    run: bool = True,
    names: list[str] | None = None,
    progress: Progress | None = None,
    max_steps: int | None = None,
    protocol: Any = None,
    on_event: Any = None,
    train: bool | None = None,
) -> dict[str, Evidence]:
    """Formulas, stored measurements and stored runs for every architecture; with ``run``,
    whatever is missing is measured (and stored), and trained first unless ``train`` is False
    (default: as ``run``)."""
    train = run if train is None else run and train
    names = archs(names)
    say = progress or (lambda _msg: None)
    evidence = {arch: formula_evidence(spec, arch) for arch in names}
    h = calibration_horizon(spec)

    # Quality: on the user's data, on the real task nearest the problem, or on the adding
    # problem at the nearest stored horizon — under the protocol (advise/proxy.py says which).
    proxy = None if spec.data else proxies.choose(spec)
    if spec.data:
        if run:  # before anything is said or trained
            training_memory_guard(spec, names, protocol)
        say(data_card(spec))
        steps, how = data_step_budget(spec, names, store, run, say, protocol, max_steps)
        say(f"step budget: {how}")
        planned = data_runs(spec, names, protocol, max_steps, steps)
    else:
        planned = planned_runs(spec, names, protocol, max_steps)
    if train:
        from ..study import run_study

        what = (
            "your data"
            if spec.data
            else f"the real task {proxy.label()}"
            if proxy.real
            else f"the adding problem at distance {h}"
        )
        count = {"done": 0}

        outer_event = on_event

        def on_event(e: Any) -> None:  # without a progress bar: a line per finished run
            if e.kind in ("done", "failed", "lost"):
                count["done"] += 1
                m = e.metrics
                result = f"{m['metric']} {m[m['metric']]:.3g}" if e.kind == "done" else e.kind
                say(
                    f"  [{count['done']}] {e.run.arch} lr {e.run.train.lr:g} seed {e.run.seed}: "
                    f"{result} after {m.get('steps', '?')} steps"
                )

        todo = sum(not store.has_run(r.id) for r in planned)
        if todo:
            say(
                f"training on {what} under protocol {planned[0].train.protocol}: a sweep of "
                f"{todo} run(s) ({planned[0].train.max_steps} steps each), then the seeds at "
                "each architecture's selected learning rate …"
            )
        run_study(planned, db, on_event=outer_event or on_event)
    if spec.data or proxy.real:
        from ..study import study_rows

        runs = with_raced(store, study_rows(store, planned), planned[0].task)
        task_name = planned[0].task
    else:
        runs = store.runs(task=CALIBRATION_TASK)
        task_name = CALIBRATION_TASK
    for arch in names:
        evidence[arch].by_horizon = qualities_by_horizon(runs, arch, task=task_name)
        evidence[arch].proxy = proxy
    common = common_horizon({a: ev.by_horizon for a, ev in evidence.items()}, h)
    if (
        common is None
        and not train
        and proxy is not None
        and proxy.real
        and getattr(spec, "proxy", proxies.AUTO) == proxies.AUTO  # a task asked for by name stays
    ):
        # Nothing stored on the real proxy and nothing to be trained now: the adding problem at
        # the nearest stored distance stands in, said as such (--measure trains the proxy).
        stand_in = proxies.Proxy(
            proxies.SYNTHETIC,
            False,
            f"nothing is stored yet on the real task nearest this problem, {proxy.label()} "
            f"(`--measure` trains it here), so the adding problem with the signal {h} steps "
            "back stands in, at the nearest distance stored",
        )
        runs = store.runs(task=CALIBRATION_TASK)
        for arch in names:
            evidence[arch].by_horizon = qualities_by_horizon(runs, arch, CALIBRATION_TASK)
            evidence[arch].proxy = stand_in
        proxy = stand_in
        common = common_horizon({a: ev.by_horizon for a, ev in evidence.items()}, h)
    for ev in evidence.values():
        ev.quality = ev.by_horizon.get(common) if common is not None else None

    # Gradient flow at the distance the quality was measured at (the real proxy's horizon,
    # else the stored distance the comparison uses, else the calibration's), from the store
    # (measured now when allowed).
    k = proxy.horizon if proxy is not None and proxy.real else common or h
    for arch in names:
        ratio = stored_flow_ratio(store, arch, k)  # any stored flow that reaches k back

        def flow(arch: str = arch) -> None:
            from ..derive.flow import gradient_flow, store_flow

            say(f"measuring gradient flow of {arch} over {k} steps …")
            store_flow(
                gradient_flow(arch, seq_len=k + 1, k_max=k, hidden_size=32, seeds=(0, 1)), store
            )

        want = {"arch": arch, "k_max": k, "hidden_size": 32, "trained": False}
        if ratio is None and store.ensure(FLOW_KIND, flow, want, run=run and not spec.data):
            ratio = stored_flow_ratio(store, arch, k)
        evidence[arch].grad_ratio = ratio

    # Classical peers on the same splits as the neural models (the user's data only).
    peers = peer_evidence(store, planned, run=run, say=say) if spec.data else []
    for ev in evidence.values():
        ev.peers = peers

    # The regularisation ablation, when stored (cited for small user datasets).
    ablation = ablation_evidence(store) if spec.data else None
    for ev in evidence.values():
        ev.ablation = ablation

    # Latency on this machine.
    attach_latency(spec, store, evidence, run=run, say=say)
    return evidence


def with_raced(store: Any, runs: list[Run], task: str) -> list[Run]:
    """``runs`` and the stored seeds racing added to their comparisons (same recipe, seeds
    beyond the protocol's)."""
    keys = {r.recipe_key for r in runs}
    have = {r.id for r in runs}
    more = [
        r
        for r in store.runs(task=task)
        if r.id not in have and r.status == "done" and r.protocol and r.recipe_key in keys
    ]
    return runs + more


def race_top(
    spec: ProblemSpec,
    evidence: dict[str, Evidence],
    db: str | Path,
    regather: Any,
    say: Progress,
    on_event: Any = None,
    deadline: float | None = None,
) -> tuple[dict[str, Evidence], Any]:
    """Racing (seqarch.protocol.race): while the decision at the top is unresolved, the models
    in question (:func:`seqarch.advise.decide.in_question`) get more seeds at their selected
    lr, up to the protocol's cap; ``regather()`` reads the evidence again after each round.
    Returns the final evidence and what racing did."""
    from .. import protocol
    from ..store import Store
    from ..study import run_study
    from .decide import in_question, rank

    state = {"evidence": evidence}

    def question() -> list[Run]:
        ev = state["evidence"]
        archs = in_question(spec, rank(spec, ev), ev)
        ids = {i for a in archs if ev[a].quality is not None for i in ev[a].quality.run_ids}
        if not ids:
            return []
        with Store(db) as store:
            records = [r for r in store.runs() if r.protocol]
        groups = protocol.group(records).values()
        return [r for g in groups if any(x.id in ids for x in g) for r in g]

    def train(extra: list[Any]) -> None:
        say(
            f"racing: the decision at the top is unresolved; {len(extra)} more seed run(s) for "
            f"{', '.join(sorted({r.arch for r in extra}))} …"
        )
        run_study(extra, db, on_event=on_event)
        state["evidence"] = regather()

    raced = protocol.race(question, train, deadline=deadline)
    return state["evidence"], raced


def peer_evidence(store: Any, planned: list[Any], run: bool, say: Progress) -> list[Any]:
    """Every classical peer that applies, on each split the neural runs used (the protocol's
    seeds re-split the rows: the peer's interval is over the same splits), and on the splits of
    any further seed stored for this comparison (racing adds seeds), so the paired difference
    to a model runs over all of its seeds."""
    from .. import peers as peer_lib
    from .. import protocol as protocols
    from ..tasks import make_task

    first = planned[0]
    fair = protocols.get(first.train.protocol)
    time_split = hasattr(make_task(first.task, **first.task_config), "window_ends")  # forecast
    resplit = first.task_config.get("seed") == first.seed and not time_split
    seeds = set(fair.seeds)
    if resplit:  # the seeds stored beyond the protocol's, on this file's splits
        same = {k: v for k, v in first.task_config.items() if k != "seed"}
        for r in store.runs(task=first.task):
            tc = r.config.task_config
            if tc.get("seed") == r.seed and same == {k: v for k, v in tc.items() if k != "seed"}:
                seeds.add(int(tc["seed"]))
    by_seed = {  # the split each seed trained on
        s: {**first.task_config, "seed": s} if resplit else dict(first.task_config)
        for s in sorted(seeds)
    }
    configs = list({json.dumps(c, sort_keys=True): c for c in by_seed.values()}.values())
    task = make_task(first.task, **configs[0])
    out = []
    for name in peer_lib.peers_for(task):
        if run:
            say(f"fitting the classical peer {name} on the same {len(configs)} split(s) …")
        found = {
            json.dumps(c, sort_keys=True): peer_lib.ensure(store, name, first.task, c, run=run)
            for c in configs
        }
        hits = [h for h in found.values() if h is not None]
        if not hits:
            continue
        v = hits[0]["value"]

        def skill(h: dict) -> float:
            r = h["value"]
            return skill_of(float(r["value"]), float(r["baseline"]), r["higher_is_better"])

        values = [float(h["value"]["value"]) for h in hits]
        skills = [skill(h) for h in hits]
        seed_skills = {  # per seed, for the paired comparison with the sequence models
            s: skill(found[key])
            for s, c in by_seed.items()
            if found[key := json.dumps(c, sort_keys=True)] is not None
        }
        iv = protocols.interval(skills) if len(hits) > 1 else protocols.Interval(skills[0], 0.0, 1)
        out.append(
            Peer(
                name=name,
                metric=v["metric"],
                value=sum(values) / len(values),
                skill=iv,
                source="measurement:" + ",".join(h["id"][:8] for h in hits),
                seed_skills=seed_skills,
            )
        )
    return out


def _step_figure(
    store: Any, spec: ProblemSpec, arch: str, grows: bool, context: int
) -> Figure | None:
    """Per-step latency p50 at batch 1: the decode step at context max_len for a growing state,
    else the seqarch streaming runtime (what one would deploy), else the eager ``step``. A
    bounded window's step is the one timed at the receptive field the spec's model has (the
    TCN built for max_len): a step timed for another window says nothing about this one."""
    rows = store.measurements(Latency.kind)
    base = dict(arch=arch, hidden_size=spec.hidden_size, input_size=spec.input_size)
    base["num_layers"] = spec.num_layers
    rows = [
        m
        for m in rows
        if m["key"].get("receptive_field") == spec_cost(spec, arch, spec.longest).receptive_field
    ]
    if grows:
        hit = latest(rows, **base, context=context)
        r = None if hit is None else Latency.read(hit)
    else:
        r = step(rows, **base)
    if r is None:
        return None
    return Figure(float(r.p50_us), "µs", f"measurement:{r.id[:8]}", float(r.spread_us or 0.0))


def _seq_figure(store: Any, spec: ProblemSpec, arch: str) -> Figure | None:
    """Whole-sequence inference latency at batch 1 and T = max_len."""
    hit = latest(
        store.measurements(Throughput.kind),
        arch=arch,
        hidden_size=spec.hidden_size,
        input_size=spec.input_size,
        seq_len=spec.longest,
        batch_size=1,
        mode="inference",
    )
    r = None if hit is None else Throughput.read(hit)
    if r is None or r.seconds is None:
        return None
    spread = float(r.spread_seconds or 0.0) * 1e6
    return Figure(r.seconds * 1e6, "µs", f"measurement:{r.id[:8]}", spread)


def timing_bytes(spec: ProblemSpec, arch: str, context: int) -> int:
    """What timing ``arch`` at ``context`` needs by formula: weights, state at the context and
    the activations of one forward over it at batch 1 (recomputing a prefix without a cache)."""
    c = spec_cost(spec, arch, context)
    return 4 * c.params + c.state_bytes + c.activation_bytes


def feasible_context(spec: ProblemSpec, arch: str, budget: int) -> int | None:
    """The longest context ≤ the spec's longest whose timing fits ``budget`` (halving)."""
    T = spec.longest
    while T >= 1:
        if timing_bytes(spec, arch, T) <= budget:
            return T
        T //= 2
    return None


def _extrapolated(fig: Figure, spec: ProblemSpec, arch: str, context: int) -> Figure:
    """A decode step measured at ``context``, scaled to the spec's longest context by the
    cost formula's FLOPs per token (a KV-cache step's work grows linearly in the context)."""
    ratio = (
        spec_cost(spec, arch, spec.longest).flops_per_token
        / spec_cost(spec, arch, context).flops_per_token
    )
    return Figure(
        fig.value * ratio,
        fig.unit,
        f"{fig.source} at context {context} × formula:{arch}.cost.flops_per_token ratio "
        f"{ratio:.3g}",
        fig.spread * ratio,
    )


def attach_latency(
    spec: ProblemSpec, store: Any, evidence: dict[str, Evidence], run: bool, say: Progress
) -> None:
    """Fill step / sequence latency from the store, measuring what is missing when allowed.

    The memory guard: nothing is timed whose memory by formula exceeds the spec's memory
    budget (it is infeasible already) or ``MEASURE_MEMORY_FRACTION`` of this machine's RAM
    (then a growing-state step is measured at the longest context that fits and extrapolated
    by the cost formula, and the figure's source says so)."""
    from .. import measure

    budget = measure_budget_bytes()
    for arch, ev in evidence.items():
        if spec.memory_mb is not None and ev.memory_bytes > spec.memory_mb * 2**20:
            ev.not_timed = (
                f"not timed: weights + state need {fmt(ev.memory_bytes, 'B')} by formula, over "
                f"the {spec.memory_mb:g} MB budget"
            )
            continue
        if spec.streaming:
            ev.step_us = _step_figure(store, spec, arch, ev.state_grows, spec.longest)
            context = spec.longest
            if ev.step_us is None and ev.state_grows:
                context = feasible_context(spec, arch, budget) or 0
                if context < spec.longest:
                    stored = _step_figure(store, spec, arch, True, context) if context else None
                    ev.step_us = (
                        None if stored is None else _extrapolated(stored, spec, arch, context)
                    )
            if ev.step_us is None and run:
                if context < 1:
                    ev.not_timed = f"not timed: even one step needs more than {fmt(budget, 'B')}"
                    continue
                where = f" at context {context}" if ev.state_grows else ""
                say(f"timing a {arch} step (H={spec.hidden_size}){where} on this machine …")
                rows = measure.stream_latency(
                    arch,
                    spec.hidden_size,
                    input_size=spec.input_size,
                    num_layers=spec.num_layers,
                    contexts=[context],
                    repeats=400,
                )
                measure.save(store, Latency.kind, rows)
                ev.step_us = _step_figure(store, spec, arch, ev.state_grows, context)
                if ev.step_us is not None and context < spec.longest:
                    ev.step_us = _extrapolated(ev.step_us, spec, arch, context)
                    say(
                        f"  {arch}: timing at context {spec.longest} would need "
                        f"{fmt(timing_bytes(spec, arch, spec.longest), 'B')} by formula (over "
                        f"{fmt(budget, 'B')}); measured at {context} and extrapolated"
                    )
        else:
            ev.seq_us = _seq_figure(store, spec, arch)
            if ev.seq_us is None and run:
                if timing_bytes(spec, arch, spec.longest) > budget:
                    ev.not_timed = (
                        f"not timed: a sequence of {spec.longest} needs "
                        f"{fmt(timing_bytes(spec, arch, spec.longest), 'B')} by formula, over "
                        f"{fmt(budget, 'B')} ({MEASURE_MEMORY_FRACTION:.0%} of this machine's RAM)"
                    )
                    continue
                say(f"timing a {arch} forward over {spec.longest} steps on this machine …")
                # One thread, as the streaming step: a batch-1 forward of a small model gains
                # nothing from a second thread, and on a shared machine two threads measured
                # the neighbours (an LSTM forward over 70 steps: 0.46 ms alone, 598 ms beside
                # two training jobs).
                with measure.threads(1):
                    rows = measure.throughput(
                        arch,
                        hidden_size=spec.hidden_size,
                        input_size=spec.input_size,
                        seq_lens=[spec.longest],
                        batch_sizes=[1],
                        modes=["inference"],
                        memory_budget=budget,
                    )
                measure.save(store, Throughput.kind, rows)
                ev.seq_us = _seq_figure(store, spec, arch)


def advise(
    spec: ProblemSpec,
    db: str | Path | None = None,
    run: bool = True,
    names: list[str] | None = None,
    progress: Progress | None = None,
    max_steps: int | None = None,
    protocol: Any = None,
    keep: bool = True,
    on_event: Any = None,
    measure: bool = True,
) -> Recommendation:
    """Gather the evidence, rank, defend; the advice is stored (kind "advice", unless ``keep``
    is False) so the report can show the latest one. ``run``: measure what is missing here
    (latency, gradient flow); ``measure``: also train the missing quality evidence (always on
    the user's data). Without it the answer uses the stored evidence — the user's store over
    the shipped base (seqarch.shipped) — and says how long measuring the rest would take."""
    import time

    from ..store import Snapshot, Store, default_path, reading

    if isinstance(db, Snapshot) and (run or keep):
        raise TypeError("a store snapshot is read-only: advise(run=False, keep=False) on it")
    db = db if isinstance(db, Snapshot) else Path(db) if db is not None else default_path()
    over = None  # the training the evidence would need, when it exceeds the budget
    train = run and (measure or bool(spec.data))
    default = DATA_MINUTES if spec.data else ADVISE_MINUTES
    budget_s = 60 * (spec.train_minutes if spec.train_minutes is not None else default)
    # no racing round that would end after it starts; a tenth of the budget is kept for what
    # follows the training (the peers on the raced splits, the kept models' refits, timings)
    deadline = time.time() + 0.9 * budget_s
    with reading(db) as store:
        if train and not spec.data:  # on the user's data the step budget is fitted to it instead
            say = progress or (lambda _m: None)
            need = training_estimate(spec, archs(names), store, say, protocol, max_steps) / 60
            minutes = spec.train_minutes if spec.train_minutes is not None else ADVISE_MINUTES
            if need > minutes:
                train = False
                over = (
                    f"Measuring the quality evidence here would take ≈ {need:.0f} min, over the "
                    f"{minutes:g} min training budget: this answer is from stored evidence; "
                    f"rerun with --train-minutes {math.ceil(need)} to measure it."
                )
                say(over)
        evidence = gather(
            spec,
            store,
            db,
            run=run,
            names=names,
            progress=progress,
            max_steps=max_steps,
            protocol=protocol,
            on_event=on_event,
            train=train,
        )
        raced = None
        if train:
            evidence, raced = race_top(
                spec,
                evidence,
                db,
                lambda: gather(
                    spec, store, db, False, names, max_steps=max_steps, protocol=protocol
                ),
                progress or (lambda _m: None),
                on_event,
                deadline=deadline,
            )
        if spec.data and raced is not None and raced.rounds:
            # the splits racing added get their peers too: a peer is paired over every seed
            first = data_runs(spec, archs(names)[:1], protocol, steps=1)
            peers = peer_evidence(store, first, run=True, say=progress or (lambda _m: None))
            for ev in evidence.values():
                ev.peers = peers
        rec = recommend(spec, evidence, raced)
        layer = None if spec.data else shipped_layer()  # the base never answers for user data
        gone = (
            {}
            if layer is None
            else {a: w for a, w in layer.stale.items() if a in archs(names) or a == "*"}
        )
        if gone:
            rec.caveats.append(
                "The shipped evidence base was left out for "
                + "; ".join(f"{'every model' if a == '*' else a} ({w})" for a, w in gone.items())
                + ": `seqarch base --build` regenerates it."
            )
        if over is not None:
            rec.caveats.insert(0, over)
        elif run and not train:
            gap = coverage_gap(spec, evidence)
            if gap is not None:
                say = progress or (lambda _m: None)
                need = training_estimate(spec, archs(names), store, say, protocol, max_steps)
                real = proxies.choose(spec)
                what = (
                    f"the real task {real.task}"
                    if real.real
                    else f"the adding problem {calibration_horizon(spec)} steps back"
                )
                rec.caveats.insert(
                    0,
                    f"Stored evidence answers this ({gap}); `--measure` would train {what} here: "
                    f"≈ {max(1, round(need / 60))} min on this machine.",
                )
    if spec.data and spec.horizon is None:  # how far back the signal lies, measured
        from .lag import lag_sentence, measure_lag

        lag = measure_lag(rec, db, run=run, on_event=on_event, say=progress)
        if lag is not None:
            rec.signal_lag = lag
            rec.defense += "\n\n" + lag_sentence(lag)
            if lag["k"] is not None:
                unknown = "The horizon is unknown, so the advice assumes the worst case."
                rec.caveats = [c for c in rec.caveats if c != unknown] + [
                    f"The horizon was not given; it was measured: about {lag['k']} steps "
                    f"[measurement:{lag['id']}]."
                ]
    if keep:
        with Store(db) as store:
            store.put_measurement(ADVICE_KIND, spec.to_dict(), rec.to_dict())
    return rec
