r"""The advisor: which architecture fits a problem, and why — with every number traceable.

The flow (DESIGN.md): a :class:`ProblemSpec` goes in; for every architecture in the registry
the advisor gathers *evidence* — the cost formulas at the spec's sizes, latencies measured on
this machine, quality from stored training runs at the nearest dependency distance — runs what
is missing (unless told not to), and returns a :class:`Recommendation`: a ranking, a defense,
the runner-up, when the answer would flip, and the misunderstandings that apply.

How the ranking works (the rule an engineer would state):

1. **Feasible?** A model is out if it misses a hard budget: the per-step (streaming) or
   per-sequence latency measured here, or the memory for weights + inference state at the
   longest sequence (a formula). A budget with no evidence is not assumed away: it is named.
2. **Good enough?** Quality is *skill* = how far a model closes the gap from the trivial
   baseline to perfect on the stored task nearest the spec's horizon
   (skill = 1 − metric / baseline for an error, (metric − baseline)/(1 − baseline) for a score;
   0 = no better than the baseline, 1 = perfect). Among feasible models, those within
   ``max(0.05, 2·spread over seeds)`` of the best skill are *adequate*.
3. **Cheapest adequate wins.** Among adequate models the cheapest in the budget that matters
   (the measured step latency when streaming, else the measured sequence latency, else
   FLOPs/token) is recommended: the simplest model that does the job.

Every figure carries its source — ``formula:<model>.cost.<field>``, ``run:<id>``,
``measurement:<id>`` — and the defense prints them next to the numbers.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from . import cost as cost_model
from .models import MODELS

TASK_KINDS = ("classify", "regress", "forecast", "lm")
KEY_REASONS = ("latency", "memory", "training_budget", "long_range", "short_range", "data")
ADEQUATE_MARGIN = 0.05  # skill within this of the best (or 2 × the spread over seeds) is adequate
CALIBRATION_MAX_HORIZON = 200  # the longest distance the on-demand calibration trains at


# ---------------------------------------------------------------------------------------------
# The problem.


@dataclass(frozen=True)
class ProblemSpec:
    """A problem, as an engineer would state it. Lengths are in time steps."""

    seq_len: int  # typical sequence length T
    max_len: int | None = None  # longest sequence served (None = seq_len)
    horizon: int | None = None  # how far back the relevant information lies (None = unknown)
    streaming: bool = False  # an output per arriving step, state carried between steps
    latency_us: float | None = None  # per step when streaming, per sequence otherwise
    memory_mb: float | None = None  # inference state + weights
    train_minutes: float | None = None  # training budget on this machine
    input_size: int = 1  # features per step
    output_size: int = 1  # classes, or regression width
    task_kind: str = "classify"  # classify | regress | forecast | lm
    hidden_size: int = 128  # the model width the costs are evaluated at
    num_layers: int = 1
    data: str | None = None  # the user's own data file (CSV / NPZ)

    def __post_init__(self) -> None:
        for name in ("seq_len", "input_size", "output_size", "hidden_size", "num_layers"):
            _positive_int(name, getattr(self, name))
        if self.max_len is not None:
            _positive_int("max_len", self.max_len)
            if self.max_len < self.seq_len:
                raise ValueError(
                    f"max_len={self.max_len} is shorter than seq_len={self.seq_len}; "
                    "expected max_len ≥ seq_len (or leave it out)"
                )
        if self.horizon is not None:
            _positive_int("horizon", self.horizon)
            if self.horizon >= self.longest:
                raise ValueError(
                    f"horizon={self.horizon} is not accepted: the signal cannot lie further back "
                    f"than the sequence is long (max_len={self.longest}); expected 1 ≤ horizon "
                    f"< {self.longest}, or 'unknown'"
                )
        for name in ("latency_us", "memory_mb", "train_minutes"):
            value = getattr(self, name)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int | float) or value <= 0
            ):
                raise ValueError(f"{name}={value!r} is not accepted; expected a positive number")
        if self.task_kind not in TASK_KINDS:
            raise ValueError(
                f"task_kind={self.task_kind!r} is not accepted; expected one of "
                f"{', '.join(TASK_KINDS)}"
            )
        if self.data is not None and not Path(self.data).is_file():
            raise ValueError(f"data file {self.data!r} does not exist; expected a CSV or NPZ file")

    @property
    def longest(self) -> int:
        return self.max_len or self.seq_len

    @property
    def effective_horizon(self) -> int:
        """The horizon, or — when unknown — the worst case: the whole sequence."""
        return self.horizon if self.horizon is not None else self.longest - 1

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ProblemSpec:
        names = {f.name for f in fields(cls)}
        unknown = [k for k in d if k.replace("-", "_") not in names]
        if unknown:
            raise ValueError(
                f"spec field {unknown[0]!r} is not accepted; expected any of {', '.join(names)}"
            )
        clean = {k.replace("-", "_"): v for k, v in d.items()}
        if clean.get("horizon") == "unknown":
            clean["horizon"] = None
        return cls(**clean)

    @classmethod
    def from_toml(cls, path: str | Path) -> ProblemSpec:
        try:
            with open(path, "rb") as f:
                d = tomllib.load(f)
        except FileNotFoundError:
            raise ValueError(
                f"spec file {str(path)!r} does not exist; expected a TOML file"
            ) from None
        except tomllib.TOMLDecodeError as e:
            raise ValueError(f"spec file {str(path)!r} is not valid TOML: {e}") from None
        return cls.from_dict(d.get("problem", d))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _positive_int(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name}={value!r} is not accepted; expected a positive integer")


# ---------------------------------------------------------------------------------------------
# Evidence: numbers with their sources.


@dataclass(frozen=True)
class Figure:
    """A number, its unit, and where it came from (a formula, a run, a measurement)."""

    value: float
    unit: str
    source: str

    def __str__(self) -> str:
        return f"{fmt(self.value, self.unit)} [{self.source}]"

    def text(self) -> str:
        """The number without its source, for sentences that cite the source separately."""
        return fmt(self.value, self.unit)


def fmt(value: float, unit: str) -> str:
    if unit == "B":
        for div, name in ((2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
            if abs(value) >= div:
                return f"{_sig(value / div)} {name}"
        return f"{value:.0f} B"
    if unit == "µs":
        if value >= 1e6:
            return f"{value / 1e6:.3g} s"
        if value >= 1e3:
            return f"{_sig(value / 1e3)} ms"
        return f"{_sig(value)} µs"
    if unit == "":
        return f"{value:.3g}"
    if unit in ("params", "FLOPs"):
        for div, name in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
            if abs(value) >= div:
                return f"{_sig(value / div)}{name}{' ' + unit if unit == 'FLOPs' else ''}"
        return f"{value:.0f}" + (" FLOPs" if unit == "FLOPs" else "")
    return f"{value:.3g} {unit}"


def skill_text(q: Quality) -> str:
    """Skill, with its spread over seeds when there is more than one seed."""
    return f"{q.skill.value:.2f}" + (f" ± {q.spread:.2f}" if len(q.run_ids) > 1 else "")


def _sig(x: float) -> str:
    """Three significant figures, never in exponent form (1000, not 1e+03)."""
    return f"{x:.0f}" if abs(x) >= 100 else f"{x:.3g}"


@dataclass
class Quality:
    """How well an architecture did on the stored task nearest the spec's horizon."""

    skill: Figure  # mean over seeds; 0 = trivial baseline, 1 = perfect
    spread: float  # standard deviation of skill over seeds
    metric: str
    value: float  # mean of the metric over seeds
    baseline: float
    task: str
    horizon: int  # the dependency distance the runs trained at
    seq_len: int
    run_ids: list[str]
    train_seconds: float  # mean wall-clock per run


