"""Trainer: reproducibility, live changes, snapshots, the divergence guard, regularisers."""
import pytest
import torch

from ganlab.config import Config
from ganlab.data import DataOptions, build_dataset
from ganlab.errors import ConfigError, DivergenceError
from ganlab.objective import r1_penalty
from ganlab.train import Trainer, resolve_device

FAST = dict(data_size=4000, g_layers=2, g_width=32, d_layers=2, d_width=32, batch_size=64,
            eval_every=0, log_every=5, n_fixed=50)


def make(**kw) -> Trainer:
    return Trainer(Config(**{**FAST, **kw}))


def params(t: Trainer) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in [*t.G.parameters(), *t.D.parameters()]])


def test_same_seed_same_numbers_different_seed_different():
    a, b, c = make(seed=3), make(seed=3), make(seed=4)
    la = [a.step() for _ in range(10)]
    lb = [b.step() for _ in range(10)]
    lc = [c.step() for _ in range(10)]
    assert la == lb and torch.equal(params(a), params(b))
    assert la != lc


@pytest.mark.parametrize("loss", ["ns", "minimax", "lsgan", "wgan", "wgan-gp", "hinge", "ragan",
                                  "ralsgan", "rahinge"])
def test_every_loss_trains_reproducibly(loss):
    a, b = make(loss=loss, d_dropout=0.2, ema=0.9), make(loss=loss, d_dropout=0.2, ema=0.9)
    for _ in range(5):
        assert a.step() == b.step()
    assert torch.equal(params(a), params(b))
    assert all(torch.isfinite(torch.tensor(list(a.last.values()))))


def test_history_rows_and_metrics():
    t = make(eval_every=10, eval_samples=200)
    t.run(20)
    assert [r["step"] for r in t.history] == [5, 10, 15, 20]
    assert "d_loss" in t.history[0] and "js" not in t.history[0]
    assert {"modes_captured", "hq_pct", "js", "kl"} <= set(t.history[1])
    assert t.step_count == 20


def test_run_respects_should_stop_and_reports_progress():
    t = make()
    seen = []
    t.run(1000, should_stop=lambda: t.step_count >= 7, on_progress=lambda tr, p: seen.append(p.step),
          progress_every=0.0)
    assert t.step_count == 7 and seen[-1] == 7


def test_single_network_steps():
    t = make()
    g0 = [p.clone() for p in t.G.parameters()]
    d0 = [p.clone() for p in t.D.parameters()]
    t.step(g=False)
    assert all(torch.equal(a, b) for a, b in zip(g0, t.G.parameters()))
    assert not all(torch.equal(a, b) for a, b in zip(d0, t.D.parameters()))
    d1 = [p.clone() for p in t.D.parameters()]
    t.step(d=False)
    assert all(torch.equal(a, b) for a, b in zip(d1, t.D.parameters()))
    assert not all(torch.equal(a, b) for a, b in zip(g0, t.G.parameters()))


def test_live_update_changes_the_optimizer_on_the_next_step():
    t = make()
    t.step()
    t.update(d_lr=0.05, g_beta1=0.1, loss="hinge", d_steps=2)
    assert t.opt_d.param_groups[0]["lr"] == 0.05
    assert t.opt_g.param_groups[0]["betas"] == (0.1, 0.999)
    assert t.objective.loss.name == "hinge" and t.cfg.d_steps == 2
    t.update(g_opt="sgd", g_momentum=0.5)
    assert isinstance(t.opt_g, torch.optim.SGD) and t.opt_g.param_groups[0]["momentum"] == 0.5
    t.step()
    with pytest.raises(ConfigError, match="changing latent_dim needs a reset"):
        t.update(latent_dim=5)
    with pytest.raises(ConfigError, match="d_lr"):
        t.update(d_lr=-1.0)
    assert t.opt_d.param_groups[0]["lr"] == 0.05  # a rejected change changes nothing


def test_state_dict_round_trip_replays_exactly():
    t = make(ema=0.9)
    t.run(5)
    snap = t.state_dict()
    first = [t.step() for _ in range(5)]
    p_first = params(t)
    t.load_state_dict(snap)
    assert t.step_count == 5
    again = [t.step() for _ in range(5)]
    assert first == again and torch.equal(p_first, params(t))


def test_divergence_guard_keeps_the_last_good_state():
    t = make()
    t.run(3)
    good = params(t)
    with torch.no_grad():
        next(t.D.parameters()).fill_(float("inf"))  # D now produces non-finite logits
    bad_d = params(t)
    with pytest.raises(DivergenceError) as e:
        t.step()
    # D's weights themselves are broken: a lower learning rate cannot help, going back can.
    msg = str(e.value)
    assert "diverged by step 3" in msg and "D.net.0.weight holds inf" in msg
    assert "rewind to the last snapshot" in msg and "lower the learning rates" not in msg
    assert e.value.step == 3 and t.diverged
    assert torch.equal(params(t), bad_d)  # no optimizer step ran on the bad gradients
    assert t.step_count == 3
    # G was not touched by the failed iteration
    g_now = torch.cat([p.detach().flatten() for p in t.G.parameters()])
    g_good = good[: g_now.numel()]
    assert torch.equal(g_now, g_good)


