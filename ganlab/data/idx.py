"""IDX files, the format of MNIST and Fashion-MNIST.

Layout, all big-endian: two zero bytes, a type code (0x08 uint8, 0x09 int8,
0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64), the number of dimensions,
one uint32 per dimension, then the values in C order. A file may be
gzip-compressed; that is recognised by its first two bytes, not by its name.

The reader trusts nothing: the header's size is checked against a limit before
anything is allocated, and a file shorter or longer than its header says is
rejected with a DataError naming it.
"""
from __future__ import annotations

import gzip
import math
import struct
import zlib
from pathlib import Path
from typing import BinaryIO

import numpy as np
import torch

from ganlab.errors import DataError

GZIP_MAGIC = b"\x1f\x8b"
MAX_DATA_BYTES = 1 << 32  # 4 GiB: far above any IDX set, far below a corrupt header's claims
DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def read_idx(path: Path | str) -> np.ndarray:
    """Read an IDX file (raw or gzip) -> array of its shape, native byte order."""
    path = Path(path)
    try:
        with open(path, "rb") as raw:
            compressed = raw.read(2) == GZIP_MAGIC
            raw.seek(0)
            if compressed:
                with gzip.GzipFile(fileobj=raw) as fh:
                    return _parse(fh, path)
            return _parse(raw, path)
    except FileNotFoundError:
        raise DataError(f"IDX file {path} does not exist; check the path or download it again") from None
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise DataError(
            f"{path} is not a valid gzip file ({exc}); it is probably truncated or corrupt: "
            "delete it and download it again"
        ) from None


def read_idx_uint8(path: Path | str, ndim: int | None = None) -> torch.Tensor:
    """Read an IDX file of unsigned bytes -> uint8 tensor, e.g. images (N, H, W) or labels (N,).

    ndim: if given, the number of dimensions the file must have.
    """
    path = Path(path)
    array = read_idx(path)
    if array.dtype != np.uint8:
        raise DataError(f"{path} holds {array.dtype} values, expected unsigned bytes (type code 0x08); "
                        "is it the right file?")
    if ndim is not None and array.ndim != ndim:
        raise DataError(f"{path} has {array.ndim} dimensions {tuple(array.shape)}, expected {ndim}; "
                        "is it the right file (images vs labels)?")
    return torch.from_numpy(array)


def write_idx(path: Path | str, array: np.ndarray) -> None:
    """Write `array` as an IDX file, gzip-compressed if the name ends in .gz."""
    codes = {dt.newbyteorder("="): code for code, dt in DTYPES.items()}
    dtype = array.dtype.newbyteorder("=")
    if dtype not in codes:
        raise ValueError(f"IDX cannot store {array.dtype}; use one of {sorted(str(d) for d in codes)}")
    header = struct.pack(">BBBB", 0, 0, codes[dtype], array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    body = np.ascontiguousarray(array, dtype=DTYPES[codes[dtype]]).tobytes()
    data = header + body
    path = Path(path)
    path.write_bytes(gzip.compress(data, mtime=0) if path.name.endswith(".gz") else data)


def _parse(fh: BinaryIO, path: Path) -> np.ndarray:
    head = _read_exactly(fh, 4)
    if len(head) < 4 or head[0] != 0 or head[1] != 0:
        raise DataError(f"{path} is not an IDX file (bad magic number {head.hex() or 'empty'}); "
                        "is it the right file? delete it and download it again")
    code, ndim = head[2], head[3]
    if code not in DTYPES:
        raise DataError(f"{path} has unknown IDX type code 0x{code:02X} (valid: "
                        + ", ".join(f"0x{c:02X}" for c in DTYPES) + "); the file is corrupt")
    if ndim == 0:
        raise DataError(f"{path} declares 0 dimensions; the file is corrupt")
    dims_raw = _read_exactly(fh, 4 * ndim)
    if len(dims_raw) < 4 * ndim:
        raise DataError(f"{path} is truncated inside its header; delete it and download it again")
    dims = struct.unpack(f">{ndim}I", dims_raw)
    dtype = DTYPES[code]
    expected = math.prod(dims) * dtype.itemsize  # Python ints: no overflow on absurd headers
    if expected > MAX_DATA_BYTES:
        raise DataError(f"{path} claims {dims} values ({expected} bytes), more than this reader allows; "
                        "the header is corrupt")
    body = _read_exactly(fh, expected)
    if len(body) < expected:
        raise DataError(f"{path} is truncated: its header {dims} needs {expected} bytes of data, "
                        f"found {len(body)}; delete it and download it again")
    if fh.read(1):
        raise DataError(f"{path} has extra bytes after the {expected} bytes its header {dims} "
                        "announces; it is corrupt or not the file it claims to be")
    return np.frombuffer(body, dtype=dtype).reshape(dims).astype(dtype.newbyteorder("="), copy=False)


def _read_exactly(fh: BinaryIO, n: int) -> bytearray:
    """Read up to n bytes (fewer only at end of file) into a writable buffer."""
    buf = bytearray(n)
    view, got = memoryview(buf), 0
    while got < n:
        k = fh.readinto(view[got:])
        if not k:
            break
        got += k
    return buf if got == n else buf[:got]

