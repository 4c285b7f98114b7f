"""IDX reading, the MNIST-like builders and image folders (ganlab.data.idx / images)."""
from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import struct
import zipfile

import numpy as np
import pytest
import torch
from PIL import Image

from ganlab.data import DATASETS, DataOptions, build_dataset
from ganlab.data import images
from ganlab.data.idx import read_idx, read_idx_uint8, write_idx
from ganlab.errors import ConfigError, DataError

# --- IDX files ------------------------------------------------------------------


def _idx_bytes(code: int, dims: tuple[int, ...], body: bytes) -> bytes:
    return bytes([0, 0, code, len(dims)]) + struct.pack(f">{len(dims)}I", *dims) + body


def test_read_idx_raw_and_gzip_uint8(tmp_path):
    body = bytes(range(24))
    raw = tmp_path / "a-idx3-ubyte"
    raw.write_bytes(_idx_bytes(0x08, (2, 3, 4), body))
    gz = tmp_path / "renamed.bin"  # gzip is recognised by content, not name
    gz.write_bytes(gzip.compress(raw.read_bytes()))
    for path in (raw, gz):
        t = read_idx_uint8(path, ndim=3)
        assert t.dtype == torch.uint8 and t.shape == (2, 3, 4)
        assert t.flatten().tolist() == list(range(24))


def test_read_idx_big_endian_int16_and_float32(tmp_path):
    p = tmp_path / "i16"
    p.write_bytes(_idx_bytes(0x0B, (3,), struct.pack(">3h", -2, 258, 7)))
    a = read_idx(p)
    assert a.dtype == np.int16 and a.dtype.isnative and a.tolist() == [-2, 258, 7]
    p.write_bytes(_idx_bytes(0x0D, (2,), struct.pack(">2f", 1.5, -0.25)))
    assert read_idx(p).tolist() == [1.5, -0.25]
    with pytest.raises(DataError, match="holds float32 values, expected unsigned bytes"):
        read_idx_uint8(p)


def test_write_idx_round_trip(tmp_path):
    a = np.arange(-6, 6, dtype=np.int32).reshape(3, 4)
    write_idx(tmp_path / "x.gz", a)
    assert (tmp_path / "x.gz").read_bytes()[:2] == b"\x1f\x8b"
    np.testing.assert_array_equal(read_idx(tmp_path / "x.gz"), a)
    write_idx(tmp_path / "y", a.astype(np.uint8))
    assert (tmp_path / "y").read_bytes()[:8] == bytes([0, 0, 8, 2, 0, 0, 0, 3])


@pytest.mark.parametrize("data, message", [
    (b"\x01\x02\x08\x01\x00\x00\x00\x01\x05", "is not an IDX file (bad magic number 01020801)"),
    (b"", "is not an IDX file (bad magic number empty)"),
    (_idx_bytes(0x07, (1,), b"\x00"), "unknown IDX type code 0x07"),
    (bytes([0, 0, 8, 3, 0, 0, 0, 2]), "is truncated inside its header"),
    (_idx_bytes(0x08, (10, 28, 28), bytes(100)), "is truncated: its header (10, 28, 28) needs 7840 bytes of data, found 100"),
    (_idx_bytes(0x08, (2,), bytes(3)), "has extra bytes after the 2 bytes"),
    (_idx_bytes(0x08, (65536, 65536, 2), b""), "more than this reader allows"),
])
def test_read_idx_rejects_bad_files_naming_them(tmp_path, data, message):
    p = tmp_path / "bad-idx"
    p.write_bytes(data)
    with pytest.raises(DataError) as err:
        read_idx(p)
    assert str(err.value).startswith(str(p))
    assert message in str(err.value)


