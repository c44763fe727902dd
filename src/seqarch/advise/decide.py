"""Verdicts and the ranking: pure functions of the spec and the evidence."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from ..rules import (
    Difference,
    adequacy,
    difference,
    race_targets,
    skill_text,
    tie,
)
from .evidence import Evidence, Figure, fmt
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
    versus_best: Difference | None = None  # skill − the best model's (paired by seed)
    versus_runner_up: Difference | None = None  # the winner only: skill − the runner-up's

    def to_dict(self) -> dict[str, Any]:
        return {
            "arch": self.arch,
            "feasible": self.feasible,
            "adequate": self.adequate,
            "standing": self.standing,
            "decided_by": self.decided_by,
            "versus_best": None if self.versus_best is None else self.versus_best.text(3),
            "versus_runner_up": None
            if self.versus_runner_up is None
            else self.versus_runner_up.text(3),
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
    rf = ev.receptive_field
    if rf is not None:
        # y_t depends on x_{t−R+1} … x_t only: a signal further back is out of reach, whatever
        # the training. (An unknown horizon is taken as the whole sequence.)
        sources.append(rf.source)
        back = spec.effective_horizon
        ok = back < rf.value
        reasons.append(
            f"it sees {rf.value:.0f} steps back (its receptive field) — "
            f"{'enough for' if ok else 'short of'} a signal {back} steps back"
        )
        if not ok:
            blocked.append("receptive_field")
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
    elif spec.train_minutes is not None:
        unknown.append("training_budget")
        reasons.append("training time not measured here (no stored runs at this horizon)")
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
    """The latencies that matter for ``spec`` tie by :func:`seqarch.rules.tie`."""
    la, lb = _latency(spec, a), _latency(spec, b)
    if la is None or lb is None:
        return False
    return tie(la.value, la.spread, lb.value, lb.spread)


BUDGETS = (("latency_us", "latency"), ("memory_mb", "memory"), ("train_minutes", "training_budget"))


def measured_parts(spec: ProblemSpec, v: Verdict) -> tuple[int, int]:
    """How many of the spec's budgets were measured for ``v``, of how many the spec sets."""
    parts = [name for budget, name in BUDGETS if getattr(spec, budget) is not None]
    return len([p for p in parts if p not in v.unknown]), len(parts)


def deployable(arch: str) -> bool:
    """A standard ONNX operator (RNN, LSTM, GRU) rather than a custom graph."""
    from ..models import model_class

    return bool(model_class(arch).onnx_standard_op)


TIE_BREAKS = ("skill", "deployability", "parameter count")


def order_adequate(spec: ProblemSpec, evs: list[Evidence]) -> tuple[list[Evidence], str | None]:
    """The adequate models, best first, and what decided the first place.

    Repeatedly: the cheapest remaining model and every model whose latency ties with it
    (within the measured spread, :func:`seqarch.rules.tie`) form a tie group; its first is the
    one left after keeping the best skill (not shown below the best by the paired difference),
    then a standard ONNX operator, then the fewest parameters. ``decided``: "cost" when the
    cheapest stood alone, else the tie-break that left one model."""
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
    """The models not shown below the group's best mean skill by their paired difference to
    it (every one of them is adequate, within EQUIVALENT_SKILL of the best: this asks only
    whether one is measurably better)."""
    top = max(evs, key=lambda e: e.quality.skill.value)
    return [e for e in evs if e is top or difference(e.quality, top.quality).hi >= 0]


def _deployable(evs: list[Evidence]) -> list[Evidence]:
    return [e for e in evs if deployable(e.arch)] or evs


def _fewest_params(evs: list[Evidence]) -> list[Evidence]:
    return [min(evs, key=lambda e: e.params.value)]


TIE_STAGES = (
    ("skill", _best_skill),
    ("deployability", _deployable),
    ("parameter count", _fewest_params),
)


