"""Reading a user's file of points (CSV / TXT / NPY) into coordinates plus a summary.

`read_points(path)` and `parse_points(data, name)` return `(points, summary)`:
points float64 (N, D), D in {2, 3}, in the user's own units, and a
`PointsSummary` saying what was read: n, dims, the columns used and those
ignored (by name when there is a header), the separator, decimal mark,
encoding, and notes. Every refusal is a `DataError` that names the user's file
(its base name, never a temporary copy's path), the line or row, and the fix.

What is read
- Text: UTF-8 (with or without a byte-order mark), UTF-16 with a BOM (what
  spreadsheets save as "Unicode text") or without one, else Windows-1252.
  Blank lines, lines holding only separators, and lines starting with `#` are
  skipped.
- Separators: tab, semicolon, comma, `|` or runs of whitespace. The separator
  is the one that splits every sampled line into the same number (>= 2) of
  fields, the most of them numbers; ties go in that order. The splitting itself
  is pandas' CSV reader (quoted cells are unquoted there).
- Decimal mark: `.`, or `,` when numbers like `0,9803` appear (possible only
  when the separator is not a comma, or when such numbers are quoted). A file
  that mixes both marks is refused.
- Header: the first row is a header when none of its cells is a number.
- Columns never used as coordinates, each listed in `summary.ignored`:
  text columns (most cells not numbers, e.g. Datasaurus' `dataset`), columns
  named like a label (`label`, `class`, `target`, `category`, `cluster`, plural
  too) or a row id (`id`, `index`, `idx`), empty columns, and an unnamed first
  column of distinct non-negative integers (a pandas index, also shuffled) or a
  header-less first column counting 0, 1, 2, ... or 1, 2, 3, ... beside 2 or 3
  other numeric columns (beside one, it is a coordinate: (t, value) data).
- The remaining numeric columns must be 2 or 3; more, or a named column that
  counts like a row index, is refused with the columns to keep.
- NPY: a numeric array (N, 2) or (N, 3), or a structured array whose numeric
  fields go through the same column rules (so a field named `label` is ignored).
- Classes: the first column (or NPY field) named like a label gives
  `summary.classes` (its distinct values as text, numbers in numeric order) and
  `summary.class_counts`; training does not use them (points_file is unlabelled).
- Values: NaN, infinities and values beyond float32's range (|x| > 3.4e38) are
  refused naming the line; 10 to 1,000,000 points, at most 50 MB.

`to_float32(points)` turns float64 points into what the models train on without
losing precision far from the origin (see its docstring).
"""
from __future__ import annotations

import csv
import io
import math
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import pandas as pd

from ganlab.errors import DataError

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_FILE_POINTS = 1_000_000
MIN_FILE_POINTS = 10
SNIFF_LINES = 500  # lines used to choose the separator: enough to be sure, cheap on 1M rows
# Shift far-away points when their centre is this many spreads from the origin: beyond it
# float32 rounding (2**-24 of the magnitude) exceeds ~6e-4 of the spread.
SHIFT_RATIO = 1e4
FLOAT32_MAX = float(np.finfo(np.float32).max)

LABEL_NAMES = frozenset({"label", "labels", "class", "classes", "target", "targets", "category",
                         "categories", "cluster", "clusters"})
ID_NAMES = frozenset({"id", "ids", "index", "idx"})
# (label shown to the user, value for pandas' sep): order breaks ties between equally good choices.
SEPARATORS = (("tab", "\t"), ("semicolon", ";"), ("comma", ","), ("pipe", "|"), ("whitespace", r"\s+"))

# A number with either decimal mark, as spreadsheets write them (used to sniff, not to convert).
_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$")
_COMMA_DECIMAL = re.compile(r"^[+-]?(\d+,\d*|,\d+)([eE][+-]?\d+)?$")
_DOT_DECIMAL = re.compile(r"^[+-]?(\d+\.\d*|\.\d+)([eE][+-]?\d+)?$")
_SPECIAL = frozenset({"nan", "+nan", "-nan", "inf", "+inf", "-inf", "infinity", "+infinity",
                      "-infinity"})


