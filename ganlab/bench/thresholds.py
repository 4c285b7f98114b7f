"""Issue 14's targets for the MNIST models, and the step at which a run first meets each.

A run is evaluated every `EVAL_EVERY` steps on `EVAL_SAMPLES` balanced samples
(`Trainer.evaluate`: the project's classifier; conditional models are asked for
classes 0, 1, ..., 9, 0, ... in turn); a threshold is "first reached" at the first
evaluation whose metric meets it. Targets (issue 14):
- cgan:   cond_acc >= 0.90 within 5,000 steps (generated-class accuracy);
- cdcgan: cond_acc >= 0.95 within 2,000 steps;
- dcgan:  all 10 classes covered within 2,000 steps;
- every model: all classes covered (`classes_covered == classes_total`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

EVAL_EVERY = 500
EVAL_SAMPLES = 5000


@dataclass(frozen=True)
class Threshold:
    """metric >= value; `value` None means "equal to classes_total" (every class covered).
    within: the step budget the issue sets (0: no target, only reported)."""

    name: str
    metric: str
    value: float | None = None
    within: int = 0

    def met(self, row: Mapping[str, float]) -> bool:
        """Whether an evaluation row {metric: value, ...} meets the threshold (False when it lacks the metric)."""
        if self.metric not in row:
            return False
        target = row.get("classes_total") if self.value is None else self.value
        return target is not None and float(row[self.metric]) >= float(target)


ALL_CLASSES = Threshold("classes", "classes_covered")
THRESHOLDS: dict[str, tuple[Threshold, ...]] = {
    "mlp": (ALL_CLASSES,),
    "cgan": (ALL_CLASSES, Threshold("cond_acc>=0.90", "cond_acc", 0.90, within=5000)),
    "dcgan": (Threshold("classes", "classes_covered", None, within=2000),),
    "cdcgan": (ALL_CLASSES, Threshold("cond_acc>=0.95", "cond_acc", 0.95, within=2000)),
}


def first_reached(model: str, rows: Iterable[Mapping[str, float]]) -> dict[str, int | None]:
    """Threshold name -> the step of the first row (with a "step") meeting it, None if none did.
    Models without targets get {}."""
    rows = sorted((r for r in rows if "step" in r), key=lambda r: r["step"])
    out: dict[str, int | None] = {}
    for th in THRESHOLDS.get(model, ()):
        out[th.name] = next((int(r["step"]) for r in rows if th.met(r)), None)
    return out


def met_targets(model: str, reached: Mapping[str, int | None]) -> bool:
    """True when every threshold with a step budget was reached within it."""
    return all(reached.get(th.name) is not None and reached[th.name] <= th.within
               for th in THRESHOLDS.get(model, ()) if th.within)


def format_reached(reached: Mapping[str, int | None]) -> str:
    """{"classes": 500, "cond_acc>=0.90": None} -> "classes@500 cond_acc>=0.90@-"."""
    return " ".join(f"{k}@{'-' if v is None else v}" for k, v in reached.items()) or "-"
