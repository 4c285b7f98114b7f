"""Latent-space tools of the latent explorer: directions, paths, truncation, rendering, neighbours.

Works on any `ganlab.pretrained.PretrainedGenerator` (our bundled progressive GANs
and the published pytorch_GAN_zoo ones alike); latents are float tensors (N, d).

- GANSpace directions (Härkönen et al. 2020): PCA of early activations of G over
  many random latents, each principal component mapped back to a direction in z
  by least-squares regression of z on the PCA coordinates.
- Interpolation between keyframe latents, linear (lerp) or spherical (slerp).
- Truncation of latents, seeded latent draws.
- `ImageCache`: renders only the latents it has not seen, in one batched forward,
  so an interpolation of 30 frames is one wait and revisiting a slider position
  is free.
- Nearest real training image (L2 in pixel space), to show a model is not copying.
- Bundled models (assets/pgan/) and uploads (written to a temporary directory,
  loaded with the restricted loader, deleted).
- Run folders of every kind (`ganlab.pretrained.from_run.RunGenerator`): a conditional
  model is explored one class at a time through `for_class` (the same interface with the
  label fixed), and `every_class` / `class_sweep` show one latent across the classes.
- GANSpace directions are kept on disk (`directions_dir()`), keyed by what the weights
  are (a file's SHA-256, a run folder's path, step and save time), so a model's PCA
  runs once, not once per server start.
"""
from __future__ import annotations

import hashlib
import math
import tempfile
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganlab.errors import ConfigError
from ganlab.latent import lerp, slerp
from ganlab.models.pgan import pixel_norm
from ganlab.pretrained import BUNDLED_DIR, PretrainedGenerator, load_generator
from ganlab.pretrained import list_bundled as bundled_models

# Bundled model -> the data set it was trained on (for the nearest-real-image view).
BUNDLED_DATA = {"mnist-32": "mnist", "fashion-32": "fashion_mnist"}
MAX_UPLOAD_BYTES = 600 << 20
UPLOAD_SUFFIXES = (".pth", ".ot", ".safetensors", ".json")
INTERPOLATIONS = ("slerp", "lerp")


# --- models ---------------------------------------------------------------------

def load_bundled(name: str, folder: Path | None = None) -> PretrainedGenerator:
    """A bundled generator by name ("mnist-32", "fashion-32")."""
    models = bundled_models(folder)
    if name not in models:
        raise ConfigError(f"no bundled model {name!r}; bundled: {', '.join(models) or 'none'} "
                          "(train them with scripts/train_pgan_assets.py)")
    return load_generator(models[name])


def load_upload(files: Sequence[tuple[str, bytes]], max_bytes: int = MAX_UPLOAD_BYTES) -> PretrainedGenerator:
    """Uploaded files [(name, content)] -> a loaded generator; nothing stays on disk.

    Accepts one `.pth` (zoo, or ptrblck's Karras state dict) or `.ot` (ocaml-torch's
    prog-gan.ot), or a ganlab `NAME.safetensors` + `NAME.json` pair. The
    files are written to a temporary directory, parsed by `load_generator` (no
    pickled code runs) and removed before returning.
    """
    if not files:
        raise ConfigError("no file uploaded; upload a .pth or .ot checkpoint, or a ganlab "
                          "NAME.safetensors together with its NAME.json")
    total = sum(len(data) for _, data in files)
    if total > max_bytes:
        raise ConfigError(f"the upload is {total / 2**20:.0f} MB, over the {max_bytes / 2**20:.0f} MB limit; "
                          "use a smaller checkpoint")
    names = [Path(name).name for name, _ in files]
    bad = [n for n in names if Path(n).suffix.lower() not in UPLOAD_SUFFIXES]
    if bad:
        raise ConfigError(f"cannot read {', '.join(bad)}; upload a .pth (pytorch_GAN_zoo, Karras), a .ot "
                          "(ocaml-torch prog-gan.ot) or a .safetensors + .json pair (ganlab)")
    pth = [n for n in names if n.lower().endswith((".pth", ".ot"))]
    weights = [n for n in names if n.lower().endswith(".safetensors")]
    if len(pth) + len(weights) != 1:
        raise ConfigError(f"upload exactly one model: one .pth or .ot, or one .safetensors with its .json "
                          f"(got {', '.join(names)})")
    with tempfile.TemporaryDirectory(prefix="ganlab-upload-") as tmp:
        for name, (_, data) in zip(names, files):
            (Path(tmp) / name).write_bytes(data)
        target = Path(tmp) / (pth or weights)[0]
        gen = load_generator(target)
    gen.source = Path((pth or weights)[0])  # the temporary copy is gone
    gen.info["upload"] = True  # no file to name the weights by: directions stay in memory
    return gen