@dataclass
class PointsSummary:
    """What a points file was read as (JSON-friendly through `to_dict`).

    file: the file's base name as the user knows it.
    n, dims: the number of points and coordinates per point (2 or 3).
    columns: names of the coordinate columns, in order ("column 1", ... without a header).
    ignored: one {"name", "reason"} per column not used as a coordinate.
    separator: "comma" | "semicolon" | "tab" | "pipe" | "whitespace" | "" (NPY).
    decimal: "." or ",".
    header: whether the first row held column names.
    encoding: "utf-8", "utf-8 with BOM", "utf-16", "windows-1252" or "npy".
    notes: sentences worth showing (dropped index, skipped lines, ...).
    classes, class_counts: the label column's classes (as text) and {class: rows}; empty
    without a label column, as an image summary's are without class folders.
    """

    file: str
    n: int = 0
    dims: int = 0
    columns: list[str] = field(default_factory=list)
    ignored: list[dict[str, str]] = field(default_factory=list)
    separator: str = ""
    decimal: str = "."
    header: bool = False
    encoding: str = ""
    notes: list[str] = field(default_factory=list)
    classes: list[str] = field(default_factory=list)
    class_counts: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """{"kind": "points", "file", "n", "dims", "columns", "ignored", ..., "notes", "classes",
        "class_counts"}."""
        return {"kind": "points", **asdict(self)}


def read_points(path: str | Path, name: str | None = None) -> tuple[np.ndarray, PointsSummary]:
    """A points file on disk -> (float64 (N, D) points in the file's units, summary).

    `name` is the file name to put in messages (default: the path's base name),
    so an upload saved under a temporary path is still called by its own name.
    Raises DataError (missing, too big, or any of the module docstring's rules).
    """
    p = Path(path)
    shown = name or p.name
    if not p.is_file():
        raise DataError(f"points file {str(p)!r} does not exist; give the path of a .csv, .txt or .npy file")
    size = p.stat().st_size
    if size > MAX_FILE_BYTES:
        raise DataError(f"points file {shown!r} is {size / 2**20:.0f} MB; the limit is "
                        f"{MAX_FILE_BYTES // 2**20} MB: subsample it")
    return parse_points(p.read_bytes(), shown)


def parse_points(data: bytes, name: str) -> tuple[np.ndarray, PointsSummary]:
    """The bytes of a points file called `name` -> (float64 (N, D) points, summary).

    NPY is recognised by its magic bytes (whatever the suffix); anything else is
    read as delimited text. Raises DataError naming `name`.
    """
    name = Path(name).name or "points"
    if not data:
        raise DataError(f"points file {name!r} is empty; it needs one point per row, 2 or 3 columns")
    if len(data) > MAX_FILE_BYTES:
        raise DataError(f"points file {name!r} is {len(data) / 2**20:.0f} MB; the limit is "
                        f"{MAX_FILE_BYTES // 2**20} MB: subsample it")
    summary = PointsSummary(file=name)
    if data.startswith(b"\x93NUMPY") or name.lower().endswith(".npy"):
        points = _parse_npy(data, summary)
    else:
        points = _parse_text(data, summary)
    _check_count(points, summary)
    summary.n, summary.dims = points.shape
    return points, summary


def check_array(values: np.ndarray, name: str = "your points") -> tuple[np.ndarray, PointsSummary]:
    """An in-memory array of points (e.g. drawn in the app) -> (float64 (N, D), summary),
    through the same checks as a file: numbers, shape (N, 2|3), finite, representable
    in float32, MIN_FILE_POINTS..MAX_FILE_POINTS distinct-enough points. DataError otherwise."""
    summary = PointsSummary(file=name, encoding="array")
    arr = np.asarray(values)
    if arr.dtype.kind not in "fiu":
        raise DataError(f"{name} holds {arr.dtype} values; it must hold numbers")
    if arr.ndim != 2 or arr.shape[1] not in (2, 3):
        raise DataError(f"{name} has shape {tuple(arr.shape)}; it needs 2 or 3 columns (x, y[, z]), "
                        "one point per row")
    points = _check_values(arr.astype(np.float64), summary)
    _check_count(points, summary)
    summary.n, summary.dims = points.shape
    summary.columns = ["x", "y", "z"][:points.shape[1]]
    return points, summary


