"""What a latent direction changes, in words, and which of a few samples is the clearest.

For the latent explorer's principal-direction sliders: `describe_directions` moves n seeded
latents by -amount and +amount sigmas along each direction, renders both ends, and compares
them in pairs:

- with the data set's classifier (`ganlab.classifier`, MNIST and Fashion-MNIST), the mean
  class probabilities at the two ends: "more 1s, fewer 0s";
- always, simple statistics of each picture (`image_stats`): the amount of ink, the width,
  height and slant of the ink, which half is brighter, contrast, colour warmth. A change
  is reported when its mean over the pairs is large against the spread of that statistic
  among the samples at one end (a standardised effect, Cohen's d), e.g. "thicker strokes".

The text says what moving the slider to the right (towards +) does; to the left does the
opposite. Results are kept per generator in memory and, when the weights can be named
(`explore.model_key`), beside the directions on disk.

`clearest_sample` picks the explorer's first sample among the grid's latents: the one the
classifier is surest about, else the latent nearest the centre of the latent distribution.
"""
from __future__ import annotations

import hashlib
import json
import weakref
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import torch
from torch import Tensor

from ganlab.errors import ConfigError
from ganlab.explore import Directions, directions_dir, grid_latents, model_key

# Statistic -> (words when it grows, words when it shrinks). "ink" is reworded for pictures on
# a light or colour background, where "strokes" mean nothing (`_ink_words`).
WORDS: dict[str, tuple[str, str]] = {
    "ink": ("thicker strokes", "thinner strokes"),
    "width": ("wider", "narrower"),
    "height": ("taller", "shorter"),
    "slant": ("leaning right", "leaning left"),
    "top": ("brighter top half", "brighter bottom half"),
    "left": ("brighter left half", "brighter right half"),
    "contrast": ("more contrast", "less contrast"),
    "warmth": ("warmer colours", "cooler colours"),
}
# A statistic's spread is never taken below its floor: a generator whose samples barely vary
# in a statistic would otherwise turn a change of a thousandth of a pixel into a "large" effect.
FLOORS = {"ink": 0.005, "width": 0.005, "height": 0.005, "slant": 0.02, "top": 0.005, "left": 0.005,
          "contrast": 0.005, "warmth": 0.005}
MIN_EFFECT = 0.5        # |standardised change| to be worth saying (a "medium" effect)
MIN_CLASS_SHARE = 0.10  # a class must gain or lose 10% of the probability mass to be named
VERSION = 1             # of the words and rules: a cached description of another version is redone

ClassifyFn = Callable[[Tensor], Tensor]  # images (N, C, R, R) in [-1, 1] -> probabilities (N, K)


@dataclass(frozen=True)
class DirectionEffect:
    """What moving along one direction towards + does.

    text: a short phrase for the slider ("more 1s, fewer 0s; thinner strokes", "wider, leaning
    right", "little visible change"). classes: per class, mean probability at +amount minus at
    -amount (K,) in [-1, 1], empty without a classifier. stats: per image statistic, the mean
    paired change divided by its spread (a standardised effect; positive = grows towards +).
    """

    text: str
    classes: tuple[float, ...] = ()
    stats: dict[str, float] = field(default_factory=dict)


