"""The ledger: the source's claims (``ledger.toml``), each judged on the stored evidence
(:mod:`.evidence`), with what is missing named and, with ``run``, produced first."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .. import protocol
from . import run as plan
from .evidence import JUDGES, VERDICTS, Finding, Number, Stored

SOURCE = Path(__file__).parent / "interview-prep.txt"
LEDGER = Path(__file__).parent / "ledger.toml"


@dataclass(frozen=True)
class Claim:
    id: str
    section: str  # e.g. "Step 5 · Limitations"
    item: str  # e.g. "GRUs"
    quote: str  # the source's words, verbatim
    words: str  # the claim in a few words
    experiment: str  # what tests it, at which sizes
    row: int | None = None  # the trade-off table's row (advise.TEXTBOOK), if it is one

    @property
    def place(self) -> str:
        return f"{self.section} · {self.item}"


def claims() -> list[Claim]:
    """Every claim of the ledger, in the source's order."""
    with open(LEDGER, "rb") as f:
        return [Claim(**c) for c in tomllib.load(f)["claim"]]


# -- the source's lists ----------------------------------------------------------------------


def _after(lines: list[str], heading: str) -> list[str]:
    """The lines right after the line that starts with ``heading``, up to the next line that
    is neither a list item nor a table row."""
    start = next(i for i, line in enumerate(lines) if line.strip().startswith(heading))
    out = []
    for line in lines[start + 1 :]:
        s = line.strip()
        if not (s.startswith("- ") or s.startswith("|")):
            break
        out.append(s)
    return out


def source_items(text: str | None = None) -> list[tuple[str, str]]:
    """Every claim-bearing item of the source, as (section, text): the strengths, limitations
    and trade-off rows of Step 5, the common misunderstandings of Step 6, and each sentence
    of the example answer of Step 2."""
    lines = (text if text is not None else SOURCE.read_text(encoding="utf-8")).splitlines()
    items = []
    for section, heading in (
        ("strengths", "✅ Strengths"),
        ("limitations", "⚠️ Limitations"),
        ("misunderstandings", "🚨 Common Misunderstandings"),
    ):
        items += [(section, s[2:].strip()) for s in _after(lines, heading)]
    rows = [s for s in _after(lines, "⚖️ Trade-offs") if not re.match(r"\|\s*-", s)]
    items += [("trade-offs", r) for r in rows[1:]]  # the first row is the header
    example = lines[next(i for i, line in enumerate(lines) if line.strip() == "Example:") + 1]
    example = example.strip().strip('“”"')
    items += [("example", s) for s in re.split(r"(?<=\.)\s+", example) if s]
    return items


def uncovered(items: list[tuple[str, str]] | None = None) -> list[tuple[str, str]]:
    """The source's items that no claim of the ledger quotes (the test holds this empty)."""
    quotes = [c.quote for c in claims()]
    return [(s, t) for s, t in (items or source_items()) if not any(t in q for q in quotes)]


# -- the ledger -------------------------------------------------------------------------------


@dataclass
class Entry:
    claim: Claim
    verdict: str  # one of evidence.VERDICTS
    why: str
    numbers: list[Number] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    note: str = ""
    machine: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            **asdict(self.claim),
            "place": self.claim.place,
            "verdict": self.verdict,
            "why": self.why,
            "numbers": [asdict(n) for n in self.numbers],
            "missing": self.missing,
            "note": self.note,
            "machine": self.machine,
        }


@dataclass
class Ledger:
    db: str
    entries: list[Entry]
    produced: dict[str, Any] | None = None  # what --run did, if it ran

    def to_dict(self) -> dict[str, Any]:
        return {
            "db": self.db,
            "produced": self.produced,
            "entries": [e.to_dict() for e in self.entries],
            "verdicts": {v: sum(e.verdict == v for e in self.entries) for v in VERDICTS},
        }


def machine(envs: list[dict]) -> str:
    """Where the numbers came from: the distinct CPUs, cores and versions of ``envs``."""
    seen = dict.fromkeys(
        f"{e.get('cpu', '?')}, {e.get('cores', '?')} cores, torch {e.get('torch', '?')}, "
        f"Python {e.get('python', '?')}"
        for e in envs
        if e
    )
    return "; ".join(seen) or "formulas only"