# --- conditional models: one class at a time ---------------------------------------

class _FixedLabel(nn.Module):
    """G of a conditional run with its class fixed: z (N, d) -> images (N, C, R, R) in [-1, 1].

    Differentiable (inversion optimises z through it, and the trainer's `generate` runs
    without gradients). It holds no parameters of its own, so `invert` switching it to eval
    and back leaves the run's networks alone; the network runs in eval mode here (batch-norm
    statistics of training) and goes back to the mode it was in."""

    def __init__(self, gen: Any, label: int) -> None:
        super().__init__()
        self._gen, self.label = gen, label

    def forward(self, z: Tensor) -> Tensor:
        net, device = self._gen.module, self._gen.device
        y = torch.full((z.shape[0],), self.label, dtype=torch.long, device=device)
        was = net.training
        net.eval()
        try:
            return net(z.to(device), y)
        finally:
            net.train(was)


class ClassView:
    """A conditional run generator (`RunGenerator` with num_classes > 0) with its class fixed:
    the PretrainedGenerator interface (latent_dim, resolution, channels, name, info, source,
    device, module, latents, __call__(z)), so directions, rendering, caches, interpolation and
    inversion work on it unchanged. Get one with `for_class` (one shared view per class)."""

    def __init__(self, base: Any, label: int) -> None:
        k = int(getattr(base, "num_classes", 0))
        if not 0 <= label < k:
            raise ConfigError(f"{base.name}: class {label} is not one of its classes 0..{k - 1}")
        self.base, self.label = base, int(label)
        names = tuple(base.class_names)
        self.class_name = names[label] if label < len(names) else str(label)
        self.name = f"{base.name}-{self.class_name}"
        self.source, self.info = base.source, {**base.info, "class": self.label}
        self.module = _FixedLabel(base, self.label)

    latent_dim = property(lambda self: self.base.latent_dim)
    resolution = property(lambda self: self.base.resolution)
    channels = property(lambda self: self.base.channels)
    device = property(lambda self: self.base.device)
    num_classes = 0  # a view is unconditional: it takes no labels

    def latents(self, n: int, seed: int) -> Tensor:
        return self.base.latents(n, seed)

    def __call__(self, z: Tensor, batch_size: int = 256) -> Tensor:
        """z (N, d) -> images (N, C, R, R) of this view's class (CPU, no gradients)."""
        return self.base(z, self.label, batch_size=batch_size)

    def __repr__(self) -> str:
        return f"ClassView({self.base!r}, class {self.label} {self.class_name!r})"


_VIEWS: "weakref.WeakKeyDictionary[Any, dict[int, ClassView]]" = weakref.WeakKeyDictionary()


def for_class(gen: Any, label: int | None) -> Any:
    """`gen` itself when it is unconditional (label ignored), else its `ClassView` of `label`
    (one per generator and class, so the view's rendering and direction caches persist)."""
    if not int(getattr(gen, "num_classes", 0)):
        return gen
    if label is None:
        raise ConfigError(f"{gen.name} is a conditional model: choose one of its classes")
    views = _VIEWS.setdefault(gen, {})
    if label not in views:
        views[label] = ClassView(gen, label)
    return views[label]


def every_class(gen: Any, z: Tensor) -> Tensor:
    """One latent z (d,) through every class of a conditional generator -> (K, C, R, R)
    (a column of "same latent, every class"), through each class view's render cache."""
    k = int(getattr(gen, "num_classes", 0))
    if not k:
        raise ConfigError(f"{gen.name} is not a conditional model; it has no classes to show")
    return torch.cat([render(for_class(gen, c), z[None]) for c in range(k)])


