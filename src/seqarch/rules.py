r"""The decision rules: the one copy of skill, margins, "faster", ties, paired differences,
standings and racing. The advisor (advise/decide.py), the trade-off table, the claims ledger
and the report all decide through these functions; a test fails if a second definition of any
of them appears in src/.

Skill puts every metric on one scale, 0 at the task's trivial baseline and 1 at perfect:

    higher is better (accuracy, F1):  skill = (m − b) / (1 − b)
    lower is better (MSE, MASE):      skill = 1 − m / b

Models of one comparison train on the same seeds (the same splits and batch orders), so two
models are compared through the per-seed *difference* of their skills, a paired Student-t
interval  d̄ ± t_{(1+c)/2, n−1} · s_d / √n  over the matched seeds — not through the overlap
of their marginal intervals. Where seeds do not match (one seed, another protocol, a peer on
other splits), the difference falls back to Welch's unpaired interval, and says so.

A model's standing against the best model of its comparison (margin ``EQUIVALENT_SKILL``):

    baseline     its own interval lies below the margin over the baseline
    unresolved   its own interval spans the baseline, or the paired difference to the best
                 straddles −margin (it may or may not be as good: the data cannot tell)
    adequate     the difference's interval lies above −margin: shown as good as the best
    short        the difference's interval lies below −margin: shown worse than the best
    unknown      no quality evidence

"As good" must be shown (a non-inferiority test), not merely "not shown worse": a wide
interval on the best no longer makes every cheaper model adequate. When the decision at the
top is unresolved, the protocol races: it adds seeds to the models in question only, up to
the protocol's cap (:func:`race_targets`, :func:`seqarch.protocol.race_runs`).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from . import protocol

# -- margins and thresholds -----------------------------------------------------------------

EQUIVALENT_SKILL = 0.01
"""The advisor's margin: a skill difference below this (1 % of the way from the baseline to
perfect) is not a reason to pay for a costlier model. Two models at 0.997 and 0.9999 both solve
the task, though their intervals do not touch."""
SKILL_MARGIN = 0.05  # the source's "nearly as effective": within 0.05 skill
SWITCH_MARGIN = 0.25  # steps of accuracy lost per switch: a difference smaller is no difference
ACCURACY_MARGIN = 0.02  # test accuracy: a difference smaller is no difference
SOLVED = 0.9  # skill: an interval whose lower end is at or above this solves the distance
FAILED = 0.5  # skill: an interval whose upper end is below this fails it

EPS = 1e-12  # a difference that equals a margin up to rounding (0.95 − 0.96) meets it

STANDINGS = ("adequate", "unresolved", "short", "baseline", "unknown")


# -- skill ----------------------------------------------------------------------------------


def skill_of(value: float, baseline: float, higher_is_better: bool) -> float:
    """0 at the trivial baseline, 1 at perfect; negative when worse than the baseline.

    Accuracy 0.8 against a chance baseline of 0.2 is (0.8 − 0.2) / (1 − 0.2) = 0.75; MSE 0.04
    against 0.16 is 1 − 0.04 / 0.16 = 0.75; MASE 0.5 against the naive forecast's 1 is 0.5."""
    if higher_is_better:
        return (value - baseline) / (1.0 - baseline) if baseline < 1.0 else 0.0
    return 1.0 - value / baseline if baseline > 0 else 0.0


def skill_text(q: Any) -> str:
    """Skill with its 95 % interval over seeds ("0.90 ± 0.01"; no interval for one seed)."""
    hw = q.spread
    shown = len(q.run_ids) > 1 and math.isfinite(hw)
    return f"{q.skill.value:.2f}" + (f" ± {hw:.2f}" if shown else "")


# -- faster, ties ---------------------------------------------------------------------------


def faster(a: float, a_spread: float | None, b: float, b_spread: float | None) -> str:
    """'faster' / 'slower' when two measured times differ by more than the larger of their
    spreads (across rounds, or the interquartile range of block medians), else 'tie'.
    A difference exactly equal to the spread is a tie."""
    if abs(a - b) <= max(a_spread or 0.0, b_spread or 0.0):
        return "tie"
    return "faster" if a < b else "slower"


def tie(a: float, a_spread: float | None, b: float, b_spread: float | None) -> bool:
    """Two measured times within the larger spread of each other (see :func:`faster`)."""
    return faster(a, a_spread, b, b_spread) == "tie"