@dataclass
class Evidence:
    """What the advisor knows about one architecture at the spec's sizes."""

    arch: str
    params: Figure
    flops_per_token: Figure
    weights_bytes: Figure
    state_bytes: Figure  # inference state at max_len
    state_grows: bool  # True when the state grows with T (a KV cache)
    step_us: Figure | None = None  # one streaming step (at context max_len if it grows)
    seq_us: Figure | None = None  # one whole sequence of max_len, batch 1
    quality: Quality | None = None
    grad_ratio: Figure | None = None  # ‖∂h_T/∂x_{T−k}‖ / ‖∂h_T/∂x_{T−1}‖ at k = horizon
    by_horizon: dict[int, Quality] = field(default_factory=dict)  # every stored distance
    ablation: dict[str, Any] | None = None  # stored dropout-alone vs combined regularisation

    @property
    def memory_bytes(self) -> float:
        return self.weights_bytes.value + self.state_bytes.value


def formula_evidence(spec: ProblemSpec, arch: str) -> Evidence:
    """The part of the evidence that is pure formula: params, FLOPs, bytes at the spec."""
    config = dict(
        input_size=spec.input_size,
        hidden_size=spec.hidden_size,
        num_layers=spec.num_layers,
        output_size=spec.output_size,
    )
    at_max = cost_model.estimate(arch, seq_len=spec.longest, **config)
    at_one = cost_model.estimate(arch, seq_len=1, **config)
    src = f"formula:{arch}.cost"
    return Evidence(
        arch=arch,
        params=Figure(at_max.params, "params", f"{src}.params"),
        flops_per_token=Figure(at_max.flops_per_token, "FLOPs", f"{src}.flops_per_token"),
        weights_bytes=Figure(at_max.params * 4, "B", f"{src}.params×4"),
        state_bytes=Figure(at_max.state_bytes, "B", f"{src}.state_bytes"),
        state_grows=at_max.state_bytes > at_one.state_bytes,
    )


def skill_of(value: float, baseline: float, higher_is_better: bool) -> float:
    """0 at the trivial baseline, 1 at perfect; negative when worse than the baseline."""
    if higher_is_better:
        return (value - baseline) / (1.0 - baseline) if baseline < 1.0 else 0.0
    return 1.0 - value / baseline if baseline > 0 else 0.0


# ---------------------------------------------------------------------------------------------
# The verdicts and the ranking: pure functions of the spec and the evidence.