def class_sweep(gen: Any, z: Tensor, classes: Sequence[int], frames: int) -> Tensor:
    """A fixed latent z (d,) shown for `classes` in turn -> frames (frames, C, R, R): the
    frames are spread evenly over the classes (the models take a class as a one-hot input,
    so the label changes in steps; the latent, style and stroke, stays). ConfigError for
    fewer than 2 classes or fewer frames than classes."""
    if len(classes) < 2:
        raise ConfigError("an interpolation across classes needs at least 2 classes")
    if frames < len(classes):
        raise ConfigError(f"{frames} frames cannot show {len(classes)} classes; use at least {len(classes)} frames")
    which = (torch.arange(frames) * len(classes)) // frames
    shown = every_class(gen, z)
    return shown[torch.tensor([int(classes[int(i)]) for i in which])]


# --- latents ----------------------------------------------------------------------

def random_latents(latent_dim: int, n: int, seed: int) -> Tensor:
    """(n, latent_dim) standard-normal latents from `seed` (same seed, same latents)."""
    return torch.randn(n, latent_dim, generator=torch.Generator().manual_seed(seed))


def grid_latents(gen: Any, n: int, seed: int) -> Tensor:
    """(n, d) seeded latents for `gen`'s sample grid: a run's (or its class view's) own latent
    distribution (`RunGenerator.latents`: normal or uniform, as it was trained), standard
    normal (`random_latents`) for published and bundled generators."""
    base = getattr(gen, "base", gen)
    if getattr(base, "trainer", None) is not None:
        return base.latents(n, seed)
    return random_latents(gen.latent_dim, n, seed)


def truncate(z: Tensor, threshold: float | None) -> Tensor:
    """Clip every coordinate of z (N, d) to [-threshold, threshold]; None = unchanged.

    Progressive GANs divide z by its RMS (pixel norm), so scaling z changes nothing;
    the truncation trick (Brock et al. 2019) instead removes the rare extreme
    coordinates, trading variety for typical, cleaner samples. Clipping rather
    than resampling keeps a slider continuous.
    """
    if threshold is None:
        return z
    if not threshold > 0:
        raise ConfigError(f"the truncation threshold must be positive, got {threshold}")
    return z.clamp(-threshold, threshold)


def edit_latent(z0: Tensor, directions: Directions | None = None, amounts: Sequence[float] = (),
                threshold: float | None = None) -> Tensor:
    """The explorer's current latent: z0 (d,) moved along the principal directions by
    `amounts` (in sigmas), then truncated -> (d,)."""
    z = z0.float()
    if directions is not None and len(amounts):
        z = z + directions.offset(amounts)
    return truncate(z, threshold)


def keyframe_path(keys: Tensor, frames: int, mode: str = "slerp") -> Tensor:
    """keys (K, d), K >= 2 -> (frames, d) through every key in order, first and last included.

    Frames are spread evenly over the K - 1 segments.
    """
    if mode not in INTERPOLATIONS:
        raise ConfigError(f"unknown interpolation {mode!r}; use one of {', '.join(INTERPOLATIONS)}")
    k = keys.shape[0]
    if keys.dim() != 2 or k < 2:
        raise ConfigError(f"an interpolation needs at least 2 keyframe latents, got {k if keys.dim() == 2 else 0}")
    if frames < k:
        raise ConfigError(f"{frames} frames cannot show {k} keyframes; use at least {k} frames")
    s = torch.linspace(0.0, k - 1, frames, dtype=torch.float64)
    seg = s.floor().long().clamp(max=k - 2)
    t = s - seg
    path = lerp if mode == "lerp" else slerp
    out = torch.empty(frames, keys.shape[1], dtype=keys.dtype)
    for i in range(k - 1):
        rows = seg == i
        if bool(rows.any()):
            out[rows] = path(keys[i], keys[i + 1], t[rows])
    return out


# --- GANSpace directions ------------------------------------------------------------

