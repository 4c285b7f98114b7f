"""Downloading and checking data files: a cache folder, mirrors, checksums, atomic writes.

`fetch` tries each mirror in order with urllib, streams into a temporary file
next to the destination, checks the checksum and only then moves the file into
place with `os.replace`, so a reader never sees a half-written or corrupt file.
Whatever goes wrong, the temporary file is removed.

Hashing a large file on every load is slow, so `remember_verified` /
`was_verified` keep a small stamp file (`<cache>/verified.json`) keyed by a
file's absolute path, size, modification time and expected checksum: a file that
was checked once is trusted until it changes. The stamp only guards against
accidental corruption, not against someone who rewrites a file and its mtime.
"""
from __future__ import annotations

import errno
import hashlib
import http.client
import json
import os
import socket
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable, Sequence

from ganlab.errors import DataError, OfflineError
from ganlab.files import plain_mode

CHUNK_BYTES = 1 << 20
STAMP_FILE = "verified.json"

ProgressFn = Callable[[int, int | None], None]


def cache_dir() -> Path:
    """Where ganlab keeps downloaded data: `$GANLAB_DATA`, else `$XDG_CACHE_HOME/ganlab`,
    else `~/.cache/ganlab`. The folder is not created here."""
    env = os.environ.get("GANLAB_DATA", "").strip()
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    # The XDG spec says relative values are invalid and must be ignored.
    if xdg and Path(xdg).is_absolute():
        return Path(xdg) / "ganlab"
    return Path.home() / ".cache" / "ganlab"


def file_hash(path: Path | str, algorithm: str = "md5") -> str:
    """Hex digest of a file's bytes, read in 1 MiB chunks."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(CHUNK_BYTES), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_file(path: Path | str, *, md5: str | None = None, sha256: str | None = None) -> None:
    """Raise DataError if `path` is missing or its MD5 / SHA-256 differs from the expected one."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path} does not exist; download it again or put a good copy there")
    for algorithm, expected in (("md5", md5), ("sha256", sha256)):
        if expected is None:
            continue
        actual = file_hash(path, algorithm)
        if actual != expected.lower():
            raise DataError(
                f"{path} is corrupt: expected {algorithm.upper()} {expected.lower()}, got {actual}; "
                "delete it and download it again (or replace it with a good copy)"
            )


def fetch(
    urls: Sequence[str],
    dest: Path | str,
    *,
    md5: str | None = None,
    sha256: str | None = None,
    sha256_prefix: str | None = None,
    progress: ProgressFn | None = None,
    timeout: float = 30.0,
) -> Path:
    """Download the first mirror that works to `dest` (overwriting it) and return `dest`.

    progress(bytes_done, bytes_total or None) is called after every chunk; an
    exception it raises (e.g. a cancel button) aborts the download and propagates.
    Raises DataError naming every URL's failure and where to put the file by hand;
    OfflineError (a DataError) when no mirror's server could be reached at all (no
    network or name resolution), whose message begins "you seem to be offline".
    """
    dest = Path(dest)
    if not urls:
        raise DataError(f"no download address is known for {dest.name}; put the file at {dest} by hand")
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(
            f"cannot create the folder {dest.parent} for {dest.name} ({exc}); "
            "set GANLAB_DATA to a writable folder"
        ) from None
    failures, unreachable = [], []
    for url in urls:
        reason, offline = _fetch_one(url, dest, md5, sha256, sha256_prefix, progress, timeout)
        if reason is None:
            return dest
        failures.append(f"  - {url}: {reason}")
        if offline:
            unreachable.append(reason)
    sums = ", ".join(f"{k} {v}" for k, v in (("MD5", md5), ("SHA-256", sha256 or sha256_prefix)) if v)
    by_hand = (f"Download it by hand from one of these addresses and put it at {dest}"
               + (f" (expected {sums})." if sums else "."))
    if len(unreachable) == len(urls):
        raise OfflineError(f"you seem to be offline: no server could be reached for {dest.name}:\n"
                           + "\n".join(failures) + "\n" + by_hand, tuple(unreachable))
    raise DataError(f"could not download {dest.name}; every mirror failed:\n" + "\n".join(failures)
                    + "\n" + by_hand)


