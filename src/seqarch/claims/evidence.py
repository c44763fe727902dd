r"""Each claim's verdict, computed from the store (and the cost formulas).

A claim is split into the parts the source asserts (e.g. "simpler", "faster", "nearly as
effective"); each part is judged on stored evidence by one explicit rule, and the claim's
verdict follows from its parts:

    holds       every part is measured and holds
    breaks      every part is measured and breaks
    depends     the parts disagree, or one part flips across a measured axis (the horizon, the
                width, the length T): the entry names the value where it flips
    unresolved  a part asserts a difference and the paired interval of the difference cannot
                tell (it spans the claim's margin): the data cannot tell
    incomplete  some parts are not measured: "incomplete: k of n parts measured (holds so
                far)" — never holds, breaks or depends on a part that was not measured
    missing     nothing is stored to judge it (the entry says what would produce it)

The rules are seqarch.rules' (the one copy the advisor uses too; thresholds are its constants):

* **Skill** (0 = the trivial baseline, 1 = perfect) is the protocol's selection: the lr chosen
  on validation, the test metric of its 3 seeds as mean ± 95 % Student-t interval. A model
  *solves* a distance when its interval's lower end is ≥ ``SOLVED`` and *fails* it when the
  upper end is < ``FAILED``.
* **A against B** is read from the 95 % interval of their difference, paired by seed (every
  model of a comparison trains on the same seeds; Welch's unpaired interval where seeds do not
  match): **equivalent** when it lies within ± the comparison's margin (``SKILL_MARGIN``,
  ``SWITCH_MARGIN``, ``ACCURACY_MARGIN``), **better** / **worse** when it lies above / below
  0, otherwise **unresolved**.
* **A step is faster** when its p50 is lower by more than the larger measured spread (the
  interquartile range of block medians — the advisor's tie rule); a training step likewise by
  the spread of its rounds. Within the spread is a **tie**.
* **Gradient flow** (at initialisation, 2 seeds, no interval): A keeps more than B when its
  ratio ‖∂h_T/∂x_{T−k}‖ / ‖∂h_T/∂x_{T−1}‖ is ≥ ``FLOW_FACTOR`` times B's.
* **Cost per token flat in T** when training tokens/s at the longest T measured is ≥
  ``FLAT_RATIO`` of that at the shortest.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .. import cost as cost_model
from .. import protocol, readings
from ..derive.flow import FLOW_KIND
from ..readings import fmt, preferred, qualities_by_horizon, stored_flow_ratio
from ..records import Crossover, Export, Latency, Memory, Throughput
from ..rules import (
    ACCURACY_MARGIN,
    SKILL_MARGIN,
    SOLVED,
    SWITCH_MARGIN,
    against_margin,
    combine,
    compare,
    difference,
    faster,
    incomplete_text,
    paired_difference,
    skill_text,
    solved_part,
    standing,
)
from ..runs import Run
from . import run as plan

FLOW_FACTOR = 10.0  # an order of magnitude more gradient kept
EXPORT_TOLERANCE = 1e-4  # max |onnxruntime − PyTorch| a faithful export stays within
FLAT_RATIO = 0.5  # tokens/s at the longest T ≥ half of that at the shortest: cost per token flat

VERDICTS = ("holds", "breaks", "depends", "unresolved", "incomplete", "missing")


@dataclass
class Number:
    """One figure an entry rests on, and where it came from."""

    label: str
    value: str
    source: str  # run:<ids> | measurement:<id> | formula:<model>.cost.<field>


@dataclass
class Part:
    """One thing the claim asserts, judged: holds / breaks / depends / unresolved, or None when
    its evidence is missing."""

    name: str
    verdict: str | None
    why: str


@dataclass
class Finding:
    parts: list[Part] = field(default_factory=list)
    numbers: list[Number] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)  # full run / measurement ids cited
    note: str = ""  # what the verdict does not cover

    def part(self, name: str, verdict: str | None, why: str) -> None:
        self.parts.append(Part(name, verdict, why))
        if verdict is None:
            self.missing.append(f"{name}: {why}")

    def number(self, label: str, value: str, source: str, ids: list[str] = ()) -> None:
        self.numbers.append(Number(label, value, source))
        self.ids += [i for i in ids if i not in self.ids]

    @property
    def verdict(self) -> str:
        """seqarch.rules.combine: 'incomplete' while a part is not measured."""
        return combine([p.verdict for p in self.parts])

    @property
    def why(self) -> str:
        parts = "; ".join(f"{p.name}: {p.verdict or 'missing'} — {p.why}" for p in self.parts)
        if self.verdict == "incomplete":
            return f"{incomplete_text([p.verdict for p in self.parts])}; {parts}"
        return parts


# ---------------------------------------------------------------------------------------------
# The store, read once


class Stored:
    """The store's runs and measurements, read once, with the lookups the judges need."""

    def __init__(self, store: Any):
        self.runs = store.runs()
        self._measurements = store.measurements()
        self.env = {r.id: r.env for r in self.runs}
        self.env |= {m["id"]: m["env"] for m in self._measurements}
        self._qualities: dict[tuple[str, str], dict] = {}

    def measurements(self, kind: str | None = None) -> list[dict]:
        """The store's interface (so the advisor's readers work on this snapshot)."""
        return [m for m in self._measurements if kind is None or m["kind"] == kind]

    def latest(self, kind: str, **key: Any) -> dict | None:
        return readings.latest(self.measurements(kind), **key)

    def qualities(self, arch: str, task: str = "adding") -> dict[int, Any]:
        if (arch, task) not in self._qualities:
            self._qualities[arch, task] = qualities_by_horizon(self.runs, arch, task)
        return self._qualities[arch, task]

    def quality(self, arch: str, h: int) -> Any:
        return self.qualities(arch).get(h)

    def step(self, arch: str, H: int) -> Latency | None:
        """The compiled streaming step of a constant-state model at batch 1, D = H."""
        return self._latest_step(arch, H, "context", None)

    def window_step(self, arch: str, H: int, receptive_field: int) -> Latency | None:
        """The streaming step of a bounded window built with ``receptive_field``, batch 1,
        D = H (the seqarch.stream runtime when timed, else the eager step)."""
        return self._latest_step(arch, H, "receptive_field", receptive_field)

    def _latest_step(self, arch: str, H: int, field: str, value: Any) -> Latency | None:
        """The newest step of ``arch`` at batch 1, D = H, whose key has ``field`` = ``value``;
        a many-streams timing (the compiled runtime) before an eager one."""
        key = {"arch": arch, "hidden_size": H, "input_size": H, field: value}
        return readings.step(self.measurements(Latency.kind), **key)

    def kv_step(self, H: int, context: int) -> Latency | None:
        m = self.latest(
            Latency.kind, arch="transformer", hidden_size=H, input_size=H, context=context
        )
        return None if m is None else Latency.read(m)

    def training(self, arch: str, H: int, T: int) -> Throughput | None:
        m = self.latest(
            Throughput.kind,
            arch=arch,
            hidden_size=H,
            input_size=plan.MEASURE_D,
            seq_len=T,
            batch_size=plan.MEASURE_B,
            mode="training",
        )
        r = None if m is None else Throughput.read(m)
        return r if r is not None and r.seconds is not None else None

    def memory(self, arch: str, T: int) -> Memory | None:
        m = self.latest(
            Memory.kind,
            arch=arch,
            hidden_size=plan.MEASURE_H,
            input_size=plan.MEASURE_D,
            seq_len=T,
            batch_size=plan.MEASURE_B,
        )
        return None if m is None else Memory.read(m)

    def export(self, arch: str) -> Export | None:
        m = self.latest(
            Export.kind, arch=arch, hidden_size=plan.MEASURE_H, input_size=plan.EXPORT_D
        )
        return Export.read(m) if m else None

    def crossover(self) -> Crossover | None:
        m = self.latest(
            Crossover.kind,
            arch="transformer",
            hidden_size=plan.MEASURE_H,
            input_size=plan.MEASURE_D,
        )
        return None if m is None else Crossover.read(m)

    def flow(self, arch: str, k: int) -> Any:
        return stored_flow_ratio(self, arch, k)

    def flow_id(self, arch: str, k: int) -> str | None:
        hits = [
            m
            for m in self.measurements(FLOW_KIND)
            if m["key"].get("arch") == arch
            and not m["key"].get("trained")
            and m["key"].get("k_max", 0) >= k
        ]
        return max(hits, key=lambda m: m["created"])["id"] if hits else None

    def selection(self, runs: list[dict]) -> protocol.Selection | None:
        return protocol.select(runs) if runs else None


