"""The command line: a short real run, sample, eval, list, and clean errors."""
import json
import subprocess
import sys

import numpy as np
import pytest

from ganlab.cli import main


def run_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ganlab", *args], capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "run"
    r = run_cli("train", "--data", "ring8", "--steps", "60", "--seed", "0", "--out", str(out),
                "--set", "eval_every=30", "--set", "eval_samples=500", "--set", "g_width=32",
                "--set", "d_width=32")
    assert r.returncode == 0, r.stderr
    return out, r


def test_train_writes_a_run_directory(trained):
    out, r = trained
    summary = json.loads(r.stdout.strip().splitlines()[-1])
    assert summary["steps"] == 60 and summary["run_dir"] == str(out)
    assert "modes_captured" in summary and 0 <= summary["hq_pct"] <= 100
    assert (out / "model.safetensors").is_file() and (out / "config.json").is_file()
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["data"] == "ring8" and cfg["g_width"] == 32 and cfg["ema"] == 0.999  # tuned preset
    assert "60/60" in r.stderr  # the progress bar


def test_sample_writes_points(trained, tmp_path):
    out, _ = trained
    r = run_cli("sample", str(out), "--n", "2500", "--seed", "1", "--out", str(tmp_path / "s.npz"))
    assert r.returncode == 0, r.stderr
    with np.load(tmp_path / "s.npz") as f:
        assert list(f.keys()) == ["points"]
        pts = f["points"]
    assert pts.shape == (2500, 2) and pts.dtype == np.float32
    r2 = run_cli("sample", str(out), "--n", "2500", "--seed", "1", "--out", str(tmp_path / "t.npz"))
    assert r2.returncode == 0
    with np.load(tmp_path / "t.npz") as f:
        assert np.array_equal(f["points"], pts)  # same seed, same samples


def test_eval_prints_json(trained):
    out, _ = trained
    r = run_cli("eval", str(out), "--n", "1000")
    assert r.returncode == 0, r.stderr
    m = json.loads(r.stdout)
    assert m["step"] == 60 and m["modes_total"] == 8 and 0 <= m["js"] <= 1


def test_eval_of_a_bundled_generator_against_its_data_set(trained, capsys, tmp_path):
    """`eval mnist-32`: the bundled model against MNIST (it knows its data set). On 10,000
    samples its figures are FD 2.74, score 7.91, real images' score 9.15 (assets/pgan/README.md);
    1,000 samples give a noisier FD, bounded on both sides here."""
    assert main(["eval", "mnist-32", "--n", "1000"]) == 0
    m = json.loads(capsys.readouterr().out)
    assert m["generator"] == "mnist-32" and m["data"] == "mnist" and m["samples"] == 1000
    assert 1.0 < m["fd"] < 15.0 and 6.5 < m["score"] < 9.0 and 8.5 < m["real_score"] < 9.6
    assert m["classes_covered"] == 10
    # A run folder knows its data set: --data is refused there, and a generator of the
    # wrong size for the data set is named.
    out, _ = trained
    assert main(["eval", str(out), "--data", "mnist"]) == 2
    assert "--data is for exported generators" in capsys.readouterr().err
    assert main(["eval", "mnist-32", "--data", "ring8", "--n", "100"]) == 2
    assert "--data ring8 contradicts mnist-32" in capsys.readouterr().err
    # An exported generator (here the bundled one saved under another name) needs --data,
    # a data set with a classifier.
    from ganlab.pretrained import load_generator, save_generator

    mine = save_generator(load_generator("mnist-32"), tmp_path / "mine.safetensors", name="mine")
    assert main(["eval", str(mine), "--data", "ring8", "--n", "100"]) == 2
    assert "--data ring8: the metrics need an image set with a trained classifier; give one of mnist, " \
        "fashion_mnist" in capsys.readouterr().err
    assert main(["eval", str(mine), "--n", "100"]) == 2
    assert "is a generator without a run folder: say what it was trained on with --data" in capsys.readouterr().err
    assert main(["eval", "no-such-model"]) == 2
    assert "'no-such-model' is not a ganlab run directory, a bundled model (fashion-32, mnist-32)" \
        in capsys.readouterr().err


