"""A live run's recorded frames: the history scrubber's frame and the frames of a GIF.

Frames are `Runner.frames()`: [(step, payload), ...], oldest first. The latent lab's
and the studio's scrubbers are sliders in percent of the run (100 = live,
`nearest_frame`); the playground's is in training steps: a select slider over the
recorded steps and LIVE (`scrub_options`, `frame_at`), so that the slider shows
the step of the frame on screen.
"""
from __future__ import annotations

from typing import Sequence, TypeVar

import numpy as np

P = TypeVar("P")

LIVE = -1  # the step scrubber's last option: the live run (never a recorded step)


def nearest_frame(frames: Sequence[tuple[int, P]], percent: float) -> tuple[int, P] | None:
    """The frame whose step is nearest to `percent` % of the last frame's step, or None
    for the live view (percent >= 100, or nothing recorded yet). Ties: the earlier frame."""
    if percent >= 100 or not frames:
        return None
    target = percent / 100 * frames[-1][0]
    return min(frames, key=lambda f: abs(f[0] - target))


def spread_indices(n: int, most: int) -> list[int]:
    """At most `most` indices into n items, spread evenly, first and last included, ascending
    ([] for n == 0). E.g. spread_indices(10, 4) == [0, 3, 6, 9]."""
    if n <= 0 or most <= 0:
        return []
    return [int(i) for i in np.unique(np.linspace(0, n - 1, min(n, most)).round().astype(int))]


def gif_frames(frames: Sequence[tuple[int, P]], most: int) -> list[tuple[int, P]]:
    """At most `most` of the recorded frames, spread evenly over the run (for a GIF)."""
    return [frames[i] for i in spread_indices(len(frames), most)]


def scrub_options(frames: Sequence[tuple[int, P]]) -> list[int]:
    """The step scrubber's options: each recorded step once, ascending, then LIVE."""
    return sorted({int(step) for step, _ in frames}) + [LIVE]


def scrub_label(option: int) -> str:
    """How the step scrubber shows an option: the step, or "live"."""
    return "live" if option == LIVE else str(option)


def frame_at(frames: Sequence[tuple[int, P]], step: int) -> tuple[int, P] | None:
    """The recorded frame at `step`, else the one nearest to it (ties: the earlier);
    None for LIVE or when nothing is recorded (the live view)."""
    if step == LIVE or not frames:
        return None
    return min(frames, key=lambda f: (abs(f[0] - step), f[0]))