# ---------------------------------------------------------------------------------------------
# Small rules, each stated once


def formula(
    arch: str, field_: str, *, H: int = 64, D: int = 8, T: int = 1, **config: Any
) -> tuple[float, str]:
    c = cost_model.estimate(arch, seq_len=T, input_size=D, hidden_size=H, num_layers=1, **config)
    return float(getattr(c, field_)), f"formula:{arch}.cost.{field_}"


def tokens(per_s: float) -> str:
    return f"{per_s / 1e3:.0f} k tokens/s" if per_s >= 1e3 else f"{per_s:.0f} tokens/s"


def short(ids: list[str]) -> str:
    return ",".join(i[:8] for i in ids)


def by_seed(runs: list[Run], metric: str) -> dict[int, float]:
    """A metric of stored runs by their seed (what a paired difference matches on)."""
    return {r.seed: float(r.metrics.get(metric, math.nan)) for r in runs}


def over_axis(name: str, results: dict[int, str], axis: str, want: str) -> tuple[str, str]:
    """A part judged at each value of an axis (width, T, horizon): holds where the result is
    ``want``; 'depends' with the values where it does and does not."""
    yes = [v for v, r in results.items() if r == want]
    no = [v for v, r in results.items() if r != want]
    listing = ", ".join(f"{axis} = {v}: {r}" for v, r in results.items())
    if not no:
        return "holds", listing
    if not yes:
        return "breaks", listing
    return "depends", f"{want} at {axis} = {', '.join(map(str, yes))} only ({listing})"


def _skill_numbers(f: Finding, st: Stored, archs: tuple[str, ...], hs: list[int]) -> None:
    for h in hs:
        for a in archs:
            q = st.quality(a, h)
            if q is not None:
                f.number(f"{a} skill, h = {h}", skill_text(q), f"run:{short(q.run_ids)}", q.run_ids)