def _cited(sources: list[str], kinds: str = "run|measurement") -> set[str]:
    """The run / measurement ids (or id prefixes) that ``sources`` cite."""
    out = set()
    for s in sources:
        for m in re.finditer(rf"(?:{kinds}):([0-9a-f,]+)", s):
            out.update(p for p in m.group(1).split(",") if p)
        if re.fullmatch(r"[0-9a-f]{16}", s):
            out.add(s)
    return out


def _envs(st: Stored, sources: list[str]) -> list[dict]:
    """The environments of the runs and measurements cited by ``sources`` (ids or prefixes)."""
    prefixes = _cited(sources)
    return [env for i, env in st.env.items() if any(i.startswith(p) for p in prefixes)]


def _entry(claim: Claim, st: Stored, f: Finding) -> Entry:
    sources = f.ids + [n.source for n in f.numbers]
    return Entry(
        claim=claim,
        verdict=f.verdict,
        why=f.why,
        numbers=f.numbers,
        missing=f.missing,
        note=f.note,
        machine=machine(_envs(st, sources)),
    )


def _table_rows(db: Any, real: bool = False) -> list[Any]:
    """The advisor's trade-off rows on stored evidence among the source's four architectures;
    ``real``: the rows re-decided on the source's example tasks with real data."""
    from ..advise import textbook_table

    return textbook_table(db, run=False, keep=False, names=list(plan.SOURCE_ARCHS), real=real)


def _row_why(row: Any) -> str:
    return (
        f"the document picks {row.textbook}; measured here: {row.measured} — "
        f"{row.measured_why} (confidence {row.confidence})"
    )


def _real_part(f: Finding, row: Any) -> None:
    """One real task's row as a part of a trade-off claim: the advisor's pick among the four
    on the task's stored runs against the source's, judged once every one of the four has
    quality evidence there."""
    task = row.task_type.split(": ", 1)[-1]
    name = f"on {task} (`{row.proxy}`, real data)"
    if row.has_quality and row.complete:
        f.part(name, "holds" if row.holds else "breaks", _row_why(row))
        f.number(f"picked on {task}", row.measured, " ".join(row.evidence))
    else:
        f.part(
            name,
            None,
            f"not every one of the four has runs on `{row.proxy}` (`seqarch claims --run` or "
            "`seqarch study --preset real` trains them)",
        )


def _table_entry(claim: Claim, st: Stored, row: Any, real_rows: list[Any]) -> Entry:
    """A trade-off row, judged on the real tasks of its kind (``advise --table``'s real rows)
    and on the synthetic probe, the adding problem at the row's distance (``advise --table
    --proxy adding``): each is a part; the probe is judged only once every one of the four
    architectures has every seed at the row's own distance."""
    from ..advise import TEXTBOOK, calibration_horizon

    f = Finding()
    for r in real_rows:
        _real_part(f, r)
    spec = plan.adding_spec(**TEXTBOOK[claim.row][3])
    h = calibration_horizon(spec)
    seeds = len(protocol.DEFAULT.seeds)
    lacking = [
        a
        for a in plan.SOURCE_ARCHS
        if st.quality(a, h) is None or len(st.quality(a, h).run_ids) < seeds
    ]
    name = f"on the adding problem {h} steps back (synthetic)"
    if lacking:
        f.part(
            name,
            None,
            f"not every seed at h = {h} for {', '.join(lacking)} (`seqarch advise --table "
            "--proxy adding` trains it"
            + ("; not `claims --run`: about 2.5 h here)" if h > max(plan.HORIZONS) else ")"),
        )
    else:
        f.part(name, "holds" if row.holds else "breaks", _row_why(row))
        f.number(f"picked on the adding problem, h = {h}", row.measured, " ".join(row.evidence))
    for a in plan.SOURCE_ARCHS:
        if (q := st.quality(a, h)) is not None:
            f.number(f"{a} skill, h = {h}", f"{q.skill.value:.2f} ± {q.spread:.2f}", q.skill.source)
    sources = [n.source for n in f.numbers]
    return Entry(claim, f.verdict, f.why, f.numbers, f.missing, machine=machine(_envs(st, sources)))


