"""ganlab.probe (what the live views show) and ui.render (exports without a browser)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from ganlab import probe
from ganlab.config import Config
from ui.render import BACKGROUND_RGB, FAKE_RGB, REAL_RGB, colormap, rasterise, to_chw
from ganlab.train import Trainer


def small(**kw) -> Config:
    base = dict(data="ring8", data_size=2000, g_width=16, d_width=16, g_layers=2, d_layers=2,
                batch_size=64, n_fixed=100, latent_dim=2, eval_every=0, seed=3)
    base.update(kw)
    return Config(**base)


def params(t: Trainer) -> list[torch.Tensor]:
    return [p.detach().clone() for p in (*t.G.parameters(), *t.D.parameters())]


@pytest.mark.parametrize("loss", ["ns", "ragan"])
def test_probing_does_not_change_the_run(loss: str) -> None:
    # Dropout draws from the run's generator: a probe that ran D in train mode, or
    # drew from trainer.gen, would make the probed run diverge from the other one.
    a, b = Trainer(small(loss=loss, d_dropout=0.3)), Trainer(small(loss=loss, d_dropout=0.3))
    for _ in range(3):
        a.step()
        b.step()
    fr = probe.frame(a, res=16)
    probe.manifold(a, res=5)
    probe.g_gradients(a, fr.fake)
    probe.d_scores(a, probe.real_points(a, 50))
    assert a.D.training and a.G.training
    assert all(p.requires_grad for p in a.D.parameters())
    for _ in range(3):
        a.step()
        b.step()
    for pa, pb in zip(params(a), params(b)):
        assert torch.equal(pa, pb)


def test_surface_grid_layout_and_values() -> None:
    t = Trainer(small())
    box = probe.view_box(t)
    s = probe.d_surface(t, box, res=9)
    assert s.shape == (9, 9) and s.dtype == np.float32
    assert ((s > 0) & (s < 1)).all()  # ns: sigmoid of the logit
    # Row 0 is y = ymin, column 0 is x = xmin; the last row is y = ymax.
    corners = np.array([[box[0, 0], box[1, 0]], [box[0, 1], box[1, 0]], [box[0, 0], box[1, 1]]])
    want = probe.d_scores(t, corners)
    np.testing.assert_allclose([s[0, 0], s[0, -1], s[-1, 0]], want, rtol=1e-5, atol=1e-6)


def test_surface_of_score_losses_is_raw_and_range_symmetric() -> None:
    t = Trainer(small(loss="wgan-gp"))
    s = probe.d_surface(t, res=8)
    with torch.no_grad():
        raw = t.D(torch.tensor([[float(probe.view_box(t)[0, 0]), float(probe.view_box(t)[1, 0])]])).item()
    assert s[0, 0] == pytest.approx(raw, rel=1e-5, abs=1e-6)
    lo, hi = probe.surface_range(s, probe.surface_kind("wgan-gp"))
    assert lo == -hi and hi > 0
    assert probe.surface_range(s, "probability") == (0.0, 1.0)


def test_surface_with_packed_discriminator() -> None:
    t = Trainer(small(pack=4))
    s = probe.d_surface(t, res=6)
    assert s.shape == (6, 6)
    pts = np.array([[0.1, 0.2], [-0.3, 0.4]], dtype=np.float32)
    with torch.no_grad():
        want = torch.sigmoid(t.D(torch.tensor(pts).repeat_interleave(4, 0))).numpy()
    np.testing.assert_allclose(probe.d_scores(t, pts), want, rtol=1e-5)


def test_3d_surface_is_the_middle_slice() -> None:
    t = Trainer(small(data="cube8"))
    box = probe.view_box(t)
    assert box.shape == (3, 2)
    s = probe.d_surface(t, box, res=5)
    mid = np.array([[box[0, 0], box[1, 0], box[2].mean()]], dtype=np.float32)
    assert s[0, 0] == pytest.approx(float(probe.d_scores(t, mid)[0]), rel=1e-5)


def test_fake_points_are_the_fixed_noise_batch() -> None:
    t = Trainer(small())
    f1 = probe.fake_points(t)
    assert f1.shape == (100, 2)
    np.testing.assert_array_equal(f1, probe.fake_points(t))
    t.step()
    assert not np.array_equal(f1, probe.fake_points(t))
    fr = probe.frame(t, res=4)
    assert fr.step == 1 and fr.surface.shape == (4, 4)
    np.testing.assert_array_equal(fr.fake, probe.fake_points(t))


def test_gradient_arrows_point_downhill_for_g() -> None:
    t = Trainer(small())
    for _ in range(5):
        t.step()
    x = probe.fake_points(t)
    g = probe.g_gradients(t, x)
    assert g.shape == x.shape and np.abs(g).sum() > 0

    def g_loss(pts: np.ndarray) -> float:
        with torch.no_grad():
            t.D.eval()
            f = t.D(torch.tensor(pts))
            t.D.train()
            return float(t.objective.g_loss(f, f))

    step = 1e-3 / (np.abs(g).max() + 1e-12)
    assert g_loss(x + step * g) < g_loss(x) < g_loss(x - step * g)
    # Per point: the gradient of one point does not depend on the batch size.
    np.testing.assert_allclose(probe.g_gradients(t, x[:10]), g[:10], rtol=1e-4, atol=1e-7)


def test_gradient_arrows_for_relativistic_losses_use_real_points() -> None:
    t = Trainer(small(loss="ragan"))
    x = probe.fake_points(t)[:20]
    near = probe.g_gradients(t, x, real=np.zeros((5, 2), dtype=np.float32))
    far = probe.g_gradients(t, x, real=np.full((5, 2), 5.0, dtype=np.float32))
    assert not np.allclose(near, far)


def test_manifold_grid() -> None:
    t = Trainer(small(latent_dim=3))
    m = probe.manifold(t, res=7)
    assert m.shape == (7, 7, 2)
    with torch.no_grad():
        centre = t.G(torch.zeros(1, 3)).numpy()[0]
    np.testing.assert_allclose(m[3, 3], centre, rtol=1e-5, atol=1e-6)
    t1 = Trainer(small(latent_dim=1, latent_dist="uniform"))
    line = probe.manifold(t1, res=5)
    assert line.shape == (1, 5, 2)
    with torch.no_grad():
        end = t1.G(torch.ones(1, 1)).numpy()[0]
    np.testing.assert_allclose(line[0, -1], end, rtol=1e-5, atol=1e-6)


def test_real_points_subset_is_fixed() -> None:
    t = Trainer(small())
    r = probe.real_points(t, 50)
    assert r.shape == (50, 2)
    np.testing.assert_array_equal(r, probe.real_points(t, 50))
    assert len(probe.real_points(t, 10**6)) == 2000


def test_rasterise_places_points_and_surface() -> None:
    box = np.array([[-1.0, 1.0], [-1.0, 1.0]])
    # Surface: bottom row (y = -1) low, top row high.
    surface = np.array([[0.0, 0.0], [1.0, 1.0]], dtype=np.float32)
    img = rasterise(box, real=np.array([[0.0, 0.0]]), fake=np.array([[-0.9, 0.9]]),
                    surface=surface, size=100, dot=1)
    assert img.shape == (100, 100, 3) and img.dtype == np.uint8
    assert tuple(img[50, 50]) == REAL_RGB
    assert tuple(img[5, 5]) == FAKE_RGB  # (-0.9, 0.9) is the top-left corner
    assert tuple(img[99, 80]) == tuple(colormap(np.array(0.0), 0, 1))  # bottom: low
    assert tuple(img[0, 80]) == tuple(colormap(np.array(1.0), 0, 1))   # top: high
    blank = rasterise(box, fake=np.array([[5.0, 5.0], [np.nan, 0.0]]), size=20)
    assert (blank == np.array(BACKGROUND_RGB, dtype=np.uint8)).all()  # outside / NaN: not drawn
    assert to_chw(img).shape == (3, 100, 100)


def test_colormap_ends_and_nan() -> None:
    c = colormap(np.array([-5.0, 0.0, 1.0, 9.0, np.nan]), 0.0, 1.0)
    assert tuple(c[0]) == tuple(c[1]) and tuple(c[2]) == tuple(c[3])
    assert c[0, 2] > c[0, 0] and c[2, 0] > c[2, 2]  # low blue, high red
    assert tuple(c[4]) == (128, 128, 128)


def test_surface_with_minibatch_std_discriminator() -> None:
    t = Trainer(small(d_mbstd=16, batch_size=64))
    for res in (8, 10):  # 64 grid points form 4 groups; 100 form one
        s = probe.d_surface(t, res=res)
        assert s.shape == (res, res) and np.isfinite(s).all()
    assert probe.g_gradients(t, probe.fake_points(t)).shape == (100, 2)


def test_frame_takes_the_fakes_the_caller_already_made(monkeypatch) -> None:
    """The playground fits its view to the fakes, then asks for the frame: G runs once."""
    t = Trainer(small())
    fake = probe.fake_points(t)
    calls = []
    monkeypatch.setattr(probe, "fake_points", lambda *a, **k: calls.append(1) or fake)
    f = probe.frame(t, fake=fake)
    assert f.fake is fake and calls == []
    assert np.array_equal(probe.frame(t).fake, fake) and calls == [1]  # without it, made once