def _horizons(st: Stored, *archs: str) -> list[int]:
    """The distances at which every one of ``archs`` has a stored quality."""
    hs = None
    for a in archs:
        have = set(st.qualities(a))
        hs = have if hs is None else hs & have
    return sorted(hs or [])


def _steps(f: Finding, st: Stored, a: str, b: str) -> dict[int, str]:
    """a's compiled step against b's at each width measured: faster / slower / tie."""
    out = {}
    for H in plan.WIDTHS:
        la, lb = st.step(a, H), st.step(b, H)
        if la is None or lb is None:
            continue
        for arch, r in ((a, la), (b, lb)):
            f.number(
                f"{arch} step, H = {H}",
                f"{fmt(r.p50_us, 'µs')} ± {fmt(r.spread_us, 'µs')}",
                f"measurement:{r.id[:8]}",
                [r.id],
            )
        out[H] = faster(la.p50_us, la.spread_us, lb.p50_us, lb.spread_us)
    return out


def _training(f: Finding, st: Stored, a: str, b: str) -> dict[int, str]:
    """a's training step against b's at each width (T = WIDTH_T): faster / slower / tie."""
    out = {}
    for H in plan.WIDTHS:
        ta, tb = st.training(a, H, plan.WIDTH_T), st.training(b, H, plan.WIDTH_T)
        if ta is None or tb is None:
            continue
        for arch, r in ((a, ta), (b, tb)):
            f.number(
                f"{arch} training, H = {H}, T = {plan.WIDTH_T}",
                tokens(r.tokens_per_s),
                f"measurement:{r.id[:8]}",
                [r.id],
            )
        out[H] = faster(ta.seconds, ta.spread_seconds, tb.seconds, tb.spread_seconds)
    return out


def _flow(f: Finding, st: Stored, arch: str, k: int) -> float | None:
    fig = st.flow(arch, k)
    if fig is None:
        return None
    mid = st.flow_id(arch, k)
    f.number(
        f"{arch} gradient kept at k = {k}", f"{fig.value:.2g}", fig.source, [mid] if mid else []
    )
    return fig.value


MISSING_ADDING = "`seqarch claims --run` trains the adding problem at h = 5, 20, 60"
MISSING_TIMING = "`seqarch claims --run` takes the timings"


# ---------------------------------------------------------------------------------------------
# The judges, one per claim


def rnn_streaming(st: Stored) -> Finding:
    f = Finding()
    params = {a: formula(a, "params") for a in plan.SOURCE_ARCHS}
    for a, (v, src) in params.items():
        f.number(f"{a} parameters (H = 64, D = 8)", fmt(v, "params"), src)
    lightest = min(params, key=lambda a: params[a][0])
    f.part(
        "lightweight",
        "holds" if lightest == "rnn" else "breaks",
        f"fewest parameters: {lightest}",
    )
    steps = {a: st.step(a, plan.MEASURE_H) for a in plan.RECURRENT}
    kv = st.kv_step(plan.MEASURE_H, plan.CONTEXTS[-1])
    if any(v is None for v in steps.values()) or kv is None:
        f.part("the fastest step", None, MISSING_TIMING)
    else:
        for a, r in steps.items():
            f.number(
                f"{a} step, H = 64",
                f"{fmt(r.p50_us, 'µs')} ± {fmt(r.spread_us, 'µs')}",
                f"measurement:{r.id[:8]}",
                [r.id],
            )
        f.number(
            f"transformer KV-cache step, context {kv.context}",
            fmt(kv.p50_us, "µs"),
            f"measurement:{kv.id[:8]}",
            [kv.id],
        )
        r = steps["rnn"]
        beaten = [
            a
            for a, o in steps.items()
            if a != "rnn" and faster(o.p50_us, o.spread_us, r.p50_us, r.spread_us) == "faster"
        ]
        beaten += ["transformer"] * (
            faster(kv.p50_us, kv.spread_us, r.p50_us, r.spread_us) == "faster"
        )
        f.part(
            "the fastest step",
            "breaks" if beaten else "holds",
            f"faster than the RNN beyond the spread: {', '.join(beaten)}"
            if beaten
            else "no model steps faster beyond the measured spread",
        )
    _deploy_part(f, st)
    q = st.quality("rnn", 5)
    if q is None:
        f.part("good enough on a short stream (h = 5)", None, MISSING_ADDING)
    else:
        _skill_numbers(f, st, ("rnn",), [5])
        f.part(
            "good enough on a short stream (h = 5)",
            solved_part(q),
            f"skill {skill_text(q)}: {standing(q)} (solved: the interval's lower end ≥ {SOLVED})",
        )
    for w in plan.window_archs():
        _window_part(f, st, w, steps.get("rnn"))
    return f


