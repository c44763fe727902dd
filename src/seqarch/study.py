r"""A study: a list of run configs, run where they are not yet stored, locally or on Ray.

A study is written as a table (a preset in :mod:`seqarch.presets`, or a TOML file)::

    [defaults]                      # merged under every sweep (a sweep's own keys win)
    seed = [0, 1, 2]
    model_config = { hidden_size = 32 }
    train = { lr = 1e-2, batch_size = 32, max_steps = 1000 }

    [[sweep]]                       # keys: task, arch, seed, task_config, model_config, train
    task = "adding"
    arch = ["rnn", "lstm", "gru"]
    task_config = { seq_len = [50, 200] }

A list value sweeps over its items (for arch, seed and any value inside task_config,
model_config or train): the sweep above is 3 archs × 2 lengths × 3 seeds = 18 runs. Each run's
id is the hash of its canonical config, so running a study twice trains nothing twice, and a
study interrupted (Ctrl-C, a killed worker) resumes where it stopped.

Populations: pending runs of one recipe that differ only in learning rate and seed — a
protocol's sweep, then its seeds at the selected rate — train as one population
(:mod:`seqarch.population`) where the architecture has a fused kernel (:mod:`seqarch.fused`);
every other run trains alone through ``train()``, and the outcome's line says which and why.
Each member is stored as its own run, with the same id and config as if it had trained alone.

Backends:
    local  worker processes (spawned); each trains a run and writes it to the store itself, in
           one transaction, so a killed worker loses only the run it was training. A worker
           watches its parent and ends (discarding the run in flight, never a half-written
           record) once the study's process is gone — killed, or exited and not yet reaped.
    ray    ``ray.init(address)`` or a local Ray of ``workers`` CPUs; each task trains a run and
           returns it, and the driver writes it (the store need not be shared with the cluster).
"""

from __future__ import annotations

import itertools
import json
import math
import multiprocessing as mp
import os
import queue
import signal
import statistics
import threading
import time
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from . import fused, models, presets, protocol
from .errors import BadInput
from .runs import Run
from .store import Snapshot, Store, canonical_json, environment, reading
from .train import RunConfig, TrainConfig, train

BACKENDS = ("local", "ray")
SWEEP_KEYS = ("task", "arch", "seed", "task_config", "model_config", "train", "protocol")
TABLE_KEYS = ("task_config", "model_config", "train")


# -- reading a study -----------------------------------------------------------------------------


def _grid(table: dict) -> list[dict]:
    """{a: [1, 2], b: 3} -> [{a: 1, b: 3}, {a: 2, b: 3}]: lists sweep, scalars stay."""
    keys = list(table)
    values = [v if isinstance(v, list) else [v] for v in table.values()]
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*values)]


def expand(spec: dict) -> list[RunConfig]:
    """The run configs of a study table (see the module docstring), duplicates dropped."""
    unknown = sorted(set(spec) - {"defaults", "sweep"})
    if unknown:
        raise BadInput(f"study key {unknown[0]!r} is not accepted; expected 'defaults' and 'sweep'")
    defaults = spec.get("defaults", {})
    sweeps = spec.get("sweep", [])
    if not sweeps:
        raise BadInput("a study with no [[sweep]] is not accepted; expected at least one")
    runs: dict[str, RunConfig] = {}
    for i, sweep in enumerate([defaults, *sweeps]):
        bad = sorted(set(sweep) - set(SWEEP_KEYS))
        if bad:
            where = "defaults" if i == 0 else f"sweep {i}"
            raise BadInput(
                f"key {bad[0]!r} in {where} is not accepted; "
                f"expected any of {', '.join(SWEEP_KEYS)}"
            )
    for sweep in sweeps:
        merged = {**defaults, **sweep}
        for key in TABLE_KEYS:
            merged[key] = {**defaults.get(key, {}), **sweep.get(key, {})}
        for key in ("task", "arch"):
            if key not in merged:
                raise BadInput(f"a sweep without {key!r} is not accepted; expected {key} = ...")
        fair = _protocol_of(merged)
        outer = {"task": merged["task"], "arch": merged["arch"], "seed": merged.get("seed", 0)}
        for o, tc, mc, tr in itertools.product(
            _grid(outer),
            _grid(merged["task_config"]),
            _grid(merged["model_config"]),
            _grid(merged["train"]),
        ):
            run = RunConfig(
                arch=o["arch"],
                task=o["task"],
                task_config=tc,
                model_config=mc,
                train=TrainConfig.from_dict(tr),
                seed=o["seed"],
            )
            for r in [run] if fair is None else protocol.expand(run, fair):
                runs.setdefault(r.id, r)
    for run in runs.values():
        check_task(run)
    return list(runs.values())


