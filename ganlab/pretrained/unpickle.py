"""Read pytorch_GAN_zoo `.pth` checkpoints without letting the file run any code.

A zoo checkpoint is a `torch.save` of `{'config', 'netG', 'avgG', 'netD'}` whose
`config` is a pickled `models.utils.config.BaseConfig` instance, a class that
`torch.load(weights_only=True)` refuses. We still load with torch's weights-only
unpickler (which admits only tensors, storages, plain containers and primitives),
and allow exactly one more global: the name `models.utils.config.BaseConfig` is
bound to `_ZooConfig`, an inert local stand-in that only stores the attribute
dict it is given. Nothing of the reference code is imported or called, so a file
that asks for any other global (`os.system`, `builtins.eval`, ...) is refused
before anything runs.

`load_archive_pickle` applies the same unpickler to the `data.pkl` of a libtorch `.ot`
archive (which `torch.load` refuses as TorchScript), with one more inert stand-in:
`__torch__.Module`, the object whose state is the archive's name -> tensor dict.
"""
from __future__ import annotations

import io
import pickle
import re
import threading
import warnings
from pathlib import Path
from typing import Any, Callable

import torch

from ganlab.errors import CheckpointError

ZOO_CONFIG_GLOBAL = "models.utils.config.BaseConfig"

# `safe_globals` edits a process-wide allowlist; serialise our use of it so that
# one load leaving the context cannot pull the stand-in from under another.
_ALLOWLIST_LOCK = threading.Lock()

# Modules whose functions pickle writes under their platform name.
_FRIENDLY_MODULES = {"posix": "os", "nt": "os", "__builtin__": "builtins"}


class _ZooConfig:
    """Inert stand-in for the zoo's BaseConfig: keeps the unpickled attribute dict."""

    __slots__ = ("attributes",)

    def __setstate__(self, state: object) -> None:
        # pickle's BUILD may pass (dict_state, slot_state); the zoo class has no slots.
        if isinstance(state, tuple) and len(state) == 2 and isinstance(state[0], dict):
            state = state[0]
        if not isinstance(state, dict) or not all(isinstance(k, str) for k in state):
            raise pickle.UnpicklingError(
                f"the {ZOO_CONFIG_GLOBAL} object holds {type(state).__name__}, not an attribute dict"
            )
        self.attributes = dict(state)


