"""This browser's last run of a page, saved now and then, so that a reload resumes it.

A browser is known by a random token in the page's URL (`?me=<token>`, set on the
session's first visit and kept in session state; no cookie). A page's run is
saved under `<root>/<token>/<page>/` (root: `$GANLAB_AUTOSAVE`, else
`ganlab.download.cache_dir()/autosave`):

    latest.json    {"format", "dir", "step", "saved_at", "ident"}: the state to resume
    s<ns>/         that state (for trainers, a `ganlab.runs.save_run` folder)

A save writes a new `s<ns>/` folder, then points `latest.json` at it (written
atomically, `ganlab.runs.atomic_write`), then deletes every other state of the
slot: one state per page per browser, and an interrupted save leaves the previous
one in force. States older than `MAX_AGE` (a day) are deleted (`sweep`, at most
every `SWEEP_PERIOD` seconds, at most `MAX_SLOTS` slots kept).

A state is resumed only by the same browser (its token) on the same experiment:
`ident` (for trainers: every setting that cannot change live, and the user's own
points) must equal the page's. A link without the token, or another browser's
token, has no state to resume, so it starts fresh from the link's settings. Note:
a link that carries the token (copied whole from the address bar) acts as that
browser. A damaged state is deleted and reported in words (`Restored.problem`);
the run starts fresh. The runner (`ui.runner.Runner`) decides when to save.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import secrets
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Generic, Sequence, TypeVar

from ganlab.config import LIVE_FIELDS, Config
from ganlab.data.base import Dataset
from ganlab.files import write_text_atomic
from ganlab.runs import load_run, load_side_by_side, save_run, save_side_by_side
from ganlab.train import Trainer
from ganlab.train.side_by_side import SideBySide

M = TypeVar("M")

ROOT_ENV = "GANLAB_AUTOSAVE"
PERIOD = float(os.environ.get("GANLAB_AUTOSAVE_SECONDS", "15"))  # seconds of training between saves
MAX_AGE = 24 * 3600.0
MAX_SLOTS = int(os.environ.get("GANLAB_AUTOSAVE_MAX_SLOTS", "500"))
SWEEP_PERIOD = 600.0
POINTER = "latest.json"
FORMAT = 1
TOKEN_PARAM = "me"
TOKEN_KEY = "browser.token"
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")
_PAGE = re.compile(r"[A-Za-z0-9_.-]{1,64}")

_log = logging.getLogger(__name__)
_locks: dict[Path, threading.Lock] = {}
_locks_guard = threading.Lock()
_last_sweep: float | None = None


def autosave_root() -> Path:
    """Where autosaves live: $GANLAB_AUTOSAVE, else `cache_dir()/autosave`."""
    env = os.environ.get(ROOT_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    from ganlab.download import cache_dir

    return cache_dir() / "autosave"


def valid_token(text: Any) -> bool:
    """True for a browser token this module could have made (safe as a folder name)."""
    return isinstance(text, str) and _TOKEN.fullmatch(text) is not None


def new_token() -> str:
    """A fresh random browser token (16 URL-safe characters)."""
    return secrets.token_urlsafe(12)


def _slot_lock(folder: Path) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(folder.resolve(), threading.Lock())


@dataclass
class Restored(Generic[M]):
    """What `Autosave.restore` found: the model (None when the state was damaged), its
    step, when it was saved (time.time()), and `problem`: why it could not be resumed."""

    model: M | None
    step: int = 0
    saved_at: float = 0.0
    problem: str | None = None


class Autosave(Generic[M]):
    """The latest saved state of one page's run for one browser (the folder `folder`).

    save(model, dir) writes a model's state into a new folder and load(dir) rebuilds
    it; ident(model) names its experiment, and `expect` the one the page would build
    now: only an equal one is resumed. keep(model) False: that model is not saved
    (e.g. a run on another session's uploads). `period`: seconds of training between
    saves (the runner reads it).
    """

    def __init__(self, folder: Path, *, save: Callable[[M, Path], Any], load: Callable[[Path], M],
                 ident: Callable[[M], str], expect: str, keep: Callable[[M], bool] | None = None,
                 period: float = PERIOD, max_age: float = MAX_AGE) -> None:
        self.folder = Path(folder)
        self._save, self._load, self._ident, self.expect = save, load, ident, expect
        self._keep = keep
        self.period = period
        self.max_age = max_age

    def save(self, model: M) -> bool:
        """Save the model's state as the slot's latest (the previous one is deleted);
        False when `keep` refuses it. Errors (a full disk) propagate, the previous
        state stays in force."""
        if self._keep is not None and not self._keep(model):
            return False
        step = int(getattr(model, "step_count", 0))
        ident = self._ident(model)
        with _slot_lock(self.folder):
            self.folder.mkdir(parents=True, exist_ok=True)
            name = f"s{time.time_ns()}"
            target = self.folder / name
            try:
                self._save(model, target)
            except BaseException:
                shutil.rmtree(target, ignore_errors=True)
                raise
            meta = {"format": FORMAT, "dir": name, "step": step, "saved_at": time.time(), "ident": ident}
            write_text_atomic(self.folder / POINTER, json.dumps(meta))
            for child in self.folder.iterdir():
                if child.is_dir() and child.name != name:
                    shutil.rmtree(child, ignore_errors=True)
        maybe_sweep(self.folder.parent.parent)
        return True

    def latest(self) -> dict[str, Any] | None:
        """The slot's pointer (latest.json) if it is readable and well formed, else None."""
        try:
            meta = json.loads((self.folder / POINTER).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError):
            return None
        ok = (isinstance(meta, dict) and meta.get("format") == FORMAT and isinstance(meta.get("dir"), str)
              and re.fullmatch(r"s\d+", meta["dir"]) is not None and isinstance(meta.get("step"), int)
              and isinstance(meta.get("saved_at"), (int, float)) and isinstance(meta.get("ident"), str))
        return meta if ok else None

    def restore(self) -> Restored[M] | None:
        """This browser's saved run of the page, if it is the page's experiment (`expect`)
        and younger than `max_age`; None when there is nothing to resume. A damaged state
        is deleted and returned as Restored(None, problem=...). Never raises."""
        maybe_sweep(self.folder.parent.parent)
        try:
            with _slot_lock(self.folder):
                return self._restore()
        except Exception as exc:  # a bug or an unreadable folder: start fresh, say so
            _log.exception("autosave restore failed: %s", exc)
            self.discard()
            return Restored(None, problem=damaged_message())

    def _restore(self) -> Restored[M] | None:
        pointer = self.folder / POINTER
        if not pointer.exists():
            return None
        meta = self.latest()
        if meta is None:
            _log.warning("autosave %s is damaged: %s is not readable", self.folder, POINTER)
            self._discard()
            return Restored(None, problem=damaged_message())
        if time.time() - meta["saved_at"] > self.max_age:
            self._discard()
            return None
        if meta["ident"] != self.expect:
            return None  # another experiment: kept until this page's run saves over it
        state = self.folder / meta["dir"]
        try:
            if not state.is_dir():
                raise FileNotFoundError(f"{meta['dir']} is missing")
            model = self._load(state)
            step = int(getattr(model, "step_count", meta["step"]))
            if step != meta["step"]:
                raise ValueError(f"the state is at step {step}, its record says {meta['step']}")
        except Exception as exc:
            _log.warning("autosave %s is damaged: %s", state, exc)
            self._discard()
            return Restored(None, problem=damaged_message())
        return Restored(model, step, float(meta["saved_at"]))

    def discard(self) -> None:
        """Delete the slot's saved state (a new run starts at step 0)."""
        with _slot_lock(self.folder):
            self._discard()

    def _discard(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def damaged_message() -> str:
    """The notice for an autosave that cannot be resumed (the details go to the log only:
    they name server folders)."""
    return ("Your autosaved run of this page could not be read (the saved files are damaged or "
            "incomplete), so this run starts fresh at step 0.")


def sweep(root: Path, max_age: float = MAX_AGE, max_slots: int = MAX_SLOTS, now: float | None = None) -> int:
    """Delete the page slots under `root` last saved more than `max_age` seconds ago, then the
    oldest beyond `max_slots`, and browser folders left empty; returns how many slots went."""
    now = time.time() if now is None else now
    try:
        browsers = [b for b in Path(root).iterdir() if b.is_dir() and valid_token(b.name)]
    except OSError:
        return 0
    slots: list[tuple[float, Path]] = []
    for browser in browsers:
        try:
            for slot in browser.iterdir():
                if slot.is_dir():
                    pointer = slot / POINTER
                    slots.append(((pointer if pointer.exists() else slot).stat().st_mtime, slot))
        except OSError:
            continue
    slots.sort(reverse=True)  # newest first
    gone = 0
    for i, (mtime, slot) in enumerate(slots):
        if now - mtime > max_age or i >= max_slots:
            with _slot_lock(slot):
                shutil.rmtree(slot, ignore_errors=True)
            gone += 1
    for browser in browsers:
        try:
            browser.rmdir()  # only when empty
        except OSError:
            pass
    return gone


def maybe_sweep(root: Path) -> None:
    """`sweep(root)` at most once every SWEEP_PERIOD seconds per process."""
    global _last_sweep
    now = time.monotonic()
    if _last_sweep is not None and now - _last_sweep < SWEEP_PERIOD:
        return
    _last_sweep = now
    try:
        sweep(root)
    except Exception:  # clean-up must never break a page
        _log.exception("autosave sweep failed")


# --- runs of ganlab trainers --------------------------------------------------------------
def trainer_ident(cfg: Config, data_key: str = "") -> str:
    """What makes a trainer's run the same experiment: its settings that cannot change live
    (a live one is applied after resuming), and `data_key` (e.g. the user's own points)."""
    fixed = {k: v for k, v in cfg.to_dict().items() if k not in LIVE_FIELDS}
    text = json.dumps(fixed, sort_keys=True, default=str) + "|" + data_key
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _saves_trainer(trainer: Trainer) -> bool:
    # A run on files (uploads, a server folder) is not resumed: another session's upload
    # folder is gone, and a link must not name server files.
    return not trainer.cfg.data_path


def slot_folder(page: str, browser: str, root: Path | None = None) -> Path:
    """The folder of a page's slot for one browser (ValueError for a name unsafe as a folder)."""
    if not valid_token(browser) or not _PAGE.fullmatch(page):
        raise ValueError(f"bad autosave slot {browser!r} / {page!r}")
    return (root or autosave_root()) / browser / page


def trainer_autosave(page: str, cfg: Config, *, data_key: str = "",
                     dataset: Callable[[], Dataset] | None = None, browser: str | None = None,
                     root: Path | None = None, period: float = PERIOD) -> Autosave[Trainer]:
    """The autosave of a page whose runner trains a `ganlab.train` trainer on `cfg`:
    `ganlab.runs.save_run` / `load_run` folders; `dataset()` gives the data to resume on
    when it is not built from cfg alone (the user's points; then name them in `data_key`).
    browser: the token (default: this session's, `browser_id()`)."""
    folder = slot_folder(page, browser or browser_id(), root)

    def load(path: Path) -> Trainer:
        return load_run(path, dataset=dataset() if dataset is not None else None)

    return Autosave(folder, save=save_run, load=load, ident=lambda t: trainer_ident(t.cfg, data_key),
                    expect=trainer_ident(cfg, data_key), keep=_saves_trainer, period=period)


def comparison_ident(cfgs: Sequence[Config], labels: Sequence[str]) -> str:
    """What makes side-by-side runs the same comparison: every setting of every run and
    the labels (the latent lab rebuilds its runs on any change, live ones included)."""
    text = json.dumps([[c.to_dict() for c in cfgs], list(labels)], sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def side_by_side_autosave(page: str, cfgs: Sequence[Config], labels: Sequence[str], *,
                          browser: str | None = None, root: Path | None = None,
                          period: float = PERIOD) -> Autosave[SideBySide]:
    """The autosave of a page whose runner trains side-by-side runs (the latent lab):
    `ganlab.runs.save_side_by_side` folders, resumed for the same comparison
    (`comparison_ident`). browser: the token (default: this session's)."""
    folder = slot_folder(page, browser or browser_id(), root)
    return Autosave(folder, save=save_side_by_side, load=load_side_by_side,
                    ident=lambda m: comparison_ident(m.cfgs, m.labels), expect=comparison_ident(cfgs, labels),
                    keep=lambda m: not any(c.data_path for c in m.cfgs), period=period)


def saved_config(page: str, browser: str | None = None, root: Path | None = None) -> Config | None:
    """The settings of this browser's saved run of a page (its config.json), or None (none
    saved, unreadable, or a run on files). For a page whose settings are not in its URL:
    it loads them into its widgets on the session's first visit, then resumes the run."""
    try:
        folder = slot_folder(page, browser or browser_id(), root)
        slot = Autosave(folder, save=save_run, load=load_run, ident=lambda t: "", expect="")
        meta = slot.latest()
        if meta is None or time.time() - meta["saved_at"] > MAX_AGE:
            return None
        cfg = Config.load(folder / meta["dir"] / "config.json")
    except Exception:  # anything unreadable: the page's defaults (restore then reports damage)
        return None
    return None if cfg.data_path else cfg


# --- the browser token (Streamlit) ----------------------------------------------------------
def browser_id() -> str:
    """This browser's token: the session's, else the URL's `?me=` (a reload, or a link
    that carries it), else a new one. Pages put it in their URL (`url_token`)."""
    import streamlit as st

    token = st.session_state.get(TOKEN_KEY)
    if not valid_token(token):
        from_url = st.query_params.get(TOKEN_PARAM)
        token = from_url if valid_token(from_url) else new_token()
        st.session_state[TOKEN_KEY] = token
    return token


def url_token() -> dict[str, str]:
    """The URL parameter that keeps this browser's token across a reload."""
    return {TOKEN_PARAM: browser_id()}