def _window_part(f: Finding, st: Stored, w: str, rnn_step: Latency | None) -> None:
    """The RNN as the streaming pick, held against a model that streams too with a bounded
    window (chosen by capability: :func:`seqarch.claims.run.window_archs`), built to see the
    streaming probe's signal: holds when the RNN carries less state (formula) and steps faster
    beyond the measured spread; breaks when the window is no heavier and no slower; depends
    when they split. Without both steps timed the part is missing (the entry incomplete)."""
    H, h = plan.MEASURE_H, plan.STREAM_H
    R = plan.window_field(w)
    name = f"lighter to stream than a bounded window ({w}, R = {R})"
    if R < plan.WINDOW_LEN:
        f.part(name, "holds", f"{w} as built sees {R} steps: not the signal {h} steps back")
        return
    mine, msrc = formula("rnn", "state_bytes")
    theirs, tsrc = formula(w, "state_bytes", **plan.window_config(w))
    labels = {n.label for n in f.numbers}
    if "rnn state (H = 64, D = 8)" not in labels:  # once, however many windows
        f.number("rnn state (H = 64, D = 8)", fmt(mine, "B"), msrc)
    f.number(f"{w} state, R = {R} (H = 64, D = 8)", fmt(theirs, "B"), tsrc)
    ws = st.window_step(w, H, R)
    if rnn_step is None or ws is None:
        f.part(name, None, MISSING_TIMING)
        return
    for label, r in ((f"rnn step, H = {H}", rnn_step), (f"{w} step, R = {R}, H = {H}", ws)):
        if label not in labels:
            f.number(
                label,
                f"{fmt(r.p50_us, 'µs')} ± {fmt(r.spread_us, 'µs')}",
                f"measurement:{r.id[:8]}",
                [r.id],
            )
    step = faster(rnn_step.p50_us, rnn_step.spread_us, ws.p50_us, ws.spread_us)
    state = "less" if mine < theirs else "no less"
    steps = {
        "faster": "the RNN steps faster beyond the measured spread",
        "slower": "the RNN steps slower beyond the measured spread",
        "tie": "their steps tie within the measured spread",
    }[step]
    text = (
        f"{w} streams too (a window of R = {R} sees the signal {h} steps back), its state "
        f"{theirs / mine:.3g}× the RNN's; {steps} (the window's step "
        f"{ws.p50_us / rnn_step.p50_us:.3g}× the RNN's)"
    )
    if state == "less" and step == "faster":
        verdict = "holds"
    elif state == "no less" and step != "faster":
        verdict = "breaks"
    else:
        verdict = "depends"
    f.part(name, verdict, text)


def _deploy_part(f: Finding, st: Stored) -> None:
    """Easy to deploy: the RNN exports to ONNX as the standard ``RNN`` operator (no custom
    graph) and onnxruntime reproduces PyTorch within ``EXPORT_TOLERANCE``."""
    rows = {a: st.export(a) for a in plan.SOURCE_ARCHS}
    if rows["rnn"] is None:
        f.part("easy to deploy", None, "no ONNX export check stored (`seqarch claims --run`)")
        return
    for a, r in rows.items():
        if r is None:
            continue
        value = (
            f"refused ({r.why.split(',')[0].split(': ', 1)[-1]})"
            if r.form == "refused"
            else f"{r.form} graph"
            + (f", {fmt(r.onnx_bytes, 'B')}" if r.onnx_bytes else "")
            + (f", max |Δ| {r.max_error:.1g}" if r.max_error is not None else "")
        )
        f.number(f"{a} ONNX export (H = 64)", value, f"measurement:{r.id[:8]}", [r.id])
    r = rows["rnn"]
    ok = r.form == "sequence" and r.max_error is not None and r.max_error <= EXPORT_TOLERANCE
    refused = [a for a, o in rows.items() if o is not None and o.form == "refused"]
    f.part(
        "easy to deploy",
        "holds" if ok else "breaks",
        (
            f"one standard ONNX RNN operator, onnxruntime equal to PyTorch within {r.max_error:.1g}"
            if ok
            else f"exports as {r.form} (max |Δ| {r.max_error})"
        )
        + (f"; {', '.join(refused)}: no fixed-size graph (its KV cache grows)" if refused else ""),
    )


def lstm_stable(st: Stored) -> Finding:
    f = Finding()
    k = plan.FLOW_K
    lstm, rnn = _flow(f, st, "lstm", k), _flow(f, st, "rnn", k)
    if lstm is None or rnn is None:
        f.part("more stable gradient flow than the RNN", None, "`seqarch claims --run` measures it")
    else:
        ratio = lstm / rnn if rnn > 0 else math.inf
        f.part(
            "more stable gradient flow than the RNN",
            "holds" if ratio >= FLOW_FACTOR else "breaks",
            f"at k = {k} the LSTM keeps {ratio:.2g}× the RNN's share (at initialisation it "
            f"still decays to {lstm:.2g}: stable means learnable, not constant)",
        )
    q = st.quality("lstm", 60)
    if q is None:
        f.part("moderately long dependencies (h = 60)", None, MISSING_ADDING)
    else:
        _skill_numbers(f, st, ("lstm",), [60])
        f.part(
            "moderately long dependencies (h = 60)",
            solved_part(q),
            f"skill {skill_text(q)} at 60 steps back: {standing(q)}",
        )
    return f


KERNEL_NOTE = (
    "the LSTM trains faster because PyTorch's CPU LSTM runs oneDNN's fused kernel and its GRU "
    "does not — the kernel decides here, not the cell: the GRU does 3/4 of the multiply-adds "
    "(3 gate blocks against 4)"
)


