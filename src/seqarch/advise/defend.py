"""The recommendation and its defense: flips, misunderstandings, the prose."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ..errors import BadInput
from ..rules import EQUIVALENT_SKILL, adequacy, incomplete_text, skill_text
from .decide import (
    Verdict,
    cost_key,
    in_question,
    key_reason,
    measured_parts,
    rank,
    winner_under,
)
from .evidence import Evidence, Quality, fmt
from .spec import ProblemSpec


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
    confidence_basis: str = ""  # what the label rests on: seeds, runs, intervals, time stops
    peers: list[dict] = field(default_factory=list)  # classical peers on the same splits
    signal_lag: dict | None = None  # --data, unknown horizon: how far back, measured (lag.py)
    proxy: dict | None = None  # without data: the task quality was measured on (proxy.py)
    peer_win: dict | None = None  # a classical peer that beats every sequence model (headline)
    raced: dict | None = None  # what racing seeds did (seqarch.protocol.Race), if it ran

    def to_dict(self) -> dict[str, Any]:
        return {
            "spec": self.spec.to_dict(),
            "recommendation": self.recommendation,
            "runner_up": self.runner_up,
            "key_reason": self.key_reason,
            "confidence": self.confidence,
            "confidence_basis": self.confidence_basis,
            "peers": list(self.peers),
            "signal_lag": self.signal_lag,
            "proxy": self.proxy,
            "peer_win": self.peer_win,
            "raced": self.raced,
            "ranking": [v.to_dict() for v in self.ranking],
            "flips": list(self.flips),
            "caveats": list(self.caveats),
            "misunderstandings": list(self.misunderstandings),
            "defense": self.defense,
            "missing_evidence": list(self.missing_evidence),
        }


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
            if new is not None and new != winner.arch and lat(evidence[new]) is not None:
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
                else f"{new} might, but its latency was not measured here"
                if lat(evidence[new]) is None
                else f"{new} would win"
                if q is None or (q.resolved and q.skill.value > 0)
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
            and v.standing in ("short", "baseline")
            and cost_key(spec, evidence[v.arch]) < cost_key(spec, winner)
        ]
        if short:
            c = evidence[short[0]]
            fits = [
                h
                for h, q in c.by_horizon.items()
                if h < w_q.horizon
                and h in winner.by_horizon
                and adequacy(q, winner.by_horizon[h]) == "adequate"
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
        note = "“Dropout alone prevents overfitting” — "
        abl = next((e.ablation for e in evidence.values() if e.ablation), None)
        if abl is None:
            note += (
                "the source's advice is to combine it with gradient clipping, layer "
                "normalisation and temporal augmentation; `seqarch study --preset ablation` "
                "measures whether that holds on a small real UCR set here."
            )
        else:
            alone, both = abl["dropout_only"], abl["combined"]
            measured = (
                f"measured on {abl['dataset']}: test {abl['metric']} {alone['mean']:.3f} with "
                f"dropout alone against {both['mean']:.3f} with dropout + clipping + layer norm "
                f"+ temporal augmentation ({alone['n']} vs {both['n']} runs) "
                f"[run:{alone['ids'][0][:8]}, run:{both['ids'][0][:8]}, …]"
            )
            if both["mean"] > alone["mean"]:
                note += f"right, {measured}: dropout alone left accuracy on the table."
            else:
                note += (
                    f"the source's cure did not hold here, {measured}: on a small set and a "
                    "short schedule the extra regularisation slowed fitting more than it "
                    "curbed overfitting. Validate the recipe on your data rather than assume it."
                )
        notes.append(note)
    return notes


REASON_TEXT = {
    "latency": "latency — the budget, or the fastest step among the models good enough here",
    "memory": "the memory budget — a better model's state or weights do not fit",
    "training_budget": "the training budget — a better model does not train in time here",
    "long_range": "the dependency length — cheaper models fall short at this distance",
    "short_range": "the signal is close — the cheapest model is good enough",
    "unresolved": "the evidence cannot yet tell — a cheaper model may be as good (its paired "
    "difference to the best straddles the margin, or it was not measured), so the best "
    "measured model is ranked first",
    "cost": "cost alone — no quality evidence is stored, so no model is known to be good enough "
    "and the ranking gives no quality reason",
    "data": "your data — the architectures were trained and compared on it",
    "tie": "a tie — good-enough models whose latencies are within their measured spread; the "
    "runner-up line says what broke it",
}


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
        on = (
            f"On {w.proxy.task} — {w.proxy.words}, the signal up to {q.horizon} steps back; "
            f"{w.proxy.why} —"
            if w.proxy is not None and w.proxy.real
            else f"On {q.task} with the signal {q.horizon} steps back,"
        )
        head += (
            f" {on} {w.arch} reached {q.metric} "
            f"{q.value:.3g} against the trivial baseline's {q.baseline:.3g} — skill "
            f"{skill_text(q)} ({_interval_words(q)}) "
            f"[run:{', run:'.join(r[:8] for r in q.run_ids)}]."
        )
        if q.origin is not None:
            head += (
                f" These runs come from seqarch's shipped evidence base ({q.origin}): quality "
                "travels between machines; every timing here was measured on this one."
            )
    if w.proxy is not None and not w.proxy.real:
        head += f" The adding problem stands in for this problem: {w.proxy.why}."
    fallen = sorted(
        (
            evidence[v.arch]
            for v in ranking
            if evidence[v.arch].quality is not None
            and v.standing in ("short", "baseline")
            and v.feasible
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
        decided = ranking[0].decided_by
        why = _runner_up_words(spec, w, runner, rv, decided)
        paras.append(f"Runner-up: {runner.arch} — {why} ({'; '.join(rv.reasons[:2])}).")
    if flip_notes:
        paras.append("When the answer would flip: " + " ".join(flip_notes))
    paras.append(f"Deciding reason: {REASON_TEXT[reason]}.")
    return "\n\n".join(paras)


def _runner_up_words(
    spec: ProblemSpec, w: Evidence, runner: Evidence, rv: Verdict, decided: str | None
) -> str:
    """Why the runner-up is not first, from its standing (seqarch.rules) and the budgets."""
    d = rv.versus_best
    if rv.blocked_by == ["receptive_field"]:
        return _miss(rv)  # it cannot see the signal: say how far it sees
    if rv.blocked_by:
        return f"it misses the {', '.join(rv.blocked_by)} budget"
    if rv.adequate and decided not in (None, "cost"):
        return _tie_words(spec, w, runner, decided)
    if rv.adequate:
        return (
            f"as good by the paired difference of skill (within {EQUIVALENT_SKILL:g} of the "
            "best), but it costs more"
        )
    if rv.standing == "unknown":
        return "no quality evidence for it" + (
            ", and it costs more" if cost_key(spec, w) <= cost_key(spec, runner) else ""
        )
    if rv.standing == "unresolved" and d is not None and runner.quality.resolved:
        return (
            f"its paired difference to the best, {d.text()}, straddles −{EQUIVALENT_SKILL:g}: "
            "it may be as good, and more seeds would tell"
        )
    if rv.standing == "unresolved":
        return "its interval is wider than its distance from the baseline: unresolved"
    if rv.standing == "baseline":
        return "its interval sits at the baseline: it does not learn this at that distance"
    if cost_key(spec, runner) < cost_key(spec, w):
        return "it is cheaper but not good enough at this distance" + (
            f": its difference to the best is {d.text()}" if d is not None else ""
        )
    return "it scores lower"


def peer_verdict(
    ranking: list[Verdict], evidence: dict[str, Evidence]
) -> tuple[list[dict], str | None]:
    """The classical peers beside the neural models, and what they say about the winner: if
    no neural model beats the best peer beyond the interval of their paired difference
    (seqarch.advise.headline.versus), say so and name it."""
    from ..rules import EQUIVALENT_SKILL as margin
    from ..rules import compare
    from .headline import peer_row, versus

    peers = next((ev.peers for ev in evidence.values() if ev.peers), [])
    if not peers:
        return [], None
    rows = [peer_row(p) for p in peers]
    best = max(peers, key=lambda p: p.skill.mean)
    beat = [
        v.arch
        for v in ranking
        if v.feasible
        and evidence[v.arch].quality is not None
        and compare(versus(best, evidence[v.arch].quality), margin) == "worse"
    ]
    said = (
        f"{best.name} reached {best.metric} {best.value:.3g} (skill {best.skill.mean:.2f}"
        + (f" ± {best.skill.half_width:.2f}" if best.skill.n > 1 else "")
        + f" over {best.skill.n} split(s)) [{best.source}]"
    )
    if not beat:
        return rows, (
            f"No neural model beats the classical peer {best.name} beyond the paired interval: "
            f"{said}. "
            f"On this data {best.name} is the honest choice unless a neural model's other "
            "strengths (streaming, a fixed-size state, one exportable graph) are what you need."
        )
    return rows, (
        f"{', '.join(beat)} beat the best classical peer beyond the paired interval: {said}."
    )


def _interval_words(q: Quality) -> str:
    """How the skill was measured: the protocol, the selected lr, the interval."""
    n = len(q.run_ids)
    if n < 2:
        return "1 seed: no interval"
    words = f"95 % interval over {n} seeds"
    if q.protocol:
        words += (
            f"; lr {q.lr:g} selected on validation from {q.tuning_runs} runs under "
            f"protocol {q.protocol}"
        )
    if q.stopped_by_time:
        words += f"; {q.stopped_by_time} run(s) stopped by the time limit, not converged"
    return words


def _tie_words(spec: ProblemSpec, w: Evidence, r: Evidence, decided: str) -> str:
    """The runner-up's latency ties the winner's: say so, and what broke the tie."""
    lw = w.step_us if spec.streaming else w.seq_us
    lr = r.step_us if spec.streaming else r.seq_us
    assert lw is not None and lr is not None
    broke = {
        "skill": f"by skill ({w.quality.skill.value:.2f} vs {r.quality.skill.value:.2f})"
        if w.quality and r.quality
        else "by skill",
        "deployability": f"by deployability ({w.arch} exports as a standard ONNX operator)",
        "parameter count": f"by parameter count ({w.params.text()} vs {r.params.text()})",
    }.get(decided, decided)
    return (
        f"as good, and its latency ({lr.text()}) ties the winner's ({lw.text()}) within the "
        f"measured spread across rounds (±{fmt(max(lw.spread, lr.spread), 'µs')}); the tie was "
        f"broken {broke}"
    )


def confidence_of(
    spec: ProblemSpec, ranking: list[Verdict], evidence: dict[str, Evidence], missing: list[str]
) -> tuple[str, str]:
    """The confidence label and what it rests on. "high" needs the winner's skill measured
    under a protocol over ≥ 3 seeds, its interval clear of the baseline, no run of it stopped
    by time and no missing evidence; it never stands over an interval that spans the baseline."""
    q = evidence[ranking[0].arch].quality
    if q is None:
        return "low", "no quality evidence: the ranking rests on cost alone"
    basis = [
        f"{len(q.run_ids)} seed(s)"
        + (
            f" at the lr selected from {q.tuning_runs} runs under {q.protocol}"
            if q.protocol
            else ""
        )
    ]
    if not q.resolved:
        basis.append(
            f"the winner's interval ({skill_text(q)}) spans the baseline: its skill is unresolved"
        )
        return "low", "; ".join(basis)
    if not any(v.adequate for v in ranking):
        basis.append("no model's interval clears the baseline and reaches the best one's")
        return "low", "; ".join(basis)
    basis.append(f"the winner's interval ({skill_text(q)}) is clear of the baseline")
    r = ranking[0].versus_runner_up
    if r is not None:
        basis.append(f"winner − runner-up {r.text()}")
    downgrade = []
    doubt = in_question(spec, ranking, evidence)
    if doubt:
        downgrade.append(
            f"unresolved at the top: {', '.join(a for a in doubt[:-1])} may be as good as "
            f"{doubt[-1]} (the paired difference straddles the margin)"
        )
    if q.stopped_by_time:
        downgrade.append(f"{q.stopped_by_time} of its runs stopped by time (not converged)")
    if len(q.run_ids) < 3:
        downgrade.append("fewer than 3 seeds")
    if not q.protocol:
        downgrade.append("runs made without the fair protocol")
    if missing:
        downgrade.append(f"{len(missing)} piece(s) of evidence missing")
    if q.horizon < spec.effective_horizon:
        downgrade.append(f"measured at distance {q.horizon}, short of {spec.effective_horizon}")
    basis += downgrade
    return ("medium" if downgrade else "high"), "; ".join(basis)


def _sentence(s: str) -> str:
    return s[:1].upper() + s[1:] + "."


def _miss(v: Verdict) -> str:
    """The reason a model is out: the budget it goes over, or the signal it cannot reach."""
    missed = (r for r in v.reasons if " over " in r or " short of " in r)
    return next(missed, f"it misses the {', '.join(v.blocked_by)} budget")


def infeasible_message(spec: ProblemSpec, ranking: list[Verdict]) -> str:
    """One line: no architecture meets the budgets, and by how much the closest one misses."""
    misses = "; ".join(f"{v.arch}: {_miss(v)}" for v in ranking[:3])
    return (
        "no architecture meets this spec's budgets on this machine (" + misses + "); expected a "
        "looser latency/memory/training budget or a smaller --hidden-size"
    )


def recommend(
    spec: ProblemSpec, evidence: dict[str, Evidence], raced: Any = None
) -> Recommendation:
    """The whole decision from evidence already gathered (pure; what the tests drive);
    ``raced``: what racing seeds did before it (seqarch.protocol.Race), said in the advice."""
    if not evidence:
        raise BadInput("no architectures to rank; expected at least one in seqarch.models")
    ranking = rank(spec, evidence)
    reason = key_reason(spec, ranking, evidence)
    missing = []
    for arch, ev in evidence.items():
        if ev.quality is None:
            missing.append(f"{arch}: no stored training runs near horizon {spec.effective_horizon}")
        if spec.latency_us is not None and (ev.step_us if spec.streaming else ev.seq_us) is None:
            missing.append(f"{arch}: latency not measured on this machine")
    if not any(v.feasible for v in ranking):
        raise BadInput(infeasible_message(spec, ranking))
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
    confidence, basis = confidence_of(spec, ranking, evidence, missing)
    peer_rows, peer_note = peer_verdict(ranking, evidence)
    from .headline import peer_win

    won = peer_win(ranking, evidence)
    if peer_note is not None:
        caveats.insert(0, peer_note)
        if confidence == "high" and "No neural model" in peer_note:
            confidence, basis = "medium", basis + "; a classical peer is not beaten"
    if not qs:
        caveats.append(
            "No quality evidence is stored: the ranking rests on cost alone. `seqarch advise "
            "--measure` trains it here."
        )
    if raced is not None and (raced.rounds or raced.out_of_time):
        caveats.append(
            f"The decision at the top was unresolved at the protocol's seeds: {raced.text()} "
            f"(the models in question only)."
        )
        basis += f"; {raced.text()}"
    flip_notes = flips(spec, ranking, evidence)
    proxy = next((ev.proxy for ev in evidence.values() if ev.proxy is not None), None)
    return Recommendation(
        proxy=None if proxy is None else proxy.to_dict(),
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
        confidence_basis=basis,
        peers=peer_rows,
        peer_win=won,
        raced=None if raced is None else asdict(raced),
    )


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
                "feasible": _feasible_text(rec.spec, v),
                "skill": "—"
                if "skill" not in e
                else f"{e['skill']:.2f}"
                + (f" ± {e['skill_spread']:.2f}" if e.get("skill_spread") is not None else "")
                + (" ?" if v.standing == "unresolved" else ""),
                "latency": "—" if lat is None else fmt(lat, "µs"),
                "params": fmt(v.cost["params"], "params"),
                "state": fmt(v.cost["state_bytes"], "B")
                + (" KV" if v.cost["state_grows_with_T"] else ""),
            }
        )
    return rows


def _feasible_text(spec: ProblemSpec, v: Verdict) -> str:
    """'yes', 'no: latency', or — a budget not measured — never 'yes' but 'incomplete: k of n
    parts measured (holds so far)' (seqarch.rules.incomplete_text)."""
    if not v.feasible:
        return "no: " + ", ".join(v.blocked_by)
    k, n = measured_parts(spec, v)
    if k < n:
        return incomplete_text(["holds"] * k + [None] * (n - k))
    return "yes"


