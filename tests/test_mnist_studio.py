"""The MNIST studio page (AppTest) and its engine helpers: training on the shared MNIST split,
pause / resume / stop, live settings, class views, runs on disk, exports, bad input."""
from __future__ import annotations

import gc
import io
import os
import time
import zipfile
from pathlib import Path

import pytest
import torch
from PIL import Image
from streamlit.testing.v1 import AppTest

from ganlab import runs
from ganlab.metrics.images import histogram_samples
from ganlab.progress import class_grid, class_row, interpolation
from ganlab.data.images import available_splits
from ganlab.errors import ConfigError, DataError
from ganlab.train import Trainer
from tests import helpers
from tests.helpers import wait_until
from ui import exports
from ui.runner import Runner, close_all
from ui.serverdata import SERVER_DATA_ENV, UPLOADS_ROOT, SessionUploads
from ui.studio import (compare_rows, pending_message, save_upload, studio_config, to_image, upload_message,
                       upload_summary)

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "3_MNIST_studio.py")
needs_mnist = pytest.mark.skipif(not available_splits("mnist"), reason="no MNIST split on this machine")




pytestmark = pytest.mark.usefixtures("isolated_runs")


def open_page() -> AppTest:
    return helpers.open_page(PAGE)


def runner_of(at: AppTest) -> Runner[Trainer]:
    return at.session_state["studio.runner"]


def trainer_of(at: AppTest) -> Trainer:
    return helpers.held_model(at, "studio.runner")


def button(at: AppTest, key: str):
    return next(b for b in at.button if b.key == key)


def small(at: AppTest, model: str = "mlp") -> None:
    """Settings for a quick run: the chosen model, batch 16, metrics every 20 steps on 200 samples."""
    at.selectbox(key="studio.model").set_value(model)
    at.number_input(key="studio.batch_size").set_value(16)
    at.number_input(key="studio.eval_every").set_value(20)
    at.number_input(key="studio.eval_samples").set_value(200)
    at.run()


def train(at: AppTest, steps: int) -> int:
    """Start a fresh run, let it pass `steps`, pause it; returns the step reached."""
    button(at, "studio.start").click().run()
    assert runner_of(at).playing
    assert wait_until(lambda: trainer_of(at).step_count >= steps, 30)
    button(at, "studio.pause").click().run()
    assert not runner_of(at).playing
    return trainer_of(at).step_count


@needs_mnist
def test_start_trains_pause_holds_resume_continues_and_charts_appear() -> None:
    at = open_page()
    assert trainer_of(at).step_count == 0 and trainer_of(at).info.name == "mnist"
    assert any("step 0" in (c.value or "") for c in at.caption)
    assert any("no losses before the first step" in (c.value or "") for c in at.caption)  # not "nan"
    assert len(runner_of(at).frames()) == 1  # the untrained grid is there before Start
    small(at)
    reached = train(at, 25)
    at.run()
    time.sleep(0.3)
    assert trainer_of(at).step_count == reached, "training went on after Pause"
    history = trainer_of(at).history
    assert any("fd" in r and "score" in r for r in history), "no classifier metrics recorded"
    assert any(f"step {reached}" in (c.value or "") for c in at.caption)
    assert "Resume" in button(at, "studio.play").label
    # the class histogram sums to the 500 samples it was made from
    assert sum(at.session_state["studio.hist"]) == 500
    button(at, "studio.play").click().run()
    assert wait_until(lambda: trainer_of(at).step_count > reached + 5, 30)
    button(at, "studio.pause").click().run()
    assert not at.exception


def _column_pairs(node) -> list[list]:
    """Each set of side-by-side columns on the page, as lists of their columns."""
    kids = [node.children[k] for k in sorted(getattr(node, "children", None) or {})]
    found = [kids] if kids and all(getattr(k, "type", "") == "column" for k in kids) else []
    return found + [pair for kid in kids for pair in _column_pairs(kid)]


def _leaves(node) -> list:
    kids = getattr(node, "children", None)
    return [leaf for k in sorted(kids) for leaf in _leaves(kids[k])] if kids else [node]


