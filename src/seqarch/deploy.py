r"""From decision to deployment: the advised model trained on the user's data, kept as a model
directory, and used from it — predictions, a stream, an ONNX graph.

A model directory (``seqarch advise --data FILE`` writes one for the winner and one for the
runner-up; ``--out DIR`` chooses where):

    DIR/model.safetensors   the weights: tensors only (safetensors), no pickle to execute
    DIR/model.json          what rebuilds and feeds the model: the architecture and every
                            keyword of ``models.build``, the task (classify / regress /
                            forecast), the input standardisation, the class names, the crop,
                            the protocol and its selected learning rate, the test metric with
                            its interval over seeds, the refit's steps and the evidence ids
    DIR/card.md             the model card: the problem, the ranking, the defense, the
                            evidence, latency measured here, and the sha256 of the two files
                            above — a directory whose files changed after saving is refused

The refit. The protocol selected a learning rate on validation and trained its seeds on the
training split. The kept model is trained once more at that learning rate on the training and
validation splits together (seed 0's split, so the test split stays unseen), for as many epochs
as the selected seeds' best validation step took (the median), and scored on the test split:

    steps_refit = ⌈ median(best_step) × (N_train + N_val) / N_train ⌉

Inputs are standardised as in training: x' = (x − μ) / σ per feature, μ and σ from the
training split (stored). A forecaster reads windows of the standardised series taken relative
to their last value and answers ŝ_{t+k} = s_t + σ·y_k (the task's own transform, stored).

Worked example (a 3-class CSV with rows of 5 values and a label):

    seqarch advise --data gestures.csv --seq-len 5 --output-size 3 --out kept
    → kept/gru, kept/lstm   (winner, runner-up)
    seqarch predict kept/gru new.csv          → one label per row (5 or 6 columns a row)
    seqarch export kept/gru                   → kept/gru/model.onnx, checked in onnxruntime
    seqarch.stream.open("kept/gru").push(x_t) → per-step outputs, standardised inside
"""

from __future__ import annotations

import json
import math
import statistics
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from .errors import BadInput
from .kept import CARD, CONFIG, WEIGHTS, Kept, load, save, sha256
from .models import SequenceModel
from .runs import Run

# ---------------------------------------------------------------------------------------------
# The refit: the protocol's selection trained on train + validation


class TrainAndVal:
    """``task`` with its validation split folded into training; validation and test as they
    were (the refit keeps its last step: nothing is selected on a split it trained on)."""

    def __init__(self, task: Any):
        self._task = task

    def __getattr__(self, name: str) -> Any:
        return getattr(self._task, name)

    def data(self, split: str) -> Any:
        if split != "train":
            return self._task.data(split)
        return concat(self._task.data("train"), self._task.data("val"))


def concat(a: Any, b: Any) -> Any:
    """Two batches as one, right-padded to the longer T (padding unscored)."""
    from .tasks.base import Batch

    T = max(a.x.shape[1], b.x.shape[1])

    def grow(t: Tensor) -> Tensor:
        pad = torch.zeros((t.shape[0], T - t.shape[1], *t.shape[2:]), dtype=t.dtype)
        return torch.cat([t, pad], dim=1)

    def lengths(batch: Any) -> Tensor:
        if batch.lengths is not None:
            return batch.lengths
        return torch.full((batch.x.shape[0],), batch.x.shape[1], dtype=torch.long)

    ragged = a.lengths is not None or b.lengths is not None or a.x.shape[1] != b.x.shape[1]
    return Batch(
        torch.cat([grow(a.x), grow(b.x)]),
        torch.cat([grow(a.y), grow(b.y)]),
        torch.cat([grow(a.mask), grow(b.mask)]),
        torch.cat([lengths(a), lengths(b)]) if ragged else None,
    )


def refit_steps(records: list[Run], n_train: int, n_val: int) -> int:
    """⌈median(best_step) × (N_train + N_val) / N_train⌉: the selected seeds' epochs."""
    best = statistics.median(int(r.metrics.get("best_step") or r.metrics["steps"]) for r in records)
    return max(1, math.ceil(best * (n_train + n_val) / n_train))


