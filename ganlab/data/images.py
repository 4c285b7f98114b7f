"""Image data sets: MNIST, Fashion-MNIST and the user's own pictures.

Every builder returns a `Dataset` on the CPU with x uint8 (N, C, S, S), y int64
(N,) and `info.kind == "image"`. `DataOptions.image_size` picks S in {28, 32, 64} (image folders: also 128)
(0 = 28) and `DataOptions.channels` picks C: 1 grey, 3 RGB, 0 = the set's own
(grey for the IDX sets; for a folder, grey if every picture is grey, else RGB).

MNIST / Fashion-MNIST (IDX files, see `ganlab.data.idx`)
- Where files come from, in order: `cache_dir()/<set>/` (that is
  `$GANLAB_DATA/<set>/` when GANLAB_DATA is set), the copies this machine
  already has (`<repo>/../shared/data/<set>/`, Debian's `/usr/share/datasets/`),
  then a download into `cache_dir()/<set>/` from the mirrors, in order. A file
  may be `name.gz` or the uncompressed `name`.
- The builders train on the training split when it is on disk, else on the test
  split (and say so in `info.note`); only when neither is on disk is the training
  split downloaded. `load_split` asks for one split explicitly.
- Checksums: a file is accepted if it is the official .gz (published MD5), the
  official uncompressed file, or a re-compressed copy whose content has the
  official uncompressed MD5 (Debian re-compresses Fashion-MNIST). A file is
  hashed once; `ganlab.download.remember_verified` keeps a stamp keyed by path,
  size and mtime, so later loads skip the 50 MB of hashing.
- 32 and 64 px are made by bilinear up-sampling of the whole tensor once at load,
  not by padding: a progressive GAN at 32 px wants the digit to fill the frame.

Image folders (`image_folder`, `DataOptions.path` = a folder or a .zip)
- PNG / JPEG / TIFF / GIF / BMP / WebP files, found recursively; system files
  (`__MACOSX/`, dot-files such as `.DS_Store` and `._x.png`, Thumbs.db) ignored.
- Zips are read in memory, never extracted; a member whose name is absolute or
  holds `..` is skipped unread, with a note.
- Each picture is turned upright (EXIF), 16-bit grey (PNG / TIFF) scaled to 8
  bits by x / 257 (never clipped), palette / grey+alpha / CMYK converted,
  composited onto black if it has transparency, centre-cropped to a square and
  resized (bicubic, antialiased) to S x S. Animated GIFs give their first frame
  (with a note). Forced grey uses Pillow's ITU-R 601-2 luma.
- Labels (`_class_layout`): after stepping into a single wrapping folder (as
  zips often have), each top-level sub-folder is a class (sorted by name), with
  the pictures of its own sub-folders. Pictures beside two or more class
  folders, fewer than those in the folders, are left out with a note naming
  them and the classes; otherwise top-level pictures make the set unlabelled
  (y = 0, num_classes 0).
- Files that cannot be decoded are skipped and listed in `info.note` and
  `extras["unreadable"]` (with the count); every skipped file and why is in
  `extras["skipped"]`; a folder without any readable picture is a DataError.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import os
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps

import ganlab
from ganlab.data.base import DATASETS, DataInfo, DataOptions, Dataset
from ganlab.data.idx import read_idx_uint8
from ganlab.download import cache_dir, fetch, file_hash, remember_verified, was_verified
from ganlab.errors import ConfigError, DataError

IMAGE_SIZES = (28, 32, 64)
# Image folders (the user's photos, e.g. faces) also at 128 px; the MNIST-like sets stop
# at 64, where their 28 px digits are already upsampled 2.3x (60,000 at 128 px: 1 GB).
FOLDER_IMAGE_SIZES = IMAGE_SIZES + (128,)
DEFAULT_IMAGE_SIZE = 28
SPLITS = ("train", "test")
RESIZE_CHUNK = 4096  # images per interpolate call: bounds the float copy to ~65 MB at 64 px


# --- MNIST-like sets ----------------------------------------------------------

@dataclass(frozen=True)
class IdxFile:
    """One official file: its name without .gz and the MD5 of the .gz and of its content."""

    name: str
    gz_md5: str
    raw_md5: str


@dataclass(frozen=True)
class IdxSet:
    """Everything needed to find, check and download one MNIST-like set.

    files: split -> (images file, labels file); sizes: split -> number of images.
    local_dirs: folders where this machine may already hold the files.
    """

    name: str
    title: str
    files: dict[str, tuple[IdxFile, IdxFile]]
    sizes: dict[str, int]
    class_names: tuple[str, ...]
    mirrors: tuple[str, ...]
    local_dirs: tuple[Path, ...]


_SHARED = Path(ganlab.__file__).resolve().parents[1].parent / "shared" / "data"

IDX_SETS: dict[str, IdxSet] = {
    "mnist": IdxSet(
        name="mnist",
        title="MNIST",
        files={
            "train": (IdxFile("train-images-idx3-ubyte", "f68b3c2dcbeaaa9fbdd348bbdeb94873",
                              "6bbc9ace898e44ae57da46a324031adb"),
                      IdxFile("train-labels-idx1-ubyte", "d53e105ee54ea40749a09fcbcd1e9432",
                              "a25bea736e30d166cdddb491f175f624")),
            "test": (IdxFile("t10k-images-idx3-ubyte", "9fb629c4189551a2d022fa330f9573f3",
                             "2646ac647ad5339dbf082846283269ea"),
                     IdxFile("t10k-labels-idx1-ubyte", "ec29112dd5afa0611ce80d1b7f02629c",
                             "27ae3e4e09519cfbb04c329615203637")),
        },
        sizes={"train": 60_000, "test": 10_000},
        class_names=tuple(str(d) for d in range(10)),
        mirrors=("https://ossci-datasets.s3.amazonaws.com/mnist/",
                 "https://storage.googleapis.com/cvdf-datasets/mnist/",
                 "http://yann.lecun.com/exdb/mnist/"),
        local_dirs=(_SHARED / "mnist", Path("/usr/share/datasets/mnist")),
    ),
    "fashion_mnist": IdxSet(
        name="fashion_mnist",
        title="Fashion-MNIST",
        files={
            "train": (IdxFile("train-images-idx3-ubyte", "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
                              "f4a8712d7a061bf5bd6d2ca38dc4d50a"),
                      IdxFile("train-labels-idx1-ubyte", "25c81989df183df01b3e8a0aad5dffbe",
                              "9018921c3c673c538a1fc5bad174d6f9")),
            "test": (IdxFile("t10k-images-idx3-ubyte", "bef4ecab320f06d8554ea6380940ec79",
                             "8181f5470baa50b63fa0f6fddb340f0a"),
                     IdxFile("t10k-labels-idx1-ubyte", "bb300cfdad3c16e7a12a480ee83cd310",
                             "15d484375f8d13e6eb1aabb0c3f46965")),
        },
        sizes={"train": 60_000, "test": 10_000},
        class_names=("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                     "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
        mirrors=("https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
                 "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"),
        local_dirs=(_SHARED / "fashion_mnist", Path("/usr/share/datasets/fashion-mnist")),
    ),
}


def _spec(name: str) -> IdxSet:
    if name not in IDX_SETS:
        raise ConfigError(f"unknown IDX data set {name!r}; valid names: {', '.join(IDX_SETS)}")
    return IDX_SETS[name]


def _check_split(spec: IdxSet, split: str) -> None:
    if split not in SPLITS:
        raise ConfigError(f"unknown split {split!r} of {spec.title}; valid splits: {', '.join(SPLITS)}")


def _search_dirs(spec: IdxSet) -> list[Path]:
    return [cache_dir() / spec.name, *spec.local_dirs]


def _find(spec: IdxSet, f: IdxFile) -> Path | None:
    for folder in _search_dirs(spec):
        for candidate in (folder / f"{f.name}.gz", folder / f.name):
            if candidate.is_file():
                return candidate
    return None


def _split_paths(spec: IdxSet, split: str) -> tuple[Path, Path] | None:
    images, labels = (_find(spec, f) for f in spec.files[split])
    return (images, labels) if images is not None and labels is not None else None


def available_splits(name: str) -> list[str]:
    """The splits of an IDX set ("mnist", "fashion_mnist") whose two files are on disk now."""
    spec = _spec(name)
    return [s for s in SPLITS if _split_paths(spec, s) is not None]


def _is_gzip(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(2) == b"\x1f\x8b"


def _content_md5(path: Path) -> str | None:
    """MD5 of a gzip file's decompressed content, None if it cannot be decompressed."""
    digest = hashlib.md5()
    try:
        with gzip.open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    except (OSError, EOFError, zlib.error):
        return None
    return digest.hexdigest()


