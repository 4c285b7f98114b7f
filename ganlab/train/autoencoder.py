"""The trainer of the autoencoders `ae`, `conv_ae` and the adversarial autoencoder `aae`.

`AutoencoderTrainer` is a `Trainer`: the same step loop, history rows, sampling,
run folders and live changes; it replaces only what differs:
- the networks: G is the `ganlab.models.autoencoder.Autoencoder` (its `encoder`
  and `decoder`), D the code discriminator of `aae` (nothing for `ae` / `conv_ae`);
- the optimizers: `opt_g` (encoder and decoder, the g_* settings) for every
  model; `aae` adds `opt_d` (the code discriminator, d_* settings) and `opt_e`
  (the encoder alone in the regularisation phase, g_* settings);
- one iteration (Makhzani et al. 2015, section 2, "both phases on each mini-batch"):
  (1) reconstruction phase: encoder + decoder minimise the reconstruction loss of a
      real batch (cfg.recon_loss: binary cross-entropy or squared error of pixels
      in [0, 1], mean per pixel);
  (2) aae only, regularisation phase: D learns to tell prior draws (real: N(0, I) or
      U(-1, 1)^d, cfg.latent_dist) from the encoder's codes of the batch (fake), with
      the run's GAN objective (cfg.loss and D's regularisers); then the encoder, as
      the generator of codes, minimises G's loss against D.
  `last["g_loss"]` is the reconstruction loss; `last["d_loss"]` is the code D's loss
  (aae) or 0.0 (a plain autoencoder has no D).
- log fields on every loss row: `batch_recon_mse` (mean squared error per pixel of
  the last training batch, pixels in [0, 1]), `code_mean` and `code_std` (over
  the batch's codes, all dimensions pooled: a prior N(0, I) has 0 and 1);
- metrics (`evaluate`): the image metrics of decoded prior codes (`sample`: the
  classifier's Frechet distance `fd` etc.), plus `recon_mse`, the mean squared
  error per pixel (pixels in [0, 1]) of reconstructions of real images.

Generation: `generate(z)` = decoder(z) mapped to model space, 2 p - 1 in [-1, 1],
like the GANs' images; `sample(n, seed)` decodes seeded prior codes.
`encode` / `reconstruct` go the other way (images in model space -> codes -> images).
"""
from __future__ import annotations

from typing import Callable, Iterator

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganlab.config import Config
from ganlab.data import Dataset
from ganlab.errors import ConfigError
from ganlab.models.autoencoder import AUTOENCODER_MODELS, Autoencoder
from ganlab.seeds import EVAL_SEED, FIXED_NOISE_OFFSET
from ganlab.train.base import ema_decay, update_ema
from ganlab.train.trainer import Trainer

N_FIXED_REALS = 32  # originals in the progress grid's reconstruction view


def to_pixels(x: Tensor) -> Tensor:
    """Model space [-1, 1] -> pixels [0, 1]."""
    return (x + 1.0) * 0.5


def reconstruction_loss(kind: str, out: Tensor, target: Tensor) -> Tensor:
    """Mean per pixel of "bce" (binary cross-entropy) or "mse" between pixels in [0, 1]."""
    if kind == "bce":
        return F.binary_cross_entropy(out, target)
    return F.mse_loss(out, target)


