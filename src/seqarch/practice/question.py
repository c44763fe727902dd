"""A drill question and the grade its answer gets.

Every question carries its own model answer and the reasoning behind it, computed when the
question is generated (formulas from ``seqarch.cost`` and the model files) — except a scenario,
whose model answer is the advisor's recommendation, asked for when the answer is graded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

CATEGORIES = ("derivations", "comparison", "tradeoffs")
"""As interviewers ask them: derive the equations, compare mechanisms, defend a trade-off."""

KINDS = ("equation", "derivative", "number", "choice", "scenario")
"""How an answer is read and checked (see :mod:`seqarch.practice.checkers`)."""


@dataclass(frozen=True)
class Question:
    category: str  # one of CATEGORIES
    kind: str  # one of KINDS: how the answer is read and checked
    topic: str  # what is drilled, e.g. "lstm C_t", "params", "kv-cache budget"
    prompt: str  # what the user sees
    expected: Any  # Equation (equation, derivative), float (number), set of names (choice),
    #                dict of ProblemSpec fields (scenario)
    explanation: str = ""  # the reasoning, and where each number comes from
    unit: str = ""  # number: the unit a bare answer is read in ("", "B", "MB", "FLOPs")
    scale: float = 1.0  # number: base units per `unit` (1e6 for MB)
    tolerance: float = 0.01  # number: accepted relative error
    arch: str | None = None  # the architecture an equation belongs to
    choices: tuple[str, ...] = ()  # choice / scenario: accepted names
    hint: str = ""  # notation or answer format, shown under the prompt


@dataclass(frozen=True)
class Grade:
    """score 1 is right, 0 wrong, in between partly right (e.g. right architecture, wrong
    reason); ``skipped`` questions (no advisor for a scenario) are neither, and not stored."""

    score: float
    model_answer: str
    explanation: str
    diagnosis: list[str] = field(default_factory=list)
    skipped: bool = False

    @property
    def correct(self) -> bool:
        return self.score >= 1.0
