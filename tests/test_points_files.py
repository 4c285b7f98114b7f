"""Reading users' points files (ganlab.data.points): the shared failing cases, more of each
kind, a property test over random tables, and the float32 / precision rules."""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ganlab.data import DataOptions, build_dataset
from ganlab.data.points import parse_points, read_points, to_float32
from ganlab.data.toy import load_points_file
from ganlab.errors import DataError

CASES = Path(__file__).resolve().parents[1].parent / "shared" / "cases"
needs_cases = pytest.mark.skipif(not CASES.is_dir(), reason=f"{CASES} absent (clone shared/ beside the repo)")

# The first and last data rows of the moons files (the same 200 points in every case07 / case05 file).
MOON_FIRST = [-0.02398513656295915, 0.980349742506093]
MOON_LAST = [0.7741121377363999, 0.6279843317076433]


# --- the shared cases ------------------------------------------------------------------

@needs_cases
@pytest.mark.parametrize("name, sep", [("case05_eu_semicolon.csv", "semicolon"),
                                       ("case05_eu_tab_decimal_comma.txt", "tab")])
def test_european_files_give_the_right_floats(name, sep):
    pts, s = read_points(CASES / name)
    assert pts.shape == (200, 2) and (s.n, s.dims) == (200, 2)
    assert pts[0].tolist() == [-0.024, 0.9803] and pts[1].tolist() == [1.9488, 0.3731]
    assert pts[-1].tolist() == [0.7741, 0.628]
    assert (s.separator, s.decimal, s.header, s.columns) == (sep, ",", True, ["x", "y"])


@needs_cases
def test_datasaurus_uses_x_y_and_ignores_the_text_column():
    pts, s = read_points(CASES / "case06_datasaurus_dino.csv")
    assert s.columns == ["x", "y"] and s.ignored == [{"name": "dataset", "reason": "text"}]
    assert s.n == 142 == len(CASES.joinpath("case06_datasaurus_dino.csv").read_text().split()) - 1
    assert pts[0].tolist() == [55.3846, 97.1795] and pts[-1].tolist() == [44.1026, 92.6923]


@needs_cases
def test_pandas_index_column_is_dropped_with_a_note():
    pts, s = read_points(CASES / "case07_moons_pandas_index.csv")
    assert s.dims == 2 and s.columns == ["x", "y"] and s.n == 200
    assert s.ignored == [{"name": "(unnamed column 1)", "reason": "pandas index"}]
    assert any("pandas index" in n for n in s.notes)
    assert pts[0].tolist() == MOON_FIRST and pts[-1].tolist() == MOON_LAST


@needs_cases
def test_label_column_is_not_a_coordinate():
    pts, s = read_points(CASES / "case07_moons_with_label.csv")
    assert s.columns == ["x", "y"] and s.ignored == [{"name": "label", "reason": "label column"}]
    assert pts.shape == (200, 2) and pts[0].tolist() == MOON_FIRST


@needs_cases
def test_value_beyond_float32_is_refused_naming_file_and_line():
    with pytest.raises(DataError) as e:
        read_points(CASES / "case24_value_1e39.csv")
    msg = str(e.value)
    assert "'case24_value_1e39.csv'" in msg and "line 18" in msg and "1e+39" in msg


@needs_cases
def test_quoted_numbers_are_parsed():
    pts, s = read_points(CASES / "case26_quoted_numbers.csv")
    assert s.columns == ["x", "y"] and s.header and pts.shape == (200, 2)
    assert pts[0].tolist() == [-0.02399, 0.98035] and pts[-1].tolist() == [0.77411, 0.62798]


# --- more of each kind -------------------------------------------------------------------

ROWS = [(0.5, -1.25), (1.0, 2.0), (-3.5, 0.125)] * 4  # 12 points


def _table(sep: str, dec: str, header: str | None = "x{s}y") -> str:
    lines = [header.format(s=sep)] if header else []
    lines += [sep.join(f"{v}".replace(".", dec) for v in r) for r in ROWS]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("sep, dec, label", [
    (",", ".", "comma"), (";", ",", "semicolon"), ("\t", ",", "tab"), ("\t", ".", "tab"),
    (" ", ",", "whitespace"), ("   ", ".", "whitespace"), ("|", ".", "pipe"), (";", ".", "semicolon"),
])
@pytest.mark.parametrize("header", ["x{s}y", None])
def test_separators_and_decimal_marks(sep, dec, label, header):
    pts, s = parse_points(_table(sep, dec, header).encode(), "t.csv")
    assert pts.tolist() == [list(r) for r in ROWS]
    assert (s.separator, s.decimal, s.header) == (label, dec, header is not None)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-le", "cp1252"])