# -- differences ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Difference:
    """a − b as mean ± half-width (a Student-t interval); inf half-width: no interval."""

    mean: float
    half_width: float
    n: int  # matched seeds when paired; else the smaller of the two samples
    paired: bool
    how: str  # how it was taken, in words ("paired over 3 matched seeds", "unpaired: …")

    @property
    def lo(self) -> float:
        return self.mean - self.half_width

    @property
    def hi(self) -> float:
        return self.mean + self.half_width

    def text(self, digits: int = 2) -> str:
        if not math.isfinite(self.half_width):
            return f"{self.mean:+.{digits}f} (no interval: {self.how})"
        return f"{self.mean:+.{digits}f} ± {self.half_width:.{digits}f} ({self.how})"


def _welch(
    ma: float, va: float, na: int, mb: float, vb: float, nb: int, confidence: float, how: str
) -> Difference:
    """Welch's interval of a − b from means, sample variances and sizes."""
    n = min(na, nb)
    if na < 2 or nb < 2:
        return Difference(ma - mb, math.inf, n, False, how)
    se2 = va / na + vb / nb
    if se2 == 0:
        return Difference(ma - mb, 0.0, n, False, how)
    dof = se2**2 / ((va / na) ** 2 / (na - 1) + (vb / nb) ** 2 / (nb - 1))
    hw = protocol.t_quantile((1 + confidence) / 2, dof) * math.sqrt(se2)
    return Difference(ma - mb, hw, n, False, how)


def paired_difference(
    a_by_seed: Mapping[int, float],
    b_by_seed: Mapping[int, float],
    confidence: float = 0.95,
) -> Difference:
    """The interval of a − b, paired by seed: d_s = a_s − b_s over the seeds both have,
    d̄ ± t_{(1+c)/2, n−1} · s_d / √n. With fewer than two matched seeds it falls back to
    Welch's unpaired interval over all of each one's values, and ``how`` says so (with one
    value on either side there is no interval at all)."""
    common = sorted(set(a_by_seed) & set(b_by_seed))
    if len(common) >= 2:
        iv = protocol.interval([a_by_seed[s] - b_by_seed[s] for s in common], confidence)
        return Difference(iv.mean, iv.half_width, iv.n, True, f"paired over {iv.n} seeds")
    xs, ys = [float(v) for v in a_by_seed.values()], [float(v) for v in b_by_seed.values()]
    if not xs or not ys:
        raise ValueError("paired_difference needs at least one value on each side")
    how = "unpaired (Welch): " + ("one seed matched" if len(common) == 1 else "no seed matched")
    va = statistics.variance(xs) if len(xs) > 1 else math.nan
    vb = statistics.variance(ys) if len(ys) > 1 else math.nan
    return _welch(
        statistics.fmean(xs), va, len(xs), statistics.fmean(ys), vb, len(ys), confidence, how
    )


def interval_difference(
    a: protocol.Interval, b: protocol.Interval, confidence: float = 0.95, how: str = ""
) -> Difference:
    """Welch's interval of a − b from two marginal t intervals (when no per-seed values are
    known): the sample variance is read back from each half-width."""

    def var(iv: protocol.Interval) -> float:
        if iv.n < 2 or not math.isfinite(iv.half_width):
            return math.nan
        se = iv.half_width / protocol.t_quantile((1 + confidence) / 2, iv.n - 1)
        return se * se * iv.n

    how = how or "unpaired (Welch): no per-seed values"
    return _welch(a.mean, var(a), a.n, b.mean, var(b), b.n, confidence, how)


def difference(a: Any, b: Any, confidence: float = 0.95) -> Difference:
    """a − b for two qualities (skill per seed, ``seed_skills``): paired by seed when both
    come from one protocol and share at least two seeds, else Welch's unpaired interval."""
    sa, sb = getattr(a, "seed_skills", None) or {}, getattr(b, "seed_skills", None) or {}
    same = getattr(a, "protocol", None) == getattr(b, "protocol", None)
    if sa and sb and same and len(set(sa) & set(sb)) >= 2:
        return paired_difference(sa, sb, confidence)
    why = (
        "another protocol"
        if sa and sb and not same
        else "fewer than two matched seeds"
        if sa and sb
        else "no per-seed values"
    )
    ia = protocol.Interval(a.skill.value, a.spread, len(a.run_ids))
    ib = protocol.Interval(b.skill.value, b.spread, len(b.run_ids))
    return interval_difference(ia, ib, confidence, f"unpaired (Welch): {why}")


