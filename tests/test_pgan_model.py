"""The progressive-GAN building blocks, generator and discriminator (ganlab.models.pgan)."""
from __future__ import annotations

import json
import math

import pytest
import torch
import torch.nn.functional as F

from ganlab.errors import ConfigError
from ganlab.models.pgan import (
    Discriminator,
    EqualizedConv2d,
    EqualizedLinear,
    Generator,
    PGANConfig,
    minibatch_stddev,
    pixel_norm,
    upscale2d,
)

SMALL = PGANConfig(latent_dim=8, depth_scale0=8, depth_other_scales=(6, 4), channels=3)


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_equalized_linear_scales_output_and_bias_by_he_constant():
    layer = EqualizedLinear(3, 2)
    with torch.no_grad():
        layer.weight.fill_(1.0)
        layer.bias.copy_(torch.tensor([1.0, 2.0]))
    out = layer(torch.tensor([[1.0, 2.0, 3.0]]))
    he = math.sqrt(2.0 / 3.0)
    torch.testing.assert_close(out, torch.tensor([[7.0 * he, 8.0 * he]]))


def test_equalized_conv_fan_in_counts_kernel_and_unequalized_is_plain():
    layer = EqualizedConv2d(2, 1, 3, padding=1)
    assert layer.scale == pytest.approx(math.sqrt(2.0 / 18.0))
    with torch.no_grad():
        layer.weight.zero_()
        layer.weight[0, :, 1, 1] = torch.tensor([1.0, -1.0])  # centre tap: x0 - x1
        layer.bias.fill_(0.5)
    x = torch.tensor([[[[3.0]], [[1.0]]]])  # (1, 2, 1, 1)
    assert layer(x).item() == pytest.approx((2.0 + 0.5) / 3.0)  # sqrt(2/18) = 1/3
    plain = EqualizedConv2d(2, 1, 1, equalized=False)
    with torch.no_grad():
        plain.weight.fill_(1.0)
        plain.bias.zero_()
    assert plain(x).item() == pytest.approx(4.0)


def test_pixel_norm_and_upscale_hand_values():
    x = torch.tensor([[[[3.0]], [[4.0]]]])  # mean square over channels = 12.5
    torch.testing.assert_close(pixel_norm(x), x / math.sqrt(12.5 + 1e-8))
    y = upscale2d(torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]]))
    expected = torch.tensor([[[[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]]]], dtype=torch.float32)
    assert torch.equal(y, expected)


def test_minibatch_stddev_groups_of_four_hand_values():
    # two groups of 4 consecutive samples, one feature each
    x = torch.tensor([0.0, 2.0, 4.0, 6.0, 1.0, 1.0, 1.0, 1.0]).view(8, 1, 1, 1)
    out = minibatch_stddev(x)
    assert out.shape == (8, 2, 1, 1)
    assert torch.equal(out[:, 0], x[:, 0])
    std_a = math.sqrt(20.0 / 3.0 + 1e-8)  # unbiased variance of 0, 2, 4, 6
    std_b = math.sqrt(1e-8)
    torch.testing.assert_close(out[:, 1, 0, 0], torch.tensor([std_a] * 4 + [std_b] * 4))


def test_minibatch_stddev_odd_batch_uses_whole_batch_and_single_sample_gets_zero():
    x = torch.tensor([0.0, 3.0, 6.0, 0.0, 3.0, 6.0]).view(6, 1, 1, 1)  # 6 % 4 != 0 -> one group
    out = minibatch_stddev(x)[:, 1, 0, 0]
    torch.testing.assert_close(out, torch.full((6,), math.sqrt(7.2 + 1e-8)))  # unbiased var 36 / 5
    assert torch.equal(minibatch_stddev(torch.ones(1, 2, 4, 4))[:, 2], torch.zeros(1, 4, 4))


def test_config_json_round_trip_and_validation():
    cfg = PGANConfig(latent_dim=16, depth_scale0=32, depth_other_scales=[16, 8], channels=1,
                     output="tanh", alpha=0.25, leaky=0.1)
    assert cfg.depth_other_scales == (16, 8) and cfg.resolution == 16
    again = PGANConfig.from_dict(json.loads(json.dumps(cfg.to_dict())))
    assert again == cfg
    with pytest.raises(ConfigError, match="unknown output 'sigmoid'; use one of linear, tanh"):
        PGANConfig(output="sigmoid")
    with pytest.raises(ConfigError, match=r"depth_other_scales\[1\] must be a positive integer"):
        PGANConfig(depth_other_scales=(8, 0))
    with pytest.raises(ConfigError, match="alpha must be a number in"):
        PGANConfig(alpha=1.5)
    with pytest.raises(ConfigError, match="unknown PGAN config key.*latent.*valid keys: latent_dim"):
        PGANConfig.from_dict({"latent": 3})