def _verify(spec: IdxSet, path: Path, f: IdxFile) -> None:
    """Raise DataError unless `path` holds the official content of `f` (hashed once, then stamped)."""
    if was_verified(path, f.raw_md5):
        return
    actual = file_hash(path, "md5")
    if actual not in (f.gz_md5, f.raw_md5):
        content = _content_md5(path) if _is_gzip(path) else None
        if content != f.raw_md5:
            raise DataError(
                f"{path} is corrupt or not the official {spec.title} file: its MD5 is {actual}, expected "
                f"{f.gz_md5} ({f.name}.gz) or {f.raw_md5} (uncompressed {f.name}); replace it with a "
                f"good copy, or delete it so that a fresh one is downloaded into {cache_dir() / spec.name}"
            )
    remember_verified(path, f.raw_md5)


def _missing_message(spec: IdxSet, splits: tuple[str, ...]) -> str:
    names = [f"{f.name}.gz" for s in splits for f in spec.files[s]]
    folders = ", ".join(str(d) for d in _search_dirs(spec))
    return (f"{spec.title} files are missing: {', '.join(names)} not found in {folders}. "
            f"Put them in {cache_dir() / spec.name} (from {spec.mirrors[0]}), or set GANLAB_DATA "
            f"to a folder with a {spec.name}/ sub-folder that holds them")


