"""Verdicts and the ranking: pure functions of the spec and the evidence."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from .evidence import Evidence, Figure, Quality, fmt, skill_text
from .spec import ProblemSpec


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
    standing: str = "unknown"  # adequate | unresolved | short | baseline | unknown (adequacy)
    decided_by: str | None = None  # the winner over the runner-up: cost, or a tie-break

    def to_dict(self) -> dict[str, Any]:
        return {
            "arch": self.arch,
            "feasible": self.feasible,
            "adequate": self.adequate,
            "standing": self.standing,
            "decided_by": self.decided_by,
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
            reasons.append(ev.not_timed or f"latency of {what} not measured on this machine")
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
        sources.extend(f"run:{i}" for i in ev.quality.run_ids)
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
        sources.extend(f"run:{i}" for i in q.run_ids)
        expected = {
            "skill": round(q.skill.value, 4),
            "skill_spread": round(q.spread, 4) if math.isfinite(q.spread) else None,
            "lr": q.lr,
            "protocol": q.protocol,
            "stopped_by_time": q.stopped_by_time,
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
            f"{len(q.run_ids)} seed{'s' if len(q.run_ids) != 1 else ''}"
            + (f", lr {q.lr:g} selected on validation" if q.lr is not None else "")
            + ")"
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


def _latency(spec: ProblemSpec, ev: Evidence) -> Figure | None:
    return ev.step_us if spec.streaming else ev.seq_us


def latency_tie(spec: ProblemSpec, a: Evidence, b: Evidence) -> bool:
    """Two measured latencies closer than their spread across rounds are a tie."""
    la, lb = _latency(spec, a), _latency(spec, b)
    if la is None or lb is None:
        return False
    return abs(la.value - lb.value) < max(la.spread, lb.spread)


def deployable(arch: str) -> bool:
    """A standard ONNX operator (RNN, LSTM, GRU) rather than a custom graph."""
    from ..models import model_class

    return bool(model_class(arch).onnx_standard_op)


EQUIVALENT_SKILL = 0.01
"""Skill differences below this (1 % of the way from the baseline to perfect) are not a reason
to pay for a costlier model: two models at skill 0.997 ± 0.0003 and 0.9999 ± 0.00005 both solve
the task, though their intervals do not touch. It widens the overlap test by this much, never
an interval that spans the baseline (those are 'unresolved' first)."""


TIE_BREAKS = ("skill", "deployability", "parameter count")


def order_adequate(spec: ProblemSpec, evs: list[Evidence]) -> tuple[list[Evidence], str | None]:
    """The adequate models, best first, and what decided the first place.

    Repeatedly: the cheapest remaining model and every model whose latency ties with it
    (closer than the measured spread) form a tie group; its first is the one left after
    keeping the best skill (within ``EQUIVALENT_SKILL``), then a standard ONNX operator, then
    the fewest parameters. ``decided``: "cost" when the cheapest stood alone, else the
    tie-break that left one model."""
    rest = sorted(evs, key=lambda e: cost_key(spec, e))
    out: list[Evidence] = []
    decided: str | None = None
    while rest:
        cheapest = rest[0]
        group = [e for e in rest if e is cheapest or latency_tie(spec, cheapest, e)]
        why = "cost"
        if len(group) > 1:
            for name, keep in TIE_STAGES:
                kept = keep(group)
                if len(kept) < len(group):
                    why = name
                group = kept
                if len(group) == 1:
                    break
        first = group[0]
        if decided is None:
            decided = why
        out.append(first)
        rest.remove(first)
    return out, decided


def _best_skill(evs: list[Evidence]) -> list[Evidence]:
    """The models whose skill is within EQUIVALENT_SKILL of the group's best."""
    best = max(e.quality.skill.value for e in evs)
    return [e for e in evs if e.quality.skill.value >= best - EQUIVALENT_SKILL]


def _deployable(evs: list[Evidence]) -> list[Evidence]:
    return [e for e in evs if deployable(e.arch)] or evs


def _fewest_params(evs: list[Evidence]) -> list[Evidence]:
    return [min(evs, key=lambda e: e.params.value)]


TIE_STAGES = (
    ("skill", _best_skill),
    ("deployability", _deployable),
    ("parameter count", _fewest_params),
)


def adequacy(q: Quality | None, best: Quality | None) -> str:
    """'baseline' (its whole interval lies within ``EQUIVALENT_SKILL`` of the baseline or below:
    resolved, and no better than it), 'adequate' (its interval overlaps the best model's — within
    ``EQUIVALENT_SKILL`` — and clears the baseline),
    'unresolved' (its interval is wider than its distance from the baseline), 'short' (clearly
    below the best) or 'unknown' (no evidence)."""
    if q is None or best is None:
        return "unknown"
    if q.hi < EQUIVALENT_SKILL:  # the whole interval sits at (or below) the baseline
        return "baseline"
    if not q.resolved:
        return "unresolved"
    return "adequate" if q.hi >= best.lo - EQUIVALENT_SKILL else "short"


def rank(spec: ProblemSpec, evidence: dict[str, Evidence]) -> list[Verdict]:
    """The one decision rule (the report and ``advise --table`` call it too):

    1. feasible before infeasible;
    2. among the feasible, the *adequate* — skill interval overlapping the best model's, and
       clear of the baseline — cheapest first (a latency tie breaks by skill, deployability,
       parameters: :func:`order_adequate`);
    3. then the rest by skill (unresolved and short alike), then by cost;
    4. then the infeasible, fewest budgets missed first.
    """
    verdicts = {arch: verdict(spec, ev) for arch, ev in evidence.items()}
    feasible = [a for a, v in verdicts.items() if v.feasible]
    skills = {
        a: evidence[a].quality.skill.value for a in evidence if evidence[a].quality is not None
    }
    known = [a for a in feasible if a in skills]
    best = evidence[max(known, key=lambda a: skills[a])].quality if known else None
    for a in feasible:
        verdicts[a].standing = adequacy(evidence[a].quality, best)
        verdicts[a].adequate = verdicts[a].standing == "adequate"
    ordered, decided = order_adequate(spec, [evidence[a] for a in feasible if verdicts[a].adequate])
    adequate = [e.arch for e in ordered]
    if len(adequate) > 1:
        verdicts[adequate[0]].decided_by = decided
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
    if winner.decided_by in TIE_BREAKS:
        return "tie"
    cheaper = [
        v
        for v in ranking[1:]
        if v.feasible and cost_key(spec, evidence[v.arch]) < cost_key(spec, evidence[winner.arch])
    ]
    if any(not v.adequate for v in cheaper):
        return "long_range"
    # the winner is the cheapest good-enough model outright: for a stream that is its step
    # latency; for whole sequences, the signal is close enough that nothing costlier is needed
    return "latency" if spec.streaming else "short_range"


def winner_under(spec: ProblemSpec, evidence: dict[str, Evidence], **change: Any) -> str | None:
    """The recommendation if the spec were changed by ``change`` (None: nothing feasible)."""
    from dataclasses import replace

    top = rank(replace(spec, **change), evidence)[0]
    return top.arch if top.feasible else None
