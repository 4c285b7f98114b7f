"""Loss values on a hand-computed case: real logits (0, 2), fake logits (-1, 1)."""
import math

import pytest
import torch
from torch import nn

from ganlab.errors import ConfigError
from ganlab.losses import LOSSES, build_loss
from ganlab.objective import adaptive_l2_scale, gradient_penalty, l2_penalty, r1_penalty

R = torch.tensor([0.0, 2.0])
F = torch.tensor([-1.0, 1.0])


def sp(x: float) -> float:
    return math.log1p(math.exp(x))


# mean softplus(-real), mean softplus(fake), ... written out by hand
SP_NEG_R = (sp(0) + sp(-2)) / 2      # 0.410038
SP_F = (sp(-1) + sp(1)) / 2          # 0.813262
CASES = {
    # name: (D loss, G loss)
    "ns": (SP_NEG_R + SP_F, (sp(1) + sp(-1)) / 2),
    "minimax": (SP_NEG_R + SP_F, -SP_F),
    "lsgan": (0.5 * (1 + 1) / 2 + 0.5 * (1 + 1) / 2, 0.5 * (4 + 0) / 2),
    "wgan": (0.0 - 1.0, -0.0),
    "wgan-gp": (0.0 - 1.0, -0.0),
    "hinge": ((1 + 0) / 2 + (0 + 2) / 2, -0.0),
    # mean r = 1, mean f = 0: r~ = (0, 2), f~ = (-2, 0)
    "ragan": (SP_NEG_R + (sp(-2) + sp(0)) / 2, (sp(2) + sp(0)) / 2 + (sp(0) + sp(2)) / 2),
    "ralsgan": ((1 + 1) / 2 + (1 + 1) / 2, (9 + 1) / 2 + (1 + 9) / 2),
    "rahinge": ((1 + 0) / 2 + (0 + 1) / 2, (3 + 1) / 2 + (1 + 3) / 2),
}


def test_every_registered_loss_has_a_hand_case():
    assert sorted(CASES) == sorted(LOSSES.names())


@pytest.mark.parametrize("name", sorted(CASES))
def test_loss_values(name):
    loss = build_loss(name)
    d_exp, g_exp = CASES[name]
    assert loss.d(R, F, 0.0).item() == pytest.approx(d_exp, abs=1e-6)
    assert loss.g(R, F).item() == pytest.approx(g_exp, abs=1e-6)


def test_ns_d_loss_value_is_the_number_worked_out_on_paper():
    assert build_loss("ns").d(R, F, 0.0).item() == pytest.approx(1.223300, abs=1e-6)


def test_label_smoothing_moves_only_the_real_target():
    # real target 0.9: 0.9 softplus(-r) + 0.1 softplus(r)
    real = ((0.9 * sp(0) + 0.1 * sp(0)) + (0.9 * sp(-2) + 0.1 * sp(2))) / 2
    assert build_loss("ns").d(R, F, 0.1).item() == pytest.approx(real + SP_F, abs=1e-6)
    # lsgan: 0.5 mean (r - 0.9)^2 + 0.5 mean f^2
    ls = 0.5 * ((0.9 ** 2 + 1.1 ** 2) / 2) + 0.5
    assert build_loss("lsgan").d(R, F, 0.1).item() == pytest.approx(ls, abs=1e-6)


def test_losses_are_differentiable_and_push_the_right_way():
    # D's loss falls when real logits rise; G's loss falls when fake logits rise.
    for name in LOSSES:
        loss = build_loss(name)
        r, f = R.clone().requires_grad_(), F.clone().requires_grad_()
        loss.d(r, f, 0.0).backward()
        assert r.grad.sum() <= 0, name
        r, f = R.clone().requires_grad_(), F.clone().requires_grad_()
        loss.g(r, f).backward()
        assert f.grad.sum() < 0, name


def test_unknown_loss_lists_valid_names():
    with pytest.raises(ConfigError) as e:
        build_loss("wgangp")
    msg = str(e.value)
    assert "unknown loss 'wgangp'" in msg and "wgan-gp" in msg and "hinge" in msg
    assert "did you mean 'wgan-gp'" in msg


