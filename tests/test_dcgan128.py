"""DCGAN at 128 px RGB for image folders, the RaLSGAN presets, the folder speed bench."""
from __future__ import annotations

import pytest
import torch

from ganlab.bench.folder import write_synthetic_folder
from ganlab.config import Config
from ganlab.data import build_dataset
from ganlab.data.base import DataInfo
from ganlab.errors import ConfigError
from ganlab.models import build_models
from ganlab.models.dcgan import layout
from ganlab.presets import resolve_config
from ganlab.train import Trainer


def test_128_px_is_five_stride_2_blocks_with_the_papers_channels():
    assert layout(128) == (4, 5)
    cfg = resolve_config(preset="ralsgan128")
    assert (cfg.image_size, cfg.channels, cfg.loss, cfg.batch_size) == (128, 3, "ralsgan", 32)
    assert (cfg.d_lr, cfg.g_lr, cfg.d_beta1, cfg.d_beta2) == (2e-4, 2e-4, 0.5, 0.999)
    g, d = build_models(cfg, DataInfo("image_folder", "image", (3, 128, 128)))
    convs = [m for m in g.net if isinstance(m, torch.nn.ConvTranspose2d)]
    # 4 x 4 x 1024 -> 8 x 512 -> 16 x 256 -> 32 x 128 -> 64 x 64 -> 128 x 3 (the DCGAN ladder).
    assert [m.out_channels for m in convs] == [1024, 512, 256, 128, 64, 3]
    assert [m.stride[0] for m in convs] == [1, 2, 2, 2, 2, 2]
    d_convs = [m for m in d.net if isinstance(m, torch.nn.Conv2d)]
    assert [m.out_channels for m in d_convs] == [64, 128, 256, 512, 1024, 1]
    assert resolve_config(preset="ralsgan").image_size == 64


def test_128_px_shapes_and_one_training_step(tmp_path):
    folder = write_synthetic_folder(tmp_path / "pics", 6)
    data = build_dataset(Config(data="image_folder", data_path=str(folder), image_size=128).data_options())
    assert data.x.shape == (6, 3, 128, 128) and data.x.dtype == torch.uint8
    cfg = resolve_config(None, "ralsgan128", {"data_path": str(folder), "g_width": 4, "d_width": 4,
                                               "latent_dim": 8, "batch_size": 4, "n_fixed": 2})
    tr = Trainer(cfg, data)
    z = torch.randn(3, 8, generator=torch.Generator().manual_seed(0))
    x = tr.generate(z)
    assert x.shape == (3, 3, 128, 128) and float(x.abs().max()) <= 1.0
    assert tr.D(x).shape == (3,)
    losses = tr.step()
    assert all(torch.isfinite(torch.tensor(v)) for v in losses.values())


def test_only_image_folders_go_to_128():
    with pytest.raises(ConfigError, match="image size 128 is not supported for mnist"):
        build_dataset(Config(data="mnist", image_size=128).data_options())