def test_resume_continues(trained, tmp_path, capsys):
    out, _ = trained
    # --steps is the run's total: resuming at 60 with --steps 70 trains 10 more
    assert main(["train", "--resume", str(out), "--steps", "70", "--out", str(tmp_path / "r2"),
                 "--quiet"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["steps"] == 70


@pytest.mark.parametrize("args,needle", [
    (["train", "--data", "rings8", "--steps", "1", "--out", "X"], "unknown data set 'rings8'"),
    (["train", "--data", "ring8", "--steps", "1", "--out", "X", "--set", "latent_dim=0"],
     "latent_dim = 0 is out of range"),
    (["train", "--data", "ring8", "--set", "lr=0.1", "--out", "X"], "unknown config field 'lr'"),
    (["train", "--data", "ring8", "--set", "d_lr", "--out", "X"], "--set expects key=value"),
    (["train", "--preset", "nope", "--out", "X"], "unknown preset 'nope'"),
    (["train", "--data", "points_file", "--set", "data_path=/no/such.csv", "--out", "X"],
     "does not exist"),
    (["train", "--data", "ring8"], "train needs --out"),
    (["sample", "/no/such/run", "--out", "x.npz"], "not a ganlab run directory"),
    (["eval", "/no/such/run"], "not a ganlab run directory"),
])
def test_user_errors_exit_2_without_traceback(args, needle, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and needle in err and "Traceback" not in err
    assert not (tmp_path / "X").exists()  # nothing half-written


def test_train_out_never_overwrites_a_run_or_a_folder_with_files(trained, tmp_path, capsys):
    out, _ = trained
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert main(["train", "--data", "ring8", "--steps", "5", "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert f"--out '{out}' already holds a run; continue it with --resume {out}, choose a new folder" in err
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before  # untouched
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "notes.txt").write_text("mine")
    assert main(["train", "--data", "ring8", "--steps", "5", "--out", str(notes), "--quiet"]) == 2
    assert f"--out '{notes}' already holds files; choose a new folder, or delete it first" in capsys.readouterr().err
    assert sorted(p.name for p in notes.iterdir()) == ["notes.txt"]
    # Resuming into another run's folder is refused too; an empty folder is fine.
    assert main(["train", "--resume", str(out), "--steps", "70", "--out", str(notes), "--quiet"]) == 2
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["train", "--data", "ring8", "--steps", "3", "--out", str(empty), "--quiet",
                 "--set", "eval_every=0"]) == 0
    assert (empty / "model.safetensors").is_file()


def test_train_step_counts_that_would_do_nothing_are_refused(trained, tmp_path, capsys):
    out, _ = trained
    state = (out / "state.json").read_bytes()
    assert main(["train", "--resume", str(out), "--steps", "60", "--quiet"]) == 2
    assert "--steps 60: the run is already at step 60 (--steps counts the run's total steps); give more " \
        "than 60 to continue it" in capsys.readouterr().err
    assert (out / "state.json").read_bytes() == state  # nothing rewritten
    assert main(["train", "--data", "ring8", "--steps", "0", "--out", str(tmp_path / "z"), "--quiet"]) == 2
    assert "--steps 0: a run needs at least 1 step" in capsys.readouterr().err
    assert not (tmp_path / "z").exists()
    # Both a time budget and a step count: the budget decides, and the user is told so.
    assert main(["train", "--data", "ring8", "--steps", "10", "--minutes", "0.001", "--out", str(tmp_path / "m"),
                 "--quiet", "--set", "eval_every=0"]) == 0
    assert "note: --minutes 0.001 sets how long the run trains; --steps 10 only sets the length of its " \
        "schedules" in capsys.readouterr().err


def test_train_out_where_nothing_can_be_written_is_refused_before_training(capsys):
    # Root passes every permission check in /proc; the folder must really be writable.
    assert main(["train", "--data", "ring8", "--steps", "5", "--out", "/proc/ganlab-run", "--quiet"]) == 2
    assert "--out '/proc/ganlab-run' cannot be written" in capsys.readouterr().err


def test_eval_of_a_bundled_model_refuses_another_data_set(capsys):
    assert main(["eval", "mnist-32", "--data", "fashion_mnist", "--n", "100"]) == 2
    assert "--data fashion_mnist contradicts mnist-32, which was trained on mnist: drop --data" \
        in capsys.readouterr().err


def test_sample_of_a_bundled_model_writes_images_or_a_grid(tmp_path, capsys):
    assert main(["sample", "mnist-32", "--n", "64", "--seed", "1", "--out", str(tmp_path / "g.png")]) == 0
    from PIL import Image

    with Image.open(tmp_path / "g.png") as im:
        assert im.size == (8 * 34 + 2, 8 * 34 + 2) and im.mode == "L"  # 8 x 8 images of 32 px, 2 px apart
    assert main(["sample", "mnist-32", "--n", "16", "--seed", "1", "--out", str(tmp_path / "a.npz")]) == 0
    from ganlab.pretrained import list_bundled

    assert main(["sample", str(list_bundled()["mnist-32"]), "--n", "16", "--seed", "1",
                 "--out", str(tmp_path / "b.npz")]) == 0
    with np.load(tmp_path / "a.npz") as a, np.load(tmp_path / "b.npz") as b:
        assert a["images"].shape == (16, 1, 32, 32) and a["images"].dtype == np.uint8
        assert np.array_equal(a["images"], b["images"])  # the name and the file: one generator, one seed
    capsys.readouterr()
    for args, needle in [
        (["mnist-32", "--label", "3"], "--label needs a conditional model; mnist-32 is an unconditional generator"),
        (["mnist-32", "--no-ema"], "--no-ema is for run folders"),
        (["no-such-model"], "'no-such-model' is not a ganlab run directory, a bundled model (fashion-32, mnist-32)"),
    ]:
        assert main(["sample", *args, "--out", str(tmp_path / "x.png")]) == 2
        assert needle in capsys.readouterr().err
    assert main(["sample", "mnist-32", "--out", str(tmp_path / "x.txt")]) == 2
    assert "does not end in .npz or .png; give a file name ending in .npz (arrays, e.g. x.npz) or .png (a grid " \
        "of images)" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.npz", "b.npz", "g.png"]


def test_a_points_run_has_no_png_grid(trained, tmp_path, capsys):
    out, _ = trained
    assert main(["sample", str(out), "--out", str(tmp_path / "p.png")]) == 2
    assert "a .png grid is for image generators; this run makes points: give a file name ending in .npz" \
        in capsys.readouterr().err
    assert not (tmp_path / "p.png").exists()


def test_settings_a_run_does_not_use_are_named(tmp_path, capsys):
    assert main(["train", "--data", "ring8", "--steps", "3", "--out", str(tmp_path / "r"), "--quiet",
                 "--set", "data_path=/tmp/mine.csv", "--progress-every", "1", "--set", "eval_every=0"]) == 0
    err = capsys.readouterr().err
    assert "note: data_path is read by points_file and image_folder only; --data ring8 ignores it" in err
    assert "note: --progress-every saves grids of images; ring8 is points, so none are saved" in err
    assert not (tmp_path / "r" / "progress").exists()


def test_list_names_everything(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in ("ring8", "grid25", "mlp", "wgan-gp", "rahinge", "rmsprop", "collapse"):
        assert name in out


def test_a_closed_pipe_ends_quietly(monkeypatch) -> None:
    # `python -m ganlab list | head -1`: the reader leaves early and the next write fails.
    import sys

    class ClosedPipe:
        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

        def flush(self) -> None:
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    assert main(["list"]) == 0
    assert sys.stdout is None  # closed for good: the exit-time flush cannot fail again


def test_sample_keeps_the_first_samples_of_a_seed_whatever_n(tmp_path) -> None:
    import numpy as np

    run = tmp_path / "run"
    assert main(["train", "--data", "ring8", "--steps", "3", "--out", str(run), "--set", "eval_every=0"]) == 0
    for n in (5, 300):
        assert main(["sample", str(run), "--n", str(n), "--seed", "3", "--out", str(tmp_path / f"s{n}.npz")]) == 0
    small, large = (np.load(tmp_path / f"s{n}.npz")["points"] for n in (5, 300))
    assert large.shape == (300, 2) and np.array_equal(small, large[:5])  # bit for bit
