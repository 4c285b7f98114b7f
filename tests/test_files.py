"""Files ganlab writes are whole (temporary file + rename) and get the permissions a plain
open() gives: readable by others under the usual umask 022, as on a shared class server.
Temporary files (mkstemp) and safetensors' own files are owner-only (0600) otherwise."""
from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest

from ganlab.download import fetch
from ganlab.files import atomic_write, write_text_atomic
from ganlab.pretrained import load_generator, save_generator


@pytest.fixture()
def umask_022():
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_atomic_writes_leave_whole_files_readable_by_all(tmp_path, umask_022) -> None:
    write_text_atomic(tmp_path / "a.json", "{}")
    assert mode(tmp_path / "a.json") == 0o644 and (tmp_path / "a.json").read_text() == "{}"

    def fail(p: Path) -> None:
        p.write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(tmp_path / "a.json", fail)
    assert (tmp_path / "a.json").read_text() == "{}"  # the old file, whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json"]  # no temporary left


def test_a_converted_generator_and_a_download_are_readable_by_all(tmp_path, umask_022) -> None:
    weights = save_generator(load_generator("mnist-32"), tmp_path / "mine")
    assert mode(weights) == 0o644 and mode(tmp_path / "mine.json") == 0o644  # the weights were 0600
    src = tmp_path / "src.bin"
    src.write_bytes(b"ganlab" * 100)
    dest = tmp_path / "got.bin"
    fetch([src.as_uri()], dest, md5=hashlib.md5(src.read_bytes()).hexdigest())
    assert mode(dest) == 0o644 and dest.read_bytes() == src.read_bytes()