def _protocol_of(merged: dict) -> protocol.Protocol | None:
    """A sweep under a protocol: the protocol sets lr, seeds and the stopping rule; the sweep
    sets the step budget (train.max_steps), the same for every architecture."""
    if "protocol" not in merged:
        return None
    fair = protocol.get(merged["protocol"])
    clash = [k for k in ("lr", "patience", "min_steps", "eval_every") if k in merged["train"]]
    clash += ["seed"] if "seed" in merged else []
    if clash:
        raise BadInput(
            f"{clash[0]!r} is set by protocol {fair.tag} and is not accepted beside it; expected "
            "only the step budget (train.max_steps) and the model and task options"
        )
    steps = merged["train"].get("max_steps")
    if not isinstance(steps, int) or isinstance(steps, bool):
        raise BadInput(
            f"train.max_steps={steps!r} is not accepted under protocol {fair.tag}; expected one "
            "integer step budget, the same for every architecture"
        )
    merged["train"] = {**merged["train"], **fair.train_options(steps)}
    return fair


def check_task(run: RunConfig) -> None:
    """Unknown task names or options fail now, in one line, not inside a worker later."""
    from .tasks import make_task

    task = make_task(run.task, **run.task_config)
    augmenting = run.train.jitter_sigma or run.train.scaling_sigma or run.train.window_slice < 1
    if augmenting and getattr(task, "inputs", "signal") != "signal":
        raise BadInput(
            f"temporal augmentation is not accepted for task {run.task!r}, whose inputs are "
            f"{task.inputs}; expected a task with real-valued signal inputs"
        )


def load_study(name_or_path: str | Path) -> list[RunConfig]:
    """A preset name (quick, full, ablation) or the path of a study TOML file."""
    name = str(name_or_path)
    if name in presets.PRESETS:
        return expand(presets.PRESETS[name])
    path = Path(name)
    if path.suffix != ".toml" or not path.is_file():
        raise BadInput(
            f"study {name!r} is not accepted; expected a preset "
            f"({', '.join(presets.PRESETS)}) or an existing .toml file"
        )
    try:
        spec = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as e:
        raise BadInput(f"{path} is not valid TOML: {e}") from None
    return expand(spec)


# -- running one run -----------------------------------------------------------------------------


def execute(config: dict) -> Run:
    """Train one run (a RunConfig dict) and return the run the store keeps.

    An exception inside training gives a record with status "failed" and the error, so one bad
    run does not stop a study (and is retried when the study runs again).
    """
    run = RunConfig.from_dict(config)
    started = time.time()
    try:
        result = train(run)
        metrics, curve, status = result.metrics, result.curve, "done"
    except Exception as e:  # noqa: BLE001 - recorded, the study goes on
        metrics, curve, status = {"error": f"{type(e).__name__}: {e}"}, [], "failed"
    return Run(run.id, run, metrics, curve, environment(), status, started, time.time())


def execute_unit(configs: list[dict]) -> list[Run]:
    """Train a unit of work — one run, or a population of runs that differ only in lr and
    seed — and return one store record per run, in order. A population that fails as a whole
    falls back to training its runs one by one."""
    if len(configs) == 1:
        return [execute(configs[0])]
    from .population import train_population

    runs = [RunConfig.from_dict(c) for c in configs]
    started = time.time()
    try:
        results = train_population(runs)
    except Exception:  # noqa: BLE001 - each run again alone, where a failure is recorded
        return [execute(c) for c in configs]
    finished, env = time.time(), environment()
    return [
        Run(run.id, run, result.metrics, result.curve, env, "done", started, finished)
        for run, result in zip(runs, results, strict=True)
    ]


