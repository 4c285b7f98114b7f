"""Named presets: sets of Config fields, and each data set's tuned default.

`resolve_config` layers, lowest first: Config defaults < the default preset of
the (data set, model) pair, else of the data set < the named preset < an
explicit data set < `--set` overrides.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from ganlab.config import Config
from ganlab.registry import Registry


@dataclass(frozen=True)
class Preset:
    """A named set of Config fields with a sentence saying what it shows."""

    description: str
    settings: Mapping[str, Any] = field(default_factory=dict)


PRESETS: Registry[Preset] = Registry("preset")
# data set -> the preset `train --data NAME` uses when no --preset is given.
DATA_DEFAULTS: dict[str, str] = {}
# (data set, model) -> the model's tuned preset for `train --data NAME --model M`;
# takes precedence over DATA_DEFAULTS.
MODEL_DEFAULTS: dict[tuple[str, str], str] = {}


def register(name: str, description: str, default_for: tuple[str, ...] = (), **settings: Any) -> None:
    Config().update(settings)  # fail at import time on a typo in a preset
    PRESETS.add(name, Preset(description, dict(settings)), description)
    for data in default_for:
        DATA_DEFAULTS[data] = name


def resolve_config(data: str | None = None, preset: str | None = None,
                   overrides: Mapping[str, Any] | None = None) -> Config:
    """The Config for a run: defaults, data default preset, named preset, data, overrides."""
    cfg = Config()
    named = PRESETS.get(preset) if preset else None
    target = data or (named.settings.get("data") if named else None) or cfg.data
    model = (overrides or {}).get("model") or (named.settings.get("model") if named else None)
    default = MODEL_DEFAULTS.get((target, model)) or DATA_DEFAULTS.get(target)
    if default:
        cfg.update(PRESETS.get(default).settings)
    if named:
        cfg.update(named.settings)
    if data:
        cfg.data = data
    if overrides:
        cfg.update(overrides)
    return cfg


# --- toy presets -------------------------------------------------------------
_TOY = dict(model="mlp", g_layers=3, g_width=128, d_layers=3, d_width=128, activation="relu",
            batch_size=256, loss="ns", d_opt="adam", g_opt="adam", d_lr=1e-3, g_lr=1e-3,
            d_beta1=0.5, g_beta1=0.5, d_beta2=0.999, g_beta2=0.999, d_r1=0.0, d_r1_every=1,
            d_mbstd=0, lr_schedule="constant")
# Every toy preset names each field the tuned ring8 / grid25 presets set: a preset is
# applied over its data set's default, and must not inherit their stabilisers.

# ring8 / grid25: a plain GAN keeps 5-8 of the ring's and 15-20 of the grid's modes
# depending on the seed (as in the VEEGAN tables). What makes every seed work here
# (measured on seeds 0-11, docs/benchmarks.md):
# - the R1 penalty on D at real points (Mescheder et al. 2018, "Which training methods
#   for GANs do actually converge?"), lazily every 4th step as in StyleGAN2: it keeps
#   D flat on the data, so training settles instead of circling; with it every seed
#   covered every mode;
# - Adam with beta1 = 0, beta2 = 0.99 (StyleGAN2's): with the default 0.5 / 0.999 a
#   constant learning rate blew up late on some seeds (HQ 95% -> 19% within 500
#   steps), and decaying it instead left slow seeds at 80-86% HQ;
# - the EMA of G, which smooths the last steps' jitter out of the sharp modes.
_TOY_TUNED = dict(_TOY, latent_dim=2, d_r1=1.0, d_r1_every=4, d_beta1=0.0, g_beta1=0.0,
                  d_beta2=0.99, g_beta2=0.99)
register("ring8", "tuned default for ring8: all 8 modes, >= 90% high-quality samples",
         default_for=("ring8",), data="ring8", **{**_TOY_TUNED, "steps": 8000, "ema": 0.999})
register("grid25", "tuned default for grid25: all 25 modes, >= 90% high-quality samples",
         default_for=("grid25",), data="grid25", **{**_TOY_TUNED, "steps": 10000, "ema": 0.99})
register("gaussian", "a single Gaussian: does G learn the mean and the covariance?",
         default_for=("gaussian2d", "gaussian3d"), data="gaussian2d",
         **{**_TOY, "latent_dim": 8, "steps": 3000})
register("shapes", "default for the 2-D / 3-D shapes and user points",
         default_for=("line", "spiral", "moons", "two_blobs", "cube8", "helix", "points_file"),
         **{**_TOY, "latent_dim": 8, "steps": 5000})
# Mode collapse on demand: the set-up of Metz et al. 2017 ("Unrolled GANs", Fig. 1 and
# appendix A) for a plain GAN on the ring: a 256-d latent, MLPs of two hidden layers of
# 128, Adam(0.5, 0.999) lr 1e-4 for both, batch 512. G puts all its samples on one mode,
# D learns that mode is fake, and G jumps to another: the dominant mode changes at
# almost every check. Measured (G's own samples, 2,500 every 100 steps, 3,000 steps):
# 1-3 modes captured at 73%, 70%, 63%, 67% and 77% of the checks on seeds 0-4 (never
# more than 2), the rest while G is between two modes; all 8 modes were the dominant
# one in turn. The earlier set-up (D 10x slower than G, latent 2) left G's clump between
# modes at most checks: 46%, 14% and 68% on seeds 0-2.
register("collapse", "mode-collapse demo: the plain GAN of Metz et al. 2017 on ring8; G sits on one "
         "mode and hops from mode to mode",
         data="ring8", **{**_TOY, "g_layers": 2, "d_layers": 2, "latent_dim": 256, "d_lr": 1e-4,
                          "g_lr": 1e-4, "d_beta1": 0.5, "g_beta1": 0.5, "d_beta2": 0.999, "g_beta2": 0.999,
                          "batch_size": 512, "ema": 0.0, "steps": 3000, "eval_every": 250})

# The GAN paper's 1-D picture (Goodfellow et al. 2014, Figure 1): a uniform 1-D latent,
# small MLPs, and learning rates low enough that the class sees D rise where the data
# is, G's mass slide over from x = 0 and D flatten at 1/2 within ~3,000 steps (about
# 30 s at the page's 10 steps per redraw). Measured on seeds 0-1: after 1,000 steps D
# stayed within 0.38-0.55 over the data and G's mean within 0.3 of the data's.
_ONE_D = dict(_TOY, g_layers=2, g_width=32, d_layers=2, d_width=32, batch_size=128, latent_dim=1,
              latent_dist="uniform", d_lr=2e-4, g_lr=2e-4, ema=0.0, steps=3000, n_fixed=500,
              log_every=10, eval_every=500, seed=0)
register("gan1d", "1-D Gaussian: D rises where the data is, G slides over, D flattens towards 1/2",
         default_for=("gaussian1d",), data="gaussian1d", **_ONE_D)
register("gan1d-mixture", "two 1-D bumps: does G cover both, or settle on one?",
         default_for=("mixture1d",), data="mixture1d", **_ONE_D)


# --- image presets -----------------------------------------------------------
# The seed architectures with settings tuned for a 2-minute CPU run on the
# 10,000-image MNIST split (see docs/benchmarks.md); they are also each model's
# default on Fashion-MNIST and image folders.
_IMAGE_SETS = ("mnist", "fashion_mnist", "image_folder")
_IMAGE = dict(data="mnist", latent_dim=100, loss="ns", label_smoothing=0.1, d_opt="adam",
              g_opt="adam", d_beta1=0.5, g_beta1=0.5, d_beta2=0.999, g_beta2=0.999,
              n_fixed=100, log_every=50, eval_every=1000, eval_samples=2500, progress_every=500)
_MLP = dict(g_layers=1, g_width=128, d_layers=1, d_width=128, activation="leaky_relu", leaky_slope=0.2)
_DCGAN = dict(g_width=32, d_width=32, leaky_slope=0.2)


def _image_preset(name: str, model: str, description: str, default_for: tuple[str, ...] = (),
                  **settings: object) -> None:
    register(name, description, default_for=default_for, model=model, **{**_IMAGE, **settings})
    for data in _IMAGE_SETS:
        MODEL_DEFAULTS[(data, model)] = name


_image_preset("mnist_mlp", "mlp", "the seed MLP GAN on MNIST: z(100) -> 128 -> 784 tanh; D 784 -> 128 -> 1",
              default_for=("mnist", "fashion_mnist"),
              **_MLP, batch_size=64, d_lr=1e-3, g_lr=1e-3, ema=0.999, steps=20000)
# Image presets tuned by the GPU sweep of 2026-11-30 (scripts/gpu_session.py sweep; every row in
# docs/gpu/sweep-2026-11-30.json), MNIST, classifier metrics on 5,000 balanced samples every 500 steps:
# - cgan: batch 512 and Adam (0, 0.99) lifted the generated-class accuracy at 5,000 steps from
#   0.68 (batch 64) to 0.85 / 0.84 / 0.83 (seeds 0-2); none of 7 settings reached 0.90 by then;
#   lr 2e-3 for both then gave 0.859 (FD 36.9) on seed 0 (CPU, 2,000 samples; docs/benchmarks.md);
#   the architecture is the seed's, so the rest had to come from training: giving a quarter of
#   D's fake term to real digits shown with a wrong label (d_mismatch 0.25, the matching-aware D
#   of Reed et al. 2016) makes D read the label, and lifted seed 0 to 0.914 at 5,000 steps
#   (2 D steps: 0.879; a share of 0.35: 0.900; 0.5: 0.894; CPU, 2,000 samples);
# - dcgan: batch 128 covered all 10 classes by step 500 on seeds 0-2 (FD 62-79 at step 2,000);
# - cdcgan: batch 128, d_lr 5e-4, g_lr 1e-3 reached 0.95 at step 2,000 on seeds 0-2 (0.957-0.962).
_image_preset("mnist_cgan", "cgan", "the seed conditional MLP GAN (Mirza & Osindero 2014) on MNIST",
              **_MLP, batch_size=512, d_lr=2e-3, g_lr=2e-3, d_beta1=0.0, g_beta1=0.0, d_beta2=0.99,
              g_beta2=0.99, ema=0.999, d_mismatch=0.25, steps=20000)
_image_preset("mnist_dcgan", "dcgan", "the seed DCGAN on MNIST (28 px: ConvT k7 bottom, 64 / 32 channels)",
              default_for=("image_folder",),
              **_DCGAN, batch_size=128, d_lr=2e-4, g_lr=5e-4, ema=0.995, steps=3000)
_image_preset("mnist_cdcgan", "cdcgan", "a conditional DCGAN on MNIST (one-hot joined to z and to D's input)",
              **_DCGAN, batch_size=128, d_lr=5e-4, g_lr=1e-3, ema=0.995, steps=3000)
# pgan: the bundled generators' recipe. At equal GPU time (330 s) the non-saturating loss with
# lazy R1 beat WGAN-GP + drift on both sets (classifier FD 3.99 vs 8.88 on MNIST, 6.32 vs 6.42
# on Fashion-MNIST); batches of 128 and 256 did worse than 64 at equal time; the bundled files
# (200 s, two runs at once) reach FD 2.74 / 3.15 (assets/pgan/README.md).
_image_preset("pgan", "pgan", "progressive GAN (Karras et al. 2018) at 32 px: grows 4 -> 8 -> 16 -> 32, "
              "non-saturating loss + lazy R1, Adam(0, 0.99), EMA G",
              image_size=32, channels=1, latent_dim=128, g_width=128, d_width=128, loss="ns", d_drift=0.0,
              d_r1=1.0, d_r1_every=4, label_smoothing=0.0, batch_size=64, d_lr=1e-3, g_lr=1e-3,
              d_beta1=0.0, g_beta1=0.0, d_beta2=0.99, g_beta2=0.99, ema=0.999, steps=2000, n_fixed=64,
              eval_every=500)

# Autoencoders (ganlab/models/autoencoder.py): no GAN loss on the images; `loss` only
# drives the aae's code discriminator, so no label smoothing.
_AE = dict(label_smoothing=0.0, recon_loss="bce", ema=0.0, d_lr=2e-4, g_lr=1e-3, n_fixed=64)
_image_preset("mnist_ae", "ae", "the course's simple autoencoder: 784 -> 32 ReLU code -> 784 sigmoid, "
              "binary cross-entropy (not a generator: decoded random codes are blurs)",
              **{**_AE, "latent_dim": 32, "batch_size": 256, "steps": 3000})
_image_preset("mnist_conv_ae", "conv_ae", "a small convolutional autoencoder: 2 stride-2 convs (16 / 32 "
              "channels) to a 32-d code and back",
              **{**_AE, "latent_dim": 32, "g_width": 16, "batch_size": 128, "steps": 2000})
# Makhzani et al. 2015's MNIST set-up, narrowed for a CPU: an 8-d Gaussian prior, two
# hidden layers in the encoder, decoder and code discriminator (theirs: 1000 units).
_image_preset("mnist_aae", "aae", "adversarial autoencoder (Makhzani et al. 2015): 8-d codes pushed to "
              "N(0, I) by a discriminator on codes, so decoded random codes are digits",
              **{**_AE, "latent_dim": 8, "latent_dist": "normal", "g_layers": 2, "g_width": 512,
                 "d_layers": 2, "d_width": 256, "leaky_slope": 0.2, "batch_size": 100, "steps": 5000})

# The relativistic GAN's set-up for 64 and 128 px photos (Jolicoeur-Martineau 2019, "The
# relativistic discriminator", sections 4-5 on CAT: RaLSGAN, DCGAN architecture, Adam
# lr 2e-4, betas (0.5, 0.999), batch 32; the OCaml-torch example's channels: G
# 512-256-128-64 at 64 px, 1024-...-64 at 128 px, a 128-d latent). For the user's image
# folder (set data_path); no face data set is shipped or downloaded.
_RALSGAN = dict(data="image_folder", model="dcgan", channels=3, latent_dim=128, g_width=64, d_width=64,
                leaky_slope=0.2, loss="ralsgan", label_smoothing=0.0, d_opt="adam", g_opt="adam",
                d_lr=2e-4, g_lr=2e-4, d_beta1=0.5, g_beta1=0.5, d_beta2=0.999, g_beta2=0.999,
                batch_size=32, ema=0.0, n_fixed=64, log_every=50, eval_every=0, progress_every=500,
                steps=50000)
register("ralsgan", "RaLSGAN at 64 px on your image folder (Jolicoeur-Martineau 2019's CAT set-up: "
         "DCGAN, Adam 2e-4 (0.5, 0.999), batch 32)", **{**_RALSGAN, "image_size": 64})
register("ralsgan128", "RaLSGAN at 128 px on your image folder (Jolicoeur-Martineau 2019's CAT set-up: "
         "DCGAN with 5 stride-2 blocks, Adam 2e-4 (0.5, 0.999), batch 32)", **{**_RALSGAN, "image_size": 128})


# --- latent lab presets --------------------------------------------------------
# Base settings of the latent lab's comparisons (ganlab/lab_presets.py says which
# setting the runs differ in). Frequent metric rows: the lab's charts are live.
_LAB = dict(_TOY, eval_every=100, eval_samples=2500, log_every=10, ema=0.0, seed=0, steps=2000)

# The Gaussian lessons use the least-squares loss: with it every run whose latent
# space is big enough matches the covariance within a few hundred steps (the
# non-saturating loss took thousands), so what remains different is the latent.
register("lab-latent-2d", "latent lab base: a 2-D Gaussian, small MLPs, LSGAN (runs differ in latent_dim)",
         **{**_LAB, "data": "gaussian2d", "g_width": 64, "d_width": 64, "latent_dim": 2, "loss": "lsgan"})
register("lab-latent-3d", "latent lab base: a 3-D Gaussian, small MLPs, LSGAN (runs differ in latent_dim)",
         **{**_LAB, "data": "gaussian3d", "g_width": 64, "d_width": 64, "latent_dim": 3, "loss": "lsgan"})
register("lab-collapse", "latent lab base: ring8 with D 10x slower than G, where a plain GAN "
         "collapses onto one mode (Metz et al. 2017's set-up)",
         **{**_LAB, "data": "ring8", "g_layers": 2, "d_layers": 2, "latent_dim": 2,
            "d_lr": 1e-4, "g_lr": 1e-3})
