"""The 1-D lesson's engine: 1-D data sets, the 1-D probe (Figure 1 of Goodfellow et al.
2014) and the gan1d preset, which must converge visibly: D ends near 1/2 over the data
and G's mass sits on the data's mean."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from ganlab import probe
from ganlab.data.base import DATASETS, DataOptions
from ganlab.presets import resolve_config
from ganlab.train import Trainer


@pytest.mark.parametrize("name", ["gaussian1d", "mixture1d"])
def test_1d_sets_are_points_in_view_units(name: str) -> None:
    ds = DATASETS.get(name)(DataOptions(name, seed=0, size=5000))
    assert ds.x.shape == (5000, 1) and ds.info.shape == (1,)
    assert ds.info.bounds.tolist() == [[-4.0, 4.0]]
    # centred on the view, not the data: G starts away from gaussian1d's mean
    assert ds.info.center.tolist() == [0.0] and ds.info.scale == 1.0


def test_kde_is_a_density() -> None:
    xs = np.linspace(-4, 4, 401)
    pdf = probe.kde(np.random.default_rng(0).normal(1.0, 0.5, 500), xs)
    assert abs(float(np.trapezoid(pdf, xs)) - 1.0) < 0.02
    assert abs(float(xs[pdf.argmax()]) - 1.0) < 0.3
    collapsed = probe.kde(np.zeros(100), xs)  # zero spread: a narrow peak, not a NaN
    assert np.isfinite(collapsed).all() and collapsed.max() > 1


def test_frame_1d_shapes_and_metrics() -> None:
    trainer = Trainer(resolve_config(preset="gan1d-mixture", overrides={"eval_samples": 500}))
    f = probe.frame_1d(trainer, res=50)
    assert f.xs.shape == f.d.shape == f.real_pdf.shape == f.fake_pdf.shape == (50,)
    assert f.z.shape == f.zx.shape == (25,) and f.fake.shape == (500,)
    assert f.z_range == (-1.0, 1.0)  # the preset's uniform latent
    assert ((f.d > 0) & (f.d < 1)).all()
    assert abs(float(np.trapezoid(f.real_pdf, f.xs)) - 1.0) < 0.02
    assert probe.frame(trainer).surface is None  # the 2-D frame degrades, no crash
    metrics = trainer.evaluate()
    assert metrics["modes_total"] == 2 and "js" in metrics


def test_gan1d_converges_d_flat_at_half_and_g_on_the_data() -> None:
    torch.set_num_threads(1)  # tiny networks: one thread is fastest and shares the CPU
    trainer = Trainer(resolve_config(preset="gan1d", overrides={"eval_every": 0}))
    f0 = probe.frame_1d(trainer)
    assert abs(float(f0.fake.mean()) - 2.0) > 1.5  # starts away from the data (mean 2)
    for _ in range(1500):
        trainer.step()
    f = probe.frame_1d(trainer)
    on_data = (f.xs > 1.0) & (f.xs < 3.0)  # the data's mean +- 2 sigma
    assert 0.35 <= float(f.d[on_data].min()) and float(f.d[on_data].max()) <= 0.65
    assert abs(float(f.fake.mean()) - 2.0) < 0.4
    assert abs(float(f.xs[f.fake_pdf.argmax()]) - 2.0) < 0.75
