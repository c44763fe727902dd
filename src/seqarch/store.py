r"""The results store: one SQLite file (WAL mode) holding runs and measurements.

Where: ``--db PATH`` on the command line, else the environment variable ``SEQARCH_DB``, else
``./seqarch.db`` in the current directory (:func:`default_path`).

Schema, version ``SCHEMA_VERSION`` (kept in ``PRAGMA user_version``; the file is marked as
ours by ``PRAGMA application_id`` = 0x53514152, "SQAR")::

    meta(key TEXT PRIMARY KEY, value TEXT)             -- 'schema_version', 'created'
    runs(
        id       TEXT PRIMARY KEY,   -- run_id(config): sha256 of the canonical config JSON, 16 hex
        arch     TEXT,               -- config["arch"]            (copied out for filtering)
        task     TEXT,               -- config["task"]
        seq_len  INTEGER,            -- config["task_config"]["seq_len"], else metrics["seq_len"]
        seed     INTEGER,            -- config["seed"]
        status   TEXT,               -- 'done' (only these count as finished) or 'failed'
        config   TEXT,               -- canonical JSON of the run config
        metrics  TEXT,               -- JSON {name: value}
        curve    TEXT,               -- JSON [{step, train_loss, val_metric, seconds}, ...]
        env      TEXT,               -- JSON environment(): versions, CPU, threads, git revision
        started  REAL, finished REAL -- Unix seconds
    )
    measurements(
        id TEXT PRIMARY KEY,         -- hash of (kind, key, machine): one row per thing measured
        kind TEXT, key TEXT, value TEXT, env TEXT,   -- key/value/env are JSON
        created REAL                 -- Unix seconds; a newer measurement replaces the older
    )

Under the user's store lies the shipped evidence base (:mod:`seqarch.shipped`): every read
sees its current runs (``origin = "base"``) beneath the user's own, the user's run winning where
both hold an id; writes go to the user's store only. ``Store(path, base=False)`` or
``SEQARCH_BASE=none`` reads the user's store alone.

Every write is one transaction, so a process killed mid-way leaves either the whole row or
nothing; WAL plus a busy timeout lets several processes write at once. A file that is not
SQLite, or an SQLite file that is not a seqarch store, is refused and never modified.
"""

from __future__ import annotations

import json
import os
import pickle
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import shipped
from .errors import BadInput
from .ids import canonical_json, recipe, run_id  # noqa: F401 - the store's names for them
from .machine import environment  # noqa: F401 - where a stored number was measured
from .shipped import run_of

if TYPE_CHECKING:
    from .runs import Run

SCHEMA_VERSION = 1
APPLICATION_ID = 0x53514152  # "SQAR": marks the file as a seqarch store
BUSY_TIMEOUT_S = 60.0
STATUSES = ("done", "failed")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    arch TEXT NOT NULL,
    task TEXT NOT NULL,
    seq_len INTEGER,
    seed INTEGER,
    status TEXT NOT NULL,
    config TEXT NOT NULL,
    metrics TEXT NOT NULL,
    curve TEXT NOT NULL,
    env TEXT NOT NULL,
    started REAL NOT NULL,
    finished REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_by_task ON runs (task, arch, seq_len);