def image_stats(images: Tensor) -> dict[str, Tensor]:
    """Raw images (N, C, R, R), C = 1 or 3, values in [-1, 1] (clipped) -> per-image statistics,
    each (N,) float64:

    ink: mean ink per pixel in [0, 1] (ink = brightness on a dark background, darkness on a
    light one, judged from the border pixels); width / height: standard deviation of the ink's
    x / y position as a fraction of the side; slant: how far the ink's x moves right per unit
    of height going up (-cov(x, y) / var(y), y pointing down); top / left: mean brightness of the
    top (left) half minus the bottom (right) half; contrast: standard deviation of brightness;
    warmth: mean red minus blue (0 for grey pictures).
    """
    if images.dim() != 4 or images.shape[1] not in (1, 3):
        raise ConfigError(f"image statistics need images (N, 1 or 3, H, W); got {tuple(images.shape)}")
    x = _unit(images)
    grey = x.mean(1)  # (N, H, W) brightness in [0, 1]
    n, h, w = grey.shape
    ink = grey if _dark_background(grey) else 1 - grey
    mass = ink.sum((1, 2)).clamp_min(1e-9)
    ys = ((torch.arange(h, dtype=torch.float64) + 0.5) / h)[None, :, None]
    xs = ((torch.arange(w, dtype=torch.float64) + 0.5) / w)[None, None, :]
    cy = (ink * ys).sum((1, 2)) / mass
    cx = (ink * xs).sum((1, 2)) / mass
    dy, dx = ys - cy[:, None, None], xs - cx[:, None, None]
    var_y = (ink * dy * dy).sum((1, 2)) / mass
    var_x = (ink * dx * dx).sum((1, 2)) / mass
    cov = (ink * dx * dy).sum((1, 2)) / mass
    half_h, half_w = h // 2, w // 2
    return {
        "ink": ink.mean((1, 2)),
        "width": var_x.sqrt(),
        "height": var_y.sqrt(),
        "slant": -cov / var_y.clamp_min(1e-9),
        "top": grey[:, :half_h].mean((1, 2)) - grey[:, h - half_h:].mean((1, 2)),
        "left": grey[:, :, :half_w].mean((1, 2)) - grey[:, :, w - half_w:].mean((1, 2)),
        "contrast": grey.flatten(1).std(1),
        "warmth": (x[:, 0] - x[:, -1]).mean((1, 2)),
    }


def _unit(images: Tensor) -> Tensor:
    """Images in [-1, 1] (clipped) -> float64 on the CPU in [0, 1]."""
    return (images.detach().double().cpu().clamp(-1, 1) + 1) / 2


def _dark_background(grey: Tensor) -> bool:
    """Whether pictures (N, H, W) in [0, 1] are drawn on a dark background: their border's median."""
    border = torch.cat([grey[:, 0], grey[:, -1], grey[:, :, 0], grey[:, :, -1]], 1)
    return float(border.median()) < 0.5


def _ink_words(images: Tensor) -> tuple[str, str]:
    """"thicker / thinner strokes" for grey pictures on a dark background (digits, clothes);
    "darker / lighter" on a light background (the ink is dark there); "brighter / darker" for colour."""
    grey = _unit(images).mean(1)
    if images.shape[1] == 3:
        return ("brighter", "darker") if _dark_background(grey) else ("darker", "lighter")
    return WORDS["ink"] if _dark_background(grey) else ("darker", "lighter")


def standardised_changes(minus: dict[str, Tensor], plus: dict[str, Tensor]) -> dict[str, float]:
    """Paired statistics at the two ends ({name: (N,)} each) -> {name: mean(plus - minus) / spread},
    spread = the root mean of the two ends' variances (never below the statistic's floor)."""
    out = {}
    for name in minus:
        a, b = minus[name], plus[name]
        var = (a.var(unbiased=False) + b.var(unbiased=False)) / 2 if a.numel() > 1 else torch.tensor(0.0)
        spread = max(float(var.sqrt()), FLOORS.get(name, 0.005))
        out[name] = float((b - a).mean()) / spread
    return out


def plural(name: str) -> str:
    """A class name as a plural for "more ...": digits "1s", words "Trousers", "Dresses"."""
    if name.isdigit():
        return f"{name}s"
    return name + ("es" if name.endswith(("s", "sh", "ch", "x")) else "s")


