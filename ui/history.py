"""A live run's recorded frames: the history scrubber's frame and the frames of a GIF.

Frames are `Runner.frames()`: [(step, payload), ...], oldest first. The latent lab's
and the studio's scrubbers are sliders in percent of the run (100 = live,
`nearest_frame`); the playground's is in training steps: a select slider over the
recorded steps and LIVE (`scrub_options`, `frame_at`), so that the slider shows
the step of the frame on screen. A rewound view is captioned with the losses recorded
at its step (`losses_at`, `loss_words`), not the live ones.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence, TypeVar

import numpy as np

from ganlab import probe
from ganlab.train import Trainer
from ui.viewrange import GrowingBox

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


def losses_at(history: Sequence[Mapping[str, Any]], step: int) -> Mapping[str, Any] | None:
    """The history row (with "step", "d_loss", "g_loss") to show beside a view rewound to
    `step`: the one recorded at that step or the last before it; None when none was (the
    losses are recorded every `log_every` steps). The live losses would describe another step."""
    rows = [r for r in history if "d_loss" in r and r.get("step", 0) <= step]
    return max(rows, key=lambda r: r["step"]) if rows else None


def loss_words(row: Mapping[str, Any] | None, step: int, d: str = "D loss ", g: str = "G loss ",
               digits: int = 4, sep: str = " · ") -> str:
    """"D loss 1.3905 · G loss 0.6991" for a row of `losses_at` (its step named when it is not
    `step`), or a note that none was recorded by then (at step 0 a trainer's last losses are NaN)."""
    if step == 0:
        return "no losses before the first step"
    if row is None:
        return "losses not recorded yet at this step"
    words = f"{d}{row['d_loss']:.{digits}f}{sep}{g}{row['g_loss']:.{digits}f}"
    return words if row.get("step", step) == step else f"{words} (recorded at step {row['step']})"


class PointsRecorder:
    """The playground's capture (`Runner(capture=...)`): a `probe.Frame` of the run, its D
    surface over the box the fake points have needed so far (`GrowingBox`), not the
    data's box only. A rewound view or a GIF drawn on axes that grew for early, wandering
    points is then coloured all over, not in a patch at the data. The grid keeps `res`
    cells across the grown box, as the live view does: a grid grown with the box cost up
    to a third of the training time (docs/benchmarks.md). A new run (another trainer, or
    a step count that went back) starts over on its data's box.
    """

    def __init__(self, res: int = 48) -> None:
        self.res = res
        self._box: GrowingBox | None = None
        self._run: tuple[int, int] = (0, 0)  # (id of the trainer, its last step recorded)

    def __call__(self, trainer: Trainer) -> probe.Frame:
        run_id, last = self._run
        if self._box is None or id(trainer) != run_id or trainer.step_count < last:
            self._box = GrowingBox(probe.view_box(trainer))
        self._run = (id(trainer), trainer.step_count)
        fake = probe.fake_points(trainer)
        box = self._box.grow(fake)
        return probe.frame(trainer, res=self.res, box=box, fake=fake)
