r"""The shipped evidence base: quality measured once, read on every install.

Two kinds of evidence behave differently. **Quality** — the skill a family reaches at a
dependency distance under the fair protocol, its seeds and step budget — belongs to the recipe
and the task: the same on any machine up to floating-point noise, and expensive. **Cost** — a
step's latency, memory, throughput — belongs to the machine and is cheap. So the package ships
a read-only SQLite store (``data/evidence-base.db``) holding the protocol's runs for the problems
listed in ``data/coverage.toml`` (the README's main job, and the adding problem at a grid
of distances), with each run's config, metrics, thinned curve, protocol tag, code revision and
the machine it ran on, plus the gradient-flow measurements (arithmetic, not timing). Timings
are never shipped: they are measured where the advice is asked.

Every :class:`seqarch.store.Store` reads the base under the user's own store: a run stored by
the user wins where both hold it, runs from the base are marked ``origin = "base"``, and writes
go to the user's store only. ``SEQARCH_BASE=none`` turns the layer off (the tests do); a path
reads another base.

**Versioned with the recipe.** The base records, per architecture, a *fingerprint* of the
model: its parameters' sums and squares and its output on a fixed input, built from seed 0 with
continuous and with token inputs — what a change to its equations or initialisation moves —
and the protocol's full definition. An architecture whose fingerprint no longer matches the
code, or every run when the protocol changed, is *stale*: left out of every read, named by
``seqarch base``, and failed by ``tests/test_shipped_base.py`` until ``seqarch base --build``
regenerates it.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import time
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .runs import Run

HERE = Path(__file__).parent / "data"
BASE_PATH = HERE / "evidence-base.db"
COVERAGE = HERE / "coverage.toml"
ENV = "SEQARCH_BASE"  # a path to another base, or "none" to read none
CURVE_POINTS = 40  # a shipped curve keeps at most this many points (the wheel stays small)
FINGERPRINT_RTOL = 1e-4  # float32 sums differ across CPUs in the 7th digit; a change moves more


def path() -> Path | None:
    """The base every store reads under the user's: ``$SEQARCH_BASE`` (``none``: no base), else
    the shipped one; None when there is none."""
    want = os.environ.get(ENV)
    if want is not None and want.strip().lower() in ("", "none", "off", "0"):
        return None
    if want:
        if not Path(want).is_file():
            from .errors import BadInput

            raise BadInput(
                f"{ENV}={want!r} is not accepted: no such file; expected the path of an evidence "
                "base (`seqarch base --build --out PATH` makes one) or 'none'"
            )
        return Path(want)
    return BASE_PATH if BASE_PATH.is_file() else None


# -- the recipe's fingerprint ---------------------------------------------------------------------


FINGERPRINT_T = 80  # past the compiled scans' chunk of 64 steps: the carry between chunks runs


def fingerprint(arch: str) -> list[float]:
    """What a change to ``arch``'s equations or initialisation moves: from seed 0, with
    continuous inputs and with tokens, every state-dict entry's sum and sum of squares (exact:
    the same generator draws the same values everywhere) and the output's absolute sum and sum
    of squares on a fixed input; and with continuous inputs over ``FINGERPRINT_T`` steps in
    training mode, the output's and every parameter gradient's absolute sum and sum of squares
    (the hand-written backward passes run). Computed values enter only through sums of
    non-negative terms, so another CPU's float32 rounding moves them by ~1e-6 relative, far
    inside ``FINGERPRINT_RTOL``, while a change to the model moves them by much more.
    It does not see the training loop, the optimiser or the tasks' generators: a change there
    is a change of recipe to regenerate by hand (``seqarch base --build`` after deleting the
    base)."""
    import torch

    from . import models

    out: list[float] = []
    extra = {"max_len": FINGERPRINT_T} if "max_len" in models.accepted_options(arch) else {}
    torch.manual_seed(0)
    m = models.build(arch, input_size=5, output_size=3, hidden_size=8, **extra)
    m.train()
    x = torch.randn(2, FINGERPRINT_T, 5, generator=torch.Generator().manual_seed(2))
    y, _ = m(x)
    (y.pow(2).mean()).backward()
    y = y.detach().double()
    out += [float(y.abs().sum()), float(y.pow(2).sum())]
    for _, p in sorted(m.named_parameters()):
        g = torch.zeros_like(p) if p.grad is None else p.grad
        out += [float(g.double().abs().sum()), float(g.double().pow(2).sum())]
    for tokens in (False, True):
        torch.manual_seed(0)
        m = models.build(arch, input_size=5, output_size=3, hidden_size=8, tokens=tokens, **extra)
        for _, t in sorted(m.state_dict().items()):
            t = t.detach().double()
            out += [float(t.sum()), float(t.pow(2).sum())]
        g = torch.Generator().manual_seed(1)
        if tokens:
            x = torch.nn.functional.one_hot(torch.randint(0, 5, (2, 12), generator=g), 5).float()
        else:
            x = torch.randn(2, 12, 5, generator=g)
        m.eval()
        with torch.no_grad():
            y, _ = m(x)
        y = y.double()
        out += [float(y.abs().sum()), float(y.pow(2).sum())]
    return out


def protocol_text() -> str:
    """The default protocol's whole definition: any change to it is a change of recipe."""
    from . import protocol

    return repr(protocol.DEFAULT)