def test_generator_shapes_growth_and_config():
    g = Generator(SMALL, _gen())
    assert g.resolution == 16 and g.num_scales == 3
    assert g(torch.randn(5, 8, generator=_gen(1))).shape == (5, 3, 16, 16)
    old = {k: v.clone() for k, v in g.state_dict().items()}
    g.add_scale(2, _gen(2))
    assert g.resolution == 32 and g(torch.randn(2, 8)).shape == (2, 3, 32, 32)
    assert g.config == PGANConfig(latent_dim=8, depth_scale0=8, depth_other_scales=(6, 4, 2), channels=3)
    new = g.state_dict()
    assert all(torch.equal(new[k], v) for k, v in old.items())  # growing keeps trained layers
    assert set(new) - set(old) == {"blocks.2.conv1.weight", "blocks.2.conv1.bias", "blocks.2.conv2.weight",
                                   "blocks.2.conv2.bias", "to_rgb.3.weight", "to_rgb.3.bias"}
    g.double().add_scale(2)
    assert g.to_rgb[-1].weight.dtype == torch.float64


def test_generator_init_is_seeded():
    a, b, c = Generator(SMALL, _gen(5)), Generator(SMALL, _gen(5)), Generator(SMALL, _gen(6))
    sa, sb, sc = a.state_dict(), b.state_dict(), c.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert not torch.equal(sa["conv0.weight"], sc["conv0.weight"])
    assert torch.count_nonzero(sa["conv0.bias"]) == 0  # biases start at zero, as in the zoo


def test_generator_alpha_blends_linearly_with_the_upsampled_previous_scale():
    g = Generator(SMALL, _gen(3))
    with torch.no_grad():  # non-zero biases so the check also covers them
        for p in g.parameters():
            if p.dim() == 1:
                p.normal_(0.0, 0.5, generator=_gen(4))
    z = torch.randn(3, 8, generator=_gen(7))
    outs = {}
    for a in (0.0, 0.3, 1.0):
        g.alpha = a
        outs[a] = g(z).detach()
    torch.testing.assert_close(outs[0.3], 0.3 * outs[1.0] + 0.7 * outs[0.0], atol=1e-5, rtol=1e-5)
    # alpha = 1 is the previous-scale network's output, nearest-upsampled
    small = Generator(PGANConfig(latent_dim=8, depth_scale0=8, depth_other_scales=(6,), channels=3))
    small.load_state_dict({k: v for k, v in g.state_dict().items() if k in small.state_dict()})
    torch.testing.assert_close(outs[1.0], upscale2d(small(z).detach()), atol=1e-6, rtol=1e-6)
    assert not torch.allclose(outs[0.0], outs[1.0], atol=1e-3)
    with pytest.raises(ConfigError, match="alpha must be a number in"):
        g.alpha = -0.1


def test_generator_tanh_output_and_gradients_reach_every_parameter():
    g = Generator(PGANConfig(latent_dim=4, depth_scale0=4, depth_other_scales=(4,), channels=1,
                             output="tanh", alpha=0.5), _gen())
    out = g(torch.randn(2, 4, generator=_gen(1)) * 50)
    assert out.abs().max() <= 1.0
    out.square().sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in g.parameters())


def test_discriminator_shapes_minibatch_channel_and_wrong_input():
    d = Discriminator(SMALL, decision_dim=2, generator=_gen())
    assert d.conv0.weight.shape == (8, 9, 3, 3)  # + minibatch-std channel
    assert d(torch.randn(4, 3, 16, 16, generator=_gen(1))).shape == (4, 2)
    no_std = Discriminator(PGANConfig(depth_scale0=8, minibatch_std=False))
    assert no_std.conv0.weight.shape == (8, 8, 3, 3) and no_std(torch.randn(2, 3, 4, 4)).shape == (2, 1)
    with pytest.raises(ConfigError, match=r"expects images of shape \(N, 3, 16, 16\), got \(2, 3, 8, 8\)"):
        d(torch.randn(2, 3, 8, 8))
    d.add_scale(4)
    assert d.resolution == 32 and d(torch.randn(4, 3, 32, 32)).shape == (4, 2)


def test_discriminator_alpha_one_sees_the_average_pooled_image():
    d = Discriminator(SMALL, generator=_gen(2))
    d.alpha = 1.0
    small = Discriminator(PGANConfig(latent_dim=8, depth_scale0=8, depth_other_scales=(6,), channels=3))
    state = d.state_dict()
    # the smaller D's newest fromRGB is the big D's second newest
    small.load_state_dict({k: state[k] for k in small.state_dict()})
    x = torch.randn(4, 3, 16, 16, generator=_gen(3))
    torch.testing.assert_close(d(x), small(F.avg_pool2d(x, 2)), atol=1e-5, rtol=1e-5)
    d.alpha = 0.0
    assert not torch.allclose(d(x), small(F.avg_pool2d(x, 2)), atol=1e-4)
