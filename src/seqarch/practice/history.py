r"""Practice history: every graded answer, kept in the results store's SQLite file.

The table lives beside the store's own (``runs``, ``measurements``) in the same file; the
file is opened through :class:`seqarch.store.Store` first, so a foreign or corrupt file is
refused exactly as the store refuses it, and a new file becomes a proper seqarch store::

    practice_answers(
        id       INTEGER PRIMARY KEY,
        session  TEXT,     -- one id per `seqarch practice` run
        asked    REAL,     -- Unix seconds
        seed     INTEGER,  -- the seed the question was generated from
        category TEXT, kind TEXT, topic TEXT, prompt TEXT,
        answer   TEXT,     -- what the user typed (the readable attempt)
        score    REAL      -- 1 right, 0 wrong, in between partly right
    )

Weak categories: weight_c = (misses_c + 1) / (answers_c + 2), misses = Σ (1 − score), so a
category never drilled weighs ½ and one always missed approaches 1.
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from pathlib import Path

from ..store import BUSY_TIMEOUT_S, Store
from .question import CATEGORIES, Grade, Question

_SCHEMA = """
CREATE TABLE IF NOT EXISTS practice_answers (
    id INTEGER PRIMARY KEY,
    session TEXT NOT NULL,
    asked REAL NOT NULL,
    seed INTEGER,
    category TEXT NOT NULL,
    kind TEXT NOT NULL,
    topic TEXT NOT NULL,
    prompt TEXT NOT NULL,
    answer TEXT NOT NULL,
    score REAL NOT NULL
)
"""


class History:
    """Graded answers in the store file at ``path``; one instance per practice session."""

    def __init__(self, path: str | Path, seed: int | None = None):
        Store(path).close()  # validates (or creates) the file as a seqarch store
        self.path, self.seed = Path(path), seed
        self.session = uuid.uuid4().hex[:12]
        self._con = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        self._con.execute(_SCHEMA)

    def record(self, q: Question, answer: str, grade: Grade) -> None:
        """One answer, one transaction: an interrupted session keeps everything answered."""
        self._con.execute(
            "INSERT INTO practice_answers (session, asked, seed, category, kind, topic, prompt, "
            "answer, score) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                self.session,
                time.time(),
                self.seed,
                q.category,
                q.kind,
                q.topic,
                q.prompt,
                answer,
                grade.score,
            ),
        )

    def by_category(self) -> dict[str, tuple[int, float]]:
        """{category: (answers, total score)} over all sessions."""
        rows = self._con.execute(
            "SELECT category, COUNT(*), SUM(score) FROM practice_answers GROUP BY category"
        ).fetchall()
        return {c: (n, s) for c, n, s in rows}

    def weak_weights(self) -> dict[str, float]:
        """(misses + 1) / (answers + 2) per category: higher for the ones missed most."""
        stats = self.by_category()
        weights = {}
        for c in CATEGORIES:
            n, total = stats.get(c, (0, 0.0))
            weights[c] = (n - total + 1) / (n + 2)
        return weights

    def sessions(self) -> list[dict]:
        """Progress over time: one row per session, oldest first, with its score by category."""
        rows = self._con.execute(
            "SELECT session, MIN(asked), category, COUNT(*), SUM(score) FROM practice_answers "
            "GROUP BY session, category ORDER BY MIN(asked)"
        ).fetchall()
        out: dict[str, dict] = {}
        for session, started, category, n, total in rows:
            row = out.setdefault(session, {"session": session, "started": started, "by": {}})
            row["started"] = min(row["started"], started)
            row["by"][category] = (n, total)
        return sorted(out.values(), key=lambda r: r["started"])

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