def gru_simpler(st: Stored) -> Finding:
    f = Finding()
    g, l = formula("gru", "params"), formula("lstm", "params")
    f.number("gru parameters (H = 64, D = 8)", fmt(g[0], "params"), g[1])
    f.number("lstm parameters (H = 64, D = 8)", fmt(l[0], "params"), l[1])
    f.part("simpler", "holds" if g[0] < l[0] else "breaks", f"{g[0] / l[0]:.2f}× the parameters")
    steps = _steps(f, st, "gru", "lstm")
    if steps:
        f.part("faster per step", *over_axis("faster per step", steps, "H", "faster"))
    else:
        f.part("faster per step", None, MISSING_TIMING)
    train = _training(f, st, "gru", "lstm")
    if train:
        f.part("faster to train", *over_axis("faster to train", train, "H", "faster"))
        if "slower" in train.values():
            f.note = KERNEL_NOTE
    else:
        f.part("faster to train", None, MISSING_TIMING)
    hs = _horizons(st, "gru", "lstm")
    if not hs:
        f.part("nearly as effective", None, MISSING_ADDING)
    else:
        _skill_numbers(f, st, ("gru", "lstm"), hs)
        near = {}
        for h in hs:  # the GRU shown within SKILL_MARGIN of the LSTM by the paired difference
            d = difference(st.quality("gru", h), st.quality("lstm", h))
            near[h] = {"adequate": "near"}.get(against_margin(d, SKILL_MARGIN), "short")
            if against_margin(d, SKILL_MARGIN) == "unresolved":
                near[h] = "unresolved"
        if "unresolved" in near.values() and "near" not in near.values():
            listing = ", ".join(f"h = {h}: {r}" for h, r in near.items())
            f.part("nearly as effective", "unresolved", listing)
        else:
            f.part("nearly as effective", *over_axis("", near, "h", "near"))
    return f


def transformer_parallel(st: Stored) -> Finding:
    f = Finding(note="state of the art in NLP is not tested here")
    k = plan.FLOW_K
    tf, rnn = _flow(f, st, "transformer", k), _flow(f, st, "rnn", k)
    if tf is None:
        f.part("global context", None, "`seqarch claims --run` measures the gradient flow")
    else:
        keeps = tf >= 0.1
        f.part(
            "global context",
            "holds" if keeps else "breaks",
            f"at k = {k} attention keeps {tf:.2g} of the nearest input's gradient"
            + (f" (the RNN {rnn:.2g})" if rnn is not None else ""),
        )
    per_t = {}
    for T in plan.LENGTHS:
        rows = {a: st.training(a, plan.MEASURE_H, T) for a in plan.SOURCE_ARCHS}
        if any(r is None for r in rows.values()):
            continue
        for a, r in rows.items():
            f.number(
                f"{a} training, T = {T}",
                tokens(r.tokens_per_s),
                f"measurement:{r.id[:8]}",
                [r.id],
            )
        best = max((a for a in plan.RECURRENT), key=lambda a: rows[a].tokens_per_s or 0.0)
        per_t[T] = (
            "leads" if rows["transformer"].tokens_per_s >= rows[best].tokens_per_s else "trails"
        )
    if per_t:
        f.part(
            "its parallelism pays on this machine (training tokens/s)",
            *over_axis("", per_t, "T", "leads"),
        )
    else:
        f.part("its parallelism pays on this machine (training tokens/s)", None, MISSING_TIMING)
    return f


def rnn_forgets(st: Stored) -> Finding:
    f = Finding()
    hs = _horizons(st, "rnn")
    gated = [
        h
        for h in hs
        if any(
            st.quality(a, h) is not None and standing(st.quality(a, h)) == "solves"
            for a in ("lstm", "gru")
        )
    ]
    if not hs:
        f.part("forgets quickly", None, MISSING_ADDING)
    else:
        _skill_numbers(f, st, ("rnn", "lstm", "gru"), hs)
        state = {h: standing(st.quality("rnn", h)) for h in hs}
        lost = [h for h in gated if state[h] in ("fails", "short")]
        listing = ", ".join(f"h = {h}: {s}" for h, s in state.items())
        if lost:
            kept = [h for h in hs if state[h] == "solves"]
            where = f"solves up to h = {max(kept)}, " if kept else ""
            f.part(
                "forgets quickly",
                "holds",
                f"{where}not from h = {min(lost)} where a gated model solves it ({listing})",
            )
        elif gated and all(state[h] == "solves" for h in gated):
            f.part("forgets quickly", "breaks", f"solves wherever a gated model does ({listing})")
        else:
            f.part(
                "forgets quickly",
                "unresolved",
                f"no distance where a gated model solves it and the RNN clearly does not "
                f"({listing})",
            )
    for k in (20, plan.FLOW_K):
        _flow(f, st, "rnn", k)
    tps = {T: st.training("rnn", plan.MEASURE_H, T) for T in plan.LENGTHS}
    tps = {T: r for T, r in tps.items() if r is not None}
    if len(tps) < 2:
        f.part("cannot scale with T (training cost per token)", None, MISSING_TIMING)
    else:
        for T, r in tps.items():
            f.number(
                f"rnn training, T = {T}",
                tokens(r.tokens_per_s),
                f"measurement:{r.id[:8]}",
                [r.id],
            )
        lo, hi = min(tps), max(tps)
        ratio = tps[hi].tokens_per_s / tps[lo].tokens_per_s
        flat = ratio >= FLAT_RATIO
        f.part(
            "cannot scale with T (training cost per token)",
            "breaks" if flat else "holds",
            f"tokens/s at T = {hi} is {ratio:.2f}× that at T = {lo}"
            + (" — its cost grows linearly in T, like any recurrence" if flat else ""),
        )
    return f