def test_truncated_gzip_and_wrong_ndim(tmp_path):
    full = gzip.compress(_idx_bytes(0x08, (50, 28, 28), bytes(range(256)) * 153 + bytes(32)))
    p = tmp_path / "t.gz"
    p.write_bytes(full[: len(full) // 2])
    with pytest.raises(DataError, match=r"t\.gz is not a valid gzip file \(Compressed file ended"):
        read_idx(p)
    p.write_bytes(full)
    with pytest.raises(DataError, match=r"has 3 dimensions \(50, 28, 28\), expected 1"):
        read_idx_uint8(p, ndim=1)
    with pytest.raises(DataError, match="does not exist"):
        read_idx(tmp_path / "absent")


# --- MNIST-like sets ---------------------------------------------------------------


def _md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


@pytest.fixture()
def fake(tmp_path, monkeypatch):
    """An isolated cache (GANLAB_DATA) with no machine copies and unreachable mirrors.

    Returns write(split, n, name="mnist", level=9): writes a synthetic gzip IDX
    pair into the cache, makes it the official one, and returns (x (n,28,28), y (n,)).
    """
    cache = tmp_path / "cache"
    monkeypatch.setenv("GANLAB_DATA", str(cache))
    nowhere = (tmp_path / "no-mirror").as_uri() + "/"
    for name in ("mnist", "fashion_mnist"):
        spec = dataclasses.replace(images.IDX_SETS[name], local_dirs=(), mirrors=(nowhere,))
        monkeypatch.setitem(images.IDX_SETS, name, spec)

    def write(split: str, n: int, name: str = "mnist", level: int = 9):
        rng = np.random.default_rng(n)
        x = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        y = (np.arange(n) % 10).astype(np.uint8)
        folder = cache / name
        folder.mkdir(parents=True, exist_ok=True)
        spec = images.IDX_SETS[name]
        new = []
        for f, arr in zip(spec.files[split], (x, y)):
            raw = _idx_bytes(0x08, arr.shape, arr.tobytes())
            gz = gzip.compress(raw, compresslevel=level, mtime=0)
            (folder / f"{f.name}.gz").write_bytes(gz)
            new.append(images.IdxFile(f.name, _md5(gz), _md5(raw)))
        files = dict(spec.files, **{split: tuple(new)})
        monkeypatch.setitem(images.IDX_SETS, name, dataclasses.replace(spec, files=files))
        return x, y

    return write


def test_registry_has_the_image_sets():
    for name in ("mnist", "fashion_mnist", "image_folder"):
        assert name in DATASETS and DATASETS.help(name)


def test_mnist_train_split_from_cache(fake):
    x, y = fake("train", 12)
    fake("test", 3)
    data = build_dataset(DataOptions("mnist"))
    assert data.x.dtype == torch.uint8 and data.x.shape == (12, 1, 28, 28)
    assert data.x.device.type == "cpu"
    assert torch.equal(data.x[:, 0], torch.from_numpy(x))
    assert data.y.dtype == torch.int64 and data.y.tolist() == y.tolist()
    assert data.info.kind == "image" and data.info.shape == (1, 28, 28)
    assert data.info.num_classes == 10 and data.info.class_names == tuple("0123456789")
    assert data.info.note == "" and data.extras["split"] == "train"
    assert images.available_splits("mnist") == ["train", "test"]
    test = images.load_split("mnist", "test")
    assert test.x.shape == (3, 1, 28, 28) and test.extras["split"] == "test"


def test_only_test_split_present_trains_on_it_with_a_note(fake, tmp_path):
    fake("test", 5)
    assert images.available_splits("mnist") == ["test"]
    data = build_dataset(DataOptions("mnist"))
    assert len(data) == 5 and data.extras["split"] == "test"
    assert data.info.note.startswith("only the 5-image test split of MNIST is present; training on it")
    assert str(tmp_path / "cache" / "mnist") in data.info.note


def test_fashion_class_names_and_resize_to_32_and_rgb(fake):
    x, _ = fake("train", 4, name="fashion_mnist")
    data = build_dataset(DataOptions("fashion_mnist", image_size=32, channels=3))
    assert data.x.shape == (4, 3, 32, 32) and data.x.dtype == torch.uint8
    assert data.info.class_names[:3] == ("T-shirt/top", "Trouser", "Pullover")
    assert data.info.class_names[-1] == "Ankle boot" and len(data.info.class_names) == 10
    assert torch.equal(data.x[:, 0], data.x[:, 2])
    expected = torch.nn.functional.interpolate(torch.from_numpy(x)[:, None].float(), size=(32, 32),
                                               mode="bilinear", align_corners=False).round()
    assert torch.equal(data.x[:, :1], expected.to(torch.uint8))


def test_resize_keeps_a_constant_image_exact():
    x = torch.full((2, 1, 28, 28), 200, dtype=torch.uint8)
    out = images._resize(x, 64)
    assert out.shape == (2, 1, 64, 64) and out.unique().tolist() == [200]


def test_bad_image_options_are_config_errors(fake):
    with pytest.raises(ConfigError, match=r"image size 40 is not supported for mnist; choose one of 28, 32, 64"):
        build_dataset(DataOptions("mnist", image_size=40))
    with pytest.raises(ConfigError, match=r"channels must be 1 \(grey\), 3 \(RGB\) or 0"):
        build_dataset(DataOptions("mnist", channels=2))
    with pytest.raises(ConfigError, match=r"unknown split 'val' of MNIST; valid splits: train, test"):
        images.load_split("mnist", "val")
    with pytest.raises(ConfigError, match=r"valid names: mnist, fashion_mnist"):
        images.available_splits("kmnist")


def test_corrupt_file_is_named(fake, tmp_path):
    fake("train", 6)
    path = tmp_path / "cache" / "mnist" / "train-images-idx3-ubyte.gz"
    blob = bytearray(path.read_bytes())
    blob[-9] ^= 0xFF  # inside the deflate stream / CRC
    path.write_bytes(bytes(blob))
    with pytest.raises(DataError) as err:
        build_dataset(DataOptions("mnist"))
    msg = str(err.value)
    assert msg.startswith(f"{path} is corrupt or not the official MNIST file: its MD5 is {_md5(bytes(blob))}")
    assert images.IDX_SETS["mnist"].files["train"][0].gz_md5 in msg


def test_recompressed_copy_is_accepted_by_content(fake, tmp_path):
    x, _ = fake("train", 6)
    spec = images.IDX_SETS["mnist"]
    f = spec.files["train"][0]
    path = tmp_path / "cache" / "mnist" / f"{f.name}.gz"
    path.write_bytes(gzip.compress(gzip.decompress(path.read_bytes()), compresslevel=1, mtime=0))
    assert _md5(path.read_bytes()) != f.gz_md5
    data = images.load_split("mnist", "train")
    assert torch.equal(data.x[:, 0], torch.from_numpy(x))


def test_uncompressed_files_are_found(fake, tmp_path):
    x, _ = fake("train", 3)
    for f in images.IDX_SETS["mnist"].files["train"]:
        gz = tmp_path / "cache" / "mnist" / f"{f.name}.gz"
        (gz.parent / f.name).write_bytes(gzip.decompress(gz.read_bytes()))
        gz.unlink()
    assert torch.equal(images.load_split("mnist", "train").x[:, 0], torch.from_numpy(x))


def test_checked_files_are_not_hashed_again(fake, monkeypatch):
    fake("train", 4)
    images.load_split("mnist", "train")

    def boom(*args, **kwargs):
        raise AssertionError("hashed again")

    monkeypatch.setattr(images, "file_hash", boom)
    assert len(images.load_split("mnist", "train")) == 4


def test_truncated_file_with_matching_checksum_is_named(fake, tmp_path, monkeypatch):
    fake("train", 4)
    spec = images.IDX_SETS["mnist"]
    f = spec.files["train"][0]
    path = tmp_path / "cache" / "mnist" / f"{f.name}.gz"
    raw = gzip.decompress(path.read_bytes())[:-100]
    path.write_bytes(raw)  # an uncompressed, truncated file whose MD5 we declare official
    files = dict(spec.files, train=(images.IdxFile(f.name, f.gz_md5, _md5(raw)), spec.files["train"][1]))
    monkeypatch.setitem(images.IDX_SETS, "mnist", dataclasses.replace(spec, files=files))
    with pytest.raises(DataError, match=r"is truncated: its header \(4, 28, 28\) needs 3136 bytes of data, found 3036"):
        images.load_split("mnist", "train")


def test_nothing_present_says_which_files_are_missing_and_where(fake, tmp_path):
    with pytest.raises(DataError) as err:
        build_dataset(DataOptions("mnist"))
    msg = str(err.value)
    cache = tmp_path / "cache" / "mnist"
    assert msg.startswith("MNIST is not on this machine (neither split).")
    assert "train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz not found in " in msg
    assert f"Put them in {cache}" in msg
    assert "Downloading them failed too: could not download train-images-idx3-ubyte.gz" in msg
    assert (tmp_path / "no-mirror").as_uri() in msg
    assert sorted(p.name for p in cache.iterdir()) == []  # no half-written download


def test_load_split_without_download_never_fetches(fake, monkeypatch, tmp_path):
    def no_fetch(*args, **kwargs):
        raise AssertionError("tried to download")

    monkeypatch.setattr(images, "fetch", no_fetch)
    with pytest.raises(DataError) as err:
        images.load_split("fashion_mnist", "test", allow_download=False)
    assert str(err.value) == (
        "Fashion-MNIST files are missing: t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz not found in "
        f"{tmp_path / 'cache' / 'fashion_mnist'}. Put them in {tmp_path / 'cache' / 'fashion_mnist'} "
        "(from " + images.IDX_SETS["fashion_mnist"].mirrors[0] + "), or set GANLAB_DATA to a folder "
        "with a fashion_mnist/ sub-folder that holds them")


def test_download_fetches_into_the_cache(fake, tmp_path, monkeypatch):
    fake("train", 7)
    src = tmp_path / "mirror"
    (tmp_path / "cache" / "mnist").rename(src)
    spec = images.IDX_SETS["mnist"]
    monkeypatch.setitem(images.IDX_SETS, "mnist", dataclasses.replace(
        spec, mirrors=((tmp_path / "down").as_uri() + "/", src.as_uri() + "/")))
    data = build_dataset(DataOptions("mnist"))
    assert len(data) == 7 and data.info.note == ""
    assert sorted(p.name for p in (tmp_path / "cache" / "mnist").iterdir()) == [
        "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"]


_REAL = images.IDX_SETS["mnist"].local_dirs[0]


@pytest.mark.skipif(not (_REAL / "t10k-images-idx3-ubyte.gz").is_file(), reason="shared MNIST copy absent")
def test_real_shared_mnist_test_split(tmp_path, monkeypatch):
    monkeypatch.setenv("GANLAB_DATA", str(tmp_path))  # empty cache: the shared copy is used
    data = build_dataset(DataOptions("mnist"))
    assert data.x.shape == (10000, 1, 28, 28) and data.x.dtype == torch.uint8
    assert data.y.dtype == torch.int64 and data.y.unique().tolist() == list(range(10))
    assert data.y[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert data.info.note.startswith("only the 10,000-image test split of MNIST is present; training on it")
    assert data.extras["split"] == "test"
    assert int(data.x.min()) == 0 and int(data.x.max()) == 255


# --- image folders -----------------------------------------------------------------


def _png(rgb, size=(28, 28), mode="RGB") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size, rgb).save(buf, format="PNG")
    return buf.getvalue()


def test_image_folder_with_classes_and_an_unreadable_file(tmp_path):
    root = tmp_path / "pets"
    for cls, colours in {"cats": [(255, 0, 0), (0, 255, 0)], "dogs": [(0, 0, 255)]}.items():
        (root / cls).mkdir(parents=True)
        for i, c in enumerate(colours):
            (root / cls / f"{i}.png").write_bytes(_png(c))
    (root / "dogs" / "broken.png").write_bytes(b"not a png at all")
    (root / "dogs" / "notes.txt").write_text("ignored")
    (root / "cats" / ".DS_Store").write_bytes(b"\0")
    data = build_dataset(DataOptions("image_folder", path=str(root)))
    assert data.x.shape == (3, 3, 28, 28) and data.x.dtype == torch.uint8
    assert data.x[:, :, 0, 0].tolist() == [[255, 0, 0], [0, 255, 0], [0, 0, 255]]
    assert data.y.tolist() == [0, 0, 1] and data.y.dtype == torch.int64
    assert data.info.class_names == ("cats", "dogs") and data.info.num_classes == 2
    assert data.info.kind == "image" and data.info.shape == (3, 28, 28)
    assert data.extras["unreadable"] == ["dogs/broken.png"]
    assert data.info.note == "1 of 4 pictures could not be read and were skipped: dogs/broken.png"


def test_grey_pictures_give_one_channel_and_resize_crop_is_centred(tmp_path):
    (tmp_path / "g").mkdir()
    (tmp_path / "g" / "a.png").write_bytes(_png(90, mode="L"))
    wide = np.zeros((28, 56, 3), np.uint8)
    wide[:, 14:42] = 170  # grey stored as RGB; the outer quarters are cropped away
    wide[:, :14] = 30
    buf = io.BytesIO()
    Image.fromarray(wide).save(buf, format="PNG")
    (tmp_path / "g" / "b.png").write_bytes(buf.getvalue())
    data = build_dataset(DataOptions("image_folder", path=str(tmp_path / "g"), image_size=32))
    assert data.x.shape == (2, 1, 32, 32)
    assert data.x[0].unique().tolist() == [90] and data.x[1].unique().tolist() == [170]
    assert data.info.num_classes == 0 and data.info.class_names == () and data.y.tolist() == [0, 0]
    rgb = build_dataset(DataOptions("image_folder", path=str(tmp_path / "g"), channels=3))
    assert rgb.x.shape == (2, 3, 28, 28) and rgb.x[0, :, 5, 5].tolist() == [90, 90, 90]


def test_forced_grey_matches_pillow_and_transparency_is_black(tmp_path):
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "a.png").write_bytes(_png((200, 100, 50)))
    (tmp_path / "c" / "b.png").write_bytes(_png((255, 255, 255, 0), mode="RGBA"))
    data = build_dataset(DataOptions("image_folder", path=str(tmp_path / "c"), channels=1))
    luma = Image.new("RGB", (1, 1), (200, 100, 50)).convert("L").getpixel((0, 0))
    assert data.x.shape == (2, 1, 28, 28)
    assert data.x[0].unique().tolist() == [luma] and data.x[1].unique().tolist() == [0]


def test_zip_with_wrapping_folder_and_class_subfolders(tmp_path):
    path = tmp_path / "pics.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("pics/b/2.jpg", _jpeg((10, 10, 10)))
        zf.writestr("pics/a/1.png", _png((255, 255, 255)))
        zf.writestr("pics/a/bad.jpg", b"\xff\xd8garbage")
        zf.writestr("__MACOSX/pics/a/._1.png", b"junk")
    data = build_dataset(DataOptions("image_folder", path=str(path)))
    assert data.info.class_names == ("a", "b") and data.y.tolist() == [0, 1]
    assert data.x.shape == (2, 1, 28, 28)  # both pictures are grey
    assert data.x[0].unique().tolist() == [255]
    assert abs(int(data.x[1].float().mean()) - 10) <= 2  # JPEG is lossy: two-sided tolerance
    assert data.extras["unreadable"] == ["pics/a/bad.jpg"]
    assert data.extras["files"] == ["pics/a/1.png", "pics/b/2.jpg"]


def _jpeg(rgb) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), rgb).save(buf, format="JPEG", quality=95)
    return buf.getvalue()