CREATE TABLE IF NOT EXISTS measurements (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    env TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS measurements_by_kind ON measurements (kind);
"""


def default_path() -> Path:
    """``$SEQARCH_DB`` if set, else ``./seqarch.db``."""
    return Path(os.environ.get("SEQARCH_DB") or "seqarch.db")


def existing(path: str | Path | None, layered: bool = True) -> Path:
    """The store at ``path`` (default :func:`default_path`) for a command that only reads it:
    a path with no store is refused in one line, the same for every such command (study and
    advise create the store they write to) — unless the shipped evidence base is read
    (seqarch.shipped): then the command reads the base, and the store is created empty."""
    path = Path(path) if path else default_path()
    if not path.exists() and layered and shipped.path() is not None and path.parent.is_dir():
        return path  # the shipped evidence base answers; this machine's store starts empty
    if not path.exists():
        raise BadInput(
            f"database {path} does not exist; expected --db PATH of a seqarch store (`seqarch "
            "advise` or `seqarch study` creates one)"
        )
    return path


def _copied(obj: Any) -> Any:
    """A deep copy of plain rows (dicts, lists, numbers, strings): the base's rows are shared by
    every store in the process. Through pickle: a third of copy.deepcopy's time on the base."""
    return pickle.loads(pickle.dumps(obj, pickle.HIGHEST_PROTOCOL))


def _seq_len(task_config: dict, metrics: dict) -> int | None:
    value = (task_config or {}).get("seq_len", metrics.get("seq_len"))
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _refuse(path: Path, why: str) -> BadInput:
    return BadInput(
        f"{path} is not accepted as a results store: {why}; expected a seqarch store "
        "(or a new path; it is left unchanged)"
    )


def _check_existing(path: Path) -> None:
    """Refuse a foreign or corrupt file before anything could write to it."""
    if not path.exists() or path.stat().st_size == 0:
        return
    if path.is_dir():
        raise _refuse(path, "it is a directory")
    # No open()/close() of the file from Python: closing any descriptor of a file drops every
    # POSIX lock this process holds on it — including the locks of a Store already open here —
    # which lets another process write under our feet ("How To Corrupt An SQLite Database
    # File", §2.2). SQLite's own read-only connection shares the process's lock bookkeeping,
    # and it rejects a file that is not SQLite ("file is not a database").
    try:
        con = sqlite3.connect(
            f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S
        )
        try:
            # One read transaction, one snapshot: read one statement at a time, a store that
            # another process was creating showed its tables but not yet its application id
            # (a fresh store then refused as "another application's file").
            con.execute("BEGIN")
            app_id = con.execute("PRAGMA application_id").fetchone()[0]
            version = con.execute("PRAGMA user_version").fetchone()[0]
            tables = [
                r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")
            ]
            con.execute("COMMIT")
        finally:
            con.close()
    except sqlite3.DatabaseError as e:
        if "not a database" in str(e):
            raise _refuse(path, "it is not an SQLite file") from None
        raise _refuse(path, f"SQLite cannot read it ({e})") from None
    if app_id != APPLICATION_ID:
        if tables:
            raise _refuse(path, f"it is another application's SQLite file (tables {tables})")
        if app_id != 0:
            raise _refuse(path, f"its application_id is {app_id:#x}")
    elif version > SCHEMA_VERSION:
        raise _refuse(path, f"its schema version {version} is newer than {SCHEMA_VERSION}")


class Reader:
    """What every reader of stored evidence asks of a store (:class:`Store`, or a
    :class:`Snapshot` of one): ``runs``, ``get_run``, ``has_run``, ``measurements``, and the
    two below, measure-if-missing on top of ``measurements``."""

    def measurements(self, kind: str | None = None) -> list[dict]:
        raise NotImplementedError

    def matching(self, kind: str, **key: Any) -> list[dict]:
        """The stored measurements of ``kind`` whose key holds every item of ``key`` (the base's
        included), oldest first."""
        return [
            m for m in self.measurements(kind) if all(m["key"].get(k) == v for k, v in key.items())
        ]

    def ensure(self, kind: str, produce: Callable[[], Any], *wants: dict, run: bool = True) -> bool:
        """Measure if missing, the one way a reader fills a gap: when some key of ``wants``
        (the items a stored key must hold; none given: anything of ``kind``) matches no stored
        measurement of ``kind``, and ``run`` allows it, ``produce()`` measures and stores.
        Returns whether it ran."""
        if not run or all(self.matching(kind, **w) for w in wants or ({},)):
            return False
        produce()
        return True


class Store(Reader):
    """A seqarch results store at ``path`` (created if missing), read over the shipped evidence
    base unless ``base`` is False."""

    def __init__(self, path: str | Path, base: bool = True):
        self.path = Path(path)
        self._base = None
        if base:
            layer = shipped.layer()
            if layer is not None and layer.path.resolve() != self.path.resolve():
                self._base = layer
        _check_existing(self.path)
        if not self.path.parent.exists():
            raise BadInput(f"directory {self.path.parent} of {self.path} does not exist")
        self._con = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        self._con.row_factory = sqlite3.Row
        try:
            self._init()
        except BaseException:
            self._con.close()
            raise

    def _init(self) -> None:
        con = self._con
        con.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        for attempt in range(50):  # switching to WAL needs a moment without other writers
            try:
                con.execute("PRAGMA journal_mode = WAL")
                break
            except sqlite3.OperationalError:
                if attempt == 49:
                    raise
                time.sleep(0.1)
        con.execute("PRAGMA synchronous = NORMAL")
        with self._transaction():
            # Re-check under the write lock: another process may have created it meanwhile.
            app_id = con.execute("PRAGMA application_id").fetchone()[0]
            if app_id == 0:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        con.execute(statement)
                con.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                con.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                con.execute(
                    "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?), ('created', ?)",
                    (str(SCHEMA_VERSION), str(time.time())),
                )

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any error: all or nothing."""
        self._con.execute("BEGIN IMMEDIATE")
        try:
            yield self._con
        except BaseException:
            self._con.execute("ROLLBACK")
            raise
        self._con.execute("COMMIT")

    # -- runs --------------------------------------------------------------------------------

    def has_run(self, run_id: str) -> bool:
        """Whether a finished (status 'done') run with this id is stored."""
        row = self._con.execute(
            "SELECT 1 FROM runs WHERE id = ? AND status = 'done'", (run_id,)
        ).fetchone()
        return row is not None or (self._base is not None and run_id in self._base.ids)

    def in_base(self, run_id: str) -> bool:
        """Whether this finished run is read from the shipped evidence base (the user's store
        does not hold it finished)."""
        if self._base is None or run_id not in self._base.ids:
            return False
        row = self._con.execute(
            "SELECT 1 FROM runs WHERE id = ? AND status = 'done'", (run_id,)
        ).fetchone()
        return row is None

    def put_run(
        self,
        run_id: str,
        config: dict,
        metrics: dict,
        curve: list[dict],
        env: dict,
        started: float,
        finished: float,
        status: str = "done",
    ) -> None:
        """Store one run in one transaction. A finished run is never replaced (idempotent);
        a failed one is replaced by the next attempt."""
        if status not in STATUSES:
            raise BadInput(f"status {status!r} is not accepted; expected one of {STATUSES}")
        row = (
            run_id,
            str(config.get("arch", "")),
            str(config.get("task", "")),
            _seq_len(config.get("task_config") or {}, metrics),
            config.get("seed"),
            status,
            canonical_json(config),
            canonical_json(metrics),
            canonical_json(curve),
            canonical_json(env),
            float(started),
            float(finished),
        )
        with self._transaction() as con:
            con.execute(
                "INSERT INTO runs (id, arch, task, seq_len, seed, status, config, metrics, "
                "curve, env, started, finished) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET arch=excluded.arch, task=excluded.task, "
                "seq_len=excluded.seq_len, seed=excluded.seed, status=excluded.status, "
                "config=excluded.config, metrics=excluded.metrics, curve=excluded.curve, "
                "env=excluded.env, started=excluded.started, finished=excluded.finished "
                "WHERE runs.status != 'done'",
                row,
            )

    def get_run(self, run_id: str) -> Run | None:
        row = self._con.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        mine_done = row is not None and row["status"] == "done"
        if not mine_done and self._base is not None and run_id in self._base.ids:
            # the base's finished run, unless the user finished it too (a failed try of the
            # user's does not hide a finished run)
            return _copied(next(r for r in self._base.runs if r.id == run_id))
        return None if row is None else run_of(row)

    def runs(
        self,
        task: str | None = None,
        arch: str | None = None,
        seq_len: int | None = None,
        status: str | None = "done",
    ) -> list[Run]:
        """Stored runs, oldest first, filtered by task, arch, seq_len and status (None = any)."""
        where, args = [], []
        for column, value in (("task", task), ("arch", arch), ("seq_len", seq_len)):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        if status is not None:
            where.append("status = ?")
            args.append(status)
        sql = "SELECT * FROM runs" + (" WHERE " + " AND ".join(where) if where else "")
        rows = self._con.execute(sql + " ORDER BY finished, id", args).fetchall()
        mine = [run_of(r) for r in rows]
        if self._base is None or status not in (None, "done"):
            return mine
        base_ids = self._base.ids
        mine = [r for r in mine if r.status == "done" or r.id not in base_ids]
        have = {r.id for r in mine}
        from_base = [
            r
            for r in self._base.runs
            if r.id not in have
            and task in (None, r.task)
            and arch in (None, r.arch)
            and (seq_len is None or _seq_len(r.config.task_config, r.metrics) == seq_len)
        ]
        if not from_base:
            return mine
        from_base = _copied(from_base)  # the base's rows are shared by every store here
        return sorted(from_base + mine, key=lambda r: (r.finished, r.id))

    # -- measurements ------------------------------------------------------------------------

    def put_measurement(self, kind: str, key: dict, value: dict, env: dict | None = None) -> str:
        """Store a measurement; the same (kind, key) on the same machine replaces the older one.

        id = run_id({kind, key, machine}) with machine = (hostname, CPU model).
        """
        env = environment() if env is None else env
        machine = {"hostname": env.get("hostname"), "cpu": env.get("cpu")}
        mid = run_id({"kind": kind, "key": key, "machine": machine})
        with self._transaction() as con:
            con.execute(
                "INSERT OR REPLACE INTO measurements VALUES (?, ?, ?, ?, ?, ?)",
                (
                    mid,
                    kind,
                    canonical_json(key),
                    canonical_json(value),
                    canonical_json(env),
                    time.time(),
                ),
            )
        return mid

    def measurements(self, kind: str | None = None) -> list[dict]:
        sql, args = "SELECT * FROM measurements", ()
        if kind is not None:
            sql, args = sql + " WHERE kind = ?", (kind,)
        rows = self._con.execute(sql + " ORDER BY created, id", args).fetchall()
        mine = [
            {
                "id": r["id"],
                "kind": r["kind"],
                "key": json.loads(r["key"]),
                "value": json.loads(r["value"]),
                "env": json.loads(r["env"]),
                "created": r["created"],
            }
            for r in rows
        ]
        if self._base is None:
            return mine
        have = {m["id"] for m in mine}
        from_base = [
            m
            for m in self._base.measurements
            if (kind is None or m["kind"] == kind) and m["id"] not in have
        ]
        # oldest first, as the user's own: a reader taking the newest prefers this machine's
        return sorted(_copied(from_base) + mine, key=lambda m: (m["created"], m["id"]))

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Snapshot(Reader):
    """A store read once — its runs and measurements, the shipped base beneath — answering the
    same read interface, so a report build (the ledger, the trade-off tables, every figure)
    opens the store once and decides each table once (``memo``). Nothing is written to it."""

    def __init__(self, db: str | Path):
        with Store(db) as store:
            self.path = store.path
            self._runs = store.runs(status=None)
            self._measurements = store.measurements()
        self._by_id = {r.id: r for r in self._runs}  # one row per id (the store's own rule)
        self.memo: dict[Any, Any] = {}  # what readers decided from this snapshot

    def runs(
        self,
        task: str | None = None,
        arch: str | None = None,
        seq_len: int | None = None,
        status: str | None = "done",
    ) -> list[Run]:
        return _copied(
            [
                r
                for r in self._runs
                if task in (None, r.task)
                and arch in (None, r.arch)
                and status in (None, r.status)
                and (seq_len is None or _seq_len(r.config.task_config, r.metrics) == seq_len)
            ]
        )

    def get_run(self, run_id: str) -> Run | None:
        run = self._by_id.get(run_id)
        return None if run is None else _copied(run)

    def has_run(self, run_id: str) -> bool:
        run = self._by_id.get(run_id)
        return run is not None and run.status == "done"

    def measurements(self, kind: str | None = None) -> list[dict]:
        return _copied([m for m in self._measurements if kind is None or m["kind"] == kind])

    def __enter__(self) -> Snapshot:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


def reading(db: str | Path | Snapshot) -> Reader:
    """``db`` opened for reading: a :class:`Snapshot` as it is, a path as a :class:`Store`
    (both are context managers)."""
    return db if isinstance(db, Snapshot) else Store(db)