def lstm_heavy(st: Stored) -> Finding:
    f = Finding()
    flops = {a: formula(a, "flops_per_token") for a in plan.RECURRENT}
    for a, (v, src) in flops.items():
        f.number(f"{a} FLOPs/token (H = 64, D = 8)", fmt(v, "FLOPs"), src)
    heaviest = max(flops, key=lambda a: flops[a][0])
    f.part(
        "the most FLOPs of the recurrent models",
        "holds" if heaviest == "lstm" else "breaks",
        f"{flops['lstm'][0] / flops['gru'][0]:.2f}× the GRU's, "
        f"{flops['lstm'][0] / flops['rnn'][0]:.2f}× the RNN's",
    )
    steps = _steps(f, st, "lstm", "gru")
    if steps:
        f.part("slower per step than the GRU", *over_axis("", steps, "H", "slower"))
    else:
        f.part("slower per step than the GRU", None, MISSING_TIMING)
    train = _training(f, st, "lstm", "gru")
    if train:
        f.part("slower to train than the GRU", *over_axis("", train, "H", "slower"))
        if "faster" in train.values():
            f.note = KERNEL_NOTE
    else:
        f.part("slower to train than the GRU", None, MISSING_TIMING)
    return f


def _lstm_vs_gru(f: Finding, st: Stored, name: str, want: str) -> None:
    """GRU against LSTM at each stored distance; ``want`` is the claim's direction for the
    LSTM ('better'). Holds where the LSTM is better beyond the intervals."""
    hs = _horizons(st, "gru", "lstm")
    if not hs:
        f.part(name, None, MISSING_ADDING)
        return
    _skill_numbers(f, st, ("lstm", "gru"), hs)
    res = {
        h: compare(difference(st.quality("lstm", h), st.quality("gru", h)), SKILL_MARGIN)
        for h in hs
    }
    if "unresolved" in res.values() and want not in res.values():
        listing = ", ".join(f"h = {h}: LSTM {r}" for h, r in res.items())
        f.part(name, "unresolved", listing)
        return
    verdict, text = over_axis("", res, "h", want)
    f.part(name, verdict, text.replace("better", "LSTM better"))
    if max(hs) < 200:
        f.note = f"measured up to h = {max(hs)} (the table's long row, h = 200, is not trained)"


def gru_underfit(st: Stored) -> Finding:
    f = Finding()
    _lstm_vs_gru(f, st, "the GRU falls behind the LSTM as h grows", "better")
    return f


def transformer_hungry(st: Stored) -> Finding:
    f = Finding()
    T = 1000
    kv, src = formula("transformer", "state_bytes", T=T)
    gru, gsrc = formula("gru", "state_bytes", T=T)
    f.number(f"transformer state at T = {T}", fmt(kv, "B"), src)
    f.number(f"gru state at T = {T}", fmt(gru, "B"), gsrc)
    f.part(
        "inference memory grows with T",
        "holds" if kv > gru else "breaks",
        f"{kv / gru:.0f}× the GRU's at T = {T}",
    )
    mem, tps = {}, {}
    for T in plan.LENGTHS:
        rows = {a: st.memory(a, T) for a in plan.SOURCE_ARCHS}
        if all(r is not None and r.measured_activation_bytes for r in rows.values()):
            for a, r in rows.items():
                f.number(
                    f"{a} training memory, T = {T}",
                    fmt(r.measured_activation_bytes, "B"),
                    f"measurement:{r.id[:8]}",
                    [r.id],
                )
            most = max(rows[a].measured_activation_bytes for a in plan.RECURRENT)
            mem[T] = "more" if rows["transformer"].measured_activation_bytes > most else "less"
        thr = {a: st.training(a, plan.MEASURE_H, T) for a in plan.SOURCE_ARCHS}
        if all(r is not None for r in thr.values()):
            slowest = min(thr[a].tokens_per_s for a in plan.RECURRENT)
            tps[T] = "slower" if thr["transformer"].tokens_per_s < slowest else "not slower"
    if mem:
        f.part("more training memory than every recurrent model", *over_axis("", mem, "T", "more"))
    else:
        f.part("more training memory than every recurrent model", None, MISSING_TIMING)
    if tps:
        f.part("slower to train than every recurrent model", *over_axis("", tps, "T", "slower"))
    else:
        f.part("slower to train than every recurrent model", None, MISSING_TIMING)
    c = st.crossover()
    if c is not None:
        f.number(
            "attention's share of the FLOPs overtakes the rest at T*",
            f"{c.formula_T:.0f} (formula)" if c.formula_T else "—",
            f"measurement:{c.id[:8]}",
            [c.id],
        )
        f.number(
            "time per token crossover, measured",
            f"{c.measured_T:.0f}" if c.measured_T else "none in the range",
            f"measurement:{c.id[:8]}",
            [c.id],
        )
    return f


