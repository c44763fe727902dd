r"""The user's own data: CSV or NPZ files as sequence classification, regression or forecasting.

``from_files(path, kind=...)`` reads the file once, checks every value, and returns a task.

Layouts
-------
kind="classify" | "regress", CSV: one sequence per row, its values in order, the target in the
last column (``target="first"`` for the first). An optional header row (detected: none of its
sequence cells is a number). Class labels may be any text; regression targets are numbers.

    t0,t1,t2,t3,label          ← header (optional)
    0.1,0.5,0.9,1.2,up
    1.0,0.7,0.2,0.1,down

kind="classify" | "regress", NPZ: arrays ``x`` (N, T) or (N, T, D), ``y`` (N,) labels or (N,) /
(N, O) numbers, and optionally ``lengths`` (N,) for right-padded variable-length sequences
(values after a sequence's end are ignored, NaN allowed there).

kind="forecast", CSV: one value per row (time runs down), in the only column or the one named
by ``column`` (a header name, or a 1-based number as text); NPZ: a 1-D array ``series`` (or the
one named by ``column``).

Every value must be a finite number; the first bad one stops the load with an error naming the
file, the row and the column (CSV: 1-based, as a spreadsheet shows them, the header is row 1;
NPZ: the array and its 0-based indices). Ragged rows (a different number of columns), empty
files, text where a number belongs and infinities are refused. Missing values (an empty cell,
NaN, NA) in sequences are refused in one line with their count and first positions; in a
forecast series they are filled as forecasting libraries do (pandas' ``interpolate()``, which
statsmodels' own co2 example uses): linear interpolation between the neighbours, the nearest
value before the first or after the last one — counted in the data card (:func:`data_card`).
A series with more than ``MAX_MISSING`` of its values missing is refused the same way.

Splits: classification and regression rows are split by a seeded permutation
(``val_fraction``, ``test_fraction``); a forecast series is split by time.
"""

from __future__ import annotations

import csv
import functools
import math
import os
import zipfile
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ..errors import BadInput
from .base import check_choice, check_range
from .forecast import Forecasting
from .labelled import LabelledSequences, Split

FILE_KINDS = ("classify", "regress", "forecast")
SUFFIXES = (".csv", ".npz")
TARGETS = ("last", "first")


# ---------------------------------------------------------------------------------------------
# Reading and checking


MISSING = ("", "nan", "na", "n/a", "null", "none")  # cells read as a missing value
MAX_MISSING = 0.2  # the largest fraction of a forecast series filled rather than refused


def _is_missing(cell: str) -> bool:
    return cell.strip().lower() in MISSING


def _missing_error(path: str, what: str, where: list[str], total: int, expected: str) -> BadInput:
    """One line: how many values are missing, the first few positions, what is expected."""
    first = ", ".join(where[:3]) + (", …" if len(where) > 3 else "")
    return BadInput(
        f"{path}: {len(where)} of {total} values {what} missing (empty or NaN; first at "
        f"{first}); expected {expected}"
    )


def _number(path: str, row: int, col: int, cell: str) -> float:
    """A CSV cell as a finite float, or an error naming file, row and column (1-based)."""
    text = cell.strip()
    if text == "":
        raise BadInput(f"{path}: row {row}, column {col} is empty; expected a number")
    try:
        value = float(text)
    except ValueError:
        raise BadInput(f"{path}: row {row}, column {col}: {text!r} is not a number") from None
    if math.isnan(value):
        raise BadInput(f"{path}: row {row}, column {col} is NaN; expected a number")
    if math.isinf(value):
        raise BadInput(f"{path}: row {row}, column {col} is {text!r}; expected a finite number")
    return value


def _is_number(cell: str) -> bool:
    try:
        float(cell)
        return True
    except ValueError:
        return False


def _read_csv(path: str) -> list[tuple[int, list[str]]]:
    """[(row number, cells)], blank lines skipped; every row must have the same width."""
    with open(path, newline="") as f:
        rows = [(i, r) for i, r in enumerate(csv.reader(f), start=1) if any(c.strip() for c in r)]
    if not rows:
        raise BadInput(f"{path}: the file is empty; expected rows of comma-separated numbers")
    width = len(rows[0][1])
    for i, r in rows:
        if len(r) != width:
            raise BadInput(
                f"{path}: row {i}, column {min(len(r), width) + 1}: the row has {len(r)} "
                f"columns, expected {width} as in row {rows[0][0]} (ragged rows are refused; "
                f"pad them, or use NPZ with a 'lengths' array)"
            )
    return rows


