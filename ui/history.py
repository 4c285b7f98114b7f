"""A live run's recorded frames: the history scrubber's frame and the frames of a GIF.

Frames are `Runner.frames()`: [(step, payload), ...], oldest first. The pages'
scrubbers are sliders in percent of the run (100 = live).
"""
from __future__ import annotations

from typing import Sequence, TypeVar

import numpy as np

P = TypeVar("P")


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
