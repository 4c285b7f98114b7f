"""Reading checkpoint files without running anything from them: sniffing, `.ot` archives, `.pth`.

Layouts (see ../shared/fixtures/karras/README.md for the facts):
- `.ot` of today's libtorch (`torch::serialize::OutputArchive::save_to`, what ocaml-torch's and
  tch-rs's `save_multi` write): a TorchScript zip `<name>/data.pkl` + `<name>/data/<k>` raw
  little-endian storages + `code/`, `constants.pkl`, `version`. `data.pkl` is unpickled by
  torch's weights-only unpickler (`unpickle.load_archive_pickle`); `code/` is never read and
  `torch.jit.load` (which compiles it) is never called.
- `.ot` of libtorch 1.0 (December 2018, when `prog-gan.ot` was published): a zip of
  `<name>/version` (1), `<name>/tensors/<i>` raw storages and `<name>/model.json`
  (protobuf JSON: `mainModule.parameters` [{name, tensorId}], `tensors` [{dims, strides,
  offset, dataType, data.key}], int64 values as strings). No pickle at all.
- `.pth`: a `torch.save` zip (PyTorch >= 1.6) or the pre-zip stream (PyTorch 0.2 / Python 2),
  both read by `torch.load(weights_only=True)` (`unpickle.load_zoo_file`).

Before any parsing, `sniff` looks at the first bytes so that the usual bad downloads get a
message saying what they are: an empty file, a web page (a file host's virus-scan or login
page saved under the checkpoint's name), a truncated zip.
"""
from __future__ import annotations

import html
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import torch

from ganlab.errors import CheckpointError
from ganlab.pretrained.unpickle import load_archive_pickle, load_zoo_file

_DTYPES = {"FLOAT": torch.float32, "DOUBLE": torch.float64, "HALF": torch.float16, "BFLOAT16": torch.bfloat16,
           "INT64": torch.int64, "LONG": torch.int64, "INT32": torch.int32, "INT": torch.int32,
           "INT16": torch.int16, "SHORT": torch.int16, "INT8": torch.int8, "CHAR": torch.int8,
           "UINT8": torch.uint8, "BYTE": torch.uint8, "BOOL": torch.bool}
_REDOWNLOAD = "download it again"


def _as_text(head: bytes) -> str | None:
    """A file's first bytes as text when they are printable UTF-8 (a character cut by the
    end of the read allowed), else None."""
    for cut in range(4):
        try:
            words = head[:len(head) - cut].decode("utf-8")
        except UnicodeDecodeError:
            continue
        return words if all(c.isprintable() or c in "\t\r\n" for c in words) else None
    return None


def sniff(path: Path) -> str:
    """What the file looks like from its first bytes: "zip", "pickle" or raises CheckpointError.

    Raises CheckpointError for an empty file, a web page (HTML/XML), and anything that is
    neither a zip archive nor a pickle stream (with the first bytes shown).
    """
    with open(path, "rb") as fh:
        head = fh.read(4096)
    if not head:
        raise CheckpointError(f"{path} is empty (0 bytes): the download stopped before writing anything; "
                              f"the file is truncated or corrupt: {_REDOWNLOAD}")
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "zip"
    if head[:1] == b"\x80" and len(head) > 1 and 2 <= head[1] <= 5:
        return "pickle"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<!doctype html", b"<html", b"<?xml", b"<head", b"<body")) or b"<html" in text[:512]:
        title = re.search(rb"<title[^>]*>(.*?)</title>", head, re.I | re.S)
        shown = f" titled {html.unescape(title.group(1).decode('utf-8', 'replace')).strip()!r}" if title else ""
        raise CheckpointError(
            f"{path} is a web page{shown}, not a checkpoint: the download saved the file host's HTML page "
            "(a virus-scan warning, a login or quota page) instead of the weights; delete it and "
            f"{_REDOWNLOAD} (on Google Drive, confirm 'Download anyway'), or use the name "
            "'karras-celebahq-1024' to fetch prog-gan.ot"
        )
    words = _as_text(head)
    if words is not None:
        first = words.strip().splitlines()[0][:40] if words.strip() else ""
        raise CheckpointError(f"{path} is a text file (it begins {first!r}), not a checkpoint; give the generator's "
                              "weights: a ganlab .safetensors, a pytorch_GAN_zoo .pth or a Karras .ot / .pth")
    shown = head[:16].hex(" ")
    raise CheckpointError(f"{path} is not a checkpoint: it is neither a zip archive (.ot, .pth) nor a torch pickle "
                          f"(first bytes {shown}); the file is truncated or corrupt, or of another kind: "
                          f"{_REDOWNLOAD}")


def read_checkpoint(path: Path) -> tuple[Any, str]:
    """The object a checkpoint file holds and its layout name, running nothing from the file.

    -> (obj, layout): layout is "torchscript-ot" or "legacy-ot" (obj: dict name -> tensor,
    names as stored, e.g. 'features|0|conv|weight'), or "torch-zip" / "torch-legacy"
    (obj: whatever `torch.save` wrote: a state dict, a zoo checkpoint dict, ...).
    Raises CheckpointError for bad, truncated or unsafe files (see `sniff`).
    """
    kind = sniff(path)
    if kind == "pickle":
        return load_zoo_file(path), "torch-legacy"
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            prefix = _prefix(path, names)
            if f"{prefix}model.json" in names:
                return _read_legacy_ot(path, archive, prefix), "legacy-ot"
            if f"{prefix}data.pkl" in names and (f"{prefix}constants.pkl" in names
                                                  or any(n.startswith(f"{prefix}code/") for n in names)):
                return _read_torchscript_ot(path, archive, prefix), "torchscript-ot"
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
        raise CheckpointError(f"{path} is a damaged zip archive ({exc}; an interrupted download?): the file is "
                              f"truncated or corrupt: {_REDOWNLOAD}") from None
    return load_zoo_file(path), "torch-zip"