def _split_header(
    rows: list[tuple[int, list[str]]], cols: list[int]
) -> tuple[list[str] | None, list]:
    """Take the first row as a header when none of its cells in ``cols`` is a number."""
    first = rows[0][1]
    if not any(_is_number(first[c]) for c in cols):
        return first, rows[1:]
    return None, rows


def _load_npz(path: str) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except ValueError as e:
        if "allow_pickle" in str(e) or "Object arrays" in str(e):
            raise BadInput(
                f"{path}: holds a ragged or object array; expected equal-length numeric arrays "
                f"(right-pad variable-length sequences and add a 'lengths' array)"
            ) from None
        raise BadInput(f"{path}: is not a readable NPZ file ({e})") from None
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        raise BadInput(f"{path}: is not a readable NPZ file ({e})") from None


def _check_numeric(
    path: str, name: str, a: np.ndarray, valid: np.ndarray | None = None
) -> np.ndarray:
    """``a`` as float64, or an error naming the array and the index of its first bad value."""
    if a.size == 0:
        raise BadInput(f"{path}: array {name!r} is empty; expected at least one value")
    if not np.issubdtype(a.dtype, np.number) or np.issubdtype(a.dtype, np.complexfloating):
        for idx in np.ndindex(a.shape):
            if not _is_number(str(a[idx])):
                where = ", ".join(map(str, idx))
                col = idx[1] if len(idx) > 1 else 0
                raise BadInput(
                    f"{path}: array {name!r} row {idx[0]}, column {col}: {str(a[idx])!r} is "
                    f"not a number ({name}[{where}])"
                )
    f = a.astype(np.float64)
    gaps = np.isnan(f) if valid is None else np.isnan(f) & valid
    if gaps.any():
        where = [f"{name}[{', '.join(map(str, i))}]" for i in np.argwhere(gaps)[:4]]
        total = int(f.size if valid is None else valid.sum())
        raise BadInput(
            f"{path}: {int(gaps.sum())} of {total} values of array {name!r} are missing (NaN; "
            f"first at {', '.join(where[:3])}{', …' if gaps.sum() > 3 else ''}); expected a "
            "number everywhere (variable-length sequences: a 'lengths' array)"
        )
    bad = ~np.isfinite(f) if valid is None else ~np.isfinite(f) & valid
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        where = ", ".join(map(str, idx))
        what = "NaN" if np.isnan(f[idx]) else "not finite"
        col = idx[1] if len(idx) > 1 else 0
        raise BadInput(
            f"{path}: array {name!r} row {idx[0]}, column {col} is {what} ({name}[{where}])"
        )
    return f


def _check_path(path: str) -> str:
    p = Path(path)
    if p.suffix.lower() not in SUFFIXES:
        raise BadInput(
            f"file {path!r} is not accepted; expected a name ending in {', '.join(SUFFIXES)}"
        )
    if not p.is_file():
        raise BadInput(f"file {path!r} does not exist or is not a file")
    return p.suffix.lower()


def _stamp(path: str) -> tuple[int, int]:
    st = os.stat(path)
    return st.st_mtime_ns, st.st_size  # a changed file is read again


@functools.lru_cache(maxsize=16)
def read_sequences(
    path: str, problem: str, target: str, stamp: tuple[int, int]
) -> tuple[list[np.ndarray], np.ndarray]:
    """(sequences (T_n, D) float64, targets: label strings (N,) or floats (N, O))."""
    if _check_path(path) == ".csv":
        rows = _read_csv(path)
        width = len(rows[0][1])
        if width < 2:
            raise BadInput(f"{path}: rows have {width} column; expected values and a target")
        t_col = width - 1 if target == "last" else 0
        seq_cols = [c for c in range(width) if c != t_col]
        _, rows = _split_header(rows, seq_cols)
        if not rows:
            raise BadInput(f"{path}: has a header but no data rows")
        gaps = [f"row {i} column {c + 1}" for i, r in rows for c in seq_cols if _is_missing(r[c])]
        if gaps:
            raise _missing_error(
                path,
                "in the sequences are",
                gaps,
                len(rows) * len(seq_cols),
                "a number in every cell (variable-length sequences: an NPZ with a 'lengths' array)",
            )
        seqs, targets = [], []
        for i, r in rows:
            seqs.append(np.array([[_number(path, i, c + 1, r[c])] for c in seq_cols]))
            if problem == "classify":
                if not r[t_col].strip():
                    raise BadInput(f"{path}: row {i}, column {t_col + 1} (the label) is empty")
                targets.append(r[t_col].strip())
            else:
                targets.append([_number(path, i, t_col + 1, r[t_col])])
        return seqs, np.array(targets)
    return _sequences_from_arrays(path, _load_npz(path), problem)