def class_phrase(change: Sequence[float], names: Sequence[str], min_share: float = MIN_CLASS_SHARE) -> str:
    """Per-class change of probability (K,) -> "more 1s, fewer 0s" (at most two classes each way,
    largest first), or "" when no class gains or loses `min_share`."""
    label = [names[i] if i < len(names) else str(i) for i in range(len(change))]
    order = sorted(range(len(change)), key=lambda i: -abs(change[i]))
    more = [plural(label[i]) for i in order if change[i] >= min_share][:2]
    fewer = [plural(label[i]) for i in order if change[i] <= -min_share][:2]
    parts = ([f"more {' and '.join(more)}"] if more else []) + ([f"fewer {' and '.join(fewer)}"] if fewer else [])
    return ", ".join(parts)


def stats_phrase(effects: dict[str, float], ink_words: tuple[str, str] = WORDS["ink"], most: int = 2,
                 min_effect: float = MIN_EFFECT) -> str:
    """Standardised changes -> the `most` largest ones of at least `min_effect`, in words
    ("thicker strokes, wider"), or "" when none is."""
    words = {**WORDS, "ink": ink_words}
    if ink_words == WORDS["ink"]:
        del words["contrast"]  # strokes on a dark ground: contrast only repeats the amount of ink
    big = sorted((k for k, v in effects.items() if abs(v) >= min_effect and k in words), key=lambda k: -abs(effects[k]))
    return ", ".join(words[k][0 if effects[k] > 0 else 1] for k in big[:most])


def describe_direction(gen: Any, offset: Tensor, *, n: int = 64, seed: int = 0,
                       classify: ClassifyFn | None = None, class_names: Sequence[str] = (),
                       batch_size: int = 64) -> DirectionEffect:
    """What moving a latent by `offset` (d,) does to `gen`'s pictures, from n seeded latents z
    (`explore.grid_latents`) rendered at z - offset and z + offset.

    gen: any explorer generator (latent_dim, gen(z (N, d), batch_size=...) -> (N, C, R, R) in
    about [-1, 1]). classify: images -> class probabilities (N, K), or None (image statistics
    only). The text names the classes that gain or lose at least 10% of the probability
    (then also the strongest image change when it is large, d >= 1), else up to two image
    changes of d >= 0.5, else "little visible change". ConfigError for n < 2 or an offset of
    the wrong size.
    """
    if n < 2:
        raise ConfigError(f"describing a direction needs at least 2 samples, got {n}")
    if offset.dim() != 1 or offset.shape[0] != gen.latent_dim:
        raise ConfigError(f"a direction for {gen.latent_dim} latent dimensions, got shape {tuple(offset.shape)}")
    z = grid_latents(gen, n, seed).float()
    step = offset.float()[None]
    images = gen(torch.cat([z - step, z + step]), batch_size=batch_size)
    minus_img, plus_img = images[:n], images[n:]
    effects = standardised_changes(image_stats(minus_img), image_stats(plus_img))
    ink_words = _ink_words(images)
    changes: tuple[float, ...] = ()
    text = ""
    if classify is not None:
        p_minus, p_plus = classify(minus_img).double(), classify(plus_img).double()
        changes = tuple(float(c) for c in (p_plus.mean(0) - p_minus.mean(0)))
        text = class_phrase(changes, class_names)
        if text and (strong := stats_phrase(effects, ink_words, most=1, min_effect=2 * MIN_EFFECT)):
            text = f"{text}; {strong}"
    text = text or stats_phrase(effects, ink_words) or "little visible change"
    return DirectionEffect(text=text, classes=changes, stats=effects)


def data_classifier(data: str | None) -> tuple[ClassifyFn | None, tuple[str, ...]]:
    """(images -> class probabilities, class names) for a data set with a trained classifier
    (`ganlab.classifier`: MNIST, Fashion-MNIST), else (None, ())."""
    from ganlab.classifier import has_classifier, load_classifier, predict

    if not data or not has_classifier(data):
        return None, ()
    from ganlab.data.images import IDX_SETS

    clf = load_classifier(data)
    names = IDX_SETS[data].class_names if data in IDX_SETS else tuple(str(i) for i in range(clf.num_classes))
    # The classifier reads [-1, 1]; a linear-output generator may overshoot, so clip first.
    return (lambda images: predict(clf, images.clamp(-1, 1))[1]), tuple(names)


