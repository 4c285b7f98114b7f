"""Offline, a published model says so: "you seem to be offline", the file's size and where to
put a copy downloaded elsewhere; the latent explorer keeps showing the model it had.

No network is used: `urllib.request.urlopen` is replaced by one that raises what urllib
raises when name resolution fails (URLError wrapping socket.gaierror), or an HTTP error."""
from __future__ import annotations

import io
import socket
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from ganlab import download, explore, pretrained
from ganlab.errors import DataError, OfflineError
from ganlab.models.pgan import Generator, PGANConfig
from ganlab.pretrained import load_generator, save_generator

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "4_Latent_explorer.py")
ZOO_FILE = "celebaHQ_s6_i80000-6196db68.pth"


@pytest.fixture
def offline(monkeypatch, tmp_path) -> list[str]:
    """No network: every urlopen fails as it does without DNS. Returns the URLs asked for."""
    asked: list[str] = []

    def urlopen(request, *args, **kwargs):
        asked.append(getattr(request, "full_url", str(request)))
        raise urllib.error.URLError(socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution"))

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    monkeypatch.setenv("GANLAB_DATA", str(tmp_path / "cache"))
    return asked


def test_a_published_zoo_model_offline_says_offline_size_and_where(offline, tmp_path) -> None:
    with pytest.raises(OfflineError) as err:
        load_generator("celebAHQ-256")
    msg = str(err.value)
    dest = tmp_path / "cache" / "pretrained" / ZOO_FILE
    assert msg.startswith("You seem to be offline: celebAHQ-256 could not be downloaded "
                          "([Errno -3] Temporary failure in name resolution).")
    assert f"The file is {ZOO_FILE}, about 280 MB." in msg
    assert f"from https://dl.fbaipublicfiles.com/gan_zoo/PGAN/{ZOO_FILE} and put it at {dest}" in msg
    assert offline == [f"https://dl.fbaipublicfiles.com/gan_zoo/PGAN/{ZOO_FILE}"]
    assert list(dest.parent.iterdir()) == []  # no partial file left behind


def test_the_karras_file_offline_says_the_same(offline, tmp_path) -> None:
    with pytest.raises(OfflineError, match=r"^You seem to be offline: karras-celebahq-1024") as err:
        load_generator("karras-celebahq-1024")
    assert "The file is prog-gan.ot, about 90 MB." in str(err.value)
    assert f"put it at {tmp_path / 'cache' / 'pretrained' / 'prog-gan.ot'}" in str(err.value)


def test_fetch_tells_offline_from_a_server_that_answered(monkeypatch, tmp_path) -> None:
    def not_found(request, *args, **kwargs):
        raise urllib.error.HTTPError(request.full_url, 404, "Not Found", {}, io.BytesIO(b""))

    monkeypatch.setattr(urllib.request, "urlopen", not_found)
    with pytest.raises(DataError) as err:
        download.fetch(["https://example.org/x.bin"], tmp_path / "x.bin")
    assert not isinstance(err.value, OfflineError) and "HTTP 404 Not Found" in str(err.value)
    # Refused and unreachable count as offline; one mirror that answered means the network works.
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: (_ for _ in ()).throw(
        urllib.error.URLError(ConnectionRefusedError(111, "Connection refused"))))
    with pytest.raises(OfflineError, match="you seem to be offline: no server could be reached for x.bin") as err:
        download.fetch(["https://a.example/x.bin", "https://b.example/x.bin"], tmp_path / "x.bin")
    assert err.value.reasons == ("[Errno 111] Connection refused",) * 2
    missing = (tmp_path / "nowhere.bin").as_uri()  # a file:// address that is not there: not offline
    monkeypatch.undo()
    with pytest.raises(DataError) as err:
        download.fetch([missing], tmp_path / "y.bin")
    assert not isinstance(err.value, OfflineError)


@pytest.fixture
def app(offline, tmp_path, monkeypatch) -> AppTest:
    folder = tmp_path / "pgan"
    cfg = PGANConfig(latent_dim=8, depth_scale0=8, depth_other_scales=(8, 4, 4), channels=1)
    save_generator(Generator(cfg, torch.Generator().manual_seed(0)), folder / "tiny-32", name="tiny-32")
    monkeypatch.setattr(explore, "BUNDLED_DIR", folder)
    monkeypatch.setattr(pretrained, "BUNDLED_DIR", folder)
    monkeypatch.setattr(explore, "BUNDLED_DATA", {})
    monkeypatch.setattr(explore, "directions_dir", lambda: folder / "directions")
    return AppTest.from_file(PAGE, default_timeout=60).run()


def test_the_explorer_keeps_its_model_when_a_published_one_cannot_be_fetched(app, offline) -> None:
    assert not app.exception and not app.error
    shown = "tiny-32: 32x32, 1 channel(s), latent 8"
    z = list(app.session_state["z"])
    app.radio(key="source").set_value("Published").run()
    app.selectbox(key="published").set_value("celebAHQ-256").run()
    # Before Load: what to do, and the page still shows the bundled model.
    assert any("Press **Load**" in i.value and "about 280 MB" in i.value and "still shows **tiny-32**" in i.value
               for i in app.info)
    assert shown in [c.value for c in app.sidebar.caption] and app.session_state["z"] == z
    app.button(key="load_published").click().run()
    assert not app.exception
    [error] = [e.value for e in app.error]
    assert error.startswith("You seem to be offline: celebAHQ-256 could not be downloaded")
    assert "about 280 MB" in error and f"pretrained/{ZOO_FILE}" in error and "still shows **tiny-32**" in error
    assert shown in [c.value for c in app.sidebar.caption]
    assert app.session_state["z"] == z and any(c.value.startswith("rendered in") for c in app.caption)
    assert len(offline) == 1
    # Moving a slider: the message stays, no second download attempt, the model still works.
    app.slider(key="dir0").set_value(1.0).run()
    assert not app.exception and len(offline) == 1
    assert any(e.value.startswith("You seem to be offline") for e in app.error)
    assert app.session_state["z"] != z
    # Back to the bundled model: no message left.
    app.radio(key="source").set_value("Bundled").run()
    assert not app.error and shown in [c.value for c in app.sidebar.caption]