@dataclass(frozen=True)
class Directions:
    """Principal directions of a generator's early features, mapped into z.

    vectors (K, d): moving z by 1 * vectors[k] moves the k-th PCA coordinate of the
    features by about one unit; sigma (K,): std of that coordinate over random
    latents (a slider of s "sigmas" adds s * sigma[k] * vectors[k] to z);
    explained (K,): fraction of the feature variance of each component.
    """

    vectors: Tensor
    sigma: Tensor
    explained: Tensor

    def offset(self, amounts: Sequence[float]) -> Tensor:
        """Slider values in sigmas (<= K of them) -> latent offset (d,)."""
        a = torch.tensor(list(amounts), dtype=self.vectors.dtype)
        k = a.numel()
        if k > self.vectors.shape[0]:
            raise ConfigError(f"{k} slider values for {self.vectors.shape[0]} directions")
        return (a * self.sigma[:k]) @ self.vectors[:k]


@torch.no_grad()
def early_features(gen: PretrainedGenerator, z: Tensor) -> Tensor:
    """z (N, d) -> the 4x4 feature maps of G's first convolution, flattened (N, 16 * depth0);
    for generators without that stage (MLP, DCGAN, autoencoder decoders) the images, flattened.

    Only the first two layers run, so this is cheap even for 512x512 generators. A Karras
    generator gives its second 4x4 layer's conv output (`KarrasGenerator.early_features`).
    """
    g = gen.module
    device = gen.device
    x = z.to(device, torch.float32)
    if hasattr(g, "early_features"):
        return g.early_features(x).double().cpu()
    if not hasattr(g, "format_layer"):
        # MLP / DCGAN / autoencoder decoders have no 4x4 stage to read; their images are small
        # (28-64 px), so PCA of the outputs themselves is affordable and still finds the
        # directions along which the samples vary most.
        return gen(x.cpu(), batch_size=512).flatten(1).double()
    x = pixel_norm(x) if g.pixel_norm else x
    x = F.leaky_relu(g.format_layer(x), g.leaky).view(x.shape[0], -1, 4, 4)
    x = pixel_norm(x) if g.pixel_norm else x
    return g.conv0(x).flatten(1).double().cpu()


def _top_components(feats: Tensor, k: int) -> tuple[Tensor, Tensor]:
    """Centred feats (N, F) -> (components (k, F) unit rows, variances (F or N,) all, descending)."""
    n, f = feats.shape
    if f <= n:
        var, vec = torch.linalg.eigh(feats.T @ feats / (n - 1))
        var, vec = var.flip(0), vec.flip(1)
        comps = vec[:, :k].T
    else:  # fewer samples than features: the Gram matrix is the smaller problem
        var, vec = torch.linalg.eigh(feats @ feats.T / (n - 1))
        var, vec = var.flip(0), vec.flip(1)
        comps = (feats.T @ vec[:, :k]).T
        comps = comps / comps.norm(dim=1, keepdim=True)
    # Eigenvectors have no sign: make each direction's largest entry positive, for stable sliders.
    sign = torch.sign(comps.gather(1, comps.abs().argmax(1, keepdim=True)))
    return comps * sign, var.clamp_min(0)


_DIRECTIONS: "weakref.WeakKeyDictionary[PretrainedGenerator, dict]" = weakref.WeakKeyDictionary()


def directions_dir() -> Path:
    """Where computed GANSpace directions are kept: `ganlab.download.cache_dir()/directions`."""
    from ganlab.download import cache_dir

    return cache_dir() / "directions"


_MODEL_KEYS: "weakref.WeakKeyDictionary[Any, str | None]" = weakref.WeakKeyDictionary()


def model_key(gen: Any) -> str | None:
    """A file-name-safe key naming the weights of `gen`, or None when they cannot be named
    (an upload whose temporary copy is gone): a run folder by its resolved path, saved step
    and the save time of model.safetensors (a re-saved run is a new model); a file by its
    SHA-256 (a published download's recorded one when known); a class view adds its class.
    Hashed once per loaded generator."""
    if isinstance(gen, ClassView):
        base = model_key(gen.base)
        return None if base is None else f"{base}-class{gen.label}"
    if gen in _MODEL_KEYS:
        return _MODEL_KEYS[gen]
    key: str | None = None
    source = Path(getattr(gen, "source", "") or "")
    info = getattr(gen, "info", {}) or {}
    if info.get("upload"):
        key = None
    elif info.get("format") == "ganlab-run":
        weights = source / "model.safetensors"
        if weights.is_file():
            ident = f"{source.resolve()}|{info.get('step')}|{weights.stat().st_mtime_ns}|{info.get('ema')}"
            key = "run-" + hashlib.sha256(ident.encode()).hexdigest()[:32]
    elif info.get("sha256"):
        key = "sha256-" + str(info["sha256"])
    elif source.is_file():
        # Our own format keeps the weights beside the JSON; the weights are what matter.
        from ganlab.download import file_hash

        key = "sha256-" + file_hash(source.with_suffix(".safetensors") if source.suffix == ".json" else source,
                                    "sha256")
    _MODEL_KEYS[gen] = key
    return key