@pytest.mark.parametrize("header", ["x;y", None])
def test_encodings_bom_and_utf16(encoding, header):
    text = _table(";", ",", header and "x{s}y").replace("x;y", "x;y" if encoding != "cp1252" else "x°;y")
    pts, s = parse_points(text.encode(encoding), "excel.txt")
    assert pts.tolist() == [list(r) for r in ROWS]
    assert s.encoding == {"utf-8-sig": "utf-8 with BOM", "utf-16": "utf-16", "utf-16-le": "utf-16",
                          "cp1252": "utf-8" if header is None else "windows-1252"}[encoding]
    if header and encoding != "cp1252":
        assert s.columns == ["x", "y"]  # no BOM glued to the first name


def test_trailing_blank_lines_separator_only_rows_comments_and_crlf():
    text = "# exported by a tool\r\nx;y\r\n" + _table(";", ",", None).replace("\n", "\r\n") + ";\r\n\r\n\r\n"
    pts, s = parse_points(text.encode(), "pad.csv")
    assert pts.tolist() == [list(r) for r in ROWS] and s.columns == ["x", "y"]
    assert any("comment" in n for n in s.notes)


def test_index_like_columns_and_names():
    body = "".join(f"{i},{i % 3}.5,{-i}.25\n" for i in range(12))
    # headerless: a first column counting 0, 1, 2 ... is a row number, dropped with a note
    pts, s = parse_points(body.encode(), "noheader.csv")
    assert s.columns == ["column 2", "column 3"] and pts[4].tolist() == [1.5, -4.25]
    assert s.ignored == [{"name": "column 1", "reason": "row number"}]
    # a shuffled pandas index (after df.sample) is still an index
    shuffled = ",x,y\n" + "".join(f"{i},{i % 3}.5,{-i}.25\n" for i in (5, 3, 0, 11, 1, 2, 4, 6, 7, 8, 9, 10))
    pts, s = parse_points(shuffled.encode(), "shuffled.csv")
    assert s.columns == ["x", "y"] and pts[0].tolist() == [2.5, -5.25]
    # "Unnamed: 0" (a CSV read and written again) and id/class names
    again = "Unnamed: 0,id,x,y,class\n" + "".join(f"{i},{i + 7},{i}.5,{i * 2},{i % 2}\n" for i in range(12))
    pts, s = parse_points(again.encode(), "again.csv")
    assert s.columns == ["x", "y"] and [d["name"] for d in s.ignored] == ["Unnamed: 0", "id", "class"]
    # a named column that counts like an index next to two coordinates: ambiguous, refused
    with pytest.raises(DataError, match=r"column 't' counts 0, 1, 2.*keep only the coordinate columns \(x, y\)"):
        parse_points(("t,x,y\n" + body).encode(), "time.csv")


def test_three_d_text_columns_and_too_many_columns():
    body = "".join(f"a{i},{i}.5,{i * i},{-i}.75,b\n" for i in range(12))
    pts, s = parse_points(("name,x,y,z,kind\n" + body).encode(), "three.csv")
    assert s.dims == 3 and s.columns == ["x", "y", "z"] and pts[3].tolist() == [3.5, 9.0, -3.75]
    wide = "a,b,c,d\n" + "".join(f"{i}.5,{i * i},{-i}.75,{i % 5}\n" for i in range(12))
    with pytest.raises(DataError, match=r"has 4 numeric columns \(a, b, c, d\); it needs 2 or 3 columns"):
        parse_points(wide.encode(), "wide.csv")


