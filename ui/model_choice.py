"""The latent explorer's model chooser: bundled, the user's runs, published, uploaded or a
local file, each loaded once per session (Streamlit's resource cache) through
`ganlab.pretrained.load_generator`. A choice that cannot be loaded (offline, a bad file) or
is not complete yet leaves the last model that loaded on the page, with the message."""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from ganlab import explore
from ganlab.errors import GanlabError
from ganlab.pretrained import PretrainedGenerator, list_published, load_generator
from ganlab.runs import runs_root
from ui.explorer import describe_run, preselect_run, run_choices
from ui.messages import sentence
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


LAST = "explorer.last_model"  # session key: the last model that loaded, shown while another cannot be
Chosen = tuple[PretrainedGenerator, str, DataSource | None]


class _NotYet(Exception):
    """Nothing to load yet (no file, no run, Load not pressed): the message says what to do."""


def choose_model() -> Chosen:
    """Sidebar -> (generator, a key naming it, what it was trained on or None).

    A choice that cannot be loaded (offline, a bad file: its GanlabError is shown) or is not
    complete yet (what to do is shown) keeps the last model that loaded on the page instead
    of a blank one; with none loaded yet, the error propagates or the page stops after the hint.
    """
    last: Chosen | None = ss.get(LAST)
    still = "" if last is None else f" The explorer still shows **{last[0].name}** meanwhile."
    try:
        chosen = _chosen_model()
    except _NotYet as wait:
        st.info(f"{sentence(wait)}{still}")
        if last is None:
            st.stop()
        return last
    except GanlabError as exc:
        if last is None:
            raise
        st.error(f"{sentence(exc)}{still}")
        return last
    ss[LAST] = chosen
    return chosen


def _chosen_model() -> Chosen:
    """The sidebar's choice, loaded; _NotYet when nothing is chosen yet, GanlabError when it
    cannot be loaded."""
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
            raise _NotYet(f"No image runs in **{runs_root().resolve()}** yet: train one in the MNIST studio "
                          "(Stop and save, or Open in explorer) or with `python -m ganlab train --out runs/NAME`.")
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
            ss["published_loaded"], ss["published_error"] = name, None
        if ss.get("published_loaded") != name:
            failed = ss.get("published_error")
            if failed and failed[0] == name:  # said again, without a new download attempt per rerun
                raise GanlabError(failed[1])
            raise _NotYet(f"Press **Load** to download this checkpoint (about "
                          f"{round(published[name].get('approx_mb', 0), -1)} MB, once, into the cache) "
                          "and explore it.")
        try:
            return published_generator(name), f"published:{name}", None
        except GanlabError as exc:
            # Forget the attempt: the next rerun (any slider) must not try the download again.
            ss["published_loaded"], ss["published_error"] = None, (name, str(exc))
            raise
    if source == "Local file":
        path = st.sidebar.text_input("Checkpoint file on this server (.pth, .ot, .safetensors)", key="local_path",
                                     disabled=not allowed_roots())
        if not path.strip():
            raise _NotYet("Type the path of a checkpoint file on this server, e.g. a downloaded prog-gan.ot "
                          "(Karras et al. CelebA-HQ 1024 px) or ptrblck's .pth. It is read without running any "
                          "code." + ("" if allowed_roots() else f" Reading server files is switched off: "
                                                                f"{HOW_TO_ALLOW}."))
        # The same rule as the studio's folders: only what the person running the server allows.
        target = check_server_path(path.strip())
        mtime = _mtime(target)
        return local_generator(str(target), mtime), f"local:{target}:{mtime}", None
    files = st.sidebar.file_uploader(
        "A .pth (pytorch_GAN_zoo, Karras), a .ot (ocaml-torch prog-gan.ot), or a ganlab .safetensors with its .json",
        type=["pth", "ot", "safetensors", "json"], accept_multiple_files=True, key="upload")
    if not files:
        raise _NotYet("Upload a checkpoint in the sidebar. It is read without running any pickled code and "
                      f"is not kept on disk (limit {explore.MAX_UPLOAD_BYTES >> 20} MB).")
    key = tuple(f.file_id for f in files)
    if ss.get("upload_key") != key:
        ss.pop("upload_gen", None)
        ss["upload_gen"] = explore.load_upload([(f.name, f.getvalue()) for f in files])
        ss["upload_key"] = key
    return ss["upload_gen"], "upload:" + ",".join(key), None