@needs_mnist
def test_the_grid_has_a_column_to_itself_and_two_charts_beside_it() -> None:
    at = open_page()
    small(at)
    train(at, 25)
    at.run()
    # The grid's column holds the grid and its captions only (a fixed-width grid ran over the
    # charts at 1280 px); beside it the losses and the class histogram; the Frechet distance
    # and the score in a pair of their own below, so that no chart is squeezed to a few lines.
    grid_pair = next(pair for pair in _column_pairs(at.main)
                     if any(getattr(e, "type", "") == "image" for e in _leaves(pair[0])))
    assert len(grid_pair) == 2
    assert sorted({e.type for e in _leaves(grid_pair[0])}) == ["caption", "image"]
    beside = [e.value for e in _leaves(grid_pair[1]) if e.type == "markdown"]
    assert beside[0] == "**Losses**" and beside[1].startswith("**Classes the classifier sees in 500 samples**")
    assert sum(e.type == "vega_lite_chart" for e in _leaves(grid_pair[1])) == 2
    metric_pair = next(pair for pair in _column_pairs(at.main)
                       if any("Frechet distance" in str(getattr(e, "value", "")) for e in _leaves(pair[0])))
    assert metric_pair is not grid_pair and len(metric_pair) == 2
    assert at.get("image")[0].proto.imgs[0].url.endswith(".png")  # PNG: digits stay crisp (JPEG smears them)


@needs_mnist
def test_live_setting_applies_in_place_but_a_model_change_waits_for_start() -> None:
    at = open_page()
    first = trainer_of(at)
    at.number_input(key="studio.d_lr").set_value(5e-4).run()
    assert trainer_of(at) is first and first.cfg.d_lr == 5e-4
    assert first.opt_d.param_groups[0]["lr"] == 5e-4
    at.selectbox(key="studio.model").set_value("dcgan").run()
    assert trainer_of(at) is first
    # The widget's label, not the Config field's name, and the button as it is labelled.
    assert [w.value for w in at.warning] == [
        "Changed **Model**: press **Start new run** to begin a new run with it (the run shown keeps its settings)."]
    button(at, "studio.start").click().run()
    assert trainer_of(at).cfg.model == "dcgan" and not at.warning
    runner_of(at).pause()


@needs_mnist
def test_conditional_model_shows_class_row_grid_and_interpolation() -> None:
    at = open_page()
    small(at, "cgan")
    train(at, 3)
    at.run()
    captions = [c for img in at.get("image") for c in img.captions]
    assert "10 samples of class 0" in captions and "class 0: latent A -> latent B" in captions
    assert any(c.startswith("classes x samples") for c in captions)
    at.selectbox(key="studio.class").set_value(7).run()
    captions = [c for img in at.get("image") for c in img.captions]
    assert "10 samples of class 7" in captions
    assert not at.exception and not at.error


@needs_mnist
def test_stop_saves_a_run_that_is_listed_opened_and_compared(tmp_path) -> None:
    at = open_page()
    small(at)
    reached = train(at, 10)
    button(at, "studio.stop").click().run()
    assert any("saved to" in s.value for s in at.success)
    saved = runs.list_runs()
    assert [r.steps for r in saved] == [reached] and saved[0].model == "mlp"
    assert saved[0].path.parent == tmp_path / "runs"
    # a fresh session opens it and continues from its step
    close_all()
    at2 = open_page()
    assert trainer_of(at2).step_count == 0
    button(at2, "studio.open").click().run()
    assert trainer_of(at2).step_count == reached
    assert not at2.exception and not at2.error
    button(at2, "studio.play").click().run()  # Resume
    assert wait_until(lambda: trainer_of(at2).step_count > reached, 30)
    runner_of(at2).pause()


@needs_mnist
def test_exports_are_real_files() -> None:
    at = open_page()
    small(at)
    train(at, 45)
    at.run()
    runner = runner_of(at)  # the page's CSV and checkpoint buttons call these on its runner
    csv = exports.csv_now(runner)
    assert csv.splitlines()[0].startswith("step,time") and len(csv.splitlines()) > 2
    zipped = zipfile.ZipFile(io.BytesIO(exports.checkpoint_now(runner)))
    assert "run/model.safetensors" in zipped.namelist()
    assert len(at.get("download_button")) == 4


@needs_mnist
def test_a_gpu_asked_for_where_there_is_none_is_a_clear_message() -> None:
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    at = open_page()
    at.selectbox(key="studio.device").set_value("cuda").run()
    button(at, "studio.start").click().run()
    assert any("no CUDA GPU" in e.value for e in at.error)
    assert not runner_of(at).playing and not at.exception