@dataclass
class Verdict:
    arch: str
    feasible: bool
    reasons: list[str]
    expected: dict[str, Any]
    cost: dict[str, Any]
    evidence: list[str]
    adequate: bool = False
    blocked_by: list[str] = field(default_factory=list)  # budgets missed: latency, memory, ...
    unknown: list[str] = field(default_factory=list)  # budgets with no evidence

    def to_dict(self) -> dict[str, Any]:
        return {
            "arch": self.arch,
            "feasible": self.feasible,
            "adequate": self.adequate,
            "reasons": list(self.reasons),
            "expected": dict(self.expected),
            "cost": dict(self.cost),
            "evidence": list(self.evidence),
        }


def verdict(spec: ProblemSpec, ev: Evidence) -> Verdict:
    """Feasibility against each budget, with the reason in words and numbers."""
    reasons: list[str] = []
    blocked: list[str] = []
    unknown: list[str] = []
    sources = [ev.params.source, ev.state_bytes.source]
    if spec.latency_us is not None:
        figure = ev.step_us if spec.streaming else ev.seq_us
        what = (
            f"a step at context {spec.longest}"
            if spec.streaming and ev.state_grows
            else ("a step" if spec.streaming else f"a sequence of {spec.longest}")
        )
        if figure is None:
            unknown.append("latency")
            reasons.append(f"latency of {what} not measured on this machine")
        else:
            sources.append(figure.source)
            ok = figure.value <= spec.latency_us
            reasons.append(
                f"{what} takes {figure.text()} here "
                f"{'within' if ok else 'over'} the {fmt(spec.latency_us, 'µs')} budget"
            )
            if not ok:
                blocked.append("latency")
    if spec.memory_mb is not None:
        budget = spec.memory_mb * 2**20
        ok = ev.memory_bytes <= budget
        state = "KV cache" if ev.state_grows else "state"
        reasons.append(
            f"weights {ev.weights_bytes.text()} + {state} at T={spec.longest} "
            f"{ev.state_bytes.text()} {'within' if ok else 'over'} {spec.memory_mb:g} MB"
        )
        if not ok:
            blocked.append("memory")
    if spec.train_minutes is not None and ev.quality is not None:
        sources.extend(ev.quality.run_ids)
        secs = ev.quality.train_seconds
        ok = secs <= spec.train_minutes * 60
        reasons.append(
            f"trained to its quality in {secs:.0f} s here "
            f"{'within' if ok else 'over'} the {spec.train_minutes:g} min budget"
        )
        if not ok:
            blocked.append("training_budget")
    expected: dict[str, Any] = {}
    q = ev.quality
    if q is not None:
        sources.extend(q.run_ids)
        expected = {
            "skill": round(q.skill.value, 4),
            "skill_spread": round(q.spread, 4),
            "metric": q.metric,
            "value": q.value,
            "baseline": q.baseline,
            "task": q.task,
            "horizon": q.horizon,
            "seq_len": q.seq_len,
            "seeds": len(q.run_ids),
        }
        reasons.append(
            f"on {q.task} with the signal {q.horizon} steps back: {q.metric} {q.value:.3g} vs "
            f"baseline {q.baseline:.3g} (skill {skill_text(q)}, "
            f"{len(q.run_ids)} seed{'s' if len(q.run_ids) != 1 else ''})"
        )
    else:
        reasons.append("no stored quality evidence at this horizon")
    if ev.grad_ratio is not None:
        sources.append(ev.grad_ratio.source)
        expected["grad_ratio_at_horizon"] = ev.grad_ratio.value
    cost = {
        "params": int(ev.params.value),
        "flops_per_token": int(ev.flops_per_token.value),
        "state_bytes": int(ev.state_bytes.value),
        "weights_bytes": int(ev.weights_bytes.value),
        "state_grows_with_T": ev.state_grows,
        "step_us": None if ev.step_us is None else ev.step_us.value,
        "seq_us": None if ev.seq_us is None else ev.seq_us.value,
    }
    return Verdict(
        arch=ev.arch,
        feasible=not blocked,
        reasons=reasons,
        expected=expected,
        cost=cost,
        evidence=list(dict.fromkeys(sources)),
        blocked_by=blocked,
        unknown=unknown,
    )


def cost_key(spec: ProblemSpec, ev: Evidence) -> tuple[float, float]:
    """What "cheaper" means for this spec: the latency that matters, then FLOPs per token."""
    latency = ev.step_us if spec.streaming else ev.seq_us
    return (latency.value if latency is not None else math.inf, ev.flops_per_token.value)


