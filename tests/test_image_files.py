"""Users' pictures (ganlab.data.images): 16-bit, palette, grey+alpha, CMYK, EXIF, animated GIFs,
and the zip rules (unsafe members, system files, wrapping folder, strays, nested folders)."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ganlab.data.images import _decode, load_image_folder
from ganlab.errors import DataError

CASES = Path(__file__).resolve().parents[1].parent / "shared" / "cases"
needs_cases = pytest.mark.skipif(not CASES.is_dir(), reason=f"{CASES} absent (clone shared/ beside the repo)")


def _save(im: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format=fmt, **kw)
    return buf.getvalue()


# --- the shared cases ------------------------------------------------------------------

@needs_cases
def test_grey16_gradient_is_scaled_not_clipped():
    raw = np.asarray(Image.open(CASES / "case03_grey16_gradient.png")).astype(np.float64)
    assert raw.max() == 65535  # the case really is 16-bit
    pixels, note = _decode((CASES / "case03_grey16_gradient.png").read_bytes(), 32)
    assert note == "were 16-bit, scaled to 8 bits (x / 257)"
    assert np.array_equal(pixels[..., 0], np.round(raw / 257).astype(np.uint8))
    assert pixels[0, :, 0].tolist()[:4] == [0, 8, 16, 25] and pixels[0, -1, 0] == 255
    assert len(np.unique(pixels)) == 32  # a gradient, not black-and-white


@needs_cases
def test_digits16bit_zip_keeps_grey_levels():
    ds = load_image_folder(CASES / "case03_digits16bit.zip")
    assert ds.x.shape == (32, 1, 28, 28) and ds.info.num_classes == 0
    with zipfile.ZipFile(CASES / "case03_digits16bit.zip") as zf:
        raw = np.asarray(Image.open(io.BytesIO(zf.read("digits16/000.png")))).astype(np.float64)
    assert np.array_equal(ds.x[0, 0].numpy(), np.round(raw / 257).astype(np.uint8))
    assert len(ds.x[0].unique()) > 20  # was 2 (0 / 255) when 16-bit values were clipped
    assert "32 picture(s) were 16-bit" in ds.info.note


@needs_cases
def test_stray_picture_and_unsafe_member_case():
    ds = load_image_folder(CASES / "case04_zip_stray_top_picture.zip")
    assert ds.info.class_names == ("class_0", "class_1", "class_2")
    assert ds.y.bincount().tolist() == [20, 21, 20]  # class_1 keeps nested/deeper/extra.png
    assert "mydigits/class_1/nested/deeper/extra.png" in ds.extras["files"]
    assert ds.extras["skipped"] == {
        "../../evil.png": "unsafe member name (path with '..'): not read",
        "mydigits/preview.png": "picture beside the class folders",
    }
    assert ds.extras["system_files"] == 3  # Thumbs.db, __MACOSX/..., .DS_Store
    assert "mydigits/preview.png" in ds.info.note and "(class_0, class_1, class_2)" in ds.info.note


# --- picture kinds ---------------------------------------------------------------------

def test_sixteen_bit_tiff_and_png_made_here():
    a = (np.arange(28 * 28).reshape(28, 28) * 83).astype(np.uint16)
    for fmt in ("TIFF", "PNG"):
        pixels, note = _decode(_save(Image.fromarray(a), fmt), 28)
        assert note and "16-bit" in note
        assert np.array_equal(pixels[..., 1], np.round(a / 257).astype(np.uint8)), fmt


def test_palette_grey_alpha_and_cmyk():
    pal = Image.new("P", (28, 28), 1)
    pal.putpalette([0, 0, 0, 200, 40, 10] + [0] * 762)
    assert _decode(_save(pal, "PNG"), 28)[0][5, 5].tolist() == [200, 40, 10]
    la = Image.new("LA", (28, 28), (180, 255))
    la.paste((90, 0), (0, 0, 14, 28))  # left half transparent: black
    px = _decode(_save(la, "PNG"), 28)[0]
    assert px[5, 3].tolist() == [0, 0, 0] and px[5, 24].tolist() == [180, 180, 180]
    cmyk = _decode(_save(Image.new("CMYK", (28, 28), (0, 255, 255, 0)), "JPEG", quality=95), 28)[0]
    r, g, b = cmyk[14, 14].tolist()
    assert r >= 245 and g <= 10 and b <= 10  # pure red, JPEG within a two-sided tolerance


def test_exif_rotated_jpeg_is_turned_upright():
    img = Image.new("RGB", (56, 28), (0, 0, 0))
    img.paste((255, 255, 255), (0, 0, 28, 28))  # stored: left half white
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display": white ends up on top
    px = _decode(_save(img, "JPEG", exif=exif.tobytes(), quality=95), 28)[0]
    top, bottom = px[:10].mean(), px[-10:].mean()
    assert top > 240 and bottom < 15
    assert px[2, 25].mean() > 240  # top-right white: without the rotation it would be black


def test_animated_gif_uses_the_first_frame_with_a_note(tmp_path):
    frames = [Image.new("L", (28, 28), v) for v in (200, 50, 10)]
    (tmp_path / "anim").mkdir()
    frames[0].save(tmp_path / "anim" / "a.gif", save_all=True, append_images=frames[1:])
    (tmp_path / "anim" / "b.png").write_bytes(_save(Image.new("L", (28, 28), 99), "PNG"))
    ds = load_image_folder(tmp_path / "anim")
    assert ds.x[:, 0, 5, 5].tolist() == [200, 99]
    assert ds.info.note == "1 picture(s) are animated: only the first frame is used: a.gif"


# --- zip rules -------------------------------------------------------------------------

def _png(v: int) -> bytes:
    return _save(Image.new("L", (28, 28), v), "PNG")


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name), data)  # ZipInfo keeps '..' and '/' as written
    return path


def test_unsafe_members_are_skipped_and_never_written(tmp_path):
    z = _zip(tmp_path / "evil.zip", {"/etc/abs.png": _png(1), "a/../../up.png": _png(2),
                                     "C:/win.png": _png(3), "ok/1.png": _png(40), "ok/2.png": _png(50)})
    before = sorted(p.name for p in tmp_path.rglob("*"))
    ds = load_image_folder(z)
    assert ds.extras["files"] == ["ok/1.png", "ok/2.png"] and ds.x[:, 0, 0, 0].tolist() == [40, 50]
    assert ds.extras["skipped"] == {"/etc/abs.png": "unsafe member name (absolute path): not read",
                                    "C:/win.png": "unsafe member name (absolute path): not read",
                                    "a/../../up.png": "unsafe member name (path with '..'): not read"}
    assert "3 zip member(s) with an absolute path or '..' were skipped" in ds.info.note
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # nothing extracted anywhere


def test_macos_files_ignored_wrapping_folder_unwrapped_nested_kept(tmp_path):
    z = _zip(tmp_path / "mac.zip", {
        "__MACOSX/top/cats/._1.png": b"\0\5junk", "top/.DS_Store": b"\0",
        "top/cats/1.png": _png(10), "top/cats/deep/er/2.png": _png(20), "top/dogs/3.png": _png(30),
        "top/dogs/.hidden.png": _png(99),
    })
    ds = load_image_folder(z)
    assert ds.info.class_names == ("cats", "dogs") and ds.y.tolist() == [0, 0, 1]
    assert ds.x[:, 0, 0, 0].tolist() == [10, 20, 30]
    assert ds.extras["system_files"] == 3 and ds.extras["skipped"] == {} and ds.info.note == ""


def test_strays_left_out_only_when_class_folders_dominate(tmp_path):
    few = _zip(tmp_path / "few.zip", {"a/1.png": _png(1), "a/2.png": _png(2), "b/3.png": _png(3),
                                      "cover.png": _png(4)})
    ds = load_image_folder(few)
    assert ds.info.class_names == ("a", "b") and len(ds) == 3
    assert ds.info.note == ("1 picture(s) lie beside the class folders (a, b) and were left out: cover.png; "
                            "move them into a class folder to use them")
    many = _zip(tmp_path / "many.zip", {"1.png": _png(1), "2.png": _png(2), "thumbs/3.png": _png(3),
                                        "other/4.png": _png(4)})
    ds = load_image_folder(many)
    assert ds.info.num_classes == 0 and len(ds) == 4 and ds.extras["skipped"] == {}


def test_unreadable_files_are_counted(tmp_path):
    z = _zip(tmp_path / "bad.zip", {"x/1.png": _png(5), "x/2.png": b"broken", "x/3.jpg": b"\xff\xd8no",
                                    "x/readme.txt": b"hi"})
    ds = load_image_folder(z)
    assert len(ds) == 1 and ds.extras["unreadable"] == ["x/2.png", "x/3.jpg"]
    assert ds.info.note.startswith("2 of 3 pictures could not be read and were skipped: x/2.png, x/3.jpg")
    assert ds.extras["skipped"]["x/readme.txt"].startswith("not a picture")
    (tmp_path / "notzip.zip").write_bytes(b"plain text")
    with pytest.raises(DataError, match=r"notzip.zip is not a readable zip file \(its content is not a zip "
                                        r"archive: damaged, cut short, or another kind of file\); point the "
                                        r"image_folder data set at a folder or a .zip of pictures$"):
        load_image_folder(tmp_path / "notzip.zip")