def test_huge_learning_rate_is_caught_not_propagated():
    t = make(loss="lsgan", d_lr=9.0, g_lr=9.0, d_opt="sgd", g_opt="sgd")
    with pytest.raises(DivergenceError) as e:
        for _ in range(500):
            t.step()
    # The weights are still sound, so the advice is the learning rate, not a rewind.
    assert "lower the learning rates (d_lr=9, g_lr=9)" in str(e.value) and "rewind" not in str(e.value)
    assert all(torch.isfinite(p).all() for p in [*t.G.parameters(), *t.D.parameters()])


def test_weight_clipping_bounds_every_d_weight():
    t = make(loss="wgan", clip_value=0.01, d_opt="rmsprop", d_lr=5e-3)
    t.run(3)
    assert max(p.abs().max().item() for p in t.D.parameters()) <= 0.01 + 1e-7


def test_l2_penalty_shrinks_d():
    plain, reg = make(), make(d_l2=1.0)
    plain.run(20)
    reg.run(20)
    norm = lambda t: sum(p.square().sum().item() for n, p in t.D.named_parameters() if p.dim() > 1)
    assert norm(reg) < 0.9 * norm(plain)
    adaptive = make(d_l2=1.0, d_l2_adaptive=True)
    adaptive.run(20)
    assert norm(reg) < norm(adaptive) <= norm(plain) * 1.05


def test_lazy_r1_runs_every_n_iterations_weighted_up(monkeypatch):
    import ganlab.objective as trainer_module
    seen = []

    def spy(logits, real):
        pen = r1_penalty(logits, real)
        seen.append(pen.item())
        return pen

    monkeypatch.setattr(trainer_module, "r1_penalty", spy)
    plain, lazy = make(), make(d_r1=0.5, d_r1_every=3)
    d_plain = [plain.step()["d_loss"] for _ in range(7)]
    d_lazy = [lazy.step()["d_loss"] for _ in range(1)]
    # Step 0 is identical up to the penalty, which is weighted d_r1 * every / 2.
    assert len(seen) == 1
    assert d_lazy[0] - d_plain[0] == pytest.approx(0.5 * 3 / 2 * seen[0], rel=1e-4)
    lazy.run(6)
    assert len(seen) == 3  # iterations 0, 3 and 6
    assert not torch.equal(params(plain), params(lazy))


def test_r1_smooths_d_around_real_points():
    def grad_norm(t: Trainer) -> float:
        x = t.data.x[:512].clone().requires_grad_(True)
        (g,) = torch.autograd.grad(t.D(x).sum(), x)
        return g.norm(dim=1).mean().item()

    plain, reg = make(), make(d_r1=10.0)
    plain.run(30)
    reg.run(30)
    assert grad_norm(reg) < 0.5 * grad_norm(plain)


def test_r1_settings_are_checked():
    with pytest.raises(ConfigError, match="d_r1 = -1.0 is out of range"):
        Config(d_r1=-1.0).validate()
    with pytest.raises(ConfigError, match="d_r1_every"):
        Config(d_r1_every=0).validate()


def test_ema_tracks_g():
    t = make(ema=0.5)
    t.run(10)
    ema = torch.cat([p.flatten() for p in t.G_ema.parameters()])
    g = torch.cat([p.detach().flatten() for p in t.G.parameters()])
    assert not torch.equal(ema, g) and (ema - g).abs().max() < 0.2


def test_packing_and_conditional_models():
    t = make(pack=4)
    t.run(2)
    assert t.D(torch.zeros(8, 2)).shape == (2,)
    c = make(model="cgan", data="ring8")
    c.run(2)
    x, y = c.sample(16, seed=0)
    assert x.shape == (16, 2) and y.tolist() == [i % 8 for i in range(16)]
    with pytest.raises(ConfigError, match="needs a labelled data set"):
        make(model="cgan", data="gaussian2d")


def test_sample_and_fixed_samples():
    t = make(latent_dist="uniform")
    x1, _ = t.sample(100, seed=1)
    x2, _ = t.sample(100, seed=1)
    assert x1.shape == (100, 2) and torch.equal(x1, x2)
    assert t.fixed_z.shape == (50, 2) and t.fixed_z.abs().max() <= 1
    assert t.fixed_samples().shape == (50, 2)