def transformer_always(st: Stored) -> Finding:
    f = Finding()
    tq = st.quality("transformer", 5)
    rec = {a: st.quality(a, 5) for a in plan.RECURRENT}
    rec = {a: q for a, q in rec.items() if q is not None}
    if tq is None or not rec:
        f.part("a recurrent model is as good on the stream", None, MISSING_ADDING)
    else:
        _skill_numbers(f, st, (*rec, "transformer"), [5])
        best = max(rec, key=lambda a: rec[a].skill.value)
        res = compare(difference(tq, rec[best]), SKILL_MARGIN)
        f.part(
            "a recurrent model is as good on the stream",
            {"better": "breaks", "unresolved": "unresolved"}.get(res, "holds"),
            f"the Transformer against the {best} at h = 5: {res}",
        )
    kv = st.kv_step(plan.MEASURE_H, plan.CONTEXTS[-1])
    steps = {a: st.step(a, plan.MEASURE_H) for a in plan.RECURRENT}
    steps = {a: r for a, r in steps.items() if r is not None}
    if kv is None or not steps:
        f.part("a recurrent step is cheaper", None, MISSING_TIMING)
    else:
        f.number(
            f"transformer KV-cache step, context {kv.context}",
            fmt(kv.p50_us, "µs"),
            f"measurement:{kv.id[:8]}",
            [kv.id],
        )
        slowest = max(steps, key=lambda a: steps[a].p50_us)
        r = steps[slowest]
        f.number(
            f"{slowest} step (the slowest recurrent), H = 64",
            fmt(r.p50_us, "µs"),
            f"measurement:{r.id[:8]}",
            [r.id],
        )
        res = faster(r.p50_us, r.spread_us, kv.p50_us, kv.spread_us)
        f.part(
            "a recurrent step is cheaper",
            "holds" if res == "faster" else "breaks",
            f"even the slowest recurrent step is {kv.p50_us / r.p50_us:.0f}× cheaper"
            if res == "faster"
            else f"the slowest recurrent step is {res} against the KV-cache step",
        )
    kvb, src = formula("transformer", "state_bytes", T=1000)
    f.number("transformer state at T = 1000", fmt(kvb, "B"), src)
    return f


def gru_context(st: Stored) -> Finding:
    f = Finding(
        note="'they simplify gating' is true by construction (3 gates' worth of weights against 4)"
    )
    g, l = formula("gru", "params"), formula("lstm", "params")
    f.number("gru / lstm parameters", f"{g[0] / l[0]:.2f}", f"{g[1]} / {l[1]}")
    sel = {}
    for a in ("lstm", "gru"):
        runs = [r for r in st.runs if r.task == "regime_switch" and r.arch == a]
        groups = protocol.group(runs)
        if groups:
            s = protocol.select(preferred(groups.values()))
            if s is not None:
                sel[a] = s
    if len(sel) < 2:
        f.part(
            "behaves differently after a switch",
            None,
            "`seqarch claims --run` trains the regime-switching stream",
        )
        return f
    cost = {}
    for a, s in sel.items():
        values = [float(r.metrics.get("switch_cost", math.nan)) for r in s.runs]
        cost[a] = protocol.interval(values)
        rec = [float(r.metrics.get("recovery_steps", math.nan)) for r in s.runs]
        f.number(
            f"{a} accuracy lost per switch (steps)",
            cost[a].text(2),
            f"run:{short(s.run_ids)}",
            s.run_ids,
        )
        f.number(f"{a} recovery (steps)", f"{sum(rec) / len(rec):.1f}", f"run:{short(s.run_ids)}")
        f.number(f"{a} test accuracy", s.test.text(3), f"run:{short(s.run_ids)}")
    res = compare(
        paired_difference(
            by_seed(sel["gru"].runs, "switch_cost"), by_seed(sel["lstm"].runs, "switch_cost")
        ),
        SWITCH_MARGIN,
    )
    if any(protocol.stopped_by_time(s.runs) for s in sel.values()):
        res = "unresolved"  # a run the wall-clock safety net stopped is not converged evidence
    verdict = {"better": "holds", "worse": "holds", "equivalent": "breaks"}.get(res, "unresolved")
    text = {
        "better": "the GRU loses more accuracy per switch than the LSTM (paired interval)",
        "worse": "the GRU loses less accuracy per switch than the LSTM (paired interval)",
        "equivalent": f"the same accuracy lost per switch within ±{SWITCH_MARGIN} steps",
        "unresolved": "the paired interval of the difference is too wide to tell",
    }[res]
    f.part("behaves differently after a switch", verdict, text)
    return f


def dropout_alone(st: Stored) -> Finding:
    f = Finding()
    from ..presets import ABLATION

    arms = {
        "dropout alone": ABLATION["sweep"][0]["train"],
        "combined": ABLATION["sweep"][1]["train"],
    }
    found = False
    for arch in ("lstm", "gru"):
        sel = {}
        for arm, train in arms.items():
            runs = [
                r
                for r in st.runs
                if r.task == "ucr"
                and r.arch == arch
                and r.protocol
                and all(getattr(r.config.train, k) == v for k, v in train.items())
                and r.config.model_config.get("num_layers") == 2
            ]
            s = protocol.select(runs) if runs else None
            if s is not None and s.complete:
                sel[arm] = s
                f.number(
                    f"{arch} {arm}: test accuracy",
                    s.test.text(3),
                    f"run:{short(s.run_ids)}",
                    s.run_ids,
                )
        if len(sel) < 2:
            continue
        found = True
        metric = sel["combined"].metric
        res = compare(
            paired_difference(
                by_seed(sel["combined"].runs, metric), by_seed(sel["dropout alone"].runs, metric)
            ),
            ACCURACY_MARGIN,
        )
        verdict = {"better": "holds", "unresolved": "unresolved"}.get(res, "breaks")
        text = {
            "better": "the combination is better beyond the paired interval",
            "worse": "the combination is worse beyond the paired interval",
            "equivalent": f"no difference beyond ±{ACCURACY_MARGIN}",
            "unresolved": "the paired interval of the difference is too wide to tell",
        }[res]
        f.part(f"{arch}: the combination beats dropout alone", verdict, text)
    if not found:
        f.part(
            "the combination beats dropout alone",
            None,
            "`seqarch claims --run` runs the ablation preset",
        )
    return f