def rank(spec: ProblemSpec, evidence: dict[str, Evidence]) -> list[Verdict]:
    """Feasible before infeasible; among feasible, the adequate by cost, then the rest by skill."""
    verdicts = {arch: verdict(spec, ev) for arch, ev in evidence.items()}
    feasible = [a for a, v in verdicts.items() if v.feasible]
    skills = {
        a: evidence[a].quality.skill.value for a in evidence if evidence[a].quality is not None
    }
    if feasible and any(a in skills for a in feasible):
        best = max(skills[a] for a in feasible if a in skills)
        for a in feasible:
            q = evidence[a].quality
            if q is not None:
                margin = max(ADEQUATE_MARGIN, 2 * q.spread)
                verdicts[a].adequate = q.skill.value >= best - margin and q.skill.value > 0
        # if no model beats the baseline, none is adequate; all rank by cost
    adequate = sorted(
        (a for a in feasible if verdicts[a].adequate), key=lambda a: cost_key(spec, evidence[a])
    )
    others = sorted(
        (a for a in feasible if not verdicts[a].adequate),
        key=lambda a: (-skills.get(a, -math.inf), cost_key(spec, evidence[a])),
    )
    infeasible = sorted(
        (a for a in verdicts if not verdicts[a].feasible),
        key=lambda a: (len(verdicts[a].blocked_by), -skills.get(a, -math.inf)),
    )
    return [verdicts[a] for a in adequate + others + infeasible]


def key_reason(spec: ProblemSpec, ranking: list[Verdict], evidence: dict[str, Evidence]) -> str:
    """The one reason that decided it, as a category (KEY_REASONS): a budget whose removal
    would change the answer, else the dependency length (a cheaper model fell short), else
    the short horizon (the cheapest model is good enough)."""
    winner = ranking[0]
    for budget, reason in (
        ("latency_us", "latency"),
        ("memory_mb", "memory"),
        ("train_minutes", "training_budget"),
    ):
        if getattr(spec, budget) is not None:
            if winner_under(spec, evidence, **{budget: None}) != winner.arch:
                return reason
    if spec.data is not None:
        return "data"
    cheaper = [
        v
        for v in ranking[1:]
        if v.feasible and cost_key(spec, evidence[v.arch]) < cost_key(spec, evidence[winner.arch])
    ]
    if any(not v.adequate for v in cheaper):
        return "long_range"
    return "short_range"


# ---------------------------------------------------------------------------------------------
# The recommendation and its defense.


@dataclass
class Recommendation:
    spec: ProblemSpec
    recommendation: str
    runner_up: str | None
    key_reason: str
    ranking: list[Verdict]
    flips: list[str]
    caveats: list[str]
    misunderstandings: list[str]
    defense: str
    missing_evidence: list[str]
    confidence: str  # "high" | "medium" | "low"

    def to_dict(self) -> dict[str, Any]:
        return {
            "spec": self.spec.to_dict(),
            "recommendation": self.recommendation,
            "runner_up": self.runner_up,
            "key_reason": self.key_reason,
            "confidence": self.confidence,
            "ranking": [v.to_dict() for v in self.ranking],
            "flips": list(self.flips),
            "caveats": list(self.caveats),
            "misunderstandings": list(self.misunderstandings),
            "defense": self.defense,
            "missing_evidence": list(self.missing_evidence),
        }


def winner_under(spec: ProblemSpec, evidence: dict[str, Evidence], **change: Any) -> str | None:
    """The recommendation if the spec were changed by ``change`` (None: nothing feasible)."""
    from dataclasses import replace

    top = rank(replace(spec, **change), evidence)[0]
    return top.arch if top.feasible else None


def flips(spec: ProblemSpec, ranking: list[Verdict], evidence: dict[str, Evidence]) -> list[str]:
    """When the answer would change: the budget or length at which another model wins."""
    out: list[str] = []
    winner = evidence[ranking[0].arch]
    lat = (lambda e: e.step_us) if spec.streaming else (lambda e: e.seq_us)
    unit = "per step" if spec.streaming else "per sequence"
    # 1-2. latency: re-rank with the budget moved to each measured latency; report the first
    # budget that changes the answer, rising and falling
    if spec.latency_us is not None:
        measured = sorted({lat(e).value for e in evidence.values() if lat(e) is not None})
        for t in (x for x in measured if x > spec.latency_us):
            new = winner_under(spec, evidence, latency_us=t)
            if new is not None and new != winner.arch:
                out.append(
                    f"If the latency budget rose to {fmt(t, 'µs')} {unit}, {new} would win "
                    f"[{lat(evidence[new]).source}]."
                )
                break
        if lat(winner) is not None:
            below = lat(winner).value * 0.999
            new = winner_under(spec, evidence, latency_us=below)
            q = evidence[new].quality if new else None
            then = (
                "nothing measured here would fit"
                if new is None
                else f"{new} would win"
                if q is None or q.skill.value > ADEQUATE_MARGIN
                else f"only {new} would fit, at skill {q.skill.value:.2f} — no better than the "
                "baseline"
            )
            out.append(
                f"If the budget fell below {winner.arch}'s {lat(winner).text()} {unit}, {then} "
                f"[{lat(winner).source}]."
            )
    # 3. memory: where a growing state (KV cache) crosses the memory budget
    if spec.memory_mb is not None:
        budget = spec.memory_mb * 2**20
        for v in ranking:
            e = evidence[v.arch]
            if e.state_grows and e.state_bytes.value > 0:
                per_step = e.state_bytes.value / spec.longest
                t_star = int((budget - e.weights_bytes.value) / per_step)
                if t_star > 0:
                    out.append(
                        f"{v.arch}'s KV cache grows {fmt(per_step, 'B')} per step "
                        f"[{e.state_bytes.source}]: sequences past T ≈ {t_star:,} no longer fit "
                        f"{spec.memory_mb:g} MB."
                    )
                break
    # 4. horizon: the cheapest model that fell short here, and where stored runs show it suffices
    w_q = winner.quality
    if w_q is not None:
        short = [
            v.arch
            for v in ranking
            if v.feasible
            and not v.adequate
            and cost_key(spec, evidence[v.arch]) < cost_key(spec, winner)
        ]
        if short:
            c = evidence[short[0]]
            fits = [
                h
                for h, q in c.by_horizon.items()
                if h < w_q.horizon
                and h in winner.by_horizon
                and q.skill.value
                >= winner.by_horizon[h].skill.value - max(ADEQUATE_MARGIN, 2 * q.spread)
            ]
            if fits:
                h = max(fits)
                q = c.by_horizon[h]
                out.append(
                    f"If the signal lay within {h} steps, the cheaper {c.arch} would do: there "
                    f"it reached skill {q.skill.value:.2f} [{q.skill.source}]."
                )
    return out


