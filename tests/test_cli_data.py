"""`python -m ganlab data PATH [--json]` and the CLI's argument checks (exit 2, one line)."""
from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest

from ganlab.cli import main

CASES = Path(__file__).resolve().parents[1].parent / "shared" / "cases"
needs_cases = pytest.mark.skipif(not CASES.is_dir(), reason=f"{CASES} absent (clone shared/ beside the repo)")


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    return lines[0]


# --- data ------------------------------------------------------------------------------

@needs_cases
def test_data_json_for_points(capsys):
    assert main(["data", str(CASES / "case06_datasaurus_dino.csv"), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert (d["kind"], d["n"], d["dims"], d["columns"]) == ("points", 142, 2, ["x", "y"])
    assert d["ignored"] == [{"name": "dataset", "reason": "text"}] and d["notes"] == []
    assert (d["separator"], d["decimal"], d["header"], d["offset"]) == ("comma", ".", True, None)


@needs_cases
def test_data_text_for_european_points(capsys):
    assert main(["data", str(CASES / "case05_eu_semicolon.csv")]) == 0
    out = capsys.readouterr().out
    assert "  n: 200\n  dims: 2\n  columns used: x, y\n" in out
    assert "separator: semicolon, decimal mark: ','" in out


@needs_cases
def test_data_json_for_images(capsys):
    assert main(["data", str(CASES / "case04_zip_stray_top_picture.zip"), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert (d["kind"], d["n"], d["shape"]) == ("images", 61, [1, 28, 28])
    assert d["classes"] == ["class_0", "class_1", "class_2"]
    assert d["class_counts"] == {"class_0": 20, "class_1": 21, "class_2": 20}
    assert {x["name"] for x in d["ignored"]} == {"../../evil.png", "mydigits/preview.png"}
    assert d["unreadable"] == 0 and len(d["notes"]) == 2


@needs_cases
@pytest.mark.parametrize("name, needles", [
    ("case24_value_1e39.csv", ["'case24_value_1e39.csv'", "line 18", "fix that value"]),
    ("case03_grey16_gradient.png", ["case03_grey16_gradient.png is a single picture", "put your pictures"]),
])
def test_data_unusable_file_exits_2_with_one_line(name, needles, capsys):
    assert main(["data", str(CASES / name)]) == 2
    line = _one_error_line(capsys)
    assert all(n in line for n in needles), line


def test_data_made_here(tmp_path, capsys):
    (tmp_path / "p.tsv").write_bytes(("a\tb\tlabel\n" + "".join(f"{i},5\t{-i}\t{i % 2}\n" for i in range(12)))
                                     .encode("utf-16"))
    assert main(["data", str(tmp_path / "p.tsv"), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert (d["n"], d["dims"], d["columns"], d["decimal"], d["encoding"]) == (12, 2, ["a", "b"], ",", "utf-16")
    assert d["ignored"] == [{"name": "label", "reason": "label column"}]
    with zipfile.ZipFile(tmp_path / "none.zip", "w") as zf:
        zf.writestr("notes.txt", "no pictures")
    assert main(["data", str(tmp_path / "none.zip")]) == 2
    assert "none.zip has no usable pictures" in _one_error_line(capsys)
    assert main(["data", str(tmp_path / "absent.csv")]) == 2
    assert "absent.csv does not exist" in _one_error_line(capsys)


def test_data_zip_that_is_not_an_archive_is_named_as_such(tmp_path, capsys):
    # A .zip is always read as pictures: a text file named .zip must not be told about header rows.
    (tmp_path / "fake.zip").write_text("hello\n")
    assert main(["data", str(tmp_path / "fake.zip")]) == 2
    assert _one_error_line(capsys) == (f"error: {tmp_path / 'fake.zip'} is not a readable zip file (its content "
                                       "is not a zip archive: damaged, cut short, or another kind of file); "
                                       "point the image_folder data set at a folder or a .zip of pictures")


def test_data_npy_with_four_columns_exits_2_with_an_npy_fix(tmp_path, capsys):
    np.save(tmp_path / "four.npy", np.random.default_rng(0).normal(size=(20, 4)))
    assert main(["data", str(tmp_path / "four.npy")]) == 2
    line = _one_error_line(capsys)
    assert "'four.npy' is an array of 4 columns" in line and "numpy.save('four.npy', a[:, :2])" in line
    assert "name a label column" not in line


def test_data_json_always_has_classes(tmp_path, capsys):
    rows = "".join(f"{i}.5,{-i},{i % 3}\n" for i in range(20))
    (tmp_path / "pts_label.csv").write_text("x,y,label\n" + rows)
    assert main(["data", str(tmp_path / "pts_label.csv"), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["classes"] == ["0", "1", "2"] and d["class_counts"] == {"0": 7, "1": 7, "2": 6}
    assert main(["data", str(tmp_path / "pts_label.csv")]) == 0
    assert "  classes in the label column (not used for training): 0 (7), 1 (7), 2 (6)\n" \
        in capsys.readouterr().out
    (tmp_path / "pts.csv").write_text("x,y\n" + "".join(f"{i}.5,{-i}\n" for i in range(20)))
    assert main(["data", str(tmp_path / "pts.csv"), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["classes"] == [] and d["class_counts"] == {}  # as an image folder without class folders
    assert main(["data", str(tmp_path / "pts.csv")]) == 0
    assert "classes" not in capsys.readouterr().out


# --- argument checks -------------------------------------------------------------------

@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("clidata") / "run"
    assert main(["train", "--data", "ring8", "--steps", "4", "--out", str(out), "--quiet",
                 "--set", "g_width=8", "--set", "d_width=8", "--set", "eval_every=0"]) == 0
    return out


@pytest.mark.parametrize("args, needle", [
    (["sample", "RUN", "--n", "0", "--out", "s.npz"], "--n 0 is not a positive number of samples"),
    (["sample", "RUN", "--n", "-5", "--out", "s.npz"], "--n -5 is not a positive number"),
    (["eval", "RUN", "--n", "0"], "--n 0 is not a positive number"),
    (["eval", "RUN", "--n", "-1"], "--n -1 is not a positive number"),
    (["sample", "RUN", "--seed", "-1", "--out", "s.npz"], "--seed -1 is out of range; use a whole number "
                                                          "from 0 to 18446744073709551615"),
    (["sample", "RUN", "--seed", str(2**64), "--out", "s.npz"], "is out of range"),
    (["eval", "RUN", "--seed", str(2**64 - 1), "--parzen"], "from 0 to 18446744073709551614"),
    (["train", "--data", "ring8", "--seed", str(2**64 - 1), "--out", "X"], "from 0 to 18446744073709551613"),
    (["train", "--data", "ring8", "--set", "seed=-3", "--out", "X"], "seed -3 is out of range"),
    (["sample", "RUN", "--out", "s.npy"],
     "does not end in .npz or .png; give a file name ending in .npz (arrays, e.g. s.npz) or .png"),
    (["sample", "RUN", "--out", "samples"], "does not end in .npz"),
    (["sample", "RUN", "--out", "adir.npz"], "is a folder"),
    (["sample", "RUN", "--out", "afile/s.npz"], "cannot be written"),
    (["train", "--data", "ring8", "--steps", "1", "--out", "afile"], "is a file"),
    (["train", "--data", "ring8", "--steps", "1", "--out", "afile/run"], "cannot be written"),
])
def test_bad_arguments_exit_2_with_one_line(args, needle, run_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "adir.npz").mkdir()
    (tmp_path / "afile").write_text("x")
    args = [str(run_dir) if a == "RUN" else a for a in args]
    assert main(args) == 2
    line = _one_error_line(capsys)
    assert needle in line, line
    assert not (tmp_path / "X").exists() and not (tmp_path / "s.npz").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_read_only_folder_is_refused(run_dir, tmp_path, capsys):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        assert main(["sample", str(run_dir), "--out", str(ro / "s.npz")]) == 2
        assert "cannot be written" in _one_error_line(capsys)
    finally:
        ro.chmod(0o700)


def test_sample_writes_exactly_the_printed_path(run_dir, tmp_path, capsys):
    out = tmp_path / "deep" / "er" / "s.npz"
    assert main(["sample", str(run_dir), "--n", "7", "--out", str(out)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["out"] == str(out) and printed["points"] == [7, 2]
    assert sorted(p.name for p in out.parent.iterdir()) == ["s.npz"]
    with np.load(out) as f:
        assert f["points"].shape == (7, 2)


def test_eval_with_few_samples_warns_that_fd_is_biased(run_dir, tmp_path, capsys):
    # ring8 reports no Frechet distance: nothing to warn about.
    assert main(["eval", str(run_dir), "--n", "2"]) == 0
    captured = capsys.readouterr()
    assert "warning" not in captured.err and "fd_note" not in json.loads(captured.out)
    run = tmp_path / "g"
    assert main(["train", "--data", "gaussian2d", "--steps", "4", "--out", str(run), "--quiet",
                 "--set", "g_width=8", "--set", "d_width=8", "--set", "eval_every=0"]) == 0
    capsys.readouterr()
    assert main(["eval", str(run), "--n", "2"]) == 0
    captured = capsys.readouterr()
    assert "warning: --n 2 is not above the 2 coordinates: the Frechet distance (fid, w2) is strongly biased" \
        in captured.err
    result = json.loads(captured.out)
    assert "fd_note" in result and "fid" in result
    assert main(["eval", str(run), "--n", "50"]) == 0
    captured = capsys.readouterr()
    assert "warning" not in captured.err and "fd_note" not in json.loads(captured.out)


# --- the pages' helper ---------------------------------------------------------------------

def test_ui_summary_lines_for_points_and_images(tmp_path):
    from ui.data_summary import summary_for_path, summary_for_upload, summary_lines

    head, details, notes = summary_lines(summary_for_upload(
        "/tmp/x/moons.csv", b",x,y\n" + b"".join(b"%d,%d.5,%d\n" % (i, i, -i) for i in range(12))))
    assert head == "12 points in 2-D from moons.csv: columns x, y"
    assert details == ["separator: comma, decimal mark: ., header: yes, encoding: utf-8",
                       "not used: (unnamed column 1) (pandas index)"]
    assert len(notes) == 1 and "pandas index" in notes[0]
    from PIL import Image

    for cls in ("a", "b"):
        (tmp_path / "pics" / cls).mkdir(parents=True)
        Image.new("L", (28, 28), 9).save(tmp_path / "pics" / cls / "1.png")
    head, details, notes = summary_lines(summary_for_path(tmp_path / "pics"))
    assert head == "2 pictures (grey, 28 x 28) from pics" and details == ["classes: a (1), b (1)"]
    assert notes == []
