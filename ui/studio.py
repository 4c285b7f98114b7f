"""UI helpers of the MNIST studio page: uploaded pictures onto disk, grids as arrays for st.image."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np
import torch

from ganlab.errors import DataError

UPLOAD_TYPES = ("zip", "png", "jpg", "jpeg")


class Upload(Protocol):
    """What st.file_uploader returns per file (name and bytes)."""

    name: str

    def getvalue(self) -> bytes: ...


def new_upload_dir() -> Path:
    """A fresh temporary folder for one session's uploads."""
    return Path(tempfile.mkdtemp(prefix="ganlab-upload-"))


def save_upload(files: Sequence[Upload], folder: Path) -> Path:
    """Uploaded files -> a path the image_folder data set reads.

    One .zip is used as it is; pictures go into the folder. `folder` is emptied
    first, so a new upload replaces the old one.
    """
    if not files:
        raise DataError("no files uploaded: upload a .zip of pictures or some PNG/JPG files")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    zips = [f for f in files if f.name.lower().endswith(".zip")]
    if zips and len(files) > 1:
        raise DataError("upload either one .zip or some pictures, not both")
    if zips:
        path = folder / "upload.zip"
        path.write_bytes(zips[0].getvalue())
        return path
    for i, f in enumerate(files):
        # The index keeps two uploads with the same name apart; the folder is flat (no classes).
        (folder / f"{i:05d}_{Path(f.name).name}").write_bytes(f.getvalue())
    return folder


def to_image(grid: torch.Tensor) -> np.ndarray:
    """uint8 (C, H, W) -> what st.image shows: (H, W) grey or (H, W, 3) colour."""
    array = grid.cpu().numpy()
    return array[0] if array.shape[0] == 1 else array.transpose(1, 2, 0)
