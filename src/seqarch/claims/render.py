"""The ledger for a terminal (rich) and for a README (Markdown). Nothing here prints; the CLI
prints what these return."""

from __future__ import annotations

from rich.console import RenderableType
from rich.markup import escape
from rich.table import Table

from .ledger import Entry, Ledger

COLOURS = {
    "holds": "green",
    "breaks": "red",
    "depends": "yellow",
    "unresolved": "magenta",
    "incomplete": "cyan",
    "missing": "dim",
}
NUMBERS_SHOWN = 8  # per entry in the tables; --json has them all


def _numbers(e: Entry, limit: int = NUMBERS_SHOWN) -> list[str]:
    shown = [f"{n.label} {n.value} [{n.source}]" for n in e.numbers[:limit]]
    if len(e.numbers) > limit:
        shown.append(f"… {len(e.numbers) - limit} more (--json)")
    return shown


def _why(e: Entry) -> str:
    text = e.why
    if e.note:
        text += f" ({e.note})"
    return text


def table(ledger: Ledger) -> list[RenderableType]:
    """One row per claim: the claim and its place, the verdict, why (each part's rule and
    result), the numbers with their sources; then what is missing and where it was measured."""
    t = Table(title="The source's claims, measured here (`seqarch claims`)", show_lines=True)
    for col in ("claim", "source", "verdict", "why (measured)", "numbers [source]"):
        t.add_column(col, overflow="fold")
    for e in ledger.entries:
        colour = COLOURS[e.verdict]
        t.add_row(
            escape(e.claim.words),
            escape(e.claim.place),
            f"[{colour}]{e.verdict}[/]",
            escape(_why(e)),
            escape("\n".join(_numbers(e))),
        )
    out: list[RenderableType] = [t]
    counts = ", ".join(f"{sum(e.verdict == v for e in ledger.entries)} {v}" for v in COLOURS if v)
    out.append(f"{len(ledger.entries)} claims: {counts}")
    missing = [(e.claim.id, m) for e in ledger.entries for m in e.missing]
    if missing:
        out.append(
            "[bold]Missing[/] (`seqarch claims --run` produces all but the long row's "
            "synthetic probe):"
        )
        out += [f"  • {escape(cid)}: {escape(m)}" for cid, m in missing]
    machines = sorted({e.machine for e in ledger.entries if e.machine != "formulas only"})
    out.append("Measured on: " + escape(" | ".join(machines) if machines else "nothing stored"))
    return out


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", "<br>")


def markdown(ledger: Ledger) -> str:
    """The ledger as a README table (the same rows the terminal table shows)."""
    lines = [
        "| claim | source | verdict | why (measured) | numbers [source] |",
        "|---|---|---|---|---|",
    ]
    for e in ledger.entries:
        lines.append(
            "| "
            + " | ".join(
                _cell(x)
                for x in (
                    e.claim.words,
                    e.claim.place,
                    f"**{e.verdict}**",
                    _why(e),
                    "<br>".join(_numbers(e)),
                )
            )
            + " |"
        )
    machines = sorted({e.machine for e in ledger.entries if e.machine != "formulas only"})
    lines += ["", "Measured on: " + (" | ".join(machines) if machines else "nothing stored")]
    missing = [(e.claim.id, m) for e in ledger.entries for m in e.missing]
    if missing:
        lines += ["", "Missing:", ""] + [f"- {cid}: {m}" for cid, m in missing]
    return "\n".join(lines) + "\n"