def task_meta(task: Any) -> dict:
    """What feeds the model at prediction: the kind, the standardisation, names, crop."""
    from .tasks.forecast import Forecasting

    if isinstance(task, Forecasting):
        s = task.series_values()[: task.boundaries()[0]]
        return {
            "kind": "forecast",
            "seq_len": task.seq_len,
            "steps_ahead": task.steps_ahead,
            "season": task.season_length,
            "column": getattr(task, "column", None),
            "series_mean": float(s.mean()),
            "series_std": float(s.std() or 1.0),
            "metric": task.metric,
        }
    standardise = None
    if getattr(task, "normalize", True):
        mu, sd = task.standardiser()
        standardise = {"mean": mu.tolist(), "std": sd.tolist()}
    seqs = [s for split in task._splits().values() for s in split[0]]
    widths = {len(s) for s in seqs}
    csv = str(getattr(task, "path", "")).lower().endswith(".csv")
    return {
        "kind": task.kind,
        "standardise": standardise,
        "classes": list(task.classes) if task.kind == "classify" else None,
        "seq_len": getattr(task, "seq_len", None),
        "width": widths.pop() if csv and len(widths) == 1 else None,
        "target": getattr(task, "target", "last"),
        "metric": task.metric,
    }


def refit(records: list[Run], on_event: Any = None) -> tuple[SequenceModel, dict, Any]:
    """Train the selection behind ``records`` (one architecture's selected seeds) once more
    on train + validation; returns (model, its test metrics and steps, the task)."""
    from .tasks import make_task
    from .train import model_options, train

    run = min(records, key=lambda r: r.seed).config
    task = make_task(run.task, **run.task_config)
    n_train, n_val = len(task.data("train")), len(task.data("val"))
    steps = refit_steps(records, n_train, n_val)
    run = replace(
        run,
        train=replace(
            run.train,
            max_steps=steps,
            min_steps=0,
            patience=None,
            eval_every=steps,
            protocol=None,
        ),
    )
    result = train(run, task=TrainAndVal(task), keep_model=True)
    max_len = max(task.data(s).x.shape[1] for s in ("train", "val", "test"))
    facts = {
        "steps": steps,
        "lr": run.train.lr,
        "n_train": n_train + n_val,
        "test": result.metrics[task.metric],
        "baseline": result.metrics[f"baseline_{task.metric}"],
        "build": model_options(run, task, max_len),
        "seed": run.seed,
        "train_seconds": result.metrics["train_seconds"],
    }
    return result.model.eval(), facts, task


# ---------------------------------------------------------------------------------------------
# Keeping the advised models


def _verdict(rec: Any, arch: str) -> Any:
    return next(v for v in rec.ranking if v.arch == arch)


def card(rec: Any, arch: str, facts: dict, meta: dict, where: Path) -> str:
    """The model card (Markdown): the problem, this model's evidence, the ranking, the
    defense, how to use it. The file hashes are appended by :func:`save`."""
    from .advise.defend import markdown_table

    v = _verdict(rec, arch)
    e, c = v.expected, v.cost
    role = "recommended" if arch == rec.recommendation else "runner-up"
    lat = c.get("step_us") if rec.spec.streaming else c.get("seq_us")
    lat_txt = "not measured" if lat is None else f"{lat:.4g} µs"
    T, metric = rec.spec.seq_len, meta["task"]["metric"]
    lat_what = "a step (streaming)" if rec.spec.streaming else f"a sequence of T = {T}"
    interval = (
        f"{e['value']:.4g} (skill {e['skill']:.2f} ± {e['skill_spread']:.2f}, "
        f"{e.get('seeds', '?')} seeds)"
        if "value" in e
        else "not stored"
    )
    problem = ", ".join(f"{k}={x}" for k, x in rec.spec.to_dict().items() if x is not None)
    table = markdown_table(rec)
    lost = meta.get("lost_to")
    return "\n".join(
        [
            f"# {arch} on {Path(rec.spec.data).name} — {role} by seqarch",
            "",
            *([f"**A classical peer won: {lost}.**", ""] if lost else []),
            f"Problem: {problem}.",
            f"Advice: {rec.recommendation} (runner-up {rec.runner_up}); "
            f"confidence {rec.confidence} ({rec.confidence_basis}).",
            "",
            "## This model",
            "",
            f"- Protocol {e.get('protocol')}: learning rate {facts['lr']:g} selected on "
            f"validation; test {metric} over seeds: {interval}.",
            f"- Refit on train + validation ({facts['n_train']} sequences), "
            f"{facts['steps']} steps, seed {facts['seed']}: test {metric} {facts['test']:.4g} "
            f"(baseline {facts['baseline']:.4g}) on the same held-out test split.",
            f"- Parameters {c['params']:,}; state {c['state_bytes']} B"
            + (" (grows with T: a KV cache)" if c.get("state_grows_with_T") else "")
            + f"; latency of {lat_what} measured here: {lat_txt}.",
            f"- Evidence: {', '.join(v.evidence)}.",
            "",
            "## Use",
            "",
            "```",
            f"seqarch predict {where} FILE [--stream]  # in the training file's layout",
            f"seqarch export {where} [--onnx PATH]     # ONNX, state explicit, checked",
            f"python -c 'import seqarch.stream as s; session = s.open(\"{where}\")'",
            "```",
            "",
            "## Ranking",
            "",
            table,
            "## Defense",
            "",
            rec.defense,
            "",
        ]
    )


