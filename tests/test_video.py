"""MP4 of a latent walk: written with PyAV's H.264 encoder and read back; the smoothed walk."""
from __future__ import annotations

import pytest
import torch

from ganlab.errors import ConfigError
from ganlab.video import render_frames, smoothed_random_walk, write_mp4

av = pytest.importorskip("av")


def test_mp4_round_trip_keeps_frame_count_size_and_rate(tmp_path):
    # 12 grey frames of 29 x 29 (odd: padded to 30 x 30 for 4:2:0), a bar moving down.
    frames = torch.zeros(12, 1, 29, 29, dtype=torch.uint8)
    for t in range(12):
        frames[t, 0, 2 * t:2 * t + 4] = 255
    path = write_mp4(frames, tmp_path / "walk.mp4", fps=10)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264" and float(stream.average_rate) == 10.0
        decoded = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
    assert len(decoded) == 12 and decoded[0].shape == (30, 30, 3)
    # crf 18 is near lossless: the bar of frame 5 is where it was drawn.
    bright = decoded[5][:, :29, 0].mean(1)
    assert bright[10:14].min() > 200 and bright[20:].max() < 40


def test_smoothed_random_walk_is_smooth_unit_scale_and_seeded():
    z = smoothed_random_walk(120, 16, seed=3, sigma=4.0)
    iid = smoothed_random_walk(120, 16, seed=3, sigma=0.0)
    assert z.shape == (120, 16)
    assert abs(float(z.square().mean()) - 1.0) < 1e-5  # unit RMS, the prior's scale
    step, step_iid = (a.diff(dim=0).norm(dim=1).mean() for a in (z, iid))
    assert float(step) < 0.35 * float(step_iid)  # a Gaussian of 4 frames: neighbours are close
    # circular: the last frame is as close to the first as neighbours are to each other
    assert float((z[-1] - z[0]).norm()) < 2 * float(step)
    torch.testing.assert_close(z, smoothed_random_walk(120, 16, seed=3, sigma=4.0), rtol=0, atol=0)
    with pytest.raises(ConfigError, match="at least 2 frames"):
        smoothed_random_walk(1, 4)


def test_render_frames_in_batches_with_progress():
    seen = []
    frames = render_frames(lambda z: z[:, :1, None, None].expand(-1, 1, 2, 3).tanh(), torch.randn(5, 4),
                           batch=2, scale=3, on_progress=lambda d, n: seen.append((d, n)))
    assert frames.shape == (5, 1, 6, 9) and frames.dtype == torch.uint8
    assert seen == [(2, 5), (4, 5), (5, 5)]
    with pytest.raises(ConfigError, match="uint8"):
        write_mp4(torch.zeros(2, 1, 4, 4), "x.mp4")