def misunderstandings(
    spec: ProblemSpec, ranking: list[Verdict], evidence: dict[str, Evidence]
) -> list[str]:
    """The source document's common misunderstandings — only those this spec bears on."""
    notes: list[str] = []
    order = [v.arch for v in ranking]
    winner = order[0]
    tf = [a for a in evidence if evidence[a].state_grows]
    if tf and winner not in tf:
        t = evidence[tf[0]]
        w = evidence[winner]
        parts = [
            f"here {winner} is recommended over {t.arch}",
            f"its state is {w.state_bytes} against a KV cache of {t.state_bytes} at "
            f"T={spec.longest}",
        ]
        if spec.streaming and w.step_us is not None and t.step_us is not None:
            parts.append(f"a step costs {w.step_us} against {t.step_us}")
        notes.append(
            "“Transformers are always better” — not for this problem: " + "; ".join(parts) + "."
        )
    if "gru" in evidence and "lstm" in evidence and {"gru", "lstm"} & set(order[:2]):
        g, l = evidence["gru"], evidence["lstm"]
        parts = [
            f"the GRU has {g.params} parameters against the LSTM's {l.params}, but it is a "
            "different function, not a compressed LSTM: one state that is both memory and "
            "output, and one update gate z that both forgets and writes where the LSTM has "
            "independent f and i gates and a separate cell"
        ]
        if g.quality is not None and l.quality is not None:
            parts.append(
                f"on {g.quality.task} at distance {g.quality.horizon} they reached skill "
                f"{g.quality.skill.value:.2f} (GRU) vs {l.quality.skill.value:.2f} (LSTM)"
            )
        lat = (lambda e: e.step_us) if spec.streaming else (lambda e: e.seq_us)
        if lat(g) is not None and lat(l) is not None and lat(g).value > lat(l).value:
            parts.append(
                f"and the textbook “GRUs are faster” does not hold on this machine: "
                f"{lat(g)} for the GRU vs {lat(l)} for the LSTM"
            )
        notes.append("“GRUs are just compressed LSTMs” — " + "; ".join(parts) + ".")
    if spec.data is not None:
        note = (
            "“Dropout alone prevents overfitting” — on a small dataset, combine dropout with "
            "gradient clipping, layer normalisation and temporal augmentation"
        )
        abl = next((e.ablation for e in evidence.values() if e.ablation), None)
        if abl is None:
            note += "; `seqarch study --preset ablation` measures the difference on a real UCR set."
        else:
            alone, both = abl["dropout_only"], abl["combined"]
            note += (
                f". Measured on {abl['dataset']}: test {abl['metric']} {alone['mean']:.3f} with "
                f"dropout alone against {both['mean']:.3f} with all four "
                f"({alone['n']} vs {both['n']} runs) [run:{alone['ids'][0][:8]}, "
                f"run:{both['ids'][0][:8]}, …]."
            )
        notes.append(note)
    return notes


