"""Videos of a latent walk: MP4 (H.264) files and the smoothed random walk of latents.

- `smoothed_random_walk`: the progressive-GAN paper's video method (Karras et al.
  2018, the accompanying video; their `generate_interpolation_video`): one latent
  drawn per frame, filtered along time by a Gaussian of `sigma` frames (circularly,
  so the video loops), then rescaled to unit root-mean-square so the latents keep
  the prior's scale N(0, I).
- `render_frames`: a generator's images of a sequence of latents, in batches, as
  uint8 frames (optionally enlarged by an integer factor, nearest neighbour, so
  small generations stay sharp).
- `write_mp4`: frames -> an H.264 MP4 (yuv420p, what every browser and player
  plays) through PyAV, which ships FFmpeg in its wheel; odd sides are padded by
  one black row / column because 4:2:0 chroma needs even sides.
"""
from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from ganlab.errors import ConfigError
from ganlab.imageio import to_uint8


def smoothed_random_walk(n_frames: int, latent_dim: int, seed: int = 0, sigma: float = 3.0) -> Tensor:
    """(n_frames, latent_dim) latents: i.i.d. N(0, I) per frame, Gaussian-smoothed along time
    with std `sigma` frames (circular: the last frame leads back to the first), rescaled to
    unit RMS. sigma <= 0: no smoothing. ConfigError when n_frames < 2."""
    if n_frames < 2:
        raise ConfigError(f"a walk needs at least 2 frames; got {n_frames}")
    z = torch.randn(n_frames, latent_dim, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    if sigma > 0:
        radius = min(int(math.ceil(3 * sigma)), (n_frames - 1) // 2)
        t = torch.arange(-radius, radius + 1, dtype=torch.float64)
        kernel = torch.exp(-0.5 * (t / sigma) ** 2)
        kernel = (kernel / kernel.sum())[None, None]
        x = F.pad(z.T[:, None], (radius, radius), mode="circular")  # (latent_dim, 1, T + 2r)
        z = F.conv1d(x, kernel)[:, 0].T
    return (z / z.square().mean().sqrt()).float()


def render_frames(generate: Callable[[Tensor], Tensor], z: Tensor, *, batch: int = 16, scale: int = 1,
                  on_progress: Callable[[int, int], None] | None = None) -> Tensor:
    """generate(latents (B, d)) -> images (B, C, H, W) in [-1, 1] (or uint8); over z (T, d) in
    batches -> uint8 frames (T, C, H * scale, W * scale) on the CPU. on_progress(done, T)."""
    if scale < 1 or batch < 1:
        raise ConfigError(f"scale and batch must be at least 1; got scale={scale}, batch={batch}")
    out = []
    with torch.no_grad():
        for i in range(0, z.shape[0], batch):
            x = to_uint8(generate(z[i:i + batch]).cpu())
            if scale > 1:
                x = x.repeat_interleave(scale, 2).repeat_interleave(scale, 3)
            out.append(x)
            if on_progress is not None:
                on_progress(min(i + batch, z.shape[0]), z.shape[0])
    return torch.cat(out)


def write_mp4(frames: Tensor, path: str | Path, fps: float = 24.0, crf: int = 18) -> Path:
    """Write uint8 frames (T, C, H, W), C in {1, 3}, as an H.264 MP4 at `fps` frames per second
    (crf: x264's constant quality, 0 lossless .. 51 worst; 18 looks lossless). Odd sides get a
    black row / column. Returns the path. ConfigError for a bad shape, dtype or rate."""
    import av  # imported here: only videos need FFmpeg

    if frames.dim() != 4 or frames.shape[1] not in (1, 3) or frames.dtype != torch.uint8 or frames.shape[0] < 1:
        raise ConfigError(f"frames must be uint8 (T, C, H, W) with T >= 1 and C = 1 or 3; "
                          f"got {frames.dtype} {tuple(frames.shape)}")
    if not 0 < fps <= 240:
        raise ConfigError(f"fps must be in (0, 240]; got {fps}")
    x = frames.expand(-1, 3, -1, -1) if frames.shape[1] == 1 else frames
    h, w = x.shape[-2:]
    x = F.pad(x, (0, w % 2, 0, h % 2))
    rgb = np.ascontiguousarray(x.permute(0, 2, 3, 1).numpy())
    path = Path(path)
    from ganlab.files import atomic_write

    # Written to a temporary file and renamed: a failed encode leaves no half-written MP4.
    atomic_write(path, lambda tmp: _encode_mp4(av, rgb, tmp, fps, crf))
    return path


def _encode_mp4(av, rgb: np.ndarray, path: Path, fps: float, crf: int) -> None:
    """`write_mp4`'s encoder: (T, H, W, 3) uint8 with even sides -> H.264 MP4 at `path`."""
    with av.open(str(path), mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1000))
        stream.width, stream.height = rgb.shape[2], rgb.shape[1]
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": str(crf)}
        for frame in rgb:
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


__all__ = ["render_frames", "smoothed_random_walk", "write_mp4"]