def load_zoo_file(path: str | Path) -> dict[str, Any]:
    """The unpickled top-level dict of a zoo checkpoint, its config as a plain dict.

    Tensors come back on the CPU. Raises CheckpointError when the file is missing,
    truncated, not a torch checkpoint, or asks to run anything but the allowed globals.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint file at {path}; check the path")
    with _ALLOWLIST_LOCK, torch.serialization.safe_globals([(_ZooConfig, ZOO_CONFIG_GLOBAL)]):
        _refuse_unsafe_globals(path)
        try:
            with warnings.catch_warnings():
                # Refused or not, a protocol-4 pickle is reported through our error.
                warnings.filterwarnings("ignore", message="Detected pickle protocol")
                obj = torch.load(path, map_location="cpu", weights_only=True)
        except pickle.UnpicklingError as exc:
            raise CheckpointError(_refusal_message(path, str(exc))) from None
        except Exception as exc:  # torch reports corrupt files with many exception types
            raise CheckpointError(
                f"cannot read {path} as a torch checkpoint ({type(exc).__name__}: "
                f"{_first_line(exc)}); the file is truncated or corrupt: download it again"
            ) from None
    return _materialise(obj)


class _TorchScriptModule:
    """Inert stand-in for `__torch__.Module`, the object a TorchScript `data.pkl` builds
    (libtorch's `OutputArchive`): keeps the BUILD state (name -> tensor) and nothing else."""

    __slots__ = ("attributes",)

    def __setstate__(self, state: object) -> None:
        if not isinstance(state, dict) or not all(isinstance(k, str) for k in state):
            raise pickle.UnpicklingError(
                f"the {TORCHSCRIPT_MODULE_GLOBAL} object holds {type(state).__name__}, not a dict of tensors"
            )
        self.attributes = dict(state)


TORCHSCRIPT_MODULE_GLOBAL = "__torch__.Module"


def load_archive_pickle(
    data: bytes, persistent_load: Callable[[tuple], Any], path: str | Path, what: str = "data.pkl"
) -> Any:
    """Unpickle `data` (a `data.pkl` of a zip archive) with torch's weights-only unpickler.

    The same restricted unpickler `torch.load(weights_only=True)` uses: it admits only
    `torch._utils._rebuild_tensor_v2` and the other tensor-rebuild functions, storage types,
    plain containers (OrderedDict included) and primitives; we add one inert global,
    `__torch__.Module` -> `_TorchScriptModule` (replaced by its attribute dict in the result).
    persistent_load(('storage', storage_type, key, location, numel)) must return the storage.
    Raises CheckpointError naming any other global the pickle asks for; nothing runs.
    """
    from torch import _weights_only_unpickler

    stand_in = [(_TorchScriptModule, TORCHSCRIPT_MODULE_GLOBAL)]
    with _ALLOWLIST_LOCK, torch.serialization.safe_globals(stand_in):
        unpickler = _weights_only_unpickler.Unpickler(io.BytesIO(data), encoding="utf-8")
        unpickler.persistent_load = persistent_load
        try:
            obj = unpickler.load()
        except pickle.UnpicklingError as exc:
            raise CheckpointError(_refusal_message(Path(path), str(exc))) from None
        except CheckpointError:
            raise
        except Exception as exc:  # a damaged pickle fails in many ways
            raise CheckpointError(
                f"cannot read {what} of {path} ({type(exc).__name__}: {_first_line(exc)}); "
                "the file is truncated or corrupt: download it again"
            ) from None
    return _materialise(obj)


def _refuse_unsafe_globals(path: Path) -> None:
    """Name every forbidden global of a zip checkpoint up front (static scan, runs nothing)."""
    try:
        unsafe = torch.serialization.get_unsafe_globals_in_checkpoint(path)
    except Exception:
        # Legacy (non-zip) files and opcodes the scanner does not know are left to
        # the weights-only unpickler itself, which refuses the same globals.
        return
    if unsafe:
        raise CheckpointError(_asks_to_run(path, sorted(unsafe)))


def _refusal_message(path: Path, detail: str) -> str:
    found = re.findall(r"GLOBAL (\S+) (?:was not an allowed global|whose module)", detail)
    if found:
        return _asks_to_run(path, sorted(set(found)))
    reason = _first_line_of_error(detail)
    return (
        f"refusing to load {path}: its pickle contains something other than tensors, plain "
        f"containers and the pytorch_GAN_zoo config ({reason}); use a checkpoint saved by "
        "pytorch_GAN_zoo, ptrblck's prog_gans_pytorch_inference, ocaml-torch or ganlab from a source you trust"
    )


def _asks_to_run(path: Path, names: list[str]) -> str:
    shown = ", ".join(f"`{_friendly(n)}`" for n in names)
    return (
        f"refusing to load {path}: the file asks to run {shown}, which a weights checkpoint "
        "never needs (only tensors, plain containers and the pytorch_GAN_zoo config are "
        "allowed); it may be malicious: delete it and get the checkpoint from a trusted source"
    )


def _friendly(name: str) -> str:
    module, _, attr = name.rpartition(".")
    return f"{_FRIENDLY_MODULES.get(module, module)}.{attr}" if module else name


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [""])[0]


def _first_line_of_error(detail: str) -> str:
    # torch wraps the unpickler's reason in a long advice text; keep the reason.
    match = re.search(r"WeightsUnpickler error:\s*(.+?)\s*(?:Check the documentation|$)", detail, re.S)
    if match and match.group(1).strip():
        return " ".join(match.group(1).split())
    lines = [line.strip() for line in detail.splitlines() if line.strip()]
    return lines[-1] if lines else "unreadable pickle"


def _materialise(obj: Any) -> Any:
    """Replace every `_ZooConfig` (at any depth) by its attribute dict."""
    if isinstance(obj, (_ZooConfig, _TorchScriptModule)):
        if not hasattr(obj, "attributes"):
            return {}
        return {k: _materialise(v) for k, v in obj.attributes.items()}
    if isinstance(obj, dict):
        out = {k: _materialise(v) for k, v in obj.items()}
        return type(obj)(out) if type(obj) is not dict else out
    if isinstance(obj, list):
        return [_materialise(v) for v in obj]
    if isinstance(obj, tuple):
        return tuple(_materialise(v) for v in obj)
    return obj