def _prefix(path: Path, names: list[str]) -> str:
    tops = {n.split("/", 1)[0] for n in names if "/" in n}
    if len(tops) != 1:
        raise CheckpointError(f"{path} is a zip archive but not a torch/libtorch checkpoint (expected one top "
                              f"folder, found {sorted(tops)[:4] or 'none'}); pass a .ot or .pth weights file")
    return tops.pop() + "/"


def _read_torchscript_ot(path: Path, archive: zipfile.ZipFile, prefix: str) -> dict[str, torch.Tensor]:
    byteorder = archive.read(f"{prefix}byteorder").decode().strip() if f"{prefix}byteorder" in archive.namelist() \
        else "little"
    if byteorder != "little":
        raise CheckpointError(f"{path} stores {byteorder}-endian tensors; only little-endian archives are supported")
    storages: dict[str, Any] = {}

    def persistent_load(pid: tuple) -> Any:
        # ('storage', storage_type, key, location, numel), as torch.save writes it.
        if len(pid) != 5 or not isinstance(pid[2], str):
            raise CheckpointError(f"{path}: data.pkl refers to a storage as {pid!r}; the file is damaged")
        storage_type, key, numel = pid[1], pid[2], pid[4]
        if key not in storages:
            dtype = storage_type.dtype if hasattr(storage_type, "dtype") else storage_type(0).dtype
            storages[key] = _storage(path, archive, f"{prefix}data/{key}", dtype, int(numel))
        return storages[key]

    obj = load_archive_pickle(archive.read(f"{prefix}data.pkl"), persistent_load, path)
    return _tensor_dict(path, obj)


def _read_legacy_ot(path: Path, archive: zipfile.ZipFile, prefix: str) -> dict[str, torch.Tensor]:
    try:
        doc = json.loads(archive.read(f"{prefix}model.json"))
        params = doc["mainModule"]["parameters"]
        table = doc["tensors"]
        out = {}
        for p in params:
            entry = table[int(p["tensorId"])]
            dtype = _DTYPES[entry.get("dataType", "FLOAT")]
            dims = [int(d) for d in entry.get("dims", [])]
            strides = [int(s) for s in entry.get("strides", [])] or _contiguous(dims)
            offset = int(entry.get("offset", 0))
            need = offset + sum((d - 1) * s for d, s in zip(dims, strides)) + 1 if all(dims) else 0
            key = entry["data"]["key"]
            record = key if key in archive.namelist() else f"{prefix}{key}"
            flat = _flat(path, archive, record, dtype, None)
            if flat.numel() < need:
                raise CheckpointError(f"{path}: tensor {p['name']!r} needs {need} values, its record holds "
                                      f"{flat.numel()}; the file is truncated or corrupt: {_REDOWNLOAD}")
            out[str(p["name"])] = flat.as_strided(dims, strides, offset).clone()
        return out
    except CheckpointError:
        raise
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
        raise CheckpointError(f"{path}: its model.json (libtorch 1.0 layout) is malformed ({type(exc).__name__}: "
                              f"{exc}); the file is damaged: {_REDOWNLOAD}") from None


def _contiguous(dims: list[int]) -> list[int]:
    strides, step = [], 1
    for d in reversed(dims):
        strides.append(step)
        step *= max(d, 1)
    return strides[::-1]


def _flat(path: Path, archive: zipfile.ZipFile, record: str, dtype: torch.dtype, numel: int | None) -> torch.Tensor:
    try:
        raw = archive.read(record)
    except KeyError:
        raise CheckpointError(f"{path}: the record {record} is missing; the file is truncated or corrupt: "
                              f"{_REDOWNLOAD}") from None
    size = torch.empty((), dtype=dtype).element_size()
    if len(raw) % size or (numel is not None and len(raw) < numel * size):
        raise CheckpointError(f"{path}: the record {record} holds {len(raw)} bytes, expected "
                              f"{numel if numel is not None else 'a whole number of'} x {size}; "
                              f"the file is truncated or corrupt: {_REDOWNLOAD}")
    return torch.frombuffer(bytearray(raw), dtype=dtype) if raw else torch.empty(0, dtype=dtype)


def _storage(path: Path, archive: zipfile.ZipFile, record: str, dtype: torch.dtype, numel: int) -> Any:
    flat = _flat(path, archive, record, dtype, numel)
    # The same TypedStorage torch.load builds for _rebuild_tensor_v2.
    return torch.storage.TypedStorage(wrap_storage=flat.untyped_storage(), dtype=dtype, _internal=True)


def _tensor_dict(path: Path, obj: Any) -> dict[str, torch.Tensor]:
    if not isinstance(obj, dict) or not all(isinstance(k, str) and isinstance(v, torch.Tensor)
                                            for k, v in obj.items()):
        raise CheckpointError(f"{path}: the archive's data.pkl holds {type(obj).__name__}, not a module's "
                              "named tensors; it is not a weights file saved by libtorch / ocaml-torch")
    return dict(obj)