# --- NPY ----------------------------------------------------------------------------

def _parse_npy(data: bytes, s: PointsSummary) -> np.ndarray:
    s.encoding = "npy"
    try:
        arr = np.load(io.BytesIO(data), allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise DataError(f"points file {s.file!r} is not a readable .npy array ({exc}); save it with "
                        "numpy.save of a float array of shape (N, 2) or (N, 3)") from None
    if arr.dtype.names:  # structured array: fields are named columns
        names = list(arr.dtype.names)
        cells = {n: arr[n] for n in names}
        numeric = [n for n in names if cells[n].dtype.kind in "fiu" and cells[n].ndim == 1]
        for n in names:
            if n not in numeric:
                s.ignored.append({"name": n, "reason": "not numbers"})
        s.header = True
        s.columns = _choose_columns(s, {n: cells[n].astype(np.float64) for n in numeric}, header=True)
        label = next((n for n in names if n.strip().lower() in LABEL_NAMES and cells[n].ndim == 1), None)
        if label is not None:
            _record_classes(s, (_npy_cell(v) for v in cells[label]))
        return _check_values(np.stack([cells[c].astype(np.float64) for c in s.columns], axis=1), s)
    if arr.dtype.kind not in "fiu":
        raise DataError(f"points file {s.file!r} holds {arr.dtype} values; it must hold numbers "
                        "(a float array of shape (N, 2) or (N, 3))")
    if arr.ndim != 2 or arr.shape[1] < 2:
        raise DataError(f"points file {s.file!r} has shape {tuple(arr.shape)}; it needs 2 or 3 columns "
                        "(x, y[, z]), one point per row")
    numeric = {f"column {j + 1}": arr[:, j].astype(np.float64) for j in range(arr.shape[1])}
    s.columns = _choose_columns(s, numeric, header=False, first_name="column 1")
    return _check_values(np.stack([numeric[c] for c in s.columns], axis=1), s)


# --- text ---------------------------------------------------------------------------

def _decode(data: bytes, s: PointsSummary) -> str:
    """Bytes -> text, recording the encoding; DataError for binary files."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding, label = "utf-16", "utf-16"
    elif data.startswith(b"\xef\xbb\xbf"):
        encoding, label = "utf-8-sig", "utf-8 with BOM"
    elif data.startswith(b"PK\x03\x04"):
        raise DataError(f"points file {s.file!r} is a zip archive (an Excel .xlsx workbook?), not text; "
                        "export the sheet as CSV (File > Save As > CSV UTF-8)")
    else:
        head = data[:4096]
        # UTF-16 without a BOM: every other byte of ASCII digits is zero.
        if len(head) >= 4 and head[1::2].count(0) > 0.4 * len(head[1::2]) and head[0::2].count(0) == 0:
            encoding, label = "utf-16-le", "utf-16"
        elif len(head) >= 4 and head[0::2].count(0) > 0.4 * len(head[0::2]) and head[1::2].count(0) == 0:
            encoding, label = "utf-16-be", "utf-16"
        elif b"\x00" in head:
            raise DataError(f"points file {s.file!r} is not text; upload a CSV / TXT of numbers "
                            "or a .npy file")
        else:
            encoding, label = "utf-8", "utf-8"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        if encoding != "utf-8":
            raise DataError(f"points file {s.file!r} is not valid {label} text; "
                            "save it again as CSV UTF-8") from None
        # Excel on Windows saves "CSV" in Windows-1252; only header names can differ.
        text, label = data.decode("cp1252", errors="replace"), "windows-1252"
    sample = text[:4096]
    # Numbers and separators are ASCII: mostly other characters means a binary file or the
    # wrong encoding (bytes that happen to start like a byte-order mark).
    if "\x00" in text or sum(c < "\x80" for c in sample) < 0.5 * len(sample):
        raise DataError(f"points file {s.file!r} is not text; upload a CSV / TXT of numbers or a .npy file")
    s.encoding = label
    return text


def _is_number(cell: str) -> bool:
    c = cell.strip().strip('"').strip()
    return bool(_NUMBER.match(c)) or c.lower() in _SPECIAL


def _blank(line: str) -> bool:
    """A line with nothing but separators, quotes and spaces (spreadsheets pad with ';;')."""
    return not line.strip(" \t,;|\"'\r\n\f\v")


def _fields(lines: list[str], sep: str) -> list[list[str]]:
    """Sniffing only: split sample lines quote-aware (csv module), whitespace with str.split."""
    if sep == r"\s+":
        return [ln.split() for ln in lines]
    return list(csv.reader(lines, delimiter=sep, quotechar='"', skipinitialspace=True))


def _sniff_separator(lines: list[str]) -> tuple[str, str]:
    """(label, pandas sep) of the separator that splits `lines` most consistently into numbers."""
    best: tuple[float, int, str, str] | None = None
    for rank, (label, sep) in enumerate(SEPARATORS):
        rows = _fields(lines, sep)
        widths = {len(r) for r in rows}
        if len(widths) != 1 or min(widths) < 2:
            continue
        body = rows[1:] or rows
        cells = [c for r in body for c in r]
        score = sum(_is_number(c) for c in cells) / max(len(cells), 1)
        key = (score, -rank)
        if best is None or key > (best[0], best[1]):
            best = (score, -rank, label, sep)
    if best is None:
        # No separator splits every line alike: let pandas report the first odd line.
        counts = {label: sum(len(r) for r in _fields(lines, sep)) for label, sep in SEPARATORS}
        label = max(counts, key=counts.get)
        return label, dict(SEPARATORS)[label]
    return best[2], best[3]


def _parse_text(data: bytes, s: PointsSummary) -> np.ndarray:
    text = _decode(data, s)
    kept: list[tuple[int, str]] = []  # (line number in the file, 1-based; the line)
    comments = 0
    for i, line in enumerate(text.splitlines(), start=1):
        if line.lstrip().startswith("#"):
            comments += 1
        elif not _blank(line):
            kept.append((i, line.strip()))
    if comments:
        s.notes.append(f"{comments} comment line(s) starting with # skipped")
    if not kept:
        raise DataError(f"points file {s.file!r} has no data rows; it needs one point per row, "
                        "2 or 3 numeric columns")
    s.separator, sep = _sniff_separator([ln for _, ln in kept[:SNIFF_LINES]])
    try:
        table = pd.read_csv(io.StringIO("\n".join(ln for _, ln in kept)), sep=sep, header=None,
                            dtype=str, keep_default_na=False, skip_blank_lines=False,
                            skipinitialspace=True, quotechar='"', engine="c")
    except pd.errors.ParserError as exc:
        m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        if m:
            line = kept[int(m.group(2)) - 1][0]
            raise DataError(f"points file {s.file!r} has rows of different lengths: line {line} has "
                            f"{m.group(3)} fields, the rows above have {m.group(1)} ({s.separator}-"
                            "separated); every row needs the same columns") from None
        raise DataError(f"points file {s.file!r} cannot be read as {s.separator}-separated text "
                        f"({exc}); save it as CSV with one point per row") from None
    grid = table.to_numpy(dtype=object)
    lines = [ln for ln, _ in kept]
    text_of = dict(kept)
    grid = np.vectorize(lambda c: c.strip(), otypes=[object])(grid) if grid.size else grid
    # Header: a first row in which no cell is a number.
    s.header = not any(_is_number(c) for c in grid[0])
    names = list(grid[0]) if s.header else [f"column {j + 1}" for j in range(grid.shape[1])]
    body, lines = (grid[1:], lines[1:]) if s.header else (grid, lines)
    if len(body) == 0:
        raise DataError(f"points file {s.file!r} has no data rows below its header; "
                        "it needs one point per row")
    s.decimal = _decimal_mark(body, lines, s)
    numeric: dict[str, np.ndarray] = {}
    display: list[str] = []
    for j, raw in enumerate(names):
        col = body[:, j]
        shown = raw if raw else f"(unnamed column {j + 1})"
        if shown in display:  # duplicate header names stay apart in messages and the summary
            shown = f"{shown} (column {j + 1})"
        display.append(shown)
        filled = np.array([c != "" for c in col])
        if not filled.any():
            s.ignored.append({"name": shown, "reason": "empty"})
            continue
        is_num = np.array([_is_number(c) for c in col])
        if is_num.sum() * 2 < filled.sum():
            s.ignored.append({"name": shown, "reason": "text"})
            continue
        strings = pd.Series(col, dtype=object)
        if s.decimal == ",":
            strings = strings.str.replace(",", ".", regex=False)
        values = pd.to_numeric(strings.where(is_num), errors="coerce").to_numpy(dtype=np.float64)
        numeric[shown] = _with_cell_check(values, col, filled, is_num, lines, shown, s,
                                          width=len(names), split=lambda ln: _fields([text_of[ln]], sep)[0])
    cols = _choose_columns(s, numeric, s.header, first_unnamed=not names[0] if s.header else False,
                           first_name=display[0])
    s.columns = cols
    label = next((j for j, n in enumerate(names) if s.header and n.strip().lower() in LABEL_NAMES), None)
    if label is not None:
        _record_classes(s, body[:, label])
    values = np.stack([numeric[c] for c in cols], axis=1)
    return _check_values(values, s, lines)


def _npy_cell(v: object) -> str:
    """One cell of an NPY label field as text: 2.0 -> "2" (as a CSV would write it), bytes decoded."""
    if isinstance(v, bytes):
        return v.decode("utf-8", errors="replace").strip()
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    return str(v).strip()


def _record_classes(s: PointsSummary, cells: Iterable[str]) -> None:
    """The label column's classes (empty cells skipped) and their row counts into `s`;
    numbers sort by value (2 before 10), then text by name."""
    counts = Counter(c for c in cells if c != "")

    def order(c: str) -> tuple[int, float, str]:
        try:
            return (0, float(c), c)
        except ValueError:
            return (1, 0.0, c)

    s.classes = sorted(counts, key=order)
    s.class_counts = {c: counts[c] for c in s.classes}


def _decimal_mark(body: np.ndarray, lines: list[int], s: PointsSummary) -> str:
    """"," when numbers like 0,98 appear, else "."; DataError if both marks are used."""
    comma = dot = None
    for i, row in enumerate(body):
        for c in row:
            if comma is None and _COMMA_DECIMAL.match(c):
                comma = (lines[i], c)
            elif dot is None and _DOT_DECIMAL.match(c):
                dot = (lines[i], c)
        if comma and dot:
            raise DataError(f"points file {s.file!r} mixes decimal marks: {dot[1]!r} on line {dot[0]} and "
                            f"{comma[1]!r} on line {comma[0]}; save it with one decimal mark")
    return "," if comma else "."


def _with_cell_check(values: np.ndarray, col: np.ndarray, filled: np.ndarray, is_num: np.ndarray,
                     lines: list[int], name: str, s: PointsSummary, width: int,
                     split: Callable[[int], list[str]]) -> np.ndarray:
    """Values of a numeric column; DataError at its first empty or non-number cell.

    pandas pads a short row with empty cells, so an empty cell's line is split
    again (`split(line number)`) to tell a short row from an empty cell.
    """
    bad = np.flatnonzero(~filled | ~is_num)
    if not len(bad):
        return values
    i = int(bad[0])
    more = f" ({len(bad)} such rows in this column)" if len(bad) > 1 else ""
    if filled[i]:
        raise DataError(f"points file {s.file!r}: line {lines[i]}: {col[i]!r} in column {name!r} is not "
                        f"numeric; fix or delete that row{more}")
    have = len(split(lines[i]))
    if have < width:
        raise DataError(f"points file {s.file!r} has rows of different lengths: line {lines[i]} has "
                        f"{have} field(s), the others {width} ({s.separator}-separated); every row needs "
                        "the same columns")
    raise DataError(f"points file {s.file!r}: line {lines[i]} has an empty cell in column {name!r}; "
                    f"fill it or delete that row{more}")


def _counts_like_index(v: np.ndarray) -> bool:
    """Exactly 0, 1, 2, ... or 1, 2, 3, ... in order."""
    n = len(v)
    return n > 1 and (np.array_equal(v, np.arange(n)) or np.array_equal(v, np.arange(1, n + 1)))


def _distinct_naturals(v: np.ndarray) -> bool:
    """Distinct non-negative integers: a pandas index, also after shuffling or filtering."""
    return bool(np.all(v >= 0) and np.all(v == np.round(v)) and len(np.unique(v)) == len(v))


def _choose_columns(s: PointsSummary, numeric: dict[str, np.ndarray], header: bool,
                    first_unnamed: bool = False, first_name: str | None = None) -> list[str]:
    """The 2 or 3 coordinate columns among `numeric` (name -> values), recording the rest."""
    coords = []
    for pos, (name, v) in enumerate(numeric.items()):
        key = name.strip().lower()
        is_first = name == first_name
        if key in LABEL_NAMES:
            s.ignored.append({"name": name, "reason": "label column"})
        elif key in ID_NAMES or key.startswith("unnamed:"):
            s.ignored.append({"name": name, "reason": "row id / index column"})
            if key.startswith("unnamed:"):
                s.notes.append(f"column {name!r} looks like a saved pandas index and was dropped")
        elif is_first and first_unnamed and _distinct_naturals(v):
            s.ignored.append({"name": name, "reason": "pandas index"})
            s.notes.append("the unnamed first column counts 0, 1, 2, ... (a pandas index, as "
                           "DataFrame.to_csv writes it) and was dropped")
        elif is_first and not header and len(numeric) in (3, 4) and _counts_like_index(v):
            # Only beside 2 or 3 other columns: (t, value) with t = 0, 1, 2 ... is real 2-D data.
            s.ignored.append({"name": name, "reason": "row number"})
            s.notes.append(f"{name} counts {int(v[0])}, {int(v[0]) + 1}, {int(v[0]) + 2}, ... "
                           "(a row number) and was dropped")
        else:
            coords.append(name)
    ignored_list = ", ".join(f"{d['name']} ({d['reason']})" for d in s.ignored)
    if not coords:
        why = f"; not used: {ignored_list}" if ignored_list else ""
        text_cols = [d["name"] for d in s.ignored if d["reason"] in ("text", "not numbers")]
        numeric_msg = f" (columns {', '.join(text_cols)} are not numeric)" if text_cols else ""
        raise DataError(f"points file {s.file!r} has no coordinate columns{numeric_msg}{why}; "
                        "it needs 2 or 3 numeric columns (x, y[, z]), one point per row")
    counting = [c for c in coords if _counts_like_index(numeric[c])]
    if counting and len(coords) == 3:
        keep = [c for c in coords if c not in counting]
        raise DataError(f"points file {s.file!r}: column {counting[0]!r} counts 0, 1, 2, ... like a row "
                        f"number, so it is unclear whether the points are 3-D; keep only the coordinate "
                        f"columns ({', '.join(keep)}) and delete {counting[0]!r}, or rename it 'index'")
    if len(coords) > 3 and s.encoding == "npy" and not s.header:
        # A plain array has no names to mark a label column by: say how to save fewer columns.
        raise DataError(f"points file {s.file!r} is an array of {len(coords)} columns; it needs 2 or 3 "
                        f"(x, y[, z]): save only those, e.g. numpy.save({s.file!r}, a[:, :2]), or save a "
                        "structured array whose extra fields are named 'label' or 'id' so that they are ignored")
    if len(coords) > 3:
        what = "fields" if s.encoding == "npy" else "columns"
        raise DataError(f"points file {s.file!r} has {len(coords)} numeric {what} ({', '.join(coords)}); "
                        f"it needs 2 or 3 {what}: keep only the x, y[, z] {what}, or name a label "
                        f"{what[:-1]} 'label' so that it is ignored")
    if len(coords) == 1:
        raise DataError(f"points file {s.file!r} has one numeric column ({coords[0]}); it needs 2 or 3 "
                        "columns (x, y[, z]), one point per row")
    return coords


def _check_values(values: np.ndarray, s: PointsSummary, lines: list[int] | None = None) -> np.ndarray:
    """NaN / inf / beyond-float32 values -> DataError naming the line (text) or row (NPY, 1-based)."""

    def where(i: int) -> str:
        return f"line {lines[i]}" if lines is not None else f"row {i + 1} (index {i})"

    finite = np.isfinite(values).all(axis=1)
    if not finite.all():
        bad = np.flatnonzero(~finite)
        rows = ", ".join(where(int(i)) for i in bad[:5])
        raise DataError(f"points file {s.file!r} has {len(bad)} row(s) with NaN or infinite values "
                        f"({rows}{', ...' if len(bad) > 5 else ''}); remove or fix them")
    huge = (np.abs(values) > FLOAT32_MAX).any(axis=1)
    if huge.any():
        i = int(np.flatnonzero(huge)[0])
        v = values[i][np.abs(values[i]) > FLOAT32_MAX][0]
        raise DataError(f"points file {s.file!r}: {where(i)} holds {v:g}, beyond the largest value "
                        f"training can represent (about 3.4e38); fix that value or rescale the data")
    return values


def _check_count(points: np.ndarray, s: PointsSummary) -> None:
    n = len(points)
    if n == 0:
        raise DataError(f"points file {s.file!r} has no data rows; it needs one point per row")
    if not MIN_FILE_POINTS <= n <= MAX_FILE_POINTS:
        few = "only one point" if n == 1 else f"{n:,} points"
        raise DataError(f"points file {s.file!r} has {few}; it needs between {MIN_FILE_POINTS} and "
                        f"{MAX_FILE_POINTS:,} (add rows, or subsample a bigger file)")
    spread = points.std(axis=0)
    if not (spread > 0).any():
        raise DataError(f"points file {s.file!r}: all {n} points are the same point; a GAN needs points "
                        "that differ")


# --- float32 for training -----------------------------------------------------------

def to_float32(points: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """float64 points (N, D) -> (float32 points, offset (D,) float64 or None).

    Models and data tensors are float32, whose rounding is 2**-24 of a value's
    magnitude: points around 1e6 with a spread of 1 would be rounded to 1/16.
    When the centre lies more than SHIFT_RATIO spreads from the origin, a round
    offset (the centre rounded to the power of ten at or above the spread) is
    subtracted in float64 first, and returned so the user's units can be
    recovered as x + offset; otherwise the points are converted as they are and
    the offset is None.
    """
    centre = points.mean(axis=0)
    spread = float(np.sqrt(points.var(axis=0).mean()))
    if spread <= 0 or np.abs(centre).max() <= SHIFT_RATIO * spread:
        return points.astype(np.float32), None
    step = 10.0 ** math.ceil(math.log10(spread))
    offset = np.round(centre / step) * step
    return (points - offset).astype(np.float32), offset


def format_offset(offset: np.ndarray) -> str:
    """(D,) offset -> "(1000000, 2000000.5)" with no float noise."""
    return "(" + ", ".join(f"{v:.15g}" for v in offset) + ")"