def _sequences_from_arrays(
    path: str, arrays: dict[str, np.ndarray], problem: str
) -> tuple[list[np.ndarray], np.ndarray]:
    """An NPZ's ``x``, ``y`` (and ``lengths``) as sequences and targets, every value checked."""
    for key in ("x", "y"):
        if key not in arrays:
            raise BadInput(f"{path}: has no array {key!r}; found {', '.join(arrays) or 'none'}")
    x, y = arrays["x"], arrays["y"]
    if x.ndim not in (2, 3):
        raise BadInput(f"{path}: array 'x' of shape {x.shape}; expected (N, T) or (N, T, D)")
    x = x[..., None] if x.ndim == 2 else x
    N, T = x.shape[:2]
    if len(y) != N:
        raise BadInput(f"{path}: array 'y' has {len(y)} rows, expected {N} as 'x'")
    lengths = np.full(N, T)
    if "lengths" in arrays:
        lengths = _check_numeric(path, "lengths", arrays["lengths"]).astype(np.int64)
        bad = np.flatnonzero((lengths < 1) | (lengths > T))
        if lengths.shape != (N,) or len(bad):
            row = int(bad[0]) if len(bad) else 0
            raise BadInput(
                f"{path}: array 'lengths' row {row} is not accepted; expected N = {N} "
                f"integers in [1, {T}]"
            )
    valid = (np.arange(T)[None, :] < lengths[:, None])[..., None].repeat(x.shape[2], axis=2)
    xf = _check_numeric(path, "x", x, valid)
    seqs = [xf[n, : lengths[n]] for n in range(N)]
    if problem == "classify":
        if y.ndim != 1:
            raise BadInput(f"{path}: array 'y' of shape {y.shape}; expected (N,) labels")
        return seqs, y.astype(str)
    yf = _check_numeric(path, "y", y)
    return seqs, yf.reshape(N, -1)


def read_inputs(
    path: str, width: int | None, input_size: int, problem: str, target: str = "last"
) -> tuple[list[np.ndarray], np.ndarray | None]:
    """Sequences to predict, from a file in the training layout, and their targets when the
    file has them (then ``seqarch predict`` scores itself against them).

    CSV: rows of ``width`` values (the training rows' length) and no target, or ``width`` + 1
    columns where the target sits as in training (``target``: "last" or "first"); ``width``
    None accepts any width and reads no target. NPZ: ``x`` (N, T) or (N, T, D), optional
    ``y`` and ``lengths``. A feature count other than ``input_size`` is refused naming both."""
    if _check_path(path) == ".csv":
        rows = _read_csv(path)
        have = len(rows[0][1])
        if width is not None and have not in (width, width + 1):
            raise BadInput(
                f"{path}: rows have {have} columns; expected {width} values (the model's "
                f"training length) or {width + 1} with the target as in training"
            )
        if input_size != 1:
            raise BadInput(
                f"{path}: a CSV row is one feature per step, the model reads {input_size}; "
                "expected an NPZ with x (N, T, D)"
            )
        if width is not None and have == width + 1:
            return read_sequences(path, problem, target, _stamp(path))
        _, rows = _split_header(rows, list(range(have)))
        seqs = [np.array([[_number(path, i, c + 1, r[c])] for c in range(have)]) for i, r in rows]
        if not seqs:
            raise BadInput(f"{path}: has a header but no data rows")
        return seqs, None
    arrays = _load_npz(path)
    if "x" not in arrays:
        raise BadInput(f"{path}: has no array 'x'; found {', '.join(arrays) or 'none'}")
    x = arrays["x"]
    D = 1 if x.ndim == 2 else x.shape[-1]
    if x.ndim in (2, 3) and D != input_size:
        raise BadInput(
            f"{path}: x has {D} feature(s) per step, the model was trained on {input_size}; "
            "expected x (N, T, D) with the training D"
        )
    if "y" in arrays:
        return read_sequences(path, problem, target, _stamp(path))
    seqs, _ = _sequences_from_arrays(path, dict(arrays, y=np.zeros(len(x))), "regress")
    return seqs, None


