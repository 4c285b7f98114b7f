"""Side-by-side training: each batched run gives the numbers Trainer gives it alone."""
import math

import pytest
import torch

from ganlab.config import Config
from ganlab.data.base import DataInfo, Dataset
from ganlab.errors import ConfigError, DivergenceError
from ganlab.lab_presets import lab_configs, parse_values
from ganlab.train.side_by_side import LoopTrainer, MultiTrainer, batch_blockers, side_by_side
from ganlab.train import Trainer

FAST = dict(data="gaussian2d", data_size=4000, g_layers=2, g_width=32, d_layers=2, d_width=32,
            batch_size=64, eval_every=6, eval_samples=300, log_every=3, n_fixed=50)


def configs(*variants: dict) -> list[Config]:
    return [Config(**{**FAST, **v}) for v in variants]


def flat(m: torch.nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in m.parameters()])


def train_both(cfgs: list[Config], steps: int) -> tuple[MultiTrainer, list[Trainer]]:
    multi = MultiTrainer(cfgs)
    alone = [Trainer(c) for c in cfgs]
    for _ in range(steps):
        multi.step()
        for t in alone:
            t.step()
    return multi, alone


def assert_rows_match(multi_rows: list[dict], rows: list[dict], rel: float) -> None:
    """Every key Trainer records is in the batched row with the same value (two-sided)."""
    assert [r["step"] for r in multi_rows] == [r["step"] for r in rows]
    for mine, theirs in zip(multi_rows, rows):
        for key, value in theirs.items():
            if key != "time":
                assert mine[key] == pytest.approx(value, rel=rel, abs=rel), key


def test_runs_differing_in_latent_dim_match_trainer_exactly():
    cfgs = configs({"latent_dim": 1}, {"latent_dim": 3}, {"latent_dim": 8, "latent_dist": "uniform"})
    multi, alone = train_both(cfgs, 12)
    assert multi.batched and multi.step_count == 12 and multi.run_steps == [12, 12, 12]
    for i, t in enumerate(alone):
        g, d = multi.models(i)
        torch.testing.assert_close(flat(g), flat(t.G), rtol=0, atol=1e-6)
        torch.testing.assert_close(flat(d), flat(t.D), rtol=0, atol=1e-6)
        assert multi.last[i] == pytest.approx(t.last, rel=1e-6)
        assert_rows_match(multi.histories[i], t.history, 1e-6)
        torch.testing.assert_close(multi.fixed_samples()[i], t.fixed_samples().cpu(), rtol=0, atol=1e-5)
        torch.testing.assert_close(multi.runs[i].sample(100, seed=5)[0], t.sample(100, seed=5)[0],
                                   rtol=0, atol=1e-5)
    # the lab's extra measures ride along in the metric rows
    assert {"eig1", "eig2", "local_dim", "w2"} <= set(multi.histories[0][-1])


def test_padded_latent_columns_stay_exactly_zero():
    multi, _ = train_both(configs({"latent_dim": 1}, {"latent_dim": 5}), 4)
    w = multi.G.weights[0]  # (k, width, L_max = 5)
    assert w.shape[2] == 5
    assert torch.count_nonzero(w[0, :, 1:]) == 0
    assert torch.count_nonzero(w[0, :, :1]) == w.shape[1]
    assert multi.opt_g.state["m"][0].abs().sum() > 0  # run 0 did train


def test_every_loss_and_schedule_trains_as_alone():
    # Mixed losses, D/G step counts, regularisers, dropout and EMA in one batch.
    # Losses that leave a direction of D free (WGAN's and the relativistic losses
    # ignore D's output bias) let Adam turn rounding noise into drift along it,
    # so D is compared through what it computes (losses), G through its samples.
    cfgs = configs(
        {"loss": "wgan-gp", "d_steps": 3, "d_dropout": 0.2},
        {"loss": "ragan", "g_steps": 2, "d_dropout": 0.2},
        {"loss": "wgan", "d_lr": 5e-4, "d_dropout": 0.2, "lr_schedule": "cosine", "steps": 10},
        {"loss": "hinge", "d_l2": 0.01, "d_l2_adaptive": True, "ema": 0.9, "d_dropout": 0.2},
        {"loss": "lsgan", "label_smoothing": 0.1, "latent_dim": 4, "d_dropout": 0.2,
         "lr_schedule": "linear", "steps": 10},
    )
    multi, alone = train_both(cfgs, 8)
    for i, t in enumerate(alone):
        assert multi.last[i] == pytest.approx(t.last, rel=1e-3, abs=1e-4), cfgs[i].loss
        assert_rows_match(multi.histories[i], t.history, 1e-3)
        torch.testing.assert_close(multi.runs[i].sample(200, seed=1)[0], t.sample(200, seed=1)[0],
                                   rtol=0, atol=1e-4)
        torch.testing.assert_close(flat(multi.models(i)[0]), flat(t.G), rtol=0, atol=1e-5)
    torch.testing.assert_close(flat(multi.models(3, ema=True)[0]), flat(alone[3].G_ema), rtol=0, atol=1e-5)
    clipped = multi.models(2)[1]
    assert max(p.abs().max().item() for p in clipped.parameters()) <= cfgs[2].clip_value + 1e-7