def download(name: str, split: str = "train",
             progress: Callable[[int, int | None], None] | None = None,
             timeout: float = 30.0) -> tuple[Path, Path]:
    """Download one split of an IDX set into `cache_dir()/<name>/` -> (images path, labels path).

    progress(bytes_done, bytes_total or None) is called per chunk, file by file.
    """
    spec = _spec(name)
    _check_split(spec, split)
    paths = []
    for f in spec.files[split]:
        dest = cache_dir() / spec.name / f"{f.name}.gz"
        fetch([m + f"{f.name}.gz" for m in spec.mirrors], dest, md5=f.gz_md5,
              progress=progress, timeout=timeout)
        remember_verified(dest, f.raw_md5)
        paths.append(dest)
    return paths[0], paths[1]


def load_split(name: str, split: str, *, image_size: int = 0, channels: int = 0,
               allow_download: bool = True,
               progress: Callable[[int, int | None], None] | None = None) -> Dataset:
    """One split ("train" or "test") of an IDX set -> Dataset x uint8 (N, C, S, S), y int64 (N,).

    Files on disk are used first; otherwise the split is downloaded if allowed.
    """
    spec = _spec(name)
    _check_split(spec, split)
    size, chans = _image_options(name, image_size, channels)
    paths = _split_paths(spec, split)
    if paths is None:
        if not allow_download:
            raise DataError(_missing_message(spec, (split,)))
        try:
            paths = download(name, split, progress)
        except DataError as exc:
            raise DataError(f"{_missing_message(spec, (split,))}.\n"
                            f"Downloading them failed too: {exc}") from None
    return _load_pair(spec, split, paths, size, chans)


def _load_pair(spec: IdxSet, split: str, paths: tuple[Path, Path], size: int, channels: int) -> Dataset:
    for path, f in zip(paths, spec.files[split]):
        _verify(spec, path, f)
    pixels = read_idx_uint8(paths[0], ndim=3)
    labels = read_idx_uint8(paths[1], ndim=1)
    if len(pixels) != len(labels):
        raise DataError(f"{paths[0]} has {len(pixels)} images but {paths[1]} has {len(labels)} labels; "
                        "the two files must come from the same split")
    x = _to_channels(_resize(pixels.unsqueeze(1), size), channels)
    info = DataInfo(name=spec.name, kind="image", shape=tuple(x.shape[1:]),
                    num_classes=len(spec.class_names), class_names=spec.class_names)
    return Dataset(x, info, labels.long(), {"split": split, "files": [str(p) for p in paths]})