def _read_directions(path: Path) -> Directions | None:
    """Directions saved by `_write_directions`, or None when the file is missing or unreadable
    (a damaged cache entry is recomputed, never an error)."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        t = load_file(str(path))
        return Directions(vectors=t["vectors"], sigma=t["sigma"], explained=t["explained"])
    except (OSError, KeyError, SafetensorError):
        return None


def _write_directions(path: Path, d: Directions) -> None:
    """Save directions atomically; a read-only cache only costs the recomputation next time."""
    from safetensors.torch import save_file

    from ganlab.files import atomic_write

    tensors = {"vectors": d.vectors.contiguous(), "sigma": d.sigma.contiguous(),
               "explained": d.explained.contiguous()}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, lambda tmp: save_file(tensors, str(tmp)))  # no stray temp file on failure
    except OSError:
        pass


def ganspace(gen: PretrainedGenerator, k: int = 8, n: int = 2048, seed: int = 0,
             disk: bool = True) -> Directions:
    """The top-k GANSpace directions of `gen` from n seeded random latents (cached per generator
    in memory and, when `disk` and the weights can be named (`model_key`), under
    `directions_dir()`)."""
    if not 1 <= k < n:
        raise ConfigError(f"need 1 <= k < n for PCA, got k={k}, n={n}")
    memo = _DIRECTIONS.setdefault(gen, {})
    if (k, n, seed) in memo:
        return memo[(k, n, seed)]
    name = model_key(gen) if disk else None
    path = None if name is None else directions_dir() / f"{name}-k{k}-n{n}-s{seed}.safetensors"
    if path is not None and (cached := _read_directions(path)) is not None:
        memo[(k, n, seed)] = cached
        return cached
    z = random_latents(gen.latent_dim, n, seed).double()
    feats = torch.cat([early_features(gen, z[i:i + 512]) for i in range(0, n, 512)])
    feats = feats - feats.mean(0)
    comps, var = _top_components(feats, k)
    coords = feats @ comps.T  # (n, k) PCA coordinates
    # Least squares z ~ coords @ vectors: the change of z that moves each coordinate by one unit.
    vectors = torch.linalg.lstsq(coords, z).solution  # (k, d)
    result = Directions(vectors=vectors.float(), sigma=coords.std(0).float(),
                        explained=(var[:k] / var.sum()).float())
    memo[(k, n, seed)] = result
    if path is not None:
        _write_directions(path, result)
    return result


# --- rendering --------------------------------------------------------------------------

class ImageCache:
    """Images of latents already rendered by one generator (least recently used dropped).

    `render(z)` runs the generator once, batched, on the rows it has not seen.
    """

    def __init__(self, gen: PretrainedGenerator, capacity: int = 512, batch_size: int = 64) -> None:
        self.gen = gen
        self.capacity = capacity
        self.batch_size = batch_size
        self._images: OrderedDict[bytes, Tensor] = OrderedDict()

    def __len__(self) -> int:
        return len(self._images)

    def render(self, z: Tensor) -> Tensor:
        """z (N, d) -> raw images (N, C, R, R) float32 on the CPU."""
        z = z.detach().to("cpu", torch.float32).contiguous()
        keys = [row.numpy().tobytes() for row in z]
        unique = list(dict.fromkeys(keys))
        missing = [i for i, key in enumerate(unique) if key not in self._images]
        if missing:
            rows = torch.stack([torch.frombuffer(bytearray(unique[i]), dtype=torch.float32) for i in missing])
            images = self.gen(rows, batch_size=self.batch_size)
            for i, image in zip(missing, images):
                self._images[unique[i]] = image
        out = []
        for key in keys:
            self._images.move_to_end(key)
            out.append(self._images[key])
        while len(self._images) > self.capacity:
            self._images.popitem(last=False)
        return torch.stack(out)


_CACHES: "weakref.WeakKeyDictionary[PretrainedGenerator, ImageCache]" = weakref.WeakKeyDictionary()


def image_cache(gen: PretrainedGenerator) -> ImageCache:
    """The shared ImageCache of a generator (created on first use)."""
    if gen not in _CACHES:
        _CACHES[gen] = ImageCache(gen)
    return _CACHES[gen]


def render(gen: PretrainedGenerator, z: Tensor) -> Tensor:
    """z (N, d) -> raw images (N, C, R, R), through the generator's shared cache."""
    return image_cache(gen).render(z)