def _only_numeric_column(path: str, rows: list[tuple[int, list[str]]]) -> int:
    """The series when no column is named: the only column whose data cells are all numbers
    (a date or label column is not; a header row is skipped). Several candidates, or none:
    one line naming the columns and how to choose."""
    width = len(rows[0][1])
    header = rows[0][1] if not all(_is_number(c) for c in rows[0][1]) else None
    data = rows[1:] if header is not None else rows
    numeric = [  # numbers, with gaps allowed (filled later), but not only gaps
        c
        for c in range(width)
        if data
        and all(_is_number(r[c]) or _is_missing(r[c]) for _, r in data)
        and not all(_is_missing(r[c]) for _, r in data)
    ]
    if len(numeric) == 1:
        return numeric[0]
    names = [header[c] if header else str(c + 1) for c in range(width)]
    found = ", ".join(f"{n!r}" for n in names)
    if not numeric:
        raise BadInput(f"{path}: no column holds only numbers (columns {found}); expected one")
    candidates = ", ".join(names[c] for c in numeric)
    raise BadInput(
        f"{path}: {len(numeric)} numeric columns ({candidates}); choose the series with "
        "--column NAME or --column N (1-based)"
    )


SEASONS = ((0.9, 1.1, 7), (6, 8, 52), (27, 32, 12), (88, 93, 4))  # days between rows → m


def infer_season(path: str, column: str | None = None) -> int:
    """The season m of a CSV series from its date column: 12 for monthly rows (2024-01 or
    2024-01-31), 4 quarterly, 52 weekly, 7 daily; 1 (no season) for anything else, an NPZ, or
    no date column. The seasonal-naive baseline and MASE then compare against last season."""
    if _check_path(path) != ".csv":
        return 1
    rows = _read_csv(path)
    header = rows[0][1] if not all(_is_number(c) for c in rows[0][1]) else None
    data = [r for _, r in (rows[1:] if header is not None else rows)]
    for c in range(len(data[0]) if data else 0):
        if all(_is_number(r[c]) or _is_missing(r[c]) for r in data):
            continue  # a value column (gaps allowed), not dates
        try:
            dates = np.array([r[c].strip() for r in data], dtype="datetime64[D]")
        except ValueError:
            continue
        if len(dates) < 3:
            return 1
        days = float(np.median(np.diff(dates).astype(float)))
        return next((m for lo, hi, m in SEASONS if lo <= days <= hi), 1)
    return 1


def fill_missing(values: np.ndarray) -> np.ndarray:
    """NaNs filled as pandas' ``interpolate(limit_direction="both")``: linearly between the
    nearest known neighbours, the nearest known value before the first or after the last."""
    known = np.flatnonzero(~np.isnan(values))
    if len(known) == len(values):
        return values
    return np.interp(np.arange(len(values)), known, values[known])


