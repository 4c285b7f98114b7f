"""Image models (ganlab.models.dcgan, the MLP GANs on images): architectures, shapes, losses."""
from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from ganlab.config import Config
from ganlab.data.base import DataInfo, Dataset
from ganlab.errors import ConfigError
from ganlab.losses import LOSSES
from ganlab.models import MODELS, build_models
from ganlab.models.dcgan import BottomConvT, TopConv, layout
from ganlab.models.layers import SeededDropout
from ganlab.presets import PRESETS, resolve_config
from ganlab.train import Trainer

MNIST = DataInfo("mnist", "image", (1, 28, 28), 10, tuple("0123456789"))
FASHION = DataInfo("fashion_mnist", "image", (1, 28, 28), 10, tuple(f"c{i}" for i in range(10)))
RGB32 = DataInfo("image_folder", "image", (3, 32, 32), 3, ("a", "b", "c"))
GREY64 = DataInfo("image_folder", "image", (1, 64, 64), 0, ())
RGB64 = DataInfo("image_folder", "image", (3, 64, 64), 2, ("a", "b"))
INFOS = [MNIST, FASHION, RGB32, GREY64, RGB64]
IMAGE_MODELS = ("mlp", "cgan", "dcgan", "cdcgan")


def _cfg(model: str, **kw) -> Config:
    return resolve_config("mnist", None, {"model": model, **kw})


def _kind(m: nn.Module) -> str:
    """The torch layer a module is (BottomConvT / TopConv are a ConvTranspose2d / Conv2d)."""
    for base in (nn.ConvTranspose2d, nn.Conv2d, nn.BatchNorm2d, nn.ReLU, nn.LeakyReLU, nn.Tanh):
        if isinstance(m, base):
            return base.__name__
    return type(m).__name__


def test_dcgan_is_the_seed_architecture_at_28px():
    g, d = build_models(_cfg("dcgan"), MNIST)
    convs = [(m.in_channels, m.out_channels, m.kernel_size[0], m.stride[0], m.padding[0])
             for m in g.modules() if isinstance(m, nn.ConvTranspose2d)]
    assert convs == [(100, 64, 7, 1, 0), (64, 32, 4, 2, 1), (32, 1, 4, 2, 1)]
    assert [_kind(m) for m in g.net] == ["ConvTranspose2d", "BatchNorm2d", "ReLU",
                                         "ConvTranspose2d", "BatchNorm2d", "ReLU",
                                         "ConvTranspose2d", "Tanh"]
    convs = [(m.in_channels, m.out_channels, m.kernel_size[0], m.stride[0], m.padding[0])
             for m in d.modules() if isinstance(m, nn.Conv2d)]
    assert convs == [(1, 32, 4, 2, 1), (32, 64, 4, 2, 1), (64, 1, 7, 1, 0)]
    assert [_kind(m) for m in d.net] == ["Conv2d", "LeakyReLU", "Conv2d", "BatchNorm2d",
                                         "LeakyReLU", "Conv2d"]
    # Hand count: ConvT 100*64*49, BN 2*64, ConvT 64*32*16, BN 2*32, ConvT 32*16 + 1 bias.
    assert sum(p.numel() for p in g.parameters()) == 313600 + 128 + 32768 + 64 + 512 + 1
    # Conv 16*32 + 32, Conv 32*64*16, BN 2*64, Conv 64*49 + 1.
    assert sum(p.numel() for p in d.parameters()) == 512 + 32 + 32768 + 128 + 3136 + 1
    assert d.net[1].negative_slope == 0.2


def test_mlp_preset_is_the_seed_mlp_gan():
    g, d = build_models(_cfg("mlp"), MNIST)
    lin = [(m.in_features, m.out_features) for m in g.modules() if isinstance(m, nn.Linear)]
    assert lin == [(100, 128), (128, 784)]
    assert [(m.in_features, m.out_features) for m in d.modules() if isinstance(m, nn.Linear)] == \
        [(784, 128), (128, 1)]
    assert any(isinstance(m, nn.LeakyReLU) for m in g.modules()) and g.out_tanh
    cfg = _cfg("mlp")
    assert (cfg.loss, cfg.label_smoothing, cfg.latent_dim) == ("ns", 0.1, 100)
    g, d = build_models(_cfg("cgan"), MNIST)
    assert [(m.in_features, m.out_features) for m in g.modules() if isinstance(m, nn.Linear)][0] == (110, 128)
    assert [(m.in_features, m.out_features) for m in d.modules() if isinstance(m, nn.Linear)][0] == (794, 128)