def interpolation_frames(gen: PretrainedGenerator, keys: Tensor, frames: int,
                         mode: str = "slerp") -> Tensor:
    """Keyframe latents (K, d) -> frames (frames, C, R, R), rendered in one batched pass."""
    return render(gen, keyframe_path(keys, frames, mode))


def display_images(images: Tensor, min_side: int = 128) -> Tensor:
    """Raw images (N, C, R, R) -> uint8 (N, C, S, S), S >= min_side, each pixel an s x s block
    (nearest neighbour: small images stay crisp instead of blurred by the browser)."""
    from ganlab.imageio import to_uint8

    x = to_uint8(images)
    factor = max(1, math.ceil(min_side / x.shape[-1]))
    return x.repeat_interleave(factor, -1).repeat_interleave(factor, -2) if factor > 1 else x


def frames_at(images: Tensor, side: int) -> Tensor:
    """Raw images (N, C, R, R) (or uint8) -> uint8 (N, C, side, side) for a GIF or video: enlarged by
    nearest neighbour (small generations stay crisp), reduced by area averaging (a 1024 px
    face at 256 px without aliasing). ConfigError for a side under 8 or over 2048 px."""
    from ganlab.imageio import to_uint8

    if not 8 <= side <= 2048:
        raise ConfigError(f"a GIF or video side must be 8 to 2048 px; got {side}")
    x = to_uint8(images)
    if x.shape[-1] == side and x.shape[-2] == side:
        return x
    mode = "nearest" if side > x.shape[-1] else "area"
    return F.interpolate(x.float(), size=(side, side), mode=mode).round().clamp(0, 255).to(torch.uint8)


def output_sides(resolution: int, most: int = 1024) -> list[int]:
    """The GIF / video sides offered for a generator of `resolution` px: powers of two from 64
    to `most` and the native side, ascending."""
    sides = {resolution} | {s for s in (64, 128, 256, 512, 1024) if s <= most}
    return sorted(s for s in sides if s <= max(most, resolution))


def read_picture(data: bytes) -> Tensor:
    """An uploaded picture's bytes (PNG, JPEG, ...) -> uint8 (C, H, W), C = 1 (grey) or 3 (RGB;
    transparency dropped). ConfigError for bytes that are not a picture."""
    import io

    import numpy as np
    from PIL import Image, UnidentifiedImageError

    from ganlab.data.images import _to_8bit

    try:
        with Image.open(io.BytesIO(data)) as im:
            if im.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
                im = _to_8bit(im)  # convert("L") would clip 16-bit values at 255 (a white picture)
            im = im.convert("L" if im.mode in ("1", "L") else "RGB")
            array = np.asarray(im, dtype=np.uint8)
    except UnidentifiedImageError:  # its message names only an in-memory buffer
        raise ConfigError("this file is not a picture (not a format Pillow reads); upload a PNG or JPEG") from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"this picture cannot be read ({exc}): it may be cut short; upload a PNG or JPEG") from None
    return torch.from_numpy(array.copy())[None] if array.ndim == 2 else torch.from_numpy(array.copy()).permute(2, 0, 1)


# --- nearest real image ------------------------------------------------------------------

