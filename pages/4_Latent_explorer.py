"""Latent explorer: walk the latent space of a progressive GAN: samples, principal directions, interpolations.

Widgets -> a generator (bundled, published or uploaded; `ganlab.pretrained`) and a
current latent -> `ganlab.explore` (GANSpace directions, truncation, batched and
cached rendering, keyframe interpolation, nearest training image) -> images.
"""
from __future__ import annotations

import time

import streamlit as st
import torch

from ganlab import explore
from ganlab.errors import GanlabError
from ganlab.imageio import gif_bytes, grid_to_png_bytes
from ganlab.pretrained import PretrainedGenerator, list_published, load_generator
from ui.runner import configure_torch_threads
from ui.lessons import lesson_strip

st.set_page_config(page_title="Latent explorer", page_icon="🧭", layout="wide")
configure_torch_threads()

GRID = 8                 # samples per seed
DIRECTIONS = 6           # principal-direction sliders
COORD_SLIDERS_MAX = 64   # per-coordinate sliders for latents up to this size
MAX_KEYFRAMES = 4
TRUNCATION = ("off", 3.0, 2.5, 2.0, 1.5, 1.0, 0.5)
SOURCES = ("Bundled", "Published", "Upload", "Local file")
ss = st.session_state


@st.cache_resource(show_spinner="Loading the generator...")
def bundled_generator(name: str) -> PretrainedGenerator:
    return explore.load_bundled(name)


@st.cache_resource(show_spinner="Downloading / loading the published checkpoint...")
def published_generator(name: str) -> PretrainedGenerator:
    return load_generator(name)


@st.cache_resource(show_spinner="Loading the checkpoint file...")
def local_generator(path: str, mtime: float) -> PretrainedGenerator:
    return load_generator(path)  # mtime in the key: a replaced file is read again


@st.cache_resource(show_spinner="Loading the training images...")
def nearest_index(data: str) -> explore.NearestIndex:
    return explore.NearestIndex(explore.training_images(data))


def png(images: torch.Tensor, min_side: int = 128) -> bytes:
    """One raw image (C, R, R) -> PNG bytes, crisp pixels."""
    return grid_to_png_bytes(explore.display_images(images[None], min_side)[0])


def set_current(z: list[float]) -> None:
    """Make z the current latent: coordinate sliders follow it, direction sliders restart at 0."""
    ss["z0"] = list(z)
    for i, v in enumerate(z):
        ss[f"coord{i}"] = float(round(v, 2))
    for k in range(DIRECTIONS):
        ss[f"dir{k}"] = 0.0


def set_coordinate(i: int) -> None:
    """A moved coordinate slider overrides that coordinate only (the others stay exact)."""
    z0 = list(ss["z0"])
    z0[i] = float(ss[f"coord{i}"])
    ss["z0"] = z0


def new_sample() -> None:
    ss["seed"] = int(ss.get("seed", 0)) + 1


