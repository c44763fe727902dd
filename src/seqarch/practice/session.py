"""A practice session: ask, read, grade, give feedback, record — until done or interrupted.

The session never touches the terminal. It takes a ``read`` callable (the CLI's prompt, or the
lines of an answers file) and a ``show`` callable for events, so the same loop runs a rich
interactive drill, a scripted file and the tests:

    read(question, error) -> str | None     the answer text; None ends the session (EOF);
                                            error is the last unreadable attempt's message
    show(event)                              Asked | Retry | Graded | Skipped

Ctrl-C (KeyboardInterrupt) inside ``read`` ends the session; everything graded so far is
already in the history (one transaction per answer) and in the returned :class:`Summary`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from .checkers import Advisor, Unreadable, check, model_answer
from .history import History
from .question import CATEGORIES, Grade, Question

MAX_ATTEMPTS = 5  # unreadable answers in a row before the question counts as missed


@dataclass(frozen=True)
class Asked:
    index: int
    total: int
    question: Question


@dataclass(frozen=True)
class Retry:
    question: Question
    message: str


@dataclass(frozen=True)
class Graded:
    question: Question
    answer: str
    grade: Grade


@dataclass(frozen=True)
class Skipped:
    question: Question
    why: str


Event = Asked | Retry | Graded | Skipped


@dataclass
class Summary:
    """Scores by category; ``interrupted`` when Ctrl-C or the end of input stopped it early."""

    graded: list[Graded] = field(default_factory=list)
    skipped: int = 0
    interrupted: bool = False

    def by_category(self) -> dict[str, tuple[int, float]]:
        """{category: (answered, total score)} in CATEGORIES order."""
        out: dict[str, tuple[int, float]] = {}
        for c in CATEGORIES:
            scores = [g.grade.score for g in self.graded if g.question.category == c]
            if scores:
                out[c] = (len(scores), sum(scores))
        return out

    @property
    def score(self) -> float:
        return sum(g.grade.score for g in self.graded)


def default_advisor(db: str | None = None) -> Advisor | None:
    """``seqarch.advise`` on a scenario (formulas and stored measurements, no new runs), or
    None when the advisor is not available (scenario questions are then skipped)."""
    try:
        from ..advise import ProblemSpec, advise
    except ImportError:
        return None

    def advisor(spec: dict):
        return advise(ProblemSpec(**spec), db=db, run=False)

    return advisor


def default_citer(db: str | None = None) -> Callable[[Question], str | None]:
    """For a question that bears on a claim of the source, the claims ledger's verdict on the
    store at ``db`` with its numbers (``seqarch claims``), added to the model answer; None
    when the store has no evidence for it. The ledger is read once, on first use."""
    cache: dict[str, Any] = {}

    def cite(q: Question) -> str | None:
        from pathlib import Path

        from ..claims import citation, claims_ledger, touched_by

        ids = touched_by(q.topic, q.prompt)
        if not ids or db is None or not Path(db).exists():
            return None
        if "ledger" not in cache:
            cache["ledger"] = {e.claim.id: e for e in claims_ledger(db).entries}
        entries = [cache["ledger"][i] for i in ids if i in cache["ledger"]]
        lines = [citation(e) for e in entries if e.verdict != "missing"]
        return "\n".join(lines) or None

    return cite


def run(
    questions: list[Question],
    read: Callable[[Question, str | None], str | None],
    show: Callable[[Event], None],
    history: History | None = None,
    advisor: Advisor | None = None,
    cite: Callable[[Question], str | None] | None = None,
) -> Summary:
    """Ask every question in turn; return what was graded. ``cite``: a line of measured
    evidence for a question's model answer (:func:`default_citer`), or None."""
    summary = Summary()
    try:
        for i, q in enumerate(questions, 1):
            if q.kind == "scenario" and advisor is None:
                summary.skipped += 1
                show(Skipped(q, "scenario skipped: `seqarch advise` is not available here"))
                continue
            show(Asked(i, len(questions), q))
            graded = _ask(q, read, show, advisor)
            if graded is None:  # end of input
                summary.interrupted = True
                break
            if graded.grade.skipped:
                summary.skipped += 1
                show(Skipped(q, graded.grade.explanation))
                continue
            extra = cite(q) if cite is not None else None
            if extra:
                explained = f"{graded.grade.explanation}\n{extra}"
                graded = replace(graded, grade=replace(graded.grade, explanation=explained))
            if history is not None:
                history.record(q, graded.answer, graded.grade)
            summary.graded.append(graded)
            show(graded)
    except KeyboardInterrupt:
        summary.interrupted = True
    return summary


def _ask(
    q: Question,
    read: Callable[[Question, str | None], str | None],
    show: Callable[[Event], None],
    advisor: Advisor | None,
) -> Graded | None:
    error = None
    for _ in range(MAX_ATTEMPTS):
        text = read(q, error)
        if text is None:
            return None
        try:
            return Graded(q, text.strip(), check(q, text, advisor))
        except Unreadable as e:
            error = str(e)
            show(Retry(q, error))
    missed = Grade(0.0, model_answer(q), q.explanation, [f"no readable answer: {error}"])
    return Graded(q, "", missed)


def file_answers(answers: str, echo: Callable[[str], None]) -> Callable[..., str | None]:
    """A ``read`` for :func:`run` from a text file of answers, one per line (``'-'``: standard
    input; blank lines and ``#`` comments skipped); each answer is echoed as it is used."""
    import sys
    from pathlib import Path

    from ..errors import BadInput

    if answers != "-" and not Path(answers).is_file():
        raise BadInput(
            f"--answers {answers!r} is not a file; expected a text file of answers, one per "
            "line, or '-' for standard input"
        )
    text = sys.stdin.read() if answers == "-" else Path(answers).read_text()
    lines = iter(ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#"))

    def read(_q: Question, _error: str | None) -> str | None:
        answer = next(lines, None)
        if answer is not None:
            echo(answer)
        return answer

    return read