@pytest.mark.parametrize("opt", ["sgd", "rmsprop"])
def test_sgd_and_rmsprop_with_per_run_hyperparameters(opt):
    cfgs = configs({"d_opt": opt, "g_opt": opt, "d_lr": 0.01, "d_momentum": 0.9, "g_lr": 0.02},
                   {"d_opt": opt, "g_opt": opt, "d_lr": 0.005, "g_momentum": 0.5, "d_beta2": 0.9})
    multi, alone = train_both(cfgs, 6)
    for i, t in enumerate(alone):
        g, d = multi.models(i)
        torch.testing.assert_close(flat(g), flat(t.G), rtol=0, atol=1e-5)
        torch.testing.assert_close(flat(d), flat(t.D), rtol=0, atol=1e-5)
        assert not torch.equal(flat(d), flat(Trainer(cfgs[i]).D))  # it did train


def test_one_diverging_run_stops_alone_and_the_others_go_on():
    multi = MultiTrainer(configs({}, {"latent_dim": 3}))
    multi.run(3)
    with torch.no_grad():
        multi.D.flat[1, 0] = float("inf")  # run 1's D now gives non-finite logits
    frozen = multi.D.flat[1].clone(), multi.G.flat[1].clone()
    multi.step()
    assert multi.diverged[0] is None
    assert "diverged at step 3" in multi.diverged[1] and "lower the learning rates" in multi.diverged[1]
    multi.step()
    assert multi.run_steps == [5, 3] and multi.step_count == 5
    assert torch.equal(multi.D.flat[1], frozen[0]) and torch.equal(multi.G.flat[1], frozen[1])
    assert all(r["step"] <= 3 for r in multi.histories[1])
    with torch.no_grad():
        multi.D.flat[0, 0] = float("nan")
    multi.step()
    with pytest.raises(DivergenceError, match="every run has diverged"):
        multi.step()


def test_settings_that_change_shapes_fall_back_to_separate_trainers():
    cfgs = configs({"pack": 1}, {"pack": 2}, {"pack": 2, "g_width": 16})
    assert batch_blockers(cfgs) == ["g_width differs between runs (16, 32)",
                                    "pack differs between runs (1, 2)"]
    with pytest.raises(ConfigError, match="pack differs between runs"):
        MultiTrainer(cfgs)
    loop = side_by_side(cfgs, labels=["a", "b", "c"])
    assert isinstance(loop, LoopTrainer) and not loop.batched
    alone = [Trainer(c) for c in cfgs]
    for _ in range(6):
        loop.step()
        for t in alone:
            t.step()
    for i, t in enumerate(alone):
        assert torch.equal(flat(loop.trainers[i].G), flat(t.G))
        assert_rows_match(loop.histories[i], t.history, 0.0)
    assert isinstance(side_by_side(configs({}, {"latent_dim": 7})), MultiTrainer)
    # a field the batched trainer does not implement (minibatch std in D) is not silently dropped
    mbstd = configs({"d_mbstd": 8}, {})
    assert batch_blockers(mbstd) == ["d_mbstd = 8 is not batched"]
    assert isinstance(side_by_side(mbstd), LoopTrainer)


def test_user_errors_name_the_fix():
    with pytest.raises(ConfigError, match="1 to 8 runs"):
        side_by_side(configs(*[{}] * 9))
    with pytest.raises(ConfigError, match="one label per run"):
        side_by_side(configs({}, {}), labels=["only one"])
    images = Dataset(torch.zeros(10, 1, 4, 4, dtype=torch.uint8),
                     DataInfo(name="tiny", kind="image", shape=(1, 4, 4)))
    with pytest.raises(ConfigError, match="MNIST studio"):
        MultiTrainer(configs({}), dataset=images)
    with pytest.raises(ConfigError, match="latent_dim = 0 is out of range"):
        side_by_side(configs({"latent_dim": 0}))


def test_lab_configs_vary_one_setting():
    base = Config(**FAST)
    cfgs, labels = lab_configs(base, "lr", parse_values("lr", "1e-3, 2e-4"))
    assert [(c.d_lr, c.g_lr) for c in cfgs] == [(1e-3, 1e-3), (2e-4, 2e-4)]
    assert labels == ["lr = 0.001", "lr = 0.0002"]
    assert [c.latent_dim for c in lab_configs(base, "latent_dim", parse_values("latent_dim", "1,100"))[0]] == [1, 100]
    assert all(c.diff(base).keys() == {"latent_dim"} for c in lab_configs(base, "latent_dim", [1, 100])[0])
    with pytest.raises(ConfigError, match="repeat"):
        lab_configs(base, "latent_dim", [2, 2])
    with pytest.raises(ConfigError, match="needs a whole number"):
        parse_values("latent_dim", "1, two")
    with pytest.raises(ConfigError, match="choose one of latent_dim"):
        parse_values("batch_size", "1")
    with pytest.raises(ConfigError, match="unknown loss 'nss'"):
        lab_configs(base, "loss", ["ns", "nss"])


def test_evaluate_adds_covariance_eigenvalues_and_local_dimension():
    multi = MultiTrainer(configs({"latent_dim": 1}, {"latent_dim": 2}))
    rows = multi.evaluate(n=400)
    fake = multi.runs[0].sample(400, seed=12345)[0]
    eig = torch.linalg.eigvalsh(torch.cov(fake.double().T)).tolist()
    assert [rows[0]["eig1"], rows[0]["eig2"]] == pytest.approx(eig, rel=1e-6)
    assert rows[0]["eig1"] <= rows[0]["eig2"] and math.isfinite(rows[1]["local_dim"])
    real = multi.real_eigs()
    assert real.shape == (2,) and real[0] <= real[1]
