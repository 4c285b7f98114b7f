"""The latent explorer's model chooser: bundled, the user's runs, published, uploaded or a
local file, each loaded once per session (Streamlit's resource cache) through
`ganlab.pretrained.load_generator`."""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from ganlab import explore
from ganlab.errors import GanlabError
from ganlab.pretrained import PretrainedGenerator, list_published, load_generator
from ganlab.runs import runs_root
from ui.explorer import describe_run, preselect_run, run_choices
from ui.serverdata import HOW_TO_ALLOW, allowed_roots, check_server_path

SOURCES = ("Bundled", "Runs", "Published", "Upload", "Local file")


def _mtime(path: Path) -> float:
    """The file's modification time (part of the cache key: a replaced file is read again);
    0.0 when it cannot be read, so loading it gives the engine's message for that file."""
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
DataSource = tuple[str, int, int, str]  # explore.training_images' (data, image_size, channels, path)
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


@st.cache_resource(show_spinner="Loading the run...", max_entries=8)
def run_generator(path: str, mtime: float) -> PretrainedGenerator:
    return load_generator(path)  # mtime in the key: a re-saved run is read again


@st.cache_resource(show_spinner="Loading the training images...")
def nearest_index(data: DataSource) -> explore.NearestIndex:
    return explore.NearestIndex(explore.training_images(*data))


def choose_model() -> tuple[PretrainedGenerator, str, DataSource | None]:
    """Sidebar -> (generator, a key naming it, what it was trained on or None)."""
    runs = run_choices()
    preselect_run(list(runs), "source", "run")
    source = st.sidebar.radio("Model", SOURCES, key="source", horizontal=True)
    if source == "Bundled":
        names = list(explore.bundled_models())
        if not names:
            raise GanlabError("no bundled models in assets/pgan/; train them with "
                              "`python scripts/train_pgan_assets.py mnist`")
        # Digits first: the guided path's last step talks about digits.
        names.sort(key=lambda n: (n != "mnist-32", n))
        name = st.sidebar.selectbox("Bundled model", names, key="bundled")
        data = explore.BUNDLED_DATA.get(name)
        return bundled_generator(name), f"bundled:{name}", None if data is None else (data, 32, 1, "")
    if source == "Runs":
        if not runs:
            st.info(f"No image runs in **{runs_root().resolve()}** yet: train one in the MNIST studio "
                    "(Stop and save, or Open in explorer) or with `python -m ganlab train --out runs/NAME`.")
            st.stop()
        name = st.sidebar.selectbox("Run", list(runs), key="run", format_func=lambda n: describe_run(runs[n]))
        path = runs[name].path
        mtime = _mtime(path / "model.safetensors")
        gen = run_generator(str(path), mtime)
        return gen, f"run:{path.resolve()}:{mtime}", explore.training_source(gen)
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
        path = st.sidebar.text_input("Checkpoint file on this server (.pth, .ot, .safetensors)", key="local_path",
                                     disabled=not allowed_roots())
        if not path.strip():
            st.info("Type the path of a checkpoint file on this server, e.g. a downloaded prog-gan.ot "
                    "(Karras et al. CelebA-HQ 1024 px) or ptrblck's .pth. It is read without running any code."
                    + ("" if allowed_roots() else f" Reading server files is switched off: {HOW_TO_ALLOW}."))
            st.stop()
        # The same rule as the studio's folders: only what the person running the server allows.
        target = check_server_path(path.strip())
        mtime = _mtime(target)
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
