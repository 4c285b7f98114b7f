"""Model families: MLP (and its conditional form), DCGAN, progressive GAN, autoencoders.

`build_models(cfg, info)` -> (G, D) through the registry `MODELS` of
`ganlab.models.base`; each family's module registers its builders, and this
package imports them all (in the order `python -m ganlab list` shows).
"""
from __future__ import annotations

from ganlab.models import mlp  # noqa: F401, I001  (fill the registry)
from ganlab.models import dcgan, pgan  # noqa: F401, E402
from ganlab.models import autoencoder  # noqa: F401, E402
from ganlab.models.base import MODELS, Builder, build_models  # noqa: E402

__all__ = ["MODELS", "Builder", "build_models"]