def units(pending: list[RunConfig], workers: int = 1) -> tuple[list[list[RunConfig]], list[str]]:
    """``pending`` as units of work: the runs of one recipe that differ only in lr and seed
    train as one population where their architecture has a fused kernel; every other run alone.

    A member's wall-clock budget counts its share of the population's time (population.py).
    While there are fewer units than ``workers``, the largest population is halved (each half
    at least 2 runs), so no worker idles. Also returns, once per reason, why runs trained alone.
    """
    groups: dict[str, list[RunConfig]] = {}
    alone: list[list[RunConfig]] = []
    why: dict[str, None] = {}
    for run in pending:
        reason = fused.unsupported_run(run)
        if reason is not None:
            alone.append([run])
            why[reason] = None
            continue
        key = replace(run, train=replace(run.train, lr=1.0), seed=0).id
        groups.setdefault(key, []).append(run)
    together = [g for g in groups.values() if len(g) > 1]
    alone += [g for g in groups.values() if len(g) == 1]
    while len(together) + len(alone) < workers:
        big = max(together, key=len, default=[])
        if len(big) < 4:
            break
        together.remove(big)
        together += [big[: len(big) // 2], big[len(big) // 2 :]]
    first = {run.id: i for i, run in enumerate(pending)}  # the study's own order
    return sorted(together + alone, key=lambda u: first[u[0].id]), list(why)


def save(store: Store, record: Run) -> None:
    c = record.config
    args = (record.metrics, record.curve, record.env, record.started, record.finished)
    store.put_run(record.id, c.to_dict(), *args, status=record.status)


@dataclass
class Event:
    """What the caller hears about each run: 'queued', 'start', then 'done', 'failed' or 'lost'."""

    kind: str
    run: RunConfig
    metrics: dict = field(default_factory=dict)
    worker: int | None = None  # local backend: the worker's number and process id
    pid: int | None = None


@dataclass
class Outcome:
    total: int  # runs in the study
    skipped: int  # already stored before this call
    shipped: int = 0  # of them, in the shipped evidence base (seqarch.shipped), not the store
    done: int = 0
    failed: int = 0
    lost: int = 0  # their worker died; they run again next time
    populations: int = 0  # units of more than one run, trained by the fused population kernel
    in_populations: int = 0  # the runs in them
    alone: list[str] = field(default_factory=list)  # why the other runs trained one by one

    def line(self, db: Any) -> str:
        """What happened, in one line."""
        fused_part = (
            f"; {self.in_populations} of them as {self.populations} fused population(s)"
            if self.populations
            else ""
        )
        alone = f"; trained alone: {'; '.join(self.alone)}" if self.alone else ""
        return (
            f"{self.done} run(s) trained{fused_part}, {self.skipped} already stored"
            + (f" ({self.shipped} in the shipped evidence base)" if self.shipped else "")
            + ", "
            f"{self.failed} failed, {self.lost} lost (rerun to retry){alone} — in {db}"
        )


def _local_worker(tasks: Any, events: Any, db: str, worker: int, parent: int) -> None:
    """Take units of work (lists of run configs) from ``tasks`` until None; train, store,
    report. Ctrl-C is the parent's.

    A watchdog ends the worker when the study's process ``parent`` is gone (killed without a
    chance to stop its workers, e.g. SIGKILL, or exited and not yet reaped by whoever started
    it): the runs in training are lost, as any interrupted run is, instead of orphans training
    on for minutes. It never ends the worker in the middle of writing a record."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    writing = threading.Lock()
    threading.Thread(target=_watch_parent, args=(parent, 1.0, writing), daemon=True).start()
    store = Store(db)
    while (unit := tasks.get()) is not None:
        for config in unit:
            events.put(("start", config, {}, worker, os.getpid()))
        records = execute_unit(unit)
        with writing:
            for record in records:
                save(store, record)
        for config, record in zip(unit, records, strict=True):
            events.put((record.status, config, record.metrics, worker, os.getpid()))
    store.close()


def _parent_gone(parent: int) -> bool:
    """Whether process ``parent`` has ended: no such process, or a zombie (it has exited and
    waits to be reaped — signal 0 still reaches a zombie, so that alone is not enough)."""
    try:
        os.kill(parent, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except PermissionError:  # a process of another user took the id: ours is gone
        return True
    try:
        stat = Path(f"/proc/{parent}/stat").read_text()
    except FileNotFoundError:
        return True
    except OSError:  # no procfs: signal 0 is all there is
        return False
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")  # the state, after "(comm)"


def _watch_parent(parent: int, every_s: float = 1.0, writing: Any = None) -> None:
    """End this process once ``parent`` is gone: its multiprocessing sentinel (a pipe the
    parent holds open, closed by the kernel when it dies, zombie or not) where ``parent``
    started this process, else :func:`_parent_gone` every ``every_s`` seconds. ``writing``: a
    lock held while a record is written; the exit waits for it."""
    from multiprocessing.connection import wait

    starter = mp.parent_process()
    sentinel = starter.sentinel if starter is not None and starter.pid == parent else None
    while True:
        if sentinel is not None:
            gone = bool(wait([sentinel], timeout=every_s)) or _parent_gone(parent)
        else:
            time.sleep(every_s)
            gone = _parent_gone(parent)
        if gone:
            if writing is not None:
                writing.acquire()  # never in the middle of a record; held until the exit
            os._exit(1)


def _context() -> Any:
    """Fresh worker processes: forked from a server that imported torch once (else spawned).

    Never a plain fork of the caller, whose torch thread pools may already be running.
    """
    if "forkserver" in mp.get_all_start_methods():
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["seqarch.study"])
        return ctx
    return mp.get_context("spawn")


def _run_local(units: list[list[RunConfig]], db: Path, workers: int, emit: Callable) -> None:
    ctx = _context()
    tasks, events = ctx.Queue(), ctx.Queue()
    for unit in units:
        tasks.put([run.to_dict() for run in unit])
    n = max(1, min(workers, len(units)))
    for _ in range(n):
        tasks.put(None)
    procs = {
        w: ctx.Process(
            target=_local_worker, args=(tasks, events, str(db), w, os.getpid()), daemon=True
        )
        for w in range(n)
    }
    for p in procs.values():
        p.start()
    running: dict[int, dict[str, dict]] = {}  # worker -> the configs it is training, by id
    finished, expected = 0, sum(len(u) for u in units)
    with _terminate_as_exit():
        try:
            while finished < expected:
                try:
                    kind, config, metrics, w, pid = events.get(timeout=0.5)
                except queue.Empty:
                    finished += _replace_dead(procs, running, emit, ctx, tasks, events, db)
                    if not any(p.is_alive() for p in procs.values()):
                        break
                    continue
                key = canonical_json(config)
                if kind == "start":
                    running.setdefault(w, {})[key] = config
                else:
                    running.get(w, {}).pop(key, None)
                    finished += 1
                emit(Event(kind, RunConfig.from_dict(config), metrics, w, pid))
        finally:
            for p in procs.values():
                if p.is_alive():
                    p.terminate()  # a half-trained run is simply not stored
            for p in procs.values():
                p.join(5)


class _terminate_as_exit:  # noqa: N801 - a context manager, named like one
    """Within it, SIGTERM to the study's process raises SystemExit (exit code 143) in the main
    thread, so the ``finally`` that stops the workers runs; a handler set by the caller is
    left alone, and the previous one is restored on the way out."""

    def __enter__(self) -> None:
        self.previous = None
        main = threading.current_thread() is threading.main_thread()
        if main and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
            self.previous = signal.signal(signal.SIGTERM, _exit_on_term)

    def __exit__(self, *exc: Any) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGTERM, self.previous)


def _exit_on_term(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


def _replace_dead(procs, running, emit, ctx, tasks, events, db) -> int:
    """A worker that died (killed, out of memory) loses its runs; a new worker takes its place."""
    lost = 0
    for w, p in list(procs.items()):
        if p.is_alive() or p.exitcode == 0:
            continue
        for config in running.pop(w, {}).values():
            lost += 1
            emit(Event("lost", RunConfig.from_dict(config), {"exitcode": p.exitcode}, w, p.pid))
        procs[w] = ctx.Process(
            target=_local_worker, args=(tasks, events, str(db), w, os.getpid()), daemon=True
        )
        procs[w].start()
    return lost


def _run_ray(
    units: list[list[RunConfig]],
    store: Store,
    workers: int,
    address: str | None,
    emit: Callable,
) -> None:
    try:
        import ray
    except ImportError:
        raise BadInput(
            "backend 'ray' is not available (ray is not installed); expected "
            "`pip install 'seqarch[ray]'` or backend 'local'"
        ) from None
    started_here = not ray.is_initialized()
    if started_here:
        if address:
            ray.init(address=address, logging_level="ERROR", log_to_driver=False)
        else:
            ray.init(
                num_cpus=workers,
                include_dashboard=False,
                logging_level="ERROR",
                log_to_driver=False,
            )
    remote = ray.remote(execute_unit)
    try:
        refs = {}
        for unit in units:
            configs = [run.to_dict() for run in unit]
            refs[remote.options(num_cpus=unit[0].train.threads).remote(configs)] = unit
            for run in unit:
                emit(Event("start", run))
        while refs:
            ready, _ = ray.wait(list(refs), num_returns=1)
            for ref in ready:
                unit = refs.pop(ref)
                try:
                    records = ray.get(ref)
                except ray.exceptions.RayError as e:
                    for run in unit:
                        emit(Event("lost", run, {"error": str(e).splitlines()[0]}))
                    continue
                for run, record in zip(unit, records, strict=True):
                    save(store, record)
                    emit(Event(record.status, run, record.metrics))
    except BaseException:
        for ref in refs:
            ray.cancel(ref, force=True)
        raise
    finally:
        if started_here:
            ray.shutdown()


def summarize_stored(db: str | Path, runs: list[RunConfig]) -> list[Summary]:
    """:func:`summarize` of ``runs`` as stored in ``db`` (with their protocol follow-ups)."""
    with Store(db) as store:
        return summarize(study_rows(store, runs))


def run_study(
    runs: Iterable[RunConfig],
    db: str | Path,
    backend: str = "local",
    workers: int | None = None,
    address: str | None = None,
    on_event: Callable[[Event], None] | None = None,
) -> Outcome:
    """Run every run of ``runs`` not yet stored in ``db``; ``on_event`` hears each start/end.

    Runs under a protocol are its sweeps: once a recipe's sweep is stored, the seeds at the
    learning rate it selected are run too (:func:`seqarch.protocol.followups`).
    ``workers`` defaults to the CPU cores divided by the runs' threads (at least 1).
    """
    if backend not in BACKENDS:
        raise BadInput(f"backend {backend!r} is not accepted; expected one of {BACKENDS}")
    runs = list({r.id: r for r in runs}.values())
    if workers is None:
        threads = max((r.train.threads for r in runs), default=1)
        workers = max(1, (os.cpu_count() or 1) // threads)
    if workers < 1:
        raise BadInput(f"workers={workers} is not accepted; expected a positive integer")
    outcome = Outcome(total=0, skipped=0)
    with Store(db) as store:
        batch = runs
        while batch:
            pending = [r for r in batch if not store.has_run(r.id)]
            outcome.total += len(batch)
            outcome.skipped += len(batch) - len(pending)
            outcome.shipped += sum(store.in_base(r.id) for r in batch)
            _execute(pending, store, Path(db), backend, workers, address, on_event, outcome)
            seen = {r.id for r in runs}
            batch = [r for r in followups(store, runs) if r.id not in seen]
            runs = runs + batch
    return outcome


def _execute(pending, store, db, backend, workers, address, on_event, outcome) -> None:  # noqa: ANN001
    for run in pending:
        if on_event is not None:
            on_event(Event("queued", run))

    def emit(event: Event) -> None:
        if event.kind in ("done", "failed", "lost"):
            setattr(outcome, event.kind, getattr(outcome, event.kind) + 1)
        if on_event is not None:
            on_event(event)

    work, alone = units(pending, workers)
    together = [u for u in work if len(u) > 1]
    outcome.populations += len(together)
    outcome.in_populations += sum(len(u) for u in together)
    outcome.alone += [w for w in alone if w not in outcome.alone]
    if pending and backend == "local":
        _run_local(work, db, workers, emit)
    elif pending:
        _run_ray(work, store, workers, address, emit)


def followups(store: Store, runs: Iterable[RunConfig]) -> list[RunConfig]:
    """The seed runs each protocol sweep among ``runs`` calls for, once it is stored."""
    records = [r for r in (store.get_run(run.id) for run in runs) if r is not None]
    out: list[RunConfig] = []
    for group in protocol.group(records).values():
        out.extend(protocol.followups(group))
    return out


# -- the summary ---------------------------------------------------------------------------------


@dataclass
class Summary:
    """One row of the summary: an architecture on a task at one length, over its seeds.

    Under a protocol the row is the protocol's selection: the learning rate chosen on
    validation, and the test metric of its seeds as a mean with a 95 % interval (``ci``)."""

    arch: str
    task: str
    seq_len: int | None
    metric: str
    higher_is_better: bool
    mean: float
    std: float  # over seeds (0 for one seed)
    baseline: float | None
    seconds: float  # mean training wall clock per run
    params: int
    seeds: int
    variant: str = ""  # the options that set this row apart from its siblings (e.g. an ablation)
    ci: float = math.inf  # half-width of the 95 % interval over seeds (inf: one seed)
    lr: float | None = None  # the protocol's selected learning rate (None: no protocol)
    protocol: str | None = None
    stopped_by_time: int = 0  # runs a wall-clock safety net stopped: not converged evidence
    run_ids: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def summarize(stored: list[Run]) -> list[Summary]:
    """Group stored runs by (arch, task, length, recipe): under a protocol, the selected
    learning rate's seeds (:func:`seqarch.protocol.select`); otherwise every seed."""
    groups: dict[tuple, list[Run]] = {}
    options: dict[tuple, dict[str, set]] = {}  # every value each option takes per (task, T, arch)
    for r in stored:
        seq_len = r.config.task_config.get("seq_len", r.metrics.get("seq_len"))
        flat = r.recipe()
        if r.protocol:
            flat.pop("train.lr", None)  # the protocol's sweep: one row, the lr it selects
        base = (r.task, seq_len, r.arch)
        groups.setdefault((*base, json.dumps(flat, sort_keys=True)), []).append(r)
        for k, v in flat.items():
            options.setdefault(base, {}).setdefault(k, set()).add(json.dumps(v))
    rows = []
    for (task, seq_len, arch, flat_json), group in sorted(
        groups.items(), key=lambda kv: (*_order(kv[0][:3]), kv[0][3])
    ):
        flat = json.loads(flat_json)
        varying = [k for k, vs in options[(task, seq_len, arch)].items() if len(vs) > 1]
        variant = ", ".join(f"{k}={flat.get(k)}" for k in sorted(varying))
        tag = flat.get(f"train.{protocol.PROTOCOL_KEY}")
        chosen, lr, stopped = group, None, 0
        if tag:
            sel = protocol.select(group, protocol.get(tag))
            chosen, lr, stopped = sel.runs, sel.lr, sel.stopped_by_time
        ms = [g.metrics for g in chosen]
        name = ms[0]["metric"]
        values = [m[name] for m in ms]
        iv = protocol.interval(values)
        rows.append(
            Summary(
                arch=arch,
                task=task,
                seq_len=seq_len,
                metric=name,
                higher_is_better=bool(ms[0].get("higher_is_better", True)),
                mean=iv.mean,
                std=statistics.stdev(values) if len(values) > 1 else 0.0,
                baseline=ms[0].get(f"baseline_{name}"),
                seconds=statistics.fmean(m["train_seconds"] for m in ms),
                params=int(ms[0]["params"]),
                seeds=len(chosen),
                variant=variant,
                ci=iv.half_width,
                lr=lr,
                protocol=tag,
                stopped_by_time=stopped,
                run_ids=[g.id for g in chosen],
            )
        )
    return rows


def _order(key: tuple) -> tuple:
    from .models import MODELS

    task, seq_len, arch = key
    archs = list(MODELS)  # the registry's order
    return (
        task,
        seq_len if seq_len is not None else math.inf,
        archs.index(arch) if arch in archs else len(archs),
        arch,
    )


def study_rows(store: Store, runs: Iterable[RunConfig]) -> list[Run]:
    """The stored (finished) records of ``runs`` and of the seed runs their sweeps called for."""
    runs = list(runs)
    found = (store.get_run(r.id) for r in [*runs, *followups(store, runs)])
    return [r for r in found if r is not None and r.status == "done"]


# -- peers and per-condition breakdowns of a study's tasks ------------------------------------


def conditions(
    db: str | Path | Snapshot, runs: list[RunConfig], measure: bool = True
) -> list[dict]:
    """For every task of the study whose class names classical peers (``peers``, e.g. the VAD
    task's WebRTC and Silero): the peers on the same test split (computed once, stored) beside
    each architecture's selected seeds (mean), every metric the task reports per condition
    (e.g. ``f1_snr0``), and the per-frame cost of serving it here (``us_per_frame``: the peer's
    measured time; a model's streaming step plus its features, :func:`frame_us`). Without
    ``measure`` only what is stored: no peer is run and no frame is timed (the report)."""
    from . import peers
    from .tasks import task_class

    out: list[dict] = []
    with reading(db) as store:
        records = study_rows(store, runs)
        seen: set[str] = set()
        for r in runs:
            names = getattr(task_class(r.task), "peers", ())
            key = canonical_json({"task": r.task, **r.task_config})
            if not names or key in seen:
                continue
            seen.add(key)
            mine = [
                x
                for x in protocol.selected_runs(records)
                if x.task == r.task and x.config.task_config == r.task_config
            ]
            for arch in dict.fromkeys(x.arch for x in mine):
                rs = [x for x in mine if x.arch == arch]
                keys = [k for k in rs[0].metrics if _per_condition(k)]
                row = {
                    "name": arch,
                    "kind": "model",
                    "task": r.task,
                    "seeds": len(rs),
                    "params": rs[0].metrics.get("params"),
                    "runs": [x.id for x in rs],
                }
                for k in keys:
                    row[k] = statistics.fmean(float(x.metrics[k]) for x in rs)
                row["us_per_frame"] = frame_us(rs[0].config) if measure else None
                out.append(row)
            for name in names:
                m = peers.ensure(store, name, r.task, r.task_config, run=measure)
                if m is None:
                    continue
                v = dict(m["value"])
                out.append(
                    {
                        "name": name,
                        "kind": "peer",
                        "task": r.task,
                        "id": m["id"],
                        "f1": v.pop("value"),
                        **{k: x for k, x in v.items() if _per_condition(k) or k == "us_per_frame"},
                    }
                )
    return out


def _per_condition(key: str) -> bool:
    return key in ("f1", "auc") or key.startswith(("f1_", "auc_"))


def frame_us(run: RunConfig) -> float | None:
    """Median µs to serve one frame here: the task's features of one frame (``frame_seconds``
    on the task class, if it has one) plus the model's streaming step (``seqarch.stream``);
    None for a model that cannot stream (a growing state)."""
    import numpy as np

    from . import stream
    from .measure import latency_samples
    from .tasks import make_task
    from .train import model_options

    task = make_task(run.task, **run.task_config)
    model = models.build(run.arch, **model_options(run, task, 16)).eval()
    if model.state_grows():
        return None
    session = stream.open(model)
    x = np.zeros(model.input_size, np.float32)
    step = float(np.median(latency_samples(lambda: session.push(x))))
    features = getattr(task, "frame_seconds", lambda: 0.0)()
    return (step + features) * 1e6