def _same(a: list[float], b: list[float]) -> bool:
    if len(a) != len(b):
        return False
    tol = {"rel_tol": FINGERPRINT_RTOL, "abs_tol": 1e-6}
    return all(math.isclose(x, y, **tol) for x, y in zip(a, b, strict=True))


@cache
def _current(arch: str) -> tuple[float, ...]:
    return tuple(fingerprint(arch))


# -- reading ----------------------------------------------------------------------------------


def connect(p: Path) -> sqlite3.Connection:
    con = sqlite3.connect(f"{p.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
    con.row_factory = sqlite3.Row
    return con


def meta(p: Path) -> dict[str, Any]:
    """The base's provenance: protocol, fingerprints, revision, machine, when."""
    con = connect(p)
    try:
        rows = con.execute("SELECT key, value FROM meta WHERE key LIKE 'base.%'").fetchall()
    finally:
        con.close()
    return {r["key"][5:]: json.loads(r["value"]) for r in rows}


def stale(p: Path) -> dict[str, str]:
    """Architectures whose stored runs no longer match the code, with why ("*" when every run
    is stale: the protocol changed, or the base was never stamped)."""
    from . import models

    m = meta(p)
    if "protocol" not in m:
        return {"*": "the base carries no recipe stamp (not built by `seqarch base --build`)"}
    if m["protocol"] != protocol_text():
        return {"*": f"the protocol changed since the base was built ({m['protocol']})"}
    out = {}
    stored = m.get("fingerprints", {})
    for arch in models.MODELS:
        if arch not in stored:
            out[arch] = "not in the base"
        elif not _same(stored[arch], list(_current(arch))):
            out[arch] = "its equations or initialisation changed since the base was built"
    return out


@dataclass
class Layer:
    """The base as a store reads it: its current runs (stale ones left out) and the
    measurements that travel."""

    path: Path
    runs: list[Run] = field(default_factory=list)
    measurements: list[dict] = field(default_factory=list)
    stale: dict[str, str] = field(default_factory=dict)
    ids: set[str] = field(default_factory=set)


def run_of(row: sqlite3.Row, origin: str = "mine") -> Run:
    """A stored run row as the typed run every reader takes."""
    from .runs import Run

    return Run.from_row(row, origin)


@cache
def _layer(p: str, mtime: float) -> Layer:
    path_ = Path(p)
    gone = stale(path_)
    layer = Layer(path_, stale=gone)
    if "*" in gone:
        return layer
    con = connect(path_)
    try:
        rows = con.execute("SELECT * FROM runs WHERE status = 'done' ORDER BY finished, id")
        for row in rows.fetchall():
            if row["arch"] in gone:
                continue
            layer.runs.append(run_of(row, origin="base"))
        mrows = con.execute("SELECT * FROM measurements ORDER BY created, id").fetchall()
    finally:
        con.close()
    for r in mrows:
        key = json.loads(r["key"])
        if key.get("arch") in gone:
            continue
        layer.measurements.append(
            {
                "id": r["id"],
                "kind": r["kind"],
                "key": key,
                "value": json.loads(r["value"]),
                "env": json.loads(r["env"]),
                "created": r["created"],
                "origin": "base",
            }
        )
    layer.ids = {r.id for r in layer.runs}
    return layer


def layer() -> Layer | None:
    """The base to read under a user's store, or None (no base, or ``SEQARCH_BASE=none``)."""
    p = path()
    return None if p is None else _layer(str(p.resolve()), p.stat().st_mtime)


def provenance(runs: list[Run]) -> str | None:
    """ "measured under fair/1 on a 2-core AMD EPYC …, 2026-12-03" for runs from the base; None
    when none of them is."""
    shipped = [r for r in runs if r.origin == "base"]
    if not shipped:
        return None
    env = shipped[0].env
    tag = shipped[0].protocol or "no protocol"
    when = time.strftime("%Y-%m-%d", time.gmtime(max(r.finished for r in shipped)))
    cores = env.get("cores")
    where = (
        f"measured under {tag} on a {cores}-core {env.get('cpu', 'unknown CPU')} machine, {when}"
        if cores
        else f"measured under {tag} on {env.get('cpu', 'another machine')}, {when}"
    )
    if len(shipped) < len(runs):
        where = f"{len(shipped)} of these {len(runs)} runs; the rest trained here; {where}"
    return where