def _build_idx_set(name: str, opts: DataOptions) -> Dataset:
    """Train split if on disk, else the test split (with a note), else download the train split."""
    spec = _spec(name)
    _image_options(name, opts.image_size, opts.channels)  # fail on bad options before any I/O
    local = available_splits(name)
    if "train" in local or not local:
        try:
            return load_split(name, "train", image_size=opts.image_size, channels=opts.channels)
        except DataError as exc:
            if local:
                raise
            raise DataError(f"{spec.title} is not on this machine (neither split).\n{exc}") from None
    data = load_split(name, "test", image_size=opts.image_size, channels=opts.channels,
                      allow_download=False)
    train_files = " and ".join(f"{f.name}.gz" for f in spec.files["train"])
    data.info.note = (
        f"only the {len(data):,}-image test split of {spec.title} is present; training on it "
        f"(put {train_files} in {cache_dir() / spec.name} to train on the "
        f"{spec.sizes['train']:,}-image training split)"
    )
    return data


@DATASETS.register("mnist", help="MNIST handwritten digits: 28x28 grey, 10 classes (train split if present)")
def mnist(opts: DataOptions) -> Dataset:
    return _build_idx_set("mnist", opts)


@DATASETS.register("fashion_mnist",
                   help="Fashion-MNIST clothes: 28x28 grey, 10 classes (train split if present)")
def fashion_mnist(opts: DataOptions) -> Dataset:
    return _build_idx_set("fashion_mnist", opts)


# --- sizes and channels -------------------------------------------------------

def _image_options(name: str, image_size: int, channels: int) -> tuple[int, int]:
    """Validated (side in pixels, channels); channels 0 means 'the set decides'."""
    size = image_size or DEFAULT_IMAGE_SIZE
    sizes = FOLDER_IMAGE_SIZES if name == "image_folder" else IMAGE_SIZES
    if size not in sizes:
        raise ConfigError(f"image size {image_size} is not supported for {name}; "
                          f"choose one of {', '.join(map(str, sizes))} (0 = {DEFAULT_IMAGE_SIZE})")
    if channels not in (0, 1, 3):
        raise ConfigError(f"channels must be 1 (grey), 3 (RGB) or 0 (automatic) for {name}; got {channels}")
    return size, channels


def _resize(x: torch.Tensor, size: int) -> torch.Tensor:
    """uint8 (N, C, H, W) -> uint8 (N, C, size, size), bilinear, in chunks to bound memory."""
    if x.shape[-1] == size and x.shape[-2] == size:
        return x
    out = torch.empty((x.shape[0], x.shape[1], size, size), dtype=torch.uint8)
    for i in range(0, x.shape[0], RESIZE_CHUNK):
        chunk = F.interpolate(x[i:i + RESIZE_CHUNK].float(), size=(size, size),
                              mode="bilinear", align_corners=False)
        out[i:i + RESIZE_CHUNK] = chunk.round_().clamp_(0, 255).to(torch.uint8)
    return out


def _to_channels(x: torch.Tensor, channels: int) -> torch.Tensor:
    """uint8 (N, C, H, W) -> (N, channels, H, W): grey is replicated, RGB turned into luma."""
    if channels in (0, x.shape[1]):
        return x
    if channels == 3:
        return x.expand(-1, 3, -1, -1).contiguous()
    # Pillow's fixed-point ITU-R 601-2 luma, so forced grey matches Image.convert("L").
    rgb = x.to(torch.int32)
    luma = (rgb[:, 0] * 19595 + rgb[:, 1] * 38470 + rgb[:, 2] * 7471 + 0x8000) >> 16
    return luma.unsqueeze(1).to(torch.uint8)