def defend(
    spec: ProblemSpec,
    ranking: list[Verdict],
    evidence: dict[str, Evidence],
    reason: str,
    flip_notes: list[str],
) -> str:
    """A few paragraphs in the voice of an engineer who knows the math and the machine."""
    w = evidence[ranking[0].arch]
    runner = evidence[ranking[1].arch] if len(ranking) > 1 else None
    paras: list[str] = []
    problem = (
        f"{'Streaming' if spec.streaming else 'Whole-sequence'} {spec.task_kind} over sequences "
        f"of {spec.seq_len}"
        + (f" (up to {spec.max_len})" if spec.max_len else "")
        + ", "
        + (
            f"the signal about {spec.horizon} steps back"
            if spec.horizon is not None
            else "horizon unknown (treated as the whole sequence)"
        )
        + "."
    )
    head = f"{w.arch.upper()}. {problem}"
    if w.quality is not None:
        q = w.quality
        head += (
            f" On {q.task} with the signal {q.horizon} steps back, {w.arch} reached {q.metric} "
            f"{q.value:.3g} against the trivial baseline's {q.baseline:.3g} — skill "
            f"{skill_text(q)} over {len(q.run_ids)} seed{'s' if len(q.run_ids) > 1 else ''} "
            f"[run:{', run:'.join(r[:8] for r in q.run_ids)}]."
        )
    fallen = sorted(
        (
            evidence[v.arch]
            for v in ranking
            if evidence[v.arch].quality is not None and not v.adequate and v.feasible
        ),
        key=lambda e: cost_key(spec, e),
    )
    if fallen:
        f = fallen[0]
        head += f" {f.arch} is not enough here: skill {f.quality.skill.value:.2f} at that distance"
        if f.grad_ratio is not None:
            head += (
                f"; its gradient {f.quality.horizon} steps back is {f.grad_ratio.value:.1e} of "
                f"the one-step gradient [{f.grad_ratio.source}]"
            )
        head += "."
    paras.append(head)

    eng = []
    if spec.streaming:
        if w.step_us is not None:
            eng.append(f"a step of {w.arch} takes {w.step_us} on this machine")
        if spec.latency_us is not None:
            eng.insert(0, f"a step must finish in {fmt(spec.latency_us, 'µs')}")
    elif w.seq_us is not None:
        eng.append(f"a whole sequence of {spec.longest} takes {w.seq_us} at batch 1")
    eng.append(
        f"it needs {w.params} parameters and carries {w.state_bytes} of "
        + ("KV cache" if w.state_grows else "state, whatever the length")
    )
    grows = [evidence[v.arch] for v in ranking if evidence[v.arch].state_grows and v.arch != w.arch]
    if grows:
        g = grows[0]
        s = f"the {g.arch}'s KV cache at T={spec.longest} is {g.state_bytes}"
        if spec.streaming and g.step_us is not None:
            s += f" and its decode step there takes {g.step_us}"
        eng.append(s)
    paras.append(_sentence("; ".join(eng)))

    if runner is not None:
        rv = ranking[1]
        why = (
            f"it misses the {', '.join(rv.blocked_by)} budget"
            if rv.blocked_by
            else (
                "it is as good but costs more"
                if rv.adequate
                else "it is cheaper but not good enough at this distance"
                if cost_key(spec, runner) < cost_key(spec, w)
                else "it scores lower"
            )
        )
        paras.append(f"Runner-up: {runner.arch} — {why} ({'; '.join(rv.reasons[:2])}).")
    if flip_notes:
        paras.append("When the answer would flip: " + " ".join(flip_notes))
    paras.append(f"Deciding reason: {reason.replace('_', ' ')}.")
    return "\n\n".join(paras)


def _sentence(s: str) -> str:
    return s[:1].upper() + s[1:] + "."


def infeasible_message(spec: ProblemSpec, ranking: list[Verdict]) -> str:
    """One line: no architecture meets the budgets, and by how much the closest one misses."""
    misses = "; ".join(
        f"{v.arch}: {next((r for r in v.reasons if ' over ' in r), ', '.join(v.blocked_by))}"
        for v in ranking[:3]
    )
    return (
        "no architecture meets this spec's budgets on this machine (" + misses + "); expected a "
        "looser latency/memory/training budget or a smaller --hidden-size"
    )


def recommend(spec: ProblemSpec, evidence: dict[str, Evidence]) -> Recommendation:
    """The whole decision from evidence already gathered (pure; what the tests drive)."""
    if not evidence:
        raise ValueError("no architectures to rank; expected at least one in seqarch.models")
    ranking = rank(spec, evidence)
    reason = key_reason(spec, ranking, evidence)
    missing = []
    for arch, ev in evidence.items():
        if ev.quality is None:
            missing.append(f"{arch}: no stored training runs near horizon {spec.effective_horizon}")
        if spec.latency_us is not None and (ev.step_us if spec.streaming else ev.seq_us) is None:
            missing.append(f"{arch}: latency not measured on this machine")
    if not any(v.feasible for v in ranking):
        raise ValueError(infeasible_message(spec, ranking))
    caveats = []
    qs = [ev.quality for ev in evidence.values() if ev.quality is not None]
    if qs and max(q.horizon for q in qs) < spec.effective_horizon:
        caveats.append(
            f"Quality was measured at a distance of {max(q.horizon for q in qs)} steps, shorter "
            f"than this problem's {spec.effective_horizon}: the gap between the recurrent models "
            "and attention only widens with distance."
        )
    if spec.horizon is None:
        caveats.append("The horizon is unknown, so the advice assumes the worst case.")
    confidence = "high" if not missing and qs else ("medium" if qs else "low")
    if confidence == "low":
        caveats.append(
            "No quality evidence is stored: the ranking rests on cost alone. Run without --no-run "
            "(or `seqarch study --preset quick`) to measure it."
        )
    flip_notes = flips(spec, ranking, evidence)
    return Recommendation(
        spec=spec,
        recommendation=ranking[0].arch,
        runner_up=ranking[1].arch if len(ranking) > 1 else None,
        key_reason=reason,
        ranking=ranking,
        flips=flip_notes,
        caveats=caveats,
        misunderstandings=misunderstandings(spec, ranking, evidence),
        defense=defend(spec, ranking, evidence, reason, flip_notes),
        missing_evidence=missing,
        confidence=confidence,
    )


