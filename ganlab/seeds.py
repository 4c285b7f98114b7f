"""The seeds a run derives from its own `seed` (one place, so every module draws alike).

- `seed`: the networks' initial weights (`ganlab.models.build_models`, and the
  layers a progressive GAN adds as it grows);
- `seed + RUN_RNG_OFFSET`: the run's `rng` (a torch.Generator), which draws every
  data batch, latent, dropout mask and interpolation weight of training;
- `seed + FIXED_NOISE_OFFSET`: the fixed noise batch behind progress views;
- `EVAL_SEED`: the latents of every metric evaluation, so that two runs (or two
  steps of one run) are scored on the same fresh latents.
"""
from __future__ import annotations

RUN_RNG_OFFSET = 1
FIXED_NOISE_OFFSET = 2
EVAL_SEED = 12345