@functools.lru_cache(maxsize=16)
def read_series_with_gaps(
    path: str, column: str | None, stamp: tuple[int, int]
) -> tuple[np.ndarray, tuple[str, ...]]:
    """A 1-D float64 series (NaN where a value is missing) from a CSV column or an NPZ array,
    and where the missing values are ("row 5" in a CSV, as a spreadsheet counts; "[4]" in an
    NPZ). Text and infinities are refused; so is a series missing more than ``MAX_MISSING``."""
    if _check_path(path) == ".npz":
        arrays = _load_npz(path)
        key = column or ("series" if "series" in arrays else None)
        if key is None and len(arrays) == 1:
            key = next(iter(arrays))
        if key not in arrays:
            raise BadInput(
                f"{path}: has no array {key!r}; found {', '.join(arrays) or 'none'} "
                f"(name one with column=...)"
            )
        a = arrays[key]
        if a.ndim != 1:
            raise BadInput(f"{path}: array {key!r} of shape {a.shape}; expected a 1-D series")
        gaps = np.isnan(a.astype(np.float64)) if np.issubdtype(a.dtype, np.floating) else None
        values = _check_numeric(path, key, a, None if gaps is None else ~gaps)
        where = () if gaps is None else tuple(f"{key}[{i}]" for i in np.flatnonzero(gaps))
        what = f"of array {key!r}"
    else:
        rows = _read_csv(path)
        width = len(rows[0][1])
        first = rows[0][1]
        if column is None:
            col = _only_numeric_column(path, rows)
        elif column in first:
            col = first.index(column)
        elif column.isdigit() and 1 <= int(column) <= width:
            col = int(column) - 1
        else:
            raise BadInput(
                f"column={column!r} is not accepted; expected one of {', '.join(first)} "
                f"or a number 1-{width}"
            )
        named = column is not None and column in first and not _is_number(column)
        if named or not (_is_number(first[col]) or _is_missing(first[col])):
            rows = rows[1:]  # a header (a missing first value is data, not a header)
        if not rows:
            raise BadInput(f"{path}: has a header but no data rows")
        values = np.array(
            [np.nan if _is_missing(r[col]) else _number(path, i, col + 1, r[col]) for i, r in rows]
        )
        where = tuple(f"row {i}" for i, r in rows if _is_missing(r[col]))
        what = f"of column {col + 1}"
    if where and (len(where) > MAX_MISSING * len(values) or len(where) == len(values)):
        raise _missing_error(
            path,
            f"{what} are",
            list(where),
            len(values),
            f"at most {MAX_MISSING:.0%} missing to fill them (linear interpolation); fill or "
            "drop the gaps yourself",
        )
    return values, where


def read_series(path: str, column: str | None, stamp: tuple[int, int]) -> np.ndarray:
    """A 1-D float64 series from a CSV column or an NPZ array, missing values filled
    (:func:`fill_missing`)."""
    return fill_missing(read_series_with_gaps(path, column, stamp)[0])


# ---------------------------------------------------------------------------------------------
# The tasks


@dataclass(frozen=True)
class FileSequences(LabelledSequences):
    """Classify or regress whole sequences read from the user's CSV or NPZ file."""

    name: ClassVar[str] = "file_sequences"

    path: str = ""
    problem: str = "classify"  # "classify" | "regress"
    target: str = "last"  # CSV: the target column, "last" or "first"
    seq_len: int | None = None  # crop to the first seq_len steps (None = whole)
    last: int | None = None  # then keep only each sequence's last k steps (None = all)
    val_fraction: float = 0.15
    test_fraction: float = 0.15
    normalize: bool = True
    seed: int = 0  # which rows fall in which split

    def validate(self) -> None:
        super().validate()
        check_choice("problem", self.problem, ("classify", "regress"))
        check_choice("target", self.target, TARGETS)
        check_range("val_fraction", self.val_fraction, 0.0, 0.9)
        check_range("test_fraction", self.test_fraction, 0.0, 0.9 - self.val_fraction)
        self._splits()  # read and check the file now, so bad data fails at construction

    @property
    def kind(self) -> str:  # type: ignore[override]
        return self.problem

    @property
    def metric(self) -> str:  # type: ignore[override]
        return "accuracy" if self.problem == "classify" else "mse"

    @property
    def higher_is_better(self) -> bool:  # type: ignore[override]
        return self.problem == "classify"

    def _version(self) -> object:
        return _stamp(self.path)  # an edited file is read again

    def _read(self) -> tuple[list[np.ndarray], np.ndarray]:
        return read_sequences(self.path, self.problem, self.target, _stamp(self.path))

    @property
    def classes(self) -> tuple[str, ...]:
        from .ucr import _label_order

        return tuple(sorted(set(self._read()[1].tolist()), key=_label_order))

    def _load_splits(self) -> dict[str, Split]:
        seqs, targets = self._read()
        N = len(seqs)
        n_test, n_val = round(self.test_fraction * N), round(self.val_fraction * N)
        if N - n_test - n_val < 1:
            raise BadInput(f"{self.path}: {N} rows leave none to train on; expected more rows")
        if self.problem == "classify":
            ids = {c: i for i, c in enumerate(self.classes)}
            targets = np.array([ids[t] for t in targets])
        order = np.random.default_rng(self.seed).permutation(N)
        parts = {
            "test": order[:n_test],
            "val": order[n_test : n_test + n_val],
            "train": order[n_test + n_val :],
        }
        for split, idx in parts.items():
            if len(idx) == 0:
                raise BadInput(
                    f"{self.path}: {N} rows give an empty {split} split; expected more rows "
                    f"or a larger {split}_fraction"
                )
        return {s: ([seqs[i] for i in idx], targets[idx]) for s, idx in parts.items()}