def archs(names: Iterable[str] | None = None) -> list[str]:
    """The architectures to rank: ``names`` (checked against the registry) or all of them."""
    if names is None:
        return list(MODELS)
    names = [n.strip() for n in names if n.strip()]
    for n in names:
        if n not in MODELS:
            raise ValueError(
                f"architecture {n!r} is not known; expected any of {', '.join(MODELS)}"
            )
    if not names:
        raise ValueError("no architectures given; expected any of " + ", ".join(MODELS))
    return names


Progress = Callable[[str], None]


# ---------------------------------------------------------------------------------------------
# Gathering evidence from the store (and producing what is missing).

CALIBRATION_TASK = "adding"


def calibration_horizon(spec: ProblemSpec) -> int:
    """The distance the on-demand calibration trains at: the spec's, capped for CPU budgets."""
    return max(2, min(spec.effective_horizon, CALIBRATION_MAX_HORIZON))


def _run_horizon(run: dict) -> int | None:
    """The dependency distance of a stored run, from its task config (no hand-kept table)."""
    from .tasks import make_task

    try:
        return make_task(run["config"]["task"], **run["config"].get("task_config", {})).horizon
    except (ValueError, TypeError):
        return None


def qualities_by_horizon(
    runs: list[dict], arch: str, task: str = CALIBRATION_TASK
) -> dict[int, Quality]:
    """Quality of ``arch`` on ``task`` at every stored dependency distance, seeds averaged."""
    from .tasks import make_task

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
    from .train import RunConfig, TrainConfig

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
    from .tasks import from_files
    from .train import RunConfig, TrainConfig

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
        from .study import run_study

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
            from .derive.flow import gradient_flow, store_flow

            say(f"measuring gradient flow of {arch} over {h} steps …")
            result = gradient_flow(arch, seq_len=h + 1, k_max=h, hidden_size=32, seeds=(0, 1))
            store_flow(result, db)
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
    from . import measure

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
    from .store import Store, default_path

    db = Path(db) if db is not None else default_path()
    with Store(db) as store:
        evidence = gather(
            spec, store, db, run=run, names=names, progress=progress, max_steps=max_steps
        )
        rec = recommend(spec, evidence)
        store.put_measurement("advice", spec.to_dict(), rec.to_dict())
    return rec


def ranking_rows(rec: Recommendation) -> list[dict[str, str]]:
    """The ranking as display strings (shared by the terminal, Markdown and the report)."""
    rows = []
    for i, v in enumerate(rec.ranking, 1):
        e = v.expected
        lat = v.cost["step_us"] if rec.spec.streaming else v.cost["seq_us"]
        rows.append(
            {
                "rank": str(i),
                "arch": v.arch,
                "feasible": "yes" if v.feasible else "no: " + ", ".join(v.blocked_by),
                "skill": "—"
                if "skill" not in e
                else f"{e['skill']:.2f}"
                + (f" ± {e['skill_spread']:.2f}" if e["seeds"] > 1 else ""),
                "latency": "not measured" if lat is None else fmt(lat, "µs"),
                "params": fmt(v.cost["params"], "params"),
                "state": fmt(v.cost["state_bytes"], "B")
                + (" (KV cache)" if v.cost["state_grows_with_T"] else ""),
            }
        )
    return rows


def to_markdown(rec: Recommendation) -> str:
    """The advice as a Markdown document."""
    rows = ranking_rows(rec)
    head = "| " + " | ".join(rows[0]) + " |\n|" + "---|" * len(rows[0]) + "\n"
    table = head + "".join("| " + " | ".join(r.values()) + " |\n" for r in rows)
    spec = ", ".join(f"{k}={v}" for k, v in rec.spec.to_dict().items() if v is not None)
    parts = [
        f"# seqarch advice: {rec.recommendation}",
        f"Problem: {spec}. Runner-up: {rec.runner_up}. Confidence: {rec.confidence}.",
        "## Ranking",
        table,
        "## Defense",
        rec.defense,
    ]
    for title, items in (
        ("Common misunderstandings", rec.misunderstandings),
        ("Caveats", rec.caveats),
        ("Missing evidence", rec.missing_evidence),
    ):
        if items:
            parts += [f"## {title}", "\n".join(f"- {x}" for x in items)]
    return "\n\n".join(parts) + "\n"


# ---------------------------------------------------------------------------------------------
# The source document's trade-off table, measured.

