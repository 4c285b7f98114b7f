"""The axes of the playground's views: the data's box, grown when the points leave it.

A run's fake points can wander outside the box that frames the data (early in
training, or a diverging G). Fixed axes would then hide them; axes fitted to the
points at every frame would jump at every frame (and throw away the user's zoom,
which Plotly keeps only while the range sent stays the same). `ViewRange` grows
each side of the view past the data's box only when the points come close to
that side, with room to spare (HEADROOM), and shrinks it back only when the points
have stayed well inside (below half of what is shown) for SHRINK_AFTER frames:
small drifts change nothing, and a run settling down moves the axes once.
No side goes further than the box LIMIT times the data's box (about its centre):
a diverging run does not shrink the data to a dot.

Geometry only: the points come from the engine (`ganlab.probe`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

LIMIT = 3.0     # the view spans at most LIMIT times the data's box along each axis
MARGIN = 0.05   # (of the data's span) the room points keep from the view's edge
HEADROOM = 0.25  # (of the data's span) added past what a growth needs: no re-growth at every drift
SHRINK_BELOW = 0.5  # a side shrinks when what it needs is under this fraction of what it shows...
SHRINK_AFTER = 8    # ...in this many successive frames (a run settling down: one move, not one a frame)


@dataclass(eq=False)
class ViewRange:
    """The view's (D, 2) box: `data_box` plus, per side, `over` (>= 0, data units).

    data_box: (D, 2) min / max per axis framing the data set (`ganlab.probe.view_box`).
    over: (D, 2) how far the view reaches past the data's box, below (column 0)
      and above (column 1) each axis; None or zeros = the data's box.
    """

    data_box: np.ndarray
    over: np.ndarray | None = None
    limit: float = LIMIT

    def __post_init__(self) -> None:
        self.data_box = np.asarray(self.data_box, dtype=np.float64).copy()
        self.over = np.zeros_like(self.data_box) if self.over is None else np.asarray(self.over, np.float64)
        self._shrink_votes = np.zeros(self.data_box.shape, dtype=np.int64)  # frames each side wanted less

    @property
    def span(self) -> np.ndarray:
        """(D,) the data box's extent per axis (never 0)."""
        return np.maximum(self.data_box[:, 1] - self.data_box[:, 0], 1e-6)

    @property
    def cap(self) -> np.ndarray:
        """(D, 1) the most a side may reach past the data's box: LIMIT x the box in all."""
        return ((self.limit - 1.0) / 2.0 * self.span)[:, None]

    def box(self) -> np.ndarray:
        """(D, 2) float32: the view's min / max per axis now."""
        return np.stack([self.data_box[:, 0] - self.over[:, 0],
                         self.data_box[:, 1] + self.over[:, 1]], axis=1).astype(np.float32)

    def follow(self, *point_sets: np.ndarray | None) -> np.ndarray:
        """Move the sides towards the points (N, >=D) (see the module docstring) and
        return `box()`. NaN / infinite points and empty or None sets are left out."""
        pts = [np.asarray(p, dtype=np.float64)[:, :len(self.data_box)] for p in point_sets
               if p is not None and len(p)]
        pts = [p[np.isfinite(p).all(axis=1)] for p in pts]
        pts = [p for p in pts if len(p)]
        if not pts:
            return self.box()
        allp = np.concatenate(pts)
        span = self.span[:, None]
        # How far past each side of the data's box the points need the view to reach
        # (negative: the points stay that far inside it), margin included.
        reach = np.stack([self.data_box[:, 0] - allp.min(0), allp.max(0) - self.data_box[:, 1]], axis=1)
        need = reach + MARGIN * span
        grow = need > self.over
        wants_less = ~grow & (need + HEADROOM * span < SHRINK_BELOW * self.over)
        self._shrink_votes = np.where(wants_less, self._shrink_votes + 1, 0)
        shrink = self._shrink_votes >= SHRINK_AFTER
        target = np.clip(need + HEADROOM * span, 0.0, self.cap)
        self.over = np.where(grow | shrink, target, self.over)
        self._shrink_votes[grow | shrink] = 0
        return self.box()

    def copy(self) -> "ViewRange":
        """An independent copy (e.g. for an export made in another thread)."""
        twin = ViewRange(self.data_box.copy(), self.over.copy(), self.limit)
        twin._shrink_votes = self._shrink_votes.copy()
        return twin

    def outside(self, points: np.ndarray | None) -> int:
        """How many of `points` (N, >=D) lie beyond the view now (`count_outside`)."""
        return count_outside(self.box(), points)


def count_outside(box: np.ndarray, points: np.ndarray | None) -> int:
    """How many of `points` (N, >=D) lie beyond the (D, 2) `box` (NaN ones included):
    past the limit the view stops growing, and the page says so."""
    if points is None or len(points) == 0:
        return 0
    b = np.asarray(box, dtype=np.float64)
    p = np.asarray(points, dtype=np.float64)[:, :len(b)]
    inside = ((p >= b[:, 0]) & (p <= b[:, 1])).all(axis=1)
    return int((~inside).sum())


def view_range_for(current: ViewRange | None, data_box: np.ndarray) -> ViewRange:
    """`current` while it frames this data box, else a new ViewRange on it (a new data
    set or a new run starts from the data's box)."""
    box = np.asarray(data_box, dtype=np.float64)
    if current is not None and current.data_box.shape == box.shape and np.allclose(current.data_box, box):
        return current
    return ViewRange(box)


def steady_scale(current: tuple[float, float] | None, wanted: tuple[float, float]) -> tuple[float, float]:
    """A colour / height scale that does not jump every frame (D's score range moves
    a little at every step): `current` while it holds `wanted` and is not more than
    1 / SHRINK_BELOW times as wide, else `wanted` widened by HEADROOM about its
    centre (a scale that grows steadily then changes now and then, not every frame)."""
    wlo, whi = wanted
    if current is not None:
        lo, hi = current
        if lo <= wlo and whi <= hi and (whi - wlo) >= SHRINK_BELOW * (hi - lo):
            return current
    centre, half = (wlo + whi) / 2, (whi - wlo) / 2 * (1 + HEADROOM)
    return centre - half, centre + half


class GrowingBox:
    """The data's box grown, as the live view would, to hold each set of points given
    to `grow` (within the limit), and never shrunk: a recording drawn on it keeps every
    earlier frame's points in view."""

    def __init__(self, data_box: np.ndarray) -> None:
        self.range = ViewRange(data_box)

    def grow(self, points: np.ndarray | None) -> np.ndarray:
        """Grow to hold `points` (N, >=D); the (D, 2) float32 box now."""
        need = ViewRange(self.range.data_box)
        need.follow(points)
        self.range.over = np.maximum(self.range.over, need.over)
        return self.range.box()


def grown_box(data_box: np.ndarray, point_sets: Sequence[np.ndarray | None]) -> np.ndarray:
    """(D, 2) the data's box grown (`GrowingBox`) to hold every set of points in
    `point_sets` (within the limit)."""
    box = GrowingBox(data_box)
    for pts in point_sets:
        box.grow(pts)
    return box.range.box()