# --- image folders and zips ---------------------------------------------------

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".gif", ".bmp", ".webp")
MAX_IMAGE_BYTES = 64 << 20
MAX_FOLDER_IMAGES = 250_000
SYSTEM_NAMES = frozenset({"__MACOSX", "Thumbs.db", "desktop.ini"})


def _system_file(parts: list[str]) -> bool:
    """macOS / Windows bookkeeping (`__MACOSX/`, `.DS_Store`, `._x.png`, Thumbs.db): never data."""
    return any(p.startswith(".") or p in SYSTEM_NAMES for p in parts)


def _unsafe_member(name: str) -> str | None:
    """Why a zip member's name could point outside the archive's folder, or None if it is safe."""
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        return "absolute path"
    if ".." in re.split(r"[/\\]", name):
        return "path with '..'"
    return None


def _members(root: Path, skipped: dict[str, str],
             counts: dict[str, int]) -> Iterator[tuple[str, Callable[[], bytes], int]]:
    """(relative posix path, reader of its bytes, size in bytes) of every candidate file, sorted.

    Zip members are only read into memory, never extracted; a member whose name
    is absolute or holds '..' is not even read: it goes to `skipped` (name ->
    reason). System files are counted in `counts["system"]`.
    """
    if root.is_dir():
        found = []
        for folder, dirs, files in os.walk(root):  # os.walk does not follow symlinked folders
            hidden = [d for d in dirs if _system_file([d])]
            dirs[:] = [d for d in dirs if d not in hidden]
            counts["system"] += len(hidden) + sum(_system_file([f]) for f in files)
            # is_file() drops broken symlinks, which could not be read anyway.
            found += [Path(folder, f) for f in files if not _system_file([f]) and Path(folder, f).is_file()]
        for path in sorted(found, key=lambda p: p.relative_to(root).as_posix()):
            yield path.relative_to(root).as_posix(), path.read_bytes, path.stat().st_size
        return
    try:
        archive = zipfile.ZipFile(root)
    except (zipfile.BadZipFile, OSError) as exc:
        if root.suffix.lower() in IMAGE_SUFFIXES:
            what = "it is a single picture"
        elif isinstance(exc, zipfile.BadZipFile):  # zipfile's own words ("File is not a zip file") say less
            what = "its content is not a zip archive: damaged, cut short, or another kind of file"
        else:
            what = str(exc)
        raise DataError(f"{root} is not a readable zip file ({what}); point the image_folder data set "
                        "at a folder or a .zip of pictures") from None
    with archive:
        infos = [i for i in archive.infolist() if not i.is_dir()]
        for info in sorted(infos, key=lambda i: i.filename):
            why = _unsafe_member(info.filename)
            if why:
                skipped[info.filename] = f"unsafe member name ({why}): not read"
                continue
            parts = [p for p in info.filename.split("/") if p]
            if not parts or _system_file(parts):
                counts["system"] += 1
                continue
            yield "/".join(parts), (lambda info=info: archive.read(info)), info.file_size


def _to_8bit(im: Image.Image) -> Image.Image:
    """Deep grey (16-bit PNG / TIFF: modes I;16*, I) -> 8-bit "L" by x / 257, rounded, never clipped.

    65535 / 257 = 255 exactly, so the full 16-bit range maps onto the full 8-bit one.
    Raises ValueError for values outside 0..65535 (a 32-bit integer picture).
    """
    a = np.asarray(im).astype(np.float64)
    if a.size and (a.min() < 0 or a.max() > 65535):
        raise ValueError(f"{im.mode} picture with values {a.min():g}..{a.max():g}, outside 0..65535")
    return Image.fromarray(np.round(a / 257.0).astype(np.uint8), mode="L")