def choose_model() -> tuple[PretrainedGenerator, str, str | None]:
    """Sidebar -> (generator, a key naming it, the data set it was trained on or None)."""
    source = st.sidebar.radio("Model", SOURCES, key="source", horizontal=True)
    if source == "Bundled":
        names = list(explore.bundled_models())
        if not names:
            raise GanlabError("no bundled models in assets/pgan/; train them with "
                              "`python scripts/train_pgan_assets.py mnist`")
        name = st.sidebar.selectbox("Bundled model", names, key="bundled")
        return bundled_generator(name), f"bundled:{name}", explore.BUNDLED_DATA.get(name)
    if source == "Published":
        published = list_published()
        name = st.sidebar.selectbox(
            "Published checkpoint", list(published), key="published",
            format_func=lambda n: f"{n} ({published[n]['resolution']} px, {published[n]['dataset']})")
        if st.sidebar.button("Load (downloads once)", key="load_published"):
            ss["published_loaded"] = name
        if ss.get("published_loaded") != name:
            st.info("Press **Load** to download this checkpoint (once, into the cache) and explore it.")
            st.stop()
        return published_generator(name), f"published:{name}", None
    if source == "Local file":
        from pathlib import Path

        path = st.sidebar.text_input("Checkpoint file on this server (.pth, .ot, .safetensors)", key="local_path")
        if not path.strip():
            st.info("Type the path of a checkpoint file on this server, e.g. a downloaded prog-gan.ot "
                    "(Karras et al. CelebA-HQ 1024 px) or ptrblck's .pth. It is read without running any code.")
            st.stop()
        target = Path(path.strip()).expanduser()
        mtime = target.stat().st_mtime if target.is_file() else 0.0
        return local_generator(str(target), mtime), f"local:{target}:{mtime}", None
    files = st.sidebar.file_uploader(
        "A .pth (pytorch_GAN_zoo, Karras), a .ot (ocaml-torch prog-gan.ot), or a ganlab .safetensors with its .json",
        type=["pth", "ot", "safetensors", "json"], accept_multiple_files=True, key="upload")
    if not files:
        st.info("Upload a checkpoint in the sidebar. It is read without running any pickled code and "
                f"is not kept on disk (limit {explore.MAX_UPLOAD_BYTES >> 20} MB).")
        st.stop()
    key = tuple(f.file_id for f in files)
    if ss.get("upload_key") != key:
        ss.pop("upload_gen", None)
        ss["upload_gen"] = explore.load_upload([(f.name, f.getvalue()) for f in files])
        ss["upload_key"] = key
    return ss["upload_gen"], "upload:" + ",".join(key), None


st.title("Latent explorer")
lesson_strip("pages/4_Latent_explorer.py")
try:
    gen, model_key, data_name = choose_model()
except GanlabError as exc:
    st.error(str(exc))
    st.stop()
d = gen.latent_dim
st.sidebar.caption(f"{gen.name}: {gen.resolution}x{gen.resolution}, {gen.channels} channel(s), latent {d}")
if gen.kind == "karras-progan":
    sha = gen.info.get("sha256")
    st.sidebar.info(
        "Karras et al. 2018, *Progressive Growing of GANs*: the generator trained on CelebA-HQ "
        f"(faces, 1024x1024); this file is {gen.resolution} px. Weights as published by ocaml-torch "
        "(prog-gan.ot; ptrblck's PyTorch port has the same network); licence of NVIDIA's original "
        "weights: CC BY-NC 4.0 (non-commercial). Faces generated by a model trained on CelebA-HQ "
        "inherit that data set's biases (mostly young, light-skinned celebrity faces)."
        + (f" SHA-256 of the download: `{sha}`." if sha else ""))

# --- samples -------------------------------------------------------------------------
left, right = st.columns([1, 3])
seed = int(left.number_input("Seed", min_value=0, max_value=2**31 - 1, step=1, key="seed"))
left.button("New sample", on_click=new_sample, key="new_sample")
grid_z = explore.random_latents(d, GRID, seed)
if ss.get("origin") != (model_key, seed):  # a new model or seed: start from its first sample
    ss["origin"] = (model_key, seed)
    ss["keys"] = [] if ss.get("model_key") != model_key else ss.get("keys", [])
    ss["model_key"] = model_key
    set_current(grid_z[0].tolist())
if ss.get("grid_key") != (model_key, seed):  # PNG-encode the grid once per seed, not per slider move
    ss["grid_png"] = [png(image, 64) for image in explore.render(gen, grid_z)]
    ss["grid_key"] = (model_key, seed)
cells = right.columns(GRID)
for i, cell in enumerate(cells):
    cell.image(ss["grid_png"][i], width="stretch")
    cell.button("Use", key=f"use{i}", on_click=set_current, args=(grid_z[i].tolist(),))

