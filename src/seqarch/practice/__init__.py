"""Interview drills whose answers are checked by the code: ``seqarch practice``.

questions = generate(seed, count, categories, weights)   # generators.py
grade = check(question, answer_text, advisor)             # checkers.py (equations.py)
summary = run(questions, read, show, history, advisor)    # session.py, history.py
"""

from .checkers import Unreadable, check
from .equations import EquationParseError, model_equations, parse
from .generators import GENERATORS, generate
from .history import History
from .question import CATEGORIES, Grade, Question
from .session import Summary, default_advisor, file_answers, run

__all__ = [
    "CATEGORIES",
    "EquationParseError",
    "GENERATORS",
    "Grade",
    "History",
    "Question",
    "Summary",
    "Unreadable",
    "check",
    "default_advisor",
    "file_answers",
    "generate",
    "model_equations",
    "parse",
    "run",
]