def test_image_folder_errors(tmp_path):
    with pytest.raises(ConfigError, match="needs a path"):
        build_dataset(DataOptions("image_folder"))
    with pytest.raises(DataError, match="does not exist"):
        build_dataset(DataOptions("image_folder", path=str(tmp_path / "absent")))
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.txt").write_text("hi")
    with pytest.raises(DataError, match=r"has no usable pictures: found no \.png/\.jpg/\.jpeg/\.tif/\.tiff/\.gif/\.bmp/\.webp files \(1 other files ignored\)"):
        build_dataset(DataOptions("image_folder", path=str(tmp_path / "empty")))
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "x.png").write_bytes(b"nope")
    with pytest.raises(DataError, match=r"found 1 picture\(s\) that could not be read \(x\.png\)"):
        build_dataset(DataOptions("image_folder", path=str(tmp_path / "bad")))
    (tmp_path / "f.png").write_bytes(_png((1, 2, 3)))
    with pytest.raises(DataError, match="is not a readable zip file"):
        build_dataset(DataOptions("image_folder", path=str(tmp_path / "f.png")))
    with pytest.raises(ConfigError, match="image size 48 is not supported for image_folder"):
        build_dataset(DataOptions("image_folder", path=str(tmp_path / "bad"), image_size=48))