def example_lstm_long(st: Stored) -> Finding:
    f = Finding()
    _lstm_vs_gru(f, st, "the LSTM is better as dependencies grow", "better")
    k = plan.FLOW_K
    lstm, gru = _flow(f, st, "lstm", k), _flow(f, st, "gru", k)
    if lstm is None or gru is None:
        f.part("more stable memory (gradient flow)", None, "`seqarch claims --run` measures it")
    else:
        ratio = lstm / gru if gru > 0 else math.inf
        f.part(
            "more stable memory (gradient flow)",
            "holds" if ratio >= FLOW_FACTOR else "breaks",
            f"at k = {k} the LSTM keeps {ratio:.2g}× the GRU's share at initialisation",
        )
    return f


def example_gru_latency(st: Stored) -> Finding:
    f = Finding()
    for what in ("params", "state_bytes"):
        g, l = formula("gru", what), formula("lstm", what)
        unit = "params" if what == "params" else "B"
        f.number(f"gru {what} (H = 64)", fmt(g[0], unit), g[1])
        f.number(f"lstm {what} (H = 64)", fmt(l[0], unit), l[1])
    lighter = formula("gru", "params")[0] < formula("lstm", "params")[0]
    f.part("lighter", "holds" if lighter else "breaks", "fewer parameters and half the state")
    steps = _steps(f, st, "gru", "lstm")
    if steps:
        f.part("faster per step", *over_axis("", steps, "H", "faster"))
    else:
        f.part("faster per step", None, MISSING_TIMING)
    return f


JUDGES: dict[str, Callable[[Stored], Finding]] = {
    "rnn-streaming": rnn_streaming,
    "lstm-stable": lstm_stable,
    "gru-simpler": gru_simpler,
    "transformer-parallel": transformer_parallel,
    "rnn-forgets": rnn_forgets,
    "lstm-heavy": lstm_heavy,
    "gru-underfit": gru_underfit,
    "transformer-hungry": transformer_hungry,
    "transformer-always": transformer_always,
    "gru-context": gru_context,
    "dropout-alone": dropout_alone,
    "example-lstm-long": example_lstm_long,
    "example-gru-latency": example_gru_latency,
}


# ---------------------------------------------------------------------------------------------
# The numbers behind the report's plots (plain data; seqarch.report draws them)


def plot_data(st: Stored) -> dict[str, Any]:
    """Skill against the horizon (RNN, LSTM, GRU), accuracy by steps since a switch (the
    regime-switching stream), the compiled step against the width (LSTM, GRU) and training
    memory against T (the four) — each point with the ids it was read from."""
    skill = {}
    for a in plan.RECURRENT:
        pts = sorted(st.qualities(a).items())
        if pts:
            skill[a] = [
                {"x": h, "y": q.skill.value, "lo": q.lo, "hi": q.hi, "ids": q.run_ids}
                for h, q in pts
                if math.isfinite(q.spread)
            ]
    recovery = {}
    for a in plan.REGIME["archs"]:
        runs = [r for r in st.runs if r.task == "regime_switch" and r.arch == a]
        groups = protocol.group(runs)
        s = protocol.select(preferred(groups.values())) if groups else None
        if s is None:
            continue
        ds = sorted(
            int(k.removeprefix("acc_since_"))
            for k in s.runs[0].metrics
            if k.startswith("acc_since_")
        )
        recovery[a] = {
            "x": ds,
            "y": [
                sum(r.metrics.get(f"acc_since_{d}", math.nan) for r in s.runs) / len(s.runs)
                for d in ds
            ],
            "steady": sum(r.metrics["steady_accuracy"] for r in s.runs) / len(s.runs),
            "ids": s.run_ids,
        }
    steps = {}
    for a in ("lstm", "gru"):
        rows = [(H, st.step(a, H)) for H in plan.WIDTHS]
        rows = [(H, r) for H, r in rows if r is not None]
        if rows:
            steps[a] = [
                {
                    "x": H,
                    "y": r.p50_us,
                    "lo": r.p50_us - r.spread_us,
                    "hi": r.p50_us + r.spread_us,
                    "ids": [r.id],
                }
                for H, r in rows
            ]
    memory = {}
    for a in plan.SOURCE_ARCHS:
        rows = [(T, st.memory(a, T)) for T in plan.LENGTHS]
        rows = [(T, r) for T, r in rows if r is not None and r.measured_activation_bytes]
        if rows:
            memory[a] = [
                {"x": T, "y": r.measured_activation_bytes / 2**20, "ids": [r.id]} for T, r in rows
            ]
    return {"skill": skill, "recovery": recovery, "steps": steps, "memory": memory}