def rank(spec: ProblemSpec, evidence: dict[str, Evidence]) -> list[Verdict]:
    """The one decision rule (the report and ``advise --table`` call it too), with the standings
    of :mod:`seqarch.rules`:

    1. feasible before infeasible;
    2. among the feasible, the *adequate* — shown, by the paired difference of skill to the
       best feasible model, to be within ``EQUIVALENT_SKILL`` of it, and clear of the baseline —
       cheapest first (a latency tie breaks by skill, deployability, parameters:
       :func:`order_adequate`);
    3. then the rest by skill (unresolved and short alike), then by cost;
    4. then the infeasible, fewest budgets missed first.
    """
    verdicts = {arch: verdict(spec, ev) for arch, ev in evidence.items()}
    feasible = [a for a, v in verdicts.items() if v.feasible]
    skills = {
        a: evidence[a].quality.skill.value for a in evidence if evidence[a].quality is not None
    }
    top = best_of(feasible, evidence)
    best = evidence[top].quality if top is not None else None
    for a in feasible:
        q = evidence[a].quality
        verdicts[a].standing = adequacy(q, best)
        verdicts[a].adequate = verdicts[a].standing == "adequate"
        if q is not None and best is not None and a != top:
            verdicts[a].versus_best = difference(q, best)
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
    out = [verdicts[a] for a in adequate + others + infeasible]
    w, r = (evidence[v.arch].quality for v in out[:2]) if len(out) > 1 else (None, None)
    if w is not None and r is not None:
        out[0].versus_runner_up = difference(w, r)
    return out


def best_of(feasible: list[str], evidence: dict[str, Evidence]) -> str | None:
    """The feasible model with the highest mean skill (None: no quality evidence)."""
    known = [a for a in feasible if evidence[a].quality is not None]
    return max(known, key=lambda a: evidence[a].quality.skill.value) if known else None


def in_question(
    spec: ProblemSpec, ranking: list[Verdict], evidence: dict[str, Evidence]
) -> list[str]:
    """When the decision at the top is unresolved, the models in question (those racing adds
    seeds to, :func:`seqarch.rules.race_targets`): every feasible model cheaper than the winner
    whose paired difference to the best straddles the margin (its own interval clear of the
    baseline), and the best. Empty: resolved."""
    winner = ranking[0]
    if not winner.feasible:
        return []
    feasible = [v.arch for v in ranking if v.feasible]
    best = best_of(feasible, evidence)
    if best is None:
        return []
    cheaper = [  # unresolved by the paired difference alone: its own interval clears baseline
        a
        for a in feasible
        if a != winner.arch
        and cost_key(spec, evidence[a]) < cost_key(spec, evidence[winner.arch])
        and evidence[a].quality is not None
        and evidence[a].quality.resolved
    ]
    return race_targets({v.arch: v.standing for v in ranking}, cheaper, best)


def key_reason(spec: ProblemSpec, ranking: list[Verdict], evidence: dict[str, Evidence]) -> str:
    """The one reason that decided it, as a category (KEY_REASONS), only from evidence: a
    budget whose removal would change the answer; else, with no quality evidence, cost alone;
    else the data, a tie, the dependency length (a cheaper model was shown short), the
    evidence (a cheaper model may be as good: unresolved), or the short horizon (the cheapest
    model is shown good enough)."""
    winner = ranking[0]
    for budget, reason in BUDGETS:
        if getattr(spec, budget) is not None:
            if winner_under(spec, evidence, **{budget: None}) != winner.arch:
                return reason
    if all(evidence[v.arch].quality is None for v in ranking):
        return "cost"
    if spec.data is not None:
        return "data"
    if winner.decided_by in TIE_BREAKS:
        return "tie"
    cheaper = [
        v
        for v in ranking[1:]
        if v.feasible and cost_key(spec, evidence[v.arch]) < cost_key(spec, evidence[winner.arch])
    ]
    if any(v.standing in ("short", "baseline") for v in cheaper):
        return "long_range"
    if not winner.adequate or any(not v.adequate for v in cheaper):
        return "unresolved"
    # the winner is the cheapest good-enough model outright: for a stream that is its step
    # latency; for whole sequences, the signal is close enough that nothing costlier is needed
    return "latency" if spec.streaming else "short_range"


def winner_under(spec: ProblemSpec, evidence: dict[str, Evidence], **change: Any) -> str | None:
    """The recommendation if the spec were changed by ``change`` (None: nothing feasible)."""
    from dataclasses import replace

    top = rank(replace(spec, **change), evidence)[0]
    return top.arch if top.feasible else None
