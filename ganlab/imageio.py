"""Image grids, PNG and GIF files from image tensors.

Images travel as tensors (N, C, H, W): uint8 in [0, 255] as stored by image data
sets, or float in [-1, 1] as produced by generators. `to_uint8` is the exact
inverse of `Dataset.decode` (u -> u * 2/255 - 1), so a decoded real image comes
back bit for bit. C is 1 (grey) or 3 (RGB) for everything that writes a file.
"""
from __future__ import annotations

import io
import math
from pathlib import Path
from typing import BinaryIO, Sequence

import numpy as np
import torch
from PIL import Image


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """Float images in [-1, 1] (any shape) -> uint8 in [0, 255]; uint8 input is returned as is.

    Values outside [-1, 1] are clipped and NaN becomes 0 (black), so a diverged
    generator still produces a picture instead of an exception.
    """
    if images.dtype == torch.uint8:
        return images
    x = torch.nan_to_num(images.detach().float(), nan=-1.0)
    return x.add(1.0).mul_(127.5).round_().clamp_(0, 255).to(torch.uint8)


def make_grid(images: torch.Tensor, nrow: int = 8, padding: int = 2, pad_value: int = 0) -> torch.Tensor:
    """Tile images (N, C, H, W) into one image (C, H', W') uint8 on the CPU.

    nrow images per row (fewer if N < nrow), ceil(N / nrow) rows; every image is
    surrounded by `padding` pixels of `pad_value` (0..255), so
    H' = rows * (H + padding) + padding and W' = cols * (W + padding) + padding.
    Empty cells of the last row are filled with pad_value.
    """
    if images.dim() != 4:
        raise ValueError(f"make_grid expects images of shape (N, C, H, W), got {tuple(images.shape)}")
    if nrow < 1 or padding < 0 or not 0 <= pad_value <= 255:
        raise ValueError(f"make_grid needs nrow >= 1, padding >= 0, 0 <= pad_value <= 255; "
                         f"got nrow={nrow}, padding={padding}, pad_value={pad_value}")
    x = to_uint8(images).cpu()
    n, c, h, w = x.shape
    cols = max(1, min(nrow, n))
    rows = max(1, math.ceil(n / cols))
    grid = torch.full((c, rows * (h + padding) + padding, cols * (w + padding) + padding),
                      pad_value, dtype=torch.uint8)
    for i in range(n):
        top = padding + (i // cols) * (h + padding)
        left = padding + (i % cols) * (w + padding)
        grid[:, top:top + h, left:left + w] = x[i]
    return grid


EXPORT_SIDES = (512, 1024, 2048)  # the pixel sizes a page offers for a grid's PNG
MIN_SIDE, MAX_SIDE = 16, 4096


def resize_grid(grid: torch.Tensor, side: int) -> torch.Tensor:
    """An image (C, H, W), uint8 or float in [-1, 1] -> uint8 (C, H2, W2) whose longer side is
    exactly `side` px (the shorter one keeps the aspect ratio, rounded, at least 1).

    Enlarging is nearest neighbour: every source pixel becomes a block of floor or ceil of the
    scale pixels, so small digits stay hard-edged instead of blurred. Shrinking averages areas
    (no aliasing). ConfigError for a side outside MIN_SIDE..MAX_SIDE or a grid that is not (C, H, W).
    """
    from ganlab.errors import ConfigError

    if grid.dim() != 3 or grid.shape[0] not in (1, 3):
        raise ConfigError(f"a grid is one image of shape (1|3, H, W), got {tuple(grid.shape)}")
    if not MIN_SIDE <= int(side) <= MAX_SIDE:
        raise ConfigError(f"a PNG side must be {MIN_SIDE} to {MAX_SIDE} px; got {side}")
    x = to_uint8(grid).cpu()
    h, w = x.shape[-2:]
    long = max(h, w)
    size = (max(1, round(h * side / long)), max(1, round(w * side / long)))
    if size == (h, w):
        return x
    # "nearest-exact" picks the source pixel under each output pixel's centre (plain "nearest"
    # shifts the picture by half a source pixel).
    mode = "nearest-exact" if side > long else "area"
    out = torch.nn.functional.interpolate(x[None].float(), size=size, mode=mode)[0]
    return out.round().clamp(0, 255).to(torch.uint8)


def to_pil(image: torch.Tensor) -> Image.Image:
    """One image (C, H, W), C in {1, 3}, uint8 or float in [-1, 1] -> a PIL image ("L" or "RGB")."""
    if image.dim() != 3 or image.shape[0] not in (1, 3):
        raise ValueError(f"expected one image of shape (1|3, H, W), got {tuple(image.shape)}")
    array = to_uint8(image).cpu().numpy()
    if array.shape[0] == 1:
        return Image.fromarray(np.ascontiguousarray(array[0]))
    return Image.fromarray(np.ascontiguousarray(array.transpose(1, 2, 0)))


def grid_to_png_bytes(grid: torch.Tensor) -> bytes:
    """An image (C, H, W) -> the bytes of a PNG file (lossless)."""
    buf = io.BytesIO()
    to_pil(grid).save(buf, format="PNG")
    return buf.getvalue()


def save_png(grid: torch.Tensor, path: Path | str) -> Path:
    """Write an image (C, H, W) as a PNG file; returns the path."""
    path = Path(path)
    path.write_bytes(grid_to_png_bytes(grid))
    return path


def save_gif(frames: Sequence[torch.Tensor], path_or_buffer: Path | str | BinaryIO,
             fps: float = 4.0, loop: int | None = 0) -> None:
    """Write frames, each (C, H, W) of one shape, as an animated GIF.

    loop: 0 = repeat forever, k = repeat k more times, None = play once.
    GIF stores delays in 1/100 s, so the frame time is 1/fps rounded to 10 ms.
    Grey frames are stored exactly; RGB frames are quantised to 256 colours each.
    Pillow merges consecutive identical frames into one longer frame.
    """
    if len(frames) == 0:
        raise ValueError("save_gif needs at least one frame")
    if fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    shape = tuple(frames[0].shape)
    for i, frame in enumerate(frames):
        if tuple(frame.shape) != shape:
            raise ValueError(f"all GIF frames must have one shape; frame 0 is {shape}, "
                             f"frame {i} is {tuple(frame.shape)}")
    images = [to_pil(f) for f in frames]
    duration_ms = max(10, round(100.0 / fps) * 10)
    options = {"loop": loop} if loop is not None else {}
    if isinstance(path_or_buffer, (str, Path)):
        path_or_buffer = Path(path_or_buffer)
    images[0].save(path_or_buffer, format="GIF", save_all=True, append_images=images[1:],
                   duration=duration_ms, **options)


def gif_bytes(frames: Sequence[torch.Tensor], fps: float = 4.0, loop: int | None = 0) -> bytes:
    """Like `save_gif`, returning the bytes of the GIF file."""
    buf = io.BytesIO()
    save_gif(frames, buf, fps=fps, loop=loop)
    return buf.getvalue()