def _decode(data: bytes, size: int) -> tuple[np.ndarray, str | None]:
    """Encoded picture -> ((size, size, 3) uint8 upright, on black, centre square, resized; note or None).

    The note says what was done beyond the usual (16-bit scaled, first frame of an animation).
    """
    note = None
    with Image.open(io.BytesIO(data)) as im:
        frames = getattr(im, "n_frames", 1)
        if frames > 1:  # Image.open stands on the first frame of an animation
            note = "are animated: only the first frame is used"
        # JPEG only: decode at a reduced scale (still >= 2x the target), much faster for photos.
        im.draft(None, (2 * size, 2 * size))
        im = ImageOps.exif_transpose(im)
        if im.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
            # Pillow's convert("RGB") clips these at 255: a 16-bit scan would turn black-and-white.
            im = _to_8bit(im)
            note = "were 16-bit, scaled to 8 bits (x / 257)"
        elif im.mode == "F":
            raise ValueError("32-bit float picture: save it as an 8- or 16-bit PNG")
        if im.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in im.info:
            rgba = im.convert("RGBA")
            im = Image.alpha_composite(Image.new("RGBA", rgba.size, (0, 0, 0, 255)), rgba)
        im = im.convert("RGB")  # palette, grey, CMYK (Pillow undoes Adobe's inverted CMYK JPEGs)
        w, h = im.size
        side = min(w, h)
        box = ((w - side) // 2, (h - side) // 2, (w - side) // 2 + side, (h - side) // 2 + side)
        # Crop first: resizing with box= would blend in pixels from outside the square.
        im = im.crop(box).resize((size, size), Image.Resampling.BICUBIC)
        return np.asarray(im, dtype=np.uint8), note


@dataclass
class ClassLayout:
    """How relative picture paths become classes.

    labels: one int per kept path; class_names: sorted folder names (empty if unlabelled);
    keep: per input path, whether it is used; strays: top-level pictures left out;
    prefix: the wrapping folders stepped into ("" if none).
    """

    labels: list[int]
    class_names: tuple[str, ...]
    keep: list[bool]
    strays: list[str]
    prefix: str = ""


def _class_layout(paths: list[str]) -> ClassLayout:
    """Relative paths -> classes: each top-level folder (after unwrapping) is a class.

    A single folder wrapping everything (typical of zips) is stepped into; a
    picture in a sub-folder of a class folder stays in that class. Pictures lying
    beside two or more class folders are 'strays': when the class folders hold
    more pictures than the top level, the strays are left out (named in
    `strays`); otherwise the set is unlabelled and every picture is used.
    """
    parts = [p.split("/") for p in paths]
    prefix = []
    while parts and all(len(p) > 1 for p in parts) and len({p[0] for p in parts}) == 1:
        prefix.append(parts[0][0])
        parts = [p[1:] for p in parts]
    top = [len(p) == 1 for p in parts]
    folders = sorted({p[0] for p in parts if len(p) > 1})
    n_top = sum(top)
    if not folders or (n_top and (len(folders) < 2 or n_top >= len(paths) - n_top)):
        return ClassLayout([0] * len(paths), (), [True] * len(paths), [], "/".join(prefix))
    index = {n: i for i, n in enumerate(folders)}
    labels = [index[p[0]] for p in parts if len(p) > 1]
    strays = [path for path, t in zip(paths, top) if t]
    return ClassLayout(labels, tuple(folders), [not t for t in top], strays, "/".join(prefix))


def load_image_folder(path: Path | str, image_size: int = 0, channels: int = 0) -> Dataset:
    """A folder or .zip of pictures -> Dataset x uint8 (N, C, S, S), y int64 (N,).

    Reads PNG / JPEG / TIFF / GIF / BMP / WebP (see the module docstring).
    `extras`: "source", "files" (used, in order), "unreadable" (names),
    "unreadable_reasons", "skipped" (name -> why: unreadable, unsafe zip member,
    stray picture, not a picture), "notes" (sentences, also joined in `info.note`).
    Raises DataError when nothing usable is found.
    """
    size, channels = _image_options("image_folder", image_size, channels)
    root = Path(path).expanduser()
    if not root.exists():
        raise DataError(f"{root} does not exist; set the data path to a folder or a .zip of pictures")
    names: list[str] = []
    pictures: list[np.ndarray] = []
    unreadable: dict[str, str] = {}
    unsafe: dict[str, str] = {}
    others: list[str] = []
    counts = {"system": 0}
    decoded_notes: dict[str, list[str]] = {}
    for rel, read, nbytes in _members(root, unsafe, counts):
        if not rel.lower().endswith(IMAGE_SUFFIXES):
            others.append(rel)
            continue
        if nbytes > MAX_IMAGE_BYTES:
            unreadable[rel] = f"larger than {MAX_IMAGE_BYTES >> 20} MiB"
            continue
        try:
            picture, note = _decode(read(), size)
        # Decoders fail in many ways on bad files (OSError, ValueError, SyntaxError,
        # DecompressionBombError, zip CRC / encryption errors); each only skips the file.
        except Exception as exc:  # noqa: BLE001
            unreadable[rel] = f"{type(exc).__name__}: {exc}"
            continue
        pictures.append(picture)
        names.append(rel)
        if note:
            decoded_notes.setdefault(note, []).append(rel)
        if len(pictures) > MAX_FOLDER_IMAGES:
            raise DataError(f"{root} holds more than {MAX_FOLDER_IMAGES:,} pictures; "
                            "use a smaller folder (a random subset is fine for a GAN)")
    suffixes = "/".join(IMAGE_SUFFIXES)
    if not pictures:
        found = f"{len(unreadable)} picture(s) that could not be read ({', '.join(list(unreadable)[:5])})" \
            if unreadable else f"no {suffixes} files ({len(others)} other files ignored)"
        raise DataError(f"{root} has no usable pictures: found {found}; "
                        "put pictures in it (sub-folders become classes)")
    layout = _class_layout(names)
    notes = []
    if unreadable:
        shown = ", ".join(list(unreadable)[:10]) + (", ..." if len(unreadable) > 10 else "")
        total = len(unreadable) + len(names)
        notes.append(f"{len(unreadable)} of {total} pictures could not be read and were skipped: {shown}")
    if unsafe:
        notes.append(f"{len(unsafe)} zip member(s) with an absolute path or '..' were skipped, not read: "
                     + ", ".join(list(unsafe)[:5]))
    if layout.strays:
        where = f" of {layout.prefix}/" if layout.prefix else ""
        notes.append(f"{len(layout.strays)} picture(s) lie beside the class folders{where} "
                     f"({', '.join(layout.class_names)}) and were left out: {', '.join(layout.strays[:5])}"
                     f"{', ...' if len(layout.strays) > 5 else ''}; move them into a class folder to use them")
    for note, files in decoded_notes.items():
        notes.append(f"{len(files)} picture(s) {note}: {', '.join(files[:3])}{', ...' if len(files) > 3 else ''}")
    keep = torch.tensor(layout.keep)
    names = [n for n, k in zip(names, layout.keep) if k]
    hwc = torch.from_numpy(np.stack(pictures))[keep]
    grey = bool((hwc[..., 0] == hwc[..., 1]).all() and (hwc[..., 1] == hwc[..., 2]).all())
    x = hwc.permute(0, 3, 1, 2).contiguous()
    x = _to_channels(x[:, :1].contiguous() if grey else x, channels or (1 if grey else 3))
    skipped = {**{k: f"unreadable ({v})" for k, v in unreadable.items()}, **unsafe,
               **{k: "picture beside the class folders" for k in layout.strays},
               **{k: "not a picture (" + suffixes + ")" for k in others}}
    info = DataInfo(name="image_folder", kind="image", shape=tuple(x.shape[1:]),
                    num_classes=len(layout.class_names), class_names=layout.class_names,
                    note="; ".join(notes))
    extras = {"source": str(root), "files": names, "unreadable": list(unreadable),
              "unreadable_reasons": unreadable, "skipped": skipped, "notes": notes,
              "system_files": counts["system"]}
    return Dataset(x, info, torch.tensor(layout.labels, dtype=torch.int64), extras)


@DATASETS.register("image_folder", help="your pictures: a folder or .zip of PNG/JPG (sub-folders = classes)")
def image_folder(opts: DataOptions) -> Dataset:
    if not opts.path:
        raise ConfigError("the image_folder data set needs a path: "
                          "set it to a folder or a .zip of PNG/JPG pictures")
    return load_image_folder(opts.path, opts.image_size, opts.channels)