class AutoencoderTrainer(Trainer):
    """A Trainer for `ae`, `conv_ae` and `aae` (see the module docstring)."""

    G: Autoencoder

    def __init__(self, cfg: Config, dataset: Dataset | None = None) -> None:
        if cfg.model not in AUTOENCODER_MODELS:
            raise ConfigError(f"AutoencoderTrainer trains {', '.join(AUTOENCODER_MODELS)}; got {cfg.model!r}: "
                              "use ganlab.train.build_trainer")
        super().__init__(cfg, dataset)
        self.adversarial = any(True for _ in self.D.parameters())
        # A fixed batch of real images for the originals-above-reconstructions grid, from the
        # fixed-noise seed (not the run's rng: drawing it changes no training stream).
        self.fixed_x = self.data.decode(self.data.draw(N_FIXED_REALS, cfg.seed + FIXED_NOISE_OFFSET)
                                        ).to(self.device)
        self._stats = {"batch_recon_mse": float("nan"), "code_mean": float("nan"), "code_std": float("nan")}
        self.last["d_loss"] = 0.0

    # --- what differs from the GAN trainer ------------------------------------------
    def _check_data(self, data: Dataset) -> None:
        if data.info.kind != "image":
            raise ConfigError(f"model {self.cfg.model!r} is an image autoencoder; {data.info.name!r} "
                              "is made of points")

    def _optimizer_slots(self) -> dict[str, tuple[str, Callable[[], Iterator[nn.Parameter]]]]:
        slots: dict[str, tuple[str, Callable[[], Iterator[nn.Parameter]]]] = {"opt_g": ("g", self.G.parameters)}
        if any(True for _ in self.D.parameters()):
            slots["opt_d"] = ("d", self.D.parameters)
            slots["opt_e"] = ("g", self.G.encoder.parameters)
        return slots

    def _log_fields(self) -> dict[str, float]:
        return {k: round(v, 6) for k, v in self._stats.items()}

    def _iteration(self, d: bool, g: bool) -> None:
        """(1) reconstruction (if `g`), (2) aae: the regularisation phase (if `d`), (3) EMA."""
        cfg = self.cfg
        x, _ = self._real_batch(cfg.batch_size)
        pixels = to_pixels(x)
        if g:
            with self._autocast():
                codes = self.G.encode(pixels)
                out = self.G.decode(codes).float()
            loss = reconstruction_loss(cfg.recon_loss, out, pixels)
            self.last["g_loss"] = self._backward_step(loss, self.opt_g, self._g_params, "the autoencoder")
            with torch.no_grad():
                c = codes.detach().float()
                self._stats = {"batch_recon_mse": float(F.mse_loss(out.detach(), pixels)),
                               "code_mean": float(c.mean()), "code_std": float(c.std())}
        if d and self.adversarial:
            for _ in range(cfg.d_steps):
                self.last["d_loss"] = self._code_d_step(pixels)
            for _ in range(cfg.g_steps):
                self._encoder_step(pixels)
        if g and self.G_ema is not None:
            update_ema(self.G_ema, self._g_params, ema_decay(cfg.ema, self.step_count), self.G)

    def _code_d_step(self, pixels: Tensor) -> float:
        """D on prior draws (real) vs the encoder's codes (fake), with the run's objective."""
        prior = self._latent(pixels.shape[0], self.rng, self.device)
        with torch.no_grad():
            codes = self.G.encode(pixels).float()
        r1 = self.objective.r1_due(self.step_count)
        if r1:
            prior = prior.requires_grad_(True)
        r, f = self.D(torch.cat([prior, codes])).float().chunk(2)
        loss = self.objective.d_objective(lambda z: self.D(z).float(), prior, codes, r, f,
                                          rng=self.rng, r1=r1, d_module=self.D)
        return self._update_d(loss, "the code discriminator")

    def _encoder_step(self, pixels: Tensor) -> float:
        """The encoder as the generator of codes: G's loss of D on its codes (D frozen)."""
        with self._d_frozen():
            f = self.D(self.G.encode(pixels)).float()
            r = f
            if self.objective.g_needs_real:
                with torch.no_grad():
                    r = self.D(self._latent(pixels.shape[0], self.rng, self.device)).float()
            loss = self.objective.g_loss(r, f)
            return self._backward_step(loss, self.opt_e, list(self.G.encoder.parameters()), "the encoder")

    # --- the other way: images -> codes -> images -----------------------------------
    @torch.no_grad()
    def encode(self, x: Tensor, *, ema: bool = False) -> Tensor:
        """Images (N, C, S, S) in model space [-1, 1] -> codes (N, latent_dim) on the device."""
        net = self._sampler(ema)
        was = net.training
        net.eval()
        try:
            return net.encode(to_pixels(x.to(self.device).float()))
        finally:
            net.train(was)

    @torch.no_grad()
    def reconstruct(self, x: Tensor, *, ema: bool = False) -> Tensor:
        """Images (N, C, S, S) in [-1, 1] -> their reconstructions (N, C, S, S) in [-1, 1]."""
        return self.generate(self.encode(x, ema=ema), ema=ema)

    def evaluate(self, n: int | None = None, seed: int = EVAL_SEED) -> dict[str, float]:
        """The image metrics of decoded prior codes (`Trainer.evaluate`) plus `recon_mse`:
        the mean squared error per pixel, pixels in [0, 1], of n real images' reconstructions."""
        n = n or self.cfg.eval_samples
        from ganlab.metrics.images import reconstruction_mse

        return {**super().evaluate(n, seed), "recon_mse": reconstruction_mse(self, n, seed)}

    def extra_state(self) -> dict[str, object]:
        return {"kind": "autoencoder"}


__all__ = ["AutoencoderTrainer", "N_FIXED_REALS", "reconstruction_loss", "to_pixels"]