def test_train_data_mnist_model_dcgan_picks_the_tuned_preset():
    cfg = resolve_config("mnist", None, {"model": "dcgan"})
    for key, value in PRESETS.get("mnist_dcgan").settings.items():
        assert getattr(cfg, key) == value, key
    assert resolve_config("fashion_mnist", None, {"model": "cdcgan"}).data == "fashion_mnist"
    assert resolve_config("fashion_mnist", None, {"model": "cdcgan"}).g_width == 32
    assert resolve_config("mnist").model == "mlp" and resolve_config("mnist").latent_dim == 100
    # An explicit override still wins over the preset.
    assert resolve_config("mnist", None, {"model": "dcgan", "d_lr": "1e-3"}).d_lr == 1e-3


@pytest.mark.parametrize("info", INFOS, ids=lambda i: f"{i.shape[0]}x{i.shape[1]}k{i.num_classes}")
@pytest.mark.parametrize("model", IMAGE_MODELS)
def test_every_model_shapes_for_every_image_set(model, info):
    cfg = _cfg(model, pack=2)
    if model.startswith("c") and info.num_classes == 0:
        with pytest.raises(ConfigError, match="needs a labelled"):
            build_models(cfg, info)
        return
    g, d = build_models(cfg, info)
    g.requires_grad_(False)
    n = 4
    z = torch.randn(n, cfg.latent_dim, generator=torch.Generator().manual_seed(0))
    y = torch.arange(n) % info.num_classes if model.startswith("c") else None
    x = g(z, y)
    assert x.shape == (n, *info.shape)
    assert float(x.abs().max()) <= 1.0  # tanh output: pixels in [-1, 1]
    logits = d(x, y)
    assert logits.shape == (n // 2,) and logits.dtype == torch.float32


@pytest.mark.parametrize("bias", [False, True])
def test_matmul_layers_equal_the_torch_convolutions(bias):
    gen = torch.Generator().manual_seed(0)
    ref_t, fast_t = nn.ConvTranspose2d(10, 6, 7, 1, 0, bias=bias), BottomConvT(10, 6, 7, 1, 0, bias=bias)
    ref_c, fast_c = nn.Conv2d(6, 3, 7, 1, 0, bias=bias), TopConv(6, 3, 7, 1, 0, bias=bias)
    for ref, fast in ((ref_t, fast_t), (ref_c, fast_c)):
        for p in ref.parameters():
            p.data.normal_(generator=gen)
        fast.load_state_dict(ref.state_dict())
    z = torch.randn(5, 10, 1, 1, generator=gen)
    x = torch.randn(5, 6, 7, 7, generator=gen)
    with torch.no_grad():
        assert torch.allclose(fast_t(z), ref_t(z), atol=1e-5) and fast_t(z).shape == (5, 6, 7, 7)
        assert torch.allclose(fast_c(x), ref_c(x), atol=1e-5) and fast_c(x).shape == (5, 3, 1, 1)
        # Inputs of another size take torch's general path.
        assert torch.equal(fast_t(z.expand(5, 10, 2, 2)), ref_t(z.expand(5, 10, 2, 2)))
        big = torch.randn(2, 6, 9, 9, generator=gen)
        assert torch.equal(fast_c(big), ref_c(big))


@pytest.mark.parametrize("side, expected", [(28, (7, 2)), (32, (4, 3)), (64, (4, 4)), (56, (7, 3)),
                                            (8, (4, 1))])
def test_layout_of_generalised_sizes(side, expected):
    assert layout(side) == expected


def test_dcgan_channels_double_per_halving_at_64px():
    g, d = build_models(_cfg("dcgan"), RGB64)
    assert [m.out_channels for m in g.modules() if isinstance(m, nn.ConvTranspose2d)] == [256, 128, 64, 32, 3]
    assert [m.out_channels for m in d.modules() if isinstance(m, nn.Conv2d)] == [32, 64, 128, 256, 1]
    assert [m.kernel_size[0] for m in d.modules() if isinstance(m, nn.Conv2d)][-1] == 4


def test_unsupported_sizes_and_point_data_are_config_errors():
    with pytest.raises(ConfigError, match=r"got 48 px: set image_size to 28, 32, 64 or 128"):
        build_models(_cfg("dcgan"), DataInfo("image_folder", "image", (1, 48, 48)))
    with pytest.raises(ConfigError, match=r"needs a data set of square images .* use model=mlp for points"):
        build_models(_cfg("dcgan"), DataInfo("ring8", "points", (2,), 8))


def test_dcgan_init_is_seeded_normal_002():
    (g1, d1), (g2, d2), (g3, _) = (build_models(_cfg("dcgan", seed=s), MNIST) for s in (3, 3, 4))
    for net in (g1, d1):
        net.requires_grad_(False)
    for a, b in zip(list(g1.state_dict().values()) + list(d1.state_dict().values()),
                    list(g2.state_dict().values()) + list(d2.state_dict().values())):
        assert torch.equal(a, b)
    assert not torch.equal(g1.net[0].weight, g3.net[0].weight)
    w = g1.net[0].weight  # 313,600 draws: the sample std is within 1% of 0.02
    assert 0.0198 < float(w.std()) < 0.0202 and abs(float(w.mean())) < 2e-4
    bn = g1.net[1]
    assert 0.95 < float(bn.weight.mean()) < 1.05 and float(bn.weight.std()) < 0.04
    assert float(bn.bias.abs().max()) == 0.0 and float(d1.net[0].bias.abs().max()) == 0.0


@torch.no_grad()
def test_cdcgan_uses_the_label_in_g_and_d():
    g, d = build_models(_cfg("cdcgan"), MNIST)
    g.eval()
    z = torch.randn(2, 100, generator=torch.Generator().manual_seed(1)).repeat(2, 1)
    y = torch.tensor([0, 0, 7, 7])
    x = g(z, y)
    assert float((x[0] - x[2]).abs().max()) > 1e-3
    assert torch.allclose(x[0], g(z[:1], y[:1])[0], atol=1e-6)  # eval BN: per-sample
    d.eval()
    same = x[:1].repeat(2, 1, 1, 1)
    logits = d(same, torch.tensor([0, 7]))
    assert float((logits[0] - logits[1]).abs()) > 1e-6


def test_d_dropout_and_pack_in_dcgan():
    g, d = build_models(_cfg("dcgan", d_dropout=0.3, pack=4), MNIST)
    drops = [m for m in d.modules() if isinstance(m, SeededDropout)]
    assert len(drops) == 2 and all(m.p == 0.3 for m in drops)
    assert d.net[0].in_channels == 4
    x = torch.zeros(8, 1, 28, 28)
    assert d(x).shape == (2,)


def _image_data(info: DataInfo, n: int = 64, seed: int = 0) -> Dataset:
    gen = torch.Generator().manual_seed(seed)
    x = torch.randint(0, 256, (n, *info.shape), generator=gen, dtype=torch.uint8)
    y = torch.arange(n) % max(info.num_classes, 1)
    return Dataset(x, info, y)


@pytest.mark.parametrize("loss", list(LOSSES))
@pytest.mark.parametrize("model", IMAGE_MODELS)
def test_every_loss_with_every_model_and_the_stabilisers(model, loss):
    has_targets = LOSSES.get(loss).has_targets
    cfg = _cfg(model, loss=loss, batch_size=8, label_smoothing=0.1 if has_targets else 0.0,
               d_dropout=0.2, d_l2=1e-3, ema=0.9, pack=2, eval_every=0)
    tr = Trainer(cfg, dataset=_image_data(MNIST))
    before = [p.detach().clone() for p in tr.G.parameters()]
    ema_before = [p.detach().clone() for p in tr.G_ema.parameters()]
    for _ in range(2):
        out = tr.step()
        assert math.isfinite(out["d_loss"]) and math.isfinite(out["g_loss"])
    assert any(not torch.equal(a, p) for a, p in zip(before, tr.G.parameters()))
    assert any(not torch.equal(a, p) for a, p in zip(ema_before, tr.G_ema.parameters()))
    if loss == "wgan":
        assert max(float(p.detach().abs().max()) for p in tr.D.parameters()) <= cfg.clip_value + 1e-7


def test_conditional_trainer_passes_the_same_label_to_g_and_d():
    cfg = _cfg("cdcgan", batch_size=6, eval_every=0)
    tr = Trainer(cfg, dataset=_image_data(MNIST))
    seen = {}

    def g_hook(module, args):
        seen.setdefault("g", []).append(args[1].clone())

    def d_hook(module, args):
        seen.setdefault("d", []).append(args[1].clone())

    tr.G.register_forward_pre_hook(g_hook)
    tr.D.register_forward_pre_hook(d_hook)
    tr.step()
    # BN in D: real and fake are scored in separate passes (real, fake), then G's pass on the fakes.
    assert len(seen["g"]) == 1 and len(seen["d"]) == 3
    assert torch.equal(seen["d"][1], seen["g"][0]) and torch.equal(seen["d"][2], seen["g"][0])


def test_image_models_are_registered_with_help():
    for name in IMAGE_MODELS:
        assert name in MODELS and MODELS.help(name)