# --- the current latent -----------------------------------------------------------------
controls, view = st.columns([2, 1])
t0 = time.perf_counter()
dirs = explore.ganspace(gen, k=DIRECTIONS)
with controls:
    st.subheader("Principal directions (GANSpace)")
    st.caption("PCA of the generator's first 4x4 feature maps over 2,048 random latents, each component "
               "mapped back to z by least squares (Härkönen et al. 2020). Sliders are in standard "
               "deviations of the component.")
    amounts = [st.slider(f"PC{k + 1} ({100 * float(dirs.explained[k]):.1f}% of variance)", -3.0, 3.0,
                         step=0.1, key=f"dir{k}") for k in range(DIRECTIONS)]
    trunc = st.select_slider("Truncation: clip every |z_i| at", TRUNCATION, key="truncation",
                             help="PGANs normalise z, so scaling it changes nothing; clipping the rare "
                                  "extreme coordinates gives more typical, cleaner samples.")
    # Off by default: 64 more widgets would slow down every slider move.
    if d <= COORD_SLIDERS_MAX and st.toggle(f"Per-coordinate sliders ({d})", key="coords"):
        for i in range(d):
            if f"coord{i}" not in ss:  # the slider was hidden: start it at the current value
                ss[f"coord{i}"] = float(round(ss["z0"][i], 2))
            st.slider(f"z[{i}]", -4.0, 4.0, step=0.01, key=f"coord{i}", on_change=set_coordinate, args=(i,))
    z0 = torch.tensor(ss["z0"])
z = explore.edit_latent(z0, dirs, amounts, None if trunc == "off" else float(trunc))
ss["z"] = z.tolist()
image = explore.render(gen, z[None])[0]
ms = 1000 * (time.perf_counter() - t0)
with view:
    st.subheader("Current sample")
    if gen.resolution > 256:  # large models: fit the column, full resolution one click away
        st.image(png(image, 256), width="stretch")
    else:
        st.image(png(image, 256), width=256)
    st.caption(f"rendered in {ms:.0f} ms")
    st.download_button(f"Download PNG ({gen.resolution}x{gen.resolution})", png(image, gen.resolution),
                       file_name=f"{gen.name}-seed{seed}.png", mime="image/png", key="png_download")
    if data_name is not None and st.checkbox("Show the nearest training image", key="nearest"):
        try:
            index = nearest_index(data_name)
        except GanlabError as exc:  # the training images are not on this server
            st.error(str(exc))
        else:
            idx, dist = index.query(image[None])
            st.image(png(index.flat[int(idx)].view(index.shape), 256), width=256)
            st.caption(f"nearest of the {len(index):,} training images (#{int(idx)}), L2 distance "
                       f"{float(dist):.2f}: a model that copied its data would show a twin here.")

# --- interpolation -----------------------------------------------------------------------
st.subheader("Interpolation")
keys: list[list[float]] = ss.setdefault("keys", [])
b1, b2, b3 = st.columns(3)
if b1.button("Add the current sample as a keyframe", key="add_key", disabled=len(keys) >= MAX_KEYFRAMES):
    keys.append(z.tolist())
    ss.pop("gif", None)
if b2.button("Clear keyframes", key="clear_keys"):
    keys.clear()
    ss.pop("gif", None)
mode = b3.radio("Path", explore.INTERPOLATIONS, key="mode", horizontal=True,
                format_func=lambda m: {"slerp": "spherical (slerp)", "lerp": "linear"}[m])
st.caption("A Gaussian latent of d dimensions lies near the sphere of radius sqrt(d); a straight line "
           "between two of them dips to about sqrt(d/2) halfway, where G saw no latents. Slerp follows "
           "the great circle instead, so every frame is a typical latent.")
if keys:
    thumbs = explore.render(gen, torch.tensor(keys))
    for col, thumb in zip(st.columns(MAX_KEYFRAMES), thumbs):
        col.image(png(thumb, 64), width=64)
if len(keys) < 2:
    st.info(f"Add 2 to {MAX_KEYFRAMES} keyframes to interpolate between them.")
else:
    n_frames = st.slider("Frames", len(keys), 60, 30, key="frames")
    try:
        frames = explore.interpolation_frames(gen, torch.tensor(keys), n_frames, mode)
    except GanlabError as exc:
        st.error(str(exc))
        st.stop()
    frame = st.slider("Frame", 0, n_frames - 1, 0, key="frame")
    st.image(png(frames[frame], 256), width=256)
    if st.button("Make GIF", key="make_gif"):
        ss["gif"] = gif_bytes(list(explore.display_images(frames, 128)), fps=12)
    if "gif" in ss:
        st.download_button("Download the GIF", ss["gif"], file_name=f"{gen.name}-{mode}.gif",
                           mime="image/gif", key="gif_download")
