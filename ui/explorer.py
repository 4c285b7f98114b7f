"""The latent explorer's panels: the user's runs as models, a conditional model's class
views, inverting a picture into the current latent, and GIF / MP4 export of a latent walk.

The page passes in the generator (a class view for conditional runs, `ganlab.explore.for_class`)
and how to make a latent the current one; the maths is in `ganlab.explore`, `ganlab.invert`
and `ganlab.video`.
"""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Callable, Sequence

import streamlit as st
import torch

from ganlab import explore
from ganlab.errors import GanlabError
from ganlab.imageio import gif_bytes, grid_to_png_bytes
from ganlab.invert import classifier_features, invert
from ganlab.runs import RunSummary, list_runs, runs_root
from ganlab.video import render_frames, smoothed_random_walk, write_mp4
from ui.messages import error_box

OPEN_RUN = "explorer.open_run"  # session key: a run folder another page asks the explorer to open
PICTURE_TYPES = ("png", "jpg", "jpeg", "bmp", "webp")
RUN_LABELS = {"mlp": "MLP GAN", "cgan": "conditional MLP GAN", "dcgan": "DCGAN", "cdcgan": "conditional DCGAN",
              "pgan": "progressive GAN", "ae": "autoencoder (decoder)", "conv_ae": "conv. autoencoder (decoder)",
              "aae": "adversarial autoencoder (decoder)"}
ss = st.session_state


def png(images: torch.Tensor, min_side: int = 128) -> bytes:
    """One raw image (C, R, R) -> PNG bytes, crisp pixels."""
    return grid_to_png_bytes(explore.display_images(images[None], min_side)[0])


def request_open(path: str | Path) -> None:
    """Ask the explorer page to open the run folder `path` on its next run (another page then
    calls `st.switch_page`)."""
    ss[OPEN_RUN] = str(path)


def run_choices() -> dict[str, RunSummary]:
    """The image runs under `runs_root()` by folder name, newest first. Read again only when
    a run folder changed: the page reruns on every slider move, and listing reads every
    run's config and history."""
    root = runs_root()
    return _runs_of(str(root), _folder_signature(root))


def _folder_signature(root: Path) -> tuple[tuple[str, float, float], ...]:
    """(name, model.safetensors mtime, history.jsonl mtime) of each folder under root:
    a few stat calls, which change whenever a run is saved or removed."""
    def mtime(path: Path) -> float:
        try:
            return path.stat().st_mtime
        except OSError:
            return 0.0

    try:
        folders = sorted(p for p in root.iterdir() if p.is_dir())
    except OSError:
        return ()
    return tuple((p.name, mtime(p / "model.safetensors"), mtime(p / "history.jsonl")) for p in folders)


@st.cache_data(max_entries=4, show_spinner=False)
def _runs_of(root: str, signature: tuple[tuple[str, float, float], ...]) -> dict[str, RunSummary]:
    return {r.name: r for r in list_runs(Path(root))}


def describe_run(run: RunSummary) -> str:
    """A run in the chooser: name, model in words, data set and steps."""
    return f"{run.name} ({RUN_LABELS.get(run.model, run.model)}, {run.data}, step {run.steps:,})"


def preselect_run(names: Sequence[str], source_key: str, run_key: str) -> None:
    """Before the sidebar's widgets exist: a run asked for by another page (`request_open`) or by
    the URL (`?run=NAME`) becomes the chosen source and run. Unknown names are ignored."""
    wanted = ss.pop(OPEN_RUN, None)
    if wanted is None and "run" in st.query_params and not ss.get("explorer.url_run_used"):
        wanted, ss["explorer.url_run_used"] = st.query_params["run"], True  # only the first visit
    if wanted is None:
        return
    name = Path(wanted).name
    if name in names:
        ss[source_key], ss[run_key] = "Runs", name
    else:
        st.warning(f"There is no image run {name!r} in {runs_root().resolve()}; choose one in the sidebar.")


def class_row(gen: Any, z: torch.Tensor) -> None:
    """"Same latent, every class": the current latent through each class of a conditional run."""
    images = explore.every_class(gen, z)
    st.markdown("**Same latent, every class** (the latent carries the style, the label the class)")
    for col, image, name in zip(st.columns(len(images)), images, gen.class_names):
        col.image(png(image, 64), caption=name, width="stretch")