def peer_rows(rec: Recommendation) -> list[dict[str, str]]:
    """The classical peers as ranking rows (same columns), placed beside the neural models."""
    cols = ranking_rows(rec)[0].keys() if rec.ranking else ()
    out = []
    for p in rec.peers:
        row = dict.fromkeys(cols, "—")
        row.update(
            rank="peer",
            arch=p["peer"],
            feasible="yes",
            skill=f"{p['skill']:.2f}"
            + (f" ± {p['skill_interval']:.2f}" if p["splits"] > 1 else " (1 split)"),
        )
        out.append(row)
    return out


def markdown_table(rec: Recommendation) -> str:
    """The ranking and the classical peers as a Markdown table (the advice, a model card)."""
    rows = ranking_rows(rec) + peer_rows(rec)
    head = "| " + " | ".join(rows[0]) + " |\n|" + "---|" * len(rows[0]) + "\n"
    return head + "".join("| " + " | ".join(r.values()) + " |\n" for r in rows)


def to_markdown(rec: Recommendation) -> str:
    """The advice as a Markdown document."""
    table = markdown_table(rec)
    spec = ", ".join(f"{k}={v}" for k, v in rec.spec.to_dict().items() if v is not None)
    from .headline import headline

    first = headline(rec.peer_win)
    parts = [
        f"# seqarch advice: {first or rec.recommendation}",
        f"Problem: {spec}. Runner-up: {rec.runner_up}. Confidence: {rec.confidence} "
        f"({rec.confidence_basis}).",
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
