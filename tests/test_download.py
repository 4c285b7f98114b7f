"""ganlab.download: cache folder, mirrors, checksums, atomic writes, verified stamps.

The only network used is an http.server on 127.0.0.1 in a thread, plus file:// URLs.
"""
from __future__ import annotations

import hashlib
import http.server
import threading
from functools import partial
from pathlib import Path

import pytest

from ganlab import download
from ganlab.download import cache_dir, fetch, remember_verified, verify_file, was_verified
from ganlab.errors import DataError

PAYLOAD = bytes(range(256)) * 40  # 10,240 bytes
MD5 = hashlib.md5(PAYLOAD).hexdigest()
SHA = hashlib.sha256(PAYLOAD).hexdigest()


class _Handler(http.server.SimpleHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        if self.path == "/truncated.bin":
            # Announce 1000 bytes, send 10, hang up: a dropped connection.
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b"0123456789")
            self.wfile.flush()
            self.close_connection = True
            return
        super().do_GET()

    def log_message(self, *args) -> None:  # keep test output clean
        pass


@pytest.fixture()
def server(tmp_path, monkeypatch):
    """Base URL of a local server serving tmp_path/www, which holds data.bin = PAYLOAD."""
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    www = tmp_path / "www"
    www.mkdir()
    (www / "data.bin").write_bytes(PAYLOAD)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(_Handler, directory=str(www)))
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def _listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_cache_dir_prefers_ganlab_data_then_xdg_then_home(monkeypatch, tmp_path):
    monkeypatch.setenv("GANLAB_DATA", str(tmp_path / "mine"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "mine"
    monkeypatch.delenv("GANLAB_DATA")
    assert cache_dir() == tmp_path / "xdg" / "ganlab"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir() == tmp_path / "home" / ".cache" / "ganlab"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache_dir() == tmp_path / "home" / ".cache" / "ganlab"


def test_good_download_checks_sums_reports_progress_and_leaves_only_the_file(server, tmp_path):
    dest = tmp_path / "out" / "data.bin"
    calls = []
    got = fetch([f"{server}/data.bin"], dest, md5=MD5, sha256=SHA,
                progress=lambda done, total: calls.append((done, total)))
    assert got == dest
    assert dest.read_bytes() == PAYLOAD
    assert _listing(dest.parent) == ["data.bin"]
    assert calls[0] == (0, len(PAYLOAD))
    assert calls[-1] == (len(PAYLOAD), len(PAYLOAD))
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_first_mirror_failing_then_second_working(server, tmp_path):
    dest = tmp_path / "data.bin"
    fetch([f"{server}/missing/data.bin", f"{server}/data.bin"], dest, md5=MD5)
    assert dest.read_bytes() == PAYLOAD
    assert _listing(tmp_path) == ["data.bin", "www"]


def test_file_url_and_sha256_prefix(tmp_path):
    src = tmp_path / "src.bin"
    src.write_bytes(PAYLOAD)
    dest = tmp_path / "dl" / "copy.bin"
    fetch([src.as_uri()], dest, sha256_prefix=SHA[:10].upper())
    assert dest.read_bytes() == PAYLOAD
    with pytest.raises(DataError, match="expected SHA-256 starting 0000000000"):
        fetch([src.as_uri()], tmp_path / "dl" / "other.bin", sha256_prefix="0000000000")
    assert _listing(tmp_path / "dl") == ["copy.bin"]


def test_checksum_mismatch_leaves_no_file(server, tmp_path):
    dest = tmp_path / "dl" / "data.bin"
    with pytest.raises(DataError) as err:
        fetch([f"{server}/data.bin"], dest, md5="0" * 32)
    msg = str(err.value)
    assert f"checksum mismatch: expected MD5 {'0' * 32}, got {MD5}" in msg
    assert not dest.exists()
    assert _listing(dest.parent) == []


def test_truncated_body_is_a_failure_and_next_mirror_is_tried(server, tmp_path):
    dest = tmp_path / "dl" / "data.bin"
    with pytest.raises(DataError) as err:
        fetch([f"{server}/truncated.bin"], dest)
    assert f"  - {server}/truncated.bin: truncated: received 10 of 1000 bytes" in str(err.value)
    assert _listing(dest.parent) == []
    fetch([f"{server}/truncated.bin", f"{server}/data.bin"], dest, md5=MD5)
    assert dest.read_bytes() == PAYLOAD


def test_all_mirrors_failing_lists_each_failure_and_where_to_put_the_file(server, tmp_path):
    dest = tmp_path / "dl" / "data.bin"
    dest.parent.mkdir()
    dest.write_bytes(b"old good copy")
    gone = (tmp_path / "nowhere" / "data.bin").as_uri()
    with pytest.raises(DataError) as err:
        fetch([f"{server}/nope.bin", gone], dest, md5=MD5)
    msg = str(err.value)
    assert msg.startswith("could not download data.bin; every mirror failed:")
    assert f"  - {server}/nope.bin: HTTP 404" in msg
    assert f"  - {gone}: " in msg
    assert f"put it at {dest} (expected MD5 {MD5})" in msg
    # A failed download never damages what was there.
    assert dest.read_bytes() == b"old good copy"
    assert _listing(dest.parent) == ["data.bin"]


def test_progress_exception_aborts_and_cleans_up(server, tmp_path):
    def cancel(done: int, total: int | None) -> None:
        if done > 0:
            raise KeyboardInterrupt

    dest = tmp_path / "dl" / "data.bin"
    with pytest.raises(KeyboardInterrupt):
        fetch([f"{server}/data.bin"], dest, progress=cancel)
    assert _listing(dest.parent) == []


def test_no_urls_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match=r"no download address is known for x\.bin"):
        fetch([], tmp_path / "x.bin")


def test_verify_file(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(PAYLOAD)
    verify_file(path, md5=MD5, sha256=SHA.upper())
    with pytest.raises(DataError) as err:
        verify_file(path, md5="a" * 32)
    assert str(err.value) == (f"{path} is corrupt: expected MD5 {'a' * 32}, got {MD5}; "
                              "delete it and download it again (or replace it with a good copy)")
    with pytest.raises(DataError, match="does not exist"):
        verify_file(tmp_path / "absent.bin", md5=MD5)


def test_verified_stamp_is_invalidated_by_a_change(tmp_path, monkeypatch):
    monkeypatch.setenv("GANLAB_DATA", str(tmp_path / "cache"))
    path = tmp_path / "f.bin"
    path.write_bytes(PAYLOAD)
    assert not was_verified(path, MD5)
    remember_verified(path, MD5)
    assert was_verified(path, MD5)
    assert not was_verified(path, "b" * 32)
    assert (tmp_path / "cache" / download.STAMP_FILE).is_file()
    path.write_bytes(PAYLOAD + b"x")
    assert not was_verified(path, MD5)
    assert not was_verified(tmp_path / "absent.bin", MD5)