_MEMO: "weakref.WeakKeyDictionary[Any, dict]" = weakref.WeakKeyDictionary()


def describe_directions(gen: Any, dirs: Directions, *, data: str | None = None, amount: float = 2.0,
                        n: int = 64, seed: int = 0, disk: bool = True) -> list[DirectionEffect]:
    """One `DirectionEffect` per direction of `dirs`, each moving the latents by -amount and
    +amount of its sigmas (the sliders' unit), judged with `data`'s classifier when it has one.

    Cost: 2 * n renders per direction. Kept per generator in memory and, when `disk` and the
    weights can be named (`explore.model_key`), as JSON beside the directions on disk.
    ConfigError for amount <= 0 or n < 2.
    """
    if not amount > 0:
        raise ConfigError(f"the amount along a direction must be positive, got {amount}")
    if n < 2:
        raise ConfigError(f"describing a direction needs at least 2 samples, got {n}")
    digest = hashlib.sha256(dirs.vectors.contiguous().numpy().tobytes()
                            + dirs.sigma.contiguous().numpy().tobytes()).hexdigest()[:16]
    memo_key = (digest, data, float(amount), n, seed)
    memo = _MEMO.setdefault(gen, {})
    if memo_key in memo:
        return memo[memo_key]
    name = model_key(gen) if disk else None
    path = None if name is None else directions_dir() / f"{name}-effects-{digest}-{data}-a{amount:g}-n{n}-s{seed}.json"
    found = _read_effects(path, len(dirs.sigma)) if path is not None else None
    if found is None:
        classify, names = data_classifier(data)
        found = [describe_direction(gen, amount * float(dirs.sigma[k]) * dirs.vectors[k], n=n, seed=seed,
                                    classify=classify, class_names=names)
                 for k in range(dirs.vectors.shape[0])]
        if path is not None:
            _write_effects(path, found)
    memo[memo_key] = found
    return found


def _read_effects(path: Path, k: int) -> list[DirectionEffect] | None:
    """Effects saved by `_write_effects`, or None when missing, unreadable or of another version."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        if doc.get("version") != VERSION or len(doc["effects"]) != k:
            return None
        return [DirectionEffect(text=str(e["text"]), classes=tuple(float(c) for c in e["classes"]),
                                stats={str(s): float(v) for s, v in e["stats"].items()}) for e in doc["effects"]]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _write_effects(path: Path, effects: list[DirectionEffect]) -> None:
    """Save effects atomically; a read-only cache only costs the recomputation next time."""
    from ganlab.files import write_text_atomic

    text = json.dumps({"version": VERSION, "effects": [asdict(e) for e in effects]}, indent=1)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(path, text)
    except OSError:
        pass


def clearest_sample(z: Tensor, images: Tensor | None = None, data: str | None = None) -> int:
    """Index of the latent among z (N, d) to show first. With `data`'s classifier and the
    latents' pictures `images` (N, C, R, R) in [-1, 1]: the picture the classifier is surest
    about (highest top-class probability: a clean digit, not a blend of two). Otherwise the
    latent nearest the centre of the latent distribution (smallest norm: the most typical
    sample, the reason the truncation trick works). ConfigError for an empty z or pictures
    that do not match it."""
    if z.dim() != 2 or z.shape[0] == 0:
        raise ConfigError(f"need at least one latent (N, d) to choose from, got shape {tuple(z.shape)}")
    classify, _ = data_classifier(data) if images is not None else (None, ())
    if classify is None:
        return int(z.float().norm(dim=1).argmin())
    if images.shape[0] != z.shape[0]:
        raise ConfigError(f"{images.shape[0]} pictures for {z.shape[0]} latents; give one picture per latent")
    return int(classify(images).max(1).values.argmax())


__all__ = ["DirectionEffect", "class_phrase", "clearest_sample", "data_classifier", "describe_direction",
           "describe_directions", "image_stats", "plural", "standardised_changes", "stats_phrase"]