TEXTBOOK = (
    # (task type, the textbook's best choice, its "why", the spec that stands for the row)
    (
        "Streaming / real-time",
        ("rnn",),
        "minimal latency",
        dict(seq_len=1000, horizon=5, streaming=True, input_size=8, hidden_size=64),
    ),
    (
        "Medium sequences",
        ("lstm", "gru"),
        "balanced memory & speed",
        dict(seq_len=120, horizon=60, input_size=8, hidden_size=64),
    ),
    (
        "Long sequences",
        ("transformer",),
        "global context, parallelism",
        dict(seq_len=400, horizon=CALIBRATION_MAX_HORIZON, input_size=8, hidden_size=64),
    ),
)


@dataclass
class TableRow:
    task_type: str
    textbook: str
    textbook_why: str
    measured: str
    measured_why: str
    holds: bool
    evidence: list[str]


def textbook_table(
    db: str | Path | None = None,
    run: bool = True,
    names: list[str] | None = None,
    progress: Progress | None = None,
) -> list[TableRow]:
    """Each row of the source's trade-off table, re-decided by the advisor on this machine."""
    rows = []
    for task_type, choice, why, spec_kw in TEXTBOOK:
        spec = ProblemSpec(**spec_kw)
        rec = advise(spec, db=db, run=run, names=names, progress=progress)
        top = rec.ranking[0]
        measured_why = "; ".join(top.reasons[:2])
        rows.append(
            TableRow(
                task_type=task_type,
                textbook=" / ".join(c.upper() for c in choice),
                textbook_why=why,
                measured=rec.recommendation,
                measured_why=measured_why,
                holds=rec.recommendation in choice,
                evidence=top.evidence,
            )
        )
    return rows


# ---------------------------------------------------------------------------------------------
# Self-evaluation: the advisor's cheap calibration against an exhaustive measurement.

SUITES = Path(__file__).parent / "suites"


def load_suite(name_or_path: str | Path) -> list[ProblemSpec]:
    """A suite: a TOML file of ``[[spec]]`` tables (or the name of a shipped suite)."""
    path = Path(name_or_path)
    if not path.is_file():
        shipped = SUITES / f"{name_or_path}.toml"
        if not shipped.is_file():
            names = ", ".join(p.stem for p in SUITES.glob("*.toml"))
            raise ValueError(
                f"suite {str(name_or_path)!r} is neither a file nor a shipped suite; expected a "
                f"TOML file or one of {names}"
            )
        path = shipped
    with open(path, "rb") as f:
        try:
            specs = tomllib.load(f).get("spec", [])
        except tomllib.TOMLDecodeError as e:
            raise ValueError(f"suite {str(path)!r} is not valid TOML: {e}") from None
    if not specs:
        raise ValueError(f"suite {str(path)!r} has no [[spec]] tables; expected at least one")
    return [ProblemSpec.from_dict(s) for s in specs]


def truth_runs(
    spec: ProblemSpec, names: list[str], seeds: int = 3, max_steps: int = 3000
) -> list[Any]:
    """The exhaustive measurement: every architecture at the spec's distance over ``seeds``
    seeds (the advisor's calibration is seed 0 of these: the truth adds the seed variance)."""
    return calibration_runs(spec, names, seeds=seeds, max_steps=max_steps)


def spearman(a: list[str], b: list[str]) -> float:
    """Spearman's rank correlation of two orderings of the same items."""
    n = len(a)
    if n < 2:
        return 1.0
    pos = {x: i for i, x in enumerate(b)}
    d2 = sum((i - pos[x]) ** 2 for i, x in enumerate(a))
    return 1 - 6 * d2 / (n * (n * n - 1))


@dataclass
class EvalRow:
    spec: ProblemSpec
    advised: list[str]
    truth: list[str]
    top1: bool
    rho: float


def evaluate(
    suite: str | Path,
    db: str | Path | None = None,
    names: list[str] | None = None,
    progress: Progress | None = None,
    max_steps: int = 3000,
) -> list[EvalRow]:
    """Run the advisor on every spec of ``suite``, then measure the truth exhaustively and
    rank it by the same rule; report top-1 agreement and rank correlation."""
    from .store import Store, default_path
    from .study import run_study

    specs = load_suite(suite)
    names = archs(names)
    db = Path(db) if db is not None else default_path()
    say = progress or (lambda _msg: None)
    rows = []
    for spec in specs:
        rec = advise(spec, db=db, run=True, names=names, progress=progress, max_steps=max_steps)
        planned = truth_runs(spec, names, max_steps=max_steps)
        say(f"truth for {spec.seq_len=} {spec.horizon=}: {len(planned)} runs")
        run_study(planned, db)
        ids = {r.id for r in planned}
        with Store(db) as store:
            runs = [r for r in store.runs(task=CALIBRATION_TASK) if r["id"] in ids]
            truth_ev = {}
            for arch in names:
                ev = formula_evidence(spec, arch)
                ev.by_horizon = qualities_by_horizon(runs, arch)
                ev.quality = nearest(ev.by_horizon, spec.effective_horizon)
                truth_ev[arch] = ev
            attach_latency(spec, store, truth_ev, run=True, say=say)
        truth = [v.arch for v in rank(spec, truth_ev)]
        advised = [v.arch for v in rec.ranking]
        rows.append(EvalRow(spec, advised, truth, advised[0] == truth[0], spearman(advised, truth)))
    return rows
