"""Writing files whole: a temporary file in the same folder, renamed over the target, so a
reader (or a crash) never meets half a file; and the permissions a plain `open()` gives,
which temporary files lack (mkstemp and safetensors create them readable by their owner
only, so a run, a download or a converted model on a shared server was unreadable to
everyone else)."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Callable


def plain_mode(path: str | Path) -> None:
    """Give an existing file the mode `open(path, "w")` would have created: 0o666 less the umask."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o666 & ~umask)


def atomic_write(path: Path, write: Callable[[Path], Any]) -> None:
    """write(tmp_path) then rename over `path` (plain permissions); the temp file is removed
    on failure, so `path` is either its old self or complete."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        plain_mode(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write a text file atomically (temp file + rename)."""
    path = Path(path)
    atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))