class NearestIndex:
    """Training images prepared for repeated nearest-neighbour queries (L2 in pixel space).

    data: (N, C, S, S) uint8 (or float in [-1, 1]). The images are kept as float32
    (N, C*S*S) in [-1, 1] with their squared norms, so a query is one matrix product
    (about 10 ms for 60,000 images at 32x32 on one core) instead of a conversion of
    the whole set per query.
    """

    def __init__(self, data: Tensor, chunk: int = 8192) -> None:
        self.shape = tuple(data.shape[1:])
        self.chunk = chunk
        flat = torch.empty(data.shape[0], math.prod(self.shape))
        for start in range(0, data.shape[0], chunk):
            block = data[start:start + chunk].cpu()
            block = block.float().mul_(2.0 / 255.0).sub_(1.0) if block.dtype == torch.uint8 else block.float()
            flat[start:start + chunk] = block.flatten(1)
        self.flat = flat
        self.sq = flat.square().sum(1)

    def __len__(self) -> int:
        return self.flat.shape[0]

    def query(self, images: Tensor) -> tuple[Tensor, Tensor]:
        """images (M, C, H, W) float in [-1, 1] (clipped to it; resized to S, bilinear,
        antialiased) -> (index (M,) int64, L2 distance (M,) float32)."""
        c, side = self.shape[0], self.shape[-1]
        if images.shape[1] != c:
            raise ConfigError(f"generated images have {images.shape[1]} channel(s) but the data has "
                              f"{c}; compare with a data set of the same kind")
        x = images.detach().float().cpu().clamp(-1, 1)
        if x.shape[-1] != side:
            x = F.interpolate(x, size=(side, side), mode="bilinear", align_corners=False, antialias=True)
        x = x.flatten(1)
        x_sq = x.square().sum(1, keepdim=True)
        best_d = torch.full((x.shape[0],), math.inf)
        best_i = torch.zeros(x.shape[0], dtype=torch.int64)
        for start in range(0, len(self), self.chunk):
            d2 = x_sq - 2.0 * x @ self.flat[start:start + self.chunk].T + self.sq[start:start + self.chunk]
            d, i = d2.min(1)
            better = d < best_d
            best_d = torch.where(better, d, best_d)
            best_i = torch.where(better, i + start, best_i)
        return best_i, best_d.clamp_min(0).sqrt()


def nearest_real(images: Tensor, data: Tensor) -> tuple[Tensor, Tensor]:
    """One-off query: nearest image of `data` (N, C, S, S) to each of images (M, C, H, W).

    See `NearestIndex` (build one to query the same data repeatedly).
    """
    return NearestIndex(data).query(images)


def training_images(data: str, image_size: int = 32, channels: int = 1, path: str = "") -> Tensor:
    """The uint8 images (N, C, S, S) a model was trained on (same split rule as training):
    a bundled model's set at 32 px grey by default, or a run's set with its own Config's
    image_size / channels / data_path (see `training_source`)."""
    from ganlab.data import build_dataset
    from ganlab.data.base import DataOptions

    return build_dataset(DataOptions(name=data, path=path, image_size=image_size, channels=channels)).x


def training_source(gen: Any) -> tuple[str, int, int, str] | None:
    """(data, image_size, channels, path) of `training_images` for a run generator (a class
    view's base run), or None for a generator that does not say what it was trained on."""
    base = getattr(gen, "base", gen)
    trainer = getattr(base, "trainer", None)
    if trainer is None:
        return None
    cfg = trainer.cfg
    return str(cfg.data), int(cfg.image_size), int(cfg.channels), str(cfg.data_path)


__all__ = ["BUNDLED_DATA", "BUNDLED_DIR", "ClassView", "Directions", "ImageCache", "INTERPOLATIONS", "MAX_UPLOAD_BYTES", "NearestIndex",
           "bundled_models", "class_sweep", "directions_dir", "display_images", "early_features", "edit_latent",
           "every_class", "for_class", "frames_at", "ganspace", "grid_latents", "image_cache", "interpolation_frames",
           "keyframe_path", "lerp", "load_bundled", "load_upload", "model_key", "nearest_real", "output_sides", "random_latents", "read_picture", "render", "slerp",
           "training_images", "training_source", "truncate"]