@pytest.mark.parametrize("content, needle", [
    (b"x,y\n", "no data rows below its header"),
    (b"x,y\n1,2\n", "has only one point"),
    (b"\n\n\n", "no data rows"),
    (b"x,y\n" + b"1,2\n" * 3 + b"5,\n" + b"1,3\n" * 8, "line 5 has an empty cell in column 'y'"),
    (b"x,y\n" + b"1,2\n" * 10 + b"inf,3\n", "line 12"),
    (b"x;y\n" + b"1,5;2\n" * 10 + b"1.5;3\n", "mixes decimal marks"),
    (b"PK\x03\x04" + b"\0" * 40, "export the sheet as CSV"),
    (b"x,y\n" + b"1,1\n" * 12, "all 12 points are the same point"),
])
def test_refusals_name_the_file_and_the_fix(content, needle):
    with pytest.raises(DataError) as e:
        parse_points(content, "/tmp/upload-123/mine.csv")
    assert needle in str(e.value) and "'mine.csv'" in str(e.value) and "upload-123" not in str(e.value)


def test_npy_plain_structured_and_index_column(tmp_path):
    rng = np.random.default_rng(0)
    a = rng.normal(size=(30, 2))
    np.save(tmp_path / "a.npy", a)
    pts, s = read_points(tmp_path / "a.npy")
    assert np.array_equal(pts, a) and s.encoding == "npy"
    np.save(tmp_path / "idx.npy", np.column_stack([np.arange(30), a]))
    pts, s = read_points(tmp_path / "idx.npy")
    assert np.array_equal(pts, a) and s.ignored == [{"name": "column 1", "reason": "row number"}]
    line = np.column_stack([np.arange(30), -np.arange(30)])  # (t, value): counting, yet a coordinate
    np.save(tmp_path / "line.npy", line)
    pts, s = read_points(tmp_path / "line.npy")
    assert np.array_equal(pts, line) and s.ignored == [] and s.columns == ["column 1", "column 2"]
    rec = np.zeros(30, dtype=[("x", "f8"), ("y", "f4"), ("label", "i4")])
    rec["x"], rec["y"], rec["label"] = a[:, 0], a[:, 1].astype(np.float32), 1
    np.save(tmp_path / "rec.npy", rec)
    pts, s = read_points(tmp_path / "rec.npy")
    assert s.columns == ["x", "y"] and pts[:, 0].tolist() == a[:, 0].tolist()
    bad = a.copy()
    bad[7, 1] = np.nan
    np.save(tmp_path / "nan.npy", bad)
    with pytest.raises(DataError, match=r"'nan.npy' has 1 row\(s\) with NaN.*row 8 \(index 7\)"):
        read_points(tmp_path / "nan.npy")


def test_npy_with_too_many_columns_says_how_to_save_fewer(tmp_path):
    # A plain array has no column names: "name a label column 'label'" cannot apply to it.
    np.save(tmp_path / "four.npy", np.random.default_rng(0).normal(size=(20, 4)))
    with pytest.raises(DataError) as e:
        read_points(tmp_path / "four.npy")
    assert str(e.value) == ("points file 'four.npy' is an array of 4 columns; it needs 2 or 3 (x, y[, z]): "
                            "save only those, e.g. numpy.save('four.npy', a[:, :2]), or save a structured "
                            "array whose extra fields are named 'label' or 'id' so that they are ignored")
    rec = np.zeros(20, dtype=[(n, "f8") for n in ("x", "y", "w", "v")])
    for n in rec.dtype.names:
        rec[n] = np.random.default_rng(1).normal(size=20)
    np.save(tmp_path / "rec4.npy", rec)
    with pytest.raises(DataError, match=r"^points file 'rec4.npy' has 4 numeric fields \(x, y, w, v\); it needs "
                                        r"2 or 3 fields: keep only the x, y\[, z\] fields, or name a label field "
                                        r"'label' so that it is ignored$"):
        read_points(tmp_path / "rec4.npy")


def test_label_column_gives_classes_with_counts(tmp_path):
    body = "".join(f"{i}.5,{-i},{(2, 10, 1)[i % 3]}\n" for i in range(12))
    _, s = parse_points(("x,y,label\n" + body).encode(), "pts.csv")
    assert (s.classes, s.class_counts) == (["1", "2", "10"], {"1": 4, "2": 4, "10": 4})  # numbers by value
    _, s = parse_points(("x;y;Class\n" + "".join(f"{i};{i * i};{'ab'[i % 2]}\n" for i in range(11))).encode(),
                        "text.csv")
    assert s.ignored == [{"name": "Class", "reason": "text"}]
    assert (s.classes, s.class_counts) == (["a", "b"], {"a": 6, "b": 5})
    _, s = parse_points(("x,y\n" + body.replace(",2\n", "\n").replace(",10\n", "\n").replace(",1\n", "\n"))
                        .encode(), "plain.csv")
    assert (s.classes, s.class_counts) == ([], {}) and s.to_dict()["classes"] == []
    rec = np.zeros(12, dtype=[("x", "f8"), ("y", "f8"), ("label", "f8")])
    rec["x"], rec["y"], rec["label"] = np.arange(12) * 0.5, np.arange(12) ** 2, [2.0, 0.0, 2.0] * 4
    np.save(tmp_path / "rec.npy", rec)
    _, s = read_points(tmp_path / "rec.npy")
    assert (s.classes, s.class_counts) == (["0", "2"], {"0": 4, "2": 8})  # 2.0 shown as a CSV writes it


