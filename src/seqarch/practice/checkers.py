r"""Checkers: read an answer, compare it with the question's model answer, explain the result.

    number      |answer − expected| ≤ tolerance · |expected|      (answer in the question's unit
                unless it names its own: "1.2M", "3.4 MB", "512 KiB", "2,048", "1e-5")
    equation    sympy equivalence with the model's own equation (:mod:`.equations`)
    derivative  the same, for an expression without a left side
    choice      one of the accepted names (all of them when several tie)
    scenario    architecture and key reason against the advisor's recommendation:
                score = 0.6·(1 if the recommendation, 0.5 if the runner-up) + 0.4·(reason right)

An answer that cannot be read at all raises :class:`Unreadable`; the session then asks again
(it is not a wrong answer).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ..errors import BadInput
from . import equations as eqs
from .question import Grade, Question

Advisor = Callable[[dict], Any]
"""Scenario fields -> an object with .recommendation, .runner_up, .key_reason, .defense."""

SI = {"": 1.0, "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12}
BINARY = {"Ki": 2.0**10, "Mi": 2.0**20, "Gi": 2.0**30, "Ti": 2.0**40}
_NUMBER = re.compile(
    r"^\s*(?P<value>[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?(?:[eE][-+]?\d+)?)\s*"
    r"(?P<prefix>Ki|Mi|Gi|Ti|[kKMGT])?\s*(?P<unit>B|bytes?|FLOPs?|flops?|params?)?\s*$"
)
SCENARIO_ARCH_WEIGHT = 0.6
SCENARIO_REASON_WEIGHT = 0.4


class Unreadable(ValueError):
    """The answer could not be read (not a wrong answer): the message says what is expected."""


def read_number(text: str, scale: float = 1.0) -> float:
    """A number in base units; a bare number is in the question's unit (``scale``)."""
    m = _NUMBER.match(text.replace("_", ""))
    if m is None or not re.search(r"\d", m["value"] or ""):
        raise Unreadable(
            f"{text.strip()!r} is not a number; expected e.g. 1234, 1.2M, 3.4e-5 or 12 MB"
        )
    value = float(m["value"].replace(",", ""))
    prefix, unit = m["prefix"] or "", m["unit"]
    if prefix in BINARY:
        return value * BINARY[prefix]
    if prefix or unit:
        return value * SI[prefix]
    return value * scale


def check_number(q: Question, text: str) -> Grade:
    got = read_number(text, q.scale)
    want = float(q.expected)
    err = abs(got - want) / max(abs(want), 1e-300)
    unit = f" {q.unit}" if q.unit else ""
    shown = f"{want / q.scale:.4g}{unit}"
    diagnosis = []
    if err > q.tolerance:
        off = got / want if want else float("inf")
        diagnosis.append(
            f"you gave {got / q.scale:.4g}{unit}, {off:.3g}× the model answer "
            f"(tolerance ±{q.tolerance:.0%})"
        )
    return Grade(1.0 if err <= q.tolerance else 0.0, shown, q.explanation, diagnosis)


def check_equation(q: Question, text: str) -> Grade:
    if q.kind == "derivative" and "=" in text:
        text = text.rsplit("=", 1)[1]  # "∂h_t/∂h_{t-1} = z_t": the right side is the answer
    try:
        user = eqs.parse(text, q.arch)
    except eqs.EquationParseError as e:
        raise Unreadable(str(e)) from None
    model: eqs.Equation = q.expected
    if q.kind == "derivative":
        user = eqs.Equation(None, user.rhs)
    verdict = eqs.compare(user, model, eqs.gates(q.arch) if q.arch else set())
    return Grade(verdict.score, str(model), q.explanation, verdict.diagnosis)