def inversion_panel(gen: Any, data: tuple[str, int, int, str] | None,
                    real_images: Callable[[], explore.NearestIndex] | None, on_latent: Callable[[list[float]], None],
                    key: str) -> None:
    """Upload a picture (or pick a real training image) -> the latent of `gen` whose image is
    closest (`ganlab.invert.invert`, progress bar; an autoencoder run encodes it) -> original,
    reconstruction, distance; `on_latent(z)` makes it current (the page reruns)."""
    st.write("Finds the latent whose image looks most like a picture: Adam on z from several random "
             "starts (an autoencoder's encoder gives its code at once). **A generator reproduces only "
             "what its training data resembles**: a digit generator turns a face into its nearest "
             "digit; the distance says how close it came.")
    choices = ("Upload a picture",) + (("A real image of the data set",) if real_images is not None else ())
    how = st.radio("Picture", choices, key=f"{key}.how", horizontal=True)
    target: torch.Tensor | None = None
    try:
        if how == choices[0]:
            upload = st.file_uploader("A picture (PNG, JPEG)", type=list(PICTURE_TYPES), key=f"{key}.upload")
            if upload is not None:
                target = explore.read_picture(upload.getvalue())
        else:
            index = real_images()
            i = int(st.number_input(f"Training image (0 to {len(index) - 1:,})", 0, len(index) - 1, 0,
                                    key=f"{key}.index"))
            target = index.flat[i].view(index.shape)
    except GanlabError as exc:
        error_box(exc)
        return
    c = st.columns(2)
    steps = c[0].slider("Adam steps", 10, 500, 100, step=10, key=f"{key}.steps")
    starts = c[1].slider("Random starts", 1, 8, 4, key=f"{key}.starts")
    if st.button("Find its latent", key=f"{key}.run", disabled=target is None):
        bar = st.progress(0.0, text="searching...")

        def progress(step: int, total: int, best: float) -> None:
            bar.progress(step / total, text=f"step {step} of {total}: best loss {best:.4f}")

        trainer = getattr(getattr(gen, "base", gen), "trainer", None)
        source = trainer if hasattr(trainer, "encode") else gen  # autoencoders: the encoder answers
        try:
            features = classifier_features(data[0]) if data is not None else None
        except GanlabError:
            features = None  # no classifier for this set here: the pixel loss alone still works
        try:
            found = invert(source, target, starts=starts, steps=steps, features=features, on_progress=progress)
        except GanlabError as exc:
            error_box(exc)
            return
        original = target.float() * (2.0 / 255.0) - 1.0 if target.dtype == torch.uint8 else target
        ss[f"{key}.result"] = (png(original, 128), png(found.image, 128), found.distance, found.steps)
        on_latent(found.latent[0].tolist())
        st.rerun()
    if f"{key}.result" in ss:
        original, image, distance, steps_done = ss[f"{key}.result"]
        c = st.columns(3)
        c[0].image(original, caption="the picture", width=128)
        c[1].image(image, caption="the generator's closest image", width=128)
        c[2].metric("Distance (MSE per pixel, pixels in [0, 1])", f"{distance:.4f}")
        c[2].caption("That latent is now the current one: the sliders and the interpolation start from it."
                     + ("" if steps_done else " (encoded by the autoencoder's encoder)"))


def export_panel(gen: Any, path_latents: torch.Tensor | None, frames_fn: Callable[[int], torch.Tensor] | None,
                 name: str, key: str) -> None:
    """GIF and MP4 of the interpolation shown (`frames_fn(side)` -> uint8 frames; None: no
    interpolation yet) or of a Gaussian-smoothed random walk, at a chosen side and frame rate."""
    c = st.columns(4)
    sides = explore.output_sides(gen.resolution)
    side = c[0].select_slider("Side (px)", sides, value=min(sides, key=lambda s: abs(s - 256)), key=f"{key}.side")
    fps = c[1].slider("Frames per second", 4, 60, 24, key=f"{key}.fps")
    what = c[2].radio("Of", ("interpolation", "smoothed random walk"), key=f"{key}.what")
    seconds = c[3].slider("Walk length (s)", 1, 20, 4, key=f"{key}.seconds", disabled=what != "smoothed random walk")
    settings = (name, side, fps, what, seconds, None if path_latents is None else path_latents.sum().item())
    if ss.get(f"{key}.settings") != settings:  # a file made for other settings is not offered
        ss.pop(f"{key}.gif", None), ss.pop(f"{key}.mp4", None)
    b = st.columns(4)
    missing = what == "interpolation" and frames_fn is None
    make_gif = b[0].button("Make GIF", key=f"{key}.make_gif", disabled=missing)
    make_mp4 = b[1].button("Make MP4", key=f"{key}.make_mp4", disabled=missing)
    if missing:
        st.caption("No interpolation yet: add keyframes above, or export a smoothed random walk.")
    if make_gif or make_mp4:
        bar = st.progress(0.0, text="rendering frames...")
        try:
            if what == "interpolation":
                frames = frames_fn(side)
            else:
                walk = smoothed_random_walk(fps * seconds, gen.latent_dim, seed=int(ss.get("seed", 0)))
                raw = render_frames(gen, walk, on_progress=lambda done, total: bar.progress(
                    0.9 * done / total, text=f"frame {done} of {total}"))
                frames = explore.frames_at(raw, side)
            bar.progress(0.95, text="encoding...")
            if make_gif:
                ss[f"{key}.gif"] = gif_bytes(list(frames), fps=fps)
            else:
                with tempfile.TemporaryDirectory(prefix="ganlab-video-") as tmp:
                    ss[f"{key}.mp4"] = write_mp4(frames, Path(tmp) / "walk.mp4", fps=fps).read_bytes()
            ss[f"{key}.frames"] = int(frames.shape[0])
        except GanlabError as exc:
            error_box(exc)
        bar.empty()
        ss[f"{key}.settings"] = settings
    slug = what.replace(" ", "-")
    # Short labels: a quarter of the page is about 190 px at 1280 px, and a longer label is cut
    # ("Download the GIF (30 fra..."). What the file holds is said under the buttons.
    made = [kind for kind in ("gif", "mp4") if f"{key}.{kind}" in ss]
    if "gif" in made:
        b[2].download_button("Download GIF", ss[f"{key}.gif"], file_name=f"{name}-{slug}-{side}px.gif",
                             mime="image/gif", key=f"{key}.gif_download", icon=":material/download:")
    if "mp4" in made:
        b[3].download_button("Download MP4", ss[f"{key}.mp4"], file_name=f"{name}-{slug}-{side}px.mp4",
                             mime="video/mp4", key=f"{key}.mp4_download", icon=":material/download:")
    if made:
        st.caption(f"{' and '.join(kind.upper() for kind in made)}: {ss[f'{key}.frames']} frames of "
                   f"{side} x {side} px at {fps} frames per second.")