def test_missing_offline_data_set_says_where_to_put_the_files(monkeypatch) -> None:
    import ganlab.data.images as images

    monkeypatch.setattr(images, "_search_dirs", lambda spec: [])
    monkeypatch.setattr(images, "available_splits", lambda name: [])

    def offline(*args, **kwargs):
        raise DataError("no network")
    monkeypatch.setattr(images, "download", offline)
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    assert not at.exception
    assert any("Put them in" in e.value and "GANLAB_DATA" in e.value for e in at.error)


def test_image_folder_errors_are_answered_in_the_page(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv(SERVER_DATA_ENV, str(tmp_path))  # typed server paths allowed under tmp_path
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "readme.txt").write_text("no pictures here")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "broken.png").write_bytes(b"not a png")
    at = open_page() if available_splits("mnist") else None
    if at is None:
        pytest.skip("the page opens on MNIST")
    at.selectbox(key="studio.data").set_value("image_folder").run()
    at.text_input(key="studio.data_path").set_value(str(empty)).run()
    button(at, "studio.start").click().run()
    assert any("no usable pictures" in e.value and "no .png/.jpg" in e.value for e in at.error)
    at.text_input(key="studio.data_path").set_value(str(bad)).run()
    button(at, "studio.start").click().run()
    assert any("could not be read" in e.value and "broken.png" in e.value for e in at.error)
    assert not at.exception


def _zip_bytes_cut_short() -> bytes:
    """A real .zip of pictures with its last bytes (the archive's directory) lost."""
    whole = _zip_of_classes({"cats": 2})
    return whole[: len(whole) - 40]