def check_choice(q: Question, text: str) -> Grade:
    name = text.strip().lower()
    if name not in q.choices:
        raise Unreadable(f"{text.strip()!r} is not one of {', '.join(q.choices)}")
    want = sorted(q.expected)
    right = name in q.expected
    diagnosis = [] if right else [f"{name} is not it: the answer is {' or '.join(want)}"]
    return Grade(1.0 if right else 0.0, " or ".join(want), q.explanation, diagnosis)


def _key_reasons() -> tuple[str, ...] | None:
    try:
        from ..advise import KEY_REASONS
    except ImportError:
        return None
    return tuple(KEY_REASONS)


def read_scenario(text: str, archs: tuple[str, ...], reasons: tuple[str, ...]) -> tuple[str, str]:
    """'gru, latency' / 'GRU because of latency' -> ('gru', 'latency')."""
    words = re.findall(r"[a-z0-9_]+", text.lower().replace("-", "_"))
    arch = next((w for w in words if w in archs), None)
    if arch is None:
        raise Unreadable(f"no architecture in {text.strip()!r}; expected one of {', '.join(archs)}")
    joined = "_".join(words)
    reason = next((r for r in reasons if r in words or r in joined), None)
    if reason is None:
        raise Unreadable(f"no key reason in {text.strip()!r}; expected one of {', '.join(reasons)}")
    return arch, reason


def check_scenario(
    q: Question, text: str, advisor: Advisor | None, reasons: tuple[str, ...] | None = None
) -> Grade:
    reasons = reasons or _key_reasons()
    if advisor is None or reasons is None:
        return Grade(0.0, "", "no advisor: `seqarch advise` is not available", skipped=True)
    arch, reason = read_scenario(text, q.choices, reasons)
    try:
        rec = advisor(q.expected)
    except BadInput as e:
        return Grade(0.0, "", f"scenario skipped: the advisor refused it ({e})", skipped=True)
    arch_score = 1.0 if arch == rec.recommendation else 0.5 if arch == rec.runner_up else 0.0
    reason_score = 1.0 if reason == rec.key_reason else 0.0
    score = SCENARIO_ARCH_WEIGHT * arch_score + SCENARIO_REASON_WEIGHT * reason_score
    diagnosis = []
    if arch_score < 1:
        diagnosis.append(
            f"the advisor recommends {rec.recommendation}"
            + (" — yours is its runner-up" if arch_score else f" (runner-up {rec.runner_up})")
        )
    if not reason_score:
        diagnosis.append(f"the key reason is {rec.key_reason}, not {reason}")
    return Grade(
        round(score, 6),
        f"{rec.recommendation} ({rec.key_reason})",
        str(rec.defense),
        diagnosis,
    )


PASS_WORDS = ("skip", "pass", "?")
"""Typed instead of an answer: counted as missed, and the model answer is shown."""


def model_answer(q: Question) -> str:
    """The expected answer as shown to the user (a scenario's needs the advisor)."""
    if q.kind == "number":
        return f"{float(q.expected) / q.scale:.4g} {q.unit}".strip()
    if q.kind == "choice":
        return " or ".join(sorted(q.expected))
    if q.kind == "scenario":
        return "(the advisor's recommendation)"
    return str(q.expected)


def check(q: Question, text: str, advisor: Advisor | None = None) -> Grade:
    """Grade ``text`` as the answer to ``q``; raise :class:`Unreadable` if it cannot be read."""
    if text.strip().lower() in PASS_WORDS:
        if q.kind == "scenario" and advisor is not None:
            rec = advisor(q.expected)
            shown = f"{rec.recommendation} ({rec.key_reason})"
            return Grade(0.0, shown, str(rec.defense), ["passed"])
        return Grade(0.0, model_answer(q), q.explanation, ["passed"])
    if q.kind == "number":
        return check_number(q, text)
    if q.kind in ("equation", "derivative"):
        return check_equation(q, text)
    if q.kind == "choice":
        return check_choice(q, text)
    if q.kind == "scenario":
        return check_scenario(q, text, advisor)
    raise BadInput(f"question kind {q.kind!r} is not known")