def test_custom_dataset_and_devices(tmp_path):
    ds = build_dataset(DataOptions("moons", size=500))
    t = Trainer(Config(**{**FAST, "data": "moons"}), dataset=ds)
    assert len(t.data) == 500
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type in ("cpu", "cuda", "mps")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="no CUDA GPU is visible"):
            resolve_device("cuda")


def test_points_are_standardised_inside_the_models():
    t = make(data="grid25")
    info = t.info
    # grid25: centre 0, RMS per axis sqrt(mean({16, 4, 0, 4, 16})) = sqrt(8)
    assert info.scale == pytest.approx(8 ** 0.5, rel=0.02)
    assert info.center.abs().max() < 0.05
    assert torch.equal(t.G.center, info.center) and t.G.scale.item() == pytest.approx(info.scale)
    # G's raw output u lands at u * scale + center; D undoes it
    with torch.no_grad():
        u = t.G.net(torch.zeros(1, 2))
        assert torch.allclose(t.G(torch.zeros(1, 2)), u * info.scale + info.center)
        x = torch.tensor([[4.0, -2.0]])
        raw = t.D.net((x - info.center) / info.scale).squeeze(1)
        assert torch.allclose(t.D(x), raw)
    assert "center" in dict(t.G.named_buffers()) and "center" not in dict(t.G.named_parameters())


@pytest.mark.parametrize("schedule,mid,end", [("linear", 1 - 0.99 * 0.5, 0.01),
                                              ("cosine", 0.01 + 0.99 * 0.5, 0.01)])
def test_lr_schedules(schedule, mid, end):
    t = make(lr_schedule=schedule, steps=10, d_lr=0.1, g_lr=0.2)
    t.run(5)
    t.step()  # the schedule is applied at the start of a step, for step_count = 5
    assert t.opt_d.param_groups[0]["lr"] == pytest.approx(0.1 * mid)
    assert t.opt_g.param_groups[0]["lr"] == pytest.approx(0.2 * mid)
    t.run(20)
    assert t.opt_d.param_groups[0]["lr"] == pytest.approx(0.1 * end)


def test_minibatch_std_feature_hand_values_and_finite_gradient():
    from ganlab.models.mlp import minibatch_std
    # Two groups of two rows: per-feature population std, then the mean over features.
    h = torch.tensor([[0.0, 1.0], [2.0, 1.0], [1.0, 5.0], [1.0, 1.0]], requires_grad=True)
    out = minibatch_std(h, 2)
    expected = torch.tensor([(1.0 + 0.0) / 2, (1.0 + 0.0) / 2, (0.0 + 2.0) / 2, (0.0 + 2.0) / 2])
    assert out.shape == (4, 1)
    assert torch.allclose(out.squeeze(1), expected, atol=1e-4)
    # A feature constant in its group (a dead ReLU) still gives finite gradients,
    # also through a second backward pass (R1).
    (g,) = torch.autograd.grad(out.sum(), h, create_graph=True)
    (gg,) = torch.autograd.grad(g.square().sum(), h)
    assert torch.isfinite(g).all() and torch.isfinite(gg).all()
    # A batch that is not a multiple of the group is one group.
    assert torch.allclose(minibatch_std(h[:3].detach(), 2), minibatch_std(h[:3].detach(), 3))


def test_wrong_label_share_draws_other_classes_and_is_ignored_without_classes():
    # An unconditional model has no label to get wrong: the share changes nothing.
    a, b = make(d_mismatch=0.5), make()
    a.run(3)
    b.run(3)
    assert torch.equal(params(a), params(b))
    c = make(model="cgan", data="ring8", d_mismatch=0.5)
    y = torch.arange(8).repeat(500)
    wrong = c._wrong_labels(y)
    assert bool((wrong != y).all())
    # Every other class is drawn, about equally (7 choices, 500 draws each): 4000 / 7 per class.
    counts = torch.bincount(wrong[y == 3], minlength=8)
    assert counts[3] == 0 and bool((counts[torch.arange(8) != 3] > 40).all())
    c.run(3)
    assert c.step_count == 3 and torch.isfinite(torch.tensor(c.last["d_loss"]))
    # The wrong labels enter D's loss: the same seed without them trains differently.
    plain = make(model="cgan", data="ring8")
    plain.run(3)
    assert not torch.equal(params(plain), params(c))


def test_wrong_label_share_with_a_batchnorm_discriminator():
    """cdcgan's D has batch norm, so its real, fake and wrong-label batches go through D
    separately: the step must run there too (it takes the other branch of d_step)."""
    c = Trainer(Config(data="mnist", model="cdcgan", g_width=8, d_width=8, latent_dim=8, batch_size=16,
                       d_mismatch=0.5, eval_every=0, n_fixed=10))
    assert not c._joint_d
    c.run(2)
    assert c.step_count == 2 and torch.isfinite(torch.tensor(c.last["d_loss"]))
