"""Small building blocks shared by the model families."""
from __future__ import annotations

import math

import torch
from torch import Tensor, nn


class SeededDropout(nn.Module):
    """Dropout that draws its mask from `self.generator` (set by the trainer).

    nn.Dropout uses torch's global RNG, which other threads (other browser
    sessions of the app) also draw from; a per-run generator keeps each run
    reproducible and isolated. Without a generator it falls back to the global RNG.
    """

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = p
        self.generator: torch.Generator | None = None

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep = torch.rand(x.shape, generator=self.generator, device=x.device, dtype=x.dtype) >= self.p
        return x * keep / (1.0 - self.p)

    def extra_repr(self) -> str:
        return f"p={self.p}"


def activation(name: str, slope: float) -> nn.Module:
    return nn.LeakyReLU(slope) if name == "leaky_relu" else nn.ReLU()


def init_default(module: nn.Module, generator: torch.Generator) -> None:
    """PyTorch's default Linear / Conv init, drawn from `generator` (reproducible per run)."""
    for m in module.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            w = m.weight
            # torch computes fan_in from dim 1 for every layer kind (ConvTranspose included).
            fan_in = nn.init._calculate_fan_in_and_fan_out(w)[0]
            bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
            # kaiming_uniform(a=sqrt(5)) has bound sqrt(6 / ((1 + 5) fan_in)) = 1 / sqrt(fan_in).
            with torch.no_grad():
                w.uniform_(-bound, bound, generator=generator)
                if m.bias is not None:
                    m.bias.uniform_(-bound, bound, generator=generator)


def init_normal(module: nn.Module, generator: torch.Generator, std: float = 0.02) -> None:
    """DCGAN init (Radford et al. 2016): conv/linear weights N(0, 0.02), BN N(1, 0.02), biases 0."""
    for m in module.modules():
        with torch.no_grad():
            if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
                m.weight.normal_(0.0, std, generator=generator)
                if m.bias is not None:
                    m.bias.zero_()
            elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                m.weight.normal_(1.0, std, generator=generator)
                m.bias.zero_()


def set_generator(module: nn.Module, generator: torch.Generator) -> None:
    """Point every SeededDropout inside `module` at `generator`."""
    for m in module.modules():
        if isinstance(m, SeededDropout):
            m.generator = generator
