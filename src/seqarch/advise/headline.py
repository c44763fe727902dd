r"""The advice's headline: a classical peer first when it wins.

A peer (seqarch.peers: MiniRocket, 1-NN DTW, ETS, auto-ETS, …) runs on the same splits as the
sequence models, so each of the protocol's seeds gives one skill for the peer and one for each
model. The peer *wins* when, against every feasible sequence model with quality evidence, the
interval of its per-seed skill difference (``seqarch.rules.paired_difference``: a paired
Student-t interval; Welch's where the seeds do not match) lies above zero and is not within
the advisor's margin of it (``rules.compare(…, EQUIVALENT_SKILL) == "better"``). Then the
headline says so before anything else,

    minirocket (not a sequence model): accuracy 0.912, skill 0.90 ± 0.03; the best sequence
    model, gru: accuracy 0.731, skill 0.70 ± 0.05 (minirocket − gru: +0.20 ± 0.06 skill,
    paired over 3 seeds)

and the recommendation stays the best *sequence* model (what ``--out`` keeps, saying which peer
it lost to). Several winning peers: the one with the highest mean skill is named.
"""

from __future__ import annotations

from typing import Any

from .. import protocol
from ..rules import EQUIVALENT_SKILL, Difference, compare, interval_difference, paired_difference


def peer_row(p: Any) -> dict[str, Any]:
    """A classical peer's figures as the advice's JSON and tables give them."""
    return {
        "peer": p.name,
        "metric": p.metric,
        "value": p.value,
        "skill": p.skill.mean,
        "skill_interval": p.skill.half_width,
        "splits": p.skill.n,
        "source": p.source,
    }


def versus(peer: Any, q: Any) -> Difference:
    """peer − model in skill: paired by seed (split) when both have per-seed skills, else
    Welch's interval from the two marginal intervals."""
    a, b = getattr(peer, "seed_skills", None) or {}, getattr(q, "seed_skills", None) or {}
    if a and b and peer.skill.n == 1:  # one split serves every seed (a series split by time)
        a = dict.fromkeys(b, next(iter(a.values())))
    if a and b:
        return paired_difference(a, b)
    model = protocol.Interval(q.skill.value, q.spread, len(q.run_ids))
    return interval_difference(peer.skill, model, how="unpaired (Welch): no per-seed values")


def peer_win(ranking: list[Any], evidence: dict[str, Any]) -> dict[str, Any] | None:
    """The peer that wins, and the best sequence model it beat (the ranking's first with
    quality evidence), or None. A peer wins when the paired interval shows it better than that
    model and no sequence model holds its own against it (none shown as good or better); a
    model the data cannot place (its interval spans the question) does not hide the win — it
    is simply not among those ``beaten``."""
    peers = next((ev.peers for ev in evidence.values() if ev.peers), [])
    models = [v.arch for v in ranking if v.feasible and evidence[v.arch].quality is not None]
    if not peers or not models:
        return None
    best = models[0]
    wins = []
    for p in peers:
        diffs = {a: versus(p, evidence[a].quality) for a in models}
        said = {a: compare(d, EQUIVALENT_SKILL) for a, d in diffs.items()}
        if said[best] == "better" and not any(v in ("worse", "equivalent") for v in said.values()):
            wins.append((p, diffs, sorted(a for a, v in said.items() if v == "better")))
    if not wins:
        return None
    p, diffs, beaten = max(wins, key=lambda w: w[0].skill.mean)
    q, d = evidence[best].quality, diffs[best]
    return {
        **peer_row(p),
        "arch": best,
        "arch_value": q.value,
        "arch_skill": q.skill.value,
        "arch_skill_interval": q.spread,
        "arch_seeds": len(q.run_ids),
        "difference": d.mean,
        "difference_interval": d.half_width,
        "difference_how": d.how,
        "beaten": beaten,  # the sequence models it is shown better than
    }


def _pm(mean: float, half: float, n: int) -> str:
    return f"{mean:.2f}" + (f" ± {half:.2f}" if n > 1 and half == half else "")


def headline(win: dict[str, Any] | None) -> str | None:
    """The line the advice opens with when a classical peer wins (None otherwise)."""
    if not win:
        return None
    m = win["metric"]
    return (
        f"{win['peer']} (not a sequence model): {m} {win['value']:.3g}, skill "
        f"{_pm(win['skill'], win['skill_interval'], win['splits'])}; the best sequence model, "
        f"{win['arch']}: {m} {win['arch_value']:.3g}, skill "
        f"{_pm(win['arch_skill'], win['arch_skill_interval'], win['arch_seeds'])} "
        f"({win['peer']} − {win['arch']}: {win['difference']:+.2f} ± "
        f"{win['difference_interval']:.2f} skill, {win['difference_how']}) "
        f"[{win['source']}]"
    )


def lost_to(win: dict[str, Any] | None, arch: str) -> str | None:
    """For a kept sequence model: the peer it lost to, in one sentence (None if none). No
    square brackets: the CLI prints it through rich, which reads them as markup."""
    if not win or arch not in win["beaten"]:
        return None
    who = f"{arch}, the best sequence model here," if arch == win["arch"] else arch
    return (
        f"{who} lost to the classical peer {win['peer']} ({win['metric']} {win['value']:.3g} on "
        f"the same held-out data, skill {_pm(win['skill'], win['skill_interval'], win['splits'])}; "
        f"{win['source']}): keep it for what a sequence model gives (streaming, a fixed-size "
        "state, one exportable graph)"
    )