def default_out(data: str | Path) -> Path:
    """Where ``advise --data FILE`` keeps its models without ``--out``."""
    return Path("seqarch-models") / Path(data).stem


def keep(
    rec: Any, db: str | Path | None, out: str | Path | None, say: Any = None
) -> list[tuple[str, Path]]:
    """Refit the recommendation and the runner-up on train + validation and save each to
    ``out/<arch>`` (default :func:`default_out`); returns [(arch, directory)]."""
    from .advise.headline import lost_to
    from .store import Store, default_path

    say = say or (lambda _m: None)
    db = db or default_path()
    out = out or default_out(rec.spec.data)
    kept = []
    with Store(db) as store:
        for arch in (rec.recommendation, rec.runner_up):
            if arch is None or arch not in {v.arch for v in rec.ranking}:
                continue
            ids = [s[4:] for s in _verdict(rec, arch).evidence if s.startswith("run:")]
            records = [r for r in (store.get_run(i) for i in ids) if r and r.metrics]
            if not records:
                say(f"{arch}: no stored runs to refit from; not kept")
                continue
            say(f"refitting {arch} on train + validation at its selected learning rate …")
            model, facts, task = refit(records)
            meta = {
                "arch": arch,
                "build": facts["build"],
                "task": task_meta(task),
                "data": str(rec.spec.data),
                "protocol": _verdict(rec, arch).expected.get("protocol"),
                "lr": facts["lr"],
                "refit": {k: facts[k] for k in ("steps", "n_train", "seed", "test", "baseline")},
                "selected": {
                    k: _verdict(rec, arch).expected.get(k)
                    for k in ("value", "skill", "skill_spread", "seeds", "metric")
                },
                "evidence": list(_verdict(rec, arch).evidence),
                "role": "recommended" if arch == rec.recommendation else "runner-up",
                "lost_to": lost_to(getattr(rec, "peer_win", None), arch),
            }
            where = Path(out) / arch
            path = save(where, model, meta, card(rec, arch, facts, meta, where))
            store.put_measurement(
                KEPT_KIND,
                {"arch": arch, "data": meta["data"], "dir": str(path.resolve())},
                {"refit": meta["refit"], "sha256": sha256(path / WEIGHTS)},
            )
            kept.append((arch, path))
    return kept


KEPT_KIND = "kept_model"  # measurement: a model directory written, its refit's test metric


def kept_line(arch: str, path: Path) -> str:
    """What advise prints for a kept model."""
    meta = json.loads((path / CONFIG).read_text("utf-8"))
    r, metric = meta["refit"], meta["task"]["metric"]
    lost = f"; {meta['lost_to']}" if meta.get("lost_to") else ""
    return (
        f"kept {meta['role']} {arch}: {path}/ (refit {r['steps']} steps on train + validation, "
        f"test {metric} {r['test']:.4g}; card {path / CARD}); use it with `seqarch predict "
        f"{path} FILE` or `seqarch export {path}`{lost}"
    )