def test_gradient_penalty_of_a_linear_critic_is_exact():
    d = nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        d.weight.copy_(torch.tensor([[1.2, 1.6]]))  # |w| = 2 -> (2 - 1)^2 = 1
    real, fake = torch.randn(8, 2), torch.randn(8, 2)
    gp = gradient_penalty(lambda x: d(x).squeeze(1), real, fake, torch.Generator().manual_seed(0))
    assert gp.item() == pytest.approx(1.0, abs=1e-6)
    with torch.no_grad():
        d.weight.copy_(torch.tensor([[0.6, 0.8]]))  # |w| = 1 -> 0
    gp = gradient_penalty(lambda x: d(x).squeeze(1), real, fake, torch.Generator().manual_seed(0))
    assert gp.item() == pytest.approx(0.0, abs=1e-6)


def test_r1_penalty_hand_values_and_double_backward():
    # D(x) = sum(x^2): grad 2x, so R1 = mean ||2x||^2 = 4 * mean ||x||^2.
    real = torch.tensor([[1.0, 2.0], [0.0, -3.0]], requires_grad=True)
    pen = r1_penalty(real.square().sum(1), real)
    assert pen.item() == pytest.approx(4 * (5 + 9) / 2)
    # The penalty is differentiable: d/dx of 2 * (||x1||^2 + ||x2||^2) = 4x.
    (grad,) = torch.autograd.grad(pen, real)
    assert torch.allclose(grad, 4 * real.detach())
    # A linear D has the same gradient everywhere: R1 = |w|^2 = 4.
    d = nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        d.weight.copy_(torch.tensor([[1.2, 1.6]]))
    x = torch.randn(5, 2, requires_grad=True)
    assert r1_penalty(d(x).squeeze(1), x).item() == pytest.approx(4.0, abs=1e-6)


def test_l2_penalty_counts_weights_not_biases():
    m = nn.Linear(2, 1)
    with torch.no_grad():
        m.weight.copy_(torch.tensor([[3.0, 4.0]]))
        m.bias.fill_(100.0)
    assert l2_penalty(m).item() == pytest.approx(25.0)


def test_adaptive_l2_scale():
    # accuracy = (1 + 0.5) / 2 = 0.75 -> 2 * 0.75 - 1 = 0.5
    assert adaptive_l2_scale(torch.tensor([1.0, 1.0]), torch.tensor([-1.0, 1.0])).item() == pytest.approx(0.5)
    # D at or below chance -> 0
    assert adaptive_l2_scale(torch.tensor([-1.0, 1.0]), torch.tensor([1.0, -1.0])).item() == 0.0


def test_mismatch_share_splits_the_fake_term_and_keeps_the_real_term_whole():
    """ns: D loss = softplus(-r) + softplus(f); with a wrong-label share w the fake term is
    (1 - w) softplus(f) + w softplus(m), worked out here for one logit of each."""
    from ganlab.config import Config
    from ganlab.objective import Objective

    r, f, m = torch.tensor([0.5]), torch.tensor([-1.0]), torch.tensor([2.0])
    sp = lambda v: math.log1p(math.exp(v))  # noqa: E731
    obj = Objective(Config(loss="ns", d_mismatch=0.25))
    want = sp(-0.5) + 0.75 * sp(-1.0) + 0.25 * sp(2.0)
    assert float(obj.d_loss(r, f, mismatch=m)) == pytest.approx(want, rel=1e-6)
    # Without mismatch logits (or with the share at 0) the loss is the plain pair.
    assert float(obj.d_loss(r, f)) == pytest.approx(sp(-0.5) + sp(-1.0), rel=1e-6)
    off = Objective(Config(loss="ns"))
    assert not off.uses_mismatch and obj.uses_mismatch
    assert float(off.d_loss(r, f, mismatch=m)) == pytest.approx(sp(-0.5) + sp(-1.0), rel=1e-6)
