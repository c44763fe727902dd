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
   0 = no better than the baseline, 1 = perfect), measured under the fair protocol
   (seqarch.protocol: an lr grid for every model, selection on validation, ≥ 3 seeds) as a
   mean with a 95 % interval. A model is *adequate* when its interval clears the baseline and
   overlaps the best model's; one whose interval is wider than its distance from the baseline
   is *unresolved*.
3. **Cheapest adequate wins.** Among adequate models the cheapest in the budget that matters
   (the measured step latency when streaming, else the measured sequence latency, else
   FLOPs/token) is recommended: the simplest model that does the job. Two latencies closer
   than their measured spread across rounds are a tie, broken by skill, then deployability (a
   standard ONNX operator), then parameter count; the defense says which broke it.

Every figure carries its source — ``formula:<model>.cost.<field>``, ``run:<id>``,
``measurement:<id>`` — and the defense prints them next to the numbers.
"""

from __future__ import annotations

from ..readings import nearest, qualities_by_horizon, stored_flow_ratio
from ..rules import skill_of, skill_text
from .decide import Verdict, cost_key, key_reason, rank, verdict, winner_under
from .defend import (
    Recommendation,
    defend,
    flips,
    infeasible_message,
    misunderstandings,
    ranking_rows,
    recommend,
    to_markdown,
)
from .evaluate import (
    SUITES,
    TEXTBOOK,
    TEXTBOOK_REAL,
    EvalRow,
    TableRow,
    differs,
    evaluate,
    evaluation_summary,
    load_suite,
    row_spec,
    spearman,
    textbook_table,
    truth_runs,
)
from .evidence import Evidence, Figure, Quality, fmt, formula_evidence
from .gather import (
    ADVICE_KIND,
    CALIBRATION_TASK,
    ablation_evidence,
    advise,
    attach_latency,
    calibration_horizon,
    gather,
)
from .lag import LAG_KIND
from .plans import calibration_runs, data_runs
from .proxy import choose as proxy_for
from .proxy import runs as proxy_runs
from .spec import (
    CALIBRATION_MAX_HORIZON,
    KEY_REASONS,
    TASK_KINDS,
    ProblemSpec,
    Progress,
    archs,
)

__all__ = [
    "ADVICE_KIND",
    "LAG_KIND",
    "TEXTBOOK_REAL",
    "differs",
    "proxy_for",
    "proxy_runs",
    "row_spec",
    "CALIBRATION_MAX_HORIZON",
    "CALIBRATION_TASK",
    "EvalRow",
    "Evidence",
    "Figure",
    "KEY_REASONS",
    "ProblemSpec",
    "Progress",
    "Quality",
    "Recommendation",
    "SUITES",
    "TASK_KINDS",
    "TEXTBOOK",
    "TableRow",
    "Verdict",
    "ablation_evidence",
    "advise",
    "archs",
    "attach_latency",
    "calibration_horizon",
    "calibration_runs",
    "cost_key",
    "data_runs",
    "defend",
    "evaluate",
    "evaluation_summary",
    "gather",
    "flips",
    "fmt",
    "formula_evidence",
    "infeasible_message",
    "key_reason",
    "load_suite",
    "misunderstandings",
    "nearest",
    "qualities_by_horizon",
    "rank",
    "ranking_rows",
    "recommend",
    "skill_of",
    "skill_text",
    "spearman",
    "stored_flow_ratio",
    "textbook_table",
    "to_markdown",
    "truth_runs",
    "verdict",
    "winner_under",
]