def compare(d: Difference, margin: float) -> str:
    """a against b from the interval of a − b: 'equivalent' (the interval lies within
    ±margin: a difference too small to matter, measured precisely enough to say so), else
    'better' (above 0), 'worse' (below 0), or 'unresolved' (it spans 0)."""
    if -margin - EPS <= d.lo and d.hi <= margin + EPS:
        return "equivalent"
    if d.lo > 0:
        return "better"
    if d.hi < 0:
        return "worse"
    return "unresolved"


# -- standings ------------------------------------------------------------------------------


def clears_baseline(q: Any) -> bool:
    """The skill interval clears the baseline: narrower than its distance from it."""
    return q.spread < abs(q.skill.value)


def adequacy(q: Any, best: Any, margin: float = EQUIVALENT_SKILL) -> str:
    """The standing of ``q`` against ``best`` (the best model of the comparison), from the
    paired difference q − best (see the module docstring), checked in this order: 'unknown'
    (no evidence), 'baseline' (its whole interval below ``margin``), 'short' (the difference
    lies below −margin), 'unresolved' (its interval spans the baseline, or the difference
    straddles −margin), 'adequate' (the difference lies above −margin; the best itself is
    adequate once its interval clears the baseline)."""
    if q is None or best is None:
        return "unknown"
    if q.skill.value + q.spread < margin - EPS:  # the whole interval at (or below) the baseline
        return "baseline"
    if q is best:
        return "adequate" if clears_baseline(q) else "unresolved"
    shown = against_margin(difference(q, best), margin)
    if shown == "short":  # shown worse than the best, whatever its own interval
        return "short"
    return shown if clears_baseline(q) else "unresolved"


def against_margin(d: Difference, margin: float = EQUIVALENT_SKILL) -> str:
    """A difference to the best against the margin: 'adequate' (its interval's lower end at or
    above −margin), 'short' (its upper end below −margin), else 'unresolved'."""
    if d.lo >= -margin - EPS:
        return "adequate"
    if d.hi < -margin - EPS:
        return "short"
    return "unresolved"


def standing(q: Any) -> str:
    """A quality against the fixed thresholds (the claims' rule): 'solves' (lower end ≥
    SOLVED), 'fails' (upper end < FAILED), 'short' (upper end < SOLVED), else 'unresolved'
    (one seed, an interval that straddles SOLVED, or a run the wall-clock safety net stopped:
    never converged evidence)."""
    if not math.isfinite(q.spread) or q.stopped_by_time:
        return "unresolved"
    if q.lo >= SOLVED - EPS:
        return "solves"
    if q.hi < FAILED - EPS:
        return "fails"
    return "short" if q.hi < SOLVED - EPS else "unresolved"


def solved_part(q: Any) -> str:
    """A claim that the model is good enough at a distance: holds / breaks / unresolved."""
    return {"solves": "holds", "unresolved": "unresolved"}.get(standing(q), "breaks")


# -- incomplete -----------------------------------------------------------------------------


def combine(verdicts: list[str | None]) -> str:
    """A claim's verdict from its parts' (None: a part not measured): 'missing' when none is
    measured; 'incomplete' when some are not (never holds / breaks / depends on a part that
    was not measured); else 'unresolved' if any part is, 'holds' / 'breaks' when all agree,
    'depends' when they disagree."""
    judged = [v for v in verdicts if v is not None]
    if not judged:
        return "missing"
    if len(judged) < len(verdicts):
        return "incomplete"
    return so_far(judged)


def so_far(judged: list[str]) -> str:
    """What the measured parts say together."""
    if "unresolved" in judged:
        return "unresolved"
    if all(v == "holds" for v in judged):
        return "holds"
    if all(v == "breaks" for v in judged):
        return "breaks"
    return "depends"


def incomplete_text(verdicts: list[str | None]) -> str:
    """'incomplete: k of n parts measured (holds so far)'."""
    judged = [v for v in verdicts if v is not None]
    said = f"incomplete: {len(judged)} of {len(verdicts)} parts measured"
    return f"{said} ({so_far(judged)} so far)" if judged else said


# -- racing ---------------------------------------------------------------------------------


def race_targets(
    standings: Mapping[str, str], cheaper_than_winner: list[str], best: str
) -> list[str]:
    """The models in question when the decision at the top is unresolved: every model cheaper
    than the winner whose standing is 'unresolved' (it may be as good, and would then win), and
    the best model they are compared against. Empty when the top is resolved."""
    doubt = [a for a in cheaper_than_winner if standings.get(a) == "unresolved"]
    return doubt + [best] if doubt else []