def _fetch_one(url: str, dest: Path, md5: str | None, sha256: str | None,
               sha256_prefix: str | None, progress: ProgressFn | None,
               timeout: float) -> tuple[str | None, bool]:
    """One mirror: (None, False) on success (dest is in place), else (why it failed, whether
    its server could not be reached at all). No temp file survives."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        hashers = {"md5": hashlib.md5(), "sha256": hashlib.sha256()}
        with os.fdopen(fd, "wb") as out:
            try:
                done, total = _stream(url, out, hashers, progress, timeout)
            except (OSError, http.client.HTTPException, ValueError) as exc:
                # OSError covers URLError, HTTPError, timeouts and a full disk.
                return _describe(exc), _unreachable(exc)
        if total is not None and done != total:
            return f"truncated: received {done} of {total} bytes", False
        got_md5, got_sha = hashers["md5"].hexdigest(), hashers["sha256"].hexdigest()
        if md5 is not None and got_md5 != md5.lower():
            return f"checksum mismatch: expected MD5 {md5.lower()}, got {got_md5}", False
        if sha256 is not None and got_sha != sha256.lower():
            return f"checksum mismatch: expected SHA-256 {sha256.lower()}, got {got_sha}", False
        if sha256_prefix is not None and not got_sha.startswith(sha256_prefix.lower()):
            return f"checksum mismatch: expected SHA-256 starting {sha256_prefix.lower()}, got {got_sha}", False
        plain_mode(tmp)  # a data set or model on a shared server is read by every user
        os.replace(tmp, dest)
        return None, False
    finally:
        tmp.unlink(missing_ok=True)


def _stream(url: str, out, hashers: dict, progress: ProgressFn | None,
            timeout: float) -> tuple[int, int | None]:
    """Copy the body of `url` into `out`, updating hashers; -> (bytes received, Content-Length)."""
    request = urllib.request.Request(url, headers={"User-Agent": "ganlab"})
    with urllib.request.urlopen(request, timeout=timeout) as resp:
        length = resp.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        done = 0
        if progress is not None:
            progress(0, total)
        while True:
            block = resp.read(CHUNK_BYTES)
            if not block:
                break
            out.write(block)
            for h in hashers.values():
                h.update(block)
            done += len(block)
            if progress is not None:
                progress(done, total)
    return done, total


# Socket errors that mean "no route to any server": the machine is offline (or DNS is down),
# as opposed to a server that answered badly (HTTP errors, truncation, a missing file:// path).
_UNREACHABLE_ERRNOS = {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN, errno.ECONNREFUSED}


def _unreachable(exc: BaseException) -> bool:
    """True when `exc` (from urlopen / reading) says the server could not be reached at all."""
    if isinstance(exc, urllib.error.HTTPError):
        return False
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, (socket.gaierror, TimeoutError, ConnectionRefusedError)):
        return True
    return isinstance(reason, OSError) and reason.errno in _UNREACHABLE_ERRNOS


def _describe(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError):
        return f"{exc.reason}"
    if isinstance(exc, http.client.IncompleteRead):
        return f"connection closed early after {len(exc.partial)} bytes"
    return f"{type(exc).__name__}: {exc}"


# --- remembering files that were already checked ------------------------------

def _stamp_key(path: Path, expected: str) -> tuple[str, list]:
    st = path.stat()
    return str(path.resolve()), [st.st_size, st.st_mtime_ns, expected.lower()]


def _read_stamps() -> dict:
    try:
        data = json.loads((cache_dir() / STAMP_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def was_verified(path: Path | str, expected: str) -> bool:
    """True if `path` was checked against `expected` and has not changed since."""
    try:
        key, value = _stamp_key(Path(path), expected)
    except OSError:
        return False
    return _read_stamps().get(key) == value


def remember_verified(path: Path | str, expected: str) -> None:
    """Record that `path` (as it is now) matches `expected`; silently skipped if the
    cache folder is not writable, which only costs a re-check next time."""
    try:
        key, value = _stamp_key(Path(path), expected)
        stamps = _read_stamps()
        stamps[key] = value
        folder = cache_dir()
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".verified.", suffix=".part", dir=folder)
        try:
            with os.fdopen(fd, "w") as fh:
                json.dump(stamps, fh)
            os.replace(tmp, folder / STAMP_FILE)
        finally:
            Path(tmp).unlink(missing_ok=True)
    except OSError:
        pass