def claims_ledger(
    db: str | Path | None = None,
    run: bool = False,
    progress: Callable[[str], None] | None = None,
    on_event: Callable[[Any], None] | None = None,
) -> Ledger:
    """One entry per claim of the source, judged on the store at ``db`` (default
    ``./seqarch.db``); ``run``: first produce what is missing (:func:`.run.produce`)."""
    from ..store import Snapshot, default_path, existing

    source = db if isinstance(db, Snapshot) else None  # a report build's one read of the store
    if source is not None and run:
        raise TypeError("a store snapshot is read-only: claims_ledger(run=False) on it")
    db = source.path if source is not None else Path(db) if db is not None else default_path()
    produced = None
    if run:
        from .run import produce, train_more

        produced = produce(db, say=progress, on_event=on_event)
    elif source is None:
        existing(db)
    entries = _judge(source or db)
    if run:  # racing (the advisor's mechanism): more seeds while an entry cannot tell
        state = {"entries": entries}

        def train(extra: list[Any]) -> None:
            train_more(db, extra, produced, say=progress, on_event=on_event)
            state["entries"] = _judge(db)

        raced = protocol.race(lambda: unresolved_runs(db, state["entries"]), train)
        produced["raced"] = asdict(raced)
        entries = state["entries"]
    return Ledger(str(db), entries, produced)


def _judge(db: Any) -> list[Entry]:
    """Every claim judged on the store at ``db`` (a path, or a snapshot), read once."""
    from ..store import Snapshot

    source = db if isinstance(db, Snapshot) else Snapshot(db)
    st = Stored(source)
    entries = []
    table = [c for c in claims() if c.row is not None]
    rows = _table_rows(source) if table else []
    real = _table_rows(source, real=True) if table else []
    for claim in claims():
        if claim.row is not None:
            kind = claim.item.split(" /")[0]  # "Streaming", "Medium sequences", "Long sequences"
            mine = [r for r in real if r.task_type.startswith(kind)]
            entries.append(_table_entry(claim, st, rows[claim.row], mine))
        else:
            entries.append(_entry(claim, st, JUDGES[claim.id](st)))
    return entries


def unresolved_runs(db: str | Path, entries: list[Entry]) -> list[dict]:
    """The stored runs of every protocol comparison an unresolved entry cites (its intervals
    cannot tell at the seeds stored): the models in question when racing."""
    from ..store import Store

    cited = _cited(
        [n.source for e in entries if e.verdict == "unresolved" for n in e.numbers], kinds="run"
    )
    if not cited:
        return []
    with Store(db) as store:
        records = store.runs()
    groups = protocol.group(records)
    wanted = [g for g in groups.values() if any(r.id.startswith(c) for r in g for c in cited)]
    return [r for g in wanted for r in g]


def seeds_for_unresolved(db: str | Path, entries: list[Entry] | None = None) -> list[Any]:
    """Where an entry is unresolved (the interval of the difference is too wide to tell), the
    next racing round (:func:`seqarch.protocol.race_round`): ``race_step`` more seeds at the
    selected lr of every protocol comparison the entry cites (``entries``: the ledger already
    judged on ``db``). ``claims --run`` repeats it until the entries resolve or the protocol's
    cap (:func:`seqarch.protocol.race`)."""
    entries = _judge(Path(db)) if entries is None else entries
    return protocol.race_round(unresolved_runs(db, entries))


# -- the drills' model answers ----------------------------------------------------------------


def touched_by(topic: str, prompt: str) -> tuple[str, ...]:
    """The claims a drill question bears on (by its topic and the architectures it names)."""
    text = prompt.lower()
    if topic == "lstm vs rnn gradient path":
        return ("lstm-stable", "rnn-forgets")
    if topic.startswith("ratio") and "lstm" in text and "gru" in text:
        return ("gru-simpler", "lstm-heavy")
    if topic in ("serving memory", "kv-cache budget") and "transformer" in text:
        return ("transformer-hungry",)
    return ()


def citation(entry: Entry, numbers: int = 3) -> str:
    """One line for a drill's model answer: the claim, its verdict here and a few numbers."""
    shown = "; ".join(f"{n.label} {n.value} [{n.source}]" for n in entry.numbers[:numbers])
    return (
        f"Measured here (`seqarch claims`): “{entry.claim.words}” {entry.verdict} — "
        f"{entry.why}" + (f" ({shown})" if shown else "")
    )