def _zip_of_classes(classes: dict[str, int]) -> bytes:
    """A .zip as a Mac makes it: a top folder wrapping class folders of PNGs, plus __MACOSX."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for cls, n in classes.items():
            for i in range(n):
                z.writestr(f"set/{cls}/{i}.png", _png(40 * i))
        z.writestr("__MACOSX/set/._a", b"junk")
    return buf.getvalue()


def image_folder_page() -> AppTest:
    at = open_page()
    at.selectbox(key="studio.data").set_value("image_folder").run()
    return at


def upload(at: AppTest, *files: tuple[str, bytes]) -> AppTest:
    at.file_uploader(key="studio.upload").set_value([(n, b, "application/octet-stream") for n, b in files])
    return at.run()


@needs_mnist
def test_an_upload_shows_what_will_be_trained_on_before_training() -> None:
    at = upload(image_folder_page(), ("pics.zip", _zip_of_classes({"cats": 2, "dogs": 3})))
    assert not at.exception and not at.error, [e.value for e in at.error]
    # Named as the visitor's file (the server keeps it as upload.zip); resized as training does.
    assert [s.value for s in at.success] == ["5 pictures (grey, 28 x 28) from pics.zip"]
    assert any("classes: cats (2), dogs (3)" in c.value for c in at.caption)
    assert not runner_of(at).playing and trainer_of(at).info.name == "mnist"  # nothing trained yet
    assert any("**Data set**" in w.value for w in at.warning)  # the upload is a new data set: Start


@needs_mnist
@pytest.mark.parametrize("kind", ["text", "zip header only", "cut short"])
def test_an_upload_that_is_not_a_zip_is_one_error_in_plain_words(kind: str) -> None:
    content = {"text": b"not a zip at all", "zip header only": b"PK\x03\x04 not really a zip",
               "cut short": _zip_bytes_cut_short()}[kind]
    at = upload(image_folder_page(), ("fake.zip", content))
    assert not at.exception and not at.success
    errors = [e.value for e in at.error]
    assert errors == ["fake.zip is not a readable .zip (damaged, cut short, or another kind of file): "
                      "upload a .zip of pictures, or some PNG/JPG files."], errors
    shown = errors + [w.value for w in at.warning] + [i.value for i in at.info]
    assert not any("data_path" in t or "image_folder" in t or str(UPLOADS_ROOT) in t for t in shown), shown
    assert not at.warning  # no "Changed ...: press Start" that Start could only answer with a second error
    assert button(at, "studio.start").disabled and not at.session_state["studio.data_path"]
    assert any("upload a .zip of pictures" in i.value for i in at.info)  # what Start waits for
    # A good file under the same name is read again: the error goes, Start comes back.
    at = upload(at, ("fake.zip", _zip_of_classes({"cats": 2})))
    assert not at.error and [s.value for s in at.success] == ["2 pictures (grey, 28 x 28) from fake.zip"]
    assert not button(at, "studio.start").disabled


@needs_mnist
def test_own_pictures_chosen_before_the_first_run_finished_show_mnist_meanwhile() -> None:
    at = open_page()
    runner_of(at).close()
    del at.session_state["studio.runner"]  # as when a quick click interrupts the first run on a slow server
    at.selectbox(key="studio.data").set_value("image_folder").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert trainer_of(at).info.name == "mnist" and button(at, "studio.start").disabled
    assert any("upload a .zip of pictures" in i.value for i in at.info)


@needs_mnist
def test_an_upload_without_pictures_names_the_visitors_files() -> None:
    empty = io.BytesIO()
    with zipfile.ZipFile(empty, "w") as z:
        z.writestr("notes.txt", "no pictures")
    at = upload(image_folder_page(), ("notes.zip", empty.getvalue()))
    [error] = [e.value for e in at.error]
    assert error.startswith("notes.zip has no usable pictures") and error.endswith("."), error
    at = upload(at, ("a.png", b"not a png"), ("b.png", b"nor this"))
    [error] = [e.value for e in at.error]
    assert error.startswith("Your upload has no usable pictures") and "(a.png, b.png)" in error, error
    assert str(UPLOADS_ROOT) not in error and "00000_" not in error and error.endswith(".")


@needs_mnist
def test_a_visitor_reads_only_their_uploads_and_folders_the_server_allows(tmp_path, monkeypatch) -> None:
    allowed = tmp_path / "allowed"
    (allowed / "pics").mkdir(parents=True)
    for i in range(3):
        (allowed / "pics" / f"{i}.png").write_bytes(_png(50 * i))
    (tmp_path / "private").mkdir()
    a = upload(image_folder_page(), ("a.png", _png(0)), ("b.png", _png(200)))
    a_path = Path(a.session_state["studio.data_path"])  # pictures: the session's folder itself
    assert a_path == a.session_state["studio.uploads"].path and not a.error
    assert a_path.parent == UPLOADS_ROOT.resolve() and sorted(p.name for p in a_path.iterdir()) == [
        "00000_a.png", "00001_b.png"]
    # No folders allowed (the default): typing is off, and says how to allow it.
    b = image_folder_page()
    assert b.text_input(key="studio.data_path").disabled
    assert any(SERVER_DATA_ENV in c.value for c in b.caption)
    b.session_state["studio.data_path"] = str(allowed / "pics")  # as an opened run's settings would
    b.run()
    assert any("switched off" in e.value and SERVER_DATA_ENV in e.value for e in b.error)
    # Folders allowed, even one that holds every session's uploads: another session's stay out.
    monkeypatch.setenv(SERVER_DATA_ENV, f"{allowed}{os.pathsep}{UPLOADS_ROOT}")
    b.run()
    assert not b.text_input(key="studio.data_path").disabled
    link = allowed / "theirs"
    link.symlink_to(a_path)
    for path in (a_path, a_path / "00000_a.png", link, allowed / "x" / ".." / "theirs", UPLOADS_ROOT):
        b.text_input(key="studio.data_path").set_value(str(path)).run()
        assert any("another session's uploads" in e.value for e in b.error), (path, [e.value for e in b.error])
    for path in (tmp_path / "private", allowed / ".." / "private"):
        b.text_input(key="studio.data_path").set_value(str(path)).run()
        assert any("outside the folders this server allows" in e.value for e in b.error), path
    b.text_input(key="studio.data_path").set_value(str(allowed / "pics")).run()
    assert not b.error and not b.exception
    a.run()
    assert not a.error  # the owner still trains on their upload
    # The upload folder lives as long as its session's state.
    a.session_state["studio.uploads"].close()
    assert not a_path.exists()


def test_a_session_upload_folder_goes_with_its_session() -> None:
    uploads = SessionUploads()
    folder = uploads.path
    (folder / "x.png").write_bytes(_png(1))
    assert folder.is_dir() and oct(UPLOADS_ROOT.stat().st_mode & 0o777) == "0o700"
    del uploads  # what happens when Streamlit drops an ended session's state
    gc.collect()
    assert not folder.exists()


# --- engine and UI helpers -----------------------------------------------------------------
def _png(colour: int) -> bytes:
    buf = io.BytesIO()
    Image.new("L", (20, 20), colour).save(buf, "PNG")
    return buf.getvalue()


class _File:
    def __init__(self, name: str, data: bytes) -> None:
        self.name, self._data = name, data

    def getvalue(self) -> bytes:
        return self._data


def test_save_upload_writes_pictures_or_keeps_one_zip(tmp_path) -> None:
    folder = save_upload([_File("a.png", _png(0)), _File("a.png", _png(255))], tmp_path / "up")
    assert len(list(folder.iterdir())) == 2
    z = save_upload([_File("set.zip", _zip_of_classes({"a": 1}))], tmp_path / "up")
    assert z.name == "upload.zip" and [p.name for p in (tmp_path / "up").iterdir()] == ["upload.zip"]
    with pytest.raises(DataError, match=r"^No files were uploaded: .*\.$"):
        save_upload([], tmp_path / "up")
    with pytest.raises(DataError, match=r"not both\.$"):
        save_upload([_File("set.zip", b"PK"), _File("a.png", _png(0))], tmp_path / "up")
    with pytest.raises(DataError, match=r"^set\.zip is not a readable \.zip .*PNG/JPG files\.$"):
        save_upload([_File("dir/set.zip", b"PK")], tmp_path / "up")


def test_upload_words_name_the_visitors_files_not_the_servers_copy(tmp_path) -> None:
    folder = tmp_path / "session-x"
    one = upload_message(DataError(f"{folder / 'upload.zip'} has no usable pictures: put pictures in it"),
                         [_File("cats.zip", b"")], folder)
    assert one == "cats.zip has no usable pictures: put pictures in it."
    two = upload_message(DataError(f"{folder} has no usable pictures: 2 could not be read (00000_a.png, "
                                   "00001_b.png)"), [_File("a.png", b""), _File("b.png", b"")], folder)
    assert two == "Your upload has no usable pictures: 2 could not be read (a.png, b.png)."
    summary = {"kind": "images", "file": "session-x", "ignored": [{"name": "00001_b.png", "reason": "unreadable"}]}
    renamed = upload_summary(summary, [_File("a.png", b""), _File("b.png", b"")])
    assert renamed["file"] == "your upload" and renamed["ignored"] == [{"name": "b.png", "reason": "unreadable"}]


def test_settings_waiting_for_a_new_run_are_named_by_their_labels() -> None:
    shown = ("data", "model", "d_lr")
    assert pending_message(["data", "data_path", "g_layers", "model"], shown) == (
        "Changed **Data set**, **Model**: press **Start new run** to begin a new run with them "
        "(the run shown keeps its settings).")
    assert pending_message(["data_path"], shown).startswith("Changed **Data set**: ")
    assert pending_message(["g_layers"], shown).startswith("Settings changed: press **Start new run**")


def test_to_image_shapes() -> None:
    assert to_image(torch.zeros(1, 5, 7, dtype=torch.uint8)).shape == (5, 7)
    assert to_image(torch.zeros(3, 5, 7, dtype=torch.uint8)).shape == (5, 7, 3)
    grid = torch.arange(6, dtype=torch.uint8).view(1, 2, 3)
    assert to_image(grid, scale=2).tolist() == [[0, 0, 1, 1, 2, 2]] * 2 + [[3, 3, 4, 4, 5, 5]] * 2


def test_class_views_on_a_tiny_conditional_folder_run(tmp_path) -> None:
    for cls, colour in (("dark", 10), ("light", 240)):
        (tmp_path / "pics" / cls).mkdir(parents=True)
        for i in range(4):
            (tmp_path / "pics" / cls / f"{i}.png").write_bytes(_png(colour + i))
    cfg = studio_config("image_folder", "cgan", {"data_path": str(tmp_path / "pics"),
                                                         "batch_size": 4, "eval_every": 0})
    tr = Trainer(cfg)
    assert tr.num_classes == 2
    row = class_row(tr, 1, n=5, seed=3)
    assert row.dtype == torch.uint8 and row.shape[2] == 5 * 30 + 2  # 5 tiles of 28 px + padding
    assert torch.equal(row, class_row(tr, 1, n=5, seed=3))  # seeded: same picture
    assert not torch.equal(row, class_row(tr, 0, n=5, seed=3))  # the class matters
    path = interpolation(tr, 0, 1, 2, n=6)
    ends = class_row(tr, 0, n=1, seed=1)
    assert torch.equal(path[:, :, :30 + 2][:, :, :30], ends[:, :, :30])  # starts at latent A
    assert class_grid(tr, per_class=3).shape[1] == 2 * 30 + 2
    with pytest.raises(ConfigError, match="out of range"):
        class_row(tr, 2)
    plain = Trainer(cfg.replace(model="mlp"))
    with pytest.raises(ConfigError, match="conditional"):
        class_row(plain, 0)
    assert histogram_samples(tr) is None  # no classifier for a folder


def test_list_runs_reads_folders_and_skips_the_rest(tmp_path) -> None:
    (tmp_path / "runs" / "junk").mkdir(parents=True)
    (tmp_path / "pics").mkdir()
    for i in range(3):
        (tmp_path / "pics" / f"{i}.png").write_bytes(_png(30 * i))
    cfg = studio_config("image_folder", "mlp", {"data_path": str(tmp_path / "pics"),
                                                        "batch_size": 2, "log_every": 1, "eval_every": 0})
    tr = Trainer(cfg)
    tr.step()
    tr.step()
    first = runs.save_to_runs(tr, root=tmp_path / "runs")
    second = runs.save_to_runs(tr, root=tmp_path / "runs")
    assert (first.name, second.name) == ("image_folder-mlp-1", "image_folder-mlp-2")
    found = runs.list_runs(tmp_path / "runs")
    assert sorted(r.name for r in found) == ["image_folder-mlp-1", "image_folder-mlp-2"]
    assert found[0].steps == 2 and found[0].row()["d_loss"] == pytest.approx(tr.history[-1]["d_loss"])
    assert runs.list_runs(tmp_path / "nowhere") == []


def test_runs_tables_have_one_type_per_column(tmp_path) -> None:
    import pandas as pd
    import pyarrow as pa

    # Two runs: one scored (fd, score), one with only losses, as the studio lists them.
    scored = runs.RunSummary("a", tmp_path, "mnist", "cgan", 40, {"d_loss": 1.2, "g_loss": 0.7, "fd": 3.5,
                                                                "score": 8.0, "classes_covered": 10})
    plain = runs.RunSummary("b", tmp_path, "image_folder", "mlp", 2, {"d_loss": 1.4, "g_loss": 0.6})
    table = pd.DataFrame([scored.row(), plain.row()])
    text = pd.api.types.is_string_dtype
    assert all(text(table[c]) for c in ("run", "data", "model")) and table["steps"].dtype == "int64"
    assert {str(table[k].dtype) for k in runs.RunSummary.METRICS} == {"float64"}
    assert table["classes_covered"].tolist()[0] == 10.0 and table["cond_acc"].isna().all()
    pa.Table.from_pandas(table)  # what st.dataframe does; mixed columns raise here
    compare = pd.DataFrame(compare_rows(scored))
    assert text(compare["metric"]) and compare["value"].dtype == "float64"
    assert compare["metric"].tolist() == ["steps", "d_loss", "g_loss", "fd", "score", "classes_covered"]
    assert compare["value"].tolist() == [40.0, 1.2, 0.7, 3.5, 8.0, 10.0]
    pa.Table.from_pandas(compare)


def test_studio_config_rejects_toy_sets_and_unknown_models() -> None:
    assert studio_config("mnist", "cdcgan").eval_samples == 1000
    with pytest.raises(ConfigError, match="image sets"):
        studio_config("ring8", "mlp")
    with pytest.raises(ConfigError, match="models"):
        studio_config("mnist", "pgan")


def test_the_data_sets_note_is_small_print_and_off_the_projector() -> None:
    at = open_page()
    note = trainer_of(at).info.note
    if not note:
        pytest.skip("MNIST's training split is on disk here: there is no note to show")
    assert any(note in c.value for c in at.caption) and not any(note in i.value for i in at.info)
    at.session_state["projector.on"] = True
    at.run()
    assert not any(note in c.value for c in at.caption)
