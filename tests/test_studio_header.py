"""The MNIST studio follows the run that is actually training: after "Start new run" the
header, the notices and the class views describe the new model in the same rerun; "Stop and
save" confirms and the run is listed under "Runs on disk" at once; the grid's PNG comes at a
chosen pixel size, enlarged by nearest neighbour."""
from __future__ import annotations

import ast
import io
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from streamlit.testing.v1 import AppTest

from ganlab.data.images import available_splits
from ganlab.errors import ConfigError
from ganlab.imageio import resize_grid
from tests import helpers
from tests.helpers import wait_until
from ui import exports

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "3_MNIST_studio.py")
needs_mnist = pytest.mark.skipif(not available_splits("mnist"), reason="no MNIST split on this machine")


pytestmark = pytest.mark.usefixtures("isolated_runs")


def header(at: AppTest) -> str:
    return next(c.value for c in at.caption if c.value.startswith("Run: "))


def image_captions(at: AppTest) -> list[str]:
    return [c for img in at.get("image") for c in img.captions]


def click(at: AppTest, key: str) -> None:
    next(b for b in at.button if b.key == key).click().run()
    assert not at.exception, at.exception


def trained(at: AppTest, steps: int) -> None:
    runner = at.session_state["studio.runner"]
    assert wait_until(lambda: helpers.held_model(at, "studio.runner").step_count >= steps, 30)
    runner.pause()


@needs_mnist
def test_start_new_run_describes_the_new_model_in_the_same_rerun() -> None:
    at = helpers.open_page(PAGE)
    at.number_input(key="studio.batch_size").set_value(16).run()
    assert header(at).startswith("Run: MNIST digits · MLP GAN (Goodfellow 2014) · loss")
    click(at, "studio.start")
    trained(at, 2)
    at.selectbox(key="studio.model").set_value("cgan").run()
    # The sidebar says cgan, the run is still the MLP GAN: the header follows the run.
    assert "MLP GAN (Goodfellow 2014)" in header(at)
    assert any("press **Start new run**" in w.value for w in at.warning)
    assert "10 samples of class 0" not in image_captions(at)
    click(at, "studio.start")
    assert helpers.held_model(at, "studio.runner").cfg.model == "cgan"
    assert header(at).startswith("Run: MNIST digits · conditional MLP GAN (cGAN) · loss")
    assert not at.warning
    assert "10 samples of class 0" in image_captions(at)  # the class views of the new run
    at.session_state["studio.runner"].pause()
    at.selectbox(key="studio.model").set_value("ae").run()
    click(at, "studio.start")
    at.session_state["studio.runner"].pause()
    assert header(at).startswith("Run: MNIST digits · autoencoder (784 -> 32 -> 784) · loss")
    assert "10 samples of class 0" not in image_captions(at) and not at.warning


@needs_mnist
def test_stop_and_save_confirms_and_lists_the_run_at_once(tmp_path) -> None:
    at = helpers.open_page(PAGE)
    at.number_input(key="studio.batch_size").set_value(16).run()
    assert any(m.value == "No image runs there yet." for m in at.markdown)
    click(at, "studio.start")
    trained(at, 3)
    click(at, "studio.stop")
    [saved] = list((tmp_path / "runs").iterdir())
    assert [s.value for s in at.success] == [f"Run stopped and saved to {saved}"]
    assert not any(m.value == "No image runs there yet." for m in at.markdown)
    assert at.selectbox(key="studio.open_name").options == [saved.name]
    # Clicked again (or the click delivered twice) at the same step: the same folder, no copy.
    click(at, "studio.stop")
    assert list((tmp_path / "runs").iterdir()) == [saved]
    assert [s.value for s in at.success] == [f"Run stopped and saved to {saved}"]


@needs_mnist
def test_the_grid_png_comes_at_the_chosen_size() -> None:
    at = helpers.open_page(PAGE)
    runner = at.session_state["studio.runner"]
    labels = [b.label for b in at.get("download_button")]
    assert "PNG of the grid (1024 px)" in labels
    at.selectbox(key="studio.png_side").set_value(2048).run()
    assert "PNG of the grid (2048 px)" in [b.label for b in at.get("download_button")]
    from ui.studio import live_grid

    with runner.hold() as trainer:
        grid = live_grid(trainer)
    for side in (512, 1024, 2048):
        with Image.open(io.BytesIO(exports.grid_png_now(runner, live_grid, side))) as im:
            assert im.size == (side, side) and im.mode == "L"
            values = set(np.asarray(im).ravel().tolist())
        assert values <= set(grid.unique().tolist())  # nearest neighbour: no blended grey levels


def test_the_transport_buttons_are_outside_the_live_fragment() -> None:
    """A button inside an st.fragment reruns only the fragment: Start / Stop there left the header,
    notices, class views and runs listing describing the previous run until some other widget
    changed (AppTest always reruns the whole script, so this is checked on the page's source)."""
    tree = ast.parse(Path(PAGE).read_text(encoding="utf-8"))
    fragments = [f for f in ast.walk(tree) if isinstance(f, ast.FunctionDef)
                 and any("fragment" in ast.unparse(d) for d in f.decorator_list)]
    assert fragments, "the live view is a fragment"
    inside = {ast.unparse(k.value) for f in fragments for node in ast.walk(f) if isinstance(node, ast.Call)
              for k in node.keywords if k.arg == "key"}
    for name in ("start", "stop"):
        assert f"key('{name}')" not in inside, f"the {name} button is inside a fragment"
    keys = {ast.unparse(k.value) for node in ast.walk(tree) if isinstance(node, ast.Call) for k in node.keywords
            if k.arg == "key"}
    assert {"key('start')", "key('stop')"} <= keys
    # Pause / Resume: drawn by run_controls.play_pause, outside the fragment too.
    def play_pause_calls(root: ast.AST) -> int:
        return sum(1 for n in ast.walk(root) if isinstance(n, ast.Call) and ast.unparse(n.func).endswith("play_pause"))
    assert play_pause_calls(tree) == 1 and sum(play_pause_calls(f) for f in fragments) == 0


def test_resize_grid_sizes_blocks_and_limits() -> None:
    grid = torch.tensor([[[0, 50, 100], [150, 200, 250]]], dtype=torch.uint8)  # (1, 2, 3)
    big = resize_grid(grid, 30)
    assert big.shape == (1, 20, 30) and big.dtype == torch.uint8
    assert torch.equal(big, grid.repeat_interleave(10, 1).repeat_interleave(10, 2))  # 10 x 10 blocks
    odd = resize_grid(torch.arange(4, dtype=torch.uint8).view(1, 2, 2) * 60, 17)  # 8.5 px per pixel
    assert odd.shape == (1, 17, 17) and set(odd.unique().tolist()) == {0, 60, 120, 180}
    rgb = resize_grid(torch.zeros(3, 100, 200), 50)  # float in [-1, 1], shrunk by area averaging
    assert rgb.shape == (3, 25, 50) and int(rgb.max()) == 128
    with pytest.raises(ConfigError, match="16 to 4096 px"):
        resize_grid(grid, 8192)
    with pytest.raises(ConfigError, match="one image of shape"):
        resize_grid(torch.zeros(2, 1, 4, 4), 64)
