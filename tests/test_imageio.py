"""ganlab.imageio: exact grids, PNG round trips and animated GIFs read back with Pillow."""
from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image, ImageSequence

from ganlab.data.base import DataInfo, Dataset
from ganlab.imageio import gif_bytes, grid_to_png_bytes, make_grid, save_gif, save_png, to_pil, to_uint8


def _tiles(values: list[int], c: int = 1, side: int = 2) -> torch.Tensor:
    """len(values) images (N, c, side, side), image i filled with values[i]."""
    return torch.tensor(values, dtype=torch.uint8).view(-1, 1, 1, 1).expand(-1, c, side, side).contiguous()


def test_to_uint8_exact_values_and_clipping():
    x = torch.tensor([-1.0, 0.0, 1.0, -2.0, 2.0, float("nan"), 1.0 / 127.5 - 1.0])
    assert to_uint8(x).tolist() == [0, 128, 255, 0, 255, 0, 1]
    u = torch.arange(256, dtype=torch.uint8)
    assert to_uint8(u) is u


def test_to_uint8_inverts_dataset_decode_exactly():
    u = torch.arange(256, dtype=torch.uint8).view(1, 1, 16, 16)
    ds = Dataset(u, DataInfo(name="t", kind="image", shape=(1, 16, 16)))
    assert torch.equal(to_uint8(ds.decode(u)), u)


def test_make_grid_2x2_exact_layout():
    grid = make_grid(_tiles([10, 20, 30, 40]), nrow=2, padding=1, pad_value=7)
    p, a, b, c, d = 7, 10, 20, 30, 40
    expected = torch.tensor([[
        [p, p, p, p, p, p, p],
        [p, a, a, p, b, b, p],
        [p, a, a, p, b, b, p],
        [p, p, p, p, p, p, p],
        [p, c, c, p, d, d, p],
        [p, c, c, p, d, d, p],
        [p, p, p, p, p, p, p],
    ]], dtype=torch.uint8)
    assert grid.dtype == torch.uint8 and torch.equal(grid, expected)


def test_make_grid_shapes_partial_rows_and_float_input():
    grid = make_grid(_tiles([1, 2, 3], c=3, side=4), nrow=8, padding=2)
    assert grid.shape == (3, 2 + 4 + 2, 3 * (4 + 2) + 2)  # only 3 columns when N < nrow
    grid = make_grid(_tiles([1, 2, 3, 4, 5]), nrow=2, padding=0, pad_value=99)
    assert grid.shape == (1, 6, 4)
    assert grid[0, 4:6, 0:2].unique().tolist() == [5]
    assert grid[0, 4:6, 2:4].unique().tolist() == [99]  # the empty last cell
    floats = torch.full((2, 1, 3, 3), 1.0)
    floats[1] = -1.0
    grid = make_grid(floats, nrow=2, padding=1)
    assert grid[0, 1:4, 1:4].unique().tolist() == [255] and grid[0, 1:4, 5:8].unique().tolist() == [0]
    assert grid[0, 0].unique().tolist() == [0]


def test_make_grid_rejects_bad_arguments():
    with pytest.raises(ValueError, match=r"expects images of shape \(N, C, H, W\), got \(2, 3, 3\)"):
        make_grid(torch.zeros(2, 3, 3))
    with pytest.raises(ValueError, match="pad_value=300"):
        make_grid(_tiles([1]), pad_value=300)


def test_png_round_trip_grey_and_rgb(tmp_path):
    grey = make_grid(_tiles([0, 64, 128, 255]), nrow=2)
    back = np.asarray(Image.open(io.BytesIO(grid_to_png_bytes(grey))))
    assert back.shape == (10, 10) and np.array_equal(back, grey[0].numpy())
    rgb = torch.arange(3 * 5 * 7, dtype=torch.uint8).view(3, 5, 7)
    path = save_png(rgb, tmp_path / "g.png")
    with Image.open(path) as im:
        assert im.mode == "RGB" and im.size == (7, 5)
        assert np.array_equal(np.asarray(im), rgb.permute(1, 2, 0).numpy())
    with pytest.raises(ValueError, match=r"expected one image of shape \(1\|3, H, W\), got \(2, 5, 7\)"):
        to_pil(torch.zeros(2, 5, 7, dtype=torch.uint8))


def _read_gif(data: bytes) -> tuple[list[np.ndarray], Image.Image]:
    im = Image.open(io.BytesIO(data))
    frames = [np.asarray(f.convert("RGB")) for f in ImageSequence.Iterator(im)]
    return frames, im


def test_gif_grey_frames_exact_count_values_duration_and_loop(tmp_path):
    frames = [torch.full((1, 6, 8), v, dtype=torch.uint8) for v in (0, 100, 200)]
    frames[1][0, 2, 3] = 17
    data = gif_bytes(frames, fps=4)
    got, im = _read_gif(data)
    assert im.format == "GIF" and im.n_frames == 3 and im.size == (8, 6)
    assert im.info["loop"] == 0 and im.info["duration"] == 250
    for frame, want in zip(got, frames):
        assert np.array_equal(frame[..., 0], want[0].numpy())
    save_gif(frames, tmp_path / "a.gif", fps=10, loop=None)
    with Image.open(tmp_path / "a.gif") as im2:
        assert im2.n_frames == 3 and "loop" not in im2.info and im2.info["duration"] == 100


def test_gif_rgb_frames_few_colours_are_exact():
    frames = []
    for colour in ((255, 0, 0), (0, 128, 255), (10, 200, 30), (255, 255, 255)):
        f = torch.tensor(colour, dtype=torch.uint8).view(3, 1, 1).expand(3, 4, 5).contiguous()
        f[:, 0, 0] = torch.tensor((1, 2, 3), dtype=torch.uint8)
        frames.append(f)
    got, im = _read_gif(gif_bytes(frames, fps=2))
    assert im.n_frames == 4 and im.info["duration"] == 500
    for frame, want in zip(got, frames):
        assert np.array_equal(frame, want.permute(1, 2, 0).numpy())


def test_gif_rejects_mixed_shapes_and_no_frames():
    with pytest.raises(ValueError, match=r"frame 0 is \(1, 4, 4\), frame 1 is \(1, 4, 5\)"):
        gif_bytes([torch.zeros(1, 4, 4, dtype=torch.uint8), torch.zeros(1, 4, 5, dtype=torch.uint8)])
    with pytest.raises(ValueError, match="at least one frame"):
        gif_bytes([])
