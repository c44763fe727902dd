r"""The claims ledger: every claim of the source document, measured here — holds, breaks,
depends, and on what.

    ledger = claims_ledger("seqarch.db")            # reads the store; names what is missing
    ledger = claims_ledger("seqarch.db", run=True)  # first produces the missing evidence

The source (``interview-prep.txt`` beside this file, the document seqarch makes real) is, under
its prose, a list of claims: the strengths and limitations of each architecture, the trade-off
table's three rows, the three common misunderstandings, and the example answer. ``ledger.toml``
holds one entry per claim (its place in the source, its words verbatim, the experiment that
tests it); :mod:`.evidence` judges each from stored runs, measurements and the cost formulas by
explicit rules (its docstring states them); :mod:`.run` produces what is missing with the
machinery every other command uses. The trade-off table's rows are the advisor's own
(:func:`seqarch.advise.textbook_table` on stored evidence, among the source's four
architectures).
"""

from .ledger import (
    LEDGER,
    SOURCE,
    VERDICTS,
    Claim,
    Entry,
    Ledger,
    citation,
    claims,
    claims_ledger,
    machine,
    seeds_for_unresolved,
    source_items,
    touched_by,
    uncovered,
    unresolved_runs,
)

__all__ = [
    "Claim",
    "Entry",
    "LEDGER",
    "Ledger",
    "SOURCE",
    "VERDICTS",
    "claims",
    "citation",
    "claims_ledger",
    "machine",
    "seeds_for_unresolved",
    "unresolved_runs",
    "source_items",
    "touched_by",
    "uncovered",
]
