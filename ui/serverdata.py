"""Which files on the server a visitor's run may read: their own uploads, and folders the
person running the server allowed; never another visitor's uploads.

- Uploads go to a folder of their own per browser session (`SessionUploads`), inside
  UPLOADS_ROOT (readable by the server's user only). It is removed when the session
  ends: Streamlit drops a session's state once it has been disconnected for
  `server.disconnectedSessionTTL` seconds (the end `ui.runner` watches for), and the
  folder's finalizer runs when that state is freed; any left at server exit go then.
- A typed server path is accepted only under the roots listed in $GANLAB_SERVER_DATA
  (os.pathsep-separated; none by default, so typing a path is off), never inside
  UPLOADS_ROOT other than the session's own folder. Symlinks and `..` are resolved
  before the check, so a link inside an allowed root cannot point out of it.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import weakref
from pathlib import Path

from ganlab.errors import DataError

SERVER_DATA_ENV = "GANLAB_SERVER_DATA"
UPLOADS_ROOT = Path(tempfile.gettempdir()) / "ganlab-uploads"
HOW_TO_ALLOW = (f"the person running the server can allow folders by starting it with "
                f"{SERVER_DATA_ENV}=/path/to/pictures (several separated by {os.pathsep!r})")


class SessionUploads:
    """One browser session's upload folder: made on creation, removed by `close()`, when
    the object is garbage-collected (its session's state was dropped), or at exit."""

    def __init__(self) -> None:
        UPLOADS_ROOT.mkdir(mode=0o700, exist_ok=True)
        self.path = Path(tempfile.mkdtemp(prefix="session-", dir=UPLOADS_ROOT)).resolve()
        # finalize holds no reference to self, so it does not keep the object alive.
        self._remove = weakref.finalize(self, shutil.rmtree, str(self.path), True)

    def close(self) -> None:
        """Remove the folder now (idempotent)."""
        self._remove()


def allowed_roots() -> list[Path]:
    """The folders $GANLAB_SERVER_DATA allows (resolved; entries that are not folders skipped)."""
    raw = os.environ.get(SERVER_DATA_ENV, "")
    roots = [Path(p).expanduser().resolve() for p in raw.split(os.pathsep) if p.strip()]
    return [r for r in roots if r.is_dir()]


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def check_server_path(text: str, own: Path | None = None) -> Path:
    """The resolved path of a data path a visitor typed (or restored), if they may read it.

    own: this session's upload folder (always allowed). Raises DataError when the path
    is inside another session's uploads, when no folders are allowed, or when it lies
    outside every allowed root; each message says what to do instead.
    """
    real = Path(text).expanduser().resolve()
    if own is not None and _inside(real, own.resolve()):
        return real
    if _inside(real, UPLOADS_ROOT.resolve()):
        raise DataError(f"{text} is inside another session's uploads, which this session may not read; "
                        "upload your own pictures instead")
    roots = allowed_roots()
    if not roots:
        raise DataError(f"reading folders on the server is switched off, so {text} cannot be used: upload "
                        f"a .zip or pictures instead ({HOW_TO_ALLOW})")
    if not any(_inside(real, root) for root in roots):
        raise DataError(f"{text} is outside the folders this server allows "
                        f"({', '.join(str(r) for r in roots)}); give a folder or .zip inside one of them, "
                        "or upload your pictures")
    return real