# ---------------------------------------------------------------------------------------------
# Using a kept model


def predict_file(model_dir: str | Path, file: str | Path, stream: bool = False) -> dict:
    """Predictions for ``file`` in the training layout: a label (or values) per sequence, or
    the next h values of a series; with the targets when the file has them, and the metric."""
    from .tasks.files import _stamp, read_inputs, read_series

    kept = load(model_dir)
    t = kept.meta["task"]
    path = str(file)
    if kept.kind == "forecast":
        if stream:
            raise BadInput(
                "--stream is not accepted for a forecaster: it reads windows relative to their "
                "last value; expected a classify or regress model"
            )
        series = read_series(path, t.get("column"), _stamp(path))
        values = kept.forecast(series)
        return {
            "kind": "forecast",
            "rows": [{"ahead": k + 1, "forecast": float(v)} for k, v in enumerate(values)],
        }
    problem = "classify" if kept.kind == "classify" else "regress"
    seqs, targets = read_inputs(
        path, t.get("width"), kept.model.input_size, problem, t.get("target", "last")
    )
    y = streamed(kept, seqs) if stream else kept.outputs(seqs)
    rows: list[dict] = []
    if kept.kind == "classify":
        p = torch.softmax(torch.as_tensor(y), dim=-1).numpy()
        names = t["classes"]
        for n in range(len(seqs)):
            rows.append(
                {
                    "row": n + 1,
                    "prediction": names[int(p[n].argmax())],
                    "probability": round(float(p[n].max()), 4),
                }
            )
    else:
        rows = [{"row": n + 1, "prediction": [float(v) for v in y[n]]} for n in range(len(seqs))]
    out: dict[str, Any] = {"kind": kept.kind, "rows": rows, "stream": stream}
    if targets is not None:
        for r, target in zip(rows, targets, strict=True):
            r["target"] = str(target) if kept.kind == "classify" else [float(v) for v in target]
        if kept.kind == "classify":
            out["accuracy"] = float(np.mean([r["prediction"] == r["target"] for r in rows]))
        else:
            out["mse"] = float(np.mean((y - np.asarray(targets, np.float64)) ** 2))
    return out


def streamed(kept: Kept, seqs: list[np.ndarray]) -> np.ndarray:
    """(N, O): each sequence pushed step by step through ``seqarch.stream`` (standardised as
    in training), the output at its last step — what a deployed stream answers."""
    from . import stream as streaming

    session = streaming.open(kept.model)
    out = []
    for s in kept.cropped(seqs):
        session.reset()
        for x_t in kept.standardise(s):
            y = session.push(np.ascontiguousarray(x_t))
        out.append(y)
    return np.stack(out)


def export_any(target: str, path: str | None, **sizes: int) -> str:
    """``seqarch export TARGET [PATH]``: a kept model's directory (PATH optional), else an
    architecture name exported fresh at ``sizes`` (PATH required)."""
    from .export import export_fresh

    if Path(target).is_dir():
        return export_kept(target, path)
    if path is None:
        raise BadInput(
            f"{target!r} is not a model directory, and exporting the architecture needs PATH; "
            "expected `seqarch export MODEL_DIR [--onnx PATH]` or `seqarch export ARCH PATH`"
        )
    return export_fresh(target, path, **sizes)


def export_kept(model_dir: str | Path, onnx: str | Path | None = None) -> str:
    """``seqarch export MODEL_DIR``: the kept model as ONNX (its standardisation inside the
    graph), checked in onnxruntime against the model; returns the line that says so."""
    from .export import check, state_names, to_onnx

    kept = load(model_dir)
    s = kept.meta["task"].get("standardise")
    norm = None if s is None else (np.asarray(s["mean"]), np.asarray(s["std"]))
    path = Path(onnx) if onnx else Path(model_dir) / "model.onnx"
    written = to_onnx(kept.model, path, standardise=norm)
    error = check(kept.model, written, standardise=norm)
    ins, outs = state_names(kept.model)
    inside = "" if norm is None else " (x standardised inside the graph)"
    return (
        f"wrote {written}: inputs x{inside}, {', '.join(ins)} → outputs y, {', '.join(outs)}; "
        f"max |onnxruntime − saved model| = {error:.2g}"
    )