@dataclass(frozen=True)
class FileForecast(Forecasting):
    """Forecast the user's own series (one CSV column or a 1-D NPZ array), MASE-scored."""

    name: ClassVar[str] = "file_forecast"

    path: str = ""
    column: str | None = None  # CSV header name or 1-based number; NPZ array name
    season: int = 1  # m of the seasonal-naive baseline (1 = the naive last-value forecast)
    seq_len: int = 24
    steps_ahead: int = 1
    train_fraction: float = 0.7
    val_fraction: float = 0.15
    seed: int = 0  # unused: windows are not sampled

    def series_values(self) -> np.ndarray:
        return read_series(self.path, self.column, _stamp(self.path))

    @property
    def season_length(self) -> int:
        return self.season

    @property
    def filled(self) -> tuple[str, ...]:
        """Where values were missing and filled by linear interpolation."""
        return read_series_with_gaps(self.path, self.column, _stamp(self.path))[1]

    def card(self, how: str | None = None) -> str:
        """The data card: what was read, the window and season (``how``: in words, with where
        they came from), the values filled."""
        line = f"{Path(self.path).name}: {len(self.series_values())} values; " + (
            how or f"window seq_len={self.seq_len}, season {self.season}"
        )
        if self.filled:
            rows = [w.removeprefix("row ") for w in self.filled]
            shown = ", ".join(rows[:3]) + (", …" if len(rows) > 3 else "")
            at = "rows" if self.filled[0].startswith("row ") else "at"
            line += (
                f"; {len(self.filled)} missing value(s) filled by linear interpolation "
                f"({at} {shown})"
            )
        return line


def forecast_options(path: str, column: str | None, seq_len: int) -> tuple[dict[str, Any], str]:
    """The forecast task's window and season for ``advise --data``, and the words that say
    them: the window is ``seq_len`` (the user's --seq-len); the season is read off the dates
    (:func:`infer_season`) and used when one season fits the window (the seasonal-naive
    baseline reads one season back inside it), else the naive last-value baseline (m = 1)."""
    m = infer_season(path, column)
    opts: dict[str, Any] = {"seq_len": seq_len} | ({"column": column} if column else {})
    words = f"window seq_len={seq_len} (--seq-len)"
    if m > 1 and m <= seq_len:
        opts["season"] = m
        words += f", season {m} read off the dates"
    elif m == 1:
        words += ", season 1 (no season in the dates)"
    else:
        words += (
            f"; the dates give a season of {m}, longer than the window: the baseline is the "
            f"last value (m = 1); give --seq-len ≥ {m} to compare against last season"
        )
    return opts, words


def from_files(
    path: str | os.PathLike, kind: str = "classify", **opts: Any
) -> FileSequences | FileForecast:
    """A task over the user's CSV or NPZ file; ``kind`` is "classify", "regress" or "forecast".

    Options are the fields of :class:`FileSequences` (classify, regress) or :class:`FileForecast`
    (forecast). Bad data raises ValueError naming the file, the row and the column.
    """
    check_choice("kind", kind, FILE_KINDS)
    cls = FileForecast if kind == "forecast" else FileSequences
    accepted = [f.name for f in fields(cls) if f.name not in ("path", "problem")]
    unknown = [k for k in opts if k not in accepted]
    if unknown:
        raise BadInput(
            f"option {unknown[0]!r} is not accepted by from_files(kind={kind!r}); "
            f"expected any of {', '.join(accepted)}"
        )
    path = os.fspath(path)
    _check_path(path)
    if kind == "forecast":
        return FileForecast(path=path, **opts)
    return FileSequences(path=path, problem=kind, **opts)