# --- precision far from the origin -------------------------------------------------------

def test_points_far_from_the_origin_keep_their_precision(tmp_path):
    rng = np.random.default_rng(1)
    pts = np.round(np.array([1e6, -2e6]) + rng.normal(size=(200, 2)), 4)
    path = tmp_path / "far.csv"
    path.write_text("x,y\n" + "".join(f"{x:.4f},{y:.4f}\n" for x, y in pts))
    back, _ = read_points(path)
    assert np.array_equal(back, pts)  # float64 throughout the reader
    x32, offset = to_float32(back)
    assert offset.tolist() == [1e6, -2e6]
    assert np.abs(x32.astype(np.float64) + offset - pts).max() < 1e-5  # float32 alone: ~0.03
    assert np.abs(pts.astype(np.float32).astype(np.float64) - pts).max() > 1e-3  # why the shift is needed
    ds = build_dataset(DataOptions("points_file", path=str(path)))
    assert ds.info.offset == (1e6, -2e6) and "shifted by -(1000000, -2000000)" in ds.info.note
    assert abs(float(ds.x.double().mean(0).abs().max())) < 0.5  # the data live near 0 for float32
    assert ds.extras["summary"]["n"] == 200


def test_points_near_the_origin_are_not_shifted(tmp_path):
    pts = np.random.default_rng(2).normal(size=(50, 3)) * 100 + 300
    x32, offset = to_float32(pts)
    assert offset is None and np.array_equal(x32, pts.astype(np.float32))
    np.save(tmp_path / "p.npy", pts)
    ds = build_dataset(DataOptions("points_file", path=str(tmp_path / "p.npy")))
    assert ds.info.offset is None and ds.info.note == ""
    assert load_points_file(tmp_path / "p.npy").dtype == np.float32


# --- property: random numeric tables read back equal ------------------------------------

_value = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False).map(
    lambda v: round(v, 6))


@settings(max_examples=120, deadline=None)
@given(
    table=st.integers(2, 3).flatmap(lambda d: st.lists(st.lists(_value, min_size=d, max_size=d),
                                                       min_size=10, max_size=40)),
    sep=st.sampled_from([",", ";", "\t", " ", "  ", "|"]),
    decimal=st.sampled_from([".", ","]),
    header=st.booleans(),
    quoted=st.booleans(),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]),
    trailing=st.sampled_from(["", "\n", "\n\n\n"]),
    index=st.booleans(),
)
def test_random_tables_read_back_equal(table, sep, decimal, header, quoted, encoding, trailing, index):
    arr = np.array(table, dtype=np.float64)
    if decimal == "," and sep == ",":
        quoted = True  # a decimal comma inside a comma-separated file must be quoted
    if np.ptp(arr, axis=0).max() == 0:
        arr[0, 0] += 1.0  # all-identical points are refused by design
    dims = arr.shape[1]

    def cell(v: float) -> str:
        text = repr(float(v)).replace(".", decimal)
        return f'"{text}"' if quoted else text

    names = ["x", "y", "z"][:dims]
    lines = []
    if header:
        lines.append(sep.join(([""] if index else []) + names))
    for i, row in enumerate(arr):
        lines.append(sep.join(([str(i)] if index else []) + [cell(v) for v in row]))
    if index and header and sep.strip() == "":
        return  # an empty header cell cannot be written in a whitespace-separated file
    data = ("\n".join(lines) + "\n" + trailing).encode(encoding)
    pts, s = parse_points(data, "random.txt")
    assert np.array_equal(pts, arr)
    assert s.dims == dims and s.n == len(arr) and s.header == header
    assert s.decimal == decimal or not any("." in repr(float(v)) for v in arr.flat)
